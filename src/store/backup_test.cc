#include <gtest/gtest.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <random>
#include <string>
#include <thread>

#include "store/sqlite_backup.h"
#include "store/store.h"

namespace paperboy::store {
namespace {

namespace fs = std::filesystem;

constexpr int kBatchSize = 50;

class Backup : public ::testing::Test {
 protected:
  void SetUp() override {
    std::random_device random;
    directory_ = fs::temp_directory_path() / ("paperboy-backup-" + std::to_string(random()));
    fs::create_directories(directory_);
  }
  void TearDown() override { fs::remove_all(directory_); }

  // Writes batch number `batch` of kBatchSize papers.
  static void write_batch(Store& store, int batch) {
    ASSERT_TRUE(store.begin_batch());
    for (int i = 0; i < kBatchSize; ++i) {
      Paper paper;
      paper.arxiv_id = fmt_id(batch * kBatchSize + i);
      paper.title = "Paper number " + std::to_string(batch * kBatchSize + i);
      paper.feed_day = "2024-05-01";
      ASSERT_TRUE(store.upsert(paper));
    }
    ASSERT_TRUE(store.commit_batch());
  }
  static std::string fmt_id(int n) {
    std::string digits = std::to_string(10000 + n);
    return "2405." + digits.substr(digits.size() - 5);
  }

  fs::path directory_;
};

TEST_F(Backup, CopyHoldsWholeBatchesWhileAWriterKeepsGoing) {
  auto store = open_sqlite_store(directory_ / "papers.db");
  ASSERT_TRUE(store) << store.error().message;
  write_batch(**store, 0);

  std::atomic<bool> stop{false};
  std::atomic<int> committed{1};
  std::thread writer([&] {
    for (int batch = 1; !stop && batch < 400; ++batch) {
      write_batch(**store, batch);
      ++committed;
    }
  });
  while (committed < 20) std::this_thread::yield();
  auto backed_up = backup_sqlite_store(directory_ / "papers.db", directory_ / "copy.db");
  stop = true;
  writer.join();
  ASSERT_TRUE(backed_up) << backed_up.error().message;

  ASSERT_TRUE(check_sqlite_integrity(directory_ / "copy.db"));
  auto copy = open_sqlite_store(directory_ / "copy.db");
  ASSERT_TRUE(copy) << copy.error().message;
  auto stats = (*copy)->stats();
  ASSERT_TRUE(stats);
  EXPECT_GE(stats->papers, 20 * kBatchSize);
  EXPECT_EQ(stats->papers % kBatchSize, 0) << "a batch was copied in part";
  auto live = (*store)->stats();
  ASSERT_TRUE(live);
  EXPECT_GE(live->papers, stats->papers);
  auto last = (*copy)->find(fmt_id(static_cast<int>(stats->papers) - 1));
  ASSERT_TRUE(last);
  EXPECT_TRUE(last->has_value());
}

TEST_F(Backup, NeverOverwritesAndNamesAMissingStore) {
  auto store = open_sqlite_store(directory_ / "papers.db");
  ASSERT_TRUE(store) << store.error().message;
  write_batch(**store, 0);
  std::ofstream(directory_ / "taken.db") << "keep me";
  auto refused = backup_sqlite_store(directory_ / "papers.db", directory_ / "taken.db");
  ASSERT_FALSE(refused);
  EXPECT_NE(refused.error().message.find("already exists"), std::string::npos);
  std::ifstream kept(directory_ / "taken.db");
  std::string content;
  std::getline(kept, content);
  EXPECT_EQ(content, "keep me");

  auto missing = backup_sqlite_store(directory_ / "absent.db", directory_ / "out.db");
  ASSERT_FALSE(missing);
  EXPECT_NE(missing.error().message.find("absent.db"), std::string::npos);
}

TEST_F(Backup, IntegrityCheckRejectsDamagedAndForeignFiles) {
  {
    auto store = open_sqlite_store(directory_ / "papers.db");
    ASSERT_TRUE(store) << store.error().message;
    for (int batch = 0; batch < 10; ++batch) write_batch(**store, batch);
  }
  ASSERT_TRUE(backup_sqlite_store(directory_ / "papers.db", directory_ / "copy.db"));
  EXPECT_TRUE(check_sqlite_integrity(directory_ / "copy.db"));

  // Overwrite the middle of the file: the pages there no longer make a b-tree.
  const auto size = fs::file_size(directory_ / "copy.db");
  {
    std::fstream file(directory_ / "copy.db", std::ios::in | std::ios::out | std::ios::binary);
    file.seekp(static_cast<std::streamoff>(size / 2));
    const std::string garbage(static_cast<size_t>(size / 4), '\x5a');
    file.write(garbage.data(), static_cast<std::streamsize>(garbage.size()));
  }
  auto damaged = check_sqlite_integrity(directory_ / "copy.db");
  EXPECT_FALSE(damaged);

  std::ofstream(directory_ / "notes.txt") << "not a database at all, just some text\n";
  auto foreign = check_sqlite_integrity(directory_ / "notes.txt");
  ASSERT_FALSE(foreign);
  EXPECT_NE(foreign.error().message.find("notes.txt"), std::string::npos);
}

}  // namespace
}  // namespace paperboy::store
