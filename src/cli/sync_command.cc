#include "cli/sync_command.h"

#include <cstdio>

#include "cli/index_sync.h"
#include "cli/scheduled_job.h"
#include "cli/vector_sync.h"
#include "core/date.h"
#include "sync/sync.h"

namespace paperboy::cli {
namespace {

sync::HttpPolicy http_policy(const SyncSettings& settings) {
  sync::HttpPolicy policy;
  policy.delay = std::chrono::milliseconds(
      static_cast<int64_t>(settings.request_delay_seconds * 1000.0 + 0.5));
  policy.timeout = std::chrono::milliseconds(
      static_cast<int64_t>(settings.request_timeout_seconds * 1000.0 + 0.5));
  policy.max_attempts = settings.request_attempts;
  return policy;
}

std::string describe(const sync::SyncTotals& totals) {
  std::string text = std::to_string(totals.records) + " records (" + std::to_string(totals.added) +
                     " added, " + std::to_string(totals.updated) + " updated, " +
                     std::to_string(totals.unchanged) + " unchanged";
  if (totals.skipped > 0) text += ", " + std::to_string(totals.skipped) + " in other categories";
  if (totals.rejected > 0) text += ", " + std::to_string(totals.rejected) + " rejected";
  text += "), " + std::to_string(totals.requests) + " requests, " + std::to_string(totals.retries) +
          " retries";
  return text;
}

// Brings the search index and the vectors up to date with what a sync stored.
Result<void> catch_up_indexes(store::Store& papers, const GlobalOptions& global, bool quiet) {
  if (auto indexed = sync_index(papers, index_path(global), quiet); !indexed)
    return fail("search index: " + indexed.error().message);
  if (auto embedded = sync_vectors(papers, embed_model_path(global), vectors_path(global), quiet);
      !embedded)
    return fail("vectors: " + embedded.error().message);
  return {};
}

}  // namespace

web::MetricsSource sync_metrics() {
  return [](web::MetricsText& out) {
    using Kind = web::MetricsText::Kind;
    const sync::SyncCounters& counters = sync::process_counters();
    const std::pair<const char*, const char*> kHelp[] = {
        {"paperboy_sync_runs_total", "Syncs started (arXiv, HF, fetch queue)"},
        {"paperboy_sync_errors_total", "Syncs that ended with an error"},
        {"paperboy_sync_requests_total", "HTTP requests sent by sync, retries included"},
        {"paperboy_sync_retries_total", "Sync requests repeated after a failure"},
        {"paperboy_sync_records_total", "Papers received by sync and upserted"},
        {"paperboy_sync_added_total", "Papers sync added to the store"},
        {"paperboy_sync_updated_total", "Papers sync changed in the store"},
        {"paperboy_sync_unchanged_total", "Papers sync received that changed nothing"},
    };
    const uint64_t values[] = {counters.runs,    counters.errors,   counters.requests,
                               counters.retries, counters.records,  counters.added,
                               counters.updated, counters.unchanged};
    for (size_t i = 0; i < std::size(values); ++i) {
      out.single(kHelp[i].first, Kind::counter, kHelp[i].second, static_cast<double>(values[i]));
    }
  };
}

void add_sync_options(CLI::App& app, SyncSettings& settings) {
  app.add_option("--categories", settings.categories,
                 "arXiv categories (cs.CL) or archives (cs), comma-separated")
      ->delimiter(',')
      ->envname("PAPERBOY_SYNC_CATEGORIES");
  app.add_option("--arxiv-oai-url", settings.sources.arxiv_oai_url, "arXiv OAI-PMH endpoint")
      ->envname("PAPERBOY_ARXIV_OAI_URL")
      ->capture_default_str();
  app.add_option("--arxiv-api-url", settings.sources.arxiv_api_url, "arXiv API query endpoint")
      ->envname("PAPERBOY_ARXIV_API_URL")
      ->capture_default_str();
  app.add_option("--hf-api-url", settings.sources.hf_api_url, "Hugging Face daily_papers endpoint")
      ->envname("PAPERBOY_HF_API_URL")
      ->capture_default_str();
  app.add_option("--request-delay", settings.request_delay_seconds,
                 "Seconds between requests (arXiv asks for 3)")
      ->envname("PAPERBOY_SYNC_DELAY")
      ->capture_default_str()
      ->check(CLI::Range(0.0, 3600.0));
  app.add_option("--request-timeout", settings.request_timeout_seconds,
                 "Seconds before a request is abandoned and retried")
      ->capture_default_str()
      ->check(CLI::Range(0.1, 3600.0));
  app.add_option("--request-attempts", settings.request_attempts,
                 "Tries per URL before giving up (timeouts, 5xx, cut-off or malformed pages)")
      ->capture_default_str()
      ->check(CLI::Range(1, 100));
}

SyncCommands::SyncCommands(CLI::App& app) {
  sync_ = app.add_subcommand(
      "sync", "Keep the store current from arXiv and Hugging Face (see docs/operations.md)");
  sync_->require_subcommand(1);
  add_sync_options(*sync_, settings_);

  arxiv_ = sync_->add_subcommand(
      "arxiv",
      "Harvest new and updated papers of --categories (OAI-PMH or the arXiv API), then fetch\n"
      "submitted papers the store lacks; resumes an interrupted harvest");
  arxiv_->add_option(
      "--from", from_,
      "First day (YYYY-MM-DD; default: where the last harvest ended, or 2 days ago)");
  arxiv_->add_option("--until", until_, "Last day (YYYY-MM-DD; default: today)");
  arxiv_->add_option("--source", source_, "oai (OAI-PMH ListRecords) or api (arXiv API search)")
      ->capture_default_str()
      ->check(CLI::IsMember({"oai", "api"}));
  arxiv_->add_option("--metadata-prefix", metadata_prefix_, "OAI-PMH metadata: arXiv or arXivRaw")
      ->capture_default_str()
      ->check(CLI::IsMember({"arXiv", "arXivRaw"}));

  hf_ = sync_->add_subcommand("hf", "Read Hugging Face daily papers: papers, upvotes, submitters");
  auto* when = hf_->add_option_group("when", "Which days (default: --days 2)");
  when->add_option("--date", date_, "One day, YYYY-MM-DD");
  when->add_option("--days", days_, "The N days ending today")->check(CLI::Range(1, 366));
  when->require_option(0, 1);

  fetch_ = sync_->add_subcommand(
      "fetch", "Fetch papers people submitted by arXiv id that the store does not hold yet");

  for (CLI::App* sub : {arxiv_, hf_, fetch_}) sub->fallthrough();
}

bool SyncCommands::parsed() const { return sync_->parsed(); }

int SyncCommands::run(const GlobalOptions& global) {
  const char* command = arxiv_->parsed() ? "arxiv" : hf_->parsed() ? "hf" : "fetch";
  auto report = [&](const Error& error) {
    std::fprintf(stderr, "paperboy sync %s: %s\n", command, error.message.c_str());
    return kError;
  };
  if (arxiv_->parsed() && settings_.categories.empty()) {
    std::fprintf(stderr,
                 "paperboy sync arxiv: give --categories (e.g. cs.CL,cs.LG), or set them in the "
                 "[sync] section of the config file\n");
    return kUsage;
  }
  auto papers = open_papers_store(global);
  if (!papers) return report(papers.error());
  auto community = store::open_community_store(global.store, store_path(global));
  if (!community) return report(community.error());

  auto positions = sync::open_harvest_positions(global.store, global.data_dir);
  if (!positions) return report(positions.error());
  sync::Syncer syncer(**papers, std::move(*positions), settings_.sources, http_policy(settings_),
                      sync::process_counters(), [&](const sync::SyncTotals& totals) {
                        if (!global.quiet)
                          std::fprintf(stderr, "paperboy sync %s: page %zu: %s\n", command,
                                       totals.pages, describe(totals).c_str());
                      });
  // Whatever was stored before an error is kept and made searchable.
  int exit_code = kSuccess;
  auto finish = [&](const char* what, const Result<sync::SyncTotals>& done) {
    if (!done) {
      std::fprintf(stderr, "paperboy sync %s: %s\n", what, done.error().message.c_str());
      exit_code = kError;
      return;
    }
    std::printf("%s: %s%s", what, describe(*done).c_str(),
                done->resumed ? ", resumed an interrupted harvest" : "");
    if (done->still_queued > 0)
      std::printf(", %zu submitted ids not found on arXiv", done->still_queued);
    std::printf("\n");
  };

  if (arxiv_->parsed()) {
    sync::ArxivSyncOptions options;
    options.categories = settings_.categories;
    options.from = from_;
    options.until = until_;
    options.source = source_ == "api" ? sync::ArxivSource::api : sync::ArxivSource::oai;
    options.metadata_prefix = metadata_prefix_;
    finish("arxiv", syncer.sync_arxiv(options));
    finish("fetch", syncer.fetch_queued(**community));
  } else if (hf_->parsed()) {
    const auto days =
        date_.empty() ? sync::recent_days(today(), days_) : std::vector<std::string>{date_};
    finish("hf", syncer.sync_hf(days));
  } else {
    finish("fetch", syncer.fetch_queued(**community));
  }
  std::fflush(stdout);
  if (auto caught_up = catch_up_indexes(**papers, global, global.quiet); !caught_up)
    return report(caught_up.error());
  return exit_code;
}

struct SyncScheduler::Loop {
  store::Store& papers;
  store::CommunityStore& community;
  GlobalOptions global;
  SyncSettings settings;
  sync::Syncer syncer;
  std::unique_ptr<ScheduledJob> job;

  Loop(store::Store& papers_in, store::CommunityStore& community_in, GlobalOptions global_in,
       SyncSettings settings_in, sync::HarvestPositions positions)
      : papers(papers_in),
        community(community_in),
        global(std::move(global_in)),
        settings(std::move(settings_in)),
        syncer(papers, std::move(positions), settings.sources, http_policy(settings),
               sync::process_counters()) {}

  void log(const char* what, const Result<sync::SyncTotals>& done) {
    if (!done) {
      std::fprintf(stderr, "paperboy serve: sync %s: %s\n", what, done.error().message.c_str());
    } else if (done->records > 0 || done->still_queued > 0) {
      std::fprintf(stderr, "paperboy serve: sync %s: %s%s\n", what, describe(*done).c_str(),
                   done->resumed ? ", resumed an interrupted harvest" : "");
    }
  }

  void run_once() {
    if (!settings.categories.empty()) {
      sync::ArxivSyncOptions options;
      options.categories = settings.categories;
      options.source = settings.source == "api" ? sync::ArxivSource::api : sync::ArxivSource::oai;
      options.metadata_prefix = settings.metadata_prefix;
      log("arxiv", syncer.sync_arxiv(options));
    }
    log("hf", syncer.sync_hf(sync::recent_days(today(), 2)));
    log("fetch", syncer.fetch_queued(community));
    if (auto caught_up = catch_up_indexes(papers, global, true); !caught_up)
      std::fprintf(stderr, "paperboy serve: sync: %s\n", caught_up.error().message.c_str());
  }
};

SyncScheduler::SyncScheduler(store::Store& papers, store::CommunityStore& community,
                             store::ClusterLock& lock, GlobalOptions global, SyncSettings settings,
                             sync::HarvestPositions positions, std::chrono::minutes interval,
                             std::chrono::seconds lease)
    : loop_(std::make_unique<Loop>(papers, community, std::move(global), std::move(settings),
                                   std::move(positions))) {
  loop_->job = std::make_unique<ScheduledJob>("sync", lock, interval, lease,
                                              [loop = loop_.get()] { loop->run_once(); });
}

SyncScheduler::~SyncScheduler() {
  // A run in progress ends at its next request and stays due, resuming where it stopped.
  loop_->job->request_stop();
  loop_->syncer.stop();
  loop_->job.reset();
}

}  // namespace paperboy::cli
