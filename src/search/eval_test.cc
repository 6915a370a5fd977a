#include "search/eval.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cmath>
#include <filesystem>
#include <fstream>

namespace paperboy::search {
namespace {

namespace fs = std::filesystem;

TEST(Metrics, NdcgAndRecallOnHandComputedRankings) {
  std::unordered_map<std::string, int> relevant = {{"a", 1}, {"b", 1}};
  EXPECT_DOUBLE_EQ(ndcg_at_10({"a", "b", "c"}, relevant), 1.0);
  // b at rank 2 only: (1/log2(3)) / (1 + 1/log2(3)).
  double expected = (1 / std::log2(3.0)) / (1 + 1 / std::log2(3.0));
  EXPECT_NEAR(ndcg_at_10({"x", "b"}, relevant), expected, 1e-12);
  EXPECT_DOUBLE_EQ(recall_at(100, {"x", "b"}, relevant), 0.5);
  EXPECT_DOUBLE_EQ(recall_at(1, {"x", "b"}, relevant), 0.0);
}

TEST(LoadBeir, ReportsTheFileAndLineAtFault) {
  fs::path dir = fs::temp_directory_path() / ("paperboy-beir-" + std::to_string(::getpid()));
  fs::create_directories(dir);
  std::ofstream(dir / "corpus.jsonl")
      << "{\"_id\": \"d1\", \"title\": \"t\", \"text\": \"x\"}\n{\"_id\": 5}\n";
  std::ofstream(dir / "queries.jsonl") << "{\"_id\": \"q1\", \"text\": \"x\"}\n";
  std::ofstream(dir / "qrels.tsv") << "query-id\tcorpus-id\tscore\nq1\td1\t1\n";
  auto loaded = load_beir(dir / "corpus.jsonl", dir / "queries.jsonl", dir / "qrels.tsv");
  ASSERT_FALSE(loaded);
  EXPECT_NE(loaded.error().message.find("corpus.jsonl:2: missing \"text\""), std::string::npos)
      << loaded.error().message;
  fs::remove_all(dir);
}

// SciFact through the real index and search path; the figures must stay near what
// docs/search.md reports (BEIR's BM25 baseline is 0.665 nDCG@10 on the test split).
TEST(Evaluate, SciFactScoresLikeAGoodBm25) {
  fs::path data = fs::path(PAPERBOY_SHARED_DATA_DIR) / "scifact";
  auto benchmark =
      load_beir(data / "corpus.jsonl", data / "queries-train.jsonl", data / "qrels-train.tsv");
  ASSERT_TRUE(benchmark) << benchmark.error().message;
  EXPECT_EQ(benchmark->corpus.size(), 5183u);
  EXPECT_EQ(benchmark->queries.size(), 809u);
  fs::path dir = fs::temp_directory_path() / ("paperboy-scifact-" + std::to_string(::getpid()));
  fs::remove_all(dir);
  ASSERT_TRUE(index_beir(*benchmark, dir));
  auto snapshot = index::Snapshot::open(dir);
  ASSERT_TRUE(snapshot);
  auto held_out = held_out_queries(*benchmark);
  EXPECT_EQ(held_out.size() + tuning_queries(*benchmark).size(), 809u);
  EvalScores scores = evaluate(**snapshot, *benchmark, held_out, Bm25fParams{});
  EXPECT_EQ(scores.queries, held_out.size());
  EXPECT_GT(scores.ndcg_at_10, 0.62);
  EXPECT_GT(scores.recall_at_100, 0.85);
  std::printf("SciFact held-out: nDCG@10 %.4f, recall@100 %.4f\n", scores.ndcg_at_10,
              scores.recall_at_100);
  fs::remove_all(dir);
}

}  // namespace
}  // namespace paperboy::search
