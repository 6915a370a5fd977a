#include "cli/user_command.h"

#include <termios.h>
#include <unistd.h>

#include <cstdio>
#include <iostream>

#include "store/community.h"
#include "web/accounts.h"

namespace paperboy::cli {

namespace {

// Reads a password: one line of standard input when it is not a terminal (or --password-stdin),
// else typed twice without echo.
std::optional<std::string> read_password(bool from_stdin) {
  auto read_line = [](std::string& line) {
    return static_cast<bool>(std::getline(std::cin, line));
  };
  std::string password;
  if (from_stdin || !isatty(STDIN_FILENO)) {
    if (!read_line(password)) return std::nullopt;
    return password;
  }
  termios saved{};
  tcgetattr(STDIN_FILENO, &saved);
  termios silent = saved;
  silent.c_lflag &= ~static_cast<tcflag_t>(ECHO);
  tcsetattr(STDIN_FILENO, TCSANOW, &silent);
  std::string again;
  std::fprintf(stderr, "Password: ");
  const bool first = read_line(password);
  std::fprintf(stderr, "\nPassword again: ");
  const bool second = read_line(again);
  std::fprintf(stderr, "\n");
  tcsetattr(STDIN_FILENO, TCSANOW, &saved);
  if (!first || !second) return std::nullopt;
  if (password != again) {
    std::fprintf(stderr, "paperboy user add: the passwords differ\n");
    return std::nullopt;
  }
  return password;
}

}  // namespace

UserCommands::UserCommands(CLI::App& app) {
  user_ = app.add_subcommand("user", "Manage accounts of the web app");
  user_->require_subcommand(1);

  add_ = user_->add_subcommand("add",
                               "Create an account (the password is asked for, or read "
                               "from standard input)");
  add_->add_option("name", name_, "User name: 2-32 letters, digits, _ or -")->required();
  add_->add_option("--email", email_, "Email address")->required();
  add_->add_option("--role", role_, "user, moderator or admin")
      ->capture_default_str()
      ->check(CLI::IsMember({"user", "moderator", "admin"}));
  add_->add_flag("--password-stdin", password_stdin_,
                 "Read the password from the first line of standard input");

  set_role_ = user_->add_subcommand("set-role", "Make an account a user, moderator or admin");
  set_role_->add_option("name", name_, "User name")->required();
  set_role_->add_option("role", role_, "user, moderator or admin")
      ->required()
      ->check(CLI::IsMember({"user", "moderator", "admin"}));

  remove_ = user_->add_subcommand(
      "remove",
      "Delete an account with its sessions, votes and collections (comments stay, "
      "marked deleted)");
  remove_->add_option("name", name_, "User name")->required();

  list_ = user_->add_subcommand("list", "List accounts with their roles");
}

bool UserCommands::parsed() const { return user_->parsed(); }

int UserCommands::run(const GlobalOptions& global) {
  auto community = store::open_community_store(global.store, store_path(global));
  if (!community) {
    std::fprintf(stderr, "paperboy user: %s\n", community.error().message.c_str());
    return kError;
  }
  store::CommunityStore& accounts = **community;
  const auto fail_with = [](const char* command, const std::string& message) {
    std::fprintf(stderr, "paperboy user %s: %s\n", command, message.c_str());
    return kError;
  };

  if (add_->parsed()) {
    for (const Result<void>& check : {web::check_user_name(name_), web::check_email(email_)}) {
      if (!check) return fail_with("add", check.error().message);
    }
    auto password = read_password(password_stdin_);
    if (!password) return fail_with("add", "no password given");
    if (auto checked = web::check_password(*password); !checked)
      return fail_with("add", checked.error().message);
    auto hash = web::hash_password(*password);
    if (!hash) return fail_with("add", hash.error().message);
    auto added = accounts.add_user(
        store::NewUser{name_, email_, *hash, store::parse_role(role_).value_or(store::Role::user)});
    if (!added) return fail_with("add", added.error().message);
    std::printf("added %s (%s)\n", added->name.c_str(), store::role_name(added->role));
    return kSuccess;
  }

  if (list_->parsed()) {
    auto users = accounts.users();
    if (!users) return fail_with("list", users.error().message);
    for (const store::User& user : *users) {
      std::printf("%s\t%s\t%s%s\n", user.name.c_str(), user.email.c_str(),
                  store::role_name(user.role), user.banned ? "\tbanned" : "");
    }
    return kSuccess;
  }

  if (remove_->parsed()) {
    auto removed = accounts.remove_user(name_);
    if (!removed) return fail_with("remove", removed.error().message);
    if (!*removed) {
      fail_with("remove", "no user named '" + name_ + "'");
      return kNotFound;
    }
    std::printf("removed %s\n", name_.c_str());
    return kSuccess;
  }

  auto found = accounts.find_user(name_);
  if (!found) return fail_with("set-role", found.error().message);
  if (!*found) {
    fail_with("set-role", "no user named '" + name_ + "'");
    return kNotFound;
  }
  if (auto set = accounts.set_role((*found)->id, *store::parse_role(role_)); !set)
    return fail_with("set-role", set.error().message);
  std::printf("%s is now %s\n", (*found)->name.c_str(), role_.c_str());
  return kSuccess;
}

}  // namespace paperboy::cli
