// The PostgreSQL backend of the store: the papers table beside the community tables in one
// database, so several nodes share one system of record. Merging happens here in C++ with the
// same merge_paper as SQLite; a batch is one transaction that holds the change numbering's row
// lock from begin to commit, so change numbers commit in order across nodes and a follower
// never skips one.
#include <fmt/format.h>

#include <array>
#include <condition_variable>
#include <limits>
#include <mutex>
#include <nlohmann/json.hpp>
#include <thread>
#include <utility>
#include <variant>

#include "core/arxiv_id.h"
#include "store/fast_keys.h"
#include "store/paper_columns.h"
#include "store/pg_access.h"
#include "store/pg_pool.h"
#include "store/store.h"

namespace paperboy::store {

namespace {

// Versions of the "papers" component; append, never edit.
constexpr std::array<pg::Migration, 1> kMigrations = {{
    {1, R"sql(
CREATE TABLE papers (
  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  arxiv_id text COLLATE "C",
  version integer NOT NULL DEFAULT 0,
  doi text,
  title text,
  abstract text,
  authors jsonb,
  author_count integer NOT NULL DEFAULT 0,
  categories jsonb,
  published text COLLATE "C",
  updated text COLLATE "C",
  feed_day text COLLATE "C",
  submitted_at text COLLATE "C",
  comments text,
  journal_ref text,
  license text,
  code_url text,
  project_url text,
  github_stars bigint NOT NULL DEFAULT 0,
  upvotes bigint NOT NULL DEFAULT 0,
  num_comments bigint NOT NULL DEFAULT 0,
  submitted_by text,
  organization text,
  ai_summary text,
  ai_keywords jsonb,
  source text,
  title_key text COLLATE "C" NOT NULL,
  entered_at bigint,
  change_seq bigint NOT NULL,
  -- Votes cast here (the community tables); upvotes = imported + local_upvotes.
  local_upvotes bigint NOT NULL DEFAULT 0
);
CREATE UNIQUE INDEX papers_arxiv_id ON papers (arxiv_id);
-- Hash indexes: titles are only ever looked up by equality, and a hash entry is a fraction of
-- the size of a btree entry holding the whole key.
CREATE INDEX papers_title_key ON papers USING hash (title_key);
CREATE INDEX papers_title_only ON papers (title_key) WHERE arxiv_id IS NULL;
CREATE INDEX papers_feed_day ON papers (feed_day) WHERE feed_day IS NOT NULL;
CREATE INDEX papers_upvotes ON papers (upvotes) WHERE upvotes > 0;
CREATE INDEX papers_upvoted_entered_at ON papers (entered_at) WHERE upvotes > 0;
CREATE INDEX papers_change_seq ON papers (change_seq);
-- The change numbering: one row, locked by whoever numbers changes until they commit.
CREATE TABLE paper_changes (
  id integer PRIMARY KEY CHECK (id = 1),
  last_change bigint NOT NULL
);
INSERT INTO paper_changes VALUES (1, 0);
CREATE FUNCTION paperboy_next_change() RETURNS bigint LANGUAGE sql VOLATILE AS
  $$UPDATE paper_changes SET last_change = last_change + 1 WHERE id = 1 RETURNING last_change$$;
)sql"},
}};

// Every Paper field and its column, in the order of the SELECT lists and parameters below.
using detail::Column;
using detail::kColumns;
// Parameters after the Paper fields in INSERT and UPDATE.
constexpr size_t kTitleKeyParam = kColumns.size() + 1;
constexpr size_t kEnteredAtParam = kColumns.size() + 2;
constexpr size_t kChangeParam = kColumns.size() + 3;
constexpr size_t kRowIdParam = kColumns.size() + 4;

// A paper matches a category filter (parameter $`param`) when one of its categories equals it
// or lies in it.
std::string category_filter(int param) {
  return fmt::format(
      "(${0} = '' OR EXISTS (SELECT 1 FROM jsonb_array_elements_text(papers.categories) c "
      "WHERE c = ${0} OR left(c, length(${0}) + 1) = ${0} || '.'))",
      param);
}

// Rows read per round trip when streaming every paper or every change.
constexpr int kPageRows = 2000;

// Statement texts, built once from kColumns. Each SELECT lists id, then kColumns.
struct Sql {
  std::string find_by_arxiv_id, merge_lookup, merge_by_title_key, all_title_only, insert, update,
      papers_after, last_change, changes, feed_papers, feed_days, feed_day_before, feed_day_after,
      upvoted, stats;

  Sql() {
    std::string columns = "id";
    // Merges see imported upvotes only and updates add the local votes back, so upvotes stays
    // imported + local and a re-import never counts a vote twice.
    std::string merge_columns = "id";
    std::string names, placeholders, assignments;
    for (size_t i = 0; i < kColumns.size(); ++i) {
      const std::string_view name = kColumns[i].name;
      const bool upvotes = name == "upvotes";
      columns += fmt::format(", {}", name);
      merge_columns += upvotes ? ", upvotes - local_upvotes" : fmt::format(", {}", name);
      names += fmt::format("{}, ", name);
      placeholders += fmt::format("${}, ", i + 1);
      assignments += upvotes ? fmt::format("upvotes = ${} + local_upvotes, ", i + 1)
                             : fmt::format("{} = ${}, ", name, i + 1);
    }
    const std::string select = "SELECT " + columns + " FROM papers ";
    const std::string merge_select = "SELECT " + merge_columns + " FROM papers ";
    find_by_arxiv_id = select + "WHERE arxiv_id = $1";
    // One round trip for both lookups of a record with an arXiv id: the paper with that id, else
    // the oldest title-only paper it adopts. The trailing rank column orders the two.
    merge_lookup = "(SELECT " + merge_columns + ", 0 AS rank FROM papers WHERE arxiv_id = $1) " +
                   "UNION ALL (SELECT " + merge_columns +
                   ", 1 FROM papers WHERE arxiv_id IS NULL AND title_key = $2 AND $2 <> '' "
                   "ORDER BY id LIMIT 1) ORDER BY rank LIMIT 1";
    merge_by_title_key = merge_select + "WHERE title_key = $1 ORDER BY id LIMIT 1";
    all_title_only = select + "WHERE arxiv_id IS NULL";
    insert = fmt::format(
        "INSERT INTO papers ({}title_key, entered_at, change_seq) VALUES ({}${}, ${}, ${})", names,
        placeholders, kTitleKeyParam, kEnteredAtParam, kChangeParam);
    update = fmt::format(
        "UPDATE papers SET {}title_key = ${}, entered_at = ${}, change_seq = ${} WHERE id = ${}",
        assignments, kTitleKeyParam, kEnteredAtParam, kChangeParam, kRowIdParam);
    last_change = "SELECT last_change FROM paper_changes WHERE id = 1";
    papers_after = select + fmt::format("WHERE id > $1 ORDER BY id LIMIT {}", kPageRows);
    changes = fmt::format(
        "SELECT {}, change_seq FROM papers WHERE change_seq > $1 AND change_seq <= $2 "
        "ORDER BY change_seq LIMIT {}",
        columns, kPageRows);
    feed_papers = select + "WHERE feed_day >= $1 AND feed_day <= $2 AND " + category_filter(3);
    feed_days = "SELECT DISTINCT feed_day FROM papers WHERE feed_day IS NOT NULL ORDER BY feed_day";
    feed_day_before = "SELECT feed_day FROM papers WHERE feed_day < $1 AND " + category_filter(2) +
                      " ORDER BY feed_day DESC LIMIT 1";
    feed_day_after = "SELECT feed_day FROM papers WHERE feed_day > $1 AND " + category_filter(2) +
                     " ORDER BY feed_day LIMIT 1";
    upvoted =
        select + "WHERE upvotes > 0 AND upvotes >= $3 AND entered_at >= $1 AND entered_at < $2";
    // One statement, so the figures describe one committed state.
    stats =
        "SELECT (SELECT count(*) FROM papers), "
        "(SELECT count(*) FROM papers WHERE arxiv_id IS NOT NULL), "
        "(SELECT count(*) FROM papers WHERE feed_day IS NOT NULL), "
        "(SELECT coalesce(sum(upvotes), 0) FROM papers WHERE upvotes > 0), "
        "(SELECT min(feed_day) FROM papers), (SELECT max(feed_day) FROM papers), "
        "(SELECT count(DISTINCT feed_day) FROM papers)";
  }
};

const Sql& sql() {
  static const Sql instance;
  return instance;
}

// Lists are written as JSON arrays; anything else (a hand-edited row) reads as what it can.
std::vector<std::string> decode_list(std::string_view text) {
  std::vector<std::string> items;
  auto json = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (!json.is_array()) return items;
  for (const auto& item : json)
    if (item.is_string()) items.push_back(item.get<std::string>());
  return items;
}

// Reads row `row` of a `SELECT id, <kColumns>` result.
Paper read_paper(const pg::Rows& rows, int row) {
  Paper paper;
  for (size_t i = 0; i < kColumns.size(); ++i) {
    const int column = static_cast<int>(i) + 1;
    if (rows.is_null(row, column)) continue;
    std::visit(
        [&](auto member) {
          using Value = std::remove_reference_t<decltype(paper.*member)>;
          if constexpr (std::is_same_v<Value, std::string>) {
            paper.*member = std::string(rows.text(row, column));
          } else if constexpr (std::is_same_v<Value, std::vector<std::string>>) {
            paper.*member = decode_list(rows.text(row, column));
          } else {
            paper.*member = static_cast<Value>(rows.integer(row, column));
          }
        },
        kColumns[i].field);
  }
  return paper;
}

// Every Paper field as a parameter; empty strings and lists become NULL, so "unknown" has one
// spelling.
std::vector<pg::Param> paper_params(const Paper& paper) {
  std::vector<pg::Param> params;
  params.reserve(kRowIdParam);
  for (const Column& column : kColumns) {
    std::visit(
        [&](auto member) {
          const auto& value = paper.*member;
          using Value = std::remove_cvref_t<decltype(value)>;
          if constexpr (std::is_same_v<Value, std::string>) {
            params.emplace_back(value.empty() ? pg::Param(std::nullopt) : pg::Param(value));
          } else if constexpr (std::is_same_v<Value, std::vector<std::string>>) {
            params.emplace_back(value.empty() ? pg::Param(std::nullopt)
                                              : pg::Param(nlohmann::json(value).dump()));
          } else {
            params.emplace_back(value);
          }
        },
        column.field);
  }
  return params;
}

int64_t clamp_change(uint64_t value) {
  return static_cast<int64_t>(std::min<uint64_t>(value, std::numeric_limits<int64_t>::max()));
}

struct StoredPaper {
  int64_t row_id;
  Paper paper;
};

class PostgresStore final : public Store {
 public:
  PostgresStore(std::string url, std::unique_ptr<pg::Connection> writer, int schema_version)
      : name_(pg::redact_url(url)),
        writer_(std::move(writer)),
        readers_(std::move(url), kReaders),
        schema_version_(schema_version) {}

  ~PostgresStore() override { rollback_batch(); }

  // A batch opened by another thread is waited for; one opened by this thread is an error (it
  // would never close).
  Result<void> begin_batch() override {
    std::unique_lock lock(write_mutex_);
    if (batch_open_ && batch_owner_ == std::this_thread::get_id())
      return fail(name_ + ": begin_batch: this thread already has a batch open");
    batch_closed_.wait(lock, [this] { return !batch_open_; });
    // A server restart or network drop breaks the connection; a long-running node reconnects.
    if (writer_->broken()) {
      auto reopened = pg::Connection::open(readers_.url());
      if (!reopened) return std::unexpected(reopened.error());
      writer_ = std::move(*reopened);
    }
    if (auto begun = writer_->exec("begin_batch", "BEGIN"); !begun) return begun;
    // Holding the numbering's row lock until commit keeps numbers in commit order across
    // nodes, and makes batches of several nodes take turns, so merges see each other's papers.
    auto last = writer_->query("begin_batch", kPostgresLockChangesSql);
    if (!last || last->empty()) {
      (void)writer_->exec("begin_batch", "ROLLBACK");
      if (!last) return std::unexpected(last.error());
      return fail(name_ + ": begin_batch: the paper_changes row is missing");
    }
    first_change_ = last_change_ = last->integer(0, 0);
    batch_open_ = true;
    batch_owner_ = std::this_thread::get_id();
    return {};
  }

  Result<void> commit_batch() override {
    std::lock_guard lock(write_mutex_);
    if (!batch_open_) return fail(name_ + ": commit_batch: no batch is open");
    auto committed = [&]() -> Result<void> {
      if (last_change_ != first_change_) {
        auto numbered = writer_->query_with(
            "commit_batch", "UPDATE paper_changes SET last_change = $1 WHERE id = 1", last_change_);
        if (!numbered) return std::unexpected(numbered.error());
        // Delivered to listeners when (and only if) the transaction commits.
        auto notified = writer_->query_with("commit_batch", "SELECT pg_notify($1, $2)",
                                            kPostgresChangesChannel, std::to_string(last_change_));
        if (!notified) return std::unexpected(notified.error());
      }
      return writer_->exec("commit_batch", "COMMIT");
    }();
    if (!committed) {
      abandon_batch();
      committed.error().message += "; the batch was rolled back";
    }
    close_batch();
    return committed;
  }

  void rollback_batch() override {
    std::lock_guard lock(write_mutex_);
    abandon_batch();
  }

  Result<UpsertOutcome> upsert(const Paper& paper) override {
    std::lock_guard lock(write_mutex_);
    if (!batch_open_) return fail(name_ + ": upsert outside a batch; call begin_batch() first");

    const Paper* record = &paper;
    Paper normalised;
    if (!paper.arxiv_id.empty()) {
      auto parsed = parse_arxiv_id(paper.arxiv_id);
      if (!parsed)
        return fail(fmt::format("{}: upsert: arxiv_id \"{}\" is not an arXiv identifier", name_,
                                paper.arxiv_id));
      if (parsed->id != paper.arxiv_id || parsed->version > paper.version) {
        normalised = paper;
        normalised.arxiv_id = parsed->id;
        normalised.version = std::max(paper.version, parsed->version);
        record = &normalised;
      }
    }

    std::string key = fast_title_key(record->title);
    Result<std::optional<StoredPaper>> stored;
    if (!record->arxiv_id.empty()) {
      const std::array<pg::Param, 2> params = {pg::Param(record->arxiv_id), pg::Param(key)};
      stored = lookup("merge_lookup", sql().merge_lookup, params);
    } else {
      if (key.empty())
        return fail(fmt::format(
            "{}: upsert: record has no arXiv id and its title \"{}\" has no letters or digits",
            name_, record->title));
      const std::array<pg::Param, 1> params = {pg::Param(key)};
      stored = lookup("merge_by_title_key", sql().merge_by_title_key, params);
    }
    if (!stored) return abandon_with(stored.error());

    if (!*stored) {
      if (auto written = write("insert", sql().insert, *record, key, std::nullopt); !written)
        return abandon_with(written.error());
      return UpsertOutcome::added;
    }
    StoredPaper& found = **stored;
    const std::string old_title = found.paper.title;
    if (!merge_paper(found.paper, *record)) return UpsertOutcome::unchanged;
    if (found.paper.title != record->title) key = fast_title_key(found.paper.title);
    if (auto written = write("update", sql().update, found.paper, key, found.row_id); !written)
      return abandon_with(written.error());
    return UpsertOutcome::updated;
  }

  Result<std::optional<Paper>> find(std::string_view id) override {
    if (id.starts_with("title-")) {
      auto rows = read("find", sql().all_title_only, {});
      if (!rows) return std::unexpected(rows.error());
      for (int row = 0; row < rows->size(); ++row) {
        Paper paper = read_paper(*rows, row);
        if (paper_id(paper) == id) return paper;
      }
      return std::optional<Paper>();
    }
    auto parsed = parse_arxiv_id(id);
    if (!parsed) return std::optional<Paper>();
    const std::array<pg::Param, 1> params = {pg::Param(parsed->id)};
    auto rows = read("find", sql().find_by_arxiv_id, params);
    if (!rows) return std::unexpected(rows.error());
    if (rows->empty()) return std::optional<Paper>();
    return read_paper(*rows, 0);
  }

  Result<uint64_t> last_change() override {
    auto rows = read("last_change", sql().last_change, {});
    if (!rows) return std::unexpected(rows.error());
    return rows->empty() ? 0 : static_cast<uint64_t>(rows->integer(0, 0));
  }

  Result<void> for_each_change(uint64_t after, uint64_t up_to,
                               const std::function<void(const Paper&)>& visit) override {
    int64_t from = clamp_change(after);
    const int64_t to = clamp_change(up_to);
    // Page by page, visiting with no connection held, so a visitor may use the store.
    for (;;) {
      const std::array<pg::Param, 2> params = {pg::Param(from), pg::Param(to)};
      auto rows = read("for_each_change", sql().changes, params);
      if (!rows) return std::unexpected(rows.error());
      for (int row = 0; row < rows->size(); ++row) visit(read_paper(*rows, row));
      if (rows->size() < kPageRows) return {};
      from = rows->integer(rows->size() - 1, static_cast<int>(kColumns.size()) + 1);
    }
  }

  Result<std::vector<Paper>> feed_papers(std::string_view first_day, std::string_view last_day,
                                         std::string_view category) override {
    const std::array<pg::Param, 3> params = {pg::Param(first_day), pg::Param(last_day),
                                             pg::Param(category)};
    return read_papers("feed_papers", sql().feed_papers, params);
  }

  Result<std::vector<std::string>> feed_days() override {
    auto rows = read("feed_days", sql().feed_days, {});
    if (!rows) return std::unexpected(rows.error());
    std::vector<std::string> days;
    days.reserve(static_cast<size_t>(rows->size()));
    for (int row = 0; row < rows->size(); ++row) days.emplace_back(rows->text(row, 0));
    return days;
  }

  Result<void> for_each_paper(const std::function<void(const Paper&)>& visit) override {
    int64_t after = 0;
    for (;;) {
      const std::array<pg::Param, 1> params = {pg::Param(after)};
      auto rows = read("for_each_paper", sql().papers_after, params);
      if (!rows) return std::unexpected(rows.error());
      for (int row = 0; row < rows->size(); ++row) visit(read_paper(*rows, row));
      if (rows->size() < kPageRows) return {};
      after = rows->integer(rows->size() - 1, 0);
    }
  }

  Result<StoreStats> stats() override {
    auto rows = read("stats", sql().stats, {});
    if (!rows) return std::unexpected(rows.error());
    StoreStats stats;
    stats.schema_version = schema_version_;
    stats.papers = rows->integer(0, 0);
    stats.papers_with_arxiv_id = rows->integer(0, 1);
    stats.papers_in_feed = rows->integer(0, 2);
    stats.total_upvotes = rows->integer(0, 3);
    stats.first_feed_day = rows->text(0, 4);
    stats.last_feed_day = rows->text(0, 5);
    stats.feed_days = rows->integer(0, 6);
    return stats;
  }

  Result<std::optional<std::string>> feed_day_before(std::string_view day,
                                                     std::string_view category) override {
    return neighbour_day("feed_day_before", sql().feed_day_before, day, category);
  }

  Result<std::optional<std::string>> feed_day_after(std::string_view day,
                                                    std::string_view category) override {
    return neighbour_day("feed_day_after", sql().feed_day_after, day, category);
  }

  Result<std::vector<Paper>> upvoted_papers(std::chrono::sys_seconds from,
                                            std::chrono::sys_seconds to,
                                            int64_t min_upvotes) override {
    const std::array<pg::Param, 3> params = {pg::Param(from.time_since_epoch().count()),
                                             pg::Param(to.time_since_epoch().count()),
                                             pg::Param(min_upvotes)};
    return read_papers("upvoted_papers", sql().upvoted, params);
  }

 private:
  // The web server's threads read in parallel; more would only queue inside the server.
  static constexpr size_t kReaders = 8;

  // A prepared statement on a pooled reader; the statement's text names it per connection.
  Result<pg::Rows> read(std::string_view what, const std::string& text,
                        std::span<const pg::Param> params) {
    auto reader = readers_.borrow();
    if (!reader) return std::unexpected(reader.error());
    return prefixed((*reader)->prepared(what, statement_name(text), text, params));
  }

  Result<std::vector<Paper>> read_papers(std::string_view what, const std::string& text,
                                         std::span<const pg::Param> params) {
    auto rows = read(what, text, params);
    if (!rows) return std::unexpected(rows.error());
    std::vector<Paper> papers;
    papers.reserve(static_cast<size_t>(rows->size()));
    for (int row = 0; row < rows->size(); ++row) papers.push_back(read_paper(*rows, row));
    return papers;
  }

  Result<std::optional<std::string>> neighbour_day(std::string_view what, const std::string& text,
                                                   std::string_view day,
                                                   std::string_view category) {
    const std::array<pg::Param, 2> params = {pg::Param(day), pg::Param(category)};
    auto rows = read(what, text, params);
    if (!rows) return std::unexpected(rows.error());
    if (rows->empty()) return std::optional<std::string>();
    return std::string(rows->text(0, 0));
  }

  // Statements are named by their text's address, which is stable: they live in sql().
  static std::string statement_name(const std::string& text) {
    return fmt::format("paperboy_{}", static_cast<const void*>(&text));
  }

  template <class T>
  Result<T> prefixed(Result<T> result) const {
    if (!result) result.error().message = name_ + ": " + result.error().message;
    return result;
  }

  // Writer-side lookup: sees the open batch. REQUIRES: write_mutex_ held.
  Result<std::optional<StoredPaper>> lookup(std::string_view what, const std::string& text,
                                            std::span<const pg::Param> params) {
    auto rows = prefixed(writer_->prepared(what, statement_name(text), text, params));
    if (!rows) return std::unexpected(rows.error());
    if (rows->empty()) return std::optional<StoredPaper>();
    return StoredPaper{rows->integer(0, 0), read_paper(*rows, 0)};
  }

  // Runs INSERT (row_id empty) or UPDATE. REQUIRES: write_mutex_ held.
  Result<void> write(std::string_view what, const std::string& text, const Paper& paper,
                     const std::string& key, std::optional<int64_t> row_id) {
    std::vector<pg::Param> params = paper_params(paper);
    params.emplace_back(key);
    const auto entered = entered_feed_at(paper);
    params.emplace_back(entered ? pg::Param(entered->time_since_epoch().count())
                                : pg::Param(std::nullopt));
    params.emplace_back(++last_change_);
    if (row_id) params.emplace_back(*row_id);
    auto written = writer_->prepared(fmt::format("upsert {}: {}", paper_id(paper), what),
                                     statement_name(text), text, params);
    if (!written) return std::unexpected(prefixed(std::move(written)).error());
    return {};
  }

  // REQUIRES: write_mutex_ held.
  void close_batch() {
    batch_open_ = false;
    batch_closed_.notify_all();
  }

  // REQUIRES: write_mutex_ held.
  void abandon_batch() {
    if (writer_->in_transaction()) (void)writer_->exec("rollback_batch", "ROLLBACK");
    close_batch();
  }

  std::unexpected<Error> abandon_with(Error error) {
    abandon_batch();
    error.message += "; the batch was rolled back";
    return std::unexpected(std::move(error));
  }

  std::string name_;  // the URL without its password, for messages
  std::mutex write_mutex_;
  std::unique_ptr<pg::Connection> writer_;
  pg::Pool readers_;
  int schema_version_;
  bool batch_open_ = false;
  int64_t first_change_ = 0;  // the committed numbering when the open batch began
  int64_t last_change_ = 0;   // the change number of the latest write in the open batch
  std::thread::id batch_owner_;
  std::condition_variable batch_closed_;
};

}  // namespace

Result<std::unique_ptr<Store>> open_postgres_store(std::string_view url) {
  auto writer = pg::Connection::open(url);
  if (!writer) return std::unexpected(writer.error());
  auto version = pg::migrate(**writer, "papers", kMigrations);
  if (!version) return fail(fmt::format("{}: {}", pg::redact_url(url), version.error().message));
  return std::make_unique<PostgresStore>(std::string(url), std::move(*writer), *version);
}

Result<std::unique_ptr<Store>> open_store(std::string_view locator,
                                          const std::filesystem::path& default_sqlite_path) {
  if (pg::is_postgres_url(locator)) return open_postgres_store(locator);
  return open_sqlite_store(locator.empty() ? default_sqlite_path : std::filesystem::path(locator));
}

std::string redact_store_locator(std::string_view locator) { return pg::redact_url(locator); }

}  // namespace paperboy::store
