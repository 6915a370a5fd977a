// Where paperboy's log lines go and how they look: text for people (the default) or JSON lines
// for log collectors, on standard error either way.
#pragma once

#include <filesystem>
#include <string_view>

#include "core/result.h"

namespace paperboy::cli {

// `format` is "text" or "json"; `level` one of trace, debug, info, warn, error, off. In JSON
// mode each line is one object with time (UTC, RFC 3339), level, logger and msg; a message that
// is itself a JSON object (the server's access log) has its fields merged in instead. Lines go to
// `file` (appended) when given, else to standard error. Calling it again (serve's SIGHUP) changes
// the one logger in place, safely while other threads log, and opens `file` anew, so a log
// rotated by renaming continues in a new file.
Result<void> configure_logging(std::string_view format, std::string_view level,
                               const std::filesystem::path& file = {});

}  // namespace paperboy::cli
