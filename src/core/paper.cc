#include "core/paper.h"

#include <utf8proc.h>

#include <cstdio>
#include <cstdlib>
#include <memory>

namespace paperboy {

namespace {

// FNV-1a: a stable, dependency-free hash; ids derived from it must never change between builds.
uint64_t fnv1a64(std::string_view text) {
  uint64_t hash = 1469598103934665603ULL;
  for (unsigned char c : text) {
    hash ^= c;
    hash *= 1099511628211ULL;
  }
  return hash;
}

bool is_ascii_space(char c) {
  return c == ' ' || c == '\n' || c == '\t' || c == '\r' || c == '\f' || c == '\v';
}

}  // namespace

std::string paper_id(const Paper& paper) {
  if (!paper.arxiv_id.empty()) return paper.arxiv_id;
  char buffer[32];
  std::snprintf(buffer, sizeof buffer, "title-%012llx",
                static_cast<unsigned long long>(fnv1a64(title_key(paper.title)) >> 16));
  return buffer;
}

std::string abs_url(const Paper& paper) {
  return paper.arxiv_id.empty() ? std::string() : "https://arxiv.org/abs/" + paper.arxiv_id;
}

std::string pdf_url(const Paper& paper) {
  return paper.arxiv_id.empty() ? std::string() : "https://arxiv.org/pdf/" + paper.arxiv_id;
}

std::string title_key(std::string_view title) {
  utf8proc_uint8_t* folded = nullptr;
  const auto options =
      static_cast<utf8proc_option_t>(UTF8PROC_COMPOSE | UTF8PROC_COMPAT | UTF8PROC_CASEFOLD |
                                     UTF8PROC_STRIPMARK | UTF8PROC_IGNORE);
  utf8proc_ssize_t length =
      utf8proc_map(reinterpret_cast<const utf8proc_uint8_t*>(title.data()),
                   static_cast<utf8proc_ssize_t>(title.size()), &folded, options);
  std::string normalised;
  if (length >= 0) {
    normalised.assign(reinterpret_cast<char*>(folded), static_cast<size_t>(length));
  } else {
    normalised.assign(title);  // invalid UTF-8: fall back to the raw bytes
  }
  std::free(folded);

  std::string key;
  key.reserve(normalised.size());
  bool pending_space = false;
  for (size_t i = 0; i < normalised.size();) {
    utf8proc_int32_t codepoint = 0;
    utf8proc_ssize_t step =
        utf8proc_iterate(reinterpret_cast<const utf8proc_uint8_t*>(normalised.data() + i),
                         static_cast<utf8proc_ssize_t>(normalised.size() - i), &codepoint);
    if (step <= 0) {
      ++i;
      continue;
    }
    const auto category = utf8proc_category(codepoint);
    const bool alphanumeric =
        (category >= UTF8PROC_CATEGORY_LU && category <= UTF8PROC_CATEGORY_LO) ||
        (category >= UTF8PROC_CATEGORY_ND && category <= UTF8PROC_CATEGORY_NO);
    if (alphanumeric) {
      if (pending_space && !key.empty()) key.push_back(' ');
      pending_space = false;
      key.append(normalised, i, static_cast<size_t>(step));
    } else {
      pending_space = true;
    }
    i += static_cast<size_t>(step);
  }
  return key;
}

std::string collapse_whitespace(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  bool pending_space = false;
  for (char c : text) {
    if (is_ascii_space(c)) {
      pending_space = true;
      continue;
    }
    if (pending_space && !out.empty()) out.push_back(' ');
    pending_space = false;
    out.push_back(c);
  }
  return out;
}

}  // namespace paperboy
