// `paperboy digest ...`: subscriptions and email digests (see docs/digests.md).
#pragma once

#include <CLI/CLI.hpp>
#include <string>
#include <vector>

#include "cli/commands.h"
#include "core/result.h"
#include "mail/digest.h"

namespace paperboy::cli {

// Adds the MailOptions to `app` (digest and serve both take them).
void add_mail_options(CLI::App& app, MailOptions& options);
// The settings for the mail component, with the instance secret from the data folder.
Result<mail::MailSettings> mail_settings(const GlobalOptions& global, const MailOptions& options);

// What digests draw on besides the papers, opened from the data folder: the search index and
// the vectors when present, and the accounts for "papers like my upvotes". `community` owns
// the store sources.community points to.
struct OpenedDigestSources {
  std::unique_ptr<store::CommunityStore> community;
  mail::DigestSources sources;
};
Result<OpenedDigestSources> open_digest_sources(const GlobalOptions& global);
// For the scheduler of `serve`, which knows the index folder: the same beside it, with
// `keyword_index` as the index; when the rest cannot be opened it says so on stderr and goes
// on with the index alone.
OpenedDigestSources digest_sources_beside(const std::filesystem::path& index_dir,
                                          std::shared_ptr<const index::Snapshot> keyword_index);

class DigestCommands {
 public:
  explicit DigestCommands(CLI::App& app);
  bool parsed() const;
  int run(const GlobalOptions& global);

 private:
  CLI::App* digest_ = nullptr;
  CLI::App* subscribe_ = nullptr;
  CLI::App* confirm_ = nullptr;
  CLI::App* unsubscribe_ = nullptr;
  CLI::App* list_ = nullptr;
  CLI::App* preview_ = nullptr;
  CLI::App* send_ = nullptr;

  MailOptions mail_;
  std::string email_;
  std::string name_;
  bool weekly_ = false;
  std::string time_zone_ = "UTC";
  int hour_ = 7;
  std::vector<std::string> categories_;
  std::vector<std::string> authors_;
  std::vector<std::string> queries_;
  bool like_my_papers_ = false;
  int max_papers_ = 10;
  bool trending_ = true;
  bool confirmed_ = false;
  std::string token_;
  bool json_ = false;
};

}  // namespace paperboy::cli
