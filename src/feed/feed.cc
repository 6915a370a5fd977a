#include "feed/feed.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include "core/date.h"

namespace paperboy::feed {

namespace {

using std::chrono::days;
using std::chrono::sys_days;
using std::chrono::sys_seconds;

// Sorts by the query's order, computing each paper's keys once rather than in every comparison.
struct SortKey {
  double score = 0;
  int64_t upvotes = 0;
  std::string feed_day;
  sys_seconds entered = sys_seconds::min();
  std::string id;
  size_t index = 0;
};

SortKey sort_key(const Paper& paper, size_t index, sys_seconds now) {
  return SortKey{trending_score(paper, now),
                 paper.upvotes,
                 paper.feed_day,
                 store::entered_feed_at(paper).value_or(sys_seconds::min()),
                 paper_id(paper),
                 index};
}

bool by_upvotes(const SortKey& a, const SortKey& b) {
  if (a.upvotes != b.upvotes) return a.upvotes > b.upvotes;
  if (a.entered != b.entered) return a.entered > b.entered;
  return a.id < b.id;
}

bool by_date(const SortKey& a, const SortKey& b) {
  if (a.feed_day != b.feed_day) return a.feed_day > b.feed_day;
  if (a.entered != b.entered) return a.entered > b.entered;
  if (a.upvotes != b.upvotes) return a.upvotes > b.upvotes;
  return a.id < b.id;
}

bool by_trending(const SortKey& a, const SortKey& b) {
  if (a.score != b.score) return a.score > b.score;
  return by_upvotes(a, b);
}

// Orders `papers` and keeps the first `limit` (all when limit is npos).
void sort_papers(std::vector<Paper>& papers, SortOrder order, sys_seconds now,
                 size_t limit = std::string::npos) {
  std::vector<SortKey> keys;
  keys.reserve(papers.size());
  for (size_t i = 0; i < papers.size(); ++i) keys.push_back(sort_key(papers[i], i, now));
  auto compare = order == SortOrder::date       ? by_date
                 : order == SortOrder::trending ? by_trending
                                                : by_upvotes;
  std::sort(keys.begin(), keys.end(), compare);
  std::vector<Paper> sorted;
  sorted.reserve(std::min(limit, keys.size()));
  for (const SortKey& key : keys) {
    if (sorted.size() == limit) break;
    sorted.push_back(std::move(papers[key.index]));
  }
  papers = std::move(sorted);
}

// An ISO date later than every real one, for "the latest day of all".
constexpr std::string_view kAfterEveryDay = "9999-99-99";

// The first day of the period holding the ISO `day`, as ISO text.
Result<std::string> period_start_of(Period period, const std::string& day) {
  auto parsed = parse_date(day);
  if (!parsed) return fail("store: feed_day \"" + day + "\" is not an ISO date");
  return format_date(period_bounds(period, *parsed).first);
}

// Trending looks back this far first, doubling until it holds `limit` candidates or reaches the
// longest window; older papers are then read only if their upvotes could still compete.
constexpr days kFirstTrendingWindow{7};
constexpr days kLongestTrendingWindow{4096};

}  // namespace

std::pair<sys_days, sys_days> period_bounds(Period period, sys_days day) {
  switch (period) {
    case Period::week: {
      sys_days monday = week_start(day);
      return {monday, monday + days{6}};
    }
    case Period::month: {
      sys_days first = month_start(day);
      std::chrono::year_month_day ymd{first};
      sys_days next_first{ymd + std::chrono::months{1}};
      return {first, next_first - days{1}};
    }
    case Period::day:
      break;
  }
  return {day, day};
}

Result<FeedPage> load_feed(store::Store& store, const FeedQuery& query) {
  FeedPage page;
  page.period = query.period;
  auto [first, last] = period_bounds(query.period, query.date);
  page.first_day = format_date(first);
  page.last_day = format_date(last);

  auto papers = store.feed_papers(page.first_day, page.last_day, query.category);
  if (!papers) return std::unexpected(papers.error());
  page.papers = std::move(*papers);
  sort_papers(page.papers, query.sort,
              query.now.value_or(
                  std::chrono::floor<std::chrono::seconds>(std::chrono::system_clock::now())));

  auto previous = store.feed_day_before(page.first_day, query.category);
  if (!previous) return std::unexpected(previous.error());
  if (*previous) {
    auto start = period_start_of(query.period, **previous);
    if (!start) return std::unexpected(start.error());
    page.previous = *start;
  }
  auto next = store.feed_day_after(page.last_day, query.category);
  if (!next) return std::unexpected(next.error());
  if (*next) {
    auto start = period_start_of(query.period, **next);
    if (!start) return std::unexpected(start.error());
    page.next = *start;
  }
  return page;
}

Result<std::optional<std::string>> latest_feed_day(store::Store& store, sys_days day) {
  auto at_or_before = store.feed_day_before(format_date(day + days{1}));
  if (!at_or_before || *at_or_before) return at_or_before;
  return store.feed_day_before(kAfterEveryDay);
}

double trending_score(const Paper& paper, sys_seconds now) {
  if (paper.upvotes <= 0) return 0;
  auto entered = store::entered_feed_at(paper);
  if (!entered) return 0;
  const double age_days =
      std::max<double>(0, static_cast<double>((now - *entered).count()) / 86400.0);
  return static_cast<double>(paper.upvotes) / std::pow(1.0 + age_days, kTrendingGravity);
}

Result<std::vector<Paper>> trending(store::Store& store, sys_seconds now, size_t limit) {
  if (limit == 0) return std::vector<Paper>{};
  days window = kFirstTrendingWindow;
  std::vector<Paper> candidates;
  for (;;) {
    auto recent = store.upvoted_papers(now - window, now + std::chrono::seconds{1}, 1);
    if (!recent) return std::unexpected(recent.error());
    candidates = std::move(*recent);
    if (candidates.size() >= limit || window >= kLongestTrendingWindow) break;
    window *= 2;
  }
  sort_papers(candidates, SortOrder::trending, now, limit);

  // A paper that entered before the window is more than `window` old, so its score is below
  // upvotes / (1 + window)^G; it can reach the k-th score only with at least
  // kth * (1 + window)^G upvotes. The small relative margin absorbs rounding, erring towards
  // reading a few more papers.
  const double kth = candidates.size() < limit ? 0 : trending_score(candidates.back(), now);
  const double needed = kth * std::pow(1.0 + static_cast<double>(window.count()), kTrendingGravity);
  const int64_t min_upvotes =
      needed >= static_cast<double>(std::numeric_limits<int64_t>::max())
          ? std::numeric_limits<int64_t>::max()
          : std::max<int64_t>(1, static_cast<int64_t>(std::floor(needed * (1 - 1e-9))));
  auto older = store.upvoted_papers(sys_seconds::min(), now - window, min_upvotes);
  if (!older) return std::unexpected(older.error());
  if (!older->empty()) {
    candidates.insert(candidates.end(), std::make_move_iterator(older->begin()),
                      std::make_move_iterator(older->end()));
    sort_papers(candidates, SortOrder::trending, now, limit);
  }
  return candidates;
}

}  // namespace paperboy::feed
