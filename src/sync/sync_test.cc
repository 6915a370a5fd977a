// Sync against a real HTTP server on 127.0.0.1 replaying responses cut from real arXiv and
// Hugging Face data (testdata/make_fixtures.py), into a real SQLite store in a temporary folder.
#include "sync/sync.h"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <fstream>
#include <nlohmann/json.hpp>
#include <set>

#include "store/pg_test_database.h"
#include "sync/replay_server.h"

namespace paperboy::sync {
namespace {

using testing::fixture;
using testing::ReplayServer;
using testing::Reply;
using namespace std::chrono_literals;

class TempDir {
 public:
  TempDir() {
    std::string pattern = (std::filesystem::temp_directory_path() / "paperboy-sync-XXXXXX");
    if (!mkdtemp(pattern.data())) throw std::runtime_error("mkdtemp failed");
    path_ = pattern;
  }
  ~TempDir() { std::filesystem::remove_all(path_); }
  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
};

std::vector<std::string> lines(const std::string& text) {
  std::vector<std::string> result;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);)
    if (!line.empty()) result.push_back(line);
  return result;
}

const std::string kToken2 = "6960524|1001";
const std::string kToken3 = "6960524|2001";

// Serves the three OAI-PMH pages; `second_page` replaces the answers for the second.
void serve_oai(ReplayServer& server, std::vector<Reply> second_page = {}) {
  if (second_page.empty()) second_page.push_back(Reply::ok(fixture("oai-page-2.xml")));
  server.on("/oai", {{"verb", "ListRecords"}, {"resumptionToken", kToken2}},
            std::move(second_page));
  server.on("/oai", {{"verb", "ListRecords"}, {"resumptionToken", kToken3}},
            {Reply::ok(fixture("oai-page-3.xml"))});
  server.on("/oai", {{"verb", "ListRecords"}, {"set", "cs"}, {"metadataPrefix", "arXiv"}},
            {Reply::ok(fixture("oai-page-1.xml"))});
}

class SyncTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto opened = store::open_sqlite_store(dir_.path() / "paperboy.db");
    ASSERT_TRUE(opened.has_value()) << opened.error().message;
    store_ = std::move(*opened);
  }

  Syncer syncer(const ReplayServer& server, HttpPolicy policy = fast_policy()) {
    SyncSources sources;
    sources.arxiv_oai_url = server.url("/oai");
    sources.arxiv_api_url = server.url("/api/query");
    sources.hf_api_url = server.url("/api/daily_papers");
    return Syncer(*store_, HarvestPositions(state_file(dir_.path())), sources, policy, counters_);
  }

  static HttpPolicy fast_policy() {
    HttpPolicy policy;
    policy.delay = 0ms;
    policy.backoff = 10ms;
    policy.timeout = 5000ms;
    policy.max_attempts = 3;
    return policy;
  }

  static ArxivSyncOptions oai_options() {
    ArxivSyncOptions options;
    options.categories = {"cs"};
    options.from = "2025-03-19";
    return options;
  }

  int64_t paper_count() {
    auto stats = store_->stats();
    EXPECT_TRUE(stats.has_value());
    return stats ? stats->papers : -1;
  }

  void expect_every_served_record() {
    const auto ids = lines(fixture("oai-ids.txt"));
    EXPECT_EQ(paper_count(), static_cast<int64_t>(ids.size()));
    for (const std::string& id : ids) {
      auto found = store_->find(id);
      ASSERT_TRUE(found.has_value()) << found.error().message;
      EXPECT_TRUE(found->has_value()) << id << " is missing";
    }
  }

  TempDir dir_;
  std::unique_ptr<store::Store> store_;
  SyncCounters counters_;
};

TEST_F(SyncTest, OaiHarvestFollowsResumptionTokensAndStoresExactlyTheRecordsServed) {
  ReplayServer server;
  serve_oai(server);
  auto synced = syncer(server).sync_arxiv(oai_options());
  ASSERT_TRUE(synced.has_value()) << synced.error().message;
  EXPECT_EQ(synced->pages, 3u);
  EXPECT_EQ(synced->requests, 3u);
  EXPECT_EQ(synced->added, 24u);
  EXPECT_EQ(synced->retries, 0u);
  expect_every_served_record();
  EXPECT_EQ(counters_.added.load(), 24u);
  EXPECT_EQ(counters_.requests.load(), 3u);
  auto paper = store_->find("2503.13531");
  ASSERT_TRUE(paper.has_value() && paper->has_value());
  EXPECT_EQ((*paper)->title,
            "Context-aware Multimodal AI Reveals Hidden Pathways in Five Centuries of Art "
            "Evolution");
  EXPECT_EQ((*paper)->feed_day, "2025-03-17");

  // The state remembers how far the harvest got; a run without --from continues from there.
  std::ifstream state_in(state_file(dir_.path()));
  const auto state = nlohmann::json::parse(state_in);
  EXPECT_EQ(state["oai:arXiv:cs"]["harvested_through"], "2025-03-19");
  EXPECT_FALSE(state["oai:arXiv:cs"].contains("resumption_token"));
  ArxivSyncOptions again = oai_options();
  again.from.clear();
  auto second = syncer(server).sync_arxiv(again);
  ASSERT_TRUE(second.has_value()) << second.error().message;
  EXPECT_EQ(second->added, 0u);
  EXPECT_EQ(second->unchanged, 24u);
  EXPECT_EQ(server.count_requests("from=2025-03-19"), 2u);
  expect_every_served_record();
}

TEST_F(SyncTest, KeepsOnlyTheRequestedCategories) {
  ReplayServer server;
  serve_oai(server);
  ArxivSyncOptions options = oai_options();
  options.categories = {"cs.CL"};
  auto synced = syncer(server).sync_arxiv(options);
  ASSERT_TRUE(synced.has_value()) << synced.error().message;
  EXPECT_GT(synced->records, 0u);
  EXPECT_GT(synced->skipped, 0u);
  EXPECT_EQ(synced->records + synced->skipped, 24u);
  std::vector<std::string> categories_seen;
  ASSERT_TRUE(store_
                  ->for_each_paper([&](const Paper& paper) {
                    const bool listed = std::find(paper.categories.begin(), paper.categories.end(),
                                                  "cs.CL") != paper.categories.end();
                    EXPECT_TRUE(listed) << paper.arxiv_id;
                  })
                  .has_value());
  EXPECT_EQ(paper_count(), static_cast<int64_t>(synced->records));
}

TEST_F(SyncTest, Honours503RetryAfterThenSucceeds) {
  ReplayServer server;
  Reply busy;
  busy.status = 503;
  busy.body = "Retry after 1 second";
  busy.headers["Retry-After"] = "1";
  serve_oai(server, {busy, Reply::ok(fixture("oai-page-2.xml"))});
  const auto started = std::chrono::steady_clock::now();
  auto synced = syncer(server).sync_arxiv(oai_options());
  const auto elapsed = std::chrono::steady_clock::now() - started;
  ASSERT_TRUE(synced.has_value()) << synced.error().message;
  EXPECT_EQ(synced->retries, 1u);
  EXPECT_EQ(synced->requests, 4u);
  EXPECT_GE(elapsed, 1s);  // the backoff alone is 10 ms: the wait came from Retry-After
  expect_every_served_record();
}

TEST_F(SyncTest, RetriesATimeoutThenSucceeds) {
  ReplayServer server;
  Reply slow = Reply::ok(fixture("oai-page-2.xml"));
  slow.delay = 1500ms;
  serve_oai(server, {slow, Reply::ok(fixture("oai-page-2.xml"))});
  HttpPolicy policy = fast_policy();
  policy.timeout = 400ms;
  auto synced = syncer(server, policy).sync_arxiv(oai_options());
  ASSERT_TRUE(synced.has_value()) << synced.error().message;
  EXPECT_EQ(synced->retries, 1u);
  expect_every_served_record();
}

TEST_F(SyncTest, RetriesATruncatedBodyThenSucceeds) {
  ReplayServer server;
  Reply cut = Reply::ok(fixture("oai-page-2.xml"));
  cut.truncate = true;
  serve_oai(server, {cut, Reply::ok(fixture("oai-page-2.xml"))});
  auto synced = syncer(server).sync_arxiv(oai_options());
  ASSERT_TRUE(synced.has_value()) << synced.error().message;
  EXPECT_EQ(synced->retries, 1u);
  expect_every_served_record();
}

TEST_F(SyncTest, MalformedPageIsRetriedThenReportedKeepingEarlierPagesAndResumes) {
  std::string broken = fixture("oai-page-2.xml");
  broken.replace(broken.find("</title>"), 8, "</titel>");
  {
    ReplayServer server;
    serve_oai(server, {Reply::ok(broken)});
    auto synced = syncer(server).sync_arxiv(oai_options());
    ASSERT_FALSE(synced.has_value());
    const std::string& message = synced.error().message;
    EXPECT_NE(message.find(server.url("/oai")), std::string::npos) << message;
    EXPECT_NE(message.find("resumptionToken=6960524%7C1001"), std::string::npos) << message;
    EXPECT_NE(message.find("malformed XML"), std::string::npos) << message;
    EXPECT_NE(message.find("gave up after 3 attempts"), std::string::npos) << message;
    EXPECT_EQ(server.count_requests("resumptionToken=" + kToken2), 3u);
    EXPECT_EQ(paper_count(), 8);  // the first page stays stored
    EXPECT_EQ(counters_.errors.load(), 1u);
  }
  // Once the source is healthy again, the next run continues at the page that failed.
  ReplayServer healthy;
  serve_oai(healthy);
  auto resumed = syncer(healthy).sync_arxiv(oai_options());
  ASSERT_TRUE(resumed.has_value()) << resumed.error().message;
  EXPECT_TRUE(resumed->resumed);
  ASSERT_FALSE(healthy.requests().empty());
  EXPECT_NE(healthy.requests().front().find("resumptionToken=" + kToken2), std::string::npos);
  EXPECT_EQ(resumed->added, 16u);
  expect_every_served_record();
}

// Two nodes (own data folders) share harvest positions through PostgreSQL: a harvest that stops
// on one node after its first page continues on the other at the second page.
TEST_F(SyncTest, SharedPositionsLetAnotherNodeContinueAHarvest) {
  store::testing::PgTestDatabase database;
  ASSERT_EQ(database.error(), "");
  auto shared = store::open_postgres_shared_state(database.url());
  ASSERT_TRUE(shared.has_value()) << shared.error().message;
  std::shared_ptr<store::SharedState> positions = std::move(*shared);
  TempDir first_node, second_node;
  SyncSources sources;
  Reply broken;
  broken.status = 500;
  ReplayServer failing;
  serve_oai(failing, {broken});
  sources.arxiv_oai_url = failing.url("/oai");
  auto stopped = Syncer(*store_, HarvestPositions(state_file(first_node.path()), positions),
                        sources, fast_policy(), counters_)
                     .sync_arxiv(oai_options());
  ASSERT_FALSE(stopped.has_value());
  EXPECT_EQ(paper_count(), 8);
  EXPECT_FALSE(std::filesystem::exists(state_file(first_node.path())))
      << "the position is shared, not in the node's folder";

  ReplayServer healthy;
  serve_oai(healthy);
  sources.arxiv_oai_url = healthy.url("/oai");
  auto resumed = Syncer(*store_, HarvestPositions(state_file(second_node.path()), positions),
                        sources, fast_policy(), counters_)
                     .sync_arxiv(oai_options());
  ASSERT_TRUE(resumed.has_value()) << resumed.error().message;
  EXPECT_TRUE(resumed->resumed);
  EXPECT_EQ(resumed->added, 16u);
  EXPECT_EQ(healthy.count_requests("set=cs"), 0u);
  expect_every_served_record();
  auto saved = positions->get("sync:oai:arXiv:cs");
  ASSERT_TRUE(saved.has_value() && saved->has_value());
  EXPECT_EQ(nlohmann::json::parse(**saved)["harvested_through"], "2025-03-19");
}

TEST_F(SyncTest, ApiPagesThenANewVersionUpdatesThePaper) {
  const std::string first_id = "2503.13531";
  {
    ReplayServer server;
    server.on("/api/query", {{"start", "0"}}, {Reply::ok(fixture("api-page-1.xml"))});
    server.on("/api/query", {{"start", "5"}}, {Reply::ok(fixture("api-page-2.xml"))});
    ArxivSyncOptions options;
    options.categories = {"cs"};
    options.source = ArxivSource::api;
    options.page_size = 5;
    auto synced = syncer(server).sync_arxiv(options);
    ASSERT_TRUE(synced.has_value()) << synced.error().message;
    EXPECT_EQ(synced->pages, 2u);
    EXPECT_EQ(synced->added, 10u);
    EXPECT_EQ(paper_count(), 10);
    EXPECT_NE(server.requests().front().find("search_query=cat:cs"), std::string::npos);
  }
  auto before = store_->find(first_id);
  ASSERT_TRUE(before.has_value() && before->has_value());
  EXPECT_EQ((*before)->version, 1);

  ReplayServer server;
  server.on("/api/query", {{"start", "0"}}, {Reply::ok(fixture("api-new-version.xml"))});
  ArxivSyncOptions options;
  options.categories = {"cs"};
  options.source = ArxivSource::api;
  options.page_size = 5;
  auto synced = syncer(server).sync_arxiv(options);
  ASSERT_TRUE(synced.has_value()) << synced.error().message;
  EXPECT_EQ(synced->updated, 1u);
  EXPECT_EQ(paper_count(), 10);
  auto after = store_->find(first_id);
  ASSERT_TRUE(after.has_value() && after->has_value());
  EXPECT_EQ((*after)->version, 2);
  EXPECT_EQ((*after)->title, (*before)->title + " (extended version)");
  EXPECT_EQ((*after)->updated, "2025-03-21");
}

TEST_F(SyncTest, HfDailyPapersUpdateUpvotes) {
  ReplayServer server;
  server.on("/api/daily_papers", {{"date", "2024-05-27"}},
            {Reply::ok(fixture("hf-2024-05-27.json"), "application/json"),
             Reply::ok(fixture("hf-2024-05-27-later.json"), "application/json")});
  auto first = syncer(server).sync_hf({"2024-05-27"});
  ASSERT_TRUE(first.has_value()) << first.error().message;
  EXPECT_EQ(first->added, 3u);
  auto paper = store_->find("2405.15738");
  ASSERT_TRUE(paper.has_value() && paper->has_value());
  EXPECT_EQ((*paper)->upvotes, 32);
  EXPECT_EQ((*paper)->feed_day, "2024-05-27");

  auto later = syncer(server).sync_hf({"2024-05-27"});
  ASSERT_TRUE(later.has_value()) << later.error().message;
  EXPECT_EQ(later->updated, 3u);
  paper = store_->find("2405.15738");
  ASSERT_TRUE(paper.has_value() && paper->has_value());
  EXPECT_EQ((*paper)->upvotes, 39);
  EXPECT_EQ(paper_count(), 3);
}

TEST_F(SyncTest, MalformedHfAnswerIsRetriedThenReported) {
  ReplayServer server;
  std::string cut = fixture("hf-2024-05-27.json");
  cut.resize(cut.size() / 2);
  server.on("/api/daily_papers", {}, {Reply::ok(cut, "application/json")});
  auto synced = syncer(server).sync_hf({"2024-05-27"});
  ASSERT_FALSE(synced.has_value());
  EXPECT_NE(synced.error().message.find("date=2024-05-27"), std::string::npos)
      << synced.error().message;
  EXPECT_NE(synced.error().message.find("not complete JSON"), std::string::npos);
  EXPECT_EQ(server.requests().size(), 3u);
  EXPECT_EQ(paper_count(), 0);
}

TEST_F(SyncTest, FetchQueueEntriesAreFetchedAndMarked) {
  auto community = store::open_sqlite_community_store(dir_.path() / "paperboy.db");
  ASSERT_TRUE(community.has_value()) << community.error().message;
  auto user = (*community)->add_user({"ada", "ada@example.org", "", store::Role::user});
  ASSERT_TRUE(user.has_value()) << user.error().message;
  for (const char* id : {"2503.13721", "2503.13724", "2503.99999"}) {
    auto submitted = (*community)->record_submission(id, user->id, true);
    ASSERT_TRUE(submitted.has_value()) << submitted.error().message;
  }
  ReplayServer server;
  server.on("/api/query", {}, {Reply::ok(fixture("api-fetch.xml"))});
  auto fetched = syncer(server).fetch_queued(**community);
  ASSERT_TRUE(fetched.has_value()) << fetched.error().message;
  EXPECT_EQ(fetched->added, 2u);
  EXPECT_EQ(fetched->still_queued, 1u);
  ASSERT_EQ(server.requests().size(), 1u);
  EXPECT_NE(server.requests().front().find("id_list=2503.13721,2503.13724,2503.99999"),
            std::string::npos)
      << server.requests().front();
  auto queue = (*community)->fetch_queue();
  ASSERT_TRUE(queue.has_value());
  ASSERT_EQ(queue->size(), 1u);
  EXPECT_EQ(queue->front().arxiv_id, "2503.99999");
  for (const char* id : {"2503.13721", "2503.13724"}) {
    auto found = store_->find(id);
    ASSERT_TRUE(found.has_value() && found->has_value()) << id;
  }
}

TEST_F(SyncTest, ABadDateIsRefusedBeforeAnyRequest) {
  ReplayServer server;
  ArxivSyncOptions options = oai_options();
  options.from = "2025-13-01";
  auto synced = syncer(server).sync_arxiv(options);
  ASSERT_FALSE(synced.has_value());
  EXPECT_NE(synced.error().message.find("--from date \"2025-13-01\""), std::string::npos)
      << synced.error().message;
  EXPECT_TRUE(server.requests().empty());
}

TEST(RecentDays, EndsTodayOldestFirst) {
  using namespace std::chrono;
  const sys_days today = year{2024} / March / 1;
  EXPECT_EQ(recent_days(today, 3),
            (std::vector<std::string>{"2024-02-28", "2024-02-29", "2024-03-01"}));
}

}  // namespace
}  // namespace paperboy::sync
