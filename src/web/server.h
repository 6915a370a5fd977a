// The web app and JSON API over a store: HTML pages for people, Hugging Face-shaped JSON for
// programs (docs/api.md). Requests run on a thread pool and call the store concurrently, so the
// store must be safe to use from several threads (open_sqlite_store's is).
#pragma once

#include <chrono>
#include <cstddef>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "core/result.h"
#include "mail/digest.h"
#include "store/community.h"
#include "store/store.h"
#include "store/subscriptions.h"
#include "web/metrics.h"

namespace httplib {
class Server;
}

namespace paperboy::web {

struct ServerOptions {
  std::string host = "127.0.0.1";
  int port = 8080;  // 0: pick a free port
  std::filesystem::path
      katex_dir;  // KaTeX dist folder; empty: <source dir>/node_modules/katex/dist
  // Search index folder (normally <data>/index); empty: search is disabled and says so.
  // Commits to it show up within a second, without a restart.
  std::filesystem::path index_dir;
  // Paper vectors folder (normally <data>/vectors); empty: no semantic search or related
  // papers. A missing folder is fine: they appear once vectors are saved there.
  std::filesystem::path vectors_dir;
  // httplib holds a thread per open keep-alive connection: one more connection than threads
  // waits for an idle one to time out (5 s). Rendering is bounded by render_slots instead.
  int threads = 128;
  size_t max_body_bytes = 1 << 20;
  // Accounts, votes, comments, collections and moderation; null: a read-only site without them.
  store::CommunityStore* community = nullptr;
  // Email digests: the subscribe form and the confirm / unsubscribe links of mails, with
  // `mail` for signing and sending; null: no digests.
  store::SubscriptionStore* subscriptions = nullptr;
  mail::MailSettings mail;
  // More samples for /metrics (sync counters, ...), called on every scrape from a request thread.
  std::vector<MetricsSource> metrics_sources;
  // One info-level log line per request (method, path, status, bytes, ms, remote).
  bool access_log = false;
  // How long anonymous visitors share a rendered page or read API answer (render_cache.h): a
  // vote or new paper shows on them at most this much later, at once when written through this
  // server. 0: every request is rendered (`paperboy serve` shares for 1 s by default).
  // Signed-in visitors always get their own rendering.
  std::chrono::milliseconds shared_render_max_age{0};
  size_t shared_render_max_bytes = 64 << 20;
  // Pages and read API answers rendered at once; more wait their turn in arrival order
  // (render_gate.h). 0: one per core. `threads` or more: no queue.
  int render_slots = 0;
};

class Server {
 public:
  // Loads the templates and binds host:port, so a taken port fails here with a clear message
  // and port() is known before run().
  static Result<std::unique_ptr<Server>> create(store::Store& store, ServerOptions options);
  ~Server();
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  // Serves requests until stop(); returns at once if stop() came first.
  Result<void> run();
  // Safe from any thread, before, during or after run().
  void stop();
  // The bound port (the chosen one when options.port was 0).
  int port() const;

 private:
  struct State;
  explicit Server(std::unique_ptr<State> state);

  std::unique_ptr<State> state_;
};

}  // namespace paperboy::web
