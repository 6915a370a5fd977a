// The SQLite backend of the store: one file, WAL mode, schema versioned by PRAGMA user_version.
#include <fmt/format.h>
#include <signal.h>
#include <sqlite3.h>

#include <array>
#include <condition_variable>
#include <limits>
#include <mutex>
#include <nlohmann/json.hpp>
#include <system_error>
#include <thread>
#include <unordered_map>
#include <utility>
#include <variant>

#include "core/arxiv_id.h"
#include "store/community_schema.h"
#include "store/fast_keys.h"
#include "store/paper_columns.h"
#include "store/store.h"
#include "store/subscription_schema.h"

namespace paperboy::store {

namespace {

// "PBOY" in PRAGMA application_id marks a file as a paperboy store.
constexpr int32_t kApplicationId = 0x50424F59;

// kMigrations[i] brings the schema from version i to i + 1; append, never edit.
const std::array<const char*, 6> kMigrations = {
    R"sql(
CREATE TABLE papers (
  id INTEGER PRIMARY KEY,
  arxiv_id TEXT,
  version INTEGER NOT NULL DEFAULT 0,
  doi TEXT,
  title TEXT,
  abstract TEXT,
  authors TEXT,
  author_count INTEGER NOT NULL DEFAULT 0,
  categories TEXT,
  published TEXT,
  updated TEXT,
  feed_day TEXT,
  submitted_at TEXT,
  comments TEXT,
  journal_ref TEXT,
  license TEXT,
  code_url TEXT,
  project_url TEXT,
  github_stars INTEGER NOT NULL DEFAULT 0,
  upvotes INTEGER NOT NULL DEFAULT 0,
  num_comments INTEGER NOT NULL DEFAULT 0,
  submitted_by TEXT,
  organization TEXT,
  ai_summary TEXT,
  ai_keywords TEXT,
  source TEXT,
  title_key TEXT NOT NULL,
  entered_at INTEGER
);
CREATE UNIQUE INDEX papers_arxiv_id ON papers(arxiv_id);
CREATE INDEX papers_title_key ON papers(title_key);
CREATE INDEX papers_feed_day ON papers(feed_day) WHERE feed_day IS NOT NULL;
CREATE INDEX papers_upvotes ON papers(upvotes) WHERE upvotes > 0;
CREATE INDEX papers_upvoted_entered_at ON papers(entered_at) WHERE upvotes > 0;
)sql",
    // Adoption looks for a title-only paper on every new arXiv id; this index holds only those
    // few papers, so the (usually missing) match costs nothing next to a search of all titles.
    R"sql(
CREATE INDEX papers_title_only ON papers(title_key) WHERE arxiv_id IS NULL;
)sql",
    // Change numbers let the search index catch up incrementally (last_change, for_each_change).
    // Papers stored before this version are numbered in store order.
    R"sql(
ALTER TABLE papers ADD COLUMN change_seq INTEGER NOT NULL DEFAULT 0;
UPDATE papers SET change_seq = id;
CREATE INDEX papers_change_seq ON papers(change_seq);
)sql",
    // Accounts, votes, comments, collections, submissions (sqlite_community.cc).
    kCommunitySchemaV1,
    // Digest subscriptions and the mail outbox (sqlite_subscriptions.cc).
    kSubscriptionSchemaV1,
    // Titles are found by a 64-bit hash of their key: an index of integers is a fifth the size of
    // one of key texts, so a bulk import's random inserts into it touch far fewer pages. Lookups
    // still compare the key itself. paperboy_title_hash is registered by prepare_schema.
    R"sql(
ALTER TABLE papers ADD COLUMN title_hash INTEGER NOT NULL DEFAULT 0;
UPDATE papers SET title_hash = paperboy_title_hash(title_key);
DROP INDEX papers_title_key;
DROP INDEX papers_title_only;
CREATE INDEX papers_title_hash ON papers(title_hash);
CREATE INDEX papers_title_only ON papers(title_hash) WHERE arxiv_id IS NULL;
)sql",
};
constexpr int kSchemaVersion = static_cast<int>(kMigrations.size());

// Every Paper field and its column (paper_columns.h) drives reading, writing and the SQL below.
using detail::Column;
using detail::kColumns;
// Parameters after the Paper fields in INSERT and UPDATE.
constexpr int kTitleKeyParam = kColumns.size() + 1;
constexpr int kEnteredAtParam = kColumns.size() + 2;
constexpr int kChangeParam = kColumns.size() + 3;
constexpr int kRowIdParam = kColumns.size() + 4;
constexpr int kTitleHashParam = kColumns.size() + 5;

// A paper matches a category filter when one of its categories equals it or lies in it.
constexpr const char* kCategoryFilter =
    "(?3 = '' OR EXISTS (SELECT 1 FROM json_each(papers.categories) "
    "WHERE value = ?3 OR substr(value, 1, length(?3) + 1) = ?3 || '.'))";

// Statement texts, built once from kColumns. Connections cache prepared statements by address.
struct Sql {
  std::string find_by_arxiv_id, merge_find_by_arxiv_id, find_by_title_key, find_title_only,
      all_title_only, insert, update, last_change, changes, feed_papers, feed_days, feed_day_before,
      feed_day_after, all_papers, upvoted_recent, upvoted_popular, stats;

  Sql() {
    std::string columns = "id";
    // Merges see imported upvotes only and updates add the local votes (sqlite_community.cc)
    // back, so upvotes stays imported + local and a re-import never counts a vote twice.
    std::string merge_columns = "id";
    std::string placeholders, assignments;
    for (size_t i = 0; i < kColumns.size(); ++i) {
      const bool upvotes = std::string_view(kColumns[i].name) == "upvotes";
      columns += fmt::format(", {}", kColumns[i].name);
      merge_columns +=
          upvotes ? ", upvotes - local_upvotes" : fmt::format(", {}", kColumns[i].name);
      placeholders += fmt::format("?{}, ", i + 1);
      assignments += upvotes ? fmt::format("upvotes = ?{} + local_upvotes, ", i + 1)
                             : fmt::format("{} = ?{}, ", kColumns[i].name, i + 1);
    }
    const std::string select = "SELECT " + columns + " FROM papers ";
    const std::string merge_select = "SELECT " + merge_columns + " FROM papers ";
    find_by_arxiv_id = select + "WHERE arxiv_id = ?1";
    merge_find_by_arxiv_id = merge_select + "WHERE arxiv_id = ?1";
    // Index hints fix the plans: unhinted, SQLite may walk every title-only paper through
    // arxiv_id IS NULL instead of searching the title key.
    find_by_title_key =
        merge_select +
        "INDEXED BY papers_title_hash WHERE title_hash = ?2 AND title_key = ?1 ORDER BY id LIMIT 1";
    find_title_only = merge_select +
                      "INDEXED BY papers_title_only WHERE title_hash = ?2 AND title_key = ?1 AND "
                      "arxiv_id IS NULL "
                      "ORDER BY id LIMIT 1";
    all_title_only = select + "INDEXED BY papers_title_only WHERE arxiv_id IS NULL";
    insert = fmt::format(
        "INSERT INTO papers (id, {}, title_key, entered_at, change_seq, title_hash) "
        "VALUES (NULL, {}?{}, ?{}, ?{}, ?{})",
        columns.substr(4), placeholders, kTitleKeyParam, kEnteredAtParam, kChangeParam,
        kTitleHashParam);
    update = fmt::format(
        "UPDATE papers SET {}title_key = ?{}, entered_at = ?{}, change_seq = ?{}, title_hash = ?{} "
        "WHERE id = ?{}",
        assignments, kTitleKeyParam, kEnteredAtParam, kChangeParam, kTitleHashParam, kRowIdParam);
    last_change = "SELECT coalesce(max(change_seq), 0) FROM papers";
    changes = select + "WHERE change_seq > ?1 AND change_seq <= ?2 ORDER BY change_seq";
    feed_papers = select + "WHERE feed_day >= ?1 AND feed_day <= ?2 AND " + kCategoryFilter;
    feed_days = "SELECT DISTINCT feed_day FROM papers WHERE feed_day IS NOT NULL ORDER BY feed_day";
    feed_day_before = std::string("SELECT feed_day FROM papers WHERE feed_day < ?1 AND ") +
                      kCategoryFilter + " ORDER BY feed_day DESC LIMIT 1";
    feed_day_after = std::string("SELECT feed_day FROM papers WHERE feed_day > ?1 AND ") +
                     kCategoryFilter + " ORDER BY feed_day LIMIT 1";
    all_papers = select + "ORDER BY id";
    // The two bounds prune differently: a low upvote floor over a short window is selective on
    // time, a high floor over all time on upvotes. Naming the index keeps the plan predictable.
    const std::string upvoted_where =
        "WHERE upvotes > 0 AND upvotes >= ?3 AND entered_at >= ?1 AND entered_at < ?2";
    upvoted_recent =
        "SELECT " + columns + " FROM papers INDEXED BY papers_upvoted_entered_at " + upvoted_where;
    upvoted_popular =
        "SELECT " + columns + " FROM papers INDEXED BY papers_upvotes " + upvoted_where;
    // One statement, so the figures describe one committed state. The health check calls this,
    // so each part ranges over an index; the total is counted as title-only papers plus papers
    // with an id because a plain count(*) may walk the bulky title-key index.
    stats =
        "SELECT (SELECT count(*) FROM papers WHERE arxiv_id IS NULL), "
        "(SELECT count(*) FROM papers WHERE arxiv_id IS NOT NULL), "
        "(SELECT count(*) FROM papers WHERE feed_day IS NOT NULL), "
        "(SELECT coalesce(sum(upvotes), 0) FROM papers WHERE upvotes > 0), "
        "(SELECT feed_day FROM papers WHERE feed_day IS NOT NULL ORDER BY feed_day LIMIT 1), "
        "(SELECT feed_day FROM papers WHERE feed_day IS NOT NULL ORDER BY feed_day DESC LIMIT 1), "
        "(SELECT count(DISTINCT feed_day) FROM papers WHERE feed_day IS NOT NULL)";
  }
};

const Sql& sql() {
  static const Sql instance;
  return instance;
}

std::string encode_list(const std::vector<std::string>& items) {
  return nlohmann::json(items).dump();
}

// Lists are written by encode_list; anything else (a hand-edited file) reads as what it can.
std::vector<std::string> decode_list(std::string_view text) {
  std::vector<std::string> items;
  auto json = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (!json.is_array()) return items;
  for (const auto& item : json)
    if (item.is_string()) items.push_back(item.get<std::string>());
  return items;
}

std::string column_text(sqlite3_stmt* statement, int index) {
  const auto* text = reinterpret_cast<const char*>(sqlite3_column_text(statement, index));
  if (text == nullptr) return {};
  return std::string(text, static_cast<size_t>(sqlite3_column_bytes(statement, index)));
}

// Reads the row produced by a `SELECT id, <kColumns>` statement.
Paper read_paper(sqlite3_stmt* statement) {
  Paper paper;
  for (size_t i = 0; i < kColumns.size(); ++i) {
    const int index = static_cast<int>(i) + 1;
    std::visit(
        [&](auto member) {
          using Value = std::remove_reference_t<decltype(paper.*member)>;
          if constexpr (std::is_same_v<Value, std::string>) {
            paper.*member = column_text(statement, index);
          } else if constexpr (std::is_same_v<Value, std::vector<std::string>>) {
            if (sqlite3_column_type(statement, index) != SQLITE_NULL)
              paper.*member = decode_list(column_text(statement, index));
          } else {
            paper.*member = static_cast<Value>(sqlite3_column_int64(statement, index));
          }
        },
        kColumns[i].field);
  }
  return paper;
}

// Binds every Paper field; empty strings and lists become NULL, so "unknown" has one spelling.
int bind_paper(sqlite3_stmt* statement, const Paper& paper) {
  for (size_t i = 0; i < kColumns.size(); ++i) {
    const int index = static_cast<int>(i) + 1;
    int rc = std::visit(
        [&](auto member) {
          const auto& value = paper.*member;
          using Value = std::remove_cvref_t<decltype(value)>;
          if constexpr (std::is_same_v<Value, std::string>) {
            if (value.empty()) return sqlite3_bind_null(statement, index);
            return sqlite3_bind_text(statement, index, value.data(), static_cast<int>(value.size()),
                                     SQLITE_STATIC);
          } else if constexpr (std::is_same_v<Value, std::vector<std::string>>) {
            if (value.empty()) return sqlite3_bind_null(statement, index);
            std::string json = encode_list(value);
            return sqlite3_bind_text(statement, index, json.data(), static_cast<int>(json.size()),
                                     SQLITE_TRANSIENT);
          } else {
            return sqlite3_bind_int64(statement, index, static_cast<sqlite3_int64>(value));
          }
        },
        kColumns[i].field);
    if (rc != SQLITE_OK) return rc;
  }
  return SQLITE_OK;
}

// Binds text, never NULL: SQLite reads a null pointer (an empty string_view's) as NULL.
int bind_text(sqlite3_stmt* statement, int index, std::string_view text) {
  return sqlite3_bind_text(statement, index, text.empty() ? "" : text.data(),
                           static_cast<int>(text.size()), SQLITE_STATIC);
}

int64_t unix_seconds(std::chrono::sys_seconds instant) {
  return instant.time_since_epoch().count();
}

class Statement {
 public:
  explicit Statement(sqlite3_stmt* statement) : statement_(statement) {}
  Statement(Statement&& other) noexcept : statement_(std::exchange(other.statement_, nullptr)) {}
  Statement& operator=(Statement&&) = delete;
  ~Statement() { sqlite3_finalize(statement_); }
  sqlite3_stmt* get() const { return statement_; }

 private:
  sqlite3_stmt* statement_;
};

// Resets a cached statement when its use ends, releasing its read snapshot and bindings.
class StatementUse {
 public:
  explicit StatementUse(sqlite3_stmt* statement) : statement_(statement) {}
  StatementUse(const StatementUse&) = delete;
  StatementUse& operator=(const StatementUse&) = delete;
  ~StatementUse() {
    sqlite3_reset(statement_);
    sqlite3_clear_bindings(statement_);
  }
  sqlite3_stmt* get() const { return statement_; }

 private:
  sqlite3_stmt* statement_;
};

class Connection {
 public:
  static Result<std::unique_ptr<Connection>> open(const std::string& path, int flags) {
    sqlite3* db = nullptr;
    int rc = sqlite3_open_v2(path.c_str(), &db, flags | SQLITE_OPEN_NOMUTEX, nullptr);
    auto connection = std::unique_ptr<Connection>(new Connection(db, path));
    if (rc != SQLITE_OK) return std::unexpected(connection->error("cannot open"));
    sqlite3_extended_result_codes(db, 1);
    // Another process (the CLI beside the server) may hold the write lock for a batch.
    sqlite3_busy_timeout(db, 10000);
    return connection;
  }

  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;
  ~Connection() {
    statements_.clear();
    sqlite3_close_v2(db_);
  }

  sqlite3* db() const { return db_; }

  // `text` must outlive the connection (the statements of sql()); prepared once, then reused.
  Result<sqlite3_stmt*> statement(const std::string& text) {
    auto found = statements_.find(&text);
    if (found != statements_.end()) return found->second.get();
    sqlite3_stmt* prepared = nullptr;
    if (sqlite3_prepare_v3(db_, text.c_str(), static_cast<int>(text.size()),
                           SQLITE_PREPARE_PERSISTENT, &prepared, nullptr) != SQLITE_OK)
      return std::unexpected(error("preparing a statement"));
    return statements_.emplace(&text, Statement(prepared)).first->second.get();
  }

  Result<void> exec(const std::string& text, std::string_view what) {
    if (sqlite3_exec(db_, text.c_str(), nullptr, nullptr, nullptr) != SQLITE_OK)
      return std::unexpected(error(what));
    return {};
  }

  // A single integer from a PRAGMA or query.
  Result<int64_t> query_int(const std::string& text, std::string_view what) {
    sqlite3_stmt* raw = nullptr;
    if (sqlite3_prepare_v2(db_, text.c_str(), -1, &raw, nullptr) != SQLITE_OK)
      return std::unexpected(error(what));
    Statement statement(raw);
    int rc = sqlite3_step(raw);
    if (rc == SQLITE_ROW) return sqlite3_column_int64(raw, 0);
    if (rc == SQLITE_DONE) return 0;
    return std::unexpected(error(what));
  }

  Error error(std::string_view what) const {
    return Error{fmt::format("{}: {}: {}", path_, what,
                             db_ == nullptr ? "out of memory" : sqlite3_errmsg(db_))};
  }

  bool in_transaction() const { return sqlite3_get_autocommit(db_) == 0; }

 private:
  Connection(sqlite3* db, std::string path) : db_(db), path_(std::move(path)) {}

  sqlite3* db_;
  std::string path_;
  std::unordered_map<const std::string*, Statement> statements_;
};

// Steps `statement` to the end, calling `on_row` for each row.
template <class OnRow>
Result<void> each_row(Connection& connection, sqlite3_stmt* statement, std::string_view what,
                      OnRow&& on_row) {
  for (;;) {
    int rc = sqlite3_step(statement);
    if (rc == SQLITE_ROW) {
      on_row(statement);
    } else if (rc == SQLITE_DONE) {
      return {};
    } else {
      return std::unexpected(connection.error(what));
    }
  }
}

struct StoredPaper {
  int64_t row_id = 0;
  Paper paper;
};

// Copies committed WAL frames into the database file on its own thread and connection, so that
// the writer seldom waits for a checkpoint's copying and fsyncs. A checkpoint is crash-safe at
// any point, and a passive one never blocks the writer or readers.
//
// SQLite restarts the log from its beginning only when a write transaction starts with every
// frame copied, which never happens while a busy writer commits batch after batch. So once the
// log passes kRestartBytes the writer copies the last frames itself before its next batch
// (writer_checkpoint), bounding the log; everything before them was copied in the background.
class Checkpointer {
 public:
  static constexpr int64_t kBackgroundBytes = int64_t{32} << 20;
  static constexpr int64_t kRestartBytes = int64_t{512} << 20;

  static Result<std::unique_ptr<Checkpointer>> start(const std::string& path) {
    auto connection = Connection::open(path, SQLITE_OPEN_READWRITE);
    if (!connection) return std::unexpected(connection.error());
    // A connection learns that the database is in WAL mode on its first read.
    if (auto read = (*connection)->query_int("PRAGMA user_version", "opening the checkpointer");
        !read)
      return std::unexpected(read.error());
    return std::unique_ptr<Checkpointer>(new Checkpointer(std::move(*connection)));
  }

  Checkpointer(const Checkpointer&) = delete;
  Checkpointer& operator=(const Checkpointer&) = delete;
  ~Checkpointer() {
    {
      std::lock_guard lock(mutex_);
      stopping_ = true;
    }
    wake_.notify_one();
    thread_.join();
  }

  // The writer's WAL hook, after each commit: the log's size in bytes.
  void committed(int64_t log_bytes) {
    log_bytes_ = log_bytes;
    if (log_bytes < kBackgroundBytes) return;
    {
      std::lock_guard lock(mutex_);
      requested_ = true;
    }
    wake_.notify_one();
  }

  // Before the writer's next batch: copies what the background has not, once the log is long.
  void writer_checkpoint(sqlite3* writer) {
    if (log_bytes_ < kRestartBytes) return;
    std::lock_guard lock(checkpoint_mutex_);
    sqlite3_wal_checkpoint_v2(writer, "main", SQLITE_CHECKPOINT_PASSIVE, nullptr, nullptr);
    log_bytes_ = 0;
  }

 private:
  explicit Checkpointer(std::unique_ptr<Connection> connection)
      : connection_(std::move(connection)) {
    // The thread takes no signals, so they reach the threads the program set up for them (the
    // server waits for SIGTERM on its own thread; here the default action would end the process).
    sigset_t all_signals, previous;
    sigfillset(&all_signals);
    pthread_sigmask(SIG_BLOCK, &all_signals, &previous);
    thread_ = std::thread([this] { run(); });
    pthread_sigmask(SIG_SETMASK, &previous, nullptr);
  }

  void run() {
    std::unique_lock lock(mutex_);
    for (;;) {
      wake_.wait(lock, [this] { return requested_ || stopping_; });
      if (stopping_) return;
      requested_ = false;
      lock.unlock();
      {
        // A failed checkpoint (a full disk) leaves the frames in the log, where they stay valid.
        std::lock_guard checkpointing(checkpoint_mutex_);
        sqlite3_wal_checkpoint_v2(connection_->db(), "main", SQLITE_CHECKPOINT_PASSIVE, nullptr,
                                  nullptr);
      }
      lock.lock();
    }
  }

  std::unique_ptr<Connection> connection_;
  int64_t log_bytes_ = 0;        // the writer's side only
  std::mutex checkpoint_mutex_;  // one checkpoint at a time in this process
  std::mutex mutex_;
  std::condition_variable wake_;
  bool requested_ = false;
  bool stopping_ = false;
  std::thread thread_;
};

class SqliteStore final : public Store {
 public:
  SqliteStore(std::string path, std::unique_ptr<Connection> writer,
              std::unique_ptr<Checkpointer> checkpointer, int64_t page_size)
      : path_(std::move(path)),
        checkpointer_(std::move(checkpointer)),
        writer_(std::move(writer)),
        page_size_(page_size) {
    // Replaces SQLite's own checkpoint-on-commit, which would copy on the writer's thread.
    sqlite3_wal_hook(
        writer_->db(),
        [](void* store, sqlite3*, const char*, int wal_pages) {
          auto* self = static_cast<SqliteStore*>(store);
          self->checkpointer_->committed(int64_t{wal_pages} * self->page_size_);
          return SQLITE_OK;
        },
        this);
  }

  ~SqliteStore() override { rollback_batch(); }

  // A batch opened by another thread is waited for; one opened by this thread is an error (it
  // would never close).
  Result<void> begin_batch() override {
    std::unique_lock lock(write_mutex_);
    if (batch_open_ && batch_owner_ == std::this_thread::get_id())
      return fail(path_ + ": begin_batch: this thread already has a batch open");
    batch_closed_.wait(lock, [this] { return !batch_open_; });
    checkpointer_->writer_checkpoint(writer_->db());
    if (auto done = writer_->exec("BEGIN IMMEDIATE", "begin_batch"); !done) return done;
    // Read under the write lock, so numbers stay in commit order even with other processes.
    auto last = writer_->query_int(sql().last_change, "begin_batch");
    if (!last) {
      writer_->exec("ROLLBACK", "begin_batch");
      return std::unexpected(last.error());
    }
    last_change_ = *last;
    batch_open_ = true;
    batch_owner_ = std::this_thread::get_id();
    return {};
  }

  Result<void> commit_batch() override {
    std::lock_guard lock(write_mutex_);
    if (!batch_open_) return fail(path_ + ": commit_batch: no batch is open");
    auto done = writer_->exec("COMMIT", "commit_batch");
    if (!done) {
      abandon_batch();
      done.error().message += "; the batch was rolled back";
    }
    close_batch();
    return done;
  }

  void rollback_batch() override {
    std::lock_guard lock(write_mutex_);
    abandon_batch();
  }

  Result<UpsertOutcome> upsert(const Paper& paper) override {
    std::lock_guard lock(write_mutex_);
    if (!batch_open_) return fail(path_ + ": upsert outside a batch; call begin_batch() first");

    // Normalise the arXiv id without copying the record when it is already normal.
    const Paper* record = &paper;
    Paper normalised;
    if (!paper.arxiv_id.empty()) {
      auto parsed = parse_arxiv_id(paper.arxiv_id);
      if (!parsed)
        return fail(fmt::format("{}: upsert: arxiv_id \"{}\" is not an arXiv identifier", path_,
                                paper.arxiv_id));
      if (parsed->id != paper.arxiv_id || parsed->version > paper.version) {
        normalised = paper;
        normalised.arxiv_id = parsed->id;
        normalised.version = std::max(paper.version, parsed->version);
        record = &normalised;
      }
    }

    std::string key;
    std::optional<StoredPaper> stored;
    if (!record->arxiv_id.empty()) {
      auto found = lookup(sql().merge_find_by_arxiv_id, record->arxiv_id, false);
      if (!found) return abandon_with(found.error());
      stored = std::move(*found);
      if (!stored) {
        key = fast_title_key(record->title);
        if (!key.empty()) {
          auto adoptable = lookup(sql().find_title_only, key, true);
          if (!adoptable) return abandon_with(adoptable.error());
          stored = std::move(*adoptable);
        }
      }
    } else {
      key = fast_title_key(record->title);
      if (key.empty())
        return fail(fmt::format(
            "{}: upsert: record has no arXiv id and its title \"{}\" has no letters or digits",
            path_, record->title));
      auto found = lookup(sql().find_by_title_key, key, true);
      if (!found) return abandon_with(found.error());
      stored = std::move(*found);
    }

    if (!stored) {
      if (auto written = write(sql().insert, *record, key, std::nullopt); !written)
        return abandon_with(written.error());
      return UpsertOutcome::added;
    }
    const std::string old_title = stored->paper.title;
    if (!merge_paper(stored->paper, *record)) return UpsertOutcome::unchanged;
    if (stored->paper.title != old_title || key.empty()) key = fast_title_key(stored->paper.title);
    if (auto written = write(sql().update, stored->paper, key, stored->row_id); !written)
      return abandon_with(written.error());
    return UpsertOutcome::updated;
  }

  Result<std::optional<Paper>> find(std::string_view id) override {
    auto reader = acquire_reader();
    if (!reader) return std::unexpected(reader.error());
    Connection& connection = *reader->connection;
    if (id.starts_with("title-")) {
      auto statement = connection.statement(sql().all_title_only);
      if (!statement) return std::unexpected(statement.error());
      StatementUse use(*statement);
      std::optional<Paper> match;
      auto done = each_row(connection, use.get(), "find", [&](sqlite3_stmt* row) {
        if (match) return;
        Paper paper = read_paper(row);
        if (paper_id(paper) == id) match = std::move(paper);
      });
      if (!done) return std::unexpected(done.error());
      return match;
    }
    auto parsed = parse_arxiv_id(id);
    if (!parsed) return std::optional<Paper>();
    auto statement = connection.statement(sql().find_by_arxiv_id);
    if (!statement) return std::unexpected(statement.error());
    StatementUse use(*statement);
    bind_text(use.get(), 1, parsed->id);
    std::optional<Paper> match;
    auto done = each_row(connection, use.get(), "find",
                         [&](sqlite3_stmt* row) { match = read_paper(row); });
    if (!done) return std::unexpected(done.error());
    return match;
  }

  Result<uint64_t> last_change() override {
    auto reader = acquire_reader();
    if (!reader) return std::unexpected(reader.error());
    auto last = reader->connection->query_int(sql().last_change, "last_change");
    if (!last) return std::unexpected(last.error());
    return static_cast<uint64_t>(*last);
  }

  Result<void> for_each_change(uint64_t after, uint64_t up_to,
                               const std::function<void(const Paper&)>& visit) override {
    auto reader = acquire_reader();
    if (!reader) return std::unexpected(reader.error());
    auto statement = reader->connection->statement(sql().changes);
    if (!statement) return std::unexpected(statement.error());
    StatementUse use(*statement);
    const auto clamp = [](uint64_t value) {
      return static_cast<sqlite3_int64>(
          std::min<uint64_t>(value, std::numeric_limits<sqlite3_int64>::max()));
    };
    sqlite3_bind_int64(use.get(), 1, clamp(after));
    sqlite3_bind_int64(use.get(), 2, clamp(up_to));
    return each_row(*reader->connection, use.get(), "for_each_change",
                    [&](sqlite3_stmt* row) { visit(read_paper(row)); });
  }

  Result<std::vector<Paper>> feed_papers(std::string_view first_day, std::string_view last_day,
                                         std::string_view category) override {
    return read_papers(sql().feed_papers, "feed_papers", [&](sqlite3_stmt* statement) {
      bind_text(statement, 1, first_day);
      bind_text(statement, 2, last_day);
      bind_text(statement, 3, category);
    });
  }

  Result<std::vector<std::string>> feed_days() override {
    auto reader = acquire_reader();
    if (!reader) return std::unexpected(reader.error());
    auto statement = reader->connection->statement(sql().feed_days);
    if (!statement) return std::unexpected(statement.error());
    StatementUse use(*statement);
    std::vector<std::string> days;
    auto done = each_row(*reader->connection, use.get(), "feed_days",
                         [&](sqlite3_stmt* row) { days.push_back(column_text(row, 0)); });
    if (!done) return std::unexpected(done.error());
    return days;
  }

  Result<void> for_each_paper(const std::function<void(const Paper&)>& visit) override {
    auto reader = acquire_reader();
    if (!reader) return std::unexpected(reader.error());
    auto statement = reader->connection->statement(sql().all_papers);
    if (!statement) return std::unexpected(statement.error());
    StatementUse use(*statement);
    return each_row(*reader->connection, use.get(), "for_each_paper",
                    [&](sqlite3_stmt* row) { visit(read_paper(row)); });
  }

  Result<StoreStats> stats() override {
    auto reader = acquire_reader();
    if (!reader) return std::unexpected(reader.error());
    auto statement = reader->connection->statement(sql().stats);
    if (!statement) return std::unexpected(statement.error());
    StatementUse use(*statement);
    StoreStats stats;
    stats.schema_version = kSchemaVersion;
    auto done = each_row(*reader->connection, use.get(), "stats", [&](sqlite3_stmt* row) {
      stats.papers_with_arxiv_id = sqlite3_column_int64(row, 1);
      stats.papers = sqlite3_column_int64(row, 0) + stats.papers_with_arxiv_id;
      stats.papers_in_feed = sqlite3_column_int64(row, 2);
      stats.total_upvotes = sqlite3_column_int64(row, 3);
      stats.first_feed_day = column_text(row, 4);
      stats.last_feed_day = column_text(row, 5);
      stats.feed_days = sqlite3_column_int64(row, 6);
    });
    if (!done) return std::unexpected(done.error());
    return stats;
  }

  Result<std::optional<std::string>> feed_day_before(std::string_view day,
                                                     std::string_view category) override {
    return neighbour_day(sql().feed_day_before, day, category);
  }

  Result<std::optional<std::string>> feed_day_after(std::string_view day,
                                                    std::string_view category) override {
    return neighbour_day(sql().feed_day_after, day, category);
  }

  Result<std::vector<Paper>> upvoted_papers(std::chrono::sys_seconds from,
                                            std::chrono::sys_seconds to,
                                            int64_t min_upvotes) override {
    const std::string& text = min_upvotes > 1 ? sql().upvoted_popular : sql().upvoted_recent;
    return read_papers(text, "upvoted_papers", [&](sqlite3_stmt* statement) {
      sqlite3_bind_int64(statement, 1, unix_seconds(from));
      sqlite3_bind_int64(statement, 2, unix_seconds(to));
      sqlite3_bind_int64(statement, 3, min_upvotes);
    });
  }

 private:
  // A read connection on loan from the pool; returned when the lease ends.
  struct ReaderLease {
    SqliteStore* store = nullptr;
    std::unique_ptr<Connection> connection;
    ReaderLease(SqliteStore* owner, std::unique_ptr<Connection> leased)
        : store(owner), connection(std::move(leased)) {}
    ReaderLease(ReaderLease&& other) noexcept
        : store(std::exchange(other.store, nullptr)), connection(std::move(other.connection)) {}
    ReaderLease& operator=(ReaderLease&&) = delete;
    ~ReaderLease() {
      if (store != nullptr && connection != nullptr) store->release_reader(std::move(connection));
    }
  };

  Result<ReaderLease> acquire_reader() {
    {
      std::lock_guard lock(readers_mutex_);
      if (!idle_readers_.empty()) {
        auto connection = std::move(idle_readers_.back());
        idle_readers_.pop_back();
        return ReaderLease(this, std::move(connection));
      }
    }
    auto connection = Connection::open(path_, SQLITE_OPEN_READWRITE);
    if (!connection) return std::unexpected(connection.error());
    if (auto done = (*connection)->exec("PRAGMA query_only = ON", "opening a reader"); !done)
      return std::unexpected(done.error());
    return ReaderLease(this, std::move(*connection));
  }

  void release_reader(std::unique_ptr<Connection> connection) {
    // Keep a few warm connections for the server's thread pool; close the rest.
    constexpr size_t kMaxIdleReaders = 8;
    std::lock_guard lock(readers_mutex_);
    if (idle_readers_.size() < kMaxIdleReaders) idle_readers_.push_back(std::move(connection));
  }

  template <class Bind>
  Result<std::vector<Paper>> read_papers(const std::string& text, std::string_view what,
                                         Bind&& bind) {
    auto reader = acquire_reader();
    if (!reader) return std::unexpected(reader.error());
    auto statement = reader->connection->statement(text);
    if (!statement) return std::unexpected(statement.error());
    StatementUse use(*statement);
    bind(use.get());
    std::vector<Paper> papers;
    auto done = each_row(*reader->connection, use.get(), what,
                         [&](sqlite3_stmt* row) { papers.push_back(read_paper(row)); });
    if (!done) return std::unexpected(done.error());
    return papers;
  }

  Result<std::optional<std::string>> neighbour_day(const std::string& text, std::string_view day,
                                                   std::string_view category) {
    auto reader = acquire_reader();
    if (!reader) return std::unexpected(reader.error());
    auto statement = reader->connection->statement(text);
    if (!statement) return std::unexpected(statement.error());
    StatementUse use(*statement);
    bind_text(use.get(), 1, day);
    bind_text(use.get(), 3, category);
    std::optional<std::string> found;
    auto done = each_row(*reader->connection, use.get(), "feed_day_before/after",
                         [&](sqlite3_stmt* row) { found = column_text(row, 0); });
    if (!done) return std::unexpected(done.error());
    return found;
  }

  // Writer-side lookup (sees the open batch) of an arXiv id, or of a title key and its hash.
  // REQUIRES: write_mutex_ held.
  Result<std::optional<StoredPaper>> lookup(const std::string& text, std::string_view value,
                                            bool by_title_key) {
    auto statement = writer_->statement(text);
    if (!statement) return std::unexpected(statement.error());
    StatementUse use(*statement);
    bind_text(use.get(), 1, value);
    if (by_title_key) sqlite3_bind_int64(use.get(), 2, title_key_hash(value));
    std::optional<StoredPaper> found;
    auto done = each_row(*writer_, use.get(), "upsert: lookup", [&](sqlite3_stmt* row) {
      found = StoredPaper{sqlite3_column_int64(row, 0), read_paper(row)};
    });
    if (!done) return std::unexpected(done.error());
    return found;
  }

  // Runs INSERT (row_id empty) or UPDATE. REQUIRES: write_mutex_ held.
  Result<void> write(const std::string& text, const Paper& paper, const std::string& key,
                     std::optional<int64_t> row_id) {
    auto statement = writer_->statement(text);
    if (!statement) return std::unexpected(statement.error());
    StatementUse use(*statement);
    int rc = bind_paper(use.get(), paper);
    if (rc == SQLITE_OK) rc = bind_text(use.get(), kTitleKeyParam, key);
    if (rc == SQLITE_OK) {
      auto entered = entered_feed_at(paper);
      rc = entered ? sqlite3_bind_int64(use.get(), kEnteredAtParam, unix_seconds(*entered))
                   : sqlite3_bind_null(use.get(), kEnteredAtParam);
    }
    if (rc == SQLITE_OK) rc = sqlite3_bind_int64(use.get(), kChangeParam, ++last_change_);
    if (rc == SQLITE_OK) rc = sqlite3_bind_int64(use.get(), kTitleHashParam, title_key_hash(key));
    if (rc == SQLITE_OK && row_id) rc = sqlite3_bind_int64(use.get(), kRowIdParam, *row_id);
    if (rc == SQLITE_OK) rc = sqlite3_step(use.get());
    if (rc != SQLITE_DONE)
      return std::unexpected(writer_->error(fmt::format("upsert {}", paper_id(paper))));
    return {};
  }

  // REQUIRES: write_mutex_ held.
  void close_batch() {
    batch_open_ = false;
    batch_closed_.notify_all();
  }

  // REQUIRES: write_mutex_ held.
  void abandon_batch() {
    if (writer_->in_transaction()) writer_->exec("ROLLBACK", "rollback_batch");
    close_batch();
  }

  std::unexpected<Error> abandon_with(Error error) {
    abandon_batch();
    error.message += "; the batch was rolled back";
    return std::unexpected(std::move(error));
  }

  std::string path_;
  std::mutex write_mutex_;
  std::unique_ptr<Checkpointer> checkpointer_;  // outlives writer_, whose hook calls it
  std::unique_ptr<Connection> writer_;
  int64_t page_size_;
  bool batch_open_ = false;
  int64_t last_change_ = 0;  // the change number of the latest write in the open batch
  std::thread::id batch_owner_;
  std::condition_variable batch_closed_;
  std::mutex readers_mutex_;
  std::vector<std::unique_ptr<Connection>> idle_readers_;
};

// paperboy_title_hash(title_key) in SQL, for the migration that adds title_hash.
void sql_title_hash(sqlite3_context* context, int, sqlite3_value** values) {
  const auto* text = reinterpret_cast<const char*>(sqlite3_value_text(values[0]));
  const std::string_view key =
      text == nullptr ? std::string_view()
                      : std::string_view(text, static_cast<size_t>(sqlite3_value_bytes(values[0])));
  sqlite3_result_int64(context, title_key_hash(key));
}

// Checks the file is a paperboy store (or empty) no newer than this binary, then migrates it.
Result<void> prepare_schema(Connection& connection, const std::string& path) {
  auto application_id = connection.query_int("PRAGMA application_id", "reading the header");
  if (!application_id) {
    if (sqlite3_errcode(connection.db()) == SQLITE_NOTADB)
      return fail(path + ": not a SQLite database, so not a paperboy store");
    return std::unexpected(application_id.error());
  }
  auto version = connection.query_int("PRAGMA user_version", "reading the schema version");
  if (!version) return std::unexpected(version.error());
  auto tables = connection.query_int("SELECT count(*) FROM sqlite_schema", "reading the schema");
  if (!tables) return std::unexpected(tables.error());
  const bool empty = *application_id == 0 && *version == 0 && *tables == 0;
  if (*application_id != kApplicationId && !empty)
    return fail(fmt::format(
        "{}: a SQLite database but not a paperboy store (application_id {:#x}, {} schema objects)",
        path, *application_id, *tables));
  if (*version > kSchemaVersion)
    return fail(fmt::format(
        "{}: store schema version {} is newer than this paperboy understands ({}); use a newer "
        "paperboy",
        path, *version, kSchemaVersion));

  // Set before the first write creates the file: an arXiv record (about 1.8 KB) fills a 4 KiB
  // page twice and wastes the rest; 16 KiB pages hold eight with little waste and a bulk import
  // writes a fifth less. Existing stores keep their page size.
  if (empty)
    if (auto sized = connection.exec("PRAGMA page_size = 16384", "setting the page size"); !sized)
      return sized;
  if (sqlite3_create_function(connection.db(), "paperboy_title_hash", 1,
                              SQLITE_UTF8 | SQLITE_DETERMINISTIC, nullptr, sql_title_hash, nullptr,
                              nullptr) != SQLITE_OK)
    return std::unexpected(connection.error("registering paperboy_title_hash"));
  auto mode = connection.exec("PRAGMA journal_mode = WAL", "switching to WAL");
  if (!mode) return mode;
  if (auto sync = connection.exec("PRAGMA synchronous = NORMAL", "setting synchronous"); !sync)
    return sync;
  if (*version == kSchemaVersion) return {};

  if (auto begun = connection.exec("BEGIN IMMEDIATE", "migrating"); !begun) return begun;
  auto migrate = [&]() -> Result<void> {
    // Re-read inside the write lock: another process may have migrated meanwhile.
    auto current = connection.query_int("PRAGMA user_version", "migrating");
    if (!current) return std::unexpected(current.error());
    for (auto step = *current; step < kSchemaVersion; ++step) {
      auto applied = connection.exec(kMigrations[static_cast<size_t>(step)],
                                     fmt::format("migrating to schema version {}", step + 1));
      if (!applied) return applied;
    }
    if (auto marked =
            connection.exec(fmt::format("PRAGMA application_id = {}", kApplicationId), "migrating");
        !marked)
      return marked;
    return connection.exec(fmt::format("PRAGMA user_version = {}", kSchemaVersion), "migrating");
  };
  auto migrated = migrate();
  if (!migrated) {
    connection.exec("ROLLBACK", "migrating");
    return migrated;
  }
  return connection.exec("COMMIT", "migrating");
}

}  // namespace

Result<std::unique_ptr<Store>> open_sqlite_store(const std::filesystem::path& path,
                                                 const SqliteOptions& options) {
  const std::string name = path.string();
  if (path.has_parent_path()) {
    std::error_code error;
    std::filesystem::create_directories(path.parent_path(), error);
    if (error) return fail(fmt::format("{}: cannot create its folder: {}", name, error.message()));
  }
  auto writer = Connection::open(name, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE);
  if (!writer) return std::unexpected(writer.error());
  if (auto prepared = prepare_schema(**writer, name); !prepared)
    return std::unexpected(prepared.error());
  // Bulk imports: a larger page cache keeps index pages in memory. Checkpoints are the
  // Checkpointer's (SqliteStore installs it as the WAL hook, replacing wal_autocheckpoint).
  if (auto cache = (*writer)->exec("PRAGMA cache_size = -65536; "
                                   "PRAGMA journal_size_limit = 67108864",
                                   "tuning the writer");
      !cache)
    return std::unexpected(cache.error());
  auto page_size = (*writer)->query_int("PRAGMA page_size", "reading the page size");
  if (!page_size) return std::unexpected(page_size.error());
  if (options.max_file_bytes > 0) {
    auto limited =
        (*writer)->exec(fmt::format("PRAGMA max_page_count = {}",
                                    std::max<int64_t>(1, options.max_file_bytes / *page_size)),
                        "limiting the file size");
    if (!limited) return std::unexpected(limited.error());
  }
  auto checkpointer = Checkpointer::start(name);
  if (!checkpointer) return std::unexpected(checkpointer.error());
  return std::make_unique<SqliteStore>(name, std::move(*writer), std::move(*checkpointer),
                                       *page_size);
}

}  // namespace paperboy::store
