#include "hybrid/learned_fusion.h"

#include <gtest/gtest.h>

#include <cmath>

namespace paperboy::hybrid {
namespace {

search::Hit keyword_hit(std::string id, double score, bool matched_all) {
  search::Hit hit;
  hit.paper_id = std::move(id);
  hit.score = score;
  hit.matched_all = matched_all;
  return hit;
}

TEST(FusionCandidates, NormalisesEachFeatureOverTheQuerysCandidates) {
  // Four-dimensional vectors: the first two coordinates are the word part, the rest LSI.
  auto vectors = vector::VectorIndex::create(4, "test-model");
  const std::vector<std::string> ids = {"a", "b", "c"};
  const float half = std::sqrt(0.5f);
  const std::vector<float> rows = {1,    0, 0,    0,  //
                                   0,    0, 1,    0,  //
                                   half, 0, half, 0};
  ASSERT_TRUE(vectors->upsert_batch(ids, rows, 1));
  const std::vector<search::Hit> keyword = {keyword_hit("a", 12, true), keyword_hit("b", 4, false)};
  const std::vector<vector::Neighbor> semantic = {{"c", 0.9f}, {"a", 0.5f}, {"b", 0.3f}};
  const std::vector<float> plain_query = {half, 0, half, 0};

  const auto candidates = fusion_candidates(keyword, semantic, *vectors, plain_query, 2);
  ASSERT_EQ(candidates.size(), 3u);
  EXPECT_EQ(candidates[0].paper_id, "a");
  EXPECT_EQ(candidates[2].paper_id, "c");
  const auto& a = candidates[0].features;
  const auto& b = candidates[1].features;
  const auto& c = candidates[2].features;
  EXPECT_DOUBLE_EQ(a[kKeywordScore], 1.0);
  EXPECT_DOUBLE_EQ(b[kKeywordScore], 0.0);
  EXPECT_DOUBLE_EQ(c[kKeywordScore], 0.0);  // keyword missed it
  EXPECT_NEAR(c[kSemanticScore], 1.0, 1e-6);
  EXPECT_NEAR(a[kSemanticScore], (0.5 - 0.3) / (0.9 - 0.3), 1e-6);
  EXPECT_DOUBLE_EQ(a[kKeywordRank], 1.0);
  EXPECT_DOUBLE_EQ(b[kKeywordRank], 1.0 / std::log2(3.0));
  EXPECT_DOUBLE_EQ(c[kKeywordRank], 0.0);
  EXPECT_DOUBLE_EQ(a[kMatchedAll], 1.0);
  EXPECT_DOUBLE_EQ(b[kMatchedAll], 0.0);
  // Word-part products 0.707, 0, 0.5; LSI-part products 0, 0.707, 0.5 (int8 storage: loosely).
  EXPECT_NEAR(a[kWordCosine], 1.0, 1e-6);
  EXPECT_NEAR(b[kWordCosine], 0.0, 1e-6);
  EXPECT_NEAR(c[kWordCosine], 0.5 / half, 0.02);
  EXPECT_NEAR(a[kLsiCosine], 0.0, 1e-6);
  EXPECT_NEAR(b[kLsiCosine], 1.0, 1e-6);
  ASSERT_NE(candidates[0].keyword, nullptr);
  EXPECT_EQ(candidates[0].keyword->paper_id, "a");
  EXPECT_EQ(candidates[2].keyword, nullptr);
  EXPECT_TRUE(candidates[2].semantic_similarity.has_value());
}

// Queries whose one relevant paper is the candidate with the highest `telling` feature, while
// the keyword score points at another candidate.
std::vector<TrainingQuery> queries_told_by(FusionFeature telling, size_t count) {
  std::vector<TrainingQuery> queries;
  for (size_t q = 0; q < count; ++q) {
    TrainingQuery query;
    for (size_t i = 0; i < 12; ++i) {
      std::array<double, kFusionFeatureCount> features{};
      features[kKeywordScore] = static_cast<double>((i + q) % 12) / 11.0;
      features[telling] = i == q % 12 ? 1.0 : 0.0;
      query.features.push_back(features);
      query.gains.push_back(i == q % 12 ? 1.0 : 0.0);
    }
    query.ideal_dcg = 1.0;
    query.relevant = 1;
    queries.push_back(std::move(query));
  }
  return queries;
}

TEST(FitFusionWeights, MovesWeightToTheFeatureThatFindsTheRelevantPapers) {
  const auto queries = queries_told_by(kMatchedAll, 24);
  FitOptions options;
  options.start[kKeywordScore] = 1.0;
  options.use[kKeywordScore] = true;
  options.use[kMatchedAll] = true;
  EXPECT_LT(mean_ndcg_at_10(queries, options.start), 0.6);
  const FusionWeights weights = fit_fusion_weights(queries, options);
  EXPECT_GT(weights[kMatchedAll], weights[kKeywordScore]);
  EXPECT_DOUBLE_EQ(mean_ndcg_at_10(queries, weights), 1.0);
  EXPECT_NEAR(std::abs(weights[kKeywordScore]) + std::abs(weights[kMatchedAll]), 1.0, 1e-12);
  EXPECT_NEAR(cross_validate_fit(queries, options, 4), 1.0, 1e-12);
}

TEST(FitFusionWeights, LeavesFeaturesItMayNotUseAtZero) {
  const auto queries = queries_told_by(kLsiCosine, 12);
  FitOptions options;
  options.start = {0.5, 0.5, 0, 0, 0, 0, 0.3};
  options.use[kKeywordScore] = true;
  options.use[kSemanticScore] = true;
  const FusionWeights weights = fit_fusion_weights(queries, options);
  EXPECT_EQ(weights[kLsiCosine], 0.0);
  EXPECT_LT(mean_ndcg_at_10(queries, weights), 1.0);
}

TEST(RankedMetrics, CountTheRelevantCandidatesInTheirPlaces) {
  TrainingQuery query;
  for (double score : {0.1, 0.9, 0.5}) {
    std::array<double, kFusionFeatureCount> features{};
    features[kKeywordScore] = score;
    query.features.push_back(features);
  }
  query.gains = {3.0, 0.0, 1.0};  // grades 2 and 1
  query.ideal_dcg = 3.0 + 1.0 / std::log2(3.0);
  query.relevant = 3;  // one relevant paper is no candidate at all
  FusionWeights weights{};
  weights[kKeywordScore] = 1;
  // Ranked: 0.9 (gain 0), 0.5 (gain 1), 0.1 (gain 3).
  EXPECT_NEAR(ranked_ndcg_at_10(query, weights),
              (1.0 / std::log2(3.0) + 3.0 / std::log2(4.0)) / query.ideal_dcg, 1e-12);
  EXPECT_NEAR(ranked_recall_at_100(query, weights), 2.0 / 3.0, 1e-12);
}

}  // namespace
}  // namespace paperboy::hybrid
