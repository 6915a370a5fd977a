// Cursors for the JSON API's lists: an opaque token for "the rest of this list", given out as
// next_cursor and taken back as ?cursor=. It holds the position of the next item and a
// fingerprint of the request's other parameters, so a cursor is refused, with a clear message,
// by any list but the one it came from.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

#include "core/result.h"

namespace httplib {
struct Request;
}

namespace paperboy::web {

// What identifies a list: every query parameter except those that only page through it
// (cursor, p, limit, offset), and the path.
std::string list_fingerprint(const httplib::Request& request);

// URL-safe base64, no padding.
std::string make_cursor(size_t offset, std::string_view fingerprint);

// The offset a cursor holds; fails, naming the "cursor" parameter, for text that is no cursor
// of ours or a cursor of another list.
Result<size_t> read_cursor(std::string_view cursor, std::string_view fingerprint);

}  // namespace paperboy::web
