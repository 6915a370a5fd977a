// The in-process cluster lock, for the embedded store: one process, so a mutex and a map do.
#include "store/cluster_lock.h"

#include <unistd.h>

#include <climits>
#include <map>
#include <mutex>

namespace paperboy::store {

namespace {

using Clock = std::chrono::steady_clock;

class LocalClusterLock final : public ClusterLock {
 public:
  Result<bool> try_claim(std::string_view job, std::string_view holder,
                         std::chrono::seconds lease) override {
    std::lock_guard lock(mutex_);
    const Clock::time_point now = Clock::now();
    Job& state = jobs_[std::string(job)];
    if (state.due_at > now) return false;
    if (state.leased_until > now && state.holder != holder) return false;
    state.holder = holder;
    state.leased_until = now + lease;
    return true;
  }

  Result<bool> renew(std::string_view job, std::string_view holder,
                     std::chrono::seconds lease) override {
    std::lock_guard lock(mutex_);
    auto found = jobs_.find(std::string(job));
    if (found == jobs_.end() || found->second.holder != holder) return false;
    found->second.leased_until = Clock::now() + lease;
    return true;
  }

  Result<void> finish(std::string_view job, std::string_view holder,
                      std::chrono::seconds next_run_in) override {
    std::lock_guard lock(mutex_);
    auto found = jobs_.find(std::string(job));
    if (found == jobs_.end() || found->second.holder != holder) return {};
    found->second = Job{"", Clock::time_point::min(), Clock::now() + next_run_in};
    return {};
  }

 private:
  struct Job {
    std::string holder;
    Clock::time_point leased_until = Clock::time_point::min();
    Clock::time_point due_at = Clock::time_point::min();
  };

  std::mutex mutex_;
  std::map<std::string, Job, std::less<>> jobs_;
};

}  // namespace

std::unique_ptr<ClusterLock> make_local_cluster_lock() {
  return std::make_unique<LocalClusterLock>();
}

std::string cluster_holder_name() {
  char host[HOST_NAME_MAX + 1] = {};
  if (::gethostname(host, sizeof(host) - 1) != 0) host[0] = '\0';
  return std::string(host[0] != '\0' ? host : "localhost") + ":" + std::to_string(::getpid());
}

}  // namespace paperboy::store
