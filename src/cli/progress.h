// Progress display for long work: a redrawn bar with rates on a terminal, a plain line every few
// seconds otherwise (logs, pipes, CI).
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdio>
#include <string>

namespace paperboy::cli {

class Progress {
 public:
  // `total_bytes` may be 0 when unknown (compressed input, pipes).
  Progress(std::string label, size_t total_bytes, std::FILE* out = stderr);
  Progress(const Progress&) = delete;
  Progress& operator=(const Progress&) = delete;

  void update(size_t records, size_t bytes);
  // Prints the final line with the overall rates.
  void finish(size_t records, size_t bytes);

 private:
  void draw(size_t records, size_t bytes, bool final_line);

  std::string label_;
  size_t total_bytes_;
  std::FILE* out_;
  bool interactive_;
  std::chrono::steady_clock::time_point start_;
  std::chrono::steady_clock::time_point last_draw_;
};

}  // namespace paperboy::cli
