// The PostgreSQL backend of the store: the papers table beside the community tables in one
// database, so several nodes share one system of record. Merging happens here in C++ with the
// same merge_paper as SQLite; a batch is one transaction that holds the change numbering's row
// lock from begin to commit, so change numbers commit in order across nodes and a follower
// never skips one.
#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <condition_variable>
#include <limits>
#include <mutex>
#include <nlohmann/json.hpp>
#include <thread>
#include <unordered_map>
#include <unordered_set>
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
// Records merged per lookup and write: bounds the statements' size and the in-memory scans.
constexpr size_t kMergeChunk = 500;

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
  std::string find_by_arxiv_id, merge_lookup, merge_write, all_title_only, papers_after,
      last_change, changes, feed_papers, feed_days, feed_day_before, feed_day_after, upvoted, stats;

  Sql() {
    std::string columns = "id";
    // Merges see imported upvotes only and updates add the local votes back, so upvotes stays
    // imported + local and a re-import never counts a vote twice.
    std::string merge_columns = "id";
    std::string names, typed_names, assignments;
    for (const Column& column : kColumns) {
      const std::string_view name = column.name;
      const bool upvotes = name == "upvotes";
      columns += fmt::format(", {}", name);
      merge_columns += upvotes ? ", upvotes - local_upvotes" : fmt::format(", {}", name);
      names += fmt::format("{}, ", name);
      const char* type = std::visit(
          [](auto member) {
            using Value = std::remove_reference_t<decltype(Paper{}.*member)>;
            if constexpr (std::is_same_v<Value, std::string>)
              return "text";
            else if constexpr (std::is_same_v<Value, std::vector<std::string>>)
              return "jsonb";
            else
              return "bigint";
          },
          column.field);
      typed_names += fmt::format("{} {}, ", name, type);
      assignments += upvotes ? "upvotes = w.upvotes + papers.local_upvotes, "
                             : fmt::format("{0} = w.{0}, ", name);
    }
    const std::string select = "SELECT " + columns + " FROM papers ";
    const std::string merge_select = "SELECT " + merge_columns + ", title_key FROM papers ";
    find_by_arxiv_id = select + "WHERE arxiv_id = $1";
    // Everything a chunk's merges can touch, in one round trip: the papers with its arXiv ids
    // ($1), the title-only papers those ids may adopt ($2: their title keys), and the papers
    // its title-only records may merge into ($3: their title keys). Rows may repeat.
    merge_lookup = merge_select + "WHERE arxiv_id = ANY($1::text[]) UNION ALL " + merge_select +
                   "WHERE arxiv_id IS NULL AND title_key = ANY($2::text[]) UNION ALL " +
                   merge_select + "WHERE title_key = ANY($3::text[])";
    // A chunk's writes in one statement from one JSON array: rows without row_id are added in
    // `ord` order (identity values follow the sorted input, so the oldest paper keeps the
    // lowest id), the others updated.
    merge_write = fmt::format(
        "WITH w AS (SELECT * FROM jsonb_to_recordset($1::jsonb) AS r(ord bigint, row_id bigint, "
        "{0}title_key text, entered_at bigint, change_seq bigint)), "
        "added AS (INSERT INTO papers ({1}title_key, entered_at, change_seq) "
        "SELECT {1}title_key, entered_at, change_seq FROM w WHERE row_id IS NULL ORDER BY ord) "
        "UPDATE papers SET {2}title_key = w.title_key, entered_at = w.entered_at, "
        "change_seq = w.change_seq FROM w WHERE papers.id = w.row_id",
        typed_names, names, assignments);
    all_title_only = select + "WHERE arxiv_id IS NULL";
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

// Every Paper field as a member of a JSON object keyed by column name; empty strings and lists
// become null (SQL NULL), so "unknown" has one spelling.
nlohmann::json paper_row(const Paper& paper) {
  nlohmann::json row = nlohmann::json::object();
  for (const Column& column : kColumns) {
    std::visit(
        [&](auto member) {
          const auto& value = paper.*member;
          using Value = std::remove_cvref_t<decltype(value)>;
          if constexpr (std::is_same_v<Value, std::string> ||
                        std::is_same_v<Value, std::vector<std::string>>) {
            row[column.name] = value.empty() ? nlohmann::json(nullptr) : nlohmann::json(value);
          } else {
            row[column.name] = value;
          }
        },
        column.field);
  }
  return row;
}

// A PostgreSQL text[] literal: every element quoted, with backslashes and quotes escaped.
std::string text_array(const std::vector<std::string>& items) {
  std::string literal = "{";
  for (const std::string& item : items) {
    if (literal.size() > 1) literal += ',';
    literal += '"';
    for (const char c : item) {
      if (c == '"' || c == '\\') literal += '\\';
      literal += c;
    }
    literal += '"';
  }
  literal += '}';
  return literal;
}

int64_t clamp_change(uint64_t value) {
  return static_cast<int64_t>(std::min<uint64_t>(value, std::numeric_limits<int64_t>::max()));
}

// A paper as a chunk's merges see it: stored (row_id > 0) or added by the chunk (row_id 0).
struct MergeEntry {
  int64_t row_id = 0;
  Paper paper;
  std::string title_key;
  int64_t change = 0;  // the number of its latest write in this chunk; 0: not written
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
    auto outcomes = upsert_many(std::span<const Paper>(&paper, 1));
    if (!outcomes) return std::unexpected(outcomes.error());
    return outcomes->front();
  }

  // Two round trips per chunk of records (one lookup, one write) instead of two per record;
  // the merges run here in C++, in record order, on what the lookup found.
  Result<std::vector<UpsertOutcome>> upsert_many(std::span<const Paper> papers) override {
    std::lock_guard lock(write_mutex_);
    if (!batch_open_) return fail(name_ + ": upsert outside a batch; call begin_batch() first");
    std::vector<Paper> records;
    records.reserve(papers.size());
    std::vector<std::string> keys;
    keys.reserve(papers.size());
    for (const Paper& paper : papers) {
      auto normalised = normalise(paper);
      if (!normalised) return std::unexpected(normalised.error());
      keys.push_back(fast_title_key(normalised->title));
      if (normalised->arxiv_id.empty() && keys.back().empty())
        return fail(fmt::format(
            "{}: upsert: record has no arXiv id and its title \"{}\" has no letters or digits",
            name_, normalised->title));
      records.push_back(std::move(*normalised));
    }
    std::vector<UpsertOutcome> outcomes;
    outcomes.reserve(records.size());
    for (size_t first = 0; first < records.size(); first += kMergeChunk) {
      const size_t count = std::min(kMergeChunk, records.size() - first);
      auto merged = merge_chunk(std::span(records).subspan(first, count),
                                std::span<const std::string>(keys).subspan(first, count), outcomes);
      if (!merged) return abandon_with(merged.error());
    }
    return outcomes;
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

  // `paper` with its arXiv id in canonical form ("2312.00752v2" becomes "2312.00752", version
  // 2), or why upsert refuses it.
  Result<Paper> normalise(const Paper& paper) const {
    Paper record = paper;
    if (paper.arxiv_id.empty()) return record;
    auto parsed = parse_arxiv_id(paper.arxiv_id);
    if (!parsed)
      return fail(fmt::format("{}: upsert: arxiv_id \"{}\" is not an arXiv identifier", name_,
                              paper.arxiv_id));
    record.arxiv_id = parsed->id;
    record.version = std::max(paper.version, parsed->version);
    return record;
  }

  // Merges `records` (normalised; `keys` their title keys) as that many single upserts would,
  // appending their outcomes. REQUIRES: write_mutex_ held, a batch open.
  Result<void> merge_chunk(std::span<const Paper> records, std::span<const std::string> keys,
                           std::vector<UpsertOutcome>& outcomes) {
    std::vector<std::string> arxiv_ids, adopting_keys, title_only_keys;
    for (size_t i = 0; i < records.size(); ++i) {
      if (!records[i].arxiv_id.empty()) {
        arxiv_ids.push_back(records[i].arxiv_id);
        if (!keys[i].empty()) adopting_keys.push_back(keys[i]);
      } else {
        title_only_keys.push_back(keys[i]);
      }
    }
    const std::array<pg::Param, 3> params = {pg::Param(text_array(arxiv_ids)),
                                             pg::Param(text_array(adopting_keys)),
                                             pg::Param(text_array(title_only_keys))};
    auto rows = prefixed(writer_->prepared(
        "upsert: merge_lookup", statement_name(sql().merge_lookup), sql().merge_lookup, params));
    if (!rows) return std::unexpected(rows.error());

    // Entries in age order: stored papers by id, then those this chunk adds, so the first
    // match of a title key is the oldest paper with it, as the single-record lookup chose.
    std::vector<MergeEntry> entries;
    std::unordered_set<int64_t> seen_rows;
    for (int row = 0; row < rows->size(); ++row) {
      const int64_t row_id = rows->integer(row, 0);
      if (!seen_rows.insert(row_id).second) continue;
      entries.push_back({row_id, read_paper(*rows, row),
                         std::string(rows->text(row, static_cast<int>(kColumns.size()) + 1)), 0});
    }
    std::sort(entries.begin(), entries.end(),
              [](const MergeEntry& a, const MergeEntry& b) { return a.row_id < b.row_id; });
    std::unordered_map<std::string, size_t> by_arxiv_id;
    size_t title_only = 0;
    for (size_t i = 0; i < entries.size(); ++i) {
      if (entries[i].paper.arxiv_id.empty())
        ++title_only;
      else
        by_arxiv_id.emplace(entries[i].paper.arxiv_id, i);
    }
    // The oldest entry with title key `key` (and no arXiv id, when `title_only_papers`).
    auto oldest_with_key = [&](const std::string& key,
                               bool title_only_papers) -> std::optional<size_t> {
      for (size_t i = 0; i < entries.size(); ++i)
        if (entries[i].title_key == key &&
            (!title_only_papers || entries[i].paper.arxiv_id.empty()))
          return i;
      return std::nullopt;
    };

    for (size_t i = 0; i < records.size(); ++i) {
      const Paper& record = records[i];
      std::optional<size_t> found;
      if (record.arxiv_id.empty()) {
        found = oldest_with_key(keys[i], false);
      } else if (auto known = by_arxiv_id.find(record.arxiv_id); known != by_arxiv_id.end()) {
        found = known->second;
      } else if (title_only > 0 && !keys[i].empty()) {
        found = oldest_with_key(keys[i], true);
      }
      if (!found) {
        if (record.arxiv_id.empty())
          ++title_only;
        else
          by_arxiv_id.emplace(record.arxiv_id, entries.size());
        entries.push_back({0, record, keys[i], ++last_change_});
        outcomes.push_back(UpsertOutcome::added);
        continue;
      }
      MergeEntry& entry = entries[*found];
      const bool adopting = entry.paper.arxiv_id.empty() && !record.arxiv_id.empty();
      if (!merge_paper(entry.paper, record)) {
        outcomes.push_back(UpsertOutcome::unchanged);
        continue;
      }
      if (adopting) {
        --title_only;
        by_arxiv_id.emplace(entry.paper.arxiv_id, *found);
      }
      entry.title_key =
          entry.paper.title == record.title ? keys[i] : fast_title_key(entry.paper.title);
      entry.change = ++last_change_;
      outcomes.push_back(UpsertOutcome::updated);
    }
    return write_entries(entries);
  }

  // Writes the entries a chunk added or changed in one statement. REQUIRES: write_mutex_ held.
  Result<void> write_entries(const std::vector<MergeEntry>& entries) {
    nlohmann::json writes = nlohmann::json::array();
    for (size_t i = 0; i < entries.size(); ++i) {
      const MergeEntry& entry = entries[i];
      if (entry.change == 0) continue;
      nlohmann::json row = paper_row(entry.paper);
      row["ord"] = i;
      row["row_id"] = entry.row_id == 0 ? nlohmann::json(nullptr) : nlohmann::json(entry.row_id);
      row["title_key"] = entry.title_key;
      const auto entered = entered_feed_at(entry.paper);
      row["entered_at"] =
          entered ? nlohmann::json(entered->time_since_epoch().count()) : nlohmann::json(nullptr);
      row["change_seq"] = entry.change;
      writes.push_back(std::move(row));
    }
    if (writes.empty()) return {};
    std::string text;
    try {
      text = writes.dump();
    } catch (const nlohmann::json::type_error& error) {
      return fail(fmt::format("{}: upsert: a record holds text that is not UTF-8 ({})", name_,
                              error.what()));
    }
    const std::array<pg::Param, 1> params = {pg::Param(std::move(text))};
    auto written = writer_->prepared(fmt::format("upsert of {} papers: merge_write", writes.size()),
                                     statement_name(sql().merge_write), sql().merge_write, params);
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
