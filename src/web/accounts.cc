#include "web/accounts.h"

#include <argon2.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <stdexcept>

namespace paperboy::web {

namespace {

constexpr uint32_t kPasses = 2;
constexpr uint32_t kMemoryKiB = 19456;
constexpr uint32_t kLanes = 1;
constexpr size_t kSaltBytes = 16;
constexpr size_t kHashBytes = 32;
constexpr size_t kMaxPasswordBytes = 1024;

std::string hex(const unsigned char* bytes, size_t size) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out;
  out.reserve(size * 2);
  for (size_t i = 0; i < size; ++i) {
    out.push_back(kDigits[bytes[i] >> 4]);
    out.push_back(kDigits[bytes[i] & 0x0F]);
  }
  return out;
}

// A valid encoding to verify against when the account does not exist, so that a sign-in for an
// unknown name costs as much as one for a known name.
const std::string& decoy_encoding() {
  static const std::string decoy = hash_password("decoy password").value_or("");
  return decoy;
}

}  // namespace

Result<std::string> hash_password(std::string_view password) {
  if (password.size() > kMaxPasswordBytes) return fail("password: at most 1024 bytes");
  std::array<unsigned char, kSaltBytes> salt{};
  if (RAND_bytes(salt.data(), static_cast<int>(salt.size())) != 1)
    return fail("password: the system has no random numbers to salt it with");
  const size_t length =
      argon2_encodedlen(kPasses, kMemoryKiB, kLanes, kSaltBytes, kHashBytes, Argon2_id);
  std::string encoded(length, '\0');
  const int rc =
      argon2id_hash_encoded(kPasses, kMemoryKiB, kLanes, password.data(), password.size(),
                            salt.data(), salt.size(), kHashBytes, encoded.data(), length);
  if (rc != ARGON2_OK)
    return fail(std::string("password: hashing failed: ") + argon2_error_message(rc));
  encoded.resize(encoded.find('\0'));
  return encoded;
}

bool verify_password(std::string_view encoded, std::string_view password) {
  if (password.size() > kMaxPasswordBytes) return false;
  const std::string& target =
      encoded.starts_with("$argon2id$") ? std::string(encoded) : decoy_encoding();
  const bool matches =
      argon2id_verify(target.c_str(), password.data(), password.size()) == ARGON2_OK;
  return matches && encoded.starts_with("$argon2id$");
}

std::string random_token() {
  std::array<unsigned char, 32> bytes{};
  if (RAND_bytes(bytes.data(), static_cast<int>(bytes.size())) != 1)
    throw std::runtime_error("the system has no random numbers for a token");
  return hex(bytes.data(), bytes.size());
}

std::string token_hash(std::string_view token) {
  std::array<unsigned char, EVP_MAX_MD_SIZE> digest{};
  unsigned int size = 0;
  EVP_Digest(token.data(), token.size(), digest.data(), &size, EVP_sha256(), nullptr);
  return hex(digest.data(), size);
}

Result<void> check_user_name(std::string_view name) {
  const bool allowed = std::all_of(name.begin(), name.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-';
  });
  if (name.size() < 2 || name.size() > 32 || !allowed)
    return fail("name: 2 to 32 letters, digits, '_' or '-'");
  return {};
}

Result<void> check_email(std::string_view email) {
  const size_t at = email.find('@');
  const bool plain = std::none_of(email.begin(), email.end(), [](char c) {
    return static_cast<unsigned char>(c) <= 0x20 || c == '<' || c == '>' || c == '"';
  });
  if (email.size() > 254 || at == std::string_view::npos || at == 0 ||
      email.find('.', at) == std::string_view::npos || email.back() == '.' || !plain ||
      email.find('@', at + 1) != std::string_view::npos)
    return fail("email: an address such as ada@example.org");
  return {};
}

Result<void> check_password(std::string_view password) {
  if (password.size() < 8) return fail("password: at least 8 characters");
  if (password.size() > kMaxPasswordBytes) return fail("password: at most 1024 bytes");
  return {};
}

std::optional<std::string> cookie_value(std::string_view header, std::string_view name) {
  while (!header.empty()) {
    const size_t end = std::min(header.find(';'), header.size());
    std::string_view pair = header.substr(0, end);
    header.remove_prefix(std::min(end + 1, header.size()));
    while (!pair.empty() && pair.front() == ' ') pair.remove_prefix(1);
    const size_t equals = pair.find('=');
    if (equals == std::string_view::npos) continue;
    if (pair.substr(0, equals) == name) return std::string(pair.substr(equals + 1));
  }
  return std::nullopt;
}

LoginLimiter::LoginLimiter(size_t per_account, size_t per_address, std::chrono::seconds window)
    : per_account_(per_account), per_address_(per_address), window_(window) {}

std::chrono::seconds LoginLimiter::wait_for(Failures& failures, size_t limit,
                                            Clock::time_point now) {
  std::erase_if(failures.times, [&](Clock::time_point at) { return at + window_ <= now; });
  if (failures.times.size() < limit) return std::chrono::seconds{0};
  const auto left = failures.times.front() + window_ - now;
  return std::max(std::chrono::seconds{1}, std::chrono::ceil<std::chrono::seconds>(left));
}

std::chrono::seconds LoginLimiter::wait(std::string_view account, std::string_view address,
                                        Clock::time_point now) {
  std::lock_guard lock(mutex_);
  std::chrono::seconds longest{0};
  if (auto found = accounts_.find(account); found != accounts_.end())
    longest = std::max(longest, wait_for(found->second, per_account_, now));
  if (auto found = addresses_.find(address); found != addresses_.end())
    longest = std::max(longest, wait_for(found->second, per_address_, now));
  return longest;
}

void LoginLimiter::failed(std::string_view account, std::string_view address,
                          Clock::time_point now) {
  std::lock_guard lock(mutex_);
  forget_old(now);
  accounts_[std::string(account)].times.push_back(now);
  addresses_[std::string(address)].times.push_back(now);
}

void LoginLimiter::succeeded(std::string_view account) {
  std::lock_guard lock(mutex_);
  if (auto found = accounts_.find(account); found != accounts_.end()) accounts_.erase(found);
}

// Drops entries whose failures have all left the window, at most once per window, so the maps
// stay as small as the recent failures.
void LoginLimiter::forget_old(Clock::time_point now) {
  if (now - last_sweep_ < window_) return;
  last_sweep_ = now;
  for (auto* map : {&accounts_, &addresses_}) {
    std::erase_if(*map, [&](const auto& entry) {
      return entry.second.times.empty() || entry.second.times.back() + window_ <= now;
    });
  }
}

}  // namespace paperboy::web
