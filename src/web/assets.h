// Files compiled into the binary: templates/*.mustache and static/* from src/web.
#pragma once

#include <optional>
#include <string_view>

namespace paperboy::web {

// `name` is the path under src/web, e.g. "templates/layout.mustache" or "static/style.css".
std::optional<std::string_view> find_embedded_file(std::string_view name);

}  // namespace paperboy::web
