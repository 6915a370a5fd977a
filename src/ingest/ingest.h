// Importers: turn the files people have into Paper records, streaming in constant memory.
// Compressed input (.gz, .zst) is read transparently; the format is detected from the content
// unless given. docs/formats.md describes every format, its detection and its mapping to Paper.
#pragma once

#include <cstddef>
#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include "core/paper.h"
#include "core/result.h"

namespace paperboy::ingest {

enum class Format {
  arxiv_snapshot,  // Kaggle arxiv-metadata-oai-snapshot.json, JSON Lines
  arxiv_atom,      // export.arxiv.org/api/query Atom responses
  oai_pmh,         // OAI-PMH ListRecords, metadataPrefix arXiv or arXivRaw
  hf_daily,        // huggingface.co/api/daily_papers JSON
  canonical,       // paperboy's own JSON Lines (docs/formats.md)
  page_text,       // plain-text capture of a Daily Papers listing page
  arxiv_listing,   // daily arXiv listing JSON Lines (id, authors, title, categories, summary)
};

// "arxiv-snapshot", "arxiv-atom", "oai-pmh", "hf-daily", "canonical", "page-text",
// "arxiv-listing"; parse_format also accepts the enum spelling ("arxiv_snapshot").
std::string_view format_name(Format format);
std::optional<Format> parse_format(std::string_view name);

// Records (JSON lines, XML records) larger than this are rejected without being held in memory.
inline constexpr size_t kDefaultMaxRecordBytes = size_t{8} << 20;

// A record the importer could not turn into a paper. `line` is 1-based (the line where the
// record starts, or the line of the XML element); the rest of the file is still read.
struct Rejection {
  std::string file;
  size_t line = 0;
  std::string reason;
};

// Receives the importer's output in file order. Returning an error from on_paper stops the
// import and the error is returned from import_file.
struct Sink {
  std::function<Result<void>(Paper&&)> on_paper;
  std::function<void(const Rejection&)> on_rejection;
  // Called with bytes of (decompressed) input consumed so far, for progress display.
  std::function<void(size_t bytes_read)> on_progress;
};

struct ImportOptions {
  std::optional<Format> format;  // nullopt: detect from content
  // Day a record enters the feed when the source gives none (e.g. arXiv listings by file date).
  std::string default_feed_day;
  // page_text: year of dates the page shows without one (the capture's year). 0 infers it: a
  // YYYY-MM-DD in the file name, else one more than the newest year the page shows (the page
  // prints a year only for dates before the capture's year), else the current year.
  int capture_year = 0;
  size_t max_record_bytes = kDefaultMaxRecordBytes;
};

// Reads one file. Record-level problems go to sink.on_rejection; file-level problems (unreadable,
// truncated compressed stream, unknown format) are returned as an Error naming the file.
Result<void> import_file(const std::filesystem::path& path, const ImportOptions& options,
                         const Sink& sink);

// Detects the format of a file from its first bytes (decompressed).
Result<Format> detect_format(const std::filesystem::path& path);

// Reads `content` held in memory (an HTTP response body, say) exactly as import_file reads a
// file; `name` (a URL) stands for the file in messages and for a date in the file name.
Result<void> import_buffer(std::string_view content, const std::string& name,
                           const ImportOptions& options, const Sink& sink);

}  // namespace paperboy::ingest
