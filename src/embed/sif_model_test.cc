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
  // Word vectors with all 48 dimensions (no LSI part), as small a model as words can share.
  TrainOptions options = small_options(2);
  options.lsi_fraction = 0;
  auto trained = train_sif_model(abstracts(), options);
  ASSERT_TRUE(trained) << trained.error().message;
  const SifModel& model = **trained;
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
  EXPECT_TRUE(shared_model().identity().starts_with("ppmi-svd-sif-lsi/2:"));
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

TEST(SifModel, WordAndLsiPartsEachCarryTheirShareOfTheSimilarity) {
  const SifModel& model = shared_model();
  ASSERT_EQ(model.word_dimension(), 24u);
  ASSERT_EQ(model.lsi_dimension(), 24u);
  const auto a = model.embed("vision language models for video understanding");
  const auto b = model.embed("speech recognition with transformers");
  const std::span<const float> a_words(a.data(), 24), a_lsi(a.data() + 24, 24);
  const std::span<const float> b_words(b.data(), 24), b_lsi(b.data() + 24, 24);
  // Each part has length sqrt(share), so the cosine is the shares' blend of the parts' cosines.
  EXPECT_NEAR(dot(a_words, a_words), 0.5f, 1e-4f);
  EXPECT_NEAR(dot(a_lsi, a_lsi), 0.5f, 1e-4f);
  EXPECT_NEAR(dot(a, b), dot(a_words, b_words) + dot(a_lsi, b_lsi), 1e-5f);
  EXPECT_LT(dot(a, b), 0.9f);
}

TEST(SifModel, LsiAloneFindsAbstractsFromTitles) {
  // Papers are folded in through the term vectors: a title (not a training text) lands near its
  // own abstract.
  TrainOptions options = small_options(2);
  options.lsi_fraction = 1;
  auto trained = train_sif_model(abstracts(), options);
  ASSERT_TRUE(trained) << trained.error().message;
  const SifModel& model = **trained;
  EXPECT_EQ(model.word_dimension(), 0u);
  EXPECT_EQ(model.lsi_dimension(), 48u);
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
  EXPECT_GT(static_cast<double>(in_top_10) / static_cast<double>(papers.size()), 0.5)
      << in_top_10 << " of " << papers.size();
}

TEST(SifModel, FewPapersGiveTheLsiPartFewerDimensions) {
  // The LSI rank cannot exceed what 40 papers hold; the word part takes the other dimensions.
  std::vector<std::string> texts = abstracts();
  texts.resize(40);
  auto trained = train_sif_model(texts, small_options(2));
  ASSERT_TRUE(trained) << trained.error().message;
  EXPECT_EQ((*trained)->dimension(), 48u);
  EXPECT_EQ((*trained)->lsi_dimension(), 8u);
  EXPECT_EQ((*trained)->word_dimension(), 40u);
  const auto vector = (*trained)->embed(texts[0]);
  EXPECT_NEAR(dot(vector, vector), 1.0f, 1e-4f);
}

TEST(SifModel, ModelsSavedBeforeLsiStillLoadWithTheirIdentity) {
  // The first model format: dimension, SIF a, terms with weights, word vectors, common
  // component, then the FNV-1a checksum of the body.
  std::string body;
  auto put = [&](const auto& value) {
    body.append(reinterpret_cast<const char*>(&value), sizeof value);
  };
  put(uint32_t{2});
  put(1e-3);
  put(uint32_t{2});
  for (std::string term : {"graph", "neural"}) {
    put(static_cast<uint16_t>(term.size()));
    body += term;
    put(1.0f);
  }
  for (float value : {1.0f, 0.0f, 0.0f, 1.0f, 0.0f, 0.0f}) put(value);
  uint64_t checksum = 1469598103934665603ull;
  for (unsigned char c : body) checksum = (checksum ^ c) * 1099511628211ull;
  TempDir dir;
  const fs::path path = dir.path() / "model.bin";
  {
    std::ofstream out(path, std::ios::binary);
    out << "PBSIF001" << body;
    out.write(reinterpret_cast<const char*>(&checksum), sizeof checksum);
  }
  auto loaded = SifModel::load(path);
  ASSERT_TRUE(loaded) << loaded.error().message;
  EXPECT_TRUE((*loaded)->identity().starts_with("ppmi-svd-sif/1:"));
  EXPECT_EQ((*loaded)->lsi_dimension(), 0u);
  EXPECT_EQ((*loaded)->embed("graphs"), (std::vector<float>{1.0f, 0.0f}));
  const auto both = (*loaded)->embed("neural graph");
  EXPECT_NEAR(both[0], std::sqrt(0.5f), 1e-6f);
  EXPECT_NEAR(both[1], std::sqrt(0.5f), 1e-6f);

  const fs::path copy = dir.path() / "copy.bin";
  ASSERT_TRUE((*loaded)->save(copy));
  auto reloaded = SifModel::load(copy);
  ASSERT_TRUE(reloaded) << reloaded.error().message;
  EXPECT_EQ((*reloaded)->identity(), (*loaded)->identity());
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
