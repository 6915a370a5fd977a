// Delivery over SMTP with libcurl: plain, STARTTLS or implicit TLS, optional authentication.
// One SmtpClient keeps its connection open between messages, so a digest run does not pay a
// handshake per subscriber.
#pragma once

#include <chrono>
#include <memory>
#include <string>
#include <string_view>

#include "core/result.h"

namespace paperboy::mail {

enum class TlsMode {
  kNone,      // plain SMTP (a relay on loopback)
  kStartTls,  // upgrade with STARTTLS and refuse to go on without it
  kImplicit,  // TLS from the first byte (smtps, port 465)
};

struct SmtpSettings {
  std::string host = "127.0.0.1";
  int port = 25;
  TlsMode tls = TlsMode::kNone;
  std::string username;  // empty: no AUTH
  std::string password;
  bool verify_peer =
      true;  // check the server's certificate (off only for a self-signed test relay)
  std::string helo_domain = "localhost";
  std::chrono::seconds timeout{30};
};

// What became of one message. Permanent failures (5xx replies to the mail transaction) will not
// succeed on retry and count as a bounce for the recipient; everything else (4xx, connection
// refused, timeouts, authentication or TLS problems on our side) is worth retrying later.
enum class DeliveryOutcome { kAccepted, kTemporaryFailure, kPermanentFailure };

struct DeliveryReport {
  DeliveryOutcome outcome = DeliveryOutcome::kTemporaryFailure;
  long smtp_code = 0;  // the server's last reply code, 0 when it never replied
  std::string detail;  // for logs and the outbox: what went wrong
};

class SmtpClient {
 public:
  static Result<std::unique_ptr<SmtpClient>> create(SmtpSettings settings);
  ~SmtpClient();
  SmtpClient(const SmtpClient&) = delete;
  SmtpClient& operator=(const SmtpClient&) = delete;

  // Sends `message` (rendered, CRLF line ends, see render_message) from `envelope_from` to
  // `recipient`. Never throws; the report says whether the server accepted it.
  DeliveryReport send(std::string_view envelope_from, std::string_view recipient,
                      std::string_view message);

 private:
  struct State;
  explicit SmtpClient(std::unique_ptr<State> state);
  std::unique_ptr<State> state_;
};

}  // namespace paperboy::mail
