// What only the PostgreSQL store does: several nodes on one database, change notifications,
// change numbers shared with local votes, chunked merges, and choosing the backend by locator. The
// shared behaviour runs on both backends in store_test.cc.
#include <fmt/format.h>
#include <fmt/ranges.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <filesystem>
#include <thread>

#include "store/paper_columns.h"
#include "store/pg_access.h"
#include "store/pg_test_database.h"
#include "store/store.h"

namespace paperboy::store {
namespace {

namespace fs = std::filesystem;

Paper arxiv_paper(std::string id, std::string title) {
  Paper paper;
  paper.arxiv_id = std::move(id);
  paper.version = 1;
  paper.title = std::move(title);
  paper.categories = {"cs.CL"};
  paper.feed_day = "2025-03-03";
  return paper;
}

class PostgresStore : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_EQ(database_.error(), ""); }

  std::unique_ptr<Store> open() {
    auto store = open_postgres_store(database_.url());
    EXPECT_TRUE(store.has_value()) << (store ? "" : store.error().message);
    return store ? std::move(*store) : nullptr;
  }

  std::unique_ptr<pg::Connection> connect() {
    auto connection = pg::Connection::open(database_.url());
    EXPECT_TRUE(connection.has_value()) << (connection ? "" : connection.error().message);
    return connection ? std::move(*connection) : nullptr;
  }

  testing::PgTestDatabase database_;
};

std::vector<std::string> changed_ids(Store& store, uint64_t after) {
  std::vector<std::string> ids;
  auto last = store.last_change();
  EXPECT_TRUE(last.has_value());
  auto done = store.for_each_change(after, last.value_or(0),
                                    [&](const Paper& paper) { ids.push_back(paper.arxiv_id); });
  EXPECT_TRUE(done.has_value()) << (done ? "" : done.error().message);
  return ids;
}

TEST_F(PostgresStore, TwoNodesTakeTurnsAndNumberChangesInCommitOrder) {
  auto first = open();
  auto second = open();
  ASSERT_TRUE(first && second);
  ASSERT_TRUE(first->begin_batch());
  ASSERT_EQ(first->upsert(arxiv_paper("2503.00001", "From the first node")), UpsertOutcome::added);

  // The second node's batch waits for the first node's to commit, then sees its paper.
  std::atomic<bool> second_began = false;
  Result<UpsertOutcome> second_outcome = fail("not run");
  std::thread other([&] {
    if (!second->begin_batch()) return;
    second_began = true;
    second_outcome = second->upsert(arxiv_paper("2503.00001", "From the first node"));
    if (second_outcome) (void)second->upsert(arxiv_paper("2503.00002", "From the second node"));
    if (!second->commit_batch()) second_outcome = fail("commit failed");
  });
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  EXPECT_FALSE(second_began) << "two batches were open at once";
  EXPECT_EQ(second->last_change(), 0u) << "an uncommitted change number is visible";
  ASSERT_TRUE(first->commit_batch());
  other.join();
  ASSERT_TRUE(second_outcome) << second_outcome.error().message;
  EXPECT_EQ(*second_outcome, UpsertOutcome::unchanged);

  EXPECT_EQ(first->last_change(), 2u);
  EXPECT_EQ(changed_ids(*first, 0), (std::vector<std::string>{"2503.00001", "2503.00002"}));
  EXPECT_EQ(changed_ids(*second, 1), std::vector<std::string>{"2503.00002"});
}

TEST_F(PostgresStore, CommittedBatchesNotifyListenersWithTheirLastChange) {
  auto store = open();
  auto listener = connect();
  ASSERT_TRUE(store && listener);
  ASSERT_TRUE(listener->listen(kPostgresChangesChannel));

  // Other tests share the channel (one database); look for this store's numbers among them.
  auto received = [&](const std::string& payload) {
    for (int attempt = 0; attempt < 30; ++attempt) {
      auto notifications = listener->wait_for_notifications(std::chrono::milliseconds(100));
      if (!notifications) return false;
      for (const auto& notification : *notifications)
        if (notification.payload == payload) return true;
    }
    return false;
  };
  ASSERT_TRUE(store->begin_batch());
  ASSERT_TRUE(store->upsert(arxiv_paper("2503.00001", "Notified")));
  ASSERT_TRUE(store->upsert(arxiv_paper("2503.00002", "Notified")));
  ASSERT_TRUE(store->commit_batch());
  EXPECT_TRUE(received("2"));
}

TEST_F(PostgresStore, LocalVotesTakeChangeNumbersAndSurviveReimports) {
  auto store = open();
  auto voter = connect();
  ASSERT_TRUE(store && voter);
  Paper imported = arxiv_paper("2503.00001", "Voted on");
  imported.upvotes = 5;
  ASSERT_TRUE(store->begin_batch());
  ASSERT_TRUE(store->upsert(imported));
  ASSERT_TRUE(store->commit_batch());

  // A vote as the community store casts one: numbering first, then the paper's row.
  {
    auto transaction = pg::Transaction::begin(*voter);
    ASSERT_TRUE(transaction);
    ASSERT_TRUE(voter->query("lock", kPostgresLockChangesSql));
    auto voted = voter->query_with(
        "vote",
        fmt::format("UPDATE papers SET upvotes = upvotes + 1, local_upvotes = local_upvotes + 1, "
                    "change_seq = {} WHERE arxiv_id = $1",
                    kPostgresNextChangeSql),
        imported.arxiv_id);
    ASSERT_TRUE(voted) << voted.error().message;
    ASSERT_TRUE(transaction->commit());
  }
  EXPECT_EQ(store->last_change(), 2u);
  EXPECT_EQ(changed_ids(*store, 1), std::vector<std::string>{"2503.00001"});

  // Re-importing the same count changes nothing; a higher imported count adds to the local vote.
  ASSERT_TRUE(store->begin_batch());
  EXPECT_EQ(store->upsert(imported), UpsertOutcome::unchanged);
  imported.upvotes = 9;
  EXPECT_EQ(store->upsert(imported), UpsertOutcome::updated);
  ASSERT_TRUE(store->commit_batch());
  auto found = store->find("2503.00001");
  ASSERT_TRUE(found && *found);
  EXPECT_EQ((*found)->upvotes, 10);
  EXPECT_EQ(store->last_change(), 3u);
}

// Every field of `paper` in one line, to compare what two backends stored.
std::string describe(const Paper& paper) {
  std::string text;
  for (const detail::Column& column : detail::kColumns) {
    std::visit(
        [&](auto member) {
          const auto& value = paper.*member;
          using Value = std::remove_cvref_t<decltype(value)>;
          if constexpr (std::is_same_v<Value, std::string>) {
            text += fmt::format("{}={} ", column.name, value);
          } else if constexpr (std::is_same_v<Value, std::vector<std::string>>) {
            text += fmt::format("{}=[{}] ", column.name, fmt::join(value, ";"));
          } else {
            text += fmt::format("{}={} ", column.name, value);
          }
        },
        column.field);
  }
  return text;
}

std::vector<std::string> stored_papers(Store& store) {
  std::vector<std::string> papers;
  auto done = store.for_each_paper([&](const Paper& paper) { papers.push_back(describe(paper)); });
  EXPECT_TRUE(done.has_value()) << (done ? "" : done.error().message);
  return papers;
}

Paper title_only(std::string title) {
  Paper paper;
  paper.title = std::move(title);
  paper.feed_day = "2025-03-04";
  return paper;
}

// One chunk whose merges depend on each other: the PostgreSQL store answers it with one lookup
// and one write, and must end exactly where SQLite ends after the same records one at a time.
TEST_F(PostgresStore, UpsertManyMergesAChunkAsSingleUpsertsWould) {
  auto postgres = open();
  const fs::path folder =
      fs::temp_directory_path() / ("paperboy-upsert-many-" + database_.schema());
  fs::remove_all(folder);
  auto sqlite = open_sqlite_store(folder / "papers.db");
  ASSERT_TRUE(postgres && sqlite) << (sqlite ? "" : sqlite.error().message);

  Paper scaling = arxiv_paper("2401.00001", "Scaling Laws");
  scaling.upvotes = 3;
  const std::vector<Paper> stored_first = {title_only("Attention Is All You Need"), scaling,
                                           title_only("Graph Networks")};
  std::vector<Paper> chunk;
  Paper revised = arxiv_paper("2401.00001v2", "Scaling Laws Revisited");  // the title key changes
  revised.abstract = "Revised.";
  chunk.push_back(revised);
  Paper older = arxiv_paper("2401.00001", "Scaling Laws");  // lower version: only upvotes count
  older.upvotes = 10;
  chunk.push_back(older);
  Paper by_new_key = title_only("Scaling laws, revisited");  // finds the paper by its new key
  by_new_key.code_url = "https://example.org/code";
  chunk.push_back(by_new_key);
  chunk.push_back(arxiv_paper("2402.00002", "Attention Is All You Need"));  // adopts a stored one
  chunk.push_back(arxiv_paper("2402.00003", "Attention is all you need"));  // nothing left: added
  chunk.push_back(title_only("Fresh Title Only"));
  chunk.push_back(arxiv_paper("2402.00004", "Fresh title only"));  // adopts the one just added
  chunk.push_back(arxiv_paper("2402.00004", "Fresh title only"));  // unchanged
  Paper graph_votes = title_only("Graph Networks");
  graph_votes.upvotes = 2;
  chunk.push_back(graph_votes);
  chunk.push_back(arxiv_paper("2402.00005", "Graph networks"));
  chunk.push_back(arxiv_paper("2402.00003v3", "Attention Is All You Need, Again"));
  // More than one internal chunk: every id twice, the second time a newer version.
  for (int version = 1; version <= 2; ++version)
    for (int i = 0; i < 600; ++i) {
      Paper paper = arxiv_paper(fmt::format("2403.{:05d}", i), fmt::format("Bulk paper {}", i));
      paper.version = version;
      paper.abstract = fmt::format("Version {}.", version);
      chunk.push_back(paper);
    }

  for (Store* store : {postgres.get(), sqlite->get()}) {
    ASSERT_TRUE(store->begin_batch());
    for (const Paper& paper : stored_first) ASSERT_TRUE(store->upsert(paper));
    ASSERT_TRUE(store->commit_batch());
  }
  ASSERT_TRUE(postgres->begin_batch());
  auto many = postgres->upsert_many(chunk);
  ASSERT_TRUE(many) << many.error().message;
  ASSERT_TRUE(postgres->commit_batch());
  std::vector<UpsertOutcome> single;
  ASSERT_TRUE((*sqlite)->begin_batch());
  for (const Paper& paper : chunk) {
    auto outcome = (*sqlite)->upsert(paper);
    ASSERT_TRUE(outcome) << outcome.error().message;
    single.push_back(*outcome);
  }
  ASSERT_TRUE((*sqlite)->commit_batch());

  EXPECT_EQ(*many, single);
  EXPECT_EQ(std::count(many->begin(), many->end(), UpsertOutcome::unchanged), 1);
  EXPECT_EQ(postgres->last_change().value_or(0), (*sqlite)->last_change().value_or(1));
  EXPECT_EQ(stored_papers(*postgres), stored_papers(**sqlite));
  EXPECT_EQ(changed_ids(*postgres, 0), changed_ids(**sqlite, 0));
  fs::remove_all(folder);
}

TEST_F(PostgresStore, UpsertManyRefusesABadRecordBeforeWritingAny) {
  auto store = open();
  ASSERT_TRUE(store);
  ASSERT_TRUE(store->begin_batch());
  const std::vector<Paper> chunk = {arxiv_paper("2503.00001", "Fine"),
                                    arxiv_paper("not-an-id", "Refused")};
  auto refused = store->upsert_many(chunk);
  ASSERT_FALSE(refused);
  EXPECT_NE(refused.error().message.find("\"not-an-id\" is not an arXiv identifier"),
            std::string::npos)
      << refused.error().message;
  // The batch stays open and holds nothing of the refused chunk.
  EXPECT_EQ(store->upsert(arxiv_paper("2503.00002", "Afterwards")), UpsertOutcome::added);
  ASSERT_TRUE(store->commit_batch());
  EXPECT_EQ(changed_ids(*store, 0), std::vector<std::string>{"2503.00002"});
}

TEST_F(PostgresStore, OpenStoreChoosesTheBackendByLocator) {
  auto postgres = open_store(database_.url(), "unused.db");
  ASSERT_TRUE(postgres) << postgres.error().message;
  ASSERT_TRUE((*postgres)->begin_batch());
  ASSERT_TRUE((*postgres)->upsert(arxiv_paper("2503.00001", "In PostgreSQL")));
  ASSERT_TRUE((*postgres)->commit_batch());
  auto connection = connect();
  ASSERT_TRUE(connection);
  auto rows = connection->query("count", "SELECT count(*) FROM papers");
  ASSERT_TRUE(rows) << rows.error().message;
  EXPECT_EQ(rows->integer(0, 0), 1);

  const fs::path folder = fs::temp_directory_path() / ("paperboy-open-store-" + database_.schema());
  fs::remove_all(folder);
  auto by_default = open_store("", folder / "default.db");
  ASSERT_TRUE(by_default) << by_default.error().message;
  auto by_path = open_store((folder / "named.db").string(), folder / "default.db");
  ASSERT_TRUE(by_path) << by_path.error().message;
  EXPECT_TRUE(fs::exists(folder / "default.db"));
  EXPECT_TRUE(fs::exists(folder / "named.db"));
  fs::remove_all(folder);
}

TEST(PostgresStoreErrors, AnUnreachableServerIsNamedWithoutItsPassword) {
  auto store = open_store("postgresql://ada:s3cret@127.0.0.1:1/papers", "unused.db");
  ASSERT_FALSE(store);
  EXPECT_NE(store.error().message.find("postgresql://ada:***@127.0.0.1:1/papers"),
            std::string::npos)
      << store.error().message;
  EXPECT_EQ(store.error().message.find("s3cret"), std::string::npos);
}

}  // namespace
}  // namespace paperboy::store
