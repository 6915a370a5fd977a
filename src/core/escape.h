// Escaping text for HTML and XML, shared by every component that writes markup by hand.
#pragma once

#include <string>
#include <string_view>

namespace paperboy {

// Appends `text` with & < > " ' replaced by entities valid in both HTML and XML.
void append_markup_escaped(std::string& out, std::string_view text);

inline std::string markup_escaped(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  append_markup_escaped(out, text);
  return out;
}

}  // namespace paperboy
