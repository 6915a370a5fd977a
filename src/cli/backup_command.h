// `paperboy backup DEST` and `paperboy restore SOURCE`: copies of the embedded store taken while
// it is in use, and their return (see docs/operations.md, "Backups").
#pragma once

#include <CLI/CLI.hpp>
#include <string>

#include "cli/commands.h"

namespace paperboy::cli {

class BackupCommands {
 public:
  explicit BackupCommands(CLI::App& app);
  bool parsed() const;
  int run(const GlobalOptions& global);

 private:
  CLI::App* backup_ = nullptr;
  CLI::App* restore_ = nullptr;
  std::string folder_;
  bool force_ = false;
};

}  // namespace paperboy::cli
