#include "sync/state.h"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

namespace paperboy::sync {
namespace {

Result<nlohmann::json> load_all(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return nlohmann::json::object();
  std::ostringstream text;
  text << in.rdbuf();
  auto parsed = nlohmann::json::parse(text.str(), nullptr, false);
  if (parsed.is_discarded() || !parsed.is_object()) {
    return fail(path.string() +
                ": not a JSON object of harvest positions; remove it to harvest from scratch");
  }
  return parsed;
}

Result<void> write_all(const std::filesystem::path& path, int fd, const std::string& text) {
  size_t written = 0;
  while (written < text.size()) {
    const ssize_t n = ::write(fd, text.data() + written, text.size() - written);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return fail(path.string() + ": write failed: " + std::strerror(errno));
    written += static_cast<size_t>(n);
  }
  if (::fsync(fd) != 0) return fail(path.string() + ": fsync failed: " + std::strerror(errno));
  return {};
}

}  // namespace

Result<nlohmann::json> load_state(const std::filesystem::path& path, const std::string& key) {
  auto all = load_all(path);
  if (!all) return all;
  auto found = all->find(key);
  if (found == all->end() || !found->is_object()) return nlohmann::json::object();
  return *found;
}

Result<void> save_state(const std::filesystem::path& path, const std::string& key,
                        const nlohmann::json& value) {
  auto all = load_all(path);
  if (!all) return std::unexpected(all.error());
  (*all)[key] = value;
  std::error_code error;
  std::filesystem::create_directories(path.parent_path(), error);
  if (error) return fail(path.parent_path().string() + ": " + error.message());
  const std::filesystem::path temporary = path.string() + ".tmp";
  const int fd = ::open(temporary.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return fail(temporary.string() + ": cannot create: " + std::strerror(errno));
  auto written = write_all(temporary, fd, all->dump(2) + "\n");
  ::close(fd);
  if (!written) return written;
  if (::rename(temporary.c_str(), path.c_str()) != 0) {
    return fail(path.string() + ": cannot replace: " + std::strerror(errno));
  }
  // The rename itself is durable once the folder is synced.
  if (const int dir = ::open(path.parent_path().c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
      dir >= 0) {
    ::fsync(dir);
    ::close(dir);
  }
  return {};
}

Result<SyncLock> SyncLock::acquire(const std::filesystem::path& state_path) {
  std::error_code error;
  std::filesystem::create_directories(state_path.parent_path(), error);
  if (error) return fail(state_path.parent_path().string() + ": " + error.message());
  const std::filesystem::path lock_path = state_path.parent_path() / "lock";
  const int fd = ::open(lock_path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (fd < 0) return fail(lock_path.string() + ": cannot open: " + std::strerror(errno));
  if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
    ::close(fd);
    return fail("another sync is running on this data folder (" + lock_path.string() +
                " is locked)");
  }
  return SyncLock(fd);
}

SyncLock::SyncLock(SyncLock&& other) noexcept : fd_(other.fd_) { other.fd_ = -1; }

SyncLock::~SyncLock() {
  if (fd_ >= 0) ::close(fd_);
}

}  // namespace paperboy::sync
