// Crash safety of the paper vectors through the real binary: `paperboy ingest` (whose vector
// catch-up embeds the new papers and saves a generation) and `paperboy embed train` (which
// rebuilds every vector) are killed with SIGKILL at chosen moments. After every kill the vectors
// must open at a complete generation whose papers are all stored and whose change number the
// store has reached; after the catch-up of one more ingest, every stored paper must have exactly
// one vector, equal to what the model makes of its current text, and no other paper may have one.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <random>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "cli/test_process.h"
#include "embed/sif_model.h"
#include "store/store.h"
#include "vector/vector_index.h"

namespace paperboy {
namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

constexpr int kPapersPerFile = 600;

std::string make_word(std::mt19937& random) {
  static const char* const kSyllables[] = {"ka", "lo", "mi",  "ne",  "ru",  "ta",  "vi", "so",
                                           "pe", "du", "gra", "tor", "mel", "xin", "bar"};
  std::string word;
  for (int n = 2 + static_cast<int>(random() % 2); n > 0; --n) word += kSyllables[random() % 15];
  return word;
}

// File `number`: mostly new papers, plus new versions (new text) of earlier ones.
fs::path write_input(const fs::path& directory, int number) {
  std::mt19937 random(5000 + number);
  fs::path path = directory / ("batch-" + std::to_string(number) + ".jsonl");
  std::ofstream out(path);
  for (int i = 0; i < kPapersPerFile; ++i) {
    int serial = number * kPapersPerFile + i;
    if (number > 0 && i % 4 == 0) serial = static_cast<int>(random() % (number * kPapersPerFile));
    char id[16];
    std::snprintf(id, sizeof(id), "24%02d.%05d", 1 + serial % 12, serial);
    std::string title, abstract;
    for (int w = 0; w < 8; ++w) title += make_word(random) + " ";
    for (int w = 0; w < 40; ++w) abstract += make_word(random) + " ";
    nlohmann::json record = {{"arxiv_id", id},          {"title", title},
                             {"abstract", abstract},    {"authors", {make_word(random)}},
                             {"categories", {"cs.LG"}}, {"published", "2024-01-15"},
                             {"feed_day", "2024-01-16"}};
    out << record.dump() << "\n";
  }
  return path;
}

// A generation folder other than the one CURRENT names: a save is writing it.
bool generation_being_written(const fs::path& vectors_dir) {
  std::ifstream in(vectors_dir / "CURRENT");
  std::string current;
  std::getline(in, current);
  std::error_code error;
  for (const auto& entry : fs::directory_iterator(vectors_dir, error)) {
    const std::string name = entry.path().filename().string();
    if (entry.is_directory() && name.starts_with("g") && name != current) return true;
  }
  return false;
}

enum class KillAt { kNever, kEarly, kGenerationWrite };

const char* describe(KillAt when) {
  switch (when) {
    case KillAt::kNever:
      return "never";
    case KillAt::kEarly:
      return "after a random delay";
    case KillAt::kGenerationWrite:
      return "while a vector generation is written";
  }
  return "";
}

class VectorCrashSafety : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("paperboy-vector-crash-" + std::to_string(getpid()));
    fs::remove_all(dir_);
    fs::create_directories(dir_ / "input");
  }
  void TearDown() override { fs::remove_all(dir_); }

  fs::path data() const { return dir_ / "data"; }
  fs::path vectors_dir() const { return data() / "vectors"; }

  // Runs `command` and kills it when `when` says; returns whether it was killed.
  bool run(const std::vector<std::string>& command, KillAt when,
           std::chrono::milliseconds early_delay) {
    std::vector<std::string> args = {PAPERBOY_BINARY, "--data", data().string(), "--quiet"};
    args.insert(args.end(), command.begin(), command.end());
    const fs::path log = dir_ / "paperboy.log";
    const auto started = Clock::now();
    const cli::testing::Ending ending = cli::testing::wait_or_kill(
        cli::testing::spawn(args, log, log, O_APPEND),
        [&] {
          return (when == KillAt::kEarly && Clock::now() - started >= early_delay) ||
                 (when == KillAt::kGenerationWrite && generation_being_written(vectors_dir()));
        },
        std::chrono::microseconds(300));
    if (!ending.killed) {
      EXPECT_TRUE(WIFEXITED(ending.status) && WEXITSTATUS(ending.status) == 0)
          << command.front() << " failed; log:\n"
          << cli::testing::read_file(log);
    }
    return ending.killed;
  }

  // Every stored paper's embedded text, and the store's last change number.
  std::map<std::string, std::string> store_papers(uint64_t* last_change) {
    std::map<std::string, std::string> papers;
    auto store = store::open_sqlite_store(data() / "paperboy.db");
    EXPECT_TRUE(store) << store.error().message;
    if (!store) return papers;
    auto visited = (*store)->for_each_paper(
        [&](const Paper& paper) { papers[paper_id(paper)] = embed::paper_text(paper); });
    EXPECT_TRUE(visited);
    auto last = (*store)->last_change();
    EXPECT_TRUE(last);
    *last_change = last ? *last : 0;
    return papers;
  }

  fs::path dir_;
};

TEST_F(VectorCrashSafety, VectorsAgreeWithTheStoreAfterKillsAtAnyMoment) {
  ASSERT_FALSE(run({"ingest", write_input(dir_ / "input", 0).string()}, KillAt::kNever, {}));
  const std::vector<std::string> train = {"embed", "train", "--dim", "24", "--threads", "2"};
  auto started = Clock::now();
  ASSERT_FALSE(run(train, KillAt::kNever, {}));
  const auto train_run =
      std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - started);
  ASSERT_TRUE(fs::exists(vectors_dir() / "CURRENT"));

  std::mt19937 random(20261129);
  std::map<KillAt, int> ingest_kills, train_kills;
  std::string rounds;  // what happened, for failure messages
  int file = 1;
  for (; file < 24; ++file) {
    // Ingests (each ends with a vector catch-up) and retrains in turn, killed in turn while
    // writing a generation, after a random delay, or not at all.
    const bool retrain = file % 3 == 0;
    const KillAt when = file % 2 == 0   ? KillAt::kGenerationWrite
                        : file % 5 == 0 ? KillAt::kNever
                                        : KillAt::kEarly;
    const auto delay = std::chrono::milliseconds(random() % (train_run.count() + 1));
    const bool killed =
        retrain ? run(train, when, delay)
                : run({"ingest", write_input(dir_ / "input", file).string()}, when, delay);
    if (killed) ++(retrain ? train_kills : ingest_kills)[when];
    rounds += std::to_string(file) + (retrain ? ": embed train, kill " : ": ingest, kill ") +
              describe(when) + (killed ? ": killed\n" : ": finished\n");

    // The live generation opens whole, holds only stored papers, and never runs ahead.
    uint64_t last_change = 0;
    const auto stored = store_papers(&last_change);
    auto vectors = vector::VectorIndex::open(vectors_dir());
    ASSERT_TRUE(vectors) << "after " << rounds << vectors.error().message;
    EXPECT_LE((*vectors)->store_sequence(), last_change) << rounds;
    const auto ids = (*vectors)->paper_ids();
    EXPECT_EQ(std::set<std::string>(ids.begin(), ids.end()).size(), ids.size()) << rounds;
    for (const std::string& id : ids) ASSERT_TRUE(stored.contains(id)) << id << "\n" << rounds;
    if (ingest_kills[KillAt::kGenerationWrite] >= 2 && ingest_kills[KillAt::kEarly] >= 2 &&
        train_kills[KillAt::kGenerationWrite] >= 1 && train_kills[KillAt::kEarly] >= 1 &&
        file >= 10)
      break;
  }
  EXPECT_GE(ingest_kills[KillAt::kGenerationWrite], 2) << rounds;
  EXPECT_GE(ingest_kills[KillAt::kEarly], 2) << rounds;
  EXPECT_GE(train_kills[KillAt::kGenerationWrite], 1) << rounds;
  EXPECT_GE(train_kills[KillAt::kEarly], 1) << rounds;

  // One more ingest catches the vectors up: exactly the stored papers, each with the vector the
  // live model makes of its current text.
  ASSERT_FALSE(run({"ingest", write_input(dir_ / "input", file + 1).string()}, KillAt::kNever, {}));
  uint64_t last_change = 0;
  const auto stored = store_papers(&last_change);
  auto vectors = vector::VectorIndex::open(vectors_dir());
  ASSERT_TRUE(vectors) << vectors.error().message;
  EXPECT_EQ((*vectors)->store_sequence(), last_change);
  const auto ids = (*vectors)->paper_ids();
  ASSERT_EQ(ids.size(), stored.size()) << rounds;
  std::set<std::string> stored_ids;
  for (const auto& [id, text] : stored) stored_ids.insert(id);
  EXPECT_EQ(std::set<std::string>(ids.begin(), ids.end()), stored_ids);
  auto model = embed::SifModel::load((*vectors)->generation() / "model.bin");
  ASSERT_TRUE(model) << model.error().message;
  ASSERT_EQ((*model)->identity(), (*vectors)->model_identity());
  for (const auto& [id, text] : stored) {
    const auto expected = (*model)->embed(text);
    const auto held = (*vectors)->vector_of(id);
    ASSERT_TRUE(held) << id;
    double cosine = 0;
    for (size_t c = 0; c < expected.size(); ++c) cosine += expected[c] * (*held)[c];
    ASSERT_GT(cosine, 0.98) << id << " holds a vector of other text";
  }
}

}  // namespace
}  // namespace paperboy
