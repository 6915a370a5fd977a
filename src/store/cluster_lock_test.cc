#include "store/cluster_lock.h"

#include <gtest/gtest.h>

#include <atomic>
#include <thread>
#include <vector>

#include "store/pg_test_database.h"

namespace paperboy::store {
namespace {

using std::chrono::seconds;

struct Backend {
  std::string name;
  bool postgres = false;
};

// Holders stand for nodes: on PostgreSQL each gets its own ClusterLock (its own connections),
// as separate processes would; the in-process lock is shared by the threads of one process.
class ClusterLockTest : public ::testing::TestWithParam<Backend> {
 protected:
  void SetUp() override {
    if (GetParam().postgres) {
      database_ = std::make_unique<testing::PgTestDatabase>();
      ASSERT_EQ(database_->error(), "");
    } else {
      local_ = make_local_cluster_lock();
    }
  }

  std::unique_ptr<ClusterLock> node() {
    if (!database_) return nullptr;
    auto opened = open_postgres_cluster_lock(database_->url());
    EXPECT_TRUE(opened) << opened.error().message;
    return opened ? std::move(*opened) : nullptr;
  }
  // The lock a holder uses: its own on PostgreSQL, the shared one in process.
  ClusterLock& lock_for(std::unique_ptr<ClusterLock>& own) { return own ? *own : *local_; }

  static bool claimed(const Result<bool>& result) {
    EXPECT_TRUE(result) << result.error().message;
    return result && *result;
  }

  std::unique_ptr<testing::PgTestDatabase> database_;
  std::unique_ptr<ClusterLock> local_;
};

TEST_P(ClusterLockTest, OneHolderRunsAJobUntilItFinishesAndTheJobIsDueAgainAfterTheInterval) {
  auto own_a = node();
  auto own_b = node();
  ClusterLock& a = lock_for(own_a);
  ClusterLock& b = lock_for(own_b);
  EXPECT_TRUE(claimed(a.try_claim("digests", "node-a", seconds(60))));
  EXPECT_FALSE(claimed(b.try_claim("digests", "node-b", seconds(60)))) << "a holds it";
  EXPECT_TRUE(claimed(b.try_claim("sync", "node-b", seconds(60)))) << "jobs are separate";
  EXPECT_TRUE(claimed(a.try_claim("digests", "node-a", seconds(60)))) << "its own lease";
  EXPECT_TRUE(claimed(a.renew("digests", "node-a", seconds(60))));
  EXPECT_FALSE(claimed(b.renew("digests", "node-b", seconds(60))));

  ASSERT_TRUE(a.finish("digests", "node-a", seconds(3600)));
  EXPECT_FALSE(claimed(b.try_claim("digests", "node-b", seconds(60)))) << "not due for an hour";
  EXPECT_FALSE(claimed(a.try_claim("digests", "node-a", seconds(60))));

  ASSERT_TRUE(b.finish("sync", "node-b", seconds(0)));
  EXPECT_TRUE(claimed(a.try_claim("sync", "node-a", seconds(60)))) << "due again at once";
}

TEST_P(ClusterLockTest, AnExpiredLeaseIsTakenOverAndTheOldHolderCanNeitherRenewNorFinish) {
  auto own_a = node();
  auto own_b = node();
  ClusterLock& a = lock_for(own_a);
  ClusterLock& b = lock_for(own_b);
  ASSERT_TRUE(claimed(a.try_claim("digests", "node-a", seconds(1))));
  // node-a stops renewing, as a killed node does.
  std::this_thread::sleep_for(std::chrono::milliseconds(1200));
  EXPECT_TRUE(claimed(b.try_claim("digests", "node-b", seconds(60))));
  EXPECT_FALSE(claimed(a.renew("digests", "node-a", seconds(60))));
  ASSERT_TRUE(a.finish("digests", "node-a", seconds(3600)));
  EXPECT_FALSE(claimed(a.try_claim("digests", "node-a", seconds(60)))) << "still b's";
  EXPECT_TRUE(claimed(b.renew("digests", "node-b", seconds(60))));
}

TEST_P(ClusterLockTest, OfManyNodesClaimingAtOnceExactlyOneWins) {
  constexpr int kNodes = 6;
  std::vector<std::unique_ptr<ClusterLock>> own;
  for (int i = 0; i < kNodes; ++i) own.push_back(node());
  std::atomic<int> winners{0};
  std::atomic<int> errors{0};
  std::vector<std::thread> threads;
  for (int i = 0; i < kNodes; ++i) {
    threads.emplace_back([&, i] {
      auto result = lock_for(own[static_cast<size_t>(i)])
                        .try_claim("digests", "node-" + std::to_string(i), seconds(60));
      if (!result) {
        ++errors;
      } else if (*result) {
        ++winners;
      }
    });
  }
  for (auto& thread : threads) thread.join();
  EXPECT_EQ(errors, 0);
  EXPECT_EQ(winners, 1);
}

// Each node opens its own; what one puts, the others read, and a put replaces the value.
TEST(SharedState, ValuesPutByOneNodeAreReadByAnother) {
  testing::PgTestDatabase database;
  ASSERT_EQ(database.error(), "");
  auto first = open_postgres_shared_state(database.url());
  auto second = open_postgres_shared_state(database.url());
  ASSERT_TRUE(first && second);
  auto missing = (*second)->get("sync:oai:arXiv:cs");
  ASSERT_TRUE(missing);
  EXPECT_FALSE(missing->has_value());
  ASSERT_TRUE((*first)->put("sync:oai:arXiv:cs", R"({"resumption_token":"a|1"})"));
  ASSERT_TRUE((*first)->put("sync:oai:arXiv:cs", R"({"resumption_token":"a|2"})"));
  ASSERT_TRUE((*first)->put("sync:oai:arXiv:math", "{}"));
  auto read = (*second)->get("sync:oai:arXiv:cs");
  ASSERT_TRUE(read && read->has_value());
  EXPECT_EQ(**read, R"({"resumption_token":"a|2"})");
}

TEST(ClusterHolderName, NamesTheHostAndProcess) {
  const std::string name = cluster_holder_name();
  EXPECT_NE(name.find(':' + std::to_string(::getpid())), std::string::npos) << name;
}

INSTANTIATE_TEST_SUITE_P(Backends, ClusterLockTest,
                         ::testing::Values(Backend{"local", false}, Backend{"postgres", true}),
                         [](const auto& info) { return info.param.name; });

}  // namespace
}  // namespace paperboy::store
