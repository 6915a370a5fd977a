// Helpers for the ingest tests: fixture paths, temporary files, compression and a collecting sink.
#pragma once

#include <zlib.h>
#include <zstd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

#include "ingest/ingest.h"

namespace paperboy::ingest::testing {

inline std::filesystem::path fixture(const std::string& name) {
  return std::filesystem::path(PAPERBOY_SOURCE_DIR) / "src/ingest/testdata" / name;
}

inline std::string read_bytes(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

inline void write_bytes(const std::filesystem::path& path, std::string_view bytes) {
  std::ofstream out(path, std::ios::binary);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}

// A fresh directory, removed with everything in it when the test ends.
class TempDir {
 public:
  TempDir() {
    std::string pattern =
        (std::filesystem::temp_directory_path() / "paperboy-ingest-XXXXXX").string();
    if (!mkdtemp(pattern.data())) throw std::runtime_error("mkdtemp failed");
    path_ = pattern;
  }
  ~TempDir() {
    std::error_code ignored;
    std::filesystem::remove_all(path_, ignored);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  std::filesystem::path file(const std::string& name, std::string_view bytes) const {
    std::filesystem::path path = path_ / name;
    write_bytes(path, bytes);
    return path;
  }
  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
};

inline std::string gzip(std::string_view data) {
  z_stream stream{};
  if (deflateInit2(&stream, 6, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK)
    throw std::runtime_error("deflateInit2 failed");
  std::string out(deflateBound(&stream, data.size()), '\0');
  stream.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.data()));
  stream.avail_in = static_cast<uInt>(data.size());
  stream.next_out = reinterpret_cast<Bytef*>(out.data());
  stream.avail_out = static_cast<uInt>(out.size());
  if (deflate(&stream, Z_FINISH) != Z_STREAM_END) throw std::runtime_error("deflate failed");
  out.resize(stream.total_out);
  deflateEnd(&stream);
  return out;
}

inline std::string zstd(std::string_view data) {
  std::string out(ZSTD_compressBound(data.size()), '\0');
  size_t size = ZSTD_compress(out.data(), out.size(), data.data(), data.size(), 3);
  if (ZSTD_isError(size)) throw std::runtime_error("ZSTD_compress failed");
  out.resize(size);
  return out;
}

// Everything an import produced.
struct Collected {
  std::vector<Paper> papers;
  std::vector<Rejection> rejections;
  std::vector<size_t> progress;
  Result<void> result;

  std::string rejection_text() const {
    std::string text;
    for (const Rejection& r : rejections)
      text += r.file + ":" + std::to_string(r.line) + ": " + r.reason + "\n";
    return text;
  }
};

inline Collected import_all(const std::filesystem::path& path, const ImportOptions& options = {}) {
  Collected collected;
  Sink sink;
  sink.on_paper = [&](Paper&& paper) -> Result<void> {
    collected.papers.push_back(std::move(paper));
    return {};
  };
  sink.on_rejection = [&](const Rejection& rejection) {
    collected.rejections.push_back(rejection);
  };
  sink.on_progress = [&](size_t bytes) { collected.progress.push_back(bytes); };
  collected.result = import_file(path, options, sink);
  return collected;
}

inline ImportOptions with_format(Format format) {
  ImportOptions options;
  options.format = format;
  return options;
}

}  // namespace paperboy::ingest::testing
