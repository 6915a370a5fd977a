#include "cli/backup_command.h"

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <system_error>

#include "cli/index_sync.h"
#include "core/date.h"
#include "store/sqlite_backup.h"
#include "store/store.h"

namespace paperboy::cli {
namespace {

namespace fs = std::filesystem;

// What a backup folder holds besides the store: the instance secret (signed unsubscribe and
// confirmation links in mails already sent stay valid) and the trained embedder (vectors are
// recomputed from it). Indexes are not copied: they are rebuilt from the store.
constexpr const char* kStoreFile = "paperboy.db";
constexpr const char* kManifestFile = "backup.json";
const fs::path kCompanions[] = {"secret", fs::path("embed") / "model.bin"};

Result<void> copy_companions(const fs::path& from, const fs::path& to) {
  for (const fs::path& companion : kCompanions) {
    std::error_code error;
    if (!fs::is_regular_file(from / companion, error)) continue;
    fs::create_directories((to / companion).parent_path(), error);
    fs::copy_file(from / companion, to / companion, fs::copy_options::overwrite_existing, error);
    if (error) return fail((to / companion).string() + ": " + error.message());
  }
  return {};
}

std::string now_iso() {
  return format_instant(std::chrono::floor<std::chrono::seconds>(std::chrono::system_clock::now()));
}

// The backup is written into a hidden sibling folder and renamed into place, so DEST either is
// a whole backup or does not exist.
int run_backup(const GlobalOptions& global, const fs::path& destination) {
  std::error_code error;
  if (fs::exists(destination, error)) {
    std::fprintf(stderr, "paperboy backup: %s already exists; name a new folder\n",
                 destination.c_str());
    return kUsage;
  }
  const fs::path staging =
      destination.parent_path() / ("." + destination.filename().string() + ".partial");
  fs::remove_all(staging, error);
  fs::create_directories(staging, error);
  if (error) {
    std::fprintf(stderr, "paperboy backup: %s: %s\n", staging.c_str(), error.message().c_str());
    return kError;
  }
  auto fail_with = [&](const std::string& message) {
    std::fprintf(stderr, "paperboy backup: %s\n", message.c_str());
    std::error_code ignored;
    fs::remove_all(staging, ignored);
    return kError;
  };
  if (auto copied = store::backup_sqlite_store(store_path(global), staging / kStoreFile); !copied) {
    return fail_with(copied.error().message);
  }
  if (auto copied = copy_companions(global.data_dir, staging); !copied) {
    return fail_with(copied.error().message);
  }
  auto copy = store::open_sqlite_store(staging / kStoreFile);
  if (!copy) return fail_with(copy.error().message);
  auto stats = (*copy)->stats();
  if (!stats) return fail_with(stats.error().message);
  auto last_change = (*copy)->last_change();
  copy->reset();
  const nlohmann::json manifest = {{"created_at", now_iso()},
                                   {"source", store_path(global).string()},
                                   {"papers", stats->papers},
                                   {"schema_version", stats->schema_version},
                                   {"last_change", last_change ? *last_change : 0}};
  std::ofstream(staging / kManifestFile) << manifest.dump(2) << "\n";
  fs::rename(staging, destination, error);
  if (error) return fail_with(destination.string() + ": " + error.message());
  if (!global.quiet) {
    std::fprintf(stderr, "paperboy backup: %lld papers into %s\n",
                 static_cast<long long>(stats->papers), destination.c_str());
  }
  return kSuccess;
}

// Checks the backup, then moves the current store aside (never deletes it) and puts the copy in
// its place. The search index and vectors describe the old store, so they are dropped and the
// index is rebuilt at once; vectors follow on the next `serve` or `embed` run.
int run_restore(const GlobalOptions& global, const fs::path& source, bool force) {
  auto error_out = [](const std::string& message) {
    std::fprintf(stderr, "paperboy restore: %s\n", message.c_str());
    return kError;
  };
  const fs::path backup_store = source / kStoreFile;
  if (auto intact = store::check_sqlite_integrity(backup_store); !intact) {
    return error_out(intact.error().message);
  }
  const fs::path target = store_path(global);
  std::error_code error;
  const bool replacing = fs::exists(target, error);
  if (replacing && !force) {
    std::fprintf(stderr,
                 "paperboy restore: %s holds a store; stop the server and add --force to replace "
                 "it (the current store is kept beside it)\n",
                 target.c_str());
    return kUsage;
  }
  fs::create_directories(target.parent_path(), error);
  const fs::path incoming = target.string() + ".restoring";
  fs::remove(incoming, error);
  fs::copy_file(backup_store, incoming, error);
  if (error) return error_out(incoming.string() + ": " + error.message());
  {
    // Opening migrates a backup from an older paperboy to this one's schema.
    auto opened = store::open_sqlite_store(incoming);
    if (!opened) {
      fs::remove(incoming, error);
      return error_out(opened.error().message);
    }
  }
  if (replacing) {
    std::string stamp = now_iso();
    for (char& c : stamp) {
      if (c == ':') c = '-';
    }
    const fs::path kept = target.string() + ".before-restore-" + stamp;
    fs::rename(target, kept, error);
    if (error) return error_out(target.string() + ": " + error.message());
    for (const char* suffix : {"-wal", "-shm"}) {
      const fs::path side = target.string() + suffix;
      if (fs::exists(side, error)) fs::rename(side, kept.string() + suffix, error);
    }
    if (!global.quiet)
      std::fprintf(stderr, "paperboy restore: kept the old store as %s\n", kept.c_str());
  }
  for (const char* suffix : {"-wal", "-shm"}) fs::remove(incoming.string() + suffix, error);
  fs::rename(incoming, target, error);
  if (error) return error_out(target.string() + ": " + error.message());
  if (auto copied = copy_companions(source, global.data_dir); !copied) {
    return error_out(copied.error().message);
  }
  fs::remove_all(global.data_dir / "index", error);
  fs::remove_all(vectors_path(global), error);

  auto restored = store::open_sqlite_store(target);
  if (!restored) return error_out(restored.error().message);
  auto indexed = rebuild_index(**restored, global.data_dir / "index", global.quiet);
  if (!indexed) return error_out("search index: " + indexed.error().message);
  if (!global.quiet) {
    std::fprintf(stderr, "paperboy restore: %zu papers restored from %s\n", *indexed,
                 source.c_str());
  }
  return kSuccess;
}

}  // namespace

BackupCommands::BackupCommands(CLI::App& app) {
  backup_ =
      app.add_subcommand("backup",
                         "Copy the store (and the instance secret and embedder) into a new folder, "
                         "consistently, while serving and ingesting go on");
  backup_->add_option("folder", folder_, "The backup folder to create")->required();
  restore_ = app.add_subcommand(
      "restore",
      "Replace the store with a backup made by `paperboy backup`; the search index is "
      "rebuilt and the old store kept beside the new one");
  restore_->add_option("folder", folder_, "A folder written by `paperboy backup`")
      ->required()
      ->check(CLI::ExistingDirectory);
  restore_->add_flag("--force", force_, "Replace an existing store (stop the server first)");
}

bool BackupCommands::parsed() const { return backup_->parsed() || restore_->parsed(); }

int BackupCommands::run(const GlobalOptions& global) {
  if (backup_->parsed()) return run_backup(global, folder_);
  return run_restore(global, folder_, force_);
}

}  // namespace paperboy::cli
