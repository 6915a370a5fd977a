#include "web/semantic_routes.h"

#include <httplib.h>

#include <algorithm>
#include <nlohmann/json.hpp>

#include "core/escape.h"
#include "web/pages.h"

namespace paperboy::web {

namespace {

using json = nlohmann::json;

constexpr size_t kRelatedOnPage = 8;
constexpr size_t kDefaultLimit = 10;
constexpr size_t kMaxLimit = 100;
constexpr const char* kJson = "application/json; charset=utf-8";

void send(httplib::Response& response, int status, const json& body) {
  response.status = status;
  response.set_content(body.dump(), kJson);
}

Result<size_t> limit_of(const httplib::Request& request) {
  if (!request.has_param("limit")) return kDefaultLimit;
  const std::string text = request.get_param_value("limit");
  size_t limit = 0;
  for (char c : text) {
    if (c < '0' || c > '9' || limit > kMaxLimit) return fail("limit: expected 1 to 100");
    limit = limit * 10 + static_cast<size_t>(c - '0');
  }
  if (limit < 1 || limit > kMaxLimit) return fail("limit: expected 1 to 100, got '" + text + "'");
  return limit;
}

}  // namespace

SemanticRoutes::SemanticRoutes(store::Store& store, std::filesystem::path vectors_dir)
    : store_(store), live_(std::move(vectors_dir)) {}

void SemanticRoutes::install(httplib::Server& http) {
  // The papers nearest to a paper, with enough of each to list them.
  auto listing = [this](const std::vector<vector::Neighbor>& neighbors) -> Result<json> {
    json results = json::array();
    for (const vector::Neighbor& neighbor : neighbors) {
      auto paper = store_.find(neighbor.paper_id);
      if (!paper) return std::unexpected(paper.error());
      if (!*paper) continue;
      const Paper& found = **paper;
      results.push_back(
          json{{"id", neighbor.paper_id},
               {"url", paper_path(found)},
               {"title", found.title},
               {"authors", found.authors},
               {"published", found.published.empty() ? json(nullptr) : json(found.published)},
               {"upvotes", found.upvotes},
               {"categories", found.categories},
               {"similarity", neighbor.similarity}});
    }
    return results;
  };

  http.Get(R"(/api/papers/(.+)/related)", [this, listing](const httplib::Request& request,
                                                          httplib::Response& response) {
    auto limit = limit_of(request);
    if (!limit) return send(response, 400, json{{"error", limit.error().message}});
    auto paper = store_.find(request.matches[1].str());
    if (!paper)
      return send(response, 500,
                  json{{"error", "internal error: the paper store could not answer"}});
    if (!*paper)
      return send(response, 404,
                  json{{"error", "no paper with the id '" + request.matches[1].str() + "'"}});
    auto semantic = live_.current();
    if (!semantic)
      return send(response, 503,
                  json{{"error", "related papers need vectors: run `paperboy embed train`"}});
    const std::string id = paper_id(**paper);
    auto neighbors = hybrid::related(*semantic, id, *limit);
    if (!neighbors) return send(response, 404, json{{"error", neighbors.error().message}});
    auto results = listing(*neighbors);
    if (!results)
      return send(response, 500,
                  json{{"error", "internal error: the paper store could not answer"}});
    send(response, 200, json{{"id", id}, {"results", std::move(*results)}});
  });

  http.Post("/api/papers/like", [this, listing](const httplib::Request& request,
                                                httplib::Response& response) {
    auto limit = limit_of(request);
    if (!limit) return send(response, 400, json{{"error", limit.error().message}});
    if (std::all_of(request.body.begin(), request.body.end(),
                    [](char c) { return std::isspace(static_cast<unsigned char>(c)); }))
      return send(response, 400,
                  json{{"error", "body: expected the text to match, such as an abstract"}});
    auto semantic = live_.current();
    if (!semantic)
      return send(
          response, 503,
          json{{"error", "finding similar papers needs vectors: run `paperboy embed train`"}});
    auto neighbors = hybrid::like_text(*semantic, request.body, *limit);
    if (!neighbors) return send(response, 422, json{{"error", neighbors.error().message}});
    auto results = listing(*neighbors);
    if (!results)
      return send(response, 500,
                  json{{"error", "internal error: the paper store could not answer"}});
    send(response, 200, json{{"results", std::move(*results)}});
  });
}

std::string SemanticRoutes::related_section(const Paper& paper) {
  auto semantic = live_.current();
  if (!semantic) return {};
  auto neighbors = hybrid::related(*semantic, paper_id(paper), kRelatedOnPage);
  if (!neighbors || neighbors->empty()) return {};
  std::string html =
      "<section class=\"related\">\n  <h2>Related papers</h2>\n  <ol class=\"related-list\">\n";
  for (const vector::Neighbor& neighbor : *neighbors) {
    auto found = store_.find(neighbor.paper_id);
    if (!found || !*found) continue;
    const Paper& related = **found;
    html += "    <li><a href=\"" + markup_escaped(paper_path(related)) + "\">" +
            markup_escaped(related.title) + "</a>";
    std::string details;
    if (!related.authors.empty())
      details = related.authors.front() + (related.authors.size() > 1 ? " et al." : "");
    const std::string& date = related.feed_day.empty() ? related.published : related.feed_day;
    if (!date.empty()) details += (details.empty() ? "" : " · ") + date;
    if (!details.empty())
      html += " <span class=\"related-meta\">" + markup_escaped(details) + "</span>";
    html += "</li>\n";
  }
  html += "  </ol>\n</section>\n";
  return html;
}

Result<search::SearchResults> SemanticRoutes::search(const index::Snapshot& snapshot,
                                                     std::string_view query_text,
                                                     const search::Query& query,
                                                     const search::SearchOptions& options,
                                                     std::string_view mode_name) {
  std::optional<hybrid::Mode> mode;
  if (!mode_name.empty()) {
    mode = hybrid::parse_mode(mode_name);
    if (!mode)
      return fail("mode: expected keyword, semantic or hybrid, got '" + std::string(mode_name) +
                  "'");
  }
  auto semantic = live_.current();
  if (mode == hybrid::Mode::kKeyword || options.sort != search::Sort::kRelevance ||
      (!mode && !semantic))
    return search::search(snapshot, query, options);

  hybrid::HybridOptions hybrid_options;
  hybrid_options.mode = mode.value_or(hybrid::Mode::kHybrid);
  hybrid_options.limit = options.limit;
  hybrid_options.offset = options.offset;
  auto found = hybrid::search(&snapshot, semantic.get(), query_text, hybrid_options);
  if (!found) return std::unexpected(found.error());
  search::SearchResults results;
  if (options.facets) {
    search::SearchOptions counting = options;
    counting.limit = 0;
    counting.offset = 0;
    auto counted = search::search(snapshot, query, counting);
    if (!counted) return std::unexpected(counted.error());
    results.category_facets = std::move(counted->category_facets);
    results.year_facets = std::move(counted->year_facets);
  }
  for (const hybrid::HybridHit& hit : found->hits) {
    search::Hit& converted = results.hits.emplace_back();
    converted.paper_id = hit.paper_id;
    converted.score = hit.score;
    converted.date = hit.date;
    converted.upvotes = hit.upvotes;
  }
  results.jumped = found->jumped;
  results.notes = std::move(found->notes);
  return results;
}

}  // namespace paperboy::web
