#include "store/fast_keys.h"

#include "core/paper.h"

namespace paperboy::store {

std::string fast_title_key(std::string_view title) {
  std::string key;
  key.reserve(title.size());
  bool pending_space = false;
  for (char c : title) {
    const auto byte = static_cast<unsigned char>(c);
    if (byte >= 0x80) return title_key(title);
    if ((byte >= 'a' && byte <= 'z') || (byte >= '0' && byte <= '9')) {
      if (pending_space && !key.empty()) key.push_back(' ');
      pending_space = false;
      key.push_back(c);
    } else if (byte >= 'A' && byte <= 'Z') {
      if (pending_space && !key.empty()) key.push_back(' ');
      pending_space = false;
      key.push_back(static_cast<char>(byte - 'A' + 'a'));
    } else {
      pending_space = true;
    }
  }
  return key;
}

int64_t title_key_hash(std::string_view key) {
  uint64_t hash = 14695981039346656037ull;
  for (char c : key) {
    hash ^= static_cast<unsigned char>(c);
    hash *= 1099511628211ull;
  }
  return static_cast<int64_t>(hash);
}

}  // namespace paperboy::store
