#include "web/api_cursor.h"

#include <fmt/format.h>
#include <httplib.h>
#include <openssl/evp.h>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <map>
#include <optional>
#include <vector>

namespace paperboy::web {

namespace {

constexpr std::string_view kVersion = "c1";
constexpr size_t kMaxCursorBytes = 200;

// FNV-1a: enough to tell lists apart; a cursor grants nothing a p= or offset= would not.
uint64_t fnv1a(std::string_view text) {
  uint64_t hash = 1469598103934665603ull;
  for (char c : text) {
    hash ^= static_cast<unsigned char>(c);
    hash *= 1099511628211ull;
  }
  return hash;
}

std::string base64url(std::string_view bytes) {
  std::vector<unsigned char> out(4 * ((bytes.size() + 2) / 3) + 1);
  const int length =
      EVP_EncodeBlock(out.data(), reinterpret_cast<const unsigned char*>(bytes.data()),
                      static_cast<int>(bytes.size()));
  std::string text(reinterpret_cast<const char*>(out.data()), static_cast<size_t>(length));
  while (!text.empty() && text.back() == '=') text.pop_back();
  std::replace(text.begin(), text.end(), '+', '-');
  std::replace(text.begin(), text.end(), '/', '_');
  return text;
}

std::optional<std::string> from_base64url(std::string_view text) {
  std::string padded(text);
  for (char& c : padded) {
    if (c == '-') {
      c = '+';
    } else if (c == '_') {
      c = '/';
    } else if (!std::isalnum(static_cast<unsigned char>(c))) {
      return std::nullopt;
    }
  }
  const size_t padding = (4 - padded.size() % 4) % 4;
  if (padding == 3) return std::nullopt;
  padded.append(padding, '=');
  std::vector<unsigned char> out(padded.size() / 4 * 3 + 1);
  const int length =
      EVP_DecodeBlock(out.data(), reinterpret_cast<const unsigned char*>(padded.data()),
                      static_cast<int>(padded.size()));
  if (length < 0) return std::nullopt;
  // EVP_DecodeBlock counts the padding as zero bytes.
  return std::string(reinterpret_cast<const char*>(out.data()),
                     static_cast<size_t>(length) - padding);
}

}  // namespace

std::string list_fingerprint(const httplib::Request& request) {
  std::map<std::string, std::string> kept;
  for (const auto& [name, value] : request.params) {
    if (name == "cursor" || name == "p" || name == "limit" || name == "offset") continue;
    kept.emplace(name, value);
  }
  std::string text = request.path;
  for (const auto& [name, value] : kept) text += "\n" + name + "=" + value;
  return fmt::format("{:016x}", fnv1a(text));
}

std::string make_cursor(size_t offset, std::string_view fingerprint) {
  return base64url(fmt::format("{}:{}:{}", kVersion, offset, fingerprint));
}

Result<size_t> read_cursor(std::string_view cursor, std::string_view fingerprint) {
  const Error unknown{
      "cursor: not a cursor from this list; pass the next_cursor of the previous answer "
      "unchanged"};
  if (cursor.size() > kMaxCursorBytes) return std::unexpected(unknown);
  auto decoded = from_base64url(cursor);
  if (!decoded) return std::unexpected(unknown);
  std::string_view text = *decoded;
  if (!text.starts_with(kVersion) || text.size() <= kVersion.size() || text[kVersion.size()] != ':')
    return std::unexpected(unknown);
  text.remove_prefix(kVersion.size() + 1);
  const size_t colon = text.find(':');
  if (colon == std::string_view::npos) return std::unexpected(unknown);
  size_t offset = 0;
  auto [end, error] = std::from_chars(text.data(), text.data() + colon, offset);
  if (error != std::errc() || end != text.data() + colon) return std::unexpected(unknown);
  if (text.substr(colon + 1) != fingerprint)
    return fail(
        "cursor: it belongs to a different list (the query, period, sort or filters changed); "
        "start again without a cursor");
  return offset;
}

}  // namespace paperboy::web
