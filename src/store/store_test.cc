#include "store/store.h"

#include <fmt/format.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sqlite3.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <thread>

#include "core/date.h"
#include "store/fast_keys.h"
#include "store/pg_test_database.h"

namespace paperboy::store {
namespace {

namespace fs = std::filesystem;

// A fresh folder per test, removed afterwards.
class TempDir {
 public:
  TempDir() {
    std::string pattern = (fs::temp_directory_path() / "paperboy-store-XXXXXX").string();
    path_ = mkdtemp(pattern.data());
  }
  ~TempDir() { fs::remove_all(path_); }
  fs::path operator/(std::string_view name) const { return path_ / name; }

 private:
  fs::path path_;
};

std::unique_ptr<Store> open_store(const fs::path& path, const SqliteOptions& options = {}) {
  auto store = open_sqlite_store(path, options);
  EXPECT_TRUE(store.has_value()) << (store ? "" : store.error().message);
  return store ? std::move(*store) : nullptr;
}

UpsertOutcome upsert_one(Store& store, const Paper& paper) {
  EXPECT_TRUE(store.begin_batch().has_value());
  auto outcome = store.upsert(paper);
  EXPECT_TRUE(outcome.has_value()) << (outcome ? "" : outcome.error().message);
  auto committed = store.commit_batch();
  EXPECT_TRUE(committed.has_value()) << (committed ? "" : committed.error().message);
  return outcome.value_or(UpsertOutcome::unchanged);
}

Paper find_paper(Store& store, std::string_view id) {
  auto found = store.find(id);
  EXPECT_TRUE(found.has_value()) << (found ? "" : found.error().message);
  EXPECT_TRUE(found && found->has_value()) << "no paper " << id;
  return found && *found ? **found : Paper{};
}

// Every field, so tests compare whole records.
nlohmann::json as_json(const Paper& p) {
  return {{"arxiv_id", p.arxiv_id},
          {"version", p.version},
          {"doi", p.doi},
          {"title", p.title},
          {"abstract", p.abstract},
          {"authors", p.authors},
          {"author_count", p.author_count},
          {"categories", p.categories},
          {"published", p.published},
          {"updated", p.updated},
          {"feed_day", p.feed_day},
          {"submitted_at", p.submitted_at},
          {"comments", p.comments},
          {"journal_ref", p.journal_ref},
          {"license", p.license},
          {"code_url", p.code_url},
          {"project_url", p.project_url},
          {"github_stars", p.github_stars},
          {"upvotes", p.upvotes},
          {"num_comments", p.num_comments},
          {"submitted_by", p.submitted_by},
          {"organization", p.organization},
          {"ai_summary", p.ai_summary},
          {"ai_keywords", p.ai_keywords},
          {"source", p.source}};
}

std::vector<std::string> dump(Store& store) {
  std::vector<std::string> rows;
  auto done =
      store.for_each_paper([&](const Paper& paper) { rows.push_back(as_json(paper).dump()); });
  EXPECT_TRUE(done.has_value()) << (done ? "" : done.error().message);
  return rows;
}

std::string file_bytes(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream content;
  content << in.rdbuf();
  return content.str();
}

Paper arxiv_paper(std::string id, int version, std::string title) {
  Paper paper;
  paper.arxiv_id = std::move(id);
  paper.version = version;
  paper.title = std::move(title);
  paper.abstract = "Abstract of version " + std::to_string(version);
  paper.authors = {"Ada Lovelace", "Alan Turing"};
  paper.categories = {"cs.LG", "stat.ML"};
  paper.published = "2023-12-01";
  paper.updated = "2023-12-01";
  paper.source = "arxiv-snapshot";
  return paper;
}

// Runs one statement on the file behind the store's back, as another program would.
void raw_exec(const fs::path& path, const std::string& statement) {
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(path.c_str(), &db), SQLITE_OK);
  char* message = nullptr;
  EXPECT_EQ(sqlite3_exec(db, statement.c_str(), nullptr, nullptr, &message), SQLITE_OK)
      << (message ? message : "");
  sqlite3_free(message);
  sqlite3_close(db);
}

int64_t raw_int(const fs::path& path, const std::string& query) {
  sqlite3* db = nullptr;
  EXPECT_EQ(sqlite3_open(path.c_str(), &db), SQLITE_OK);
  sqlite3_stmt* statement = nullptr;
  EXPECT_EQ(sqlite3_prepare_v2(db, query.c_str(), -1, &statement, nullptr), SQLITE_OK);
  int64_t value = sqlite3_step(statement) == SQLITE_ROW ? sqlite3_column_int64(statement, 0) : -1;
  sqlite3_finalize(statement);
  sqlite3_close(db);
  return value;
}

// Which backend a parameterised test runs on.
enum class Backend { sqlite, postgres };

// Runs a test on each backend: SQLite in a fresh folder, PostgreSQL in a fresh schema of the
// test database (PAPERBOY_TEST_POSTGRES; the test fails without it).
class BackendTest : public ::testing::TestWithParam<Backend> {
 protected:
  void SetUp() override {
    if (GetParam() == Backend::postgres) {
      database_ = std::make_unique<testing::PgTestDatabase>();
      ASSERT_EQ(database_->error(), "");
    }
  }

  // Opens the store under test; again after closing it, the same store.
  std::unique_ptr<Store> open() {
    auto store =
        sqlite() ? open_sqlite_store(dir_ / "papers.db") : open_postgres_store(database_->url());
    EXPECT_TRUE(store.has_value()) << (store ? "" : store.error().message);
    return store ? std::move(*store) : nullptr;
  }

  bool sqlite() const { return GetParam() == Backend::sqlite; }

  TempDir dir_;
  std::unique_ptr<testing::PgTestDatabase> database_;
};

std::string backend_name(const ::testing::TestParamInfo<Backend>& info) {
  return info.param == Backend::sqlite ? "Sqlite" : "Postgres";
}

#define PAPERBOY_ON_BOTH_BACKENDS(Suite)                                                           \
  class Suite : public BackendTest {};                                                             \
  INSTANTIATE_TEST_SUITE_P(Backends, Suite, ::testing::Values(Backend::sqlite, Backend::postgres), \
                           backend_name)

PAPERBOY_ON_BOTH_BACKENDS(Upsert);
PAPERBOY_ON_BOTH_BACKENDS(Changes);
PAPERBOY_ON_BOTH_BACKENDS(Batch);
PAPERBOY_ON_BOTH_BACKENDS(Concurrency);
PAPERBOY_ON_BOTH_BACKENDS(CheckStorable);

TEST(Schema, MigratesAFreshFileAndAnEmptyOne) {
  TempDir dir;
  {
    auto store = open_store(dir / "nested" / "papers.db");
    ASSERT_TRUE(store);
    EXPECT_EQ(store->stats()->schema_version, 6);
  }
  EXPECT_EQ(raw_int(dir / "nested" / "papers.db", "PRAGMA user_version"), 6);
  EXPECT_EQ(raw_int(dir / "nested" / "papers.db", "PRAGMA page_size"), 16384);
  EXPECT_EQ(raw_int(dir / "nested" / "papers.db", "PRAGMA application_id"), 0x50424F59);
  EXPECT_EQ(
      raw_int(dir / "nested" / "papers.db",
              "SELECT count(*) FROM sqlite_schema WHERE type = 'index' AND name LIKE 'papers_%'"),
      7);

  std::ofstream(dir / "empty.db").close();
  auto store = open_store(dir / "empty.db");
  ASSERT_TRUE(store);
  EXPECT_EQ(upsert_one(*store, arxiv_paper("2312.00752", 1, "Mamba")), UpsertOutcome::added);
}

TEST(Schema, MigratesAVersionOneStoreKeepingItsPapers) {
  TempDir dir;
  const fs::path path = dir / "papers.db";
  Paper captured;
  captured.title = "Mamba YOLO: SSMs-Based YOLO For Object Detection";
  captured.upvotes = 5;
  {
    auto store = open_store(path);
    EXPECT_EQ(upsert_one(*store, captured), UpsertOutcome::added);
  }
  // What a version-1 store looks like: 4 KiB pages, titles indexed by key text, no title-only
  // index, no change numbers, no community.
  raw_exec(path, "PRAGMA journal_mode = DELETE; PRAGMA page_size = 4096; VACUUM");
  raw_exec(
      path,
      "DROP INDEX papers_title_only; DROP INDEX papers_title_hash; "
      "ALTER TABLE papers DROP COLUMN title_hash; CREATE INDEX papers_title_key ON "
      "papers(title_key); "
      "DROP INDEX papers_change_seq; "
      "ALTER TABLE papers DROP COLUMN change_seq; ALTER TABLE papers DROP COLUMN "
      "local_upvotes; DROP TABLE votes; DROP TABLE comments; DROP TABLE collection_items; "
      "DROP TABLE collections; DROP TABLE submissions; DROP TABLE fetch_queue; "
      "DROP TABLE hidden_papers; DROP TABLE sessions; DROP TABLE api_tokens; "
      "DROP TABLE outbox; DROP TABLE subscriptions; DROP TABLE users; PRAGMA user_version = 1");
  auto store = open_store(path);
  ASSERT_TRUE(store);
  EXPECT_EQ(raw_int(path, "PRAGMA user_version"), 6);
  EXPECT_EQ(raw_int(path, "SELECT count(*) FROM sqlite_schema WHERE name = 'papers_title_only'"),
            1);
  EXPECT_EQ(raw_int(path, "SELECT count(*) FROM sqlite_schema WHERE name = 'papers_title_key'"), 0)
      << "the key-text index gives way to the hash index";
  EXPECT_EQ(raw_int(path, "PRAGMA page_size"), 4096) << "an existing store keeps its page size";
  EXPECT_EQ(store->last_change(), 1u) << "existing papers are numbered";
  // Both title lookups find the migrated paper by the hash the migration computed.
  EXPECT_EQ(upsert_one(*store, arxiv_paper("2406.05835", 1, captured.title)),
            UpsertOutcome::updated);
  EXPECT_EQ(find_paper(*store, "2406.05835").upvotes, 5);
  EXPECT_EQ(store->last_change(), 2u);
  captured.upvotes = 9;
  EXPECT_EQ(upsert_one(*store, captured), UpsertOutcome::updated);
  EXPECT_EQ(find_paper(*store, "2406.05835").upvotes, 9);
  EXPECT_EQ(store->stats()->papers, 1);
}

TEST(Schema, UsesWriteAheadLogging) {
  TempDir dir;
  auto store = open_store(dir / "papers.db");
  ASSERT_TRUE(store);
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open((dir / "papers.db").c_str(), &db), SQLITE_OK);
  sqlite3_stmt* statement = nullptr;
  ASSERT_EQ(sqlite3_prepare_v2(db, "PRAGMA journal_mode", -1, &statement, nullptr), SQLITE_OK);
  ASSERT_EQ(sqlite3_step(statement), SQLITE_ROW);
  EXPECT_STREQ(reinterpret_cast<const char*>(sqlite3_column_text(statement, 0)), "wal");
  sqlite3_finalize(statement);
  sqlite3_close(db);
}

TEST(Schema, RefusesAStoreFromANewerPaperboy) {
  TempDir dir;
  { ASSERT_TRUE(open_store(dir / "papers.db")); }
  raw_exec(dir / "papers.db", "PRAGMA user_version = 7");
  auto store = open_sqlite_store(dir / "papers.db");
  ASSERT_FALSE(store.has_value());
  EXPECT_NE(store.error().message.find("schema version 7 is newer"), std::string::npos)
      << store.error().message;
  EXPECT_NE(store.error().message.find("papers.db"), std::string::npos);
}

TEST(Schema, RefusesFilesThatAreNotPaperboyStores) {
  TempDir dir;
  std::ofstream(dir / "notes.txt") << "this is not a database, just some text that is long enough "
                                      "to fill the sixteen byte header and more";
  auto text = open_sqlite_store(dir / "notes.txt");
  ASSERT_FALSE(text.has_value());
  EXPECT_NE(text.error().message.find("not a SQLite database"), std::string::npos)
      << text.error().message;

  raw_exec(dir / "other.db", "CREATE TABLE accounts (name TEXT)");
  auto other = open_sqlite_store(dir / "other.db");
  ASSERT_FALSE(other.has_value());
  EXPECT_NE(other.error().message.find("not a paperboy store"), std::string::npos)
      << other.error().message;
}

TEST(Schema, ReportsPathsItCannotOpen) {
  TempDir dir;
  fs::create_directory(dir / "folder");
  auto folder = open_sqlite_store(dir / "folder");
  ASSERT_FALSE(folder.has_value());
  EXPECT_NE(folder.error().message.find("folder"), std::string::npos) << folder.error().message;

  std::ofstream(dir / "file") << "x";
  auto under_a_file = open_sqlite_store(dir / "file" / "papers.db");
  ASSERT_FALSE(under_a_file.has_value());
  EXPECT_NE(under_a_file.error().message.find("cannot create its folder"), std::string::npos)
      << under_a_file.error().message;
}

TEST_P(Upsert, AddsThenReportsUnchangedAndLeavesTheStoreUntouched) {
  std::vector<Paper> papers;
  for (int i = 0; i < 50; ++i) {
    Paper paper = arxiv_paper(fmt::format("2401.{:05}", i), 1 + i % 3, fmt::format("Paper {}", i));
    paper.feed_day = fmt::format("2024-01-{:02}", 1 + i % 28);
    paper.upvotes = i;
    paper.ai_keywords = {"state space", "mamba"};
    papers.push_back(paper);
  }
  {
    auto store = open();
    ASSERT_TRUE(store->begin_batch());
    for (const Paper& paper : papers) EXPECT_EQ(store->upsert(paper), UpsertOutcome::added);
    ASSERT_TRUE(store->commit_batch());
  }
  const std::string before = sqlite() ? file_bytes(dir_ / "papers.db") : "";
  {
    auto store = open();
    ASSERT_TRUE(store->begin_batch());
    for (const Paper& paper : papers) EXPECT_EQ(store->upsert(paper), UpsertOutcome::unchanged);
    ASSERT_TRUE(store->commit_batch());
    EXPECT_EQ(store->stats()->papers, 50);
    EXPECT_EQ(as_json(find_paper(*store, "2401.00007")), as_json(papers[7]));
    EXPECT_EQ(store->last_change(), 50u) << "a re-import numbered changes";
  }
  if (sqlite()) {
    EXPECT_TRUE(file_bytes(dir_ / "papers.db") == before) << "re-import rewrote the file";
  }
}

TEST_P(Upsert, ReimportOfTheSeedPageChangesNothing) {
  // The 115 title-only papers of a captured Daily Papers page (shared data).
  std::ifstream in(fs::path(PAPERBOY_SHARED_DATA_DIR) / "seed" / "papers.jsonl");
  ASSERT_TRUE(in) << "missing shared data";
  std::vector<Paper> papers;
  for (std::string line; std::getline(in, line);) {
    auto json = nlohmann::json::parse(line);
    Paper paper;
    paper.title = json.value("title", "");
    paper.abstract = json.value("abstract", "");
    paper.author_count = json.value("authors_count", 0);
    paper.published = json.value("published", "");
    paper.upvotes = json.value("upvotes", 0);
    paper.code_url = json.value("code_url", "");
    papers.push_back(paper);
  }
  ASSERT_EQ(papers.size(), 115u);
  auto store = open();
  for (int round = 0; round < 2; ++round) {
    ASSERT_TRUE(store->begin_batch());
    int added = 0, unchanged = 0;
    for (const Paper& paper : papers) {
      auto outcome = store->upsert(paper);
      ASSERT_TRUE(outcome) << outcome.error().message;
      added += *outcome == UpsertOutcome::added;
      unchanged += *outcome == UpsertOutcome::unchanged;
    }
    ASSERT_TRUE(store->commit_batch());
    EXPECT_EQ(round == 0 ? added : unchanged, 115) << "round " << round;
  }
  EXPECT_EQ(as_json(find_paper(*store, paper_id(papers[0]))), as_json(papers[0]));
}

TEST_P(Upsert, OnePaperPerArxivIdWhateverTheVersionSuffix) {
  auto store = open();
  Paper v2 = arxiv_paper("2312.00752v2", 0, "Mamba: Linear-Time Sequence Modeling");
  EXPECT_EQ(upsert_one(*store, v2), UpsertOutcome::added);
  Paper stored = find_paper(*store, "arXiv:2312.00752v5");
  EXPECT_EQ(stored.arxiv_id, "2312.00752");
  EXPECT_EQ(stored.version, 2);
  EXPECT_EQ(
      upsert_one(*store, arxiv_paper("2312.00752", 2, "Mamba: Linear-Time Sequence Modeling")),
      UpsertOutcome::unchanged);
  EXPECT_EQ(store->stats()->papers, 1);
}

TEST_P(Upsert, NewestVersionWinsForText) {
  auto store = open();
  Paper v2 = arxiv_paper("2312.00752", 2, "Mamba v2 title");
  v2.comments = "v2 comments";
  v2.journal_ref = "";
  EXPECT_EQ(upsert_one(*store, v2), UpsertOutcome::added);

  Paper v1 = arxiv_paper("2312.00752", 1, "Mamba v1 title");
  v1.comments = "v1 comments";
  v1.journal_ref = "v1 journal";  // fills nothing: a lower version changes no text
  EXPECT_EQ(upsert_one(*store, v1), UpsertOutcome::unchanged);
  EXPECT_EQ(find_paper(*store, "2312.00752").title, "Mamba v2 title");

  Paper v3 = arxiv_paper("2312.00752", 3, "Mamba v3 title");
  v3.abstract = "";  // the v3 source does not carry an abstract: keep the stored one
  v3.authors = {"Albert Gu", "Tri Dao"};
  EXPECT_EQ(upsert_one(*store, v3), UpsertOutcome::updated);
  Paper stored = find_paper(*store, "2312.00752");
  EXPECT_EQ(stored.version, 3);
  EXPECT_EQ(stored.title, "Mamba v3 title");
  EXPECT_EQ(stored.abstract, "Abstract of version 2");
  EXPECT_EQ(stored.authors, (std::vector<std::string>{"Albert Gu", "Tri Dao"}));
  EXPECT_EQ(stored.comments, "v2 comments");

  Paper same_version = arxiv_paper("2312.00752", 3, "Another v3 title");
  same_version.journal_ref = "ICML 2024";  // equal version: fills the empty field only
  EXPECT_EQ(upsert_one(*store, same_version), UpsertOutcome::updated);
  stored = find_paper(*store, "2312.00752");
  EXPECT_EQ(stored.title, "Mamba v3 title");
  EXPECT_EQ(stored.journal_ref, "ICML 2024");
}

TEST_P(Upsert, CountsOnlyGoUpAndDatesKeepTheirEnds) {
  auto store = open();
  Paper paper = arxiv_paper("2405.21060", 1, "Transformers are SSMs");
  paper.upvotes = 40;
  paper.github_stars = 900;
  paper.num_comments = 3;
  paper.published = "2024-05-31";
  paper.updated = "2024-06-02";
  paper.feed_day = "2024-06-03";
  paper.submitted_at = "2024-06-03T08:00:00.000Z";
  EXPECT_EQ(upsert_one(*store, paper), UpsertOutcome::added);

  Paper older_snapshot = paper;
  older_snapshot.upvotes = 12;
  older_snapshot.github_stars = 100;
  older_snapshot.num_comments = 1;
  older_snapshot.published = "2024-06-01";
  older_snapshot.updated = "2024-05-31";
  older_snapshot.feed_day = "2024-06-04";
  older_snapshot.submitted_at = "2024-06-03T10:00:00+02:00";  // 08:00Z: the same instant
  EXPECT_EQ(upsert_one(*store, older_snapshot), UpsertOutcome::unchanged);

  Paper newer = paper;
  newer.upvotes = 41;
  newer.published = "2024-05-30";
  newer.updated = "2024-06-10";
  newer.feed_day = "2024-06-02";
  newer.submitted_at = "2024-06-02T23:00:00Z";
  EXPECT_EQ(upsert_one(*store, newer), UpsertOutcome::updated);
  Paper stored = find_paper(*store, "2405.21060");
  EXPECT_EQ(stored.upvotes, 41);
  EXPECT_EQ(stored.github_stars, 900);
  EXPECT_EQ(stored.num_comments, 3);
  EXPECT_EQ(stored.published, "2024-05-30");
  EXPECT_EQ(stored.updated, "2024-06-10");
  EXPECT_EQ(stored.feed_day, "2024-06-02");
  EXPECT_EQ(stored.submitted_at, "2024-06-02T23:00:00Z");
}

TEST_P(Upsert, LinksAndFeedDetailsFillInOnlyWhenEmpty) {
  auto store = open();
  Paper paper = arxiv_paper("2406.00001", 1, "A paper");
  paper.code_url = "https://github.com/a/first";
  EXPECT_EQ(upsert_one(*store, paper), UpsertOutcome::added);
  Paper other = paper;
  other.code_url = "https://github.com/b/second";
  other.project_url = "https://project.example";
  other.submitted_by = "akhaliq";
  other.organization = "nvidia";
  other.ai_summary = "Summary.";
  other.ai_keywords = {"ssm"};
  EXPECT_EQ(upsert_one(*store, other), UpsertOutcome::updated);
  Paper stored = find_paper(*store, "2406.00001");
  EXPECT_EQ(stored.code_url, "https://github.com/a/first");
  EXPECT_EQ(stored.project_url, "https://project.example");
  EXPECT_EQ(stored.submitted_by, "akhaliq");
  EXPECT_EQ(stored.organization, "nvidia");
  EXPECT_EQ(stored.ai_summary, "Summary.");
  EXPECT_EQ(stored.ai_keywords, std::vector<std::string>{"ssm"});
  other.submitted_by = "someone else";
  EXPECT_EQ(upsert_one(*store, other), UpsertOutcome::unchanged);
}

TEST_P(Upsert, TitleOnlyPapersMergeByTitleKey) {
  auto store = open();
  Paper captured;
  captured.title = "Mamba YOLO: SSMs-Based YOLO For Object Detection";
  captured.upvotes = 5;
  captured.author_count = 6;
  EXPECT_EQ(upsert_one(*store, captured), UpsertOutcome::added);
  const std::string id = paper_id(captured);
  EXPECT_TRUE(id.starts_with("title-"));

  Paper recaptured;
  recaptured.title = "mamba yolo -- ssms based YOLO for object detection!";
  recaptured.upvotes = 9;
  EXPECT_EQ(upsert_one(*store, recaptured), UpsertOutcome::updated);
  Paper stored = find_paper(*store, id);
  EXPECT_EQ(stored.title, captured.title);
  EXPECT_EQ(stored.upvotes, 9);
  EXPECT_EQ(stored.author_count, 6);
  EXPECT_EQ(store->stats()->papers, 1);
}

TEST_P(Upsert, AnArxivRecordAdoptsTheTitleOnlyPaper) {
  auto store = open();
  Paper captured;
  captured.title = "Mamba YOLO: SSMs-Based YOLO For Object Detection";
  captured.upvotes = 5;
  captured.code_url = "https://github.com/HZAI-ZJNU/Mamba-YOLO";
  EXPECT_EQ(upsert_one(*store, captured), UpsertOutcome::added);

  Paper arxiv = arxiv_paper("2406.05835", 1, "Mamba YOLO: SSMs-Based YOLO For Object Detection");
  EXPECT_EQ(upsert_one(*store, arxiv), UpsertOutcome::updated);
  EXPECT_EQ(store->stats()->papers, 1);
  Paper stored = find_paper(*store, "2406.05835");
  EXPECT_EQ(stored.upvotes, 5);
  EXPECT_EQ(stored.code_url, captured.code_url);
  EXPECT_EQ(stored.authors, arxiv.authors);
  EXPECT_EQ(stored.version, 1);
  EXPECT_FALSE(store->find(paper_id(captured))->has_value()) << "the title id is gone";
}

TEST_P(Upsert, ATitleOnlyRecordMergesIntoTheStoredArxivPaper) {
  auto store = open();
  Paper arxiv = arxiv_paper("2406.05835", 2, "Mamba YOLO: SSMs-Based YOLO For Object Detection");
  EXPECT_EQ(upsert_one(*store, arxiv), UpsertOutcome::added);
  Paper captured;
  captured.title = "MAMBA YOLO: SSMs Based YOLO for Object Detection";
  captured.abstract = "A captured abstract.";
  captured.upvotes = 17;
  EXPECT_EQ(upsert_one(*store, captured), UpsertOutcome::updated);
  EXPECT_EQ(store->stats()->papers, 1);
  Paper stored = find_paper(*store, "2406.05835");
  EXPECT_EQ(stored.upvotes, 17);
  EXPECT_EQ(stored.title, arxiv.title) << "version 0 changes no text of version 2";
  EXPECT_EQ(stored.abstract, arxiv.abstract);
}

TEST_P(Upsert, MergesRecordsOfTheSameBatch) {
  auto store = open();
  ASSERT_TRUE(store->begin_batch());
  EXPECT_EQ(store->upsert(arxiv_paper("2401.00001", 1, "First")), UpsertOutcome::added);
  EXPECT_EQ(store->upsert(arxiv_paper("2401.00001v2", 0, "Second")), UpsertOutcome::updated);
  ASSERT_TRUE(store->commit_batch());
  EXPECT_EQ(find_paper(*store, "2401.00001").title, "Second");
}

TEST_P(Upsert, RefusesBadRecordsWithoutLosingTheBatch) {
  auto store = open();
  auto outside = store->upsert(arxiv_paper("2401.00001", 1, "First"));
  ASSERT_FALSE(outside);
  EXPECT_NE(outside.error().message.find("begin_batch"), std::string::npos);

  ASSERT_TRUE(store->begin_batch());
  auto twice = store->begin_batch();
  ASSERT_FALSE(twice);
  EXPECT_NE(twice.error().message.find("already has a batch open"), std::string::npos);
  EXPECT_EQ(store->upsert(arxiv_paper("2401.00001", 1, "First")), UpsertOutcome::added);
  auto bad_id = store->upsert(arxiv_paper("not-an-id", 1, "Second"));
  ASSERT_FALSE(bad_id);
  EXPECT_NE(bad_id.error().message.find("\"not-an-id\" is not an arXiv identifier"),
            std::string::npos)
      << bad_id.error().message;
  Paper untitled;
  untitled.title = " -- ";
  auto no_key = store->upsert(untitled);
  ASSERT_FALSE(no_key);
  EXPECT_NE(no_key.error().message.find("no arXiv id"), std::string::npos);
  ASSERT_TRUE(store->commit_batch());
  EXPECT_EQ(store->stats()->papers, 1);
}

std::vector<std::string> changes(Store& store, uint64_t after, uint64_t up_to) {
  std::vector<std::string> ids;
  auto done = store.for_each_change(after, up_to, [&](const Paper& paper) {
    ids.push_back(paper.arxiv_id + (paper.version > 1 ? "@v" + std::to_string(paper.version) : ""));
  });
  EXPECT_TRUE(done.has_value()) << (done ? "" : done.error().message);
  return ids;
}

TEST_P(Changes, NumberEveryWriteInCommitOrder) {
  using Ids = std::vector<std::string>;
  auto store = open();
  EXPECT_EQ(store->last_change(), 0u);
  ASSERT_TRUE(store->begin_batch());
  for (const char* id : {"2401.00001", "2401.00002", "2401.00003"})
    ASSERT_TRUE(store->upsert(arxiv_paper(id, 1, id)));
  ASSERT_TRUE(store->commit_batch());
  EXPECT_EQ(store->last_change(), 3u);
  EXPECT_EQ(changes(*store, 0, 3), (Ids{"2401.00001", "2401.00002", "2401.00003"}));
  EXPECT_EQ(changes(*store, 1, 2), Ids{"2401.00002"});

  EXPECT_EQ(upsert_one(*store, arxiv_paper("2401.00002", 1, "2401.00002")),
            UpsertOutcome::unchanged);
  EXPECT_EQ(store->last_change(), 3u) << "an unchanged record is no change";

  ASSERT_TRUE(store->begin_batch());
  ASSERT_TRUE(store->upsert(arxiv_paper("2401.00009", 1, "Rolled back")));
  store->rollback_batch();
  EXPECT_EQ(store->last_change(), 3u);

  EXPECT_EQ(upsert_one(*store, arxiv_paper("2401.00001", 2, "Revised")), UpsertOutcome::updated);
  EXPECT_EQ(store->last_change(), 4u);
  EXPECT_EQ(changes(*store, 3, 4), Ids{"2401.00001@v2"});
  EXPECT_EQ(changes(*store, 0, 4), (Ids{"2401.00002", "2401.00003", "2401.00001@v2"}))
      << "a paper appears once, at its latest change";
}

TEST_P(Batch, ARolledBackBatchLeavesNoTrace) {
  auto store = open();
  EXPECT_EQ(upsert_one(*store, arxiv_paper("2401.00001", 1, "Kept")), UpsertOutcome::added);
  ASSERT_TRUE(store->begin_batch());
  EXPECT_EQ(store->upsert(arxiv_paper("2401.00002", 1, "Dropped")), UpsertOutcome::added);
  Paper bumped = arxiv_paper("2401.00001", 2, "Kept, retitled");
  EXPECT_EQ(store->upsert(bumped), UpsertOutcome::updated);
  store->rollback_batch();
  EXPECT_EQ(store->stats()->papers, 1);
  EXPECT_EQ(find_paper(*store, "2401.00001").title, "Kept");
  EXPECT_FALSE(store->find("2401.00002")->has_value());
}

TEST(SqliteBatch, AFullDiskRollsTheBatchBackToTheLastCommit) {
  TempDir dir;
  const fs::path path = dir / "papers.db";
  std::vector<std::string> committed;
  {
    auto store = open_store(path, SqliteOptions{.max_file_bytes = 256 * 1024});
    ASSERT_TRUE(store->begin_batch());
    for (int i = 0; i < 20; ++i)
      ASSERT_TRUE(store->upsert(arxiv_paper(fmt::format("2401.{:05}", i), 1, "Small")));
    ASSERT_TRUE(store->commit_batch());
    committed = dump(*store);

    ASSERT_TRUE(store->begin_batch());
    Result<UpsertOutcome> outcome;
    for (int i = 100; i < 2000 && outcome; ++i) {
      Paper big = arxiv_paper(fmt::format("2402.{:05}", i), 1, fmt::format("Big {}", i));
      big.abstract.assign(4000, 'x');
      outcome = store->upsert(big);
    }
    ASSERT_FALSE(outcome) << "the file never filled up";
    EXPECT_NE(outcome.error().message.find("full"), std::string::npos) << outcome.error().message;
    EXPECT_NE(outcome.error().message.find("rolled back"), std::string::npos);
    EXPECT_NE(outcome.error().message.find("papers.db"), std::string::npos);
    EXPECT_FALSE(store->commit_batch()) << "the failed batch is closed";
    EXPECT_EQ(dump(*store), committed);
    // The store keeps working after the failure.
    EXPECT_EQ(upsert_one(*store, arxiv_paper("2401.00099", 1, "After")), UpsertOutcome::added);
    committed = dump(*store);
  }
  auto reopened = open_store(path);
  EXPECT_EQ(dump(*reopened), committed);
}

TEST_P(Batch, ABatchOpenWhenTheProcessDiesIsAbsentAfterReopen) {
  pid_t child = fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    auto store = open();
    if (!store || !store->begin_batch() || !store->upsert(arxiv_paper("2401.00001", 1, "A")) ||
        !store->commit_batch() || !store->begin_batch())
      _exit(1);
    for (int i = 2; i < 500; ++i)
      if (!store->upsert(arxiv_paper(fmt::format("2401.{:05}", i), 1, "Never committed"))) _exit(1);
    raise(SIGKILL);
  }
  int status = 0;
  ASSERT_EQ(waitpid(child, &status, 0), child);
  ASSERT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL) << "child exited " << status;
  auto store = open();
  ASSERT_TRUE(store);
  EXPECT_EQ(store->stats()->papers, 1);
  EXPECT_EQ(find_paper(*store, "2401.00001").title, "A");
}

TEST_P(Concurrency, ReadersSeeWholeBatchesWhileAWriterCommits) {
  auto store = open();
  constexpr int kBatches = 30, kBatchSize = 40;
  std::atomic<bool> writing = true;
  std::atomic<int> reads = 0, torn = 0, failures = 0;
  std::vector<std::thread> readers;
  for (int r = 0; r < 3; ++r) {
    readers.emplace_back([&] {
      size_t last = 0;
      while (writing) {
        auto papers = store->feed_papers("2024-01-01", "2024-12-31");
        auto stats = store->stats();
        if (!papers || !stats) {
          ++failures;
          continue;
        }
        if (papers->size() % kBatchSize != 0 || papers->size() < last ||
            stats->papers % kBatchSize != 0)
          ++torn;
        last = papers->size();
        ++reads;
      }
    });
  }
  for (int b = 0; b < kBatches; ++b) {
    ASSERT_TRUE(store->begin_batch());
    for (int i = 0; i < kBatchSize; ++i) {
      Paper paper = arxiv_paper(fmt::format("2401.{:05}", b * kBatchSize + i), 1, "Concurrent");
      paper.feed_day = fmt::format("2024-01-{:02}", 1 + b % 28);
      ASSERT_TRUE(store->upsert(paper));
    }
    ASSERT_TRUE(store->commit_batch());
  }
  writing = false;
  for (auto& reader : readers) reader.join();
  EXPECT_GT(reads, 0);
  EXPECT_EQ(torn, 0);
  EXPECT_EQ(failures, 0);
  EXPECT_EQ(store->feed_papers("2024-01-01", "2024-12-31")->size(), size_t{kBatches * kBatchSize});
}

TEST_P(Concurrency, WritersTakeTurnsWithTheirBatches) {
  auto store = open();
  constexpr int kWriters = 3, kBatches = 10, kBatchSize = 20;
  std::atomic<int> failures = 0;
  std::vector<std::thread> writers;
  for (int w = 0; w < kWriters; ++w) {
    writers.emplace_back([&, w] {
      for (int b = 0; b < kBatches; ++b) {
        if (!store->begin_batch()) ++failures;
        for (int i = 0; i < kBatchSize; ++i) {
          const int n = (w * kBatches + b) * kBatchSize + i;
          if (!store->upsert(arxiv_paper(fmt::format("2402.{:05}", n), 1, "Writer"))) ++failures;
        }
        if (!store->commit_batch()) ++failures;
      }
    });
  }
  for (auto& writer : writers) writer.join();
  EXPECT_EQ(failures, 0);
  EXPECT_EQ(store->stats()->papers, kWriters * kBatches * kBatchSize);
}

class FeedQueries : public BackendTest {
 protected:
  void SetUp() override {
    BackendTest::SetUp();
    if (HasFatalFailure()) return;
    store_ = open();
    ASSERT_TRUE(store_->begin_batch());
    add("2501.00001", "2025-01-06", {"cs.CL", "cs.AI"}, 10, "2025-01-06T09:00:00Z");
    add("2501.00002", "2025-01-06", {"math.AG"}, 0, "");
    add("2501.00003", "2025-01-08", {"cs.CV"}, 3, "2025-01-08T10:30:00Z");
    add("2501.00004", "2025-01-13", {"stat.ML", "cs.LG"}, 50, "");
    add("2501.00005", "", {"cs.CL"}, 7, "");  // published only, never in the feed
    ASSERT_TRUE(store_->commit_batch());
  }

  void add(std::string id, std::string feed_day, std::vector<std::string> categories,
           int64_t upvotes, std::string submitted_at) {
    Paper paper = arxiv_paper(std::move(id), 1, "Feed paper");
    paper.feed_day = std::move(feed_day);
    paper.categories = std::move(categories);
    paper.upvotes = upvotes;
    paper.submitted_at = std::move(submitted_at);
    paper.published = "2025-01-02";
    ASSERT_TRUE(store_->upsert(paper));
  }

  static std::vector<std::string> ids(const Result<std::vector<Paper>>& papers) {
    std::vector<std::string> result;
    for (const Paper& paper : *papers) result.push_back(paper.arxiv_id);
    std::sort(result.begin(), result.end());
    return result;
  }

  std::unique_ptr<Store> store_;
};

INSTANTIATE_TEST_SUITE_P(Backends, FeedQueries,
                         ::testing::Values(Backend::sqlite, Backend::postgres), backend_name);

TEST_P(FeedQueries, SelectsByFeedDayAndCategory) {
  using Ids = std::vector<std::string>;
  EXPECT_EQ(ids(store_->feed_papers("2025-01-06", "2025-01-08")),
            (Ids{"2501.00001", "2501.00002", "2501.00003"}));
  EXPECT_EQ(ids(store_->feed_papers("2025-01-06", "2025-01-31", "cs.CL")), (Ids{"2501.00001"}));
  EXPECT_EQ(ids(store_->feed_papers("2025-01-01", "2025-01-31", "cs")),
            (Ids{"2501.00001", "2501.00003", "2501.00004"}));
  EXPECT_EQ(ids(store_->feed_papers("2025-01-01", "2025-01-31", "c")), Ids{});
  EXPECT_EQ(*store_->feed_days(), (Ids{"2025-01-06", "2025-01-08", "2025-01-13"}));
}

TEST_P(FeedQueries, FindsNeighbouringFeedDays) {
  EXPECT_EQ(*store_->feed_day_before("2025-01-13"), "2025-01-08");
  EXPECT_EQ(*store_->feed_day_after("2025-01-08"), "2025-01-13");
  EXPECT_EQ(*store_->feed_day_after("2025-01-06", "math"), std::nullopt);
  EXPECT_EQ(*store_->feed_day_before("2025-01-13", "cs.CL"), "2025-01-06");
  EXPECT_EQ(*store_->feed_day_before("2025-01-06"), std::nullopt);
}

TEST_P(FeedQueries, CountsTheStore) {
  auto stats = store_->stats();
  ASSERT_TRUE(stats);
  EXPECT_EQ(stats->papers, 5);
  EXPECT_EQ(stats->papers_with_arxiv_id, 5);
  EXPECT_EQ(stats->papers_in_feed, 4);
  EXPECT_EQ(stats->feed_days, 3);
  EXPECT_EQ(stats->total_upvotes, 70);
  EXPECT_EQ(stats->first_feed_day, "2025-01-06");
  EXPECT_EQ(stats->last_feed_day, "2025-01-13");
}

TEST_P(FeedQueries, SelectsUpvotedPapersByEntryTimeAndFloor) {
  using Ids = std::vector<std::string>;
  auto at = [](const char* text) { return *parse_instant(text); };
  // 00005 entered at its published day, 2025-01-02; 00002 has no upvotes.
  EXPECT_EQ(ids(store_->upvoted_papers(at("2025-01-01"), at("2025-02-01"), 0)),
            (Ids{"2501.00001", "2501.00003", "2501.00004", "2501.00005"}));
  EXPECT_EQ(ids(store_->upvoted_papers(at("2025-01-06T09:00:00Z"), at("2025-01-13"), 1)),
            (Ids{"2501.00001", "2501.00003"}));
  EXPECT_EQ(ids(store_->upvoted_papers(at("2025-01-01"), at("2025-02-01"), 8)),
            (Ids{"2501.00001", "2501.00004"}));
}

TEST(FastTitleKey, EqualsTitleKeyOnEveryAsciiCharacterAndRealTitles) {
  for (int c = 0; c < 128; ++c) {
    const std::string title = std::string("A") + static_cast<char>(c) + "b" + static_cast<char>(c);
    EXPECT_EQ(fast_title_key(title), title_key(title)) << "character " << c;
  }
  std::vector<std::string> titles = {"", "  --  ", "Caf\xC3\xA9 R\xC3\xA9sum\xC3\xA9",
                                     "\xEF\xBC\xA1\xEF\xBC\xA2\xEF\xBC\xA3 (full width)"};
  const fs::path data(PAPERBOY_SHARED_DATA_DIR);
  for (const char* file :
       {"seed/papers.jsonl", "arxiv-snapshot-sample/arxiv-metadata-oai-snapshot.json"}) {
    std::ifstream in(data / file);
    ASSERT_TRUE(in) << file;
    for (std::string line; std::getline(in, line);)
      titles.push_back(nlohmann::json::parse(line).value("title", ""));
  }
  ASSERT_GT(titles.size(), 300u);
  for (const std::string& title : titles)
    EXPECT_EQ(fast_title_key(title), title_key(title)) << title;
}

TEST(EnteredFeedAt, PrefersSubmissionThenFeedDayThenPublication) {
  Paper paper;
  EXPECT_EQ(entered_feed_at(paper), std::nullopt);
  paper.published = "2024-05-01";
  EXPECT_EQ(entered_feed_at(paper), parse_instant("2024-05-01"));
  paper.feed_day = "2024-05-03";
  EXPECT_EQ(entered_feed_at(paper), parse_instant("2024-05-03"));
  paper.submitted_at = "2024-05-03T07:15:00.123Z";
  EXPECT_EQ(entered_feed_at(paper), parse_instant("2024-05-03T07:15:00Z"));
}

TEST_P(CheckStorable, AgreesWithWhatUpsertRefuses) {
  Paper bad_id;
  bad_id.arxiv_id = "not-an-id";
  bad_id.title = "A title";
  EXPECT_FALSE(check_storable(bad_id));
  Paper no_letters;
  no_letters.title = " -- ";
  EXPECT_FALSE(check_storable(no_letters));
  Paper fine;
  fine.arxiv_id = "2312.00752v2";
  EXPECT_TRUE(check_storable(fine));
  Paper title_only;
  title_only.title = "Mamba";
  EXPECT_TRUE(check_storable(title_only));

  auto store = open();
  ASSERT_TRUE(store->begin_batch());
  EXPECT_FALSE(store->upsert(bad_id));
  store->rollback_batch();
  ASSERT_TRUE(store->begin_batch());
  EXPECT_FALSE(store->upsert(no_letters));
  store->rollback_batch();
}

}  // namespace
}  // namespace paperboy::store
