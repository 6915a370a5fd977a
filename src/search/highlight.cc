#include "search/highlight.h"

#include <algorithm>
#include <set>
#include <utility>
#include <vector>

#include "core/escape.h"
#include "text/analyzer.h"

namespace paperboy::search {

namespace {

using Range = std::pair<uint32_t, uint32_t>;  // byte range [first, second)

struct MatchedWord {
  Range range;
  std::string term;
};

std::vector<MatchedWord> matched_words(std::string_view text, const Query& query) {
  std::set<std::string> wanted;
  for (const Group& group : query.groups)
    for (const Clause& clause : group.alternatives)
      wanted.insert(clause.terms.begin(), clause.terms.end());
  std::vector<MatchedWord> words;
  for (const text::Token& token : text::analyze(text))
    if (wanted.contains(token.term)) words.push_back({{token.start, token.end}, token.term});
  std::sort(words.begin(), words.end(),
            [](const MatchedWord& a, const MatchedWord& b) { return a.range < b.range; });
  return words;
}

// Escapes text[begin, end) and marks the matched ranges inside it; overlapping ranges (a
// compound and its parts) merge into one mark.
std::string render(std::string_view text, uint32_t begin, uint32_t end,
                   const std::vector<MatchedWord>& words) {
  std::vector<Range> marks;
  for (const MatchedWord& word : words) {
    if (word.range.first < begin || word.range.second > end) continue;
    if (!marks.empty() && word.range.first <= marks.back().second)
      marks.back().second = std::max(marks.back().second, word.range.second);
    else
      marks.push_back(word.range);
  }
  std::string out;
  uint32_t at = begin;
  for (const Range& mark : marks) {
    append_markup_escaped(out, text.substr(at, mark.first - at));
    out += "<mark>";
    append_markup_escaped(out, text.substr(mark.first, mark.second - mark.first));
    out += "</mark>";
    at = mark.second;
  }
  append_markup_escaped(out, text.substr(at, end - at));
  return out;
}

bool is_continuation(char c) { return (static_cast<unsigned char>(c) & 0xC0) == 0x80; }

}  // namespace

std::string highlight(std::string_view raw_text, const Query& query) {
  std::string text = text::sanitize_utf8(raw_text);
  return render(text, 0, static_cast<uint32_t>(text.size()), matched_words(text, query));
}

std::string snippet(std::string_view raw_text, const Query& query, size_t max_bytes) {
  std::string text = text::sanitize_utf8(raw_text);
  std::vector<MatchedWord> words = matched_words(text, query);
  if (text.size() <= max_bytes) return render(text, 0, static_cast<uint32_t>(text.size()), words);

  // The window starting a little before some match that covers the most distinct terms.
  constexpr uint32_t kLeadIn = 40;
  uint32_t best_start = 0;
  size_t best_count = 0;
  for (size_t i = 0; i < words.size(); ++i) {
    uint32_t start = words[i].range.first > kLeadIn ? words[i].range.first - kLeadIn : 0;
    std::set<std::string> distinct;
    for (size_t j = i; j < words.size() && words[j].range.second <= start + max_bytes; ++j)
      distinct.insert(words[j].term);
    if (distinct.size() > best_count) {
      best_count = distinct.size();
      best_start = start;
    }
  }
  auto begin = static_cast<size_t>(best_start);
  size_t end = std::min(text.size(), begin + max_bytes);
  // Start and end on word boundaries, never inside a UTF-8 sequence.
  if (begin > 0) {
    size_t space = text.find(' ', begin);
    if (space != std::string::npos && space < begin + kLeadIn) begin = space + 1;
  }
  while (begin < text.size() && is_continuation(text[begin])) ++begin;
  if (end < text.size()) {
    size_t space = text.rfind(' ', end);
    if (space != std::string::npos && space > begin) end = space;
    while (end > begin && is_continuation(text[end])) --end;
  }
  std::string out;
  if (begin > 0) out += "… ";
  out += render(text, static_cast<uint32_t>(begin), static_cast<uint32_t>(end), words);
  if (end < text.size()) out += " …";
  return out;
}

}  // namespace paperboy::search
