// Answers rendered for anonymous visitors, shared between them for a short while. Rendering a
// page (store queries, a search, templates) costs far more than copying one, and a popular page
// is asked for many times a second. An answer is reused for at most `max_age` after its
// rendering began, so a vote or a new paper written by anyone shows on anonymous pages within
// that bound; invalidate() (called after every write through this server) drops every answer
// at once. Signed-in visitors never get these answers: their pages are rendered for them.
//
// Renders are single-flight: while one request renders a key, requests for the same key wait
// for its answer instead of rendering the same page again. Without that, a popular page that
// expired under load was rendered by every request arriving before the first rendering ended,
// and those renders, competing for the cores, made each other slower still.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <iterator>
#include <list>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>
#include <utility>
#include <variant>
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

  class Render;
  // A fresh answer for `key`; or, while another request renders it, that rendering's answer
  // once it is done; or else a Render: the caller renders the answer and hands it to finish().
  // A rendering that ends unshareable (Render::finish(nullptr) or no finish at all) lets each
  // waiting request render for itself.
  std::variant<std::shared_ptr<const CachedAnswer>, Render> claim(
      const std::string& key, Clock::time_point now = Clock::now());

  // Drops every answer, and any answer being rendered now, for renders that begin later.
  // Requests that arrive after it do not wait for a rendering that began before it.
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
  // One rendering of a key in progress, and the requests waiting for it.
  struct Flight {
    bool done = false;
    std::shared_ptr<const CachedAnswer> answer;  // null when done: render for yourself
    std::condition_variable finished;
  };
  void erase(std::list<Entry>::iterator entry);  // with mutex_ held
  void land(const std::string& key, const std::shared_ptr<Flight>& flight,
            std::shared_ptr<const CachedAnswer> answer, Ticket ticket);

  const std::chrono::milliseconds max_age_;
  const size_t max_bytes_;
  mutable std::mutex mutex_;
  uint64_t generation_ = 0;
  size_t bytes_ = 0;
  std::list<Entry> recent_;  // most recently used first
  std::unordered_map<std::string, std::list<Entry>::iterator> by_key_;
  std::unordered_map<std::string, std::shared_ptr<Flight>> in_flight_;
};

// The duty to render one key's answer (RenderCache::claim), released on destruction.
class RenderCache::Render {
 public:
  Render(Render&& other) noexcept;
  Render& operator=(Render&&) = delete;
  ~Render();

  // Keeps `answer` for later requests (when no write came since the rendering began) and hands
  // it to the requests waiting for it; null: the answer is this visitor's alone.
  void finish(std::shared_ptr<const CachedAnswer> answer);

 private:
  friend class RenderCache;
  Render(RenderCache& cache, std::string key, std::shared_ptr<Flight> flight, Ticket ticket);

  RenderCache* cache_;
  std::string key_;
  std::shared_ptr<Flight> flight_;  // null: a rendering nobody waits for
  Ticket ticket_;
  bool finished_ = false;
};

}  // namespace paperboy::web
