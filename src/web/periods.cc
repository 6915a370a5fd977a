#include "web/periods.h"

#include <array>
#include <cstdio>

#include "core/date.h"

namespace paperboy::web {

namespace {

using namespace std::chrono;

constexpr std::array<const char*, 12> kMonthNames = {
    "January", "February", "March",     "April",   "May",      "June",
    "July",    "August",   "September", "October", "November", "December"};
constexpr std::array<const char*, 7> kWeekdayNames = {"Sunday",   "Monday", "Tuesday", "Wednesday",
                                                      "Thursday", "Friday", "Saturday"};

// Reads exactly `digits` decimal digits at `pos`.
std::optional<int> fixed_number(std::string_view text, size_t pos, size_t digits) {
  if (pos + digits > text.size()) return std::nullopt;
  int value = 0;
  for (size_t i = pos; i < pos + digits; ++i) {
    if (text[i] < '0' || text[i] > '9') return std::nullopt;
    value = value * 10 + (text[i] - '0');
  }
  return value;
}

// ISO 8601: week 1 is the week holding 4 January; a week belongs to the year of its Thursday.
sys_days iso_week_one_monday(int iso_year) {
  return week_start(sys_days{year{iso_year} / January / 4});
}

int iso_week_year(sys_days day) {
  const sys_days thursday = week_start(day) + days{3};
  return static_cast<int>(year_month_day{thursday}.year());
}

}  // namespace

std::optional<sys_days> parse_iso_day(std::string_view text) {
  if (text.size() != 10 || text[4] != '-' || text[7] != '-') return std::nullopt;
  auto y = fixed_number(text, 0, 4);
  auto m = fixed_number(text, 5, 2);
  auto d = fixed_number(text, 8, 2);
  if (!y || !m || !d) return std::nullopt;
  year_month_day ymd{year{*y}, month{static_cast<unsigned>(*m)}, day{static_cast<unsigned>(*d)}};
  if (!ymd.ok()) return std::nullopt;
  return sys_days{ymd};
}

std::optional<sys_days> parse_iso_week(std::string_view text) {
  if (text.size() != 8 || text[4] != '-' || (text[5] != 'W' && text[5] != 'w')) return std::nullopt;
  auto y = fixed_number(text, 0, 4);
  auto w = fixed_number(text, 6, 2);
  if (!y || !w || *w < 1 || *w > 53) return std::nullopt;
  const sys_days monday = iso_week_one_monday(*y) + weeks{*w - 1};
  if (iso_week_year(monday) != *y) return std::nullopt;  // week 53 of a 52-week year
  return monday;
}

std::optional<sys_days> parse_year_month(std::string_view text) {
  if (text.size() != 7 || text[4] != '-') return std::nullopt;
  auto y = fixed_number(text, 0, 4);
  auto m = fixed_number(text, 5, 2);
  if (!y || !m || *m < 1 || *m > 12) return std::nullopt;
  return sys_days{year{*y} / month{static_cast<unsigned>(*m)} / 1};
}

std::string format_iso_week(sys_days day) {
  const int iso_year = iso_week_year(day);
  const auto week = (week_start(day) - iso_week_one_monday(iso_year)).count() / 7 + 1;
  char buffer[16];
  std::snprintf(buffer, sizeof buffer, "%04d-W%02d", iso_year, static_cast<int>(week));
  return buffer;
}

std::string format_year_month(sys_days day) {
  year_month_day ymd{day};
  char buffer[16];
  std::snprintf(buffer, sizeof buffer, "%04d-%02u", static_cast<int>(ymd.year()),
                static_cast<unsigned>(ymd.month()));
  return buffer;
}

std::string period_label(feed::Period period, sys_days day) {
  switch (period) {
    case feed::Period::week:
      return format_iso_week(day);
    case feed::Period::month:
      return format_year_month(day);
    case feed::Period::day:
      break;
  }
  return format_date(day);
}

std::string period_path(feed::Period period, sys_days day) {
  switch (period) {
    case feed::Period::week:
      return "/week/" + period_label(period, day);
    case feed::Period::month:
      return "/month/" + period_label(period, day);
    case feed::Period::day:
      break;
  }
  return "/date/" + period_label(period, day);
}

std::string period_title(feed::Period period, sys_days day) {
  char buffer[96];
  switch (period) {
    case feed::Period::week: {
      const sys_days monday = week_start(day);
      const year_month_day first{monday};
      const year_month_day last{monday + days{6}};
      const std::string label = format_iso_week(day);
      std::snprintf(buffer, sizeof buffer, "Week %s, %s (%u %.3s – %u %.3s)", label.c_str() + 6,
                    label.substr(0, 4).c_str(), static_cast<unsigned>(first.day()),
                    kMonthNames[static_cast<unsigned>(first.month()) - 1],
                    static_cast<unsigned>(last.day()),
                    kMonthNames[static_cast<unsigned>(last.month()) - 1]);
      return buffer;
    }
    case feed::Period::month: {
      const year_month_day ymd{day};
      std::snprintf(buffer, sizeof buffer, "%s %d",
                    kMonthNames[static_cast<unsigned>(ymd.month()) - 1],
                    static_cast<int>(ymd.year()));
      return buffer;
    }
    case feed::Period::day:
      break;
  }
  const year_month_day ymd{day};
  std::snprintf(buffer, sizeof buffer, "%s, %u %s %d", kWeekdayNames[weekday{day}.c_encoding()],
                static_cast<unsigned>(ymd.day()),
                kMonthNames[static_cast<unsigned>(ymd.month()) - 1], static_cast<int>(ymd.year()));
  return buffer;
}

}  // namespace paperboy::web
