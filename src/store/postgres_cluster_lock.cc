// The cluster lock on PostgreSQL: one cluster_jobs row per job, changed by single statements
// that check and take the lease at once (the row lock of INSERT ... ON CONFLICT DO UPDATE makes
// two nodes claiming together see each other). Times come from the database's clock.
#include "store/cluster_lock.h"
#include "store/pg_access.h"
#include "store/pg_pool.h"

namespace paperboy::store {

namespace {

constexpr pg::Migration kClusterMigrations[] = {
    {1, R"sql(
CREATE TABLE cluster_jobs (
  job text PRIMARY KEY,
  holder text NOT NULL DEFAULT '',
  leased_until timestamptz NOT NULL DEFAULT '-infinity',
  due_at timestamptz NOT NULL DEFAULT '-infinity'
);
)sql"},
    {2, R"sql(
CREATE TABLE cluster_state (
  key text PRIMARY KEY,
  value text NOT NULL,
  updated_at timestamptz NOT NULL DEFAULT now()
);
)sql"},
};

// The scheduler renews leases while a job runs, on its own connection; a second one lets a
// claim for another job go on meanwhile.
constexpr size_t kPoolSize = 2;

class PostgresClusterLock final : public ClusterLock {
 public:
  explicit PostgresClusterLock(std::string url) : pool_(std::move(url), kPoolSize) {}

  Result<bool> try_claim(std::string_view job, std::string_view holder,
                         std::chrono::seconds lease) override {
    auto rows = run("claiming a scheduled job",
                    "INSERT INTO cluster_jobs AS j (job, holder, leased_until) "
                    "VALUES ($1, $2, now() + make_interval(secs => $3)) "
                    "ON CONFLICT (job) DO UPDATE SET holder = excluded.holder, "
                    "leased_until = excluded.leased_until WHERE j.due_at <= now() AND "
                    "(j.leased_until <= now() OR j.holder = excluded.holder) RETURNING 1",
                    job, holder, static_cast<int64_t>(lease.count()));
    if (!rows) return std::unexpected(rows.error());
    return !rows->empty();
  }

  Result<bool> renew(std::string_view job, std::string_view holder,
                     std::chrono::seconds lease) override {
    auto rows = run("renewing a job's lease",
                    "UPDATE cluster_jobs SET leased_until = now() + make_interval(secs => $3) "
                    "WHERE job = $1 AND holder = $2 RETURNING 1",
                    job, holder, static_cast<int64_t>(lease.count()));
    if (!rows) return std::unexpected(rows.error());
    return !rows->empty();
  }

  Result<void> finish(std::string_view job, std::string_view holder,
                      std::chrono::seconds next_run_in) override {
    auto rows = run("finishing a scheduled job",
                    "UPDATE cluster_jobs SET holder = '', leased_until = '-infinity', "
                    "due_at = now() + make_interval(secs => $3) WHERE job = $1 AND holder = $2",
                    job, holder, static_cast<int64_t>(next_run_in.count()));
    if (!rows) return std::unexpected(rows.error());
    return {};
  }

 private:
  template <class... Values>
  Result<pg::Rows> run(std::string_view what, const std::string& sql, const Values&... values) {
    auto connection = pool_.borrow();
    if (!connection) return std::unexpected(connection.error());
    if constexpr (sizeof...(Values) == 0) {
      return (*connection)->query(what, sql);
    } else {
      return (*connection)->query_with(what, sql, values...);
    }
  }

  pg::Pool pool_;
};

// One connection from a pool of one: a sync writes its position after each page, one thread
// at a time, and the pool reopens a connection that broke (the database restarted mid-sync).
class PostgresSharedState final : public SharedState {
 public:
  explicit PostgresSharedState(std::string url) : pool_(std::move(url), 1) {}

  Result<std::optional<std::string>> get(std::string_view key) override {
    auto connection = pool_.borrow();
    if (!connection) return std::unexpected(connection.error());
    auto rows = (*connection)
                    ->query_with("reading shared job state",
                                 "SELECT value FROM cluster_state WHERE key = $1", key);
    if (!rows) return std::unexpected(rows.error());
    if (rows->empty()) return std::nullopt;
    return std::string(rows->text(0, 0));
  }

  Result<void> put(std::string_view key, std::string_view value) override {
    auto connection = pool_.borrow();
    if (!connection) return std::unexpected(connection.error());
    auto rows = (*connection)
                    ->query_with("saving shared job state",
                                 "INSERT INTO cluster_state (key, value) VALUES ($1, $2) "
                                 "ON CONFLICT (key) DO UPDATE SET value = excluded.value, "
                                 "updated_at = now()",
                                 key, value);
    if (!rows) return std::unexpected(rows.error());
    return {};
  }

 private:
  pg::Pool pool_;
};

}  // namespace

Result<std::unique_ptr<ClusterLock>> open_postgres_cluster_lock(std::string_view url) {
  auto connection = pg::Connection::open(url);
  if (!connection) return std::unexpected(connection.error());
  if (auto migrated = pg::migrate(**connection, "cluster", kClusterMigrations); !migrated)
    return std::unexpected(migrated.error());
  return std::make_unique<PostgresClusterLock>(std::string(url));
}

Result<std::unique_ptr<SharedState>> open_postgres_shared_state(std::string_view url) {
  auto connection = pg::Connection::open(url);
  if (!connection) return std::unexpected(connection.error());
  if (auto migrated = pg::migrate(**connection, "cluster", kClusterMigrations); !migrated)
    return std::unexpected(migrated.error());
  return std::make_unique<PostgresSharedState>(std::string(url));
}

bool is_shared_store(std::string_view store_locator) { return pg::is_postgres_url(store_locator); }

Result<std::unique_ptr<ClusterLock>> open_cluster_lock(std::string_view store_locator) {
  if (is_shared_store(store_locator)) return open_postgres_cluster_lock(store_locator);
  return make_local_cluster_lock();
}

}  // namespace paperboy::store
