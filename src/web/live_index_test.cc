// LiveIndex over a real index directory: reopening on commits, and readers during commits.
#include "web/live_index.h"

#include <gtest/gtest.h>

#include <atomic>
#include <filesystem>
#include <random>
#include <thread>
#include <vector>

#include "search/search.h"

namespace paperboy::web {
namespace {

namespace fs = std::filesystem;

Paper paper_numbered(int number) {
  Paper paper;
  paper.arxiv_id = "2501." + std::to_string(10000 + number);
  paper.title = "Lighthouse keeping report " + std::to_string(number);
  paper.abstract = "How lighthouses were kept.";
  paper.feed_day = "2025-01-15";
  return paper;
}

class LiveIndexTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::random_device random;
    directory_ = fs::temp_directory_path() / ("paperboy-live-index-" + std::to_string(random()));
    fs::remove_all(directory_);
    auto writer = index::IndexWriter::open(directory_);
    ASSERT_TRUE(writer) << writer.error().message;
    writer_ = std::move(*writer);
    add_and_commit(1);
  }
  void TearDown() override {
    writer_.reset();
    std::error_code ignored;
    fs::remove_all(directory_, ignored);
  }
  void add_and_commit(int number) {
    ASSERT_TRUE(writer_->add(index::document_from_paper(paper_numbered(number))));
    ASSERT_TRUE(writer_->commit());
  }

  fs::path directory_;
  std::unique_ptr<index::IndexWriter> writer_;
};

TEST_F(LiveIndexTest, ReopensAfterACommitAtMostOncePerInterval) {
  LiveIndex live(directory_);
  auto first = live.current();
  ASSERT_TRUE(first) << first.error().message;
  EXPECT_EQ((*first)->live_count(), 1u);

  add_and_commit(2);
  // Within the interval the server keeps the snapshot it has: no stat, no reopen.
  auto soon = live.current();
  ASSERT_TRUE(soon);
  EXPECT_EQ(soon->get(), first->get());

  std::this_thread::sleep_for(LiveIndex::kCheckInterval + std::chrono::milliseconds(50));
  auto later = live.current();
  ASSERT_TRUE(later);
  EXPECT_EQ((*later)->live_count(), 2u);
  EXPECT_GT((*later)->generation(), (*first)->generation());
  // The old snapshot still answers for whoever holds it.
  auto old_results = search::search(**first, "lighthouse", {});
  ASSERT_TRUE(old_results);
  EXPECT_EQ(old_results->hits.size(), 1u);

  // Without a new commit the next look keeps the same snapshot.
  std::this_thread::sleep_for(LiveIndex::kCheckInterval + std::chrono::milliseconds(50));
  auto unchanged = live.current();
  ASSERT_TRUE(unchanged);
  EXPECT_EQ(unchanged->get(), later->get());
}

TEST_F(LiveIndexTest, ReadersKeepSearchingWhileTheWriterCommits) {
  LiveIndex live(directory_);
  std::atomic<bool> done{false};
  std::atomic<int> failures{0};
  std::atomic<uint64_t> most_seen{0};
  std::vector<std::thread> readers;
  for (int r = 0; r < 3; ++r) {
    readers.emplace_back([&] {
      while (!done) {
        auto snapshot = live.current();
        if (!snapshot) {
          ++failures;
          continue;
        }
        auto results = search::search(**snapshot, "lighthouse", {});
        if (!results) ++failures;
        uint64_t seen = results ? results->hits.size() : 0;
        uint64_t previous = most_seen.load();
        while (seen > previous && !most_seen.compare_exchange_weak(previous, seen)) {
        }
      }
    });
  }
  for (int number = 2; number <= 4; ++number) {
    add_and_commit(number);
    std::this_thread::sleep_for(std::chrono::milliseconds(600));
  }
  std::this_thread::sleep_for(LiveIndex::kCheckInterval + std::chrono::milliseconds(100));
  done = true;
  for (std::thread& reader : readers) reader.join();
  EXPECT_EQ(failures, 0);
  EXPECT_EQ(most_seen, 4u);
}

TEST(LiveIndexMissing, ExplainsAMissingIndex) {
  LiveIndex live("/nonexistent/paperboy/index");
  auto snapshot = live.current();
  ASSERT_FALSE(snapshot);
  EXPECT_EQ(snapshot.error().message,
            "the search index in /nonexistent/paperboy/index cannot be opened "
            "(/nonexistent/paperboy/index: no index directory); build it with `paperboy index "
            "rebuild`");
}

}  // namespace
}  // namespace paperboy::web
