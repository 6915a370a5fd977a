// For tests that drive the real `paperboy` binary: run it to completion or start it in the
// background, with its output captured in files.
#pragma once

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

namespace paperboy::cli::testing {

// A loopback port that was free a moment ago, for a server a test starts.
inline int free_port() {
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof address);
  socklen_t length = sizeof address;
  getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length);
  close(fd);
  return ntohs(address.sin_port);
}

struct Outcome {
  int exit_code = -1;  // -1: killed by a signal
  std::string out;
  std::string err;
};

inline std::string read_file(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream buffer;
  buffer << in.rdbuf();
  return buffer.str();
}

// Starts `args` (args[0] the executable) with stdout and stderr going to the named files;
// `mode` is O_TRUNC to start them afresh or O_APPEND to keep what earlier commands wrote.
inline pid_t spawn(const std::vector<std::string>& args, const std::filesystem::path& out,
                   const std::filesystem::path& err, int mode = O_TRUNC) {
  const pid_t pid = fork();
  if (pid == 0) {
    const int out_fd = open(out.c_str(), O_WRONLY | O_CREAT | mode, 0644);
    const int err_fd = out == err ? out_fd : open(err.c_str(), O_WRONLY | O_CREAT | mode, 0644);
    dup2(out_fd, 1);
    dup2(err_fd, 2);
    std::vector<char*> argv;
    for (const std::string& arg : args) argv.push_back(const_cast<char*>(arg.c_str()));
    argv.push_back(nullptr);
    execv(argv[0], argv.data());
    _exit(127);
  }
  return pid;
}

struct Ending {
  bool killed = false;  // SIGKILLed because `kill_now` said so
  int status = 0;       // as waitpid reports it
};

// Waits for `pid` to end, polling `kill_now()` every `poll` and SIGKILLing the process as soon as
// it returns true: how crash tests stop a command at a chosen moment of its work.
template <class Predicate>
Ending wait_or_kill(pid_t pid, Predicate kill_now, std::chrono::microseconds poll) {
  Ending ending;
  while (waitpid(pid, &ending.status, WNOHANG) == 0) {
    if (kill_now()) {
      kill(pid, SIGKILL);
      waitpid(pid, &ending.status, 0);
      ending.killed = WIFSIGNALED(ending.status);
      return ending;
    }
    std::this_thread::sleep_for(poll);
  }
  return ending;
}

// Runs `args` to completion; output files go into `scratch`.
inline Outcome run(const std::vector<std::string>& args, const std::filesystem::path& scratch) {
  const pid_t pid = spawn(args, scratch / "stdout", scratch / "stderr");
  int status = 0;
  waitpid(pid, &status, 0);
  return {WIFEXITED(status) ? WEXITSTATUS(status) : -1, read_file(scratch / "stdout"),
          read_file(scratch / "stderr")};
}

}  // namespace paperboy::cli::testing
