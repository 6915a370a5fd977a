#include "mail/links.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <cstring>
#include <fstream>
#include <sstream>
#include <vector>

namespace paperboy::mail {
namespace {

constexpr std::string_view kBase64Url =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

const char* action_name(LinkAction action) {
  return action == LinkAction::confirm ? "confirm" : "unsubscribe";
}

// RFC 4648 base64url without padding (OpenSSL has no URL-safe variant).
std::string base64url(const unsigned char* bytes, size_t size) {
  std::string out;
  uint32_t buffer = 0;
  int bits = 0;
  for (size_t i = 0; i < size; ++i) {
    buffer = (buffer << 8) | bytes[i];
    bits += 8;
    while (bits >= 6) {
      bits -= 6;
      out += kBase64Url[(buffer >> bits) & 0x3F];
    }
  }
  if (bits > 0) out += kBase64Url[(buffer << (6 - bits)) & 0x3F];
  return out;
}

std::string mac(std::string_view secret, std::string_view payload) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  HMAC(EVP_sha256(), secret.data(), static_cast<int>(secret.size()),
       reinterpret_cast<const unsigned char*>(payload.data()), payload.size(), digest, &length);
  return base64url(digest, length);
}

std::vector<std::string_view> split(std::string_view text, char separator) {
  std::vector<std::string_view> parts;
  size_t start = 0;
  while (true) {
    size_t end = text.find(separator, start);
    parts.push_back(text.substr(start, end - start));
    if (end == std::string_view::npos) return parts;
    start = end + 1;
  }
}

template <class Int>
bool parse_int(std::string_view text, Int& value) {
  auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  return error == std::errc() && end == text.data() + text.size() && !text.empty();
}

}  // namespace

std::string sign_link(std::string_view secret, LinkAction action, int64_t subscription_id,
                      std::chrono::sys_seconds expires) {
  std::string payload = fmt::format("{}.{}.{}", action_name(action), subscription_id,
                                    expires.time_since_epoch().count());
  return payload + "." + mac(secret, payload);
}

Result<int64_t> verify_link(std::string_view secret, LinkAction action, std::string_view token,
                            std::chrono::sys_seconds now) {
  auto parts = split(token, '.');
  int64_t id = 0;
  int64_t expires = 0;
  if (parts.size() != 4 || !parse_int(parts[1], id) || !parse_int(parts[2], expires)) {
    return fail("the link is malformed (was it cut off by the mail client?)");
  }
  if (parts[0] != action_name(action)) return fail("the link is not for this action");
  std::string expected = mac(secret, token.substr(0, token.rfind('.')));
  if (expected.size() != parts[3].size() ||
      CRYPTO_memcmp(expected.data(), parts[3].data(), expected.size()) != 0) {
    return fail("the link's signature does not match");
  }
  if (now.time_since_epoch().count() > expires) return fail("the link has expired");
  return id;
}

Result<std::string> load_or_create_secret(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (in) {
    std::stringstream content;
    content << in.rdbuf();
    std::string secret = content.str();
    if (secret.size() < 32) return fail(path.string() + ": secret shorter than 32 bytes");
    return secret;
  }
  unsigned char bytes[32];
  if (RAND_bytes(bytes, sizeof bytes) != 1)
    return fail("could not draw random bytes for " + path.string());
  std::string secret = base64url(bytes, sizeof bytes);
  std::filesystem::create_directories(path.parent_path());
  // Written whole to a temporary file, then linked into place: link() fails when another
  // process got there first, and then its secret is the one to use.
  std::string temporary = fmt::format("{}.{}.tmp", path.string(), ::getpid());
  int fd = ::open(temporary.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
  if (fd < 0) return fail(fmt::format("{}: cannot create: {}", temporary, std::strerror(errno)));
  bool written = ::write(fd, secret.data(), secret.size()) == static_cast<ssize_t>(secret.size());
  written = ::fsync(fd) == 0 && written;
  ::close(fd);
  int linked = written ? ::link(temporary.c_str(), path.c_str()) : -1;
  int link_error = errno;
  ::unlink(temporary.c_str());
  if (!written) return fail(path.string() + ": cannot write the secret");
  if (linked != 0) {
    if (link_error == EEXIST) return load_or_create_secret(path);
    return fail(fmt::format("{}: cannot create: {}", path.string(), std::strerror(link_error)));
  }
  return secret;
}

}  // namespace paperboy::mail
