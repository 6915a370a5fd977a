// Byte-level input for the importers: files read as plain, gzip or zstd by their magic number,
// and split into bounded lines.
#pragma once

#include <cstddef>
#include <cstdio>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "core/result.h"

namespace paperboy::ingest {

enum class Compression { none, gzip, zstd };

// The decompressed bytes of one file. Truncated or corrupt compressed data is an Error naming
// the file.
class InputStream {
 public:
  static Result<InputStream> open(const std::filesystem::path& path);
  // Reads `content`, which must outlive the stream; `name` stands for a file name in messages.
  static Result<InputStream> open_memory(std::string_view content, std::string name);

  InputStream(InputStream&&) noexcept;
  InputStream& operator=(InputStream&&) noexcept;
  ~InputStream();

  // Reads up to `size` decompressed bytes; 0 means the end of the input.
  Result<size_t> read(char* out, size_t size);

  // Called with the decompressed byte count about every MiB and once at the end.
  void set_progress(std::function<void(size_t)> on_progress);

  Compression compression() const;
  const std::string& name() const { return name_; }

 private:
  struct Decoder;
  InputStream(std::string name, std::unique_ptr<Decoder> decoder);
  // Takes ownership of `file` and detects its compression.
  static Result<InputStream> start(std::string name, std::FILE* file);

  std::string name_;
  std::unique_ptr<Decoder> decoder_;
  std::function<void(size_t)> on_progress_;
  size_t bytes_read_ = 0;
  size_t next_progress_ = 0;
};

// Splits an InputStream into lines without ever holding more than max_line_bytes of one line.
class LineReader {
 public:
  struct Line {
    std::string_view text;  // without the '\n' or "\r\n"; empty when too_long
    size_t number = 0;      // 1-based
    size_t length = 0;      // bytes of the line as read
    bool too_long = false;  // longer than max_line_bytes: skipped, not kept
  };

  // Every line view is followed by at least kPadding readable bytes (simdjson needs them).
  static constexpr size_t kPadding = 64;

  LineReader(InputStream& input, size_t max_line_bytes);

  // The next line, nullopt at the end. The view stays valid until the next call.
  Result<std::optional<Line>> next();

 private:
  Result<size_t> fill();

  InputStream& input_;
  size_t max_line_bytes_;
  std::unique_ptr<char[]> buffer_;
  size_t capacity_ = 0;  // usable bytes, excluding the padding
  size_t begin_ = 0;
  size_t end_ = 0;
  size_t scanned_ = 0;  // bytes from begin_ already searched for '\n'
  size_t line_number_ = 0;
  bool at_end_ = false;
};

}  // namespace paperboy::ingest
