#include "search/search.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <functional>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "search/listing_days_for_tests.h"

namespace paperboy::search {
namespace {

namespace fs = std::filesystem;

SearchOptions with(size_t limit, Sort sort, bool exhaustive, bool facets, size_t offset) {
  SearchOptions options;
  options.limit = limit;
  options.sort = sort;
  options.exhaustive = exhaustive;
  options.facets = facets;
  options.offset = offset;
  return options;
}

class TempDir {
 public:
  TempDir() {
    std::string pattern = (fs::temp_directory_path() / "paperboy-search-XXXXXX").string();
    path_ = ::mkdtemp(pattern.data());
  }
  ~TempDir() { fs::remove_all(path_); }
  const fs::path& path() const { return path_; }

 private:
  fs::path path_;
};

// Real arXiv listings (cs.CV/cs.CL) of a few days, by day, listed on that day.
std::vector<std::pair<std::string, std::vector<Paper>>> real_papers() {
  auto days = listing_days_for_tests();
  int line_number = 0;
  for (auto& [day, papers] : days) {
    EXPECT_FALSE(papers.empty()) << day;
    for (Paper& paper : papers) {
      paper.feed_day = day;
      paper.upvotes = (++line_number * 7919) % 97;
    }
  }
  return days;
}

// Real arXiv listings (cs.CV/cs.CL), a few days' worth, indexed in several segments with
// some papers replaced and removed so that deletions are exercised too.
class RealIndex : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    directory_ = new TempDir();
    // Many segments on purpose: merges are tested on their own.
    auto writer = index::IndexWriter::open(
        directory_->path(), {.max_buffered_docs = 150, .merge_policy = {.background = false}});
    ASSERT_TRUE(writer) << writer.error().message;
    for (const auto& [day, papers] : real_papers()) {
      for (const Paper& paper : papers) {
        ids_.push_back(paper.arxiv_id);
        ASSERT_TRUE((*writer)->add(index::document_from_paper(paper)));
      }
      ASSERT_TRUE((*writer)->commit());
    }
    for (size_t i = 0; i < ids_.size(); i += 50) (*writer)->remove(ids_[i]);
    ASSERT_TRUE((*writer)->commit());
    auto snapshot = index::Snapshot::open(directory_->path());
    ASSERT_TRUE(snapshot);
    snapshot_ = new std::shared_ptr<const index::Snapshot>(*snapshot);
  }
  static void TearDownTestSuite() {
    delete snapshot_;
    delete directory_;
  }

  static const index::Snapshot& snapshot() { return **snapshot_; }

  static SearchResults run(std::string_view text, SearchOptions options = {}) {
    auto results = search(snapshot(), text, options);
    EXPECT_TRUE(results) << text;
    return results ? *results : SearchResults{};
  }

  static std::vector<std::string> ids(const SearchResults& results) {
    std::vector<std::string> out;
    for (const Hit& hit : results.hits) out.push_back(hit.paper_id);
    return out;
  }

  using AnswerCheck = std::function<void(const std::string& query, const SearchResults& fast,
                                         const SearchResults& exhaustive)>;

  // Each query's fast top k against every match scored and sorted, at k = 1, 10 and 100 and
  // under settings away from the reference ones the blocks' bounds were made with (b = 0
  // included); `also` sees every pair of answers that agree.
  static void expect_top_k_is_exhaustive(const std::vector<std::string>& queries,
                                         bool all_words_first, const AnswerCheck& also = {}) {
    Bm25fParams other;
    other.k1 = 0.8;
    other.weight = {3.0, 1.0, 0.5};
    other.b = {0.9, 0.3, 0.0};
    for (const std::string& query : queries) {
      for (auto [k, ranking] :
           {std::pair{size_t{1}, Bm25fParams{}}, std::pair{size_t{10}, Bm25fParams{}},
            std::pair{size_t{100}, Bm25fParams{}}, std::pair{size_t{10}, other}}) {
        SearchOptions fast;
        fast.limit = k;
        fast.ranking = ranking;
        fast.all_words_first = all_words_first;
        SearchOptions oracle = fast;
        oracle.exhaustive = true;
        auto expected = run(query, oracle);
        auto actual = run(query, fast);
        ASSERT_EQ(ids(actual), ids(expected)) << query << " k=" << k;
        for (size_t h = 0; h < actual.hits.size(); ++h)
          EXPECT_DOUBLE_EQ(actual.hits[h].score, expected.hits[h].score) << query;
        if (also) also(query, actual, expected);
      }
    }
  }

  static inline TempDir* directory_ = nullptr;
  static inline std::shared_ptr<const index::Snapshot>* snapshot_ = nullptr;
  static inline std::vector<std::string> ids_;
};

TEST_F(RealIndex, IndexHasSeveralSegmentsAndDeletions) {
  EXPECT_GT(snapshot().segments().size(), 3u);
  EXPECT_LT(snapshot().live_count(), snapshot().doc_count());
}

// Top-k bounds take each doc's lengths from one-byte codes: a decoded length must never exceed
// the true one (or a bound would undercut a score), and should stay close to it.
TEST(LengthCodes, DecodeToAtMostTheLengthAndWithin1In16) {
  uint8_t previous = 0;
  for (uint32_t length = 0; length < 40000; ++length) {
    uint8_t code = index::encode_length(length);
    uint32_t decoded = index::decode_length(code);
    ASSERT_LE(decoded, length);
    if (length < 128) {
      ASSERT_EQ(decoded, length);
    } else if (length < 31744) {
      ASSERT_GT(decoded * 17 / 16, length - 1) << length;
    }
    ASSERT_GE(code, previous);
    previous = code;
  }
  EXPECT_EQ(index::encode_length(UINT32_MAX), 255);
}

TEST_F(RealIndex, LengthCodesAreTheDocsCodedLengths) {
  for (const auto& view : snapshot().segments()) {
    const index::Segment& segment = *view.segment;
    const uint8_t* codes = segment.length_codes();
    for (uint32_t doc = 0; doc < segment.doc_count(); ++doc)
      for (size_t f = 0; f < index::kFieldCount; ++f) {
        ASSERT_EQ(codes[doc * index::kFieldCount + f],
                  index::encode_length(segment.field_length(doc, f)));
      }
  }
}

TEST_F(RealIndex, WandReturnsExactlyTheExhaustiveTopK) {
  // Queries from real title words: common and rare, one to five words, plus operators.
  std::vector<std::string> words;
  for (const auto& view : snapshot().segments())
    for (uint64_t t = 0; t < view.segment->term_count(); t += 7) {
      std::string term(view.segment->term(t));
      if (term.find_first_of("0123456789./-") == std::string::npos) words.push_back(term);
    }
  ASSERT_GT(words.size(), 500u);
  std::mt19937 random(7);
  std::vector<std::string> queries = {
      "image", "language model", "diffusion model image generation",
      "large language models reasoning benchmark", "\"vision language\" model",
      "segmentation OR detection", "video -diffusion", "title:transformer attention",
      "cat:cs.CL language", "3d gaussian splatting",
      "multimodal large language model hallucination",
      // Conjunctions of common words, phrases among words,
      // fields and filters: the window-by-window tier 1.
      "model learning data method results", "\"language models\"",
      "\"large language\" models reasoning", "title:language model learning",
      "abstract:model title:vision", "model data year:2025 before:2025-03-22",
      "learning model -language", "model cat:cs.CV \"object detection\""};
  for (int i = 0; i < 120; ++i) {
    std::string query;
    int length = 1 + static_cast<int>(random() % 5);
    for (int w = 0; w < length; ++w) query += words[random() % words.size()] + " ";
    if (i % 3 == 0) query += "model";  // mixes a common word into rare ones
    queries.push_back(query);
  }
  expect_top_k_is_exhaustive(queries, true);
}

// The plain ranking (no all-words tier) by MaxScore against every match scored and sorted:
// long queries of title words, as hybrid search sends them, and the operators.
TEST_F(RealIndex, PlainRankingTopKIsTheExhaustiveRanking) {
  std::vector<std::string> titles;
  for (const auto& [day, papers] : real_papers())
    for (size_t i = 0; i < papers.size(); i += 9) titles.push_back(papers[i].title);
  ASSERT_GT(titles.size(), 40u);
  std::vector<std::string> queries = {"image",
                                      "language model",
                                      "gaussian splatting avatar",
                                      "\"vision language\" model reasoning",
                                      "\"vision language\"",
                                      "\"language model\" -survey",
                                      "segmentation OR detection video",
                                      "video -diffusion generation",
                                      "title:transformer attention efficient",
                                      "cat:cs.CL language model evaluation"};
  queries.insert(queries.end(), titles.begin(), titles.end());
  size_t partial_above_full = 0;
  expect_top_k_is_exhaustive(
      queries, false,
      [&](const std::string& query, const SearchResults& actual, const SearchResults& expected) {
        for (size_t h = 0; h < actual.hits.size(); ++h) {
          EXPECT_EQ(actual.hits[h].matched_all, expected.hits[h].matched_all) << query;
          if (h == 0) continue;
          EXPECT_GE(actual.hits[h - 1].score, actual.hits[h].score) << query;
          if (!actual.hits[h - 1].matched_all && actual.hits[h].matched_all) ++partial_above_full;
        }
      });
  // Long queries rank papers holding some words above papers holding all: the tiers would not.
  EXPECT_GT(partial_above_full, 0u);
}

TEST_F(RealIndex, PlainRankingScoresFarFewerDocumentsThanMatch) {
  std::string query = "efficient multimodal large language model reasoning benchmark image video";
  SearchOptions fast;
  fast.limit = 10;
  fast.all_words_first = false;
  SearchOptions oracle = fast;
  oracle.exhaustive = true;
  auto all = run(query, oracle);
  auto top = run(query, fast);
  ASSERT_GT(*all.total, 400u);
  EXPECT_LT(top.scored_documents * 3, all.scored_documents)
      << top.scored_documents << " vs " << all.scored_documents;
}

std::vector<std::string> sample_queries(const index::Snapshot& snapshot) {
  std::vector<std::string> queries = {"image",
                                      "language model",
                                      "\"vision language\" model",
                                      "segmentation OR detection",
                                      "video -diffusion",
                                      "title:transformer attention",
                                      "cat:cs.CL language"};
  std::mt19937 random(11);
  std::vector<std::string> words;
  for (const auto& view : snapshot.segments())
    for (uint64_t t = 0; t < view.segment->term_count(); t += 5) {
      std::string term(view.segment->term(t));
      if (term.find_first_of("0123456789./-") == std::string::npos) words.push_back(term);
    }
  for (int i = 0; i < 60; ++i) {
    std::string query;
    for (int w = 1 + static_cast<int>(random() % 4); w > 0; --w)
      query += words[random() % words.size()] + " ";
    queries.push_back(query + (i % 2 == 0 ? "model" : ""));
  }
  return queries;
}

// An index of small commits without deletions, then the same index after its background
// merges: same collection statistics and document order, so every ranking is identical.
TEST(Merges, SearchResultsAreIdenticalBeforeAndAfterBackgroundMerges) {
  TempDir before;
  {
    auto writer = index::IndexWriter::open(
        before.path(), {.max_buffered_docs = 50, .merge_policy = {.background = false}});
    ASSERT_TRUE(writer);
    std::set<std::string> seen;  // a paper listed on two days would be a replacement
    for (const auto& [day, papers] : real_papers()) {
      for (const Paper& paper : papers) {
        if (seen.insert(paper.arxiv_id).second) {
          ASSERT_TRUE((*writer)->add(index::document_from_paper(paper)));
        }
      }
      ASSERT_TRUE((*writer)->commit());
    }
  }
  TempDir after;
  fs::copy(before.path(), after.path(), fs::copy_options::recursive);
  {
    auto writer = index::IndexWriter::open(
        after.path(), {.merge_policy = {.merge_factor = 4, .min_level_docs = 100}});
    ASSERT_TRUE(writer);
    ASSERT_TRUE((*writer)->wait_for_merges());
  }
  auto old_index = index::Snapshot::open(before.path());
  auto merged = index::Snapshot::open(after.path());
  ASSERT_TRUE(old_index && merged);
  ASSERT_GT((*old_index)->segments().size(), 10u);
  EXPECT_LT((*merged)->segments().size(), (*old_index)->segments().size() / 2);
  ASSERT_EQ((*old_index)->live_count(), (*old_index)->doc_count());
  EXPECT_EQ((*merged)->live_count(), (*old_index)->live_count());
  SearchOptions options;
  options.limit = 20;
  for (const std::string& query : sample_queries(**old_index)) {
    auto expected = search(**old_index, query, options);
    auto actual = search(**merged, query, options);
    ASSERT_TRUE(expected && actual) << query;
    ASSERT_EQ(actual->hits.size(), expected->hits.size()) << query;
    for (size_t h = 0; h < actual->hits.size(); ++h) {
      EXPECT_EQ(actual->hits[h].paper_id, expected->hits[h].paper_id) << query;
      EXPECT_EQ(actual->hits[h].score, expected->hits[h].score) << query;
    }
  }
}

// With deletions purged the statistics move, so scores may too, but what matches does not.
TEST_F(RealIndex, MergesKeepTheSetOfMatchesWhenPurgingDeletions) {
  TempDir merged_dir;
  fs::copy(directory_->path(), merged_dir.path(), fs::copy_options::recursive);
  {
    auto writer = index::IndexWriter::open(merged_dir.path());
    ASSERT_TRUE(writer);
    ASSERT_TRUE((*writer)->merge());
  }
  auto merged = index::Snapshot::open(merged_dir.path());
  ASSERT_TRUE(merged);
  ASSERT_EQ((*merged)->segments().size(), 1u);
  EXPECT_EQ((*merged)->doc_count(), snapshot().live_count());
  SearchOptions all;
  all.limit = 100'000;
  all.exhaustive = true;
  for (const std::string& query : sample_queries(snapshot())) {
    auto expected = ids(run(query, all));
    auto actual = search(**merged, query, all);
    ASSERT_TRUE(actual);
    auto actual_ids = ids(*actual);
    std::sort(expected.begin(), expected.end());
    std::sort(actual_ids.begin(), actual_ids.end());
    EXPECT_EQ(actual_ids, expected) << query;
  }
}

TEST_F(RealIndex, WandScoresFarFewerDocumentsThanMatch) {
  auto fast = run("model image language", with(10, Sort::kRelevance, false, false, 0));
  auto oracle = run("model image language", with(10, Sort::kRelevance, true, false, 0));
  ASSERT_GT(*oracle.total, 500u);
  EXPECT_LT(fast.scored_documents * 2, oracle.scored_documents)
      << fast.scored_documents << " vs " << oracle.scored_documents;
}

TEST_F(RealIndex, PapersMatchingEveryWordComeFirst) {
  auto results = run("gaussian splatting avatar", with(50, Sort::kRelevance, false, false, 0));
  ASSERT_FALSE(results.hits.empty());
  EXPECT_TRUE(results.hits.front().matched_all);
  bool seen_partial = false;
  for (const Hit& hit : results.hits) {
    if (!hit.matched_all) seen_partial = true;
    EXPECT_FALSE(seen_partial && hit.matched_all) << "a full match ranked below a partial one";
  }
  EXPECT_TRUE(seen_partial);
}

TEST_F(RealIndex, PhrasesExclusionsFieldsAndFilters) {
  auto phrase = run("\"vision transformer\"", with(1000, Sort::kRelevance, true, false, 0));
  auto loose = run("vision transformer", with(1000, Sort::kRelevance, true, false, 0));
  ASSERT_FALSE(phrase.hits.empty());
  EXPECT_LT(phrase.hits.size(), loose.hits.size());

  auto all_diffusion = run("diffusion", with(1000, Sort::kRelevance, true, false, 0));
  auto without = run("diffusion -video", with(1000, Sort::kRelevance, true, false, 0));
  auto video = run("diffusion video", with(1000, Sort::kRelevance, true, false, 0));
  size_t with_video = 0;
  for (const Hit& hit : video.hits) with_video += hit.matched_all;
  EXPECT_EQ(without.hits.size(), all_diffusion.hits.size() - with_video);

  auto title_only = run("title:segmentation", with(1000, Sort::kRelevance, true, false, 0));
  auto anywhere = run("segmentation", with(1000, Sort::kRelevance, true, false, 0));
  EXPECT_LT(title_only.hits.size(), anywhere.hits.size());

  auto cl = run("cat:cs.CL model", with(1000, Sort::kRelevance, false, true, 0));
  ASSERT_FALSE(cl.category_facets.empty());
  for (const FacetCount& facet : cl.category_facets)
    if (facet.value == "cs.CL") {
      EXPECT_EQ(facet.count, *cl.total);
    }

  auto day = run("model before:2025-03-20", with(1000, Sort::kRelevance, false, true, 0));
  ASSERT_FALSE(day.hits.empty());
  for (const Hit& hit : day.hits) EXPECT_EQ(hit.date, "2025-03-19");
  ASSERT_EQ(day.year_facets.size(), 1u);
  EXPECT_EQ(day.year_facets[0].value, "2025");
  EXPECT_TRUE(run("model year:2024").hits.empty());
}

TEST_F(RealIndex, AuthorsAreSearchable) {
  // The second paper of the first day, by its author's full name.
  auto results = run("author:\"Lizhi Xiong\"", with(10, Sort::kRelevance, false, false, 0));
  ASSERT_FALSE(results.hits.empty());
  EXPECT_EQ(results.hits.front().paper_id, "2503.13576");
  EXPECT_TRUE(run("author:\"Xiong Lizhi\"").hits.empty());
}

TEST_F(RealIndex, ArxivIdsJumpToThePaper) {
  auto results = run("https://arxiv.org/abs/2503.13576v1");
  EXPECT_TRUE(results.jumped);
  ASSERT_EQ(ids(results), std::vector<std::string>{"2503.13576"});
  EXPECT_EQ(results.hits[0].date, "2025-03-19");
  // A removed paper is not found by id.
  EXPECT_FALSE(run(ids_[0]).jumped);
}

TEST_F(RealIndex, SortsByDateAndUpvotes) {
  auto by_date = run("language", with(200, Sort::kDate, false, false, 0));
  for (size_t i = 1; i < by_date.hits.size(); ++i)
    if (by_date.hits[i].matched_all == by_date.hits[i - 1].matched_all) {
      EXPECT_GE(by_date.hits[i - 1].date, by_date.hits[i].date);
    }
  auto by_votes = run("language", with(200, Sort::kUpvotes, false, false, 0));
  for (size_t i = 1; i < by_votes.hits.size(); ++i)
    EXPECT_GE(by_votes.hits[i - 1].upvotes, by_votes.hits[i].upvotes);
  auto filter_only = run("cat:cs.GR", with(5, Sort::kRelevance, false, false, 0));
  EXPECT_FALSE(filter_only.hits.empty());
}

TEST_F(RealIndex, PagesAreSlicesOfTheRanking) {
  auto all = run("image segmentation", with(30, Sort::kRelevance, false, false, 0));
  auto second_page = run("image segmentation", with(10, Sort::kRelevance, false, false, 10));
  ASSERT_EQ(all.hits.size(), 30u);
  std::vector<std::string> all_ids = ids(all);
  EXPECT_EQ(ids(second_page), std::vector<std::string>(all_ids.begin() + 10, all_ids.begin() + 20));
}

TEST_F(RealIndex, OddQueriesGiveSensibleResults) {
  EXPECT_TRUE(run("").hits.empty());
  auto stop_words = run("the of and");
  EXPECT_TRUE(stop_words.hits.empty());
  EXPECT_FALSE(stop_words.notes.empty());
  EXPECT_FALSE(run("\"vision language").hits.empty());
  EXPECT_FALSE(run("OR model OR").hits.empty());
  std::string huge;
  while (huge.size() < 10'000) huge += "segmentation model \xff\x01 ";
  EXPECT_FALSE(run(huge).hits.empty());
  EXPECT_FALSE(search(snapshot(), "model after:tomorrow", {}));
}

}  // namespace
}  // namespace paperboy::search
