// The schema migration that adds the subscription and outbox tables to the SQLite store;
// sqlite_store.cc applies it in its migration sequence.
#pragma once

namespace paperboy::store {

extern const char kSubscriptionSchemaV1[];

}  // namespace paperboy::store
