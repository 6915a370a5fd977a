#include "store/subscriptions.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <functional>
#include <set>
#include <thread>

#include "store/pg_test_database.h"

namespace paperboy::store {
namespace {

namespace fs = std::filesystem;
using std::chrono::hours;
using std::chrono::minutes;
using std::chrono::sys_seconds;

// Each test runs on both backends: a SQLite file in a temporary folder, and a fresh schema in
// the test PostgreSQL server (PAPERBOY_TEST_POSTGRES).
struct Backend {
  std::string name;
  bool postgres = false;
};

class SubscriptionStoreTest : public ::testing::TestWithParam<Backend> {
 protected:
  void SetUp() override {
    if (GetParam().postgres) {
      database_ = std::make_unique<testing::PgTestDatabase>();
      ASSERT_EQ(database_->error(), "");
    } else {
      std::string pattern = (fs::temp_directory_path() / "paperboy-subs-XXXXXX").string();
      dir_ = mkdtemp(pattern.data());
    }
    auto opened = open_store();
    ASSERT_TRUE(opened) << opened.error().message;
    store_ = std::move(*opened);
  }
  void TearDown() override {
    store_.reset();
    if (!dir_.empty()) fs::remove_all(dir_);
  }

  // Another handle on the same store, as a second process or node would open it.
  Result<std::unique_ptr<SubscriptionStore>> open_store() {
    if (database_) return open_postgres_subscription_store(database_->url());
    return open_sqlite_subscription_store(dir_ / "papers.db");
  }

  Subscription subscribe(const std::string& email) {
    Subscription s;
    s.email = email;
    s.topics.categories = {"cs.CL"};
    auto stored = store_->subscribe(s, now_);
    EXPECT_TRUE(stored) << stored.error().message;
    return stored.value_or(Subscription{});
  }

  OutboxMessage message_for(const Subscription& s, const std::string& period) {
    OutboxMessage m;
    m.subscription_id = s.id;
    m.period = period;
    m.recipient = s.email;
    m.message = "Subject: " + period + "\r\n\r\nbody\r\n";
    m.covered_through = "2026-11-27";
    m.next_attempt_at = now_;
    m.created_at = now_;
    return m;
  }

  fs::path dir_;
  std::unique_ptr<testing::PgTestDatabase> database_;
  std::unique_ptr<SubscriptionStore> store_;
  sys_seconds now_{std::chrono::seconds{1796050800}};
};

TEST_P(SubscriptionStoreTest, NewAddressesStartPendingAndKeepTheirPreferences) {
  Subscription s;
  s.email = "Ada@Example.com";
  s.name = "Ada Lovelace";
  s.frequency = DigestFrequency::weekly;
  s.time_zone = "Europe/London";
  s.send_hour = 9;
  s.topics = {{"cs.LG", "stat"}, {"\"state space\""}, {"Albert Gu"}};
  s.topics.like_my_papers = true;
  s.max_papers = 5;
  s.include_trending = false;
  auto stored = store_->subscribe(s, now_);
  ASSERT_TRUE(stored) << stored.error().message;
  EXPECT_EQ(stored->state, SubscriptionState::pending);
  EXPECT_GT(stored->id, 0);

  auto found = store_->find_subscription("ada@example.com");  // addresses compare without case
  ASSERT_TRUE(found && *found);
  EXPECT_EQ((*found)->name, "Ada Lovelace");
  EXPECT_EQ((*found)->frequency, DigestFrequency::weekly);
  EXPECT_EQ((*found)->time_zone, "Europe/London");
  EXPECT_EQ((*found)->send_hour, 9);
  EXPECT_EQ((*found)->topics, s.topics);
  EXPECT_EQ((*found)->max_papers, 5);
  EXPECT_FALSE((*found)->include_trending);
  EXPECT_EQ((*found)->created_at, now_);
  EXPECT_FALSE((*found)->confirmed_at);
}

TEST_P(SubscriptionStoreTest, ResubscribingUpdatesPreferencesAndRestartsOnlyAfterUnsubscribing) {
  Subscription s = subscribe("ada@example.com");
  ASSERT_TRUE(store_->set_subscription_state(s.id, SubscriptionState::active, now_));
  s.max_papers = 20;
  auto again = store_->subscribe(s, now_ + hours(1));
  ASSERT_TRUE(again);
  EXPECT_EQ(again->id, s.id);
  EXPECT_EQ(again->state, SubscriptionState::active);
  EXPECT_EQ(again->max_papers, 20);
  EXPECT_EQ(again->confirmed_at, now_);

  ASSERT_TRUE(store_->set_subscription_state(s.id, SubscriptionState::unsubscribed, now_));
  again = store_->subscribe(s, now_ + hours(2));
  ASSERT_TRUE(again);
  EXPECT_EQ(again->state, SubscriptionState::pending);
}

TEST_P(SubscriptionStoreTest, RefusesImpossiblePreferences) {
  Subscription s;
  s.email = "ada@example.com";
  s.send_hour = 24;
  auto stored = store_->subscribe(s, now_);
  ASSERT_FALSE(stored);
  EXPECT_NE(stored.error().message.find("send_hour"), std::string::npos);
}

TEST_P(SubscriptionStoreTest, PagesThroughSubscriptionsInAState) {
  std::set<int64_t> active;
  for (int i = 0; i < 25; ++i) {
    Subscription s = subscribe("reader" + std::to_string(i) + "@example.com");
    if (i % 3 != 0) {
      ASSERT_TRUE(store_->set_subscription_state(s.id, SubscriptionState::active, now_));
      active.insert(s.id);
    }
  }
  std::set<int64_t> seen;
  int64_t after = 0;
  while (true) {
    auto page = store_->subscriptions_in_state(SubscriptionState::active, after, 4);
    ASSERT_TRUE(page);
    if (page->empty()) break;
    EXPECT_LE(page->size(), 4u);
    for (const Subscription& s : *page) {
      EXPECT_GT(s.id, after);
      seen.insert(s.id);
      after = s.id;
    }
  }
  EXPECT_EQ(seen, active);
}

TEST_P(SubscriptionStoreTest, QueuesEachPeriodOnce) {
  Subscription s = subscribe("ada@example.com");
  EXPECT_EQ(store_->enqueue(message_for(s, "daily 2026-11-30")), true);
  EXPECT_EQ(store_->enqueue(message_for(s, "daily 2026-11-30")), false);
  EXPECT_EQ(store_->enqueue(message_for(s, "daily 2026-12-01")), true);
  EXPECT_EQ(store_->has_queued(s.id, "daily 2026-11-30"), true);
  EXPECT_EQ(store_->has_queued(s.id, "daily 2026-12-02"), false);
  EXPECT_EQ(store_->outbox_of(s.id)->size(), 2u);
}

TEST_P(SubscriptionStoreTest, ClaimsLeaseMessagesSoOnlyOneSenderGetsEach) {
  Subscription s = subscribe("ada@example.com");
  ASSERT_TRUE(store_->enqueue(message_for(s, "daily 2026-11-30")));
  auto first = store_->claim_due(now_, minutes(5), 10);
  ASSERT_TRUE(first);
  ASSERT_EQ(first->size(), 1u);
  EXPECT_EQ((*first)[0].attempts, 1);
  EXPECT_EQ((*first)[0].message, "Subject: daily 2026-11-30\r\n\r\nbody\r\n");
  EXPECT_TRUE(store_->claim_due(now_ + minutes(1), minutes(5), 10)->empty());
  // A sender that died leaves the message pending: it is claimed again once the lease ends.
  auto again = store_->claim_due(now_ + minutes(5), minutes(5), 10);
  ASSERT_TRUE(again);
  ASSERT_EQ(again->size(), 1u);
  EXPECT_EQ((*again)[0].attempts, 2);
}

TEST_P(SubscriptionStoreTest, ConcurrentClaimersNeverShareAMessage) {
  Subscription s = subscribe("ada@example.com");
  for (int i = 0; i < 60; ++i) {
    ASSERT_TRUE(store_->enqueue(message_for(s, "p" + std::to_string(i))));
  }
  auto second = open_store();
  ASSERT_TRUE(second) << second.error().message;
  std::vector<int64_t> claimed_a, claimed_b;
  auto claim_all = [&](SubscriptionStore& store, std::vector<int64_t>& out) {
    while (true) {
      auto batch = store.claim_due(now_, minutes(5), 3);
      ASSERT_TRUE(batch) << batch.error().message;
      if (batch->empty()) return;
      for (const auto& m : *batch) out.push_back(m.id);
    }
  };
  std::thread a([&] { claim_all(*store_, claimed_a); });
  std::thread b([&] { claim_all(**second, claimed_b); });
  a.join();
  b.join();
  std::set<int64_t> all(claimed_a.begin(), claimed_a.end());
  all.insert(claimed_b.begin(), claimed_b.end());
  EXPECT_EQ(all.size(), 60u);
  EXPECT_EQ(claimed_a.size() + claimed_b.size(), 60u);
}

TEST_P(SubscriptionStoreTest, SentMessagesRecordCoverageAndAreNotClaimedAgain) {
  Subscription s = subscribe("ada@example.com");
  ASSERT_TRUE(store_->enqueue(message_for(s, "daily 2026-11-30")));
  auto claimed = store_->claim_due(now_, minutes(5), 10);
  ASSERT_TRUE(claimed && claimed->size() == 1);
  ASSERT_TRUE(store_->mark_sent((*claimed)[0].id, now_ + minutes(1)));
  EXPECT_TRUE(store_->claim_due(now_ + hours(1), minutes(5), 10)->empty());
  EXPECT_EQ((*store_->subscription_by_id(s.id))->covered_through, "2026-11-27");
  auto outbox = store_->outbox_of(s.id);
  ASSERT_EQ(outbox->size(), 1u);
  EXPECT_EQ((*outbox)[0].state, OutboxState::sent);
  EXPECT_EQ((*outbox)[0].sent_at, now_ + minutes(1));
  EXPECT_EQ(store_->outbox_counts()->sent, 1);
}

TEST_P(SubscriptionStoreTest, RetriesWaitAndBouncesPauseTheSubscription) {
  Subscription s = subscribe("ada@example.com");
  ASSERT_TRUE(store_->set_subscription_state(s.id, SubscriptionState::active, now_));
  ASSERT_TRUE(store_->enqueue(message_for(s, "daily 1")));
  auto claimed = store_->claim_due(now_, minutes(5), 10);
  ASSERT_TRUE(store_->mark_retry((*claimed)[0].id, now_ + minutes(30), "451 try later"));
  EXPECT_TRUE(store_->claim_due(now_ + minutes(29), minutes(5), 10)->empty());
  claimed = store_->claim_due(now_ + minutes(30), minutes(5), 10);
  ASSERT_EQ(claimed->size(), 1u);
  EXPECT_EQ((*claimed)[0].last_error, "451 try later");

  for (int i = 0; i < 3; ++i) {
    if (i > 0) {
      ASSERT_TRUE(store_->enqueue(message_for(s, "daily " + std::to_string(i + 1))));
      claimed = store_->claim_due(now_ + hours(1), minutes(5), 10);
      ASSERT_EQ(claimed->size(), 1u);
    }
    ASSERT_TRUE(store_->mark_failed((*claimed)[0].id, "550 mailbox unavailable", 3));
    auto state = (*store_->subscription_by_id(s.id))->state;
    EXPECT_EQ(state, i < 2 ? SubscriptionState::active : SubscriptionState::paused) << i;
  }
  EXPECT_EQ((*store_->subscription_by_id(s.id))->bounces, 3);
  EXPECT_EQ(store_->outbox_counts()->failed, 3);
  // Confirming again resumes it with a clean slate.
  ASSERT_TRUE(store_->set_subscription_state(s.id, SubscriptionState::active, now_));
  EXPECT_EQ((*store_->subscription_by_id(s.id))->bounces, 0);
}

TEST_P(SubscriptionStoreTest, UnsubscribingCancelsWhatIsQueued) {
  Subscription s = subscribe("ada@example.com");
  ASSERT_TRUE(store_->set_subscription_state(s.id, SubscriptionState::active, now_));
  ASSERT_TRUE(store_->enqueue(message_for(s, "daily 2026-11-30")));
  ASSERT_TRUE(store_->set_subscription_state(s.id, SubscriptionState::unsubscribed, now_));
  EXPECT_TRUE(store_->claim_due(now_ + hours(1), minutes(5), 10)->empty());
  auto outbox = store_->outbox_of(s.id);
  ASSERT_EQ(outbox->size(), 1u);
  EXPECT_EQ((*outbox)[0].state, OutboxState::failed);
  EXPECT_EQ((*outbox)[0].last_error, "cancelled: subscription unsubscribed");
}

INSTANTIATE_TEST_SUITE_P(Backends, SubscriptionStoreTest,
                         ::testing::Values(Backend{"sqlite", false}, Backend{"postgres", true}),
                         [](const auto& info) { return info.param.name; });

}  // namespace
}  // namespace paperboy::store
