#include "core/date.h"

#include <array>
#include <cctype>
#include <cstdio>

namespace paperboy {

namespace {

using namespace std::chrono;

struct Cursor {
  std::string_view text;
  size_t pos = 0;

  void skip_separators() {
    while (pos < text.size() &&
           (std::isspace(static_cast<unsigned char>(text[pos])) || text[pos] == ','))
      ++pos;
  }
  std::optional<int> number(size_t min_digits, size_t max_digits) {
    size_t start = pos;
    int value = 0;
    while (pos < text.size() && pos - start < max_digits &&
           std::isdigit(static_cast<unsigned char>(text[pos]))) {
      value = value * 10 + (text[pos] - '0');
      ++pos;
    }
    if (pos - start < min_digits) {
      pos = start;
      return std::nullopt;
    }
    return value;
  }
  bool expect(char c) {
    if (pos < text.size() && text[pos] == c) {
      ++pos;
      return true;
    }
    return false;
  }
  std::string_view word() {
    size_t start = pos;
    while (pos < text.size() && std::isalpha(static_cast<unsigned char>(text[pos]))) ++pos;
    return text.substr(start, pos - start);
  }
};

std::optional<unsigned> month_from_name(std::string_view name) {
  static constexpr std::array<std::string_view, 12> kMonths = {
      "jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"};
  if (name.size() < 3) return std::nullopt;
  for (unsigned i = 0; i < kMonths.size(); ++i) {
    bool match = true;
    for (size_t j = 0; j < 3; ++j)
      if (std::tolower(static_cast<unsigned char>(name[j])) != kMonths[i][j]) match = false;
    if (match) return i + 1;
  }
  return std::nullopt;
}

std::optional<sys_days> make_day(int y, unsigned m, unsigned d) {
  year_month_day ymd{year{y}, month{m}, day{d}};
  if (!ymd.ok()) return std::nullopt;
  return sys_days{ymd};
}

// ISO "YYYY-MM-DD" at the cursor.
std::optional<sys_days> iso_date(Cursor& c) {
  auto y = c.number(4, 4);
  if (!y || !c.expect('-')) return std::nullopt;
  auto m = c.number(2, 2);
  if (!m || !c.expect('-')) return std::nullopt;
  auto d = c.number(2, 2);
  if (!d) return std::nullopt;
  return make_day(*y, static_cast<unsigned>(*m), static_cast<unsigned>(*d));
}

}  // namespace

std::optional<sys_days> parse_date(std::string_view text) {
  Cursor c{text};
  c.skip_separators();
  if (c.pos < text.size() && std::isdigit(static_cast<unsigned char>(text[c.pos]))) {
    Cursor iso = c;
    if (auto day = iso_date(iso)) return day;
    // "2 Apr 2007"
    auto d = c.number(1, 2);
    c.skip_separators();
    auto m = month_from_name(c.word());
    c.skip_separators();
    auto y = c.number(4, 4);
    if (!d || !m || !y) return std::nullopt;
    return make_day(*y, *m, static_cast<unsigned>(*d));
  }
  std::string_view first = c.word();
  c.skip_separators();
  if (auto m = month_from_name(first)) {
    // "Jun 9, 2024"
    auto d = c.number(1, 2);
    c.skip_separators();
    auto y = c.number(4, 4);
    if (!d || !y) return std::nullopt;
    return make_day(*y, *m, static_cast<unsigned>(*d));
  }
  // "Mon, 2 Apr 2007 19:18:42 GMT": weekday first.
  auto d = c.number(1, 2);
  c.skip_separators();
  auto m = month_from_name(c.word());
  c.skip_separators();
  auto y = c.number(4, 4);
  if (!d || !m || !y) return std::nullopt;
  return make_day(*y, *m, static_cast<unsigned>(*d));
}

std::optional<sys_seconds> parse_instant(std::string_view text) {
  Cursor c{text};
  c.skip_separators();
  auto day = iso_date(c);
  if (!day) return std::nullopt;
  sys_seconds instant{*day};
  if (!c.expect('T') && !c.expect(' ')) return instant;
  auto h = c.number(2, 2);
  if (!h || !c.expect(':')) return std::nullopt;
  auto min = c.number(2, 2);
  if (!min) return std::nullopt;
  int sec = 0;
  if (c.expect(':')) {
    auto s = c.number(2, 2);
    if (!s) return std::nullopt;
    sec = *s;
  }
  if (*h > 23 || *min > 59 || sec > 60) return std::nullopt;
  if (c.expect('.')) c.number(1, 9);
  instant += hours{*h} + minutes{*min} + seconds{sec};
  if (c.pos < text.size() && (text[c.pos] == '+' || text[c.pos] == '-')) {
    int sign = text[c.pos] == '+' ? 1 : -1;
    ++c.pos;
    auto oh = c.number(2, 2);
    c.expect(':');
    auto om = c.number(2, 2);
    if (!oh || !om) return std::nullopt;
    instant -= sign * (hours{*oh} + minutes{*om});
  }
  return instant;
}

std::string format_date(sys_days day) {
  year_month_day ymd{day};
  char buffer[16];
  std::snprintf(buffer, sizeof buffer, "%04d-%02u-%02u", static_cast<int>(ymd.year()),
                static_cast<unsigned>(ymd.month()), static_cast<unsigned>(ymd.day()));
  return buffer;
}

std::string format_instant(sys_seconds instant) {
  sys_days day = floor<days>(instant);
  hh_mm_ss<seconds> time{instant - day};
  char buffer[32];
  std::snprintf(buffer, sizeof buffer, "%sT%02d:%02d:%02dZ", format_date(day).c_str(),
                static_cast<int>(time.hours().count()), static_cast<int>(time.minutes().count()),
                static_cast<int>(time.seconds().count()));
  return buffer;
}

sys_days today() { return floor<days>(system_clock::now()); }

sys_days week_start(sys_days day) {
  weekday wd{day};
  return day - (wd - Monday);
}

sys_days month_start(sys_days day) {
  year_month_day ymd{day};
  return sys_days{ymd.year() / ymd.month() / 1};
}

}  // namespace paperboy
