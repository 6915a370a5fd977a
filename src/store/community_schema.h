// The schema migration that adds the community tables to the SQLite store; sqlite_store.cc
// applies it in its migration sequence, so papers and accounts live in one database file.
#pragma once

namespace paperboy::store {

extern const char kCommunitySchemaV1[];

}  // namespace paperboy::store
