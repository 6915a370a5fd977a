// Test support: a real SMTP server (testdata/smtp_sink.py, Debian's python3-aiosmtpd) on
// 127.0.0.1, started and stopped by the test, and the messages it accepted.
#pragma once

#include <sys/types.h>

#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace paperboy::mail::testing {

class SmtpSink {
 public:
  // Starts the server writing into `mail_dir`; on `port` when given, else on a free one.
  explicit SmtpSink(std::filesystem::path mail_dir, int port = 0);
  ~SmtpSink();
  SmtpSink(const SmtpSink&) = delete;
  SmtpSink& operator=(const SmtpSink&) = delete;

  int port() const { return port_; }
  void stop();
  // The summaries (see smtp_sink.py) of every message accepted so far, in arrival order.
  std::vector<nlohmann::json> messages() const;

 private:
  std::filesystem::path mail_dir_;
  pid_t pid_ = -1;
  int port_ = 0;
};

}  // namespace paperboy::mail::testing
