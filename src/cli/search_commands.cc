// Search commands: `paperboy index rebuild`, `paperboy search`, `paperboy eval`.
#include <fcntl.h>
#include <stdio.h>
#include <unistd.h>

#include <cstdio>
#include <nlohmann/json.hpp>

#include "cli/commands.h"
#include "cli/index_sync.h"
#include "cli/progress.h"
#include "index/index.h"
#include "search/eval.h"
#include "search/highlight.h"
#include "search/search.h"
#include "store/store.h"

namespace paperboy::cli {

namespace {

namespace fs = std::filesystem;

int report(const Error& error, const char* command) {
  std::fprintf(stderr, "paperboy %s: %s\n", command, error.message.c_str());
  return kError;
}

// Highlighted HTML from search::highlight/snippet, for a terminal: marks become bold (or *..*
// when not a terminal) and entities plain characters.
std::string html_to_terminal(std::string_view html, bool interactive) {
  std::string out;
  out.reserve(html.size());
  for (size_t i = 0; i < html.size();) {
    auto starts = [&](std::string_view token) { return html.substr(i).starts_with(token); };
    if (starts("<mark>")) {
      out += interactive ? "\x1b[1m" : "*";
      i += 6;
    } else if (starts("</mark>")) {
      out += interactive ? "\x1b[0m" : "*";
      i += 7;
    } else if (starts("&amp;")) {
      out += '&';
      i += 5;
    } else if (starts("&lt;")) {
      out += '<';
      i += 4;
    } else if (starts("&gt;")) {
      out += '>';
      i += 4;
    } else if (starts("&quot;")) {
      out += '"';
      i += 6;
    } else if (starts("&#39;")) {
      out += '\'';
      i += 5;
    } else {
      out += html[i++];
    }
  }
  return out;
}

std::optional<search::Sort> parse_sort(std::string_view name) {
  if (name == "relevance") return search::Sort::kRelevance;
  if (name == "date") return search::Sort::kDate;
  if (name == "upvotes") return search::Sort::kUpvotes;
  return std::nullopt;
}

}  // namespace

fs::path index_path(const GlobalOptions& global) { return global.data_dir / "index"; }

int run_index_rebuild(const GlobalOptions& global) {
  auto store = open_papers_store(global);
  if (!store) return report(store.error(), "index rebuild");
  auto rebuilt = rebuild_index(**store, index_path(global), global.quiet);
  if (!rebuilt) return report(rebuilt.error(), "index rebuild");
  std::printf("indexed %zu papers into %s\n", *rebuilt, index_path(global).c_str());
  return kSuccess;
}

int run_search(const GlobalOptions& global, const SearchCommandOptions& options) {
  auto sort = parse_sort(options.sort);
  if (!sort) {
    std::fprintf(stderr, "paperboy search: --sort must be relevance, date or upvotes, not '%s'\n",
                 options.sort.c_str());
    return kUsage;
  }
  auto store = open_papers_store(global);
  if (!store) return report(store.error(), "search");
  // Searching sees every committed paper: the index catches up with the store first. If it
  // cannot (another process holds the index's writer lock), the last committed index serves.
  if (auto synced = sync_index(**store, index_path(global), true); !synced)
    std::fprintf(stderr, "note: searching the index as last committed: %s\n",
                 synced.error().message.c_str());
  auto snapshot = index::Snapshot::open(index_path(global));
  if (!snapshot) return report(snapshot.error(), "search");

  search::SearchOptions search_options;
  search_options.limit = options.limit;
  search_options.offset = options.offset;
  search_options.sort = *sort;
  search_options.facets = options.facets;
  auto query = search::parse_query(options.query);
  if (!query) return report(query.error(), "search");
  auto results = search::search(**snapshot, *query, search_options);
  if (!results) return report(results.error(), "search");

  nlohmann::json json_results = nlohmann::json::array();
  const bool interactive = isatty(fileno(stdout)) != 0;
  for (const std::string& note : results->notes) std::fprintf(stderr, "note: %s\n", note.c_str());
  if (!options.json) {
    if (results->total)
      std::printf("%llu papers match\n\n", static_cast<unsigned long long>(*results->total));
  }
  for (const search::Hit& hit : results->hits) {
    auto paper = (*store)->find(hit.paper_id);
    if (!paper) return report(paper.error(), "search");
    if (!*paper) continue;  // removed from the store since the index's last commit
    const Paper& found = **paper;
    if (options.json) {
      json_results.push_back({{"id", hit.paper_id},
                              {"score", hit.score},
                              {"title", found.title},
                              {"authors", found.authors},
                              {"published", found.published},
                              {"upvotes", found.upvotes},
                              {"categories", found.categories},
                              {"snippet_html", search::snippet(found.abstract, *query)}});
      continue;
    }
    std::printf("%s  %s\n", hit.paper_id.c_str(),
                html_to_terminal(search::highlight(found.title, *query), interactive).c_str());
    std::string details;
    if (!found.authors.empty())
      details += found.authors.front() + (found.authors.size() > 1 ? " et al." : "");
    if (!hit.date.empty()) details += (details.empty() ? "" : " · ") + hit.date;
    details += (details.empty() ? "" : " · ") + std::to_string(found.upvotes) + " upvotes";
    std::printf("    %s\n    %s\n\n", details.c_str(),
                html_to_terminal(search::snippet(found.abstract, *query), interactive).c_str());
  }
  if (options.json) {
    nlohmann::json out = {
        {"query", options.query}, {"results", json_results}, {"notes", results->notes}};
    if (results->total) out["total"] = *results->total;
    if (options.facets) {
      auto facets = [](const std::vector<search::FacetCount>& counts) {
        nlohmann::json list = nlohmann::json::array();
        for (const auto& count : counts)
          list.push_back({{"value", count.value}, {"count", count.count}});
        return list;
      };
      out["facets"] = {{"categories", facets(results->category_facets)},
                       {"years", facets(results->year_facets)}};
    }
    std::printf("%s\n", out.dump(2).c_str());
  } else if (options.facets) {
    std::printf("categories:");
    for (const auto& count : results->category_facets)
      std::printf(" %s (%llu)", count.value.c_str(), static_cast<unsigned long long>(count.count));
    std::printf("\nyears:");
    for (const auto& count : results->year_facets)
      std::printf(" %s (%llu)", count.value.c_str(), static_cast<unsigned long long>(count.count));
    std::printf("\n");
  }
  return kSuccess;
}

int run_eval(const EvalCommandOptions& options) {
  const fs::path dir = options.benchmark_dir;
  auto benchmark =
      search::load_beir(dir / "corpus.jsonl", dir / options.queries, dir / options.qrels);
  if (!benchmark) return report(benchmark.error(), "eval");
  char pattern[] = "/tmp/paperboy-eval-XXXXXX";
  if (!mkdtemp(pattern)) return report(Error{"cannot create a temporary folder"}, "eval");
  const fs::path index_dir = fs::path(pattern) / "index";
  auto indexed = search::index_beir(*benchmark, index_dir);
  if (!indexed) {
    fs::remove_all(pattern);
    return report(indexed.error(), "eval");
  }
  auto snapshot = index::Snapshot::open(index_dir);
  if (!snapshot) {
    fs::remove_all(pattern);
    return report(snapshot.error(), "eval");
  }
  std::vector<size_t> all(benchmark->queries.size());
  for (size_t i = 0; i < all.size(); ++i) all[i] = i;
  const search::Bm25fParams ranking;
  const auto tuning = search::tuning_queries(*benchmark);
  const auto held_out = search::held_out_queries(*benchmark);
  std::printf("%zu documents, %zu judged queries (%s)\n\n", benchmark->corpus.size(), all.size(),
              dir.c_str());
  std::printf("| queries | count | nDCG@10 | recall@100 |\n|---|---:|---:|---:|\n");
  for (const auto& [name, indices] :
       {std::pair{"all", std::span<const size_t>(all)},
        std::pair{"tuning (2 of 3)", std::span<const size_t>(tuning)},
        std::pair{"held out (1 of 3)", std::span<const size_t>(held_out)}}) {
    auto scores = search::evaluate(**snapshot, *benchmark, indices, ranking);
    std::printf("| %s | %zu | %.4f | %.4f |\n", name, scores.queries, scores.ndcg_at_10,
                scores.recall_at_100);
  }
  fs::remove_all(pattern);
  return kSuccess;
}

}  // namespace paperboy::cli
