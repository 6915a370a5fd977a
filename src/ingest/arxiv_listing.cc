// Daily arXiv listing JSON Lines (one paper a line: id, pdf, abs, authors[], title,
// categories[], comment, summary). The listing has no dates: the file's day is the feed day.
#include "core/arxiv_id.h"
#include "ingest/json_lines.h"
#include "ingest/text.h"

namespace paperboy::ingest {

namespace {

Result<void> parse_listing_record(dom::object object, Paper& paper) {
  std::string_view id;
  auto keep = [](std::string_view text) { return collapse_text(text); };
  for (dom::key_value_pair field : object) {
    const std::string_view key = field.key;
    if (key == "authors") {
      if (auto read = json_string_array(field.value, key, paper.authors, keep); !read) return read;
      continue;
    }
    if (key == "categories") {
      if (auto read = json_string_array(field.value, key, paper.categories, keep); !read) {
        return read;
      }
      continue;
    }
    if (key != "id" && key != "title" && key != "summary" && key != "comment") continue;
    auto text = json_string(field.value, key);
    if (!text) return std::unexpected(text.error());
    if (key == "id") {
      id = *text;
    } else if (key == "title") {
      paper.title = collapse_text(*text);
    } else if (key == "summary") {
      paper.abstract = collapse_text(*text);
    } else {
      paper.comments = collapse_text(*text);
    }
  }
  if (id.empty()) return fail("missing id");
  auto arxiv_id = parse_arxiv_id(id);
  if (!arxiv_id) return fail("bad arXiv id in id: " + excerpt(id));
  paper.arxiv_id = std::move(arxiv_id->id);
  paper.version = arxiv_id->version;
  if (paper.title.empty()) return fail("missing title");
  paper.source = "arxiv-listing";
  return {};
}

}  // namespace

Result<void> import_arxiv_listing(const ImportContext& context) {
  const std::string feed_day = context.fallback_feed_day();
  return import_json_lines(context, [&](dom::object object, Paper& paper) -> Result<void> {
    if (auto parsed = parse_listing_record(object, paper); !parsed) return parsed;
    paper.feed_day = feed_day;
    return {};
  });
}

}  // namespace paperboy::ingest
