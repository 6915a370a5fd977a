// The harvest positions of every source, one JSON object per key in <data>/sync/state.json.
// Internal to the sync component.
#pragma once

#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>

#include "core/result.h"

namespace paperboy::sync {

// The saved object for `key`; an empty object when there is none. A file that is not a JSON
// object is an Error naming it (rather than starting over silently).
Result<nlohmann::json> load_state(const std::filesystem::path& path, const std::string& key);

// Replaces the object for `key`, keeping the others: writes a temporary file beside it, fsyncs it
// and renames it over the old one, so a crash leaves the old or the new state, never a mix.
Result<void> save_state(const std::filesystem::path& path, const std::string& key,
                        const nlohmann::json& value);

// An exclusive lock (flock) on a file beside the state, held while a sync runs, so that a sync
// from cron and the server's scheduled one never harvest at the same time.
class SyncLock {
 public:
  static Result<SyncLock> acquire(const std::filesystem::path& state_path);
  SyncLock(SyncLock&& other) noexcept;
  SyncLock& operator=(SyncLock&&) = delete;
  ~SyncLock();

 private:
  explicit SyncLock(int fd) : fd_(fd) {}
  int fd_ = -1;
};

}  // namespace paperboy::sync
