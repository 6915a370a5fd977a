// Calendar dates as paperboy stores them: ISO "YYYY-MM-DD" strings, and days since 1970-01-01
// for arithmetic.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <string_view>

namespace paperboy {

// Parses the date part of what sources write: "2024-05-30", "2025-05-30T17:59:01.000Z",
// "Mon, 2 Apr 2007 19:18:42 GMT", "Jun 9, 2024", "2 Apr 2007". nullopt if not a valid date.
std::optional<std::chrono::sys_days> parse_date(std::string_view text);

// Parses an ISO-8601 instant ("2025-06-02T03:18:21.654Z", "2007-04-02T19:18:42Z"); a bare
// date is midnight UTC.
std::optional<std::chrono::sys_seconds> parse_instant(std::string_view text);

std::string format_date(std::chrono::sys_days day);            // "2024-05-30"
std::string format_instant(std::chrono::sys_seconds instant);  // "2024-05-30T17:59:01Z"

// Today in UTC.
std::chrono::sys_days today();

// Monday of the ISO week holding `day`; first day of its month.
std::chrono::sys_days week_start(std::chrono::sys_days day);
std::chrono::sys_days month_start(std::chrono::sys_days day);

}  // namespace paperboy
