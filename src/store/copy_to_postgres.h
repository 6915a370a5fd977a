// Copies what people made in an embedded SQLite store (accounts with their password hashes,
// unexpired sessions and API tokens, votes, comments, collections, submissions, the fetch queue,
// hidden papers, digest subscriptions and the digest outbox) into a PostgreSQL store, for
// `paperboy migrate`. The papers must be copied first: rows that name a paper are matched to
// the PostgreSQL paper with the same arXiv id (or, without one, the same title).
//
// Rows are matched by what identifies them, not by their numeric ids (PostgreSQL numbers its
// own): users by name, subscriptions by email, collections by owner, name and creation time,
// comments and submissions by author, paper, time and text. So running it again adds nothing,
// and a database that already holds accounts keeps them.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "core/result.h"

namespace paperboy::store {

struct TableCopy {
  std::string table;
  size_t rows = 0;   // rows in the SQLite table that were considered
  size_t added = 0;  // rows PostgreSQL did not hold yet
};

// How many of each paper's upvotes were cast in the SQLite store (its votes), keyed by arXiv id,
// or by "title:" and the title for a paper without one. `paperboy migrate` copies a paper with
// its upvotes less these, and copy_community_to_postgres adds them back with the votes, so the
// PostgreSQL store tells imported from local votes as the SQLite one did and a rerun of the
// paper copy changes nothing.
Result<std::unordered_map<std::string, int64_t>> local_upvotes_by_paper(
    const std::filesystem::path& sqlite_file);

// Everything in one PostgreSQL transaction: an interrupted copy leaves nothing, a rerun finishes
// it. Both stores' community and subscription tables must exist (opening the stores makes them).
Result<std::vector<TableCopy>> copy_community_to_postgres(const std::filesystem::path& sqlite_file,
                                                          std::string_view url);

}  // namespace paperboy::store
