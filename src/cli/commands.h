// The paperboy subcommands. Each returns the process exit code (see docs/cli.md):
//   0 success, 1 error, 2 usage error, 3 finished but some records were rejected, 4 not found.
#pragma once

#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/result.h"
#include "sync/sync.h"

namespace paperboy::store {
class Store;
}

namespace paperboy::cli {

enum ExitCode : int {
  kSuccess = 0,
  kError = 1,
  kUsage = 2,
  kRejected = 3,
  kNotFound = 4,
};

struct GlobalOptions {
  std::filesystem::path data_dir = "data";
  bool quiet = false;
  // --store / PAPERBOY_STORE / `store =`: a postgres:// URL, or a SQLite file; empty: the data
  // folder's file (store_path).
  std::string store;
};

// Where the embedded store lives inside the data folder.
std::filesystem::path store_path(const GlobalOptions& global);

// The papers store every command uses: --store when given, else the data folder's SQLite file.
Result<std::unique_ptr<store::Store>> open_papers_store(const GlobalOptions& global);
// The papers store as messages name it (a URL without its password, or the file).
std::string store_name(const GlobalOptions& global);

struct MigrateOptions {
  std::string to;    // postgres:// URL
  std::string from;  // SQLite store; empty: the data folder's
};
// Copies every paper from the SQLite store into PostgreSQL (migrate_command.cc).
int run_migrate(const GlobalOptions& global, const MigrateOptions& options);

struct IngestOptions {
  std::vector<std::string> paths;  // files or folders (read recursively, in name order)
  std::string format;              // empty: detect
  std::string feed_day;            // default feed day for sources that give none
  // Records per transaction; large, as each commit writes out every index page it touched.
  size_t batch_size = 50000;
  bool dry_run = false;      // parse and validate only
  bool update_index = true;  // bring the search index up to date afterwards
};
int run_ingest(const GlobalOptions& global, const IngestOptions& options);

int run_show(const GlobalOptions& global, const std::string& id, bool json);

struct FeedOptions {
  std::string period = "day";  // day | week | month
  std::string date;            // empty: the latest day with papers
  std::string category;
  std::string sort = "upvotes";
  bool json = false;
};
int run_feed(const GlobalOptions& global, const FeedOptions& options);

int run_trending(const GlobalOptions& global, size_t limit, bool json);
int run_stats(const GlobalOptions& global, bool json);
int run_export(const GlobalOptions& global, const std::string& output);

// The mail settings of `digest` and `serve`: their options, the [digest] / [serve] sections of
// the config file, or PAPERBOY_SMTP_* / PAPERBOY_MAIL_FROM / PAPERBOY_BASE_URL.
struct MailOptions {
  std::string smtp_host = "127.0.0.1";
  int smtp_port = 25;
  std::string smtp_tls = "none";  // none | starttls | tls
  std::string smtp_user;
  std::string smtp_password;
  bool smtp_verify = true;
  std::string from = "paperboy <paperboy@localhost.localdomain>";
  std::string base_url = "http://localhost:8080";
  bool operator==(const MailOptions&) const = default;
};

// Live sync settings of `sync` and `serve` (sync_command.cc): their options, the [sync] /
// [serve] sections of the config file, or PAPERBOY_ARXIV_OAI_URL / PAPERBOY_ARXIV_API_URL /
// PAPERBOY_HF_API_URL / PAPERBOY_SYNC_CATEGORIES.
struct SyncSettings {
  std::vector<std::string> categories;  // arXiv categories ("cs.CL") or archives ("cs")
  sync::SyncSources sources;
  // The sync component's defaults, in seconds for the command line.
  double request_delay_seconds = sync::HttpPolicy{}.delay.count() / 1000.0;
  double request_timeout_seconds = sync::HttpPolicy{}.timeout.count() / 1000.0;
  int request_attempts = sync::HttpPolicy{}.max_attempts;
  std::string source = "oai";             // the server's arXiv source: oai or api
  std::string metadata_prefix = "arXiv";  // the server's OAI-PMH metadata: arXiv or arXivRaw
  bool operator==(const SyncSettings&) const = default;
};

struct ServeOptions {
  std::string host = "127.0.0.1";
  int port = 8080;
  int threads = 128;      // one per open keep-alive connection; render slots bound the CPU work
  std::string katex_dir;  // empty: the web component's default
  bool access_log = false;
  int page_cache_ms = 1000;  // anonymous visitors share a rendered page this long; 0: never
  int render_slots = 0;      // pages rendered at once, the rest queue; 0: one per core
  MailOptions mail;
  int digest_every_minutes = 0;  // run the digest job this often; 0: never (cron runs it)
  // How long a node may hold claimed digests; a dead node's job is taken over after twice that.
  int digest_lease_seconds = 600;
  SyncSettings sync;
  int sync_every_minutes = 0;  // run live sync this often; 0: never
  // How long a node's scheduled sync may go without renewing its lease before another node
  // takes the sync over.
  int sync_lease_seconds = 300;
};
// How log lines look and where they go (main.cc; configure_logging in logging.h).
struct LogSettings {
  std::string format = "text";
  std::string level = "info";
  std::filesystem::path file;  // empty: standard error
};
// Everything `serve` runs with, as read from the command line, the config file and the
// environment; SIGHUP reads them again.
struct ServeSettings {
  GlobalOptions global;
  ServeOptions options;
  LogSettings log;
};
using ServeSettingsReader = std::function<Result<ServeSettings>()>;
// Serves until SIGINT or SIGTERM; on SIGHUP applies what `reread` returns that can change live.
int run_serve(const ServeSettings& settings, const ServeSettingsReader& reread);

// The search index folder inside the data folder.
std::filesystem::path index_path(const GlobalOptions& global);

int run_index_rebuild(const GlobalOptions& global);

struct SearchCommandOptions {
  std::string query;
  size_t limit = 10;
  size_t offset = 0;
  std::string sort = "relevance";
  bool facets = false;
  bool json = false;
  std::string mode;       // keyword | semantic | hybrid; empty: hybrid when vectors exist
  std::string like_file;  // find papers like this file's text ("-": standard input)
};
int run_search(const GlobalOptions& global, const SearchCommandOptions& options);

struct EvalCommandOptions {
  std::string benchmark_dir;
  std::string queries = "queries-train.jsonl";
  std::string qrels = "qrels-train.tsv";
  std::string mode = "all";                 // keyword (search engine only) or all
  std::vector<std::string> extra_training;  // more text for the embedder (paper files)
  size_t dimension = 384;
};
int run_eval(const EvalCommandOptions& options);

// Semantic search (semantic_commands.cc): vectors live in <data>/vectors, the built-in
// embedder in <data>/embed/model.bin.
std::filesystem::path vectors_path(const GlobalOptions& global);
std::filesystem::path embed_model_path(const GlobalOptions& global);
struct EmbedTrainOptions;
int run_embed_train(const GlobalOptions& global, const EmbedTrainOptions& options);
int run_related(const GlobalOptions& global, const std::string& id, size_t limit, bool json);
// `paperboy search` in every mode; keyword runs, sorts and facets go to run_search.
int run_search_modes(const GlobalOptions& global, const SearchCommandOptions& options);
// `paperboy eval` for keyword, semantic and hybrid side by side (mode "all").
int run_eval_modes(const EvalCommandOptions& options);

struct EncodeOptions {
  std::string model_dir;           // a sentence-transformers BERT checkpoint folder
  std::vector<std::string> texts;  // empty: one text per line of standard input
  size_t threads = 0;              // 0: one per core
  size_t batch_size = 32;
  size_t max_tokens = 0;  // 0: the checkpoint's own limit
};
int run_encode(const GlobalOptions& global, const EncodeOptions& options);

}  // namespace paperboy::cli
