// Text analysis shared by indexing and querying: the same function turns a title, abstract,
// author name or query into the terms the index stores, so both sides always agree.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace paperboy::text {

struct Token {
  std::string term;       // folded, stemmed index term
  uint32_t position = 0;  // word position; stop words leave gaps so phrases stay exact
  uint32_t start = 0;     // byte range of the word in the analysed text, for highlighting
  uint32_t end = 0;
  // True for extra terms stacked on a word's position: the joined form of a compound
  // ("statespace" for "state-space") and an arXiv id's canonical form. Phrase matching
  // skips them because their parts carry the positions.
  bool overlay = false;
};

// Analysis rules (docs/search.md has the full list):
// - NFKC + case folding + accent stripping (utf8proc); invalid UTF-8 bytes act as spaces.
// - Words are runs of letters and digits joined by '-', '/', '_', '+', and '.' between digits;
//   LaTeX math marks ('$', '{', '}') and apostrophes are skipped inside words, '\' splits them.
// - A compound ("state-space", "GPT-4", "ViT-B/16") yields its parts at consecutive positions
//   and, for 2-4 parts, the joined form ("statespace", "gpt4", "vitb16") as an overlay.
// - Numbers keep their decimal point ("3.5"); arXiv ids ("2312.00752", "hep-th/9901001",
//   with or without version) are indexed as one canonical term besides their parts.
// - URLs (http://, https://, www.) yield their words and, for arXiv links, the paper's id.
// - Stop words are dropped; purely alphabetic words are Snowball-English stemmed.
std::vector<Token> analyze(std::string_view text);

// Appends the tokens of `text` to `tokens`, starting positions at `first_position`; returns
// the position after the last word. Used to analyse multi-valued fields such as authors.
uint32_t analyze_into(std::string_view text, uint32_t first_position, std::vector<Token>& tokens);

// NFKC, case folding and accent stripping of a whole string; invalid UTF-8 is replaced.
std::string fold(std::string_view text);

// Snowball English stem of an already folded word.
std::string stem(std::string_view folded_word);

// True for the English stop words the analyser drops (folded form).
bool is_stop_word(std::string_view folded_word);

// Replaces every invalid UTF-8 sequence and every control character other than tab and
// newline by a space, so that later stages can assume clean text.
std::string sanitize_utf8(std::string_view text);

}  // namespace paperboy::text
