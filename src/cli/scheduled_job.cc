#include "cli/scheduled_job.h"

#include <algorithm>
#include <cstdio>

namespace paperboy::cli {

namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

}  // namespace

ScheduledJob::ScheduledJob(std::string name, store::ClusterLock& lock, seconds interval,
                           seconds lease, std::function<void()> work)
    : name_(std::move(name)),
      holder_(store::cluster_holder_name()),
      lock_(lock),
      interval_(interval),
      lease_(lease),
      work_(std::move(work)),
      thread_([this] { poll_until_stopped(); }) {}

ScheduledJob::~ScheduledJob() {
  request_stop();
  thread_.join();
}

void ScheduledJob::request_stop() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_all();
}

bool ScheduledJob::wait_or_stop(milliseconds period) {
  std::unique_lock lock(mutex_);
  return wake_.wait_for(lock, period, [this] { return stopping_; });
}

void ScheduledJob::poll_until_stopped() {
  // Polling often enough to take over a dead node's job soon after its lease ends, without
  // querying the database more than every second.
  const milliseconds poll = std::min<milliseconds>(
      interval_, std::clamp<milliseconds>(lease_ / 4, seconds(1), seconds(30)));
  do {
    auto claimed = lock_.try_claim(name_, holder_, lease_);
    if (!claimed) {
      if (claimed.error().message != last_error_) {
        last_error_ = claimed.error().message;
        std::fprintf(stderr, "paperboy serve: %s: %s\n", name_.c_str(), last_error_.c_str());
      }
    } else {
      last_error_.clear();
      if (*claimed) run_holding_lease();
    }
  } while (!wait_or_stop(poll));
}

void ScheduledJob::run_holding_lease() {
  // A heartbeat renews the lease while the work runs, so a long run keeps the job and a dead
  // node's lease expires within one lease period.
  std::mutex heartbeat_mutex;
  std::condition_variable heartbeat_wake;
  bool finished = false;
  std::thread heartbeat([&] {
    std::unique_lock lock(heartbeat_mutex);
    while (!heartbeat_wake.wait_for(lock, lease_ / 3, [&] { return finished; })) {
      if (auto renewed = lock_.renew(name_, holder_, lease_); renewed && !*renewed) {
        std::fprintf(stderr, "paperboy serve: %s: lost the job's lease to another node\n",
                     name_.c_str());
      }
    }
  });
  work_();
  {
    std::lock_guard lock(heartbeat_mutex);
    finished = true;
  }
  heartbeat_wake.notify_all();
  heartbeat.join();
  bool cut_short = false;
  {
    std::lock_guard lock(mutex_);
    cut_short = stopping_;
  }
  if (auto done = lock_.finish(name_, holder_, cut_short ? seconds(0) : interval_); !done) {
    std::fprintf(stderr, "paperboy serve: %s: %s\n", name_.c_str(), done.error().message.c_str());
  }
}

}  // namespace paperboy::cli
