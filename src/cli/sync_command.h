// `paperboy sync ...`: live sync from arXiv and Hugging Face (docs/operations.md, "Live sync"),
// and the server's scheduled sync.
#pragma once

#include <CLI/CLI.hpp>
#include <chrono>
#include <memory>
#include <string>

#include "cli/commands.h"
#include "store/cluster_lock.h"
#include "store/community.h"
#include "store/store.h"
#include "web/metrics.h"

namespace paperboy::cli {

// Adds the SyncSettings to `app` (sync and serve both take them).
void add_sync_options(CLI::App& app, SyncSettings& settings);

class SyncCommands {
 public:
  explicit SyncCommands(CLI::App& app);
  bool parsed() const;
  int run(const GlobalOptions& global);

 private:
  CLI::App* sync_ = nullptr;
  CLI::App* arxiv_ = nullptr;
  CLI::App* hf_ = nullptr;
  CLI::App* fetch_ = nullptr;

  SyncSettings settings_;
  std::string from_;
  std::string until_;
  std::string source_ = "oai";
  std::string metadata_prefix_ = "arXiv";
  std::string date_;
  int days_ = 2;
};

// /metrics samples of this process's sync counters (sync::process_counters()).
web::MetricsSource sync_metrics();

// Runs arXiv sync (the configured categories), HF sync (today and yesterday) and the fetch queue
// every `interval`, once across the nodes sharing the store (the "sync" job of `lock`, held for
// `lease` while running and renewed meanwhile), then brings this node's search index and vectors
// up to date. `positions` should be the shared ones for a shared store, so that a node taking
// over a dead node's run continues where it stopped. Destroying it abandons a request in flight.
class SyncScheduler {
 public:
  SyncScheduler(store::Store& papers, store::CommunityStore& community, store::ClusterLock& lock,
                GlobalOptions global, SyncSettings settings, sync::HarvestPositions positions,
                std::chrono::minutes interval, std::chrono::seconds lease);
  ~SyncScheduler();
  SyncScheduler(const SyncScheduler&) = delete;
  SyncScheduler& operator=(const SyncScheduler&) = delete;

 private:
  struct Loop;
  std::unique_ptr<Loop> loop_;
};

}  // namespace paperboy::cli
