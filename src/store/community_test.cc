#include "store/community.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <atomic>
#include <thread>

#include "store/pg_test_database.h"
#include "store/store.h"

namespace paperboy::store {
namespace {

namespace fs = std::filesystem;
using std::chrono::sys_seconds;

class TempDir {
 public:
  TempDir() {
    std::string pattern = (fs::temp_directory_path() / "paperboy-community-XXXXXX").string();
    path_ = mkdtemp(pattern.data());
  }
  ~TempDir() { fs::remove_all(path_); }
  fs::path operator/(std::string_view name) const { return path_ / name; }

 private:
  fs::path path_;
};

template <class T>
T must(Result<T> result) {
  EXPECT_TRUE(result.has_value()) << (result ? "" : result.error().message);
  if (!result) throw std::runtime_error(result.error().message);
  return std::move(*result);
}

void must(Result<void> result) {
  ASSERT_TRUE(result.has_value()) << (result ? "" : result.error().message);
}

sys_seconds now() {
  return std::chrono::floor<std::chrono::seconds>(std::chrono::system_clock::now());
}

Paper arxiv_paper(std::string id, std::string title, int64_t upvotes = 0) {
  Paper paper;
  paper.arxiv_id = std::move(id);
  paper.version = 1;
  paper.title = std::move(title);
  paper.upvotes = upvotes;
  paper.feed_day = "2026-11-20";
  return paper;
}

void upsert(Store& store, const Paper& paper) {
  must(store.begin_batch());
  must(store.upsert(paper));
  must(store.commit_batch());
}

// Each test runs on both backends: a SQLite file in a temporary folder, and a fresh schema in
// the test PostgreSQL server (PAPERBOY_TEST_POSTGRES).
struct Backend {
  std::string name;
  bool postgres = false;
};

// A store with two papers and the community tables beside them.
struct Fixture : ::testing::TestWithParam<Backend> {
  TempDir dir;
  std::unique_ptr<testing::PgTestDatabase> database;
  std::unique_ptr<Store> papers;
  std::unique_ptr<CommunityStore> community;

  void SetUp() override {
    if (GetParam().postgres) {
      database = std::make_unique<testing::PgTestDatabase>();
      ASSERT_EQ(database->error(), "");
      papers = must(open_postgres_store(database->url()));
      community = must(open_postgres_community_store(database->url()));
    } else {
      papers = must(open_sqlite_store(dir / "papers.db"));
      community = must(open_sqlite_community_store(dir / "papers.db"));
    }
    upsert(*papers, arxiv_paper("2312.00752", "Mamba", 10));
    upsert(*papers, arxiv_paper("2406.05835", "Another paper"));
  }

  User add(std::string name, Role role = Role::user) {
    return must(community->add_user(NewUser{name, name + "@example.org", "$argon2id$hash", role}));
  }

  int64_t upvotes(std::string_view id) { return must(papers->find(id))->upvotes; }
};

using Users = Fixture;

TEST_P(Users, AreAddedFoundAndUniqueWithoutCase) {
  const User ada = add("ada", Role::admin);
  EXPECT_GT(ada.id, 0);
  auto found = must(community->find_user("ADA"));
  ASSERT_TRUE(found);
  EXPECT_EQ(found->id, ada.id);
  EXPECT_EQ(found->role, Role::admin);
  EXPECT_EQ(found->email, "ada@example.org");
  EXPECT_TRUE(must(community->find_user_by_email("Ada@Example.org")));
  EXPECT_FALSE(must(community->find_user("bob")));

  auto taken = community->add_user(NewUser{"Ada", "other@example.org", "h", Role::user});
  ASSERT_FALSE(taken);
  EXPECT_EQ(taken.error().message, "name: 'Ada' is already taken");
  taken = community->add_user(NewUser{"other", "ADA@example.org", "h", Role::user});
  ASSERT_FALSE(taken);
  EXPECT_EQ(taken.error().message, "email: 'ADA@example.org' is already taken");
}

TEST_P(Users, ChangeRolePasswordAndAreListedByName) {
  const User bob = add("bob");
  add("ada");
  must(community->set_role(bob.id, Role::moderator));
  must(community->set_password_hash(bob.id, "$argon2id$new"));
  auto found = must(community->user_by_id(bob.id));
  EXPECT_EQ(found->role, Role::moderator);
  EXPECT_EQ(found->password_hash, "$argon2id$new");
  auto all = must(community->users());
  ASSERT_EQ(all.size(), 2u);
  EXPECT_EQ(all[0].name, "ada");
  EXPECT_EQ(parse_role("admin"), Role::admin);
  EXPECT_FALSE(parse_role("root"));
}

TEST_P(Users, SessionsExpireAndEndOnBanAndPasswordChange) {
  const User ada = add("ada");
  must(community->add_session("hash-1", ada.id, "csrf-1", now() + std::chrono::hours(1)));
  must(community->add_session("hash-2", ada.id, "csrf-2", now() + std::chrono::hours(1)));
  must(community->add_session("old", ada.id, "csrf-3", now() - std::chrono::seconds(1)));

  auto session = must(community->find_session("hash-1", now()));
  ASSERT_TRUE(session);
  EXPECT_EQ(session->user.name, "ada");
  EXPECT_EQ(session->csrf_token, "csrf-1");
  EXPECT_FALSE(must(community->find_session("old", now()))) << "expired";
  EXPECT_FALSE(must(community->find_session("unknown", now())));

  must(community->remove_sessions_of(ada.id, "hash-1"));
  EXPECT_TRUE(must(community->find_session("hash-1", now())));
  EXPECT_FALSE(must(community->find_session("hash-2", now())));

  must(community->add_api_token("token-hash", ada.id, "scripts"));
  EXPECT_EQ(must(community->find_api_token("token-hash"))->name, "ada");
  must(community->set_banned(ada.id, true));
  EXPECT_FALSE(must(community->find_session("hash-1", now())));
  EXPECT_FALSE(must(community->find_api_token("token-hash")));
  EXPECT_TRUE(must(community->user_by_id(ada.id))->banned);
}

TEST_P(Users, VisitsEndAfterAPauseAndReportWhenThePreviousOneEnded) {
  const User ada = add("ada");
  const User bob = add("bob");
  const sys_seconds start = now();
  constexpr auto gap = std::chrono::minutes(30);
  EXPECT_EQ(must(community->record_visit(ada.id, start, gap)), std::nullopt) << "first visit";
  EXPECT_EQ(must(community->record_visit(ada.id, start + std::chrono::minutes(20), gap)),
            std::nullopt)
      << "the same visit";
  // Forty minutes of quiet: a new visit, after the one that ended at +20 minutes.
  const sys_seconds second = start + std::chrono::minutes(60);
  EXPECT_EQ(must(community->record_visit(ada.id, second, gap)), start + std::chrono::minutes(20));
  EXPECT_EQ(must(community->record_visit(ada.id, second + std::chrono::minutes(5), gap)),
            start + std::chrono::minutes(20))
      << "still the second visit";
  EXPECT_EQ(must(community->record_visit(ada.id, second + std::chrono::hours(2), gap)),
            second + std::chrono::minutes(5));
  EXPECT_EQ(must(community->record_visit(bob.id, second, gap)), std::nullopt) << "per user";
}

using Votes = Fixture;

TEST_P(Votes, ToggleAddsToImportedUpvotes) {
  const User ada = add("ada");
  auto outcome = must(community->toggle_vote(ada.id, "2312.00752"));
  EXPECT_TRUE(outcome.voted);
  EXPECT_EQ(outcome.upvotes, 11);
  EXPECT_EQ(upvotes("2312.00752"), 11);
  EXPECT_EQ(must(community->voted_papers(ada.id, {"2312.00752", "2406.05835", "9999.99999"})),
            std::vector<std::string>{"2312.00752"});

  outcome = must(community->toggle_vote(ada.id, "2312.00752v2"));
  EXPECT_FALSE(outcome.voted);
  EXPECT_EQ(outcome.upvotes, 10);
  EXPECT_TRUE(must(community->voted_papers(ada.id, {"2312.00752"})).empty());
}

TEST_P(Votes, SurviveReimportsWhichMergeAgainstImportedUpvotesOnly) {
  const User ada = add("ada");
  const User bob = add("bob");
  must(community->toggle_vote(ada.id, "2312.00752"));
  must(community->toggle_vote(bob.id, "2312.00752"));
  EXPECT_EQ(upvotes("2312.00752"), 12);

  upsert(*papers, arxiv_paper("2312.00752", "Mamba", 11));  // imported 10 -> 11
  EXPECT_EQ(upvotes("2312.00752"), 13);
  upsert(*papers, arxiv_paper("2312.00752", "Mamba", 5));  // never down
  EXPECT_EQ(upvotes("2312.00752"), 13);
  must(community->toggle_vote(ada.id, "2312.00752"));
  EXPECT_EQ(upvotes("2312.00752"), 12);
}

TEST_P(Votes, RenumberThePaperForTheSearchIndex) {
  const User ada = add("ada");
  const uint64_t before = must(papers->last_change());
  must(community->toggle_vote(ada.id, "2406.05835"));
  EXPECT_EQ(must(papers->last_change()), before + 1);
  std::vector<std::string> changed;
  must(papers->for_each_change(before, before + 1,
                               [&](const Paper& paper) { changed.push_back(paper.arxiv_id); }));
  EXPECT_EQ(changed, std::vector<std::string>{"2406.05835"});
  // A later import batch numbers after the vote.
  upsert(*papers, arxiv_paper("2501.00001", "New"));
  EXPECT_EQ(must(papers->last_change()), before + 2);
}

TEST_P(Votes, CountExactlyUnderConcurrentToggles) {
  constexpr int kUsers = 16;
  constexpr int kTogglesEach = 7;  // odd: every user ends with a vote
  std::vector<int64_t> ids;
  for (int i = 0; i < kUsers; ++i) ids.push_back(add("user" + std::to_string(i)).id);
  std::atomic<int> failures{0};
  std::vector<std::thread> threads;
  for (int i = 0; i < kUsers; ++i) {
    threads.emplace_back([&, i] {
      for (int k = 0; k < kTogglesEach; ++k) {
        if (!community->toggle_vote(ids[static_cast<size_t>(i)], "2406.05835")) ++failures;
      }
    });
  }
  // Imports keep going meanwhile and never touch the local votes.
  threads.emplace_back([&] {
    for (int k = 0; k < 5; ++k) upsert(*papers, arxiv_paper("2406.05835", "Another paper", k));
  });
  for (auto& thread : threads) thread.join();
  EXPECT_EQ(failures, 0);
  EXPECT_EQ(upvotes("2406.05835"), 4 + kUsers);
}

TEST_P(Votes, FollowATitleOnlyPaperIntoItsAdoptingRecord) {
  Paper captured;
  captured.title = "Mamba YOLO: SSMs-Based YOLO For Object Detection";
  captured.upvotes = 3;
  upsert(*papers, captured);
  const std::string title_id = paper_id(captured);
  const User ada = add("ada");
  EXPECT_EQ(must(community->toggle_vote(ada.id, title_id)).upvotes, 4);
  upsert(*papers, arxiv_paper("2406.05835", captured.title, 2));
  // 2406.05835 existed already, so add a new id that adopts the capture.
  upsert(*papers, arxiv_paper("2406.99999", captured.title, 5));
  EXPECT_EQ(upvotes("2406.99999"), 6);
  EXPECT_FALSE(must(community->toggle_vote(ada.id, "2406.99999")).voted);
  EXPECT_EQ(upvotes("2406.99999"), 5);
}

TEST_P(Votes, FailForUnknownPapersAndLeaveWithRemovedUsers) {
  const User ada = add("ada");
  auto missing = community->toggle_vote(ada.id, "2501.12345");
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().message, "paper '2501.12345' is not in the store");
  EXPECT_FALSE(community->toggle_vote(ada.id, "title-0000"));

  must(community->toggle_vote(ada.id, "2312.00752"));
  const Comment comment = must(community->add_comment("2312.00752", ada.id, "Nice"));
  EXPECT_TRUE(must(community->remove_user("ada")));
  EXPECT_FALSE(must(community->remove_user("ada")));
  EXPECT_EQ(upvotes("2312.00752"), 10);
  auto kept = must(community->find_comment(comment.id));
  ASSERT_TRUE(kept);
  EXPECT_EQ(kept->state, CommentState::deleted_by_author);
  EXPECT_EQ(kept->author_name, "");
  EXPECT_EQ(kept->body, "");
}

using Comments = Fixture;

TEST_P(Comments, AreListedEditedAndRemoved) {
  const User ada = add("ada");
  const User bob = add("bob");
  const Comment first = must(community->add_comment("2312.00752", ada.id, "**First**"));
  EXPECT_EQ(first.paper_id, "2312.00752");
  EXPECT_EQ(first.author_name, "ada");
  EXPECT_FALSE(first.edited_at);
  const Comment second = must(community->add_comment("2312.00752", bob.id, "Second"));
  must(community->add_comment("2406.05835", bob.id, "Elsewhere"));

  must(community->edit_comment(first.id, "**First**, edited"));
  auto edited = must(community->find_comment(first.id));
  EXPECT_EQ(edited->body, "**First**, edited");
  EXPECT_TRUE(edited->edited_at);

  must(community->remove_comment(second.id, CommentState::removed_by_moderator));
  auto listed = must(community->comments_on("2312.00752"));
  ASSERT_EQ(listed.size(), 2u);
  EXPECT_EQ(listed[0].id, first.id);
  EXPECT_EQ(listed[1].state, CommentState::removed_by_moderator);
  EXPECT_EQ(listed[1].body, "") << "a removed comment's text is gone";
  EXPECT_EQ(must(community->comment_count("2312.00752")), 1);
  must(community->edit_comment(second.id, "back"));
  EXPECT_EQ(must(community->find_comment(second.id))->body, "") << "removed stays removed";
  EXPECT_FALSE(must(community->find_comment(9999)));
  EXPECT_FALSE(community->add_comment("2501.12345", ada.id, "x"));
}

using Collections = Fixture;

TEST_P(Collections, KeepOrderAndNotes) {
  upsert(*papers, arxiv_paper("2501.00001", "Third"));
  const User ada = add("ada");
  const Collection reading = must(community->create_collection(ada.id, "Reading", "SSMs", false));
  EXPECT_EQ(reading.owner_name, "ada");
  EXPECT_FALSE(reading.is_public);
  must(community->put_in_collection(reading.id, "2312.00752", "start here"));
  must(community->put_in_collection(reading.id, "2406.05835", ""));
  must(community->put_in_collection(reading.id, "2501.00001", ""));
  must(community->put_in_collection(reading.id, "2406.05835", "then this"));  // note only

  auto ids = [&] {
    std::vector<std::string> out;
    for (const auto& item : must(community->collection_items(reading.id)))
      out.push_back(item.paper_id);
    return out;
  };
  EXPECT_EQ(ids(), (std::vector<std::string>{"2312.00752", "2406.05835", "2501.00001"}));
  EXPECT_EQ(must(community->collection_items(reading.id))[1].note, "then this");

  must(community->move_in_collection(reading.id, "2501.00001", 1));
  EXPECT_EQ(ids(), (std::vector<std::string>{"2501.00001", "2312.00752", "2406.05835"}));
  must(community->move_in_collection(reading.id, "2501.00001", 99));
  EXPECT_EQ(ids(), (std::vector<std::string>{"2312.00752", "2406.05835", "2501.00001"}));
  EXPECT_TRUE(must(community->remove_from_collection(reading.id, "2312.00752")));
  EXPECT_FALSE(must(community->remove_from_collection(reading.id, "2312.00752")));
  auto items = must(community->collection_items(reading.id));
  ASSERT_EQ(items.size(), 2u);
  EXPECT_EQ(items[0].position, 1);
  EXPECT_EQ(items[1].position, 2);
  EXPECT_EQ(items[1].title, "Third");

  must(community->update_collection(reading.id, "Reading list", "", true));
  auto found = must(community->find_collection(reading.id));
  EXPECT_EQ(found->name, "Reading list");
  EXPECT_TRUE(found->is_public);
  EXPECT_EQ(found->item_count, 2);
  EXPECT_EQ(must(community->collections_of(ada.id)).size(), 1u);
  must(community->delete_collection(reading.id));
  EXPECT_FALSE(must(community->find_collection(reading.id)));
  EXPECT_TRUE(must(community->collection_items(reading.id)).empty());
}

using Submissions = Fixture;

TEST_P(Submissions, QueueMissingPapersOnce) {
  const User ada = add("ada");
  must(community->record_submission("2312.00752", ada.id, false));
  must(community->record_submission("2501.12345", ada.id, true));
  must(community->record_submission("2501.12345", ada.id, true));
  auto recent = must(community->recent_submissions(10));
  ASSERT_EQ(recent.size(), 3u);
  EXPECT_EQ(recent[2].arxiv_id, "2312.00752");
  EXPECT_EQ(recent[2].user_name, "ada");
  auto queue = must(community->fetch_queue());
  ASSERT_EQ(queue.size(), 1u);
  EXPECT_EQ(queue[0].arxiv_id, "2501.12345");
  EXPECT_EQ(queue[0].requested_by, "ada");
  must(community->fetched("2501.12345"));
  EXPECT_TRUE(must(community->fetch_queue()).empty());
}

TEST_P(Submissions, HiddenPapersAreListedUntilShownAgain) {
  must(community->set_paper_hidden("2312.00752", true));
  must(community->set_paper_hidden("2312.00752", true));
  EXPECT_EQ(must(community->hidden_papers()), std::vector<std::string>{"2312.00752"});
  must(community->set_paper_hidden("2312.00752", false));
  EXPECT_TRUE(must(community->hidden_papers()).empty());
  EXPECT_FALSE(community->set_paper_hidden("2501.12345", true));
}

const auto kBackends = ::testing::Values(Backend{"sqlite", false}, Backend{"postgres", true});
std::string backend_name(const ::testing::TestParamInfo<Backend>& info) { return info.param.name; }
INSTANTIATE_TEST_SUITE_P(Backends, Users, kBackends, backend_name);
INSTANTIATE_TEST_SUITE_P(Backends, Votes, kBackends, backend_name);
INSTANTIATE_TEST_SUITE_P(Backends, Comments, kBackends, backend_name);
INSTANTIATE_TEST_SUITE_P(Backends, Collections, kBackends, backend_name);
INSTANTIATE_TEST_SUITE_P(Backends, Submissions, kBackends, backend_name);

}  // namespace
}  // namespace paperboy::store
