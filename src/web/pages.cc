#include "web/pages.h"

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <kainjow/mustache.hpp>
#include <map>
#include <tuple>

#include "core/date.h"
#include "store/store.h"
#include "web/assets.h"
#include "web/mustache_render.h"
#include "web/periods.h"

namespace paperboy::web {

namespace {

namespace mustache = kainjow::mustache;
using std::chrono::sys_days;

constexpr size_t kExcerptBytes = 260;
constexpr size_t kAuthorsNamedOnCards = 3;
constexpr size_t kCategoryChips = 12;

// Mustache treats any string, even an empty one, as a true section; only set what exists.
void set_nonempty(mustache::data& object, const std::string& key, const std::string& value) {
  if (!value.empty()) object.set(key, value);
}

std::string render(std::string_view text, const mustache::data& data) {
  return render_template(text, data);
}

bool is_utf8_continuation(char c) { return (static_cast<unsigned char>(c) & 0xC0) == 0x80; }

// The opening of an abstract, cut at a word boundary and never inside a UTF-8 sequence.
std::string excerpt(const std::string& text) {
  if (text.size() <= kExcerptBytes) return text;
  size_t cut = text.rfind(' ', kExcerptBytes);
  if (cut == std::string::npos || cut < kExcerptBytes / 2) {
    cut = kExcerptBytes;
    while (cut > 0 && is_utf8_continuation(text[cut])) --cut;
  }
  return text.substr(0, cut) + "…";
}

// Percent-encodes for a URL path, keeping '/' so old-style ids like "hep-th/9901001" stay readable.
std::string path_encode(std::string_view text) {
  std::string out;
  for (char c : text) {
    if (c == '/') {
      out.push_back(c);
    } else {
      out += url_encode(std::string_view(&c, 1));
    }
  }
  return out;
}

std::string count_of(size_t count, const char* singular, const char* plural) {
  return std::to_string(count) + " " + (count == 1 ? singular : plural);
}

mustache::data links(const Paper& paper) {
  mustache::data list{mustache::data::type::list};
  auto add = [&list](const char* label, const char* kind, const std::string& url) {
    std::string safe = safe_link(url);
    if (safe.empty()) return;
    mustache::data link;
    link.set("label", label);
    link.set("kind", kind);
    link.set("url", safe);
    list.push_back(link);
  };
  add("arXiv", "arxiv", abs_url(paper));
  add("PDF", "pdf", pdf_url(paper));
  add("Code", "code", paper.code_url);
  add("Project page", "project", paper.project_url);
  if (!paper.doi.empty()) add("DOI", "doi", "https://doi.org/" + paper.doi);
  return list;
}

std::string readable_date(const std::string& iso) {
  auto day = parse_date(iso);
  if (!day) return iso;
  const std::chrono::year_month_day ymd{*day};
  static constexpr const char* kMonths[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                            "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
  char buffer[32];
  std::snprintf(buffer, sizeof buffer, "%u %s %d", static_cast<unsigned>(ymd.day()),
                kMonths[static_cast<unsigned>(ymd.month()) - 1], static_cast<int>(ymd.year()));
  return buffer;
}

// The card's author names, each linking to the author's page: up to kAuthorsNamedOnCards,
// else the first two and "et al." (authors_line's rule).
mustache::data author_links(const Paper& paper) {
  mustache::data list{mustache::data::type::list};
  const size_t count = paper.authors.size();
  const size_t named = count > kAuthorsNamedOnCards ? 2 : count;
  for (size_t i = 0; i < named; ++i) {
    mustache::data link;
    link.set("name", paper.authors[i]);
    link.set("url", author_path(paper.authors[i]));
    if (i > 0) link.set("before", i + 1 == count ? " and " : ", ");
    list.push_back(link);
  }
  return list;
}

// `base` lists a period; categories link to the same period filtered to them.
// `show_day`: cards in a list that spans several feed days say which day each paper came.
mustache::data card(const Paper& paper, size_t rank, const std::string& base, bool show_day) {
  mustache::data data;
  data.set("rank", std::to_string(rank));
  data.set("url", paper_path(paper));
  data.set("title", paper.title);
  if (paper.authors.empty()) {
    set_nonempty(data, "authors", authors_line(paper, kAuthorsNamedOnCards));
  } else {
    data.set("author_links", author_links(paper));
    data.set("has_author_links", true);
    if (paper.authors.size() > kAuthorsNamedOnCards) {
      data.set("authors_more", " et al. (" + std::to_string(paper.authors.size()) + " authors)");
    }
  }
  // personalise() turns this into a "new" badge for papers that came since the last visit.
  if (auto entered = store::entered_feed_at(paper)) {
    data.set("entered", std::to_string(entered->time_since_epoch().count()));
  }
  data.set("upvotes", std::to_string(paper.upvotes));
  set_nonempty(data, "excerpt",
               excerpt(paper.ai_summary.empty() ? paper.abstract : paper.ai_summary));
  set_nonempty(data, "submitted_by", paper.submitted_by);
  set_nonempty(data, "organization", paper.organization);
  if (paper.num_comments > 0) {
    data.set("comments", count_of(static_cast<size_t>(paper.num_comments), "comment", "comments"));
  }
  if (show_day && !paper.feed_day.empty()) data.set("feed_day", readable_date(paper.feed_day));
  mustache::data categories{mustache::data::type::list};
  for (const std::string& category : paper.categories) {
    mustache::data chip;
    chip.set("name", category);
    chip.set("url", base + "?category=" + url_encode(category));
    categories.push_back(chip);
  }
  if (!paper.categories.empty()) data.set("categories", categories);
  mustache::data paper_links = links(paper);
  if (!paper_links.is_empty_list()) data.set("links", paper_links);
  return data;
}

// A list item holding the card as HTML ({{{html}}} in the list templates): a card rendered here
// from the parsed template costs less than a {{> card}} partial, which kainjow parses anew for
// every card.
mustache::data rendered_card(std::string_view card_template, const Paper& paper, size_t rank,
                             const std::string& base, bool show_day) {
  return mustache::data("html", render(card_template, card(paper, rank, base, show_day)));
}

const char* sort_name(feed::SortOrder sort) {
  switch (sort) {
    case feed::SortOrder::date:
      return "date";
    case feed::SortOrder::trending:
      return "trending";
    case feed::SortOrder::upvotes:
      break;
  }
  return "upvotes";
}

std::string query_string(const std::string& category, feed::SortOrder sort,
                         const std::string& exclude) {
  std::string query;
  if (!category.empty()) query += "category=" + url_encode(category);
  if (sort != feed::SortOrder::upvotes) {
    query += (query.empty() ? "" : "&");
    query += std::string("sort=") + sort_name(sort);
  }
  if (!exclude.empty()) {
    query += (query.empty() ? "" : "&");
    query += "exclude=" + url_encode(exclude);
  }
  return query.empty() ? query : "?" + query;
}

// The newest feed day among `papers`, so "Day" from a week or month view lands on papers.
sys_days newest_feed_day(const std::vector<Paper>& papers, sys_days fallback) {
  std::optional<sys_days> newest;
  for (const Paper& paper : papers) {
    auto day = parse_date(paper.feed_day);
    if (day && (!newest || *day > *newest)) newest = day;
  }
  return newest.value_or(fallback);
}

mustache::data category_chips(const std::vector<Paper>& papers, const std::string& base,
                              feed::SortOrder sort, const std::string& exclude) {
  std::map<std::string, int> counts;
  for (const Paper& paper : papers) {
    for (const std::string& category : paper.categories) ++counts[category];
  }
  std::vector<std::pair<std::string, int>> ranked(counts.begin(), counts.end());
  std::stable_sort(ranked.begin(), ranked.end(),
                   [](const auto& a, const auto& b) { return a.second > b.second; });
  if (ranked.size() > kCategoryChips) ranked.resize(kCategoryChips);
  mustache::data list{mustache::data::type::list};
  for (const auto& [name, count] : ranked) {
    mustache::data chip;
    chip.set("name", name);
    chip.set("count", std::to_string(count));
    chip.set("url", base + query_string(name, sort, exclude));
    list.push_back(chip);
  }
  return list;
}

}  // namespace

std::string paper_path(const Paper& paper) { return "/papers/" + path_encode(paper_id(paper)); }

std::string author_path(std::string_view name) { return "/authors/" + url_encode(name); }

std::string category_path(std::string_view category) {
  return "/categories/" + url_encode(category);
}

std::string authors_line(const Paper& paper, size_t named) {
  if (paper.authors.empty()) {
    const int count = paper.author_count;
    return count > 0 ? count_of(static_cast<size_t>(count), "author", "authors") : std::string();
  }
  std::string line;
  if (paper.authors.size() > named) {
    line = paper.authors[0];
    if (named > 1) line += ", " + paper.authors[1];
    line += " et al. (" + count_of(paper.authors.size(), "author", "authors") + ")";
    return line;
  }
  for (size_t i = 0; i < paper.authors.size(); ++i) {
    if (i > 0) line += i + 1 == paper.authors.size() ? " and " : ", ";
    line += paper.authors[i];
  }
  return line;
}

std::string url_encode(std::string_view text) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    const auto byte = static_cast<unsigned char>(c);
    if (std::isalnum(byte) || c == '-' || c == '.' || c == '_' || c == '~') {
      out.push_back(c);
    } else {
      out.push_back('%');
      out.push_back(kHex[byte >> 4]);
      out.push_back(kHex[byte & 0x0F]);
    }
  }
  return out;
}

std::string safe_link(std::string_view url) {
  auto starts_with_nocase = [url](std::string_view prefix) {
    if (url.size() <= prefix.size()) return false;
    for (size_t i = 0; i < prefix.size(); ++i) {
      if (std::tolower(static_cast<unsigned char>(url[i])) != prefix[i]) return false;
    }
    return true;
  };
  if (!starts_with_nocase("https://") && !starts_with_nocase("http://")) return {};
  for (char c : url) {
    if (static_cast<unsigned char>(c) <= 0x20) return {};  // no spaces or control characters
  }
  return std::string(url);
}

Result<Pages> Pages::load() {
  Pages pages;
  const std::pair<std::string_view*, const char*> templates[] = {
      {&pages.layout_, "templates/layout.mustache"},
      {&pages.feed_, "templates/feed.mustache"},
      {&pages.card_, "templates/card.mustache"},
      {&pages.paper_, "templates/paper.mustache"},
      {&pages.trending_, "templates/trending.mustache"},
      {&pages.error_, "templates/error.mustache"},
      {&pages.empty_, "templates/empty.mustache"},
      {&pages.search_, "templates/search.mustache"},
      {&pages.result_, "templates/search_result.mustache"},
      {&pages.list_, "templates/list.mustache"}};
  for (const auto& [slot, name] : templates) {
    auto text = find_embedded_file(name);
    if (!text) return fail(std::string("web: template ") + name + " is not embedded");
    mustache::mustache parsed{std::string(*text)};
    if (!parsed.is_valid())
      return fail(std::string("web: ") + name + ": " + parsed.error_message());
    *slot = *text;
  }
  return pages;
}

namespace {

// An RSS and an Atom feed of the page, announced by <link rel="alternate"> for feed readers.
struct PageFeeds {
  std::string title;
  std::string path;   // without ".atom" / ".rss"
  std::string query;  // "" or "?..."
};

// On the search page, `search` fills the header's search box and keeps its filters and order.
std::string in_layout(std::string_view layout, const std::string& title, const std::string& nav,
                      const std::string& content, const SearchView* search = nullptr,
                      const PageFeeds* feeds = nullptr) {
  mustache::data data;
  data.set("title", title);
  if (feeds) {
    data.set("feed_title", feeds->title);
    data.set("atom_url", feeds->path + ".atom" + feeds->query);
    data.set("rss_url", feeds->path + ".rss" + feeds->query);
  }
  if (search) {
    set_nonempty(data, "query", search->q);
    mustache::data fields{mustache::data::type::list};
    auto keep = [&fields](const char* name, const std::string& value) {
      if (value.empty()) return;
      mustache::data field;
      field.set("name", name);
      field.set("value", value);
      fields.push_back(field);
    };
    keep("category", search->category);
    keep("year", search->year);
    keep("exclude", search->exclude);
    if (search->sort != search::Sort::kRelevance) keep("sort", search_sort_name(search->sort));
    keep("mode", search->mode);
    if (!fields.is_empty_list()) data.set("search_fields", fields);
  }
  data.set("content", content);
  data.set("nav_" + nav, true);
  return render(layout, data);
}

}  // namespace

std::string Pages::feed(const FeedView& view) const {
  const feed::FeedPage& page = view.page;
  const std::string base = period_path(page.period, view.day);
  const std::string query = query_string(view.category, view.sort, view.exclude);
  mustache::data data;
  data.set("heading", period_title(page.period, view.day));
  data.set("count", std::to_string(page.papers.size()));
  data.set("count_label", page.papers.size() == 1 ? "paper" : "papers");

  const sys_days day_tab =
      page.period == feed::Period::day ? view.day : newest_feed_day(page.papers, view.day);
  mustache::data tabs{mustache::data::type::list};
  for (auto [period, label] :
       {std::pair{feed::Period::day, "Day"}, std::pair{feed::Period::week, "Week"},
        std::pair{feed::Period::month, "Month"}}) {
    mustache::data tab;
    tab.set("label", label);
    tab.set("url", period_path(period, period == feed::Period::day ? day_tab : view.day) + query);
    tab.set("active", period == page.period);
    tabs.push_back(tab);
  }
  data.set("tabs", tabs);

  auto neighbour = [&](const std::string& iso, const char* url_key, const char* label_key) {
    auto day = parse_date(iso);
    if (!day) return;
    data.set(url_key, period_path(page.period, *day) + query);
    data.set(label_key, period_label(page.period, *day));
  };
  neighbour(page.previous, "previous_url", "previous_label");
  neighbour(page.next, "next_url", "next_label");

  mustache::data sorts{mustache::data::type::list};
  for (auto sort : {feed::SortOrder::upvotes, feed::SortOrder::trending, feed::SortOrder::date}) {
    mustache::data option;
    const std::string name = sort_name(sort);
    option.set("label", sort == feed::SortOrder::date       ? "Newest"
                        : sort == feed::SortOrder::trending ? "Trending"
                                                            : "Most upvoted");
    option.set("url", base + query_string(view.category, sort, view.exclude));
    option.set("active", sort == view.sort);
    sorts.push_back(option);
  }
  data.set("sorts", sorts);

  if (!view.category.empty()) {
    data.set("category", view.category);
    data.set("clear_category_url", base + query_string({}, view.sort, view.exclude));
    data.set("category_url", category_path(view.category));
  } else {
    mustache::data chips = category_chips(page.papers, base, view.sort, view.exclude);
    if (!chips.is_empty_list()) data.set("category_chips", chips);
  }

  mustache::data cards{mustache::data::type::list};
  size_t rank = 0;
  for (const Paper& paper : page.papers)
    cards.push_back(rendered_card(card_, paper, ++rank, base, page.period != feed::Period::day));
  if (!page.papers.empty()) data.set("papers", cards);

  data.set("path", base);
  set_nonempty(data, "exclude", view.exclude);
  if (view.sort != feed::SortOrder::upvotes) data.set("sort", sort_name(view.sort));

  const std::string title =
      period_title(page.period, view.day) + (view.category.empty() ? "" : " · " + view.category);
  const PageFeeds feeds =
      view.category.empty()
          ? PageFeeds{"Daily papers", "/feeds/daily", query_string({}, {}, view.exclude)}
          : PageFeeds{"Daily papers in " + view.category,
                      "/feeds/category/" + url_encode(view.category),
                      query_string({}, {}, view.exclude)};
  return in_layout(layout_, title, "daily", render(feed_, data), nullptr, &feeds);
}

std::string Pages::empty_feed() const {
  return in_layout(layout_, "Daily papers", "daily", render(empty_, mustache::data{}));
}

std::string Pages::paper(const Paper& paper, const std::string& community_html) const {
  mustache::data data;
  set_nonempty(data, "community", community_html);
  data.set("vote_url", paper_path(paper) + "/upvote");
  data.set("id", paper_id(paper));
  data.set("title", paper.title);
  data.set("upvotes", std::to_string(paper.upvotes));
  set_nonempty(data, "abstract", paper.abstract);
  mustache::data authors{mustache::data::type::list};
  for (const std::string& name : paper.authors) {
    mustache::data author;
    author.set("name", name);
    author.set("url", author_path(name));
    authors.push_back(author);
  }
  if (!paper.authors.empty()) {
    data.set("authors", authors);
    data.set("has_authors", true);
  } else {
    set_nonempty(data, "author_count", authors_line(paper, 0));
  }
  if (!paper.published.empty()) data.set("published", readable_date(paper.published));
  if (!paper.updated.empty() && paper.updated != paper.published) {
    data.set("updated", readable_date(paper.updated));
  }
  if (auto day = parse_date(paper.feed_day)) {
    data.set("feed_day", readable_date(paper.feed_day));
    data.set("feed_day_url", period_path(feed::Period::day, *day));
  }
  if (paper.version > 0) data.set("version", std::to_string(paper.version));
  mustache::data categories{mustache::data::type::list};
  for (const std::string& category : paper.categories) {
    mustache::data chip;
    chip.set("name", category);
    chip.set("url", category_path(category));
    categories.push_back(chip);
  }
  if (!paper.categories.empty()) data.set("categories", categories);
  data.set("bibtex_url", paper_path(paper) + ".bib");
  data.set("ris_url", paper_path(paper) + ".ris");
  mustache::data paper_links = links(paper);
  if (!paper_links.is_empty_list()) data.set("links", paper_links);
  if (paper.github_stars > 0) data.set("github_stars", std::to_string(paper.github_stars));
  set_nonempty(data, "comments", paper.comments);
  set_nonempty(data, "journal_ref", paper.journal_ref);
  set_nonempty(data, "license", safe_link(paper.license));
  set_nonempty(data, "license_text", safe_link(paper.license).empty() ? paper.license : "");
  set_nonempty(data, "submitted_by", paper.submitted_by);
  set_nonempty(data, "organization", paper.organization);
  if (paper.num_comments > 0) {
    data.set("num_comments",
             count_of(static_cast<size_t>(paper.num_comments), "comment", "comments"));
  }
  set_nonempty(data, "ai_summary", paper.ai_summary);
  mustache::data keywords{mustache::data::type::list};
  for (const std::string& keyword : paper.ai_keywords)
    keywords.push_back(mustache::data("name", keyword));
  if (!paper.ai_keywords.empty()) data.set("keywords", keywords);
  data.set("api_url", "/api/papers/" + path_encode(paper_id(paper)));
  return in_layout(layout_, paper.title, "paper", render(paper_, data));
}

std::string Pages::trending(const std::vector<Paper>& papers, const std::string& exclude) const {
  mustache::data data;
  set_nonempty(data, "exclude", exclude);
  mustache::data cards{mustache::data::type::list};
  size_t rank = 0;
  for (const Paper& paper : papers) cards.push_back(rendered_card(card_, paper, ++rank, "/", true));
  if (!papers.empty()) data.set("papers", cards);
  const PageFeeds feeds{"Trending papers", "/feeds/trending",
                        exclude.empty() ? "" : "?exclude=" + url_encode(exclude)};
  return in_layout(layout_, "Trending papers", "trending", render(trending_, data), nullptr,
                   &feeds);
}

const char* search_sort_name(search::Sort sort) {
  switch (sort) {
    case search::Sort::kDate:
      return "date";
    case search::Sort::kUpvotes:
      return "upvotes";
    case search::Sort::kRelevance:
      break;
  }
  return "relevance";
}

std::string search_path(const SearchView& view) {
  std::string query = "q=" + url_encode(view.q);
  if (!view.category.empty()) query += "&category=" + url_encode(view.category);
  if (!view.year.empty()) query += "&year=" + url_encode(view.year);
  if (!view.exclude.empty()) query += "&exclude=" + url_encode(view.exclude);
  if (view.sort != search::Sort::kRelevance)
    query += std::string("&sort=") + search_sort_name(view.sort);
  if (!view.mode.empty()) query += "&mode=" + url_encode(view.mode);
  if (view.page > 1) query += "&page=" + std::to_string(view.page);
  return "/search?" + query;
}

namespace {

constexpr size_t kSnippetAuthors = 3;
constexpr size_t kCategoryFacets = 12;
constexpr size_t kYearFacets = 12;

mustache::data search_result(const FoundPaper& found, size_t rank) {
  const Paper& paper = found.paper;
  mustache::data data;
  data.set("rank", std::to_string(rank));
  data.set("url", paper_path(paper));
  data.set("title_html", found.title_html);
  set_nonempty(data, "snippet_html", found.snippet_html);
  set_nonempty(data, "authors", authors_line(paper, kSnippetAuthors));
  data.set("upvotes", std::to_string(paper.upvotes));
  if (!paper.published.empty()) data.set("published", readable_date(paper.published));
  mustache::data categories{mustache::data::type::list};
  for (const std::string& category : paper.categories) {
    mustache::data chip;
    chip.set("name", category);
    chip.set("url", "/search?q=" + url_encode("cat:" + category));
    categories.push_back(chip);
  }
  if (!paper.categories.empty()) data.set("categories", categories);
  return data;
}

// Facet counts as links that narrow the search to one value (the active value links back out).
mustache::data facet_links(const SearchView& view, const std::vector<search::FacetCount>& facets,
                           std::string SearchView::*field, size_t shown) {
  mustache::data list{mustache::data::type::list};
  for (size_t i = 0; i < facets.size() && i < shown; ++i) {
    const search::FacetCount& facet = facets[i];
    SearchView target = view;
    target.page = 1;
    const bool active = view.*field == facet.value;
    target.*field = active ? std::string() : facet.value;
    mustache::data link;
    link.set("value", facet.value);
    link.set("count", std::to_string(facet.count));
    link.set("url", search_path(target));
    link.set("active", active);
    list.push_back(link);
  }
  return list;
}

}  // namespace

std::string Pages::search(const SearchView& view) const {
  mustache::data data;
  set_nonempty(data, "q", view.q);
  set_nonempty(data, "category", view.category);
  set_nonempty(data, "year", view.year);
  set_nonempty(data, "exclude", view.exclude);
  set_nonempty(data, "unavailable", view.unavailable);
  const bool asked = !view.q.empty() || !view.category.empty() || !view.year.empty();
  data.set("asked", asked && view.unavailable.empty());
  data.set("sort", search_sort_name(view.sort));

  if (view.total) {
    data.set("count", std::to_string(*view.total));
    data.set("count_label", *view.total == 1 ? "paper" : "papers");
  }
  mustache::data notes{mustache::data::type::list};
  for (const std::string& note : view.notes) notes.push_back(mustache::data("text", note));
  if (!view.notes.empty()) data.set("notes", notes);

  mustache::data sorts{mustache::data::type::list};
  for (auto [sort, label] :
       {std::pair{search::Sort::kRelevance, "Best match"}, std::pair{search::Sort::kDate, "Newest"},
        std::pair{search::Sort::kUpvotes, "Most upvoted"}}) {
    SearchView target = view;
    target.sort = sort;
    target.page = 1;
    mustache::data option;
    option.set("label", label);
    option.set("url", search_path(target));
    option.set("active", sort == view.sort);
    sorts.push_back(option);
  }
  data.set("sorts", sorts);

  // Hybrid is the default; without vectors it runs as keyword search and a note says so.
  mustache::data modes{mustache::data::type::list};
  for (auto [mode, label, hint] :
       {std::tuple{"hybrid", "Hybrid", "Words and meaning together"},
        std::tuple{"keyword", "Keyword", "The words as typed"},
        std::tuple{"semantic", "Semantic", "By meaning, even without shared words"}}) {
    SearchView target = view;
    target.mode = mode;
    target.page = 1;
    mustache::data option;
    option.set("label", label);
    option.set("hint", hint);
    option.set("url", search_path(target));
    option.set("active",
               view.mode.empty() ? std::string_view(mode) == "hybrid" : view.mode == mode);
    modes.push_back(option);
  }
  data.set("modes", modes);

  mustache::data categories =
      facet_links(view, view.category_facets, &SearchView::category, kCategoryFacets);
  if (!categories.is_empty_list()) {
    data.set("category_facets", categories);
    data.set("has_category_facets", true);
  }
  mustache::data years = facet_links(view, view.year_facets, &SearchView::year, kYearFacets);
  if (!years.is_empty_list()) {
    data.set("year_facets", years);
    data.set("has_year_facets", true);
  }

  mustache::data results{mustache::data::type::list};
  const size_t first_rank = (view.page - 1) * view.page_size;
  for (size_t i = 0; i < view.results.size(); ++i)
    results.push_back(mustache::data(
        "html", render(result_, search_result(view.results[i], first_rank + i + 1))));
  if (!view.results.empty()) data.set("results", results);

  if (view.page > 1) {
    SearchView previous = view;
    --previous.page;
    data.set("previous_url", search_path(previous));
  }
  const bool more = view.total ? first_rank + view.results.size() < *view.total
                               : view.results.size() == view.page_size;
  if (more) {
    SearchView next = view;
    ++next.page;
    data.set("next_url", search_path(next));
  }
  if (view.page > 1 || more) {
    std::string label = "Page " + std::to_string(view.page);
    if (view.total) {
      label += " of " + std::to_string((*view.total + view.page_size - 1) / view.page_size);
    }
    data.set("page_label", label);
  }

  // Feeds and exports of the same search: its words and filters, on page 1, in its order.
  SearchView first = view;
  first.page = 1;
  const std::string same_search = search_path(first).substr(std::string_view("/search").size());
  if (asked) {
    data.set("bibtex_url", "/search.bib" + same_search);
    data.set("ris_url", "/search.ris" + same_search);
    data.set("sort_value",
             view.sort != search::Sort::kRelevance ? search_sort_name(view.sort) : "");
  }
  std::string title = view.q.empty() ? "Search" : view.q + " · Search";
  const PageFeeds feeds{"Search: " + view.q, "/feeds/search", same_search};
  return in_layout(layout_, title, "search", render(search_, data), &view,
                   asked ? &feeds : nullptr);
}

std::string Pages::paper_list(const ListView& view) const {
  mustache::data data;
  data.set("heading", view.title);
  set_nonempty(data, "subtitle", view.subtitle);
  set_nonempty(data, "unavailable", view.unavailable);
  data.set("path", view.path);
  set_nonempty(data, "exclude", view.exclude);
  const std::string exclude_query =
      view.exclude.empty() ? "" : "?exclude=" + url_encode(view.exclude);
  data.set("atom_url", view.feed_path + ".atom" + exclude_query);
  data.set("rss_url", view.feed_path + ".rss" + exclude_query);
  auto export_url = [&](std::string_view format) {
    std::string url = view.export_path;
    url.replace(url.find("{format}"), std::string_view("{format}").size(), format);
    return url;
  };
  data.set("bibtex_url", export_url("bib"));
  data.set("ris_url", export_url("ris"));
  mustache::data cards{mustache::data::type::list};
  size_t rank = 0;
  for (const Paper& paper : view.papers)
    cards.push_back(rendered_card(card_, paper, ++rank, "/", true));
  if (!view.papers.empty()) data.set("papers", cards);
  const PageFeeds feeds{view.title, view.feed_path, exclude_query};
  return in_layout(layout_, view.title, "list", render(list_, data), nullptr, &feeds);
}

std::string Pages::error(int status, std::string_view heading, std::string_view detail) const {
  mustache::data data;
  data.set("status", std::to_string(status));
  data.set("heading", std::string(heading));
  set_nonempty(data, "detail", std::string(detail));
  return in_layout(layout_, std::string(heading), "error", render(error_, data));
}

std::string Pages::wrap(const std::string& title, const std::string& content) const {
  return in_layout(layout_, title, "community", content);
}

}  // namespace paperboy::web
