#include "web/exports.h"

#include <cctype>

#include "text/analyzer.h"

namespace paperboy::web {

namespace {

void append_escaped_text(std::string& out, std::string_view text) {
  for (char c : text) {
    switch (c) {
      case '\\':
        out += "\\textbackslash{}";
        break;
      case '~':
        out += "\\textasciitilde{}";
        break;
      case '^':
        out += "\\textasciicircum{}";
        break;
      case '{':
      case '}':
      case '#':
      case '$':
      case '%':
      case '&':
      case '_':
        out.push_back('\\');
        out.push_back(c);
        break;
      case '\n':
      case '\r':
      case '\t':
        out.push_back(' ');
        break;
      default:
        out.push_back(c);
    }
  }
}

// Math is kept for LaTeX when its braces balance; '%' would start a comment, so it is escaped.
bool keepable_math(std::string_view math) {
  int depth = 0;
  for (size_t i = 0; i < math.size(); ++i) {
    if (math[i] == '\\') {
      ++i;  // an escaped character, such as \{ or \%
      continue;
    }
    if (math[i] == '{') ++depth;
    if (math[i] == '}' && --depth < 0) return false;
    if (math[i] == '%' || math[i] == '\n') return false;
  }
  return depth == 0 && !math.ends_with('\\');
}

// A single line: RIS tags and BibTeX values must not break across lines.
std::string one_line(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    const bool space = c == '\n' || c == '\r' || c == '\t';
    if (space && !out.empty() && out.back() == ' ') continue;
    out.push_back(space ? ' ' : c);
  }
  while (!out.empty() && out.back() == ' ') out.pop_back();
  return out;
}

std::string ascii_word(std::string_view text) {
  std::string out;
  for (char c : text::fold(text)) {
    if (std::isalnum(static_cast<unsigned char>(c))) out.push_back(c);
  }
  return out;
}

std::string year_of(const Paper& paper) {
  for (const std::string* date : {&paper.published, &paper.feed_day}) {
    if (date->size() >= 4) return date->substr(0, 4);
  }
  return {};
}

std::string authors_joined(const Paper& paper, std::string_view separator) {
  std::string out;
  for (const std::string& author : paper.authors) {
    if (!out.empty()) out += separator;
    out += author;
  }
  return out;
}

void field(std::string& out, const char* name, std::string_view value, bool keep_case = false) {
  if (value.empty()) return;
  out += "  ";
  out += name;
  out += keep_case ? " = {{" : " = {";
  out += bibtex_escaped(one_line(value));
  out += keep_case ? "}},\n" : "},\n";
}

void tag(std::string& out, const char* name, std::string_view value) {
  const std::string line = one_line(value);
  if (line.empty()) return;
  out += name;
  out += "  - ";
  out += line;
  out += "\r\n";
}

}  // namespace

std::string bibtex_escaped(std::string_view text) {
  std::string out;
  out.reserve(text.size() + text.size() / 8);
  size_t at = 0;
  while (at < text.size()) {
    const size_t open = text.find('$', at);
    if (open == std::string_view::npos) break;
    const size_t close = text.find('$', open + 1);
    append_escaped_text(out, text.substr(at, open - at));
    if (close == std::string_view::npos) {
      at = open;
      break;
    }
    const std::string_view math = text.substr(open + 1, close - open - 1);
    if (keepable_math(math)) {
      out += '$';
      out += math;
      out += '$';
    } else {
      append_escaped_text(out, text.substr(open, close - open + 1));
    }
    at = close + 1;
  }
  append_escaped_text(out, text.substr(at));
  return out;
}

std::string bibtex_key(const Paper& paper) {
  std::string key;
  if (!paper.authors.empty()) {
    const std::string& first = paper.authors.front();
    const size_t space = first.find_last_of(' ');
    key = ascii_word(space == std::string::npos ? first : first.substr(space + 1));
  }
  key += year_of(paper);
  size_t start = 0;
  const std::string& title = paper.title;
  while (start < title.size()) {
    size_t end = start;
    while (end < title.size() && !std::isspace(static_cast<unsigned char>(title[end]))) ++end;
    const std::string word = ascii_word(title.substr(start, end - start));
    if (!word.empty() && !text::is_stop_word(word)) {
      key += word;
      break;
    }
    start = end + 1;
  }
  if (key.empty() || std::isdigit(static_cast<unsigned char>(key.front()))) {
    key = "paper" + ascii_word(paper_id(paper));
  }
  return key;
}

std::string bibtex_entry(const Paper& paper) {
  const bool article = !paper.journal_ref.empty();
  std::string out = article ? "@article{" : "@misc{";
  out += bibtex_key(paper);
  out += ",\n";
  field(out, "title", paper.title, /*keep_case=*/true);
  field(out, "author", authors_joined(paper, " and "));
  field(out, "year", year_of(paper));
  if (article) field(out, "journal", paper.journal_ref);
  if (!paper.arxiv_id.empty()) {
    field(out, "eprint", paper.arxiv_id);
    field(out, "archivePrefix", "arXiv");
    if (!paper.categories.empty()) field(out, "primaryClass", paper.categories.front());
  }
  field(out, "doi", paper.doi);
  field(out, "url", abs_url(paper));
  out += "}\n\n";
  return out;
}

std::string bibtex(const std::vector<Paper>& papers) {
  std::string out;
  for (const Paper& paper : papers) out += bibtex_entry(paper);
  return out;
}

std::string ris_record(const Paper& paper) {
  std::string out;
  tag(out, "TY", paper.journal_ref.empty() ? "PREP" : "JOUR");
  tag(out, "TI", paper.title);
  for (const std::string& author : paper.authors) tag(out, "AU", author);
  tag(out, "PY", year_of(paper));
  if (paper.published.size() == 10) {
    std::string date = paper.published;
    date[4] = '/';
    date[7] = '/';
    tag(out, "DA", date);
  }
  tag(out, "AB", paper.abstract);
  for (const std::string& category : paper.categories) tag(out, "KW", category);
  tag(out, "JO", paper.journal_ref);
  tag(out, "DO", paper.doi);
  if (!paper.arxiv_id.empty()) tag(out, "AN", "arXiv:" + paper.arxiv_id);
  tag(out, "UR", abs_url(paper));
  out += "ER  - \r\n\r\n";
  return out;
}

std::string ris(const std::vector<Paper>& papers) {
  std::string out;
  for (const Paper& paper : papers) out += ris_record(paper);
  return out;
}

}  // namespace paperboy::web
