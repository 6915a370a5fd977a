// The search index as the server sees it: the latest committed snapshot of an index directory,
// reopened when the writer commits (its MANIFEST changes), without making readers wait.
#pragma once

#include <sys/types.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <memory>
#include <mutex>
#include <string>

#include "core/result.h"
#include "index/index.h"

namespace paperboy::web {

class LiveIndex {
 public:
  // How often current() may look at the MANIFEST; commits become visible within this time. A
  // stat() every 100 ms costs nothing next to requests, and keeps a cluster node's follow (a
  // change notified, synced, then reopened here) well under a second.
  static constexpr std::chrono::milliseconds kCheckInterval{100};

  // Opens nothing yet: the first current() does, so a server starts even while the index is
  // missing or being rebuilt.
  explicit LiveIndex(std::filesystem::path directory);

  // The newest snapshot that could be opened. When the MANIFEST changed since the last look
  // (checked at most once per kCheckInterval), one caller reopens while the others keep using
  // the previous snapshot. Fails with a message for people while no snapshot ever opened.
  Result<std::shared_ptr<const index::Snapshot>> current();

  const std::filesystem::path& directory() const { return directory_; }

 private:
  // What stat() says about MANIFEST: a commit renames a new file over it, changing the inode.
  struct ManifestStamp {
    bool exists = false;
    ino_t inode = 0;
    off_t size = 0;
    int64_t modified_ns = 0;
    bool operator==(const ManifestStamp&) const = default;
  };
  ManifestStamp stamp() const;
  void reopen_if_changed();

  std::filesystem::path directory_;
  std::atomic<std::shared_ptr<const index::Snapshot>> snapshot_;
  std::atomic<int64_t> next_check_ns_{0};  // steady_clock time of the next MANIFEST look
  std::mutex reopen_mutex_;                // held by the one caller that reopens
  ManifestStamp opened_stamp_;             // guarded by reopen_mutex_
  bool ever_checked_ = false;              // guarded by reopen_mutex_
  std::string open_error_;                 // guarded by reopen_mutex_; why the last open failed
};

}  // namespace paperboy::web
