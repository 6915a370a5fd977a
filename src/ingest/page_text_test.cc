// The page-capture importer against the seed page and its JSON twin (same 115 papers).
#include <gtest/gtest.h>
#include <simdjson.h>

#include "ingest/ingest.h"
#include "ingest/test_support.h"

namespace paperboy::ingest {
namespace {

using testing::Collected;
using testing::fixture;
using testing::import_all;
using testing::TempDir;

struct Expected {
  std::string title, abstract, published, code_url;
  int64_t upvotes = 0, authors_count = 0;
};

std::vector<Expected> seed_papers() {
  std::vector<Expected> papers;
  simdjson::dom::parser parser;
  simdjson::padded_string json = simdjson::padded_string::load(fixture("papers.jsonl").string());
  simdjson::dom::document_stream stream;
  EXPECT_EQ(parser.parse_many(json).get(stream), simdjson::SUCCESS);
  for (auto document : stream) {
    simdjson::dom::object object = document.get_object();
    Expected paper;
    for (auto [key, value] : object) {
      if (key == "title") paper.title = std::string_view(value.get_string());
      if (key == "abstract") paper.abstract = std::string_view(value.get_string());
      if (key == "published") paper.published = std::string_view(value.get_string());
      if (key == "code_url") paper.code_url = std::string_view(value.get_string());
      if (key == "upvotes") paper.upvotes = value.get_int64();
      if (key == "authors_count") paper.authors_count = value.get_int64();
    }
    papers.push_back(std::move(paper));
  }
  return papers;
}

TEST(PageText, ReproducesAllSeedPapers) {
  const std::vector<Expected> expected = seed_papers();
  ASSERT_EQ(expected.size(), 115u);
  Collected got = import_all(fixture("page.txt"));
  ASSERT_TRUE(got.result.has_value()) << got.result.error().message;
  EXPECT_EQ(got.rejections.size(), 0u) << got.rejection_text();
  ASSERT_EQ(got.papers.size(), expected.size());
  for (size_t i = 0; i < expected.size(); ++i) {
    const Paper& paper = got.papers[i];
    SCOPED_TRACE(expected[i].title);
    EXPECT_EQ(paper.title, expected[i].title);
    EXPECT_EQ(paper.abstract, expected[i].abstract);
    EXPECT_EQ(paper.upvotes, expected[i].upvotes);
    EXPECT_EQ(paper.author_count, expected[i].authors_count);
    EXPECT_EQ(paper.published, expected[i].published);
    EXPECT_EQ(paper.code_url, expected[i].code_url);
    EXPECT_EQ(paper.feed_day, "2025-11-06");
    EXPECT_EQ(paper.arxiv_id, "");
    EXPECT_EQ(paper.source, "page-text");
  }
}

TEST(PageText, CaptureYearComesFromTheOptionOrTheFileName) {
  ImportOptions options;
  options.capture_year = 2024;
  Collected given = import_all(fixture("page.txt"), options);
  ASSERT_EQ(given.papers.size(), 115u);
  EXPECT_EQ(given.papers[0].feed_day, "2024-11-06");
  EXPECT_EQ(
      given.papers[14].title,
      "Samba-asr state-of-the-art speech recognition leveraging structured state-space models");
  EXPECT_EQ(given.papers[14].published, "2024-01-06");
  EXPECT_EQ(given.papers[14].upvotes, 5);
  EXPECT_EQ(given.papers[0].published, "2024-06-09");  // shown with its year

  TempDir dir;
  auto named = dir.file("daily-2026-11-06.txt", testing::read_bytes(fixture("page.txt")));
  Collected from_name = import_all(named);
  ASSERT_EQ(from_name.papers.size(), 115u);
  EXPECT_EQ(from_name.papers[14].published, "2026-01-06");
}

TEST(PageText, APageWithoutItsDateIsAFileError) {
  TempDir dir;
  auto path =
      dir.file("page.txt", "Daily Papers\n\nA title\n\nAn abstract.\n\n  \xE2\x80\xA2 2 authors\n");
  Collected got = import_all(path);
  ASSERT_FALSE(got.result.has_value());
  EXPECT_NE(got.result.error().message.find("no page date"), std::string::npos);
}

}  // namespace
}  // namespace paperboy::ingest
