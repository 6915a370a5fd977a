#include "vector/vector_index.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <fstream>
#include <nlohmann/json.hpp>
#include <numeric>
#include <random>
#include <set>

#include "embed/sif_model.h"

namespace paperboy::vector {
namespace {

namespace fs = std::filesystem;

class TempDir {
 public:
  TempDir() {
    char pattern[] = "/tmp/paperboy-vector-test-XXXXXX";
    path_ = mkdtemp(pattern);
  }
  ~TempDir() { fs::remove_all(path_); }
  const fs::path& path() const { return path_; }

 private:
  fs::path path_;
};

struct Corpus {
  std::vector<std::string> ids;
  std::vector<std::string> titles;
  std::vector<float> vectors;  // one row per paper
  std::unique_ptr<embed::SifModel> model;
};

// Real papers embedded by a real (small) model trained on them.
const Corpus& corpus() {
  static const Corpus loaded = [] {
    Corpus corpus;
    std::vector<std::string> texts;
    std::ifstream in(fs::path(PAPERBOY_SOURCE_DIR) / "src/embed/testdata/papers.jsonl");
    for (std::string line; std::getline(in, line);) {
      auto record = nlohmann::json::parse(line);
      corpus.ids.push_back(record["id"]);
      corpus.titles.push_back(record["title"]);
      texts.push_back(record["title"].get<std::string>() + ". " +
                      record["abstract"].get<std::string>());
    }
    embed::TrainOptions options;
    options.dimension = 64;
    options.min_count = 2;
    options.power_iterations = 2;
    auto model = embed::train_sif_model(texts, options);
    EXPECT_TRUE(model) << model.error().message;
    corpus.model = std::move(*model);
    for (const std::string& text : texts) {
      auto vector = corpus.model->embed(text);
      corpus.vectors.insert(corpus.vectors.end(), vector.begin(), vector.end());
    }
    return corpus;
  }();
  return loaded;
}

std::unique_ptr<VectorIndex> build_index() {
  const Corpus& papers = corpus();
  auto index = VectorIndex::create(papers.model->dimension(), papers.model->identity());
  EXPECT_TRUE(index->upsert_batch(papers.ids, papers.vectors, 2));
  return index;
}

std::vector<std::string> exact_top(std::span<const float> query, size_t k) {
  const Corpus& papers = corpus();
  const size_t dimension = papers.model->dimension();
  std::vector<std::pair<float, size_t>> scored;
  for (size_t i = 0; i < papers.ids.size(); ++i)
    scored.emplace_back(std::inner_product(query.begin(), query.end(),
                                           papers.vectors.begin() + i * dimension, 0.0f),
                        i);
  std::partial_sort(scored.begin(), scored.begin() + k, scored.end(), std::greater<>());
  std::vector<std::string> top;
  for (size_t i = 0; i < k; ++i) top.push_back(papers.ids[scored[i].second]);
  return top;
}

double recall_at_10(const VectorIndex& index) {
  const Corpus& papers = corpus();
  size_t found = 0, wanted = 0;
  for (size_t q = 0; q < papers.titles.size(); q += 4) {
    const auto query = papers.model->embed(papers.titles[q]);
    const auto exact = exact_top(query, 10);
    const std::set<std::string> truth(exact.begin(), exact.end());
    for (const Neighbor& hit : index.search(query, 10)) found += truth.count(hit.paper_id);
    wanted += 10;
  }
  return static_cast<double>(found) / static_cast<double>(wanted);
}

TEST(VectorIndex, RecallAtTenAgainstExactFloatSearchIsAtLeast95Percent) {
  auto index = build_index();
  EXPECT_EQ(index->size(), corpus().ids.size());
  const double recall = recall_at_10(*index);
  EXPECT_GE(recall, 0.95);
  RecordProperty("recall_at_10", std::to_string(recall));
  // int8 codes: a quarter of float storage plus the scale.
  EXPECT_LT(index->bytes_per_paper(), 64 * sizeof(float) + 200);
}

TEST(VectorIndex, APaperIsItsOwnNearestNeighbour) {
  auto index = build_index();
  const auto stored = index->vector_of(corpus().ids[7]);
  ASSERT_TRUE(stored);
  const auto hits = index->search(*stored, 3);
  ASSERT_FALSE(hits.empty());
  EXPECT_EQ(hits[0].paper_id, corpus().ids[7]);
  EXPECT_NEAR(hits[0].similarity, 1.0f, 0.02f);
  EXPECT_GE(hits[0].similarity, hits[1].similarity);
}

TEST(VectorIndex, SavesAndReopensTheSameIndex) {
  TempDir dir;
  auto index = build_index();
  index->set_store_sequence(1234);
  index->remove(corpus().ids[0]);
  const fs::path companion = dir.path() / "model.bin";
  std::ofstream(companion) << "model bytes";
  auto saved = index->save(dir.path() / "vectors", {&companion, 1});
  ASSERT_TRUE(saved) << saved.error().message;

  auto reopened = VectorIndex::open(dir.path() / "vectors");
  ASSERT_TRUE(reopened) << reopened.error().message;
  EXPECT_EQ((*reopened)->store_sequence(), 1234u);
  EXPECT_EQ((*reopened)->model_identity(), corpus().model->identity());
  EXPECT_EQ((*reopened)->size(), corpus().ids.size() - 1);
  EXPECT_FALSE((*reopened)->vector_of(corpus().ids[0]));
  const fs::path generation = VectorIndex::current_generation(dir.path() / "vectors");
  EXPECT_TRUE(fs::exists(generation / "model.bin"));
  const auto query = corpus().model->embed("multilingual machine translation");
  const auto before = index->search(query, 10);
  const auto after = (*reopened)->search(query, 10);
  ASSERT_EQ(before.size(), after.size());
  for (size_t i = 0; i < before.size(); ++i) EXPECT_EQ(before[i].paper_id, after[i].paper_id);

  // A second save replaces the generation and removes the old one.
  (*reopened)->set_store_sequence(1300);
  ASSERT_TRUE((*reopened)->save(dir.path() / "vectors"));
  EXPECT_FALSE(fs::exists(generation));
  auto again = VectorIndex::open(dir.path() / "vectors");
  ASSERT_TRUE(again);
  EXPECT_EQ((*again)->store_sequence(), 1300u);
}

TEST(VectorIndex, AnUnfinishedSaveLeavesThePreviousGenerationLive) {
  TempDir dir;
  const fs::path folder = dir.path() / "vectors";
  auto index = build_index();
  index->set_store_sequence(5);
  ASSERT_TRUE(index->save(folder));
  const fs::path live = VectorIndex::current_generation(folder);
  // What a crash mid-save leaves: the next generation's folder, half written, and CURRENT.tmp.
  const fs::path partial = folder / "g000000000002";
  fs::create_directories(partial);
  std::ofstream(partial / "graph.hnsw") << "half";
  std::ofstream(folder / "CURRENT.tmp") << "g000000000002\n";

  auto reopened = VectorIndex::open(folder);
  ASSERT_TRUE(reopened) << reopened.error().message;
  EXPECT_EQ((*reopened)->store_sequence(), 5u);
  EXPECT_EQ(VectorIndex::current_generation(folder), live);
  (*reopened)->set_store_sequence(6);
  ASSERT_TRUE((*reopened)->save(folder));
  auto after = VectorIndex::open(folder);
  ASSERT_TRUE(after) << after.error().message;
  EXPECT_EQ((*after)->store_sequence(), 6u);
}

TEST(VectorIndex, DamagedFilesGiveErrorsNamingThem) {
  TempDir dir;
  const fs::path folder = dir.path() / "vectors";
  auto missing = VectorIndex::open(folder);
  ASSERT_FALSE(missing);
  EXPECT_NE(missing.error().message.find("no vectors yet"), std::string::npos);

  ASSERT_TRUE(build_index()->save(folder));
  const fs::path papers = VectorIndex::current_generation(folder) / "papers.bin";
  {
    std::fstream file(papers, std::ios::in | std::ios::out | std::ios::binary);
    file.seekp(40);
    file.put('\x01');
  }
  auto damaged = VectorIndex::open(folder);
  ASSERT_FALSE(damaged);
  EXPECT_NE(damaged.error().message.find(papers.string()), std::string::npos);

  ASSERT_TRUE(build_index()->save(folder));
  const fs::path graph = VectorIndex::current_generation(folder) / "graph.hnsw";
  fs::resize_file(graph, fs::file_size(graph) / 2);
  auto truncated = VectorIndex::open(folder);
  ASSERT_FALSE(truncated);
  EXPECT_NE(truncated.error().message.find(graph.string()), std::string::npos);
}

TEST(VectorIndex, UpdatesRemovalsAndZeroVectors) {
  auto index = VectorIndex::create(4, "test-model");
  const std::vector<float> east = {1, 0, 0, 0}, north = {0, 1, 0, 0}, zero = {0, 0, 0, 0};
  ASSERT_TRUE(index->upsert("a", east));
  ASSERT_TRUE(index->upsert("b", north));
  EXPECT_EQ(index->search(east, 1).at(0).paper_id, "a");
  ASSERT_TRUE(index->upsert("a", north));  // replaced
  ASSERT_TRUE(index->upsert("b", east));
  EXPECT_EQ(index->search(east, 1).at(0).paper_id, "b");
  index->remove("b");
  EXPECT_EQ(index->size(), 1u);
  EXPECT_EQ(index->search(east, 5).size(), 1u);
  ASSERT_TRUE(index->upsert("b", east));  // back again
  EXPECT_EQ(index->search(east, 1).at(0).paper_id, "b");
  EXPECT_EQ(index->paper_ids(), (std::vector<std::string>{"a", "b"}));
  ASSERT_TRUE(index->upsert("a", zero));  // nothing to compare: removed
  EXPECT_EQ(index->size(), 1u);
  EXPECT_EQ(index->paper_ids(), std::vector<std::string>{"b"});
  EXPECT_TRUE(index->search(zero, 5).empty());
  auto wrong = index->upsert("c", std::vector<float>{1, 0});
  ASSERT_FALSE(wrong);
  EXPECT_NE(wrong.error().message.find("4-dimensional"), std::string::npos);
}

// An opened index drops hnswlib's insertion state until its first write: reading, then
// updating, removing and adding must all still work, and survive another save.
TEST(VectorIndex, AReopenedIndexTakesUpdatesRemovalsAndNewPapers) {
  TempDir dir;
  const fs::path folder = dir.path() / "vectors";
  ASSERT_TRUE(build_index()->save(folder));
  auto reopened = VectorIndex::open(folder);
  ASSERT_TRUE(reopened) << reopened.error().message;
  VectorIndex& index = **reopened;
  const Corpus& papers = corpus();
  const size_t dimension = papers.model->dimension();
  const std::span<const float> first(papers.vectors.data(), dimension);
  const std::span<const float> second(papers.vectors.data() + dimension, dimension);
  auto stored = index.vector_of(papers.ids[0]);
  ASSERT_TRUE(stored);
  for (size_t d = 0; d < dimension; ++d) EXPECT_NEAR((*stored)[d], first[d], 0.01f);

  ASSERT_TRUE(index.upsert(papers.ids[0], second));  // now paper 0 reads like paper 1
  stored = index.vector_of(papers.ids[0]);
  ASSERT_TRUE(stored);
  for (size_t d = 0; d < dimension; ++d) EXPECT_NEAR((*stored)[d], second[d], 0.01f);
  index.remove(papers.ids[1]);
  ASSERT_TRUE(index.upsert("new-paper", first));
  EXPECT_EQ(index.size(), papers.ids.size());
  EXPECT_EQ(index.search(first, 1).at(0).paper_id, "new-paper");
  EXPECT_EQ(index.search(second, 1).at(0).paper_id, papers.ids[0]);

  ASSERT_TRUE(index.save(folder));
  auto again = VectorIndex::open(folder);
  ASSERT_TRUE(again) << again.error().message;
  EXPECT_EQ((*again)->size(), papers.ids.size());
  EXPECT_FALSE((*again)->vector_of(papers.ids[1]));
  EXPECT_EQ((*again)->search(first, 1).at(0).paper_id, "new-paper");
  EXPECT_EQ((*again)->paper_ids().back(), "new-paper");
}

// Paper ids are packed with their own hash table: thousands of them, growing it many times,
// each still finds its own vector, before and after a reopen.
TEST(VectorIndex, ThousandsOfPaperIdsEachFindTheirVector) {
  TempDir dir;
  constexpr size_t kPapers = 3000;
  auto index = VectorIndex::create(8, "test-model");
  std::vector<std::string> ids;
  std::vector<float> rows(kPapers * 8);
  std::mt19937 random(7);
  std::normal_distribution<float> normal;
  for (size_t i = 0; i < kPapers; ++i) {
    ids.push_back("2401." + std::to_string(10000 + i) + (i % 3 ? "" : "v2"));
    for (size_t d = 0; d < 8; ++d) rows[i * 8 + d] = normal(random);
  }
  ASSERT_TRUE(index->upsert_batch(ids, rows, 2));
  ASSERT_TRUE(index->save(dir.path() / "vectors"));
  auto reopened = VectorIndex::open(dir.path() / "vectors");
  ASSERT_TRUE(reopened) << reopened.error().message;
  for (const VectorIndex* checked : {index.get(), reopened->get()}) {
    EXPECT_EQ(checked->size(), kPapers);
    EXPECT_EQ(checked->paper_ids(), ids);
    for (size_t i = 0; i < kPapers; i += 97) {
      const auto stored = checked->vector_of(ids[i]);
      ASSERT_TRUE(stored) << ids[i];
      float largest = 0;
      for (size_t d = 0; d < 8; ++d) largest = std::max(largest, std::abs(rows[i * 8 + d]));
      for (size_t d = 0; d < 8; ++d) EXPECT_NEAR((*stored)[d], rows[i * 8 + d], largest / 100);
    }
    EXPECT_FALSE(checked->vector_of("2401.99999"));
  }
}

}  // namespace
}  // namespace paperboy::vector
