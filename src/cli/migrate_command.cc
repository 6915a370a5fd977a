// paperboy migrate: copies an embedded SQLite store into PostgreSQL: the papers through the
// store's own upsert, so the merge rules apply, then accounts, votes, comments, collections,
// submissions and digest subscriptions (store/copy_to_postgres.h); running it again changes
// nothing.
#include <cstdio>
#include <optional>
#include <vector>

#include "cli/commands.h"
#include "cli/progress.h"
#include "store/community.h"
#include "store/copy_to_postgres.h"
#include "store/store.h"
#include "store/subscriptions.h"

namespace paperboy::cli {

namespace {

// Papers per PostgreSQL transaction: an interrupted copy keeps whole batches, and a rerun
// finds them unchanged.
constexpr size_t kBatchPapers = 5000;

int report(const std::string& message) {
  std::fprintf(stderr, "paperboy migrate: %s\n", message.c_str());
  return kError;
}

// Opening the community and subscription stores on both sides makes their tables, so a store
// that never had accounts copies as empty.
Result<void> open_community_tables(const std::filesystem::path& from, const std::string& to) {
  if (auto opened = store::open_sqlite_community_store(from); !opened)
    return std::unexpected(opened.error());
  if (auto opened = store::open_sqlite_subscription_store(from); !opened)
    return std::unexpected(opened.error());
  if (auto opened = store::open_postgres_community_store(to); !opened)
    return std::unexpected(opened.error());
  if (auto opened = store::open_postgres_subscription_store(to); !opened)
    return std::unexpected(opened.error());
  return {};
}

}  // namespace

int run_migrate(const GlobalOptions& global, const MigrateOptions& options) {
  const std::string target_name = store::redact_store_locator(options.to);
  if (!options.to.starts_with("postgres://") && !options.to.starts_with("postgresql://"))
    return report("--to " + target_name + ": not a postgres:// or postgresql:// URL");
  const std::filesystem::path from =
      !options.from.empty() ? std::filesystem::path(options.from) : store_path(global);
  if (!std::filesystem::exists(from))
    return report(from.string() + ": no SQLite store here (pass --from FILE or --data DIR)");
  auto source = store::open_sqlite_store(from);
  if (!source) return report(source.error().message);
  auto target = store::open_postgres_store(options.to);
  if (!target) return report(target.error().message);
  auto stats = (*source)->stats();
  if (!stats) return report(stats.error().message);

  size_t copied = 0, added = 0, updated = 0;
  std::optional<Error> failure;
  std::optional<Progress> progress;
  if (!global.quiet) progress.emplace("migrate", 0);
  auto local_upvotes = store::local_upvotes_by_paper(from);
  if (!local_upvotes) return report(local_upvotes.error().message);
  std::vector<Paper> pending;
  pending.reserve(kBatchPapers);
  // One transaction per batch, its papers merged in one upsert_many (two round trips a chunk).
  auto store_pending = [&]() -> Result<void> {
    if (auto begun = (*target)->begin_batch(); !begun) return begun;
    auto outcomes = (*target)->upsert_many(pending);
    if (!outcomes) {
      (*target)->rollback_batch();
      return std::unexpected(outcomes.error());
    }
    if (auto committed = (*target)->commit_batch(); !committed) return committed;
    for (store::UpsertOutcome outcome : *outcomes) {
      added += outcome == store::UpsertOutcome::added;
      updated += outcome == store::UpsertOutcome::updated;
    }
    copied += pending.size();
    pending.clear();
    if (progress) progress->update(copied, 0);
    return {};
  };
  auto visited = (*source)->for_each_paper([&](const Paper& paper) {
    if (failure) return;
    // The imported upvotes; the votes cast here follow with the accounts.
    Paper& imported = pending.emplace_back(paper);
    if (auto local =
            local_upvotes->find(paper.arxiv_id.empty() ? "title:" + paper.title : paper.arxiv_id);
        local != local_upvotes->end())
      imported.upvotes -= local->second;
    if (pending.size() == kBatchPapers) {
      if (auto stored = store_pending(); !stored) failure = stored.error();
    }
  });
  if (!visited) failure = visited.error();
  if (!failure && !pending.empty()) {
    if (auto stored = store_pending(); !stored) failure = stored.error();
  }
  if (failure)
    return report(failure->message + " (papers committed before this stay; run migrate again)");
  if (progress) progress->finish(copied, 0);
  std::printf("migrate: %zu of %lld papers from %s to %s: %zu added, %zu updated, %zu unchanged\n",
              copied, static_cast<long long>(stats->papers), from.c_str(), target_name.c_str(),
              added, updated, copied - added - updated);

  if (auto opened = open_community_tables(from, options.to); !opened)
    return report(opened.error().message);
  auto tables = store::copy_community_to_postgres(from, options.to);
  if (!tables) return report(tables.error().message + " (nothing of the accounts was copied)");
  for (const store::TableCopy& table : *tables) {
    if (table.rows == 0) continue;
    std::printf("migrate: %s: %zu of %zu added\n", table.table.c_str(), table.added, table.rows);
  }
  return kSuccess;
}

}  // namespace paperboy::cli
