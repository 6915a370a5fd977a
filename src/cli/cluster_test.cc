// Two `paperboy serve` nodes on one PostgreSQL database behind nginx, all real processes on
// 127.0.0.1: what one node writes (accounts, sessions, votes, comments, papers) the other node and
// nginx serve; the digest job and the scheduled sync run once across the nodes, and when the node
// running one is killed with SIGKILL the other one finishes it: every subscriber gets their digest
// exactly once, and every harvested paper is stored once, at its newest version.
//
// Needs PAPERBOY_TEST_POSTGRES (scripts/test-services.sh start) and Debian's nginx.
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
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "core/date.h"
#include "mail/smtp_sink.h"
#include "store/pg_access.h"
#include "store/pg_test_database.h"
#include "store/store.h"
#include "store/subscriptions.h"
#include "sync/replay_server.h"

namespace paperboy {
namespace {

namespace fs = std::filesystem;
using json = nlohmann::json;
using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;
using std::chrono::seconds;

constexpr const char* kNginx = "/usr/sbin/nginx";

class TempDir {
 public:
  TempDir() {
    std::string pattern = (fs::temp_directory_path() / "paperboy-cluster-XXXXXX").string();
    path_ = mkdtemp(pattern.data());
  }
  ~TempDir() { fs::remove_all(path_); }
  const fs::path& path() const { return path_; }
  fs::path operator/(std::string_view name) const { return path_ / name; }

 private:
  fs::path path_;
};

std::string read_file(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream buffer;
  buffer << in.rdbuf();
  return buffer.str();
}

// Starts `args` (args[0] the executable) with its output in `log` (stderr) and `log`.out.
pid_t spawn(const std::vector<std::string>& args, const fs::path& log) {
  const pid_t pid = ::fork();
  if (pid == 0) {
    const int out = ::open((log.string() + ".out").c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    const int err = ::open(log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    ::dup2(out, 1);
    ::dup2(err, 2);
    std::vector<char*> argv;
    for (const std::string& arg : args) argv.push_back(const_cast<char*>(arg.c_str()));
    argv.push_back(nullptr);
    ::execv(argv[0], argv.data());
    ::_exit(127);
  }
  return pid;
}

// Runs `args` to completion; the exit code, or -1 when a signal ended it.
int run(const std::vector<std::string>& args, const fs::path& log) {
  const pid_t pid = spawn(args, log);
  int status = 0;
  ::waitpid(pid, &status, 0);
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

// A port free right now (the kernel picks it), for a child process to listen on.
int free_port() {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t length = sizeof address;
  int port = 0;
  if (::bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) == 0 &&
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length) == 0)
    port = ntohs(address.sin_port);
  ::close(fd);
  return port;
}

// A child process, killed (SIGTERM, then waited for) when the test ends.
class Child {
 public:
  Child(const std::vector<std::string>& args, const fs::path& log)
      : log_(log), pid_(spawn(args, log)) {}
  ~Child() { stop(SIGTERM); }
  Child(const Child&) = delete;
  Child& operator=(const Child&) = delete;

  pid_t pid() const { return pid_; }
  bool running() const { return pid_ > 0; }
  void stop(int signal) {
    if (pid_ <= 0) return;
    ::kill(pid_, signal);
    int status = 0;
    ::waitpid(pid_, &status, 0);
    pid_ = -1;
  }
  std::string log() const { return read_file(log_); }

 private:
  fs::path log_;
  pid_t pid_;
};

// Waits until `ready` holds or `limit` passes; true when it held.
template <class Predicate>
bool eventually(Predicate ready, milliseconds limit, milliseconds step = milliseconds(50)) {
  const auto deadline = Clock::now() + limit;
  while (Clock::now() < deadline) {
    if (ready()) return true;
    std::this_thread::sleep_for(step);
  }
  return ready();
}

bool answers(int port) {
  httplib::Client client("127.0.0.1", port);
  client.set_connection_timeout(1, 0);
  auto result = client.Get("/healthz");
  return result && result->status == 200;
}

std::string today() {
  return format_date(std::chrono::floor<std::chrono::days>(std::chrono::system_clock::now()));
}

// `count` papers in the feed today, canonical JSON Lines, each with `word` in its abstract.
fs::path write_papers(const fs::path& path, int first, int count, std::string_view word) {
  std::ofstream out(path);
  for (int i = first; i < first + count; ++i) {
    char id[32];
    std::snprintf(id, sizeof id, "2611.%05d", i);
    out << json{{"arxiv_id", id},
                {"version", 1},
                {"title", "Cluster paper number " + std::to_string(i)},
                {"abstract", "A study of " + std::string(word) + " in distributed systems."},
                {"authors", {"Ada Lovelace"}},
                {"categories", {"cs.DC"}},
                {"published", today()},
                {"feed_day", today()},
                {"upvotes", 3}}
               .dump()
        << "\n";
  }
  return path;
}

// An OAI-PMH ListRecords page in arXivRaw (which carries versions) of papers 2611.2NNNN; each
// entry is (paper number, version). An empty `token` ends the harvest.
std::string oai_raw_page(const std::vector<std::pair<int, int>>& papers, const std::string& token) {
  std::string page =
      "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
      "<OAI-PMH xmlns=\"http://www.openarchives.org/OAI/2.0/\">\n"
      "<responseDate>2025-03-20T08:00:00Z</responseDate>\n<ListRecords>\n";
  for (const auto& [number, version] : papers) {
    char id[32];
    std::snprintf(id, sizeof id, "2611.2%04d", number);
    page += std::string("<record><header><identifier>oai:arXiv.org:") + id +
            "</identifier><datestamp>2025-03-19</datestamp><setSpec>cs</setSpec></header>"
            "<metadata><arXivRaw xmlns=\"http://arxiv.org/OAI/arXivRaw/\"><id>" +
            id + "</id>";
    for (int v = 1; v <= version; ++v) {
      page += "<version version=\"v" + std::to_string(v) + "\"><date>Mon, 1" + std::to_string(v) +
              " Mar 2025 10:00:00 GMT</date></version>";
    }
    page += "<title>Harvested paper " + std::to_string(number) + " version " +
            std::to_string(version) +
            "</title><authors>Grace Hopper</authors><categories>cs.DC</categories>"
            "<abstract>Fault tolerant harvesting.</abstract></arXivRaw></metadata></record>\n";
  }
  page += token.empty()
              ? "<resumptionToken completeListSize=\"24\"/>"
              : "<resumptionToken completeListSize=\"24\">" + token + "</resumptionToken>";
  return page + "\n</ListRecords>\n</OAI-PMH>\n";
}

// One browser: its own cookie jar, against one address (a node or nginx).
class Browser {
 public:
  explicit Browser(std::map<std::string, std::string>& cookies) : cookies_(cookies) {}

  httplib::Result request(int port, const std::string& method, const std::string& path,
                          const std::string& body = {}, const std::string& content_type = {},
                          httplib::Headers headers = {}) {
    httplib::Client client("127.0.0.1", port);
    client.set_read_timeout(30, 0);
    std::string cookie;
    for (const auto& [name, value] : cookies_) cookie += name + "=" + value + "; ";
    if (!cookie.empty()) headers.emplace("Cookie", cookie);
    auto result = method == "POST" ? client.Post(path.c_str(), headers, body, content_type.c_str())
                                   : client.Get(path.c_str(), headers);
    if (result) {
      for (auto [at, end] = result->headers.equal_range("Set-Cookie"); at != end; ++at) {
        const std::string& text = at->second;
        const size_t equals = text.find('=');
        cookies_[text.substr(0, equals)] = text.substr(equals + 1, text.find(';') - equals - 1);
      }
    }
    return result;
  }

  // The signed-in user's CSRF token, from `port`.
  std::string csrf(int port) {
    auto me = request(port, "GET", "/api/me");
    if (!me || me->status != 200) return {};
    return json::parse(me->body).value("csrf_token", "");
  }

 private:
  std::map<std::string, std::string>& cookies_;
};

// The hidden CSRF field of a form page.
std::string form_csrf(const std::string& page) {
  const std::string marker = "name=\"csrf\" value=\"";
  const size_t at = page.find(marker);
  if (at == std::string::npos) return {};
  const size_t start = at + marker.size();
  return page.substr(start, page.find('"', start) - start);
}

class ClusterTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_EQ(database_.error(), "");
    ASSERT_TRUE(fs::exists(kNginx)) << kNginx << " is missing: run scripts/setup.sh";
    url_ = database_.url();
  }

  std::vector<std::string> paperboy(const fs::path& data, std::vector<std::string> args) const {
    std::vector<std::string> all = {PAPERBOY_BINARY, "--data", data.string(), "--store", url_};
    all.insert(all.end(), args.begin(), args.end());
    return all;
  }

  void ingest(const fs::path& file) {
    const fs::path log = dir_ / ("ingest-" + file.stem().string() + ".log");
    // --no-index: the papers reach each node's index through its follower, as in production.
    ASSERT_EQ(run(paperboy(dir_ / "ingest-data", {"ingest", "--no-index", file.string()}), log), 0)
        << read_file(log);
  }

  // Starts a node serving on a free port; returns once it answers.
  std::unique_ptr<Child> start_node(const std::string& name, int& port,
                                    std::vector<std::string> extra = {}) {
    port = free_port();
    std::vector<std::string> args = {"serve", "--port", std::to_string(port), "--threads", "4"};
    args.insert(args.end(), extra.begin(), extra.end());
    auto node = std::make_unique<Child>(paperboy(dir_ / name, args), dir_ / (name + ".log"));
    EXPECT_TRUE(eventually([&] { return answers(port); }, seconds(60)))
        << name << " did not start:\n"
        << node->log();
    return node;
  }

  // nginx in the foreground with its own configuration: round robin over the nodes, passing a
  // request to the next node when one does not answer.
  std::unique_ptr<Child> start_nginx(const std::vector<int>& node_ports, int& port) {
    port = free_port();
    const fs::path prefix = dir_ / "nginx";
    fs::create_directories(prefix / "logs");
    std::string upstream;
    for (int node_port : node_ports)
      upstream +=
          "    server 127.0.0.1:" + std::to_string(node_port) + " max_fails=1 fail_timeout=5s;\n";
    std::ofstream(prefix / "nginx.conf")
        << "daemon off;\nmaster_process off;\npid " << (prefix / "nginx.pid").string()
        << ";\nerror_log " << (prefix / "logs/error.log").string()
        << " warn;\nevents { worker_connections 256; }\nhttp {\n  access_log off;\n"
        << "  client_body_temp_path " << (prefix / "body").string() << ";\n"
        << "  proxy_temp_path " << (prefix / "proxy").string() << ";\n"
        << "  fastcgi_temp_path " << (prefix / "fastcgi").string() << ";\n"
        << "  uwsgi_temp_path " << (prefix / "uwsgi").string() << ";\n"
        << "  scgi_temp_path " << (prefix / "scgi").string() << ";\n"
        << "  upstream paperboy {\n"
        << upstream << "  }\n"
        << "  server {\n    listen 127.0.0.1:" << port << ";\n    location / {\n"
        << "      proxy_pass http://paperboy;\n      proxy_set_header Host $host;\n"
        << "      proxy_next_upstream error timeout http_502;\n"
        << "      proxy_connect_timeout 2s;\n    }\n  }\n}\n";
    auto nginx =
        std::make_unique<Child>(std::vector<std::string>{kNginx, "-p", prefix.string(), "-e",
                                                         (prefix / "logs/error.log").string(), "-c",
                                                         (prefix / "nginx.conf").string()},
                                dir_ / "nginx.log");
    EXPECT_TRUE(eventually([&] { return answers(port); }, seconds(20)))
        << "nginx did not start:\n"
        << nginx->log() << read_file(prefix / "logs/error.log");
    return nginx;
  }

  TempDir dir_;
  store::testing::PgTestDatabase database_;
  std::string url_;
};

TEST_F(ClusterTest, WritesThroughOneNodeAreServedByTheOtherAndThroughNginx) {
  ingest(write_papers(dir_ / "first.jsonl", 1, 5, "consensus"));
  int port_a = 0, port_b = 0, port_nginx = 0;
  auto node_a = start_node("node-a", port_a);
  auto node_b = start_node("node-b", port_b);
  auto nginx = start_nginx({port_a, port_b}, port_nginx);
  if (HasFailure()) return;

  // Sign up through node A: the session lives in PostgreSQL, so the cookie works everywhere.
  std::map<std::string, std::string> cookies;
  Browser browser(cookies);
  auto form = browser.request(port_a, "GET", "/signup");
  ASSERT_TRUE(form && form->status == 200);
  auto signed_up = browser.request(
      port_a, "POST", "/signup",
      "name=ada&email=ada%40example.org&password=password123&csrf=" + form_csrf(form->body),
      "application/x-www-form-urlencoded");
  ASSERT_TRUE(signed_up);
  ASSERT_EQ(signed_up->status, 303) << signed_up->body.substr(0, 500);
  const std::string csrf = browser.csrf(port_a);
  ASSERT_FALSE(csrf.empty());

  auto voted = browser.request(port_a, "POST", "/api/papers/2611.00002/upvote", "",
                               "application/json", {{"X-CSRF-Token", csrf}});
  ASSERT_TRUE(voted);
  ASSERT_EQ(voted->status, 200) << voted->body;
  EXPECT_EQ(json::parse(voted->body)["upvotes"], 4);
  auto commented = browser.request(port_a, "POST", "/api/papers/2611.00002/comments",
                                   json{{"body", "Written through node A"}}.dump(),
                                   "application/json", {{"X-CSRF-Token", csrf}});
  ASSERT_TRUE(commented);
  ASSERT_EQ(commented->status, 201) << commented->body;

  // Node B and nginx (which alternates between the nodes) see all of it at once.
  for (int port : {port_b, port_nginx, port_nginx}) {
    SCOPED_TRACE("port " + std::to_string(port));
    EXPECT_EQ(browser.csrf(port), csrf) << "the same session";
    auto paper = browser.request(port, "GET", "/api/papers/2611.00002");
    ASSERT_TRUE(paper && paper->status == 200);
    EXPECT_EQ(json::parse(paper->body)["upvotes"], 4) << paper->body;
    auto comments = browser.request(port, "GET", "/api/papers/2611.00002/comments");
    ASSERT_TRUE(comments && comments->status == 200);
    const json listed = json::parse(comments->body);
    ASSERT_EQ(listed.size(), 1u);
    EXPECT_EQ(listed[0]["body"], "Written through node A");
    EXPECT_EQ(listed[0]["author"], "ada");
    auto votes = browser.request(port, "GET", "/api/me/votes?ids=2611.00002,2611.00003");
    ASSERT_TRUE(votes && votes->status == 200);
    EXPECT_EQ(json::parse(votes->body)["voted"], json::array({"2611.00002"}));
  }
  // Taking the vote back through B is seen by A.
  auto unvoted = browser.request(port_b, "POST", "/api/papers/2611.00002/upvote", "",
                                 "application/json", {{"X-CSRF-Token", csrf}});
  ASSERT_TRUE(unvoted && unvoted->status == 200);
  auto paper = browser.request(port_a, "GET", "/api/papers/2611.00002");
  ASSERT_TRUE(paper && paper->status == 200);
  EXPECT_EQ(json::parse(paper->body)["upvotes"], 3);

  // Papers stored by another process become searchable on both nodes at once: the store
  // notifies the commit, each node's follower syncs its index on hearing it, and the web
  // reopens the index within 100 ms. 5 s is a generous bound (sanitizers, a loaded machine); a
  // node that only polled would still pass it, bench/cluster/propagation.sh measures the time.
  ingest(write_papers(dir_ / "second.jsonl", 100, 3, "zebrafinch"));
  const auto committed_at = Clock::now();
  for (int port : {port_a, port_b}) {
    SCOPED_TRACE("port " + std::to_string(port));
    const auto left =
        std::chrono::duration_cast<milliseconds>(committed_at + seconds(5) - Clock::now());
    const bool found = eventually(
        [&] {
          auto found = browser.request(port, "GET", "/api/search?q=zebrafinch");
          return found && found->status == 200 && json::parse(found->body)["total"] == 3;
        },
        left, milliseconds(20));
    EXPECT_TRUE(found) << "not searchable within 5 s of the commit";
  }
  std::printf(
      "papers stored by another process were searchable on both nodes %lld ms after the "
      "ingest committed\n",
      static_cast<long long>(
          std::chrono::duration_cast<milliseconds>(Clock::now() - committed_at).count()));

  // With node A gone, nginx passes its requests to node B.
  node_a->stop(SIGKILL);
  for (int i = 0; i < 4; ++i) {
    auto served = browser.request(port_nginx, "GET", "/api/papers/2611.00002");
    ASSERT_TRUE(served);
    EXPECT_EQ(served->status, 200);
  }
}

TEST_F(ClusterTest, DigestsArriveExactlyOnceWhenTheNodeSendingThemIsKilled) {
  constexpr int kSubscribers = 300;
  ingest(write_papers(dir_ / "papers.jsonl", 1, 8, "consensus"));
  {
    auto subscriptions = store::open_postgres_subscription_store(url_);
    ASSERT_TRUE(subscriptions) << subscriptions.error().message;
    const auto now = std::chrono::floor<seconds>(std::chrono::system_clock::now());
    for (int i = 0; i < kSubscribers; ++i) {
      store::Subscription wanted;
      wanted.email = "reader" + std::to_string(i) + "@example.org";
      wanted.send_hour = 0;  // due at once, today (UTC)
      auto stored = (*subscriptions)->subscribe(wanted, now);
      ASSERT_TRUE(stored) << stored.error().message;
      ASSERT_TRUE((*subscriptions)
                      ->set_subscription_state(stored->id, store::SubscriptionState::active, now));
    }
  }
  mail::testing::SmtpSink sink(dir_ / "mail");
  const std::vector<std::string> digests = {
      "--digest-every", "60",        "--digest-lease", "3",
      "--smtp-host",    "127.0.0.1", "--smtp-port",    std::to_string(sink.port())};
  int port_a = 0, port_b = 0, port_nginx = 0;
  auto node_a = start_node("node-a", port_a, digests);
  auto node_b = start_node("node-b", port_b, digests);
  auto nginx = start_nginx({port_a, port_b}, port_nginx);
  if (HasFailure()) return;

  // Find the node that claimed the job, and kill it once it has sent some digests.
  auto admin = store::pg::Connection::open(url_);
  ASSERT_TRUE(admin) << admin.error().message;
  pid_t holder = 0;
  size_t delivered_at_kill = 0;
  ASSERT_TRUE(eventually(
      [&] {
        auto rows = (*admin)->query("finding the digest job's holder",
                                    "SELECT holder FROM cluster_jobs WHERE job = 'digests'");
        if (!rows || rows->empty()) return false;
        const std::string_view name = rows->text(0, 0);
        holder = std::atoi(std::string(name.substr(name.rfind(':') + 1)).c_str());
        delivered_at_kill = sink.messages().size();
        return holder != 0 && delivered_at_kill >= 10;
      },
      seconds(60), milliseconds(20)))
      << "no node sent digests:\n"
      << node_a->log() << node_b->log();
  ASSERT_TRUE(holder == node_a->pid() || holder == node_b->pid()) << holder;
  Child& killed = holder == node_a->pid() ? *node_a : *node_b;
  Child& survivor = holder == node_a->pid() ? *node_b : *node_a;
  killed.stop(SIGKILL);
  ASSERT_LT(delivered_at_kill, static_cast<size_t>(kSubscribers))
      << "the run ended before the kill; the test needs more subscribers";

  // The survivor takes the job over once the dead node's lease runs out, and finishes it.
  std::map<std::string, std::set<std::string>> message_ids;  // recipient -> Message-IDs
  size_t deliveries = 0;
  const bool all_arrived = eventually(
      [&] {
        message_ids.clear();
        const auto messages = sink.messages();
        deliveries = messages.size();
        for (const json& message : messages) {
          for (const json& recipient : message["rcpt_tos"])
            message_ids[recipient.get<std::string>()].insert(
                message["headers"].value("Message-ID", ""));
        }
        return message_ids.size() == static_cast<size_t>(kSubscribers);
      },
      seconds(90), milliseconds(200));
  EXPECT_TRUE(all_arrived) << message_ids.size() << " of " << kSubscribers << " received:\n"
                           << survivor.log();
  // Exactly one digest each; the one message a killed sender may have handed to SMTP without
  // recording it goes again, with the same Message-ID, which mail clients show once.
  for (const auto& [recipient, ids] : message_ids)
    EXPECT_EQ(ids.size(), 1u) << recipient << " got different digests";
  EXPECT_LE(deliveries, static_cast<size_t>(kSubscribers) + 1);
  auto counts = store::open_postgres_subscription_store(url_);
  ASSERT_TRUE(counts);
  auto outbox = (*counts)->outbox_counts();
  ASSERT_TRUE(outbox);
  EXPECT_EQ(outbox->sent, kSubscribers);
  EXPECT_EQ(outbox->pending, 0);
  EXPECT_NE(survivor.log().find("sent"), std::string::npos) << survivor.log();
  // nginx keeps serving through the survivor.
  auto served = httplib::Client("127.0.0.1", port_nginx).Get("/healthz");
  ASSERT_TRUE(served);
  EXPECT_EQ(served->status, 200);
}

TEST_F(ClusterTest, ASyncKilledMidwayIsFinishedByTheOtherNodeAndStoresEveryPaperOnce) {
  // Paper 5 is already stored at version 3; the harvest brings its older version 1.
  {
    std::ofstream(dir_ / "stored.jsonl")
        << json{{"arxiv_id", "2611.20005"},        {"version", 3},
                {"title", "Stored third version"}, {"abstract", "Kept."},
                {"authors", {"Grace Hopper"}},     {"categories", {"cs.DC"}},
                {"published", "2025-03-11"}}
               .dump()
        << "\n";
  }
  ingest(dir_ / "stored.jsonl");
  // Three pages of eight papers; paper 3 comes again on the last page at version 2, as a paper
  // revised during a harvest does. The second page is slow the first time it is asked for: the
  // node asking is killed while it waits, after the first page was stored and its position saved.
  std::vector<std::pair<int, int>> pages[3];
  for (int number = 1; number <= 24; ++number) pages[(number - 1) / 8].push_back({number, 1});
  pages[2].push_back({3, 2});
  sync::testing::ReplayServer source;
  sync::testing::Reply slow = sync::testing::Reply::ok(oai_raw_page(pages[1], "page-3"));
  slow.delay = seconds(15);
  source.on("/oai", {{"resumptionToken", "page-2"}},
            {slow, sync::testing::Reply::ok(oai_raw_page(pages[1], "page-3"))});
  source.on("/oai", {{"resumptionToken", "page-3"}},
            {sync::testing::Reply::ok(oai_raw_page(pages[2], ""))});
  source.on("/oai", {{"verb", "ListRecords"}, {"set", "cs"}, {"metadataPrefix", "arXivRaw"}},
            {sync::testing::Reply::ok(oai_raw_page(pages[0], "page-2"))});
  source.on("/hf", {}, {sync::testing::Reply::ok("[]", "application/json")});
  const std::vector<std::string> syncs = {"--sync-every-minutes", "60",
                                          "--sync-lease",         "3",
                                          "--categories",         "cs",
                                          "--metadata-prefix",    "arXivRaw",
                                          "--request-delay",      "0",
                                          "--arxiv-oai-url",      source.url("/oai"),
                                          "--hf-api-url",         source.url("/hf"),
                                          "--arxiv-api-url",      source.url("/api/query")};
  int port_a = 0, port_b = 0;
  auto node_a = start_node("node-a", port_a, syncs);
  auto node_b = start_node("node-b", port_b, syncs);
  if (HasFailure()) return;

  ASSERT_TRUE(eventually([&] { return source.count_requests("resumptionToken=page-2") == 1; },
                         seconds(60), milliseconds(20)))
      << "no node asked for the second page:\n"
      << node_a->log() << node_b->log();
  auto admin = store::pg::Connection::open(url_);
  ASSERT_TRUE(admin) << admin.error().message;
  auto holder_rows = (*admin)->query("finding the sync job's holder",
                                     "SELECT holder FROM cluster_jobs WHERE job = 'sync'");
  ASSERT_TRUE(holder_rows && !holder_rows->empty());
  const std::string holder_name(holder_rows->text(0, 0));
  const pid_t holder = std::atoi(holder_name.substr(holder_name.rfind(':') + 1).c_str());
  ASSERT_TRUE(holder == node_a->pid() || holder == node_b->pid()) << holder_name;
  Child& killed = holder == node_a->pid() ? *node_a : *node_b;
  Child& survivor = holder == node_a->pid() ? *node_b : *node_a;
  killed.stop(SIGKILL);
  EXPECT_EQ(source.count_requests("set=cs"), 1u) << "the survivor never ran the sync before";

  // The survivor takes the job over once the lease runs out and finishes the harvest.
  const bool finished = eventually(
      [&] {
        auto rows = (*admin)->query("reading the sync job",
                                    "SELECT holder = '' AND due_at > now() FROM cluster_jobs "
                                    "WHERE job = 'sync'");
        return rows && !rows->empty() && rows->boolean(0, 0) &&
               source.count_requests("resumptionToken=page-3") == 1;
      },
      seconds(90), milliseconds(100));
  ASSERT_TRUE(finished) << survivor.log();
  // It continued at the second page from the shared position instead of starting over.
  EXPECT_EQ(source.count_requests("set=cs"), 1u);
  EXPECT_EQ(source.count_requests("resumptionToken=page-2"), 2u);
  EXPECT_NE(survivor.log().find("resumed an interrupted harvest"), std::string::npos)
      << survivor.log();

  auto papers = store::open_postgres_store(url_);
  ASSERT_TRUE(papers) << papers.error().message;
  auto stats = (*papers)->stats();
  ASSERT_TRUE(stats);
  EXPECT_EQ(stats->papers, 24);
  for (int number = 1; number <= 24; ++number) {
    char id[32];
    std::snprintf(id, sizeof id, "2611.2%04d", number);
    auto found = (*papers)->find(id);
    ASSERT_TRUE(found && found->has_value()) << id << " is missing";
    const int newest = number == 3 ? 2 : number == 5 ? 3 : 1;
    EXPECT_EQ((*found)->version, newest) << id;
    EXPECT_EQ((*found)->title, number == 5 ? "Stored third version"
                                           : "Harvested paper " + std::to_string(number) +
                                                 " version " + std::to_string(newest))
        << id;
  }
}

}  // namespace
}  // namespace paperboy
