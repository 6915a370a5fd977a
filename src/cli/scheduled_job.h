// Scheduled work in `paperboy serve` (digests, sync) that runs once across the cluster: each
// node runs a ScheduledJob for the same name, and the store's ClusterLock lets one node at a
// time run it, once per interval. The running node renews its lease while it works; if it dies,
// the lease runs out and another node takes the job over at its next poll.
#pragma once

#include <chrono>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <string>
#include <thread>

#include "store/cluster_lock.h"

namespace paperboy::cli {

class ScheduledJob {
 public:
  // Starts polling at once. `work` must be safe to run again after a run cut short by a crash.
  // `lease` bounds how long a dead node's run blocks the job (takeover comes within about
  // lease + lease / 4).
  ScheduledJob(std::string name, store::ClusterLock& lock, std::chrono::seconds interval,
               std::chrono::seconds lease, std::function<void()> work);
  // Stops polling; waits for a run in progress to end.
  ~ScheduledJob();
  // Asks polling to stop without waiting. A run that ends after this counts as cut short: the
  // job is released due at once, so another node (or this one, started again) runs it soon.
  void request_stop();
  ScheduledJob(const ScheduledJob&) = delete;
  ScheduledJob& operator=(const ScheduledJob&) = delete;

 private:
  void poll_until_stopped();
  void run_holding_lease();
  // Waits up to `period`; true when asked to stop.
  bool wait_or_stop(std::chrono::milliseconds period);

  const std::string name_;
  const std::string holder_;
  store::ClusterLock& lock_;
  const std::chrono::seconds interval_;
  const std::chrono::seconds lease_;
  const std::function<void()> work_;
  std::mutex mutex_;
  std::condition_variable wake_;
  bool stopping_ = false;
  std::string last_error_;  // printed once until it changes, so a database outage does not flood
  std::thread thread_;
};

}  // namespace paperboy::cli
