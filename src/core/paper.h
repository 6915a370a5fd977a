// The paper record: one per paper, however many sources and versions mention it.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace paperboy {

struct Paper {
  // Identity. arxiv_id has no version suffix ("2312.00752", "hep-th/9901001"); empty for
  // papers known only by title (they merge by normalised title, see title_key()).
  std::string arxiv_id;
  int version = 0;  // newest arXiv version seen, 0 when unknown
  std::string doi;

  std::string title;
  std::string abstract;
  std::vector<std::string> authors;     // names, in paper order
  int author_count = 0;                 // when only a count is known (page captures)
  std::vector<std::string> categories;  // primary first

  // Dates are ISO "YYYY-MM-DD"; empty when unknown.
  std::string published;     // first version
  std::string updated;       // newest version
  std::string feed_day;      // the day the paper entered the daily feed; empty: not in the feed
  std::string submitted_at;  // ISO 8601 instant it was submitted to the feed, when known

  std::string comments;
  std::string journal_ref;
  std::string license;

  std::string code_url;     // code repository
  std::string project_url;  // project page
  int64_t github_stars = 0;

  int64_t upvotes = 0;
  int64_t num_comments = 0;
  std::string submitted_by;  // user name of the feed submitter
  std::string organization;

  std::string ai_summary;
  std::vector<std::string> ai_keywords;

  std::string source;  // importer that produced this record: "arxiv-snapshot", "hf-daily", ...
};

// The id paperboy shows in URLs: the arXiv id, or "title-" plus a hash of title_key().
std::string paper_id(const Paper& paper);

// Links derived from the arXiv id; empty for papers without one.
std::string abs_url(const Paper& paper);
std::string pdf_url(const Paper& paper);

// Title normalised for merging: NFKC case-folded, accents stripped, every run of
// non-alphanumeric characters collapsed to one space, trimmed.
std::string title_key(std::string_view title);

// Collapses arXiv's hard line breaks and runs of whitespace to single spaces and trims.
std::string collapse_whitespace(std::string_view text);

}  // namespace paperboy
