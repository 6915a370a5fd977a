#include "hybrid/evaluation.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <map>
#include <numeric>
#include <tuple>
#include <utility>

#include "search/query.h"

namespace paperboy::hybrid {

namespace {

constexpr size_t kDepth = 100;

std::vector<std::string> ids_of(const std::vector<HybridHit>& hits) {
  std::vector<std::string> ids;
  for (size_t i = 0; i < hits.size() && i < kDepth; ++i) ids.push_back(hits[i].paper_id);
  return ids;
}

// What hybrid search asks of the keyword side for a first page of 10.
search::SearchOptions depth_candidate_options() {
  HybridOptions options;
  options.limit = 10;
  return keyword_candidate_options(options);
}

}  // namespace

std::vector<FusionParams> fusion_grid() {
  std::vector<FusionParams> grid;
  grid.push_back({.fusion = Fusion::kReciprocalRank});
  for (bool complete : {false, true}) {
    for (Fusion fusion : {Fusion::kScoreBlend, Fusion::kZScore}) {
      for (size_t papers : {0, 3, 10}) {
        for (double feedback : {0.3, 0.5, 0.7}) {
          if (papers == 0 && feedback != 0.5) continue;
          for (double weight : {0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7})
            grid.push_back({.fusion = fusion,
                            .semantic_weight = weight,
                            .feedback_papers = papers,
                            .feedback_weight = feedback,
                            .score_keyword_candidates = complete});
        }
      }
    }
  }
  return grid;
}

std::vector<MethodScores> evaluate_methods(const index::Snapshot& keyword,
                                           const SemanticIndex& semantic,
                                           const search::BeirBenchmark& benchmark,
                                           std::span<const size_t> query_indices,
                                           std::span<const FusionParams> fusions) {
  std::vector<MethodScores> methods;
  methods.push_back({"keyword", {}, {}});
  methods.push_back({"semantic", {}, {}});
  for (const FusionParams& fusion : fusions) methods.push_back({describe(fusion), {}, {}});
  search::SearchOptions keyword_mode_options;
  keyword_mode_options.limit = kDepth;
  const search::SearchOptions candidate_options = depth_candidate_options();
  size_t counted = 0;
  for (size_t index : query_indices) {
    const search::BeirQuery& query = benchmark.queries[index];
    auto relevant = benchmark.qrels.find(query.id);
    if (relevant == benchmark.qrels.end()) continue;
    const search::Query parsed = search::plain_query(query.text);
    // Keyword mode's ranking, and the candidates hybrid search fuses (asked for differently).
    auto keyword_results = search::search(keyword, parsed, keyword_mode_options);
    auto candidate_results = search::search(keyword, parsed, candidate_options);
    std::vector<search::Hit> keyword_ranking, keyword_hits;
    if (keyword_results) keyword_ranking = std::move(keyword_results->hits);
    if (candidate_results) keyword_hits = std::move(candidate_results->hits);
    const auto query_vector = semantic.embedder->embed(query.text);
    // The semantic side's hits for each feedback setting, searched once.
    std::map<std::tuple<size_t, double, bool>, std::vector<vector::Neighbor>> semantic_hits;
    auto semantic_for = [&](size_t papers, double weight,
                            bool complete) -> const std::vector<vector::Neighbor>& {
      if (papers == 0) weight = 0;
      auto [found, added] = semantic_hits.try_emplace({papers, weight, complete});
      if (added) {
        const auto steered =
            feedback_query(*semantic.vectors, query_vector, keyword_hits, papers, weight);
        found->second = semantic.vectors->search(steered, kDepth);
        if (complete)
          found->second = with_keyword_candidates(*semantic.vectors, steered,
                                                  std::move(found->second), keyword_hits);
      }
      return found->second;
    };

    std::vector<std::vector<std::string>> rankings;
    std::vector<std::string> keyword_ids, semantic_ids;
    for (const search::Hit& hit : keyword_ranking) keyword_ids.push_back(hit.paper_id);
    for (const vector::Neighbor& hit : semantic_for(0, 0, false))
      semantic_ids.push_back(hit.paper_id);
    rankings.push_back(std::move(keyword_ids));
    rankings.push_back(std::move(semantic_ids));
    for (const FusionParams& fusion : fusions) {
      const auto& semantic_hits = semantic_for(fusion.feedback_papers, fusion.feedback_weight,
                                               fusion.score_keyword_candidates);
      rankings.push_back(ids_of(fusion.fusion == Fusion::kLearned
                                    ? fuse_learned(keyword_hits, semantic_hits, semantic,
                                                   query_vector, fusion.learned_weights)
                                    : fuse(keyword_hits, semantic_hits, fusion)));
    }
    for (size_t m = 0; m < methods.size(); ++m) {
      const double ndcg = search::ndcg_at_10(rankings[m], relevant->second);
      methods[m].ndcg_per_query.push_back(ndcg);
      methods[m].scores.ndcg_at_10 += ndcg;
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

std::vector<TrainingQuery> training_queries(const index::Snapshot& keyword,
                                            const SemanticIndex& semantic,
                                            const search::BeirBenchmark& benchmark,
                                            std::span<const size_t> query_indices,
                                            const FusionParams& feedback) {
  std::vector<TrainingQuery> queries;
  const search::SearchOptions options = depth_candidate_options();
  const size_t word_dimension = word_dimension_of(*semantic.embedder);
  for (size_t index : query_indices) {
    const search::BeirQuery& query = benchmark.queries[index];
    auto relevant = benchmark.qrels.find(query.id);
    if (relevant == benchmark.qrels.end()) continue;
    auto keyword_results = search::search(keyword, search::plain_query(query.text), options);
    std::vector<search::Hit> keyword_hits;
    if (keyword_results) keyword_hits = std::move(keyword_results->hits);
    const auto query_vector = semantic.embedder->embed(query.text);
    const auto steered = feedback_query(*semantic.vectors, query_vector, keyword_hits,
                                        feedback.feedback_papers, feedback.feedback_weight);
    auto semantic_hits = semantic.vectors->search(steered, kDepth);
    if (feedback.score_keyword_candidates)
      semantic_hits = with_keyword_candidates(*semantic.vectors, steered, std::move(semantic_hits),
                                              keyword_hits);
    TrainingQuery& judged = queries.emplace_back();
    for (const FusionCandidate& candidate : fusion_candidates(
             keyword_hits, semantic_hits, *semantic.vectors, query_vector, word_dimension)) {
      judged.features.push_back(candidate.features);
      const auto grade = relevant->second.find(candidate.paper_id);
      judged.gains.push_back(grade == relevant->second.end() ? 0.0
                                                             : std::pow(2.0, grade->second) - 1.0);
    }
    std::vector<int> grades;
    for (const auto& [paper, grade] : relevant->second) grades.push_back(grade);
    std::sort(grades.rbegin(), grades.rend());
    for (size_t i = 0; i < grades.size() && i < 10; ++i)
      judged.ideal_dcg +=
          (std::pow(2.0, grades[i]) - 1.0) / std::log2(static_cast<double>(i) + 2.0);
    judged.relevant = relevant->second.size();
  }
  return queries;
}

std::vector<LearnedFusionScore> evaluate_learned_fusions(std::span<const TrainingQuery> tuning,
                                                         std::span<const TrainingQuery> held_out,
                                                         size_t folds) {
  struct Variant {
    std::string name;
    std::vector<FusionFeature> features;
    double min_gain = FitOptions{}.min_gain;
  };
  const std::vector<Variant> variants = {
      {"learned: scores", {kKeywordScore, kSemanticScore}},
      {"learned: scores, matched all", {kKeywordScore, kSemanticScore, kMatchedAll}},
      {"learned: scores, ranks, matched all",
       {kKeywordScore, kSemanticScore, kKeywordRank, kSemanticRank, kMatchedAll}},
      {"learned: scores, matched all, word and LSI cosines",
       {kKeywordScore, kSemanticScore, kMatchedAll, kWordCosine, kLsiCosine}},
      {"learned: all features",
       {kKeywordScore, kSemanticScore, kKeywordRank, kSemanticRank, kMatchedAll, kWordCosine,
        kLsiCosine}},
      // Without the regulariser: how much a free fit gains on tuning and loses out of fold.
      {"learned: all features, any gain",
       {kKeywordScore, kSemanticScore, kKeywordRank, kSemanticRank, kMatchedAll, kWordCosine,
        kLsiCosine},
       0.0},
  };
  std::vector<LearnedFusionScore> scores;
  for (const Variant& variant : variants) {
    FitOptions options;
    // From the score blend at w = 0.4, so each fit starts where the blends left off.
    options.start[kKeywordScore] = 0.6;
    options.start[kSemanticScore] = 0.4;
    options.min_gain = variant.min_gain;
    for (FusionFeature feature : variant.features) options.use[feature] = true;
    LearnedFusionScore& score = scores.emplace_back();
    score.variant = variant.name;
    score.out_of_fold_ndcg = cross_validate_fit(tuning, options, folds);
    score.weights = fit_fusion_weights(tuning, options);
    score.held_out.method = variant.name;
    for (const TrainingQuery& query : held_out) {
      const double ndcg = ranked_ndcg_at_10(query, score.weights);
      score.held_out.ndcg_per_query.push_back(ndcg);
      score.held_out.scores.ndcg_at_10 += ndcg;
      score.held_out.scores.recall_at_100 += ranked_recall_at_100(query, score.weights);
    }
    score.held_out.scores.queries = held_out.size();
    if (!held_out.empty()) {
      score.held_out.scores.ndcg_at_10 /= static_cast<double>(held_out.size());
      score.held_out.scores.recall_at_100 /= static_cast<double>(held_out.size());
    }
  }
  std::stable_sort(scores.begin(), scores.end(), [](const auto& a, const auto& b) {
    return a.out_of_fold_ndcg > b.out_of_fold_ndcg;
  });
  return scores;
}

std::string describe(const FusionWeights& weights) {
  std::string text;
  for (size_t f = 0; f < weights.size(); ++f) {
    if (weights[f] == 0) continue;
    if (!text.empty())
      text += weights[f] < 0 ? " - " : " + ";
    else if (weights[f] < 0)
      text += "-";
    text += fmt::format("{:.3f} {}", std::abs(weights[f]), feature_name(f));
  }
  return text;
}

PairedDifference paired_difference(const MethodScores& a, const MethodScores& b) {
  PairedDifference difference;
  difference.queries = std::min(a.ndcg_per_query.size(), b.ndcg_per_query.size());
  if (difference.queries == 0) return difference;
  const double n = static_cast<double>(difference.queries);
  for (size_t q = 0; q < difference.queries; ++q)
    difference.mean += a.ndcg_per_query[q] - b.ndcg_per_query[q];
  difference.mean /= n;
  if (difference.queries < 2) return difference;
  double variance = 0;
  for (size_t q = 0; q < difference.queries; ++q) {
    const double deviation = a.ndcg_per_query[q] - b.ndcg_per_query[q] - difference.mean;
    variance += deviation * deviation;
  }
  variance /= n - 1;
  difference.half_width_95 = 1.96 * std::sqrt(variance / n);
  return difference;
}

std::string fusion_family(std::string_view method) {
  std::string name(method);
  if (const size_t at = name.find(" w="); at != std::string::npos) {
    const size_t end = name.find(' ', at + 1);
    name.erase(at, end == std::string::npos ? std::string::npos : end - at);
  }
  return name;
}

std::vector<FamilyScore> cross_validate_families(std::span<const MethodScores> hybrids,
                                                 size_t folds) {
  std::map<std::string, std::vector<size_t>> members;
  for (size_t m = 0; m < hybrids.size(); ++m)
    members[fusion_family(hybrids[m].method)].push_back(m);
  const size_t queries = hybrids.empty() ? 0 : hybrids[0].ndcg_per_query.size();
  folds = std::clamp<size_t>(folds, 1, std::max<size_t>(queries, 1));
  // sums[m][f]: member m's nDCG@10 summed over fold f.
  std::vector<std::vector<double>> sums(hybrids.size(), std::vector<double>(folds, 0.0));
  for (size_t m = 0; m < hybrids.size(); ++m)
    for (size_t q = 0; q < hybrids[m].ndcg_per_query.size(); ++q)
      sums[m][q % folds] += hybrids[m].ndcg_per_query[q];
  auto total = [&](size_t m) { return std::accumulate(sums[m].begin(), sums[m].end(), 0.0); };

  std::vector<FamilyScore> families;
  for (const auto& [family, indices] : members) {
    FamilyScore score{family, 0, indices[0]};
    for (size_t m : indices)
      if (total(m) > total(score.best)) score.best = m;
    if (folds > 1) {
      for (size_t fold = 0; fold < folds; ++fold) {
        size_t chosen = indices[0];
        for (size_t m : indices)
          if (total(m) - sums[m][fold] > total(chosen) - sums[chosen][fold]) chosen = m;
        score.out_of_fold_ndcg += sums[chosen][fold];
      }
    } else {
      score.out_of_fold_ndcg = total(score.best);
    }
    if (queries > 0) score.out_of_fold_ndcg /= static_cast<double>(queries);
    families.push_back(std::move(score));
  }
  std::stable_sort(families.begin(), families.end(), [](const auto& a, const auto& b) {
    return a.out_of_fold_ndcg > b.out_of_fold_ndcg;
  });
  return families;
}

FusionChoice choose_fusion(std::span<const MethodScores> hybrids, size_t folds) {
  const auto families = cross_validate_families(hybrids, folds);
  if (families.empty()) return {};
  return {families[0].best, families[0].family, families[0].out_of_fold_ndcg};
}

}  // namespace paperboy::hybrid
