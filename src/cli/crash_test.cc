// Crash safety of the real binary: `paperboy ingest` runs on generated batches of papers and is
// killed with SIGKILL at chosen moments (while the store writes batches, while the index writes
// a segment for its commit, while a background merge writes its segment). After every kill the
// index must open at a commit that holds nothing the store lacks; after the catch-up the next
// ingest performs, the index must hold exactly the store's papers and find the same papers for a
// distinctive word as a scan of the store does.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <random>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "cli/test_process.h"
#include "index/index.h"
#include "search/search.h"
#include "store/store.h"

namespace paperboy {
namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

constexpr std::string_view kDistinctiveWord = "zebrafinch";
constexpr int kPapersPerFile = 700;

// Pseudo-words from syllables, so that the analyser keeps them as words.
std::string make_word(std::mt19937& random) {
  static const char* const kSyllables[] = {"ka", "lo", "mi",  "ne",  "ru",  "ta",  "vi", "so",
                                           "pe", "du", "gra", "tor", "mel", "xin", "bar"};
  std::string word;
  for (int n = 2 + static_cast<int>(random() % 3); n > 0; --n) word += kSyllables[random() % 15];
  return word;
}

// File `number` of the generated input: mostly new papers, plus new versions of earlier ones,
// some of which gain or lose the distinctive word.
fs::path write_input(const fs::path& directory, int number) {
  std::mt19937 random(1000 + number);
  fs::path path = directory / ("batch-" + std::to_string(number) + ".jsonl");
  std::ofstream out(path);
  for (int i = 0; i < kPapersPerFile; ++i) {
    int serial = number * kPapersPerFile + i;
    if (number > 0 && i % 5 == 0) serial = static_cast<int>(random() % (number * kPapersPerFile));
    char id[16];
    std::snprintf(id, sizeof(id), "24%02d.%05d", 1 + serial % 12, serial);
    std::string title;
    for (int w = 0; w < 8; ++w) title += make_word(random) + " ";
    std::string abstract;
    for (int w = 0; w < 50; ++w) abstract += make_word(random) + " ";
    if (random() % 6 == 0) abstract += std::string(kDistinctiveWord) + " ";
    nlohmann::json record = {
        {"arxiv_id", id},          {"title", title},
        {"abstract", abstract},    {"authors", {make_word(random) + " " + make_word(random)}},
        {"categories", {"cs.LG"}}, {"published", "2024-01-15"},
        {"feed_day", "2024-01-16"}};
    out << record.dump() << "\n";
  }
  return path;
}

std::set<std::string> manifest_segments(const fs::path& index_dir) {
  std::set<std::string> names;
  std::ifstream in(index_dir / "MANIFEST");
  std::string line;
  while (std::getline(in, line)) {
    std::istringstream fields(line);
    std::string key;
    std::string name;
    if (fields >> key >> name && key == "segment") names.insert(name);
  }
  return names;
}

// A segment file that the MANIFEST (read as `committed`) does not name: one is being written.
bool segment_being_written(const fs::path& index_dir, const std::set<std::string>& committed) {
  std::error_code error;
  for (const auto& entry : fs::directory_iterator(index_dir, error))
    if (entry.path().extension() == ".seg" && !committed.contains(entry.path().filename().string()))
      return true;
  return false;
}

enum class KillAt { kNever, kEarly, kSegmentWrite, kMergeWrite };

const char* describe(KillAt when) {
  switch (when) {
    case KillAt::kNever:
      return "never";
    case KillAt::kEarly:
      return "while the store writes batches";
    case KillAt::kSegmentWrite:
      return "while the index writes its commit's segment";
    case KillAt::kMergeWrite:
      return "while a background merge writes its segment";
  }
  return "";
}

class CrashSafety : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("paperboy-crash-" + std::to_string(getpid()));
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }

  fs::path data() const { return dir_ / "data"; }
  fs::path index_dir() const { return data() / "index"; }

  // Runs one ingest and kills it when `when` says; returns whether it was killed.
  bool ingest(const fs::path& input, KillAt when, std::chrono::milliseconds early_delay) {
    const std::vector<std::string> args = {PAPERBOY_BINARY, "--data",      data().string(),
                                           "--quiet",       "ingest",      "--batch",
                                           "200",           input.string()};
    const fs::path log = dir_ / "ingest.log";
    const auto started = Clock::now();
    const cli::testing::Ending ending = cli::testing::wait_or_kill(
        cli::testing::spawn(args, log, log, O_APPEND),
        [&] {
          if (when == KillAt::kEarly) return Clock::now() - started >= early_delay;
          if (when == KillAt::kNever) return false;
          // A merge writes while the MANIFEST already names the commit that triggered it.
          const std::set<std::string> committed = manifest_segments(index_dir());
          const bool merge_due = committed.size() >= 10;
          return segment_being_written(index_dir(), committed) &&
                 merge_due == (when == KillAt::kMergeWrite);
        },
        std::chrono::microseconds(500));
    if (!ending.killed) {
      EXPECT_TRUE(WIFEXITED(ending.status) && WEXITSTATUS(ending.status) == 0)
          << "ingest of " << input << " failed; log:\n"
          << cli::testing::read_file(log);
    }
    return ending.killed;
  }

  // Every paper in the store with its text; the test process is the only one using it.
  std::map<std::string, std::string> store_papers() {
    std::map<std::string, std::string> papers;
    auto store = store::open_sqlite_store(data() / "paperboy.db");
    EXPECT_TRUE(store) << store.error().message;
    if (!store) return papers;
    auto visited = (*store)->for_each_paper(
        [&](const Paper& paper) { papers[paper_id(paper)] = paper.title + " " + paper.abstract; });
    EXPECT_TRUE(visited);
    return papers;
  }

  fs::path dir_;
};

std::set<std::string> live_ids(const index::Snapshot& snapshot) {
  std::set<std::string> ids;
  for (const index::SegmentView& view : snapshot.segments())
    for (uint32_t doc = 0; doc < view.segment->doc_count(); ++doc)
      if (!view.is_deleted(doc)) ids.emplace(view.segment->paper_id(doc));
  return ids;
}

TEST_F(CrashSafety, IndexAgreesWithTheStoreAfterKillsAtAnyMoment) {
  fs::create_directories(dir_ / "input");
  std::mt19937 random(20261129);
  // The first ingest runs to the end and shows how long one takes here.
  auto started = Clock::now();
  ASSERT_FALSE(ingest(write_input(dir_ / "input", 0), KillAt::kNever, {}));
  auto full_run = std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - started);

  std::map<KillAt, int> kills;
  std::string rounds;  // what happened, for failure messages
  const KillAt cycle[] = {KillAt::kEarly, KillAt::kNever, KillAt::kSegmentWrite, KillAt::kNever,
                          KillAt::kNever};
  int file = 1;
  for (; file < 30; ++file) {
    // Once the MANIFEST holds nine segments, the next commit makes ten of one size: a merge.
    KillAt when = manifest_segments(index_dir()).size() >= 9 && kills[KillAt::kMergeWrite] == 0
                      ? KillAt::kMergeWrite
                      : cycle[file % 5];
    auto delay = std::chrono::milliseconds(random() % (full_run.count() / 2 + 1));
    size_t segments_before = manifest_segments(index_dir()).size();
    bool killed = ingest(write_input(dir_ / "input", file), when, delay);
    if (killed) ++kills[when];
    rounds += "file " + std::to_string(file) + ": " + std::to_string(segments_before) +
              " segments, kill " + describe(when) + (killed ? ": killed" : ": finished") + "\n";

    // The index opens at a commit, and holds nothing the store does not (it only ever indexes
    // what the store committed).
    if (fs::exists(index_dir() / "MANIFEST")) {
      auto snapshot = index::Snapshot::open(index_dir());
      ASSERT_TRUE(snapshot) << "after killing " << describe(when) << ": "
                            << snapshot.error().message;
      auto stored = store_papers();
      for (const std::string& id : live_ids(**snapshot))
        ASSERT_TRUE(stored.contains(id)) << id << " indexed but not stored";
    }
    if (kills[KillAt::kMergeWrite] > 0 && kills[KillAt::kEarly] >= 2 &&
        kills[KillAt::kSegmentWrite] >= 2 && file >= 12)
      break;
  }
  EXPECT_GE(kills[KillAt::kEarly], 2) << rounds;
  EXPECT_GE(kills[KillAt::kSegmentWrite], 2) << rounds;
  EXPECT_EQ(kills[KillAt::kMergeWrite], 1) << "no background merge was caught writing\n" << rounds;

  // The catch-up of one more ingest brings the index level with the store.
  ASSERT_FALSE(ingest(write_input(dir_ / "input", file + 1), KillAt::kNever, {}));
  auto stored = store_papers();
  auto snapshot = index::Snapshot::open(index_dir());
  ASSERT_TRUE(snapshot) << snapshot.error().message;
  EXPECT_EQ(live_ids(**snapshot), [&] {
    std::set<std::string> ids;
    for (const auto& [id, text] : stored) ids.insert(id);
    return ids;
  }());
  EXPECT_LE((*snapshot)->segments().size(), 10u) << "segments were never merged";

  std::set<std::string> with_word;
  for (const auto& [id, text] : stored)
    if (text.find(kDistinctiveWord) != std::string::npos) with_word.insert(id);
  ASSERT_GT(with_word.size(), 100u);
  search::SearchOptions options;
  options.limit = stored.size();
  auto found = search::search(**snapshot, kDistinctiveWord, options);
  ASSERT_TRUE(found) << found.error().message;
  std::set<std::string> found_ids;
  for (const search::Hit& hit : found->hits) found_ids.insert(hit.paper_id);
  EXPECT_EQ(found_ids, with_word);
}

}  // namespace
}  // namespace paperboy
