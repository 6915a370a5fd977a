#include "store/postgres_changes.h"

#include "store/pg_access.h"
#include "store/store.h"

namespace paperboy::store {

Result<std::unique_ptr<ChangeListener>> ChangeListener::open(std::string_view url) {
  auto connection = pg::Connection::open(url);
  if (!connection) return std::unexpected(connection.error());
  if (auto listening = (*connection)->listen(kPostgresChangesChannel); !listening)
    return std::unexpected(listening.error());
  return std::unique_ptr<ChangeListener>(new ChangeListener(std::move(*connection)));
}

ChangeListener::ChangeListener(std::unique_ptr<pg::Connection> connection)
    : connection_(std::move(connection)) {}

ChangeListener::~ChangeListener() = default;

Result<bool> ChangeListener::wait(std::chrono::milliseconds timeout) {
  auto notifications = connection_->wait_for_notifications(timeout);
  if (!notifications) return std::unexpected(notifications.error());
  // A server that went away makes the socket readable with nothing to read.
  if (notifications->empty() && connection_->broken())
    return fail("postgres: the connection listening for changes was lost");
  return !notifications->empty();
}

}  // namespace paperboy::store
