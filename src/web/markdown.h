// Comments are written in Markdown (CommonMark) and shown as HTML.
#pragma once

#include <string>
#include <string_view>

namespace paperboy::web {

// Renders `source` with cmark-gfm in its safe mode: raw HTML is left out and links or images
// with javascript:, vbscript:, file: or data: (other than images) targets are emptied, so the
// result is safe to put in a page. Links get rel="nofollow ugc noopener".
std::string render_markdown(std::string_view source);

}  // namespace paperboy::web
