#include "store/pg_access.h"

#include <fmt/format.h>
#include <poll.h>

#include <charconv>
#include <ranges>

namespace paperboy::store::pg {

namespace {

// libpq prints server notices (such as "relation already exists, skipping") on stderr.
void ignore_notice(void*, const char*) {}

// The server's message without libpq's trailing newline.
std::string trimmed(const char* message) {
  std::string text = message == nullptr ? "" : message;
  while (!text.empty() && (text.back() == '\n' || text.back() == ' ')) text.pop_back();
  return text.empty() ? "unknown error" : text;
}

std::string quoted_identifier(PGconn* connection, std::string_view name) {
  char* escaped = PQescapeIdentifier(connection, name.data(), name.size());
  if (escaped == nullptr) return {};
  std::string result = escaped;
  PQfreemem(escaped);
  return result;
}

// Every migration runner on one database takes this lock, whatever the component, so the
// schema_migrations table itself is created once.
constexpr int64_t kMigrationLock = 0x70626f796d6967;  // "pboymig"

}  // namespace

int64_t Rows::integer(int row, int column) const {
  const std::string_view value = text(row, column);
  int64_t number = 0;
  std::from_chars(value.data(), value.data() + value.size(), number);
  return number;
}

int64_t Rows::affected() const {
  const char* count = PQcmdTuples(result_.get());
  int64_t number = 0;
  std::from_chars(count, count + std::char_traits<char>::length(count), number);
  return number;
}

Result<std::unique_ptr<Connection>> Connection::open(std::string_view url) {
  const std::string target(url);
  // expand_dbname: "dbname" may be a whole URI or connection string.
  const char* keywords[] = {"dbname", "application_name", "connect_timeout", "client_encoding",
                            nullptr};
  const char* values[] = {target.c_str(), "paperboy", "10", "UTF8", nullptr};
  PGconn* raw = PQconnectdbParams(keywords, values, /*expand_dbname=*/1);
  if (raw == nullptr) return fail("postgres: out of memory opening a connection");
  std::unique_ptr<Connection> connection(new Connection(raw));
  if (PQstatus(raw) != CONNECTION_OK)
    return fail(
        fmt::format("{}: cannot connect: {}", redact_url(url), trimmed(PQerrorMessage(raw))));
  PQsetNoticeProcessor(raw, ignore_notice, nullptr);
  return connection;
}

Connection::~Connection() { PQfinish(connection_); }

Error Connection::error(std::string_view what) const {
  return Error{fmt::format("postgres: {}: {}", what, trimmed(PQerrorMessage(connection_)))};
}

Result<Rows> Connection::check(std::string_view what, PGresult* result, ExecStatusType expected) {
  if (result == nullptr) return std::unexpected(error(what));
  Rows rows(result);
  const ExecStatusType status = PQresultStatus(result);
  if (status == expected || (expected == PGRES_COMMAND_OK && status == PGRES_TUPLES_OK) ||
      (expected == PGRES_TUPLES_OK && status == PGRES_COMMAND_OK))
    return rows;
  return fail(fmt::format("postgres: {}: {}", what, trimmed(PQresultErrorMessage(result))));
}

namespace {

struct ParamArrays {
  std::vector<const char*> values;
  explicit ParamArrays(std::span<const Param> params) {
    values.reserve(params.size());
    for (const Param& param : params)
      values.push_back(param.text() == nullptr ? nullptr : param.text()->c_str());
  }
  int count() const { return static_cast<int>(values.size()); }
  const char* const* data() const { return values.empty() ? nullptr : values.data(); }
};

}  // namespace

Result<Rows> Connection::query(std::string_view what, const std::string& sql,
                               std::span<const Param> params) {
  const ParamArrays arrays(params);
  return check(what,
               PQexecParams(connection_, sql.c_str(), arrays.count(), nullptr, arrays.data(),
                            nullptr, nullptr, 0),
               PGRES_TUPLES_OK);
}

Result<void> Connection::exec(std::string_view what, const std::string& sql) {
  auto done = check(what, PQexec(connection_, sql.c_str()), PGRES_COMMAND_OK);
  if (!done) return std::unexpected(done.error());
  return {};
}

Result<Rows> Connection::prepared(std::string_view what, const std::string& name,
                                  const std::string& sql, std::span<const Param> params) {
  if (std::ranges::find(prepared_names_, name) == prepared_names_.end()) {
    auto made = check(what, PQprepare(connection_, name.c_str(), sql.c_str(), 0, nullptr),
                      PGRES_COMMAND_OK);
    if (!made) return std::unexpected(made.error());
    prepared_names_.push_back(name);
  }
  const ParamArrays arrays(params);
  return check(
      what,
      PQexecPrepared(connection_, name.c_str(), arrays.count(), arrays.data(), nullptr, nullptr, 0),
      PGRES_TUPLES_OK);
}

Result<void> Connection::copy_in(std::string_view what, const std::string& copy_sql,
                                 std::string_view rows) {
  auto started = check(what, PQexec(connection_, copy_sql.c_str()), PGRES_COPY_IN);
  if (!started) return std::unexpected(started.error());
  // Sent in pieces: PQputCopyData takes an int length.
  constexpr size_t kPiece = 1 << 20;
  bool sent = true;
  for (size_t offset = 0; sent && offset < rows.size(); offset += kPiece) {
    const std::string_view piece = rows.substr(offset, kPiece);
    sent = PQputCopyData(connection_, piece.data(), static_cast<int>(piece.size())) == 1;
  }
  if (PQputCopyEnd(connection_, sent ? nullptr : "sending COPY data failed") != 1)
    return std::unexpected(error(what));
  Result<void> outcome;
  // Drain every result so the connection is ready for the next command.
  while (PGresult* result = PQgetResult(connection_)) {
    auto checked = check(what, result, PGRES_COMMAND_OK);
    if (!checked && outcome) outcome = std::unexpected(checked.error());
  }
  return outcome;
}

Result<void> Connection::listen(std::string_view channel) {
  const std::string name = quoted_identifier(connection_, channel);
  if (name.empty()) return std::unexpected(error("quoting a channel name"));
  return exec(fmt::format("listening on {}", channel), "LISTEN " + name);
}

Result<std::vector<Notification>> Connection::wait_for_notifications(
    std::chrono::milliseconds timeout) {
  std::vector<Notification> received;
  auto collect = [&]() -> Result<void> {
    if (PQconsumeInput(connection_) != 1) return std::unexpected(error("reading notifications"));
    while (PGnotify* notify = PQnotifies(connection_)) {
      received.push_back({notify->relname, notify->extra == nullptr ? "" : notify->extra});
      PQfreemem(notify);
    }
    return {};
  };
  if (auto done = collect(); !done) return std::unexpected(done.error());
  if (!received.empty()) return received;
  pollfd descriptor{.fd = PQsocket(connection_), .events = POLLIN, .revents = 0};
  if (descriptor.fd < 0) return std::unexpected(error("waiting for notifications"));
  const int ready = poll(&descriptor, 1, static_cast<int>(timeout.count()));
  if (ready < 0 && errno != EINTR) return fail("postgres: waiting for notifications: poll failed");
  if (ready > 0)
    if (auto done = collect(); !done) return std::unexpected(done.error());
  return received;
}

void copy_field(std::string& row, std::optional<std::string_view> value) {
  if (!row.empty() && row.back() != '\n') row += '\t';
  if (!value) {
    row += "\\N";
    return;
  }
  for (const char c : *value) {
    switch (c) {
      case '\\':
        row += "\\\\";
        break;
      case '\t':
        row += "\\t";
        break;
      case '\n':
        row += "\\n";
        break;
      case '\r':
        row += "\\r";
        break;
      default:
        row += c;
    }
  }
}

Result<Transaction> Transaction::begin(Connection& connection) {
  if (auto begun = connection.exec("starting a transaction", "BEGIN"); !begun)
    return std::unexpected(begun.error());
  return Transaction(connection);
}

Transaction::~Transaction() {
  if (connection_ != nullptr && !connection_->broken())
    (void)connection_->exec("rolling back", "ROLLBACK");
}

Result<void> Transaction::commit() {
  auto committed = connection_->exec("committing", "COMMIT");
  if (committed) connection_ = nullptr;
  return committed;
}

Result<int> migrate(Connection& connection, std::string_view component,
                    std::span<const Migration> migrations) {
  auto transaction = Transaction::begin(connection);
  if (!transaction) return std::unexpected(transaction.error());
  const std::string what = fmt::format("migrating the {} schema", component);
  if (auto locked = connection.query_with(what, "SELECT pg_advisory_xact_lock($1)", kMigrationLock);
      !locked)
    return std::unexpected(locked.error());
  if (auto created = connection.exec(what,
                                     "CREATE TABLE IF NOT EXISTS schema_migrations ("
                                     "component text NOT NULL, version integer NOT NULL, "
                                     "applied_at timestamptz NOT NULL DEFAULT now(), "
                                     "PRIMARY KEY (component, version))");
      !created)
    return std::unexpected(created.error());
  auto current = connection.query_with(
      what, "SELECT coalesce(max(version), 0) FROM schema_migrations WHERE component = $1",
      component);
  if (!current) return std::unexpected(current.error());
  const int reached = static_cast<int>(current->integer(0, 0));
  const int known = migrations.empty() ? 0 : migrations.back().version;
  if (reached > known)
    return fail(fmt::format(
        "postgres: the {} schema is at version {}, newer than this paperboy understands ({}); use "
        "a newer paperboy",
        component, reached, known));
  for (const Migration& migration : migrations) {
    if (migration.version <= reached) continue;
    const std::string step = fmt::format("{} to version {}", what, migration.version);
    if (auto applied = connection.exec(step, migration.sql); !applied)
      return std::unexpected(applied.error());
    if (auto recorded = connection.query_with(
            step, "INSERT INTO schema_migrations (component, version) VALUES ($1, $2)", component,
            migration.version);
        !recorded)
      return std::unexpected(recorded.error());
  }
  if (auto committed = transaction->commit(); !committed) return std::unexpected(committed.error());
  return std::max(reached, known);
}

std::string redact_url(std::string_view url) {
  std::string text(url);
  // postgres://user:password@host/...: the password lies between the user's ':' and the '@'.
  if (const size_t scheme = text.find("://"); scheme != std::string::npos) {
    const size_t start = scheme + 3;
    const size_t at = text.find('@', start);
    const size_t colon = text.find(':', start);
    if (at != std::string::npos && colon < at) text.replace(colon + 1, at - colon - 1, "***");
  }
  // password=... as a URI parameter or in a "key=value" connection string.
  for (size_t found = text.find("password="); found != std::string::npos;
       found = text.find("password=", found + 1)) {
    const size_t value = found + 9;
    const size_t end = text.find_first_of("& ", value);
    text.replace(value, (end == std::string::npos ? text.size() : end) - value, "***");
  }
  return text;
}

bool is_postgres_url(std::string_view locator) {
  return locator.starts_with("postgres://") || locator.starts_with("postgresql://");
}

}  // namespace paperboy::store::pg
