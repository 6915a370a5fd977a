#include "web/feed_routes.h"

#include <httplib.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <cctype>
#include <charconv>

#include "core/date.h"
#include "feed/feed.h"
#include "text/analyzer.h"
#include "web/community_routes.h"
#include "web/exports.h"
#include "web/live_index.h"
#include "web/page_routes.h"
#include "web/pages.h"
#include "web/paper_lists.h"
#include "web/syndication.h"

namespace paperboy::web {

namespace {

using httplib::Request;
using httplib::Response;
using std::chrono::sys_seconds;

constexpr size_t kFeedLength = 50;
constexpr size_t kTrendingLength = 30;
constexpr size_t kListPageLength = 100;
constexpr size_t kDefaultExportLength = 20;
constexpr size_t kMaxExportLength = 100;
constexpr size_t kMaxQueryBytes = 2000;
constexpr size_t kMaxCategoryLength = 40;
constexpr size_t kMaxAuthorBytes = 200;
constexpr auto kCategoryWindow = std::chrono::days(30);
constexpr const char* kHtml = "text/html; charset=utf-8";

enum class Format { atom, rss, bibtex, ris };

Format format_named(const std::string& extension) {
  if (extension == "atom") return Format::atom;
  if (extension == "rss") return Format::rss;
  if (extension == "bib") return Format::bibtex;
  return Format::ris;
}

sys_seconds now() {
  return std::chrono::floor<std::chrono::seconds>(std::chrono::system_clock::now());
}

bool valid_category(std::string_view category) {
  if (category.empty() || category.size() > kMaxCategoryLength) return false;
  return std::all_of(category.begin(), category.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '-' || c == '_';
  });
}

// The site's address as the client reached it, for the absolute links feeds need; the Host
// header only when it looks like a host, else the address the connection came in on.
std::string site_url(const Request& request) {
  std::string host = request.get_header_value("Host");
  const bool plausible =
      !host.empty() && host.size() < 256 && std::all_of(host.begin(), host.end(), [](char c) {
        return std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '-' || c == ':' ||
               c == '[' || c == ']';
      });
  if (!plausible) host = request.local_addr + ":" + std::to_string(request.local_port);
  const bool tls = request.get_header_value("X-Forwarded-Proto") == "https";
  return (tls ? "https://" : "http://") + host;
}

std::string query_of(const Request& request) {
  std::string query;
  for (const auto& [name, value] : request.params) {
    query += query.empty() ? '?' : '&';
    query += url_encode(name) + "=" + url_encode(value);
  }
  return query;
}

bool has_author(const Paper& paper, std::string_view name) {
  const std::string wanted = text::fold(name);
  return std::any_of(paper.authors.begin(), paper.authors.end(),
                     [&](const std::string& author) { return text::fold(author) == wanted; });
}

// The query-language text that finds an author's papers (quotes would end the phrase).
std::string author_query(std::string name) {
  std::erase(name, '"');
  return "author:\"" + name + "\"";
}

// A file name for Content-Disposition: letters, digits, '.', '-' and '_' only.
std::string file_name(std::string_view stem, std::string_view extension) {
  std::string name;
  for (char c : stem) {
    const bool plain = std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '-';
    name.push_back(plain ? c : '_');
  }
  if (name.empty()) name = "papers";
  return name + "." + std::string(extension);
}

}  // namespace

struct FeedRoutes::Impl {
  Impl(store::Store& store, LiveIndex* index, CommunityRoutes* community, const Pages& pages)
      : store(store), index(index), community(community), pages(pages) {}

  store::Store& store;
  LiveIndex* index;
  CommunityRoutes* community;
  const Pages& pages;

  // ---- Answers ----

  void error_page(Response& response, int status, std::string_view heading,
                  std::string_view detail) {
    response.status = status;
    response.set_content(pages.error(status, heading, detail), kHtml);
  }

  void internal_error(const Request& request, Response& response, const Error& error) {
    spdlog::error("web: {} {}: {}", request.method, request.path, error.message);
    error_page(response, 500, "Something went wrong",
               "The paper store could not answer. Please try again in a moment.");
  }

  // A list of papers as a feed or a citation file.
  void send_list(const Request& request, Response& response, Format format,
                 const std::string& title, const std::string& page_path, std::string stem,
                 std::vector<Paper> papers) {
    const std::string path_and_query = request.path + query_of(request);
    switch (format) {
      case Format::atom:
      case Format::rss: {
        Syndication feed{title + " · paperboy", site_url(request), page_path, path_and_query,
                         std::move(papers)};
        const bool atom = format == Format::atom;
        response.set_header("Cache-Control", "public, max-age=300");
        response.set_content(
            atom ? atom_feed(feed, now()) : rss_feed(feed, now()),
            atom ? "application/atom+xml; charset=utf-8" : "application/rss+xml; charset=utf-8");
        return;
      }
      case Format::bibtex:
        response.set_header("Content-Disposition",
                            "inline; filename=\"" + file_name(stem, "bib") + "\"");
        response.set_content(bibtex(papers), "application/x-bibtex; charset=utf-8");
        return;
      case Format::ris:
        response.set_header("Content-Disposition",
                            "inline; filename=\"" + file_name(stem, "ris") + "\"");
        response.set_content(ris(papers), "application/x-research-info-systems; charset=utf-8");
        return;
    }
  }

  // ---- Filters every list shares ----

  // ?exclude=, or an answered 400.
  std::optional<Exclusions> exclusions(const Request& request, Response& response) {
    auto parsed = Exclusions::parse(request.get_param_value("exclude"));
    if (!parsed) {
      error_page(response, 400, "Bad request", parsed.error().message);
      return std::nullopt;
    }
    return std::move(*parsed);
  }

  bool hidden(const Paper& paper) { return community && community->hidden(paper_id(paper)); }

  void drop_unwanted(std::vector<Paper>& papers, const Exclusions& excluded) {
    std::erase_if(papers,
                  [&](const Paper& paper) { return hidden(paper) || excluded.excludes(paper); });
  }

  // Search-backed lists need the index: false (answered 503) without it.
  bool search_available(Response& response) {
    if (index) return true;
    error_page(response, 503, "Search is unavailable",
               "This server was started without a search index.");
    return false;
  }

  // Runs a search list; answers the failure and returns nullopt when it fails.
  std::optional<std::vector<Paper>> searched(const Request& request, Response& response,
                                             const std::string& query_text, search::Sort sort,
                                             size_t limit,
                                             const std::function<bool(const Paper&)>& keep) {
    auto papers = search_papers(*index, store, query_text, sort, limit, keep);
    if (papers) return std::move(*papers);
    if (papers.error().message.starts_with("q: ")) {
      error_page(response, 400, "Bad request", papers.error().message);
    } else {
      spdlog::error("web: {} {}: {}", request.method, request.path, papers.error().message);
      error_page(response, 503, "Search is unavailable", papers.error().message);
    }
    return std::nullopt;
  }

  // ---- The lists ----

  void daily_feed(const Request& request, Response& response, Format format) {
    auto excluded = exclusions(request, response);
    if (!excluded) return;
    feed::FeedQuery query;
    if (request.has_param("category")) {
      query.category = request.get_param_value("category");
      if (!valid_category(query.category))
        return error_page(response, 400, "Bad request",
                          "category: expected an arXiv category such as cs.CL");
    }
    auto latest = feed::latest_feed_day(store, today());
    if (!latest) return internal_error(request, response, latest.error());
    std::vector<Paper> papers;
    std::string page_path = "/";
    if (latest->has_value()) {
      auto day = parse_date(**latest);
      if (!day) return internal_error(request, response, Error{"bad feed day " + **latest});
      query.date = *day;
      auto page = feed::load_feed(store, query);
      if (!page) return internal_error(request, response, page.error());
      papers = std::move(page->papers);
      page_path = "/date/" + **latest;
    }
    drop_unwanted(papers, *excluded);
    if (!query.category.empty()) page_path += "?category=" + url_encode(query.category);
    send_list(request, response, format,
              "Daily papers" + (query.category.empty() ? "" : " in " + query.category), page_path,
              "daily", std::move(papers));
  }

  void trending_feed(const Request& request, Response& response, Format format) {
    auto excluded = exclusions(request, response);
    if (!excluded) return;
    auto papers = feed::trending(store, now(), kTrendingLength);
    if (!papers) return internal_error(request, response, papers.error());
    drop_unwanted(*papers, *excluded);
    send_list(request, response, format, "Trending papers", "/trending", "trending",
              std::move(*papers));
  }

  // /feeds/search.atom?q= (newest first) and /search.bib?q= (in the search's order).
  void search_list(const Request& request, Response& response, Format format) {
    auto excluded = exclusions(request, response);
    if (!excluded) return;
    std::string q = request.get_param_value("q");
    if (q.size() > kMaxQueryBytes)
      return error_page(response, 400, "Bad request", "q: at most 2000 bytes");
    std::string query_text = q;
    if (request.has_param("category")) {
      const std::string category = request.get_param_value("category");
      if (!valid_category(category))
        return error_page(response, 400, "Bad request",
                          "category: expected an arXiv category such as cs.CL");
      query_text += " cat:" + category;
    }
    if (request.has_param("year")) {
      const std::string year = request.get_param_value("year");
      if (year.size() != 4 || !std::all_of(year.begin(), year.end(), ::isdigit))
        return error_page(response, 400, "Bad request", "year: expected a year such as 2024");
      query_text += " year:" + year;
    }
    if (query_text.empty())
      return error_page(response, 400, "Bad request",
                        "q: expected a query, such as q=state+space+models");
    const bool feed = format == Format::atom || format == Format::rss;
    search::Sort sort = feed ? search::Sort::kDate : search::Sort::kRelevance;
    const std::string sort_name = request.get_param_value("sort");
    if (sort_name == "date") {
      sort = search::Sort::kDate;
    } else if (sort_name == "upvotes") {
      sort = search::Sort::kUpvotes;
    } else if (sort_name == "relevance") {
      sort = search::Sort::kRelevance;
    } else if (!sort_name.empty()) {
      return error_page(response, 400, "Bad request",
                        "sort: expected relevance, date or upvotes, got '" + sort_name + "'");
    }
    size_t limit = feed ? kFeedLength : kDefaultExportLength;
    if (request.has_param("limit")) {
      const std::string text = request.get_param_value("limit");
      size_t value = 0;
      auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
      if (error != std::errc() || end != text.data() + text.size() || value == 0 ||
          value > kMaxExportLength)
        return error_page(response, 400, "Bad request",
                          "limit: expected a number from 1 to 100, got '" + text + "'");
      limit = value;
    }
    if (!search_available(response)) return;
    auto papers = searched(request, response, query_text + excluded->query_terms(), sort, limit,
                           [&](const Paper& paper) { return !hidden(paper); });
    if (!papers) return;
    send_list(request, response, format, "Search: " + q, "/search?q=" + url_encode(q), "search",
              std::move(*papers));
  }

  std::optional<std::vector<Paper>> author_papers(const Request& request, Response& response,
                                                  const std::string& name,
                                                  const Exclusions& excluded) {
    return searched(request, response, author_query(name), search::Sort::kDate, kListPageLength,
                    [&](const Paper& paper) {
                      return has_author(paper, name) && !hidden(paper) && !excluded.excludes(paper);
                    });
  }

  bool valid_author(Response& response, const std::string& name) {
    if (!name.empty() && name.size() <= kMaxAuthorBytes) return true;
    error_page(response, 404, "Page not found", "No author name in the address.");
    return false;
  }

  void author_feed(const Request& request, Response& response) {
    const std::string name = request.matches[1].str();
    if (!valid_author(response, name)) return;
    auto excluded = exclusions(request, response);
    if (!excluded || !search_available(response)) return;
    auto papers = author_papers(request, response, name, *excluded);
    if (!papers) return;
    if (papers->size() > kFeedLength) papers->resize(kFeedLength);
    send_list(request, response, format_named(request.matches[2].str()), "Papers by " + name,
              author_path(name), name, std::move(*papers));
  }

  void author_page(const Request& request, Response& response) {
    const std::string name = request.matches[1].str();
    if (!valid_author(response, name)) return;
    auto excluded = exclusions(request, response);
    if (!excluded) return;
    ListView view;
    view.title = name;
    view.path = author_path(name);
    view.feed_path = "/feeds/author/" + url_encode(name);
    view.export_path =
        "/search.{format}?q=" + url_encode(author_query(name)) + "&sort=date&limit=100";
    view.exclude = excluded->text();
    if (!index) {
      view.unavailable = "Author pages need the search index, and this server has none.";
      response.status = 503;
    } else {
      auto papers = author_papers(request, response, name, *excluded);
      if (!papers) return;
      view.papers = std::move(*papers);
      if (view.papers.empty()) {
        return error_page(response, 404, "Author not found",
                          "No paper in the store lists " + name + " as an author.");
      }
      view.subtitle = std::to_string(view.papers.size()) +
                      (view.papers.size() == 1 ? " paper" : " papers") + ", newest first";
    }
    response.set_content(pages.paper_list(view), kHtml);
  }

  // The category's papers in the feed's last 30 days up to its latest day, newest first.
  Result<std::vector<Paper>> category_papers(const std::string& category,
                                             const Exclusions& excluded) {
    auto latest = feed::latest_feed_day(store, today());
    if (!latest) return std::unexpected(latest.error());
    if (!latest->has_value()) return std::vector<Paper>{};
    auto last = parse_date(**latest);
    if (!last) return fail("bad feed day " + **latest);
    auto papers = store.feed_papers(format_date(*last - kCategoryWindow + std::chrono::days(1)),
                                    **latest, category);
    if (!papers) return std::unexpected(papers.error());
    drop_unwanted(*papers, excluded);
    std::sort(papers->begin(), papers->end(), [](const Paper& a, const Paper& b) {
      if (a.feed_day != b.feed_day) return a.feed_day > b.feed_day;
      if (a.upvotes != b.upvotes) return a.upvotes > b.upvotes;
      return paper_id(a) < paper_id(b);
    });
    if (papers->size() > kListPageLength) papers->resize(kListPageLength);
    return papers;
  }

  void category_feed(const Request& request, Response& response) {
    const std::string category = request.matches[1].str();
    if (!valid_category(category))
      return error_page(response, 404, "Page not found", "No such category.");
    auto excluded = exclusions(request, response);
    if (!excluded) return;
    auto papers = category_papers(category, *excluded);
    if (!papers) return internal_error(request, response, papers.error());
    if (papers->size() > kFeedLength) papers->resize(kFeedLength);
    send_list(request, response, format_named(request.matches[2].str()), "Papers in " + category,
              category_path(category), category, std::move(*papers));
  }

  void category_page(const Request& request, Response& response) {
    const std::string category = request.matches[1].str();
    if (!valid_category(category))
      return error_page(response, 404, "Page not found", "No such category.");
    auto excluded = exclusions(request, response);
    if (!excluded) return;
    auto papers = category_papers(category, *excluded);
    if (!papers) return internal_error(request, response, papers.error());
    ListView view;
    view.title = category;
    view.subtitle = std::to_string(papers->size()) + (papers->size() == 1 ? " paper" : " papers") +
                    " in the feed's last 30 days, newest first";
    view.path = category_path(category);
    view.feed_path = "/feeds/category/" + url_encode(category);
    view.export_path =
        "/search.{format}?q=" + url_encode("cat:" + category) + "&sort=date&limit=100";
    view.exclude = excluded->text();
    view.papers = std::move(*papers);
    response.set_content(pages.paper_list(view), kHtml);
  }

  void paper_export(const Request& request, Response& response) {
    const std::string id = request.matches[1].str();
    auto found = store.find(id);
    if (!found) return internal_error(request, response, found.error());
    if (!*found || (community && !community->visible(request, **found)))
      return error_page(response, 404, "Page not found",
                        "No paper with the id '" + id + "' is in the store.");
    const Paper& paper = **found;
    send_list(request, response, format_named(request.matches[2].str()), paper.title,
              paper_path(paper), paper_id(paper), std::vector<Paper>{paper});
  }

  // A collection's feed or export: public collections for all, private ones for their owner.
  void collection_list(const Request& request, Response& response) {
    if (!community)
      return error_page(response, 404, "Page not found", "This server keeps no collections.");
    int64_t id = 0;
    const std::string text = request.matches[1].str();
    auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), id);
    if (error != std::errc() || end != text.data() + text.size())
      return error_page(response, 404, "Page not found", "No such collection.");
    auto readable = community->readable_collection(request, id);
    if (!readable) return internal_error(request, response, readable.error());
    if (!*readable) return error_page(response, 404, "Collection not found", "No such collection.");
    const store::Collection& collection = (*readable)->collection;
    send_list(request, response, format_named(request.matches[2].str()),
              "Collection: " + collection.name, "/collections/" + text, "collection-" + text,
              std::move((*readable)->papers));
  }

  void install(PageRoutes& http) {
    using R = const Request&;
    using W = Response&;
    http.Get(R"(/feeds/daily\.(atom|rss))",
             [this](R q, W r) { daily_feed(q, r, format_named(q.matches[1].str())); });
    http.Get(R"(/feeds/trending\.(atom|rss))",
             [this](R q, W r) { trending_feed(q, r, format_named(q.matches[1].str())); });
    http.Get(R"(/feeds/search\.(atom|rss))",
             [this](R q, W r) { search_list(q, r, format_named(q.matches[1].str())); });
    http.Get(R"(/feeds/author/(.+)\.(atom|rss))", [this](R q, W r) { author_feed(q, r); });
    http.Get(R"(/feeds/category/([^/]+)\.(atom|rss))", [this](R q, W r) { category_feed(q, r); });
    http.Get(R"(/feeds/collection/(\d+)\.(atom|rss))", [this](R q, W r) { collection_list(q, r); });
    http.Get(R"(/papers/(.+)\.(bib|ris))", [this](R q, W r) { paper_export(q, r); });
    http.Get(R"(/search\.(bib|ris))",
             [this](R q, W r) { search_list(q, r, format_named(q.matches[1].str())); });
    http.Get(R"(/collections/(\d+)\.(bib|ris))", [this](R q, W r) { collection_list(q, r); });
    http.Get(R"(/authors/(.+))", [this](R q, W r) { author_page(q, r); });
    http.Get(R"(/categories/([^/]+))", [this](R q, W r) { category_page(q, r); });
  }
};

FeedRoutes::FeedRoutes(store::Store& store, LiveIndex* index, CommunityRoutes* community,
                       const Pages& pages)
    : impl_(std::make_unique<Impl>(store, index, community, pages)) {}

FeedRoutes::~FeedRoutes() = default;

void FeedRoutes::install(PageRoutes& http) { impl_->install(http); }

}  // namespace paperboy::web
