// `paperboy serve`: the web app and JSON API until SIGINT or SIGTERM.
#include <signal.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <mutex>
#include <thread>

#include "cli/commands.h"
#include "cli/digest_command.h"
#include "cli/index_sync.h"
#include "cli/scheduled_job.h"
#include "cli/sync_command.h"
#include "cli/vector_sync.h"
#include "index/index.h"
#include "mail/digest.h"
#include "store/cluster_lock.h"
#include "store/community.h"
#include "store/store.h"
#include "store/subscriptions.h"
#include "web/server.h"

namespace paperboy::cli {
namespace {

// One round of the digest job. The outbox makes a run safe beside `paperboy digest send` from
// cron and beside other nodes: none queues or sends a message twice.
void run_digests(store::Store& papers, store::SubscriptionStore& subscriptions,
                 const std::filesystem::path& index_dir, const mail::MailSettings& settings) {
  auto smtp = mail::SmtpClient::create(settings.smtp);
  std::shared_ptr<const index::Snapshot> snapshot;
  if (std::filesystem::exists(index_dir / "MANIFEST")) {
    if (auto opened = index::Snapshot::open(index_dir)) snapshot = *opened;
  }
  auto run = smtp ? mail::run_digest_job(
                        papers, subscriptions, digest_sources_beside(index_dir, snapshot).sources,
                        **smtp, settings,
                        std::chrono::floor<std::chrono::seconds>(std::chrono::system_clock::now()))
                  : Result<mail::DigestRun>(std::unexpected(smtp.error()));
  if (!run) {
    std::fprintf(stderr, "paperboy serve: digests: %s\n", run.error().message.c_str());
  } else if (run->queued.queued + run->delivered.sent + run->delivered.failed > 0) {
    std::fprintf(
        stderr, "paperboy serve: digests: %zu queued, %zu sent, %zu deferred, %zu failed\n",
        run->queued.queued, run->delivered.sent, run->delivered.deferred, run->delivered.failed);
  }
}

// Keeps the local search index caught up with the store while serving: changes made through
// other nodes (or by `paperboy ingest` elsewhere) become searchable within about a second.
// The server reopens the index when its MANIFEST changes.
class IndexFollower {
 public:
  IndexFollower(store::Store& papers, std::filesystem::path index_dir)
      : thread_([this, &papers, index_dir = std::move(index_dir)] {
          std::string last_error;
          std::unique_lock lock(mutex_);
          while (!wake_.wait_for(lock, std::chrono::seconds(1), [this] { return stopping_; })) {
            lock.unlock();
            // A failure (say, `paperboy ingest` holds the index writer) is retried next second
            // and reported once until it changes.
            auto synced = sync_index(papers, index_dir, /*quiet=*/true);
            if (!synced && synced.error().message != last_error) {
              last_error = synced.error().message;
              std::fprintf(stderr, "paperboy serve: search index: %s\n", last_error.c_str());
            } else if (synced) {
              last_error.clear();
            }
            lock.lock();
          }
        }) {}
  ~IndexFollower() {
    {
      std::lock_guard lock(mutex_);
      stopping_ = true;
    }
    wake_.notify_all();
    thread_.join();
  }

 private:
  std::mutex mutex_;
  std::condition_variable wake_;
  bool stopping_ = false;
  std::thread thread_;
};

// SIGINT and SIGTERM write a byte to this pipe; a waiting thread reads it and stops the server.
// A handler rather than sigwait(): libraries start threads before main (OpenBLAS's pool), and
// such a thread would otherwise take the signal with its default action and kill the process.
int stop_pipe[2] = {-1, -1};

void request_stop(int) {
  const char byte = 1;
  [[maybe_unused]] ssize_t written = ::write(stop_pipe[1], &byte, 1);
}

}  // namespace

int run_serve(const GlobalOptions& global, const ServeOptions& options) {
  if (::pipe(stop_pipe) != 0) {
    std::fprintf(stderr, "paperboy serve: cannot create a pipe\n");
    return kError;
  }
  struct sigaction action = {};
  action.sa_handler = request_stop;
  sigemptyset(&action.sa_mask);
  action.sa_flags = SA_RESTART;
  sigaction(SIGINT, &action, nullptr);
  sigaction(SIGTERM, &action, nullptr);

  std::error_code error;
  std::filesystem::create_directories(global.data_dir, error);
  if (error) {
    std::fprintf(stderr, "paperboy serve: %s: %s\n", global.data_dir.c_str(),
                 error.message().c_str());
    return kError;
  }
  auto store = open_papers_store(global);
  if (!store) {
    std::fprintf(stderr, "paperboy serve: %s\n", store.error().message.c_str());
    return kError;
  }
  // A new data folder, or one changed while no server ran, gets its search index up to date.
  if (auto indexed = sync_index(**store, index_path(global), global.quiet); !indexed) {
    std::fprintf(stderr, "paperboy serve: search index: %s\n", indexed.error().message.c_str());
    return kError;
  }
  auto community = store::open_community_store(global.store, store_path(global));
  if (!community) {
    std::fprintf(stderr, "paperboy serve: %s\n", community.error().message.c_str());
    return kError;
  }
  // Papers added while no server ran get their vectors (when an embedder was trained).
  if (auto embedded =
          sync_vectors(**store, embed_model_path(global), vectors_path(global), global.quiet);
      !embedded) {
    std::fprintf(stderr, "paperboy serve: vectors: %s\n", embedded.error().message.c_str());
    return kError;
  }
  auto subscriptions = store::open_subscription_store(global.store, store_path(global));
  if (!subscriptions) {
    std::fprintf(stderr, "paperboy serve: %s\n", subscriptions.error().message.c_str());
    return kError;
  }
  auto mail = mail_settings(global, options.mail);
  if (!mail) {
    std::fprintf(stderr, "paperboy serve: %s\n", mail.error().message.c_str());
    return kError;
  }
  mail->lease = std::chrono::seconds(options.digest_lease_seconds);
  // Scheduled jobs run once across the processes sharing the store.
  auto cluster_lock = store::open_cluster_lock(global.store);
  if (!cluster_lock) {
    std::fprintf(stderr, "paperboy serve: %s\n", cluster_lock.error().message.c_str());
    return kError;
  }
  web::ServerOptions server_options;
  server_options.subscriptions = subscriptions->get();
  server_options.mail = *mail;
  server_options.vectors_dir = vectors_path(global);
  server_options.community = community->get();
  server_options.index_dir = index_path(global);
  server_options.metrics_sources.push_back(sync_metrics());
  server_options.host = options.host;
  server_options.port = options.port;
  server_options.threads = options.threads;
  server_options.access_log = options.access_log;
  if (!options.katex_dir.empty()) server_options.katex_dir = options.katex_dir;
  auto server = web::Server::create(**store, server_options);
  if (!server) {
    std::fprintf(stderr, "paperboy serve: %s\n", server.error().message.c_str());
    return kError;
  }

  std::fprintf(stderr, "paperboy: serving %s on http://%s:%d (Ctrl-C stops)\n",
               store_path(global).c_str(), options.host.c_str(), (*server)->port());
  // Only a shared store changes behind this node's back. With the embedded one, `paperboy
  // ingest` updates the index itself and needs the index writer free.
  std::unique_ptr<IndexFollower> follower;
  if (store::is_shared_store(global.store))
    follower = std::make_unique<IndexFollower>(**store, index_path(global));
  std::unique_ptr<ScheduledJob> digests;
  if (options.digest_every_minutes > 0) {
    // A sender's outbox claims last `lease`; the job's lease outlasts them, so a node that
    // takes over a dead node's run finds the messages that node had claimed free again.
    digests = std::make_unique<ScheduledJob>(
        "digests", **cluster_lock, std::chrono::minutes(options.digest_every_minutes),
        2 * mail->lease, [&, index_dir = index_path(global), settings = *mail] {
          run_digests(**store, **subscriptions, index_dir, settings);
        });
  }
  std::unique_ptr<SyncScheduler> syncs;
  if (options.sync_every_minutes > 0) {
    syncs = std::make_unique<SyncScheduler>(**store, **community, global, options.sync,
                                            std::chrono::minutes(options.sync_every_minutes));
  }
  std::thread signal_waiter([&server] {
    char byte = 0;
    while (::read(stop_pipe[0], &byte, 1) < 0 && errno == EINTR) {
    }
    (*server)->stop();
  });
  auto ran = (*server)->run();
  if (!ran) {
    std::fprintf(stderr, "paperboy serve: %s\n", ran.error().message.c_str());
    request_stop(0);
    signal_waiter.join();
    return kError;
  }
  // run() returned because stop() was called from the signal thread.
  signal_waiter.join();
  std::fprintf(stderr, "paperboy serve: stopped\n");
  return kSuccess;
}

}  // namespace paperboy::cli
