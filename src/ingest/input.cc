#include "ingest/input.h"

#include <zlib.h>
#include <zstd.h>

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <cstring>
#include <vector>

namespace paperboy::ingest {

namespace {

constexpr size_t kCompressedChunk = size_t{256} << 10;
constexpr size_t kProgressStep = size_t{1} << 20;
constexpr size_t kProgressDone = SIZE_MAX;
constexpr size_t kInitialLineBuffer = size_t{1} << 20;

struct FileCloser {
  void operator()(std::FILE* file) const { std::fclose(file); }
};

}  // namespace

// Reads the raw file in chunks and inflates it when it is compressed.
struct InputStream::Decoder {
  std::string name;
  std::unique_ptr<std::FILE, FileCloser> file;
  Compression compression = Compression::none;
  std::vector<unsigned char> chunk = std::vector<unsigned char>(kCompressedChunk);
  size_t chunk_begin = 0;
  size_t chunk_end = 0;
  bool file_at_end = false;
  z_stream gzip{};
  bool gzip_ready = false;
  ZSTD_DCtx* zstd = nullptr;
  // 0 when the last zstd frame is complete and flushed; a frame cut short leaves it non-zero.
  size_t zstd_pending = 0;
  bool finished = false;

  ~Decoder() {
    if (gzip_ready) inflateEnd(&gzip);
    if (zstd) ZSTD_freeDCtx(zstd);
  }

  Result<void> refill() {
    if (file_at_end) return {};
    if (chunk_begin < chunk_end) return {};
    size_t got = std::fread(chunk.data(), 1, chunk.size(), file.get());
    if (got < chunk.size()) {
      if (std::ferror(file.get())) return fail(name + ": read error: " + std::strerror(errno));
      file_at_end = true;
    }
    chunk_begin = 0;
    chunk_end = got;
    return {};
  }

  Result<size_t> read_plain(char* out, size_t size) {
    if (chunk_begin == chunk_end) {
      if (auto filled = refill(); !filled) return std::unexpected(filled.error());
    }
    size_t n = std::min(size, chunk_end - chunk_begin);
    std::memcpy(out, chunk.data() + chunk_begin, n);
    chunk_begin += n;
    return n;
  }

  Result<size_t> read_gzip(char* out, size_t size) {
    gzip.next_out = reinterpret_cast<Bytef*>(out);
    gzip.avail_out = static_cast<uInt>(std::min<size_t>(size, UINT32_MAX));
    while (gzip.avail_out > 0 && !finished) {
      if (chunk_begin == chunk_end) {
        if (auto filled = refill(); !filled) return std::unexpected(filled.error());
        if (chunk_begin == chunk_end) {
          return fail(name + ": truncated gzip data (the file ends inside the compressed stream)");
        }
      }
      gzip.next_in = chunk.data() + chunk_begin;
      gzip.avail_in = static_cast<uInt>(chunk_end - chunk_begin);
      int status = inflate(&gzip, Z_NO_FLUSH);
      chunk_begin = chunk_end - gzip.avail_in;
      if (status == Z_STREAM_END) {
        // Concatenated gzip members (as `cat a.gz b.gz` makes) form one stream.
        if (chunk_begin == chunk_end) {
          if (auto filled = refill(); !filled) return std::unexpected(filled.error());
        }
        if (chunk_begin == chunk_end) {
          finished = true;
        } else {
          inflateReset(&gzip);
        }
      } else if (status != Z_OK && status != Z_BUF_ERROR) {
        return fail(name + ": corrupt gzip data: " + (gzip.msg ? gzip.msg : "inflate failed"));
      }
      if (gzip.next_out != reinterpret_cast<Bytef*>(out)) break;
    }
    return static_cast<size_t>(reinterpret_cast<char*>(gzip.next_out) - out);
  }

  Result<size_t> read_zstd(char* out, size_t size) {
    ZSTD_outBuffer output{out, size, 0};
    while (output.pos == 0 && !finished) {
      if (chunk_begin == chunk_end) {
        if (auto filled = refill(); !filled) return std::unexpected(filled.error());
      }
      const bool input_left = chunk_begin < chunk_end;
      if (!input_left && zstd_pending == 0) {
        finished = true;
        break;
      }
      ZSTD_inBuffer input{chunk.data() + chunk_begin, chunk_end - chunk_begin, 0};
      size_t status = ZSTD_decompressStream(zstd, &output, &input);
      chunk_begin += input.pos;
      if (ZSTD_isError(status)) {
        return fail(name + ": corrupt zstd data: " + ZSTD_getErrorName(status));
      }
      zstd_pending = status;
      if (!input_left && output.pos == 0) {
        return fail(name + ": truncated zstd data (the file ends inside a frame)");
      }
    }
    return output.pos;
  }
};

Result<InputStream> InputStream::open(const std::filesystem::path& path) {
  std::error_code error;
  if (std::filesystem::is_directory(path, error)) {
    return fail(path.string() + ": is a directory, not a file");
  }
  std::FILE* file = std::fopen(path.c_str(), "rb");
  if (!file) return fail(path.string() + ": cannot open: " + std::strerror(errno));
  return start(path.string(), file);
}

Result<InputStream> InputStream::open_memory(std::string_view content, std::string name) {
  // fmemopen refuses an empty buffer.
  if (content.empty()) return fail(name + ": empty");
  // "r" only reads, so the buffer is never written through the cast-away const.
  std::FILE* file = ::fmemopen(const_cast<char*>(content.data()), content.size(), "r");
  if (!file) return fail(name + ": cannot read from memory: " + std::strerror(errno));
  return start(std::move(name), file);
}

Result<InputStream> InputStream::start(std::string name, std::FILE* file) {
  auto decoder = std::make_unique<Decoder>();
  decoder->name = std::move(name);
  decoder->file.reset(file);
  if (auto filled = decoder->refill(); !filled) return std::unexpected(filled.error());

  const unsigned char* head = decoder->chunk.data();
  const size_t have = decoder->chunk_end;
  if (have >= 2 && head[0] == 0x1f && head[1] == 0x8b) {
    decoder->compression = Compression::gzip;
    // 15 + 32: gzip or zlib header, detected by zlib itself.
    if (inflateInit2(&decoder->gzip, 15 + 32) != Z_OK) {
      return fail(decoder->name + ": cannot start gzip decoder");
    }
    decoder->gzip_ready = true;
  } else if (have >= 4 && head[0] == 0x28 && head[1] == 0xb5 && head[2] == 0x2f &&
             head[3] == 0xfd) {
    decoder->compression = Compression::zstd;
    decoder->zstd = ZSTD_createDCtx();
    if (!decoder->zstd) return fail(decoder->name + ": cannot start zstd decoder");
  }
  std::string stream_name = decoder->name;
  return InputStream(std::move(stream_name), std::move(decoder));
}

InputStream::InputStream(std::string name, std::unique_ptr<Decoder> decoder)
    : name_(std::move(name)), decoder_(std::move(decoder)) {}
InputStream::InputStream(InputStream&&) noexcept = default;
InputStream& InputStream::operator=(InputStream&&) noexcept = default;
InputStream::~InputStream() = default;

Compression InputStream::compression() const { return decoder_->compression; }

void InputStream::set_progress(std::function<void(size_t)> on_progress) {
  on_progress_ = std::move(on_progress);
  next_progress_ = bytes_read_ + kProgressStep;
}

Result<size_t> InputStream::read(char* out, size_t size) {
  Result<size_t> got = 0;
  switch (decoder_->compression) {
    case Compression::none:
      got = decoder_->read_plain(out, size);
      break;
    case Compression::gzip:
      got = decoder_->read_gzip(out, size);
      break;
    case Compression::zstd:
      got = decoder_->read_zstd(out, size);
      break;
  }
  if (!got) return got;
  bytes_read_ += *got;
  // The end of input reports once more, so the last figure is the total.
  if (on_progress_ && next_progress_ != kProgressDone &&
      (bytes_read_ >= next_progress_ || *got == 0)) {
    on_progress_(bytes_read_);
    next_progress_ = *got == 0 ? kProgressDone : bytes_read_ + kProgressStep;
  }
  return got;
}

LineReader::LineReader(InputStream& input, size_t max_line_bytes)
    : input_(input), max_line_bytes_(std::max<size_t>(max_line_bytes, 1)) {
  capacity_ = std::min(kInitialLineBuffer, max_line_bytes_ + 1);
  buffer_ = std::make_unique<char[]>(capacity_ + kPadding);
}

Result<size_t> LineReader::fill() {
  if (begin_ > 0) {
    std::memmove(buffer_.get(), buffer_.get() + begin_, end_ - begin_);
    end_ -= begin_;
    begin_ = 0;
  }
  if (end_ == capacity_ && capacity_ < max_line_bytes_ + 1) {
    size_t grown = std::min(capacity_ * 2, max_line_bytes_ + 1);
    auto bigger = std::make_unique<char[]>(grown + kPadding);
    std::memcpy(bigger.get(), buffer_.get(), end_);
    buffer_ = std::move(bigger);
    capacity_ = grown;
  }
  auto got = input_.read(buffer_.get() + end_, capacity_ - end_);
  if (!got) return got;
  end_ += *got;
  if (*got == 0) at_end_ = true;
  return got;
}

Result<std::optional<LineReader::Line>> LineReader::next() {
  bool too_long = false;
  size_t skipped = 0;
  for (;;) {
    const char* start = buffer_.get() + begin_;
    const size_t available = end_ - begin_;
    const void* newline =
        scanned_ < available ? std::memchr(start + scanned_, '\n', available - scanned_) : nullptr;
    if (newline || (at_end_ && (available > 0 || skipped > 0))) {
      size_t length =
          newline ? static_cast<size_t>(static_cast<const char*>(newline) - start) : available;
      begin_ += newline ? length + 1 : length;
      scanned_ = 0;
      Line line;
      line.number = ++line_number_;
      line.length = skipped + length;
      line.too_long = too_long || line.length > max_line_bytes_;
      if (!line.too_long) {
        if (length > 0 && start[length - 1] == '\r') --length;
        line.text = std::string_view(start, length);
      }
      return line;
    }
    if (at_end_) return std::nullopt;
    scanned_ = available;
    if (available > max_line_bytes_) {
      // Too long to keep: drop what we have and keep looking for the line's end.
      too_long = true;
      skipped += available;
      begin_ = end_ = 0;
      scanned_ = 0;
    }
    if (auto filled = fill(); !filled) return std::unexpected(filled.error());
  }
}

}  // namespace paperboy::ingest
