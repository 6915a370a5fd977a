#include "feed/feed.h"

#include <fmt/format.h>
#include <gtest/gtest.h>
#include <stdlib.h>

#include <algorithm>
#include <fstream>
#include <nlohmann/json.hpp>
#include <random>

#include "core/date.h"

namespace paperboy::feed {
namespace {

namespace fs = std::filesystem;
using std::chrono::days;
using std::chrono::hours;
using std::chrono::sys_days;
using std::chrono::sys_seconds;

class TempDir {
 public:
  TempDir() {
    std::string pattern = (fs::temp_directory_path() / "paperboy-feed-XXXXXX").string();
    path_ = mkdtemp(pattern.data());
  }
  ~TempDir() { fs::remove_all(path_); }
  fs::path operator/(std::string_view name) const { return path_ / name; }

 private:
  fs::path path_;
};

sys_days day(const char* iso) { return *parse_date(iso); }
sys_seconds instant(const char* iso) { return *parse_instant(iso); }

Paper feed_paper(std::string id, std::string feed_day, int64_t upvotes,
                 std::vector<std::string> categories = {"cs.LG"}, std::string submitted_at = {}) {
  Paper paper;
  paper.arxiv_id = std::move(id);
  paper.version = 1;
  paper.title = "Paper " + paper.arxiv_id;
  paper.feed_day = std::move(feed_day);
  paper.upvotes = upvotes;
  paper.categories = std::move(categories);
  paper.submitted_at = std::move(submitted_at);
  return paper;
}

// The store decorated to count what trending reads from it.
class CountingStore : public store::Store {
 public:
  explicit CountingStore(store::Store& inner) : inner_(inner) {}
  size_t papers_read = 0;
  size_t older_papers_read = 0;  // by queries reaching back to the beginning of time

  Result<void> begin_batch() override { return inner_.begin_batch(); }
  Result<void> commit_batch() override { return inner_.commit_batch(); }
  void rollback_batch() override { inner_.rollback_batch(); }
  Result<store::UpsertOutcome> upsert(const Paper& paper) override { return inner_.upsert(paper); }
  Result<std::optional<Paper>> find(std::string_view id) override { return inner_.find(id); }
  Result<std::vector<Paper>> feed_papers(std::string_view first, std::string_view last,
                                         std::string_view category) override {
    return inner_.feed_papers(first, last, category);
  }
  Result<std::vector<std::string>> feed_days() override { return inner_.feed_days(); }
  Result<void> for_each_paper(const std::function<void(const Paper&)>& visit) override {
    return inner_.for_each_paper(visit);
  }
  Result<store::StoreStats> stats() override { return inner_.stats(); }
  Result<std::optional<std::string>> feed_day_before(std::string_view day,
                                                     std::string_view category) override {
    return inner_.feed_day_before(day, category);
  }
  Result<std::optional<std::string>> feed_day_after(std::string_view day,
                                                    std::string_view category) override {
    return inner_.feed_day_after(day, category);
  }
  Result<std::vector<Paper>> upvoted_papers(sys_seconds from, sys_seconds to,
                                            int64_t min_upvotes) override {
    auto papers = inner_.upvoted_papers(from, to, min_upvotes);
    if (papers) papers_read += papers->size();
    if (papers && from == sys_seconds::min()) older_papers_read += papers->size();
    return papers;
  }

 private:
  store::Store& inner_;
};

class FeedTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto opened = store::open_sqlite_store(dir_ / "papers.db");
    ASSERT_TRUE(opened) << opened.error().message;
    store_ = std::move(*opened);
  }

  void add(const std::vector<Paper>& papers) {
    ASSERT_TRUE(store_->begin_batch());
    for (const Paper& paper : papers) {
      auto outcome = store_->upsert(paper);
      ASSERT_TRUE(outcome) << outcome.error().message;
    }
    ASSERT_TRUE(store_->commit_batch());
  }

  FeedPage load(Period period, const char* date, SortOrder sort = SortOrder::upvotes,
                std::string category = {}) {
    FeedQuery query{.period = period,
                    .date = day(date),
                    .category = std::move(category),
                    .sort = sort,
                    .now = instant("2025-01-14T12:00:00Z")};
    auto page = load_feed(*store_, query);
    EXPECT_TRUE(page) << page.error().message;
    return page.value_or(FeedPage{});
  }

  static std::vector<std::string> ids(const std::vector<Paper>& papers) {
    std::vector<std::string> result;
    for (const Paper& paper : papers) result.push_back(paper.arxiv_id);
    return result;
  }

  TempDir dir_;
  std::unique_ptr<store::Store> store_;
};

using Ids = std::vector<std::string>;

// Three arXiv announcement days around a weekend: Thu 9, then Mon 13 and Tue 14 January 2025.
class WeekFeedTest : public FeedTest {
 protected:
  void SetUp() override {
    FeedTest::SetUp();
    add({feed_paper("2501.00001", "2025-01-09", 5, {"cs.CL"}, "2025-01-09T08:00:00Z"),
         feed_paper("2501.00002", "2025-01-09", 5, {"cs.CV"}, "2025-01-09T09:00:00Z"),
         feed_paper("2501.00003", "2025-01-09", 20, {"math.AG"}),
         feed_paper("2501.00004", "2025-01-13", 2, {"cs.CL", "cs.AI"}, "2025-01-13T07:00:00Z"),
         feed_paper("2501.00005", "2025-01-13", 9, {"stat.ML"}, "2025-01-13T06:00:00Z"),
         feed_paper("2501.00006", "2025-01-14", 1, {"cs.CV"}, "2025-01-14T06:00:00Z"),
         feed_paper("2412.00007", "2024-12-02", 300, {"cs.CL"})});
  }
};

TEST_F(WeekFeedTest, DayFeedOrdersByUpvotesThenRecency) {
  FeedPage page = load(Period::day, "2025-01-09");
  EXPECT_EQ(page.first_day, "2025-01-09");
  EXPECT_EQ(page.last_day, "2025-01-09");
  EXPECT_EQ(ids(page.papers), (Ids{"2501.00003", "2501.00002", "2501.00001"}));
}

TEST_F(WeekFeedTest, SortsByDateAndByTrending) {
  FeedPage by_date = load(Period::week, "2025-01-14", SortOrder::date);
  EXPECT_EQ(ids(by_date.papers), (Ids{"2501.00006", "2501.00004", "2501.00005"}));
  // At 12:00 on the 14th: 00005 (9 votes, 30 h) outranks 00006 (1 vote, 6 h), which outranks
  // 00004 (2 votes, 29 h): 1/1.25^1.8 = 0.67 > 2/2.21^1.8 = 0.48.
  FeedPage by_trend = load(Period::week, "2025-01-14", SortOrder::trending);
  EXPECT_EQ(ids(by_trend.papers), (Ids{"2501.00005", "2501.00006", "2501.00004"}));
}

TEST_F(WeekFeedTest, WeeksStartOnMondayAndMonthsSpanTheirDays) {
  FeedPage week = load(Period::week, "2025-01-12");  // a Sunday
  EXPECT_EQ(week.first_day, "2025-01-06");
  EXPECT_EQ(week.last_day, "2025-01-12");
  EXPECT_EQ(ids(week.papers), (Ids{"2501.00003", "2501.00002", "2501.00001"}));
  EXPECT_EQ(week.previous, "2024-12-02");
  EXPECT_EQ(week.next, "2025-01-13");

  FeedPage month = load(Period::month, "2025-01-31");
  EXPECT_EQ(month.first_day, "2025-01-01");
  EXPECT_EQ(month.last_day, "2025-01-31");
  EXPECT_EQ(month.papers.size(), 6u);
  EXPECT_EQ(month.previous, "2024-12-01");
  EXPECT_EQ(month.next, "");

  EXPECT_EQ(period_bounds(Period::month, day("2024-02-10")),
            std::pair(day("2024-02-01"), day("2024-02-29")));
  EXPECT_EQ(period_bounds(Period::month, day("2024-12-31")),
            std::pair(day("2024-12-01"), day("2024-12-31")));
  EXPECT_EQ(period_bounds(Period::week, day("2024-12-30")),
            std::pair(day("2024-12-30"), day("2025-01-05")));
}

TEST_F(WeekFeedTest, DayNavigationSkipsDaysWithoutPapers) {
  FeedPage monday = load(Period::day, "2025-01-13");
  EXPECT_EQ(monday.previous, "2025-01-09");
  EXPECT_EQ(monday.next, "2025-01-14");
  FeedPage saturday = load(Period::day, "2025-01-11");
  EXPECT_TRUE(saturday.papers.empty());
  EXPECT_EQ(saturday.previous, "2025-01-09");
  EXPECT_EQ(saturday.next, "2025-01-13");
  FeedPage first = load(Period::day, "2024-12-02");
  EXPECT_EQ(first.previous, "");
  EXPECT_EQ(first.next, "2025-01-09");
}

TEST_F(WeekFeedTest, FiltersByCategoryAndNavigatesWithinIt) {
  FeedPage page = load(Period::day, "2025-01-13", SortOrder::upvotes, "cs.CL");
  EXPECT_EQ(ids(page.papers), (Ids{"2501.00004"}));
  EXPECT_EQ(page.previous, "2025-01-09");
  EXPECT_EQ(page.next, "");
  FeedPage vision = load(Period::day, "2025-01-13", SortOrder::upvotes, "cs.CV");
  EXPECT_TRUE(vision.papers.empty());
  EXPECT_EQ(vision.next, "2025-01-14");
  FeedPage archive = load(Period::month, "2025-01-01", SortOrder::upvotes, "cs");
  EXPECT_EQ(ids(archive.papers), (Ids{"2501.00002", "2501.00001", "2501.00004", "2501.00006"}));
  EXPECT_EQ(archive.previous, "2024-12-01");
}

TEST_F(WeekFeedTest, FindsTheLatestFeedDay) {
  EXPECT_EQ(*latest_feed_day(*store_, day("2025-01-12")), "2025-01-09");
  EXPECT_EQ(*latest_feed_day(*store_, day("2025-01-13")), "2025-01-13");
  EXPECT_EQ(*latest_feed_day(*store_, day("2030-01-01")), "2025-01-14");
  EXPECT_EQ(*latest_feed_day(*store_, day("2020-01-01")), "2025-01-14");
}

TEST_F(FeedTest, AnEmptyStoreHasNoLatestDayAndEmptyFeeds) {
  EXPECT_EQ(*latest_feed_day(*store_, day("2025-01-01")), std::nullopt);
  FeedPage page = load(Period::week, "2025-01-01");
  EXPECT_TRUE(page.papers.empty());
  EXPECT_EQ(page.previous, "");
  EXPECT_EQ(page.next, "");
  EXPECT_TRUE(trending(*store_, instant("2025-01-01"), 10)->empty());
}

TEST(TrendingScore, AFreshPaperWithFewerUpvotesBeatsAnOldOneWithMore) {
  const sys_seconds now = instant("2025-06-10T12:00:00Z");
  Paper fresh = feed_paper("2506.00001", "2025-06-10", 12, {}, "2025-06-10T06:00:00Z");
  Paper last_week = feed_paper("2506.00002", "2025-06-03", 60, {}, "2025-06-03T06:00:00Z");
  EXPECT_GT(trending_score(fresh, now), trending_score(last_week, now));
  // Among papers of the same age, upvotes decide.
  Paper fresh_popular = fresh;
  fresh_popular.upvotes = 13;
  EXPECT_GT(trending_score(fresh_popular, now), trending_score(fresh, now));
  // At the moment of entry the score is the upvote count.
  EXPECT_DOUBLE_EQ(trending_score(fresh, instant("2025-06-10T06:00:00Z")), 12.0);
  Paper unvoted = fresh;
  unvoted.upvotes = 0;
  EXPECT_EQ(trending_score(unvoted, now), 0);
}

// The slow, obvious ranking: score every paper in the store.
std::vector<std::string> trending_oracle(store::Store& store, sys_seconds now, size_t limit) {
  struct Scored {
    double score;
    int64_t upvotes;
    sys_seconds entered;
    std::string id;
  };
  std::vector<Scored> scored;
  EXPECT_TRUE(store.for_each_paper([&](const Paper& paper) {
    auto entered = store::entered_feed_at(paper);
    if (paper.upvotes > 0 && entered && *entered <= now)
      scored.push_back({trending_score(paper, now), paper.upvotes, *entered, paper_id(paper)});
  }));
  std::sort(scored.begin(), scored.end(), [](const Scored& a, const Scored& b) {
    if (a.score != b.score) return a.score > b.score;
    if (a.upvotes != b.upvotes) return a.upvotes > b.upvotes;
    if (a.entered != b.entered) return a.entered > b.entered;
    return a.id < b.id;
  });
  std::vector<std::string> ids;
  for (size_t i = 0; i < std::min(limit, scored.size()); ++i) ids.push_back(scored[i].id);
  return ids;
}

TEST_F(FeedTest, PrunedTrendingEqualsScoringEveryPaper) {
  // Three years of papers with heavy-tailed upvotes, some without votes or submission times.
  std::mt19937 random(20250614);
  std::vector<Paper> papers;
  const sys_days first_day = day("2023-01-01");
  for (int i = 0; i < 3000; ++i) {
    const sys_days feed_day = first_day + days{random() % (3 * 365)};
    const int64_t upvotes = static_cast<int64_t>(std::pow(2.0, (random() % 1000) / 110.0)) - 1;
    std::string submitted = random() % 4 == 0
                                ? std::string()
                                : format_instant(sys_seconds{feed_day} + hours{random() % 24});
    papers.push_back(feed_paper(fmt::format("2301.{:05}", i), format_date(feed_day), upvotes,
                                {"cs.LG"}, submitted));
  }
  add(papers);
  CountingStore counting(*store_);
  for (const char* now : {"2023-01-01T00:00:00Z", "2024-03-15T09:30:00Z", "2025-12-31T23:00:00Z",
                          "2026-01-20T00:00:00Z", "2031-01-01T00:00:00Z"}) {
    for (size_t limit : {1u, 5u, 30u, 200u, 5000u}) {
      auto ranked = trending(counting, instant(now), limit);
      ASSERT_TRUE(ranked) << ranked.error().message;
      std::vector<std::string> got;
      for (const Paper& paper : *ranked) got.push_back(paper_id(paper));
      EXPECT_EQ(got, trending_oracle(*store_, instant(now), limit)) << now << " top " << limit;
    }
  }
  EXPECT_GT(counting.older_papers_read, 0u) << "the upvote bound was never exercised";
}

// Real Hugging Face Daily Papers days (shared data), read with the store's merge rules.
TEST_F(FeedTest, TrendingOnRealDailyPapersMatchesTheOracle) {
  const fs::path folder = fs::path(PAPERBOY_SHARED_DATA_DIR) / "hf-daily-papers";
  std::vector<Paper> papers;
  for (sys_days d = day("2025-05-01"); d <= day("2025-07-31"); d += days{1}) {
    std::ifstream in(folder / (format_date(d) + ".json"));
    if (!in) continue;
    auto records = nlohmann::json::parse(in, nullptr, false);
    if (!records.is_array()) continue;
    for (const auto& record : records) {
      if (!record.is_object() || !record.contains("paper")) continue;
      const auto& paper = record["paper"];
      Paper parsed = feed_paper(paper.value("id", ""), format_date(d), paper.value("upvotes", 0),
                                {}, paper.value("submittedOnDailyAt", ""));
      parsed.published = paper.value("publishedAt", "").substr(0, 10);
      papers.push_back(parsed);
    }
  }
  ASSERT_GT(papers.size(), 500u) << "missing shared data";
  add(papers);
  CountingStore counting(*store_);
  for (const char* now : {"2025-06-15T12:00:00Z", "2025-08-01T00:00:00Z"}) {
    counting.papers_read = 0;
    auto ranked = trending(counting, instant(now), 20);
    ASSERT_TRUE(ranked) << ranked.error().message;
    std::vector<std::string> got;
    for (const Paper& paper : *ranked) got.push_back(paper_id(paper));
    EXPECT_EQ(got, trending_oracle(*store_, instant(now), 20)) << now;
    // About a week of the three months is read: ~15 papers a day.
    EXPECT_LT(counting.papers_read, papers.size() / 5) << now;
  }
}

}  // namespace
}  // namespace paperboy::feed
