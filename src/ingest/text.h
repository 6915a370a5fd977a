// Text helpers shared by the importers.
#pragma once

#include <chrono>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.h"

namespace paperboy::ingest {

// Same result as core collapse_whitespace (runs of ASCII whitespace become one space, ends
// trimmed), several times faster: the bulk snapshot import spends most of its time here.
std::string collapse_text(std::string_view text);

// "YYYY-MM-DD", as core format_date, without going through printf.
std::string format_day(std::chrono::sys_days day);

// "First Last Suffix" from the parts arXiv keeps apart; empty parts are left out.
std::string person_name(std::string_view first, std::string_view last, std::string_view suffix);

// Splits an arXiv authors string ("A. One, B. Two and C. Three (MIT)") into names:
// parenthesised affiliations are dropped, names are separated by commas and " and ".
std::vector<std::string> split_author_list(std::string_view authors);

// The number of an arXiv version label ("v3" -> 3); nullopt unless "v" and 1-6 digits.
std::optional<int> version_number(std::string_view label);

// Words separated by whitespace ("cs.CL cs.AI" -> {"cs.CL", "cs.AI"}).
std::vector<std::string> split_words(std::string_view text);

// The first https://github.com/OWNER/REPO link in text, trimmed to the repository; empty if none.
std::string first_github_url(std::string_view text);

// A valid YYYY-MM-DD date found in the file name ("2025-01-10.json.gz"), if any.
std::optional<std::string> date_in_file_name(const std::filesystem::path& path);

// The ISO day of a source date, or an error "bad date in FIELD: "TEXT"".
Result<std::string> iso_day(std::string_view text, std::string_view field);

// The ISO instant ("2025-06-02T03:18:21Z") of a source timestamp, or an error naming the field.
Result<std::string> iso_instant(std::string_view text, std::string_view field);

// True when text is valid UTF-8.
bool is_valid_utf8(std::string_view text);

// Quotes text for an error message, shortened to a readable length.
std::string excerpt(std::string_view text);

}  // namespace paperboy::ingest
