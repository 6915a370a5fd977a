// One HTTP GET through libcurl. Internal to the sync component.
#pragma once

#include <atomic>
#include <chrono>
#include <optional>
#include <string>

#include "core/result.h"

namespace paperboy::sync {

struct HttpResponse {
  long status = 0;
  std::string body;
  // Retry-After, in seconds or as an HTTP date turned into seconds from now.
  std::optional<std::chrono::seconds> retry_after;
};

// Fails (naming the URL) when no complete response arrived: connection refused, timeout, or a
// body shorter than its Content-Length. Any HTTP status is a response, not an error. The
// transfer is abandoned soon after `cancel` becomes true.
Result<HttpResponse> http_get(const std::string& url, std::chrono::milliseconds timeout,
                              const std::string& user_agent, const std::atomic<bool>& cancel);

// Percent-encodes a query parameter value.
std::string url_encode(std::string_view value);

}  // namespace paperboy::sync
