// Live sync: keeps the store current from arXiv (OAI-PMH or the Atom API) and the Hugging Face
// daily_papers API, and fetches papers people submitted that the store lacks. Requests are paced
// (arXiv asks for one every 3 s), retried with backoff on timeouts, cut-off bodies, malformed
// pages and 5xx answers (503 + Retry-After is obeyed), and every page is stored in its own batch
// before the harvest position is saved, so an interrupted sync resumes where it stopped and stores
// each record once. docs/operations.md ("Live sync") describes it for operators.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "core/result.h"
#include "store/cluster_lock.h"
#include "store/community.h"
#include "store/store.h"

namespace paperboy::sync {

// Running totals since the process started, for /metrics; safe to read from any thread.
struct SyncCounters {
  std::atomic<uint64_t> requests{0};   // HTTP requests sent, retries included
  std::atomic<uint64_t> records{0};    // papers received and kept (after category filtering)
  std::atomic<uint64_t> added{0};      // upserts that added a paper
  std::atomic<uint64_t> updated{0};    // upserts that changed a paper
  std::atomic<uint64_t> unchanged{0};  // upserts that changed nothing
  std::atomic<uint64_t> retries{0};    // requests repeated after a failure
  std::atomic<uint64_t> errors{0};     // syncs that ended with an error
  std::atomic<uint64_t> runs{0};       // syncs started
};

// Where the sources answer. Each is the full endpoint URL.
struct SyncSources {
  std::string arxiv_oai_url = "https://oaipmh.arxiv.org/oai";
  std::string arxiv_api_url = "https://export.arxiv.org/api/query";
  std::string hf_api_url = "https://huggingface.co/api/daily_papers";
  bool operator==(const SyncSources&) const = default;
};

struct HttpPolicy {
  std::chrono::milliseconds delay{3000};      // between the start of two requests
  std::chrono::milliseconds timeout{60000};   // for one whole request
  int max_attempts = 5;                       // per URL, the first try included
  std::chrono::milliseconds backoff{5000};    // before the first retry; doubles each time
  std::chrono::seconds max_retry_after{600};  // a longer Retry-After is cut to this
  std::string user_agent = "paperboy/0.1 (self-hosted Daily Papers; live sync)";
};

enum class ArxivSource { oai, api };

struct ArxivSyncOptions {
  std::vector<std::string> categories;  // "cs.CL", or a whole archive: "cs"
  std::string from;   // YYYY-MM-DD; empty: continue after the last harvest (or two days back)
  std::string until;  // YYYY-MM-DD; empty: up to now
  ArxivSource source = ArxivSource::oai;
  std::string metadata_prefix = "arXiv";  // OAI-PMH: arXiv or arXivRaw
  size_t page_size = 100;                 // Atom API: max_results per request
};

// What one sync did.
struct SyncTotals {
  size_t requests = 0;
  size_t pages = 0;
  size_t records = 0;  // papers kept and upserted
  size_t added = 0;
  size_t updated = 0;
  size_t unchanged = 0;
  size_t skipped = 0;   // papers outside the requested categories
  size_t rejected = 0;  // records the importer refused (deleted records, bad ids)
  size_t retries = 0;
  size_t still_queued = 0;  // fetch: ids the API did not return
  bool resumed = false;     // continued an interrupted harvest

  SyncTotals& operator+=(const SyncTotals& other);
};

// The harvest positions, a JSON file written atomically (write, fsync, rename) after each page.
std::filesystem::path state_file(const std::filesystem::path& data_dir);

// Where a sync saves its position after each page (OAI-PMH resumption token, API offset, how far
// the last complete harvest got), one JSON object per source and set. With the embedded store
// that is `state_file`; with a shared store it is the cluster's shared state, so a node that takes
// over the scheduled sync of a node that died continues at the page after the last one stored.
// `state_file`'s folder also holds the lock that keeps two syncs of one data folder apart.
class HarvestPositions {
 public:
  explicit HarvestPositions(std::filesystem::path state_file,
                            std::shared_ptr<store::SharedState> shared = nullptr);
  // The saved object for `key`; an empty object when there is none.
  Result<nlohmann::json> load(const std::string& key) const;
  Result<void> save(const std::string& key, const nlohmann::json& value) const;
  const std::filesystem::path& state_file() const { return state_file_; }

 private:
  std::filesystem::path state_file_;
  std::shared_ptr<store::SharedState> shared_;
};

// The positions for the store `store_locator` names: shared when it is PostgreSQL, else the data
// folder's state file.
Result<HarvestPositions> open_harvest_positions(std::string_view store_locator,
                                                const std::filesystem::path& data_dir);

class Syncer {
 public:
  // `on_page` (optional) is told the running totals after each stored page.
  Syncer(store::Store& store, HarvestPositions positions, SyncSources sources, HttpPolicy policy,
         SyncCounters& counters, std::function<void(const SyncTotals&)> on_page = {});

  // Harvests the categories' new and updated papers. Pages already stored stay stored when a
  // later page fails; the error names the URL and what went wrong.
  Result<SyncTotals> sync_arxiv(const ArxivSyncOptions& options);

  // Reads the daily_papers of each day (YYYY-MM-DD): papers, upvotes, submitters.
  Result<SyncTotals> sync_hf(const std::vector<std::string>& days);

  // Fetches the papers in the community fetch queue from the Atom API by id, and marks the ones
  // it stored as fetched.
  Result<SyncTotals> fetch_queued(store::CommunityStore& community);

  // Makes waits end at once and the running sync fail with "stopped"; for server shutdown.
  void stop();

 private:
  // Says why a 200 body cannot be used (so the request is retried), or nullopt when it can.
  using BodyCheck = std::function<std::optional<std::string>(const std::string& body)>;
  Result<std::string> get(const std::string& url, const BodyCheck& check, SyncTotals& totals);
  bool wait(std::chrono::milliseconds duration);
  Result<void> store_papers(std::vector<Paper>& papers, SyncTotals& totals);
  Result<SyncTotals> sync_oai(const ArxivSyncOptions& options);
  Result<SyncTotals> sync_api(const ArxivSyncOptions& options);

  store::Store& store_;
  HarvestPositions positions_;
  SyncSources sources_;
  HttpPolicy policy_;
  SyncCounters& counters_;
  std::function<void(const SyncTotals&)> on_page_;
  std::chrono::steady_clock::time_point last_request_{};
  bool requested_before_ = false;

  std::mutex mutex_;
  std::condition_variable wake_;
  std::atomic<bool> stopping_{false};
};

// The counters of this process's syncs (the CLI's and the server's scheduled ones), for /metrics.
SyncCounters& process_counters();

// The days to sync for `sync hf --days N`: the N days ending at `today`, oldest first.
std::vector<std::string> recent_days(std::chrono::sys_days today, int count);

}  // namespace paperboy::sync
