#include "embed/sif_model.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cmath>
#include <fstream>
#include <nlohmann/json.hpp>
#include <numeric>

#include "text/analyzer.h"

namespace paperboy::embed {
namespace {

namespace fs = std::filesystem;

struct TestPaper {
  std::string title;
  std::string abstract;
};

const std::vector<TestPaper>& test_papers() {
  static const std::vector<TestPaper> papers = [] {
    std::vector<TestPaper> loaded;
    std::ifstream in(fs::path(PAPERBOY_SOURCE_DIR) / "src/embed/testdata/papers.jsonl");
    for (std::string line; std::getline(in, line);) {
      auto record = nlohmann::json::parse(line);
      loaded.push_back({record["title"], record["abstract"]});
    }
    return loaded;
  }();
  return papers;
}

std::vector<std::string> abstracts() {
  std::vector<std::string> texts;
  for (const TestPaper& paper : test_papers()) texts.push_back(paper.title + ". " + paper.abstract);
  return texts;
}

TrainOptions small_options(size_t threads) {
  TrainOptions options;
  options.dimension = 48;
  options.threads = threads;
  options.min_count = 2;
  options.power_iterations = 2;
  return options;
}

// One trained model shared by the tests that only read it.
const SifModel& shared_model() {
  static const std::unique_ptr<SifModel> model = [] {
    auto trained = train_sif_model(abstracts(), small_options(2));
    EXPECT_TRUE(trained) << trained.error().message;
    return std::move(*trained);
  }();
  return *model;
}

float dot(std::span<const float> a, std::span<const float> b) {
  return std::inner_product(a.begin(), a.end(), b.begin(), 0.0f);
}

class TempDir {
 public:
  TempDir() {
    char pattern[] = "/tmp/paperboy-embed-test-XXXXXX";
    path_ = mkdtemp(pattern);
  }
  ~TempDir() { fs::remove_all(path_); }
  const fs::path& path() const { return path_; }

 private:
  fs::path path_;
};

TEST(SifModel, VectorsAreUnitLengthAndUnknownTextIsZero) {
  const SifModel& model = shared_model();
  EXPECT_EQ(model.dimension(), 48u);
  EXPECT_GT(model.vocabulary_size(), 2000u);
  const auto vector = model.embed("vision language models for video understanding");
  EXPECT_NEAR(dot(vector, vector), 1.0f, 1e-4f);
  const auto unknown = model.embed("zzqx qqzzy");
  EXPECT_EQ(dot(unknown, unknown), 0.0f);
  EXPECT_EQ(model.embed("").size(), 48u);
}

TEST(SifModel, TitlesFindTheirOwnAbstracts) {
  // A title shares few words with its abstract, but its meaning is close: the abstract should
  // rank near the top among all 1,000 abstracts.
  const SifModel& model = shared_model();
  const auto& papers = test_papers();
  std::vector<std::vector<float>> abstract_vectors;
  for (const TestPaper& paper : papers) abstract_vectors.push_back(model.embed(paper.abstract));
  size_t in_top_10 = 0;
  for (size_t i = 0; i < papers.size(); ++i) {
    const auto title = model.embed(papers[i].title);
    const float own = dot(title, abstract_vectors[i]);
    size_t better = 0;
    for (size_t j = 0; j < papers.size(); ++j)
      if (j != i && dot(title, abstract_vectors[j]) > own) ++better;
    if (better < 10) ++in_top_10;
  }
  EXPECT_GT(static_cast<double>(in_top_10) / static_cast<double>(papers.size()), 0.6)
      << in_top_10 << " of " << papers.size();
}

TEST(SifModel, RelatedWordsAreCloserThanUnrelatedOnes) {
  const SifModel& model = shared_model();
  auto vector = [&](std::string_view word) {
    return model.word_vector(text::stem(text::fold(word)));
  };
  ASSERT_FALSE(vector("image").empty());
  ASSERT_FALSE(vector("translation").empty());
  EXPECT_GT(dot(vector("image"), vector("pixel")), dot(vector("image"), vector("translation")));
  EXPECT_GT(dot(vector("language"), vector("text")), dot(vector("language"), vector("pixel")));
}

TEST(SifModel, TrainingIsDeterministicWhateverTheThreadCount) {
  auto one_thread = train_sif_model(abstracts(), small_options(1));
  ASSERT_TRUE(one_thread) << one_thread.error().message;
  EXPECT_EQ((*one_thread)->identity(), shared_model().identity());
  TrainOptions other_seed = small_options(2);
  other_seed.seed = 7;
  auto reseeded = train_sif_model(abstracts(), other_seed);
  ASSERT_TRUE(reseeded) << reseeded.error().message;
  EXPECT_NE((*reseeded)->identity(), shared_model().identity());
  EXPECT_TRUE(shared_model().identity().starts_with("ppmi-svd-sif/1:"));
}

TEST(SifModel, SavesAndLoadsTheSameModel) {
  TempDir dir;
  const fs::path path = dir.path() / "embed" / "model.bin";
  ASSERT_TRUE(shared_model().save(path));
  EXPECT_FALSE(fs::exists(path.string() + ".tmp"));
  auto loaded = SifModel::load(path);
  ASSERT_TRUE(loaded) << loaded.error().message;
  EXPECT_EQ((*loaded)->identity(), shared_model().identity());
  EXPECT_EQ((*loaded)->embed("diffusion models for image editing"),
            shared_model().embed("diffusion models for image editing"));
}

TEST(SifModel, DamagedOrForeignFilesGiveClearErrors) {
  TempDir dir;
  const fs::path path = dir.path() / "model.bin";
  auto missing = SifModel::load(path);
  ASSERT_FALSE(missing);
  EXPECT_NE(missing.error().message.find("embed train"), std::string::npos);

  std::ofstream(path) << "{\"not\": \"a model\"}";
  auto foreign = SifModel::load(path);
  ASSERT_FALSE(foreign);
  EXPECT_NE(foreign.error().message.find("not a paperboy embedding model"), std::string::npos);

  ASSERT_TRUE(shared_model().save(path));
  {
    std::fstream file(path, std::ios::in | std::ios::out | std::ios::binary);
    file.seekp(100);
    file.put('\x7f');
  }
  auto damaged = SifModel::load(path);
  ASSERT_FALSE(damaged);
  EXPECT_NE(damaged.error().message.find(path.string()), std::string::npos);
  EXPECT_NE(damaged.error().message.find("damaged"), std::string::npos);

  fs::resize_file(path, 50);
  EXPECT_FALSE(SifModel::load(path));
}

TEST(SifModel, TooSmallACorpusIsRefused) {
  const std::vector<std::string> texts = {"attention is all you need", "state space models"};
  auto trained = train_sif_model(texts, small_options(2));
  ASSERT_FALSE(trained);
  EXPECT_NE(trained.error().message.find("lower --dim"), std::string::npos);
  TrainOptions zero = small_options(2);
  zero.dimension = 0;
  EXPECT_FALSE(train_sif_model(abstracts(), zero));
}

}  // namespace
}  // namespace paperboy::embed
