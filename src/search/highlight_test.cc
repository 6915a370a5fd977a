#include "search/highlight.h"

#include <gtest/gtest.h>

namespace paperboy::search {
namespace {

Query parsed(std::string_view text) { return *parse_query(text); }

TEST(Highlight, MarksMatchedWordsAndEscapesTheRest) {
  EXPECT_EQ(highlight("Modeling <State> Spaces & more", parsed("state space")),
            "Modeling &lt;<mark>State</mark>&gt; <mark>Spaces</mark> &amp; more");
}

TEST(Highlight, CompoundsMarkOnce) {
  EXPECT_EQ(highlight("a state-space model", parsed("statespace")),
            "a <mark>state-space</mark> model");
}

TEST(Snippet, PicksThePassageWithTheQueryWords) {
  std::string text(400, 'x');
  for (size_t i = 9; i < text.size(); i += 10) text[i] = ' ';
  text += " the mamba architecture uses selective scans ";
  text += std::string(400, 'y');
  std::string passage = snippet(text, parsed("mamba selective"), 120);
  EXPECT_NE(passage.find("<mark>mamba</mark>"), std::string::npos);
  EXPECT_NE(passage.find("<mark>selective</mark>"), std::string::npos);
  EXPECT_EQ(passage.rfind("… ", 0), 0u);
  EXPECT_LT(passage.size(), 200u);
}

TEST(Snippet, NoMatchGivesTheStartAndInvalidUtf8StaysValid) {
  std::string text = "Caf\xc3\xa9 \xff" + std::string(300, 'z');
  std::string passage = snippet(text, parsed("absent"), 50);
  EXPECT_EQ(passage.rfind("Café", 0), 0u);
  EXPECT_EQ(passage.find('\xff'), std::string::npos);
}

}  // namespace
}  // namespace paperboy::search
