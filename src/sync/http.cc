#include "sync/http.h"

#include <curl/curl.h>

#include <cctype>
#include <ctime>
#include <memory>
#include <mutex>

namespace paperboy::sync {
namespace {

struct CurlEasyDeleter {
  void operator()(CURL* curl) const { curl_easy_cleanup(curl); }
};
struct CurlListDeleter {
  void operator()(curl_slist* list) const { curl_slist_free_all(list); }
};

size_t append_body(char* data, size_t size, size_t count, void* target) {
  static_cast<std::string*>(target)->append(data, size * count);
  return size * count;
}

size_t read_header(char* data, size_t size, size_t count, void* target) {
  std::string_view line(data, size * count);
  constexpr std::string_view kName = "retry-after:";
  if (line.size() > kName.size()) {
    bool matches = true;
    for (size_t i = 0; i < kName.size() && matches; ++i)
      matches = std::tolower(static_cast<unsigned char>(line[i])) == kName[i];
    if (matches) {
      std::string value(line.substr(kName.size()));
      while (!value.empty() && std::isspace(static_cast<unsigned char>(value.back())))
        value.pop_back();
      while (!value.empty() && std::isspace(static_cast<unsigned char>(value.front())))
        value.erase(0, 1);
      auto& retry_after = *static_cast<std::optional<std::chrono::seconds>*>(target);
      if (!value.empty() && value.find_first_not_of("0123456789") == std::string::npos &&
          value.size() < 10) {
        retry_after = std::chrono::seconds(std::stol(value));
      } else if (time_t when = curl_getdate(value.c_str(), nullptr); when >= 0) {
        retry_after = std::chrono::seconds(std::max<time_t>(0, when - std::time(nullptr)));
      }
    }
  }
  return size * count;
}

// Non-zero aborts the transfer.
int check_cancel(void* cancel, curl_off_t, curl_off_t, curl_off_t, curl_off_t) {
  return static_cast<const std::atomic<bool>*>(cancel)->load() ? 1 : 0;
}

}  // namespace

Result<HttpResponse> http_get(const std::string& url, std::chrono::milliseconds timeout,
                              const std::string& user_agent, const std::atomic<bool>& cancel) {
  static std::once_flag initialised;
  std::call_once(initialised, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
  std::unique_ptr<CURL, CurlEasyDeleter> curl(curl_easy_init());
  if (!curl) return fail(url + ": cannot start libcurl");
  HttpResponse response;
  char error_buffer[CURL_ERROR_SIZE] = {};
  curl_easy_setopt(curl.get(), CURLOPT_URL, url.c_str());
  curl_easy_setopt(curl.get(), CURLOPT_USERAGENT, user_agent.c_str());
  curl_easy_setopt(curl.get(), CURLOPT_TIMEOUT_MS, static_cast<long>(timeout.count()));
  curl_easy_setopt(curl.get(), CURLOPT_FOLLOWLOCATION, 1L);
  curl_easy_setopt(curl.get(), CURLOPT_MAXREDIRS, 5L);
  // Compressed transfer: OAI-PMH pages shrink about tenfold.
  curl_easy_setopt(curl.get(), CURLOPT_ACCEPT_ENCODING, "");
  curl_easy_setopt(curl.get(), CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(curl.get(), CURLOPT_ERRORBUFFER, error_buffer);
  curl_easy_setopt(curl.get(), CURLOPT_WRITEFUNCTION, append_body);
  curl_easy_setopt(curl.get(), CURLOPT_WRITEDATA, &response.body);
  curl_easy_setopt(curl.get(), CURLOPT_HEADERFUNCTION, read_header);
  curl_easy_setopt(curl.get(), CURLOPT_HEADERDATA, &response.retry_after);
  curl_easy_setopt(curl.get(), CURLOPT_NOPROGRESS, 0L);
  curl_easy_setopt(curl.get(), CURLOPT_XFERINFOFUNCTION, check_cancel);
  curl_easy_setopt(curl.get(), CURLOPT_XFERINFODATA, const_cast<std::atomic<bool>*>(&cancel));
  const CURLcode code = curl_easy_perform(curl.get());
  if (code != CURLE_OK) {
    std::string reason = error_buffer[0] ? error_buffer : curl_easy_strerror(code);
    if (code == CURLE_PARTIAL_FILE) reason = "truncated body (" + reason + ")";
    if (code == CURLE_OPERATION_TIMEDOUT) reason = "timed out (" + reason + ")";
    if (code == CURLE_ABORTED_BY_CALLBACK) reason = "stopped";
    return fail(url + ": " + reason);
  }
  curl_easy_getinfo(curl.get(), CURLINFO_RESPONSE_CODE, &response.status);
  return response;
}

std::string url_encode(std::string_view value) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string encoded;
  for (unsigned char c : value) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
      encoded.push_back(static_cast<char>(c));
    } else {
      encoded.push_back('%');
      encoded.push_back(kHex[c >> 4]);
      encoded.push_back(kHex[c & 15]);
    }
  }
  return encoded;
}

}  // namespace paperboy::sync
