// Email digests: subscribing with double opt-in, deciding who is due, choosing and rendering
// each subscriber's papers, and delivering the outbox over SMTP.
//
// Durability comes from the store's outbox (store/subscriptions.h): a digest is rendered and
// queued once per subscriber and period, then delivered; a message is marked sent only after
// the SMTP server accepted it. A crash between acceptance and the mark resends that one message
// (with the same Message-ID) once its lease ends; nothing is ever lost.
#pragma once

#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "core/paper.h"
#include "core/result.h"
#include "hybrid/hybrid.h"
#include "index/index.h"
#include "mail/message.h"
#include "mail/smtp.h"
#include "store/community.h"
#include "store/store.h"
#include "store/subscriptions.h"

namespace paperboy::mail {

struct MailSettings {
  SmtpSettings smtp;
  Mailbox from{"paperboy", "paperboy@localhost.localdomain"};
  std::string base_url = "http://localhost:8080";  // for links in mails, without trailing slash
  std::string secret;                              // signs the links (see links.h)
  int pause_after_bounces = 3;
  // How long a sender may hold a claimed message before another may take it over.
  std::chrono::seconds lease{600};
  // The wait before each retry of a temporary failure; a message still failing after the last
  // one fails for good.
  std::vector<std::chrono::seconds> retry_delays = {
      std::chrono::minutes(1), std::chrono::minutes(5), std::chrono::minutes(30),
      std::chrono::hours(2),   std::chrono::hours(6),   std::chrono::hours(12)};
  std::chrono::days confirm_link_lifetime{7};
};

// Validates `request` (address, name, time zone, hour, count) and stores it; when the address
// still has to confirm, queues the confirmation mail (at most one per address and day).
Result<store::Subscription> subscribe(store::SubscriptionStore& subscriptions,
                                      const store::Subscription& request,
                                      const MailSettings& settings, std::chrono::sys_seconds now);
// Acts on the token of a confirmation or unsubscribe link (see links.h).
Result<store::Subscription> confirm(store::SubscriptionStore& subscriptions, std::string_view token,
                                    const MailSettings& settings, std::chrono::sys_seconds now);
Result<store::Subscription> unsubscribe(store::SubscriptionStore& subscriptions,
                                        std::string_view token, const MailSettings& settings,
                                        std::chrono::sys_seconds now);
// The links a mail carries for `subscription`.
std::string confirm_url(const store::Subscription& subscription, const MailSettings& settings,
                        std::chrono::sys_seconds now);
std::string unsubscribe_url(const store::Subscription& subscription, const MailSettings& settings);

// The period due for `subscription` at `now` in its own time zone: "daily 2026-11-30" once its
// local send hour has come that day, "weekly 2026-W49" once it has come on that week's Monday;
// nullopt before then. Fails for an unknown time zone.
Result<std::optional<std::string>> due_period(const store::Subscription& subscription,
                                              std::chrono::sys_seconds now);

struct DigestEntry {
  Paper paper;
  std::string reason;  // why it is in this digest: "in cs.CL", "by Albert Gu", ...
};

struct Digest {
  std::string period;
  std::string first_day;  // the feed days covered, inclusive
  std::string last_day;
  std::vector<DigestEntry> papers;
  std::vector<Paper> trending;
};

// What digests draw on besides the feed. Each part may be missing, and topics needing it then
// match less: saved searches nothing without the keyword index, and by their words only without
// vectors; "papers like my upvotes" nothing without the community store.
struct DigestSources {
  std::shared_ptr<const index::Snapshot> keyword_index = nullptr;
  // Saved searches also match papers whose vector lies as near the query's as its 20 nearest
  // papers in the whole store; recommendations use the vectors as features.
  std::shared_ptr<const hybrid::SemanticIndex> semantic = nullptr;
  // Finds the account whose email is the subscriber's, for "papers like my upvotes".
  store::CommunityStore* community = nullptr;
};

// Chooses digest papers for many subscribers, computing once what they share: the feed days'
// papers, each saved search's results and the trending list.
class DigestBuilder {
 public:
  DigestBuilder(store::Store& papers, DigestSources sources, std::chrono::sys_seconds now);

  // The papers that entered the feed after the subscriber's last digest (at most a week back)
  // and match their topics (all of them when they chose none), most upvoted first; nullopt
  // when none did. "Papers like my upvotes" contributes the recommender's best max_papers of
  // those days.
  Result<std::optional<Digest>> build(const store::Subscription& subscription,
                                      const std::string& period);

 private:
  Result<const std::vector<Paper>*> papers_between(const std::string& first_day,
                                                   const std::string& last_day);
  Result<const std::set<std::string>*> search_matches(const std::string& query);
  // The query's vector and the similarity a paper needs to count as about it; nullopt without
  // vectors or when the query holds no word the embedder knows.
  const std::optional<std::pair<std::vector<float>, float>>& semantic_match(
      const std::string& query);
  // The window's papers recommended from the likes of the subscriber's account, with reasons.
  Result<std::map<std::string, std::string>> liked_matches(const store::Subscription& subscription,
                                                           const std::vector<Paper>& candidates,
                                                           const std::string& first_day);

  store::Store& papers_;
  DigestSources sources_;
  std::chrono::sys_seconds now_;
  std::optional<std::string> latest_day_;
  std::map<std::pair<std::string, std::string>, std::vector<Paper>> papers_between_;
  std::map<std::string, std::set<std::string>> search_matches_;
  std::map<std::string, std::optional<std::pair<std::vector<float>, float>>> semantic_matches_;
  std::optional<std::vector<Paper>> trending_;
};

// The digest as a mail to its subscriber: plain text and HTML with inline styles, one-click
// unsubscribe headers and a signed unsubscribe link in the body.
Result<Message> digest_message(const Digest& digest, const store::Subscription& subscription,
                               const MailSettings& settings, std::chrono::sys_seconds now);

struct QueueReport {
  size_t subscribers = 0;  // active subscriptions looked at
  size_t queued = 0;       // digests queued now
  size_t already = 0;      // due, but already queued earlier
  size_t nothing_new = 0;  // due, but nothing matched since the last digest
};

// Queues the due digest of every active subscription. Idempotent: running it twice queues
// nothing more. `progress`, when given, is called after each subscriber.
Result<QueueReport> queue_due_digests(store::SubscriptionStore& subscriptions,
                                      DigestBuilder& builder, const MailSettings& settings,
                                      std::chrono::sys_seconds now,
                                      const std::function<void(const QueueReport&)>& progress = {});

struct DeliveryTotals {
  size_t sent = 0;
  size_t deferred = 0;  // temporary failures, retried later
  size_t failed = 0;    // permanent failures (bounces) and retries exhausted
};

// Sends every message of the outbox due at `now` and records each outcome.
Result<DeliveryTotals> deliver_outbox(store::SubscriptionStore& subscriptions, SmtpClient& smtp,
                                      const MailSettings& settings, std::chrono::sys_seconds now);

struct DigestRun {
  QueueReport queued;
  DeliveryTotals delivered;
};

// One round of the digest job, as `paperboy digest send` and the server's scheduler run it:
// queue every due digest, then deliver the outbox.
Result<DigestRun> run_digest_job(store::Store& papers, store::SubscriptionStore& subscriptions,
                                 DigestSources sources, SmtpClient& smtp,
                                 const MailSettings& settings, std::chrono::sys_seconds now);

}  // namespace paperboy::mail
