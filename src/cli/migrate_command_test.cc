// The real binary on the test PostgreSQL: `paperboy migrate` copies an embedded store (papers,
// accounts, votes, comments, collections, submissions, subscriptions) into PostgreSQL (again:
// nothing changes), and every command reaches PostgreSQL through --store or
// the config file's `store =`.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <vector>

#include "store/community.h"
#include "store/pg_test_database.h"
#include "store/store.h"
#include "store/subscriptions.h"

namespace {

namespace fs = std::filesystem;

struct Outcome {
  int exit_code = -1;
  std::string out;
  std::string err;
};

std::string read_all(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream buffer;
  buffer << in.rdbuf();
  return buffer.str();
}

class Migrate : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_EQ(database_.error(), "");
    dir_ = fs::temp_directory_path() / ("paperboy-migrate-" + database_.schema());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }

  // Runs the binary with `args` after --data DIR/data --quiet.
  Outcome run(std::vector<std::string> args) {
    args.insert(args.begin(), {PAPERBOY_BINARY, "--data", (dir_ / "data").string(), "--quiet"});
    const fs::path out = dir_ / "out", err = dir_ / "err";
    pid_t pid = fork();
    if (pid == 0) {
      dup2(open(out.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644), 1);
      dup2(open(err.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644), 2);
      std::vector<char*> argv;
      for (const std::string& arg : args) argv.push_back(const_cast<char*>(arg.c_str()));
      argv.push_back(nullptr);
      execv(argv[0], argv.data());
      _exit(127);
    }
    int status = 0;
    waitpid(pid, &status, 0);
    return {WIFEXITED(status) ? WEXITSTATUS(status) : -1, read_all(out), read_all(err)};
  }

  // Every paper of the store the arguments name, as canonical JSON Lines.
  std::string exported(std::vector<std::string> store_args) {
    const fs::path file = dir_ / "export.jsonl";
    store_args.insert(store_args.end(), {"export", file.string()});
    Outcome outcome = run(store_args);
    EXPECT_EQ(outcome.exit_code, 0) << outcome.err;
    return read_all(file);
  }

  paperboy::store::testing::PgTestDatabase database_;
  fs::path dir_;
};

const std::string kDemo = std::string(PAPERBOY_SOURCE_DIR) + "/demo";

TEST_F(Migrate, CopiesEveryPaperOnceAndCommandsReadThemFromPostgres) {
  Outcome ingested = run({"ingest", kDemo});
  ASSERT_TRUE(ingested.exit_code == 0 || ingested.exit_code == 3) << ingested.err;
  const std::string from_sqlite = exported({});
  ASSERT_GT(std::count(from_sqlite.begin(), from_sqlite.end(), '\n'), 100);

  Outcome first = run({"migrate", "--to", database_.url()});
  ASSERT_EQ(first.exit_code, 0) << first.err;
  EXPECT_NE(first.out.find("0 updated, 0 unchanged"), std::string::npos) << first.out;
  Outcome again = run({"migrate", "--to", database_.url()});
  ASSERT_EQ(again.exit_code, 0) << again.err;
  EXPECT_NE(again.out.find(": 0 added, 0 updated,"), std::string::npos) << again.out;

  EXPECT_EQ(exported({"--store", database_.url()}), from_sqlite);
  Outcome stats = run({"--store", database_.url(), "stats", "--json"});
  ASSERT_EQ(stats.exit_code, 0) << stats.err;
  const auto counts = nlohmann::json::parse(stats.out);
  EXPECT_EQ(counts["papers"].get<int64_t>(),
            std::count(from_sqlite.begin(), from_sqlite.end(), '\n'));
  Outcome shown = run({"--store", database_.url(), "show", "2608.19880"});
  EXPECT_EQ(shown.exit_code, 0) << shown.err;
}

// What people made in the embedded store: accounts, a session, votes, comments, a collection,
// submissions, a hidden paper and a digest subscription with a sent digest.
struct Community {
  int64_t ada = 0;
  std::string ada_hash;
};

Community fill_community(const fs::path& sqlite_file) {
  using namespace paperboy::store;
  Community made;
  auto community = open_sqlite_community_store(sqlite_file);
  EXPECT_TRUE(community) << community.error().message;
  if (!community) return made;
  CommunityStore& store = **community;
  auto ada = store.add_user({"ada", "ada@example.org", "$argon2id$v=19$m=65536,t=2,p=1$ada"});
  auto bob = store.add_user({"Bob", "bob@example.org", "$argon2id$v=19$m=65536,t=2,p=1$bob"});
  EXPECT_TRUE(ada && bob);
  if (!ada || !bob) return made;
  made.ada = ada->id;
  made.ada_hash = ada->password_hash;
  const auto now = std::chrono::floor<std::chrono::seconds>(std::chrono::system_clock::now());
  EXPECT_TRUE(store.add_session("session-hash", ada->id, "csrf", now + std::chrono::hours(24)));
  EXPECT_TRUE(store.toggle_vote(ada->id, "2608.19880"));
  EXPECT_TRUE(store.toggle_vote(bob->id, "2608.19880"));
  EXPECT_TRUE(store.add_comment("2608.19880", ada->id, "Worth reading: $x^2$"));
  auto reading = store.create_collection(bob->id, "Reading list", "for Monday", true);
  EXPECT_TRUE(reading);
  if (reading) {
    EXPECT_TRUE(store.put_in_collection(reading->id, "2608.19880", "first"));
  }
  EXPECT_TRUE(store.record_submission("2608.19880", bob->id, false));
  EXPECT_TRUE(store.record_submission("2612.99999", bob->id, true));
  auto subscriptions = open_sqlite_subscription_store(sqlite_file);
  EXPECT_TRUE(subscriptions) << subscriptions.error().message;
  if (!subscriptions) return made;
  Subscription wanted;
  wanted.email = "reader@example.org";
  auto subscribed = (*subscriptions)->subscribe(wanted, now);
  EXPECT_TRUE(subscribed);
  if (!subscribed) return made;
  OutboxMessage digest;
  digest.subscription_id = subscribed->id;
  digest.period = "daily 2026-11-28";
  digest.recipient = wanted.email;
  digest.message = "Subject: papers\r\n\r\nToday's papers";
  digest.next_attempt_at = now;
  digest.created_at = now;
  EXPECT_TRUE((*subscriptions)->enqueue(digest));
  auto claimed = (*subscriptions)->claim_due(now, std::chrono::seconds(60), 10);
  EXPECT_TRUE(claimed && claimed->size() == 1u);
  if (claimed && !claimed->empty()) {
    EXPECT_TRUE((*subscriptions)->mark_sent((*claimed)[0].id, now));
  }
  return made;
}

TEST_F(Migrate, CopiesAccountsVotesCommentsCollectionsAndSubscriptionsOnce) {
  Outcome ingested = run({"ingest", kDemo});
  ASSERT_TRUE(ingested.exit_code == 0 || ingested.exit_code == 3) << ingested.err;
  const Community made = fill_community(dir_ / "data" / "paperboy.db");
  if (HasFailure()) return;

  Outcome first = run({"migrate", "--to", database_.url()});
  ASSERT_EQ(first.exit_code, 0) << first.err;
  EXPECT_NE(first.out.find("users: 2 of 2 added"), std::string::npos) << first.out;
  EXPECT_NE(first.out.find("votes: 2 of 2 added"), std::string::npos) << first.out;
  Outcome again = run({"migrate", "--to", database_.url()});
  ASSERT_EQ(again.exit_code, 0) << again.err;
  for (const char* table :
       {"users: 0 of 2", "sessions: 0 of 1", "votes: 0 of 2", "comments: 0 of 1",
        "collections: 0 of 1", "collection_items: 0 of 1", "submissions: 0 of 2",
        "fetch_queue: 0 of 1", "subscriptions: 0 of 1", "outbox: 0 of 1"}) {
    EXPECT_NE(again.out.find(table), std::string::npos) << table << "\n" << again.out;
  }

  using namespace paperboy::store;
  auto community = open_postgres_community_store(database_.url());
  ASSERT_TRUE(community) << community.error().message;
  auto ada = (*community)->find_user("ADA");
  ASSERT_TRUE(ada && ada->has_value());
  EXPECT_EQ((*ada)->password_hash, made.ada_hash) << "signing in keeps working";
  const auto now = std::chrono::floor<std::chrono::seconds>(std::chrono::system_clock::now());
  auto session = (*community)->find_session("session-hash", now);
  ASSERT_TRUE(session && session->has_value()) << "ada stays signed in";
  EXPECT_EQ((*session)->csrf_token, "csrf");
  auto voted = (*community)->voted_papers((*ada)->id, {"2608.19880"});
  ASSERT_TRUE(voted);
  EXPECT_EQ(*voted, std::vector<std::string>{"2608.19880"});
  auto comments = (*community)->comments_on("2608.19880");
  ASSERT_TRUE(comments && comments->size() == 1u);
  EXPECT_EQ((*comments)[0].author_name, "ada");
  EXPECT_EQ((*comments)[0].body, "Worth reading: $x^2$");
  auto bob = (*community)->find_user("bob");
  ASSERT_TRUE(bob && bob->has_value());
  auto collections = (*community)->collections_of((*bob)->id);
  ASSERT_TRUE(collections && collections->size() == 1u);
  EXPECT_EQ((*collections)[0].name, "Reading list");
  EXPECT_TRUE((*collections)[0].is_public);
  auto items = (*community)->collection_items((*collections)[0].id);
  ASSERT_TRUE(items && items->size() == 1u);
  EXPECT_EQ((*items)[0].note, "first");
  auto queue = (*community)->fetch_queue();
  ASSERT_TRUE(queue && queue->size() == 1u);
  EXPECT_EQ((*queue)[0].arxiv_id, "2612.99999");
  auto submissions = (*community)->recent_submissions(10);
  ASSERT_TRUE(submissions);
  EXPECT_EQ(submissions->size(), 2u);

  // Two votes more than the paper was imported with, counted once although migrate ran twice.
  auto papers = open_sqlite_store(dir_ / "data" / "paperboy.db");
  ASSERT_TRUE(papers);
  auto local = (*papers)->find("2608.19880");
  Outcome shown = run({"--store", database_.url(), "show", "--json", "2608.19880"});
  ASSERT_EQ(shown.exit_code, 0) << shown.err;
  ASSERT_TRUE(local && local->has_value());
  EXPECT_EQ(nlohmann::json::parse(shown.out)["upvotes"].get<int64_t>(), (*local)->upvotes);

  auto subscriptions = open_postgres_subscription_store(database_.url());
  ASSERT_TRUE(subscriptions) << subscriptions.error().message;
  auto reader = (*subscriptions)->find_subscription("reader@example.org");
  ASSERT_TRUE(reader && reader->has_value());
  auto sent = (*subscriptions)->has_queued((*reader)->id, "daily 2026-11-28");
  ASSERT_TRUE(sent);
  EXPECT_TRUE(*sent) << "the digest already sent is not sent again";
  auto counts = (*subscriptions)->outbox_counts();
  ASSERT_TRUE(counts);
  EXPECT_EQ(counts->sent, 1);
  EXPECT_EQ(counts->pending, 0);
}

TEST_F(Migrate, IngestThroughTheConfigFilesStoreMatchesTheEmbeddedStore) {
  Outcome embedded = run({"ingest", kDemo});
  ASSERT_TRUE(embedded.exit_code == 0 || embedded.exit_code == 3) << embedded.err;
  const fs::path config = dir_ / "paperboy.toml";
  std::ofstream(config) << "store = \"" << database_.url() << "\"\n";
  Outcome into_postgres = run({"--config", config.string(), "ingest", kDemo});
  EXPECT_EQ(into_postgres.exit_code, embedded.exit_code) << into_postgres.err;
  EXPECT_EQ(exported({"--config", config.string()}), exported({}));
}

TEST_F(Migrate, RefusesATargetThatIsNotPostgres) {
  Outcome refused = run({"migrate", "--to", (dir_ / "other.db").string()});
  EXPECT_EQ(refused.exit_code, 1);
  EXPECT_NE(refused.err.find("not a postgres:// or postgresql:// URL"), std::string::npos)
      << refused.err;
}

}  // namespace
