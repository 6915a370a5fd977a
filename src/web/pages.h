// HTML pages of the web app, rendered from the mustache templates in src/web/templates.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/paper.h"
#include "core/result.h"
#include "feed/feed.h"
#include "search/search.h"

namespace paperboy::web {

// What a feed page shows: one day, week or month of the feed, as the request asked for it.
struct FeedView {
  feed::FeedPage page;
  std::chrono::sys_days day{};  // the day the URL named (any day inside the period)
  std::string category;         // empty: all categories
  feed::SortOrder sort = feed::SortOrder::upvotes;
  std::string exclude;  // exclusion words as given (Exclusions::text()); empty: none
};

// A titled list of papers with its feeds and exports: the author and category pages.
struct ListView {
  std::string title;        // the page title and heading
  std::string subtitle;     // under the heading
  std::string path;         // this page, where the exclusion form leads
  std::string feed_path;    // the feeds' address without ".atom"/".rss"
  std::string export_path;  // the exports' address with "{format}" for "bib" or "ris"
  std::string exclude;
  std::string unavailable;  // why the list cannot be shown (no search index); empty when shown
  std::vector<Paper> papers;
};

// One search result as pages and the API show it.
struct FoundPaper {
  Paper paper;
  double score = 0;
  std::string title_html;    // escaped by search::highlight, matches in <mark>
  std::string snippet_html;  // escaped by search::snippet
};

// What the search page shows: the request as understood, and its results.
struct SearchView {
  std::string q;  // the words as typed, without the category and year filters
  std::string category;
  std::string year;
  std::string mode;     // keyword | semantic | hybrid as asked; empty: the default (hybrid)
  std::string exclude;  // exclusion words as given; empty: none
  search::Sort sort = search::Sort::kRelevance;
  size_t page = 1;  // 1-based
  size_t page_size = 20;
  std::string unavailable;  // why search cannot run (no index); empty when it ran
  std::optional<uint64_t> total;
  std::vector<FoundPaper> results;
  std::vector<search::FacetCount> category_facets;
  std::vector<search::FacetCount> year_facets;
  std::vector<std::string> notes;
};

class Pages {
 public:
  // Parses every template once, so a broken template fails here and not on a request.
  static Result<Pages> load();

  std::string feed(const FeedView& view) const;
  // The home page while the feed is empty: says how to fill the store.
  std::string empty_feed() const;
  // `community_html`: the paper's votes, comments and collections part (community_routes.h).
  std::string paper(const Paper& paper, const std::string& community_html = {}) const;
  std::string trending(const std::vector<Paper>& papers, const std::string& exclude = {}) const;
  std::string paper_list(const ListView& view) const;
  // Results, or the query syntax when nothing was asked yet, or why search is unavailable.
  std::string search(const SearchView& view) const;
  std::string error(int status, std::string_view heading, std::string_view detail) const;
  // Any other page: `content` (already HTML) in the site's layout.
  std::string wrap(const std::string& title, const std::string& content) const;

 private:
  std::string_view layout_, feed_, card_, paper_, trending_, error_, empty_, search_, result_,
      list_;
};

// "/papers/<id>", percent-encoded, keeping the '/' of old-style ids such as hep-th/9901001.
std::string paper_path(const Paper& paper);

// "relevance", "date" or "upvotes", as the search page and API name the orders.
const char* search_sort_name(search::Sort sort);

// The search page address for `view` (page 1 is left out).
std::string search_path(const SearchView& view);

// "A, B and C" for up to `named` authors; past that the first two, "et al." and the count;
// only the count when names are unknown.
std::string authors_line(const Paper& paper, size_t named);

// "/authors/<name>" and "/categories/<category>", percent-encoded.
std::string author_path(std::string_view name);
std::string category_path(std::string_view category);

// Percent-encodes `text` for a URL query value (RFC 3986 unreserved characters stay).
std::string url_encode(std::string_view text);

// `url` if it is an absolute http(s) URL, else empty, so stored links can never be
// `javascript:` or other schemes when put in an href.
std::string safe_link(std::string_view url);

}  // namespace paperboy::web
