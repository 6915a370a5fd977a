// Facet counting: how many matches of a search fall into each category and each year.
//
//   FacetCounter counter(snapshot);
//   for each match (segment s, doc d): counter.count(s, d);
//   counter.write(results);  // results.category_facets, results.year_facets
//
// A match costs two array increments: each segment's docs are mapped once, on first use, to
// an id of their category list (a segment holds a few thousand distinct lists) and of their
// year, and the lists are split into categories only when the counts are written out. The
// columns are kept as long as the segment lives, so searches on later snapshots that share a
// segment reuse them.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "index/index.h"
#include "search/search.h"

namespace paperboy::search {

// One segment's facet columns: per doc, its category list and its year, as small ids.
class SegmentFacets {
 public:
  explicit SegmentFacets(const index::Segment& segment);

  uint32_t list_of(uint32_t doc) const { return list_of_doc_[doc]; }
  uint16_t year_of(uint32_t doc) const { return year_of_doc_[doc]; }
  size_t list_count() const { return list_categories_.size(); }
  size_t year_count() const { return years_.size(); }
  // The category ids of list `list`, indices into category_names().
  const std::vector<uint32_t>& categories_of_list(uint32_t list) const {
    return list_categories_[list];
  }
  const std::vector<std::string>& category_names() const { return category_names_; }
  // The year of year id `year`; 0 stands for "date unknown".
  int year_value(uint16_t year) const { return years_[year]; }

 private:
  std::vector<uint32_t> list_of_doc_;
  std::vector<uint16_t> year_of_doc_;
  std::vector<std::vector<uint32_t>> list_categories_;
  std::vector<std::string> category_names_;
  std::vector<int> years_;
};

// The facet columns of `segment`, built on first use (thread-safe) and shared while the
// segment lives.
std::shared_ptr<const SegmentFacets> facets_of(
    const std::shared_ptr<const index::Segment>& segment);

// Counts matches per category and year over a snapshot's segments.
class FacetCounter {
 public:
  explicit FacetCounter(const index::Snapshot& snapshot);

  void count(size_t segment, uint32_t doc) {
    Counts& counts = counts_[segment];
    const SegmentFacets& facets = *facets_[segment];
    ++counts.lists[facets.list_of(doc)];
    ++counts.years[facets.year_of(doc)];
  }
  // Categories most frequent first (ties by name), years newest first; unknown dates are
  // left out of the years.
  void write(SearchResults& results) const;

 private:
  struct Counts {
    std::vector<uint32_t> lists;  // per list id: matches in this segment
    std::vector<uint32_t> years;
  };
  std::vector<std::shared_ptr<const SegmentFacets>> facets_;
  std::vector<Counts> counts_;
};

}  // namespace paperboy::search
