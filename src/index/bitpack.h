// Fixed-width bit packing for postings blocks: value i of width w occupies bits [i·w, (i+1)·w)
// of a little-endian byte run, so any value is read directly, without decoding its neighbours.
#pragma once

#include <algorithm>
#include <bit>
#include <cstdint>
#include <cstring>
#include <span>
#include <vector>

namespace paperboy::index {

// Bits needed for values up to `max_value` (0 for 0).
inline uint32_t bit_width_of(uint32_t max_value) {
  return static_cast<uint32_t>(std::bit_width(max_value));
}

inline uint64_t packed_bytes(uint64_t count, uint32_t width) { return (count * width + 7) / 8; }

// Appends `values` packed at `width` (<= 32) bits each, padded to a whole byte.
inline void pack_bits(std::vector<uint8_t>& out, std::span<const uint32_t> values, uint32_t width) {
  uint64_t pending = 0;
  uint32_t pending_bits = 0;
  for (uint32_t value : values) {
    pending |= uint64_t{value} << pending_bits;
    pending_bits += width;
    while (pending_bits >= 8) {
      out.push_back(static_cast<uint8_t>(pending));
      pending >>= 8;
      pending_bits -= 8;
    }
  }
  if (pending_bits > 0) out.push_back(static_cast<uint8_t>(pending));
}

// Value `index` of a run packed at `width` bits. Never reads at or past `end`: a damaged file
// yields wrong numbers, not a crash.
inline uint32_t unpack_bits(const uint8_t* run, const uint8_t* end, uint32_t width,
                            uint32_t index) {
  uint64_t bit = uint64_t{index} * width;
  const uint8_t* p = run + bit / 8;
  uint64_t word = 0;
  if (end - p >= 8) {
    std::memcpy(&word, p, 8);
  } else if (p < end) {
    std::memcpy(&word, p, static_cast<size_t>(end - p));
  }
  return static_cast<uint32_t>((word >> (bit % 8)) & ((uint64_t{1} << width) - 1));
}

// Values [0, count) of a run packed at `width` bits, into `out`: a cursor decodes a whole block
// at once so that its hot loops index plain arrays. Reads nothing at or past `end`, like
// unpack_bits.
inline void unpack_run(const uint8_t* run, const uint8_t* end, uint32_t width, uint32_t count,
                       uint32_t* out) {
  if (width == 0) {
    std::fill_n(out, count, 0u);
    return;
  }
  const uint64_t mask = (uint64_t{1} << width) - 1;
  // Values whose 8-byte window ends at or before `end` are read with one load each.
  uint32_t direct = 0;
  if (end - run >= 8) {
    uint64_t last_bit = static_cast<uint64_t>(end - run - 8) * 8 + 7;
    direct = static_cast<uint32_t>(std::min<uint64_t>(count, last_bit / width + 1));
  }
  uint64_t bit = 0;
  for (uint32_t i = 0; i < direct; ++i, bit += width) {
    uint64_t word;
    std::memcpy(&word, run + bit / 8, 8);
    out[i] = static_cast<uint32_t>((word >> (bit % 8)) & mask);
  }
  for (uint32_t i = direct; i < count; ++i) out[i] = unpack_bits(run, end, width, i);
}

}  // namespace paperboy::index
