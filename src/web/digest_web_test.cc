// The digest routes over a real server, store and subscription store: subscribing through the
// form and the API, the confirm and unsubscribe links (GET changes nothing, POST acts), and
// RFC 8058 one-click unsubscribe.
#include <gtest/gtest.h>
#include <httplib.h>
#include <unistd.h>

#include <filesystem>
#include <nlohmann/json.hpp>
#include <thread>

#include "mail/links.h"
#include "store/store.h"
#include "store/subscriptions.h"
#include "web/server.h"

namespace paperboy::web {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;
using store::SubscriptionState;

class DigestWeb : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string pattern = (fs::temp_directory_path() / "paperboy-digest-web-XXXXXX").string();
    directory_ = mkdtemp(pattern.data());
    auto papers = store::open_sqlite_store(directory_ / "papers.db");
    ASSERT_TRUE(papers) << papers.error().message;
    papers_ = std::move(*papers);
    auto subscriptions = store::open_sqlite_subscription_store(directory_ / "papers.db");
    ASSERT_TRUE(subscriptions) << subscriptions.error().message;
    subscriptions_ = std::move(*subscriptions);

    ServerOptions options;
    options.port = 0;
    options.threads = 2;
    options.subscriptions = subscriptions_.get();
    options.mail.base_url = "https://papers.example.org";
    options.mail.from = {"paperboy", "digest@papers.example.org"};
    options.mail.secret = kSecret;
    auto created = Server::create(*papers_, options);
    ASSERT_TRUE(created) << created.error().message;
    server_ = std::move(*created);
    thread_ = std::thread([this] { ran_ = server_->run(); });
    client_ = std::make_unique<httplib::Client>("127.0.0.1", server_->port());
    client_->set_read_timeout(10, 0);
  }

  void TearDown() override {
    server_->stop();
    thread_.join();
    EXPECT_TRUE(ran_) << ran_.error().message;
    server_.reset();
    fs::remove_all(directory_);
  }

  store::Subscription stored(const std::string& email) {
    auto found = subscriptions_->find_subscription(email);
    EXPECT_TRUE(found && *found) << email;
    return found && *found ? **found : store::Subscription{};
  }

  static constexpr const char* kSecret = "a test secret long enough to sign the links";
  fs::path directory_;
  std::unique_ptr<store::Store> papers_;
  std::unique_ptr<store::SubscriptionStore> subscriptions_;
  std::unique_ptr<Server> server_;
  std::thread thread_;
  Result<void> ran_;
  std::unique_ptr<httplib::Client> client_;
};

TEST_F(DigestWeb, TheFormSubscribesAndQueuesOneConfirmation) {
  auto form = client_->Get("/digest");
  ASSERT_TRUE(form);
  EXPECT_EQ(form->status, 200);
  EXPECT_NE(form->body.find("name=\"email\""), std::string::npos);

  httplib::Params params = {
      {"email", "ada@example.com"},         {"name", "Ada Byron"}, {"frequency", "weekly"},
      {"time_zone", "Europe/London"},       {"hour", "8"},         {"categories", "cs.CL, cs.LG"},
      {"queries", "\"state space\"\nmamba"}};
  auto posted = client_->Post("/digest", params);
  ASSERT_TRUE(posted);
  EXPECT_EQ(posted->status, 200) << posted->body;
  EXPECT_NE(posted->body.find("Check your inbox"), std::string::npos);

  store::Subscription ada = stored("ada@example.com");
  EXPECT_EQ(ada.state, SubscriptionState::pending);
  EXPECT_EQ(ada.frequency, store::DigestFrequency::weekly);
  EXPECT_EQ(ada.time_zone, "Europe/London");
  EXPECT_EQ(ada.send_hour, 8);
  EXPECT_EQ(ada.topics.categories, (std::vector<std::string>{"cs.CL", "cs.LG"}));
  EXPECT_EQ(ada.topics.queries, (std::vector<std::string>{"\"state space\"", "mamba"}));
  auto outbox = subscriptions_->outbox_of(ada.id);
  ASSERT_TRUE(outbox);
  ASSERT_EQ(outbox->size(), 1u);
  EXPECT_TRUE((*outbox)[0].period.starts_with("confirm ")) << (*outbox)[0].period;
}

TEST_F(DigestWeb, TheApiRefusesBadInputWithAClearError) {
  auto injected = client_->Post(
      "/api/digest/subscribe",
      json{{"email", "eve@example.com"}, {"name", "Eve\r\nBcc: all@example.net"}}.dump(),
      "application/json");
  ASSERT_TRUE(injected);
  EXPECT_EQ(injected->status, 400);
  EXPECT_NE(json::parse(injected->body)["error"].get<std::string>().find("To name"),
            std::string::npos);

  auto malformed =
      client_->Post("/api/digest/subscribe", json{{"email", "eve"}}.dump(), "application/json");
  ASSERT_TRUE(malformed);
  EXPECT_EQ(malformed->status, 400);
  auto not_json = client_->Post("/api/digest/subscribe", "email=eve", "application/json");
  ASSERT_TRUE(not_json);
  EXPECT_EQ(not_json->status, 400);
  EXPECT_FALSE(*subscriptions_->find_subscription("eve@example.com"));

  auto ok = client_->Post(
      "/api/digest/subscribe",
      json{{"email", "eve@example.com"}, {"categories", {"cs.CL"}}, {"hour", 6}}.dump(),
      "application/json");
  ASSERT_TRUE(ok);
  EXPECT_EQ(ok->status, 202) << ok->body;
  EXPECT_EQ(json::parse(ok->body)["state"], "pending");
  EXPECT_EQ(stored("eve@example.com").send_hour, 6);
}

TEST_F(DigestWeb, ConfirmAndUnsubscribeLinksActOnPostOnly) {
  ASSERT_TRUE(client_->Post("/api/digest/subscribe", json{{"email", "ada@example.com"}}.dump(),
                            "application/json"));
  store::Subscription ada = stored("ada@example.com");
  auto now = std::chrono::floor<std::chrono::seconds>(std::chrono::system_clock::now());
  std::string confirm_token =
      mail::sign_link(kSecret, mail::LinkAction::confirm, ada.id, now + std::chrono::hours(1));

  auto page = client_->Get(("/digest/confirm?token=" + confirm_token).c_str());
  ASSERT_TRUE(page);
  EXPECT_EQ(page->status, 200);
  EXPECT_EQ(stored("ada@example.com").state, SubscriptionState::pending)
      << "a mail scanner opening the link confirms nothing";

  auto forged = client_->Post("/digest/confirm", httplib::Params{{"token", confirm_token + "A"}});
  ASSERT_TRUE(forged);
  EXPECT_EQ(forged->status, 400);
  auto confirmed = client_->Post("/digest/confirm", httplib::Params{{"token", confirm_token}});
  ASSERT_TRUE(confirmed);
  EXPECT_EQ(confirmed->status, 200) << confirmed->body;
  EXPECT_EQ(stored("ada@example.com").state, SubscriptionState::active);

  // A confirmation token does not unsubscribe.
  auto wrong = client_->Post(("/digest/unsubscribe?token=" + confirm_token).c_str(),
                             "List-Unsubscribe=One-Click", "application/x-www-form-urlencoded");
  ASSERT_TRUE(wrong);
  EXPECT_EQ(wrong->status, 400);

  std::string unsubscribe_token = mail::sign_link(kSecret, mail::LinkAction::unsubscribe, ada.id,
                                                  now + std::chrono::hours(24 * 365));
  // What a mail client's one-click unsubscribe sends (RFC 8058).
  auto one_click = client_->Post(("/digest/unsubscribe?token=" + unsubscribe_token).c_str(),
                                 "List-Unsubscribe=One-Click", "application/x-www-form-urlencoded");
  ASSERT_TRUE(one_click);
  EXPECT_EQ(one_click->status, 200) << one_click->body;
  EXPECT_EQ(stored("ada@example.com").state, SubscriptionState::unsubscribed);
}

}  // namespace
}  // namespace paperboy::web
