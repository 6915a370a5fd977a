// Keeps the search index (<data>/index) in step with the store. The store numbers every change
// (Store::last_change); the index folder records, in STORE_SEQUENCE, the change it has caught up
// to. That file is written only after the index commit it describes, so after a crash it can lag
// behind the index but never run ahead of it, and catching up again re-adds papers the index
// already holds, which replaces them with themselves.
#pragma once

#include <cstddef>
#include <filesystem>

#include "core/result.h"
#include "store/store.h"

namespace paperboy::cli {

// Builds a fresh index of every paper beside `index_dir` and swaps it in atomically.
// Returns the number of papers indexed.
Result<size_t> rebuild_index(store::Store& store, const std::filesystem::path& index_dir,
                             bool quiet);

// Applies the store's changes since the index last caught up (building the index when there is
// none). Returns the number of papers (re)indexed.
Result<size_t> sync_index(store::Store& store, const std::filesystem::path& index_dir, bool quiet);

}  // namespace paperboy::cli
