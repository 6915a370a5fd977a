// Test helper: a real HTTP server on 127.0.0.1 that replays recorded responses, including the
// failures sync must survive (503 + Retry-After, slow answers, bodies cut short, broken XML).
#pragma once

#include <httplib.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <map>
#include <mutex>
#include <sstream>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

namespace paperboy::sync::testing {

inline std::filesystem::path fixture_path(const std::string& name) {
  return std::filesystem::path(PAPERBOY_SOURCE_DIR) / "src/sync/testdata" / name;
}

inline std::string fixture(const std::string& name) {
  std::ifstream in(fixture_path(name), std::ios::binary);
  if (!in) throw std::runtime_error("missing fixture " + name);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

struct Reply {
  int status = 200;
  std::string body;
  std::string content_type = "application/xml; charset=utf-8";
  std::map<std::string, std::string> headers;
  std::chrono::milliseconds delay{0};  // sleep before answering
  bool truncate = false;               // announce the whole body, send half, close

  static Reply ok(std::string body, std::string type = "application/xml; charset=utf-8") {
    Reply reply;
    reply.body = std::move(body);
    reply.content_type = std::move(type);
    return reply;
  }
};

// Each rule matches requests whose query holds all its parameters (and whose path is its path);
// its replies are used in order, the last one again for every later match.
class ReplayServer {
 public:
  ReplayServer() {
    server_.Get(".*", [this](const httplib::Request& request, httplib::Response& response) {
      answer(request, response);
    });
    port_ = server_.bind_to_any_port("127.0.0.1");
    thread_ = std::thread([this] { server_.listen_after_bind(); });
    // stop() before the accept loop runs would be lost, and the destructor would wait forever.
    while (!server_.is_running()) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  ~ReplayServer() {
    server_.stop();
    thread_.join();
  }
  ReplayServer(const ReplayServer&) = delete;
  ReplayServer& operator=(const ReplayServer&) = delete;

  std::string url(const std::string& path) const {
    return "http://127.0.0.1:" + std::to_string(port_) + path;
  }

  void on(const std::string& path, std::map<std::string, std::string> params,
          std::vector<Reply> replies) {
    std::lock_guard lock(mutex_);
    rules_.push_back(Rule{path, std::move(params), std::move(replies), 0});
  }

  // Every request so far, as "path?query" with the query decoded.
  std::vector<std::string> requests() const {
    std::lock_guard lock(mutex_);
    return requests_;
  }

  size_t count_requests(const std::string& needle) const {
    std::lock_guard lock(mutex_);
    size_t count = 0;
    for (const std::string& request : requests_) count += request.find(needle) != std::string::npos;
    return count;
  }

 private:
  struct Rule {
    std::string path;
    std::map<std::string, std::string> params;
    std::vector<Reply> replies;
    size_t used = 0;
  };

  void answer(const httplib::Request& request, httplib::Response& response) {
    Reply reply;
    {
      std::lock_guard lock(mutex_);
      std::string logged = request.path;
      char separator = '?';
      for (const auto& [name, value] : request.params) {
        logged += separator + name + "=" + value;
        separator = '&';
      }
      requests_.push_back(logged);
      Rule* matched = nullptr;
      for (Rule& rule : rules_) {
        if (rule.path != request.path) continue;
        bool all = true;
        for (const auto& [name, value] : rule.params) {
          all = all && request.has_param(name.c_str()) &&
                request.get_param_value(name.c_str()) == value;
        }
        if (all) {
          matched = &rule;
          break;
        }
      }
      if (!matched || matched->replies.empty()) {
        response.status = 404;
        response.set_content("no recorded response for " + logged, "text/plain");
        return;
      }
      reply = matched->replies[std::min(matched->used, matched->replies.size() - 1)];
      ++matched->used;
    }
    std::this_thread::sleep_for(reply.delay);
    response.status = reply.status;
    for (const auto& [name, value] : reply.headers) response.set_header(name.c_str(), value);
    if (reply.truncate) {
      auto body = std::make_shared<std::string>(reply.body);
      response.set_content_provider(body->size(), reply.content_type,
                                    [body](size_t offset, size_t, httplib::DataSink& sink) {
                                      if (offset > 0) return false;
                                      sink.write(body->data(), body->size() / 2);
                                      return true;
                                    });
      return;
    }
    response.set_content(reply.body, reply.content_type.c_str());
  }

  httplib::Server server_;
  int port_ = 0;
  std::thread thread_;
  mutable std::mutex mutex_;
  std::vector<Rule> rules_;
  std::vector<std::string> requests_;
};

}  // namespace paperboy::sync::testing
