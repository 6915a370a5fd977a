// The PostgreSQL backend of the subscription store and outbox (tables from the "subscriptions"
// migrations). Several nodes share one outbox: claim_due locks the rows it leases with
// FOR UPDATE SKIP LOCKED, so concurrent senders pass over each other's rows instead of waiting
// for them, and each message is leased to one sender at a time. Every change that must hold
// together is one statement (data-modifying WITH), so it commits or fails as a whole.
#include <fmt/format.h>

#include <algorithm>
#include <nlohmann/json.hpp>
#include <utility>

#include "store/pg_access.h"
#include "store/pg_pool.h"
#include "store/store.h"
#include "store/subscriptions.h"

namespace paperboy::store {

namespace {

using std::chrono::sys_seconds;

constexpr pg::Migration kSubscriptionMigrations[] = {
    {1, R"sql(
CREATE TABLE subscriptions (
  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  email text NOT NULL,
  name text NOT NULL DEFAULT '',
  state text NOT NULL CHECK (state IN ('pending', 'active', 'paused', 'unsubscribed')),
  frequency text NOT NULL CHECK (frequency IN ('daily', 'weekly')),
  time_zone text NOT NULL,
  send_hour integer NOT NULL,
  topics text NOT NULL,
  max_papers integer NOT NULL,
  include_trending boolean NOT NULL,
  created_at bigint NOT NULL,
  confirmed_at bigint,
  covered_through text NOT NULL DEFAULT '',
  bounces integer NOT NULL DEFAULT 0
);
CREATE UNIQUE INDEX subscriptions_email ON subscriptions (lower(email));
CREATE INDEX subscriptions_state ON subscriptions (state, id);
CREATE TABLE outbox (
  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  subscription_id bigint NOT NULL REFERENCES subscriptions(id) ON DELETE CASCADE,
  period text NOT NULL,
  recipient text NOT NULL,
  message text NOT NULL,
  covered_through text NOT NULL DEFAULT '',
  state text NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'sent', 'failed')),
  attempts integer NOT NULL DEFAULT 0,
  next_attempt_at bigint NOT NULL,
  leased_until bigint NOT NULL DEFAULT 0,
  last_error text NOT NULL DEFAULT '',
  created_at bigint NOT NULL,
  sent_at bigint,
  UNIQUE (subscription_id, period)
);
CREATE INDEX outbox_due ON outbox (next_attempt_at, id) WHERE state = 'pending';
)sql"},
};

constexpr size_t kPoolSize = 8;

int64_t seconds(sys_seconds instant) { return instant.time_since_epoch().count(); }
sys_seconds instant(int64_t value) { return sys_seconds{std::chrono::seconds{value}}; }

// The same text as the SQLite backend writes, so `paperboy migrate` copies it as is.
std::string topics_json(const Topics& topics) {
  nlohmann::json json{
      {"categories", topics.categories}, {"queries", topics.queries}, {"authors", topics.authors}};
  if (topics.like_my_papers) json["like_my_papers"] = true;
  return json.dump();
}

Topics parse_topics(std::string_view text) {
  Topics topics;
  auto json = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (!json.is_object()) return topics;
  auto list = [&](const char* key, std::vector<std::string>& out) {
    if (!json.contains(key) || !json[key].is_array()) return;
    for (const auto& item : json[key]) {
      if (item.is_string()) out.push_back(item.get<std::string>());
    }
  };
  list("categories", topics.categories);
  list("queries", topics.queries);
  list("authors", topics.authors);
  topics.like_my_papers = json.value("like_my_papers", false) == true;
  return topics;
}

const std::string kSubscriptionFields =
    "id, email, name, state, frequency, time_zone, send_hour, topics, max_papers, "
    "include_trending, created_at, confirmed_at, covered_through, bounces";
const std::string kSubscriptionColumns = "SELECT " + kSubscriptionFields + " FROM subscriptions ";

Subscription read_subscription(const pg::Rows& rows, int row) {
  Subscription s;
  s.id = rows.integer(row, 0);
  s.email = rows.text(row, 1);
  s.name = rows.text(row, 2);
  s.state = parse_subscription_state(rows.text(row, 3)).value_or(SubscriptionState::pending);
  s.frequency = parse_frequency(rows.text(row, 4)).value_or(DigestFrequency::daily);
  s.time_zone = rows.text(row, 5);
  s.send_hour = static_cast<int>(rows.integer(row, 6));
  s.topics = parse_topics(rows.text(row, 7));
  s.max_papers = static_cast<int>(rows.integer(row, 8));
  s.include_trending = rows.boolean(row, 9);
  s.created_at = instant(rows.integer(row, 10));
  if (!rows.is_null(row, 11)) s.confirmed_at = instant(rows.integer(row, 11));
  s.covered_through = rows.text(row, 12);
  s.bounces = static_cast<int>(rows.integer(row, 13));
  return s;
}

const std::string kOutboxFields =
    "id, subscription_id, period, recipient, message, covered_through, state, attempts, "
    "next_attempt_at, last_error, created_at, sent_at";

OutboxMessage read_outbox(const pg::Rows& rows, int row) {
  OutboxMessage m;
  m.id = rows.integer(row, 0);
  m.subscription_id = rows.integer(row, 1);
  m.period = rows.text(row, 2);
  m.recipient = rows.text(row, 3);
  m.message = rows.text(row, 4);
  m.covered_through = rows.text(row, 5);
  const std::string_view state = rows.text(row, 6);
  m.state = state == "sent"     ? OutboxState::sent
            : state == "failed" ? OutboxState::failed
                                : OutboxState::pending;
  m.attempts = static_cast<int>(rows.integer(row, 7));
  m.next_attempt_at = instant(rows.integer(row, 8));
  m.last_error = rows.text(row, 9);
  m.created_at = instant(rows.integer(row, 10));
  if (!rows.is_null(row, 11)) m.sent_at = instant(rows.integer(row, 11));
  return m;
}

Result<void> check_preferences(const Subscription& s) {
  if (s.send_hour < 0 || s.send_hour > 23) return fail("send_hour: must be 0-23");
  if (s.max_papers < 1 || s.max_papers > 100) return fail("max_papers: must be 1-100");
  if (s.time_zone.empty()) return fail("time_zone: empty");
  return {};
}

class PostgresSubscriptionStore final : public SubscriptionStore {
 public:
  explicit PostgresSubscriptionStore(std::string url) : pool_(std::move(url), kPoolSize) {}

  Result<Subscription> subscribe(const Subscription& p, sys_seconds now) override {
    if (auto ok = check_preferences(p); !ok) return std::unexpected(ok.error());
    auto rows = run(
        "saving a subscription",
        "INSERT INTO subscriptions AS s (email, name, state, frequency, time_zone, send_hour, "
        "topics, max_papers, include_trending, created_at) VALUES ($1, $2, 'pending', $3, $4, $5, "
        "$6, $7, $8, $9) ON CONFLICT ((lower(email))) DO UPDATE SET name = $2, frequency = $3, "
        "time_zone = $4, send_hour = $5, topics = $6, max_papers = $7, include_trending = $8, "
        "state = CASE s.state WHEN 'unsubscribed' THEN 'pending' ELSE s.state END RETURNING " +
            kSubscriptionFields,
        p.email, p.name, frequency_name(p.frequency), p.time_zone, p.send_hour,
        topics_json(p.topics), p.max_papers, p.include_trending, seconds(now));
    if (!rows) return std::unexpected(rows.error());
    return read_subscription(*rows, 0);
  }

  Result<std::optional<Subscription>> find_subscription(std::string_view email) override {
    return read_one(kSubscriptionColumns + "WHERE lower(email) = lower($1)", email);
  }

  Result<std::optional<Subscription>> subscription_by_id(int64_t id) override {
    return read_one(kSubscriptionColumns + "WHERE id = $1", id);
  }

  Result<void> set_subscription_state(int64_t id, SubscriptionState state,
                                      sys_seconds now) override {
    if (state == SubscriptionState::active) {
      return done(run("confirming a subscription",
                      "UPDATE subscriptions SET state = 'active', bounces = 0, "
                      "confirmed_at = coalesce(confirmed_at, $2) WHERE id = $1",
                      id, seconds(now)));
    }
    // Leaving stops what is still queued: no digest reaches an address after it unsubscribed.
    return done(run("changing a subscription",
                    "WITH changed AS (UPDATE subscriptions SET state = $2 WHERE id = $1) "
                    "UPDATE outbox SET state = 'failed', leased_until = 0, last_error = "
                    "'cancelled: subscription ' || $2 WHERE subscription_id = $1 AND "
                    "state = 'pending'",
                    id, subscription_state_name(state)));
  }

  Result<std::vector<Subscription>> subscriptions_in_state(SubscriptionState state,
                                                           int64_t after_id,
                                                           size_t limit) override {
    auto rows = run("listing subscriptions",
                    kSubscriptionColumns + "WHERE state = $1 AND id > $2 ORDER BY id LIMIT $3",
                    subscription_state_name(state), after_id, limit);
    if (!rows) return std::unexpected(rows.error());
    std::vector<Subscription> out;
    for (int row = 0; row < rows->size(); ++row) out.push_back(read_subscription(*rows, row));
    return out;
  }

  Result<bool> enqueue(const OutboxMessage& m) override {
    auto rows = run("queueing a message",
                    "INSERT INTO outbox (subscription_id, period, recipient, message, "
                    "covered_through, next_attempt_at, created_at) VALUES ($1, $2, $3, $4, $5, "
                    "$6, $7) ON CONFLICT (subscription_id, period) DO NOTHING",
                    m.subscription_id, m.period, m.recipient, m.message, m.covered_through,
                    seconds(m.next_attempt_at), seconds(m.created_at));
    if (!rows) return std::unexpected(rows.error());
    return rows->affected() > 0;
  }

  Result<bool> has_queued(int64_t subscription_id, std::string_view period) override {
    auto rows = run("looking up the outbox",
                    "SELECT 1 FROM outbox WHERE subscription_id = $1 AND period = $2",
                    subscription_id, period);
    if (!rows) return std::unexpected(rows.error());
    return !rows->empty();
  }

  Result<std::vector<OutboxMessage>> claim_due(sys_seconds now, std::chrono::seconds lease,
                                               size_t limit) override {
    // SKIP LOCKED passes over rows another sender is claiming right now; a row it claimed and
    // committed is re-checked against the lease condition and skipped too.
    auto rows = run("claiming due messages",
                    "UPDATE outbox SET leased_until = $2, attempts = attempts + 1 WHERE id IN "
                    "(SELECT id FROM outbox WHERE state = 'pending' AND next_attempt_at <= $1 AND "
                    "leased_until <= $1 ORDER BY next_attempt_at, id LIMIT $3 "
                    "FOR UPDATE SKIP LOCKED) RETURNING " +
                        kOutboxFields,
                    seconds(now), seconds(now + lease), limit);
    if (!rows) return std::unexpected(rows.error());
    std::vector<OutboxMessage> out;
    for (int row = 0; row < rows->size(); ++row) out.push_back(read_outbox(*rows, row));
    std::sort(out.begin(), out.end(), [](const OutboxMessage& a, const OutboxMessage& b) {
      return std::pair(a.next_attempt_at, a.id) < std::pair(b.next_attempt_at, b.id);
    });
    return out;
  }

  Result<void> mark_sent(int64_t id, sys_seconds at) override {
    return done(run("marking a message sent",
                    "WITH sent AS (UPDATE outbox SET state = 'sent', sent_at = $2, "
                    "leased_until = 0, last_error = '' WHERE id = $1 "
                    "RETURNING subscription_id, covered_through) "
                    "UPDATE subscriptions s SET bounces = 0, covered_through = "
                    "greatest(s.covered_through, sent.covered_through) FROM sent "
                    "WHERE s.id = sent.subscription_id",
                    id, seconds(at)));
  }

  Result<void> mark_retry(int64_t id, sys_seconds next_attempt, std::string_view error) override {
    return done(run("deferring a message",
                    "UPDATE outbox SET next_attempt_at = $2, leased_until = 0, last_error = $3 "
                    "WHERE id = $1 AND state = 'pending'",
                    id, seconds(next_attempt), error));
  }

  Result<void> mark_failed(int64_t id, std::string_view error, int pause_after_bounces) override {
    return done(run("failing a message",
                    "WITH failed AS (UPDATE outbox SET state = 'failed', leased_until = 0, "
                    "last_error = $2 WHERE id = $1 RETURNING subscription_id) "
                    "UPDATE subscriptions s SET bounces = s.bounces + 1, state = CASE WHEN "
                    "s.bounces + 1 >= $3 AND s.state = 'active' THEN 'paused' ELSE s.state END "
                    "FROM failed WHERE s.id = failed.subscription_id",
                    id, error, pause_after_bounces));
  }

  Result<std::vector<OutboxMessage>> outbox_of(int64_t subscription_id) override {
    auto rows =
        run("reading the outbox",
            "SELECT " + kOutboxFields + " FROM outbox WHERE subscription_id = $1 ORDER BY id",
            subscription_id);
    if (!rows) return std::unexpected(rows.error());
    std::vector<OutboxMessage> out;
    for (int row = 0; row < rows->size(); ++row) out.push_back(read_outbox(*rows, row));
    return out;
  }

  Result<OutboxCounts> outbox_counts() override {
    auto rows = run("counting the outbox", "SELECT state, count(*) FROM outbox GROUP BY state");
    if (!rows) return std::unexpected(rows.error());
    OutboxCounts counts;
    for (int row = 0; row < rows->size(); ++row) {
      const std::string_view state = rows->text(row, 0);
      (state == "sent"     ? counts.sent
       : state == "failed" ? counts.failed
                           : counts.pending) = rows->integer(row, 1);
    }
    return counts;
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

  static Result<void> done(const Result<pg::Rows>& rows) {
    if (!rows) return std::unexpected(rows.error());
    return {};
  }

  template <class Key>
  Result<std::optional<Subscription>> read_one(const std::string& sql, const Key& key) {
    auto rows = run("reading a subscription", sql, key);
    if (!rows) return std::unexpected(rows.error());
    if (rows->empty()) return std::optional<Subscription>();
    return std::optional<Subscription>(read_subscription(*rows, 0));
  }

  pg::Pool pool_;
};

}  // namespace

Result<std::unique_ptr<SubscriptionStore>> open_postgres_subscription_store(std::string_view url) {
  auto connection = pg::Connection::open(url);
  if (!connection) return std::unexpected(connection.error());
  if (auto migrated = pg::migrate(**connection, "subscriptions", kSubscriptionMigrations);
      !migrated)
    return std::unexpected(migrated.error());
  return std::make_unique<PostgresSubscriptionStore>(std::string(url));
}

Result<std::unique_ptr<SubscriptionStore>> open_subscription_store(
    std::string_view locator, const std::filesystem::path& default_sqlite_path) {
  if (pg::is_postgres_url(locator)) return open_postgres_subscription_store(locator);
  return open_sqlite_subscription_store(locator.empty() ? default_sqlite_path
                                                        : std::filesystem::path(locator));
}

}  // namespace paperboy::store
