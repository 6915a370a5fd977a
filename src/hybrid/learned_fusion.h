// A learned fusion: each candidate of either side (keyword top hits, semantic top hits and the
// keyword hits scored by their vectors) gets a few features, every one normalised per query
// so that a model fit on one corpus (SciFact) ranks another (arXiv) sensibly, and the fused
// score is their weighted sum. The weights are fit by coordinate ascent on nDCG@10 (Metzler and
// Croft 2007) over the tuning queries only; `paperboy eval` fits them afresh and compares them
// with the score blends by the same 5-fold cross-validation (docs/search.md).
#pragma once

#include <array>
#include <cstddef>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "search/search.h"
#include "vector/vector_index.h"

namespace paperboy::hybrid {

enum FusionFeature : size_t {
  kKeywordScore,   // BM25F, min-max over the keyword candidates; 0 when keyword missed it
  kSemanticScore,  // cosine to the feedback-steered query, min-max over the semantic candidates
  kKeywordRank,    // 1 / log2(rank + 2) in the keyword ranking; 0 when missed
  kSemanticRank,   // the same in the semantic ranking
  kMatchedAll,     // 1 when the paper holds every word of the query
  kWordCosine,     // the plain query's cosine on the word-vector part, min-max over candidates
  kLsiCosine,      // the same on the LSI part (constant, so inert, for other embedders)
  kFusionFeatureCount
};
using FusionWeights = std::array<double, kFusionFeatureCount>;

std::string_view feature_name(size_t feature);

// "v1": fit by `paperboy eval /work/shared/data/scifact` on the tuning queries (2 of every 3)
// with the default embedder and feedback 3 x 0.5; see docs/search.md for that run.
inline constexpr std::string_view kLearnedFusionVersion = "v1";
extern const FusionWeights kLearnedFusionWeights;

struct FusionCandidate {
  std::string paper_id;
  std::array<double, kFusionFeatureCount> features{};
  const search::Hit* keyword = nullptr;  // into the keyword hits given
  std::optional<double> semantic_similarity;
};

// The candidates of both sides with their features. `semantic` is the semantic ranking (best
// first, the keyword hits already scored by their vectors when wanted); `plain_query` is the
// query vector before feedback, whose cosine with each candidate's stored vector is split at
// `word_dimension` into the word and LSI parts.
std::vector<FusionCandidate> fusion_candidates(const std::vector<search::Hit>& keyword,
                                               const std::vector<vector::Neighbor>& semantic,
                                               const vector::VectorIndex& vectors,
                                               std::span<const float> plain_query,
                                               size_t word_dimension);

double fused_score(const std::array<double, kFusionFeatureCount>& features,
                   const FusionWeights& weights);

// One judged query's candidates for fitting: features, and the gain (2^grade - 1) of each.
struct TrainingQuery {
  std::vector<std::array<double, kFusionFeatureCount>> features;
  std::vector<double> gains;
  double ideal_dcg = 0;  // over all the query's judged papers, found or not
  size_t relevant = 0;   // judged relevant papers
};

// nDCG@10 and recall@100 of the candidates ranked by `weights` (ties: the earlier candidate).
double ranked_ndcg_at_10(const TrainingQuery& query, const FusionWeights& weights);
double ranked_recall_at_100(const TrainingQuery& query, const FusionWeights& weights);
double mean_ndcg_at_10(std::span<const TrainingQuery> queries, const FusionWeights& weights);

struct FitOptions {
  FusionWeights start{};                        // e.g. the score blend the fit improves on
  std::array<bool, kFusionFeatureCount> use{};  // features the fit may weigh (others stay 0)
  size_t rounds = 4;
  // A step is taken only when it raises mean nDCG@10 by more than this: the regulariser that
  // keeps the few tuning queries' noise out of the weights.
  double min_gain = 2e-4;
};

// Coordinate ascent: feature by feature, the step (from a fixed ladder) that raises mean
// nDCG@10 most; weights are kept with absolute values summing to 1. Deterministic.
FusionWeights fit_fusion_weights(std::span<const TrainingQuery> queries, const FitOptions& options);

// Mean out-of-fold nDCG@10 of fitting with `options`: query j is in fold j % folds, and each
// fold is ranked by the weights fit on the others.
double cross_validate_fit(std::span<const TrainingQuery> queries, const FitOptions& options,
                          size_t folds);

}  // namespace paperboy::hybrid
