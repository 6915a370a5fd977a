// Building blocks of accounts: password hashing, secret tokens, input rules for sign-up, cookie
// parsing and login rate limiting. The web routes and the `paperboy user` command share them.
#pragma once

#include <chrono>
#include <cstddef>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.h"

namespace paperboy::web {

// An argon2id encoding of `password` with a fresh salt (19 MiB, 2 passes, 1 lane: OWASP's
// recommended minimum), as "$argon2id$v=19$m=19456,t=2,p=1$...".
Result<std::string> hash_password(std::string_view password);

// Whether `password` matches an encoding made by hash_password. Takes as long for a wrong
// password as for a right one.
bool verify_password(std::string_view encoded, std::string_view password);

// 256 random bits from the operating system, as 64 hex digits.
std::string random_token();

// The SHA-256 of a token, as 64 hex digits: what the store keeps of sessions and API tokens.
std::string token_hash(std::string_view token);

// Sign-up rules; each error names the field and says what is expected.
Result<void> check_user_name(std::string_view name);  // 2-32 of A-Z a-z 0-9 _ -
Result<void> check_email(std::string_view email);
Result<void> check_password(std::string_view password);  // 8-1024 bytes

// The value of cookie `name` in a Cookie header, if present.
std::optional<std::string> cookie_value(std::string_view header, std::string_view name);

// Counts failed sign-ins per account and per client address over a sliding window; once either
// reaches its limit, further attempts wait until the oldest failure leaves the window.
class LoginLimiter {
 public:
  using Clock = std::chrono::steady_clock;

  LoginLimiter(size_t per_account, size_t per_address, std::chrono::seconds window);

  // How long the caller must wait before trying again; zero when an attempt is allowed.
  std::chrono::seconds wait(std::string_view account, std::string_view address,
                            Clock::time_point now);
  void failed(std::string_view account, std::string_view address, Clock::time_point now);
  // A successful sign-in clears the account's failures (not the address's).
  void succeeded(std::string_view account);

 private:
  struct Failures {
    std::vector<Clock::time_point> times;  // oldest first, within the window
  };
  std::chrono::seconds wait_for(Failures& failures, size_t limit, Clock::time_point now);
  void forget_old(Clock::time_point now);

  size_t per_account_;
  size_t per_address_;
  std::chrono::seconds window_;
  std::mutex mutex_;
  std::map<std::string, Failures, std::less<>> accounts_;
  std::map<std::string, Failures, std::less<>> addresses_;
  Clock::time_point last_sweep_{};
};

}  // namespace paperboy::web
