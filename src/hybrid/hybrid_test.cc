#include "hybrid/hybrid.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cmath>
#include <fstream>
#include <nlohmann/json.hpp>
#include <set>
#include <thread>

#include "embed/sif_model.h"
#include "hybrid/live_semantic.h"

namespace paperboy::hybrid {
namespace {

namespace fs = std::filesystem;

class TempDir {
 public:
  TempDir() {
    char pattern[] = "/tmp/paperboy-hybrid-test-XXXXXX";
    path_ = mkdtemp(pattern);
  }
  ~TempDir() { fs::remove_all(path_); }
  const fs::path& path() const { return path_; }

 private:
  fs::path path_;
};

std::vector<Paper> test_papers() {
  std::vector<Paper> papers;
  std::ifstream in(fs::path(PAPERBOY_SOURCE_DIR) / "src/embed/testdata/papers.jsonl");
  for (std::string line; std::getline(in, line);) {
    auto record = nlohmann::json::parse(line);
    Paper paper;
    paper.arxiv_id = record["id"];
    paper.title = record["title"];
    paper.abstract = record["abstract"];
    paper.categories = record["categories"].get<std::vector<std::string>>();
    paper.feed_day = record["day"];
    papers.push_back(std::move(paper));
  }
  return papers;
}

// A keyword index and a semantic index of the same 1,000 real papers, built once.
struct Fixture {
  TempDir dir;
  std::vector<Paper> papers;
  std::shared_ptr<const index::Snapshot> keyword;
  SemanticIndex semantic;
  std::unique_ptr<embed::SifModel> model;

  Fixture() : papers(test_papers()) {
    auto writer = index::IndexWriter::open(dir.path() / "index");
    EXPECT_TRUE(writer);
    std::vector<std::string> texts, ids;
    for (const Paper& paper : papers) {
      EXPECT_TRUE((*writer)->add(index::document_from_paper(paper)));
      texts.push_back(embed::paper_text(paper));
      ids.push_back(paper_id(paper));
    }
    EXPECT_TRUE((*writer)->commit());
    keyword = *index::Snapshot::open(dir.path() / "index");

    embed::TrainOptions options;
    options.dimension = 64;
    options.min_count = 2;
    options.power_iterations = 2;
    model = std::move(*embed::train_sif_model(texts, options));
    const fs::path model_path = dir.path() / "embed" / "model.bin";
    EXPECT_TRUE(model->save(model_path));
    auto vectors = vector::VectorIndex::create(model->dimension(), model->identity());
    std::vector<float> rows;
    for (const std::string& text : texts) {
      auto row = model->embed(text);
      rows.insert(rows.end(), row.begin(), row.end());
    }
    EXPECT_TRUE(vectors->upsert_batch(ids, rows, 2));
    EXPECT_TRUE(vectors->save(dir.path() / "vectors", {&model_path, 1}));
    auto opened = open_semantic(dir.path() / "vectors");
    EXPECT_TRUE(opened) << opened.error().message;
    semantic = *opened;
  }
};

Fixture& fixture() {
  static Fixture* shared = new Fixture();
  return *shared;
}

search::Hit keyword_hit(std::string id, double score) {
  search::Hit hit;
  hit.paper_id = std::move(id);
  hit.score = score;
  return hit;
}

FusionParams fusion(Fusion kind, double semantic_weight = 0.3) {
  FusionParams params;
  params.fusion = kind;
  params.semantic_weight = semantic_weight;
  return params;
}

HybridOptions options(Mode mode, size_t limit = 20) {
  HybridOptions result;
  result.mode = mode;
  result.limit = limit;
  return result;
}

TEST(Fuse, ReciprocalRankFusionAddsOneOverKPlusRank) {
  const std::vector<search::Hit> keyword = {keyword_hit("a", 9), keyword_hit("b", 5)};
  const std::vector<vector::Neighbor> semantic = {{"c", 0.9f}, {"b", 0.8f}};
  const auto fused = fuse(keyword, semantic, fusion(Fusion::kReciprocalRank));
  ASSERT_EQ(fused.size(), 3u);
  EXPECT_EQ(fused[0].paper_id, "b");  // second on both sides beats first on one
  EXPECT_DOUBLE_EQ(fused[0].score, 2.0 / 62);
  EXPECT_EQ(fused[0].keyword_score, 5);
  EXPECT_NEAR(*fused[0].semantic_score, 0.8, 1e-6);
  EXPECT_DOUBLE_EQ(fused[1].score, 1.0 / 61);
  EXPECT_FALSE(fused[1].semantic_score && fused[1].keyword_score);
}

TEST(Fuse, ScoreBlendNormalisesEachSide) {
  const std::vector<search::Hit> keyword = {keyword_hit("a", 20), keyword_hit("b", 10),
                                            keyword_hit("c", 0)};
  const std::vector<vector::Neighbor> semantic = {{"c", 0.9f}, {"a", 0.5f}, {"d", 0.1f}};
  const auto fused = fuse(keyword, semantic, fusion(Fusion::kScoreBlend, 0.25));
  ASSERT_EQ(fused.size(), 4u);
  // Min-max per side: a: 0.75 * 1 + 0.25 * 0.5; b: 0.75 * 0.5; c: 0.25 * 1; d: 0.
  EXPECT_EQ(fused[0].paper_id, "a");
  EXPECT_NEAR(fused[0].score, 0.875, 1e-6);
  EXPECT_EQ(fused[1].paper_id, "b");
  EXPECT_NEAR(fused[1].score, 0.375, 1e-6);
  EXPECT_EQ(fused[2].paper_id, "c");
  EXPECT_EQ(fused[3].paper_id, "d");
  EXPECT_NEAR(fused[3].score, 0.0, 1e-9);
}

TEST(Fuse, ZScoreBlendStandardisesEachSideAndFloorsMissingPapers) {
  const std::vector<search::Hit> keyword = {keyword_hit("a", 30), keyword_hit("b", 20),
                                            keyword_hit("c", 10)};
  const std::vector<vector::Neighbor> semantic = {{"c", 0.9f}, {"d", 0.5f}};
  const auto fused = fuse(keyword, semantic, fusion(Fusion::kZScore, 0.5));
  ASSERT_EQ(fused.size(), 4u);
  // Keyword z: a +1.2247, b 0, c -1.2247; semantic z: c +1, d -1. a and b lack a semantic
  // score and d a keyword one: each counts as its side's lowest (-1 and -1.2247).
  const double z = std::sqrt(1.5);
  EXPECT_EQ(fused[0].paper_id, "a");
  EXPECT_NEAR(fused[0].score, 0.5 * z - 0.5, 1e-6);
  EXPECT_EQ(fused[1].paper_id, "c");
  EXPECT_NEAR(fused[1].score, -0.5 * z + 0.5, 1e-6);
  EXPECT_EQ(fused[2].paper_id, "b");
  EXPECT_NEAR(fused[2].score, -0.5, 1e-6);
  EXPECT_EQ(fused[3].paper_id, "d");
  EXPECT_NEAR(fused[3].score, -0.5 * z - 0.5, 1e-6);
}

TEST(Feedback, MovesTheQueryTowardTheTopKeywordHitsVectors) {
  auto index = vector::VectorIndex::create(4, "test-model");
  ASSERT_TRUE(index->upsert("a", std::vector<float>{0, 1, 0, 0}));
  ASSERT_TRUE(index->upsert("b", std::vector<float>{0, 0, 1, 0}));
  const std::vector<float> query = {1, 0, 0, 0};
  const std::vector<search::Hit> keyword = {keyword_hit("a", 9), keyword_hit("missing", 8),
                                            keyword_hit("b", 7)};
  // Top 2 keyword hits: "a" has a vector, "missing" none: (0.5 * query + 0.5 * a), unit length.
  const auto steered = feedback_query(*index, query, keyword, 2, 0.5);
  ASSERT_EQ(steered.size(), 4u);
  EXPECT_NEAR(steered[0], std::sqrt(0.5), 1e-2);
  EXPECT_NEAR(steered[1], std::sqrt(0.5), 1e-2);
  EXPECT_NEAR(steered[2], 0, 1e-6);
  EXPECT_EQ(feedback_query(*index, query, keyword, 0, 0.5), query);
  EXPECT_EQ(feedback_query(*index, query, {keyword_hit("missing", 1)}, 3, 0.5), query);
}

TEST(Feedback, KeywordCandidatesGetTheirOwnSimilarity) {
  // Four dimensions: hnswlib wants each stored element 4-byte aligned (int8 codes + scale).
  auto index = vector::VectorIndex::create(4, "test-model");
  ASSERT_TRUE(index->upsert("a", std::vector<float>{1, 0, 0, 0}));
  ASSERT_TRUE(index->upsert("b", std::vector<float>{0.6f, 0.8f, 0, 0}));
  const std::vector<float> query = {0, 1, 0, 0};
  const std::vector<vector::Neighbor> semantic = {{"c", 0.9f}};
  const auto completed = with_keyword_candidates(
      *index, query, semantic, {keyword_hit("a", 5), keyword_hit("b", 4), keyword_hit("x", 3)});
  ASSERT_EQ(completed.size(), 3u);  // "x" has no vector
  EXPECT_EQ(completed[0].paper_id, "c");
  EXPECT_EQ(completed[1].paper_id, "b");
  EXPECT_NEAR(completed[1].similarity, 0.8, 1e-2);
  EXPECT_EQ(completed[2].paper_id, "a");
  EXPECT_NEAR(completed[2].similarity, 0, 1e-2);
}

TEST(SemanticText, DropsOperatorsAndKeepsWords) {
  EXPECT_EQ(semantic_text("mamba \"state space\" -survey cat:cs.CL after:2024-01-01 OR title:ssm"),
            "mamba state space ssm");
  EXPECT_EQ(semantic_text("  "), "");
}

TEST(HybridSearch, KeywordModeIsTheKeywordEngine) {
  Fixture& f = fixture();
  auto hybrid =
      search(f.keyword.get(), &f.semantic, "video generation", options(Mode::kKeyword, 10));
  ASSERT_TRUE(hybrid) << hybrid.error().message;
  search::SearchOptions options;
  options.limit = 10;
  auto plain = search::search(*f.keyword, "video generation", options);
  ASSERT_TRUE(plain);
  ASSERT_EQ(hybrid->hits.size(), plain->hits.size());
  for (size_t i = 0; i < plain->hits.size(); ++i)
    EXPECT_EQ(hybrid->hits[i].paper_id, plain->hits[i].paper_id);
}

// The first word of at least six letters of a title, lower-cased.
std::string first_long_word(const std::string& title) {
  std::string word;
  for (char c : title + " ") {
    if (std::isalpha(static_cast<unsigned char>(c))) {
      word += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    } else if (word.size() >= 6) {
      return word;
    } else {
      word.clear();
    }
  }
  return word;
}

// Hybrid's keyword candidates are the best papers by BM25F alone: keyword mode puts papers
// holding every word first, which with few candidates would crowd out better-scoring papers
// holding fewer.
TEST(HybridSearch, KeywordCandidatesAreTheBestByScoreAlone) {
  Fixture& f = fixture();
  HybridOptions keyword_only = options(Mode::kHybrid, 10);
  keyword_only.keyword_candidates = 10;
  keyword_only.fusion = fusion(Fusion::kScoreBlend, 0);
  keyword_only.fusion.feedback_papers = 0;
  keyword_only.fusion.score_keyword_candidates = false;
  size_t tiered_differently = 0;
  for (size_t i = 0; i + 1 < 400; i += 2) {
    // Words of two papers' titles: few papers hold both.
    const std::string query =
        first_long_word(f.papers[i].title) + " " + first_long_word(f.papers[i + 1].title);
    search::SearchOptions every_match;
    every_match.limit = f.papers.size();
    auto all = search::search(*f.keyword, query, every_match);
    ASSERT_TRUE(all);
    std::vector<double> best_scores;
    for (const search::Hit& hit : all->hits) best_scores.push_back(hit.score);
    std::vector<double> tiered_scores(
        best_scores.begin(), best_scores.begin() + std::min<size_t>(10, best_scores.size()));
    std::sort(best_scores.rbegin(), best_scores.rend());
    best_scores.resize(std::min<size_t>(10, best_scores.size()));
    std::sort(tiered_scores.rbegin(), tiered_scores.rend());
    if (tiered_scores != best_scores) ++tiered_differently;

    auto hybrid = search(f.keyword.get(), &f.semantic, query, keyword_only);
    ASSERT_TRUE(hybrid) << hybrid.error().message;
    std::vector<double> candidate_scores;
    for (const HybridHit& hit : hybrid->hits)
      if (hit.keyword_score) candidate_scores.push_back(*hit.keyword_score);
    ASSERT_EQ(candidate_scores.size(), best_scores.size()) << query;
    for (size_t k = 0; k < best_scores.size(); ++k) {
      EXPECT_NEAR(candidate_scores[k], best_scores[k], 1e-9) << query << " at " << k;
    }
  }
  // Queries where keyword mode's first ten are not the ten best scores: what this test is about.
  EXPECT_GT(tiered_differently, 0u);
}

TEST(HybridSearch, SemanticModeFindsAPaperFromARephrasedTitle) {
  Fixture& f = fixture();
  // Each paper's own abstract, as a query, must bring the paper into the top 3 semantically.
  size_t found = 0;
  for (size_t i = 0; i < 50; ++i) {
    const Paper& paper = f.papers[i * 20];
    auto results = search(f.keyword.get(), &f.semantic, paper.abstract.substr(0, 400),
                          options(Mode::kSemantic, 3));
    ASSERT_TRUE(results) << results.error().message;
    for (const HybridHit& hit : results->hits) found += hit.paper_id == paper.arxiv_id;
    for (const HybridHit& hit : results->hits) {
      EXPECT_TRUE(hit.semantic_score);
      EXPECT_FALSE(hit.date.empty());
    }
  }
  EXPECT_GE(found, 45u);
}

TEST(HybridSearch, HybridMixesBothSidesAndHonoursFilters) {
  Fixture& f = fixture();
  auto results =
      search(f.keyword.get(), &f.semantic, "speech recognition for low-resource languages",
             options(Mode::kHybrid, 20));
  ASSERT_TRUE(results) << results.error().message;
  EXPECT_EQ(results->mode, Mode::kHybrid);
  ASSERT_EQ(results->hits.size(), 20u);
  bool both = false;
  for (const HybridHit& hit : results->hits) both |= hit.keyword_score && hit.semantic_score;
  EXPECT_TRUE(both);
  for (size_t i = 1; i < results->hits.size(); ++i)
    EXPECT_GE(results->hits[i - 1].score, results->hits[i].score);

  auto filtered = search(f.keyword.get(), &f.semantic, "image segmentation cat:eess.IV",
                         options(Mode::kSemantic, 10));
  ASSERT_TRUE(filtered) << filtered.error().message;
  ASSERT_FALSE(filtered->hits.empty());
  for (const HybridHit& hit : filtered->hits) {
    auto location = f.keyword->find_paper(hit.paper_id);
    ASSERT_TRUE(location);
    const auto stored = f.keyword->segments()[location->segment].segment->stored(location->doc);
    EXPECT_NE(std::find(stored.categories.begin(), stored.categories.end(), "eess.IV"),
              stored.categories.end())
        << hit.paper_id;
  }
}

TEST(HybridSearch, LearnedFusionWithTheBlendsWeightsRanksAsTheBlend) {
  // Both sides' scores are min-max normalised with missing papers at 0, so weights 0.6 and 0.4
  // on them are the blend at w = 0.4; other weights must change the order.
  Fixture& f = fixture();
  HybridOptions blend = options(Mode::kHybrid, 20);
  blend.fusion.fusion = Fusion::kScoreBlend;
  blend.fusion.semantic_weight = 0.4;
  HybridOptions learned = blend;
  learned.fusion.fusion = Fusion::kLearned;
  learned.fusion.learned_weights = {0.6, 0.4, 0, 0, 0, 0, 0};
  HybridOptions lsi_only = learned;
  lsi_only.fusion.learned_weights = {0, 0, 0, 0, 0, 0, 1};
  const char* query = "speech recognition for low-resource languages";
  auto by_blend = search(f.keyword.get(), &f.semantic, query, blend);
  auto by_learned = search(f.keyword.get(), &f.semantic, query, learned);
  auto by_lsi = search(f.keyword.get(), &f.semantic, query, lsi_only);
  ASSERT_TRUE(by_blend && by_learned && by_lsi);
  ASSERT_EQ(by_learned->hits.size(), 20u);
  ASSERT_EQ(by_blend->hits.size(), by_learned->hits.size());
  size_t same_place = 0;
  for (size_t i = 0; i < by_blend->hits.size(); ++i) {
    EXPECT_EQ(by_learned->hits[i].paper_id, by_blend->hits[i].paper_id) << i;
    EXPECT_NEAR(by_learned->hits[i].score, by_blend->hits[i].score, 1e-9) << i;
    same_place += by_lsi->hits[i].paper_id == by_blend->hits[i].paper_id;
  }
  EXPECT_LT(same_place, 20u);
  EXPECT_TRUE(by_learned->hits[0].keyword_score);
  EXPECT_FALSE(by_learned->hits[0].date.empty());
  EXPECT_EQ(describe(learned.fusion), "learned v1 feedback 3x0.50 scored");
  EXPECT_EQ(parse_fusion("learned"), Fusion::kLearned);
}

TEST(HybridSearch, WithoutVectorsHybridIsKeywordAndSemanticSaysWhy) {
  Fixture& f = fixture();
  auto hybrid = search(f.keyword.get(), nullptr, "transformer", options(Mode::kHybrid));
  ASSERT_TRUE(hybrid);
  EXPECT_EQ(hybrid->mode, Mode::kKeyword);
  EXPECT_FALSE(hybrid->hits.empty());
  EXPECT_FALSE(hybrid->notes.empty());
  auto semantic = search(f.keyword.get(), nullptr, "transformer", options(Mode::kSemantic));
  ASSERT_FALSE(semantic);
  EXPECT_NE(semantic.error().message.find("embed train"), std::string::npos);
  EXPECT_FALSE(
      search(f.keyword.get(), &f.semantic, "mamba after:yesterday", options(Mode::kHybrid)));
}

TEST(Related, NearestPapersExcludeThePaperItself) {
  Fixture& f = fixture();
  const std::string id = f.papers[3].arxiv_id;
  auto neighbors = related(f.semantic, id, 5);
  ASSERT_TRUE(neighbors) << neighbors.error().message;
  ASSERT_EQ(neighbors->size(), 5u);
  for (const auto& neighbor : *neighbors) EXPECT_NE(neighbor.paper_id, id);
  for (size_t i = 1; i < neighbors->size(); ++i)
    EXPECT_GE((*neighbors)[i - 1].similarity, (*neighbors)[i].similarity);
  auto unknown = related(f.semantic, "9999.99999", 5);
  ASSERT_FALSE(unknown);
  EXPECT_NE(unknown.error().message.find("9999.99999"), std::string::npos);
}

TEST(Related, LikeTextFindsThePaperWhoseAbstractItIs) {
  Fixture& f = fixture();
  auto neighbors = like_text(f.semantic, f.papers[42].abstract, 3);
  ASSERT_TRUE(neighbors) << neighbors.error().message;
  ASSERT_FALSE(neighbors->empty());
  EXPECT_EQ(neighbors->front().paper_id, f.papers[42].arxiv_id);
  EXPECT_FALSE(like_text(f.semantic, "zzqx", 3));
}

TEST(OpenSemantic, RefusesVectorsMadeByAnotherModel) {
  Fixture& f = fixture();
  TempDir dir;
  const fs::path model_path = dir.path() / "model.bin";
  ASSERT_TRUE(f.model->save(model_path));
  auto vectors = vector::VectorIndex::create(f.model->dimension(), "some-other-model:1234");
  ASSERT_TRUE(vectors->upsert("x", f.model->embed("video")));
  ASSERT_TRUE(vectors->save(dir.path() / "vectors", {&model_path, 1}));
  auto opened = open_semantic(dir.path() / "vectors");
  ASSERT_FALSE(opened);
  EXPECT_NE(opened.error().message.find("did not make these vectors"), std::string::npos);
}

TEST(LiveSemantic, AppearsWhenVectorsAreSavedAndFollowsNewGenerations) {
  Fixture& f = fixture();
  TempDir dir;
  LiveSemantic live(dir.path() / "vectors");
  EXPECT_EQ(live.current(), nullptr);
  const fs::path model_path = dir.path() / "model.bin";
  ASSERT_TRUE(f.model->save(model_path));
  auto vectors = vector::VectorIndex::create(f.model->dimension(), f.model->identity());
  ASSERT_TRUE(vectors->upsert("x", f.model->embed("video")));
  ASSERT_TRUE(vectors->save(dir.path() / "vectors", {&model_path, 1}));
  std::this_thread::sleep_for(LiveSemantic::kCheckInterval + std::chrono::milliseconds(100));
  auto first = live.current();
  ASSERT_NE(first, nullptr) << live.last_error();
  EXPECT_EQ(first->vectors->size(), 1u);
  ASSERT_TRUE(vectors->upsert("y", f.model->embed("speech")));
  ASSERT_TRUE(vectors->save(dir.path() / "vectors", {&model_path, 1}));
  std::this_thread::sleep_for(LiveSemantic::kCheckInterval + std::chrono::milliseconds(100));
  auto second = live.current();
  ASSERT_NE(second, nullptr);
  EXPECT_EQ(second->vectors->size(), 2u);
  EXPECT_EQ(first->vectors->size(), 1u);  // readers of the old one are not disturbed
}

}  // namespace
}  // namespace paperboy::hybrid
