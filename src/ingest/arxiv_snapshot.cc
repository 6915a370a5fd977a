// arXiv metadata snapshot (Kaggle arxiv-metadata-oai-snapshot.json): one JSON object per line.
// This is the bulk path (2.7M records), so it makes one pass over each object's fields in
// document order and keeps views into the parser's buffer until the paper is built.
#include <algorithm>
#include <string_view>

#include "core/arxiv_id.h"
#include "core/date.h"
#include "ingest/json_lines.h"
#include "ingest/text.h"

namespace paperboy::ingest {

namespace {

// versions: [{"version": "v1", "created": "Mon, 2 Apr 2007 19:18:42 GMT"}, ...]
Result<void> read_versions(dom::element value, Paper& paper) {
  dom::array versions;
  if (auto error = value.get_array().get(versions)) {
    return std::unexpected(json_error(error, "versions"));
  }
  std::optional<std::chrono::sys_days> first_day, newest_day;
  int first_version = 0;
  size_t index = 0;
  for (dom::element element : versions) {
    dom::object entry;
    if (auto error = element.get_object().get(entry)) {
      return std::unexpected(json_error(error, "versions"));
    }
    std::optional<int> number;
    std::optional<std::chrono::sys_days> day;
    for (dom::key_value_pair field : entry) {
      const std::string_view key = field.key;
      if (key != "version" && key != "created") continue;
      auto text = json_string(field.value, "versions");
      if (!text) return std::unexpected(text.error());
      auto where = [&] { return "versions[" + std::to_string(index) + "]." + std::string(key); };
      if (key == "version") {
        number = version_number(*text);
        if (!number) return fail("bad version in " + where() + ": " + excerpt(*text));
      } else {
        day = parse_date(*text);
        if (!day) return fail("bad date in " + where() + ": " + excerpt(*text));
      }
    }
    if (day) {
      // published is the day of the lowest version (v1), whatever the list order.
      if (!first_day || (number && *number < first_version)) {
        first_day = day;
        first_version = number.value_or(first_version);
      }
      if (!newest_day || *day > *newest_day) newest_day = day;
    }
    if (number) paper.version = std::max(paper.version, *number);
    ++index;
  }
  if (first_day) paper.published = format_day(*first_day);
  if (newest_day) paper.updated = format_day(*newest_day);
  return {};
}

// authors_parsed: [["Balázs", "C.", ""], ...] as [last, first, suffix].
Result<void> read_authors_parsed(dom::element value, Paper& paper) {
  dom::array people;
  if (auto error = value.get_array().get(people)) {
    return std::unexpected(json_error(error, "authors_parsed"));
  }
  for (dom::element element : people) {
    dom::array parts;
    if (auto error = element.get_array().get(parts)) {
      return std::unexpected(json_error(error, "authors_parsed"));
    }
    std::string_view name_parts[3];
    size_t count = 0;
    for (dom::element part : parts) {
      std::string_view text;
      if (auto error = part.get_string().get(text)) {
        return std::unexpected(json_error(error, "authors_parsed"));
      }
      if (count < 3) name_parts[count] = text;
      ++count;
    }
    std::string name = person_name(name_parts[1], name_parts[0], name_parts[2]);
    if (!name.empty()) paper.authors.push_back(std::move(name));
  }
  return {};
}

Result<void> parse_snapshot_record(dom::object object, Paper& paper) {
  std::string_view id, authors_text, update_date;
  for (dom::key_value_pair field : object) {
    const std::string_view key = field.key;
    Result<std::string_view> text;
    if (key == "versions") {
      if (auto read = read_versions(field.value, paper); !read) return read;
      continue;
    }
    if (key == "authors_parsed") {
      if (auto read = read_authors_parsed(field.value, paper); !read) return read;
      continue;
    }
    if (key == "id" || key == "authors" || key == "title" || key == "abstract" ||
        key == "comments" || key == "journal-ref" || key == "doi" || key == "license" ||
        key == "categories" || key == "update_date") {
      text = json_string(field.value, key);
      if (!text) return std::unexpected(text.error());
    } else {
      continue;  // submitter, report-no and fields added later
    }
    if (key == "id") {
      id = *text;
    } else if (key == "authors") {
      authors_text = *text;
    } else if (key == "title") {
      paper.title = collapse_text(*text);
    } else if (key == "abstract") {
      paper.abstract = collapse_text(*text);
    } else if (key == "comments") {
      paper.comments = collapse_text(*text);
    } else if (key == "journal-ref") {
      paper.journal_ref = collapse_text(*text);
    } else if (key == "doi") {
      paper.doi = *text;
    } else if (key == "license") {
      paper.license = *text;
    } else if (key == "categories") {
      paper.categories = split_words(*text);
    } else {
      update_date = *text;
    }
  }
  if (id.empty()) return fail("missing id");
  auto arxiv_id = parse_arxiv_id(id);
  if (!arxiv_id) return fail("bad arXiv id in id: " + excerpt(id));
  paper.arxiv_id = std::move(arxiv_id->id);
  if (paper.title.empty()) return fail("missing title");
  if (paper.authors.empty() && !authors_text.empty())
    paper.authors = split_author_list(authors_text);
  if (!update_date.empty()) {
    auto day = iso_day(update_date, "update_date");
    if (!day) return std::unexpected(day.error());
    if (paper.updated.empty()) paper.updated = std::move(*day);
  }
  paper.source = "arxiv-snapshot";
  return {};
}

}  // namespace

Result<void> import_arxiv_snapshot(const ImportContext& context) {
  return import_json_lines(context, parse_snapshot_record);
}

}  // namespace paperboy::ingest
