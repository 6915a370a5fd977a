#include "web/render_cache.h"

#include <utility>

namespace paperboy::web {

RenderCache::RenderCache(std::chrono::milliseconds max_age, size_t max_bytes)
    : max_age_(max_age), max_bytes_(max_bytes) {}

RenderCache::Ticket RenderCache::begin(Clock::time_point now) const {
  std::lock_guard lock(mutex_);
  return Ticket{generation_, now};
}

std::shared_ptr<const CachedAnswer> RenderCache::find(const std::string& key,
                                                      Clock::time_point now) {
  if (!enabled()) return nullptr;
  std::lock_guard lock(mutex_);
  auto found = by_key_.find(key);
  if (found == by_key_.end()) return nullptr;
  const auto entry = found->second;
  if (entry->ticket.generation != generation_ || now - entry->ticket.began >= max_age_) {
    erase(entry);
    return nullptr;
  }
  recent_.splice(recent_.begin(), recent_, entry);
  return entry->answer;
}

void RenderCache::store(std::string key, std::shared_ptr<const CachedAnswer> answer,
                        Ticket ticket) {
  if (!enabled()) return;
  size_t bytes = key.size() + answer->body.size();
  for (const auto& [name, value] : answer->headers) bytes += name.size() + value.size();
  if (bytes > max_bytes_) return;
  std::lock_guard lock(mutex_);
  if (ticket.generation != generation_) return;
  if (auto found = by_key_.find(key); found != by_key_.end()) {
    // Keep whichever rendering began later: it read the newer data.
    if (found->second->ticket.began >= ticket.began) return;
    erase(found->second);
  }
  while (bytes_ + bytes > max_bytes_ && !recent_.empty()) erase(std::prev(recent_.end()));
  recent_.push_front(Entry{key, std::move(answer), ticket, bytes});
  by_key_.emplace(std::move(key), recent_.begin());
  bytes_ += bytes;
}

void RenderCache::invalidate() {
  std::lock_guard lock(mutex_);
  ++generation_;
  by_key_.clear();
  recent_.clear();
  in_flight_.clear();
  bytes_ = 0;
}

std::variant<std::shared_ptr<const CachedAnswer>, RenderCache::Render> RenderCache::claim(
    const std::string& key, Clock::time_point now) {
  if (!enabled()) return Render(*this, key, nullptr, Ticket{0, now});
  std::unique_lock lock(mutex_);
  if (auto found = by_key_.find(key); found != by_key_.end()) {
    const auto entry = found->second;
    if (entry->ticket.generation == generation_ && now - entry->ticket.began < max_age_) {
      recent_.splice(recent_.begin(), recent_, entry);
      return entry->answer;
    }
    erase(entry);
  }
  if (auto flying = in_flight_.find(key); flying != in_flight_.end()) {
    const std::shared_ptr<Flight> flight = flying->second;
    flight->finished.wait(lock, [&] { return flight->done; });
    if (flight->answer) return flight->answer;
    return Render(*this, key, nullptr, Ticket{generation_, Clock::now()});
  }
  auto flight = std::make_shared<Flight>();
  in_flight_.emplace(key, flight);
  return Render(*this, key, std::move(flight), Ticket{generation_, now});
}

void RenderCache::land(const std::string& key, const std::shared_ptr<Flight>& flight,
                       std::shared_ptr<const CachedAnswer> answer, Ticket ticket) {
  if (answer) store(key, answer, ticket);
  if (!flight) return;
  std::lock_guard lock(mutex_);
  // invalidate() may have dropped this flight and a newer one may have taken its key.
  if (auto flying = in_flight_.find(key); flying != in_flight_.end() && flying->second == flight)
    in_flight_.erase(flying);
  flight->done = true;
  flight->answer = std::move(answer);
  flight->finished.notify_all();
}

RenderCache::Render::Render(RenderCache& cache, std::string key, std::shared_ptr<Flight> flight,
                            Ticket ticket)
    : cache_(&cache), key_(std::move(key)), flight_(std::move(flight)), ticket_(ticket) {}

RenderCache::Render::Render(Render&& other) noexcept
    : cache_(other.cache_),
      key_(std::move(other.key_)),
      flight_(std::move(other.flight_)),
      ticket_(other.ticket_),
      finished_(std::exchange(other.finished_, true)) {}

RenderCache::Render::~Render() {
  if (!finished_) cache_->land(key_, flight_, nullptr, ticket_);
}

void RenderCache::Render::finish(std::shared_ptr<const CachedAnswer> answer) {
  if (finished_) return;
  finished_ = true;
  cache_->land(key_, flight_, std::move(answer), ticket_);
}

size_t RenderCache::size() const {
  std::lock_guard lock(mutex_);
  return recent_.size();
}

size_t RenderCache::bytes() const {
  std::lock_guard lock(mutex_);
  return bytes_;
}

void RenderCache::erase(std::list<Entry>::iterator entry) {
  bytes_ -= entry->bytes;
  by_key_.erase(entry->key);
  recent_.erase(entry);
}

}  // namespace paperboy::web
