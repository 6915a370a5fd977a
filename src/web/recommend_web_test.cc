// "For you", the digest preview and the search page's mode selector and "papers like this
// text" form, on a real server over a real SQLite store with real accounts, over HTTP.
#include <gtest/gtest.h>
#include <httplib.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <thread>

#include "index/index.h"
#include "store/community.h"
#include "store/store.h"
#include "store/subscriptions.h"
#include "web/accounts.h"
#include "web/server.h"

namespace paperboy::web {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

class RecommendWebTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char pattern[] = "/tmp/paperboy-recommend-web-XXXXXX";
    dir_ = mkdtemp(pattern);
    papers_ = std::move(*store::open_sqlite_store(dir_ / "paperboy.db"));
    community_ = std::move(*store::open_sqlite_community_store(dir_ / "paperboy.db"));
    subscriptions_ = std::move(*store::open_sqlite_subscription_store(dir_ / "paperboy.db"));
    // The 1,000 real cs.CV / cs.CL papers of the embedder tests, five feed days of March 2025.
    std::ifstream in(fs::path(PAPERBOY_SOURCE_DIR) / "src/embed/testdata/papers.jsonl");
    auto writer = index::IndexWriter::open(dir_ / "index");
    ASSERT_TRUE(writer);
    ASSERT_TRUE(papers_->begin_batch());
    for (std::string line; std::getline(in, line);) {
      auto record = json::parse(line);
      Paper paper;
      paper.arxiv_id = record["id"];
      paper.title = record["title"];
      paper.abstract = record["abstract"];
      paper.categories = record["categories"].get<std::vector<std::string>>();
      paper.feed_day = record["day"];
      ASSERT_TRUE(papers_->upsert(paper));
      ASSERT_TRUE((*writer)->add(index::document_from_paper(paper)));
      if (paper.categories.front() == "cs.CL" && paper.feed_day <= "2025-03-21" &&
          cl_likes_.size() < 10)
        cl_likes_.push_back(paper_id(paper));
    }
    ASSERT_TRUE(papers_->commit_batch());
    ASSERT_TRUE((*writer)->commit());
    writer->reset();

    ada_ = *community_->add_user({"ada", "ada@example.org", "x", store::Role::user});
    bob_ = *community_->add_user({"bob", "bob@example.org", "x", store::Role::user});
    for (const std::string& id : cl_likes_) ASSERT_TRUE(community_->toggle_vote(ada_.id, id));
    ASSERT_TRUE(community_->add_api_token(token_hash("ada-token"), ada_.id, "test"));
    ASSERT_TRUE(community_->add_api_token(token_hash("bob-token"), bob_.id, "test"));
    const auto later = std::chrono::floor<std::chrono::seconds>(std::chrono::system_clock::now()) +
                       std::chrono::hours(1);
    ASSERT_TRUE(community_->add_session(token_hash("ada-session"), ada_.id, "csrf-a", later));
    ASSERT_TRUE(community_->add_session(token_hash("bob-session"), bob_.id, "csrf-b", later));

    ServerOptions options;
    options.port = 0;
    options.threads = 2;
    options.index_dir = dir_ / "index";
    options.vectors_dir = dir_ / "vectors";  // none yet: keyword features only
    options.community = community_.get();
    options.subscriptions = subscriptions_.get();
    options.mail.secret = "a test secret that is long enough to sign links";
    auto created = Server::create(*papers_, options);
    ASSERT_TRUE(created) << created.error().message;
    server_ = std::move(*created);
    thread_ = std::thread([this] { ran_ = server_->run(); });
    client_ = std::make_unique<httplib::Client>("127.0.0.1", server_->port());
    client_->set_read_timeout(60, 0);
  }

  void TearDown() override {
    if (server_) {
      server_->stop();
      thread_.join();
    }
    fs::remove_all(dir_);
  }

  httplib::Result get(const std::string& path, const std::string& header = "",
                      const std::string& value = "") {
    httplib::Headers headers;
    if (!header.empty()) headers.emplace(header, value);
    return client_->Get(path, headers);
  }

  fs::path dir_;
  std::unique_ptr<store::Store> papers_;
  std::unique_ptr<store::CommunityStore> community_;
  std::unique_ptr<store::SubscriptionStore> subscriptions_;
  std::vector<std::string> cl_likes_;
  store::User ada_, bob_;
  std::unique_ptr<Server> server_;
  std::thread thread_;
  Result<void> ran_;
  std::unique_ptr<httplib::Client> client_;
};

TEST_F(RecommendWebTest, ApiForYouRanksFromTheUsersUpvotesWithReasons) {
  auto anonymous = get("/api/for-you");
  ASSERT_TRUE(anonymous);
  EXPECT_EQ(anonymous->status, 401);
  auto bad = get("/api/for-you?limit=0", "Authorization", "Bearer ada-token");
  ASSERT_TRUE(bad);
  EXPECT_EQ(bad->status, 400);
  EXPECT_NE(bad->body.find("limit"), std::string::npos);

  auto nothing = get("/api/for-you", "Authorization", "Bearer bob-token");
  ASSERT_TRUE(nothing);
  ASSERT_EQ(nothing->status, 200);
  EXPECT_EQ(json::parse(nothing->body)["likes"], 0);
  EXPECT_TRUE(json::parse(nothing->body)["results"].empty());

  auto answer = get("/api/for-you?limit=10&days=2", "Authorization", "Bearer ada-token");
  ASSERT_TRUE(answer);
  ASSERT_EQ(answer->status, 200) << answer->body;
  json body = json::parse(answer->body);
  EXPECT_EQ(body["user"], "ada");
  EXPECT_EQ(body["likes"], 10);
  EXPECT_EQ(body["vectors"], false);
  ASSERT_EQ(body["results"].size(), 10u);
  size_t language = 0;
  for (const json& result : body["results"]) {
    EXPECT_GE(result["feed_day"].get<std::string>(), "2025-03-25");
    EXPECT_NE(std::find(cl_likes_.begin(), cl_likes_.end(), result["because"]["id"]),
              cl_likes_.end());
    EXPECT_EQ(result["reason"],
              "like «" + result["because"]["title"].get<std::string>() + "» that you upvoted");
    auto paper = papers_->find(result["id"].get<std::string>());
    ASSERT_TRUE(paper && *paper);
    language += (*paper)->categories.front() == "cs.CL";
  }
  // A fifth of these days' papers are cs.CL; words alone must find them for a cs.CL reader.
  EXPECT_GE(language, 6u) << answer->body;
}

TEST_F(RecommendWebTest, ForYouPageNeedsASessionAndExplainsTheEmptyState) {
  auto anonymous = get("/for-you");
  ASSERT_TRUE(anonymous);
  EXPECT_EQ(anonymous->status, 303);
  EXPECT_EQ(anonymous->get_header_value("Location"), "/signin?next=/for-you");

  auto empty = get("/for-you", "Cookie", "paperboy_session=bob-session");
  ASSERT_TRUE(empty);
  ASSERT_EQ(empty->status, 200);
  EXPECT_NE(empty->body.find("Nothing to go on yet"), std::string::npos);
  EXPECT_NE(empty->body.find("href=\"/for-you\""), std::string::npos) << "navigation link";

  auto page = get("/for-you", "Cookie", "paperboy_session=ada-session");
  ASSERT_TRUE(page);
  ASSERT_EQ(page->status, 200);
  EXPECT_NE(page->body.find("that you upvoted"), std::string::npos);
  EXPECT_NE(page->body.find(">ada<"), std::string::npos) << "the account navigation";
}

TEST_F(RecommendWebTest, DigestPreviewShowsTheSignedInSubscribersDigest) {
  auto none = get("/digest/preview", "Cookie", "paperboy_session=ada-session");
  ASSERT_TRUE(none);
  EXPECT_NE(none->body.find("has no digest subscription"), std::string::npos);

  store::Subscription wanted;
  wanted.email = "ada@example.org";
  wanted.topics.like_my_papers = true;
  ASSERT_TRUE(subscriptions_->subscribe(
      wanted, std::chrono::floor<std::chrono::seconds>(std::chrono::system_clock::now())));
  auto preview = get("/digest/preview", "Cookie", "paperboy_session=ada-session");
  ASSERT_TRUE(preview);
  ASSERT_EQ(preview->status, 200);
  // The first daily digest covers the latest feed day (three papers), each like a liked one.
  EXPECT_NE(preview->body.find("2025-03-26"), std::string::npos) << preview->body;
  EXPECT_NE(preview->body.find("that you upvoted"), std::string::npos) << preview->body;
  EXPECT_NE(preview->body.find("(pending)"), std::string::npos);
}

TEST_F(RecommendWebTest, SearchPageOffersModesAndPapersLikeAText) {
  auto page = get("/search?q=machine%20translation&mode=keyword");
  ASSERT_TRUE(page);
  ASSERT_EQ(page->status, 200) << page->body;
  EXPECT_NE(page->body.find("aria-label=\"Search mode\""), std::string::npos);
  EXPECT_NE(page->body.find("q=machine%20translation&amp;mode=semantic"), std::string::npos)
      << page->body;
  EXPECT_NE(page->body.find("name=\"mode\" value=\"keyword\""), std::string::npos)
      << "the header box keeps the mode";
  EXPECT_NE(page->body.find("action=\"/search/like\""), std::string::npos);

  auto like =
      client_->Post("/search/like", httplib::Params{{"text", "neural machine translation"}});
  ASSERT_TRUE(like);
  EXPECT_EQ(like->status, 503);
  EXPECT_NE(like->body.find("paperboy embed train"), std::string::npos);
  auto blank = client_->Post("/search/like", httplib::Params{{"text", "  "}});
  ASSERT_TRUE(blank);
  EXPECT_EQ(blank->status, 400);
}

}  // namespace
}  // namespace paperboy::web
