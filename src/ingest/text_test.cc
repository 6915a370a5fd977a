// Text helpers, checked against core where they stand in for it.
#include "ingest/text.h"

#include <gtest/gtest.h>

#include "core/date.h"
#include "core/paper.h"
#include "ingest/test_support.h"

namespace paperboy::ingest {
namespace {

TEST(CollapseText, MatchesCoreCollapseWhitespace) {
  std::vector<std::string> samples = {"",           " ",         "a",          "  a  b\n\nc \t",
                                      "\v\fx\r\ny", "no-spaces", "trailing \n"};
  // Every line of the snapshot sample: real arXiv text with hard line breaks and indentation.
  const std::string snapshot =
      testing::read_bytes(testing::fixture("arxiv-metadata-oai-snapshot.json"));
  for (size_t start = 0; start < snapshot.size();) {
    size_t end = snapshot.find('\n', start);
    samples.push_back(snapshot.substr(start, end - start));
    start = end == std::string::npos ? snapshot.size() : end + 1;
  }
  for (const std::string& sample : samples)
    EXPECT_EQ(collapse_text(sample), collapse_whitespace(sample));
}

TEST(FormatDay, MatchesCoreFormatDate) {
  using namespace std::chrono;
  for (sys_days day = sys_days{1899y / January / 1}; day < sys_days{2101y / January / 1};
       day += days{37}) {
    EXPECT_EQ(format_day(day), format_date(day));
  }
}

TEST(FirstGithubUrl, TrimsToTheRepository) {
  EXPECT_EQ(first_github_url("Code: https://github.com/a-b/c_d.e/tree/main."),
            "https://github.com/a-b/c_d.e");
  EXPECT_EQ(first_github_url("at:https://github.com/HZAI-ZJNU/Mamba-YOLO"),
            "https://github.com/HZAI-ZJNU/Mamba-YOLO");
  EXPECT_EQ(first_github_url("(Code: https://github.com/yitu-opensource/T2T-ViT)"),
            "https://github.com/yitu-opensource/T2T-ViT");
  EXPECT_EQ(first_github_url("see https://gist.github.com/x/y then github.com/real/repo."),
            "https://github.com/real/repo");
  EXPECT_EQ(first_github_url("https://github.com/only-owner and https://github.com/"), "");
}

TEST(SplitAuthorList, DropsAffiliationsAndSplitsOnCommasAndAnd) {
  EXPECT_EQ(
      split_author_list("A. S. Mishchenko (1 and 2) and N. Nagaosa (1 and 3) ((1) CREST, Japan)"),
      (std::vector<std::string>{"A. S. Mishchenko", "N. Nagaosa"}));
  EXPECT_EQ(split_author_list("C. Bal\\'azs, E. L. Berger,\n  P. M. Nadolsky"),
            (std::vector<std::string>{"C. Bal\\'azs", "E. L. Berger", "P. M. Nadolsky"}));
}

TEST(DateInFileName, FindsValidDatesOnly) {
  EXPECT_EQ(date_in_file_name("/data/2025-01-10.json.gz"), "2025-01-10");
  EXPECT_EQ(date_in_file_name("capture-2025-11-06.txt"), "2025-11-06");
  EXPECT_EQ(date_in_file_name("2025-13-10.json"), std::nullopt);
  EXPECT_EQ(date_in_file_name("2025-01-10/page.txt"), std::nullopt);
}

}  // namespace
}  // namespace paperboy::ingest
