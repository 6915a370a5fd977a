// The vectors and model as a server sees them: the live generation of a vector folder,
// reopened when CURRENT changes (another process synced or retrained), without making readers
// wait. Missing vectors are not an error: search then runs as keyword search.
#pragma once

#include <sys/types.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <memory>
#include <mutex>
#include <string>

#include "hybrid/hybrid.h"

namespace paperboy::hybrid {

class LiveSemantic {
 public:
  static constexpr std::chrono::milliseconds kCheckInterval{1000};

  explicit LiveSemantic(std::filesystem::path vectors_dir);

  // The newest generation that could be opened; null while there is none. Checks CURRENT at
  // most once per kCheckInterval; one caller reopens while the others use the previous one.
  std::shared_ptr<const SemanticIndex> current();
  // Why the last open failed, empty when it did not.
  std::string last_error();

 private:
  struct Stamp {
    bool exists = false;
    ino_t inode = 0;
    int64_t modified_ns = 0;
    bool operator==(const Stamp&) const = default;
  };
  Stamp stamp() const;

  std::filesystem::path vectors_dir_;
  std::atomic<std::shared_ptr<const SemanticIndex>> semantic_;
  std::atomic<int64_t> next_check_ns_{0};
  std::mutex reopen_mutex_;
  Stamp opened_stamp_;  // guarded by reopen_mutex_
  bool ever_checked_ = false;
  std::string error_;  // guarded by reopen_mutex_
};

}  // namespace paperboy::hybrid
