// Store-internal: hot-path helpers whose results must equal core's.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace paperboy::store {

// Equals title_key(title). ASCII titles (nearly all of arXiv) take a fast path: their key is the
// lower-cased runs of letters and digits joined by single spaces, which is what title_key's
// NFKC case folding yields for ASCII, without its per-character Unicode work (about 8 us per
// title, most of an insert's cost). Other titles go through title_key.
std::string fast_title_key(std::string_view title);

// The 64-bit FNV-1a hash of a title key, stored beside it (title_hash) and indexed in its place.
// Stored in files, so it must never change.
int64_t title_key_hash(std::string_view key);

}  // namespace paperboy::store
