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
  std::string method;  // "keyword", "semantic", "hybrid rrf k=60", "hybrid blend w=0.30"
  search::EvalScores scores;
};

// The rankings of every query in `query_indices` (top 100 of each side), then each method's
// averages: keyword (BM25F), semantic, RRF with params.rrf_k, and a score blend for each
// weight in `blend_weights`.
std::vector<MethodScores> evaluate_methods(const index::Snapshot& keyword,
                                           const SemanticIndex& semantic,
                                           const search::BeirBenchmark& benchmark,
                                           std::span<const size_t> query_indices,
                                           const FusionParams& params,
                                           std::span<const double> blend_weights);

}  // namespace paperboy::hybrid
