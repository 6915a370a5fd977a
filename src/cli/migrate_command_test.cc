// The real binary on the test PostgreSQL: `paperboy migrate` copies an embedded store into
// PostgreSQL (again: nothing changes), and every command reaches PostgreSQL through --store or
// the config file's `store =`.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <vector>

#include "store/pg_test_database.h"

namespace {

namespace fs = std::filesystem;

struct Outcome {
  int exit_code = -1;
  std::string out;
  std::string err;
};

std::string read_all(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream buffer;
  buffer << in.rdbuf();
  return buffer.str();
}

class Migrate : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_EQ(database_.error(), "");
    dir_ = fs::temp_directory_path() / ("paperboy-migrate-" + database_.schema());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }

  // Runs the binary with `args` after --data DIR/data --quiet.
  Outcome run(std::vector<std::string> args) {
    args.insert(args.begin(), {PAPERBOY_BINARY, "--data", (dir_ / "data").string(), "--quiet"});
    const fs::path out = dir_ / "out", err = dir_ / "err";
    pid_t pid = fork();
    if (pid == 0) {
      dup2(open(out.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644), 1);
      dup2(open(err.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644), 2);
      std::vector<char*> argv;
      for (const std::string& arg : args) argv.push_back(const_cast<char*>(arg.c_str()));
      argv.push_back(nullptr);
      execv(argv[0], argv.data());
      _exit(127);
    }
    int status = 0;
    waitpid(pid, &status, 0);
    return {WIFEXITED(status) ? WEXITSTATUS(status) : -1, read_all(out), read_all(err)};
  }

  // Every paper of the store the arguments name, as canonical JSON Lines.
  std::string exported(std::vector<std::string> store_args) {
    const fs::path file = dir_ / "export.jsonl";
    store_args.insert(store_args.end(), {"export", file.string()});
    Outcome outcome = run(store_args);
    EXPECT_EQ(outcome.exit_code, 0) << outcome.err;
    return read_all(file);
  }

  paperboy::store::testing::PgTestDatabase database_;
  fs::path dir_;
};

const std::string kDemo = std::string(PAPERBOY_SOURCE_DIR) + "/demo";

TEST_F(Migrate, CopiesEveryPaperOnceAndCommandsReadThemFromPostgres) {
  Outcome ingested = run({"ingest", kDemo});
  ASSERT_TRUE(ingested.exit_code == 0 || ingested.exit_code == 3) << ingested.err;
  const std::string from_sqlite = exported({});
  ASSERT_GT(std::count(from_sqlite.begin(), from_sqlite.end(), '\n'), 100);

  Outcome first = run({"migrate", "--to", database_.url()});
  ASSERT_EQ(first.exit_code, 0) << first.err;
  EXPECT_NE(first.out.find("0 updated, 0 unchanged"), std::string::npos) << first.out;
  Outcome again = run({"migrate", "--to", database_.url()});
  ASSERT_EQ(again.exit_code, 0) << again.err;
  EXPECT_NE(again.out.find(": 0 added, 0 updated,"), std::string::npos) << again.out;

  EXPECT_EQ(exported({"--store", database_.url()}), from_sqlite);
  Outcome stats = run({"--store", database_.url(), "stats", "--json"});
  ASSERT_EQ(stats.exit_code, 0) << stats.err;
  const auto counts = nlohmann::json::parse(stats.out);
  EXPECT_EQ(counts["papers"].get<int64_t>(),
            std::count(from_sqlite.begin(), from_sqlite.end(), '\n'));
  Outcome shown = run({"--store", database_.url(), "show", "2608.19880"});
  EXPECT_EQ(shown.exit_code, 0) << shown.err;
}

TEST_F(Migrate, IngestThroughTheConfigFilesStoreMatchesTheEmbeddedStore) {
  Outcome embedded = run({"ingest", kDemo});
  ASSERT_TRUE(embedded.exit_code == 0 || embedded.exit_code == 3) << embedded.err;
  const fs::path config = dir_ / "paperboy.toml";
  std::ofstream(config) << "store = \"" << database_.url() << "\"\n";
  Outcome into_postgres = run({"--config", config.string(), "ingest", kDemo});
  EXPECT_EQ(into_postgres.exit_code, embedded.exit_code) << into_postgres.err;
  EXPECT_EQ(exported({"--config", config.string()}), exported({}));
}

TEST_F(Migrate, RefusesATargetThatIsNotPostgres) {
  Outcome refused = run({"migrate", "--to", (dir_ / "other.db").string()});
  EXPECT_EQ(refused.exit_code, 1);
  EXPECT_NE(refused.err.find("not a postgres:// or postgresql:// URL"), std::string::npos)
      << refused.err;
}

}  // namespace
