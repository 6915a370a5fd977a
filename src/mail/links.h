// Signed links in mails (confirm a subscription, unsubscribe): a token that names the
// subscription, the action and an expiry, authenticated by HMAC-SHA256 under the instance's
// secret, so a link cannot be forged for another address or reused for another action.
#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>

#include "core/result.h"

namespace paperboy::mail {

enum class LinkAction { confirm, unsubscribe };

// "<action>.<subscription id>.<expiry, unix seconds>.<base64url HMAC>"; URL-safe as it is.
std::string sign_link(std::string_view secret, LinkAction action, int64_t subscription_id,
                      std::chrono::sys_seconds expires);

// The subscription id when `token` is a genuine, unexpired token for `action`; an Error that
// says why otherwise (malformed, wrong action, expired, bad signature).
Result<int64_t> verify_link(std::string_view secret, LinkAction action, std::string_view token,
                            std::chrono::sys_seconds now);

// The instance secret in `path` (the data folder's "secret"), created with 32 random bytes
// and mode 0600 when missing.
Result<std::string> load_or_create_secret(const std::filesystem::path& path);

}  // namespace paperboy::mail
