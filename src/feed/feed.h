// Daily / weekly / monthly feeds and the trending ranking, computed from the store.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/paper.h"
#include "core/result.h"
#include "store/store.h"

namespace paperboy::feed {

enum class Period { day, week, month };
enum class SortOrder { upvotes, date, trending };

struct FeedQuery {
  Period period = Period::day;
  std::chrono::sys_days date{};  // any day inside the period
  std::string category;          // empty: all
  SortOrder sort = SortOrder::upvotes;
  // The clock the trending sort ages papers by; nullopt: the current time.
  std::optional<std::chrono::sys_seconds> now;
};

struct FeedPage {
  Period period = Period::day;
  std::string first_day;  // inclusive bounds of the period, ISO dates
  std::string last_day;
  std::vector<Paper> papers;
  // Neighbouring periods that hold papers (days without papers are skipped), as the ISO first
  // day of that period; empty when none. With a category, only periods holding papers of it.
  std::string previous;
  std::string next;
};

// Papers are ordered, for each SortOrder:
//   upvotes:  most upvotes first, then most recently entered (entered_feed_at), then paper id;
//   date:     latest feed day first, then most recently entered, then most upvotes, then id;
//   trending: highest trending_score first, then as for upvotes.
Result<FeedPage> load_feed(store::Store& store, const FeedQuery& query);

// The inclusive ISO bounds of the period holding `day` (ISO weeks start on Monday).
std::pair<std::chrono::sys_days, std::chrono::sys_days> period_bounds(Period period,
                                                                      std::chrono::sys_days day);

// The most recent feed day at or before `day`, or the latest day overall when none is earlier;
// nullopt when the feed is empty.
Result<std::optional<std::string>> latest_feed_day(store::Store& store, std::chrono::sys_days day);

// Trending score (documented in docs/feed.md): time-decayed upvotes,
// upvotes / (1 + age_in_days)^kTrendingGravity, the age counted from entered_feed_at() (0 for
// papers without upvotes or without any date).
inline constexpr double kTrendingGravity = 1.8;
double trending_score(const Paper& paper, std::chrono::sys_seconds now);

// The `limit` papers with the highest trending score at `now`, in the trending order of
// load_feed, among papers with upvotes that entered the feed at or before `now`. Exact, but reads
// only recent papers and older ones with enough upvotes to compete (see docs/feed.md).
Result<std::vector<Paper>> trending(store::Store& store, std::chrono::sys_seconds now,
                                    size_t limit);

}  // namespace paperboy::feed
