// paperboy: a self-hosted Daily Papers service. This file only parses the command line; each
// subcommand lives in its own file (see commands.h).
#include <CLI/CLI.hpp>
#include <cstdio>
#include <cstdlib>

#include "cli/backup_command.h"
#include "cli/commands.h"
#include "cli/digest_command.h"
#include "cli/logging.h"
#include "cli/recommend_command.h"
#include "cli/sync_command.h"
#include "cli/user_command.h"
#include "cli/vector_sync.h"

namespace {

constexpr const char* kDescription =
    "paperboy: a self-hosted Daily Papers service.\n"
    "Ingests paper metadata (arXiv snapshot, arXiv API, OAI-PMH, Hugging Face daily_papers, page\n"
    "captures), keeps daily/weekly/monthly feeds and trending, and serves a web app and JSON "
    "API.\n\n"
    "Options may also come from a TOML config file (--config, default ./paperboy.toml, with a\n"
    "[serve] section for serve's options) and PAPERBOY_* environment variables (PAPERBOY_DATA,\n"
    "PAPERBOY_HOST, PAPERBOY_PORT, ...). The command line wins over the config file, which wins\n"
    "over the environment.\n\n"
    "Exit codes: 0 success, 1 error, 2 usage error, 3 some records rejected, 4 not found.";

}  // namespace

int main(int argc, char** argv) {
  using namespace paperboy::cli;
  CLI::App app{kDescription, "paperboy"};
  app.require_subcommand(1);
  app.set_config("--config", "paperboy.toml", "TOML config file")->envname("PAPERBOY_CONFIG");
  app.set_version_flag("--version", "paperboy 0.1.0");

  GlobalOptions global;
  std::string data_dir = global.data_dir.string();
  app.add_option("--data", data_dir, "Data folder holding the store and indexes")
      ->envname("PAPERBOY_DATA")
      ->capture_default_str();
  app.add_option("--store", global.store,
                 "The papers store: a postgres:// URL (several nodes share one), or a SQLite "
                 "file; default: DATA/paperboy.db")
      ->envname("PAPERBOY_STORE");
  app.add_flag("-q,--quiet", global.quiet, "No progress output");
  LogSettings log;
  std::string& log_format = log.format;
  std::string& log_level = log.level;
  app.add_option("--log-file", log.file,
                 "Append log lines (and serve's access log) to this file instead of standard "
                 "error; serve reopens it on SIGHUP")
      ->envname("PAPERBOY_LOG_FILE");
  app.add_option("--log-format", log_format, "Log lines as text or json (one object per line)")
      ->envname("PAPERBOY_LOG_FORMAT")
      ->capture_default_str()
      ->check(CLI::IsMember({"text", "json"}));
  app.add_option("--log-level", log_level, "trace, debug, info, warn, error or off")
      ->envname("PAPERBOY_LOG_LEVEL")
      ->capture_default_str();

  IngestOptions ingest_options;
  auto* ingest = app.add_subcommand("ingest", "Import papers from files or folders into the store");
  ingest
      ->add_option("paths", ingest_options.paths,
                   "Files or folders (.gz and .zst are read directly)")
      ->required();
  ingest->add_option("--format", ingest_options.format,
                     "Input format instead of detecting it: arxiv-snapshot, arxiv-atom, oai-pmh, "
                     "hf-daily, canonical, page-text, arxiv-listing");
  ingest->add_option("--feed-day", ingest_options.feed_day,
                     "Day (YYYY-MM-DD) papers enter the feed when the source gives none");
  ingest->add_option("--batch", ingest_options.batch_size, "Records per committed batch")
      ->capture_default_str()
      ->check(CLI::Range(1, 1000000));
  ingest->add_flag("--dry-run", ingest_options.dry_run, "Parse and validate only; store nothing");
  ingest->add_flag(
      "!--no-index", ingest_options.update_index,
      "Leave the search index as it is (paperboy index rebuild, or the next ingest, catches up)");

  std::string show_id;
  bool show_json = false;
  auto* show = app.add_subcommand("show", "Show one paper");
  show->add_option("id", show_id, "arXiv id (any version), arXiv URL or paperboy id")->required();
  show->add_flag("--json", show_json, "Print canonical JSON");

  FeedOptions feed_options;
  auto* feed = app.add_subcommand("feed", "List the papers of a day, week or month");
  auto* period = feed->add_option_group("period", "Which period (default: --day)");
  bool day = false, week = false, month = false;
  period->add_flag("--day", day, "The day holding DATE");
  period->add_flag("--week", week, "The ISO week (Monday to Sunday) holding DATE");
  period->add_flag("--month", month, "The month holding DATE");
  period->require_option(0, 1);
  feed->add_option("date", feed_options.date, "YYYY-MM-DD (default: the latest day with papers)");
  feed->add_option("--category", feed_options.category,
                   "Only papers listed in this arXiv category");
  feed->add_option("--sort", feed_options.sort, "upvotes, date or trending")->capture_default_str();
  feed->add_flag("--json", feed_options.json, "Print canonical JSON Lines");

  size_t trending_limit = 20;
  bool trending_json = false;
  auto* trending = app.add_subcommand("trending", "Papers ranked by time-decayed upvotes");
  trending->add_option("--limit", trending_limit, "How many papers")->capture_default_str();
  trending->add_flag("--json", trending_json, "Print canonical JSON Lines");

  bool stats_json = false;
  auto* stats = app.add_subcommand("stats", "Counts and sizes of the store");
  stats->add_flag("--json", stats_json, "Print JSON");

  std::string export_output = "-";
  auto* exporter = app.add_subcommand("export", "Write every paper as canonical JSON Lines");
  exporter->add_option("output", export_output, "Output file, - for standard output")
      ->capture_default_str();

  ServeOptions serve_options;
  auto* serve = app.add_subcommand("serve", "Serve the web app and JSON API");
  serve
      ->add_option("--host", serve_options.host,
                   "Address to listen on (0.0.0.0 for every interface)")
      ->envname("PAPERBOY_HOST")
      ->capture_default_str();
  serve->add_option("--port", serve_options.port, "TCP port, 0 for any free port")
      ->envname("PAPERBOY_PORT")
      ->capture_default_str()
      ->check(CLI::Range(0, 65535));
  serve
      ->add_option("--threads", serve_options.threads,
                   "Connection threads: one per open keep-alive connection (browsers keep ~6 "
                   "each); rendering is bounded by --render-slots")
      ->envname("PAPERBOY_THREADS")
      ->capture_default_str()
      ->check(CLI::Range(1, 4096));
  serve->add_option("--katex-dir", serve_options.katex_dir, "KaTeX dist folder for math rendering")
      ->envname("PAPERBOY_KATEX_DIR");
  serve->add_flag("--access-log", serve_options.access_log, "Log every request at info level")
      ->envname("PAPERBOY_ACCESS_LOG");
  serve
      ->add_option("--page-cache-ms", serve_options.page_cache_ms,
                   "Anonymous visitors share a rendered page or API answer for this long: votes "
                   "and new papers show at most this late (0: render every request)")
      ->envname("PAPERBOY_PAGE_CACHE_MS")
      ->capture_default_str()
      ->check(CLI::Range(0, 600000));
  serve
      ->add_option("--render-slots", serve_options.render_slots,
                   "Pages rendered at once; more requests wait their turn in arrival order, which "
                   "bounds their latency (0: one per core; --threads or more: no queue)")
      ->envname("PAPERBOY_RENDER_SLOTS")
      ->capture_default_str()
      ->check(CLI::Range(0, 256));
  serve
      ->add_option("--digest-every", serve_options.digest_every_minutes,
                   "Run the email digest job every N minutes (0: never; cron runs `digest send`)")
      ->envname("PAPERBOY_DIGEST_EVERY")
      ->capture_default_str()
      ->check(CLI::Range(0, 1440));
  serve
      ->add_option("--digest-lease", serve_options.digest_lease_seconds,
                   "Seconds a node may hold claimed digests before another node may send them")
      ->envname("PAPERBOY_DIGEST_LEASE")
      ->capture_default_str()
      ->check(CLI::Range(2, 86400));
  add_mail_options(*serve, serve_options.mail);
  serve
      ->add_option("--sync-every-minutes", serve_options.sync_every_minutes,
                   "Run live sync (arXiv --categories, HF, fetch queue) every N minutes (0: never)")
      ->envname("PAPERBOY_SYNC_EVERY")
      ->capture_default_str()
      ->check(CLI::Range(0, 10080));
  serve
      ->add_option("--sync-lease", serve_options.sync_lease_seconds,
                   "Seconds a node's scheduled sync may go silent before another node takes over")
      ->envname("PAPERBOY_SYNC_LEASE")
      ->capture_default_str()
      ->check(CLI::Range(2, 86400));
  serve->add_option("--arxiv-source", serve_options.sync.source, "Scheduled sync: oai or api")
      ->capture_default_str()
      ->check(CLI::IsMember({"oai", "api"}));
  serve
      ->add_option("--metadata-prefix", serve_options.sync.metadata_prefix,
                   "Scheduled OAI-PMH sync: arXiv or arXivRaw (carries versions)")
      ->capture_default_str()
      ->check(CLI::IsMember({"arXiv", "arXivRaw"}));
  add_sync_options(*serve, serve_options.sync);

  auto* index = app.add_subcommand("index", "Maintain the search index");
  index->require_subcommand(1);
  auto* index_rebuild = index->add_subcommand("rebuild", "Rebuild the search index from the store");

  SearchCommandOptions search_options;
  std::vector<std::string> query_words;
  auto* search = app.add_subcommand(
      "search",
      "Search titles, abstracts and authors. Syntax: words, \"exact phrase\", -exclude, a OR b,\n"
      "title: abstract: author: cat:cs.CL after:2024-01-01 before: year:2023, or an arXiv id");
  search->add_option("query", query_words, "The query");
  search->add_option("--limit", search_options.limit, "Results to show")->capture_default_str();
  search->add_option("--offset", search_options.offset, "Results to skip")->capture_default_str();
  search->add_option("--sort", search_options.sort, "relevance, date or upvotes")
      ->capture_default_str();
  search->add_flag("--facets", search_options.facets, "Count matches per category and year");
  search->add_flag("--json", search_options.json, "Print JSON");
  search
      ->add_option("--mode", search_options.mode,
                   "keyword, semantic or hybrid (default: hybrid when vectors exist)")
      ->check(CLI::IsMember({"keyword", "semantic", "hybrid"}));
  search->add_option("--like", search_options.like_file,
                     "Find papers like the text of this file (- for standard input)");

  EmbedTrainOptions embed_options;
  auto* embed = app.add_subcommand("embed", "Maintain the built-in embedder and the paper vectors");
  embed->require_subcommand(1);
  auto* embed_train = embed->add_subcommand(
      "train", "Learn the embedder from the store's titles and abstracts, then embed every paper");
  embed_train->add_option("--dim", embed_options.dimension, "Vector dimension")
      ->capture_default_str()
      ->check(CLI::Range(2, 4096));
  embed_train->add_option("--seed", embed_options.seed, "Random seed (same seed, same model)")
      ->capture_default_str();
  embed_train->add_option("--threads", embed_options.threads, "Worker threads (0: every core)")
      ->envname("PAPERBOY_THREADS")
      ->capture_default_str();
  embed_train
      ->add_option("--max-papers", embed_options.max_papers,
                   "Train on at most this many papers, sampled evenly")
      ->capture_default_str()
      ->check(CLI::Range(size_t{1}, size_t{100000000}));
  embed_train
      ->add_option("--encoder", embed_options.encoder,
                   "Embed with this transformer sentence-encoder checkpoint folder "
                   "(all-MiniLM-L6-v2, bge-small-en-v1.5, ...) instead of training the built-in "
                   "embedder; search, related and ingest then use it too")
      ->check(CLI::ExistingDirectory);

  std::string related_id;
  size_t related_limit = 10;
  bool related_json = false;
  auto* related = app.add_subcommand("related", "Papers most like a given paper (needs vectors)");
  related->add_option("id", related_id, "arXiv id, arXiv URL or paperboy id")->required();
  related->add_option("--limit", related_limit, "How many papers")->capture_default_str();
  related->add_flag("--json", related_json, "Print JSON");

  EvalCommandOptions eval_options;
  auto* eval = app.add_subcommand("eval", "Measure search relevance on a BEIR-format benchmark");
  eval->add_option("benchmark", eval_options.benchmark_dir,
                   "Folder with corpus.jsonl, queries and qrels")
      ->required()
      ->check(CLI::ExistingDirectory);
  eval->add_option("--queries", eval_options.queries, "Queries file in that folder")
      ->capture_default_str();
  eval->add_option("--qrels", eval_options.qrels, "Judgements file in that folder")
      ->capture_default_str();
  eval->add_option("--mode", eval_options.mode,
                   "all (keyword, semantic and hybrid side by side) or keyword")
      ->capture_default_str()
      ->check(CLI::IsMember({"all", "keyword"}));
  eval->add_option("--train-with", eval_options.extra_training,
                   "More paper files or folders for the embedder to learn from");
  eval->add_option("--dim", eval_options.dimension, "Embedding dimension")
      ->capture_default_str()
      ->check(CLI::Range(2, 4096));

  MigrateOptions migrate_options;
  auto* migrate = app.add_subcommand(
      "migrate", "Copy every paper from the SQLite store into PostgreSQL (again: changes nothing)");
  migrate->add_option("--to", migrate_options.to, "The PostgreSQL store: postgres://...")
      ->required();
  migrate->add_option("--from", migrate_options.from,
                      "The SQLite store to copy; default: DATA/paperboy.db");

  DigestCommands digest(app);
  SyncCommands sync_commands(app);
  BackupCommands backup(app);

  UserCommands user(app);
  RecommendCommand recommend(app);

  EncodeOptions encode_options;
  auto* encode = app.add_subcommand(
      "encode",
      "Embed texts with a BERT sentence encoder (all-MiniLM-L6-v2, bge-small-en-v1.5, e5-small-v2\n"
      "folders as sentence-transformers publishes them); prints one JSON line per text");
  encode->add_option("--model", encode_options.model_dir, "Model folder")
      ->required()
      ->check(CLI::ExistingDirectory);
  encode->add_option("texts", encode_options.texts, "Texts (default: one per line of stdin)");
  encode->add_option("--threads", encode_options.threads, "Worker threads (0: one per core)")
      ->capture_default_str()
      ->check(CLI::Range(0, 256));
  encode->add_option("--batch", encode_options.batch_size, "Texts per forward pass")
      ->capture_default_str()
      ->check(CLI::Range(1, 4096));
  encode
      ->add_option("--max-tokens", encode_options.max_tokens,
                   "Tokens per text (0: the model's max_seq_length)")
      ->capture_default_str();

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& error) {
    const int code = app.exit(error);
    return code == 0 ? kSuccess : kUsage;
  }
  global.data_dir = data_dir;
  if (auto logging = configure_logging(log.format, log.level, log.file); !logging) {
    std::fprintf(stderr, "paperboy: %s\n", logging.error().message.c_str());
    return kUsage;
  }

  if (ingest->parsed()) return run_ingest(global, ingest_options);
  if (show->parsed()) return run_show(global, show_id, show_json);
  if (feed->parsed()) {
    feed_options.period = week ? "week" : month ? "month" : "day";
    return run_feed(global, feed_options);
  }
  if (trending->parsed()) return run_trending(global, trending_limit, trending_json);
  if (stats->parsed()) return run_stats(global, stats_json);
  if (exporter->parsed()) return run_export(global, export_output);
  if (serve->parsed()) {
    // SIGHUP: the same arguments, parsed again against the config file and environment as they
    // are now; what they leave out takes its default again.
    auto reread = [&]() -> paperboy::Result<ServeSettings> {
      global = GlobalOptions{};
      data_dir = global.data_dir.string();
      serve_options = ServeOptions{};
      log = LogSettings{};
      app.clear();
      try {
        app.parse(argc, argv);
      } catch (const CLI::ParseError& error) {
        return paperboy::fail(std::string(error.what()));
      }
      global.data_dir = data_dir;
      return ServeSettings{global, serve_options, log};
    };
    return run_serve(ServeSettings{global, serve_options, log}, reread);
  }
  if (index_rebuild->parsed()) return run_index_rebuild(global);
  if (user.parsed()) return user.run(global);
  if (recommend.parsed()) return recommend.run(global);
  if (search->parsed()) {
    for (const std::string& word : query_words)
      search_options.query += (search_options.query.empty() ? "" : " ") + word;
    if (search_options.query.empty() && search_options.like_file.empty()) {
      std::fprintf(stderr, "paperboy search: give a query, or --like FILE\n");
      return kUsage;
    }
    return run_search_modes(global, search_options);
  }
  if (eval->parsed())
    return eval_options.mode == "keyword" ? run_eval(eval_options) : run_eval_modes(eval_options);
  if (embed_train->parsed()) return run_embed_train(global, embed_options);
  if (related->parsed()) return run_related(global, related_id, related_limit, related_json);
  if (digest.parsed()) return digest.run(global);
  if (migrate->parsed()) return run_migrate(global, migrate_options);
  if (sync_commands.parsed()) return sync_commands.run(global);
  if (backup.parsed()) return backup.run(global);
  if (encode->parsed()) return run_encode(global, encode_options);
  return kUsage;
}
