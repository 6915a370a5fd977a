// Cluster-wide coordination of scheduled work (digests, sync): several `paperboy serve` nodes
// on one database run each job once per interval, and when the node running a job dies another
// one takes it over.
//
// A job is a named lease with a due time. A node claims the job when it is due and nobody holds
// a live lease; while it works it renews the lease (a dead node stops renewing, so its lease
// runs out); when done it finishes the run, which releases the lease and sets when the job is due
// next. A run cut short by a crash is therefore taken over once the lease expires, and the job
// must be safe to run again (the digest job is: its outbox queues and sends each message once).
#pragma once

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "core/result.h"

namespace paperboy::store {

class ClusterLock {
 public:
  virtual ~ClusterLock() = default;

  // Claims `job` for `holder` until now + `lease` when it is due (never run, or its next run
  // time has come) and no other holder's lease is live. True when claimed.
  virtual Result<bool> try_claim(std::string_view job, std::string_view holder,
                                 std::chrono::seconds lease) = 0;
  // Extends the holder's lease to now + `lease`; false when the holder no longer holds it
  // (it expired and another node claimed the job).
  virtual Result<bool> renew(std::string_view job, std::string_view holder,
                             std::chrono::seconds lease) = 0;
  // Ends the holder's run: releases the lease and makes the job due again after `next_run_in`.
  virtual Result<void> finish(std::string_view job, std::string_view holder,
                              std::chrono::seconds next_run_in) = 0;
};

// Small named values that scheduled work keeps between runs and shares across the nodes (live
// sync's harvest positions), so a node taking over a dead node's job continues where it
// stopped. Each put is durable once it returns.
class SharedState {
 public:
  virtual ~SharedState() = default;
  // The value stored under `key`; nullopt when there is none.
  virtual Result<std::optional<std::string>> get(std::string_view key) = 0;
  // Stores `value` under `key`, replacing what was there.
  virtual Result<void> put(std::string_view key, std::string_view value) = 0;
};

// The cluster_state table of the PostgreSQL database at `url`.
Result<std::unique_ptr<SharedState>> open_postgres_shared_state(std::string_view url);

// For a single process (the embedded SQLite store): the same rules, kept in memory.
std::unique_ptr<ClusterLock> make_local_cluster_lock();

// Shared by every node on the PostgreSQL database at `url` (a cluster_jobs table; times come
// from the database's clock, so the nodes' clocks need not agree).
Result<std::unique_ptr<ClusterLock>> open_postgres_cluster_lock(std::string_view url);

// Whether the store a locator names is shared by several nodes (PostgreSQL), so that changes
// arrive behind a node's back.
bool is_shared_store(std::string_view store_locator);

// The PostgreSQL lock for a postgres:// or postgresql:// store locator, else the local one.
Result<std::unique_ptr<ClusterLock>> open_cluster_lock(std::string_view store_locator);

// A name for this process among the nodes: host name and process id.
std::string cluster_holder_name();

}  // namespace paperboy::store
