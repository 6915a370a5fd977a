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
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
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

  // Looks a paper up by paper_id() (an arXiv id, with or without version, or "title-...").
  virtual Result<std::optional<Paper>> find(std::string_view id) = 0;

  // Papers whose feed_day lies in [first_day, last_day] (ISO dates, inclusive), optionally only
  // those listing `category`; in no particular order.
  virtual Result<std::vector<Paper>> feed_papers(std::string_view first_day, std::string_view last_day,
                                                 std::string_view category = {}) = 0;

  // The distinct feed days, ascending.
  virtual Result<std::vector<std::string>> feed_days() = 0;

  // Calls `visit` for every paper, in store order, without holding them all in memory.
  virtual Result<void> for_each_paper(const std::function<void(const Paper&)>& visit) = 0;

  virtual Result<StoreStats> stats() = 0;
};

// Opens (creating if needed) the SQLite store at `path` and migrates its schema to the current
// version. Fails with a clear message if the file is not a paperboy store or is newer than this
// binary.
Result<std::unique_ptr<Store>> open_sqlite_store(const std::filesystem::path& path);

}  // namespace paperboy::store
