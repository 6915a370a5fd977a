#include "cli/index_sync.h"

#include <fcntl.h>
#include <linux/fs.h>
#include <stdio.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>

#include "cli/progress.h"
#include "index/index.h"

namespace paperboy::cli {

namespace {

namespace fs = std::filesystem;

constexpr const char* kSequenceFile = "STORE_SEQUENCE";
// A long catch-up commits every so many papers: they become searchable sooner, and the
// writer's background thread merges the committed segments while indexing goes on.
constexpr size_t kCommitEvery = 100'000;

Result<uint64_t> read_sequence(const fs::path& index_dir) {
  std::ifstream in(index_dir / kSequenceFile);
  if (!in) return uint64_t{0};
  uint64_t sequence = 0;
  if (!(in >> sequence))
    return fail((index_dir / kSequenceFile).string() + ": not a change number");
  return sequence;
}

// Write-temp, fsync, rename: the file holds the old number or the new one, never a torn one.
Result<void> write_sequence(const fs::path& index_dir, uint64_t sequence) {
  const fs::path target = index_dir / kSequenceFile;
  const fs::path temp = index_dir / (std::string(kSequenceFile) + ".tmp");
  const std::string text = std::to_string(sequence) + "\n";
  int fd = ::open(temp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return fail(temp.string() + ": " + std::strerror(errno));
  const bool written = ::write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size()) &&
                       ::fsync(fd) == 0;
  const int saved_errno = errno;
  ::close(fd);
  if (!written) return fail(temp.string() + ": " + std::strerror(saved_errno));
  if (::rename(temp.c_str(), target.c_str()) != 0)
    return fail(target.string() + ": " + std::strerror(errno));
  return {};
}

Result<size_t> index_into(store::Store& store, const fs::path& directory, uint64_t since,
                          bool quiet, uint64_t& caught_up_to) {
  auto last = store.last_change();
  if (!last) return std::unexpected(last.error());
  caught_up_to = *last;
  if (since >= *last && fs::exists(directory / "MANIFEST")) return size_t{0};

  auto writer = index::IndexWriter::open(directory);
  if (!writer) return std::unexpected(writer.error());
  Progress progress("index", 0);
  size_t count = 0;
  Result<void> added;
  auto visited = store.for_each_change(since, *last, [&](const Paper& paper) {
    if (!added) return;
    if (!paper.arxiv_id.empty()) {
      // The paper may have adopted a title-only record (store.h), whose document goes.
      Paper title_only;
      title_only.title = paper.title;
      (*writer)->remove(paper_id(title_only));
    }
    added = (*writer)->add(index::document_from_paper(paper));
    ++count;
    if (added && count % kCommitEvery == 0) added = (*writer)->commit();
    if (!quiet) progress.update(count, 0);
  });
  if (!visited) return std::unexpected(visited.error());
  if (!added) return std::unexpected(added.error());
  if (auto committed = (*writer)->commit(); !committed) return std::unexpected(committed.error());
  if (!quiet && count > 0) progress.finish(count, 0);
  // The merges the commits called for finish before the writer closes; a failed merge leaves
  // the index as committed, so it is reported but does not fail the catch-up.
  if (auto merged = (*writer)->wait_for_merges(); !merged)
    std::fprintf(stderr, "note: search index segments were not merged: %s\n",
                 merged.error().message.c_str());
  return count;
}

}  // namespace

Result<size_t> rebuild_index(store::Store& store, const fs::path& index_dir, bool quiet) {
  const fs::path fresh = index_dir.string() + ".rebuild";
  std::error_code error;
  fs::remove_all(fresh, error);
  uint64_t sequence = 0;
  auto count = index_into(store, fresh, 0, quiet, sequence);
  if (!count) {
    fs::remove_all(fresh, error);
    return count;
  }
  if (auto written = write_sequence(fresh, sequence); !written)
    return std::unexpected(written.error());
  // Swap in one step so readers see the old index or the new one, never none.
  if (fs::exists(index_dir)) {
    if (::syscall(SYS_renameat2, AT_FDCWD, fresh.c_str(), AT_FDCWD, index_dir.c_str(),
                  RENAME_EXCHANGE) != 0)
      return fail(index_dir.string() +
                  ": cannot swap in the rebuilt index: " + std::strerror(errno));
    fs::remove_all(fresh, error);
  } else if (::rename(fresh.c_str(), index_dir.c_str()) != 0) {
    return fail(index_dir.string() + ": " + std::strerror(errno));
  }
  return count;
}

Result<size_t> sync_index(store::Store& store, const fs::path& index_dir, bool quiet) {
  if (!fs::exists(index_dir / "MANIFEST")) return rebuild_index(store, index_dir, quiet);
  // The index is derived from the store: one an older paperboy wrote is rebuilt, not refused.
  auto needs_rebuild = index::Snapshot::needs_rebuild(index_dir);
  if (!needs_rebuild) return std::unexpected(needs_rebuild.error());
  if (*needs_rebuild) {
    if (!quiet)
      std::fprintf(stderr, "note: %s was written by an older paperboy; rebuilding it\n",
                   index_dir.c_str());
    return rebuild_index(store, index_dir, quiet);
  }
  auto since = read_sequence(index_dir);
  if (!since) return std::unexpected(since.error());
  uint64_t sequence = 0;
  auto count = index_into(store, index_dir, *since, quiet, sequence);
  if (!count) return count;
  if (sequence != *since) {
    if (auto written = write_sequence(index_dir, sequence); !written)
      return std::unexpected(written.error());
  }
  return count;
}

}  // namespace paperboy::cli
