#include "web/server.h"

#include <httplib.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <spdlog/spdlog.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cctype>
#include <cerrno>
#include <charconv>
#include <cstring>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <thread>
#include <variant>

#include "core/date.h"
#include "core/escape.h"
#include "feed/feed.h"
#include "search/highlight.h"
#include "search/query.h"
#include "search/search.h"
#include "web/api_cursor.h"
#include "web/assets.h"
#include "web/community_routes.h"
#include "web/digest_routes.h"
#include "web/feed_routes.h"
#include "web/hf_json.h"
#include "web/live_index.h"
#include "web/metrics.h"
#include "web/page_routes.h"
#include "web/pages.h"
#include "web/paper_lists.h"
#include "web/periods.h"
#include "web/recommend_routes.h"
#include "web/render_cache.h"
#include "web/render_gate.h"
#include "web/semantic_routes.h"

namespace paperboy::web {

namespace {

using httplib::Request;
using httplib::Response;
using nlohmann::json;
using std::chrono::sys_days;

constexpr size_t kDefaultApiLimit = 50;
constexpr size_t kMaxApiLimit = 100;
constexpr size_t kMaxApiPage = 100000;
constexpr size_t kTrendingPageSize = 30;
constexpr size_t kMaxCategoryLength = 40;
constexpr size_t kDefaultSearchLimit = 20;
constexpr size_t kMaxSearchOffset = 10000;
constexpr size_t kSearchPageSize = 20;
constexpr size_t kMaxSearchPage = kMaxSearchOffset / kSearchPageSize;
constexpr size_t kMaxQueryBytes = 2000;
constexpr size_t kSnippetBytes = 240;

constexpr const char* kHtml = "text/html; charset=utf-8";
constexpr const char* kJson = "application/json; charset=utf-8";

// Everything is served by us: scripts and fonts from 'self' only. KaTeX sets inline styles on
// the elements it renders, hence 'unsafe-inline' for styles (never for scripts).
constexpr const char* kContentSecurityPolicy =
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; font-src 'self'; "
    "img-src 'self' data:; connect-src 'self'; object-src 'none'; base-uri 'none'; "
    "form-action 'self'; frame-ancestors 'none'";

// A parsed period from a URL or query parameter.
struct PeriodChoice {
  feed::Period period = feed::Period::day;
  sys_days day{};
};

std::optional<std::string> query_param(const Request& request, const char* name) {
  if (!request.has_param(name)) return std::nullopt;
  return request.get_param_value(name);
}

void send_json(Response& response, int status, const json& body) {
  response.status = status;
  response.set_content(body.dump(-1, ' ', false, json::error_handler_t::replace), kJson);
}

void send_json_error(Response& response, int status, const std::string& message) {
  send_json(response, status, json{{"error", message}});
}

bool is_api_path(const std::string& path) {
  return path.starts_with("/api/") || path == "/api" || path == "/healthz";
}

// Parses a whole decimal number in [0, max]; nullopt for anything else.
std::optional<size_t> parse_count(const std::string& text, size_t max) {
  size_t value = 0;
  const char* end = text.data() + text.size();
  auto [stop, error] = std::from_chars(text.data(), end, value);
  if (text.empty() || error != std::errc() || stop != end || value > max) return std::nullopt;
  return value;
}

Result<PeriodChoice> parse_period(feed::Period period, const std::string& name,
                                  const std::string& text) {
  std::optional<sys_days> day;
  const char* expected = "YYYY-MM-DD";
  switch (period) {
    case feed::Period::day:
      day = parse_iso_day(text);
      break;
    case feed::Period::week:
      day = parse_iso_week(text);
      expected = "YYYY-Www, an ISO week such as 2026-W34";
      break;
    case feed::Period::month:
      day = parse_year_month(text);
      expected = "YYYY-MM";
      break;
  }
  if (!day) return fail(name + ": expected " + expected + ", got '" + text + "'");
  return PeriodChoice{period, *day};
}

bool valid_category(const std::string& category) {
  if (category.empty() || category.size() > kMaxCategoryLength) return false;
  return std::all_of(category.begin(), category.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '-' || c == '_';
  });
}

bool equal_ignoring_case(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) ==
                  std::tolower(static_cast<unsigned char>(y));
         });
}

// Orders an all-time list (the API's submitter query without a period) as load_feed orders a
// period (feed.h): by upvotes, by feed day, or by trending score, ties broken alike.
void sort_papers(std::vector<Paper>& papers, feed::SortOrder sort) {
  const auto now = std::chrono::floor<std::chrono::seconds>(std::chrono::system_clock::now());
  struct Keyed {
    double score;
    std::chrono::sys_seconds entered;
    Paper paper;
  };
  std::vector<Keyed> keyed;
  keyed.reserve(papers.size());
  for (Paper& paper : papers) {
    const double score = sort == feed::SortOrder::trending ? feed::trending_score(paper, now) : 0;
    const auto entered = store::entered_feed_at(paper).value_or(std::chrono::sys_seconds{});
    keyed.push_back(Keyed{score, entered, std::move(paper)});
  }
  auto by_upvotes = [](const Keyed& a, const Keyed& b) {
    if (a.paper.upvotes != b.paper.upvotes) return a.paper.upvotes > b.paper.upvotes;
    if (a.entered != b.entered) return a.entered > b.entered;
    return paper_id(a.paper) < paper_id(b.paper);
  };
  std::sort(keyed.begin(), keyed.end(), [&](const Keyed& a, const Keyed& b) {
    if (sort == feed::SortOrder::trending && a.score != b.score) return a.score > b.score;
    if (sort == feed::SortOrder::date) {
      if (a.paper.feed_day != b.paper.feed_day) return a.paper.feed_day > b.paper.feed_day;
      if (a.entered != b.entered) return a.entered > b.entered;
    }
    return by_upvotes(a, b);
  });
  for (size_t i = 0; i < keyed.size(); ++i) papers[i] = std::move(keyed[i].paper);
}

const char* reason_heading(int status) {
  switch (status) {
    case 400:
      return "Bad request";
    case 404:
      return "Page not found";
    case 405:
      return "Method not allowed";
    case 413:
      return "Request body too large";
    case 414:
      return "Address too long";
    default:
      return status >= 500 ? "Something went wrong" : "Request failed";
  }
}

// A search request from its URL parameters: the words, filters, order and which results.
struct SearchParams {
  SearchView view;  // q, category, year, sort and page as the page shows them
  size_t limit = kDefaultSearchLimit;
  size_t offset = 0;
  std::string mode;  // keyword | semantic | hybrid; empty: hybrid when vectors exist
};

bool valid_year(const std::string& year) {
  return year.size() == 4 && std::all_of(year.begin(), year.end(), [](char c) {
           return std::isdigit(static_cast<unsigned char>(c));
         });
}

// The words plus the filters in the query language, which is what the search engine reads.
std::string full_query_text(const SearchView& view) {
  std::string text = view.q;
  if (!view.category.empty()) text += " cat:" + view.category;
  if (!view.year.empty()) text += " year:" + view.year;
  // Exclusion words become the query language's -word (view.exclude was checked on parsing).
  if (auto exclusions = Exclusions::parse(view.exclude)) text += exclusions->query_terms();
  return text;
}

// `paged`: the page's ?page= (fixed page size); otherwise the API's ?limit= and ?offset=.
Result<SearchParams> parse_search_params(const Request& request, bool paged) {
  SearchParams params;
  SearchView& view = params.view;
  view.q = query_param(request, "q").value_or("");
  if (view.q.size() > kMaxQueryBytes) {
    return fail("q: at most " + std::to_string(kMaxQueryBytes) + " bytes, got " +
                std::to_string(view.q.size()));
  }
  if (auto category = query_param(request, "category"); category && !category->empty()) {
    if (!valid_category(*category)) {
      return fail("category: expected an arXiv category such as cs.CL, got '" + *category + "'");
    }
    view.category = *category;
  }
  if (auto year = query_param(request, "year"); year && !year->empty()) {
    if (!valid_year(*year)) return fail("year: expected a year such as 2024, got '" + *year + "'");
    view.year = *year;
  }
  if (auto exclude = query_param(request, "exclude")) {
    auto parsed = Exclusions::parse(*exclude);
    if (!parsed) return fail(parsed.error().message);
    view.exclude = parsed->text();
  }
  if (auto mode = query_param(request, "mode"); mode && !mode->empty()) {
    if (!hybrid::parse_mode(*mode))
      return fail("mode: expected keyword, semantic or hybrid, got '" + *mode + "'");
    params.mode = *mode;
    view.mode = *mode;
  }
  if (auto sort = query_param(request, "sort"); sort && !sort->empty()) {
    if (*sort == "relevance") {
      view.sort = search::Sort::kRelevance;
    } else if (*sort == "date") {
      view.sort = search::Sort::kDate;
    } else if (*sort == "upvotes") {
      view.sort = search::Sort::kUpvotes;
    } else {
      return fail("sort: expected relevance, date or upvotes, got '" + *sort + "'");
    }
  }
  if (paged) {
    if (auto page = query_param(request, "page")) {
      auto parsed = parse_count(*page, kMaxSearchPage);
      if (!parsed || *parsed == 0) {
        return fail("page: expected a page number from 1 to " + std::to_string(kMaxSearchPage) +
                    ", got '" + *page + "'");
      }
      view.page = *parsed;
    }
    view.page_size = kSearchPageSize;
    params.limit = kSearchPageSize;
    params.offset = (view.page - 1) * kSearchPageSize;
    return params;
  }
  if (auto limit = query_param(request, "limit")) {
    auto parsed = parse_count(*limit, kMaxApiLimit);
    if (!parsed || *parsed == 0) {
      return fail("limit: expected a number from 1 to " + std::to_string(kMaxApiLimit) + ", got '" +
                  *limit + "'");
    }
    params.limit = *parsed;
  }
  if (auto cursor = query_param(request, "cursor"); cursor && !cursor->empty()) {
    if (request.has_param("offset")) return fail("cursor, offset: give one of them, not both");
    auto offset = read_cursor(*cursor, list_fingerprint(request));
    if (!offset) return std::unexpected(offset.error());
    if (*offset > kMaxSearchOffset) return fail("cursor: past the last result this API pages to");
    params.offset = *offset;
  }
  if (auto offset = query_param(request, "offset")) {
    auto parsed = parse_count(*offset, kMaxSearchOffset);
    if (!parsed) {
      return fail("offset: expected a number from 0 to " + std::to_string(kMaxSearchOffset) +
                  ", got '" + *offset + "'");
    }
    params.offset = *parsed;
  }
  view.page_size = params.limit;
  view.page = params.offset / params.limit + 1;
  return params;
}

std::string content_type_for(std::string_view name) {
  if (name.ends_with(".css")) return "text/css; charset=utf-8";
  if (name.ends_with(".js")) return "text/javascript; charset=utf-8";
  if (name.ends_with(".svg")) return "image/svg+xml";
  return "application/octet-stream";
}

// httplib closes its listening socket only when listening ends; a server that was bound but
// never run (stopped first, or create() failing late) would keep it open without this.
class HttpServer : public httplib::Server {
 public:
  ~HttpServer() override {
    const socket_t socket = svr_sock_.exchange(INVALID_SOCKET);
    if (socket != INVALID_SOCKET) ::close(socket);
  }

  // GET routes pass their answer through `finish` (the visitor's part of pages) before httplib
  // measures and compresses it.
  HttpServer& Get(const std::string& pattern, Handler handler) {
    httplib::Server::Get(
        pattern, [this, handler = std::move(handler)](const Request& request, Response& response) {
          handler(request, response);
          if (finish) finish(request, response);
        });
    return *this;
  }

  Handler finish;
};

// When the request on this thread reached routing, for its latency.
thread_local std::chrono::steady_clock::time_point request_started;

}  // namespace

struct Server::State {
  State(store::Store& store, ServerOptions options, Pages pages)
      : store(store),
        options(std::move(options)),
        pages(std::move(pages)),
        render_cache(this->options.shared_render_max_age, this->options.shared_render_max_bytes),
        render_gate(this->options.render_slots > 0
                        ? static_cast<size_t>(this->options.render_slots)
                        : std::max(1u, std::thread::hardware_concurrency())) {}

  store::Store& store;
  ServerOptions options;
  Pages pages;
  std::unique_ptr<LiveIndex> index;            // null: search disabled
  std::unique_ptr<SemanticRoutes> semantic;    // null: no vectors folder
  std::unique_ptr<CommunityRoutes> community;  // null: no accounts
  std::unique_ptr<DigestRoutes> digest;        // null: no digests
  std::unique_ptr<RecommendRoutes> recommend;  // null: no accounts
  std::unique_ptr<FeedRoutes> feeds;
  HttpServer http;
  RequestMetrics request_metrics;
  RenderCache render_cache;
  RenderGate render_gate;
  // /healthz's store statistics and the store change they describe: counting every paper again
  // is needed only after the store changed.
  std::mutex health_mutex;
  std::optional<std::pair<uint64_t, store::StoreStats>> health_stats;
  const std::chrono::steady_clock::time_point started = std::chrono::steady_clock::now();
  int port = 0;
  socket_t listening_socket = INVALID_SOCKET;
  std::atomic<bool> stop_requested{false};
  std::atomic<bool> running{false};

  void send_page(Response& response, int status, std::string body) {
    response.status = status;
    response.set_content(std::move(body), kHtml);
  }

  void send_error_page(Response& response, int status, std::string_view detail) {
    send_page(response, status, pages.error(status, reason_heading(status), detail));
  }

  // A store failure or exception: logged in full, shown to the visitor without internals.
  void send_internal_error(const Request& request, Response& response, const Error& error) {
    spdlog::error("web: {} {}: {}", request.method, request.path, error.message);
    const char* detail = "The paper store could not answer. Please try again in a moment.";
    if (is_api_path(request.path)) {
      send_json_error(response, 500, std::string("internal error: ") + detail);
    } else {
      send_error_page(response, 500, detail);
    }
  }

  // ?category=, ?sort= and ?exclude= of the HTML feed pages.
  Result<FeedView> feed_view_options(const Request& request) {
    FeedView view;
    if (auto exclude = query_param(request, "exclude")) {
      auto parsed = Exclusions::parse(*exclude);
      if (!parsed) return fail(parsed.error().message);
      view.exclude = parsed->text();
    }
    if (auto category = query_param(request, "category")) {
      if (!valid_category(*category)) {
        return fail("category: expected an arXiv category such as cs.CL, got '" + *category + "'");
      }
      view.category = *category;
    }
    if (auto sort = query_param(request, "sort")) {
      if (*sort == "upvotes") {
        view.sort = feed::SortOrder::upvotes;
      } else if (*sort == "date") {
        view.sort = feed::SortOrder::date;
      } else if (*sort == "trending") {
        view.sort = feed::SortOrder::trending;
      } else {
        return fail("sort: expected upvotes, date or trending, got '" + *sort + "'");
      }
    }
    return view;
  }

  void feed_page(const Request& request, Response& response, PeriodChoice choice) {
    auto view = feed_view_options(request);
    if (!view) return send_error_page(response, 400, view.error().message);
    feed::FeedQuery query;
    query.period = choice.period;
    query.date = choice.day;
    query.category = view->category;
    query.sort = view->sort;
    auto page = feed::load_feed(store, query);
    if (!page) return send_internal_error(request, response, page.error());
    if (community) community->drop_hidden(page->papers);
    if (auto exclusions = Exclusions::parse(view->exclude)) exclusions->drop_from(page->papers);
    view->page = std::move(*page);
    view->day = choice.day;
    send_page(response, 200, pages.feed(*view));
  }

  void home(const Request& request, Response& response) {
    auto latest = feed::latest_feed_day(store, today());
    if (!latest) return send_internal_error(request, response, latest.error());
    if (!latest->has_value()) return send_page(response, 200, pages.empty_feed());
    auto day = parse_date(**latest);
    if (!day) {
      return send_internal_error(request, response,
                                 Error{"feed day '" + **latest + "' is not a date"});
    }
    feed_page(request, response, PeriodChoice{feed::Period::day, *day});
  }

  void period_page(const Request& request, Response& response, feed::Period period) {
    auto choice = parse_period(period, "the address", request.matches[1].str());
    if (!choice) return send_error_page(response, 404, choice.error().message);
    feed_page(request, response, *choice);
  }

  // /papers?date=...|week=...|month=... moves to the clean address of that period.
  void papers_query(const Request& request, Response& response) {
    std::string target = "/";
    for (auto [name, period] :
         {std::pair{"date", feed::Period::day}, std::pair{"week", feed::Period::week},
          std::pair{"month", feed::Period::month}}) {
      auto value = query_param(request, name);
      if (!value) continue;
      auto choice = parse_period(period, name, *value);
      if (!choice) return send_error_page(response, 400, choice.error().message);
      target = period_path(period, choice->day);
    }
    std::string query;
    for (const char* name : {"category", "sort"}) {
      if (auto value = query_param(request, name)) {
        query += query.empty() ? '?' : '&';
        query += name;
        query += '=';
        query += url_encode(*value);
      }
    }
    response.set_redirect(target + query, 302);
  }

  void paper_page(const Request& request, Response& response) {
    const std::string id = request.matches[1].str();
    auto found = store.find(id);
    if (!found) return send_internal_error(request, response, found.error());
    if (!found->has_value() || (community && !community->visible(request, **found))) {
      return send_error_page(response, 404, "No paper with the id '" + id + "' is in the store.");
    }
    send_page(response, 200,
              pages.paper(**found, (community ? community->paper_section(request, **found) : "") +
                                       (semantic ? semantic->related_section(**found) : "")));
  }

  void trending_page(const Request& request, Response& response) {
    auto exclusions = Exclusions::parse(query_param(request, "exclude").value_or(""));
    if (!exclusions) return send_error_page(response, 400, exclusions.error().message);
    const auto now = std::chrono::floor<std::chrono::seconds>(std::chrono::system_clock::now());
    auto papers = feed::trending(store, now, kTrendingPageSize);
    if (!papers) return send_internal_error(request, response, papers.error());
    if (community) community->drop_hidden(*papers);
    exclusions->drop_from(*papers);
    send_page(response, 200, pages.trending(*papers, exclusions->text()));
  }

  // The papers /api/daily_papers lists, in order: the period's feed (the latest feed day when
  // no period is given), or a submitter's papers from the whole feed.
  Result<std::vector<Paper>> daily_papers(std::optional<PeriodChoice> period,
                                          const std::optional<std::string>& submitter,
                                          feed::SortOrder sort) {
    std::vector<Paper> papers;
    if (!period && submitter) {
      auto all = store.feed_papers("0000-01-01", "9999-12-31");
      if (!all) return fail(all.error().message);
      papers = std::move(*all);
      sort_papers(papers, sort);
    } else {
      if (!period) {
        auto latest = feed::latest_feed_day(store, today());
        if (!latest) return fail(latest.error().message);
        if (!latest->has_value()) return papers;
        auto day = parse_date(**latest);
        if (!day) return fail("feed day '" + **latest + "' is not a date");
        period = PeriodChoice{feed::Period::day, *day};
      }
      feed::FeedQuery query;
      query.period = period->period;
      query.date = period->day;
      query.sort = sort;
      auto loaded = feed::load_feed(store, query);
      if (!loaded) return fail(loaded.error().message);
      papers = std::move(loaded->papers);
    }
    if (submitter) {
      std::erase_if(papers, [&](const Paper& paper) {
        return !equal_ignoring_case(paper.submitted_by, *submitter);
      });
    }
    return papers;
  }

  void api_daily_papers(const Request& request, Response& response) {
    std::optional<PeriodChoice> period;
    for (auto [name, kind] :
         {std::pair{"date", feed::Period::day}, std::pair{"week", feed::Period::week},
          std::pair{"month", feed::Period::month}}) {
      auto value = query_param(request, name);
      if (!value) continue;
      if (period)
        return send_json_error(response, 400, "date, week, month: give at most one of them");
      auto choice = parse_period(kind, name, *value);
      if (!choice) return send_json_error(response, 400, choice.error().message);
      period = *choice;
    }
    feed::SortOrder sort = feed::SortOrder::upvotes;
    if (auto value = query_param(request, "sort")) {
      if (*value == "publishedAt") {
        sort = feed::SortOrder::date;
      } else if (*value == "trending") {
        sort = feed::SortOrder::trending;
      } else if (*value == "upvotes") {
        sort = feed::SortOrder::upvotes;
      } else {
        return send_json_error(
            response, 400, "sort: expected publishedAt, trending or upvotes, got '" + *value + "'");
      }
    }
    size_t page = 0;
    if (auto value = query_param(request, "p")) {
      auto parsed = parse_count(*value, kMaxApiPage);
      if (!parsed) {
        return send_json_error(response, 400,
                               "p: expected a page number from 0 to " +
                                   std::to_string(kMaxApiPage) + ", got '" + *value + "'");
      }
      page = *parsed;
    }
    size_t limit = kDefaultApiLimit;
    if (auto value = query_param(request, "limit")) {
      auto parsed = parse_count(*value, kMaxApiLimit);
      if (!parsed || *parsed == 0) {
        return send_json_error(response, 400,
                               "limit: expected a number from 1 to " +
                                   std::to_string(kMaxApiLimit) + ", got '" + *value + "'");
      }
      limit = *parsed;
    }
    const std::optional<std::string> submitter = query_param(request, "submitter");
    if (submitter && submitter->empty()) {
      return send_json_error(response, 400, "submitter: expected a user name, got an empty value");
    }
    auto exclusions = Exclusions::parse(query_param(request, "exclude").value_or(""));
    if (!exclusions) return send_json_error(response, 400, exclusions.error().message);
    // ?cursor= pages like ?p= but answers {papers, next_cursor}; an empty one starts the list.
    const std::optional<std::string> cursor = query_param(request, "cursor");
    const std::string fingerprint = list_fingerprint(request);
    size_t first = page * limit;
    if (cursor) {
      if (request.has_param("p"))
        return send_json_error(response, 400, "cursor, p: give one of them, not both");
      if (!cursor->empty()) {
        auto offset = read_cursor(*cursor, fingerprint);
        if (!offset) return send_json_error(response, 400, offset.error().message);
        first = *offset;
      } else {
        first = 0;
      }
    }

    auto papers = daily_papers(period, submitter, sort);
    if (!papers) return send_internal_error(request, response, papers.error());
    if (community) community->drop_hidden(*papers);
    exclusions->drop_from(*papers);
    json entries = json::array();
    first = std::min(papers->size(), first);
    const size_t last = std::min(papers->size(), first + limit);
    for (size_t i = first; i < last; ++i) entries.push_back(hf_daily_entry((*papers)[i]));
    const std::optional<std::string> next =
        last < papers->size() ? std::optional(make_cursor(last, fingerprint)) : std::nullopt;
    // The HF-shaped array stays for HF clients; the next cursor rides in headers beside it.
    if (next) response.set_header("X-Next-Cursor", *next);
    if (!cursor) return send_json(response, 200, entries);
    send_json(response, 200,
              json{{"papers", std::move(entries)}, {"next_cursor", next ? json(*next) : json()}});
  }

  void api_paper(const Request& request, Response& response) {
    const std::string id = request.matches[1].str();
    auto found = store.find(id);
    if (!found) return send_internal_error(request, response, found.error());
    if (!found->has_value() || (community && !community->visible(request, **found)))
      return send_json_error(response, 404, "paper '" + id + "' not found");
    send_json(response, 200, hf_paper(**found));
  }

  // The outcome of a search: `status` 200 with the view filled in, else the status to answer
  // (400 bad query, 503 no index, 500 store failure) and why.
  struct SearchRun {
    int status = 200;
    std::string error;
    search::SearchResults results;
  };

  // Runs `params` against the current snapshot and loads the papers found from the store,
  // filling params.view with what the page and the API show.
  SearchRun run_search(SearchParams& params, bool facets) {
    SearchRun run;
    SearchView& view = params.view;
    if (!index) {
      run.status = 503;
      run.error = "search is disabled: this server was started without a search index";
      return run;
    }
    auto snapshot = index->current();
    if (!snapshot) {
      run.status = 503;
      run.error = snapshot.error().message;
      return run;
    }
    auto query = search::parse_query(full_query_text(view));
    if (!query) {
      run.status = 400;
      run.error = "q: " + query.error().message;
      return run;
    }
    search::SearchOptions search_options;
    search_options.limit = params.limit;
    search_options.offset = params.offset;
    search_options.sort = view.sort;
    search_options.facets = facets;
    auto results = semantic ? semantic->search(**snapshot, full_query_text(view), *query,
                                               search_options, params.mode)
                            : search::search(**snapshot, *query, search_options);
    if (!results) {
      run.status = 400;
      run.error = "q: " + results.error().message;
      return run;
    }
    run.results = std::move(*results);
    view.total = run.results.total;
    view.category_facets = run.results.category_facets;
    view.year_facets = run.results.year_facets;
    view.notes = run.results.notes;
    // The index may briefly know papers the store no longer has (or not yet); those are skipped.
    size_t missing = 0;
    for (const search::Hit& hit : run.results.hits) {
      auto found = store.find(hit.paper_id);
      if (!found) {
        run.status = 500;
        run.error = found.error().message;
        return run;
      }
      if (!found->has_value()) {
        ++missing;
        continue;
      }
      if (community && community->hidden(paper_id(**found))) continue;
      FoundPaper& result = view.results.emplace_back();
      result.paper = std::move(**found);
      result.score = hit.score;
      result.title_html = search::highlight(result.paper.title, *query);
      const std::string& text =
          result.paper.abstract.empty() ? result.paper.ai_summary : result.paper.abstract;
      if (!text.empty()) result.snippet_html = search::snippet(text, *query, kSnippetBytes);
    }
    if (missing > 0) {
      view.notes.push_back(std::to_string(missing) + (missing == 1 ? " match is" : " matches are") +
                           " not in the paper store any more and left out");
    }
    return run;
  }

  // Answers a failed run as JSON (`api`) or as a page; false when the run succeeded.
  bool send_search_failure(const Request& request, Response& response, const SearchRun& run,
                           bool api, const SearchView& view) {
    if (run.status == 200) return false;
    if (run.status == 500) {
      send_internal_error(request, response, Error{run.error});
    } else if (api) {
      send_json_error(response, run.status, run.error);
    } else if (run.status == 503) {
      SearchView unavailable = view;
      unavailable.unavailable = run.error;
      send_page(response, 503, pages.search(unavailable));
    } else {
      send_error_page(response, run.status, run.error);
    }
    return true;
  }

  void search_page(const Request& request, Response& response) {
    auto params = parse_search_params(request, /*paged=*/true);
    if (!params) return send_error_page(response, 400, params.error().message);
    SearchView& view = params->view;
    const bool asked = !view.q.empty() || !view.category.empty() || !view.year.empty();
    if (!asked) {
      if (!index)
        view.unavailable = "Search is disabled: this server was started without an index.";
      return send_page(response, index ? 200 : 503, pages.search(view));
    }
    SearchRun run = run_search(*params, /*facets=*/true);
    if (send_search_failure(request, response, run, /*api=*/false, view)) return;
    if (run.results.jumped && !view.results.empty()) {
      return response.set_redirect(paper_path(view.results.front().paper), 302);
    }
    send_page(response, 200, pages.search(view));
  }

  void api_search(const Request& request, Response& response) {
    auto params = parse_search_params(request, /*paged=*/false);
    if (!params) return send_json_error(response, 400, params.error().message);
    SearchView& view = params->view;
    if (view.q.empty() && view.category.empty() && view.year.empty()) {
      return send_json_error(response, 400, "q: expected a query, such as q=state+space+models");
    }
    SearchRun run = run_search(*params, /*facets=*/true);
    if (send_search_failure(request, response, run, /*api=*/true, view)) return;
    json results = json::array();
    for (const FoundPaper& found : view.results) {
      const Paper& paper = found.paper;
      results.push_back(
          json{{"id", paper_id(paper)},
               {"url", paper_path(paper)},
               {"title", paper.title},
               {"title_html", found.title_html},
               {"snippet_html", found.snippet_html},
               {"authors", paper.authors},
               {"author_count", paper.authors.empty() ? paper.author_count
                                                      : static_cast<int>(paper.authors.size())},
               {"published", paper.published.empty() ? json(nullptr) : json(paper.published)},
               {"feed_day", paper.feed_day.empty() ? json(nullptr) : json(paper.feed_day)},
               {"upvotes", paper.upvotes},
               {"score", found.score},
               {"categories", paper.categories}});
    }
    auto facet_list = [](const std::vector<search::FacetCount>& facets) {
      json list = json::array();
      for (const search::FacetCount& facet : facets)
        list.push_back(json{{"value", facet.value}, {"count", facet.count}});
      return list;
    };
    send_json(response, 200,
              json{{"query", full_query_text(view)},
                   {"q", view.q},
                   {"category", view.category},
                   {"year", view.year},
                   {"sort", search_sort_name(view.sort)},
                   {"limit", params->limit},
                   {"offset", params->offset},
                   {"next_cursor", next_search_cursor(request, *params, run)},
                   {"total", view.total ? json(*view.total) : json(nullptr)},
                   {"jumped", run.results.jumped},
                   {"results", std::move(results)},
                   {"facets", json{{"categories", facet_list(view.category_facets)},
                                   {"years", facet_list(view.year_facets)}}},
                   {"notes", view.notes}});
  }

  // The cursor of the results after these; null at the end (or past what the API pages to).
  static json next_search_cursor(const Request& request, const SearchParams& params,
                                 const SearchRun& run) {
    const size_t next = params.offset + params.limit;
    const bool more =
        run.results.total ? next < *run.results.total : run.results.hits.size() == params.limit;
    if (!more || next > kMaxSearchOffset) return nullptr;
    return make_cursor(next, list_fingerprint(request));
  }

  // Hugging Face's /api/papers/search: daily-paper-shaped entries, best match first.
  void api_hf_search(const Request& request, Response& response) {
    auto params = parse_search_params(request, /*paged=*/false);
    if (!params) return send_json_error(response, 400, params.error().message);
    if (params->view.q.empty() && params->view.category.empty() && params->view.year.empty()) {
      return send_json_error(response, 400, "q: expected a query, such as q=state+space+models");
    }
    SearchRun run = run_search(*params, /*facets=*/false);
    if (send_search_failure(request, response, run, /*api=*/true, params->view)) return;
    json entries = json::array();
    for (const FoundPaper& found : params->view.results)
      entries.push_back(hf_daily_entry(found.paper));
    send_json(response, 200, entries);
  }

  // The OpenSearch description, so browsers can add paperboy as a search engine. Its URLs
  // must be absolute: they use the Host the browser asked for, when it looks like one.
  void opensearch(const Request& request, Response& response) {
    std::string host = request.get_header_value("Host");
    const bool plausible =
        !host.empty() && host.size() < 256 && std::all_of(host.begin(), host.end(), [](char c) {
          return std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '-' || c == ':' ||
                 c == '[' || c == ']';
        });
    if (!plausible) host = options.host + ":" + std::to_string(port);
    const std::string base = markup_escaped("http://" + host);
    response.set_header("Cache-Control", "public, max-age=3600");
    response.set_content(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
        "<OpenSearchDescription xmlns=\"http://a9.com/-/spec/opensearch/1.1/\">\n"
        "  <ShortName>paperboy</ShortName>\n"
        "  <Description>Search research papers on paperboy</Description>\n"
        "  <InputEncoding>UTF-8</InputEncoding>\n"
        "  <Image width=\"16\" height=\"16\" type=\"image/svg+xml\">" +
            base +
            "/static/favicon.svg</Image>\n"
            "  <Url type=\"text/html\" method=\"get\" template=\"" +
            base +
            "/search?q={searchTerms}\"/>\n"
            "  <Url type=\"application/json\" method=\"get\" template=\"" +
            base +
            "/api/search?q={searchTerms}\"/>\n"
            "</OpenSearchDescription>\n",
        "application/opensearchdescription+xml; charset=utf-8");
  }

  // Prometheus scrapes this: the request metrics, what the server can see of its indexes and
  // mail queue, and whatever the process added through options.metrics_sources.
  void metrics(const Request& request, Response& response) {
    using Kind = MetricsText::Kind;
    MetricsText out;
    request_metrics.write(out);
    out.single("paperboy_process_resident_memory_bytes", Kind::gauge,
               "Resident memory of the server process.",
               static_cast<double>(resident_memory_bytes()));
    out.single("paperboy_uptime_seconds", Kind::gauge, "Seconds since the server started.",
               std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count());
    if (auto change = store.last_change()) {
      out.single("paperboy_store_last_change", Kind::counter,
                 "The store's highest committed change number.", static_cast<double>(*change));
    }
    if (index) {
      if (auto snapshot = index->current()) {
        out.single("paperboy_index_documents", Kind::gauge, "Papers the keyword index can return.",
                   static_cast<double>((*snapshot)->live_count()));
        out.single("paperboy_index_segments", Kind::gauge, "Segments in the keyword index.",
                   static_cast<double>((*snapshot)->segments().size()));
      }
      out.single("paperboy_index_bytes", Kind::gauge, "Size of the keyword index on disk.",
                 static_cast<double>(directory_bytes(index->directory().string())));
    }
    if (!options.vectors_dir.empty()) {
      out.single("paperboy_vectors_bytes", Kind::gauge, "Size of the vector index on disk.",
                 static_cast<double>(directory_bytes(options.vectors_dir.string())));
    }
    if (options.subscriptions) {
      if (auto counts = options.subscriptions->outbox_counts()) {
        out.help("paperboy_digest_outbox_messages", Kind::gauge,
                 "Messages in the digest outbox, by state.");
        out.sample("paperboy_digest_outbox_messages", static_cast<double>(counts->pending),
                   {{"state", "pending"}});
        out.sample("paperboy_digest_outbox_messages", static_cast<double>(counts->sent),
                   {{"state", "sent"}});
        out.sample("paperboy_digest_outbox_messages", static_cast<double>(counts->failed),
                   {{"state", "failed"}});
      } else {
        spdlog::error("web: {} {}: {}", request.method, request.path, counts.error().message);
      }
    }
    for (const MetricsSource& source : options.metrics_sources) source(out);
    response.set_header("Cache-Control", "no-store");
    response.set_content(std::move(out.text()), "text/plain; version=0.0.4; charset=utf-8");
  }

  // The store's statistics, counted again only when its last change moved (or when the store
  // does not number its changes). The change query also shows the store still answers.
  Result<store::StoreStats> current_stats() {
    auto change = store.last_change();
    if (change) {
      std::lock_guard lock(health_mutex);
      if (health_stats && health_stats->first == *change) return health_stats->second;
    }
    auto stats = store.stats();
    if (stats && change) {
      std::lock_guard lock(health_mutex);
      health_stats.emplace(*change, *stats);
    }
    return stats;
  }

  void health(const Request& request, Response& response) {
    auto stats = current_stats();
    if (!stats) {
      spdlog::error("web: {} {}: {}", request.method, request.path, stats.error().message);
      return send_json(response, 500, json{{"status", "error"}, {"error", "store unavailable"}});
    }
    send_json(response, 200,
              json{{"status", "ok"},
                   {"papers", stats->papers},
                   {"papers_in_feed", stats->papers_in_feed},
                   {"feed_days", stats->feed_days},
                   {"last_feed_day",
                    stats->last_feed_day.empty() ? json(nullptr) : json(stats->last_feed_day)}});
  }

  void embedded_static(const Request& request, Response& response) {
    const std::string name = "static/" + request.matches[1].str();
    auto contents = find_embedded_file(name);
    if (!contents) return send_error_page(response, 404, {});
    response.set_header("Cache-Control", "public, max-age=3600");
    response.set_content(std::string(*contents), content_type_for(name));
  }

  // The render cache's key of a request: its path and its parameters in a fixed order.
  static std::string render_key(const Request& request) {
    std::string key = request.path;
    char separator = '?';
    for (const auto& [name, value] : request.params) {
      key += separator;
      key += url_encode(name);
      key += '=';
      key += url_encode(value);
      separator = '&';
    }
    return key;
  }

  // `handler`, answering anonymous visitors from the render cache when it can (render_cache.h),
  // and rendering through the render gate (render_gate.h). The visitor's part of a page
  // (account links, CSRF) is still added per request afterwards.
  httplib::Server::Handler shared_when_anonymous(httplib::Server::Handler handler) {
    return [this, handler = std::move(handler)](const Request& request, Response& response) {
      if (!render_cache.enabled() || (community && community->signed_in(request))) {
        const RenderGate::Pass pass = render_gate.enter();
        return handler(request, response);
      }
      auto claimed = render_cache.claim(render_key(request));
      if (auto* answer = std::get_if<std::shared_ptr<const CachedAnswer>>(&claimed)) {
        response.status = (*answer)->status;
        response.headers = httplib::Headers((*answer)->headers.begin(), (*answer)->headers.end());
        response.body = (*answer)->body;
        return;
      }
      auto& render = std::get<RenderCache::Render>(claimed);
      {
        const RenderGate::Pass pass = render_gate.enter();
        handler(request, response);
      }
      // Failures are not shared, nor anything that set a cookie for this visitor.
      if (response.status >= 500 || response.has_header("Set-Cookie"))
        return render.finish(nullptr);
      auto answer = std::make_shared<CachedAnswer>();
      answer->status = response.status;
      answer->headers.assign(response.headers.begin(), response.headers.end());
      answer->body = response.body;
      render.finish(std::move(answer));
    };
  }

  // After the routes: error bodies for statuses that no handler filled in (404 for unknown
  // paths, 413 from the body limit, ...), as JSON under /api and as a page elsewhere.
  httplib::Server::HandlerResponse fill_error(const Request& request, Response& response) {
    if (!response.body.empty()) return httplib::Server::HandlerResponse::Unhandled;
    std::string detail;
    if (response.status == 413) {
      detail =
          "Request bodies are limited to " + std::to_string(options.max_body_bytes) + " bytes.";
    } else if (response.status == 404) {
      detail = "Nothing lives at " + request.path + ".";
    }
    if (is_api_path(request.path)) {
      std::string message = reason_heading(response.status);
      std::transform(message.begin(), message.end(), message.begin(),
                     [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
      if (!detail.empty()) message += ": " + detail;
      send_json_error(response, response.status, message);
    } else {
      send_error_page(response, response.status, detail);
      if (community) community->personalise(request, response);
    }
    return httplib::Server::HandlerResponse::Handled;
  }

  void install_routes() {
    // First, so that GET /api/papers/(.+) below does not take /api/papers/<id>/comments.
    if (community) {
      community->install(http);
      http.finish = [this](const Request& q, Response& r) { community->personalise(q, r); };
    }
    if (semantic) semantic->install(http);  // before GET /api/papers/(.+) takes .../related
    if (recommend) recommend->install(http);
    PageRoutes page_routes(http, http.finish);
    if (digest) digest->install(page_routes);
    feeds->install(page_routes);  // before GET /papers/(.+) takes /papers/<id>.bib
    // The pages and read API answers most visitors ask for are shared between anonymous ones.
    auto shared = [this](void (State::*route)(const Request&, Response&)) {
      return shared_when_anonymous(
          [this, route](const Request& q, Response& r) { (this->*route)(q, r); });
    };
    auto shared_period = [this](feed::Period period) {
      return shared_when_anonymous(
          [this, period](const Request& q, Response& r) { period_page(q, r, period); });
    };
    http.Get("/", shared(&State::home));
    http.Get(R"(/date/([^/]+))", shared_period(feed::Period::day));
    http.Get(R"(/week/([^/]+))", shared_period(feed::Period::week));
    http.Get(R"(/month/([^/]+))", shared_period(feed::Period::month));
    http.Get("/papers", [this](const Request& q, Response& r) { papers_query(q, r); });
    http.Get(R"(/papers/(.+))", shared(&State::paper_page));
    http.Get("/trending", shared(&State::trending_page));
    http.Get("/api/daily_papers", shared(&State::api_daily_papers));
    http.Get("/search", shared(&State::search_page));
    http.Get("/opensearch.xml", [this](const Request& q, Response& r) { opensearch(q, r); });
    http.Get("/api/search", shared(&State::api_search));
    // Before /api/papers/{id}, which would take "search" for an id.
    http.Get("/api/papers/search", shared(&State::api_hf_search));
    http.Get(R"(/api/papers/(.+))", shared(&State::api_paper));
    http.Get("/healthz", [this](const Request& q, Response& r) { health(q, r); });
    http.Get("/metrics", [this](const Request& q, Response& r) { metrics(q, r); });
    http.Get(R"(/static/([A-Za-z0-9_-]+\.(?:css|js|svg)))",
             [this](const Request& q, Response& r) { embedded_static(q, r); });

    // Read-only service: other methods get 405, after httplib has applied the body limit.
    auto not_allowed = [](const Request&, Response& response) {
      response.status = 405;
      response.set_header("Allow", "GET, HEAD");
    };
    http.Post(".*", not_allowed);
    http.Put(".*", not_allowed);
    http.Patch(".*", not_allowed);
    http.Delete(".*", not_allowed);

    // httplib reads no body on GET, so a GET that announces a large one is refused here.
    http.set_pre_routing_handler([this](const Request& request, Response& response) {
      request_started = std::chrono::steady_clock::now();
      const auto length = request.get_header_value<uint64_t>("Content-Length");
      if (length <= options.max_body_bytes) return httplib::Server::HandlerResponse::Unhandled;
      response.status = 413;
      response.set_header("Connection", "close");
      return httplib::Server::HandlerResponse::Handled;
    });
    // Before the answer goes out: a write through this server shows on the next anonymous view.
    http.set_post_routing_handler([this](const Request& request, const Response& response) {
      const bool reads =
          request.method == "GET" || request.method == "HEAD" || request.method == "OPTIONS";
      if (!reads && response.status < 400) render_cache.invalidate();
    });
    http.set_error_handler(httplib::Server::HandlerWithResponse(
        [this](const Request& q, Response& r) { return fill_error(q, r); }));
    http.set_exception_handler(
        [this](const Request& request, Response& response, std::exception_ptr exception) {
          std::string what = "unknown exception";
          try {
            std::rethrow_exception(exception);
          } catch (const std::exception& caught) {
            what = caught.what();
          } catch (...) {
          }
          send_internal_error(request, response, Error{"exception: " + what});
        });
    // httplib runs routing, the handler and the logger of one request on one thread.
    http.set_logger([this](const Request& request, const Response& response) {
      const auto elapsed = std::chrono::steady_clock::now() - request_started;
      request_metrics.record(request.path, response.status, elapsed);
      if (!options.access_log) return;
      // A JSON object, so that JSON logging (cli/logging.h) turns its fields into the line's.
      spdlog::info("{}", json{{"method", request.method},
                              {"path", request.path},
                              {"status", response.status},
                              {"bytes", response.body.size()},
                              {"ms", std::chrono::duration<double, std::milli>(elapsed).count()},
                              {"remote", request.remote_addr}}
                             .dump(-1, ' ', false, json::error_handler_t::replace));
    });
  }
};

Server::Server(std::unique_ptr<State> state) : state_(std::move(state)) {}

Server::~Server() { stop(); }

Result<std::unique_ptr<Server>> Server::create(store::Store& store, ServerOptions options) {
  if (options.threads < 1) return fail("web: threads must be at least 1");
  if (options.katex_dir.empty()) options.katex_dir = PAPERBOY_DEFAULT_KATEX_DIR;
  std::error_code error;
  if (!std::filesystem::is_regular_file(options.katex_dir / "katex.min.js", error)) {
    return fail("web: no KaTeX in " + options.katex_dir.string() +
                " (katex.min.js missing): run scripts/setup.sh, or name the KaTeX dist folder");
  }
  auto pages = Pages::load();
  if (!pages) return fail(pages.error().message);

  auto state = std::make_unique<State>(store, std::move(options), std::move(*pages));
  State& s = *state;
  if (!s.options.index_dir.empty()) s.index = std::make_unique<LiveIndex>(s.options.index_dir);
  if (!s.options.vectors_dir.empty())
    s.semantic = std::make_unique<SemanticRoutes>(s.store, s.options.vectors_dir);
  if (s.options.community) {
    auto routes = CommunityRoutes::create(s.store, *s.options.community, s.pages);
    if (!routes) return fail(routes.error().message);
    s.community = std::move(*routes);
  }
  if (s.community) {
    s.recommend = std::make_unique<RecommendRoutes>(
        s.store, *s.options.community, *s.community, s.pages,
        [&s]() -> std::shared_ptr<const hybrid::SemanticIndex> {
          return s.semantic ? s.semantic->current() : nullptr;
        },
        [&s]() -> std::shared_ptr<const index::Snapshot> {
          if (!s.index) return nullptr;
          auto snapshot = s.index->current();
          return snapshot ? *snapshot : nullptr;
        },
        s.options.subscriptions, s.options.mail);
  }
  if (s.options.subscriptions) {
    s.digest = std::make_unique<DigestRoutes>(*s.options.subscriptions, s.options.mail, s.pages);
  }
  s.feeds = std::make_unique<FeedRoutes>(s.store, s.index.get(), s.community.get(), s.pages);
  const int threads = s.options.threads;
  s.http.new_task_queue = [threads] {
    return new httplib::ThreadPool(static_cast<size_t>(threads));
  };
  s.http.set_read_timeout(5, 0);
  s.http.set_write_timeout(5, 0);
  s.http.set_keep_alive_timeout(5);
  // A keep-alive connection serves many requests before it is closed, so clients rarely
  // reconnect (httplib's default closes it after 5).
  s.http.set_keep_alive_max_count(10000);
  s.http.set_payload_max_length(s.options.max_body_bytes);
  s.http.set_default_headers({
      {"Content-Security-Policy", kContentSecurityPolicy},
      {"X-Content-Type-Options", "nosniff"},
      {"X-Frame-Options", "DENY"},
      {"Referrer-Policy", "strict-origin-when-cross-origin"},
  });
  // httplib's default also sets SO_REUSEPORT, which would let a second server share a taken
  // port silently; SO_REUSEADDR alone still allows a quick restart. TCP_NODELAY (inherited by
  // accepted connections): httplib writes a response's headers and body separately, and with
  // Nagle's algorithm the body then waits for the client's delayed ACK, 40 ms on Linux, which
  // capped a keep-alive connection at about 23 requests a second.
  s.http.set_socket_options([&s](socket_t socket) {
    s.listening_socket = socket;
    const int yes = 1;
    setsockopt(socket, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof yes);
    setsockopt(socket, IPPROTO_TCP, TCP_NODELAY, &yes, sizeof yes);
  });
  s.http.set_file_extension_and_mimetype_mapping("woff2", "font/woff2");
  s.http.set_file_extension_and_mimetype_mapping("woff", "font/woff");
  s.http.set_file_extension_and_mimetype_mapping("ttf", "font/ttf");
  if (!s.http.set_mount_point("/static/katex", s.options.katex_dir.string(),
                              {{"Cache-Control", "public, max-age=604800"}})) {
    return fail("web: cannot serve KaTeX from " + s.options.katex_dir.string());
  }
  s.install_routes();

  errno = 0;
  if (s.options.port == 0) {
    s.port = s.http.bind_to_any_port(s.options.host);
  } else {
    s.port = s.http.bind_to_port(s.options.host, s.options.port) ? s.options.port : -1;
  }
  if (s.port < 0) {
    const std::string reason =
        errno != 0 ? std::strerror(errno) : "the address is in use or invalid";
    return fail("web: cannot listen on " + s.options.host + ":" + std::to_string(s.options.port) +
                ": " + reason);
  }
  // httplib listens with a backlog of 5 (built into Debian's library), so a burst of new
  // connections (a browser opens six, a load test 64) overflowed the accept queue: the kernel
  // dropped the handshakes and clients retried after 1 s, 3 s, 7 s. Listening again on the
  // bound socket raises the backlog (capped by net.core.somaxconn).
  if (::listen(s.listening_socket, SOMAXCONN) != 0) {
    return fail("web: cannot raise the listen backlog on " + s.options.host + ":" +
                std::to_string(s.port) + ": " + std::strerror(errno));
  }
  return std::unique_ptr<Server>(new Server(std::move(state)));
}

Result<void> Server::run() {
  State& s = *state_;
  s.running = true;
  if (s.stop_requested) {
    s.running = false;
    return {};
  }
  const bool listened = s.http.listen_after_bind();
  s.running = false;
  if (!listened && !s.stop_requested) {
    return fail("web: the server on " + s.options.host + ":" + std::to_string(s.port) +
                " stopped accepting");
  }
  return {};
}

void Server::stop() {
  State& s = *state_;
  s.stop_requested = true;
  // run() may be between its stop check and httplib marking itself running; httplib's stop()
  // does nothing before that, so wait for either run() to leave or httplib to be running.
  while (s.running && !s.http.is_running()) std::this_thread::yield();
  if (s.http.is_running()) s.http.stop();
}

int Server::port() const { return state_->port; }

}  // namespace paperboy::web
