// The mail half of the store: digest subscriptions and the outbox that makes delivery durable.
//
// Every message (a confirmation or a digest) is written to the outbox before it is sent, under a
// key unique per subscription and period ("daily 2026-11-29", "weekly 2026-W48"), so a digest
// is queued at most once however often the job runs. Senders claim due messages with a lease
// (so two processes never send the same message at once), then mark each one sent, retry it
// later, or fail it for good. A process that dies between the server's acceptance and the mark
// leaves the message pending: it is sent again, with the same Message-ID, when the lease ends.
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

// pending: waiting for the double opt-in; nothing but the confirmation is sent.
// paused: stopped after repeated bounces (or by the subscriber); resumes when confirmed again.
enum class SubscriptionState { pending, active, paused, unsubscribed };
enum class DigestFrequency { daily, weekly };

const char* subscription_state_name(SubscriptionState state);
std::optional<SubscriptionState> parse_subscription_state(std::string_view name);
const char* frequency_name(DigestFrequency frequency);
std::optional<DigestFrequency> parse_frequency(std::string_view name);

// What a subscriber wants in their digest, besides the trending list.
struct Topics {
  std::vector<std::string> categories;  // "cs.CL", or an archive "cs"
  std::vector<std::string> queries;     // saved searches, in the search query language
  std::vector<std::string> authors;     // names as they appear on papers
  // Papers like the upvotes and collections of the account with the subscriber's email
  // (src/recommend).
  bool like_my_papers = false;
  bool operator==(const Topics&) const = default;
};

struct Subscription {
  int64_t id = 0;
  std::string email;
  std::string name;  // display name for the To header, may be empty
  SubscriptionState state = SubscriptionState::pending;
  DigestFrequency frequency = DigestFrequency::daily;
  std::string time_zone = "UTC";  // IANA name
  int send_hour = 7;              // local hour, 0-23
  Topics topics;
  int max_papers = 10;
  bool include_trending = true;
  std::chrono::sys_seconds created_at{};
  std::optional<std::chrono::sys_seconds> confirmed_at;
  std::string covered_through;  // the last feed day a delivered digest covered; empty: none yet
  int bounces = 0;              // permanent failures since the last delivery
};

enum class OutboxState { pending, sent, failed };

struct OutboxMessage {
  int64_t id = 0;
  int64_t subscription_id = 0;
  std::string period;           // unique per subscription: "confirm ...", "daily 2026-11-29", ...
  std::string recipient;        // envelope address
  std::string message;          // rendered RFC 5322 message, sent as is on every attempt
  std::string covered_through;  // a digest's last feed day, recorded on delivery
  OutboxState state = OutboxState::pending;
  int attempts = 0;
  std::chrono::sys_seconds next_attempt_at{};
  std::string last_error;
  std::chrono::sys_seconds created_at{};
  std::optional<std::chrono::sys_seconds> sent_at;
};

struct OutboxCounts {
  int64_t pending = 0;
  int64_t sent = 0;
  int64_t failed = 0;
};

class SubscriptionStore {
 public:
  virtual ~SubscriptionStore() = default;

  // A new address starts pending. For a known address the preferences are replaced and the
  // state kept, except that an unsubscribed address starts over as pending.
  virtual Result<Subscription> subscribe(const Subscription& preferences,
                                         std::chrono::sys_seconds now) = 0;
  virtual Result<std::optional<Subscription>> find_subscription(std::string_view email) = 0;
  virtual Result<std::optional<Subscription>> subscription_by_id(int64_t id) = 0;
  // Becoming active records the confirmation time and clears the bounce count; any other state
  // cancels the subscription's queued messages (they end as failed, "cancelled: ...").
  virtual Result<void> set_subscription_state(int64_t id, SubscriptionState state,
                                              std::chrono::sys_seconds now) = 0;
  // Up to `limit` subscriptions in `state` with an id above `after_id`, by id: a digest run
  // pages through them in constant memory.
  virtual Result<std::vector<Subscription>> subscriptions_in_state(SubscriptionState state,
                                                                   int64_t after_id,
                                                                   size_t limit) = 0;

  // Queues `message` unless its (subscription, period) is already queued; returns whether it
  // was queued now.
  virtual Result<bool> enqueue(const OutboxMessage& message) = 0;
  virtual Result<bool> has_queued(int64_t subscription_id, std::string_view period) = 0;
  // Claims up to `limit` pending messages due at `now` and not leased by another sender, leasing
  // them until now + lease; oldest first.
  virtual Result<std::vector<OutboxMessage>> claim_due(std::chrono::sys_seconds now,
                                                       std::chrono::seconds lease,
                                                       size_t limit) = 0;
  // Delivered: records covered_through on the subscription and clears its bounces.
  virtual Result<void> mark_sent(int64_t id, std::chrono::sys_seconds at) = 0;
  virtual Result<void> mark_retry(int64_t id, std::chrono::sys_seconds next_attempt,
                                  std::string_view error) = 0;
  // Refused for good: counts a bounce, and pauses the subscription once it has
  // `pause_after_bounces` of them in a row.
  virtual Result<void> mark_failed(int64_t id, std::string_view error, int pause_after_bounces) = 0;
  virtual Result<std::vector<OutboxMessage>> outbox_of(int64_t subscription_id) = 0;
  virtual Result<OutboxCounts> outbox_counts() = 0;
};

// Opens the subscription tables of the SQLite store at `path`, creating and migrating the store
// first when needed. Safe to use from several threads.
Result<std::unique_ptr<SubscriptionStore>> open_sqlite_subscription_store(
    const std::filesystem::path& path);

// Opens the subscription tables and outbox in the PostgreSQL database at `url`, migrating them
// when needed. Several processes (nodes) may send from one outbox: claims never overlap.
Result<std::unique_ptr<SubscriptionStore>> open_postgres_subscription_store(std::string_view url);

// The subscription store beside the papers store a locator names, as open_community_store.
Result<std::unique_ptr<SubscriptionStore>> open_subscription_store(
    std::string_view locator, const std::filesystem::path& default_sqlite_path);

}  // namespace paperboy::store
