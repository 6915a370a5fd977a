// `paperboy sync` through the real binary against a replay server on 127.0.0.1: a harvest killed
// with SIGKILL mid-way resumes from the saved resumption token and ends with every record once.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "store/store.h"
#include "sync/replay_server.h"

namespace paperboy::cli {
namespace {

using sync::testing::fixture;
using sync::testing::ReplayServer;
using sync::testing::Reply;
using namespace std::chrono_literals;

const std::string kToken2 = "6960524|1001";
const std::string kToken3 = "6960524|2001";

class TempDir {
 public:
  TempDir() {
    std::string pattern = std::filesystem::temp_directory_path() / "paperboy-sync-cli-XXXXXX";
    if (!mkdtemp(pattern.data())) throw std::runtime_error("mkdtemp failed");
    path_ = pattern;
  }
  ~TempDir() { std::filesystem::remove_all(path_); }
  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
};

// Starts the binary with its output in `output_file`.
pid_t start(const std::vector<std::string>& arguments, const std::filesystem::path& output_file) {
  std::vector<std::string> all = {PAPERBOY_BINARY};
  all.insert(all.end(), arguments.begin(), arguments.end());
  const pid_t pid = fork();
  if (pid == 0) {
    const int fd = ::open(output_file.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    ::dup2(fd, 1);
    ::dup2(fd, 2);
    std::vector<char*> argv;
    for (std::string& argument : all) argv.push_back(argument.data());
    argv.push_back(nullptr);
    execv(argv[0], argv.data());
    _exit(127);
  }
  return pid;
}

int wait_for_exit(pid_t pid) {
  int status = 0;
  waitpid(pid, &status, 0);
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

std::string read_file(const std::filesystem::path& path) {
  std::ifstream in(path);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

std::vector<std::string> sync_arguments(const TempDir& dir, const ReplayServer& server) {
  return {"--data",
          dir.path().string(),
          "sync",
          "arxiv",
          "--categories",
          "cs",
          "--from",
          "2025-03-19",
          "--arxiv-oai-url",
          server.url("/oai"),
          "--arxiv-api-url",
          server.url("/api/query"),
          "--request-delay",
          "0"};
}

void serve_oai(ReplayServer& server, std::chrono::milliseconds second_page_delay) {
  Reply second = Reply::ok(fixture("oai-page-2.xml"));
  second.delay = second_page_delay;
  server.on("/oai", {{"resumptionToken", kToken2}}, {second});
  server.on("/oai", {{"resumptionToken", kToken3}}, {Reply::ok(fixture("oai-page-3.xml"))});
  server.on("/oai", {{"verb", "ListRecords"}, {"set", "cs"}},
            {Reply::ok(fixture("oai-page-1.xml"))});
}

TEST(SyncCommand, AHarvestKilledMidwayResumesAndStoresEveryRecordOnce) {
  TempDir dir;
  const auto output = dir.path() / "output.txt";
  {
    // The second page takes long to come: the process is killed while waiting for it, after the
    // first page was stored and its resumption token saved.
    ReplayServer slow;
    serve_oai(slow, 5s);
    const pid_t pid = start(sync_arguments(dir, slow), output);
    const auto deadline = std::chrono::steady_clock::now() + 120s;
    while (slow.count_requests("resumptionToken=" + kToken2) == 0 &&
           std::chrono::steady_clock::now() < deadline) {
      std::this_thread::sleep_for(20ms);
    }
    ASSERT_EQ(slow.count_requests("resumptionToken=" + kToken2), 1u) << read_file(output);
    ::kill(pid, SIGKILL);
    wait_for_exit(pid);
  }
  const auto state = nlohmann::json::parse(read_file(dir.path() / "sync/state.json"));
  EXPECT_EQ(state["oai:arXiv:cs"]["resumption_token"], kToken2) << state.dump();

  ReplayServer healthy;
  serve_oai(healthy, 0ms);
  const int exit_code = wait_for_exit(start(sync_arguments(dir, healthy), output));
  const std::string printed = read_file(output);
  ASSERT_EQ(exit_code, 0) << printed;
  ASSERT_FALSE(healthy.requests().empty());
  EXPECT_NE(healthy.requests().front().find("resumptionToken=" + kToken2), std::string::npos)
      << healthy.requests().front();
  EXPECT_EQ(healthy.count_requests("set=cs"), 0u);
  EXPECT_NE(printed.find("16 added"), std::string::npos) << printed;
  EXPECT_NE(printed.find("resumed an interrupted harvest"), std::string::npos) << printed;

  auto store = store::open_sqlite_store(dir.path() / "paperboy.db");
  ASSERT_TRUE(store.has_value()) << store.error().message;
  std::istringstream ids(fixture("oai-ids.txt"));
  size_t expected = 0;
  for (std::string id; std::getline(ids, id);) {
    ++expected;
    auto found = (*store)->find(id);
    ASSERT_TRUE(found.has_value()) << found.error().message;
    EXPECT_TRUE(found->has_value()) << id << " is missing";
  }
  auto stats = (*store)->stats();
  ASSERT_TRUE(stats.has_value());
  EXPECT_EQ(stats->papers, static_cast<int64_t>(expected));
  // The search index caught up with what the sync stored.
  EXPECT_TRUE(std::filesystem::exists(dir.path() / "index" / "MANIFEST"));
}

TEST(SyncCommand, TheServerSyncsOnItsScheduleAndCountsOnMetrics) {
  TempDir dir;
  ReplayServer sources;
  serve_oai(sources, 0ms);
  sources.on("/api/daily_papers", {},
             {Reply::ok(fixture("hf-2024-05-27.json"), "application/json")});
  const auto output = dir.path() / "output.txt";
  const pid_t pid =
      start({"--data", dir.path().string(), "serve", "--port", "0", "--sync-every-minutes", "60",
             "--categories", "cs", "--arxiv-oai-url", sources.url("/oai"), "--arxiv-api-url",
             sources.url("/api/query"), "--hf-api-url", sources.url("/api/daily_papers"),
             "--request-delay", "0"},
            output);
  // The port is in the line "paperboy: serving ... on http://127.0.0.1:PORT (Ctrl-C stops)".
  int port = 0;
  std::string metrics;
  const auto deadline = std::chrono::steady_clock::now() + 120s;
  while (std::chrono::steady_clock::now() < deadline) {
    if (port == 0) {
      const std::string printed = read_file(output);
      if (const size_t at = printed.find("http://127.0.0.1:"); at != std::string::npos)
        port = std::atoi(printed.c_str() + at + 17);
    } else if (auto got = httplib::Client("127.0.0.1", port).Get("/metrics"); got) {
      metrics = got->body;
      // 24 papers from arXiv, 3 from HF (today and yesterday answer alike: unchanged the 2nd time).
      if (metrics.find("paperboy_sync_added_total 27") != std::string::npos) break;
    }
    std::this_thread::sleep_for(100ms);
  }
  ::kill(pid, SIGTERM);
  EXPECT_EQ(wait_for_exit(pid), 0) << read_file(output);
  EXPECT_NE(metrics.find("paperboy_sync_added_total 27"), std::string::npos)
      << metrics << read_file(output);
  EXPECT_NE(metrics.find("paperboy_sync_requests_total 5"), std::string::npos) << metrics;
  EXPECT_NE(metrics.find("paperboy_sync_errors_total 0"), std::string::npos) << metrics;
  auto store = store::open_sqlite_store(dir.path() / "paperboy.db");
  ASSERT_TRUE(store.has_value()) << store.error().message;
  auto stats = (*store)->stats();
  ASSERT_TRUE(stats.has_value());
  EXPECT_EQ(stats->papers, 27);
}

TEST(SyncCommand, ArxivWithoutCategoriesIsAUsageError) {
  TempDir dir;
  const auto output = dir.path() / "output.txt";
  const int exit_code =
      wait_for_exit(start({"--data", dir.path().string(), "sync", "arxiv"}, output));
  EXPECT_EQ(exit_code, 2);
  EXPECT_NE(read_file(output).find("give --categories"), std::string::npos) << read_file(output);
}

}  // namespace
}  // namespace paperboy::cli
