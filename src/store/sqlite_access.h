// Internal to the store's SQLite backends (not a public header): one connection with its
// cached prepared statements, a statement use with typed binding, and a write transaction.
#pragma once

#include <fmt/format.h>
#include <sqlite3.h>

#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>

#include "core/result.h"

namespace paperboy::store::sqlite {

inline int64_t seconds(std::chrono::sys_seconds instant) {
  return instant.time_since_epoch().count();
}
inline std::chrono::sys_seconds instant(int64_t value) {
  return std::chrono::sys_seconds{std::chrono::seconds{value}};
}

// One SQLite connection with its prepared statements, used under its own mutex.
class Connection {
 public:
  Connection(sqlite3* db, std::string path) : db_(db), path_(std::move(path)) {}
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;
  ~Connection() {
    for (auto& [text, statement] : statements_) sqlite3_finalize(statement);
    sqlite3_close_v2(db_);
  }

  static Result<std::unique_ptr<Connection>> open(const std::string& path, bool read_only) {
    sqlite3* db = nullptr;
    const int rc =
        sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, nullptr);
    auto connection = std::make_unique<Connection>(db, path);
    if (rc != SQLITE_OK) return std::unexpected(connection->error("cannot open"));
    sqlite3_extended_result_codes(db, 1);
    // An ingest batch holds the write lock for a moment; votes wait for it.
    sqlite3_busy_timeout(db, 10000);
    if (auto done = connection->exec(
            read_only ? "PRAGMA query_only = ON" : "PRAGMA foreign_keys = ON", "opening");
        !done)
      return std::unexpected(done.error());
    return connection;
  }

  Result<sqlite3_stmt*> prepare(const char* text) {
    auto found = statements_.find(text);
    if (found != statements_.end()) return found->second;
    sqlite3_stmt* statement = nullptr;
    if (sqlite3_prepare_v3(db_, text, -1, SQLITE_PREPARE_PERSISTENT, &statement, nullptr) !=
        SQLITE_OK)
      return std::unexpected(error("preparing a statement"));
    statements_.emplace(text, statement);
    return statement;
  }

  Result<void> exec(const char* text, std::string_view what) {
    if (sqlite3_exec(db_, text, nullptr, nullptr, nullptr) != SQLITE_OK)
      return std::unexpected(error(what));
    return {};
  }

  Error error(std::string_view what) const {
    return Error{fmt::format("{}: {}: {}", path_, what,
                             db_ == nullptr ? "out of memory" : sqlite3_errmsg(db_))};
  }

  sqlite3* db() const { return db_; }
  std::mutex& mutex() { return mutex_; }

 private:
  sqlite3* db_;
  std::string path_;
  std::mutex mutex_;
  std::unordered_map<const char*, sqlite3_stmt*> statements_;
};

// One use of a cached statement: binds parameters in order, steps, reads columns, and resets
// the statement when done.
class Query {
 public:
  template <class... Values>
  static Result<Query> run(Connection& connection, const char* text, const Values&... values) {
    auto statement = connection.prepare(text);
    if (!statement) return std::unexpected(statement.error());
    Query query(connection, *statement);
    int index = 0;
    int rc = SQLITE_OK;
    ((rc = rc == SQLITE_OK ? query.bind(++index, values) : rc), ...);
    if (rc != SQLITE_OK) return std::unexpected(connection.error("binding"));
    return query;
  }

  Query(Query&& other) noexcept
      : connection_(other.connection_), statement_(std::exchange(other.statement_, nullptr)) {}
  Query& operator=(Query&&) = delete;
  ~Query() {
    if (statement_ == nullptr) return;
    sqlite3_reset(statement_);
    sqlite3_clear_bindings(statement_);
  }

  // True with a row to read, false when done.
  Result<bool> step(std::string_view what) {
    const int rc = sqlite3_step(statement_);
    if (rc == SQLITE_ROW) return true;
    if (rc == SQLITE_DONE) return false;
    return std::unexpected(connection_->error(what));
  }

  // Runs a statement that returns no rows.
  Result<void> done(std::string_view what) {
    auto stepped = step(what);
    if (!stepped) return std::unexpected(stepped.error());
    return {};
  }

  int64_t integer(int column) const { return sqlite3_column_int64(statement_, column); }
  bool is_null(int column) const { return sqlite3_column_type(statement_, column) == SQLITE_NULL; }
  std::string text(int column) const {
    const auto* text = reinterpret_cast<const char*>(sqlite3_column_text(statement_, column));
    if (text == nullptr) return {};
    return std::string(text, static_cast<size_t>(sqlite3_column_bytes(statement_, column)));
  }

 private:
  Query(Connection& connection, sqlite3_stmt* statement)
      : connection_(&connection), statement_(statement) {}

  int bind(int index, int64_t value) { return sqlite3_bind_int64(statement_, index, value); }
  int bind(int index, int value) { return sqlite3_bind_int64(statement_, index, value); }
  int bind(int index, bool value) { return sqlite3_bind_int(statement_, index, value ? 1 : 0); }
  int bind(int index, std::nullptr_t) { return sqlite3_bind_null(statement_, index); }
  int bind(int index, std::string_view value) {
    return sqlite3_bind_text(statement_, index, value.empty() ? "" : value.data(),
                             static_cast<int>(value.size()), SQLITE_TRANSIENT);
  }
  int bind(int index, const std::string& value) { return bind(index, std::string_view(value)); }
  int bind(int index, const char* value) { return bind(index, std::string_view(value)); }

  Connection* connection_;
  sqlite3_stmt* statement_;
};

// A write transaction on the writer connection; rolled back unless committed.
class Transaction {
 public:
  static Result<Transaction> begin(Connection& connection) {
    if (auto begun = connection.exec("BEGIN IMMEDIATE", "starting a write"); !begun)
      return std::unexpected(begun.error());
    return Transaction(connection);
  }
  Transaction(Transaction&& other) noexcept
      : connection_(std::exchange(other.connection_, nullptr)) {}
  Transaction& operator=(Transaction&&) = delete;
  ~Transaction() {
    if (connection_ != nullptr) connection_->exec("ROLLBACK", "rolling back");
  }
  Result<void> commit() {
    auto committed = connection_->exec("COMMIT", "committing");
    if (committed) connection_ = nullptr;
    return committed;
  }

 private:
  explicit Transaction(Connection& connection) : connection_(&connection) {}
  Connection* connection_;
};

}  // namespace paperboy::store::sqlite
