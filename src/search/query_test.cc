#include "search/query.h"

#include <gtest/gtest.h>

#include <string>

namespace paperboy::search {
namespace {

std::vector<std::string> first_terms(const Query& query) {
  std::vector<std::string> terms;
  for (const Group& group : query.groups) terms.push_back(group.alternatives.front().terms.front());
  return terms;
}

TEST(ParseQuery, FreeWordsBecomeGroups) {
  auto query = parse_query("Mamba selective state spaces");
  ASSERT_TRUE(query);
  EXPECT_EQ(first_terms(*query), (std::vector<std::string>{"mamba", "select", "state", "space"}));
  EXPECT_FALSE(query->groups[0].strict);
}

TEST(ParseQuery, PhrasesKeepOffsetsAcrossStopWords) {
  auto query = parse_query("\"state of the art\" results");
  ASSERT_TRUE(query);
  ASSERT_EQ(query->groups.size(), 2u);
  const Clause& phrase = query->groups[0].alternatives[0];
  EXPECT_EQ(phrase.terms, (std::vector<std::string>{"state", "art"}));
  EXPECT_EQ(phrase.offsets, (std::vector<uint32_t>{0, 3}));
  EXPECT_TRUE(query->groups[0].strict);
}

TEST(ParseQuery, CompoundsAcceptTheJoinedForm) {
  auto query = parse_query("state-space");
  ASSERT_TRUE(query);
  ASSERT_EQ(query->groups.size(), 2u);
  ASSERT_EQ(query->groups[0].alternatives.size(), 2u);
  EXPECT_EQ(query->groups[0].alternatives[1].terms[0], "statespac");
  EXPECT_EQ(query->groups[1].alternatives[1].terms[0], "statespac");
}

TEST(ParseQuery, ExclusionsOrAndFields) {
  auto query =
      parse_query("diffusion OR flow -survey -\"large language\" title:mamba author:\"Albert Gu\"");
  ASSERT_TRUE(query);
  ASSERT_EQ(query->groups.size(), 3u);
  EXPECT_EQ(query->groups[0].alternatives.size(), 2u);
  EXPECT_EQ(query->groups[0].alternatives[1].terms[0], "flow");
  EXPECT_EQ(query->groups[1].alternatives[0].scope, Scope::kTitle);
  EXPECT_EQ(query->groups[2].alternatives[0].scope, Scope::kAuthors);
  EXPECT_EQ(query->groups[2].alternatives[0].terms, (std::vector<std::string>{"albert", "gu"}));
  ASSERT_EQ(query->excluded.size(), 2u);
  EXPECT_EQ(query->excluded[0].terms, std::vector<std::string>{"survey"});
  EXPECT_EQ(query->excluded[1].terms, (std::vector<std::string>{"larg", "languag"}));
}

TEST(ParseQuery, CategoryAndDateFilters) {
  auto query = parse_query("cat:cs.CL cat:math after:2024-01-01 before:2024-03-01 year:2024");
  ASSERT_TRUE(query);
  EXPECT_TRUE(query->groups.empty());
  EXPECT_EQ(query->categories, (std::vector<std::string>{"cs.cl", "math"}));
  EXPECT_EQ(query->first_day, 19723 + 1);  // 2024-01-01 is day 19723
  EXPECT_EQ(query->last_day, 19783 - 1);   // 2024-03-01 is day 19783
  EXPECT_TRUE(query->has_filters());
}

TEST(ParseQuery, BadDatesAreReportedByOperator) {
  auto query = parse_query("mamba after:yesterday");
  ASSERT_FALSE(query);
  EXPECT_NE(query.error().message.find("after:"), std::string::npos);
  EXPECT_FALSE(parse_query("year:20x4"));
  EXPECT_FALSE(parse_query("before:2024-02-30"));
}

TEST(ParseQuery, ArxivIdsAndUrlsJump) {
  for (const char* text :
       {"2312.00752", " arXiv:2312.00752v2 ", "https://arxiv.org/abs/2312.00752"}) {
    auto query = parse_query(text);
    ASSERT_TRUE(query) << text;
    ASSERT_TRUE(query->arxiv_id) << text;
    EXPECT_EQ(*query->arxiv_id, "2312.00752");
  }
  EXPECT_FALSE(parse_query("mamba 2312.00752")->arxiv_id);
}

TEST(ParseQuery, OddInputNeverFails) {
  std::string huge(10'000, 'a');
  for (size_t i = 7; i < huge.size(); i += 8) huge[i] = ' ';
  std::string control = "mamba\x01\x02\x7f ssm";
  std::string invalid = "state\xff\xfe space \xc3";
  for (const std::string& text :
       {std::string("\"unbalanced phrase"), std::string("OR"), std::string("- -- OR -"),
        std::string("the of and"), std::string("title:"), std::string("cat:"), std::string("\"\""),
        std::string(":::"), huge, control, invalid, std::string("a OR OR b")}) {
    auto query = parse_query(text);
    ASSERT_TRUE(query) << text;
    EXPECT_LE(query->groups.size(), kMaxGroups);
  }
  auto unbalanced = parse_query("\"unbalanced phrase");
  EXPECT_EQ(unbalanced->groups.size(), 1u);
  EXPECT_FALSE(unbalanced->notes.empty());
  EXPECT_TRUE(parse_query("the of and")->groups.empty());
  EXPECT_EQ(first_terms(*parse_query(control)), (std::vector<std::string>{"mamba", "ssm"}));
}

}  // namespace
}  // namespace paperboy::search
