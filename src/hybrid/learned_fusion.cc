#include "hybrid/learned_fusion.h"

#include <algorithm>
#include <cmath>
#include <numeric>
#include <unordered_map>

namespace paperboy::hybrid {

namespace {

// Rescales column `feature` of the candidates that have a value to [0, 1]; the others keep 0.
void min_max_column(std::vector<FusionCandidate>& candidates, size_t feature,
                    const std::vector<bool>& present) {
  double low = 0, high = 0;
  bool any = false;
  for (size_t i = 0; i < candidates.size(); ++i) {
    if (!present[i]) continue;
    const double value = candidates[i].features[feature];
    low = any ? std::min(low, value) : value;
    high = any ? std::max(high, value) : value;
    any = true;
  }
  for (size_t i = 0; i < candidates.size(); ++i) {
    double& value = candidates[i].features[feature];
    if (!present[i])
      value = 0;
    else
      value = high > low ? (value - low) / (high - low) : 1.0;
  }
}

double rank_discount(size_t rank) { return 1.0 / std::log2(static_cast<double>(rank) + 2.0); }

// The order of the candidates by fused score, best first, ties by position.
std::vector<size_t> ranked(const TrainingQuery& query, const FusionWeights& weights, size_t depth) {
  std::vector<double> scores(query.features.size());
  for (size_t i = 0; i < scores.size(); ++i) scores[i] = fused_score(query.features[i], weights);
  std::vector<size_t> order(scores.size());
  std::iota(order.begin(), order.end(), size_t{0});
  depth = std::min(depth, order.size());
  std::partial_sort(
      order.begin(), order.begin() + static_cast<std::ptrdiff_t>(depth), order.end(),
      [&](size_t a, size_t b) { return scores[a] != scores[b] ? scores[a] > scores[b] : a < b; });
  order.resize(depth);
  return order;
}

void normalise_l1(FusionWeights& weights) {
  double sum = 0;
  for (double weight : weights) sum += std::abs(weight);
  if (sum > 0)
    for (double& weight : weights) weight /= sum;
}

}  // namespace

// v1, fit by `paperboy eval /work/shared/data/scifact` on the tuning queries (docs/search.md,
// "Learned fusions"): on keyword and semantic scores the fit keeps the blend at w = 0.4, and no
// variant with more features did better out of fold.
const FusionWeights kLearnedFusionWeights = {0.6, 0.4, 0, 0, 0, 0, 0};

std::string_view feature_name(size_t feature) {
  static constexpr std::array<std::string_view, kFusionFeatureCount> kNames = {
      "keyword score", "semantic score", "keyword rank", "semantic rank",
      "matched all",   "word cosine",    "LSI cosine"};
  return feature < kNames.size() ? kNames[feature] : "?";
}

std::vector<FusionCandidate> fusion_candidates(const std::vector<search::Hit>& keyword,
                                               const std::vector<vector::Neighbor>& semantic,
                                               const vector::VectorIndex& vectors,
                                               std::span<const float> plain_query,
                                               size_t word_dimension) {
  std::vector<FusionCandidate> candidates;
  std::unordered_map<std::string_view, size_t> position;
  auto candidate_for = [&](const std::string& paper_id) -> FusionCandidate& {
    auto [found, added] = position.emplace(paper_id, candidates.size());
    if (added) {
      candidates.emplace_back();
      candidates.back().paper_id = paper_id;
    }
    return candidates[found->second];
  };
  candidates.reserve(keyword.size() + semantic.size());
  for (size_t rank = 0; rank < keyword.size(); ++rank) {
    FusionCandidate& candidate = candidate_for(keyword[rank].paper_id);
    candidate.keyword = &keyword[rank];
    candidate.features[kKeywordScore] = keyword[rank].score;
    candidate.features[kKeywordRank] = rank_discount(rank);
    candidate.features[kMatchedAll] = keyword[rank].matched_all ? 1 : 0;
  }
  for (size_t rank = 0; rank < semantic.size(); ++rank) {
    FusionCandidate& candidate = candidate_for(semantic[rank].paper_id);
    candidate.semantic_similarity = semantic[rank].similarity;
    candidate.features[kSemanticScore] = semantic[rank].similarity;
    candidate.features[kSemanticRank] = rank_discount(rank);
  }
  std::vector<bool> in_keyword(candidates.size()), in_semantic(candidates.size()),
      has_vector(candidates.size());
  for (size_t i = 0; i < candidates.size(); ++i) {
    FusionCandidate& candidate = candidates[i];
    in_keyword[i] = candidate.keyword != nullptr;
    in_semantic[i] = candidate.semantic_similarity.has_value();
    const auto stored = vectors.vector_of(candidate.paper_id);
    if (!stored || stored->size() != plain_query.size()) continue;
    has_vector[i] = true;
    const size_t split = std::min(word_dimension, plain_query.size());
    double word = 0, lsi = 0;
    for (size_t c = 0; c < split; ++c) word += plain_query[c] * (*stored)[c];
    for (size_t c = split; c < plain_query.size(); ++c) lsi += plain_query[c] * (*stored)[c];
    candidate.features[kWordCosine] = word;
    candidate.features[kLsiCosine] = lsi;
  }
  min_max_column(candidates, kKeywordScore, in_keyword);
  min_max_column(candidates, kSemanticScore, in_semantic);
  min_max_column(candidates, kWordCosine, has_vector);
  min_max_column(candidates, kLsiCosine, has_vector);
  return candidates;
}

double fused_score(const std::array<double, kFusionFeatureCount>& features,
                   const FusionWeights& weights) {
  double score = 0;
  for (size_t f = 0; f < kFusionFeatureCount; ++f) score += weights[f] * features[f];
  return score;
}

double ranked_ndcg_at_10(const TrainingQuery& query, const FusionWeights& weights) {
  if (query.ideal_dcg <= 0) return 0;
  const auto order = ranked(query, weights, 10);
  double dcg = 0;
  for (size_t i = 0; i < order.size(); ++i) dcg += query.gains[order[i]] * rank_discount(i);
  return dcg / query.ideal_dcg;
}

double ranked_recall_at_100(const TrainingQuery& query, const FusionWeights& weights) {
  if (query.relevant == 0) return 0;
  size_t found = 0;
  for (size_t i : ranked(query, weights, 100)) found += query.gains[i] > 0;
  return static_cast<double>(found) / static_cast<double>(query.relevant);
}

double mean_ndcg_at_10(std::span<const TrainingQuery> queries, const FusionWeights& weights) {
  if (queries.empty()) return 0;
  double sum = 0;
  for (const TrainingQuery& query : queries) sum += ranked_ndcg_at_10(query, weights);
  return sum / static_cast<double>(queries.size());
}

FusionWeights fit_fusion_weights(std::span<const TrainingQuery> queries,
                                 const FitOptions& options) {
  static constexpr std::array<double, 12> kSteps = {-0.5, -0.2, -0.1, -0.05, -0.02, -0.01,
                                                    0.01, 0.02, 0.05, 0.1,   0.2,   0.5};
  FusionWeights weights = options.start;
  for (size_t f = 0; f < kFusionFeatureCount; ++f)
    if (!options.use[f]) weights[f] = 0;
  normalise_l1(weights);
  double best = mean_ndcg_at_10(queries, weights);
  for (size_t round = 0; round < options.rounds; ++round) {
    bool moved = false;
    for (size_t f = 0; f < kFusionFeatureCount; ++f) {
      if (!options.use[f]) continue;
      FusionWeights best_trial = weights;
      double best_trial_score = best;
      for (double step : kSteps) {
        FusionWeights trial = weights;
        trial[f] += step;
        normalise_l1(trial);
        const double score = mean_ndcg_at_10(queries, trial);
        if (score > best_trial_score) {
          best_trial_score = score;
          best_trial = trial;
        }
      }
      if (best_trial_score > best + options.min_gain) {
        weights = best_trial;
        best = best_trial_score;
        moved = true;
      }
    }
    if (!moved) break;
  }
  return weights;
}

double cross_validate_fit(std::span<const TrainingQuery> queries, const FitOptions& options,
                          size_t folds) {
  if (queries.empty()) return 0;
  folds = std::clamp<size_t>(folds, 2, queries.size());
  double sum = 0;
  for (size_t fold = 0; fold < folds; ++fold) {
    std::vector<TrainingQuery> training;
    for (size_t q = 0; q < queries.size(); ++q)
      if (q % folds != fold) training.push_back(queries[q]);
    const FusionWeights weights = fit_fusion_weights(training, options);
    for (size_t q = fold; q < queries.size(); q += folds)
      sum += ranked_ndcg_at_10(queries[q], weights);
  }
  return sum / static_cast<double>(queries.size());
}

}  // namespace paperboy::hybrid
