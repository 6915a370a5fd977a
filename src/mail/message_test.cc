#include "mail/message.h"

#include <gtest/gtest.h>

#include <sstream>

namespace paperboy::mail {
namespace {

using std::chrono::sys_seconds;

Message digest_like() {
  Message m;
  m.from = {"paperboy", "digest@papers.example.org"};
  m.to = {"Ada Lovelace", "ada@example.com"};
  m.subject = "Your daily papers";
  m.text = "Hello\nTwo papers today.\n";
  m.html = "<p>Hello</p>\n<p>Two papers today.</p>\n";
  m.unsubscribe_url = "https://papers.example.org/unsubscribe?token=abc";
  m.message_id = "digest-1@papers.example.org";
  m.date = sys_seconds{std::chrono::seconds{1796050800}};  // 2026-11-30 15:00:00 UTC
  return m;
}

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> lines;
  size_t start = 0;
  while (start < text.size()) {
    size_t end = text.find("\r\n", start);
    EXPECT_NE(end, std::string::npos) << "line without CRLF at offset " << start;
    if (end == std::string::npos) break;
    lines.push_back(text.substr(start, end - start));
    start = end + 2;
  }
  return lines;
}

TEST(CheckAddress, AcceptsOrdinaryAddresses) {
  EXPECT_TRUE(check_address("ada@example.com"));
  EXPECT_TRUE(check_address("first.last+papers@mail.cs.example.ac.uk"));
  EXPECT_TRUE(check_address("o'brien@example.ie"));
}

TEST(CheckAddress, RefusesMalformedAddressesWithAReason) {
  for (const char* bad :
       {"", "ada", "@example.com", "ada@", "ada@localhost", "a..b@example.com", ".ada@example.com",
        "ada@-example.com", "ada@exa_mple.com", "ada lovelace@example.com",
        "ada@example.com\r\nBcc: x@evil.example", "ad\xc3\xa4@example.com", "ada@example..com"}) {
    auto result = check_address(bad);
    EXPECT_FALSE(result) << bad;
    if (!result) {
      EXPECT_FALSE(result.error().message.empty());
    }
  }
  EXPECT_FALSE(check_address(std::string(65, 'a') + "@example.com"));
}

TEST(RenderMessage, WritesTheHeadersADigestNeeds) {
  auto rendered = render_message(digest_like());
  ASSERT_TRUE(rendered) << rendered.error().message;
  const std::string& m = *rendered;
  EXPECT_NE(m.find("Date: Mon, 30 Nov 2026 15:00:00 +0000\r\n"), std::string::npos);
  EXPECT_NE(m.find("From: paperboy <digest@papers.example.org>\r\n"), std::string::npos);
  EXPECT_NE(m.find("To: Ada Lovelace <ada@example.com>\r\n"), std::string::npos);
  EXPECT_NE(m.find("Subject: Your daily papers\r\n"), std::string::npos);
  EXPECT_NE(m.find("Message-ID: <digest-1@papers.example.org>\r\n"), std::string::npos);
  EXPECT_NE(m.find("List-Unsubscribe: <https://papers.example.org/unsubscribe?token=abc>\r\n"),
            std::string::npos);
  EXPECT_NE(m.find("List-Unsubscribe-Post: List-Unsubscribe=One-Click\r\n"), std::string::npos);
  EXPECT_NE(m.find("multipart/alternative"), std::string::npos);
  EXPECT_NE(m.find("Content-Type: text/plain; charset=UTF-8"), std::string::npos);
  EXPECT_NE(m.find("Content-Type: text/html; charset=UTF-8"), std::string::npos);
  for (const std::string& line : lines_of(m)) EXPECT_LE(line.size(), 78u) << line;
}

TEST(RenderMessage, GeneratesAMessageIdAtTheSendersDomain) {
  Message m = digest_like();
  m.message_id.clear();
  auto first = render_message(m);
  auto second = render_message(m);
  ASSERT_TRUE(first && second);
  EXPECT_NE(first->find("@papers.example.org>\r\n"), std::string::npos);
  EXPECT_NE(*first, *second);
}

TEST(RenderMessage, EncodesNonAsciiNamesAndSubjects) {
  Message m = digest_like();
  m.to.display_name = "Zoë Müller-Łukasiewicz";
  m.subject = "Neue Arbeiten für Sie: Diffusion, Zustandsräume und Übersetzung — 12 Papiere heute";
  auto rendered = render_message(m);
  ASSERT_TRUE(rendered);
  EXPECT_NE(rendered->find("To: =?UTF-8?B?"), std::string::npos);
  EXPECT_NE(rendered->find("Subject: =?UTF-8?B?"), std::string::npos);
  for (const std::string& line : lines_of(*rendered)) {
    EXPECT_LE(line.size(), 78u) << line;
    for (unsigned char c : line) EXPECT_LT(c, 0x80) << line;
  }
}

TEST(RenderMessage, QuotesNamesWithSpecials) {
  Message m = digest_like();
  m.to.display_name = "Lovelace, Ada \"AL\"";
  auto rendered = render_message(m);
  ASSERT_TRUE(rendered);
  EXPECT_NE(rendered->find("To: \"Lovelace, Ada \\\"AL\\\"\" <ada@example.com>\r\n"),
            std::string::npos);
}

TEST(RenderMessage, RefusesHeaderInjection) {
  Message m = digest_like();
  m.subject = "Papers\r\nBcc: everyone@evil.example";
  auto rendered = render_message(m);
  ASSERT_FALSE(rendered);
  EXPECT_NE(rendered.error().message.find("Subject"), std::string::npos);

  m = digest_like();
  m.to.display_name = "Ada\nBcc: everyone@evil.example";
  rendered = render_message(m);
  ASSERT_FALSE(rendered);
  EXPECT_NE(rendered.error().message.find("To name"), std::string::npos);

  m = digest_like();
  m.to.address = "ada@example.com>\r\nBcc: <x@evil.example";
  EXPECT_FALSE(render_message(m));

  m = digest_like();
  m.unsubscribe_url = "https://papers.example.org/u>\r\nBcc: x@evil.example";
  EXPECT_FALSE(render_message(m));

  m = digest_like();
  m.subject = "bad \xff bytes";
  EXPECT_FALSE(render_message(m));
}

TEST(QuotedPrintable, KeepsLinesShortAndEncodesWhatMustBe) {
  std::string long_line(200, 'x');
  std::string encoded = quoted_printable("a=b \xc3\xa9\n" + long_line + "\n.dot\ntrailing \n");
  EXPECT_EQ(encoded.substr(0, 14), "a=3Db =C3=A9\r\n");
  for (const std::string& line : lines_of(encoded)) EXPECT_LE(line.size(), 76u) << line;
  EXPECT_NE(encoded.find("\r\n=2Edot\r\n"), std::string::npos);
  EXPECT_NE(encoded.find("trailing=20\r\n"), std::string::npos);
}

TEST(EncodeHeaderText, FoldsLongAsciiAtSpaces) {
  std::string subject;
  for (int i = 0; i < 30; ++i) subject += "word ";
  subject += "end";
  std::string folded = encode_header_text(subject, 9);
  std::string unfolded;
  for (char c : folded) {
    if (c != '\r' && c != '\n') unfolded += c;
  }
  EXPECT_EQ(unfolded, subject);
  EXPECT_NE(folded.find("\r\n word"), std::string::npos);
}

}  // namespace
}  // namespace paperboy::mail
