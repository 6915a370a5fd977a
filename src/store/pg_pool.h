// Internal to the store's PostgreSQL backends: a small pool of libpq connections, so the web
// server's threads query in parallel (a connection serves one thread at a time). Connections
// open on demand up to the pool's size; one that broke (the server restarted, the network
// dropped) is closed when returned, and the next borrower opens a fresh one.
#pragma once

#include <condition_variable>
#include <cstddef>
#include <memory>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include "core/result.h"
#include "store/pg_access.h"

namespace paperboy::store::pg {

class Pool {
 public:
  // A borrowed connection, returned to the pool when destroyed.
  class Borrowed {
   public:
    Borrowed(Pool& pool, std::unique_ptr<Connection> connection)
        : pool_(&pool), connection_(std::move(connection)) {}
    Borrowed(Borrowed&& other) noexcept
        : pool_(other.pool_), connection_(std::move(other.connection_)) {}
    Borrowed& operator=(Borrowed&&) = delete;
    ~Borrowed() {
      if (connection_) pool_->give_back(std::move(connection_));
    }
    Connection& operator*() const { return *connection_; }
    Connection* operator->() const { return connection_.get(); }

   private:
    Pool* pool_;
    std::unique_ptr<Connection> connection_;
  };

  Pool(std::string url, size_t size) : url_(std::move(url)), size_(size) {}

  // Waits for an idle connection, or opens one while fewer than `size` are out.
  Result<Borrowed> borrow() {
    std::unique_lock lock(mutex_);
    returned_.wait(lock, [this] { return !idle_.empty() || open_ < size_; });
    if (!idle_.empty()) {
      auto connection = std::move(idle_.back());
      idle_.pop_back();
      return Borrowed(*this, std::move(connection));
    }
    ++open_;
    lock.unlock();
    auto opened = Connection::open(url_);
    if (!opened) {
      std::lock_guard relock(mutex_);
      --open_;
      returned_.notify_one();
      return std::unexpected(opened.error());
    }
    return Borrowed(*this, std::move(*opened));
  }

  const std::string& url() const { return url_; }

 private:
  void give_back(std::unique_ptr<Connection> connection) {
    // A connection left inside a transaction (a borrower's error path) or broken is not reused.
    const bool reusable = !connection->broken() && !connection->in_transaction();
    std::lock_guard lock(mutex_);
    if (reusable) {
      idle_.push_back(std::move(connection));
    } else {
      --open_;
    }
    returned_.notify_one();
  }

  std::string url_;
  size_t size_;
  std::mutex mutex_;
  std::condition_variable returned_;
  std::vector<std::unique_ptr<Connection>> idle_;
  size_t open_ = 0;
};

}  // namespace paperboy::store::pg
