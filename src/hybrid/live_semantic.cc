#include "hybrid/live_semantic.h"

#include <sys/stat.h>

#include <utility>

namespace paperboy::hybrid {

namespace {

int64_t steady_now_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

}  // namespace

LiveSemantic::LiveSemantic(std::filesystem::path vectors_dir)
    : vectors_dir_(std::move(vectors_dir)) {}

LiveSemantic::Stamp LiveSemantic::stamp() const {
  struct stat info {};
  if (::stat((vectors_dir_ / "CURRENT").c_str(), &info) != 0) return {};
  return Stamp{true, info.st_ino,
               static_cast<int64_t>(info.st_mtim.tv_sec) * 1'000'000'000 + info.st_mtim.tv_nsec};
}

std::shared_ptr<const SemanticIndex> LiveSemantic::current() {
  const int64_t now = steady_now_ns();
  if (now >= next_check_ns_.load(std::memory_order_relaxed)) {
    std::unique_lock lock(reopen_mutex_, std::try_to_lock);
    if (lock.owns_lock() && now >= next_check_ns_.load(std::memory_order_relaxed)) {
      next_check_ns_.store(now + std::chrono::nanoseconds(kCheckInterval).count(),
                           std::memory_order_relaxed);
      const Stamp seen = stamp();
      if (!ever_checked_ || seen != opened_stamp_) {
        ever_checked_ = true;
        opened_stamp_ = seen;
        if (!seen.exists) {
          semantic_.store(nullptr);
          error_.clear();
        } else if (auto opened = open_semantic(vectors_dir_); opened) {
          semantic_.store(std::make_shared<const SemanticIndex>(std::move(*opened)));
          error_.clear();
        } else {
          error_ = opened.error().message;  // keep the previous generation, if any
        }
      }
    }
  }
  return semantic_.load();
}

std::string LiveSemantic::last_error() {
  std::lock_guard lock(reopen_mutex_);
  return error_;
}

}  // namespace paperboy::hybrid
