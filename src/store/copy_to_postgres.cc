#include "store/copy_to_postgres.h"

#include <map>
#include <optional>

#include "store/pg_access.h"
#include "store/sqlite_access.h"
#include "store/store.h"

namespace paperboy::store {
namespace {

using Value = std::optional<std::string>;
using Row = std::vector<Value>;

// Every row of `sql` in the SQLite store, each column as text (NULL as nullopt).
Result<std::vector<Row>> read_rows(sqlite::Connection& db, const char* sql) {
  auto statement = db.prepare(sql);
  if (!statement) return std::unexpected(statement.error());
  std::vector<Row> rows;
  for (;;) {
    const int rc = sqlite3_step(*statement);
    if (rc == SQLITE_DONE) break;
    if (rc != SQLITE_ROW) {
      sqlite3_reset(*statement);
      return std::unexpected(db.error("reading rows to copy"));
    }
    Row row;
    for (int column = 0; column < sqlite3_column_count(*statement); ++column) {
      if (sqlite3_column_type(*statement, column) == SQLITE_NULL) {
        row.emplace_back(std::nullopt);
        continue;
      }
      const auto* text = reinterpret_cast<const char*>(sqlite3_column_text(*statement, column));
      const auto size = static_cast<size_t>(sqlite3_column_bytes(*statement, column));
      row.emplace_back(std::string(text, size));
    }
    rows.push_back(std::move(row));
  }
  sqlite3_reset(*statement);
  return rows;
}

// SQLite keeps booleans as 0 and 1; PostgreSQL reads t and f.
pg::Param boolean(const Value& value) { return pg::Param(value && *value != "0"); }

pg::Param text(const Value& value) {
  if (!value) return pg::Param(std::nullopt);
  return pg::Param(*value);
}

class Copier {
 public:
  Copier(sqlite::Connection& source, pg::Connection& target) : source_(source), target_(target) {}

  Result<std::vector<TableCopy>> run() {
    using Step = Result<void> (Copier::*)();
    for (Step step : {&Copier::users, &Copier::sessions, &Copier::api_tokens, &Copier::votes,
                      &Copier::comments, &Copier::collections, &Copier::collection_items,
                      &Copier::submissions, &Copier::fetch_queue, &Copier::hidden_papers,
                      &Copier::user_visits, &Copier::subscriptions, &Copier::outbox}) {
      if (auto done = (this->*step)(); !done) return std::unexpected(done.error());
    }
    return copies_;
  }

 private:
  using Param = pg::Param;

  // Copies every row of `select` (SQLite) through `insert` (PostgreSQL, parameters made by
  // `params`); a row counts as added when the insert wrote it.
  template <class MakeParams>
  Result<void> copy(const char* table, const char* select, const std::string& insert,
                    MakeParams params) {
    auto rows = read_rows(source_, select);
    if (!rows) return std::unexpected(rows.error());
    TableCopy copy{table, rows->size(), 0};
    for (const Row& row : *rows) {
      auto bound = params(row);
      if (!bound) return std::unexpected(bound.error());
      auto written = target_.query(std::string("copying ") + table, insert, *bound);
      if (!written) return std::unexpected(written.error());
      copy.added += written->affected() > 0;
    }
    copies_.push_back(std::move(copy));
    return {};
  }

  // Looks `old` up in `ids` (a SQLite id -> PostgreSQL id map); NULL stays NULL.
  static Result<Param> mapped(const std::map<std::string, std::string>& ids, const Value& old,
                              const char* what) {
    if (!old) return Param(std::nullopt);
    auto found = ids.find(*old);
    if (found == ids.end()) return fail(std::string(what) + " " + *old + " was not copied");
    return Param(found->second);
  }

  // The PostgreSQL row of the SQLite paper `old`: the same arXiv id, or the same title.
  Result<Param> paper(const Value& old) {
    if (!old) return Param(std::nullopt);
    if (auto found = papers_.find(*old); found != papers_.end()) return Param(found->second);
    auto query = sqlite::Query::run(source_,
                                    "SELECT coalesce(arxiv_id, ''), title FROM papers "
                                    "WHERE id = ?",
                                    static_cast<int64_t>(std::stoll(*old)));
    if (!query) return std::unexpected(query.error());
    auto stepped = query->step("finding a paper to copy");
    if (!stepped) return std::unexpected(stepped.error());
    if (!*stepped) return fail("the SQLite store names paper row " + *old + ", which it lacks");
    const std::string arxiv_id = query->text(0);
    const std::string title = query->text(1);
    auto rows = arxiv_id.empty()
                    ? target_.query_with("finding a copied paper",
                                         "SELECT id FROM papers WHERE coalesce(arxiv_id, '') = '' "
                                         "AND title = $1 ORDER BY id LIMIT 1",
                                         title)
                    : target_.query_with("finding a copied paper",
                                         "SELECT id FROM papers WHERE arxiv_id = $1", arxiv_id);
    if (!rows) return std::unexpected(rows.error());
    if (rows->empty()) {
      return fail("paper " + (arxiv_id.empty() ? "\"" + title + "\"" : arxiv_id) +
                  " is not in PostgreSQL: copy the papers first");
    }
    return Param(papers_[*old] = std::string(rows->text(0, 0)));
  }

  // Inserts a row that has an identity id unless `existing` finds it; records old -> new id.
  Result<bool> find_or_insert(std::map<std::string, std::string>& ids, const std::string& old,
                              const std::string& existing, const std::vector<Param>& key,
                              const std::string& insert, const std::vector<Param>& values,
                              std::string_view what) {
    auto found = target_.query(what, existing, key);
    if (!found) return std::unexpected(found.error());
    if (!found->empty()) {
      ids[old] = std::string(found->text(0, 0));
      return false;
    }
    auto inserted = target_.query(what, insert + " RETURNING id", values);
    if (!inserted) return std::unexpected(inserted.error());
    ids[old] = std::string(inserted->text(0, 0));
    return true;
  }

  Result<void> users() {
    auto rows = read_rows(source_,
                          "SELECT id, name, email, password_hash, role, banned, created_at FROM "
                          "users ORDER BY id");
    if (!rows) return std::unexpected(rows.error());
    TableCopy copy{"users", rows->size(), 0};
    for (const Row& row : *rows) {
      auto added = find_or_insert(
          users_, *row[0], "SELECT id FROM users WHERE lower(name) = lower($1)", {text(row[1])},
          "INSERT INTO users (name, email, password_hash, role, banned, created_at) VALUES ($1, "
          "$2, $3, $4, $5, $6)",
          {text(row[1]), text(row[2]), text(row[3]), text(row[4]), boolean(row[5]), text(row[6])},
          "copying user " + row[1].value_or(""));
      if (!added) return std::unexpected(added.error());
      copy.added += *added;
    }
    copies_.push_back(std::move(copy));
    return {};
  }

  Result<void> sessions() {
    // Expired sessions would only be deleted again; live ones keep people signed in.
    return copy(
        "sessions",
        "SELECT token_hash, user_id, csrf_token, created_at, expires_at FROM sessions "
        "WHERE expires_at > CAST(strftime('%s', 'now') AS INTEGER)",
        "INSERT INTO sessions (token_hash, user_id, csrf_token, created_at, expires_at) "
        "VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING",
        [&](const Row& row) -> Result<std::vector<Param>> {
          auto user = mapped(users_, row[1], "user");
          if (!user) return std::unexpected(user.error());
          return std::vector<Param>{text(row[0]), *user, text(row[2]), text(row[3]), text(row[4])};
        });
  }

  Result<void> api_tokens() {
    return copy("api_tokens", "SELECT token_hash, user_id, label, created_at FROM api_tokens",
                "INSERT INTO api_tokens (token_hash, user_id, label, created_at) VALUES ($1, $2, "
                "$3, $4) ON CONFLICT DO NOTHING",
                [&](const Row& row) -> Result<std::vector<Param>> {
                  auto user = mapped(users_, row[1], "user");
                  if (!user) return std::unexpected(user.error());
                  return std::vector<Param>{text(row[0]), *user, text(row[2]), text(row[3])};
                });
  }

  Result<void> votes() {
    // A copied paper's upvotes already count its local votes; local_upvotes says how many of
    // them were cast here, as the votes table does.
    if (auto copied = copy("votes", "SELECT user_id, paper_row, created_at FROM votes",
                           "INSERT INTO votes (user_id, paper_row, created_at) VALUES ($1, $2, "
                           "$3) ON CONFLICT DO NOTHING",
                           [&](const Row& row) -> Result<std::vector<Param>> {
                             auto user = mapped(users_, row[0], "user");
                             if (!user) return std::unexpected(user.error());
                             auto paper_row = paper(row[1]);
                             if (!paper_row) return std::unexpected(paper_row.error());
                             return std::vector<Param>{*user, *paper_row, text(row[2])};
                           });
        !copied)
      return copied;
    auto counted =
        read_rows(source_, "SELECT id, local_upvotes FROM papers WHERE local_upvotes > 0");
    if (!counted) return std::unexpected(counted.error());
    for (const Row& row : *counted) {
      auto paper_row = paper(row[0]);
      if (!paper_row) return std::unexpected(paper_row.error());
      const Param params[] = {*paper_row, text(row[1])};
      auto updated = target_.query(
          "copying local upvotes",
          "UPDATE papers SET upvotes = upvotes + ($2::bigint - local_upvotes), local_upvotes = "
          "$2::bigint, change_seq = " +
              std::string(kPostgresNextChangeSql) + " WHERE id = $1 AND local_upvotes < $2::bigint",
          params);
      if (!updated) return std::unexpected(updated.error());
    }
    return {};
  }

  Result<void> comments() {
    return copy(
        "comments", "SELECT paper_row, user_id, body, state, created_at, edited_at FROM comments",
        "INSERT INTO comments (paper_row, user_id, body, state, created_at, edited_at) SELECT "
        "$1::bigint, $2::bigint, $3::text, $4::integer, $5::bigint, $6::bigint WHERE NOT EXISTS "
        "(SELECT 1 FROM comments WHERE paper_row = $1::bigint AND user_id IS NOT DISTINCT FROM "
        "$2::bigint AND created_at = $5::bigint AND body = $3::text)",
        [&](const Row& row) -> Result<std::vector<Param>> {
          auto paper_row = paper(row[0]);
          if (!paper_row) return std::unexpected(paper_row.error());
          auto user = mapped(users_, row[1], "user");
          if (!user) return std::unexpected(user.error());
          return std::vector<Param>{*paper_row,   *user,        text(row[2]),
                                    text(row[3]), text(row[4]), text(row[5])};
        });
  }

  Result<void> collections() {
    auto rows = read_rows(
        source_, "SELECT id, user_id, name, description, public, created_at FROM collections");
    if (!rows) return std::unexpected(rows.error());
    TableCopy copy{"collections", rows->size(), 0};
    for (const Row& row : *rows) {
      auto user = mapped(users_, row[1], "user");
      if (!user) return std::unexpected(user.error());
      auto added = find_or_insert(
          collections_, *row[0],
          "SELECT id FROM collections WHERE user_id = $1 AND name = $2 AND created_at = $3",
          {*user, text(row[2]), text(row[5])},
          "INSERT INTO collections (user_id, name, description, public, created_at) VALUES ($1, "
          "$2, $3, $4, $5)",
          {*user, text(row[2]), text(row[3]), boolean(row[4]), text(row[5])},
          "copying collection " + row[2].value_or(""));
      if (!added) return std::unexpected(added.error());
      copy.added += *added;
    }
    copies_.push_back(std::move(copy));
    return {};
  }

  Result<void> collection_items() {
    return copy("collection_items",
                "SELECT collection_id, paper_row, position, note, added_at FROM collection_items",
                "INSERT INTO collection_items (collection_id, paper_row, position, note, "
                "added_at) VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING",
                [&](const Row& row) -> Result<std::vector<Param>> {
                  auto collection = mapped(collections_, row[0], "collection");
                  if (!collection) return std::unexpected(collection.error());
                  auto paper_row = paper(row[1]);
                  if (!paper_row) return std::unexpected(paper_row.error());
                  return std::vector<Param>{*collection, *paper_row, text(row[2]), text(row[3]),
                                            text(row[4])};
                });
  }

  Result<void> submissions() {
    return copy("submissions", "SELECT arxiv_id, user_id, queued, submitted_at FROM submissions",
                "INSERT INTO submissions (arxiv_id, user_id, queued, submitted_at) SELECT "
                "$1::text, $2::bigint, $3::boolean, $4::bigint WHERE NOT EXISTS (SELECT 1 FROM "
                "submissions WHERE arxiv_id = $1::text AND user_id IS NOT DISTINCT FROM "
                "$2::bigint AND submitted_at = $4::bigint)",
                [&](const Row& row) -> Result<std::vector<Param>> {
                  auto user = mapped(users_, row[1], "user");
                  if (!user) return std::unexpected(user.error());
                  return std::vector<Param>{text(row[0]), *user, boolean(row[2]), text(row[3])};
                });
  }

  Result<void> fetch_queue() {
    return copy("fetch_queue", "SELECT arxiv_id, user_id, requested_at FROM fetch_queue",
                "INSERT INTO fetch_queue (arxiv_id, user_id, requested_at) VALUES ($1, $2, $3) "
                "ON CONFLICT DO NOTHING",
                [&](const Row& row) -> Result<std::vector<Param>> {
                  auto user = mapped(users_, row[1], "user");
                  if (!user) return std::unexpected(user.error());
                  return std::vector<Param>{text(row[0]), *user, text(row[2])};
                });
  }

  Result<void> hidden_papers() {
    return copy("hidden_papers", "SELECT paper_row, hidden_at FROM hidden_papers",
                "INSERT INTO hidden_papers (paper_row, hidden_at) VALUES ($1, $2) ON CONFLICT DO "
                "NOTHING",
                [&](const Row& row) -> Result<std::vector<Param>> {
                  auto paper_row = paper(row[0]);
                  if (!paper_row) return std::unexpected(paper_row.error());
                  return std::vector<Param>{*paper_row, text(row[1])};
                });
  }

  Result<void> user_visits() {
    return copy("user_visits", "SELECT user_id, last_seen, seen_before FROM user_visits",
                "INSERT INTO user_visits (user_id, last_seen, seen_before) VALUES ($1, $2, $3) "
                "ON CONFLICT DO NOTHING",
                [&](const Row& row) -> Result<std::vector<Param>> {
                  auto user = mapped(users_, row[0], "user");
                  if (!user) return std::unexpected(user.error());
                  return std::vector<Param>{*user, text(row[1]), text(row[2])};
                });
  }

  Result<void> subscriptions() {
    auto rows = read_rows(source_,
                          "SELECT id, email, name, state, frequency, time_zone, send_hour, topics, "
                          "max_papers, include_trending, created_at, confirmed_at, "
                          "covered_through, bounces FROM subscriptions ORDER BY id");
    if (!rows) return std::unexpected(rows.error());
    TableCopy copy{"subscriptions", rows->size(), 0};
    for (const Row& row : *rows) {
      auto added = find_or_insert(
          subscriptions_, *row[0], "SELECT id FROM subscriptions WHERE lower(email) = lower($1)",
          {text(row[1])},
          "INSERT INTO subscriptions (email, name, state, frequency, time_zone, send_hour, "
          "topics, max_papers, include_trending, created_at, confirmed_at, covered_through, "
          "bounces) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)",
          {text(row[1]), text(row[2]), text(row[3]), text(row[4]), text(row[5]), text(row[6]),
           text(row[7]), text(row[8]), boolean(row[9]), text(row[10]), text(row[11]), text(row[12]),
           text(row[13])},
          "copying the subscription of " + row[1].value_or(""));
      if (!added) return std::unexpected(added.error());
      copy.added += *added;
    }
    copies_.push_back(std::move(copy));
    return {};
  }

  Result<void> outbox() {
    // A digest already sent stays recorded, so the new store does not send it again; a claim
    // a sender held here is released (leased_until 0).
    return copy("outbox",
                "SELECT subscription_id, period, recipient, message, covered_through, state, "
                "attempts, next_attempt_at, last_error, created_at, sent_at FROM outbox",
                "INSERT INTO outbox (subscription_id, period, recipient, message, "
                "covered_through, state, attempts, next_attempt_at, leased_until, last_error, "
                "created_at, sent_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 0, $9, $10, $11) "
                "ON CONFLICT DO NOTHING",
                [&](const Row& row) -> Result<std::vector<Param>> {
                  auto subscription = mapped(subscriptions_, row[0], "subscription");
                  if (!subscription) return std::unexpected(subscription.error());
                  std::vector<Param> params = {*subscription};
                  for (size_t column = 1; column < row.size(); ++column)
                    params.push_back(text(row[column]));
                  return params;
                });
  }

  sqlite::Connection& source_;
  pg::Connection& target_;
  std::map<std::string, std::string> users_, papers_, collections_, subscriptions_;
  std::vector<TableCopy> copies_;
};

}  // namespace

Result<std::unordered_map<std::string, int64_t>> local_upvotes_by_paper(
    const std::filesystem::path& sqlite_file) {
  auto source = sqlite::Connection::open(sqlite_file.string(), /*read_only=*/true);
  if (!source) return std::unexpected(source.error());
  auto rows = read_rows(**source,
                        "SELECT coalesce(arxiv_id, ''), coalesce(title, ''), local_upvotes FROM "
                        "papers WHERE local_upvotes > 0");
  if (!rows) return std::unexpected(rows.error());
  std::unordered_map<std::string, int64_t> local;
  for (const Row& row : *rows)
    local[row[0]->empty() ? "title:" + *row[1] : *row[0]] = std::stoll(*row[2]);
  return local;
}

Result<std::vector<TableCopy>> copy_community_to_postgres(const std::filesystem::path& sqlite_file,
                                                          std::string_view url) {
  auto source = sqlite::Connection::open(sqlite_file.string(), /*read_only=*/true);
  if (!source) return std::unexpected(source.error());
  auto target = pg::Connection::open(url);
  if (!target) return std::unexpected(target.error());
  auto transaction = pg::Transaction::begin(**target);
  if (!transaction) return std::unexpected(transaction.error());
  auto copied = Copier(**source, **target).run();
  if (!copied) return copied;
  if (auto committed = transaction->commit(); !committed) return std::unexpected(committed.error());
  return copied;
}

}  // namespace paperboy::store
