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
  std::vector<double> ndcg_per_query;  // nDCG@10 of each judged query, in the order run
};

// The rankings of every query in `query_indices` (top 100 of each side), then each method's
// averages: keyword (BM25F), semantic, and one hybrid per entry of `fusions`, in that order.
std::vector<MethodScores> evaluate_methods(const index::Snapshot& keyword,
                                           const SemanticIndex& semantic,
                                           const search::BeirBenchmark& benchmark,
                                           std::span<const size_t> query_indices,
                                           std::span<const FusionParams> fusions);

// A fusion chosen by k-fold cross-validation, so that the choice of the weight is itself
// measured on queries it was not made on: for each family (kind, feedback, scored candidates;
// its members differ in weight) and each fold, the weight best on the other folds is scored on
// that fold. The family whose out-of-fold mean is best wins; its weight is then the one best on
// all the queries.
struct FusionChoice {
  size_t chosen = 0;  // index into the hybrids given
  std::string family;
  double out_of_fold_ndcg = 0;
};

struct FamilyScore {
  std::string family;
  double out_of_fold_ndcg = 0;
  size_t best = 0;  // index of the member best on all the queries
};

// The family of a fusion's name: describe() without the weight.
std::string fusion_family(std::string_view method);

// Every family's out-of-fold nDCG@10 (best first) over `hybrids`, the per-query scores of one
// set of queries (query j is in fold j % folds).
std::vector<FamilyScore> cross_validate_families(std::span<const MethodScores> hybrids,
                                                 size_t folds);
FusionChoice choose_fusion(std::span<const MethodScores> hybrids, size_t folds);

// The mean per-query difference a - b of nDCG@10 over the same queries, and the half width of
// its 95% confidence interval (normal approximation of the paired t-test): a difference
// smaller than that half width is noise.
struct PairedDifference {
  double mean = 0;
  double half_width_95 = 0;
  size_t queries = 0;
};
PairedDifference paired_difference(const MethodScores& a, const MethodScores& b);

// The candidates and features of every judged query in `query_indices` (in the order
// evaluate_methods scores them), with the feedback settings of `feedback`, for fitting a
// learned fusion.
std::vector<TrainingQuery> training_queries(const index::Snapshot& keyword,
                                            const SemanticIndex& semantic,
                                            const search::BeirBenchmark& benchmark,
                                            std::span<const size_t> query_indices,
                                            const FusionParams& feedback);

// A learned fusion's variant (which features it may weigh) fit on the tuning queries and
// judged by the same k-fold cross-validation as the blends, then scored on the held-out ones.
struct LearnedFusionScore {
  std::string variant;          // "learned: scores, matched all"
  double out_of_fold_ndcg = 0;  // on the tuning queries
  FusionWeights weights{};      // fit on all the tuning queries
  MethodScores held_out;        // with those weights
};
std::vector<LearnedFusionScore> evaluate_learned_fusions(std::span<const TrainingQuery> tuning,
                                                         std::span<const TrainingQuery> held_out,
                                                         size_t folds);
std::string describe(const FusionWeights& weights);  // "0.55 keyword score + 0.30 ..."

// The fusions `paperboy eval` compares: RRF, and the min-max and z-score blends at weights
// 0.1 to 0.7, each without and with pseudo-relevance feedback from the top 3 or 10 keyword hits,
// with and without semantic scores for every keyword candidate.
std::vector<FusionParams> fusion_grid();

}  // namespace paperboy::hybrid
