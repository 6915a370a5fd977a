// Wakes a node when papers change in a shared store: LISTEN on the channel the PostgreSQL store
// notifies after each committed batch (kPostgresChangesChannel), so a follower syncs its index
// at once instead of on its next poll.
#pragma once

#include <chrono>
#include <memory>
#include <string_view>

#include "core/result.h"

namespace paperboy::store {

namespace pg {
class Connection;
}

class ChangeListener {
 public:
  // Connects to the database at `url` (postgres://...) and listens.
  static Result<std::unique_ptr<ChangeListener>> open(std::string_view url);
  ChangeListener(const ChangeListener&) = delete;
  ChangeListener& operator=(const ChangeListener&) = delete;
  ~ChangeListener();

  // Waits up to `timeout` for a change committed since the last call; true when at least one
  // arrived (all that arrived are consumed). Fails when the connection is lost: open a new
  // listener, and catch up by other means, since notifications sent meanwhile are gone.
  Result<bool> wait(std::chrono::milliseconds timeout);

 private:
  explicit ChangeListener(std::unique_ptr<pg::Connection> connection);
  std::unique_ptr<pg::Connection> connection_;
};

}  // namespace paperboy::store
