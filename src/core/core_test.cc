#include <gtest/gtest.h>

#include "core/arxiv_id.h"
#include "core/date.h"
#include "core/escape.h"
#include "core/paper.h"

namespace paperboy {
namespace {

TEST(ArxivId, AcceptsTheFormsSourcesWrite) {
  struct Case {
    const char* text;
    const char* id;
    int version;
  };
  for (const Case& c : {Case{"2312.00752", "2312.00752", 0}, Case{"2312.00752v2", "2312.00752", 2},
                        Case{"arXiv:2312.00752v11", "2312.00752", 11},
                        Case{"https://arxiv.org/abs/2312.00752v2", "2312.00752", 2},
                        Case{"http://arxiv.org/pdf/2312.00752.pdf", "2312.00752", 0},
                        Case{"oai:arXiv.org:0704.0001", "0704.0001", 0},
                        Case{"hep-th/9901001v1", "hep-th/9901001", 1},
                        Case{"http://arxiv.org/abs/math.AG/0309136", "math.AG/0309136", 0},
                        Case{"solv-int/9901001", "solv-int/9901001", 0}}) {
    auto parsed = parse_arxiv_id(c.text);
    ASSERT_TRUE(parsed.has_value()) << c.text;
    EXPECT_EQ(parsed->id, c.id) << c.text;
    EXPECT_EQ(parsed->version, c.version) << c.text;
  }
}

TEST(ArxivId, RejectsOtherText) {
  for (const char* text :
       {"", "mamba", "2312.0075", "2313.00752", "https://example.com/abs/2312.00752", "12345.6789",
        "hep-th/99010", "2312.00752vx"}) {
    EXPECT_FALSE(parse_arxiv_id(text).has_value()) << text;
  }
}

TEST(Date, ParsesEverySourceFormat) {
  EXPECT_EQ(format_date(*parse_date("2024-05-30")), "2024-05-30");
  EXPECT_EQ(format_date(*parse_date("2025-05-30T17:59:01.000Z")), "2025-05-30");
  EXPECT_EQ(format_date(*parse_date("Mon, 2 Apr 2007 19:18:42 GMT")), "2007-04-02");
  EXPECT_EQ(format_date(*parse_date("Jun 9, 2024")), "2024-06-09");
  EXPECT_EQ(format_date(*parse_date("2 Apr 2007")), "2007-04-02");
  EXPECT_FALSE(parse_date("2024-02-30").has_value());
  EXPECT_FALSE(parse_date("yesterday").has_value());
  EXPECT_FALSE(parse_date("").has_value());
}

TEST(Date, ParsesInstantsWithOffsets) {
  EXPECT_EQ(format_instant(*parse_instant("2025-06-02T03:18:21.654Z")), "2025-06-02T03:18:21Z");
  EXPECT_EQ(format_instant(*parse_instant("2025-06-02T03:18:21+02:00")), "2025-06-02T01:18:21Z");
  EXPECT_EQ(format_instant(*parse_instant("2025-06-02")), "2025-06-02T00:00:00Z");
  EXPECT_FALSE(parse_instant("2025-06-02T25:00:00Z").has_value());
}

TEST(Date, WeeksStartOnMondayAndMonthsOnTheFirst) {
  auto sunday = *parse_date("2025-11-09");
  EXPECT_EQ(format_date(week_start(sunday)), "2025-11-03");
  EXPECT_EQ(format_date(week_start(*parse_date("2025-11-03"))), "2025-11-03");
  EXPECT_EQ(format_date(month_start(sunday)), "2025-11-01");
}

TEST(TitleKey, FoldsCaseAccentsAndPunctuation) {
  EXPECT_EQ(title_key("Mamba YOLO: SSMs-Based YOLO\n  For Object Detection"),
            "mamba yolo ssms based yolo for object detection");
  EXPECT_EQ(title_key("Caf\xC3\xA9  R\xC3\xA9sum\xC3\xA9"), "cafe resume");
  EXPECT_EQ(title_key("ＡＢＣ"), "abc");
}

TEST(PaperId, UsesTheArxivIdOrAStableTitleHash) {
  Paper with_id;
  with_id.arxiv_id = "2312.00752";
  EXPECT_EQ(paper_id(with_id), "2312.00752");
  Paper a, b;
  a.title = "Mamba YOLO: SSMs-Based YOLO";
  b.title = "mamba yolo   ssms based yolo";
  EXPECT_EQ(paper_id(a), paper_id(b));
  EXPECT_TRUE(paper_id(a).starts_with("title-"));
}

TEST(CollapseWhitespace, JoinsHardLineBreaks) {
  EXPECT_EQ(collapse_whitespace("  Calculation of prompt\n  diphoton  "),
            "Calculation of prompt diphoton");
}

TEST(MarkupEscaped, ReplacesEveryMarkupCharacter) {
  EXPECT_EQ(markup_escaped("<a href=\"x\">Tom & Jerry's</a>"),
            "&lt;a href=&quot;x&quot;&gt;Tom &amp; Jerry&#39;s&lt;/a&gt;");
  EXPECT_EQ(markup_escaped("plain"), "plain");
}

}  // namespace
}  // namespace paperboy
