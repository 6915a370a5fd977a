// Ranked search over an index snapshot.
//
//   auto snapshot = index::Snapshot::open("data/index");
//   auto results = search::search(**snapshot, "mamba \"state space\" after:2023-06-01", {});
//   for (const search::Hit& hit : results->hits) ... hit.paper_id, hit.score ...
//
// Ranking is BM25F over title, abstract and authors. Papers that satisfy every part of the
// query come first, then papers that satisfy some (SearchOptions::all_words_first = false
// ranks them together by score). Top-k uses block-max WAND (block-max AND
// for the first tier), so common words do not make every match get scored; the exhaustive
// scorer (SearchOptions::exhaustive) ranks identically and is what the tests compare against.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.h"
#include "index/index.h"
#include "search/query.h"

namespace paperboy::search {

struct Bm25fParams {
  double k1 = 1.2;
  std::array<double, index::kFieldCount> weight =
      index::kReferenceWeight;  // title, abstract, authors
  std::array<double, index::kFieldCount> b = index::kReferenceB;
};

enum class Sort { kRelevance, kDate, kUpvotes };

struct SearchOptions {
  size_t limit = 20;
  size_t offset = 0;
  Sort sort = Sort::kRelevance;
  bool facets = false;      // count categories and years over all matches (costs a full pass)
  bool exhaustive = false;  // score every match instead of WAND: the test oracle
  // Papers satisfying every part of the query first (two tiers). false ranks every paper
  // holding any free term (and every phrase) by BM25F alone, one top-k by MaxScore: what
  // hybrid search wants of long queries' keyword candidates.
  bool all_words_first = true;
  Bm25fParams ranking;
};

struct Hit {
  std::string paper_id;
  double score = 0;
  std::string date;  // "YYYY-MM-DD", empty when unknown
  int64_t upvotes = 0;
  bool matched_all = false;  // satisfied every part of the query
};

struct FacetCount {
  std::string value;  // category ("cs.CL") or year ("2024")
  uint64_t count = 0;
};

struct SearchResults {
  std::vector<Hit> hits;
  // Number of matching papers; known when facets were asked for, the sort is not by
  // relevance, or the search was exhaustive (top-k search does not count what it skips).
  std::optional<uint64_t> total;
  std::vector<FacetCount> category_facets;  // most frequent first
  std::vector<FacetCount> year_facets;      // newest first
  uint64_t scored_documents = 0;   // how many documents were fully scored (WAND skips the rest)
  bool jumped = false;             // the query was an arXiv id or URL and hits holds that paper
  std::vector<std::string> notes;  // parser remarks for the user
};

Result<SearchResults> search(const index::Snapshot& snapshot, const Query& query,
                             const SearchOptions& options);
// Parses `query_text` (see query.h) and searches; fails only for malformed date filters.
Result<SearchResults> search(const index::Snapshot& snapshot, std::string_view query_text,
                             const SearchOptions& options);

}  // namespace paperboy::search
