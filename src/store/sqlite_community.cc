// The SQLite backend of the community store, in the papers' database file (schema in
// kCommunitySchemaV1, applied by the store's migrations).
#include <fmt/format.h>
#include <sqlite3.h>

#include <algorithm>
#include <mutex>
#include <unordered_map>
#include <utility>

#include "core/arxiv_id.h"
#include "core/paper.h"
#include "store/community.h"
#include "store/community_schema.h"
#include "store/sqlite_access.h"
#include "store/store.h"

namespace paperboy::store {

const char kCommunitySchemaV1[] = R"sql(
ALTER TABLE papers ADD COLUMN local_upvotes INTEGER NOT NULL DEFAULT 0;
CREATE TABLE users (
  id INTEGER PRIMARY KEY,
  name TEXT NOT NULL UNIQUE COLLATE NOCASE,
  email TEXT NOT NULL UNIQUE COLLATE NOCASE,
  password_hash TEXT NOT NULL,
  role TEXT NOT NULL DEFAULT 'user' CHECK (role IN ('user', 'moderator', 'admin')),
  banned INTEGER NOT NULL DEFAULT 0,
  created_at INTEGER NOT NULL
);
CREATE TABLE sessions (
  token_hash TEXT PRIMARY KEY,
  user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
  csrf_token TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  expires_at INTEGER NOT NULL
) WITHOUT ROWID;
CREATE INDEX sessions_user ON sessions(user_id);
CREATE TABLE api_tokens (
  token_hash TEXT PRIMARY KEY,
  user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
  label TEXT NOT NULL,
  created_at INTEGER NOT NULL
) WITHOUT ROWID;
CREATE INDEX api_tokens_user ON api_tokens(user_id);
CREATE TABLE votes (
  user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
  paper_row INTEGER NOT NULL REFERENCES papers(id),
  created_at INTEGER NOT NULL,
  PRIMARY KEY (user_id, paper_row)
) WITHOUT ROWID;
CREATE INDEX votes_paper ON votes(paper_row);
CREATE TABLE comments (
  id INTEGER PRIMARY KEY,
  paper_row INTEGER NOT NULL REFERENCES papers(id),
  user_id INTEGER REFERENCES users(id) ON DELETE SET NULL,
  body TEXT NOT NULL,
  state INTEGER NOT NULL DEFAULT 0,
  created_at INTEGER NOT NULL,
  edited_at INTEGER
);
CREATE INDEX comments_paper ON comments(paper_row, id);
CREATE INDEX comments_user ON comments(user_id);
CREATE TABLE collections (
  id INTEGER PRIMARY KEY,
  user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
  name TEXT NOT NULL,
  description TEXT NOT NULL DEFAULT '',
  public INTEGER NOT NULL DEFAULT 0,
  created_at INTEGER NOT NULL
);
CREATE INDEX collections_user ON collections(user_id);
CREATE TABLE collection_items (
  collection_id INTEGER NOT NULL REFERENCES collections(id) ON DELETE CASCADE,
  paper_row INTEGER NOT NULL REFERENCES papers(id),
  position INTEGER NOT NULL,
  note TEXT NOT NULL DEFAULT '',
  added_at INTEGER NOT NULL,
  PRIMARY KEY (collection_id, paper_row)
) WITHOUT ROWID;
CREATE TABLE submissions (
  id INTEGER PRIMARY KEY,
  arxiv_id TEXT NOT NULL,
  user_id INTEGER REFERENCES users(id) ON DELETE SET NULL,
  queued INTEGER NOT NULL,
  submitted_at INTEGER NOT NULL
);
CREATE TABLE fetch_queue (
  arxiv_id TEXT PRIMARY KEY,
  user_id INTEGER REFERENCES users(id) ON DELETE SET NULL,
  requested_at INTEGER NOT NULL
) WITHOUT ROWID;
CREATE TABLE hidden_papers (
  paper_row INTEGER PRIMARY KEY REFERENCES papers(id),
  hidden_at INTEGER NOT NULL
);
)sql";

const char* role_name(Role role) {
  switch (role) {
    case Role::moderator:
      return "moderator";
    case Role::admin:
      return "admin";
    case Role::user:
      break;
  }
  return "user";
}

std::optional<Role> parse_role(std::string_view name) {
  for (Role role : {Role::user, Role::moderator, Role::admin})
    if (name == role_name(role)) return role;
  return std::nullopt;
}

namespace {

using std::chrono::sys_seconds;

sys_seconds now() {
  return std::chrono::floor<std::chrono::seconds>(std::chrono::system_clock::now());
}

using sqlite::Connection;
using sqlite::instant;
using sqlite::Query;
using sqlite::seconds;
using sqlite::Transaction;

constexpr const char* kUserColumns =
    "SELECT id, name, email, password_hash, role, banned, created_at FROM users ";

User read_user(const Query& query, int first = 0) {
  User user;
  user.id = query.integer(first);
  user.name = query.text(first + 1);
  user.email = query.text(first + 2);
  user.password_hash = query.text(first + 3);
  user.role = parse_role(query.text(first + 4)).value_or(Role::user);
  user.banned = query.integer(first + 5) != 0;
  user.created_at = instant(query.integer(first + 6));
  return user;
}

// The paper id shown in URLs for a stored row's arXiv id and title.
std::string paper_id_of(const Query& query, int arxiv_column, int title_column) {
  Paper paper;
  paper.arxiv_id = query.text(arxiv_column);
  paper.title = query.text(title_column);
  return paper_id(paper);
}

Comment read_comment(const Query& query) {
  Comment comment;
  comment.id = query.integer(0);
  comment.paper_id = paper_id_of(query, 1, 2);
  comment.author_id = query.integer(3);
  comment.author_name = query.text(4);
  comment.state = static_cast<CommentState>(query.integer(5));
  if (comment.state == CommentState::visible) comment.body = query.text(6);
  comment.created_at = instant(query.integer(7));
  if (!query.is_null(8)) comment.edited_at = instant(query.integer(8));
  return comment;
}

constexpr const char* kCommentColumns =
    "SELECT c.id, p.arxiv_id, p.title, coalesce(c.user_id, 0), coalesce(u.name, ''), c.state, "
    "c.body, c.created_at, c.edited_at FROM comments c JOIN papers p ON p.id = c.paper_row "
    "LEFT JOIN users u ON u.id = c.user_id ";

constexpr const char* kCollectionColumns =
    "SELECT c.id, c.user_id, u.name, c.name, c.description, c.public, c.created_at, "
    "(SELECT count(*) FROM collection_items i WHERE i.collection_id = c.id) "
    "FROM collections c JOIN users u ON u.id = c.user_id ";

Collection read_collection(const Query& query) {
  Collection collection;
  collection.id = query.integer(0);
  collection.owner_id = query.integer(1);
  collection.owner_name = query.text(2);
  collection.name = query.text(3);
  collection.description = query.text(4);
  collection.is_public = query.integer(5) != 0;
  collection.created_at = instant(query.integer(6));
  collection.item_count = query.integer(7);
  return collection;
}

// Every local vote change gives the paper a new change number, so the search index (which
// sorts by upvotes) catches up with votes as with imports.
constexpr const char* kCountVote =
    "UPDATE papers SET upvotes = upvotes + ?1, local_upvotes = local_upvotes + ?1, "
    "change_seq = (SELECT coalesce(max(change_seq), 0) + 1 FROM papers) WHERE id = ?2";

class SqliteCommunityStore final : public CommunityStore {
 public:
  SqliteCommunityStore(std::unique_ptr<Connection> writer, std::unique_ptr<Connection> reader)
      : writer_(std::move(writer)), reader_(std::move(reader)) {}

  Result<User> add_user(const NewUser& user) override {
    std::lock_guard lock(writer_->mutex());
    for (auto [column, value] : {std::pair{"name", &user.name}, std::pair{"email", &user.email}}) {
      const char* text = column == std::string_view("name")
                             ? "SELECT 1 FROM users WHERE name = ?1"
                             : "SELECT 1 FROM users WHERE email = ?1";
      auto query = Query::run(*writer_, text, *value);
      if (!query) return std::unexpected(query.error());
      auto taken = query->step("add_user");
      if (!taken) return std::unexpected(taken.error());
      if (*taken) return fail(fmt::format("{}: '{}' is already taken", column, *value));
    }
    const sys_seconds created = now();
    auto query = Query::run(*writer_,
                            "INSERT INTO users (name, email, password_hash, role, created_at) "
                            "VALUES (?1, ?2, ?3, ?4, ?5)",
                            user.name, user.email, user.password_hash, role_name(user.role),
                            seconds(created));
    if (!query) return std::unexpected(query.error());
    if (auto done = query->done("add_user"); !done) return std::unexpected(done.error());
    User added;
    added.id = sqlite3_last_insert_rowid(writer_->db());
    added.name = user.name;
    added.email = user.email;
    added.password_hash = user.password_hash;
    added.role = user.role;
    added.created_at = created;
    return added;
  }

  Result<std::optional<User>> find_user(std::string_view name) override {
    static const std::string text = std::string(kUserColumns) + "WHERE name = ?1";
    return one_user(text.c_str(), name);
  }

  Result<std::optional<User>> find_user_by_email(std::string_view email) override {
    static const std::string text = std::string(kUserColumns) + "WHERE email = ?1";
    return one_user(text.c_str(), email);
  }

  Result<std::optional<User>> user_by_id(int64_t id) override {
    static const std::string text = std::string(kUserColumns) + "WHERE id = ?1";
    return one_user(text.c_str(), id);
  }

  Result<std::vector<User>> users() override {
    static const std::string text = std::string(kUserColumns) + "ORDER BY name";
    std::lock_guard lock(reader_->mutex());
    auto query = Query::run(*reader_, text.c_str());
    if (!query) return std::unexpected(query.error());
    std::vector<User> found;
    for (;;) {
      auto row = query->step("users");
      if (!row) return std::unexpected(row.error());
      if (!*row) return found;
      found.push_back(read_user(*query));
    }
  }

  Result<void> set_password_hash(int64_t user_id, std::string_view password_hash) override {
    return write("UPDATE users SET password_hash = ?2 WHERE id = ?1", "set_password_hash", user_id,
                 password_hash);
  }

  Result<void> set_role(int64_t user_id, Role role) override {
    return write("UPDATE users SET role = ?2 WHERE id = ?1", "set_role", user_id, role_name(role));
  }

  Result<void> set_banned(int64_t user_id, bool banned) override {
    std::lock_guard lock(writer_->mutex());
    auto transaction = Transaction::begin(*writer_);
    if (!transaction) return std::unexpected(transaction.error());
    if (auto done = run(*writer_, "UPDATE users SET banned = ?2 WHERE id = ?1", "set_banned",
                        user_id, banned);
        !done)
      return done;
    if (banned) {
      if (auto done =
              run(*writer_, "DELETE FROM sessions WHERE user_id = ?1", "set_banned", user_id);
          !done)
        return done;
      if (auto done =
              run(*writer_, "DELETE FROM api_tokens WHERE user_id = ?1", "set_banned", user_id);
          !done)
        return done;
    }
    return transaction->commit();
  }

  Result<bool> remove_user(std::string_view name) override {
    std::lock_guard lock(writer_->mutex());
    auto transaction = Transaction::begin(*writer_);
    if (!transaction) return std::unexpected(transaction.error());
    int64_t id = 0;
    {
      auto query = Query::run(*writer_, "SELECT id FROM users WHERE name = ?1", name);
      if (!query) return std::unexpected(query.error());
      auto row = query->step("remove_user");
      if (!row) return std::unexpected(row.error());
      if (!*row) return false;
      id = query->integer(0);
    }
    for (const char* text :
         {"UPDATE papers SET upvotes = upvotes - 1, local_upvotes = local_upvotes - 1, "
          "change_seq = (SELECT coalesce(max(change_seq), 0) + 1 FROM papers) "
          "WHERE id IN (SELECT paper_row FROM votes WHERE user_id = ?1)",
          "UPDATE comments SET state = 1, body = '' WHERE user_id = ?1",
          "DELETE FROM users WHERE id = ?1"}) {
      if (auto done = run(*writer_, text, "remove_user", id); !done)
        return std::unexpected(done.error());
    }
    if (auto committed = transaction->commit(); !committed)
      return std::unexpected(committed.error());
    return true;
  }

  Result<void> add_session(std::string_view token_hash, int64_t user_id,
                           std::string_view csrf_token, sys_seconds expires_at) override {
    return write(
        "INSERT INTO sessions (token_hash, user_id, csrf_token, created_at, expires_at) "
        "VALUES (?1, ?2, ?3, ?4, ?5)",
        "add_session", token_hash, user_id, csrf_token, seconds(now()), seconds(expires_at));
  }

  Result<std::optional<SessionUser>> find_session(std::string_view token_hash,
                                                  sys_seconds at) override {
    static const std::string text =
        "SELECT u.id, u.name, u.email, u.password_hash, u.role, u.banned, u.created_at, "
        "s.csrf_token, s.expires_at FROM sessions s JOIN users u ON u.id = s.user_id "
        "WHERE s.token_hash = ?1";
    std::optional<SessionUser> found;
    {
      std::lock_guard lock(reader_->mutex());
      auto query = Query::run(*reader_, text.c_str(), token_hash);
      if (!query) return std::unexpected(query.error());
      auto row = query->step("find_session");
      if (!row) return std::unexpected(row.error());
      if (!*row) return found;
      found = SessionUser{read_user(*query), query->text(7), instant(query->integer(8))};
    }
    if (found->expires_at > at && !found->user.banned) return found;
    if (auto removed = remove_session(token_hash); !removed)
      return std::unexpected(removed.error());
    return std::optional<SessionUser>();
  }

  Result<void> remove_session(std::string_view token_hash) override {
    return write("DELETE FROM sessions WHERE token_hash = ?1", "remove_session", token_hash);
  }

  Result<void> remove_sessions_of(int64_t user_id, std::string_view keep_token_hash) override {
    return write("DELETE FROM sessions WHERE user_id = ?1 AND token_hash <> ?2",
                 "remove_sessions_of", user_id, keep_token_hash);
  }

  Result<void> add_api_token(std::string_view token_hash, int64_t user_id,
                             std::string_view label) override {
    return write(
        "INSERT INTO api_tokens (token_hash, user_id, label, created_at) VALUES (?1, ?2, ?3, ?4)",
        "add_api_token", token_hash, user_id, label, seconds(now()));
  }

  Result<std::optional<User>> find_api_token(std::string_view token_hash) override {
    static const std::string text =
        "SELECT u.id, u.name, u.email, u.password_hash, u.role, u.banned, u.created_at "
        "FROM api_tokens t JOIN users u ON u.id = t.user_id WHERE t.token_hash = ?1 "
        "AND u.banned = 0";
    return one_user(text.c_str(), token_hash);
  }

  Result<VoteOutcome> toggle_vote(int64_t user_id, std::string_view paper_id) override {
    std::lock_guard lock(writer_->mutex());
    auto transaction = Transaction::begin(*writer_);
    if (!transaction) return std::unexpected(transaction.error());
    auto row = paper_row(*writer_, paper_id);
    if (!row) return std::unexpected(row.error());
    if (auto done = run(*writer_, "DELETE FROM votes WHERE user_id = ?1 AND paper_row = ?2",
                        "toggle_vote", user_id, *row);
        !done)
      return std::unexpected(done.error());
    VoteOutcome outcome;
    outcome.voted = sqlite3_changes(writer_->db()) == 0;
    if (outcome.voted) {
      if (auto done = run(*writer_,
                          "INSERT INTO votes (user_id, paper_row, created_at) VALUES (?1, ?2, ?3)",
                          "toggle_vote", user_id, *row, seconds(now()));
          !done)
        return std::unexpected(done.error());
    }
    if (auto done = run(*writer_, kCountVote, "toggle_vote", int64_t{outcome.voted ? 1 : -1}, *row);
        !done)
      return std::unexpected(done.error());
    {
      auto count = Query::run(*writer_, "SELECT upvotes FROM papers WHERE id = ?1", *row);
      if (!count) return std::unexpected(count.error());
      if (auto stepped = count->step("toggle_vote"); !stepped)
        return std::unexpected(stepped.error());
      outcome.upvotes = count->integer(0);
    }
    if (auto committed = transaction->commit(); !committed)
      return std::unexpected(committed.error());
    return outcome;
  }

  Result<std::vector<std::string>> voted_papers(
      int64_t user_id, const std::vector<std::string>& paper_ids) override {
    std::lock_guard lock(reader_->mutex());
    std::vector<std::string> voted;
    for (const std::string& id : paper_ids) {
      auto row = paper_row(*reader_, id);
      if (!row) continue;  // not in the store: not voted for
      auto query = Query::run(*reader_, "SELECT 1 FROM votes WHERE user_id = ?1 AND paper_row = ?2",
                              user_id, *row);
      if (!query) return std::unexpected(query.error());
      auto found = query->step("voted_papers");
      if (!found) return std::unexpected(found.error());
      if (*found) voted.push_back(id);
    }
    return voted;
  }

  Result<std::vector<std::string>> votes_of(int64_t user_id, size_t limit) override {
    std::lock_guard lock(reader_->mutex());
    auto query = Query::run(*reader_,
                            "SELECT p.arxiv_id, p.title FROM votes v JOIN papers p ON p.id = "
                            "v.paper_row WHERE v.user_id = ?1 ORDER BY v.created_at DESC, "
                            "v.paper_row DESC LIMIT ?2",
                            user_id, static_cast<int64_t>(limit));
    if (!query) return std::unexpected(query.error());
    std::vector<std::string> ids;
    for (;;) {
      auto row = query->step("votes_of");
      if (!row) return std::unexpected(row.error());
      if (!*row) return ids;
      ids.push_back(paper_id_of(*query, 0, 1));
    }
  }

  Result<Comment> add_comment(std::string_view paper_id, int64_t author_id,
                              std::string_view body) override {
    int64_t id = 0;
    {
      std::lock_guard lock(writer_->mutex());
      auto row = paper_row(*writer_, paper_id);
      if (!row) return std::unexpected(row.error());
      if (auto done = run(*writer_,
                          "INSERT INTO comments (paper_row, user_id, body, created_at) "
                          "VALUES (?1, ?2, ?3, ?4)",
                          "add_comment", *row, author_id, body, seconds(now()));
          !done)
        return std::unexpected(done.error());
      id = sqlite3_last_insert_rowid(writer_->db());
    }
    auto added = find_comment(id);
    if (!added) return std::unexpected(added.error());
    if (!*added) return fail(fmt::format("add_comment: comment {} vanished", id));
    return **added;
  }

  Result<std::optional<Comment>> find_comment(int64_t id) override {
    static const std::string text = std::string(kCommentColumns) + "WHERE c.id = ?1";
    std::lock_guard lock(reader_->mutex());
    auto query = Query::run(*reader_, text.c_str(), id);
    if (!query) return std::unexpected(query.error());
    auto row = query->step("find_comment");
    if (!row) return std::unexpected(row.error());
    if (!*row) return std::optional<Comment>();
    return read_comment(*query);
  }

  Result<std::vector<Comment>> comments_on(std::string_view paper_id) override {
    static const std::string text =
        std::string(kCommentColumns) + "WHERE c.paper_row = ?1 ORDER BY c.id";
    std::lock_guard lock(reader_->mutex());
    std::vector<Comment> comments;
    auto row = paper_row(*reader_, paper_id);
    if (!row) return comments;
    auto query = Query::run(*reader_, text.c_str(), *row);
    if (!query) return std::unexpected(query.error());
    for (;;) {
      auto next = query->step("comments_on");
      if (!next) return std::unexpected(next.error());
      if (!*next) return comments;
      comments.push_back(read_comment(*query));
    }
  }

  Result<void> edit_comment(int64_t id, std::string_view body) override {
    return write("UPDATE comments SET body = ?2, edited_at = ?3 WHERE id = ?1 AND state = 0",
                 "edit_comment", id, body, seconds(now()));
  }

  Result<void> remove_comment(int64_t id, CommentState why) override {
    return write("UPDATE comments SET state = ?2, body = '' WHERE id = ?1", "remove_comment", id,
                 static_cast<int64_t>(why));
  }

  Result<int64_t> comment_count(std::string_view paper_id) override {
    std::lock_guard lock(reader_->mutex());
    auto row = paper_row(*reader_, paper_id);
    if (!row) return 0;
    auto query = Query::run(
        *reader_, "SELECT count(*) FROM comments WHERE paper_row = ?1 AND state = 0", *row);
    if (!query) return std::unexpected(query.error());
    if (auto stepped = query->step("comment_count"); !stepped)
      return std::unexpected(stepped.error());
    return query->integer(0);
  }

  Result<Collection> create_collection(int64_t owner_id, std::string_view name,
                                       std::string_view description, bool is_public) override {
    int64_t id = 0;
    {
      std::lock_guard lock(writer_->mutex());
      if (auto done =
              run(*writer_,
                  "INSERT INTO collections (user_id, name, description, public, created_at) "
                  "VALUES (?1, ?2, ?3, ?4, ?5)",
                  "create_collection", owner_id, name, description, is_public, seconds(now()));
          !done)
        return std::unexpected(done.error());
      id = sqlite3_last_insert_rowid(writer_->db());
    }
    auto created = find_collection(id);
    if (!created) return std::unexpected(created.error());
    if (!*created) return fail(fmt::format("create_collection: collection {} vanished", id));
    return **created;
  }

  Result<std::optional<Collection>> find_collection(int64_t id) override {
    static const std::string text = std::string(kCollectionColumns) + "WHERE c.id = ?1";
    std::lock_guard lock(reader_->mutex());
    auto query = Query::run(*reader_, text.c_str(), id);
    if (!query) return std::unexpected(query.error());
    auto row = query->step("find_collection");
    if (!row) return std::unexpected(row.error());
    if (!*row) return std::optional<Collection>();
    return read_collection(*query);
  }

  Result<std::vector<Collection>> collections_of(int64_t owner_id) override {
    static const std::string text =
        std::string(kCollectionColumns) + "WHERE c.user_id = ?1 ORDER BY c.name, c.id";
    std::lock_guard lock(reader_->mutex());
    auto query = Query::run(*reader_, text.c_str(), owner_id);
    if (!query) return std::unexpected(query.error());
    std::vector<Collection> found;
    for (;;) {
      auto row = query->step("collections_of");
      if (!row) return std::unexpected(row.error());
      if (!*row) return found;
      found.push_back(read_collection(*query));
    }
  }

  Result<void> update_collection(int64_t id, std::string_view name, std::string_view description,
                                 bool is_public) override {
    return write("UPDATE collections SET name = ?2, description = ?3, public = ?4 WHERE id = ?1",
                 "update_collection", id, name, description, is_public);
  }

  Result<void> delete_collection(int64_t id) override {
    return write("DELETE FROM collections WHERE id = ?1", "delete_collection", id);
  }

  Result<void> put_in_collection(int64_t id, std::string_view paper_id,
                                 std::string_view note) override {
    std::lock_guard lock(writer_->mutex());
    auto row = paper_row(*writer_, paper_id);
    if (!row) return std::unexpected(row.error());
    return run(*writer_,
               "INSERT INTO collection_items (collection_id, paper_row, position, note, added_at) "
               "VALUES (?1, ?2, (SELECT coalesce(max(position), 0) + 1 FROM collection_items "
               "WHERE collection_id = ?1), ?3, ?4) "
               "ON CONFLICT (collection_id, paper_row) DO UPDATE SET note = excluded.note",
               "put_in_collection", id, *row, note, seconds(now()));
  }

  Result<bool> remove_from_collection(int64_t id, std::string_view paper_id) override {
    std::lock_guard lock(writer_->mutex());
    auto row = paper_row(*writer_, paper_id);
    if (!row) return false;
    auto transaction = Transaction::begin(*writer_);
    if (!transaction) return std::unexpected(transaction.error());
    auto position = item_position(id, *row);
    if (!position) return std::unexpected(position.error());
    if (!*position) return false;
    if (auto done = run(*writer_,
                        "DELETE FROM collection_items WHERE collection_id = ?1 AND paper_row = ?2",
                        "remove_from_collection", id, *row);
        !done)
      return std::unexpected(done.error());
    if (auto done = run(*writer_,
                        "UPDATE collection_items SET position = position - 1 "
                        "WHERE collection_id = ?1 AND position > ?2",
                        "remove_from_collection", id, **position);
        !done)
      return std::unexpected(done.error());
    if (auto committed = transaction->commit(); !committed)
      return std::unexpected(committed.error());
    return true;
  }

  Result<void> move_in_collection(int64_t id, std::string_view paper_id,
                                  int64_t position) override {
    std::lock_guard lock(writer_->mutex());
    auto row = paper_row(*writer_, paper_id);
    if (!row) return std::unexpected(row.error());
    auto transaction = Transaction::begin(*writer_);
    if (!transaction) return std::unexpected(transaction.error());
    auto from = item_position(id, *row);
    if (!from) return std::unexpected(from.error());
    if (!*from) return fail(fmt::format("paper '{}' is not in collection {}", paper_id, id));
    int64_t items = 0;
    {
      auto count = Query::run(*writer_,
                              "SELECT count(*) FROM collection_items WHERE collection_id = ?1", id);
      if (!count) return std::unexpected(count.error());
      if (auto stepped = count->step("move_in_collection"); !stepped)
        return std::unexpected(stepped.error());
      items = count->integer(0);
    }
    const int64_t to = std::clamp<int64_t>(position, 1, items);
    // Shift the items between the old and new place by one, then drop the paper in.
    const char* shift = to < **from
                            ? "UPDATE collection_items SET position = position + 1 "
                              "WHERE collection_id = ?1 AND position >= ?2 AND position < ?3"
                            : "UPDATE collection_items SET position = position - 1 "
                              "WHERE collection_id = ?1 AND position > ?3 AND position <= ?2";
    if (auto done = run(*writer_, shift, "move_in_collection", id, to, **from); !done)
      return std::unexpected(done.error());
    if (auto done = run(*writer_,
                        "UPDATE collection_items SET position = ?3 "
                        "WHERE collection_id = ?1 AND paper_row = ?2",
                        "move_in_collection", id, *row, to);
        !done)
      return std::unexpected(done.error());
    return transaction->commit();
  }

  Result<std::vector<CollectionItem>> collection_items(int64_t id) override {
    std::lock_guard lock(reader_->mutex());
    auto query =
        Query::run(*reader_,
                   "SELECT p.arxiv_id, p.title, i.note, i.position FROM collection_items i "
                   "JOIN papers p ON p.id = i.paper_row WHERE i.collection_id = ?1 "
                   "ORDER BY i.position",
                   id);
    if (!query) return std::unexpected(query.error());
    std::vector<CollectionItem> items;
    for (;;) {
      auto row = query->step("collection_items");
      if (!row) return std::unexpected(row.error());
      if (!*row) return items;
      items.push_back(CollectionItem{paper_id_of(*query, 0, 1), query->text(1), query->text(2),
                                     query->integer(3)});
    }
  }

  Result<Submission> record_submission(std::string_view arxiv_id, int64_t user_id,
                                       bool queued) override {
    std::lock_guard lock(writer_->mutex());
    auto transaction = Transaction::begin(*writer_);
    if (!transaction) return std::unexpected(transaction.error());
    const sys_seconds at = now();
    if (auto done = run(*writer_,
                        "INSERT INTO submissions (arxiv_id, user_id, queued, submitted_at) "
                        "VALUES (?1, ?2, ?3, ?4)",
                        "record_submission", arxiv_id, user_id, queued, seconds(at));
        !done)
      return std::unexpected(done.error());
    Submission submission;
    submission.id = sqlite3_last_insert_rowid(writer_->db());
    if (queued) {
      if (auto done = run(*writer_,
                          "INSERT INTO fetch_queue (arxiv_id, user_id, requested_at) "
                          "VALUES (?1, ?2, ?3) ON CONFLICT (arxiv_id) DO NOTHING",
                          "record_submission", arxiv_id, user_id, seconds(at));
          !done)
        return std::unexpected(done.error());
    }
    if (auto committed = transaction->commit(); !committed)
      return std::unexpected(committed.error());
    submission.arxiv_id = std::string(arxiv_id);
    submission.user_id = user_id;
    submission.queued = queued;
    submission.submitted_at = at;
    return submission;
  }

  Result<std::vector<Submission>> recent_submissions(size_t limit) override {
    std::lock_guard lock(reader_->mutex());
    auto query =
        Query::run(*reader_,
                   "SELECT s.id, s.arxiv_id, coalesce(s.user_id, 0), coalesce(u.name, ''), "
                   "s.queued, s.submitted_at FROM submissions s "
                   "LEFT JOIN users u ON u.id = s.user_id ORDER BY s.id DESC LIMIT ?1",
                   static_cast<int64_t>(limit));
    if (!query) return std::unexpected(query.error());
    std::vector<Submission> found;
    for (;;) {
      auto row = query->step("recent_submissions");
      if (!row) return std::unexpected(row.error());
      if (!*row) return found;
      found.push_back(Submission{query->integer(0), query->text(1), query->integer(2),
                                 query->text(3), query->integer(4) != 0,
                                 instant(query->integer(5))});
    }
  }

  Result<std::vector<FetchRequest>> fetch_queue() override {
    std::lock_guard lock(reader_->mutex());
    auto query = Query::run(*reader_,
                            "SELECT q.arxiv_id, coalesce(u.name, ''), q.requested_at "
                            "FROM fetch_queue q LEFT JOIN users u ON u.id = q.user_id "
                            "ORDER BY q.requested_at, q.arxiv_id");
    if (!query) return std::unexpected(query.error());
    std::vector<FetchRequest> found;
    for (;;) {
      auto row = query->step("fetch_queue");
      if (!row) return std::unexpected(row.error());
      if (!*row) return found;
      found.push_back(FetchRequest{query->text(0), query->text(1), instant(query->integer(2))});
    }
  }

  Result<void> fetched(std::string_view arxiv_id) override {
    return write("DELETE FROM fetch_queue WHERE arxiv_id = ?1", "fetched", arxiv_id);
  }

  Result<void> set_paper_hidden(std::string_view paper_id, bool hidden) override {
    std::lock_guard lock(writer_->mutex());
    auto row = paper_row(*writer_, paper_id);
    if (!row) return std::unexpected(row.error());
    if (hidden) {
      return run(*writer_,
                 "INSERT INTO hidden_papers (paper_row, hidden_at) VALUES (?1, ?2) "
                 "ON CONFLICT (paper_row) DO NOTHING",
                 "set_paper_hidden", *row, seconds(now()));
    }
    return run(*writer_, "DELETE FROM hidden_papers WHERE paper_row = ?1", "set_paper_hidden",
               *row);
  }

  Result<std::vector<std::string>> hidden_papers() override {
    std::lock_guard lock(reader_->mutex());
    auto query = Query::run(*reader_,
                            "SELECT p.arxiv_id, p.title FROM hidden_papers h "
                            "JOIN papers p ON p.id = h.paper_row ORDER BY h.hidden_at");
    if (!query) return std::unexpected(query.error());
    std::vector<std::string> found;
    for (;;) {
      auto row = query->step("hidden_papers");
      if (!row) return std::unexpected(row.error());
      if (!*row) return found;
      found.push_back(paper_id_of(*query, 0, 1));
    }
  }

  Result<std::optional<std::chrono::sys_seconds>> record_visit(int64_t user_id,
                                                               std::chrono::sys_seconds now,
                                                               std::chrono::seconds gap) override {
    std::lock_guard lock(writer_->mutex());
    // SET expressions read the row as it was, so seen_before takes the old last_seen.
    auto query = Query::run(*writer_,
                            "INSERT INTO user_visits (user_id, last_seen, seen_before) "
                            "VALUES (?1, ?2, NULL) ON CONFLICT (user_id) DO UPDATE SET "
                            "seen_before = CASE WHEN ?2 - last_seen >= ?3 THEN last_seen "
                            "ELSE seen_before END, last_seen = max(last_seen, ?2) "
                            "RETURNING seen_before",
                            user_id, seconds(now), static_cast<int64_t>(gap.count()));
    if (!query) return std::unexpected(query.error());
    auto row = query->step("record_visit");
    if (!row) return std::unexpected(row.error());
    if (!*row || query->is_null(0)) return std::optional<std::chrono::sys_seconds>();
    return std::optional(instant(query->integer(0)));
  }

 private:
  template <class... Values>
  static Result<void> run(Connection& connection, const char* text, std::string_view what,
                          const Values&... values) {
    auto query = Query::run(connection, text, values...);
    if (!query) return std::unexpected(query.error());
    return query->done(what);
  }

  // One statement on the writer, in its own implicit transaction.
  template <class... Values>
  Result<void> write(const char* text, std::string_view what, const Values&... values) {
    std::lock_guard lock(writer_->mutex());
    return run(*writer_, text, what, values...);
  }

  template <class Value>
  Result<std::optional<User>> one_user(const char* text, const Value& value) {
    std::lock_guard lock(reader_->mutex());
    auto query = Query::run(*reader_, text, value);
    if (!query) return std::unexpected(query.error());
    auto row = query->step("finding a user");
    if (!row) return std::unexpected(row.error());
    if (!*row) return std::optional<User>();
    return read_user(*query);
  }

  // The papers row of a paper id; fails naming the id when the store does not hold it.
  // REQUIRES: the connection's mutex held.
  static Result<int64_t> paper_row(Connection& connection, std::string_view id) {
    if (id.starts_with("title-")) {
      auto query = Query::run(connection,
                              "SELECT id, title FROM papers INDEXED BY papers_title_only "
                              "WHERE arxiv_id IS NULL");
      if (!query) return std::unexpected(query.error());
      for (;;) {
        auto row = query->step("finding a paper");
        if (!row) return std::unexpected(row.error());
        if (!*row) break;
        Paper paper;
        paper.title = query->text(1);
        if (paper_id(paper) == id) return query->integer(0);
      }
    } else if (auto parsed = parse_arxiv_id(id)) {
      auto query = Query::run(connection, "SELECT id FROM papers WHERE arxiv_id = ?1", parsed->id);
      if (!query) return std::unexpected(query.error());
      auto row = query->step("finding a paper");
      if (!row) return std::unexpected(row.error());
      if (*row) return query->integer(0);
    }
    return fail(fmt::format("paper '{}' is not in the store", id));
  }

  // REQUIRES: writer mutex held.
  Result<std::optional<int64_t>> item_position(int64_t collection, int64_t row) {
    auto query = Query::run(*writer_,
                            "SELECT position FROM collection_items "
                            "WHERE collection_id = ?1 AND paper_row = ?2",
                            collection, row);
    if (!query) return std::unexpected(query.error());
    auto found = query->step("collection position");
    if (!found) return std::unexpected(found.error());
    if (!*found) return std::optional<int64_t>();
    return query->integer(0);
  }

  std::unique_ptr<Connection> writer_;
  std::unique_ptr<Connection> reader_;
};

}  // namespace

Result<std::unique_ptr<CommunityStore>> open_sqlite_community_store(
    const std::filesystem::path& path) {
  // Opening the paper store creates the file and applies every migration, the community
  // tables included.
  if (auto papers = open_sqlite_store(path); !papers) return std::unexpected(papers.error());
  auto writer = Connection::open(path.string(), /*read_only=*/false);
  if (!writer) return std::unexpected(writer.error());
  // Visit times are a cache of activity, not records worth a schema version: made on first use.
  if (auto made =
          (*writer)->exec("CREATE TABLE IF NOT EXISTS user_visits ("
                          "user_id INTEGER PRIMARY KEY REFERENCES users(id) ON DELETE CASCADE, "
                          "last_seen INTEGER NOT NULL, seen_before INTEGER)",
                          "creating user_visits");
      !made)
    return std::unexpected(made.error());
  auto reader = Connection::open(path.string(), /*read_only=*/true);
  if (!reader) return std::unexpected(reader.error());
  return std::make_unique<SqliteCommunityStore>(std::move(*writer), std::move(*reader));
}

}  // namespace paperboy::store
