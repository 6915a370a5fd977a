// The community routes on a real server over a real SQLite store, driven over HTTP with a
// cookie jar per simulated browser.
#include <gtest/gtest.h>
#include <httplib.h>

#include <atomic>
#include <filesystem>
#include <map>
#include <nlohmann/json.hpp>
#include <random>
#include <thread>

#include "core/date.h"
#include "store/community.h"
#include "store/store.h"
#include "web/accounts.h"
#include "web/markdown.h"
#include "web/server.h"

namespace paperboy::web {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

TEST(Accounts, HashesAndVerifiesPasswordsWithArgon2id) {
  auto hash = hash_password("correct horse battery");
  ASSERT_TRUE(hash) << hash.error().message;
  EXPECT_TRUE(hash->starts_with("$argon2id$v=19$m=19456,t=2,p=1$")) << *hash;
  EXPECT_NE(*hash, *hash_password("correct horse battery")) << "salted";
  EXPECT_TRUE(verify_password(*hash, "correct horse battery"));
  EXPECT_FALSE(verify_password(*hash, "correct horse batter"));
  EXPECT_FALSE(verify_password("", "anything"));
  EXPECT_FALSE(verify_password("$plain$secret", "secret"));
}

TEST(Accounts, TokensAreRandomAndStoredHashed) {
  const std::string token = random_token();
  EXPECT_EQ(token.size(), 64u);
  EXPECT_NE(token, random_token());
  EXPECT_EQ(token_hash("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

TEST(Accounts, ChecksSignUpFields) {
  EXPECT_TRUE(check_user_name("ada_l-1"));
  EXPECT_EQ(check_user_name("a").error().message, "name: 2 to 32 letters, digits, '_' or '-'");
  EXPECT_FALSE(check_user_name("<script>"));
  EXPECT_FALSE(check_user_name(std::string(33, 'a')));
  EXPECT_TRUE(check_email("ada@example.org"));
  EXPECT_FALSE(check_email("ada@example"));
  EXPECT_FALSE(check_email("a da@example.org"));
  EXPECT_FALSE(check_email("@example.org"));
  EXPECT_EQ(check_password("short").error().message, "password: at least 8 characters");
  EXPECT_TRUE(check_password("long enough"));
  EXPECT_EQ(cookie_value("a=1; paperboy_session=xyz; b=2", "paperboy_session"), "xyz");
  EXPECT_FALSE(cookie_value("a=1", "paperboy_session"));
}

TEST(Accounts, LimitsFailedSignInsPerAccountAndAddress) {
  LoginLimiter limiter(3, 5, std::chrono::seconds(60));
  const auto start = LoginLimiter::Clock::now();
  for (int i = 0; i < 3; ++i) {
    EXPECT_EQ(limiter.wait("ada", "10.0.0.1", start).count(), 0);
    limiter.failed("ada", "10.0.0.1", start);
  }
  EXPECT_EQ(limiter.wait("ada", "10.0.0.2", start).count(), 60) << "per account";
  EXPECT_EQ(limiter.wait("bob", "10.0.0.1", start).count(), 0);
  limiter.failed("bob", "10.0.0.1", start);
  limiter.failed("bob", "10.0.0.1", start);
  EXPECT_EQ(limiter.wait("carol", "10.0.0.1", start).count(), 60) << "per address";
  EXPECT_EQ(limiter.wait("ada", "10.0.0.2", start + std::chrono::seconds(45)).count(), 15);
  EXPECT_EQ(limiter.wait("ada", "10.0.0.2", start + std::chrono::seconds(61)).count(), 0);
  limiter.succeeded("bob");
  EXPECT_EQ(limiter.wait("bob", "10.0.0.9", start).count(), 0);
}

TEST(Markdown, RendersCommonMarkWithoutRawHtmlOrScriptLinks) {
  EXPECT_EQ(render_markdown("**bold** and `code`"),
            "<p><strong>bold</strong> and <code>code</code></p>\n");
  const std::string hostile = render_markdown(
      "<script>alert(1)</script>\n\n[click](javascript:alert(2)) <img src=x onerror=alert(3)>\n\n"
      "![x](data:text/html,hi) [ok](https://example.org)");
  EXPECT_EQ(hostile.find("<script"), std::string::npos) << hostile;
  EXPECT_EQ(hostile.find("<img src=x"), std::string::npos) << hostile;
  EXPECT_EQ(hostile.find("javascript:"), std::string::npos) << hostile;
  EXPECT_EQ(hostile.find("data:text/html"), std::string::npos) << hostile;
  EXPECT_NE(hostile.find("<a rel=\"nofollow ugc noopener\" href=\"https://example.org\">ok</a>"),
            std::string::npos)
      << hostile;
}

// ---- The real server ----

fs::path fresh_temp_dir() {
  std::random_device random;
  fs::path directory =
      fs::temp_directory_path() / ("paperboy-community-web-" + std::to_string(random()));
  fs::remove_all(directory);
  fs::create_directories(directory);
  return directory;
}

Paper fixture_paper(std::string id, std::string title, int64_t upvotes, std::string feed_day) {
  Paper paper;
  paper.arxiv_id = std::move(id);
  paper.version = 1;
  paper.title = std::move(title);
  paper.upvotes = upvotes;
  paper.feed_day = std::move(feed_day);
  paper.published = "2025-05-30";
  paper.authors = {"Mingjie Liu", "Shizhe Diao"};
  paper.abstract = "An abstract.";
  paper.categories = {"cs.LG"};
  return paper;
}

// The 64 hex digits right after the first `before` in `text`; empty when there are none.
std::string hex_after(const std::string& text, std::string_view before) {
  const size_t at = text.find(before);
  if (at == std::string::npos || text.size() < at + before.size() + 64) return {};
  std::string token = text.substr(at + before.size(), 64);
  const bool hex = std::all_of(token.begin(), token.end(), [](char c) {
    return std::isdigit(static_cast<unsigned char>(c)) || (c >= 'a' && c <= 'f');
  });
  return hex ? token : std::string();
}

// One simulated browser: its own connection and cookie jar.
class Browser {
 public:
  explicit Browser(int port) : client_("127.0.0.1", port) { client_.set_read_timeout(20, 0); }

  httplib::Result get(const std::string& path, httplib::Headers headers = {}) {
    add_cookies(headers);
    auto result = client_.Get(path.c_str(), headers);
    keep_cookies(result);
    if (result) last_csrf_ = csrf_in(result->body).value_or(last_csrf_);
    return result;
  }

  // A form POST; the page's last CSRF token goes along unless `csrf` says otherwise.
  httplib::Result post(const std::string& path, httplib::Params form,
                       std::optional<std::string> csrf = std::nullopt,
                       httplib::Headers headers = {}) {
    form.emplace("csrf", csrf.value_or(last_csrf_));
    add_cookies(headers);
    auto result = client_.Post(path.c_str(), headers, form);
    keep_cookies(result);
    return result;
  }

  // A JSON API call with the X-CSRF-Token header.
  httplib::Result api(const std::string& method, const std::string& path, const json& body = {},
                      std::optional<std::string> csrf = std::nullopt) {
    httplib::Headers headers{{"X-CSRF-Token", csrf.value_or(last_csrf_)}};
    add_cookies(headers);
    const std::string text = body.is_null() ? "" : body.dump();
    httplib::Result result =
        method == "POST"     ? client_.Post(path.c_str(), headers, text, "application/json")
        : method == "PATCH"  ? client_.Patch(path.c_str(), headers, text, "application/json")
        : method == "DELETE" ? client_.Delete(path.c_str(), headers, text, "application/json")
                             : client_.Get(path.c_str(), headers);
    keep_cookies(result);
    return result;
  }

  void sign_up(const std::string& name, const std::string& password = "password123") {
    ASSERT_EQ(get("/signup")->status, 200);
    auto result =
        post("/signup", {{"name", name}, {"email", name + "@example.org"}, {"password", password}});
    ASSERT_TRUE(result);
    ASSERT_EQ(result->status, 303) << result->body.substr(0, 2000);
    ASSERT_TRUE(cookies_.contains("paperboy_session"));
    refresh_csrf();
  }

  httplib::Result sign_in(const std::string& name, const std::string& password = "password123") {
    get("/signin");
    auto result = post("/signin", {{"name", name}, {"password", password}});
    if (result && result->status == 303) refresh_csrf();
    return result;
  }

  // Loads a page so the session's CSRF token is known.
  void refresh_csrf() { get("/settings"); }

  const std::string& csrf() const { return last_csrf_; }
  std::map<std::string, std::string>& cookies() { return cookies_; }
  std::string last_set_cookie;

 private:
  static std::optional<std::string> csrf_in(const std::string& body) {
    for (std::string_view before :
         {"<meta name=\"csrf-token\" content=\"", "name=\"csrf\" value=\""}) {
      std::string token = hex_after(body, before);
      if (!token.empty()) return token;
    }
    return std::nullopt;
  }

  void add_cookies(httplib::Headers& headers) const {
    std::string header;
    for (const auto& [name, value] : cookies_) header += name + "=" + value + "; ";
    if (!header.empty()) headers.emplace("Cookie", header);
  }

  void keep_cookies(const httplib::Result& result) {
    if (!result) return;
    for (auto [at, end] = result->headers.equal_range("Set-Cookie"); at != end; ++at) {
      last_set_cookie = at->second;
      const std::string& text = at->second;
      const size_t equals = text.find('=');
      const size_t semicolon = text.find(';');
      const std::string name = text.substr(0, equals);
      const std::string value = text.substr(equals + 1, semicolon - equals - 1);
      if (value.empty() || text.find("Max-Age=0") != std::string::npos) {
        cookies_.erase(name);
      } else {
        cookies_[name] = value;
      }
    }
  }

  httplib::Client client_;
  std::map<std::string, std::string> cookies_;
  std::string last_csrf_;
};

class CommunityWeb : public ::testing::Test {
 protected:
  void SetUp() override {
    directory_ = fresh_temp_dir();
    const fs::path path = directory_ / "papers.sqlite";
    auto opened = store::open_sqlite_store(path);
    ASSERT_TRUE(opened) << opened.error().message;
    store_ = std::move(*opened);
    ASSERT_TRUE(store_->begin_batch());
    for (const Paper& paper :
         {fixture_paper("2505.24864", "ProRL: Prolonged Reinforcement Learning", 35, "2025-06-02"),
          fixture_paper("2505.24863", "AlphaOne: Reasoning Models", 28, "2025-06-02"),
          fixture_paper("2506.01234", "<script>alert('title')</script> Hostile", 7, "2025-06-02")})
      ASSERT_TRUE(store_->upsert(paper));
    ASSERT_TRUE(store_->commit_batch());
    auto community = store::open_sqlite_community_store(path);
    ASSERT_TRUE(community) << community.error().message;
    community_ = std::move(*community);

    ServerOptions options;
    options.port = 0;
    options.threads = 8;
    options.max_body_bytes = 64 * 1024;
    options.community = community_.get();
    auto created = Server::create(*store_, options);
    ASSERT_TRUE(created) << created.error().message;
    server_ = std::move(*created);
    thread_ = std::thread([this] { ran_ = server_->run(); });
  }

  void TearDown() override {
    if (server_) server_->stop();
    if (thread_.joinable()) thread_.join();
    EXPECT_TRUE(ran_) << ran_.error().message;
    server_.reset();
    community_.reset();
    store_.reset();
    std::error_code ignored;
    fs::remove_all(directory_, ignored);
  }

  Browser browser() { return Browser(server_->port()); }

  int64_t upvotes(const std::string& id) { return (*store_->find(id))->upvotes; }

  fs::path directory_;
  std::unique_ptr<store::Store> store_;
  std::unique_ptr<store::CommunityStore> community_;
  std::unique_ptr<Server> server_;
  std::thread thread_;
  Result<void> ran_;
};

TEST_F(CommunityWeb, SignsUpInAndOutWithSafeCookies) {
  Browser ada = browser();
  auto anonymous = ada.get("/");
  EXPECT_NE(anonymous->body.find("href=\"/signin?next=%2F\">Sign in</a>"), std::string::npos);
  EXPECT_EQ(anonymous->body.find("<!--account-->"), std::string::npos);

  ada.sign_up("ada");
  EXPECT_NE(ada.last_set_cookie.find("HttpOnly"), std::string::npos);
  auto home = ada.get("/");
  EXPECT_NE(home->body.find("title=\"Settings\">ada</a>"), std::string::npos);
  EXPECT_NE(home->body.find("href=\"/admin\""), std::string::npos) << "the first user administers";
  EXPECT_EQ(home->get_header_value("Cache-Control"), "private, no-store");
  EXPECT_EQ(home->body.find("<!--csrf-->"), std::string::npos);
  EXPECT_TRUE(home->body.ends_with("</html>\n")) << "the length follows the personalised page";
  auto compressed = ada.get("/papers/2505.24864", {{"Accept-Encoding", "gzip"}});
  EXPECT_EQ(compressed->get_header_value("Content-Encoding"), "gzip");
  EXPECT_NE(compressed->body.find("title=\"Settings\">ada</a>"), std::string::npos);
  EXPECT_TRUE(compressed->body.ends_with("</html>\n"));
  EXPECT_EQ((*community_->find_user("ada"))->role, store::Role::admin);

  auto signed_out = ada.post("/signout", {});
  EXPECT_EQ(signed_out->status, 303);
  EXPECT_FALSE(ada.cookies().contains("paperboy_session"));
  EXPECT_NE(ada.get("/")->body.find("Sign in</a>"), std::string::npos);

  auto wrong = ada.sign_in("ada", "not the password");
  EXPECT_EQ(wrong->status, 401);
  EXPECT_NE(wrong->body.find("Wrong name or password."), std::string::npos);
  auto right = ada.sign_in("ADA@example.org");
  EXPECT_EQ(right->status, 303);
  const std::string cookie = ada.last_set_cookie;
  EXPECT_TRUE(cookie.starts_with("paperboy_session=")) << cookie;
  EXPECT_NE(cookie.find("; Path=/; HttpOnly; SameSite=Lax; Max-Age=2592000"), std::string::npos);
  EXPECT_EQ(cookie.find("Secure"), std::string::npos);

  Browser behind_tls = browser();
  behind_tls.get("/signin", {{"X-Forwarded-Proto", "https"}});
  auto secure = behind_tls.post("/signin", {{"name", "ada"}, {"password", "password123"}}, {},
                                {{"X-Forwarded-Proto", "https"}});
  EXPECT_EQ(secure->status, 303);
  EXPECT_NE(behind_tls.last_set_cookie.find("; Secure"), std::string::npos);

  Browser second = browser();
  auto taken = second.post(
      "/signup", {{"name", "Ada"}, {"email", "x@example.org"}, {"password", "password123"}},
      second.get("/signup") ? second.csrf() : "");
  EXPECT_EQ(taken->status, 409);
  EXPECT_NE(taken->body.find("name: &apos;Ada&apos; is already taken"), std::string::npos);
}

TEST_F(CommunityWeb, RateLimitsFailedSignIns) {
  Browser ada = browser();
  ada.sign_up("ada");
  Browser attacker = browser();
  for (int i = 0; i < 5; ++i)
    EXPECT_EQ(attacker.sign_in("ada", "guess" + std::to_string(i))->status, 401);
  auto blocked = attacker.sign_in("ada");
  EXPECT_EQ(blocked->status, 429) << "even the right password waits";
  EXPECT_NE(blocked->body.find("Too many failed sign-ins"), std::string::npos);
  EXPECT_GT(std::stoi(blocked->get_header_value("Retry-After")), 0);
}

TEST_F(CommunityWeb, RefusesStateChangesWithoutTheCsrfToken) {
  Browser ada = browser();
  ada.sign_up("ada");
  EXPECT_EQ(ada.api("POST", "/api/papers/2505.24864/upvote", {}, "")->status, 403);
  EXPECT_EQ(ada.api("POST", "/api/papers/2505.24864/upvote", {}, std::string(64, '0'))->status,
            403);
  EXPECT_EQ(ada.post("/submit", {{"paper", "2505.24864"}}, "")->status, 403);
  EXPECT_EQ(ada.post("/signup",
                     {{"name", "bob"}, {"email", "b@example.org"}, {"password", "password123"}}, "")
                ->status,
            403);
  EXPECT_EQ(upvotes("2505.24864"), 35);
  Browser anonymous = browser();
  EXPECT_EQ(anonymous.api("POST", "/api/papers/2505.24864/upvote")->status, 401);
  auto form = anonymous.post("/papers/2505.24864/upvote", {});
  EXPECT_EQ(form->status, 303);
  EXPECT_TRUE(form->get_header_value("Location").starts_with("/signin?next="))
      << form->get_header_value("Location");
}

TEST_F(CommunityWeb, UpvotesToggleAndCountExactlyUnderConcurrentClicks) {
  Browser ada = browser();
  ada.sign_up("ada");
  auto voted = ada.api("POST", "/api/papers/2505.24864/upvote");
  ASSERT_EQ(voted->status, 200) << voted->body;
  EXPECT_EQ(json::parse(voted->body),
            (json{{"paper", "2505.24864"}, {"voted", true}, {"upvotes", 36}}));
  EXPECT_EQ(json::parse(ada.api("GET", "/api/me/votes?ids=2505.24864,2505.24863")->body)["voted"],
            json::array({"2505.24864"}));
  EXPECT_NE(ada.get("/papers/2505.24864")->body.find("<span class=\"vote-count\">36</span>"),
            std::string::npos);
  auto form = ada.post("/papers/2505.24864/upvote", {});
  EXPECT_EQ(form->status, 303);
  EXPECT_EQ(upvotes("2505.24864"), 35);

  // Many users click at once, each an odd number of times: every one ends with a vote.
  constexpr int kUsers = 12;
  constexpr int kClicks = 5;
  const std::string hash = *hash_password("password123");
  std::vector<Browser> browsers;
  for (int i = 0; i < kUsers; ++i) {
    const std::string name = "user" + std::to_string(i);
    ASSERT_TRUE(community_->add_user(store::NewUser{name, name + "@example.org", hash}));
    browsers.push_back(browser());
    ASSERT_EQ(browsers.back().sign_in(name)->status, 303);
  }
  std::atomic<int> failures{0};
  std::vector<std::thread> threads;
  for (Browser& user : browsers) {
    threads.emplace_back([&user, &failures] {
      for (int k = 0; k < kClicks; ++k) {
        auto result = user.api("POST", "/api/papers/2505.24863/upvote");
        if (!result || result->status != 200) ++failures;
      }
    });
  }
  for (auto& thread : threads) thread.join();
  EXPECT_EQ(failures, 0);
  EXPECT_EQ(upvotes("2505.24863"), 28 + kUsers);
}

TEST_F(CommunityWeb, SubmitsKnownPapersToTodayAndQueuesUnknownOnes) {
  Browser ada = browser();
  ada.sign_up("ada");
  auto known = ada.post("/submit", {{"paper", "https://arxiv.org/abs/2505.24864v2"}});
  ASSERT_EQ(known->status, 201) << known->body;
  EXPECT_NE(known->body.find("already in the feed on 2025-06-02"), std::string::npos);

  ASSERT_TRUE(store_->begin_batch());
  ASSERT_TRUE(store_->upsert(fixture_paper("2501.00001", "Not Yet In The Feed", 0, "")));
  ASSERT_TRUE(store_->commit_batch());
  auto entered = ada.api("POST", "/api/submit", {{"paper", "arXiv:2501.00001"}});
  ASSERT_EQ(entered->status, 201) << entered->body;
  const json body = json::parse(entered->body);
  EXPECT_EQ(body["status"], "in_feed");
  EXPECT_EQ(body["feed_day"], format_date(today()));
  EXPECT_EQ(body["submitted_by"], "ada");
  const std::string feed = ada.get("/date/" + format_date(today()))->body;
  EXPECT_NE(feed.find("Not Yet In The Feed"), std::string::npos);
  EXPECT_NE(feed.find("Submitted by <strong>ada</strong>"), std::string::npos);

  auto queued = ada.post("/submit", {{"paper", "https://huggingface.co/papers/2512.99999"}});
  EXPECT_EQ(queued->status, 202);
  EXPECT_NE(queued->body.find("queued for fetching"), std::string::npos);
  auto queue = *community_->fetch_queue();
  ASSERT_EQ(queue.size(), 1u);
  EXPECT_EQ(queue[0].arxiv_id, "2512.99999");
  EXPECT_EQ(queue[0].requested_by, "ada");

  auto bad = ada.api("POST", "/api/submit", {{"paper", "not a paper"}});
  EXPECT_EQ(bad->status, 400);
  EXPECT_EQ(json::parse(bad->body)["error"],
            "paper: expected an arXiv id or URL such as 2312.00752 or "
            "https://arxiv.org/abs/2312.00752, got 'not a paper'");
}

TEST_F(CommunityWeb, CommentsRenderMarkdownSafelyAndOnlyAuthorsEditThem) {
  Browser ada = browser();
  ada.sign_up("ada");
  Browser bob = browser();
  bob.sign_up("bob");
  auto posted =
      bob.post("/papers/2505.24864/comments", {{"body",
                                                "**Great** paper <script>alert('x')</script> "
                                                "[me](javascript:alert(1))"}});
  ASSERT_EQ(posted->status, 303);
  const std::string location = posted->get_header_value("Location");
  EXPECT_TRUE(location.starts_with("/papers/2505.24864#comment-")) << location;
  const std::string id = location.substr(location.find('-') + 1);

  const std::string page = ada.get("/papers/2505.24864")->body;
  EXPECT_NE(page.find("<strong>Great</strong> paper"), std::string::npos);
  EXPECT_EQ(page.find("<script>alert('x')"), std::string::npos);
  EXPECT_EQ(page.find("javascript:alert(1)"), std::string::npos);
  EXPECT_EQ(page.find("/comments/" + id + "/edit"), std::string::npos) << "not ada's comment";

  EXPECT_EQ(ada.post("/comments/" + id + "/edit", {{"body", "mine now"}})->status, 403);
  EXPECT_EQ(ada.api("PATCH", "/api/comments/" + id, {{"body", "mine now"}})->status, 403);
  EXPECT_EQ(ada.get("/comments/" + id + "/edit")->status, 403);
  auto edited = bob.api("PATCH", "/api/comments/" + id, {{"body", "Edited *text*"}});
  ASSERT_EQ(edited->status, 200) << edited->body;
  EXPECT_EQ(json::parse(edited->body)["body_html"], "<p>Edited <em>text</em></p>\n");
  EXPECT_FALSE(json::parse(edited->body)["edited_at"].is_null());

  auto listed = json::parse(ada.api("GET", "/api/papers/2505.24864/comments")->body);
  ASSERT_EQ(listed.size(), 1u);
  EXPECT_EQ(listed[0]["author"], "bob");
  // ada administers (first account), so she may remove it as a moderator.
  auto removed = ada.api("DELETE", "/api/comments/" + id);
  ASSERT_EQ(removed->status, 200);
  EXPECT_EQ(json::parse(removed->body)["state"], "removed");
  EXPECT_NE(ada.get("/papers/2505.24864")->body.find("removed by a moderator"), std::string::npos);
  EXPECT_EQ(bob.api("PATCH", "/api/comments/" + id, {{"body", "again"}})->status, 404);
  EXPECT_EQ(bob.api("POST", "/api/papers/2505.24864/comments", {{"body", "  "}})->status, 400);
  EXPECT_EQ(bob.api("POST", "/api/papers/9999.99999/comments", {{"body", "x"}})->status, 404);
}

TEST_F(CommunityWeb, PrivateCollectionsAreInvisibleToOthers) {
  Browser ada = browser();
  ada.sign_up("ada");
  Browser bob = browser();
  bob.sign_up("bob");
  auto created = ada.post("/collections", {{"name", "Reading <list>"}, {"description", "mine"}});
  ASSERT_EQ(created->status, 303);
  const std::string url = created->get_header_value("Location");
  const std::string id = url.substr(url.rfind('/') + 1);
  ASSERT_EQ(ada.post(url + "/items", {{"paper", "2505.24864"}, {"note", "read first"}})->status,
            303);
  ASSERT_EQ(ada.post("/collections/add", {{"collection", id}, {"paper", "2505.24863"}})->status,
            303);
  ASSERT_EQ(ada.post(url + "/items/move", {{"paper", "2505.24863"}, {"position", "1"}})->status,
            303);
  const std::string mine = ada.get("/collections")->body;
  EXPECT_NE(mine.find("href=\"" + url + "\""), std::string::npos);
  EXPECT_EQ(mine.find("href=\"" + url + "\""), mine.rfind("href=\"" + url + "\"")) << "listed once";
  const std::string paper = ada.get("/papers/2505.24864")->body;
  EXPECT_EQ(paper.find("Add to collection"), paper.rfind("Add to collection")) << "one form";
  const std::string page = ada.get(url)->body;
  EXPECT_NE(page.find("Reading &lt;list&gt;"), std::string::npos);
  EXPECT_LT(page.find("AlphaOne"), page.find("ProRL"));
  EXPECT_NE(page.find("read first"), std::string::npos);

  EXPECT_EQ(bob.get(url)->status, 404);
  EXPECT_EQ(bob.api("GET", "/api/collections/" + id)->status, 404);
  EXPECT_EQ(browser().get(url)->status, 404);
  EXPECT_EQ(bob.post(url + "/items", {{"paper", "2505.24864"}})->status, 404);

  ASSERT_EQ(ada.post(url + "/edit", {{"name", "Reading list"}, {"public", "on"}})->status, 303);
  EXPECT_EQ(bob.get(url)->status, 200);
  auto shown = json::parse(bob.api("GET", "/api/collections/" + id)->body);
  EXPECT_EQ(shown["items"][0]["paper"], "2505.24863");
  EXPECT_EQ(shown["items"][1]["note"], "read first");
  EXPECT_EQ(bob.post(url + "/items", {{"paper", "2505.24864"}})->status, 403);
  EXPECT_EQ(bob.api("DELETE", "/api/collections/" + id)->status, 403);
  EXPECT_EQ(ada.api("DELETE", "/api/collections/" + id)->status, 200);
  EXPECT_EQ(ada.get(url)->status, 404);
}

TEST_F(CommunityWeb, ApiTokensAuthoriseWithoutCsrf) {
  Browser ada = browser();
  ada.sign_up("ada");
  auto settings = ada.post("/settings/tokens", {{"label", "script"}});
  ASSERT_EQ(settings->status, 200);
  const std::string token = hex_after(settings->body, "<code class=\"token\">");
  ASSERT_FALSE(token.empty());
  httplib::Client program("127.0.0.1", server_->port());
  auto voted = program.Post("/api/papers/2505.24864/upvote", {{"Authorization", "Bearer " + token}},
                            "", "text/plain");
  ASSERT_EQ(voted->status, 200) << voted->body;
  EXPECT_EQ(upvotes("2505.24864"), 36);
  auto wrong =
      program.Post("/api/papers/2505.24864/upvote",
                   {{"Authorization", "Bearer " + std::string(64, 'f')}}, "", "text/plain");
  EXPECT_EQ(wrong->status, 401);
}

TEST_F(CommunityWeb, PasswordChangeSignsOutOtherSessions) {
  Browser ada = browser();
  ada.sign_up("ada");
  Browser laptop = browser();
  ASSERT_EQ(laptop.sign_in("ada")->status, 303);
  auto wrong = ada.post("/settings/password",
                        {{"current_password", "nope"}, {"new_password", "new password 1"}});
  EXPECT_EQ(wrong->status, 403);
  auto changed = ada.post("/settings/password", {{"current_password", "password123"},
                                                 {"new_password", "new password 1"}});
  EXPECT_EQ(changed->status, 200);
  EXPECT_NE(changed->body.find("Password changed"), std::string::npos);
  EXPECT_EQ(laptop.get("/settings")->status, 303) << "signed out";
  EXPECT_EQ(ada.get("/settings")->status, 200);
  EXPECT_EQ(browser().sign_in("ada", "new password 1")->status, 303);
}

TEST_F(CommunityWeb, ModeratorsHidePapersAndBanUsers) {
  Browser ada = browser();
  ada.sign_up("ada");  // admin
  Browser bob = browser();
  bob.sign_up("bob");
  EXPECT_EQ(bob.get("/admin")->status, 403);
  EXPECT_EQ(bob.post("/admin/papers/hide", {{"paper", "2505.24864"}})->status, 403);

  ASSERT_EQ(ada.post("/admin/papers/hide", {{"paper", "2505.24864"}})->status, 303);
  EXPECT_EQ(bob.get("/papers/2505.24864")->status, 404);
  EXPECT_EQ(bob.get("/date/2025-06-02")->body.find("ProRL"), std::string::npos);
  EXPECT_EQ(bob.api("POST", "/api/papers/2505.24864/upvote")->status, 404);
  EXPECT_EQ(ada.get("/papers/2505.24864")->status, 200) << "moderators still see it";
  EXPECT_NE(ada.get("/admin")->body.find("2505.24864"), std::string::npos);
  ASSERT_EQ(ada.post("/admin/papers/show", {{"paper", "2505.24864"}})->status, 303);
  EXPECT_EQ(bob.get("/papers/2505.24864")->status, 200);

  ASSERT_EQ(ada.post("/admin/users/bob/role", {{"role", "moderator"}})->status, 303);
  EXPECT_EQ(bob.get("/admin")->status, 200);
  EXPECT_EQ(bob.post("/admin/users/ada/ban", {})->status, 403) << "moderators cannot ban admins";
  ASSERT_EQ(ada.post("/admin/users/bob/ban", {})->status, 303);
  EXPECT_EQ(bob.get("/settings")->status, 303) << "banned: signed out";
  EXPECT_EQ(bob.sign_in("bob")->status, 403);
}

TEST_F(CommunityWeb, EscapesHostileTitlesAndSendsSecurityHeaders) {
  Browser ada = browser();
  ada.sign_up("ada");
  auto page = ada.get("/papers/2506.01234");
  ASSERT_EQ(page->status, 200);
  EXPECT_EQ(page->body.find("<script>alert"), std::string::npos);
  EXPECT_NE(page->body.find("&lt;script&gt;alert"), std::string::npos);
  const std::string policy = page->get_header_value("Content-Security-Policy");
  EXPECT_NE(policy.find("frame-ancestors 'none'"), std::string::npos);
  EXPECT_NE(policy.find("script-src 'self'"), std::string::npos);
  EXPECT_EQ(page->get_header_value("X-Content-Type-Options"), "nosniff");

  auto large =
      ada.api("POST", "/api/papers/2505.24864/comments", {{"body", std::string(100 * 1024, 'x')}});
  ASSERT_TRUE(large);
  EXPECT_EQ(large->status, 413);
  auto long_comment =
      ada.api("POST", "/api/papers/2505.24864/comments", {{"body", std::string(30000, 'x')}});
  EXPECT_EQ(long_comment->status, 400);
}

}  // namespace
}  // namespace paperboy::web
