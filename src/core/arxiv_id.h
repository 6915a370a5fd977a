// Parsing of arXiv identifiers as people and sources write them.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace paperboy {

struct ArxivId {
  std::string id;   // "2312.00752", "0704.0001", "hep-th/9901001"
  int version = 0;  // 0 when the text named no version
};

// Accepts "2312.00752", "2312.00752v2", "arXiv:2312.00752", "hep-th/9901001v1",
// "https://arxiv.org/abs/2312.00752v2", ".../pdf/2312.00752.pdf",
// "oai:arXiv.org:2312.00752" and "http://arxiv.org/abs/hep-th/9901001v1".
// Returns nullopt for anything else.
std::optional<ArxivId> parse_arxiv_id(std::string_view text);

}  // namespace paperboy
