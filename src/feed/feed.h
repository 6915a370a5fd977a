// Daily / weekly / monthly feeds and the trending ranking, computed from the store.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <string_view>
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
};

struct FeedPage {
  Period period = Period::day;
  std::string first_day;  // inclusive bounds of the period, ISO dates
  std::string last_day;
  std::vector<Paper> papers;
  // Neighbouring periods that hold papers (days without papers are skipped); empty when none.
  std::string previous;
  std::string next;
};

Result<FeedPage> load_feed(store::Store& store, const FeedQuery& query);

// The most recent feed day at or before `day`, or the latest day overall when none is earlier;
// nullopt when the feed is empty.
Result<std::optional<std::string>> latest_feed_day(store::Store& store, std::chrono::sys_days day);

// Trending score (documented in docs/feed.md): time-decayed upvotes.
double trending_score(const Paper& paper, std::chrono::sys_seconds now);

// The `limit` papers with the highest trending score at `now`.
Result<std::vector<Paper>> trending(store::Store& store, std::chrono::sys_seconds now, size_t limit);

}  // namespace paperboy::feed
