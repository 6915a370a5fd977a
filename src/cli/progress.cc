#include "cli/progress.h"

#include <unistd.h>

#include <algorithm>

namespace paperboy::cli {

namespace {

using Clock = std::chrono::steady_clock;

std::string with_thousands(size_t value) {
  std::string digits = std::to_string(value);
  std::string out;
  for (size_t i = 0; i < digits.size(); ++i) {
    if (i > 0 && (digits.size() - i) % 3 == 0) out.push_back(',');
    out.push_back(digits[i]);
  }
  return out;
}

}  // namespace

Progress::Progress(std::string label, size_t total_bytes, std::FILE* out)
    : label_(std::move(label)),
      total_bytes_(total_bytes),
      out_(out),
      interactive_(isatty(fileno(out)) != 0),
      start_(Clock::now()),
      last_draw_(start_) {}

void Progress::update(size_t records, size_t bytes) {
  const auto now = Clock::now();
  // A terminal is redrawn ten times a second; a log gets one line every five seconds.
  const auto interval =
      interactive_ ? std::chrono::milliseconds(100) : std::chrono::milliseconds(5000);
  if (now - last_draw_ < interval) return;
  last_draw_ = now;
  draw(records, bytes, false);
}

void Progress::finish(size_t records, size_t bytes) { draw(records, bytes, true); }

void Progress::draw(size_t records, size_t bytes, bool final_line) {
  const double seconds =
      std::max(1e-3, std::chrono::duration<double>(Clock::now() - start_).count());
  const double records_per_second = static_cast<double>(records) / seconds;
  const double megabytes_per_second = static_cast<double>(bytes) / seconds / 1e6;
  std::string bar;
  if (total_bytes_ > 0) {
    const double fraction =
        std::min(1.0, static_cast<double>(bytes) / static_cast<double>(total_bytes_));
    constexpr int kWidth = 24;
    const int filled = static_cast<int>(fraction * kWidth);
    bar = "[" + std::string(static_cast<size_t>(filled), '#') +
          std::string(static_cast<size_t>(kWidth - filled), '.') + "] ";
    bar += std::to_string(static_cast<int>(fraction * 100)) + "% ";
  }
  // Work that reads no bytes (indexing from the store) shows no byte rate.
  char byte_rate[32] = "";
  if (bytes > 0) std::snprintf(byte_rate, sizeof byte_rate, ", %.1f MB/s", megabytes_per_second);
  std::fprintf(out_, "%s%s: %s%s records, %.0f records/s%s, %.1fs%s",
               interactive_ ? "\r\x1b[K" : "", label_.c_str(), bar.c_str(),
               with_thousands(records).c_str(), records_per_second, byte_rate, seconds,
               (interactive_ && !final_line) ? "" : "\n");
  std::fflush(out_);
}

}  // namespace paperboy::cli
