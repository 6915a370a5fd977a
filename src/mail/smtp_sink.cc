#include "mail/smtp_sink.h"

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <fstream>
#include <stdexcept>
#include <string>

namespace paperboy::mail::testing {
namespace {

// Debian's interpreter, where python3-aiosmtpd is installed (a developer's PATH may hold another).
constexpr const char* kPython = "/usr/bin/python3";

}  // namespace

SmtpSink::SmtpSink(std::filesystem::path mail_dir, int port) : mail_dir_(std::move(mail_dir)) {
  std::filesystem::create_directories(mail_dir_);
  int out[2];
  if (pipe(out) != 0) throw std::runtime_error("smtp sink: pipe failed");
  std::string script = std::string(PAPERBOY_SOURCE_DIR) + "/src/mail/testdata/smtp_sink.py";
  std::string dir = mail_dir_.string();
  std::string port_text = std::to_string(port);
  pid_ = fork();
  if (pid_ == 0) {
    dup2(out[1], STDOUT_FILENO);
    close(out[0]);
    close(out[1]);
    execl(kPython, kPython, script.c_str(), dir.c_str(), "--port", port_text.c_str(), nullptr);
    _exit(127);
  }
  close(out[1]);
  FILE* stream = fdopen(out[0], "r");
  char line[64] = {};
  bool ready =
      fgets(line, sizeof line, stream) != nullptr && std::sscanf(line, "PORT %d", &port_) == 1;
  fclose(stream);
  if (!ready) {
    stop();
    throw std::runtime_error(
        std::string("smtp sink did not start: is python3-aiosmtpd installed for ") + kPython + "?");
  }
}

SmtpSink::~SmtpSink() { stop(); }

void SmtpSink::stop() {
  if (pid_ <= 0) return;
  kill(pid_, SIGTERM);
  int status = 0;
  waitpid(pid_, &status, 0);
  pid_ = -1;
}

std::vector<nlohmann::json> SmtpSink::messages() const {
  std::vector<std::filesystem::path> files;
  for (const auto& entry : std::filesystem::directory_iterator(mail_dir_)) {
    if (entry.path().extension() == ".json") files.push_back(entry.path());
  }
  std::sort(files.begin(), files.end());
  std::vector<nlohmann::json> out;
  for (const auto& file : files) {
    std::ifstream in(file);
    out.push_back(nlohmann::json::parse(in));
  }
  return out;
}

}  // namespace paperboy::mail::testing
