#include "web/render_gate.h"

namespace paperboy::web {

RenderGate::RenderGate(size_t width) : width_(width) {}

RenderGate::Pass RenderGate::enter() {
  if (width_ == 0) return Pass(nullptr);
  std::unique_lock lock(mutex_);
  if (running_ < width_ && queue_.empty()) {
    ++running_;
    return Pass(this);
  }
  Waiter waiter;
  queue_.push_back(&waiter);
  // leave() hands its place over (running_ stays as it was) and wakes only this waiter.
  waiter.turn.wait(lock, [&] { return waiter.admitted; });
  return Pass(this);
}

size_t RenderGate::waiting() const {
  std::lock_guard lock(mutex_);
  return queue_.size();
}

void RenderGate::leave() {
  std::lock_guard lock(mutex_);
  if (queue_.empty()) {
    --running_;
    return;
  }
  Waiter* next = queue_.front();
  queue_.pop_front();
  next->admitted = true;
  next->turn.notify_one();
}

}  // namespace paperboy::web
