#include "store/pg_access.h"

#include <gtest/gtest.h>

#include <array>
#include <thread>
#include <vector>

#include "store/pg_test_database.h"

namespace paperboy::store::pg {
namespace {

using testing::PgTestDatabase;

std::unique_ptr<Connection> connect(const PgTestDatabase& database) {
  EXPECT_EQ(database.error(), "");
  if (!database.error().empty()) return nullptr;
  auto connection = Connection::open(database.url());
  EXPECT_TRUE(connection.has_value()) << (connection ? "" : connection.error().message);
  return connection ? std::move(*connection) : nullptr;
}

TEST(PgAccess, BindsParametersAsValuesNeverAsSql) {
  PgTestDatabase database;
  auto connection = connect(database);
  if (!connection) {
    FAIL();
  }
  ASSERT_TRUE(connection->exec("setup", "CREATE TABLE notes (id bigint, body text, flag boolean)"));
  const std::string hostile = "x'); DROP TABLE notes; --\t\\ \n é";
  auto inserted = connection->query_with("insert", "INSERT INTO notes VALUES ($1, $2, $3)",
                                         int64_t{1} << 40, hostile, true);
  ASSERT_TRUE(inserted) << inserted.error().message;
  EXPECT_EQ(inserted->affected(), 1);
  ASSERT_TRUE(connection->query_with("insert null", "INSERT INTO notes VALUES ($1, $2, $3)",
                                     int64_t{1} << 41, std::nullopt, std::optional<bool>()));
  auto rows = connection->query("read", "SELECT id, body, flag FROM notes ORDER BY id");
  ASSERT_TRUE(rows) << rows.error().message;
  ASSERT_EQ(rows->size(), 2);
  EXPECT_EQ(rows->integer(0, 0), int64_t{1} << 40);
  EXPECT_EQ(rows->text(0, 1), hostile);
  EXPECT_TRUE(rows->boolean(0, 2));
  EXPECT_TRUE(rows->is_null(1, 1));
  EXPECT_TRUE(rows->is_null(1, 2));
}

TEST(PgAccess, ErrorsCarryTheServersMessageAndWhatWasBeingDone) {
  PgTestDatabase database;
  auto connection = connect(database);
  if (!connection) {
    FAIL();
  }
  auto failed = connection->query("reading the widgets", "SELECT * FROM widgets");
  ASSERT_FALSE(failed);
  EXPECT_NE(failed.error().message.find("reading the widgets"), std::string::npos)
      << failed.error().message;
  EXPECT_NE(failed.error().message.find("relation \"widgets\" does not exist"), std::string::npos)
      << failed.error().message;
  // The connection stays usable after an error.
  EXPECT_TRUE(connection->query("after", "SELECT 1"));
}

TEST(PgAccess, UnreachableServerNamesTheUrlWithoutItsPassword) {
  auto connection = Connection::open("postgresql://ada:s3cret@127.0.0.1:1/none");
  ASSERT_FALSE(connection);
  EXPECT_NE(connection.error().message.find("postgresql://ada:***@127.0.0.1:1/none"),
            std::string::npos)
      << connection.error().message;
  EXPECT_EQ(connection.error().message.find("s3cret"), std::string::npos);
  EXPECT_EQ(redact_url("host=h password=pw dbname=d"), "host=h password=*** dbname=d");
  EXPECT_EQ(redact_url("postgres://h/d?password=pw&sslmode=off"),
            "postgres://h/d?password=***&sslmode=off");
}

TEST(PgAccess, TransactionRollsBackUnlessCommitted) {
  PgTestDatabase database;
  auto connection = connect(database);
  if (!connection) {
    FAIL();
  }
  ASSERT_TRUE(connection->exec("setup", "CREATE TABLE counts (n integer)"));
  {
    auto transaction = Transaction::begin(*connection);
    ASSERT_TRUE(transaction);
    ASSERT_TRUE(connection->query_with("insert", "INSERT INTO counts VALUES ($1)", 1));
  }
  {
    auto transaction = Transaction::begin(*connection);
    ASSERT_TRUE(transaction);
    ASSERT_TRUE(connection->query_with("insert", "INSERT INTO counts VALUES ($1)", 2));
    ASSERT_TRUE(transaction->commit());
  }
  EXPECT_FALSE(connection->in_transaction());
  auto rows = connection->query("read", "SELECT n FROM counts");
  ASSERT_TRUE(rows);
  ASSERT_EQ(rows->size(), 1);
  EXPECT_EQ(rows->integer(0, 0), 2);
}

TEST(PgAccess, PreparedStatementsAndCopyIn) {
  PgTestDatabase database;
  auto connection = connect(database);
  if (!connection) {
    FAIL();
  }
  ASSERT_TRUE(connection->exec("setup", "CREATE TABLE lines (n integer, body text)"));
  std::string rows;
  for (int n = 0; n < 3; ++n) {
    copy_field(rows, std::to_string(n));
    copy_field(rows, n == 1 ? std::nullopt : std::optional<std::string_view>("a\tb\\c\nd"));
    rows += '\n';
  }
  auto copied = connection->copy_in("copy", "COPY lines (n, body) FROM STDIN", rows);
  ASSERT_TRUE(copied) << copied.error().message;
  for (int round = 0; round < 2; ++round) {
    const Param params[] = {Param(1)};
    auto found = connection->prepared(
        "count", "count_lines", "SELECT count(*), count(body) FROM lines WHERE n >= $1", params);
    ASSERT_TRUE(found) << found.error().message;
    EXPECT_EQ(found->integer(0, 0), 2);
    EXPECT_EQ(found->integer(0, 1), 1);
  }
  auto body = connection->query("read", "SELECT body FROM lines WHERE n = 2");
  ASSERT_TRUE(body);
  EXPECT_EQ(body->text(0, 0), "a\tb\\c\nd");
  // A malformed COPY fails with the server's message and leaves the connection usable.
  auto bad = connection->copy_in("copy", "COPY lines (n, body) FROM STDIN", "not-a-number\tx\n");
  ASSERT_FALSE(bad);
  EXPECT_NE(bad.error().message.find("invalid input syntax"), std::string::npos)
      << bad.error().message;
  EXPECT_TRUE(connection->query("after", "SELECT 1"));
}

TEST(PgAccess, NotificationsArriveOnListeningConnections) {
  PgTestDatabase database;
  auto listener = connect(database);
  auto sender = connect(database);
  if (!listener || !sender) {
    FAIL();
  }
  const std::string channel = database.schema() + "_events";
  ASSERT_TRUE(listener->listen(channel));
  auto nothing = listener->wait_for_notifications(std::chrono::milliseconds(10));
  ASSERT_TRUE(nothing);
  EXPECT_TRUE(nothing->empty());
  ASSERT_TRUE(sender->query_with("notify", "SELECT pg_notify($1, $2)", channel, "42"));
  std::vector<Notification> received;
  for (int attempt = 0; attempt < 50 && received.empty(); ++attempt) {
    auto got = listener->wait_for_notifications(std::chrono::milliseconds(100));
    ASSERT_TRUE(got) << got.error().message;
    received = *got;
  }
  ASSERT_EQ(received.size(), 1u);
  EXPECT_EQ(received[0].channel, channel);
  EXPECT_EQ(received[0].payload, "42");
}

const std::array<Migration, 2> kWidgetMigrations = {{
    // No IF NOT EXISTS: running a migration twice fails.
    {1, "CREATE TABLE widgets (id bigint PRIMARY KEY)"},
    {2, "ALTER TABLE widgets ADD COLUMN name text; SELECT pg_sleep(0.2)"},
}};

TEST(PgAccess, MigrationsApplyOnceEvenWhenNodesStartTogether) {
  PgTestDatabase database;
  ASSERT_EQ(database.error(), "");
  constexpr int kNodes = 4;
  std::vector<Result<int>> reached(kNodes, fail("not run"));
  std::vector<std::thread> nodes;
  for (int node = 0; node < kNodes; ++node)
    nodes.emplace_back([&, node] {
      auto connection = Connection::open(database.url());
      reached[static_cast<size_t>(node)] = connection
                                               ? migrate(**connection, "widgets", kWidgetMigrations)
                                               : Result<int>(std::unexpected(connection.error()));
    });
  for (auto& node : nodes) node.join();
  for (const auto& result : reached) {
    ASSERT_TRUE(result) << result.error().message;
    EXPECT_EQ(*result, 2);
  }
  auto connection = connect(database);
  ASSERT_TRUE(connection);
  auto recorded = connection->query(
      "read", "SELECT version FROM schema_migrations WHERE component = 'widgets' ORDER BY 1");
  ASSERT_TRUE(recorded);
  ASSERT_EQ(recorded->size(), 2);
  EXPECT_EQ(recorded->integer(1, 0), 2);
  EXPECT_TRUE(connection->query("columns", "SELECT id, name FROM widgets"));
}

TEST(PgAccess, FailedMigrationLeavesNothingAndNewerSchemaIsRefused) {
  PgTestDatabase database;
  auto connection = connect(database);
  if (!connection) {
    FAIL();
  }
  const std::array<Migration, 2> broken = {{
      {1, "CREATE TABLE gadgets (id bigint)"},
      {2, "ALTER TABLE gadgets ADD COLUMN oops nosuchtype"},
  }};
  auto failed = migrate(*connection, "gadgets", broken);
  ASSERT_FALSE(failed);
  EXPECT_NE(failed.error().message.find("gadgets schema to version 2"), std::string::npos)
      << failed.error().message;
  EXPECT_FALSE(connection->query("probe", "SELECT 1 FROM gadgets"));

  ASSERT_TRUE(migrate(*connection, "widgets", kWidgetMigrations));
  auto older = migrate(*connection, "widgets", std::span(kWidgetMigrations).first(1));
  ASSERT_FALSE(older);
  EXPECT_NE(older.error().message.find("newer than this paperboy understands"), std::string::npos)
      << older.error().message;
}

}  // namespace
}  // namespace paperboy::store::pg
