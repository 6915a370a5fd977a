// `paperboy serve`: the web app and JSON API until SIGINT or SIGTERM.
#include <signal.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <mutex>
#include <thread>
#include <vector>

#include "cli/commands.h"
#include "cli/digest_command.h"
#include "cli/index_sync.h"
#include "cli/logging.h"
#include "cli/scheduled_job.h"
#include "cli/sync_command.h"
#include "cli/vector_sync.h"
#include "index/index.h"
#include "mail/digest.h"
#include "store/cluster_lock.h"
#include "store/community.h"
#include "store/postgres_changes.h"
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

// Keeps the local search index caught up with the shared store while serving. The store
// notifies every committed batch (made through any node, or by `paperboy ingest` elsewhere);
// the follower listens and syncs at once, and also every second, which covers notifications
// lost while the listening connection was down. The server reopens the index when its MANIFEST
// changes.
class IndexFollower {
 public:
  IndexFollower(store::Store& papers, std::filesystem::path index_dir, std::string store_url)
      : thread_([this, &papers, index_dir = std::move(index_dir),
                 store_url = std::move(store_url)] { follow(papers, index_dir, store_url); }) {}
  ~IndexFollower() {
    {
      std::lock_guard lock(mutex_);
      stopping_ = true;
    }
    wake_.notify_all();
    thread_.join();
  }

 private:
  static constexpr std::chrono::seconds kPollInterval{1};
  // How long one wait for a notification lasts before the follower looks whether to stop.
  static constexpr std::chrono::milliseconds kWaitSlice{100};

  void follow(store::Store& papers, const std::filesystem::path& index_dir,
              const std::string& store_url) {
    std::unique_ptr<store::ChangeListener> listener;
    // Failures (say, `paperboy ingest` holds the index writer) are retried and reported once
    // until they change.
    std::string index_error, listener_error;
    auto report_changed = [](std::string& last, const std::string& message) {
      if (message == last) return;
      last = message;
      if (!message.empty()) std::fprintf(stderr, "paperboy serve: %s\n", message.c_str());
    };
    while (!stop_requested()) {
      if (!listener) {
        auto opened = store::ChangeListener::open(store_url);
        if (opened) {
          listener = std::move(*opened);
          report_changed(listener_error, "");
        } else {
          report_changed(listener_error, "change notifications: " + opened.error().message +
                                             "; following the store every second");
        }
      }
      auto synced = sync_index(papers, index_dir, /*quiet=*/true);
      report_changed(index_error, synced ? "" : "search index: " + synced.error().message);
      wait_for_change(listener, listener_error, report_changed);
    }
  }

  // Returns on a change notification, after kPollInterval, or when asked to stop; drops a
  // listener whose connection was lost.
  template <class Report>
  void wait_for_change(std::unique_ptr<store::ChangeListener>& listener,
                       std::string& listener_error, Report& report_changed) {
    const auto poll_at = std::chrono::steady_clock::now() + kPollInterval;
    while (listener && !stop_requested() && std::chrono::steady_clock::now() < poll_at) {
      auto changed = listener->wait(kWaitSlice);
      if (!changed) {
        report_changed(listener_error, "change notifications: " + changed.error().message +
                                           "; following the store every second");
        listener.reset();
      } else if (*changed) {
        return;
      }
    }
    std::unique_lock lock(mutex_);
    wake_.wait_until(lock, poll_at, [this] { return stopping_; });
  }

  bool stop_requested() {
    std::lock_guard lock(mutex_);
    return stopping_;
  }

  std::mutex mutex_;
  std::condition_variable wake_;
  bool stopping_ = false;
  std::thread thread_;
};

// SIGINT and SIGTERM write kStop to this pipe, SIGHUP kReload; a waiting thread reads them and
// stops the server or reloads the settings. A handler rather than sigwait(): libraries start
// threads before main (OpenBLAS's pool), and such a thread would otherwise take the signal with
// its default action and kill the process.
int signal_pipe[2] = {-1, -1};
constexpr char kStop = 1;
constexpr char kReload = 2;

void request_stop(int) { [[maybe_unused]] ssize_t written = ::write(signal_pipe[1], &kStop, 1); }

void request_reload(int) {
  [[maybe_unused]] ssize_t written = ::write(signal_pipe[1], &kReload, 1);
}

void report(const std::string& message) {
  std::fprintf(stderr, "paperboy serve: %s\n", message.c_str());
}

// The settings a running server cannot take over (its socket, threads, stores and pages are
// made once), named for the message that asks for a restart.
std::vector<std::string> needing_restart(const ServeSettings& running, const ServeSettings& fresh) {
  std::vector<std::string> changed;
  const ServeOptions& a = running.options;
  const ServeOptions& b = fresh.options;
  if (running.global.data_dir != fresh.global.data_dir) changed.push_back("--data");
  if (running.global.store != fresh.global.store) changed.push_back("--store");
  if (a.host != b.host) changed.push_back("--host");
  if (a.port != b.port) changed.push_back("--port");
  if (a.threads != b.threads) changed.push_back("--threads");
  if (a.katex_dir != b.katex_dir) changed.push_back("--katex-dir");
  if (a.access_log != b.access_log) changed.push_back("--access-log");
  if (a.page_cache_ms != b.page_cache_ms) changed.push_back("--page-cache-ms");
  if (a.render_slots != b.render_slots) changed.push_back("--render-slots");
  return changed;
}

}  // namespace

int run_serve(const ServeSettings& settings, const ServeSettingsReader& reread) {
  const GlobalOptions& global = settings.global;
  const ServeOptions& options = settings.options;
  if (::pipe(signal_pipe) != 0) {
    report("cannot create a pipe");
    return kError;
  }
  struct sigaction action = {};
  action.sa_handler = request_stop;
  sigemptyset(&action.sa_mask);
  action.sa_flags = SA_RESTART;
  sigaction(SIGINT, &action, nullptr);
  sigaction(SIGTERM, &action, nullptr);
  action.sa_handler = request_reload;
  sigaction(SIGHUP, &action, nullptr);

  std::error_code error;
  std::filesystem::create_directories(global.data_dir, error);
  if (error) {
    report(global.data_dir.string() + ": " + error.message());
    return kError;
  }
  auto store = open_papers_store(global);
  if (!store) {
    report(store.error().message);
    return kError;
  }
  // A new data folder, or one changed while no server ran, gets its search index up to date.
  if (auto indexed = sync_index(**store, index_path(global), global.quiet); !indexed) {
    report("search index: " + indexed.error().message);
    return kError;
  }
  auto community = store::open_community_store(global.store, store_path(global));
  if (!community) {
    report(community.error().message);
    return kError;
  }
  // Papers added while no server ran get their vectors (when an embedder was trained).
  if (auto embedded =
          sync_vectors(**store, embed_model_path(global), vectors_path(global), global.quiet);
      !embedded) {
    report("vectors: " + embedded.error().message);
    return kError;
  }
  auto subscriptions = store::open_subscription_store(global.store, store_path(global));
  if (!subscriptions) {
    report(subscriptions.error().message);
    return kError;
  }
  auto mail = mail_settings(global, options.mail);
  if (!mail) {
    report(mail.error().message);
    return kError;
  }
  mail->lease = std::chrono::seconds(options.digest_lease_seconds);
  // Scheduled jobs run once across the processes sharing the store.
  auto cluster_lock = store::open_cluster_lock(global.store);
  if (!cluster_lock) {
    report(cluster_lock.error().message);
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
  server_options.shared_render_max_age = std::chrono::milliseconds(options.page_cache_ms);
  server_options.render_slots = options.render_slots;
  if (!options.katex_dir.empty()) server_options.katex_dir = options.katex_dir;
  auto server = web::Server::create(**store, server_options);
  if (!server) {
    report(server.error().message);
    return kError;
  }

  std::fprintf(stderr, "paperboy: serving %s on http://%s:%d (Ctrl-C stops)\n",
               store_path(global).c_str(), options.host.c_str(), (*server)->port());
  // Only a shared store changes behind this node's back. With the embedded one, `paperboy
  // ingest` updates the index itself and needs the index writer free.
  std::unique_ptr<IndexFollower> follower;
  if (store::is_shared_store(global.store))
    follower = std::make_unique<IndexFollower>(**store, index_path(global), global.store);

  // The scheduled jobs, started again by SIGHUP when their settings change.
  std::unique_ptr<ScheduledJob> digests;
  auto start_digests = [&](const ServeOptions& wanted, const mail::MailSettings& mail_wanted) {
    digests.reset();
    if (wanted.digest_every_minutes <= 0) return;
    // A sender's outbox claims last `lease`; the job's lease outlasts them, so a node that
    // takes over a dead node's run finds the messages that node had claimed free again.
    digests = std::make_unique<ScheduledJob>(
        "digests", **cluster_lock, std::chrono::minutes(wanted.digest_every_minutes),
        2 * mail_wanted.lease, [&, index_dir = index_path(global), digest_mail = mail_wanted] {
          run_digests(**store, **subscriptions, index_dir, digest_mail);
        });
  };
  std::unique_ptr<SyncScheduler> syncs;
  auto start_syncs = [&](const ServeOptions& wanted) -> Result<void> {
    syncs.reset();
    if (wanted.sync_every_minutes <= 0) return {};
    auto positions = sync::open_harvest_positions(global.store, global.data_dir);
    if (!positions) return fail("sync: " + positions.error().message);
    syncs = std::make_unique<SyncScheduler>(**store, **community, **cluster_lock, global,
                                            wanted.sync, std::move(*positions),
                                            std::chrono::minutes(wanted.sync_every_minutes),
                                            std::chrono::seconds(wanted.sync_lease_seconds));
    return {};
  };
  start_digests(options, *mail);
  if (auto started = start_syncs(options); !started) {
    report(started.error().message);
    return kError;
  }

  // SIGHUP: the log settings (and a reopened log file) and the schedules change live; a job
  // whose settings changed is stopped (its run resumable, as after a crash) and started anew.
  ServeSettings running = settings;
  auto reload = [&] {
    auto fresh = reread ? reread() : Result<ServeSettings>(running);
    if (!fresh) {
      report("SIGHUP: " + fresh.error().message + "; keeping the settings in use");
      return;
    }
    if (auto logging = configure_logging(fresh->log.format, fresh->log.level, fresh->log.file);
        !logging) {
      report("SIGHUP: " + logging.error().message + "; keeping the log settings in use");
    } else {
      running.log = fresh->log;
    }
    ServeOptions& now = running.options;
    const ServeOptions& wanted = fresh->options;
    if (wanted.digest_every_minutes != now.digest_every_minutes ||
        wanted.digest_lease_seconds != now.digest_lease_seconds || !(wanted.mail == now.mail)) {
      auto wanted_mail = mail_settings(global, wanted.mail);
      if (!wanted_mail) {
        report("SIGHUP: " + wanted_mail.error().message + "; keeping the digest settings in use");
      } else {
        wanted_mail->lease = std::chrono::seconds(wanted.digest_lease_seconds);
        start_digests(wanted, *wanted_mail);
        now.digest_every_minutes = wanted.digest_every_minutes;
        now.digest_lease_seconds = wanted.digest_lease_seconds;
        now.mail = wanted.mail;
      }
    }
    if (wanted.sync_every_minutes != now.sync_every_minutes ||
        wanted.sync_lease_seconds != now.sync_lease_seconds || !(wanted.sync == now.sync)) {
      if (auto started = start_syncs(wanted); !started) {
        report("SIGHUP: " + started.error().message + "; scheduled sync is off");
      }
      now.sync_every_minutes = wanted.sync_every_minutes;
      now.sync_lease_seconds = wanted.sync_lease_seconds;
      now.sync = wanted.sync;
    }
    std::string restart;
    for (const std::string& name : needing_restart(running, *fresh))
      restart += (restart.empty() ? "" : ", ") + name;
    report("reloaded the settings (log level " + running.log.level + ", digests every " +
           std::to_string(now.digest_every_minutes) + " min, sync every " +
           std::to_string(now.sync_every_minutes) + " min)" +
           (restart.empty() ? "" : "; " + restart + " take effect after a restart"));
  };

  std::thread signal_waiter([&] {
    for (;;) {
      char byte = 0;
      const ssize_t got = ::read(signal_pipe[0], &byte, 1);
      if (got < 0 && errno == EINTR) continue;
      if (got == 1 && byte == kReload) {
        reload();
        continue;
      }
      break;
    }
    (*server)->stop();
  });
  auto ran = (*server)->run();
  if (!ran) {
    report(ran.error().message);
    request_stop(0);
    signal_waiter.join();
    return kError;
  }
  // run() returned because stop() was called from the signal thread.
  signal_waiter.join();
  report("stopped");
  return kSuccess;
}

}  // namespace paperboy::cli
