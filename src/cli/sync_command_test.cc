// `paperboy sync` through the real binary against a replay server on 127.0.0.1: a harvest killed
// with SIGKILL mid-way resumes from the saved resumption token and ends with every record once.
// And `paperboy serve` reloading its settings on SIGHUP.
#include <arpa/inet.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
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

// A keep-alive HTTP/1.1 connection on a plain socket, so a test can tell that it stayed open.
class Connection {
 public:
  explicit Connection(int port) : fd_(::socket(AF_INET, SOCK_STREAM, 0)) {
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_port = htons(static_cast<uint16_t>(port));
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    connected_ = ::connect(fd_, reinterpret_cast<sockaddr*>(&address), sizeof address) == 0;
    timeval timeout{10, 0};
    ::setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout);
  }
  ~Connection() { ::close(fd_); }
  bool connected() const { return connected_; }

  // Sends GET `path` and reads the answer's head and body (Content-Length); empty on failure.
  std::string get(const std::string& path) {
    const std::string request =
        "GET " + path + " HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: keep-alive\r\n\r\n";
    if (::send(fd_, request.data(), request.size(), MSG_NOSIGNAL) !=
        static_cast<ssize_t>(request.size()))
      return {};
    std::string answer;
    char buffer[4096];
    for (;;) {
      const size_t head_end = answer.find("\r\n\r\n");
      if (head_end != std::string::npos) {
        const size_t length_at = answer.find("Content-Length: ");
        const size_t length =
            length_at == std::string::npos ? 0 : std::atoi(answer.c_str() + length_at + 16);
        if (answer.size() >= head_end + 4 + length) return answer;
      }
      const ssize_t got = ::recv(fd_, buffer, sizeof buffer, 0);
      if (got <= 0) return {};
      answer.append(buffer, static_cast<size_t>(got));
    }
  }

 private:
  int fd_;
  bool connected_ = false;
};

// Waits until `file` holds `needle`; true when it did within two minutes.
bool appears(const std::filesystem::path& file, const std::string& needle) {
  const auto deadline = std::chrono::steady_clock::now() + 120s;
  while (read_file(file).find(needle) == std::string::npos) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::sleep_for(50ms);
  }
  return true;
}

TEST(ServeReload, SighupRereadsTheConfigAndReopensTheLogWithoutDroppingConnections) {
  TempDir dir;
  ReplayServer sources;
  sources.on("/api/daily_papers", {},
             {Reply::ok(fixture("hf-2024-05-27.json"), "application/json")});
  const auto config = dir.path() / "paperboy.toml";
  const auto log = dir.path() / "paperboy.log";
  const auto output = dir.path() / "output.txt";
  std::ofstream(config) << "log-format = \"text\"\n[serve]\naccess-log = true\n";
  const pid_t pid = start({"--config", config.string(), "--data", dir.path().string(), "--log-file",
                           log.string(), "serve", "--port", "0"},
                          output);
  ASSERT_TRUE(appears(output, "http://127.0.0.1:")) << read_file(output);
  const std::string printed = read_file(output);
  const int port = std::atoi(printed.c_str() + printed.find("http://127.0.0.1:") + 17);
  Connection connection(port);
  ASSERT_TRUE(connection.connected());
  EXPECT_NE(connection.get("/healthz").find("200 OK"), std::string::npos);
  ASSERT_TRUE(appears(log, "/healthz")) << read_file(log);
  EXPECT_EQ(read_file(log).find("{\"time\""), std::string::npos) << "text lines before the reload";

  // logrotate renames the file, the config now asks for JSON lines and a scheduled sync.
  std::filesystem::rename(log, dir.path() / "paperboy.log.1");
  std::ofstream(config) << "log-format = \"json\"\n[serve]\naccess-log = true\n"
                        << "sync-every-minutes = 60\nrequest-delay = 0\nhf-api-url = \""
                        << sources.url("/api/daily_papers") << "\"\n";
  ::kill(pid, SIGHUP);
  ASSERT_TRUE(appears(output, "reloaded the settings")) << read_file(output);
  EXPECT_NE(read_file(output).find("sync every 60 min"), std::string::npos) << read_file(output);

  // The connection opened before the reload still answers, and its request is logged as JSON in
  // the new file.
  EXPECT_NE(connection.get("/api/daily_papers").find("200 OK"), std::string::npos);
  ASSERT_TRUE(appears(log, "\"path\":\"/api/daily_papers\"")) << read_file(log);
  EXPECT_EQ(read_file(log).rfind("{\"time\":", 0), 0u) << read_file(log);
  EXPECT_EQ(read_file(dir.path() / "paperboy.log.1").find("/api/daily_papers"), std::string::npos);
  // The sync the new config schedules runs: today's and yesterday's HF daily papers.
  const auto deadline = std::chrono::steady_clock::now() + 60s;
  while (sources.count_requests("/api/daily_papers") < 2 &&
         std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(50ms);
  EXPECT_EQ(sources.count_requests("/api/daily_papers"), 2u);

  // A config that no longer parses keeps the server as it is.
  std::ofstream(config) << "[serve]\nsync-every-minutes = \"often\"\n";
  ::kill(pid, SIGHUP);
  ASSERT_TRUE(appears(output, "keeping the settings in use")) << read_file(output);
  EXPECT_NE(connection.get("/healthz").find("200 OK"), std::string::npos);

  ::kill(pid, SIGTERM);
  EXPECT_EQ(wait_for_exit(pid), 0) << read_file(output);
  EXPECT_NE(read_file(output).find("paperboy serve: stopped"), std::string::npos);
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
