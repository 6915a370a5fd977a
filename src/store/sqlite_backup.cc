#include "store/sqlite_backup.h"

#include <fcntl.h>
#include <unistd.h>

#include "store/sqlite_access.h"

namespace paperboy::store {
namespace {

Result<void> fsync_path(const std::filesystem::path& path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return fail(path.string() + ": cannot open to flush it");
  const bool synced = ::fsync(fd) == 0;
  ::close(fd);
  if (!synced) return fail(path.string() + ": cannot flush it to disk");
  return {};
}

}  // namespace

Result<void> backup_sqlite_store(const std::filesystem::path& store_path,
                                 const std::filesystem::path& destination) {
  std::error_code error;
  if (!std::filesystem::is_regular_file(store_path, error)) {
    return fail(store_path.string() + ": no store to back up");
  }
  if (std::filesystem::exists(destination, error)) {
    return fail(destination.string() + ": already exists; a backup never overwrites");
  }
  // Writable: under query_only SQLite refuses VACUUM INTO.
  auto connection = sqlite::Connection::open(store_path.string(), /*read_only=*/false);
  if (!connection) return std::unexpected(connection.error());
  // VACUUM INTO reads inside one transaction, so concurrent batches are either wholly in the
  // copy or not at all, and it writes the copy compacted, without the WAL.
  auto vacuum = sqlite::Query::run(**connection, "VACUUM INTO ?", destination.string());
  if (!vacuum) return std::unexpected(vacuum.error());
  if (auto done = vacuum->done("backing up into " + destination.string()); !done) {
    return std::unexpected(done.error());
  }
  if (auto synced = fsync_path(destination); !synced) return synced;
  return fsync_path(destination.parent_path().empty() ? "." : destination.parent_path());
}

Result<void> check_sqlite_integrity(const std::filesystem::path& path) {
  std::error_code error;
  if (!std::filesystem::is_regular_file(path, error)) return fail(path.string() + ": no such file");
  auto connection = sqlite::Connection::open(path.string(), /*read_only=*/true);
  if (!connection) return std::unexpected(connection.error());
  auto check = sqlite::Query::run(**connection, "PRAGMA integrity_check(1)");
  if (!check) return std::unexpected(check.error());
  auto row = check->step("checking integrity");
  if (!row) return std::unexpected(row.error());
  if (!*row) return fail(path.string() + ": the integrity check returned nothing");
  const std::string verdict = check->text(0);
  if (verdict != "ok") return fail(path.string() + ": damaged: " + verdict);
  return {};
}

}  // namespace paperboy::store
