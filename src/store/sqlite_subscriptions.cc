// The SQLite backend of the subscription store and outbox, in the papers' database file (schema
// in kSubscriptionSchemaV1, applied by the store's migrations).
#include <algorithm>
#include <array>
#include <nlohmann/json.hpp>

#include "store/sqlite_access.h"
#include "store/store.h"
#include "store/subscription_schema.h"
#include "store/subscriptions.h"

namespace paperboy::store {

const char kSubscriptionSchemaV1[] = R"sql(
CREATE TABLE subscriptions (
  id INTEGER PRIMARY KEY,
  email TEXT NOT NULL UNIQUE COLLATE NOCASE,
  name TEXT NOT NULL DEFAULT '',
  state TEXT NOT NULL CHECK (state IN ('pending', 'active', 'paused', 'unsubscribed')),
  frequency TEXT NOT NULL CHECK (frequency IN ('daily', 'weekly')),
  time_zone TEXT NOT NULL,
  send_hour INTEGER NOT NULL,
  topics TEXT NOT NULL,
  max_papers INTEGER NOT NULL,
  include_trending INTEGER NOT NULL,
  created_at INTEGER NOT NULL,
  confirmed_at INTEGER,
  covered_through TEXT NOT NULL DEFAULT '',
  bounces INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX subscriptions_state ON subscriptions(state, id);
CREATE TABLE outbox (
  id INTEGER PRIMARY KEY,
  subscription_id INTEGER NOT NULL REFERENCES subscriptions(id) ON DELETE CASCADE,
  period TEXT NOT NULL,
  recipient TEXT NOT NULL,
  message TEXT NOT NULL,
  covered_through TEXT NOT NULL DEFAULT '',
  state TEXT NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'sent', 'failed')),
  attempts INTEGER NOT NULL DEFAULT 0,
  next_attempt_at INTEGER NOT NULL,
  leased_until INTEGER NOT NULL DEFAULT 0,
  last_error TEXT NOT NULL DEFAULT '',
  created_at INTEGER NOT NULL,
  sent_at INTEGER,
  UNIQUE (subscription_id, period)
);
CREATE INDEX outbox_due ON outbox(next_attempt_at) WHERE state = 'pending';
)sql";

namespace {

constexpr std::array kStateNames = {"pending", "active", "paused", "unsubscribed"};
constexpr std::array kFrequencyNames = {"daily", "weekly"};
constexpr std::array kOutboxStateNames = {"pending", "sent", "failed"};

}  // namespace

const char* subscription_state_name(SubscriptionState state) {
  return kStateNames[static_cast<size_t>(state)];
}

std::optional<SubscriptionState> parse_subscription_state(std::string_view name) {
  for (size_t i = 0; i < kStateNames.size(); ++i) {
    if (name == kStateNames[i]) return static_cast<SubscriptionState>(i);
  }
  return std::nullopt;
}

const char* frequency_name(DigestFrequency frequency) {
  return kFrequencyNames[static_cast<size_t>(frequency)];
}

std::optional<DigestFrequency> parse_frequency(std::string_view name) {
  for (size_t i = 0; i < kFrequencyNames.size(); ++i) {
    if (name == kFrequencyNames[i]) return static_cast<DigestFrequency>(i);
  }
  return std::nullopt;
}

namespace {

using sqlite::Connection;
using sqlite::instant;
using sqlite::Query;
using sqlite::seconds;
using sqlite::Transaction;
using std::chrono::sys_seconds;

std::string topics_json(const Topics& topics) {
  nlohmann::json json{
      {"categories", topics.categories}, {"queries", topics.queries}, {"authors", topics.authors}};
  // Written only when set, so subscriptions without it keep the text they always had.
  if (topics.like_my_papers) json["like_my_papers"] = true;
  return json.dump();
}

Topics parse_topics(const std::string& text) {
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

constexpr const char* kSubscriptionColumns =
    "SELECT id, email, name, state, frequency, time_zone, send_hour, topics, max_papers, "
    "include_trending, created_at, confirmed_at, covered_through, bounces FROM subscriptions ";

// Statement texts are built once: the statement cache keys on a text's address.
const std::string kSubscriptionByEmail = std::string(kSubscriptionColumns) + "WHERE email = ?1";
const std::string kSubscriptionById = std::string(kSubscriptionColumns) + "WHERE id = ?1";
const std::string kSubscriptionsInState =
    std::string(kSubscriptionColumns) + "WHERE state = ?1 AND id > ?2 ORDER BY id LIMIT ?3";

Subscription read_subscription(const Query& query) {
  Subscription s;
  s.id = query.integer(0);
  s.email = query.text(1);
  s.name = query.text(2);
  s.state = parse_subscription_state(query.text(3)).value_or(SubscriptionState::pending);
  s.frequency = parse_frequency(query.text(4)).value_or(DigestFrequency::daily);
  s.time_zone = query.text(5);
  s.send_hour = static_cast<int>(query.integer(6));
  s.topics = parse_topics(query.text(7));
  s.max_papers = static_cast<int>(query.integer(8));
  s.include_trending = query.integer(9) != 0;
  s.created_at = instant(query.integer(10));
  if (!query.is_null(11)) s.confirmed_at = instant(query.integer(11));
  s.covered_through = query.text(12);
  s.bounces = static_cast<int>(query.integer(13));
  return s;
}

constexpr const char* kOutboxColumns =
    "SELECT id, subscription_id, period, recipient, message, covered_through, state, attempts, "
    "next_attempt_at, last_error, created_at, sent_at FROM outbox ";

const std::string kOutboxOf =
    std::string(kOutboxColumns) + "WHERE subscription_id = ?1 ORDER BY id";
// Leases due messages and returns them, in one statement, so two senders never claim the same.
const std::string kClaimDue =
    "UPDATE outbox SET leased_until = ?2, attempts = attempts + 1 WHERE id IN (SELECT id FROM "
    "outbox WHERE state = 'pending' AND next_attempt_at <= ?1 AND leased_until <= ?1 ORDER BY "
    "next_attempt_at, id LIMIT ?3) RETURNING id, subscription_id, period, recipient, message, "
    "covered_through, state, attempts, next_attempt_at, last_error, created_at, sent_at";

OutboxMessage read_outbox(const Query& query) {
  OutboxMessage m;
  m.id = query.integer(0);
  m.subscription_id = query.integer(1);
  m.period = query.text(2);
  m.recipient = query.text(3);
  m.message = query.text(4);
  m.covered_through = query.text(5);
  std::string state = query.text(6);
  for (size_t i = 0; i < kOutboxStateNames.size(); ++i) {
    if (state == kOutboxStateNames[i]) m.state = static_cast<OutboxState>(i);
  }
  m.attempts = static_cast<int>(query.integer(7));
  m.next_attempt_at = instant(query.integer(8));
  m.last_error = query.text(9);
  m.created_at = instant(query.integer(10));
  if (!query.is_null(11)) m.sent_at = instant(query.integer(11));
  return m;
}

Result<void> check_preferences(const Subscription& s) {
  if (s.send_hour < 0 || s.send_hour > 23) return fail("send_hour: must be 0-23");
  if (s.max_papers < 1 || s.max_papers > 100) return fail("max_papers: must be 1-100");
  if (s.time_zone.empty()) return fail("time_zone: empty");
  return {};
}

class SqliteSubscriptionStore final : public SubscriptionStore {
 public:
  SqliteSubscriptionStore(std::unique_ptr<Connection> writer, std::unique_ptr<Connection> reader)
      : writer_(std::move(writer)), reader_(std::move(reader)) {}

  Result<Subscription> subscribe(const Subscription& p, sys_seconds now) override {
    if (auto ok = check_preferences(p); !ok) return std::unexpected(ok.error());
    std::lock_guard lock(writer_->mutex());
    auto transaction = Transaction::begin(*writer_);
    if (!transaction) return std::unexpected(transaction.error());
    auto upserted = Query::run(
        *writer_,
        "INSERT INTO subscriptions (email, name, state, frequency, time_zone, send_hour, topics, "
        "max_papers, include_trending, created_at) VALUES (?1, ?2, 'pending', ?3, ?4, ?5, ?6, "
        "?7, ?8, ?9) ON CONFLICT (email) DO UPDATE SET name = ?2, frequency = ?3, "
        "time_zone = ?4, send_hour = ?5, topics = ?6, max_papers = ?7, include_trending = ?8, "
        "state = CASE state WHEN 'unsubscribed' THEN 'pending' ELSE state END",
        p.email, p.name, frequency_name(p.frequency), p.time_zone, p.send_hour,
        topics_json(p.topics), p.max_papers, p.include_trending, seconds(now));
    if (!upserted) return std::unexpected(upserted.error());
    if (auto done = upserted->done("saving a subscription"); !done) {
      return std::unexpected(done.error());
    }
    auto stored = read_one(*writer_, kSubscriptionByEmail, p.email);
    if (!stored) return std::unexpected(stored.error());
    if (auto committed = transaction->commit(); !committed) {
      return std::unexpected(committed.error());
    }
    return std::move(**stored);
  }

  Result<std::optional<Subscription>> find_subscription(std::string_view email) override {
    std::lock_guard lock(reader_->mutex());
    return read_one(*reader_, kSubscriptionByEmail, email);
  }

  Result<std::optional<Subscription>> subscription_by_id(int64_t id) override {
    std::lock_guard lock(reader_->mutex());
    return read_one(*reader_, kSubscriptionById, id);
  }

  Result<void> set_subscription_state(int64_t id, SubscriptionState state,
                                      sys_seconds now) override {
    std::lock_guard lock(writer_->mutex());
    if (state == SubscriptionState::active) {
      return write(
          "UPDATE subscriptions SET state = 'active', bounces = 0, "
          "confirmed_at = coalesce(confirmed_at, ?2) WHERE id = ?1",
          "confirming a subscription", id, seconds(now));
    }
    auto transaction = Transaction::begin(*writer_);
    if (!transaction) return std::unexpected(transaction.error());
    if (auto done = write("UPDATE subscriptions SET state = ?2 WHERE id = ?1",
                          "changing a subscription", id, subscription_state_name(state));
        !done) {
      return done;
    }
    // Leaving stops what is still queued: no digest reaches an address after it unsubscribed.
    if (auto done = write("UPDATE outbox SET state = 'failed', leased_until = 0, last_error = "
                          "'cancelled: subscription ' || ?2 WHERE subscription_id = ?1 AND "
                          "state = 'pending'",
                          "cancelling queued mail", id, subscription_state_name(state));
        !done) {
      return done;
    }
    return transaction->commit();
  }

  Result<std::vector<Subscription>> subscriptions_in_state(SubscriptionState state,
                                                           int64_t after_id,
                                                           size_t limit) override {
    std::lock_guard lock(reader_->mutex());
    auto query = Query::run(*reader_, kSubscriptionsInState.c_str(), subscription_state_name(state),
                            after_id, static_cast<int64_t>(limit));
    if (!query) return std::unexpected(query.error());
    std::vector<Subscription> out;
    while (true) {
      auto row = query->step("listing subscriptions");
      if (!row) return std::unexpected(row.error());
      if (!*row) break;
      out.push_back(read_subscription(*query));
    }
    return out;
  }

  Result<bool> enqueue(const OutboxMessage& m) override {
    std::lock_guard lock(writer_->mutex());
    auto query = Query::run(
        *writer_,
        "INSERT INTO outbox (subscription_id, period, recipient, message, covered_through, "
        "next_attempt_at, created_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7) "
        "ON CONFLICT (subscription_id, period) DO NOTHING",
        m.subscription_id, m.period, m.recipient, m.message, m.covered_through,
        seconds(m.next_attempt_at), seconds(m.created_at));
    if (!query) return std::unexpected(query.error());
    if (auto done = query->done("queueing a message"); !done) return std::unexpected(done.error());
    return sqlite3_changes(writer_->db()) > 0;
  }

  Result<bool> has_queued(int64_t subscription_id, std::string_view period) override {
    std::lock_guard lock(reader_->mutex());
    auto query =
        Query::run(*reader_, "SELECT 1 FROM outbox WHERE subscription_id = ?1 AND period = ?2",
                   subscription_id, period);
    if (!query) return std::unexpected(query.error());
    return query->step("looking up the outbox");
  }

  Result<std::vector<OutboxMessage>> claim_due(sys_seconds now, std::chrono::seconds lease,
                                               size_t limit) override {
    std::lock_guard lock(writer_->mutex());
    auto transaction = Transaction::begin(*writer_);
    if (!transaction) return std::unexpected(transaction.error());
    std::vector<OutboxMessage> out;
    {  // the statement must be reset before COMMIT
      auto query = Query::run(*writer_, kClaimDue.c_str(), seconds(now), seconds(now + lease),
                              static_cast<int64_t>(limit));
      if (!query) return std::unexpected(query.error());
      while (true) {
        auto row = query->step("claiming due messages");
        if (!row) return std::unexpected(row.error());
        if (!*row) break;
        out.push_back(read_outbox(*query));
      }
    }
    if (auto committed = transaction->commit(); !committed) {
      return std::unexpected(committed.error());
    }
    std::sort(out.begin(), out.end(), [](const OutboxMessage& a, const OutboxMessage& b) {
      return std::pair(a.next_attempt_at, a.id) < std::pair(b.next_attempt_at, b.id);
    });
    return out;
  }

  Result<void> mark_sent(int64_t id, sys_seconds at) override {
    std::lock_guard lock(writer_->mutex());
    auto transaction = Transaction::begin(*writer_);
    if (!transaction) return std::unexpected(transaction.error());
    if (auto done = write("UPDATE outbox SET state = 'sent', sent_at = ?2, leased_until = 0, "
                          "last_error = '' WHERE id = ?1",
                          "marking a message sent", id, seconds(at));
        !done) {
      return done;
    }
    if (auto done = write("UPDATE subscriptions SET bounces = 0, covered_through = "
                          "CASE WHEN o.covered_through > subscriptions.covered_through "
                          "THEN o.covered_through ELSE subscriptions.covered_through END "
                          "FROM outbox o WHERE o.id = ?1 AND subscriptions.id = o.subscription_id",
                          "recording a delivery", id);
        !done) {
      return done;
    }
    return transaction->commit();
  }

  Result<void> mark_retry(int64_t id, sys_seconds next_attempt, std::string_view error) override {
    std::lock_guard lock(writer_->mutex());
    return write(
        "UPDATE outbox SET next_attempt_at = ?2, leased_until = 0, last_error = ?3 "
        "WHERE id = ?1 AND state = 'pending'",
        "deferring a message", id, seconds(next_attempt), error);
  }

  Result<void> mark_failed(int64_t id, std::string_view error, int pause_after_bounces) override {
    std::lock_guard lock(writer_->mutex());
    auto transaction = Transaction::begin(*writer_);
    if (!transaction) return std::unexpected(transaction.error());
    if (auto done = write("UPDATE outbox SET state = 'failed', leased_until = 0, last_error = ?2 "
                          "WHERE id = ?1",
                          "failing a message", id, error);
        !done) {
      return done;
    }
    if (auto done = write(
            "UPDATE subscriptions SET bounces = bounces + 1, state = CASE WHEN bounces + 1 >= ?2 "
            "AND state = 'active' THEN 'paused' ELSE state END "
            "WHERE id = (SELECT subscription_id FROM outbox WHERE id = ?1)",
            "counting a bounce", id, static_cast<int64_t>(pause_after_bounces));
        !done) {
      return done;
    }
    return transaction->commit();
  }

  Result<std::vector<OutboxMessage>> outbox_of(int64_t subscription_id) override {
    std::lock_guard lock(reader_->mutex());
    auto query = Query::run(*reader_, kOutboxOf.c_str(), subscription_id);
    if (!query) return std::unexpected(query.error());
    std::vector<OutboxMessage> out;
    while (true) {
      auto row = query->step("reading the outbox");
      if (!row) return std::unexpected(row.error());
      if (!*row) break;
      out.push_back(read_outbox(*query));
    }
    return out;
  }

  Result<OutboxCounts> outbox_counts() override {
    std::lock_guard lock(reader_->mutex());
    auto query = Query::run(*reader_, "SELECT state, count(*) FROM outbox GROUP BY state");
    if (!query) return std::unexpected(query.error());
    OutboxCounts counts;
    while (true) {
      auto row = query->step("counting the outbox");
      if (!row) return std::unexpected(row.error());
      if (!*row) break;
      std::string state = query->text(0);
      int64_t n = query->integer(1);
      (state == "sent" ? counts.sent : state == "failed" ? counts.failed : counts.pending) = n;
    }
    return counts;
  }

 private:
  template <class Key>
  static Result<std::optional<Subscription>> read_one(Connection& connection,
                                                      const std::string& sql, const Key& key) {
    auto query = Query::run(connection, sql.c_str(), key);
    if (!query) return std::unexpected(query.error());
    auto row = query->step("reading a subscription");
    if (!row) return std::unexpected(row.error());
    if (!*row) return std::optional<Subscription>();
    return std::optional<Subscription>(read_subscription(*query));
  }

  template <class... Values>
  Result<void> write(const char* sql, std::string_view what, const Values&... values) {
    auto query = Query::run(*writer_, sql, values...);
    if (!query) return std::unexpected(query.error());
    return query->done(what);
  }

  std::unique_ptr<Connection> writer_;
  std::unique_ptr<Connection> reader_;
};

}  // namespace

Result<std::unique_ptr<SubscriptionStore>> open_sqlite_subscription_store(
    const std::filesystem::path& path) {
  // Opening the paper store creates the file and applies every migration, these tables included.
  if (auto papers = open_sqlite_store(path); !papers) return std::unexpected(papers.error());
  auto writer = Connection::open(path.string(), /*read_only=*/false);
  if (!writer) return std::unexpected(writer.error());
  auto reader = Connection::open(path.string(), /*read_only=*/true);
  if (!reader) return std::unexpected(reader.error());
  return std::make_unique<SqliteSubscriptionStore>(std::move(*writer), std::move(*reader));
}

}  // namespace paperboy::store
