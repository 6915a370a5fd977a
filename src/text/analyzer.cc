#include "text/analyzer.h"

#include <libstemmer.h>
#include <utf8proc.h>

#include <algorithm>
#include <array>
#include <cstdlib>
#include <functional>
#include <memory>

#include "core/arxiv_id.h"

namespace paperboy::text {

namespace {

// Lucene's English stop set: short, so that claims like "X is not Y" keep "not"-free meaning
// words while the most frequent function words leave the postings lists.
constexpr std::array<std::string_view, 33> kStopWords = {
    "a",   "an",    "and",  "are",   "as",    "at",   "be",   "but", "by",  "for",  "if",
    "in",  "into",  "is",   "it",    "no",    "not",  "of",   "on",  "or",  "such", "that",
    "the", "their", "then", "there", "these", "they", "this", "to",  "was", "will", "with"};

// Compounds with more parts than this are lists ("a/b/c/d/e"), not names: no joined form.
constexpr size_t kMaxJoinedParts = 4;

enum class CharClass { kWord, kConnector, kDot, kIgnorable, kBreak };

CharClass classify(utf8proc_int32_t cp) {
  switch (cp) {
    case '-':
    case '/':
    case '_':
    case '+':
    case 0x2010:  // hyphen
    case 0x2011:  // non-breaking hyphen
    case 0x2012:  // figure dash
    case 0x2013:  // en dash, as in "Hodgkin–Huxley"
      return CharClass::kConnector;
    case '.':
      return CharClass::kDot;
    case '$':  // LaTeX math delimiters and groups: "$\Delta$-DiT" reads as "Delta-DiT"
    case '{':
    case '}':
    case '\'':
    case 0x2019:  // right single quotation mark used as apostrophe
      return CharClass::kIgnorable;
    default:
      break;
  }
  if (cp < 0x80) {
    bool alnum = (cp >= '0' && cp <= '9') || (cp >= 'a' && cp <= 'z') || (cp >= 'A' && cp <= 'Z');
    return alnum ? CharClass::kWord : CharClass::kBreak;
  }
  switch (utf8proc_category(cp)) {
    case UTF8PROC_CATEGORY_LU:
    case UTF8PROC_CATEGORY_LL:
    case UTF8PROC_CATEGORY_LT:
    case UTF8PROC_CATEGORY_LM:
    case UTF8PROC_CATEGORY_LO:
    case UTF8PROC_CATEGORY_MN:
    case UTF8PROC_CATEGORY_MC:
    case UTF8PROC_CATEGORY_ME:
    case UTF8PROC_CATEGORY_ND:
    case UTF8PROC_CATEGORY_NL:
    case UTF8PROC_CATEGORY_NO:
      return CharClass::kWord;
    default:
      return CharClass::kBreak;
  }
}

bool is_ascii_digit(utf8proc_int32_t cp) { return cp >= '0' && cp <= '9'; }

struct CodePoint {
  utf8proc_int32_t value = 0;
  uint32_t start = 0;
  uint32_t end = 0;
};

// Decodes already sanitised text.
std::vector<CodePoint> decode(std::string_view text) {
  std::vector<CodePoint> points;
  points.reserve(text.size());
  size_t offset = 0;
  while (offset < text.size()) {
    auto byte = static_cast<unsigned char>(text[offset]);
    if (byte < 0x80) {  // most of English text: one byte is one code point
      points.push_back(
          CodePoint{byte, static_cast<uint32_t>(offset), static_cast<uint32_t>(offset + 1)});
      ++offset;
      continue;
    }
    utf8proc_int32_t cp = 0;
    auto length = utf8proc_iterate(reinterpret_cast<const utf8proc_uint8_t*>(text.data() + offset),
                                   static_cast<utf8proc_ssize_t>(text.size() - offset), &cp);
    if (length <= 0) {  // cannot happen after sanitize_utf8; treat the byte as a break
      cp = ' ';
      length = 1;
    }
    points.push_back(CodePoint{cp, static_cast<uint32_t>(offset),
                               static_cast<uint32_t>(offset + static_cast<size_t>(length))});
    offset += static_cast<size_t>(length);
  }
  return points;
}

bool all_letters(std::string_view folded) {
  if (folded.empty()) return false;
  for (unsigned char c : folded)
    if (c < 0x80 && !(c >= 'a' && c <= 'z')) return false;
  return true;
}

std::string index_form(std::string_view folded) {
  return all_letters(folded) ? stem(folded) : std::string(folded);
}

bool starts_with_ci(std::string_view text, std::string_view prefix) {
  if (text.size() < prefix.size()) return false;
  for (size_t i = 0; i < prefix.size(); ++i) {
    char c = text[i];
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    if (c != prefix[i]) return false;
  }
  return true;
}

bool is_url_end(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '<' || c == '>' || c == '"';
}

class Scanner {
 public:
  Scanner(std::string_view text, uint32_t first_position, std::vector<Token>& tokens)
      : text_(text), points_(decode(text)), position_(first_position), tokens_(tokens) {}

  uint32_t run() {
    size_t index = 0;
    while (index < points_.size()) {
      if (classify(points_[index].value) != CharClass::kWord) {
        ++index;
        continue;
      }
      if (size_t url_end = url_length(index); url_end > 0) {
        index = scan_url(index, url_end);
        continue;
      }
      index = scan_word(index, /*in_url=*/false);
    }
    return position_;
  }

 private:
  struct Part {
    std::string raw;  // the word's characters without skipped marks
    uint32_t start = 0;
    uint32_t end = 0;
  };

  // Byte length of a URL starting at point `index`, or 0 if none starts there.
  size_t url_length(size_t index) const {
    std::string_view rest = text_.substr(points_[index].start);
    if (!starts_with_ci(rest, "http://") && !starts_with_ci(rest, "https://") &&
        !starts_with_ci(rest, "www."))
      return 0;
    size_t length = 0;
    while (length < rest.size() && !is_url_end(rest[length])) ++length;
    while (length > 0 &&
           std::string_view(".,;:!?)]}'").find(rest[length - 1]) != std::string_view::npos)
      --length;
    return length;
  }

  size_t scan_url(size_t index, size_t url_bytes) {
    uint32_t url_start = points_[index].start;
    auto url_end = static_cast<uint32_t>(url_start + url_bytes);
    if (auto id = parse_arxiv_id(text_.substr(url_start, url_bytes)))
      emit_overlay_at(fold(id->id), position_, url_start, url_end);
    while (index < points_.size() && points_[index].start < url_end) {
      if (classify(points_[index].value) == CharClass::kWord) {
        index = scan_word(index, /*in_url=*/true, url_end);
      } else {
        ++index;
      }
    }
    return index;
  }

  // Reads the compound word starting at point `index`; returns the index after it.
  size_t scan_word(size_t index, bool in_url, uint32_t limit = UINT32_MAX) {
    // Reused across words: one allocation per analysis instead of one per word.
    std::vector<Part>& parts = parts_;
    parts.clear();
    parts.emplace_back();
    parts.back().start = points_[index].start;
    size_t i = index;
    while (i < points_.size() && points_[i].start < limit) {
      const CodePoint& point = points_[i];
      CharClass kind = classify(point.value);
      if (kind == CharClass::kWord) {
        append_utf8(parts.back().raw, point.value);
        parts.back().end = point.end;
        ++i;
        continue;
      }
      if (kind == CharClass::kBreak) break;
      size_t next = i + 1;
      while (next < points_.size() && classify(points_[next].value) == CharClass::kIgnorable)
        ++next;
      bool next_is_word = next < points_.size() && points_[next].start < limit &&
                          classify(points_[next].value) == CharClass::kWord;
      if (kind == CharClass::kIgnorable) {
        // Skipped marks join only when the word goes on; "Bayes'" ends the word.
        bool next_is_connector = next < points_.size() && points_[next].start < limit &&
                                 (classify(points_[next].value) == CharClass::kConnector ||
                                  classify(points_[next].value) == CharClass::kDot);
        if (!next_is_word && !next_is_connector) break;
        i = next;
        continue;
      }
      if (!next_is_word) break;
      if (kind == CharClass::kDot) {
        // A dot joins digits ("3.5", "2312.00752") and nothing else ("e.g.", sentence ends).
        bool digits_around = !parts.back().raw.empty() &&
                             is_ascii_digit(static_cast<unsigned char>(parts.back().raw.back())) &&
                             is_ascii_digit(points_[next].value);
        if (!digits_around || in_url) break;
        parts.back().raw.push_back('.');
        i = next;
        continue;
      }
      parts.emplace_back();
      parts.back().start = points_[next].start;
      i = next;
    }
    uint32_t word_start = parts.front().start;
    uint32_t word_end = parts.back().end;
    std::string arxiv_id = in_url ? std::string() : arxiv_id_at(word_start);
    bool with_joined = !in_url && parts.size() >= 2 && parts.size() <= kMaxJoinedParts;
    emit_parts(parts, with_joined, arxiv_id, word_start, word_end);
    return i;
  }

  // An arXiv id inside running text ("see 2312.00752v2", "hep-th/9901001", "math.AG/0309136")
  // is indexed in canonical form so that id searches find papers citing it. Returns the folded
  // id starting at byte `start`, or an empty string.
  std::string arxiv_id_at(uint32_t start) const {
    size_t end = start;
    while (end < text_.size()) {
      char c = text_[end];
      bool id_char = (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                     c == '.' || c == '-' || c == '/';
      if (!id_char) break;
      ++end;
    }
    while (end > start && text_[end - 1] == '.') --end;
    // Every arXiv id has digits; most words have none and need no parsing.
    std::string_view candidate = text_.substr(start, end - start);
    if (std::none_of(candidate.begin(), candidate.end(),
                     [](char c) { return c >= '0' && c <= '9'; }))
      return std::string();
    auto id = parse_arxiv_id(text_.substr(start, end - start));
    return id ? fold(id->id) : std::string();
  }

  void emit_parts(const std::vector<Part>& parts, bool with_joined, const std::string& arxiv_id,
                  uint32_t word_start, uint32_t word_end) {
    uint32_t first_position = position_;
    std::vector<std::string>& emitted = emitted_;
    emitted.clear();
    std::string& joined = joined_;
    joined.clear();
    for (const Part& part : parts) {
      std::string folded = fold(part.raw);
      joined += folded;
      if (!folded.empty() && !is_stop_word(folded)) {
        emitted.push_back(index_form(folded));
        tokens_.push_back(Token{emitted.back(), position_, part.start, part.end, false});
      }
      ++position_;
    }
    // Overlays that repeat a term of the word ("2312.00752" is its own id) add nothing.
    auto emit_overlay = [&](std::string term) {
      if (term.empty() || std::find(emitted.begin(), emitted.end(), term) != emitted.end()) return;
      emitted.push_back(term);
      tokens_.push_back(Token{std::move(term), first_position, word_start, word_end, true});
    };
    if (with_joined) emit_overlay(index_form(joined));
    emit_overlay(arxiv_id);
  }

  void emit_overlay_at(std::string term, uint32_t position, uint32_t start, uint32_t end) {
    if (term.empty()) return;
    tokens_.push_back(Token{std::move(term), position, start, end, true});
  }

  static void append_utf8(std::string& out, utf8proc_int32_t cp) {
    utf8proc_uint8_t buffer[4];
    auto length = utf8proc_encode_char(cp, buffer);
    out.append(reinterpret_cast<const char*>(buffer), static_cast<size_t>(length));
  }

  std::string_view text_;
  std::vector<CodePoint> points_;
  uint32_t position_;
  std::vector<Token>& tokens_;
  std::vector<Part> parts_;
  std::vector<std::string> emitted_;
  std::string joined_;
};

struct StemmerDeleter {
  void operator()(sb_stemmer* stemmer) const { sb_stemmer_delete(stemmer); }
};

std::string snowball_stem(std::string_view folded_word) {
  // libstemmer's state is not thread-safe; one stemmer per thread.
  thread_local std::unique_ptr<sb_stemmer, StemmerDeleter> stemmer(
      sb_stemmer_new("english", "UTF_8"));
  const sb_symbol* stemmed =
      sb_stemmer_stem(stemmer.get(), reinterpret_cast<const sb_symbol*>(folded_word.data()),
                      static_cast<int>(folded_word.size()));
  if (stemmed == nullptr) return std::string(folded_word);
  return std::string(reinterpret_cast<const char*>(stemmed),
                     static_cast<size_t>(sb_stemmer_length(stemmer.get())));
}

}  // namespace

std::string sanitize_utf8(std::string_view text) {
  std::string clean;
  clean.reserve(text.size());
  size_t offset = 0;
  while (offset < text.size()) {
    auto byte = static_cast<unsigned char>(text[offset]);
    if (byte < 0x80) {  // ASCII needs no decoding: only its control characters change
      bool control = (byte < 0x20 && byte != '\t' && byte != '\n') || byte == 0x7f;
      clean.push_back(control ? ' ' : static_cast<char>(byte));
      ++offset;
      continue;
    }
    utf8proc_int32_t cp = 0;
    auto length = utf8proc_iterate(reinterpret_cast<const utf8proc_uint8_t*>(text.data() + offset),
                                   static_cast<utf8proc_ssize_t>(text.size() - offset), &cp);
    if (length <= 0) {
      clean.push_back(' ');
      ++offset;
      continue;
    }
    auto size = static_cast<size_t>(length);
    bool control = (cp < 0x20 && cp != '\t' && cp != '\n') || (cp >= 0x7f && cp < 0xa0);
    // Same byte length either way, so offsets into the original text stay valid.
    if (control)
      clean.append(size, ' ');
    else
      clean.append(text.substr(offset, size));
    offset += size;
  }
  return clean;
}

std::string fold(std::string_view text) {
  // Plain ASCII (almost every word of English abstracts) only needs lower-casing; control
  // characters are the one thing NFKC folding would change besides case.
  bool plain_ascii = std::all_of(text.begin(), text.end(), [](char c) {
    auto byte = static_cast<unsigned char>(c);
    return byte >= 0x20 && byte < 0x7f;
  });
  if (plain_ascii) {
    std::string folded(text);
    for (char& c : folded)
      if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    return folded;
  }
  std::string clean = sanitize_utf8(text);
  utf8proc_uint8_t* mapped = nullptr;
  auto length = utf8proc_map(
      reinterpret_cast<const utf8proc_uint8_t*>(clean.data()),
      static_cast<utf8proc_ssize_t>(clean.size()), &mapped,
      static_cast<utf8proc_option_t>(UTF8PROC_STABLE | UTF8PROC_COMPOSE | UTF8PROC_COMPAT |
                                     UTF8PROC_CASEFOLD | UTF8PROC_STRIPMARK));
  if (length < 0) return clean;
  std::string folded(reinterpret_cast<char*>(mapped), static_cast<size_t>(length));
  std::free(mapped);
  return folded;
}

std::string stem(std::string_view folded_word) {
  // A corpus repeats its frequent words endlessly: a small direct-mapped cache per thread
  // (it stays in the CPU cache, unlike a map of every word) saves Snowball for most of them.
  struct CachedStem {
    std::string word;
    std::string stem;
  };
  constexpr size_t kCacheSlots = 4096;
  thread_local std::vector<CachedStem> cache(kCacheSlots);
  CachedStem& slot = cache[std::hash<std::string_view>{}(folded_word) & (kCacheSlots - 1)];
  if (slot.word == folded_word && !slot.word.empty()) return slot.stem;
  slot.word = folded_word;
  slot.stem = snowball_stem(folded_word);
  return slot.stem;
}

bool is_stop_word(std::string_view folded_word) {
  return std::find(kStopWords.begin(), kStopWords.end(), folded_word) != kStopWords.end();
}

uint32_t analyze_into(std::string_view text, uint32_t first_position, std::vector<Token>& tokens) {
  std::string clean = sanitize_utf8(text);
  return Scanner(clean, first_position, tokens).run();
}

std::vector<Token> analyze(std::string_view text) {
  std::vector<Token> tokens;
  analyze_into(text, 0, tokens);
  return tokens;
}

}  // namespace paperboy::text
