// The paperboy subcommands. Each returns the process exit code (see docs/cli.md):
//   0 success, 1 error, 2 usage error, 3 finished but some records were rejected, 4 not found.
#pragma once

#include <filesystem>
#include <optional>
#include <string>
#include <vector>

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
};

// Where the embedded store lives inside the data folder.
std::filesystem::path store_path(const GlobalOptions& global);

struct IngestOptions {
  std::vector<std::string> paths;  // files or folders (read recursively, in name order)
  std::string format;              // empty: detect
  std::string feed_day;            // default feed day for sources that give none
  size_t batch_size = 5000;
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

struct ServeOptions {
  std::string host = "127.0.0.1";
  int port = 8080;
  int threads = 8;
  std::string katex_dir;  // empty: the web component's default
};
int run_serve(const GlobalOptions& global, const ServeOptions& options);

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
};
int run_search(const GlobalOptions& global, const SearchCommandOptions& options);

struct EvalCommandOptions {
  std::string benchmark_dir;
  std::string queries = "queries-train.jsonl";
  std::string qrels = "qrels-train.tsv";
};
int run_eval(const EvalCommandOptions& options);

}  // namespace paperboy::cli
