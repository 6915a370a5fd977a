// End-to-end digests through the real binary: `paperboy serve` with its digest scheduler and a
// real SMTP server on 127.0.0.1 (src/mail/testdata/smtp_sink.py). Two people subscribe through
// the web form as a browser does, confirm from the link in the mail, receive one digest each,
// and one of them leaves with the mail client's one-click unsubscribe (RFC 8058): the next
// digest reaches only the other. The scheduler runs once a minute, so this takes minutes.
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
#include <functional>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "cli/test_process.h"
#include "core/date.h"
#include "mail/smtp_sink.h"

namespace {

namespace fs = std::filesystem;
using nlohmann::json;

using paperboy::cli::testing::free_port;

// The text between `start` and the next character in `stops` (or the end).
std::string between(const std::string& text, const std::string& start, const std::string& stops) {
  size_t at = text.find(start);
  if (at == std::string::npos) return {};
  at += start.size();
  return text.substr(at, text.find_first_of(stops, at) - at);
}

// Path and query of an absolute http URL.
std::string target_of(const std::string& url) {
  size_t scheme = url.find("://");
  size_t slash = url.find('/', scheme == std::string::npos ? 0 : scheme + 3);
  return slash == std::string::npos ? "/" : url.substr(slash);
}

class DigestEndToEnd : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("paperboy-digest-e2e-" + std::to_string(getpid()));
    fs::remove_all(dir_);
    fs::create_directories(dir_ / "mail");
    sink_ = std::make_unique<paperboy::mail::testing::SmtpSink>(dir_ / "mail");
  }
  void TearDown() override {
    if (server_ > 0) {
      kill(server_, SIGTERM);
      int status = 0;
      waitpid(server_, &status, 0);
    }
    sink_.reset();
    fs::remove_all(dir_);
  }

  // Runs the binary on the test's data folder; returns the exit code, output in out_.
  int run(std::vector<std::string> args) {
    args.insert(args.begin(), {PAPERBOY_BINARY, "--data", (dir_ / "data").string(), "--quiet"});
    auto outcome = paperboy::cli::testing::run(args, dir_);
    out_ = std::move(outcome.out);
    err_ = std::move(outcome.err);
    return outcome.exit_code;
  }

  std::vector<json> mail_to(const std::string& address, const std::string& subject_start) {
    std::vector<json> found;
    for (json& message : sink_->messages()) {
      if (message["rcpt_tos"][0] == address &&
          message["headers"]["Subject"].get<std::string>().starts_with(subject_start))
        found.push_back(std::move(message));
    }
    return found;
  }

  // Waits (the scheduler runs once a minute) until `done` holds; false after `limit`.
  static bool wait_for(const std::function<bool()>& done, std::chrono::seconds limit) {
    auto until = std::chrono::steady_clock::now() + limit;
    while (std::chrono::steady_clock::now() < until) {
      if (done()) return true;
      std::this_thread::sleep_for(std::chrono::milliseconds(500));
    }
    return done();
  }

  fs::path dir_;
  std::unique_ptr<paperboy::mail::testing::SmtpSink> sink_;
  pid_t server_ = -1;
  std::string out_, err_;
};

TEST_F(DigestEndToEnd, SubscribeConfirmReceiveOnceAndOneClickUnsubscribeStopsTheNext) {
  ASSERT_EQ(run({"ingest", std::string(PAPERBOY_SOURCE_DIR) + "/demo"}), 0) << err_;
  ASSERT_EQ(run({"feed", "--json"}), 0) << err_;  // the latest feed day, one paper a line
  std::vector<json> latest_feed;
  std::istringstream lines(out_);
  for (std::string line; std::getline(lines, line);) {
    if (!line.empty()) latest_feed.push_back(json::parse(line));
  }

  const int port = free_port();
  const std::string base = "http://127.0.0.1:" + std::to_string(port);
  server_ = paperboy::cli::testing::spawn(
      {PAPERBOY_BINARY, "--data", (dir_ / "data").string(), "serve", "--port", std::to_string(port),
       "--threads", "4", "--digest-every", "1", "--smtp-host", "127.0.0.1", "--smtp-port",
       std::to_string(sink_->port()), "--base-url", base},
      dir_ / "serve.out", dir_ / "serve.err");
  httplib::Client http("127.0.0.1", port);
  http.set_read_timeout(30, 0);
  ASSERT_TRUE(wait_for(
      [&] {
        auto health = http.Get("/healthz");
        return health && health->status == 200;
      },
      std::chrono::seconds(120)))
      << paperboy::cli::testing::read_file(dir_ / "serve.err");

  // As a browser: load the form, post it back. (No CSRF token: a forged subscription only
  // sends one confirmation mail a day, which does nothing unless its owner follows it.)
  for (const std::string email : {"ada@example.org", "bob@example.org"}) {
    auto form = http.Get("/digest");
    ASSERT_TRUE(form && form->status == 200);
    ASSERT_NE(form->body.find("name=\"like_my_papers\""), std::string::npos);
    // Kiritimati is UTC+14: the send hour 0 has come there today, whatever the time.
    auto posted = http.Post("/digest", httplib::Headers{{"Origin", base}},
                            httplib::Params{{"email", email},
                                            {"name", "Reader"},
                                            {"frequency", "daily"},
                                            {"time_zone", "Pacific/Kiritimati"},
                                            {"hour", "0"},
                                            {"max_papers", "5"}});
    ASSERT_TRUE(posted);
    ASSERT_EQ(posted->status, 200) << posted->body;
    EXPECT_NE(posted->body.find("Check your inbox"), std::string::npos);
  }

  // The scheduler delivers the confirmations; nothing else reaches an unconfirmed address.
  ASSERT_TRUE(wait_for(
      [&] {
        return mail_to("bob@example.org", "Confirm").size() == 1 &&
               mail_to("ada@example.org", "Confirm").size() == 1;
      },
      std::chrono::seconds(150)))
      << paperboy::cli::testing::read_file(dir_ / "serve.err");
  for (const std::string email : {"ada@example.org", "bob@example.org"}) {
    const std::string link = between(mail_to(email, "Confirm")[0]["text"], base, " \n");
    ASSERT_TRUE(link.starts_with("/digest/confirm?token=")) << link;
    auto page = http.Get(link);  // what a mail scanner does: changes nothing
    ASSERT_TRUE(page && page->status == 200);
    auto confirmed =
        http.Post("/digest/confirm", httplib::Params{{"token", between(link, "token=", "&")}});
    ASSERT_TRUE(confirmed && confirmed->status == 200);
    EXPECT_NE(confirmed->body.find("You are subscribed"), std::string::npos);
  }

  // The first digest: the latest feed day's five most upvoted papers.
  ASSERT_TRUE(wait_for(
      [&] {
        return mail_to("bob@example.org", "paperboy daily").size() == 1 &&
               mail_to("ada@example.org", "paperboy daily").size() == 1;
      },
      std::chrono::seconds(150)))
      << paperboy::cli::testing::read_file(dir_ / "serve.err");
  std::vector<int64_t> upvotes;
  for (const json& paper : latest_feed) upvotes.push_back(paper.value("upvotes", int64_t{0}));
  std::sort(upvotes.rbegin(), upvotes.rend());
  ASSERT_GE(upvotes.size(), 5u);
  json digest = mail_to("ada@example.org", "paperboy daily")[0];
  size_t listed = 0;
  for (const json& paper : latest_feed) {
    if (digest["text"].get<std::string>().find(paper["title"].get<std::string>()) ==
        std::string::npos)
      continue;
    ++listed;
    EXPECT_GE(paper.value("upvotes", int64_t{0}), upvotes[4]) << paper["title"];
  }
  EXPECT_EQ(listed, 5u) << digest["text"];
  EXPECT_EQ(digest["headers"]["List-Unsubscribe-Post"], "List-Unsubscribe=One-Click");
  const std::string unsubscribe = between(digest["headers"]["List-Unsubscribe"], "<", ">");
  ASSERT_TRUE(unsubscribe.starts_with(base + "/digest/unsubscribe?token=")) << unsubscribe;

  // A new feed day, and both move to UTC-12, whose date is another day: a second digest is due
  // for each. Ada leaves first, as a mail client's unsubscribe button does it.
  const std::string today = paperboy::format_date(paperboy::today());
  std::ofstream(dir_ / "new.jsonl")
      << json{{"arxiv_id", "2611.99999"},
              {"title", "A Paper That Arrived After The First Digest"},
              {"abstract", "It shows that the scheduler sends the next digest."},
              {"authors", {"Grace Hopper"}},
              {"categories", {"cs.CL"}},
              {"feed_day", today},
              {"upvotes", 7}}
             .dump()
      << "\n";
  ASSERT_EQ(run({"ingest", (dir_ / "new.jsonl").string()}), 0) << err_;
  for (const std::string email : {"ada@example.org", "bob@example.org"}) {
    ASSERT_EQ(run({"digest", "subscribe", email, "--time-zone", "Etc/GMT+12", "--hour", "0",
                   "--max", "5"}),
              0)
        << err_;
  }
  auto left = http.Post(target_of(unsubscribe), "List-Unsubscribe=One-Click",
                        "application/x-www-form-urlencoded");
  ASSERT_TRUE(left);
  EXPECT_EQ(left->status, 200) << left->body;

  ASSERT_TRUE(wait_for([&] { return mail_to("bob@example.org", "paperboy daily").size() == 2; },
                       std::chrono::seconds(150)))
      << paperboy::cli::testing::read_file(dir_ / "serve.err");
  EXPECT_NE(mail_to("bob@example.org", "paperboy daily")[1]["text"].get<std::string>().find(
                "A Paper That Arrived After The First Digest"),
            std::string::npos);
  EXPECT_EQ(mail_to("ada@example.org", "paperboy daily").size(), 1u);
}

}  // namespace
