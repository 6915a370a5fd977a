// The query language (docs/search.md has the reference):
//   mamba state space          ranked words; papers holding all of them come first
//   "state space model"        exact phrase (stop words inside still count as gaps)
//   -survey  -"large language" exclusion
//   diffusion OR flow          either word satisfies that part of the query
//   title:mamba  abstract:ssm  author:"Albert Gu"  cat:cs.CL  cat:cs (whole archive)
//   after:2024-01-01 before:2024-06-30 year:2023
//   2312.00752, arXiv:2312.00752v2, https://arxiv.org/abs/2312.00752  jump to the paper
// Parsing never fails on odd input (unbalanced quotes, lone operators, control characters,
// invalid UTF-8, huge queries); it only fails, with a message naming the operator, when a
// date filter is not a date.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.h"

namespace paperboy::search {

enum class Scope : uint8_t { kAll, kTitle, kAbstract, kAuthors };

// One term, or a phrase when it has several terms; offsets are the relative word positions
// the terms must have (stop words leave gaps).
struct Clause {
  std::vector<std::string> terms;
  std::vector<uint32_t> offsets;
  Scope scope = Scope::kAll;
  bool is_phrase() const { return terms.size() > 1; }
};

// Satisfied when any alternative matches. `strict` groups (quoted phrases) must match for a
// paper to be returned at all; other groups only rank papers that match them all first.
struct Group {
  std::vector<Clause> alternatives;
  bool strict = false;
};

struct Query {
  std::vector<Group> groups;
  std::vector<Clause> excluded;
  std::vector<std::string> categories;  // any of them; "cs" matches every "cs.*"
  int32_t first_day = INT32_MIN;        // inclusive date range, days since 1970-01-01
  int32_t last_day = INT32_MAX;
  std::optional<std::string> arxiv_id;  // the whole query named one paper
  std::vector<std::string> notes;       // what was ignored or repaired, for the user

  bool has_filters() const {
    return !categories.empty() || first_day != INT32_MIN || last_day != INT32_MAX;
  }
};

// Queries longer than this many groups keep their first ones (and say so in notes).
inline constexpr size_t kMaxGroups = 64;

Result<Query> parse_query(std::string_view text);

// Every word of `text` as a free word, with no operators: for benchmark questions and other
// text that is not written in the query language.
Query plain_query(std::string_view text);

}  // namespace paperboy::search
