#include "search/highlight.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <string>

#include "text/analyzer.h"

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

// Snippets of real abstracts as the whole-text analysis made them before snippets analysed
// abstracts piece by piece (testdata/snippets.jsonl): the pieces must change nothing.
TEST(Snippet, RealAbstractsGiveTheRecordedPassages) {
  namespace fs = std::filesystem;
  std::map<std::string, std::string> abstracts;
  std::ifstream listing(fs::path(PAPERBOY_SHARED_DATA_DIR) / "arxiv-daily-cs" / "2025-03-25.jsonl");
  ASSERT_TRUE(listing);
  std::string line;
  while (std::getline(listing, line)) {
    auto record = nlohmann::json::parse(line);
    abstracts[record["id"]] = record["summary"];
  }
  std::ifstream recorded(fs::path(PAPERBOY_SOURCE_DIR) / "src/search/testdata/snippets.jsonl");
  ASSERT_TRUE(recorded);
  size_t checked = 0;
  while (std::getline(recorded, line)) {
    auto expected = nlohmann::json::parse(line);
    const std::string& text = abstracts.at(expected["id"]);
    std::string query = expected["query"];
    EXPECT_EQ(snippet(text, parsed(query), 240), expected["snippet"].get<std::string>())
        << expected["id"] << " " << query;
    ++checked;
  }
  EXPECT_EQ(checked, 200u);
}

// What piecewise analysis relies on: no word spans an ASCII space.
TEST(Snippet, WordsNeverSpanASpaceInRealAbstracts) {
  namespace fs = std::filesystem;
  std::ifstream listing(fs::path(PAPERBOY_SHARED_DATA_DIR) / "arxiv-daily-cs" / "2025-03-24.jsonl");
  ASSERT_TRUE(listing);
  std::string line;
  while (std::getline(listing, line)) {
    std::string text =
        text::sanitize_utf8(nlohmann::json::parse(line)["summary"].get<std::string>());
    for (const text::Token& token : text::analyze(text)) {
      ASSERT_EQ(text.substr(token.start, token.end - token.start).find(' '), std::string::npos)
          << text.substr(token.start, token.end - token.start);
    }
  }
}

}  // namespace
}  // namespace paperboy::search
