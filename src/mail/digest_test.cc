#include "mail/digest.h"

#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>

#include "index/index.h"
#include "mail/smtp_sink.h"

namespace paperboy::mail {
namespace {

namespace fs = std::filesystem;
using std::chrono::hours;
using std::chrono::minutes;
using std::chrono::sys_days;
using std::chrono::sys_seconds;
using store::Subscription;
using store::SubscriptionState;

Paper paper(std::string arxiv_id, std::string title, std::vector<std::string> authors,
            std::string category, std::string feed_day, int64_t upvotes) {
  Paper p;
  p.arxiv_id = std::move(arxiv_id);
  p.title = std::move(title);
  p.abstract = "We study " + p.title + " and report results on standard benchmarks.";
  p.authors = std::move(authors);
  p.categories = {std::move(category)};
  p.published = feed_day;
  p.feed_day = std::move(feed_day);
  p.submitted_at = p.feed_day + "T08:00:00.000Z";
  p.upvotes = upvotes;
  return p;
}

// 2026-11-28 08:30 UTC, a Saturday: 00:30 in Los Angeles, 17:30 in Tokyo.
const sys_seconds kNow = sys_days{std::chrono::year{2026} / 11 / 28} + hours(8) + minutes(30);

class DigestTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string pattern = (fs::temp_directory_path() / "paperboy-digest-XXXXXX").string();
    dir_ = mkdtemp(pattern.data());
    auto papers = store::open_sqlite_store(dir_ / "papers.db");
    ASSERT_TRUE(papers) << papers.error().message;
    papers_ = std::move(*papers);
    auto subscriptions = store::open_sqlite_subscription_store(dir_ / "papers.db");
    ASSERT_TRUE(subscriptions) << subscriptions.error().message;
    subscriptions_ = std::move(*subscriptions);

    std::vector<Paper> corpus = {
        paper("2312.00752", "Mamba: Linear-Time Sequence Modeling with Selective State Spaces",
              {"Albert Gu", "Tri Dao"}, "cs.LG", "2026-11-27", 50),
        paper("2611.00002", "A Survey of Low-Resource Machine Translation",
              {"Ada Byron", "Grace Hopper"}, "cs.CL", "2026-11-27", 10),
        paper("2611.00003", "Protein Folding with Diffusion Priors", {"Rosalind Franklin"},
              "q-bio.BM", "2026-11-26", 30),
        paper("2307.08621", "Retentive Network: A Successor to Transformer",
              {"Yutao Sun", "Li Dong"}, "cs.CL", "2026-11-20", 100),
        paper("2611.00005", "Masked Autoencoders for Zoë's Vision Benchmarks",
              {"Kaiming He", "Xinlei Chen"}, "cs.CV", "2026-11-27", 5),
    };
    ASSERT_TRUE(papers_->begin_batch());
    for (const Paper& p : corpus) ASSERT_TRUE(papers_->upsert(p));
    ASSERT_TRUE(papers_->commit_batch());
    {
      auto writer = index::IndexWriter::open(dir_ / "index");
      ASSERT_TRUE(writer) << writer.error().message;
      for (const Paper& p : corpus) ASSERT_TRUE((*writer)->add(index::document_from_paper(p)));
      ASSERT_TRUE((*writer)->commit());
    }
    auto snapshot = index::Snapshot::open(dir_ / "index");
    ASSERT_TRUE(snapshot) << snapshot.error().message;
    snapshot_ = *snapshot;

    sink_ = std::make_unique<testing::SmtpSink>(dir_ / "mail");
    settings_.smtp.port = sink_->port();
    settings_.smtp.timeout = std::chrono::seconds(5);
    settings_.from = {"paperboy", "digest@papers.example.org"};
    settings_.base_url = "https://papers.example.org";
    settings_.secret = "a test secret that is long enough to sign links";
    auto client = SmtpClient::create(settings_.smtp);
    ASSERT_TRUE(client);
    smtp_ = std::move(*client);
  }

  void TearDown() override {
    sink_.reset();
    fs::remove_all(dir_);
  }

  Subscription active(const std::string& email, const std::string& time_zone, int hour,
                      store::Topics topics,
                      store::DigestFrequency frequency = store::DigestFrequency::daily) {
    Subscription s;
    s.email = email;
    s.time_zone = time_zone;
    s.send_hour = hour;
    s.topics = std::move(topics);
    s.frequency = frequency;
    auto stored = subscriptions_->subscribe(s, kNow - hours(48));
    EXPECT_TRUE(stored) << stored.error().message;
    EXPECT_TRUE(subscriptions_->set_subscription_state(stored->id, SubscriptionState::active,
                                                       kNow - hours(47)));
    return *stored;
  }

  QueueReport queue(sys_seconds now) {
    DigestBuilder builder(*papers_, {.keyword_index = snapshot_}, now);
    auto report = queue_due_digests(*subscriptions_, builder, settings_, now);
    EXPECT_TRUE(report) << report.error().message;
    return report.value_or(QueueReport{});
  }

  DeliveryTotals deliver(sys_seconds now) {
    auto totals = deliver_outbox(*subscriptions_, *smtp_, settings_, now);
    EXPECT_TRUE(totals) << totals.error().message;
    return totals.value_or(DeliveryTotals{});
  }

  std::vector<nlohmann::json> mail_to(const std::string& address) {
    std::vector<nlohmann::json> out;
    for (auto& m : sink_->messages()) {
      if (m["rcpt_tos"][0] == address) out.push_back(m);
    }
    return out;
  }

  fs::path dir_;
  std::unique_ptr<store::Store> papers_;
  std::unique_ptr<store::SubscriptionStore> subscriptions_;
  std::shared_ptr<const index::Snapshot> snapshot_;
  std::unique_ptr<testing::SmtpSink> sink_;
  std::unique_ptr<SmtpClient> smtp_;
  MailSettings settings_;
};

TEST_F(DigestTest, DoubleOptInSendsNothingButTheConfirmationUntilConfirmed) {
  Subscription request;
  request.email = "ada@example.com";
  request.name = "Ada Byron";
  request.topics.categories = {"cs.CL"};
  auto subscribed = subscribe(*subscriptions_, request, settings_, kNow - hours(2));
  ASSERT_TRUE(subscribed) << subscribed.error().message;
  EXPECT_EQ(subscribed->state, SubscriptionState::pending);
  // Asking twice the same day queues one confirmation.
  ASSERT_TRUE(subscribe(*subscriptions_, request, settings_, kNow - hours(1)));

  EXPECT_EQ(queue(kNow).queued, 0u);
  EXPECT_EQ(deliver(kNow).sent, 1u);
  auto mail = mail_to("ada@example.com");
  ASSERT_EQ(mail.size(), 1u);
  EXPECT_EQ(mail[0]["headers"]["Subject"], "Confirm your paperboy digest");
  std::string text = mail[0]["text"];
  size_t at = text.find("/digest/confirm?token=");
  ASSERT_NE(at, std::string::npos) << text;
  at += std::string_view("/digest/confirm?token=").size();
  std::string token = text.substr(at, text.find_first_of(" \n", at) - at);

  EXPECT_FALSE(confirm(*subscriptions_, token + "x", settings_, kNow));
  EXPECT_FALSE(confirm(*subscriptions_, token, settings_, kNow + hours(24 * 8)))
      << "the link expires after a week";
  auto confirmed = confirm(*subscriptions_, token, settings_, kNow);
  ASSERT_TRUE(confirmed) << confirmed.error().message;
  EXPECT_EQ(confirmed->state, SubscriptionState::active);

  EXPECT_EQ(queue(kNow).queued, 1u);
  EXPECT_EQ(deliver(kNow).sent, 1u);
  mail = mail_to("ada@example.com");
  ASSERT_EQ(mail.size(), 2u);
  EXPECT_EQ(mail[1]["headers"]["Subject"],
            "paperboy daily: A Survey of Low-Resource Machine Translation");
  EXPECT_EQ(mail[1]["headers"]["To"], "Ada Byron <ada@example.com>");
  EXPECT_NE(mail[1]["headers"]["List-Unsubscribe"].get<std::string>().find(
                "https://papers.example.org/digest/unsubscribe?token="),
            std::string::npos);
  EXPECT_NE(mail[1]["text"].get<std::string>().find("Unsubscribe: https://"), std::string::npos);
  EXPECT_NE(mail[1]["html"].get<std::string>().find("/papers/2611.00002"), std::string::npos);

  // Running the job again sends nothing more.
  EXPECT_EQ(queue(kNow + minutes(10)).queued, 0u);
  EXPECT_EQ(deliver(kNow + minutes(10)).sent, 0u);
  EXPECT_EQ(mail_to("ada@example.com").size(), 2u);
}

TEST_F(DigestTest, EachSubscriberGetsTheirTopicsOnTheirLocalSchedule) {
  active("ada@example.com", "UTC", 7, {{"cs.CL"}, {}, {}});
  active("bob@example.org", "America/Los_Angeles", 7, {{"cs"}, {}, {}});
  active("chen@example.net", "Asia/Tokyo", 9, {{}, {"selective state spaces"}, {"Kaiming He"}});
  active("dana@example.com", "UTC", 7, {}, store::DigestFrequency::weekly);

  QueueReport report = queue(kNow);
  EXPECT_EQ(report.subscribers, 4u);
  EXPECT_EQ(report.queued, 3u);
  EXPECT_EQ(deliver(kNow).sent, 3u);

  auto ada = mail_to("ada@example.com");
  ASSERT_EQ(ada.size(), 1u);
  std::string text = ada[0]["text"];
  std::string chosen = text.substr(0, text.find("Trending on paperboy"));
  EXPECT_NE(chosen.find("1. A Survey of Low-Resource Machine Translation"), std::string::npos);
  EXPECT_EQ(chosen.find("Mamba"), std::string::npos) << "not in cs.CL";
  EXPECT_EQ(chosen.find("Retentive Network"), std::string::npos) << "older than the latest day";
  EXPECT_NE(text.find("Trending on paperboy"), std::string::npos);

  EXPECT_TRUE(mail_to("bob@example.org").empty()) << "00:30 in Los Angeles: not yet";

  auto chen = mail_to("chen@example.net");
  ASSERT_EQ(chen.size(), 1u);
  text = chen[0]["text"];
  size_t mamba = text.find("1. Mamba");
  size_t mae = text.find("2. Masked Autoencoders for Zoë's");
  EXPECT_NE(mamba, std::string::npos) << text;
  EXPECT_NE(mae, std::string::npos) << text;
  EXPECT_NE(text.find("matches \"selective state spaces\""), std::string::npos);
  EXPECT_NE(text.find("by Kaiming He"), std::string::npos);
  EXPECT_EQ(chen[0]["headers"]["Subject"],
            "paperboy daily: Mamba: Linear-Time Sequence Modeling with Selective State Spaces "
            "and 1 more");

  auto dana = mail_to("dana@example.com");
  ASSERT_EQ(dana.size(), 1u);
  text = dana[0]["text"];
  EXPECT_NE(text.find("Your weekly papers, 2026-11-21 to 2026-11-27"), std::string::npos);
  for (const char* title : {"Mamba", "Protein Folding", "Low-Resource", "Masked Autoencoders"}) {
    EXPECT_NE(text.find(title), std::string::npos) << title;
  }
  EXPECT_EQ(text.substr(0, text.find("Trending")).find("Retentive"), std::string::npos);

  // 08:00 in Los Angeles: Bob's turn, with every cs paper of the day, most upvoted first.
  report = queue(kNow + hours(8));
  EXPECT_EQ(report.queued, 1u);
  EXPECT_EQ(report.already, 2u) << "Ada's and Dana's; in Tokyo it is 01:30 of the next day";
  EXPECT_EQ(deliver(kNow + hours(8)).sent, 1u);
  auto bob = mail_to("bob@example.org");
  ASSERT_EQ(bob.size(), 1u);
  text = bob[0]["text"];
  EXPECT_LT(text.find("1. Mamba"), text.find("2. A Survey"));
  EXPECT_LT(text.find("2. A Survey"), text.find("3. Masked"));
  EXPECT_EQ(sink_->messages().size(), 4u);
}

TEST_F(DigestTest, ASmtpServerThatIsDownGetsTheDigestLaterOnce) {
  active("ada@example.com", "UTC", 7, {{"cs.CL"}, {}, {}});
  int port = sink_->port();
  sink_->stop();
  EXPECT_EQ(queue(kNow).queued, 1u);
  DeliveryTotals down = deliver(kNow);
  EXPECT_EQ(down.deferred, 1u);
  EXPECT_EQ(down.sent, 0u);
  EXPECT_EQ(deliver(kNow + std::chrono::seconds(30)).deferred, 0u) << "waits for its retry time";

  sink_ = std::make_unique<testing::SmtpSink>(dir_ / "mail", port);
  EXPECT_EQ(queue(kNow + minutes(1)).queued, 0u);
  EXPECT_EQ(deliver(kNow + minutes(1)).sent, 1u);
  EXPECT_EQ(deliver(kNow + hours(1)).sent, 0u);
  EXPECT_EQ(mail_to("ada@example.com").size(), 1u);
}

TEST_F(DigestTest, ASenderKilledBetweenSendingAndMarkingResendsThatMessageOnce) {
  active("ada@example.com", "UTC", 7, {{"cs.CL"}, {}, {}});
  EXPECT_EQ(queue(kNow).queued, 1u);
  pid_t child = fork();
  if (child == 0) {
    // A sender that dies after the server accepted the message, before recording it.
    auto subscriptions = store::open_sqlite_subscription_store(dir_ / "papers.db");
    auto smtp = SmtpClient::create(settings_.smtp);
    if (!subscriptions || !smtp) _exit(2);
    auto claimed = (*subscriptions)->claim_due(kNow, settings_.lease, 10);
    if (!claimed || claimed->size() != 1) _exit(3);
    DeliveryReport report =
        (*smtp)->send(settings_.from.address, (*claimed)[0].recipient, (*claimed)[0].message);
    _exit(report.outcome == DeliveryOutcome::kAccepted ? 0 : 4);
  }
  int status = 0;
  ASSERT_EQ(waitpid(child, &status, 0), child);
  ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << status;
  ASSERT_EQ(mail_to("ada@example.com").size(), 1u);

  EXPECT_EQ(deliver(kNow + minutes(1)).sent, 0u) << "the dead sender's lease still holds";
  EXPECT_EQ(deliver(kNow + settings_.lease).sent, 1u);
  EXPECT_EQ(deliver(kNow + hours(2)).sent, 0u);
  auto mail = mail_to("ada@example.com");
  ASSERT_EQ(mail.size(), 2u) << "at most the message in flight is sent twice";
  EXPECT_EQ(mail[0]["headers"]["Message-ID"], mail[1]["headers"]["Message-ID"]);
}

TEST_F(DigestTest, OneClickUnsubscribeStopsTheNextDigest) {
  Subscription ada = active("ada@example.com", "UTC", 7, {{"cs.CL"}, {}, {}});
  EXPECT_EQ(queue(kNow).queued, 1u);
  std::string url = unsubscribe_url(ada, settings_);
  std::string token = url.substr(url.find("token=") + 6);
  EXPECT_FALSE(confirm(*subscriptions_, token, settings_, kNow)) << "not a confirmation link";
  auto left = unsubscribe(*subscriptions_, token, settings_, kNow);
  ASSERT_TRUE(left) << left.error().message;
  EXPECT_EQ(left->state, SubscriptionState::unsubscribed);
  EXPECT_EQ(deliver(kNow).sent, 0u);
  EXPECT_EQ(queue(kNow + hours(24)).queued, 0u);
  EXPECT_EQ(deliver(kNow + hours(24)).sent, 0u);
  EXPECT_TRUE(sink_->messages().empty());
}

TEST_F(DigestTest, RefusesMalformedAddressesHeaderInjectionAndUnknownTimeZones) {
  Subscription request;
  request.email = "not an address";
  auto refused = subscribe(*subscriptions_, request, settings_, kNow);
  ASSERT_FALSE(refused);
  EXPECT_NE(refused.error().message.find("email"), std::string::npos);

  request.email = "eve@example.com";
  request.name = "Eve\r\nBcc: everyone@example.net";
  refused = subscribe(*subscriptions_, request, settings_, kNow);
  ASSERT_FALSE(refused);
  EXPECT_NE(refused.error().message.find("To name"), std::string::npos);

  request.name = "Eve";
  request.time_zone = "Mars/Olympus_Mons";
  refused = subscribe(*subscriptions_, request, settings_, kNow);
  ASSERT_FALSE(refused);
  EXPECT_NE(refused.error().message.find("time_zone"), std::string::npos);

  EXPECT_FALSE(*subscriptions_->find_subscription("eve@example.com"));
  EXPECT_EQ(deliver(kNow).sent, 0u);
}

TEST_F(DigestTest, PapersLikeMyUpvotesComeFromTheAccountWithTheSubscribersEmail) {
  auto community = store::open_sqlite_community_store(dir_ / "papers.db");
  ASSERT_TRUE(community) << community.error().message;
  auto ada = (*community)->add_user({"ada", "ada@example.org", "x", store::Role::user});
  ASSERT_TRUE(ada) << ada.error().message;
  ASSERT_TRUE((*community)->toggle_vote(ada->id, "2307.08621"));  // Retentive Network

  store::Topics likes;
  likes.like_my_papers = true;
  Subscription ada_digest = active("ada@example.org", "UTC", 7, likes);
  ada_digest.max_papers = 1;
  auto stored = subscriptions_->find_subscription("ada@example.org");
  ASSERT_TRUE(stored && *stored);
  EXPECT_TRUE((*stored)->topics.like_my_papers);
  EXPECT_TRUE((*stored)->topics.categories.empty());

  DigestBuilder builder(*papers_, {.keyword_index = snapshot_, .community = community->get()},
                        kNow);
  auto digest = builder.build(ada_digest, "daily 2026-11-28");
  ASSERT_TRUE(digest) << digest.error().message;
  ASSERT_TRUE(*digest);
  ASSERT_EQ((*digest)->papers.size(), 1u);
  EXPECT_EQ((*digest)->papers[0].paper.feed_day, "2026-11-27");
  EXPECT_EQ((*digest)->papers[0].reason,
            "like «Retentive Network: A Successor to Transformer» that you upvoted");

  // No account has this address: the topic matches nothing, so no digest is due.
  Subscription stranger = active("stranger@example.org", "UTC", 7, likes);
  auto none = builder.build(stranger, "daily 2026-11-28");
  ASSERT_TRUE(none) << none.error().message;
  EXPECT_FALSE(*none);
  // Without the community store, neither.
  DigestBuilder without(*papers_, {.keyword_index = snapshot_}, kNow);
  auto neither = without.build(ada_digest, "daily 2026-11-28");
  ASSERT_TRUE(neither) << neither.error().message;
  EXPECT_FALSE(*neither);
}

TEST_F(DigestTest, ABouncingAddressIsRecordedAndPausedAfterRepeatedBounces) {
  Subscription bouncing = active("rejected@example.com", "UTC", 7, {{"cs"}, {}, {}});
  settings_.pause_after_bounces = 2;
  for (int day = 0; day < 2; ++day) {
    sys_seconds now = kNow + hours(24 * day);
    // A new paper each day, so each day has a digest to send.
    ASSERT_TRUE(papers_->begin_batch());
    std::string feed_day = day == 0 ? "2026-11-28" : "2026-11-29";
    ASSERT_TRUE(papers_->upsert(paper("2611.1000" + std::to_string(day), "Paper " + feed_day,
                                      {"A. Author"}, "cs.AI", feed_day, 1)));
    ASSERT_TRUE(papers_->commit_batch());
    EXPECT_EQ(queue(now).queued, 1u) << day;
    EXPECT_EQ(deliver(now).failed, 1u) << day;
  }
  auto stored = subscriptions_->subscription_by_id(bouncing.id);
  ASSERT_TRUE(stored && *stored);
  EXPECT_EQ((*stored)->state, SubscriptionState::paused);
  auto outbox = subscriptions_->outbox_of(bouncing.id);
  ASSERT_EQ(outbox->size(), 2u);
  EXPECT_NE((*outbox)[0].last_error.find("550"), std::string::npos) << (*outbox)[0].last_error;
}

}  // namespace
}  // namespace paperboy::mail
