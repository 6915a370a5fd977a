// Lets a few renders run at once and queues the rest in arrival order. The server keeps a
// thread per keep-alive connection (httplib), so 64 connections mean 64 threads rendering at
// once on 2 cores: each render then takes 32 times its CPU time, a costly one (a search) far
// longer, and the scheduler and lock hand-offs favour no one in particular. Admitting about
// as many renders as there are cores and serving the queue first come first served keeps the
// throughput and bounds the wait of every request by the work queued ahead of it.
#pragma once

#include <condition_variable>
#include <cstddef>
#include <deque>
#include <mutex>
#include <utility>

namespace paperboy::web {

class RenderGate {
 public:
  // width 0: no limit.
  explicit RenderGate(size_t width);

  // Holding a Pass is being admitted; destroying it admits the next in line.
  class [[nodiscard]] Pass {
   public:
    Pass(Pass&& other) noexcept : gate_(std::exchange(other.gate_, nullptr)) {}
    Pass& operator=(Pass&&) = delete;
    ~Pass() {
      if (gate_) gate_->leave();
    }

   private:
    friend class RenderGate;
    explicit Pass(RenderGate* gate) : gate_(gate) {}
    RenderGate* gate_;  // null: nothing to release
  };

  // Waits until this caller is admitted.
  Pass enter();

  size_t width() const { return width_; }
  // Callers waiting to be admitted now.
  size_t waiting() const;

 private:
  struct Waiter {
    bool admitted = false;
    std::condition_variable turn;
  };
  void leave();

  const size_t width_;
  mutable std::mutex mutex_;
  size_t running_ = 0;
  std::deque<Waiter*> queue_;  // oldest first; each waits on its own condition variable
};

}  // namespace paperboy::web
