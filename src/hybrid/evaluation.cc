#include "hybrid/evaluation.h"

#include <cstdio>

#include "search/query.h"

namespace paperboy::hybrid {

namespace {

constexpr size_t kDepth = 100;

std::vector<std::string> ids_of(const std::vector<HybridHit>& hits) {
  std::vector<std::string> ids;
  for (size_t i = 0; i < hits.size() && i < kDepth; ++i) ids.push_back(hits[i].paper_id);
  return ids;
}

}  // namespace

std::vector<MethodScores> evaluate_methods(const index::Snapshot& keyword,
                                           const SemanticIndex& semantic,
                                           const search::BeirBenchmark& benchmark,
                                           std::span<const size_t> query_indices,
                                           const FusionParams& params,
                                           std::span<const double> blend_weights) {
  std::vector<MethodScores> methods;
  methods.push_back({"keyword", {}});
  methods.push_back({"semantic", {}});
  char name[64];
  std::snprintf(name, sizeof name, "hybrid rrf k=%g", params.rrf_k);
  methods.push_back({name, {}});
  for (double weight : blend_weights) {
    std::snprintf(name, sizeof name, "hybrid blend w=%.2f", weight);
    methods.push_back({name, {}});
  }
  search::SearchOptions options;
  options.limit = kDepth;
  size_t counted = 0;
  for (size_t index : query_indices) {
    const search::BeirQuery& query = benchmark.queries[index];
    auto relevant = benchmark.qrels.find(query.id);
    if (relevant == benchmark.qrels.end()) continue;
    auto keyword_results = search::search(keyword, search::plain_query(query.text), options);
    std::vector<search::Hit> keyword_hits;
    if (keyword_results) keyword_hits = std::move(keyword_results->hits);
    const auto semantic_hits =
        semantic.vectors->search(semantic.embedder->embed(query.text), kDepth);

    std::vector<std::vector<std::string>> rankings;
    std::vector<std::string> keyword_ids, semantic_ids;
    for (const search::Hit& hit : keyword_hits) keyword_ids.push_back(hit.paper_id);
    for (const vector::Neighbor& hit : semantic_hits) semantic_ids.push_back(hit.paper_id);
    rankings.push_back(std::move(keyword_ids));
    rankings.push_back(std::move(semantic_ids));
    FusionParams rrf = params;
    rrf.fusion = Fusion::kReciprocalRank;
    rankings.push_back(ids_of(fuse(keyword_hits, semantic_hits, rrf)));
    for (double weight : blend_weights) {
      FusionParams blend = params;
      blend.fusion = Fusion::kScoreBlend;
      blend.semantic_weight = weight;
      rankings.push_back(ids_of(fuse(keyword_hits, semantic_hits, blend)));
    }
    for (size_t m = 0; m < methods.size(); ++m) {
      methods[m].scores.ndcg_at_10 += search::ndcg_at_10(rankings[m], relevant->second);
      methods[m].scores.recall_at_100 += search::recall_at(kDepth, rankings[m], relevant->second);
    }
    ++counted;
  }
  for (MethodScores& method : methods) {
    method.scores.queries = counted;
    if (counted == 0) continue;
    method.scores.ndcg_at_10 /= static_cast<double>(counted);
    method.scores.recall_at_100 /= static_cast<double>(counted);
  }
  return methods;
}

}  // namespace paperboy::hybrid
