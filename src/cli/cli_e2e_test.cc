// End-to-end: the real `paperboy` binary ingests the bundled demo corpus into a fresh data folder,
// serves it on a free port, and a real HTTP client checks pages and API.
#include <arpa/inet.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <httplib.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "cli/test_process.h"

namespace {

namespace fs = std::filesystem;

using paperboy::cli::testing::Outcome;
using paperboy::cli::testing::read_file;
using paperboy::cli::testing::spawn;

class EndToEnd : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("paperboy-e2e-" + std::to_string(getpid()));
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }

  Outcome run(std::vector<std::string> args) {
    args.insert(args.begin(), {PAPERBOY_BINARY, "--data", (dir_ / "data").string(), "--quiet"});
    return paperboy::cli::testing::run(args, dir_);
  }

  fs::path dir_;
};

using paperboy::cli::testing::free_port;

const std::string kDemo = std::string(PAPERBOY_SOURCE_DIR) + "/demo";

TEST_F(EndToEnd, IngestsTheDemoCorpusOnceAndReimportChangesNothing) {
  Outcome first = run({"ingest", kDemo});
  ASSERT_EQ(first.exit_code, 0) << first.err;
  // 609 records: two papers appear twice (on two HF days, or on the page and an HF day) and merge.
  EXPECT_NE(first.out.find("607 added, 2 updated, 0 unchanged, 0 rejected"), std::string::npos)
      << first.out;

  Outcome second = run({"ingest", kDemo});
  ASSERT_EQ(second.exit_code, 0) << second.err;
  EXPECT_NE(second.out.find("0 added, 0 updated, 609 unchanged, 0 rejected"), std::string::npos)
      << second.out;

  Outcome show = run({"show", "https://arxiv.org/abs/2608.19880v1"});
  ASSERT_EQ(show.exit_code, 0) << show.err;
  EXPECT_NE(show.out.find("EnvHarness: Awakening Static Worlds for Agent Learning"),
            std::string::npos);
  EXPECT_NE(show.out.find("upvotes:     163"), std::string::npos) << show.out;

  Outcome feed = run({"feed", "--day", "2026-08-21"});
  ASSERT_EQ(feed.exit_code, 0) << feed.err;
  EXPECT_NE(feed.out.find("17 papers"), std::string::npos) << feed.out;
  // Ordered by upvotes: EnvHarness (163) before FACET (54).
  EXPECT_LT(feed.out.find("2608.19880"), feed.out.find("2608.18580"));

  // Ingest also indexed the papers: search finds them by words, phrase and filter.
  Outcome search = run({"search", "--json", "awakening", "static", "worlds"});
  ASSERT_EQ(search.exit_code, 0) << search.err;
  auto results = nlohmann::json::parse(search.out)["results"];
  ASSERT_FALSE(results.empty()) << search.out;
  EXPECT_EQ(results[0]["id"], "2608.19880");
  Outcome rebuilt = run({"index", "rebuild"});
  ASSERT_EQ(rebuilt.exit_code, 0) << rebuilt.err;
  EXPECT_NE(rebuilt.out.find("indexed 607 papers"), std::string::npos) << rebuilt.out;
  Outcome phrase = run({"search", "--json", "\"static worlds\" after:2026-08-01"});
  ASSERT_EQ(phrase.exit_code, 0) << phrase.err;
  EXPECT_EQ(nlohmann::json::parse(phrase.out)["results"][0]["id"], "2608.19880") << phrase.out;

  Outcome missing = run({"show", "2101.00001"});
  EXPECT_EQ(missing.exit_code, 4);
  Outcome usage = run({"feed", "--sort", "sideways"});
  EXPECT_EQ(usage.exit_code, 2);
}

// After an upgrade that changed the segment format, the index (derived data) is rebuilt from
// the store when next synced instead of making every search fail.
TEST_F(EndToEnd, RebuildsAnIndexWrittenInAnOlderFormat) {
  ASSERT_EQ(run({"ingest", kDemo}).exit_code, 0);
  int segments = 0;
  for (const auto& entry : fs::directory_iterator(dir_ / "data" / "index")) {
    if (entry.path().extension() != ".seg") continue;
    ++segments;
    // The format version follows the 8-byte magic; 2 is the one before bit-packed blocks.
    std::fstream segment(entry.path(), std::ios::in | std::ios::out | std::ios::binary);
    const uint32_t older_version = 2;
    segment.seekp(8);
    segment.write(reinterpret_cast<const char*>(&older_version), sizeof(older_version));
  }
  ASSERT_GT(segments, 0);

  Outcome search = run({"search", "--json", "awakening", "static", "worlds"});
  ASSERT_EQ(search.exit_code, 0) << search.err;
  EXPECT_EQ(nlohmann::json::parse(search.out)["results"][0]["id"], "2608.19880") << search.out;
}

TEST_F(EndToEnd, ReportsRejectedRecordsWithFileAndLineAndKeepsTheRest) {
  const fs::path file = dir_ / "mixed.jsonl";
  std::ofstream(file)
      << R"({"id":"0704.0001","submitter":"A","authors":"A. Author","title":"A good paper","comments":null,"journal-ref":null,"doi":null,"report-no":null,"categories":"hep-ph","license":null,"abstract":"Text.","versions":[{"version":"v1","created":"Mon, 2 Apr 2007 19:18:42 GMT"}],"update_date":"2008-11-26","authors_parsed":[["Author","A.",""]]})"
      << "\n{\"id\": \"0704.0002\", broken\n"
      << R"({"id":"0704.0003","submitter":"B","authors":"B. Author","title":"Another good paper","comments":null,"journal-ref":null,"doi":null,"report-no":null,"categories":"math.CO","license":null,"abstract":"Text.","versions":[{"version":"v1","created":"Tue, 3 Apr 2007 19:18:42 GMT"}],"update_date":"2008-11-26","authors_parsed":[["Author","B.",""]]})"
      << "\n";
  Outcome outcome = run({"ingest", "--format", "arxiv-snapshot", file.string()});
  EXPECT_EQ(outcome.exit_code, 3) << outcome.err;
  EXPECT_NE(outcome.err.find(file.string() + ":2:"), std::string::npos) << outcome.err;
  EXPECT_NE(outcome.out.find("2 added, 0 updated, 0 unchanged, 1 rejected"), std::string::npos)
      << outcome.out;
}

TEST_F(EndToEnd, ServesFeedPaperPagesAndTheHuggingFaceShapedApi) {
  ASSERT_EQ(run({"ingest", kDemo}).exit_code, 0);
  const int port = free_port();
  std::vector<std::string> args = {PAPERBOY_BINARY, "--data", (dir_ / "data").string(),
                                   "serve",         "--port", std::to_string(port)};
  pid_t server = spawn(args, dir_ / "serve.out", dir_ / "serve.err");
  httplib::Client client("127.0.0.1", port);
  client.set_connection_timeout(std::chrono::seconds(2));
  int health_status = 0;
  for (int attempt = 0; attempt < 100 && health_status == 0; ++attempt) {
    if (auto health = client.Get("/healthz"))
      health_status = health->status;
    else
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  ASSERT_EQ(health_status, 200) << read_file(dir_ / "serve.err");

  auto home = client.Get("/");
  ASSERT_TRUE(home);
  EXPECT_EQ(home->status, 200);
  EXPECT_NE(home->body.find("EnvHarness: Awakening Static Worlds for Agent Learning"),
            std::string::npos);

  auto api = client.Get("/api/daily_papers?date=2026-08-21");
  ASSERT_TRUE(api);
  ASSERT_EQ(api->status, 200) << api->body;
  auto entries = nlohmann::json::parse(api->body);
  ASSERT_TRUE(entries.is_array());
  ASSERT_EQ(entries.size(), 17u);
  EXPECT_EQ(entries[0]["paper"]["id"], "2608.19880");
  EXPECT_EQ(entries[0]["paper"]["upvotes"], 163);
  EXPECT_TRUE(entries[0]["paper"]["authors"].is_array());
  EXPECT_TRUE(entries[0]["paper"]["authors"][0].contains("name"));
  EXPECT_TRUE(entries[0].contains("publishedAt"));
  EXPECT_TRUE(entries[0].contains("title"));

  auto paper = client.Get("/api/papers/2608.19880");
  ASSERT_TRUE(paper);
  ASSERT_EQ(paper->status, 200);
  EXPECT_EQ(nlohmann::json::parse(paper->body)["title"],
            "EnvHarness: Awakening Static Worlds for Agent Learning");

  auto page = client.Get("/papers/2608.19880");
  ASSERT_TRUE(page);
  EXPECT_EQ(page->status, 200);
  EXPECT_NE(page->body.find("katex"), std::string::npos);

  auto search = client.Get("/api/search?q=awakening%20static%20worlds");
  ASSERT_TRUE(search);
  ASSERT_EQ(search->status, 200) << search->body;
  EXPECT_EQ(nlohmann::json::parse(search->body)["results"][0]["id"], "2608.19880");

  auto missing = client.Get("/api/papers/2101.00001");
  ASSERT_TRUE(missing);
  EXPECT_EQ(missing->status, 404);

  kill(server, SIGTERM);
  int status = 0;
  waitpid(server, &status, 0);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << read_file(dir_ / "serve.err");
}

}  // namespace
