// For tests of the PostgreSQL backends: a fresh schema per test in the database named by
// PAPERBOY_TEST_POSTGRES, so tests run in parallel (ctest -j) without seeing each other's tables.
#pragma once

#include <fmt/format.h>
#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <string>

#include "store/pg_access.h"

namespace paperboy::store::testing {

// Creates schema paperboy_test_<pid>_<n> on construction and drops it (with everything in it) on
// destruction. url() connects with that schema as search_path, so whatever opens it creates its
// tables there. A test asserts error() is empty: without PAPERBOY_TEST_POSTGRES it says how to
// start the server, so a PostgreSQL test fails instead of passing silently.
class PgTestDatabase {
 public:
  PgTestDatabase() {
    const char* base = std::getenv("PAPERBOY_TEST_POSTGRES");
    if (base == nullptr || *base == '\0') {
      error_ =
          "PAPERBOY_TEST_POSTGRES is not set: start the test PostgreSQL with "
          "`export $(scripts/test-services.sh start)` (make test does this)";
      return;
    }
    static std::atomic<int> counter = 0;
    schema_ = fmt::format("paperboy_test_{}_{}", getpid(), counter++);
    base_ = base;
    auto connection = pg::Connection::open(base_);
    if (!connection) {
      error_ = connection.error().message;
      return;
    }
    if (auto created = (*connection)->exec("creating a test schema", "CREATE SCHEMA " + schema_);
        !created) {
      error_ = created.error().message;
      return;
    }
    url_ = fmt::format("{}{}options=-csearch_path%3D{}", base_,
                       base_.find('?') == std::string::npos ? '?' : '&', schema_);
  }
  PgTestDatabase(const PgTestDatabase&) = delete;
  PgTestDatabase& operator=(const PgTestDatabase&) = delete;
  ~PgTestDatabase() {
    if (url_.empty()) return;
    if (auto connection = pg::Connection::open(base_))
      (void)(*connection)->exec("dropping a test schema", "DROP SCHEMA " + schema_ + " CASCADE");
  }

  // Empty when all is well; else why there is no database to test against.
  const std::string& error() const { return error_; }
  const std::string& url() const { return url_; }
  const std::string& schema() const { return schema_; }

 private:
  std::string error_, base_, schema_, url_;
};

}  // namespace paperboy::store::testing
