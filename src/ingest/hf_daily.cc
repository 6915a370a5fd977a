// Hugging Face daily_papers API responses: a JSON array of entries (or an object wrapping it in
// "data"). The files are small, so each is read whole (up to a cap) and walked with On-Demand,
// which also gives each entry's position for line numbers.
#include <string_view>

#include "core/arxiv_id.h"
#include "ingest/json_lines.h"
#include "ingest/text.h"

namespace paperboy::ingest {

namespace {

namespace json = simdjson::ondemand;

// A string or null (as ""). The view lives as long as the parsed document.
Result<std::string_view> json_string(json::value value, std::string_view field) {
  bool is_null = false;
  if (auto error = value.is_null().get(is_null)) return std::unexpected(json_error(error, field));
  if (is_null) return std::string_view();
  std::string_view text;
  if (auto error = value.get_string().get(text)) return std::unexpected(json_error(error, field));
  return text;
}

// An integer or null (as 0).
Result<int64_t> json_integer(json::value value, std::string_view field) {
  bool is_null = false;
  if (auto error = value.is_null().get(is_null)) return std::unexpected(json_error(error, field));
  if (is_null) return int64_t{0};
  int64_t number = 0;
  if (auto error = value.get_int64().get(number)) return std::unexpected(json_error(error, field));
  return number;
}

// An array of strings (or null) appended to `out`, each passed through `transform`.
template <class Transform>
Result<void> json_string_array(json::value value, std::string_view field,
                               std::vector<std::string>& out, Transform&& transform) {
  bool is_null = false;
  if (auto error = value.is_null().get(is_null)) return std::unexpected(json_error(error, field));
  if (is_null) return {};
  json::array array;
  if (auto error = value.get_array().get(array)) return std::unexpected(json_error(error, field));
  for (auto element : array) {
    std::string_view text;
    if (auto error = element.get_string().get(text)) {
      return std::unexpected(json_error(error, field));
    }
    std::string item = transform(text);
    if (!item.empty()) out.push_back(std::move(item));
  }
  return {};
}

// Real files are under 4 MiB; anything far beyond is not a daily_papers response.
constexpr size_t kMaxHfFileBytes = size_t{64} << 20;

// The fields of one entry, as views into the parsed document.
struct HfEntry {
  std::string_view id, title, summary, published_at, submitted_on_daily_at, daily_submitter;
  std::string_view top_title, top_summary, top_published_at, top_submitter, organization;
  std::string_view top_organization, github_repo, project_page, ai_summary;
  int64_t upvotes = 0, github_stars = 0, num_comments = 0;
};

// The user name inside a user object: "user" when present, else "name".
Result<std::string_view> user_name(json::value value, std::string_view field) {
  bool is_null = false;
  if (auto error = value.is_null().get(is_null)) return std::unexpected(json_error(error, field));
  if (is_null) return std::string_view();
  json::object object;
  if (auto error = value.get_object().get(object)) return std::unexpected(json_error(error, field));
  std::string_view user, name;
  for (auto member : object) {
    std::string_view key;
    if (auto error = member.unescaped_key().get(key))
      return std::unexpected(json_error(error, field));
    if (key != "user" && key != "name") continue;
    auto text = json_string(member.value(), field);
    if (!text) return std::unexpected(text.error());
    (key == "user" ? user : name) = *text;
  }
  return user.empty() ? name : user;
}

Result<void> read_authors(json::value value, Paper& paper) {
  json::array authors;
  if (auto error = value.get_array().get(authors)) {
    return std::unexpected(json_error(error, "paper.authors"));
  }
  for (auto element : authors) {
    json::object author;
    if (auto error = element.get_object().get(author)) {
      return std::unexpected(json_error(error, "paper.authors"));
    }
    for (auto member : author) {
      std::string_view key;
      if (auto error = member.unescaped_key().get(key)) {
        return std::unexpected(json_error(error, "paper.authors"));
      }
      if (key != "name") continue;
      auto name = json_string(member.value(), "paper.authors.name");
      if (!name) return std::unexpected(name.error());
      std::string clean = collapse_text(*name);
      if (!clean.empty()) paper.authors.push_back(std::move(clean));
    }
  }
  return {};
}

Result<void> read_paper(json::value value, HfEntry& entry, Paper& paper) {
  json::object object;
  if (auto error = value.get_object().get(object))
    return std::unexpected(json_error(error, "paper"));
  auto keep = [](std::string_view text) { return collapse_text(text); };
  for (auto member : object) {
    std::string_view key;
    if (auto error = member.unescaped_key().get(key))
      return std::unexpected(json_error(error, "paper"));
    const std::string field = "paper." + std::string(key);
    if (key == "authors") {
      if (auto read = read_authors(member.value(), paper); !read) return read;
    } else if (key == "ai_keywords") {
      if (auto read = json_string_array(member.value(), field, paper.ai_keywords, keep); !read) {
        return read;
      }
    } else if (key == "submittedOnDailyBy" || key == "organization") {
      auto name = user_name(member.value(), field);
      if (!name) return std::unexpected(name.error());
      (key == "organization" ? entry.organization : entry.daily_submitter) = *name;
    } else if (key == "upvotes" || key == "githubStars") {
      auto number = json_integer(member.value(), field);
      if (!number) return std::unexpected(number.error());
      (key == "upvotes" ? entry.upvotes : entry.github_stars) = *number;
    } else {
      std::string_view* target = key == "id"                   ? &entry.id
                                 : key == "title"              ? &entry.title
                                 : key == "summary"            ? &entry.summary
                                 : key == "publishedAt"        ? &entry.published_at
                                 : key == "submittedOnDailyAt" ? &entry.submitted_on_daily_at
                                 : key == "githubRepo"         ? &entry.github_repo
                                 : key == "projectPage"        ? &entry.project_page
                                 : key == "ai_summary"         ? &entry.ai_summary
                                                               : nullptr;
      if (!target) continue;
      auto text = json_string(member.value(), field);
      if (!text) return std::unexpected(text.error());
      *target = *text;
    }
  }
  return {};
}

Result<Paper> parse_entry(json::object object, std::string_view fallback_feed_day) {
  HfEntry entry;
  Paper paper;
  bool has_paper = false;
  for (auto member : object) {
    std::string_view key;
    if (auto error = member.unescaped_key().get(key)) return std::unexpected(json_error(error, ""));
    if (key == "paper") {
      has_paper = true;
      if (auto read = read_paper(member.value(), entry, paper); !read) {
        return std::unexpected(read.error());
      }
    } else if (key == "submittedBy" || key == "organization") {
      auto name = user_name(member.value(), key);
      if (!name) return std::unexpected(name.error());
      (key == "organization" ? entry.top_organization : entry.top_submitter) = *name;
    } else if (key == "numComments") {
      auto number = json_integer(member.value(), key);
      if (!number) return std::unexpected(number.error());
      entry.num_comments = *number;
    } else if (key == "title" || key == "summary" || key == "publishedAt") {
      auto text = json_string(member.value(), key);
      if (!text) return std::unexpected(text.error());
      (key == "title"     ? entry.top_title
       : key == "summary" ? entry.top_summary
                          : entry.top_published_at) = *text;
    }
  }
  if (!has_paper) return fail("missing field \"paper\"");
  if (entry.id.empty()) return fail("missing paper.id");
  auto arxiv_id = parse_arxiv_id(entry.id);
  if (!arxiv_id) return fail("bad arXiv id in paper.id: " + excerpt(entry.id));
  paper.arxiv_id = std::move(arxiv_id->id);
  paper.version = arxiv_id->version;
  paper.title = collapse_text(entry.title.empty() ? entry.top_title : entry.title);
  if (paper.title.empty()) return fail("missing title");
  paper.abstract = collapse_text(entry.summary.empty() ? entry.top_summary : entry.summary);

  std::string_view published =
      entry.published_at.empty() ? entry.top_published_at : entry.published_at;
  if (!published.empty()) {
    auto day = iso_day(published, entry.published_at.empty() ? "publishedAt" : "paper.publishedAt");
    if (!day) return std::unexpected(day.error());
    paper.published = std::move(*day);
  }
  if (!entry.submitted_on_daily_at.empty()) {
    auto instant = iso_instant(entry.submitted_on_daily_at, "paper.submittedOnDailyAt");
    if (!instant) return std::unexpected(instant.error());
    paper.submitted_at = std::move(*instant);
    paper.feed_day = paper.submitted_at.substr(0, 10);
  } else if (!fallback_feed_day.empty()) {
    paper.feed_day = fallback_feed_day;
  } else if (!entry.top_published_at.empty()) {
    auto day = iso_day(entry.top_published_at, "publishedAt");
    if (!day) return std::unexpected(day.error());
    paper.feed_day = std::move(*day);
  }
  paper.submitted_by = entry.daily_submitter.empty() ? entry.top_submitter : entry.daily_submitter;
  paper.organization = entry.organization.empty() ? entry.top_organization : entry.organization;
  paper.upvotes = entry.upvotes;
  paper.num_comments = entry.num_comments;
  paper.github_stars = entry.github_stars;
  paper.code_url = entry.github_repo;
  paper.project_url = entry.project_page;
  paper.ai_summary = collapse_text(entry.ai_summary);
  paper.source = "hf-daily";
  return paper;
}

// Counts lines as positions only move forward through the document.
class LineCounter {
 public:
  explicit LineCounter(std::string_view text) : text_(text) {}
  size_t line_at(const char* position) {
    size_t offset = std::min(static_cast<size_t>(position - text_.data()), text_.size());
    for (; counted_ < offset; ++counted_) {
      if (text_[counted_] == '\n') ++line_;
    }
    return line_;
  }

 private:
  std::string_view text_;
  size_t counted_ = 0;
  size_t line_ = 1;
};

}  // namespace

Result<void> import_hf_daily(const ImportContext& context) {
  auto input = context.open();
  if (!input) return std::unexpected(input.error());
  std::string content;
  constexpr size_t kChunk = size_t{1} << 20;
  for (;;) {
    size_t used = content.size();
    content.resize(used + kChunk);
    auto got = input->read(content.data() + used, kChunk);
    if (!got) return std::unexpected(got.error());
    content.resize(used + *got);
    if (*got == 0) break;
    if (content.size() > kMaxHfFileBytes) {
      return fail(context.file + ": over " + std::to_string(kMaxHfFileBytes >> 20) +
                  " MiB; an hf-daily file is one JSON document read whole, and real ones are "
                  "under 4 MiB");
    }
  }
  const simdjson::padded_string padded(content);
  content = std::string();
  LineCounter lines(std::string_view(padded.data(), padded.size()));
  auto file_error = [&](size_t line, const Error& error) {
    return fail(context.file + ":" + std::to_string(line) + ": " + error.message);
  };

  json::parser parser;
  json::document document;
  if (auto error = parser.iterate(padded).get(document))
    return file_error(1, json_error(error, ""));
  json::json_type type;
  if (auto error = document.type().get(type)) return file_error(1, json_error(error, ""));
  json::array entries;
  if (type == json::json_type::object) {
    // {"status": "success", "date": ..., "count": ..., "data": [...]}
    json::value data;
    if (document.find_field_unordered("data").get(data)) {
      return fail(context.file + ": a JSON object without a \"data\" array of papers");
    }
    if (auto error = data.get_array().get(entries)) return file_error(1, json_error(error, "data"));
  } else if (type == json::json_type::array) {
    if (auto error = document.get_array().get(entries)) return file_error(1, json_error(error, ""));
  } else {
    return fail(context.file + ": not a JSON array or object of daily papers");
  }

  const std::string fallback_feed_day = context.fallback_feed_day();
  size_t line = 1;
  for (auto element : entries) {
    json::value value;
    if (auto error = element.get(value)) return file_error(line, json_error(error, ""));
    const char* position = nullptr;
    if (!value.current_location().get(position)) line = lines.line_at(position);
    json::json_type entry_type;
    if (auto error = value.type().get(entry_type)) return file_error(line, json_error(error, ""));
    if (entry_type == json::json_type::string) {
      context.reject(line,
                     "entry is a JSON string, not an object (this file holds Python repr() text "
                     "of each record); skipped");
      continue;
    }
    json::object object;
    if (entry_type != json::json_type::object || value.get_object().get(object)) {
      context.reject(line, "entry is not a JSON object; skipped");
      continue;
    }
    auto paper = parse_entry(object, fallback_feed_day);
    if (!paper) {
      context.reject(line, paper.error().message);
      continue;
    }
    if (auto delivered = context.deliver(std::move(*paper)); !delivered) return delivered;
  }
  return {};
}

}  // namespace paperboy::ingest
