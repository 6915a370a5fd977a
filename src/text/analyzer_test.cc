#include "text/analyzer.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <string>
#include <vector>

namespace paperboy::text {
namespace {

std::vector<std::string> terms(std::string_view text) {
  std::vector<std::string> out;
  for (const Token& token : analyze(text)) out.push_back(token.term);
  return out;
}

std::vector<std::string> regular_terms(std::string_view text) {
  std::vector<std::string> out;
  for (const Token& token : analyze(text))
    if (!token.overlay) out.push_back(token.term);
  return out;
}

bool has_term(std::string_view text, std::string_view term) {
  auto all = terms(text);
  return std::find(all.begin(), all.end(), term) != all.end();
}

using Terms = std::vector<std::string>;

TEST(Fold, CaseFoldsNormalisesAndStripsAccents) {
  EXPECT_EQ(fold("Schrödinger ÉCOLE"), "schrodinger ecole");
  EXPECT_EQ(fold("ﬁne-tuning"), "fine-tuning");  // NFKC expands the ligature
  EXPECT_EQ(fold("Straße"), "strasse");
  EXPECT_EQ(fold("Ｘ２"), "x2");  // full-width forms
}

TEST(Analyze, StemsWordsAndDropsStopWords) {
  EXPECT_EQ(terms("The Transformers are learning representations"),
            (Terms{"transform", "learn", "represent"}));
}

TEST(Analyze, StopWordsLeaveGapsInPositions) {
  auto tokens = analyze("state of the art");
  ASSERT_EQ(tokens.size(), 2u);
  EXPECT_EQ(tokens[0].term, "state");
  EXPECT_EQ(tokens[0].position, 0u);
  EXPECT_EQ(tokens[1].term, "art");
  EXPECT_EQ(tokens[1].position, 3u);
}

TEST(Analyze, HyphenatedCompoundsIndexPartsAndJoinedForm) {
  auto tokens = analyze("state-space models");
  ASSERT_EQ(tokens.size(), 4u);
  EXPECT_EQ(tokens[0].term, "state");
  EXPECT_EQ(tokens[1].term, "space");
  EXPECT_EQ(tokens[1].position, 1u);
  EXPECT_EQ(tokens[2].term, "statespac");
  EXPECT_TRUE(tokens[2].overlay);
  EXPECT_EQ(tokens[2].position, 0u);
  EXPECT_EQ(tokens[3].term, "model");
  EXPECT_EQ(tokens[3].position, 2u);
  // The spaced and joined spellings meet the compound's terms.
  EXPECT_EQ(regular_terms("state space models"), (Terms{"state", "space", "model"}));
  EXPECT_EQ(terms("statespace"), (Terms{"statespac"}));
}

TEST(Analyze, AcronymsAndMixedTokens) {
  EXPECT_EQ(terms("GPT-4"), (Terms{"gpt", "4", "gpt4"}));
  EXPECT_EQ(terms("3D reconstruction"), (Terms{"3d", "reconstruct"}));
  EXPECT_EQ(terms("ViT-B/16"), (Terms{"vit", "b", "16", "vitb16"}));
  EXPECT_EQ(terms("BERT-base"), (Terms{"bert", "base", "bertbas"}));
  EXPECT_EQ(terms("GPT4"), (Terms{"gpt4"}));
}

TEST(Analyze, NumbersKeepDecimalPointsButSentencesEnd) {
  EXPECT_EQ(terms("GPT-3.5 scores 92.4%."), (Terms{"gpt", "3.5", "gpt3.5", "score", "92.4"}));
  EXPECT_EQ(terms("e.g. models"), (Terms{"e", "g", "model"}));
  EXPECT_EQ(terms("in 2024. Then"), (Terms{"2024"}));
}

TEST(Analyze, LatexFragmentsReadAsWords) {
  EXPECT_EQ(terms("$\\Delta$-DiT"), (Terms{"delta", "dit", "deltadit"}));
  EXPECT_EQ(terms("$O(n^2)$ memory"), (Terms{"o", "n", "2", "memori"}));
  EXPECT_EQ(terms("{BERT}-base"), terms("BERT-base"));
}

TEST(Analyze, ArxivIdsBecomeOneTerm) {
  EXPECT_EQ(terms("2312.00752"), (Terms{"2312.00752"}));
  EXPECT_TRUE(has_term("see arXiv:2312.00752v2 for details", "2312.00752"));
  EXPECT_TRUE(has_term("hep-th/9901001", "hep-th/9901001"));
  EXPECT_TRUE(has_term("hep-th/9901001", "9901001"));
  EXPECT_TRUE(has_term("math.AG/0309136v1", "math.ag/0309136"));
}

TEST(Analyze, UrlsYieldWordsAndArxivIds) {
  auto all = terms(
      "Code: https://github.com/state-spaces/mamba. Paper: https://arxiv.org/abs/2312.00752v1");
  for (const char* term :
       {"code", "github", "com", "state", "space", "mamba", "paper", "arxiv", "2312.00752"})
    EXPECT_NE(std::find(all.begin(), all.end(), term), all.end()) << term;
  // Paths are word lists, not compounds: no joined junk such as "statespac".
  EXPECT_EQ(std::find(all.begin(), all.end(), "statespac"), all.end());
}

TEST(Analyze, ApostrophesDoNotSplitWords) {
  EXPECT_EQ(terms("Bayes' rule and the model's output"), (Terms{"bay", "rule", "model", "output"}));
}

TEST(Analyze, OffsetsPointIntoTheOriginalText) {
  std::string text = "Über große Modelle";
  auto tokens = analyze(text);
  ASSERT_EQ(tokens.size(), 3u);
  EXPECT_EQ(text.substr(tokens[0].start, tokens[0].end - tokens[0].start), "Über");
  EXPECT_EQ(text.substr(tokens[1].start, tokens[1].end - tokens[1].start), "große");
  EXPECT_EQ(tokens[1].term, "gross");
}

TEST(Analyze, SurvivesInvalidUtf8AndControlCharacters) {
  std::string text = "deep\xff\xfe learning\x01\x02net\xc3";
  EXPECT_EQ(terms(text), (Terms{"deep", "learn", "net"}));
  EXPECT_EQ(sanitize_utf8(text).size(), text.size());
  EXPECT_TRUE(terms("").empty());
  EXPECT_TRUE(terms("the of and -- / $$").empty());
}

TEST(Analyze, AnalyzeIntoContinuesPositions) {
  std::vector<Token> tokens;
  uint32_t next = analyze_into("Albert Gu", 0, tokens);
  next = analyze_into("Tri Dao", next + 10, tokens);
  ASSERT_EQ(tokens.size(), 4u);
  EXPECT_EQ(tokens[2].term, "tri");
  EXPECT_EQ(tokens[2].position, 12u);
  EXPECT_EQ(next, 14u);
}

}  // namespace
}  // namespace paperboy::text
