#include "mail/smtp.h"

#include <gtest/gtest.h>

#include <filesystem>

#include "mail/message.h"
#include "mail/smtp_sink.h"

namespace paperboy::mail {
namespace {

namespace fs = std::filesystem;

class SmtpTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("paperboy-smtp-" + std::to_string(::getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    sink_ = std::make_unique<testing::SmtpSink>(dir_ / "mail");
  }
  void TearDown() override {
    sink_.reset();
    fs::remove_all(dir_);
  }

  std::unique_ptr<SmtpClient> client(int port) {
    SmtpSettings settings;
    settings.port = port;
    settings.timeout = std::chrono::seconds(5);
    auto created = SmtpClient::create(settings);
    EXPECT_TRUE(created) << created.error().message;
    return std::move(*created);
  }

  static std::string rendered(const std::string& to_address, const std::string& to_name,
                              const std::string& subject) {
    Message m;
    m.from = {"paperboy", "digest@papers.example.org"};
    m.to = {to_name, to_address};
    m.subject = subject;
    m.text = "Today: Mamba, linear-time sequence modelling.\n\n-- \nUnsubscribe: link\n";
    m.html = "<p>Today: <b>Mamba</b>, linear-time sequence modelling.</p>\n";
    m.unsubscribe_url = "https://papers.example.org/unsubscribe?t=x";
    m.date = std::chrono::sys_seconds{std::chrono::seconds{1796050800}};
    auto text = render_message(m);
    EXPECT_TRUE(text) << text.error().message;
    return *text;
  }

  fs::path dir_;
  std::unique_ptr<testing::SmtpSink> sink_;
};

TEST_F(SmtpTest, DeliversAMessageThatAMailClientDecodes) {
  auto smtp = client(sink_->port());
  std::string subject = "Neue Arbeiten für Zoë — täglich";
  DeliveryReport report = smtp->send("digest@papers.example.org", "zoe@example.com",
                                     rendered("zoe@example.com", "Zoë Müller", subject));
  EXPECT_EQ(report.outcome, DeliveryOutcome::kAccepted) << report.detail;
  EXPECT_EQ(report.smtp_code, 250);

  auto messages = sink_->messages();
  ASSERT_EQ(messages.size(), 1u);
  const auto& m = messages[0];
  EXPECT_EQ(m["mail_from"], "digest@papers.example.org");
  EXPECT_EQ(m["rcpt_tos"], nlohmann::json::array({"zoe@example.com"}));
  EXPECT_EQ(m["headers"]["Subject"], subject);
  EXPECT_EQ(m["headers"]["To"], "Zoë Müller <zoe@example.com>");
  EXPECT_EQ(m["headers"]["List-Unsubscribe-Post"], "List-Unsubscribe=One-Click");
  EXPECT_TRUE(m["defects"].empty()) << m["defects"];
  // The line break before a MIME boundary belongs to the boundary, so each part loses its last.
  EXPECT_EQ(m["text"], "Today: Mamba, linear-time sequence modelling.\n\n-- \nUnsubscribe: link");
  EXPECT_EQ(m["html"], "<p>Today: <b>Mamba</b>, linear-time sequence modelling.</p>");
  EXPECT_LE(m["max_line_octets"].get<int>(), 78);
}

TEST_F(SmtpTest, KeepsOneConnectionForManyMessages) {
  auto smtp = client(sink_->port());
  for (int i = 0; i < 25; ++i) {
    std::string to = "reader" + std::to_string(i) + "@example.com";
    DeliveryReport report = smtp->send("digest@papers.example.org", to,
                                       rendered(to, "", "Papers " + std::to_string(i)));
    ASSERT_EQ(report.outcome, DeliveryOutcome::kAccepted) << i << ": " << report.detail;
  }
  auto messages = sink_->messages();
  ASSERT_EQ(messages.size(), 25u);
  EXPECT_EQ(messages[24]["headers"]["Subject"], "Papers 24");
}

TEST_F(SmtpTest, ClassifiesPermanentAndTemporaryRefusals) {
  auto smtp = client(sink_->port());
  DeliveryReport rejected = smtp->send("digest@papers.example.org", "rejected@example.com",
                                       rendered("rejected@example.com", "", "x"));
  EXPECT_EQ(rejected.outcome, DeliveryOutcome::kPermanentFailure) << rejected.detail;
  EXPECT_EQ(rejected.smtp_code, 550);

  DeliveryReport deferred = smtp->send("digest@papers.example.org", "later@example.com",
                                       rendered("later@example.com", "", "x"));
  EXPECT_EQ(deferred.outcome, DeliveryOutcome::kTemporaryFailure) << deferred.detail;
  EXPECT_EQ(deferred.smtp_code, 451);

  // The connection is still good for the next recipient.
  DeliveryReport ok = smtp->send("digest@papers.example.org", "ada@example.com",
                                 rendered("ada@example.com", "", "x"));
  EXPECT_EQ(ok.outcome, DeliveryOutcome::kAccepted) << ok.detail;
  EXPECT_EQ(sink_->messages().size(), 1u);
}

TEST_F(SmtpTest, AServerThatIsDownIsATemporaryFailureAndRecovers) {
  int port = sink_->port();
  sink_->stop();
  auto smtp = client(port);
  DeliveryReport down = smtp->send("digest@papers.example.org", "ada@example.com",
                                   rendered("ada@example.com", "", "x"));
  EXPECT_EQ(down.outcome, DeliveryOutcome::kTemporaryFailure);
  EXPECT_FALSE(down.detail.empty());

  sink_ = std::make_unique<testing::SmtpSink>(dir_ / "mail", port);
  DeliveryReport up = smtp->send("digest@papers.example.org", "ada@example.com",
                                 rendered("ada@example.com", "", "x"));
  EXPECT_EQ(up.outcome, DeliveryOutcome::kAccepted) << up.detail;
  EXPECT_EQ(sink_->messages().size(), 1u);
}

TEST_F(SmtpTest, RefusesEnvelopeAddressesWithLineBreaks) {
  auto smtp = client(sink_->port());
  DeliveryReport report =
      smtp->send("digest@papers.example.org", "ada@example.com>\r\nRCPT TO:<x@evil.example",
                 rendered("ada@example.com", "", "x"));
  EXPECT_EQ(report.outcome, DeliveryOutcome::kPermanentFailure);
  EXPECT_TRUE(sink_->messages().empty());
}

TEST(SmtpClientCreate, RefusesAnInvalidPort) {
  SmtpSettings settings;
  settings.port = 70000;
  auto created = SmtpClient::create(settings);
  ASSERT_FALSE(created);
  EXPECT_NE(created.error().message.find("70000"), std::string::npos);
}

}  // namespace
}  // namespace paperboy::mail
