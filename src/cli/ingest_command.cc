// `paperboy ingest`: streams files through the importers into the store in batches, so that a
// failure leaves the store exactly as it was after the last committed batch. One thread parses
// while another stores: on two cores parsing then costs the store no time.
#include <algorithm>
#include <cstdio>
#include <span>
#include <system_error>
#include <thread>
#include <variant>
#include <vector>

#include "cli/bounded_queue.h"
#include "cli/commands.h"
#include "cli/index_sync.h"
#include "cli/progress.h"
#include "cli/vector_sync.h"
#include "ingest/ingest.h"
#include "store/store.h"

namespace paperboy::cli {

namespace {

namespace fs = std::filesystem;

// Rejections beyond this many are counted, not printed, so a bad 2.7M-line file stays readable.
constexpr size_t kMaxPrintedRejections = 100;

struct Tally {
  size_t added = 0;
  size_t updated = 0;
  size_t unchanged = 0;
  size_t rejected = 0;
  size_t records() const { return added + updated + unchanged; }
};

Result<std::vector<fs::path>> expand_paths(const std::vector<std::string>& arguments) {
  std::vector<fs::path> files;
  for (const std::string& argument : arguments) {
    std::error_code error;
    fs::path path(argument);
    if (fs::is_directory(path, error)) {
      std::vector<fs::path> inside;
      for (auto it = fs::recursive_directory_iterator(path, error); !error && it != fs::end(it);
           it.increment(error)) {
        const std::string name = it->path().filename().string();
        if (it->is_regular_file() && !name.starts_with(".") && name != "README.md" &&
            name != "PROVENANCE.md")
          inside.push_back(it->path());
      }
      if (error) return fail(argument + ": " + error.message());
      std::sort(inside.begin(), inside.end());
      files.insert(files.end(), inside.begin(), inside.end());
    } else if (fs::exists(path, error)) {
      files.push_back(path);
    } else {
      return fail(argument + ": no such file or directory");
    }
  }
  return files;
}

void print_rejection(const ingest::Rejection& rejection, size_t& printed) {
  if (printed++ < kMaxPrintedRejections)
    std::fprintf(stderr, "%s:%zu: %s\n", rejection.file.c_str(), rejection.line,
                 rejection.reason.c_str());
}

// --dry-run: parses and validates every record without opening the store.
int check_files(const std::vector<fs::path>& files, const ingest::ImportOptions& import_options,
                bool quiet) {
  size_t records = 0, rejected = 0, printed = 0;
  for (const fs::path& file : files) {
    std::error_code size_error;
    const auto file_size = fs::file_size(file, size_error);
    Progress progress(file.filename().string(), size_error ? 0 : static_cast<size_t>(file_size));
    size_t file_records = 0, bytes_read = 0;
    ingest::Sink sink;
    sink.on_paper = [&](Paper&&) -> Result<void> {
      ++file_records;
      if (!quiet) progress.update(file_records, bytes_read);
      return {};
    };
    sink.on_rejection = [&](const ingest::Rejection& rejection) {
      ++rejected;
      print_rejection(rejection, printed);
    };
    sink.on_progress = [&](size_t bytes) { bytes_read = bytes; };
    auto imported = ingest::import_file(file, import_options, sink);
    if (!quiet) progress.finish(file_records, bytes_read);
    records += file_records;
    if (!imported) {
      std::fprintf(stderr, "paperboy ingest: %s\n", imported.error().message.c_str());
      return kError;
    }
  }
  if (rejected > kMaxPrintedRejections)
    std::fprintf(stderr, "... %zu more rejected records not shown\n",
                 rejected - kMaxPrintedRejections);
  std::printf("%zu valid, %zu rejected (dry run: nothing stored)\n", records, rejected);
  return rejected > 0 ? kRejected : kSuccess;
}

// Records go from the parsing thread to the storing thread in chunks, so that the queue's lock
// is taken once per chunk; a few chunks in flight keep both threads busy in little memory.
constexpr size_t kChunkRecords = 256;
constexpr size_t kQueuedChunks = 16;

// Papers and rejections in file order, and the input consumed when the chunk was sent.
struct Chunk {
  std::vector<std::variant<Paper, ingest::Rejection>> items;
  size_t bytes_read = 0;
};

// The parsing side of `paperboy ingest`: reads `file` and sends its records through `queue`,
// then closes it. Records the store would refuse become rejections here, off the storing thread.
Result<void> parse_file(const fs::path& file, const ingest::ImportOptions& import_options,
                        BoundedQueue<Chunk>& queue) {
  Chunk chunk;
  size_t bytes_read = 0;
  size_t records_seen = 0;
  bool stopped = false;
  auto send = [&] {
    chunk.bytes_read = bytes_read;
    stopped = !queue.push(std::move(chunk)) || stopped;
    chunk = Chunk{};
    chunk.items.reserve(kChunkRecords);
  };
  chunk.items.reserve(kChunkRecords);
  ingest::Sink sink;
  sink.on_paper = [&](Paper&& paper) -> Result<void> {
    ++records_seen;
    if (auto storable = store::check_storable(paper); !storable)
      chunk.items.emplace_back(ingest::Rejection{
          file.string(), 0,
          "record " + std::to_string(records_seen) + ": " + storable.error().message});
    else
      chunk.items.emplace_back(std::move(paper));
    if (chunk.items.size() >= kChunkRecords) send();
    if (stopped) return fail(file.string() + ": stopped by a store error");
    return {};
  };
  sink.on_rejection = [&](const ingest::Rejection& rejection) {
    chunk.items.emplace_back(rejection);
    if (chunk.items.size() >= kChunkRecords) send();
  };
  sink.on_progress = [&](size_t bytes) { bytes_read = bytes; };
  auto imported = ingest::import_file(file, import_options, sink);
  // What was read before a file-level error is still stored, then rolled back with its batch,
  // exactly as if it had been stored on this thread.
  if (!chunk.items.empty()) send();
  queue.close();
  return imported;
}

}  // namespace

int run_ingest(const GlobalOptions& global, const IngestOptions& options) {
  ingest::ImportOptions import_options;
  if (!options.format.empty()) {
    import_options.format = ingest::parse_format(options.format);
    if (!import_options.format) {
      std::fprintf(stderr, "paperboy ingest: unknown --format '%s'\n", options.format.c_str());
      return kUsage;
    }
  }
  import_options.default_feed_day = options.feed_day;

  auto files = expand_paths(options.paths);
  if (!files) {
    std::fprintf(stderr, "paperboy ingest: %s\n", files.error().message.c_str());
    return kError;
  }
  if (options.dry_run) return check_files(*files, import_options, global.quiet);
  std::error_code dir_error;
  std::filesystem::create_directories(global.data_dir, dir_error);
  auto store = open_papers_store(global);
  if (!store) {
    std::fprintf(stderr, "paperboy ingest: %s\n", store.error().message.c_str());
    return kError;
  }

  Tally total;
  size_t printed_rejections = 0;
  int exit_code = kSuccess;
  for (const fs::path& file : *files) {
    std::error_code size_error;
    const auto file_size = fs::file_size(file, size_error);
    Progress progress(file.filename().string(), size_error ? 0 : static_cast<size_t>(file_size));
    Tally tally;
    size_t bytes_read = 0;
    size_t in_batch = 0;

    auto begun = (*store)->begin_batch();
    if (!begun) {
      std::fprintf(stderr, "paperboy ingest: %s\n", begun.error().message.c_str());
      return kError;
    }
    BoundedQueue<Chunk> queue(kQueuedChunks);
    Result<void> parsed;
    std::jthread parser([&] { parsed = parse_file(file, import_options, queue); });

    // Store what the parser sends, in file order; a store error stops the parser. A chunk's
    // papers go to the store together (one round trip for a shared store), split where a batch
    // fills.
    Result<void> imported;
    std::vector<Paper> papers;
    while (auto chunk = queue.pop()) {
      papers.clear();
      for (auto& item : chunk->items) {
        if (const auto* rejection = std::get_if<ingest::Rejection>(&item)) {
          ++tally.rejected;
          print_rejection(*rejection, printed_rejections);
          continue;
        }
        papers.push_back(std::move(std::get<Paper>(item)));
      }
      for (size_t first = 0; first < papers.size() && imported;) {
        const size_t count = std::min(papers.size() - first, options.batch_size - in_batch);
        auto outcomes = (*store)->upsert_many(std::span(papers).subspan(first, count));
        if (!outcomes) {
          imported = std::unexpected(outcomes.error());
          break;
        }
        for (const store::UpsertOutcome outcome : *outcomes) {
          switch (outcome) {
            case store::UpsertOutcome::added:
              ++tally.added;
              break;
            case store::UpsertOutcome::updated:
              ++tally.updated;
              break;
            case store::UpsertOutcome::unchanged:
              ++tally.unchanged;
              break;
          }
        }
        first += count;
        in_batch += count;
        if (in_batch >= options.batch_size) {
          in_batch = 0;
          imported = (*store)->commit_batch();
          if (imported) imported = (*store)->begin_batch();
        }
      }
      if (!imported) {
        queue.close();
        break;
      }
      bytes_read = chunk->bytes_read;
      if (!global.quiet) progress.update(tally.records(), bytes_read);
    }
    parser.join();
    // A store error comes first: the parser's error then only says it was stopped.
    if (imported) imported = parsed;
    if (imported) imported = (*store)->commit_batch();
    if (!imported) {
      (*store)->rollback_batch();
      std::fprintf(stderr, "paperboy ingest: %s\n", imported.error().message.c_str());
      std::fprintf(
          stderr,
          "paperboy ingest: stopped; the store keeps every batch committed before this error\n");
      exit_code = kError;
    }
    if (!global.quiet) progress.finish(tally.records(), bytes_read);
    total.added += tally.added;
    total.updated += tally.updated;
    total.unchanged += tally.unchanged;
    total.rejected += tally.rejected;
    if (exit_code == kError) break;
  }
  if (total.rejected > kMaxPrintedRejections)
    std::fprintf(stderr, "... %zu more rejected records not shown\n",
                 total.rejected - kMaxPrintedRejections);
  std::printf("%zu added, %zu updated, %zu unchanged, %zu rejected\n", total.added, total.updated,
              total.unchanged, total.rejected);
  // Whatever was committed, even before an error, becomes searchable.
  if (options.update_index) {
    auto indexed = sync_index(**store, index_path(global), global.quiet);
    if (!indexed) {
      std::fprintf(stderr, "paperboy ingest: search index: %s\n", indexed.error().message.c_str());
      return kError;
    }
    // New papers get vectors from the trained embedder, without retraining.
    auto embedded =
        sync_vectors(**store, embed_model_path(global), vectors_path(global), global.quiet);
    if (!embedded) {
      std::fprintf(stderr, "paperboy ingest: vectors: %s\n", embedded.error().message.c_str());
      return kError;
    }
  }
  if (exit_code == kSuccess && total.rejected > 0) exit_code = kRejected;
  return exit_code;
}

}  // namespace paperboy::cli
