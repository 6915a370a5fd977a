// A closed-loop HTTP/1.1 load client that records every request's own latency, as a cross-check
// of wrk: wrk 4 "corrects" its latency histogram for coordinated omission (each sample over twice
// the mean interval between a connection's requests adds synthetic samples), so a few slow
// requests can dominate its percentiles. This client reports what each counted request waited,
// from its first byte written (or its connection's connect(), for a new connection) to the last
// byte of its answer, and checks the figures against Little's law.
//
//   web_load_client --url http://127.0.0.1:8080 --paths paths.txt --connections 64 --seconds 10
//
// Each request takes the next line of the --paths file, like bench/web/rotate.lua: a path (a
// GET), or a method and a path followed by tab-separated header lines, e.g.
// "POST /api/papers/2401.00001/upvote<TAB>Cookie: s=1<TAB>X-CSRF-Token: t" (sent without a body).
// --rate R offers R requests/s instead (an open loop, spread evenly over the connections): each
// request's latency then counts from when it was due, so a request held up because every
// connection was busy counts its wait too.
#include <arpa/inet.h>
#include <fmt/core.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <cctype>
#include <cerrno>
#include <charconv>
#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <string>
#include <string_view>
#include <vector>

namespace {

using Clock = std::chrono::steady_clock;

struct Target {
  std::string host;
  uint16_t port = 80;
};

// Accepts http://HOST:PORT with an IPv4 address, which is what the benchmarks start.
bool parse_url(std::string_view url, Target& target) {
  constexpr std::string_view kScheme = "http://";
  if (!url.starts_with(kScheme)) return false;
  url.remove_prefix(kScheme.size());
  if (const auto slash = url.find('/'); slash != std::string_view::npos) url = url.substr(0, slash);
  const auto colon = url.rfind(':');
  target.host = std::string(url.substr(0, colon));
  in_addr address{};
  if (inet_pton(AF_INET, target.host.c_str(), &address) != 1) return false;
  if (colon == std::string_view::npos) return true;
  const auto digits = url.substr(colon + 1);
  const auto parsed = std::from_chars(digits.data(), digits.data() + digits.size(), target.port);
  return parsed.ec == std::errc{} && parsed.ptr == digits.data() + digits.size();
}

struct Counts {
  uint64_t connect_errors = 0;
  uint64_t read_errors = 0;
  uint64_t non_2xx = 0;
  uint64_t reconnects = 0;
};

class LoadClient {
 public:
  LoadClient(Target target, std::vector<std::string> paths, int connections, double rate)
      : target_(std::move(target)),
        requests_(requests_of(paths, target_.host)),
        connections_(connections),
        rate_(rate) {
    address_.sin_family = AF_INET;
    address_.sin_port = htons(target_.port);
    inet_pton(AF_INET, target_.host.c_str(), &address_.sin_addr);
  }

  bool run(std::chrono::duration<double> length) {
    epoll_ = epoll_create1(0);
    if (epoll_ < 0) return false;
    for (int i = 0; i < connections_; ++i) {
      if (!open_connection(i)) return false;
    }
    started_ = Clock::now();
    if (rate_ > 0) {
      // Connection i's requests are due at started + i / rate + k * connections / rate.
      for (int i = 0; i < connections_; ++i) {
        connection_states_[i].due = started_ + seconds_to_clock(i / rate_);
      }
    }
    const auto deadline = started_ + std::chrono::duration_cast<Clock::duration>(length);
    std::vector<epoll_event> events(connections_);
    while (Clock::now() < deadline) {
      const int ready = epoll_wait(epoll_, events.data(), connections_, rate_ > 0 ? 1 : 10);
      for (int i = 0; i < ready; ++i) on_event(static_cast<int>(events[i].data.u32), deadline);
      if (rate_ > 0) start_due_requests();
    }
    finished_ = Clock::now();
    for (const auto& connection : connection_states_) {
      if (connection.socket >= 0) close(connection.socket);
    }
    close(epoll_);
    return true;
  }

  void report(int connections) {
    const double seconds = std::chrono::duration<double>(finished_ - started_).count();
    std::sort(latencies_us_.begin(), latencies_us_.end());
    const auto count = latencies_us_.size();
    auto percentile = [&](double p) {
      if (count == 0) return 0.0;
      const auto rank = static_cast<size_t>(p / 100.0 * static_cast<double>(count - 1) + 0.5);
      return latencies_us_[std::min(rank, count - 1)] / 1000.0;
    };
    double sum_ms = 0;
    for (const auto value : latencies_us_) sum_ms += value / 1000.0;
    const double mean_ms = count ? sum_ms / static_cast<double>(count) : 0;
    const double rate = static_cast<double>(count) / seconds;
    if (rate_ > 0) fmt::print("offered {:.1f} requests/s (open loop)\n", rate_);
    fmt::print("requests {} in {:.2f} s: {:.1f} requests/s\n", count, seconds, rate);
    fmt::print("errors: connect {}, read {}, non-2xx {}; reconnects {}\n", counts_.connect_errors,
               counts_.read_errors, counts_.non_2xx, counts_.reconnects);
    fmt::print(
        "latency ms: mean {:.2f}, p50 {:.2f}, p90 {:.2f}, p99 {:.2f}, p99.9 {:.2f}, max {:.2f}\n",
        mean_ms, percentile(50), percentile(90), percentile(99), percentile(99.9),
        count ? latencies_us_.back() / 1000.0 : 0.0);
    // Little's law: requests in flight = throughput x mean latency, which in a closed loop can
    // approach but never exceed the connections.
    fmt::print("little: mean latency x throughput = {:.1f} requests in flight, of {} connections\n",
               rate * mean_ms / 1000.0, connections);
    fmt::print("summary: rps={:.1f} p99_ms={:.2f} mean_ms={:.2f} errors={}\n", rate, percentile(99),
               mean_ms, counts_.connect_errors + counts_.read_errors + counts_.non_2xx);
  }

 private:
  struct Connection {
    int socket = -1;
    bool connecting = false;
    // With a rate: the connection holds its next request until it is due.
    bool waiting = false;
    Clock::time_point due;
    Clock::time_point request_started;
    std::string request;
    size_t written = 0;
    std::string received;
  };

  bool open_connection(int index) {
    if (connection_states_.size() <= static_cast<size_t>(index))
      connection_states_.resize(index + 1);
    Connection& connection = connection_states_[index];
    const Clock::time_point due = connection.due;  // a reconnection keeps the schedule
    connection = Connection{};
    connection.due = due;
    connection.socket = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
    if (connection.socket < 0) return false;
    const int yes = 1;
    setsockopt(connection.socket, IPPROTO_TCP, TCP_NODELAY, &yes, sizeof yes);
    connection.request_started = Clock::now();
    connection.connecting = true;
    if (connect(connection.socket, reinterpret_cast<const sockaddr*>(&address_), sizeof address_) !=
            0 &&
        errno != EINPROGRESS) {
      ++counts_.connect_errors;
      return false;
    }
    next_request(connection);
    connection.waiting = rate_ > 0;
    epoll_event event{};
    event.events = EPOLLIN | EPOLLOUT;
    event.data.u32 = static_cast<uint32_t>(index);
    return epoll_ctl(epoll_, EPOLL_CTL_ADD, connection.socket, &event) == 0;
  }

  void next_request(Connection& connection) {
    connection.request = requests_[next_request_++ % requests_.size()];
    connection.written = 0;
    connection.received.clear();
  }

  // The HTTP request of each line of the --paths file.
  static std::vector<std::string> requests_of(const std::vector<std::string>& lines,
                                              const std::string& host) {
    std::vector<std::string> requests;
    for (const auto& line : lines) {
      std::vector<std::string_view> fields;
      std::string_view rest = line;
      for (auto tab = rest.find('\t'); tab != std::string_view::npos; tab = rest.find('\t')) {
        fields.push_back(rest.substr(0, tab));
        rest.remove_prefix(tab + 1);
      }
      fields.push_back(rest);
      const auto space = fields[0].find(' ');
      const std::string method(space == std::string_view::npos ? "GET"
                                                               : fields[0].substr(0, space));
      const std::string path(space == std::string_view::npos ? fields[0]
                                                             : fields[0].substr(space + 1));
      std::string request = method + " " + path + " HTTP/1.1\r\nHost: " + host +
                            "\r\nUser-Agent: web_load_client\r\n";
      for (size_t i = 1; i < fields.size(); ++i) request += std::string(fields[i]) + "\r\n";
      if (method != "GET" && method != "HEAD") request += "Content-Length: 0\r\n";
      requests.push_back(request + "\r\n");
    }
    return requests;
  }

  void reconnect(int index, bool failed) {
    Connection& connection = connection_states_[index];
    epoll_ctl(epoll_, EPOLL_CTL_DEL, connection.socket, nullptr);
    close(connection.socket);
    if (failed) ++counts_.read_errors;
    ++counts_.reconnects;
    if (!open_connection(index)) connection_states_[index].socket = -1;
  }

  void watch(int index, uint32_t events) {
    epoll_event event{};
    event.events = events;
    event.data.u32 = static_cast<uint32_t>(index);
    epoll_ctl(epoll_, EPOLL_CTL_MOD, connection_states_[index].socket, &event);
  }

  // Writes what is left of the connection's request; once it is all out, waits for the answer.
  void send_request(int index) {
    Connection& connection = connection_states_[index];
    const ssize_t sent = send(connection.socket, connection.request.data() + connection.written,
                              connection.request.size() - connection.written, MSG_NOSIGNAL);
    if (sent < 0 && errno != EAGAIN) return reconnect(index, true);
    if (sent > 0) connection.written += static_cast<size_t>(sent);
    watch(index, connection.written == connection.request.size() ? EPOLLIN : EPOLLOUT);
  }

  void on_event(int index, Clock::time_point deadline) {
    Connection& connection = connection_states_[index];
    if (connection.socket < 0) return;
    if (connection.connecting) {
      int error = 0;
      socklen_t length = sizeof error;
      getsockopt(connection.socket, SOL_SOCKET, SO_ERROR, &error, &length);
      if (error != 0) {
        ++counts_.connect_errors;
        return reconnect(index, false);
      }
      connection.connecting = false;
      if (connection.waiting) return watch(index, EPOLLIN);
    }
    if (connection.waiting) return reconnect(index, true);  // closed by the server while idle
    if (connection.written < connection.request.size()) return send_request(index);

    char buffer[65536];
    bool closed = false;
    while (true) {
      const ssize_t got = recv(connection.socket, buffer, sizeof buffer, 0);
      if (got == 0) {
        closed = true;
        break;
      }
      if (got < 0) {
        if (errno == EAGAIN) break;
        return reconnect(index, true);
      }
      connection.received.append(buffer, static_cast<size_t>(got));
    }
    const auto header_end = connection.received.find("\r\n\r\n");
    const std::string_view head(connection.received.data(),
                                header_end == std::string::npos ? 0 : header_end);
    // Answers are sent with a Content-Length; a chunked one cannot be delimited here.
    const bool complete = header_end != std::string::npos && !chunked(head) &&
                          connection.received.size() >= header_end + 4 + content_length(head);
    if (!complete) {
      if (closed || (header_end != std::string::npos && chunked(head))) reconnect(index, true);
      return;
    }

    const auto now = Clock::now();
    if (now < deadline) {
      latencies_us_.push_back(static_cast<uint32_t>(
          std::chrono::duration_cast<std::chrono::microseconds>(now - connection.request_started)
              .count()));
      const int status = head.size() > 12 ? std::atoi(std::string(head.substr(9, 3)).c_str()) : 0;
      if (status < 200 || status > 299) ++counts_.non_2xx;
    }
    const Clock::time_point next_due =
        rate_ > 0 ? connection.due + seconds_to_clock(connections_ / rate_) : Clock::time_point{};
    if (closed || has_header(head, "connection: close")) {
      reconnect(index, false);
      connection_states_[index].due = next_due;
      return;
    }
    next_request(connection);
    if (rate_ > 0) {
      connection.due = next_due;
      connection.waiting = true;
      watch(index, EPOLLIN);
      return;
    }
    connection.request_started = Clock::now();
    send_request(index);
  }

  // Sends every request that is due on a connected, idle connection; its latency counts from
  // when it was due.
  void start_due_requests() {
    const auto now = Clock::now();
    for (size_t index = 0; index < connection_states_.size(); ++index) {
      Connection& connection = connection_states_[index];
      if (connection.socket < 0 || !connection.waiting || connection.connecting ||
          connection.due > now) {
        continue;
      }
      connection.waiting = false;
      connection.request_started = connection.due;
      send_request(static_cast<int>(index));
    }
  }

  static Clock::duration seconds_to_clock(double seconds) {
    return std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(seconds));
  }

  static std::string lowercase(std::string_view text) {
    std::string lower(text);
    std::transform(lower.begin(), lower.end(), lower.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    return lower;
  }

  static size_t content_length(std::string_view head) {
    const std::string lower = lowercase(head);
    const auto at = lower.find("\r\ncontent-length:");
    if (at == std::string::npos) return 0;
    return std::strtoull(lower.c_str() + at + 17, nullptr, 10);
  }

  static bool has_header(std::string_view head, std::string_view lowercase_line) {
    return lowercase(head).find("\r\n" + std::string(lowercase_line)) != std::string::npos;
  }

  static bool chunked(std::string_view head) {
    return has_header(head, "transfer-encoding: chunked");
  }

  Target target_;
  std::vector<std::string> requests_;
  int connections_;
  double rate_;
  sockaddr_in address_{};
  int epoll_ = -1;
  std::vector<Connection> connection_states_;
  size_t next_request_ = 0;
  std::vector<uint32_t> latencies_us_;
  Counts counts_;
  Clock::time_point started_;
  Clock::time_point finished_;
};

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"Closed-loop HTTP/1.1 load with every request's latency (a cross-check of wrk)"};
  std::string url;
  std::string paths_file;
  int connections = 64;
  double seconds = 10;
  double rate = 0;
  app.add_option("--url", url, "server, http://IPV4:PORT")->required();
  app.add_option("--paths", paths_file,
                 "requests, one a line, taken in turn: a path, or METHOD PATH and tab-separated "
                 "header lines")
      ->required()
      ->check(CLI::ExistingFile);
  app.add_option("--connections", connections, "keep-alive connections, one request each at a time")
      ->check(CLI::Range(1, 10000));
  app.add_option("--seconds", seconds, "how long to run")->check(CLI::PositiveNumber);
  app.add_option("--rate", rate,
                 "offer this many requests/s, latency counted from when each was due (0: each "
                 "connection sends its next request as soon as the last is answered)")
      ->check(CLI::NonNegativeNumber);
  CLI11_PARSE(app, argc, argv);

  Target target;
  if (!parse_url(url, target)) {
    fmt::print(stderr, "web_load_client: --url: expected http://IPV4:PORT, got '{}'\n", url);
    return 2;
  }
  std::vector<std::string> paths;
  std::ifstream lines(paths_file);
  for (std::string line; std::getline(lines, line);) {
    if (!line.empty()) paths.push_back(line);
  }
  if (paths.empty()) {
    fmt::print(stderr, "web_load_client: {}: no paths\n", paths_file);
    return 2;
  }
  LoadClient client(target, std::move(paths), connections, rate);
  if (!client.run(std::chrono::duration<double>(seconds))) {
    fmt::print(stderr, "web_load_client: cannot connect to {}: {}\n", url, std::strerror(errno));
    return 1;
  }
  client.report(connections);
  return 0;
}
