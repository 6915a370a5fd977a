// The PostgreSQL backend of the community store, beside the papers in the same database. Its
// tables come from the "community" migrations (after the papers' own); times are stored as Unix
// seconds like the SQLite backend's, names and addresses compare without case through lower()
// indexes. Every method borrows a pooled connection, so the web server's threads and several
// nodes work at once; what must change together (a vote and the paper's count) changes in one
// transaction that locks the paper's row first.
#include <fmt/format.h>

#include <algorithm>
#include <utility>

#include "core/arxiv_id.h"
#include "core/paper.h"
#include "store/community.h"
#include "store/pg_access.h"
#include "store/pg_pool.h"
#include "store/store.h"

namespace paperboy::store {

namespace {

using std::chrono::sys_seconds;

constexpr pg::Migration kCommunityMigrations[] = {
    {1, R"sql(
ALTER TABLE papers ADD COLUMN IF NOT EXISTS local_upvotes bigint NOT NULL DEFAULT 0;
CREATE TABLE users (
  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  name text NOT NULL,
  email text NOT NULL,
  password_hash text NOT NULL,
  role text NOT NULL DEFAULT 'user' CHECK (role IN ('user', 'moderator', 'admin')),
  banned boolean NOT NULL DEFAULT false,
  created_at bigint NOT NULL
);
CREATE UNIQUE INDEX users_name ON users (lower(name));
CREATE UNIQUE INDEX users_email ON users (lower(email));
CREATE TABLE sessions (
  token_hash text PRIMARY KEY,
  user_id bigint NOT NULL REFERENCES users(id) ON DELETE CASCADE,
  csrf_token text NOT NULL,
  created_at bigint NOT NULL,
  expires_at bigint NOT NULL
);
CREATE INDEX sessions_user ON sessions (user_id);
CREATE TABLE api_tokens (
  token_hash text PRIMARY KEY,
  user_id bigint NOT NULL REFERENCES users(id) ON DELETE CASCADE,
  label text NOT NULL,
  created_at bigint NOT NULL
);
CREATE INDEX api_tokens_user ON api_tokens (user_id);
CREATE TABLE votes (
  user_id bigint NOT NULL REFERENCES users(id) ON DELETE CASCADE,
  paper_row bigint NOT NULL REFERENCES papers(id),
  created_at bigint NOT NULL,
  PRIMARY KEY (user_id, paper_row)
);
CREATE INDEX votes_paper ON votes (paper_row);
CREATE TABLE comments (
  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  paper_row bigint NOT NULL REFERENCES papers(id),
  user_id bigint REFERENCES users(id) ON DELETE SET NULL,
  body text NOT NULL,
  state integer NOT NULL DEFAULT 0,
  created_at bigint NOT NULL,
  edited_at bigint
);
CREATE INDEX comments_paper ON comments (paper_row, id);
CREATE INDEX comments_user ON comments (user_id);
CREATE TABLE collections (
  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  user_id bigint NOT NULL REFERENCES users(id) ON DELETE CASCADE,
  name text NOT NULL,
  description text NOT NULL DEFAULT '',
  public boolean NOT NULL DEFAULT false,
  created_at bigint NOT NULL
);
CREATE INDEX collections_user ON collections (user_id);
CREATE TABLE collection_items (
  collection_id bigint NOT NULL REFERENCES collections(id) ON DELETE CASCADE,
  paper_row bigint NOT NULL REFERENCES papers(id),
  position bigint NOT NULL,
  note text NOT NULL DEFAULT '',
  added_at bigint NOT NULL,
  PRIMARY KEY (collection_id, paper_row)
);
CREATE TABLE submissions (
  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  arxiv_id text NOT NULL,
  user_id bigint REFERENCES users(id) ON DELETE SET NULL,
  queued boolean NOT NULL,
  submitted_at bigint NOT NULL
);
CREATE TABLE fetch_queue (
  arxiv_id text PRIMARY KEY,
  user_id bigint REFERENCES users(id) ON DELETE SET NULL,
  requested_at bigint NOT NULL
);
CREATE TABLE hidden_papers (
  paper_row bigint PRIMARY KEY REFERENCES papers(id),
  hidden_at bigint NOT NULL
);
CREATE TABLE user_visits (
  user_id bigint PRIMARY KEY REFERENCES users(id) ON DELETE CASCADE,
  last_seen bigint NOT NULL,
  seen_before bigint
);
)sql"},
};

// Web threads plus the scheduler's; more would only queue inside the server.
constexpr size_t kPoolSize = 8;

sys_seconds now() {
  return std::chrono::floor<std::chrono::seconds>(std::chrono::system_clock::now());
}
int64_t seconds(sys_seconds instant) { return instant.time_since_epoch().count(); }
sys_seconds instant(int64_t value) { return sys_seconds{std::chrono::seconds{value}}; }

const std::string kUserColumns =
    "SELECT id, name, email, password_hash, role, banned, created_at FROM users ";

User read_user(const pg::Rows& rows, int row, int first = 0) {
  User user;
  user.id = rows.integer(row, first);
  user.name = rows.text(row, first + 1);
  user.email = rows.text(row, first + 2);
  user.password_hash = rows.text(row, first + 3);
  user.role = parse_role(rows.text(row, first + 4)).value_or(Role::user);
  user.banned = rows.boolean(row, first + 5);
  user.created_at = instant(rows.integer(row, first + 6));
  return user;
}

// The paper id shown in URLs for a stored row's arXiv id and title.
std::string paper_id_of(const pg::Rows& rows, int row, int arxiv_column, int title_column) {
  Paper paper;
  if (!rows.is_null(row, arxiv_column)) paper.arxiv_id = rows.text(row, arxiv_column);
  paper.title = rows.text(row, title_column);
  return paper_id(paper);
}

const std::string kCommentColumns =
    "SELECT c.id, p.arxiv_id, p.title, coalesce(c.user_id, 0), coalesce(u.name, ''), c.state, "
    "c.body, c.created_at, c.edited_at FROM comments c JOIN papers p ON p.id = c.paper_row "
    "LEFT JOIN users u ON u.id = c.user_id ";

Comment read_comment(const pg::Rows& rows, int row) {
  Comment comment;
  comment.id = rows.integer(row, 0);
  comment.paper_id = paper_id_of(rows, row, 1, 2);
  comment.author_id = rows.integer(row, 3);
  comment.author_name = rows.text(row, 4);
  comment.state = static_cast<CommentState>(rows.integer(row, 5));
  if (comment.state == CommentState::visible) comment.body = rows.text(row, 6);
  comment.created_at = instant(rows.integer(row, 7));
  if (!rows.is_null(row, 8)) comment.edited_at = instant(rows.integer(row, 8));
  return comment;
}

const std::string kCollectionColumns =
    "SELECT c.id, c.user_id, u.name, c.name, c.description, c.public, c.created_at, "
    "(SELECT count(*) FROM collection_items i WHERE i.collection_id = c.id) "
    "FROM collections c JOIN users u ON u.id = c.user_id ";

Collection read_collection(const pg::Rows& rows, int row) {
  Collection collection;
  collection.id = rows.integer(row, 0);
  collection.owner_id = rows.integer(row, 1);
  collection.owner_name = rows.text(row, 2);
  collection.name = rows.text(row, 3);
  collection.description = rows.text(row, 4);
  collection.is_public = rows.boolean(row, 5);
  collection.created_at = instant(rows.integer(row, 6));
  collection.item_count = rows.integer(row, 7);
  return collection;
}

// A local vote changes the paper's count and gives it a new change number (in the store's
// numbering), so the search index, which sorts by upvotes, catches up with votes as with imports.
const std::string kCountVotes =
    std::string("UPDATE papers SET upvotes = upvotes + $1, ") +
    "local_upvotes = local_upvotes + $1, change_seq = " + kPostgresNextChangeSql +
    " WHERE id = $2 RETURNING upvotes";

class PostgresCommunityStore final : public CommunityStore {
 public:
  explicit PostgresCommunityStore(std::string url) : pool_(std::move(url), kPoolSize) {}

  Result<User> add_user(const NewUser& user) override {
    auto connection = pool_.borrow();
    if (!connection) return std::unexpected(connection.error());
    pg::Connection& c = **connection;
    const sys_seconds created = now();
    // Both unique indexes guard the insert, so two nodes adding one name at once add it once.
    auto added = c.query_with("add_user",
                              "INSERT INTO users (name, email, password_hash, role, created_at) "
                              "VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING RETURNING id",
                              user.name, user.email, user.password_hash, role_name(user.role),
                              seconds(created));
    if (!added) return std::unexpected(added.error());
    if (added->empty()) {
      auto name_taken =
          c.query_with("add_user", "SELECT 1 FROM users WHERE lower(name) = lower($1)", user.name);
      if (!name_taken) return std::unexpected(name_taken.error());
      if (!name_taken->empty()) return fail(fmt::format("name: '{}' is already taken", user.name));
      return fail(fmt::format("email: '{}' is already taken", user.email));
    }
    User stored;
    stored.id = added->integer(0, 0);
    stored.name = user.name;
    stored.email = user.email;
    stored.password_hash = user.password_hash;
    stored.role = user.role;
    stored.created_at = created;
    return stored;
  }

  Result<std::optional<User>> find_user(std::string_view name) override {
    return one_user(kUserColumns + "WHERE lower(name) = lower($1)", name);
  }

  Result<std::optional<User>> find_user_by_email(std::string_view email) override {
    return one_user(kUserColumns + "WHERE lower(email) = lower($1)", email);
  }

  Result<std::optional<User>> user_by_id(int64_t id) override {
    return one_user(kUserColumns + "WHERE id = $1", id);
  }

  Result<std::vector<User>> users() override {
    auto rows = run("users", kUserColumns + "ORDER BY lower(name) COLLATE \"C\", id");
    if (!rows) return std::unexpected(rows.error());
    std::vector<User> found;
    for (int row = 0; row < rows->size(); ++row) found.push_back(read_user(*rows, row));
    return found;
  }

  Result<void> set_password_hash(int64_t user_id, std::string_view password_hash) override {
    return done(run("set_password_hash", "UPDATE users SET password_hash = $2 WHERE id = $1",
                    user_id, password_hash));
  }

  Result<void> set_role(int64_t user_id, Role role) override {
    return done(
        run("set_role", "UPDATE users SET role = $2 WHERE id = $1", user_id, role_name(role)));
  }

  Result<void> set_banned(int64_t user_id, bool banned) override {
    // One statement: the ban and the end of the user's sessions and tokens commit together.
    return done(run("set_banned",
                    "WITH banned AS (UPDATE users SET banned = $2 WHERE id = $1 RETURNING id), "
                    "ended AS (DELETE FROM sessions WHERE $2 AND user_id IN (SELECT id FROM "
                    "banned)) DELETE FROM api_tokens WHERE $2 AND user_id IN (SELECT id FROM "
                    "banned)",
                    user_id, banned));
  }

  Result<bool> remove_user(std::string_view name) override {
    auto connection = pool_.borrow();
    if (!connection) return std::unexpected(connection.error());
    pg::Connection& c = **connection;
    auto transaction = pg::Transaction::begin(c);
    if (!transaction) return std::unexpected(transaction.error());
    if (auto numbering = c.query("remove_user", kPostgresLockChangesSql); !numbering)
      return std::unexpected(numbering.error());
    auto found =
        c.query_with("remove_user", "SELECT id FROM users WHERE lower(name) = lower($1)", name);
    if (!found) return std::unexpected(found.error());
    if (found->empty()) return false;
    const int64_t id = found->integer(0, 0);
    // Papers first, in id order, and the user's row only at the delete: a vote locks its paper
    // and then reads the user's row, so taking them the other way round could deadlock.
    static const std::string kTakeBackVotes =
        std::string(
            "WITH voted AS (SELECT p.id FROM papers p JOIN votes v ON v.paper_row = p.id "
            "WHERE v.user_id = $1 ORDER BY p.id FOR UPDATE OF p) "
            "UPDATE papers SET upvotes = upvotes - 1, local_upvotes = local_upvotes - 1, "
            "change_seq = ") +
        kPostgresNextChangeSql + " WHERE id IN (SELECT id FROM voted)";
    for (const std::string& text :
         {kTakeBackVotes,
          std::string("UPDATE comments SET state = 1, body = '' WHERE user_id = $1"),
          std::string("DELETE FROM users WHERE id = $1")}) {
      if (auto changed = c.query_with("remove_user", text, id); !changed)
        return std::unexpected(changed.error());
    }
    if (auto committed = transaction->commit(); !committed)
      return std::unexpected(committed.error());
    return true;
  }

  Result<void> add_session(std::string_view token_hash, int64_t user_id,
                           std::string_view csrf_token, sys_seconds expires_at) override {
    return done(run("add_session",
                    "INSERT INTO sessions (token_hash, user_id, csrf_token, created_at, "
                    "expires_at) VALUES ($1, $2, $3, $4, $5)",
                    token_hash, user_id, csrf_token, seconds(now()), seconds(expires_at)));
  }

  Result<std::optional<SessionUser>> find_session(std::string_view token_hash,
                                                  sys_seconds at) override {
    auto rows =
        run("find_session",
            "SELECT u.id, u.name, u.email, u.password_hash, u.role, u.banned, u.created_at, "
            "s.csrf_token, s.expires_at FROM sessions s JOIN users u ON u.id = s.user_id "
            "WHERE s.token_hash = $1",
            token_hash);
    if (!rows) return std::unexpected(rows.error());
    if (rows->empty()) return std::optional<SessionUser>();
    SessionUser found{read_user(*rows, 0), std::string(rows->text(0, 7)),
                      instant(rows->integer(0, 8))};
    if (found.expires_at > at && !found.user.banned) return found;
    if (auto removed = remove_session(token_hash); !removed)
      return std::unexpected(removed.error());
    return std::optional<SessionUser>();
  }

  Result<void> remove_session(std::string_view token_hash) override {
    return done(run("remove_session", "DELETE FROM sessions WHERE token_hash = $1", token_hash));
  }

  Result<void> remove_sessions_of(int64_t user_id, std::string_view keep_token_hash) override {
    return done(run("remove_sessions_of",
                    "DELETE FROM sessions WHERE user_id = $1 AND token_hash <> $2", user_id,
                    keep_token_hash));
  }

  Result<void> add_api_token(std::string_view token_hash, int64_t user_id,
                             std::string_view label) override {
    return done(run("add_api_token",
                    "INSERT INTO api_tokens (token_hash, user_id, label, created_at) "
                    "VALUES ($1, $2, $3, $4)",
                    token_hash, user_id, label, seconds(now())));
  }

  Result<std::optional<User>> find_api_token(std::string_view token_hash) override {
    return one_user(
        "SELECT u.id, u.name, u.email, u.password_hash, u.role, u.banned, u.created_at "
        "FROM api_tokens t JOIN users u ON u.id = t.user_id WHERE t.token_hash = $1 "
        "AND NOT u.banned",
        token_hash);
  }

  Result<VoteOutcome> toggle_vote(int64_t user_id, std::string_view paper_id) override {
    auto connection = pool_.borrow();
    if (!connection) return std::unexpected(connection.error());
    pg::Connection& c = **connection;
    auto transaction = pg::Transaction::begin(c);
    if (!transaction) return std::unexpected(transaction.error());
    // The change numbering first (as batches take it, so the two cannot deadlock), then the
    // paper's row: toggles of one paper wait for each other across threads and nodes, and the
    // next one sees this one's vote (each statement reads what is committed).
    if (auto numbering = c.query("toggle_vote", kPostgresLockChangesSql); !numbering)
      return std::unexpected(numbering.error());
    auto row = paper_row(c, paper_id, /*lock=*/true);
    if (!row) return std::unexpected(row.error());
    auto removed = c.query_with(
        "toggle_vote", "DELETE FROM votes WHERE user_id = $1 AND paper_row = $2", user_id, *row);
    if (!removed) return std::unexpected(removed.error());
    VoteOutcome outcome;
    outcome.voted = removed->affected() == 0;
    if (outcome.voted) {
      if (auto added =
              c.query_with("toggle_vote",
                           "INSERT INTO votes (user_id, paper_row, created_at) VALUES ($1, $2, $3)",
                           user_id, *row, seconds(now()));
          !added)
        return std::unexpected(added.error());
    }
    auto counted = c.query_with("toggle_vote", kCountVotes, int64_t{outcome.voted ? 1 : -1}, *row);
    if (!counted) return std::unexpected(counted.error());
    outcome.upvotes = counted->integer(0, 0);
    if (auto committed = transaction->commit(); !committed)
      return std::unexpected(committed.error());
    return outcome;
  }

  Result<std::vector<std::string>> voted_papers(
      int64_t user_id, const std::vector<std::string>& paper_ids) override {
    auto connection = pool_.borrow();
    if (!connection) return std::unexpected(connection.error());
    std::vector<std::string> voted;
    for (const std::string& id : paper_ids) {
      auto row = paper_row(**connection, id, /*lock=*/false);
      if (!row) continue;  // not in the store: not voted for
      auto found = (*connection)
                       ->query_with("voted_papers",
                                    "SELECT 1 FROM votes WHERE user_id = $1 AND paper_row = $2",
                                    user_id, *row);
      if (!found) return std::unexpected(found.error());
      if (!found->empty()) voted.push_back(id);
    }
    return voted;
  }

  Result<std::vector<std::string>> votes_of(int64_t user_id, size_t limit) override {
    auto rows = run("votes_of",
                    "SELECT p.arxiv_id, p.title FROM votes v JOIN papers p ON p.id = v.paper_row "
                    "WHERE v.user_id = $1 ORDER BY v.created_at DESC, v.paper_row DESC LIMIT $2",
                    user_id, limit);
    if (!rows) return std::unexpected(rows.error());
    std::vector<std::string> ids;
    for (int row = 0; row < rows->size(); ++row) ids.push_back(paper_id_of(*rows, row, 0, 1));
    return ids;
  }

  Result<std::optional<sys_seconds>> record_visit(int64_t user_id, sys_seconds at,
                                                  std::chrono::seconds gap) override {
    // SET expressions read the row as it was, so seen_before takes the old last_seen.
    auto rows = run("record_visit",
                    "INSERT INTO user_visits AS v (user_id, last_seen, seen_before) "
                    "VALUES ($1, $2, NULL) ON CONFLICT (user_id) DO UPDATE SET "
                    "seen_before = CASE WHEN $2 - v.last_seen >= $3 THEN v.last_seen "
                    "ELSE v.seen_before END, last_seen = greatest(v.last_seen, $2) "
                    "RETURNING seen_before",
                    user_id, seconds(at), static_cast<int64_t>(gap.count()));
    if (!rows) return std::unexpected(rows.error());
    if (rows->empty() || rows->is_null(0, 0)) return std::optional<sys_seconds>();
    return std::optional(instant(rows->integer(0, 0)));
  }

  Result<Comment> add_comment(std::string_view paper_id, int64_t author_id,
                              std::string_view body) override {
    int64_t id = 0;
    {
      auto connection = pool_.borrow();
      if (!connection) return std::unexpected(connection.error());
      auto row = paper_row(**connection, paper_id, /*lock=*/false);
      if (!row) return std::unexpected(row.error());
      auto added = (*connection)
                       ->query_with("add_comment",
                                    "INSERT INTO comments (paper_row, user_id, body, created_at) "
                                    "VALUES ($1, $2, $3, $4) RETURNING id",
                                    *row, author_id, body, seconds(now()));
      if (!added) return std::unexpected(added.error());
      id = added->integer(0, 0);
    }
    auto added = find_comment(id);
    if (!added) return std::unexpected(added.error());
    if (!*added) return fail(fmt::format("add_comment: comment {} vanished", id));
    return **added;
  }

  Result<std::optional<Comment>> find_comment(int64_t id) override {
    auto rows = run("find_comment", kCommentColumns + "WHERE c.id = $1", id);
    if (!rows) return std::unexpected(rows.error());
    if (rows->empty()) return std::optional<Comment>();
    return read_comment(*rows, 0);
  }

  Result<std::vector<Comment>> comments_on(std::string_view paper_id) override {
    auto connection = pool_.borrow();
    if (!connection) return std::unexpected(connection.error());
    std::vector<Comment> comments;
    auto row = paper_row(**connection, paper_id, /*lock=*/false);
    if (!row) return comments;
    auto rows = (*connection)
                    ->query_with("comments_on",
                                 kCommentColumns + "WHERE c.paper_row = $1 ORDER BY c.id", *row);
    if (!rows) return std::unexpected(rows.error());
    for (int i = 0; i < rows->size(); ++i) comments.push_back(read_comment(*rows, i));
    return comments;
  }

  Result<void> edit_comment(int64_t id, std::string_view body) override {
    return done(run("edit_comment",
                    "UPDATE comments SET body = $2, edited_at = $3 WHERE id = $1 AND state = 0", id,
                    body, seconds(now())));
  }

  Result<void> remove_comment(int64_t id, CommentState why) override {
    return done(run("remove_comment", "UPDATE comments SET state = $2, body = '' WHERE id = $1", id,
                    static_cast<int64_t>(why)));
  }

  Result<int64_t> comment_count(std::string_view paper_id) override {
    auto connection = pool_.borrow();
    if (!connection) return std::unexpected(connection.error());
    auto row = paper_row(**connection, paper_id, /*lock=*/false);
    if (!row) return 0;
    auto rows =
        (*connection)
            ->query_with("comment_count",
                         "SELECT count(*) FROM comments WHERE paper_row = $1 AND state = 0", *row);
    if (!rows) return std::unexpected(rows.error());
    return rows->integer(0, 0);
  }

  Result<Collection> create_collection(int64_t owner_id, std::string_view name,
                                       std::string_view description, bool is_public) override {
    auto rows = run("create_collection",
                    "INSERT INTO collections (user_id, name, description, public, created_at) "
                    "VALUES ($1, $2, $3, $4, $5) RETURNING id",
                    owner_id, name, description, is_public, seconds(now()));
    if (!rows) return std::unexpected(rows.error());
    const int64_t id = rows->integer(0, 0);
    auto created = find_collection(id);
    if (!created) return std::unexpected(created.error());
    if (!*created) return fail(fmt::format("create_collection: collection {} vanished", id));
    return **created;
  }

  Result<std::optional<Collection>> find_collection(int64_t id) override {
    auto rows = run("find_collection", kCollectionColumns + "WHERE c.id = $1", id);
    if (!rows) return std::unexpected(rows.error());
    if (rows->empty()) return std::optional<Collection>();
    return read_collection(*rows, 0);
  }

  Result<std::vector<Collection>> collections_of(int64_t owner_id) override {
    auto rows = run("collections_of",
                    kCollectionColumns + "WHERE c.user_id = $1 ORDER BY c.name COLLATE \"C\", c.id",
                    owner_id);
    if (!rows) return std::unexpected(rows.error());
    std::vector<Collection> found;
    for (int row = 0; row < rows->size(); ++row) found.push_back(read_collection(*rows, row));
    return found;
  }

  Result<void> update_collection(int64_t id, std::string_view name, std::string_view description,
                                 bool is_public) override {
    return done(run("update_collection",
                    "UPDATE collections SET name = $2, description = $3, public = $4 WHERE id = $1",
                    id, name, description, is_public));
  }

  Result<void> delete_collection(int64_t id) override {
    return done(run("delete_collection", "DELETE FROM collections WHERE id = $1", id));
  }

  Result<void> put_in_collection(int64_t id, std::string_view paper_id,
                                 std::string_view note) override {
    return in_collection(id, "put_in_collection", [&](pg::Connection& c) -> Result<void> {
      auto row = paper_row(c, paper_id, /*lock=*/false);
      if (!row) return std::unexpected(row.error());
      return done(c.query_with(
          "put_in_collection",
          "INSERT INTO collection_items (collection_id, paper_row, position, note, added_at) "
          "VALUES ($1, $2, (SELECT coalesce(max(position), 0) + 1 FROM collection_items "
          "WHERE collection_id = $1), $3, $4) "
          "ON CONFLICT (collection_id, paper_row) DO UPDATE SET note = excluded.note",
          id, *row, note, seconds(now())));
    });
  }

  Result<bool> remove_from_collection(int64_t id, std::string_view paper_id) override {
    bool removed = false;
    auto changed = in_collection(id, "remove_from_collection", [&](pg::Connection& c) {
      auto row = paper_row(c, paper_id, /*lock=*/false);
      if (!row) return Result<void>();
      // Deleting the item and closing the gap it leaves, in one statement.
      auto gone = c.query_with("remove_from_collection",
                               "WITH gone AS (DELETE FROM collection_items WHERE collection_id = "
                               "$1 AND paper_row = $2 RETURNING position), "
                               "shifted AS (UPDATE collection_items SET position = position - 1 "
                               "WHERE collection_id = $1 AND position > (SELECT position FROM "
                               "gone)) SELECT count(*) FROM gone",
                               id, *row);
      if (!gone) return Result<void>(std::unexpected(gone.error()));
      removed = gone->integer(0, 0) > 0;
      return Result<void>();
    });
    if (!changed) return std::unexpected(changed.error());
    return removed;
  }

  Result<void> move_in_collection(int64_t id, std::string_view paper_id,
                                  int64_t position) override {
    return in_collection(id, "move_in_collection", [&](pg::Connection& c) -> Result<void> {
      auto row = paper_row(c, paper_id, /*lock=*/false);
      if (!row) return std::unexpected(row.error());
      auto from = c.query_with("move_in_collection",
                               "SELECT position, (SELECT count(*) FROM collection_items WHERE "
                               "collection_id = $1) FROM collection_items "
                               "WHERE collection_id = $1 AND paper_row = $2",
                               id, *row);
      if (!from) return std::unexpected(from.error());
      if (from->empty())
        return fail(fmt::format("paper '{}' is not in collection {}", paper_id, id));
      const int64_t old_position = from->integer(0, 0);
      const int64_t to = std::clamp<int64_t>(position, 1, from->integer(0, 1));
      // Shift the items between the old and new place by one, then drop the paper in.
      const char* shift = to < old_position
                              ? "UPDATE collection_items SET position = position + 1 "
                                "WHERE collection_id = $1 AND position >= $2 AND position < $3"
                              : "UPDATE collection_items SET position = position - 1 "
                                "WHERE collection_id = $1 AND position > $3 AND position <= $2";
      if (auto shifted = c.query_with("move_in_collection", shift, id, to, old_position); !shifted)
        return std::unexpected(shifted.error());
      return done(c.query_with(
          "move_in_collection",
          "UPDATE collection_items SET position = $3 WHERE collection_id = $1 AND paper_row = $2",
          id, *row, to));
    });
  }

  Result<std::vector<CollectionItem>> collection_items(int64_t id) override {
    auto rows = run("collection_items",
                    "SELECT p.arxiv_id, p.title, i.note, i.position FROM collection_items i "
                    "JOIN papers p ON p.id = i.paper_row WHERE i.collection_id = $1 "
                    "ORDER BY i.position",
                    id);
    if (!rows) return std::unexpected(rows.error());
    std::vector<CollectionItem> items;
    for (int row = 0; row < rows->size(); ++row) {
      items.push_back(CollectionItem{paper_id_of(*rows, row, 0, 1), std::string(rows->text(row, 1)),
                                     std::string(rows->text(row, 2)), rows->integer(row, 3)});
    }
    return items;
  }

  Result<Submission> record_submission(std::string_view arxiv_id, int64_t user_id,
                                       bool queued) override {
    const sys_seconds at = now();
    // One statement: the submission and its place in the fetch queue commit together.
    auto rows = run("record_submission",
                    "WITH queued AS (INSERT INTO fetch_queue (arxiv_id, user_id, requested_at) "
                    "SELECT $1::text, $2::bigint, $4::bigint WHERE $3::boolean "
                    "ON CONFLICT (arxiv_id) DO NOTHING) "
                    "INSERT INTO submissions (arxiv_id, user_id, queued, submitted_at) "
                    "VALUES ($1, $2, $3, $4) RETURNING id",
                    arxiv_id, user_id, queued, seconds(at));
    if (!rows) return std::unexpected(rows.error());
    Submission submission;
    submission.id = rows->integer(0, 0);
    submission.arxiv_id = std::string(arxiv_id);
    submission.user_id = user_id;
    submission.queued = queued;
    submission.submitted_at = at;
    return submission;
  }

  Result<std::vector<Submission>> recent_submissions(size_t limit) override {
    auto rows = run("recent_submissions",
                    "SELECT s.id, s.arxiv_id, coalesce(s.user_id, 0), coalesce(u.name, ''), "
                    "s.queued, s.submitted_at FROM submissions s "
                    "LEFT JOIN users u ON u.id = s.user_id ORDER BY s.id DESC LIMIT $1",
                    limit);
    if (!rows) return std::unexpected(rows.error());
    std::vector<Submission> found;
    for (int row = 0; row < rows->size(); ++row) {
      found.push_back(Submission{rows->integer(row, 0), std::string(rows->text(row, 1)),
                                 rows->integer(row, 2), std::string(rows->text(row, 3)),
                                 rows->boolean(row, 4), instant(rows->integer(row, 5))});
    }
    return found;
  }

  Result<std::vector<FetchRequest>> fetch_queue() override {
    auto rows = run("fetch_queue",
                    "SELECT q.arxiv_id, coalesce(u.name, ''), q.requested_at "
                    "FROM fetch_queue q LEFT JOIN users u ON u.id = q.user_id "
                    "ORDER BY q.requested_at, q.arxiv_id");
    if (!rows) return std::unexpected(rows.error());
    std::vector<FetchRequest> found;
    for (int row = 0; row < rows->size(); ++row) {
      found.push_back(FetchRequest{std::string(rows->text(row, 0)), std::string(rows->text(row, 1)),
                                   instant(rows->integer(row, 2))});
    }
    return found;
  }

  Result<void> fetched(std::string_view arxiv_id) override {
    return done(run("fetched", "DELETE FROM fetch_queue WHERE arxiv_id = $1", arxiv_id));
  }

  Result<void> set_paper_hidden(std::string_view paper_id, bool hidden) override {
    auto connection = pool_.borrow();
    if (!connection) return std::unexpected(connection.error());
    auto row = paper_row(**connection, paper_id, /*lock=*/false);
    if (!row) return std::unexpected(row.error());
    if (hidden) {
      return done((*connection)
                      ->query_with("set_paper_hidden",
                                   "INSERT INTO hidden_papers (paper_row, hidden_at) VALUES ($1, "
                                   "$2) ON CONFLICT (paper_row) DO NOTHING",
                                   *row, seconds(now())));
    }
    return done((*connection)
                    ->query_with("set_paper_hidden",
                                 "DELETE FROM hidden_papers WHERE paper_row = $1", *row));
  }

  Result<std::vector<std::string>> hidden_papers() override {
    auto rows = run("hidden_papers",
                    "SELECT p.arxiv_id, p.title FROM hidden_papers h "
                    "JOIN papers p ON p.id = h.paper_row ORDER BY h.hidden_at, h.paper_row");
    if (!rows) return std::unexpected(rows.error());
    std::vector<std::string> found;
    for (int row = 0; row < rows->size(); ++row) found.push_back(paper_id_of(*rows, row, 0, 1));
    return found;
  }

 private:
  // One statement on a borrowed connection, in its own implicit transaction.
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

  template <class Value>
  Result<std::optional<User>> one_user(const std::string& sql, const Value& value) {
    auto rows = run("finding a user", sql, value);
    if (!rows) return std::unexpected(rows.error());
    if (rows->empty()) return std::optional<User>();
    return read_user(*rows, 0);
  }

  // Runs `change` in a transaction holding the collection's row lock, so concurrent edits of
  // one collection's order (from any node) apply one after the other.
  template <class Change>
  Result<void> in_collection(int64_t id, std::string_view what, Change&& change) {
    auto connection = pool_.borrow();
    if (!connection) return std::unexpected(connection.error());
    pg::Connection& c = **connection;
    auto transaction = pg::Transaction::begin(c);
    if (!transaction) return std::unexpected(transaction.error());
    if (auto locked = c.query_with(what, "SELECT 1 FROM collections WHERE id = $1 FOR UPDATE", id);
        !locked)
      return std::unexpected(locked.error());
    if (auto changed = change(c); !changed) return changed;
    return transaction->commit();
  }

  // The papers row of a paper id, locked FOR UPDATE when asked; fails naming the id when the
  // store does not hold it.
  static Result<int64_t> paper_row(pg::Connection& c, std::string_view id, bool lock) {
    std::optional<int64_t> found;
    if (id.starts_with("title-")) {
      auto rows = c.query("finding a paper",
                          "SELECT id, title FROM papers WHERE arxiv_id IS NULL ORDER BY id");
      if (!rows) return std::unexpected(rows.error());
      for (int row = 0; row < rows->size() && !found; ++row) {
        Paper paper;
        paper.title = rows->text(row, 1);
        if (paper_id(paper) == id) found = rows->integer(row, 0);
      }
    } else if (auto parsed = parse_arxiv_id(id)) {
      auto rows =
          c.query_with("finding a paper", "SELECT id FROM papers WHERE arxiv_id = $1", parsed->id);
      if (!rows) return std::unexpected(rows.error());
      if (!rows->empty()) found = rows->integer(0, 0);
    }
    if (!found) return fail(fmt::format("paper '{}' is not in the store", id));
    if (lock) {
      auto locked =
          c.query_with("locking a paper", "SELECT 1 FROM papers WHERE id = $1 FOR UPDATE", *found);
      if (!locked) return std::unexpected(locked.error());
    }
    return *found;
  }

  pg::Pool pool_;
};

}  // namespace

Result<std::unique_ptr<CommunityStore>> open_postgres_community_store(std::string_view url) {
  // Opening the paper store migrates the papers table, which the community tables refer to.
  if (auto papers = open_postgres_store(url); !papers) return std::unexpected(papers.error());
  auto connection = pg::Connection::open(url);
  if (!connection) return std::unexpected(connection.error());
  if (auto migrated = pg::migrate(**connection, "community", kCommunityMigrations); !migrated)
    return std::unexpected(migrated.error());
  return std::make_unique<PostgresCommunityStore>(std::string(url));
}

Result<std::unique_ptr<CommunityStore>> open_community_store(
    std::string_view locator, const std::filesystem::path& default_sqlite_path) {
  if (pg::is_postgres_url(locator)) return open_postgres_community_store(locator);
  return open_sqlite_community_store(locator.empty() ? default_sqlite_path
                                                     : std::filesystem::path(locator));
}

}  // namespace paperboy::store
