#include "hybrid/evaluation.h"

#include <gtest/gtest.h>

#include <cmath>

namespace paperboy::hybrid {
namespace {

MethodScores method(std::string name, std::vector<double> ndcg_per_query) {
  MethodScores scores;
  scores.method = std::move(name);
  scores.ndcg_per_query = std::move(ndcg_per_query);
  return scores;
}

TEST(FusionFamily, IsTheNameWithoutItsWeight) {
  EXPECT_EQ(fusion_family("blend w=0.40 feedback 3x0.30 scored"), "blend feedback 3x0.30 scored");
  EXPECT_EQ(fusion_family("zscore w=0.30"), "zscore");
  EXPECT_EQ(fusion_family("rrf k=60"), "rrf k=60");
}

TEST(CrossValidation, PrefersTheFamilyThatHoldsUpOnUnseenFolds) {
  // Ten queries in five folds (query j in fold j % 5). Each blend weight is lucky on one fold
  // (1.0 there, 0.5 elsewhere): every one averages 0.6 over all queries, more than the steady
  // z-score (0.58), but the weight chosen on four folds is never the one lucky on the fifth.
  std::vector<MethodScores> hybrids;
  for (size_t lucky = 0; lucky < 5; ++lucky) {
    std::vector<double> ndcg;
    for (size_t query = 0; query < 10; ++query) ndcg.push_back(query % 5 == lucky ? 1.0 : 0.5);
    hybrids.push_back(method("blend w=0." + std::to_string(lucky + 1) + "0", ndcg));
  }
  hybrids.push_back(method("zscore w=0.30", std::vector<double>(10, 0.58)));

  const auto families = cross_validate_families(hybrids, 5);
  ASSERT_EQ(families.size(), 2u);
  EXPECT_EQ(families[0].family, "zscore");
  EXPECT_NEAR(families[0].out_of_fold_ndcg, 0.58, 1e-12);
  EXPECT_EQ(families[1].family, "blend");
  EXPECT_NEAR(families[1].out_of_fold_ndcg, 0.5, 1e-12);
  EXPECT_EQ(families[1].best, 0u);  // ties on all queries go to the first weight

  const FusionChoice choice = choose_fusion(hybrids, 5);
  EXPECT_EQ(choice.chosen, 5u);
  EXPECT_EQ(choice.family, "zscore");
}

TEST(CrossValidation, WithinTheWinningFamilyTakesTheWeightBestOnAllQueries) {
  std::vector<MethodScores> hybrids = {
      method("blend w=0.20", {0.5, 0.6, 0.7, 0.6}),
      method("blend w=0.30", {0.6, 0.7, 0.7, 0.7}),
      method("blend w=0.40", {0.6, 0.6, 0.6, 0.6}),
  };
  const FusionChoice choice = choose_fusion(hybrids, 2);
  EXPECT_EQ(choice.chosen, 1u);
  EXPECT_EQ(choice.family, "blend");
  EXPECT_NEAR(choice.out_of_fold_ndcg, 0.675, 1e-12);
  EXPECT_EQ(choose_fusion({}, 5).family, "");
}

TEST(PairedDifference, GivesTheMeanDifferenceAndItsConfidenceInterval) {
  const MethodScores a = method("hybrid", {0.6, 0.8, 0.7, 0.9});
  const MethodScores b = method("keyword", {0.5, 0.8, 0.6, 0.7});
  const PairedDifference difference = paired_difference(a, b);
  EXPECT_EQ(difference.queries, 4u);
  EXPECT_NEAR(difference.mean, 0.1, 1e-12);
  // Differences 0.1, 0, 0.1, 0.2: sample deviation sqrt(0.02 / 3), over sqrt(4), times 1.96.
  EXPECT_NEAR(difference.half_width_95, 1.96 * std::sqrt(0.02 / 3) / 2, 1e-12);
  EXPECT_EQ(paired_difference(a, method("none", {})).queries, 0u);
}

}  // namespace
}  // namespace paperboy::hybrid
