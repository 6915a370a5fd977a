// Relevance of keyword, semantic and hybrid rankings side by side on a BEIR benchmark, with the
// same judgements and metrics as search/eval.h.
#pragma once

#include <span>
#include <string>
#include <vector>

#include "hybrid/hybrid.h"
#include "search/eval.h"

namespace paperboy::hybrid {

struct MethodScores {
  std::string method;  // "keyword", "semantic", or describe(fusion) for a hybrid
  search::EvalScores scores;
};

// The rankings of every query in `query_indices` (top 100 of each side), then each method's
// averages: keyword (BM25F), semantic, and one hybrid per entry of `fusions`, in that order.
std::vector<MethodScores> evaluate_methods(const index::Snapshot& keyword,
                                           const SemanticIndex& semantic,
                                           const search::BeirBenchmark& benchmark,
                                           std::span<const size_t> query_indices,
                                           std::span<const FusionParams> fusions);

// The fusions `paperboy eval` compares: RRF, and the min-max and z-score blends at weights
// 0.1 to 0.7, each without and with pseudo-relevance feedback from the top keyword hits.
std::vector<FusionParams> fusion_grid();

}  // namespace paperboy::hybrid
