#include "recommend/recommend.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <fstream>
#include <nlohmann/json.hpp>

#include "embed/sif_model.h"

namespace paperboy::recommend {
namespace {

namespace fs = std::filesystem;

// The 1,000 real cs.CV / cs.CL papers of the embedder tests, in the feed of five days of
// March 2025, in a real SQLite store with a community store and vectors beside it.
struct Fixture {
  fs::path dir;
  std::vector<Paper> papers;
  std::unique_ptr<store::Store> store;
  std::unique_ptr<store::CommunityStore> community;
  std::shared_ptr<const hybrid::SemanticIndex> semantic;
  int64_t user_id = 0;

  Fixture() {
    char pattern[] = "/tmp/paperboy-recommend-test-XXXXXX";
    dir = mkdtemp(pattern);
    std::ifstream in(fs::path(PAPERBOY_SOURCE_DIR) / "src/embed/testdata/papers.jsonl");
    for (std::string line; std::getline(in, line);) {
      auto record = nlohmann::json::parse(line);
      Paper& paper = papers.emplace_back();
      paper.arxiv_id = record["id"];
      paper.title = record["title"];
      paper.abstract = record["abstract"];
      paper.categories = record["categories"].get<std::vector<std::string>>();
      paper.feed_day = record["day"];
      paper.submitted_at = paper.feed_day + "T08:00:00Z";
    }
    store = std::move(*store::open_sqlite_store(dir / "papers.db"));
    EXPECT_TRUE(store->begin_batch());
    for (const Paper& paper : papers) EXPECT_TRUE(store->upsert(paper));
    EXPECT_TRUE(store->commit_batch());
    community = std::move(*store::open_sqlite_community_store(dir / "papers.db"));
    user_id = community->add_user({"ada", "ada@example.org", "x", store::Role::user})->id;

    std::vector<std::string> texts, ids;
    for (const Paper& paper : papers) {
      texts.push_back(embed::paper_text(paper));
      ids.push_back(paper_id(paper));
    }
    embed::TrainOptions options;
    options.dimension = 64;
    options.min_count = 2;
    options.power_iterations = 2;
    auto model = std::move(*embed::train_sif_model(texts, options));
    const fs::path model_path = dir / "model.bin";
    EXPECT_TRUE(model->save(model_path));
    auto vectors = vector::VectorIndex::create(model->dimension(), model->identity());
    std::vector<float> rows;
    for (const std::string& text : texts) {
      auto row = model->embed(text);
      rows.insert(rows.end(), row.begin(), row.end());
    }
    EXPECT_TRUE(vectors->upsert_batch(ids, rows, 2));
    EXPECT_TRUE(vectors->save(dir / "vectors", {&model_path, 1}));
    auto opened = hybrid::open_semantic(dir / "vectors");
    EXPECT_TRUE(opened) << opened.error().message;
    semantic = std::make_shared<hybrid::SemanticIndex>(*opened);
  }
  ~Fixture() { fs::remove_all(dir); }

  // The first `count` papers of `category` from the first two feed days: what a reader of that
  // field would have liked before the days recommendations are asked for.
  std::vector<Like> early_likes(const std::string& category, size_t count) const {
    std::vector<Like> likes;
    for (const Paper& paper : papers) {
      if (likes.size() == count) break;
      if (paper.categories.front() == category && paper.feed_day <= "2025-03-21")
        likes.push_back({paper_id(paper), ""});
    }
    return likes;
  }

  const Paper& paper(const std::string& id) const {
    for (const Paper& p : papers) {
      if (paper_id(p) == id) return p;
    }
    throw std::runtime_error("no paper " + id);
  }
};

Fixture& fixture() {
  static Fixture* shared = new Fixture();
  return *shared;
}

// Candidates from the two busiest days, after the liked ones.
Options later_days(Method method = Method::kLinearSvm) {
  Options options;
  options.first_day = "2025-03-24";
  options.last_day = "2025-03-25";
  options.limit = 10;
  options.method = method;
  return options;
}

size_t in_category(const std::vector<Recommendation>& picks, const std::string& category) {
  size_t count = 0;
  for (const Recommendation& pick : picks) count += pick.paper.categories.front() == category;
  return count;
}

TEST(LikesOf, UpvotesNewestFirstThenCollectionItemsEachOnce) {
  Fixture& f = fixture();
  auto bob = f.community->add_user({"bob", "bob@example.org", "x", store::Role::user});
  ASSERT_TRUE(bob) << bob.error().message;
  ASSERT_TRUE(f.community->toggle_vote(bob->id, "2503.13531"));
  ASSERT_TRUE(f.community->toggle_vote(bob->id, f.papers[5].arxiv_id));
  auto shelf = f.community->create_collection(bob->id, "Reading list", "", false);
  ASSERT_TRUE(shelf);
  ASSERT_TRUE(f.community->put_in_collection(shelf->id, f.papers[5].arxiv_id, ""));
  ASSERT_TRUE(f.community->put_in_collection(shelf->id, f.papers[9].arxiv_id, "later"));

  auto likes = likes_of(*f.community, bob->id);
  ASSERT_TRUE(likes) << likes.error().message;
  ASSERT_EQ(likes->size(), 3u);
  // Both votes fall in the same second; the later one wins the tie by store order, so only
  // check that both come before the collection-only paper.
  EXPECT_TRUE((*likes)[0].collection.empty());
  EXPECT_TRUE((*likes)[1].collection.empty());
  EXPECT_EQ((*likes)[2].paper_id, f.papers[9].arxiv_id);
  EXPECT_EQ((*likes)[2].collection, "Reading list");

  auto capped = likes_of(*f.community, bob->id, 2);
  ASSERT_TRUE(capped);
  EXPECT_EQ(capped->size(), 2u);
}

TEST(Recommend, ACsClReaderGetsCsClPapersWithTheLikedPaperAsReason) {
  Fixture& f = fixture();
  std::vector<Like> likes = f.early_likes("cs.CL", 12);
  Recommender recommender(*f.store, f.semantic);
  auto picks = recommender.recommend(likes, later_days());
  ASSERT_TRUE(picks) << picks.error().message;
  ASSERT_EQ(picks->size(), 10u);
  // 18% of the candidates are cs.CL; the model must find them from the text alone.
  EXPECT_GE(in_category(*picks, "cs.CL"), 8u);
  std::set<std::string> liked;
  for (const Like& like : likes) liked.insert(like.paper_id);
  for (const Recommendation& pick : *picks) {
    EXPECT_FALSE(liked.contains(paper_id(pick.paper))) << paper_id(pick.paper);
    EXPECT_TRUE(liked.contains(pick.like_id)) << pick.like_id;
    EXPECT_EQ(pick.reason, "like «" + f.paper(pick.like_id).title + "» that you upvoted");
  }
  for (size_t i = 1; i < picks->size(); ++i) EXPECT_GE((*picks)[i - 1].score, (*picks)[i].score);
}

TEST(Recommend, IsRepeatableAndWorksWithoutVectors) {
  Fixture& f = fixture();
  std::vector<Like> likes = f.early_likes("cs.CL", 12);
  Recommender with_vectors(*f.store, f.semantic);
  auto first = with_vectors.recommend(likes, later_days());
  auto second = with_vectors.recommend(likes, later_days());
  ASSERT_TRUE(first && second);
  ASSERT_EQ(first->size(), second->size());
  for (size_t i = 0; i < first->size(); ++i)
    EXPECT_EQ(paper_id((*first)[i].paper), paper_id((*second)[i].paper));

  Recommender keyword_only(*f.store, nullptr);
  auto picks = keyword_only.recommend(likes, later_days());
  ASSERT_TRUE(picks) << picks.error().message;
  ASSERT_EQ(picks->size(), 10u);
  EXPECT_GE(in_category(*picks, "cs.CL"), 7u);
}

TEST(Recommend, NeighboursOfLikedPapersJoinTheCandidates) {
  Fixture& f = fixture();
  // Liked papers from the last day, candidates from a window holding only them: everything
  // recommended must come from the vector index's neighbours.
  std::vector<Like> likes;
  for (const Paper& paper : f.papers) {
    if (paper.feed_day == "2025-03-26") likes.push_back({paper_id(paper), "Favourites"});
  }
  ASSERT_FALSE(likes.empty());
  Options options;
  options.first_day = "2025-03-26";
  options.last_day = "2025-03-26";
  options.limit = 5;
  Recommender recommender(*f.store, f.semantic);
  auto picks = recommender.recommend(likes, options);
  ASSERT_TRUE(picks) << picks.error().message;
  ASSERT_EQ(picks->size(), 5u);
  for (const Recommendation& pick : *picks) {
    EXPECT_NE(pick.paper.feed_day, "2025-03-26");
    EXPECT_NE(pick.reason.find("in your collection «Favourites»"), std::string::npos)
        << pick.reason;
  }

  Recommender without_vectors(*f.store, nullptr);
  auto none = without_vectors.recommend(likes, options);
  ASSERT_TRUE(none);
  EXPECT_TRUE(none->empty());
}

TEST(Recommend, BaselinesRankByNearestLikeAndByRecency) {
  Fixture& f = fixture();
  std::vector<Like> likes = f.early_likes("cs.CL", 12);
  Recommender recommender(*f.store, f.semantic);
  auto nearest = recommender.recommend(likes, later_days(Method::kNearestNeighbor));
  ASSERT_TRUE(nearest) << nearest.error().message;
  ASSERT_EQ(nearest->size(), 10u);
  EXPECT_GE(in_category(*nearest, "cs.CL"), 6u);
  auto newest = recommender.recommend(likes, later_days(Method::kRecency));
  ASSERT_TRUE(newest);
  ASSERT_EQ(newest->size(), 10u);
  // Newest first: the window's papers and the liked papers' neighbours from any day.
  for (size_t i = 1; i < newest->size(); ++i)
    EXPECT_GE((*newest)[i - 1].paper.feed_day, (*newest)[i].paper.feed_day);
  EXPECT_GE(newest->front().paper.feed_day, "2025-03-25");
}

TEST(Recommend, NothingToLearnFromGivesNothing) {
  Fixture& f = fixture();
  Recommender recommender(*f.store, f.semantic);
  auto none = recommender.recommend({}, later_days());
  ASSERT_TRUE(none);
  EXPECT_TRUE(none->empty());
  auto unknown = recommender.recommend({{"9999.99999", ""}}, later_days());
  ASSERT_TRUE(unknown) << unknown.error().message;
  EXPECT_TRUE(unknown->empty());
  Options bad = later_days();
  bad.last_day = "March";
  bad.first_day.clear();
  auto refused = recommender.recommend(f.early_likes("cs.CL", 2), bad);
  ASSERT_FALSE(refused);
  EXPECT_NE(refused.error().message.find("last_day"), std::string::npos);
}

TEST(Recommend, TheLatestFeedDaysAreTheDefaultWindow) {
  Fixture& f = fixture();
  Recommender recommender(*f.store, nullptr);
  Options options;
  options.recent_days = 2;  // 2025-03-25 and 2025-03-26
  options.limit = 1000;
  auto picks = recommender.recommend(f.early_likes("cs.CV", 5), options);
  ASSERT_TRUE(picks) << picks.error().message;
  EXPECT_EQ(picks->size(), 402u);
  for (const Recommendation& pick : *picks) EXPECT_GE(pick.paper.feed_day, "2025-03-25");
}

}  // namespace
}  // namespace paperboy::recommend
