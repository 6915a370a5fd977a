// The search index: a directory of immutable segments plus a MANIFEST naming the live ones.
//
//   auto writer = IndexWriter::open("data/index");      // one writer at a time (flock)
//   writer.value()->add(document_from_paper(paper));    // add or replace by paper_id
//   writer.value()->remove("2312.00752");
//   writer.value()->commit();                           // atomic: all or nothing is visible
//   auto snapshot = Snapshot::open("data/index");       // readers never wait for the writer
//
// Commit writes new segment and deletion files, fsyncs them, then switches MANIFEST by
// write-temp, fsync, rename, fsync-directory. A crash at any point leaves the previous or the
// new commit, never a mix; files of unfinished commits are removed when a writer next opens.
//
// After each commit a background thread of the writer merges adjacent segments of similar size
// (MergePolicy) and commits the result through the MANIFEST like any other commit. Readers are
// never blocked: a Snapshot keeps its segment files mapped, and Linux keeps an unlinked file's
// data until its last mapping goes, so removing the files of a superseded commit is safe.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <thread>
#include <unordered_map>
#include <vector>

#include "core/paper.h"
#include "core/result.h"
#include "index/segment.h"

namespace paperboy::index {

// What the index needs of a paper: the stored values and the three scored fields' text.
struct IndexDocument {
  StoredDoc stored;  // field_length is filled in by the index
  std::string title;
  std::string abstract;
  std::vector<std::string> authors;
};

// paper_id() as id, feed day (else first publication) as date, upvotes, categories, text.
IndexDocument document_from_paper(const Paper& paper);

// A segment as one commit sees it: the file plus which of its docs are deleted.
struct SegmentView {
  std::shared_ptr<const Segment> segment;
  std::vector<uint64_t> deleted;  // bitmap, one bit per doc; empty: none deleted
  std::string deletion_file;      // "" when none
  uint32_t deleted_count = 0;

  bool is_deleted(uint32_t doc) const {
    return !deleted.empty() && (deleted[doc >> 6] >> (doc & 63) & 1) != 0;
  }
  uint32_t live_count() const { return segment->doc_count() - deleted_count; }
};

// One committed state of the index, opened from its MANIFEST. Immutable and shareable
// between threads; keeps its files mapped however the writer moves on.
class Snapshot {
 public:
  // Whether the committed index in `directory` holds a segment of an older format, which this
  // paperboy no longer reads: the index must then be rebuilt from the store.
  static Result<bool> needs_rebuild(const std::filesystem::path& directory);
  static Result<std::shared_ptr<const Snapshot>> open(const std::filesystem::path& directory);

  uint64_t generation() const { return generation_; }
  const std::vector<SegmentView>& segments() const { return segments_; }
  uint64_t doc_count() const;   // including deleted docs still in segments
  uint64_t live_count() const;  // what searches can return
  // Mean indexed words per document in `field` over all segments (collection statistic).
  double average_field_length(size_t field) const;

  struct Location {
    size_t segment = 0;
    uint32_t doc = 0;
  };
  // Where the live version of `paper_id` is, if the index has one.
  std::optional<Location> find_paper(std::string_view paper_id) const;

 private:
  friend class IndexWriter;
  uint64_t generation_ = 0;
  uint64_t next_file_number_ = 1;
  std::vector<SegmentView> segments_;
};

// Which segments the background merges combine: log-structured, as Lucene's LogMergePolicy.
// A segment's level is log base merge_factor of its live documents; whenever merge_factor
// adjacent segments share a level they become one segment of the next level, so n documents
// end up in O(merge_factor * log n) segments and each document is rewritten O(log n) times.
// Only adjacent segments merge, which keeps the documents' order (and so the ranking's
// tie-breaks) as it was.
struct MergePolicy {
  bool background = true;  // false: segments merge only when merge() is called
  size_t merge_factor = 10;
  // Smaller segments all count as this size, so that tiny commits merge early.
  uint64_t min_level_docs = 1'000;
  // A segment with a larger share of deleted documents is rewritten to drop them.
  double max_deleted_fraction = 0.3;
};

// Segments [first, last) of a commit, to be merged into one.
struct MergeRange {
  size_t first = 0;
  size_t last = 0;
  bool operator==(const MergeRange&) const = default;
};

// The merge `policy` asks for in `segments` (in index order), if any.
std::optional<MergeRange> choose_merge(const std::vector<SegmentView>& segments,
                                       const MergePolicy& policy);

struct WriterOptions {
  // Buffered documents are written out as a segment once this many accumulate; a commit
  // still decides when they become visible.
  size_t max_buffered_docs = 50'000;
  MergePolicy merge_policy = {};
  // Threads analysing the documents of a flushed segment; 0: one per core. The segment file
  // is the same whatever the number.
  size_t analysis_threads = 0;
};

class IndexWriter {
 public:
  // Opens (creating if needed) the index in `directory` and takes its writer lock.
  static Result<std::unique_ptr<IndexWriter>> open(const std::filesystem::path& directory,
                                                   WriterOptions options = {});
  ~IndexWriter();
  IndexWriter(const IndexWriter&) = delete;
  IndexWriter& operator=(const IndexWriter&) = delete;

  // Adds a document, replacing any indexed or buffered one with the same paper_id at commit.
  Result<void> add(IndexDocument document);
  // Deletes the paper at the next commit (no-op if unknown).
  void remove(std::string_view paper_id);
  // Makes every add and remove since the last commit visible atomically, then lets the
  // background thread merge segments if the merge policy asks for it.
  Result<void> commit();
  // Rewrites all segments into one without deleted documents, and commits. Waits for a
  // background merge that is under way.
  Result<void> merge();
  // Waits until the background thread has made every merge the policy asks for; returns the
  // first error a background merge met since the last call (the index stays as committed).
  Result<void> wait_for_merges();

  // The state of the last commit (a background merge may have made a newer one since).
  std::shared_ptr<const Snapshot> snapshot() const;
  size_t buffered_count() const { return buffer_.size(); }

 private:
  IndexWriter() = default;
  Result<void> flush_buffer();
  void delete_everywhere(const std::string& paper_id);
  Result<void> write_commit(std::vector<SegmentView> segments);
  void remove_unreferenced_files() const;
  std::string next_file_name(std::string_view extension);
  void request_merge();
  void run_background_merges();
  Result<void> merge_range(std::unique_lock<std::mutex>& lock, MergeRange range);
  Result<void> install_merge(const std::vector<SegmentView>& sources,
                             std::shared_ptr<const Segment> merged,
                             const std::vector<std::vector<uint32_t>>& remap);

  std::filesystem::path directory_;
  WriterOptions options_;
  int lock_fd_ = -1;
  std::vector<IndexDocument> buffer_;
  std::unordered_map<std::string, size_t> buffer_slot_;  // paper_id -> buffer_ index
  std::set<std::string> removals_;

  // Shared with the merge thread, under mutex_.
  mutable std::mutex mutex_;
  std::shared_ptr<const Snapshot> committed_;
  uint64_t next_file_number_ = 1;
  // The working state: committed segments plus flushed but uncommitted ones, with the
  // deletions made since the last commit.
  std::vector<SegmentView> working_;
  std::vector<bool> working_dirty_;
  std::set<std::string> files_in_progress_;  // being written, not yet in working_
  bool merge_requested_ = false;
  bool merging_ = false;
  std::optional<Error> merge_error_;
  std::condition_variable merge_state_changed_;
  std::atomic<bool> stopping_ = false;
  std::thread merge_thread_;
};

// Writes the live documents of `sources`, in order, into one segment file at `path`, fsync'd.
// remap[s][doc] is the merged doc of source s's `doc` (kNoDoc if it was deleted). Returns null
// when no document is live. Gives up with an error once `cancel` becomes true.
Result<std::shared_ptr<const Segment>> write_merged_segment(
    const std::filesystem::path& path, const std::vector<SegmentView>& sources,
    std::vector<std::vector<uint32_t>>& remap, const std::atomic<bool>& cancel);

// Writes one segment file holding `documents` (already de-duplicated), fsync'd, analysing
// them on `threads` threads (0: one per core); the file does not depend on the number.
Result<std::shared_ptr<const Segment>> write_segment(const std::filesystem::path& path,
                                                     const std::vector<IndexDocument>& documents,
                                                     size_t threads = 0);

}  // namespace paperboy::index
