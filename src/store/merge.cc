// The backend-independent rules of store.h: merging records and the feed entry time.
#include "core/arxiv_id.h"
#include "core/date.h"
#include "store/store.h"

namespace paperboy::store {

namespace {

bool is_empty(const std::string& value) { return value.empty(); }
bool is_empty(const std::vector<std::string>& value) { return value.empty(); }
bool is_empty(int value) { return value == 0; }

template <class T>
bool assign(T& target, const T& value) {
  if (target == value) return false;
  target = value;
  return true;
}

template <class T>
bool fill_if_empty(T& target, const T& value) {
  return is_empty(target) && !is_empty(value) && assign(target, value);
}

template <class T>
bool replace_unless_empty(T& target, const T& value) {
  return !is_empty(value) && assign(target, value);
}

template <class T>
bool keep_max(T& target, const T& value) {
  return value > target && assign(target, value);
}

// ISO dates order as text; an empty date is unknown, not early.
bool keep_earliest_date(std::string& target, const std::string& value) {
  if (value.empty()) return false;
  if (target.empty() || value < target) return assign(target, value);
  return false;
}

bool keep_latest_date(std::string& target, const std::string& value) {
  return !value.empty() && value > target && assign(target, value);
}

// Instants may carry offsets or fractions, so compare them parsed; an unparsable stored value
// yields to a parsable one.
bool keep_earliest_instant(std::string& target, const std::string& value) {
  if (value.empty()) return false;
  if (target.empty()) return assign(target, value);
  auto incoming = parse_instant(value);
  if (!incoming) return false;
  auto current = parse_instant(target);
  if (!current || *incoming < *current) return assign(target, value);
  return false;
}

}  // namespace

bool merge_paper(Paper& stored, const Paper& incoming) {
  bool changed = false;
  // Adoption of a title-only paper by a record with an arXiv id.
  changed |= fill_if_empty(stored.arxiv_id, incoming.arxiv_id);

  if (incoming.version != stored.version) {
    if (incoming.version > stored.version) {
      auto take = [&](auto member) {
        changed |= replace_unless_empty(stored.*member, incoming.*member);
      };
      take(&Paper::title);
      take(&Paper::abstract);
      take(&Paper::authors);
      take(&Paper::author_count);
      take(&Paper::categories);
      take(&Paper::comments);
      take(&Paper::journal_ref);
      take(&Paper::license);
      take(&Paper::doi);
      take(&Paper::source);
      changed |= assign(stored.version, incoming.version);
    }
  } else {
    auto fill = [&](auto member) { changed |= fill_if_empty(stored.*member, incoming.*member); };
    fill(&Paper::title);
    fill(&Paper::abstract);
    fill(&Paper::authors);
    fill(&Paper::author_count);
    fill(&Paper::categories);
    fill(&Paper::comments);
    fill(&Paper::journal_ref);
    fill(&Paper::license);
    fill(&Paper::doi);
    fill(&Paper::source);
  }

  changed |= keep_max(stored.upvotes, incoming.upvotes);
  changed |= keep_max(stored.github_stars, incoming.github_stars);
  changed |= keep_max(stored.num_comments, incoming.num_comments);
  changed |= keep_earliest_date(stored.published, incoming.published);
  changed |= keep_latest_date(stored.updated, incoming.updated);
  changed |= keep_earliest_date(stored.feed_day, incoming.feed_day);
  changed |= keep_earliest_instant(stored.submitted_at, incoming.submitted_at);

  changed |= fill_if_empty(stored.code_url, incoming.code_url);
  changed |= fill_if_empty(stored.project_url, incoming.project_url);
  changed |= fill_if_empty(stored.submitted_by, incoming.submitted_by);
  changed |= fill_if_empty(stored.organization, incoming.organization);
  if (stored.ai_summary.empty() && !incoming.ai_summary.empty()) {
    changed |= assign(stored.ai_summary, incoming.ai_summary);
    changed |= assign(stored.ai_keywords, incoming.ai_keywords);
  } else {
    changed |= fill_if_empty(stored.ai_keywords, incoming.ai_keywords);
  }
  return changed;
}

std::optional<std::chrono::sys_seconds> entered_feed_at(const Paper& paper) {
  if (!paper.submitted_at.empty())
    if (auto instant = parse_instant(paper.submitted_at)) return instant;
  for (const std::string* day : {&paper.feed_day, &paper.published})
    if (!day->empty())
      if (auto parsed = parse_date(*day)) return std::chrono::sys_seconds{*parsed};
  return std::nullopt;
}

Result<void> check_storable(const Paper& paper) {
  if (!paper.arxiv_id.empty()) {
    if (!parse_arxiv_id(paper.arxiv_id))
      return fail("arxiv_id \"" + paper.arxiv_id + "\" is not an arXiv identifier");
    return {};
  }
  if (title_key(paper.title).empty())
    return fail("no arXiv id and no title with letters or digits");
  return {};
}

}  // namespace paperboy::store
