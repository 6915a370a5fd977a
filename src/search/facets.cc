#include "search/facets.h"

#include <algorithm>
#include <chrono>
#include <map>
#include <mutex>
#include <string_view>
#include <unordered_map>

namespace paperboy::search {

SegmentFacets::SegmentFacets(const index::Segment& segment) {
  const uint32_t docs = segment.doc_count();
  list_of_doc_.resize(docs);
  year_of_doc_.resize(docs);
  std::unordered_map<std::string_view, uint32_t> list_ids;
  std::unordered_map<std::string_view, uint32_t> category_ids;
  std::unordered_map<int32_t, uint16_t> day_years;  // a day's year id, computed once per day
  std::map<int, uint16_t> year_ids;
  years_.push_back(0);  // id 0: date unknown
  for (uint32_t doc = 0; doc < docs; ++doc) {
    // The segment is mapped for as long as it lives, so its views can key the tables.
    std::string_view list = segment.categories(doc);
    auto [found_list, new_list] = list_ids.try_emplace(list, list_ids.size());
    if (new_list) {
      std::vector<uint32_t>& categories = list_categories_.emplace_back();
      while (!list.empty()) {
        size_t space = list.find(' ');
        std::string_view category = list.substr(0, space);
        if (!category.empty()) {
          auto [found, added] = category_ids.try_emplace(category, category_names_.size());
          if (added) category_names_.emplace_back(category);
          categories.push_back(found->second);
        }
        if (space == std::string_view::npos) break;
        list.remove_prefix(space + 1);
      }
    }
    list_of_doc_[doc] = found_list->second;

    int32_t day = segment.date(doc);
    auto [found_day, new_day] = day_years.try_emplace(day, 0);
    if (new_day && day != index::kUnknownDate) {
      std::chrono::year_month_day date{std::chrono::sys_days{std::chrono::days{day}}};
      int year = static_cast<int>(date.year());
      auto [found_year, new_year] = year_ids.try_emplace(year, years_.size());
      if (new_year) years_.push_back(year);
      found_day->second = found_year->second;
    }
    year_of_doc_[doc] = found_day->second;
  }
}

std::shared_ptr<const SegmentFacets> facets_of(
    const std::shared_ptr<const index::Segment>& segment) {
  struct Entry {
    std::weak_ptr<const index::Segment> segment;
    std::shared_ptr<const SegmentFacets> facets;
  };
  static std::mutex mutex;
  static std::unordered_map<const index::Segment*, Entry> cache;
  std::lock_guard lock(mutex);
  auto found = cache.find(segment.get());
  // An expired entry may belong to an earlier segment at the same address.
  if (found != cache.end() && !found->second.segment.expired()) return found->second.facets;
  std::erase_if(cache, [](const auto& entry) { return entry.second.segment.expired(); });
  auto facets = std::make_shared<const SegmentFacets>(*segment);
  cache[segment.get()] = Entry{segment, facets};
  return facets;
}

FacetCounter::FacetCounter(const index::Snapshot& snapshot) {
  for (const index::SegmentView& view : snapshot.segments()) {
    const auto& facets = facets_.emplace_back(facets_of(view.segment));
    counts_.push_back(Counts{std::vector<uint32_t>(facets->list_count()),
                             std::vector<uint32_t>(facets->year_count())});
  }
}

void FacetCounter::write(SearchResults& results) const {
  std::unordered_map<std::string_view, uint64_t> categories;
  std::map<int, uint64_t, std::greater<>> years;
  for (size_t s = 0; s < facets_.size(); ++s) {
    const SegmentFacets& facets = *facets_[s];
    std::vector<uint64_t> by_category(facets.category_names().size());
    for (uint32_t list = 0; list < counts_[s].lists.size(); ++list) {
      if (counts_[s].lists[list] == 0) continue;
      for (uint32_t category : facets.categories_of_list(list))
        by_category[category] += counts_[s].lists[list];
    }
    for (size_t category = 0; category < by_category.size(); ++category)
      if (by_category[category] > 0)
        categories[facets.category_names()[category]] += by_category[category];
    // Year id 0 is the unknown date.
    for (uint16_t year = 1; year < counts_[s].years.size(); ++year)
      if (counts_[s].years[year] > 0) years[facets.year_value(year)] += counts_[s].years[year];
  }
  for (const auto& [category, count] : categories)
    results.category_facets.push_back({std::string(category), count});
  std::sort(results.category_facets.begin(), results.category_facets.end(),
            [](const FacetCount& a, const FacetCount& b) {
              return a.count != b.count ? a.count > b.count : a.value < b.value;
            });
  for (const auto& [year, count] : years)
    results.year_facets.push_back({std::to_string(year), count});
}

}  // namespace paperboy::search
