#include "ingest/canonical.h"

#include <nlohmann/json.hpp>

#include "core/arxiv_id.h"
#include "core/date.h"
#include "ingest/json_lines.h"
#include "ingest/text.h"

namespace paperboy::ingest {

std::string to_canonical_json(const Paper& paper) {
  nlohmann::ordered_json out;
  auto text = [&](const char* key, const std::string& value) {
    if (!value.empty()) out[key] = value;
  };
  auto number = [&](const char* key, int64_t value) {
    if (value != 0) out[key] = value;
  };
  auto list = [&](const char* key, const std::vector<std::string>& values) {
    if (!values.empty()) out[key] = values;
  };
  out["arxiv_id"] = paper.arxiv_id;
  number("version", paper.version);
  text("doi", paper.doi);
  out["title"] = paper.title;
  text("abstract", paper.abstract);
  list("authors", paper.authors);
  number("author_count", paper.author_count);
  list("categories", paper.categories);
  text("published", paper.published);
  text("updated", paper.updated);
  text("feed_day", paper.feed_day);
  text("submitted_at", paper.submitted_at);
  text("comments", paper.comments);
  text("journal_ref", paper.journal_ref);
  text("license", paper.license);
  text("code_url", paper.code_url);
  text("project_url", paper.project_url);
  number("github_stars", paper.github_stars);
  number("upvotes", paper.upvotes);
  number("num_comments", paper.num_comments);
  text("submitted_by", paper.submitted_by);
  text("organization", paper.organization);
  text("ai_summary", paper.ai_summary);
  list("ai_keywords", paper.ai_keywords);
  text("source", paper.source);
  // Invalid UTF-8 (never produced by the importers, which validate) becomes U+FFFD, not a throw.
  return out.dump(-1, ' ', false, nlohmann::ordered_json::error_handler_t::replace);
}

namespace {

// Canonical dates are exactly YYYY-MM-DD.
Result<std::string> canonical_day(std::string_view text, std::string_view field) {
  auto day = parse_date(text);
  if (!day || format_day(*day) != text) {
    return fail("bad date in " + std::string(field) + ": " + excerpt(text) + " (want YYYY-MM-DD)");
  }
  return std::string(text);
}

Result<void> parse_canonical_record(dom::object object, Paper& paper) {
  std::string_view id;
  int64_t version = 0;
  auto same = [](std::string_view text) { return std::string(text); };
  for (dom::key_value_pair field : object) {
    const std::string_view key = field.key;
    std::vector<std::string>* list = key == "authors"       ? &paper.authors
                                     : key == "categories"  ? &paper.categories
                                     : key == "ai_keywords" ? &paper.ai_keywords
                                                            : nullptr;
    if (list) {
      if (auto read = json_string_array(field.value, key, *list, same); !read) return read;
      continue;
    }
    int64_t* integer = key == "version"        ? &version
                       : key == "github_stars" ? &paper.github_stars
                       : key == "upvotes"      ? &paper.upvotes
                       : key == "num_comments" ? &paper.num_comments
                                               : nullptr;
    if (integer || key == "author_count") {
      auto value = json_integer(field.value, key);
      if (!value) return std::unexpected(value.error());
      if (*value < 0) return fail("field \"" + std::string(key) + "\" is negative");
      if (integer) {
        *integer = *value;
      } else {
        if (*value > INT32_MAX) return fail("field \"author_count\" is too large");
        paper.author_count = static_cast<int>(*value);
      }
      continue;
    }
    std::string* target = key == "doi"            ? &paper.doi
                          : key == "title"        ? &paper.title
                          : key == "abstract"     ? &paper.abstract
                          : key == "published"    ? &paper.published
                          : key == "updated"      ? &paper.updated
                          : key == "feed_day"     ? &paper.feed_day
                          : key == "submitted_at" ? &paper.submitted_at
                          : key == "comments"     ? &paper.comments
                          : key == "journal_ref"  ? &paper.journal_ref
                          : key == "license"      ? &paper.license
                          : key == "code_url"     ? &paper.code_url
                          : key == "project_url"  ? &paper.project_url
                          : key == "submitted_by" ? &paper.submitted_by
                          : key == "organization" ? &paper.organization
                          : key == "ai_summary"   ? &paper.ai_summary
                          : key == "source"       ? &paper.source
                                                  : nullptr;
    if (!target && key != "arxiv_id") continue;  // unknown fields: left for newer readers
    auto text = json_string(field.value, key);
    if (!text) return std::unexpected(text.error());
    if (target) {
      target->assign(*text);
    } else {
      id = *text;
    }
  }
  if (!id.empty()) {
    auto arxiv_id = parse_arxiv_id(id);
    if (!arxiv_id) return fail("bad arXiv id in arxiv_id: " + excerpt(id));
    paper.arxiv_id = std::move(arxiv_id->id);
    paper.version =
        std::max(arxiv_id->version, static_cast<int>(std::min<int64_t>(version, INT32_MAX)));
  } else {
    paper.version = static_cast<int>(std::min<int64_t>(version, INT32_MAX));
  }
  if (paper.title.empty()) return fail("missing title");
  for (auto [field, value] : {std::pair<const char*, std::string*>{"published", &paper.published},
                              {"updated", &paper.updated},
                              {"feed_day", &paper.feed_day}}) {
    if (value->empty()) continue;
    auto day = canonical_day(*value, field);
    if (!day) return std::unexpected(day.error());
  }
  if (!paper.submitted_at.empty()) {
    auto instant = iso_instant(paper.submitted_at, "submitted_at");
    if (!instant) return std::unexpected(instant.error());
    paper.submitted_at = std::move(*instant);
  }
  if (paper.source.empty()) paper.source = "canonical";
  return {};
}

}  // namespace

Result<void> import_canonical(const ImportContext& context) {
  return import_json_lines(context, parse_canonical_record);
}

}  // namespace paperboy::ingest
