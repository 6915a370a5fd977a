// Internal to the store's backends (not a public header): every Paper field and its column.
// Reading, writing and the SQL of each backend are driven by this one table, so a new field
// needs one line here (and a migration adding the column in each backend).
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <variant>
#include <vector>

#include "core/paper.h"

namespace paperboy::store::detail {

using Field = std::variant<std::string Paper::*, int Paper::*, int64_t Paper::*,
                           std::vector<std::string> Paper::*>;
struct Column {
  const char* name;
  Field field;
};
const std::array<Column, 25> kColumns = {{
    {"arxiv_id", &Paper::arxiv_id},
    {"version", &Paper::version},
    {"doi", &Paper::doi},
    {"title", &Paper::title},
    {"abstract", &Paper::abstract},
    {"authors", &Paper::authors},
    {"author_count", &Paper::author_count},
    {"categories", &Paper::categories},
    {"published", &Paper::published},
    {"updated", &Paper::updated},
    {"feed_day", &Paper::feed_day},
    {"submitted_at", &Paper::submitted_at},
    {"comments", &Paper::comments},
    {"journal_ref", &Paper::journal_ref},
    {"license", &Paper::license},
    {"code_url", &Paper::code_url},
    {"project_url", &Paper::project_url},
    {"github_stars", &Paper::github_stars},
    {"upvotes", &Paper::upvotes},
    {"num_comments", &Paper::num_comments},
    {"submitted_by", &Paper::submitted_by},
    {"organization", &Paper::organization},
    {"ai_summary", &Paper::ai_summary},
    {"ai_keywords", &Paper::ai_keywords},
    {"source", &Paper::source},
}};

}  // namespace paperboy::store::detail
