// Backups of the embedded SQLite store: a consistent copy taken while the store is in use, and
// the checks a copy must pass before it replaces a store.
#pragma once

#include <filesystem>

#include "core/result.h"

namespace paperboy::store {

// Writes a compacted copy of the store at `store_path` to `destination` (which must not exist).
// The copy is one read transaction's snapshot: writers keep going and the copy holds exactly the
// batches committed before it began. The copy is fsync'd before this returns.
Result<void> backup_sqlite_store(const std::filesystem::path& store_path,
                                 const std::filesystem::path& destination);

// Fails unless `path` is an intact SQLite database (PRAGMA integrity_check), naming the first
// problem found. Whether it is a paperboy store is for open_sqlite_store to say.
Result<void> check_sqlite_integrity(const std::filesystem::path& path);

}  // namespace paperboy::store
