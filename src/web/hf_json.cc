#include "web/hf_json.h"

#include "core/date.h"

namespace paperboy::web {

namespace {

using nlohmann::json;

// HF describes a user by several names; paperboy stores only the user name, so it fills each.
// The paper's submittedOnDailyBy carries "user", the entry's submittedBy does not.
json hf_submitter(const std::string& user_name) {
  return json{{"name", user_name}, {"fullname", user_name}, {"type", "user"}};
}

json hf_daily_submitter(const std::string& user_name) {
  json user = hf_submitter(user_name);
  user["user"] = user_name;
  return user;
}

// The first three digits after the seconds' decimal point, zero-padded ("5" -> "500").
std::string milliseconds_of(std::string_view instant) {
  std::string millis = "000";
  const size_t time = instant.find('T');
  if (time == std::string_view::npos) return millis;
  const size_t point = instant.find('.', time);
  if (point == std::string_view::npos) return millis;
  for (size_t i = 0; i < 3 && point + 1 + i < instant.size(); ++i) {
    const char c = instant[point + 1 + i];
    if (c < '0' || c > '9') break;
    millis[i] = c;
  }
  return millis;
}

// When the paper entered the feed: its submission instant, else midnight of its feed day.
std::string submitted_on_daily_at(const Paper& paper) {
  if (!paper.submitted_at.empty()) return hf_timestamp(paper.submitted_at);
  return hf_timestamp(paper.feed_day);
}

// HF's timestamp, or null when the date is unknown.
json timestamp_or_null(std::string_view date_or_instant) {
  std::string timestamp = hf_timestamp(date_or_instant);
  if (timestamp.empty()) return nullptr;
  return timestamp;
}

}  // namespace

std::string hf_timestamp(std::string_view date_or_instant) {
  auto instant = parse_instant(date_or_instant);
  if (!instant) return {};
  std::string formatted = format_instant(*instant);  // "...:SSZ"
  formatted.pop_back();
  formatted += '.';
  formatted += milliseconds_of(date_or_instant);
  formatted += 'Z';
  return formatted;
}

json hf_paper(const Paper& paper) {
  json authors = json::array();
  for (const std::string& name : paper.authors) {
    authors.push_back(json{{"name", name}, {"hidden", false}});
  }
  json object{
      {"id", paper_id(paper)},
      {"authors", std::move(authors)},
      {"publishedAt", timestamp_or_null(paper.published)},
      {"title", paper.title},
      {"summary", paper.abstract},
      {"upvotes", paper.upvotes},
  };
  const std::string submitted_at = submitted_on_daily_at(paper);
  if (!submitted_at.empty()) object["submittedOnDailyAt"] = submitted_at;
  if (!paper.submitted_by.empty())
    object["submittedOnDailyBy"] = hf_daily_submitter(paper.submitted_by);
  if (!paper.code_url.empty()) object["githubRepo"] = paper.code_url;
  if (!paper.code_url.empty() || paper.github_stars > 0) object["githubStars"] = paper.github_stars;
  if (!paper.project_url.empty()) object["projectPage"] = paper.project_url;
  if (!paper.ai_summary.empty()) object["ai_summary"] = paper.ai_summary;
  if (!paper.ai_keywords.empty()) object["ai_keywords"] = paper.ai_keywords;
  if (!paper.organization.empty()) {
    object["organization"] = json{{"name", paper.organization}, {"fullname", paper.organization}};
  }
  return object;
}

json hf_daily_entry(const Paper& paper) {
  json entry{
      {"paper", hf_paper(paper)},
      {"publishedAt", timestamp_or_null(paper.published)},
      {"title", paper.title},
      {"summary", paper.abstract},
      {"numComments", paper.num_comments},
  };
  if (!paper.submitted_by.empty()) entry["submittedBy"] = hf_submitter(paper.submitted_by);
  if (!paper.organization.empty()) {
    entry["organization"] = json{{"name", paper.organization}, {"fullname", paper.organization}};
  }
  return entry;
}

}  // namespace paperboy::web
