// The community half of the store: accounts, sessions, API tokens, upvotes, comments,
// collections, submissions and moderation. Like Store, this is the system of record and other
// backends implement the same interface; the SQLite one shares the papers' database file.
//
// Papers are named by paper_id() ("2312.00752", "title-..."), and the store keeps them by their
// row, so votes, comments and collection items follow a title-only paper when an arXiv record
// adopts it. A paper's upvotes (as Store returns them) are its imported upvotes plus the local
// votes: a vote changes both atomically, and re-imports merge against the imported part only.
//
// Secrets never reach the store in the clear: sessions and API tokens are kept by a hash of
// the token, passwords as an argon2id encoding. Authorisation (who may edit what) is the
// caller's; the store does what it is asked and reports what it found.
#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.h"

namespace paperboy::store {

enum class Role { user, moderator, admin };

// "user", "moderator", "admin".
const char* role_name(Role role);
std::optional<Role> parse_role(std::string_view name);

struct User {
  int64_t id = 0;
  std::string name;           // unique, compared without case
  std::string email;          // unique, compared without case
  std::string password_hash;  // argon2id encoded string
  Role role = Role::user;
  bool banned = false;
  std::chrono::sys_seconds created_at{};
};

struct NewUser {
  std::string name;
  std::string email;
  std::string password_hash;
  Role role = Role::user;
};

// The signed-in user behind a session, and the session's CSRF token.
struct SessionUser {
  User user;
  std::string csrf_token;
  std::chrono::sys_seconds expires_at{};
};

struct VoteOutcome {
  bool voted = false;   // whether the user's vote stands after the toggle
  int64_t upvotes = 0;  // the paper's upvotes (imported + local) after the toggle
};

enum class CommentState { visible, deleted_by_author, removed_by_moderator };

struct Comment {
  int64_t id = 0;
  std::string paper_id;
  int64_t author_id = 0;    // 0 once the author's account is removed
  std::string author_name;  // empty once the author's account is removed
  std::string body;         // Markdown source; empty unless visible
  CommentState state = CommentState::visible;
  std::chrono::sys_seconds created_at{};
  std::optional<std::chrono::sys_seconds> edited_at;
};

struct Collection {
  int64_t id = 0;
  int64_t owner_id = 0;
  std::string owner_name;
  std::string name;
  std::string description;
  bool is_public = false;
  int64_t item_count = 0;
  std::chrono::sys_seconds created_at{};
};

struct CollectionItem {
  std::string paper_id;
  std::string title;
  std::string note;      // the owner's note on this paper
  int64_t position = 0;  // 1-based order in the collection
};

struct Submission {
  int64_t id = 0;
  std::string arxiv_id;
  int64_t user_id = 0;
  std::string user_name;
  bool queued = false;  // the paper was not in the store: waiting in the fetch queue
  std::chrono::sys_seconds submitted_at{};
};

// A paper someone asked for that the store does not hold yet (for the sync job to fetch).
struct FetchRequest {
  std::string arxiv_id;
  std::string requested_by;
  std::chrono::sys_seconds requested_at{};
};

class CommunityStore {
 public:
  virtual ~CommunityStore() = default;

  // Users. add_user fails, naming the field, when the name or email is taken.
  virtual Result<User> add_user(const NewUser& user) = 0;
  virtual Result<std::optional<User>> find_user(std::string_view name) = 0;
  virtual Result<std::optional<User>> find_user_by_email(std::string_view email) = 0;
  virtual Result<std::optional<User>> user_by_id(int64_t id) = 0;
  virtual Result<std::vector<User>> users() = 0;  // by name
  virtual Result<void> set_password_hash(int64_t user_id, std::string_view password_hash) = 0;
  virtual Result<void> set_role(int64_t user_id, Role role) = 0;
  // Banning also ends the user's sessions and revokes their API tokens.
  virtual Result<void> set_banned(int64_t user_id, bool banned) = 0;
  // Deletes the account with its sessions, tokens, collections and votes (the papers' upvotes
  // drop accordingly); its comments stay, as deleted, so threads keep their shape. False when
  // no such user.
  virtual Result<bool> remove_user(std::string_view name) = 0;

  // Sessions, by the hash of their token. An expired session is not found (and is deleted).
  virtual Result<void> add_session(std::string_view token_hash, int64_t user_id,
                                   std::string_view csrf_token,
                                   std::chrono::sys_seconds expires_at) = 0;
  virtual Result<std::optional<SessionUser>> find_session(std::string_view token_hash,
                                                          std::chrono::sys_seconds now) = 0;
  virtual Result<void> remove_session(std::string_view token_hash) = 0;
  // Ends every session of the user except `keep_token_hash` (empty: all of them).
  virtual Result<void> remove_sessions_of(int64_t user_id, std::string_view keep_token_hash) = 0;

  // Per-user API tokens, by the hash of the token; `label` says what the token is for.
  virtual Result<void> add_api_token(std::string_view token_hash, int64_t user_id,
                                     std::string_view label) = 0;
  virtual Result<std::optional<User>> find_api_token(std::string_view token_hash) = 0;

  // Votes: one per user per paper. toggle_vote adds the user's vote or takes it back, in one
  // transaction with the paper's count, so concurrent toggles count exactly. Fails when the
  // paper is not in the store.
  virtual Result<VoteOutcome> toggle_vote(int64_t user_id, std::string_view paper_id) = 0;
  // Which of `paper_ids` the user has voted for.
  virtual Result<std::vector<std::string>> voted_papers(
      int64_t user_id, const std::vector<std::string>& paper_ids) = 0;
  // The papers the user has voted for, most recent vote first, at most `limit` (recommendations
  // learn from them).
  virtual Result<std::vector<std::string>> votes_of(int64_t user_id, size_t limit) = 0;

  // Comments, oldest first. The paper must be in the store.
  virtual Result<Comment> add_comment(std::string_view paper_id, int64_t author_id,
                                      std::string_view body) = 0;
  virtual Result<std::optional<Comment>> find_comment(int64_t id) = 0;
  virtual Result<std::vector<Comment>> comments_on(std::string_view paper_id) = 0;
  virtual Result<void> edit_comment(int64_t id, std::string_view body) = 0;
  virtual Result<void> remove_comment(int64_t id, CommentState why) = 0;
  // Visible comments per paper, for the counts on cards.
  virtual Result<int64_t> comment_count(std::string_view paper_id) = 0;

  // Collections, ordered items with notes.
  virtual Result<Collection> create_collection(int64_t owner_id, std::string_view name,
                                               std::string_view description, bool is_public) = 0;
  virtual Result<std::optional<Collection>> find_collection(int64_t id) = 0;
  virtual Result<std::vector<Collection>> collections_of(int64_t owner_id) = 0;
  virtual Result<void> update_collection(int64_t id, std::string_view name,
                                         std::string_view description, bool is_public) = 0;
  virtual Result<void> delete_collection(int64_t id) = 0;
  // Appends the paper, or updates its note when it is already in the collection.
  virtual Result<void> put_in_collection(int64_t id, std::string_view paper_id,
                                         std::string_view note) = 0;
  virtual Result<bool> remove_from_collection(int64_t id, std::string_view paper_id) = 0;
  // Moves the paper to `position` (1-based, clamped), shifting the others.
  virtual Result<void> move_in_collection(int64_t id, std::string_view paper_id,
                                          int64_t position) = 0;
  virtual Result<std::vector<CollectionItem>> collection_items(int64_t id) = 0;

  // Submissions: who put which paper into the feed, or asked for one the store lacks (which
  // also enters the fetch queue).
  virtual Result<Submission> record_submission(std::string_view arxiv_id, int64_t user_id,
                                               bool queued) = 0;
  virtual Result<std::vector<Submission>> recent_submissions(size_t limit) = 0;
  virtual Result<std::vector<FetchRequest>> fetch_queue() = 0;
  // The sync job calls this once it has stored the paper.
  virtual Result<void> fetched(std::string_view arxiv_id) = 0;

  // Visits, for the "new" badges of papers that came since a user's last visit: records that
  // the user is active at `now` and returns when their previous visit ended. A visit lasts
  // while requests come less than `gap` apart. nullopt on a user's first visit (nothing is new).
  virtual Result<std::optional<std::chrono::sys_seconds>> record_visit(
      int64_t user_id, std::chrono::sys_seconds now, std::chrono::seconds gap) = 0;

  // Moderation: hidden papers are left out of feeds and lists.
  virtual Result<void> set_paper_hidden(std::string_view paper_id, bool hidden) = 0;
  virtual Result<std::vector<std::string>> hidden_papers() = 0;
};

// Opens the community tables of the SQLite store at `path`, creating and migrating the store
// first when needed. Safe to use from several threads; writes serialise on one connection.
Result<std::unique_ptr<CommunityStore>> open_sqlite_community_store(
    const std::filesystem::path& path);

// Opens the community tables in the PostgreSQL database at `url` (postgres://...), migrating
// the papers' schema and then this one when needed. Safe to use from several threads and from
// several processes (nodes) at once: each call borrows a pooled connection.
Result<std::unique_ptr<CommunityStore>> open_postgres_community_store(std::string_view url);

// The community store beside the papers store a locator names (see open_store in store.h):
// PostgreSQL for postgres:// and postgresql:// URLs, else the SQLite file at `locator`, or at
// `default_sqlite_path` when `locator` is empty.
Result<std::unique_ptr<CommunityStore>> open_community_store(
    std::string_view locator, const std::filesystem::path& default_sqlite_path);

}  // namespace paperboy::store
