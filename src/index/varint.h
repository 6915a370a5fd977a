// LEB128-style variable-byte integers for postings: 7 bits a byte, high bit = more follows.
#pragma once

#include <cstdint>
#include <cstring>
#include <vector>

namespace paperboy::index {

inline void write_varint(std::vector<uint8_t>& out, uint32_t value) {
  while (value >= 0x80) {
    out.push_back(static_cast<uint8_t>(value | 0x80));
    value >>= 7;
  }
  out.push_back(static_cast<uint8_t>(value));
}

// Reads one value and advances `p`; never reads at or past `end` (a damaged file yields
// wrong numbers, not a crash).
inline uint32_t read_varint(const uint8_t*& p, const uint8_t* end) {
  uint32_t value = 0;
  for (int shift = 0; shift < 35 && p < end; shift += 7) {
    uint8_t byte = *p++;
    value |= static_cast<uint32_t>(byte & 0x7f) << shift;
    if ((byte & 0x80) == 0) break;
  }
  return value;
}

// Skips `count` values: a value ends at each byte without the high bit, so no decoding is
// needed, and eight bytes are counted at once while more than their values remain to skip
// (phrase checks skip the positions of up to 127 docs to reach one). Never moves past `end`.
inline const uint8_t* skip_varints(const uint8_t* p, const uint8_t* end, uint64_t count) {
  while (end - p >= 8) {
    uint64_t word;
    std::memcpy(&word, p, 8);
    // One bit per byte that ends a value, summed by a multiply (no popcount instruction
    // in the baseline x86-64 target).
    uint64_t ends = (((~word & 0x8080808080808080ULL) >> 7) * 0x0101010101010101ULL) >> 56;
    if (ends >= count) break;
    count -= ends;
    p += 8;
  }
  while (count > 0 && p < end)
    if ((*p++ & 0x80) == 0) --count;
  return p;
}

}  // namespace paperboy::index
