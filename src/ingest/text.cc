#include "ingest/text.h"

#include <simdjson.h>

#include <array>
#include <cctype>

#include "core/date.h"
#include "core/paper.h"

namespace paperboy::ingest {

namespace {

bool is_space(char c) { return std::isspace(static_cast<unsigned char>(c)) != 0; }

std::string_view trim(std::string_view text) {
  while (!text.empty() && is_space(text.front())) text.remove_prefix(1);
  while (!text.empty() && is_space(text.back())) text.remove_suffix(1);
  return text;
}

bool is_repo_char(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' || c == '.';
}

// Whitespace as core collapse_whitespace counts it.
constexpr std::array<unsigned char, 256> kAsciiSpace = [] {
  std::array<unsigned char, 256> table{};
  for (unsigned char c : {' ', '\n', '\t', '\r', '\f', '\v'}) table[c] = 1;
  return table;
}();

}  // namespace

std::string collapse_text(std::string_view text) {
  std::string out;
  out.resize_and_overwrite(text.size(), [&](char* buffer, size_t) {
    // Branch-free: every whitespace byte is written as ' ', but the write position only moves
    // past it when the previous byte was not whitespace too. Starting "after whitespace" drops
    // leading runs; a trailing one is dropped at the end.
    char* write = buffer;
    unsigned previous_space = 1;
    for (char c : text) {
      const unsigned space = kAsciiSpace[static_cast<unsigned char>(c)];
      const unsigned char mask = static_cast<unsigned char>(0u - space);
      *write = static_cast<char>((static_cast<unsigned char>(c) & ~mask) | (' ' & mask));
      write += 1u - (space & previous_space);
      previous_space = space;
    }
    if (write != buffer && previous_space) --write;
    return static_cast<size_t>(write - buffer);
  });
  return out;
}

std::string format_day(std::chrono::sys_days day) {
  const std::chrono::year_month_day ymd{day};
  const int year = static_cast<int>(ymd.year());
  if (year < 0 || year > 9999) return format_date(day);
  const unsigned month = static_cast<unsigned>(ymd.month());
  const unsigned day_of_month = static_cast<unsigned>(ymd.day());
  std::string out(10, '-');
  out[0] = static_cast<char>('0' + year / 1000);
  out[1] = static_cast<char>('0' + year / 100 % 10);
  out[2] = static_cast<char>('0' + year / 10 % 10);
  out[3] = static_cast<char>('0' + year % 10);
  out[5] = static_cast<char>('0' + month / 10);
  out[6] = static_cast<char>('0' + month % 10);
  out[8] = static_cast<char>('0' + day_of_month / 10);
  out[9] = static_cast<char>('0' + day_of_month % 10);
  return out;
}

std::string person_name(std::string_view first, std::string_view last, std::string_view suffix) {
  std::string name;
  for (std::string_view part : {trim(first), trim(last), trim(suffix)}) {
    if (part.empty()) continue;
    if (!name.empty()) name.push_back(' ');
    name.append(part);
  }
  return collapse_text(name);
}

std::vector<std::string> split_author_list(std::string_view authors) {
  std::string flat;
  flat.reserve(authors.size());
  int depth = 0;
  for (char c : authors) {
    if (c == '(') {
      ++depth;
    } else if (c == ')') {
      if (depth > 0) --depth;
    } else if (depth == 0) {
      flat.push_back(is_space(c) ? ' ' : c);
    }
  }
  std::vector<std::string> names;
  auto add = [&](std::string_view piece) {
    std::string name = collapse_text(piece);
    if (!name.empty()) names.push_back(std::move(name));
  };
  std::string_view rest = flat;
  while (!rest.empty()) {
    size_t comma = rest.find(',');
    size_t conjunction = rest.find(" and ");
    size_t cut = std::min(comma, conjunction);
    if (cut == std::string_view::npos) {
      add(rest);
      break;
    }
    add(rest.substr(0, cut));
    rest.remove_prefix(cut + (cut == comma ? 1 : 5));
  }
  return names;
}

std::optional<int> version_number(std::string_view label) {
  if (label.size() < 2 || label.size() > 7 || label[0] != 'v') return std::nullopt;
  int number = 0;
  for (char c : label.substr(1)) {
    if (c < '0' || c > '9') return std::nullopt;
    number = number * 10 + (c - '0');
  }
  if (number == 0) return std::nullopt;
  return number;
}

std::vector<std::string> split_words(std::string_view text) {
  std::vector<std::string> words;
  size_t i = 0;
  while (i < text.size()) {
    while (i < text.size() && is_space(text[i])) ++i;
    size_t start = i;
    while (i < text.size() && !is_space(text[i])) ++i;
    if (i > start) words.emplace_back(text.substr(start, i - start));
  }
  return words;
}

std::string first_github_url(std::string_view text) {
  static constexpr std::string_view kHost = "github.com/";
  for (size_t at = text.find(kHost); at != std::string_view::npos; at = text.find(kHost, at + 1)) {
    // The host must be github.com itself (or www.), not gist.github.com or notgithub.com.
    const bool www = at >= 4 && text.substr(at - 4, 4) == "www.";
    const char before = at > 0 ? text[at - 1] : ' ';
    if (!www &&
        (std::isalnum(static_cast<unsigned char>(before)) || before == '.' || before == '-'))
      continue;
    size_t pos = at + kHost.size();
    const size_t owner_start = pos;
    while (pos < text.size() && is_repo_char(text[pos])) ++pos;
    const std::string_view owner = text.substr(owner_start, pos - owner_start);
    if (owner.empty() || pos >= text.size() || text[pos] != '/') continue;
    const size_t repo_start = ++pos;
    while (pos < text.size() && is_repo_char(text[pos])) ++pos;
    std::string_view repo = text.substr(repo_start, pos - repo_start);
    // A sentence ending right after the link leaves its full stop on the name.
    while (!repo.empty() && repo.back() == '.') repo.remove_suffix(1);
    if (repo.empty()) continue;
    return "https://github.com/" + std::string(owner) + "/" + std::string(repo);
  }
  return {};
}

std::optional<std::string> date_in_file_name(const std::filesystem::path& path) {
  const std::string name = path.filename().string();
  for (size_t i = 0; i + 10 <= name.size(); ++i) {
    if (!std::isdigit(static_cast<unsigned char>(name[i]))) continue;
    std::string_view candidate(name.data() + i, 10);
    if (candidate[4] != '-' || candidate[7] != '-') continue;
    if (parse_date(candidate)) return std::string(candidate);
  }
  return std::nullopt;
}

Result<std::string> iso_day(std::string_view text, std::string_view field) {
  auto day = parse_date(text);
  if (!day) return fail("bad date in " + std::string(field) + ": " + excerpt(text));
  return format_day(*day);
}

Result<std::string> iso_instant(std::string_view text, std::string_view field) {
  auto instant = parse_instant(text);
  if (!instant) return fail("bad timestamp in " + std::string(field) + ": " + excerpt(text));
  return format_instant(*instant);
}

bool is_valid_utf8(std::string_view text) {
  return simdjson::validate_utf8(text.data(), text.size());
}

std::string excerpt(std::string_view text) {
  constexpr size_t kShown = 60;
  std::string out = "\"";
  if (text.size() <= kShown) {
    out.append(text);
  } else {
    size_t cut = kShown;
    // Never cut a UTF-8 sequence in half.
    while (cut > 0 && (static_cast<unsigned char>(text[cut]) & 0xC0) == 0x80) --cut;
    out.append(text.substr(0, cut));
    out.append("...");
  }
  out.push_back('"');
  return out;
}

}  // namespace paperboy::ingest
