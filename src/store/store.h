// The store: the system of record for papers. Embedded SQLite by default (one file in the data
// folder, WAL mode); other backends implement the same interface.
//
// Merge rules (applied by upsert, identical for every backend):
//  - A paper is found by arXiv id, else by title_key() of its title. A record with an arXiv id
//    also adopts a stored title-only paper with the same title key.
//  - Text fields (title, abstract, authors, categories, comments, journal ref, licence, doi)
//    come from the record with the highest arXiv version; on equal versions a non-empty value
//    replaces an empty one and an existing value is kept.
//  - upvotes, github_stars and num_comments only go up; published keeps the earliest date,
//    updated the latest; feed_day keeps the earliest day the paper entered the feed.
//  - Links, submitter, organisation and AI summary fill in when empty.
// Upserting a record whose merge changes nothing reports `unchanged` and writes nothing.
// Details the rules above leave open, decided here so every backend agrees:
//  - "Text fields" also covers author_count and the source tag goes with them. A record with a
//    higher version replaces each text field it carries; a field it leaves empty keeps the
//    stored value (sources omit what they do not carry, they do not erase it). A record with a
//    lower version changes no text field. version keeps the highest.
//  - The arXiv id is normalised: "2312.00752v2" is stored as "2312.00752", version 2. A record
//    whose arxiv_id is not an arXiv identifier, or with neither an arXiv id nor a title, is
//    refused with an Error (the batch stays open).
//  - A title-only record whose title key matches several papers merges into the oldest stored.
//    Adoption happens only when the arXiv id is new to the store.
//  - submitted_at keeps the earliest instant, like feed_day; ai_keywords go with ai_summary.
#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/paper.h"
#include "core/result.h"

namespace paperboy::store {

enum class UpsertOutcome { added, updated, unchanged };

struct StoreStats {
  int64_t papers = 0;
  int64_t papers_with_arxiv_id = 0;
  int64_t papers_in_feed = 0;
  int64_t feed_days = 0;
  int64_t total_upvotes = 0;
  std::string first_feed_day;  // empty when the feed is empty
  std::string last_feed_day;
  int schema_version = 0;
};

class Store {
 public:
  virtual ~Store() = default;

  // Writes happen in batches: begin_batch(), any number of upsert(), commit_batch(). A batch that
  // is rolled back, or that was open when the process died, leaves no trace.
  virtual Result<void> begin_batch() = 0;
  virtual Result<void> commit_batch() = 0;
  virtual void rollback_batch() = 0;
  // REQUIRES: a batch is open.
  virtual Result<UpsertOutcome> upsert(const Paper& paper) = 0;
  // Upserts `papers` in order, with the same results as that many upsert() calls, and returns
  // their outcomes in order. A backend that pays a round trip per statement (PostgreSQL) does a
  // chunk in a few. A record upsert() would refuse fails the call before anything is written
  // (the batch stays open). REQUIRES: a batch is open.
  virtual Result<std::vector<UpsertOutcome>> upsert_many(std::span<const Paper> papers);

  // Looks a paper up by paper_id() (an arXiv id, with or without version, or "title-...").
  virtual Result<std::optional<Paper>> find(std::string_view id) = 0;

  // Papers whose feed_day lies in [first_day, last_day] (ISO dates, inclusive), optionally only
  // those listing `category`; in no particular order. A category matches exactly ("cs.CL") or
  // as an archive ("cs" matches "cs.CL" and "cs.AI").
  virtual Result<std::vector<Paper>> feed_papers(std::string_view first_day,
                                                 std::string_view last_day,
                                                 std::string_view category = {}) = 0;

  // The distinct feed days, ascending.
  virtual Result<std::vector<std::string>> feed_days() = 0;

  // Calls `visit` for every paper, in store order, without holding them all in memory.
  virtual Result<void> for_each_paper(const std::function<void(const Paper&)>& visit) = 0;

  virtual Result<StoreStats> stats() = 0;

  // Change numbers, for followers such as the search index: every upsert that adds or updates a
  // paper gives it a new number, higher than any committed before. last_change() is the highest
  // committed number (0 for an empty store); for_each_change() visits, in number order, the
  // papers whose latest change lies in (after, up_to], each once, in its current state. A
  // follower that remembers the last number it applied catches up with
  // for_each_change(remembered, last_change()). The defaults fail: a backend that does not
  // number its changes says so.
  virtual Result<uint64_t> last_change() { return fail("this store does not number its changes"); }
  virtual Result<void> for_each_change(uint64_t /*after*/, uint64_t /*up_to*/,
                                       const std::function<void(const Paper&)>& /*visit*/) {
    return fail("this store does not number its changes");
  }

  // The nearest feed day strictly before / after `day` (ISO), optionally among days holding a
  // paper that lists `category` (as in feed_papers); nullopt when there is none.
  virtual Result<std::optional<std::string>> feed_day_before(std::string_view day,
                                                             std::string_view category = {}) = 0;
  virtual Result<std::optional<std::string>> feed_day_after(std::string_view day,
                                                            std::string_view category = {}) = 0;

  // Papers with at least one upvote and at least `min_upvotes`, whose entered_feed_at() lies in
  // [from, to); in no particular order. Indexed on both bounds, for the pruned trending ranking.
  virtual Result<std::vector<Paper>> upvoted_papers(std::chrono::sys_seconds from,
                                                    std::chrono::sys_seconds to,
                                                    int64_t min_upvotes) = 0;
};

// The instant a paper entered the feed, the clock trending ages it by: submitted_at when it
// parses, else midnight UTC of feed_day, else of published; nullopt when none is known.
std::optional<std::chrono::sys_seconds> entered_feed_at(const Paper& paper);

// Why upsert() would refuse `paper` (an arXiv id that is not one, or neither an arXiv id nor a
// title with letters or digits), so that a caller can reject the record instead of failing.
Result<void> check_storable(const Paper& paper);

// Applies the merge rules above to `stored` with `incoming` (its arXiv id already normalised);
// returns whether `stored` changed. Shared by every backend.
bool merge_paper(Paper& stored, const Paper& incoming);

inline Result<std::vector<UpsertOutcome>> Store::upsert_many(std::span<const Paper> papers) {
  for (const Paper& paper : papers)
    if (auto storable = check_storable(paper); !storable) return std::unexpected(storable.error());
  std::vector<UpsertOutcome> outcomes;
  outcomes.reserve(papers.size());
  for (const Paper& paper : papers) {
    auto outcome = upsert(paper);
    if (!outcome) return std::unexpected(outcome.error());
    outcomes.push_back(*outcome);
  }
  return outcomes;
}

struct SqliteOptions {
  // Caps the database file size (rounded down to whole pages); 0: no cap. Writes that would grow
  // the file beyond it fail like a full disk.
  int64_t max_file_bytes = 0;
};

// Opens (creating if needed) the SQLite store at `path` and migrates its schema to the current
// version. Fails with a clear message if the file is not a paperboy store or is newer than this
// binary.
// The store is safe to use from several threads: writes go through one connection under a mutex
// (one batch open at a time; begin_batch waits for another thread's batch to close), reads use a
// pool of read connections and see committed batches only. Missing parent folders are created.
Result<std::unique_ptr<Store>> open_sqlite_store(const std::filesystem::path& path,
                                                 const SqliteOptions& options = {});

// Opens the store in the PostgreSQL database at `url` (postgres://... or postgresql://...),
// migrating its tables (schema_migrations, component "papers") when needed; several nodes may
// open one database at once. Same merge rules and change numbers as SQLite: a batch is one
// transaction that holds the change numbering (so numbers commit in order) and, on commit,
// sends NOTIFY kPostgresChangesChannel with the last change number as payload. Safe to use from
// several threads: one batch at a time per store, reads from a pool of connections.
Result<std::unique_ptr<Store>> open_postgres_store(std::string_view url);

// The store a locator names: PostgreSQL for postgres:// and postgresql:// URLs, else the SQLite
// file at `locator`, or at `default_sqlite_path` when `locator` is empty.
Result<std::unique_ptr<Store>> open_store(std::string_view locator,
                                          const std::filesystem::path& default_sqlite_path);

// `locator` fit for messages and logs: a PostgreSQL URL without its password, a path as is.
std::string redact_store_locator(std::string_view locator);

// The channel the PostgreSQL store notifies after each committed batch (payload: last_change).
inline constexpr const char* kPostgresChangesChannel = "paperboy_changes";

// For PostgreSQL backends that change papers outside a batch (local votes): the SQL expression
// giving a paper its next change number. It takes the numbering's row lock until the transaction
// ends, so numbers commit in order; run kPostgresLockChangesSql before locking any papers row,
// or a concurrent batch (which holds the numbering, then updates papers) can deadlock with it.
inline constexpr const char* kPostgresNextChangeSql = "paperboy_next_change()";
inline constexpr const char* kPostgresLockChangesSql =
    "SELECT last_change FROM paper_changes FOR UPDATE";

}  // namespace paperboy::store
