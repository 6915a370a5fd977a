#include "mail/smtp.h"

#include <curl/curl.h>
#include <fmt/chrono.h>
#include <fmt/format.h>

#include <cstring>
#include <mutex>

namespace paperboy::mail {
namespace {

struct Upload {
  std::string_view data;
  size_t offset = 0;
};

size_t read_upload(char* buffer, size_t size, size_t count, void* user) {
  auto* upload = static_cast<Upload*>(user);
  size_t n = std::min(size * count, upload->data.size() - upload->offset);
  std::memcpy(buffer, upload->data.data() + upload->offset, n);
  upload->offset += n;
  return n;
}

bool has_line_break(std::string_view text) {
  return text.find_first_of("\r\n") != std::string_view::npos;
}

}  // namespace

struct SmtpClient::State {
  SmtpSettings settings;
  CURL* curl = nullptr;
  std::string url;
};

SmtpClient::SmtpClient(std::unique_ptr<State> state) : state_(std::move(state)) {}

SmtpClient::~SmtpClient() {
  if (state_->curl != nullptr) curl_easy_cleanup(state_->curl);
}

Result<std::unique_ptr<SmtpClient>> SmtpClient::create(SmtpSettings settings) {
  static std::once_flag global_init;
  std::call_once(global_init, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
  if (settings.host.empty() || has_line_break(settings.host))
    return fail("smtp host: empty or invalid");
  if (settings.port <= 0 || settings.port > 65535) {
    return fail(fmt::format("smtp port: {} is not a TCP port", settings.port));
  }
  auto state = std::make_unique<State>();
  state->curl = curl_easy_init();
  if (state->curl == nullptr) return fail("smtp: could not initialise libcurl");
  const char* scheme = settings.tls == TlsMode::kImplicit ? "smtps" : "smtp";
  state->url =
      fmt::format("{}://{}:{}/{}", scheme, settings.host, settings.port, settings.helo_domain);
  state->settings = std::move(settings);
  return std::unique_ptr<SmtpClient>(new SmtpClient(std::move(state)));
}

DeliveryReport SmtpClient::send(std::string_view envelope_from, std::string_view recipient,
                                std::string_view message) {
  if (has_line_break(envelope_from) || has_line_break(recipient)) {
    return {DeliveryOutcome::kPermanentFailure, 0, "envelope address holds a line break"};
  }
  const SmtpSettings& settings = state_->settings;
  CURL* curl = state_->curl;
  std::string from = "<" + std::string(envelope_from) + ">";
  std::string to = "<" + std::string(recipient) + ">";
  curl_slist* recipients = curl_slist_append(nullptr, to.c_str());
  Upload upload{message};
  char error[CURL_ERROR_SIZE] = {};

  curl_easy_setopt(curl, CURLOPT_URL, state_->url.c_str());
  curl_easy_setopt(curl, CURLOPT_MAIL_FROM, from.c_str());
  curl_easy_setopt(curl, CURLOPT_MAIL_RCPT, recipients);
  curl_easy_setopt(curl, CURLOPT_UPLOAD, 1L);
  curl_easy_setopt(curl, CURLOPT_READFUNCTION, read_upload);
  curl_easy_setopt(curl, CURLOPT_READDATA, &upload);
  curl_easy_setopt(curl, CURLOPT_INFILESIZE_LARGE, static_cast<curl_off_t>(message.size()));
  curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, error);
  curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT, static_cast<long>(settings.timeout.count()));
  // A stalled transfer (under 1 byte/s for the timeout) counts as failed, however long the
  // message, so that a hung server cannot hold the digest run forever.
  curl_easy_setopt(curl, CURLOPT_LOW_SPEED_LIMIT, 1L);
  curl_easy_setopt(curl, CURLOPT_LOW_SPEED_TIME, static_cast<long>(settings.timeout.count()));
  if (settings.tls == TlsMode::kStartTls) curl_easy_setopt(curl, CURLOPT_USE_SSL, CURLUSESSL_ALL);
  curl_easy_setopt(curl, CURLOPT_SSL_VERIFYPEER, settings.verify_peer ? 1L : 0L);
  curl_easy_setopt(curl, CURLOPT_SSL_VERIFYHOST, settings.verify_peer ? 2L : 0L);
  if (!settings.username.empty()) {
    curl_easy_setopt(curl, CURLOPT_USERNAME, settings.username.c_str());
    curl_easy_setopt(curl, CURLOPT_PASSWORD, settings.password.c_str());
  }

  CURLcode code = curl_easy_perform(curl);
  curl_slist_free_all(recipients);
  long reply = 0;
  curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &reply);
  curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, nullptr);

  if (code == CURLE_OK) return {DeliveryOutcome::kAccepted, reply, {}};
  std::string detail = error[0] != '\0' ? std::string(error) : curl_easy_strerror(code);
  // libcurl reports a refused MAIL, RCPT or DATA as a send error or an unexpected reply; only
  // those are the recipient's fate. A refused login is our configuration, not a bounce.
  bool transaction_refused =
      code == CURLE_SEND_ERROR || code == CURLE_WEIRD_SERVER_REPLY || code == CURLE_RECV_ERROR;
  if (reply >= 500 && reply < 600 && transaction_refused) {
    return {DeliveryOutcome::kPermanentFailure, reply, std::move(detail)};
  }
  return {DeliveryOutcome::kTemporaryFailure, reply, std::move(detail)};
}

}  // namespace paperboy::mail
