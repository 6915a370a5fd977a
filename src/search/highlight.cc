#include "search/highlight.h"

#include <algorithm>
#include <utility>
#include <vector>

#include "core/escape.h"
#include "text/analyzer.h"

namespace paperboy::search {

namespace {

using Range = std::pair<uint32_t, uint32_t>;  // byte range [first, second)

struct MatchedWord {
  Range range;
  size_t term = 0;  // index into the query's distinct terms
};

// The query's distinct terms, which matched words are counted against.
std::vector<std::string> wanted_terms(const Query& query) {
  std::vector<std::string> wanted;
  for (const Group& group : query.groups)
    for (const Clause& clause : group.alternatives)
      wanted.insert(wanted.end(), clause.terms.begin(), clause.terms.end());
  std::sort(wanted.begin(), wanted.end());
  wanted.erase(std::unique(wanted.begin(), wanted.end()), wanted.end());
  return wanted;
}

// Appends the matched words of text[begin, end) to `words` in text order. Words never span
// an ASCII space, so a text analysed piece by piece, cut at spaces, gives the same words as
// analysed whole.
void add_matched_words(std::string_view text, uint32_t begin, uint32_t end,
                       const std::vector<std::string>& wanted, std::vector<MatchedWord>& words) {
  std::vector<text::Token> tokens = text::analyze(text.substr(begin, end - begin));
  size_t first_new = words.size();
  for (const text::Token& token : tokens) {
    auto found = std::lower_bound(wanted.begin(), wanted.end(), token.term);
    if (found != wanted.end() && *found == token.term)
      words.push_back(
          {{begin + token.start, begin + token.end}, static_cast<size_t>(found - wanted.begin())});
  }
  std::sort(words.begin() + static_cast<std::ptrdiff_t>(first_new), words.end(),
            [](const MatchedWord& a, const MatchedWord& b) { return a.range < b.range; });
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
  std::vector<MatchedWord> words;
  auto size = static_cast<uint32_t>(text.size());
  add_matched_words(text, 0, size, wanted_terms(query), words);
  return render(text, 0, size, words);
}

std::string snippet(std::string_view raw_text, const Query& query, size_t max_bytes) {
  std::string text = text::sanitize_utf8(raw_text);
  const std::vector<std::string> wanted = wanted_terms(query);
  const auto size = static_cast<uint32_t>(text.size());
  std::vector<MatchedWord> words;
  if (text.size() <= max_bytes) {
    add_matched_words(text, 0, size, wanted, words);
    return render(text, 0, size, words);
  }

  // The window starting a little before some match that covers the most distinct terms: the
  // first such window wins. The text is analysed a piece at a time (abstracts are several
  // times a snippet), and no further once a window that holds every query term lies wholly in
  // what was analysed: no later window can hold more.
  constexpr uint32_t kLeadIn = 40;
  const auto window = static_cast<uint32_t>(max_bytes);
  uint32_t best_start = 0;
  size_t best_count = 0;
  std::vector<char> seen(wanted.size());
  size_t next_window = 0;  // the first match whose window is not yet counted
  uint32_t analysed = 0;
  while (analysed < size && best_count < wanted.size()) {
    uint32_t cut = size;
    if (size - analysed > window) {
      size_t space = text.find(' ', analysed + window);
      if (space != std::string::npos) cut = static_cast<uint32_t>(space);
    }
    add_matched_words(text, analysed, cut, wanted, words);
    analysed = cut;
    // Count the windows that now lie wholly in the analysed text (all of them at the end).
    for (; next_window < words.size() && best_count < wanted.size(); ++next_window) {
      const uint32_t first = words[next_window].range.first;
      const uint32_t start = first > kLeadIn ? first - kLeadIn : 0;
      if (analysed < size && start + window > analysed) break;
      std::fill(seen.begin(), seen.end(), 0);
      size_t distinct = 0;
      for (size_t j = next_window; j < words.size() && words[j].range.second <= start + window; ++j)
        if (!seen[words[j].term]) {
          seen[words[j].term] = 1;
          ++distinct;
        }
      if (distinct > best_count) {
        best_count = distinct;
        best_start = start;
      }
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
