#include "search/facets.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include "search/listing_days_for_tests.h"
#include "search/search.h"

namespace paperboy::search {
namespace {

namespace fs = std::filesystem;

// Real arXiv listings (cs.CV/cs.CL) of three days, indexed in several segments with some
// papers removed; a third of them carry only a publication date spread over several years,
// and a few have no date or no categories at all.
class FacetIndex : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    std::string pattern = (fs::temp_directory_path() / "paperboy-facets-XXXXXX").string();
    directory_ = new fs::path(::mkdtemp(pattern.data()));
    auto writer = index::IndexWriter::open(
        *directory_, {.max_buffered_docs = 150, .merge_policy = {.background = false}});
    ASSERT_TRUE(writer) << writer.error().message;
    size_t line_number = 0;
    for (auto& [day, papers] : listing_days_for_tests()) {
      ASSERT_FALSE(papers.empty()) << day;
      for (Paper& paper : papers) {
        ++line_number;
        paper.upvotes = static_cast<int64_t>(line_number * 7919 % 23);
        if (line_number % 3 == 0) {
          paper.published = std::to_string(2018 + line_number % 7) + "-06-01";
        } else if (line_number % 41 != 0) {
          paper.feed_day = day;
        }
        if (line_number % 37 == 0) paper.categories.clear();
        papers_[paper.arxiv_id] = paper;
        ASSERT_TRUE((*writer)->add(index::document_from_paper(paper)));
      }
      ASSERT_TRUE((*writer)->commit());
    }
    size_t i = 0;
    for (const auto& [id, paper] : papers_)
      if (++i % 50 == 0) (*writer)->remove(id);
    ASSERT_TRUE((*writer)->commit());
    auto snapshot = index::Snapshot::open(*directory_);
    ASSERT_TRUE(snapshot);
    snapshot_ = new std::shared_ptr<const index::Snapshot>(*snapshot);
  }
  static void TearDownTestSuite() {
    delete snapshot_;
    fs::remove_all(*directory_);
    delete directory_;
  }

  static SearchResults run(std::string_view text, const SearchOptions& options) {
    auto results = search(**snapshot_, text, options);
    EXPECT_TRUE(results) << text;
    return results ? *results : SearchResults{};
  }

  // The facets of `query` counted by hand from every match of the exhaustive search and the
  // papers as they were indexed.
  static SearchResults expected_facets(std::string_view query, const SearchOptions& base) {
    SearchOptions every = base;
    every.limit = 1'000'000;
    every.offset = 0;
    every.exhaustive = true;
    every.facets = false;
    SearchResults all = run(query, every);
    std::map<std::string, uint64_t> categories;
    std::map<int, uint64_t, std::greater<>> years;
    for (const Hit& hit : all.hits) {
      const Paper& paper = papers_.at(hit.paper_id);
      // The index keeps a paper's categories space-separated, so a category holding spaces
      // (an MSC code list, say) counts as its words.
      for (const std::string& category : paper.categories) {
        std::istringstream words(category);
        for (std::string word; words >> word;) ++categories[word];
      }
      const std::string& date = paper.feed_day.empty() ? paper.published : paper.feed_day;
      if (!date.empty()) ++years[std::stoi(date.substr(0, 4))];
    }
    SearchResults expected;
    expected.total = all.hits.size();
    for (const auto& [category, count] : categories)
      expected.category_facets.push_back({category, count});
    std::stable_sort(expected.category_facets.begin(), expected.category_facets.end(),
                     [](const FacetCount& a, const FacetCount& b) { return a.count > b.count; });
    for (const auto& [year, count] : years)
      expected.year_facets.push_back({std::to_string(year), count});
    return expected;
  }

  static std::vector<std::pair<std::string, uint64_t>> pairs(
      const std::vector<FacetCount>& facets) {
    std::vector<std::pair<std::string, uint64_t>> out;
    for (const FacetCount& facet : facets) out.emplace_back(facet.value, facet.count);
    return out;
  }

  static std::vector<std::string> ids(const SearchResults& results) {
    std::vector<std::string> out;
    for (const Hit& hit : results.hits) out.push_back(hit.paper_id);
    return out;
  }

  static inline fs::path* directory_ = nullptr;
  static inline std::shared_ptr<const index::Snapshot>* snapshot_ = nullptr;
  static inline std::map<std::string, Paper> papers_;
};

const std::vector<std::string> kQueries = {"language model",
                                           "image",
                                           "diffusion model image generation",
                                           "\"vision language\" model",
                                           "\"large language models\"",
                                           "segmentation OR detection video",
                                           "video -diffusion",
                                           "title:transformer attention",
                                           "abstract:model title:vision",
                                           "cat:cs.CL language",
                                           "model year:2025",
                                           "learning after:2021-01-01 before:2023-12-31",
                                           "gaussian splatting avatar",
                                           "zzzunknownword",
                                           "the"};

TEST_F(FacetIndex, IndexHasSeveralSegmentsAndDeletions) {
  EXPECT_GT((*snapshot_)->segments().size(), 3u);
  EXPECT_LT((*snapshot_)->live_count(), (*snapshot_)->doc_count());
}

// Counted without scoring beside a top-k search, or from every scored match (sorted by date,
// exhaustive): the counts and total are the hand count over every match, and the hits are
// those of the same search without facets.
TEST_F(FacetIndex, CountsEveryMatchAndLeavesTheHitsAlone) {
  Bm25fParams title_ignored;
  title_ignored.weight = {0.0, 1.0, 0.5};
  for (const std::string& query : kQueries) {
    for (Sort sort : {Sort::kRelevance, Sort::kDate}) {
      for (bool exhaustive : {false, true}) {
        for (const Bm25fParams& ranking : {Bm25fParams{}, title_ignored}) {
          SearchOptions options;
          options.limit = 10;
          options.offset = 5;
          options.sort = sort;
          options.exhaustive = exhaustive;
          options.ranking = ranking;
          SearchResults expected = expected_facets(query, options);
          SearchResults plain = run(query, options);
          options.facets = true;
          SearchResults counted = run(query, options);
          std::string context = query + (sort == Sort::kDate ? " by date" : "") +
                                (exhaustive ? " exhaustive" : "") +
                                (ranking.weight[0] == 0 ? " no title weight" : "");
          ASSERT_TRUE(counted.total.has_value()) << context;
          EXPECT_EQ(*counted.total, *expected.total) << context;
          EXPECT_EQ(pairs(counted.category_facets), pairs(expected.category_facets)) << context;
          EXPECT_EQ(pairs(counted.year_facets), pairs(expected.year_facets)) << context;
          EXPECT_EQ(ids(counted), ids(plain)) << context;
        }
      }
    }
  }
}

// Sorting by date or upvotes scores only the matches that can be shown; the hits must be the
// exhaustive path's (which scores and sorts every match), ties on the key broken by score.
TEST_F(FacetIndex, DateAndUpvoteOrdersAreTheExhaustiveOnes) {
  for (const std::string& query : kQueries) {
    for (Sort sort : {Sort::kDate, Sort::kUpvotes}) {
      for (bool all_words_first : {true, false}) {
        for (auto [limit, offset] :
             {std::pair<size_t, size_t>{1, 0}, {10, 0}, {10, 20}, {0, 0}, {100, 0}, {5000, 0}}) {
          SearchOptions options;
          options.limit = limit;
          options.offset = offset;
          options.sort = sort;
          options.all_words_first = all_words_first;
          SearchOptions oracle = options;
          oracle.exhaustive = true;
          SearchResults expected = run(query, oracle);
          SearchResults actual = run(query, options);
          std::string context = query + (sort == Sort::kDate ? " by date" : " by upvotes") +
                                (all_words_first ? "" : " one tier") + " limit " +
                                std::to_string(limit) + " offset " + std::to_string(offset);
          ASSERT_EQ(ids(actual), ids(expected)) << context;
          EXPECT_EQ(actual.total, expected.total) << context;
          for (size_t h = 0; h < actual.hits.size(); ++h) {
            EXPECT_EQ(actual.hits[h].score, expected.hits[h].score) << context;
            EXPECT_EQ(actual.hits[h].matched_all, expected.hits[h].matched_all) << context;
          }
          if (limit == 10 && offset == 0 && expected.total > 50u) {
            EXPECT_LT(actual.scored_documents * 2, expected.scored_documents) << context;
          }
        }
      }
    }
  }
}

TEST_F(FacetIndex, CommonQueriesHaveManyCategoriesAndYears) {
  SearchOptions options;
  options.facets = true;
  SearchResults results = run("model", options);
  ASSERT_TRUE(results.total.has_value());
  EXPECT_GT(*results.total, 300u);
  EXPECT_GT(results.category_facets.size(), 10u);
  EXPECT_EQ(results.year_facets.size(), 8u);  // 2018-2024 from publication dates, and 2025
  EXPECT_EQ(results.year_facets.front().value, "2025");
}

// Hybrid search asks for the facets and total alone, with no hits.
TEST_F(FacetIndex, LimitZeroCountsWithoutHits) {
  SearchOptions options;
  options.limit = 0;
  options.facets = true;
  SearchResults results = run("language model", options);
  EXPECT_TRUE(results.hits.empty());
  SearchResults expected = expected_facets("language model", options);
  ASSERT_TRUE(results.total.has_value());
  EXPECT_EQ(*results.total, *expected.total);
  EXPECT_EQ(pairs(results.category_facets), pairs(expected.category_facets));
}

TEST_F(FacetIndex, ColumnsAreBuiltOncePerSegment) {
  const auto& segment = (*snapshot_)->segments().front().segment;
  auto first = facets_of(segment);
  EXPECT_EQ(facets_of(segment).get(), first.get());
  ASSERT_GT(first->list_count(), 1u);
  for (uint32_t doc = 0; doc < segment->doc_count(); ++doc) {
    std::string joined;
    for (uint32_t category : first->categories_of_list(first->list_of(doc)))
      joined += (joined.empty() ? "" : " ") + first->category_names()[category];
    ASSERT_EQ(joined, segment->categories(doc)) << doc;
  }
}

}  // namespace
}  // namespace paperboy::search
