// `paperboy recommend --user NAME`: the "For you" list of a user, from their upvotes and
// collections (src/recommend), as the web app's /for-you shows it.
#pragma once

#include <CLI/CLI.hpp>
#include <string>

#include "cli/commands.h"

namespace paperboy::cli {

class RecommendCommand {
 public:
  explicit RecommendCommand(CLI::App& app);
  bool parsed() const;
  int run(const GlobalOptions& global);

 private:
  CLI::App* command_ = nullptr;
  std::string user_;
  size_t limit_ = 20;
  int days_ = 7;
  std::string method_ = "svm";
  bool json_ = false;
};

}  // namespace paperboy::cli
