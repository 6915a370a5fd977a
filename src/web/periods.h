// The calendar periods the web app names in URLs and API parameters: ISO days ("2026-08-21"),
// ISO weeks ("2026-W34") and months ("2026-08").
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <string_view>

#include "feed/feed.h"

namespace paperboy::web {

// Strict parsers: the whole text must match, with zero-padded fields, and name a real period.
// Each returns the first day of the period.
std::optional<std::chrono::sys_days> parse_iso_day(std::string_view text);     // "2026-08-21"
std::optional<std::chrono::sys_days> parse_iso_week(std::string_view text);    // "2026-W34"
std::optional<std::chrono::sys_days> parse_year_month(std::string_view text);  // "2026-08"

std::string format_iso_week(std::chrono::sys_days day);    // the ISO week holding `day`
std::string format_year_month(std::chrono::sys_days day);  // the month holding `day`

// The period's name as it appears in URLs: "2026-08-21", "2026-W34" or "2026-08".
std::string period_label(feed::Period period, std::chrono::sys_days day);

// The page listing the period holding `day`: "/date/2026-08-21", "/week/2026-W34",
// "/month/2026-08".
std::string period_path(feed::Period period, std::chrono::sys_days day);

// A heading for people: "Friday, 21 August 2026", "Week 34, 2026 (17–23 Aug)", "August 2026".
std::string period_title(feed::Period period, std::chrono::sys_days day);

}  // namespace paperboy::web
