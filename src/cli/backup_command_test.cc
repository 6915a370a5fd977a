// `paperboy backup` and `restore` through the real binary: a backup taken while an ingest runs
// is a consistent store, and restoring it brings back exactly that state, search included.
#include <gtest/gtest.h>
#include <sys/wait.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <random>

#include "cli/test_process.h"

namespace paperboy::cli {
namespace {

namespace fs = std::filesystem;
using testing::Outcome;

const std::string kDemo = std::string(PAPERBOY_SOURCE_DIR) + "/demo";
const std::string kSnapshot =
    std::string(PAPERBOY_SOURCE_DIR) + "/src/ingest/testdata/arxiv-metadata-oai-snapshot.json";

class BackupCommand : public ::testing::Test {
 protected:
  void SetUp() override {
    std::random_device random;
    dir_ = fs::temp_directory_path() / ("paperboy-backup-cli-" + std::to_string(random()));
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }

  Outcome paperboy(std::vector<std::string> args) {
    args.insert(args.begin(), {PAPERBOY_BINARY, "--data", (dir_ / "data").string(), "--quiet"});
    return testing::run(args, dir_);
  }
  int64_t papers() {
    const Outcome stats = paperboy({"stats", "--json"});
    EXPECT_EQ(stats.exit_code, 0) << stats.err;
    return nlohmann::json::parse(stats.out).at("papers").get<int64_t>();
  }
  std::string search(const std::string& query) {
    const Outcome found = paperboy({"search", query, "--mode", "keyword"});
    EXPECT_EQ(found.exit_code == 0 || found.exit_code == 4, true) << found.err;
    return found.out;
  }

  fs::path dir_;
};

TEST_F(BackupCommand, RestoreBringsBackTheBackedUpStateAndKeepsTheReplacedStore) {
  Outcome ingested = paperboy({"ingest", kDemo});
  ASSERT_TRUE(ingested.exit_code == 0 || ingested.exit_code == 3) << ingested.err;
  const int64_t demo_papers = papers();
  ASSERT_GT(demo_papers, 100);
  const std::string demo_search = search("video generation");
  ASSERT_FALSE(demo_search.empty());

  const fs::path backup = dir_ / "backups" / "monday";
  Outcome backed_up = paperboy({"backup", backup.string()});
  ASSERT_EQ(backed_up.exit_code, 0) << backed_up.err;
  EXPECT_TRUE(fs::is_regular_file(backup / "paperboy.db"));
  EXPECT_TRUE(fs::is_regular_file(backup / "backup.json"));
  EXPECT_EQ(nlohmann::json::parse(testing::read_file(backup / "backup.json"))["papers"],
            demo_papers);
  EXPECT_EQ(paperboy({"backup", backup.string()}).exit_code, 2) << "overwrote a backup";

  ingested = paperboy({"ingest", kSnapshot});
  ASSERT_TRUE(ingested.exit_code == 0 || ingested.exit_code == 3) << ingested.err;
  ASSERT_GT(papers(), demo_papers);

  const Outcome refused = paperboy({"restore", backup.string()});
  EXPECT_EQ(refused.exit_code, 2);
  EXPECT_NE(refused.err.find("--force"), std::string::npos) << refused.err;
  EXPECT_GT(papers(), demo_papers) << "a refused restore changed the store";

  const Outcome restored = paperboy({"restore", "--force", backup.string()});
  ASSERT_EQ(restored.exit_code, 0) << restored.err;
  EXPECT_EQ(papers(), demo_papers);
  EXPECT_EQ(search("video generation"), demo_search);
  bool kept_old_store = false;
  for (const auto& entry : fs::directory_iterator(dir_ / "data")) {
    if (entry.path().filename().string().starts_with("paperboy.db.before-restore-")) {
      kept_old_store = true;
    }
  }
  EXPECT_TRUE(kept_old_store);
}

TEST_F(BackupCommand, BackupDuringAnIngestIsAConsistentStore) {
  Outcome ingested = paperboy({"ingest", kDemo});
  ASSERT_TRUE(ingested.exit_code == 0 || ingested.exit_code == 3) << ingested.err;
  const int64_t before = papers();

  const pid_t ingest = testing::spawn({PAPERBOY_BINARY, "--data", (dir_ / "data").string(),
                                       "--quiet", "ingest", "--batch", "10", kSnapshot},
                                      dir_ / "ingest.out", dir_ / "ingest.err");
  const Outcome backed_up = paperboy({"backup", (dir_ / "during").string()});
  int status = 0;
  waitpid(ingest, &status, 0);
  ASSERT_EQ(backed_up.exit_code, 0) << backed_up.err;
  ASSERT_TRUE(WIFEXITED(status));
  const int64_t after = papers();

  const fs::path copy_data = dir_ / "copy";
  const Outcome restored = testing::run({PAPERBOY_BINARY, "--data", copy_data.string(), "--quiet",
                                         "restore", (dir_ / "during").string()},
                                        dir_);
  ASSERT_EQ(restored.exit_code, 0) << restored.err;
  const Outcome stats =
      testing::run({PAPERBOY_BINARY, "--data", copy_data.string(), "stats", "--json"}, dir_);
  ASSERT_EQ(stats.exit_code, 0) << stats.err;
  const int64_t copied = nlohmann::json::parse(stats.out).at("papers").get<int64_t>();
  EXPECT_GE(copied, before);
  EXPECT_LE(copied, after);
}

TEST_F(BackupCommand, DamagedBackupIsRefusedAndTheStoreUntouched) {
  Outcome ingested = paperboy({"ingest", kDemo});
  ASSERT_TRUE(ingested.exit_code == 0 || ingested.exit_code == 3) << ingested.err;
  const int64_t demo_papers = papers();
  ASSERT_EQ(paperboy({"backup", (dir_ / "b").string()}).exit_code, 0);
  const auto size = fs::file_size(dir_ / "b" / "paperboy.db");
  {
    std::fstream file(dir_ / "b" / "paperboy.db", std::ios::in | std::ios::out | std::ios::binary);
    file.seekp(static_cast<std::streamoff>(size / 3));
    const std::string garbage(static_cast<size_t>(size / 3), '\x5a');
    file.write(garbage.data(), static_cast<std::streamsize>(garbage.size()));
  }
  const Outcome refused = paperboy({"restore", "--force", (dir_ / "b").string()});
  EXPECT_EQ(refused.exit_code, 1);
  EXPECT_NE(refused.err.find("paperboy.db"), std::string::npos) << refused.err;
  EXPECT_EQ(papers(), demo_papers);
}

}  // namespace
}  // namespace paperboy::cli
