#include "core/arxiv_id.h"

#include <cctype>

namespace paperboy {

namespace {

bool all_digits(std::string_view text) {
  if (text.empty()) return false;
  for (char c : text)
    if (!std::isdigit(static_cast<unsigned char>(c))) return false;
  return true;
}

bool starts_with_ci(std::string_view text, std::string_view prefix) {
  if (text.size() < prefix.size()) return false;
  for (size_t i = 0; i < prefix.size(); ++i)
    if (std::tolower(static_cast<unsigned char>(text[i])) != prefix[i]) return false;
  return true;
}

// Splits a trailing "vN" off; returns the version or 0.
int take_version(std::string_view& text) {
  size_t v = text.rfind('v');
  if (v == std::string_view::npos || v + 1 >= text.size()) return 0;
  std::string_view digits = text.substr(v + 1);
  if (!all_digits(digits) || digits.size() > 4) return 0;
  int version = 0;
  for (char c : digits) version = version * 10 + (c - '0');
  text = text.substr(0, v);
  return version;
}

// New-style "YYMM.NNNN" (2007-04 to 2014-12) or "YYMM.NNNNN" (2015-01 on).
bool is_new_style(std::string_view id) {
  size_t dot = id.find('.');
  if (dot != 4 || !all_digits(id.substr(0, 4))) return false;
  std::string_view number = id.substr(5);
  if (!all_digits(number)) return false;
  int year_month = (id[0] - '0') * 1000 + (id[1] - '0') * 100 + (id[2] - '0') * 10 + (id[3] - '0');
  int month = year_month % 100;
  if (month < 1 || month > 12) return false;
  // Four-digit sequence numbers until 2014-12, five from 2015-01 on.
  return number.size() == (year_month < 1501 ? 4u : 5u);
}

// Old-style "archive[.subject]/YYMMNNN", e.g. "hep-th/9901001", "math.AG/0309136".
bool is_old_style(std::string_view id) {
  size_t slash = id.find('/');
  if (slash == std::string_view::npos || slash == 0) return false;
  std::string_view archive = id.substr(0, slash);
  std::string_view number = id.substr(slash + 1);
  if (number.size() != 7 || !all_digits(number)) return false;
  for (char c : archive)
    if (!std::islower(static_cast<unsigned char>(c)) && c != '-' && c != '.' &&
        !std::isupper(static_cast<unsigned char>(c)))
      return false;
  return std::islower(static_cast<unsigned char>(archive[0]));
}

std::string_view trim(std::string_view text) {
  while (!text.empty() && std::isspace(static_cast<unsigned char>(text.front())))
    text.remove_prefix(1);
  while (!text.empty() && std::isspace(static_cast<unsigned char>(text.back())))
    text.remove_suffix(1);
  return text;
}

}  // namespace

std::optional<ArxivId> parse_arxiv_id(std::string_view text) {
  text = trim(text);
  for (std::string_view scheme : {"https://", "http://"}) {
    if (starts_with_ci(text, scheme)) {
      text.remove_prefix(scheme.size());
      if (starts_with_ci(text, "www.")) text.remove_prefix(4);
      if (starts_with_ci(text, "export.")) text.remove_prefix(7);
      if (!starts_with_ci(text, "arxiv.org/")) return std::nullopt;
      text.remove_prefix(10);
      bool known_path = false;
      for (std::string_view path : {"abs/", "pdf/", "html/"}) {
        if (starts_with_ci(text, path)) {
          text.remove_prefix(path.size());
          known_path = true;
          break;
        }
      }
      if (!known_path) return std::nullopt;
      if (text.ends_with(".pdf")) text.remove_suffix(4);
      while (!text.empty() && (text.back() == '/' || text.back() == '#')) text.remove_suffix(1);
      size_t query = text.find_first_of("?#");
      if (query != std::string_view::npos) text = text.substr(0, query);
      break;
    }
  }
  if (starts_with_ci(text, "oai:arxiv.org:")) text.remove_prefix(14);
  if (starts_with_ci(text, "arxiv:")) text.remove_prefix(6);

  ArxivId result;
  result.version = take_version(text);
  if (!is_new_style(text) && !is_old_style(text)) return std::nullopt;
  result.id.assign(text);
  return result;
}

}  // namespace paperboy
