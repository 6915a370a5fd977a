#include "web/metrics.h"

#include <fmt/format.h>
#include <unistd.h>

#include <cmath>
#include <filesystem>
#include <fstream>

namespace paperboy::web {
namespace {

// Prefixes in match order: the first that begins the path names its route; "/" matches the
// home page only and "other" everything else (unknown paths, probes).
struct RoutePrefix {
  std::string_view prefix;
  std::string_view name;
};
constexpr std::array<RoutePrefix, 19> kRoutePrefixes = {{
    {"/api/daily_papers", "api_daily_papers"},
    {"/api/papers/search", "api_papers_search"},
    {"/api/papers/", "api_paper"},
    {"/api/search", "api_search"},
    {"/api/", "api_other"},
    {"/papers/", "paper"},
    {"/papers", "papers"},
    {"/search", "search"},
    {"/date/", "feed"},
    {"/week/", "feed"},
    {"/month/", "feed"},
    {"/trending", "trending"},
    {"/feeds/", "syndication"},
    {"/static/", "static"},
    {"/healthz", "health"},
    {"/metrics", "metrics"},
    {"/digest", "digest"},
    {"/collections", "collections"},
    {"/", "home"},
}};
constexpr std::string_view kOtherRoute = "other";

// Route names in index order: the distinct names of kRoutePrefixes, then "other".
constexpr std::array<std::string_view, 17> kRouteNames = {"api_daily_papers",
                                                          "api_papers_search",
                                                          "api_paper",
                                                          "api_search",
                                                          "api_other",
                                                          "paper",
                                                          "papers",
                                                          "search",
                                                          "feed",
                                                          "trending",
                                                          "syndication",
                                                          "static",
                                                          "health",
                                                          "metrics",
                                                          "digest",
                                                          "collections",
                                                          "home"};

void append_escaped_label(std::string& out, std::string_view value) {
  for (char c : value) {
    if (c == '\\') {
      out += "\\\\";
    } else if (c == '"') {
      out += "\\\"";
    } else if (c == '\n') {
      out += "\\n";
    } else {
      out += c;
    }
  }
}

void append_value(std::string& out, double value) {
  if (std::isnan(value)) {
    out += "NaN";
  } else if (std::isinf(value)) {
    out += value > 0 ? "+Inf" : "-Inf";
  } else if (value == std::floor(value) && std::fabs(value) < 1e15) {
    out += fmt::format("{}", static_cast<int64_t>(value));
  } else {
    out += fmt::format("{}", value);
  }
}

}  // namespace

void MetricsText::help(std::string_view name, Kind kind, std::string_view description) {
  text_ += fmt::format("# HELP {} {}\n# TYPE {} {}\n", name, description, name,
                       kind == Kind::counter ? "counter" : "gauge");
}

void MetricsText::sample(std::string_view name, double value,
                         const std::vector<std::pair<std::string_view, std::string_view>>& labels) {
  text_ += name;
  if (!labels.empty()) {
    text_ += '{';
    for (size_t i = 0; i < labels.size(); ++i) {
      if (i > 0) text_ += ',';
      text_ += labels[i].first;
      text_ += "=\"";
      append_escaped_label(text_, labels[i].second);
      text_ += '"';
    }
    text_ += '}';
  }
  text_ += ' ';
  append_value(text_, value);
  text_ += '\n';
}

void MetricsText::single(std::string_view name, Kind kind, std::string_view description,
                         double value) {
  help(name, kind, description);
  sample(name, value);
}

size_t RequestMetrics::route_index(std::string_view path) {
  static_assert(kRouteNames.size() + 1 <= kRoutes);
  for (const auto& [prefix, name] : kRoutePrefixes) {
    const bool matches = prefix == "/" ? path == "/" : path.starts_with(prefix);
    if (!matches) continue;
    for (size_t i = 0; i < kRouteNames.size(); ++i) {
      if (kRouteNames[i] == name) return i;
    }
  }
  return kRouteNames.size();
}

std::string_view RequestMetrics::route_of(std::string_view path) {
  const size_t index = route_index(path);
  return index < kRouteNames.size() ? kRouteNames[index] : kOtherRoute;
}

void RequestMetrics::record(std::string_view path, int status, std::chrono::nanoseconds elapsed) {
  Route& route = routes_[route_index(path)];
  const size_t status_class = status >= 100 && status < 600 ? status / 100 - 1 : 4;
  route.by_status[status_class].fetch_add(1, std::memory_order_relaxed);
  const double seconds = std::chrono::duration<double>(elapsed).count();
  for (size_t i = 0; i < kBucketSeconds.size(); ++i) {
    if (seconds <= kBucketSeconds[i]) {
      route.buckets[i].fetch_add(1, std::memory_order_relaxed);
      break;
    }
  }
  route.count.fetch_add(1, std::memory_order_relaxed);
  route.total_nanoseconds.fetch_add(static_cast<uint64_t>(std::max<int64_t>(elapsed.count(), 0)),
                                    std::memory_order_relaxed);
}

void RequestMetrics::write(MetricsText& out) const {
  static constexpr std::array<std::string_view, kStatusClasses> kStatusNames = {"1xx", "2xx", "3xx",
                                                                                "4xx", "5xx"};
  auto name_of = [](size_t index) {
    return index < kRouteNames.size() ? kRouteNames[index] : kOtherRoute;
  };
  out.help("paperboy_http_requests_total", MetricsText::Kind::counter,
           "HTTP requests answered, by route and status class.");
  for (size_t r = 0; r <= kRouteNames.size(); ++r) {
    for (size_t s = 0; s < kStatusClasses; ++s) {
      const uint64_t count = routes_[r].by_status[s].load(std::memory_order_relaxed);
      if (count == 0) continue;
      out.sample("paperboy_http_requests_total", static_cast<double>(count),
                 {{"route", name_of(r)}, {"status", kStatusNames[s]}});
    }
  }
  out.text() +=
      "# HELP paperboy_http_request_duration_seconds Time from routing to the response, by "
      "route.\n# TYPE paperboy_http_request_duration_seconds histogram\n";
  for (size_t r = 0; r <= kRouteNames.size(); ++r) {
    const Route& route = routes_[r];
    const uint64_t count = route.count.load(std::memory_order_relaxed);
    if (count == 0) continue;
    uint64_t cumulative = 0;
    for (size_t i = 0; i < kBucketSeconds.size(); ++i) {
      cumulative += route.buckets[i].load(std::memory_order_relaxed);
      const std::string bound = fmt::format("{}", kBucketSeconds[i]);
      out.sample("paperboy_http_request_duration_seconds_bucket", static_cast<double>(cumulative),
                 {{"route", name_of(r)}, {"le", bound}});
    }
    out.sample("paperboy_http_request_duration_seconds_bucket", static_cast<double>(count),
               {{"route", name_of(r)}, {"le", "+Inf"}});
    out.sample("paperboy_http_request_duration_seconds_sum",
               static_cast<double>(route.total_nanoseconds.load(std::memory_order_relaxed)) / 1e9,
               {{"route", name_of(r)}});
    out.sample("paperboy_http_request_duration_seconds_count", static_cast<double>(count),
               {{"route", name_of(r)}});
  }
}

int64_t resident_memory_bytes() {
  std::ifstream statm("/proc/self/statm");
  int64_t size_pages = 0;
  int64_t resident_pages = 0;
  if (!(statm >> size_pages >> resident_pages)) return 0;
  return resident_pages * static_cast<int64_t>(::sysconf(_SC_PAGESIZE));
}

int64_t directory_bytes(const std::string& directory) {
  std::error_code error;
  int64_t total = 0;
  for (std::filesystem::recursive_directory_iterator it(directory, error), end; !error && it != end;
       it.increment(error)) {
    std::error_code size_error;
    if (!it->is_regular_file(size_error)) continue;
    const auto size = it->file_size(size_error);
    if (!size_error) total += static_cast<int64_t>(size);
  }
  return total;
}

}  // namespace paperboy::web
