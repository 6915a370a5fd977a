// Rendering of the embedded mustache templates. kainjow parses a template when it is constructed,
// which costs more than rendering it, so each thread parses a template once and keeps it.
#pragma once

#include <kainjow/mustache.hpp>
#include <string>
#include <string_view>

namespace paperboy::web {

// `text` must live as long as the process (an embedded file, assets.h): its address is the key
// under which the parsed template is kept.
std::string render_template(std::string_view text, const kainjow::mustache::data& data);

}  // namespace paperboy::web
