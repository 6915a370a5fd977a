// Internal to the store's PostgreSQL backends (not a public header): a libpq connection, queries
// with text parameters ($1..$n, never SQL built from values), their rows, a transaction guard,
// LISTEN/NOTIFY, COPY, and a migration runner that lets several nodes start at once.
#pragma once

#include <libpq-fe.h>

#include <chrono>
#include <concepts>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/result.h"

namespace paperboy::store::pg {

// A query parameter in PostgreSQL's text format; nullopt is SQL NULL.
class Param {
 public:
  Param(std::nullopt_t) {}  // NOLINT(google-explicit-constructor): reads as a value
  Param(std::string_view text) : text_(std::string(text)) {}  // NOLINT
  Param(const std::string& text) : text_(text) {}             // NOLINT
  Param(std::string&& text) : text_(std::move(text)) {}       // NOLINT
  Param(const char* text) : text_(std::string(text)) {}       // NOLINT
  Param(bool value) : text_(value ? "t" : "f") {}             // NOLINT
  template <std::integral Integer>
  requires(!std::same_as<Integer, bool>) Param(Integer value)
      : text_(std::to_string(value)) {}  // NOLINT
  template <class Value>
  Param(const std::optional<Value>& value) {  // NOLINT
    if (value) *this = Param(*value);
  }

  const std::string* text() const { return text_ ? &*text_ : nullptr; }

 private:
  std::optional<std::string> text_;
};

// The rows of one result. Values are read as text (PostgreSQL's text format).
class Rows {
 public:
  explicit Rows(PGresult* result) : result_(result, PQclear) {}

  int size() const { return PQntuples(result_.get()); }
  bool empty() const { return size() == 0; }
  bool is_null(int row, int column) const { return PQgetisnull(result_.get(), row, column) != 0; }
  std::string_view text(int row, int column) const {
    return {PQgetvalue(result_.get(), row, column),
            static_cast<size_t>(PQgetlength(result_.get(), row, column))};
  }
  // An integer column; NULL (and anything that is not a number) reads as 0.
  int64_t integer(int row, int column) const;
  bool boolean(int row, int column) const { return text(row, column) == "t"; }
  // Rows written by INSERT / UPDATE / DELETE.
  int64_t affected() const;

 private:
  std::unique_ptr<PGresult, void (*)(PGresult*)> result_;
};

struct Notification {
  std::string channel;
  std::string payload;
};

// One libpq connection. Not thread-safe: one thread uses it at a time (stores keep a pool).
class Connection {
 public:
  // `url` is a postgres:// or postgresql:// URI or a "key=value" connection string.
  static Result<std::unique_ptr<Connection>> open(std::string_view url);
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;
  ~Connection();

  // Runs `sql` with `params` bound to $1..$n. `what` names the work for error messages, which
  // carry the server's message.
  Result<Rows> query(std::string_view what, const std::string& sql,
                     std::span<const Param> params = {});
  template <class... Values>
  Result<Rows> query_with(std::string_view what, const std::string& sql, const Values&... values) {
    const Param params[] = {Param(values)...};
    return query(what, sql, params);
  }
  // Runs `sql` (possibly several statements, no parameters) for its effect.
  Result<void> exec(std::string_view what, const std::string& sql);

  // Prepares `sql` once per connection under `name`; later calls with the same name reuse it.
  Result<Rows> prepared(std::string_view what, const std::string& name, const std::string& sql,
                        std::span<const Param> params);

  // COPY ... FROM STDIN (text format): `rows` is already formatted (copy_field escapes values).
  Result<void> copy_in(std::string_view what, const std::string& copy_sql, std::string_view rows);

  // LISTEN on `channel` (an identifier, quoted here).
  Result<void> listen(std::string_view channel);
  // Waits up to `timeout` for notifications; returns those received (none on timeout).
  Result<std::vector<Notification>> wait_for_notifications(std::chrono::milliseconds timeout);

  // An error naming `what` with the connection's last message.
  Error error(std::string_view what) const;
  bool broken() const { return PQstatus(connection_) != CONNECTION_OK; }
  bool in_transaction() const { return PQtransactionStatus(connection_) != PQTRANS_IDLE; }
  PGconn* raw() const { return connection_; }

 private:
  explicit Connection(PGconn* connection) : connection_(connection) {}
  Result<Rows> check(std::string_view what, PGresult* result, ExecStatusType expected);

  PGconn* connection_;
  std::vector<std::string> prepared_names_;
};

// Appends `value` to a COPY text-format row, escaped; nullopt writes \N.
void copy_field(std::string& row, std::optional<std::string_view> value);

// A transaction: BEGIN now, ROLLBACK when destroyed uncommitted.
class Transaction {
 public:
  static Result<Transaction> begin(Connection& connection);
  Transaction(Transaction&& other) noexcept
      : connection_(std::exchange(other.connection_, nullptr)) {}
  Transaction& operator=(Transaction&&) = delete;
  ~Transaction();
  Result<void> commit();

 private:
  explicit Transaction(Connection& connection) : connection_(&connection) {}
  Connection* connection_;
};

// One schema change. Versions count from 1 per component; append, never edit.
struct Migration {
  int version;
  const char* sql;
};

// Brings `component`'s tables up to its last migration: in one transaction under
// pg_advisory_xact_lock, reads what schema_migrations records, applies the missing migrations in
// order and records each. Several nodes starting at once migrate once; a failed migration
// leaves nothing applied. Fails when the database records a newer version than `migrations`
// knows. Returns the version reached.
Result<int> migrate(Connection& connection, std::string_view component,
                    std::span<const Migration> migrations);

// `url` with any password replaced by "***", for messages and logs.
std::string redact_url(std::string_view url);

// True when `locator` names a PostgreSQL database (postgres:// or postgresql://).
bool is_postgres_url(std::string_view locator);

}  // namespace paperboy::store::pg
