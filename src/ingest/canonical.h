// paperboy's canonical JSON Lines: one Paper per line, fields named as in core/paper.h.
// docs/formats.md describes it; import_file reads it back (Format::canonical).
#pragma once

#include <string>

#include "core/paper.h"

namespace paperboy::ingest {

// One line of canonical JSON (no trailing newline). arxiv_id and title are always written;
// other fields only when set (empty strings, empty lists and zeros are left out).
std::string to_canonical_json(const Paper& paper);

}  // namespace paperboy::ingest
