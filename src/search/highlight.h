// Marking up matched words for display: HTML-escaped text with <mark> around every word the
// query looked for.
#pragma once

#include <string>
#include <string_view>

#include "search/query.h"

namespace paperboy::search {

// All of `text` (a title, say), escaped, with matched words marked.
std::string highlight(std::string_view text, const Query& query);

// The passage of at most about `max_bytes` of `text` holding the most distinct query words,
// escaped and marked, with "…" where it was cut. Without matches: the beginning of the text.
std::string snippet(std::string_view text, const Query& query, size_t max_bytes = 240);

}  // namespace paperboy::search
