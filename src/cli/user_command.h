// `paperboy user add|set-role|remove|list`: accounts from the command line, e.g. the first admin
// of a new installation or a moderator, without the web app.
#pragma once

#include <CLI/CLI.hpp>
#include <string>

#include "cli/commands.h"

namespace paperboy::cli {

class UserCommands {
 public:
  explicit UserCommands(CLI::App& app);
  bool parsed() const;
  int run(const GlobalOptions& global);

 private:
  CLI::App* user_ = nullptr;
  CLI::App* add_ = nullptr;
  CLI::App* set_role_ = nullptr;
  CLI::App* remove_ = nullptr;
  CLI::App* list_ = nullptr;
  std::string name_;
  std::string email_;
  std::string role_ = "user";
  bool password_stdin_ = false;
};

}  // namespace paperboy::cli
