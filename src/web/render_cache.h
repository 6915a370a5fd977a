// Answers rendered for anonymous visitors, shared between them for a short while. Rendering a
// page (store queries, a search, templates) costs far more than copying one, and a popular page
// is asked for many times a second. An answer is reused for at most `max_age` after its
// rendering began, so a vote or a new paper written by anyone shows on anonymous pages within
// that bound; invalidate() (called after every write through this server) drops every answer
// at once. Signed-in visitors never get these answers: their pages are rendered for them.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <iterator>
#include <list>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

namespace paperboy::web {

struct CachedAnswer {
  int status = 200;
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
};

class RenderCache {
 public:
  using Clock = std::chrono::steady_clock;

  // max_age 0 turns the cache off. Past max_bytes of bodies, the least recently used answers go.
  RenderCache(std::chrono::milliseconds max_age, size_t max_bytes);

  bool enabled() const { return max_age_.count() > 0; }

  // What a render beginning now is: pass it to store() once the answer is ready, so that an
  // answer whose rendering overlapped a write is not kept past invalidate().
  struct Ticket {
    uint64_t generation;
    Clock::time_point began;
  };
  Ticket begin(Clock::time_point now = Clock::now()) const;

  // The answer for `key` if one rendered less than max_age before `now` and since the last
  // invalidate(); null otherwise.
  std::shared_ptr<const CachedAnswer> find(const std::string& key,
                                           Clock::time_point now = Clock::now());
  void store(std::string key, std::shared_ptr<const CachedAnswer> answer, Ticket ticket);

  // Drops every answer, and any answer being rendered now, for renders that begin later.
  void invalidate();

  size_t size() const;
  size_t bytes() const;

 private:
  struct Entry {
    std::string key;
    std::shared_ptr<const CachedAnswer> answer;
    Ticket ticket;
    size_t bytes;
  };
  void erase(std::list<Entry>::iterator entry);  // with mutex_ held

  const std::chrono::milliseconds max_age_;
  const size_t max_bytes_;
  mutable std::mutex mutex_;
  uint64_t generation_ = 0;
  size_t bytes_ = 0;
  std::list<Entry> recent_;  // most recently used first
  std::unordered_map<std::string, std::list<Entry>::iterator> by_key_;
};

}  // namespace paperboy::web
