#include "web/markdown.h"

#include <cmark-gfm/cmark-gfm.h>

#include <cstdlib>
#include <memory>

namespace paperboy::web {

std::string render_markdown(std::string_view source) {
  // CMARK_OPT_UNSAFE is not set: that is what keeps raw HTML and dangerous links out.
  std::unique_ptr<char, decltype(&std::free)> html(
      cmark_markdown_to_html(source.data(), source.size(), CMARK_OPT_DEFAULT), &std::free);
  if (!html) return {};
  std::string out = html.get();
  // Every "<a href" in the output is cmark's own: raw HTML never gets through.
  static constexpr std::string_view kLink = "<a href=\"";
  static constexpr std::string_view kMarked = "<a rel=\"nofollow ugc noopener\" href=\"";
  for (size_t at = out.find(kLink); at != std::string::npos;
       at = out.find(kLink, at + kMarked.size())) {
    out.replace(at, kLink.size(), kMarked);
  }
  return out;
}

}  // namespace paperboy::web
