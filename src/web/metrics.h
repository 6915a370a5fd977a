// /metrics in the Prometheus text format (version 0.0.4): request counts and latency histograms
// per route, kept by the server itself, plus gauges and counters that other parts of the
// process contribute through MetricsSource callbacks (index sizes, the digest outbox, sync).
#pragma once

#include <array>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace paperboy::web {

// Writes samples in the exposition format. Each metric family is announced once, by help().
class MetricsText {
 public:
  enum class Kind { counter, gauge };

  // The "# HELP" and "# TYPE" lines of a family; `name` must be a valid metric name.
  void help(std::string_view name, Kind kind, std::string_view description);
  // One sample; labels are name/value pairs, values escaped as the format requires.
  void sample(std::string_view name, double value,
              const std::vector<std::pair<std::string_view, std::string_view>>& labels = {});
  // A family of one unlabelled sample: help() then sample().
  void single(std::string_view name, Kind kind, std::string_view description, double value);

  std::string& text() { return text_; }

 private:
  std::string text_;
};

using MetricsSource = std::function<void(MetricsText&)>;

// Request counters by route and status class with a latency histogram per route. Lock-free:
// record() runs on every request thread.
class RequestMetrics {
 public:
  // Routes are named by a fixed table of path prefixes so that label values stay few.
  static std::string_view route_of(std::string_view path);

  void record(std::string_view path, int status, std::chrono::nanoseconds elapsed);
  void write(MetricsText& out) const;

 private:
  static constexpr size_t kRoutes = 20;
  static constexpr size_t kStatusClasses = 5;  // 1xx .. 5xx
  static constexpr std::array<double, 12> kBucketSeconds = {
      0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5};

  struct Route {
    std::array<std::atomic<uint64_t>, kStatusClasses> by_status{};
    std::array<std::atomic<uint64_t>, kBucketSeconds.size()> buckets{};  // not cumulative
    std::atomic<uint64_t> count{0};
    std::atomic<uint64_t> total_nanoseconds{0};
  };
  static size_t route_index(std::string_view path);

  std::array<Route, kRoutes> routes_{};
};

// The resident memory of this process in bytes (0 when /proc is unavailable).
int64_t resident_memory_bytes();

// The bytes of every regular file under `directory` (0 when it does not exist).
int64_t directory_bytes(const std::string& directory);

}  // namespace paperboy::web
