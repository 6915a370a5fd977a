#include "web/live_index.h"

#include <spdlog/spdlog.h>
#include <sys/stat.h>

#include <utility>

namespace paperboy::web {

namespace {

int64_t steady_now_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

}  // namespace

LiveIndex::LiveIndex(std::filesystem::path directory) : directory_(std::move(directory)) {}

LiveIndex::ManifestStamp LiveIndex::stamp() const {
  struct stat info {};
  if (::stat((directory_ / "MANIFEST").c_str(), &info) != 0) return {};
  return ManifestStamp{
      true, info.st_ino, info.st_size,
      static_cast<int64_t>(info.st_mtim.tv_sec) * 1'000'000'000 + info.st_mtim.tv_nsec};
}

void LiveIndex::reopen_if_changed() {
  const int64_t now = steady_now_ns();
  if (now < next_check_ns_.load(std::memory_order_relaxed)) return;
  // Whoever holds the lock is already reopening; the others go on with the current snapshot,
  // except before any snapshot exists, when they wait for the first open.
  std::unique_lock lock(reopen_mutex_, std::defer_lock);
  if (snapshot_.load()) {
    if (!lock.try_lock()) return;
  } else {
    lock.lock();
  }
  if (now < next_check_ns_.load(std::memory_order_relaxed)) return;
  next_check_ns_.store(now + std::chrono::nanoseconds(kCheckInterval).count(),
                       std::memory_order_relaxed);
  const ManifestStamp seen = stamp();
  if (ever_checked_ && seen == opened_stamp_ && open_error_.empty()) return;
  ever_checked_ = true;
  auto opened = index::Snapshot::open(directory_);
  if (!opened) {
    open_error_ = opened.error().message;
    spdlog::warn("web: cannot open the search index: {}", open_error_);
    return;  // keep serving the previous snapshot, if any, and try again after the interval
  }
  open_error_.clear();
  opened_stamp_ = seen;
  snapshot_.store(std::move(*opened));
}

Result<std::shared_ptr<const index::Snapshot>> LiveIndex::current() {
  reopen_if_changed();
  if (auto snapshot = snapshot_.load()) return snapshot;
  std::lock_guard lock(reopen_mutex_);
  if (auto snapshot = snapshot_.load()) return snapshot;
  return fail("the search index in " + directory_.string() + " cannot be opened (" + open_error_ +
              "); build it with `paperboy index rebuild`");
}

}  // namespace paperboy::web
