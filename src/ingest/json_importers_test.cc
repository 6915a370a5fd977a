// The JSON importers on real fixtures: arXiv snapshot, arXiv daily listing, HF daily papers,
// and the canonical format with its writer.
#include <gtest/gtest.h>

#include "ingest/canonical.h"
#include "ingest/ingest.h"
#include "ingest/test_support.h"

namespace paperboy::ingest {
namespace {

using testing::Collected;
using testing::fixture;
using testing::import_all;
using testing::TempDir;

const Paper* find(const Collected& collected, const std::string& arxiv_id) {
  for (const Paper& paper : collected.papers)
    if (paper.arxiv_id == arxiv_id) return &paper;
  return nullptr;
}

TEST(ArxivSnapshot, ImportsAllTwoHundredSampleRecords) {
  Collected got = import_all(fixture("arxiv-metadata-oai-snapshot.json"));
  ASSERT_TRUE(got.result.has_value()) << got.result.error().message;
  EXPECT_EQ(got.rejections.size(), 0u) << got.rejection_text();
  ASSERT_EQ(got.papers.size(), 200u);
  EXPECT_EQ(got.papers.front().arxiv_id, "0704.0001");
  EXPECT_EQ(got.papers.back().arxiv_id, "0704.0200");
  EXPECT_FALSE(got.progress.empty());
}

TEST(ArxivSnapshot, MapsEveryField) {
  Collected got = import_all(fixture("arxiv-metadata-oai-snapshot.json"));
  const Paper* first = find(got, "0704.0001");
  ASSERT_NE(first, nullptr);
  EXPECT_EQ(
      first->title,
      "Calculation of prompt diphoton production cross sections at Tevatron and LHC energies");
  EXPECT_TRUE(
      first->abstract.starts_with("A fully differential calculation in perturbative quantum "
                                  "chromodynamics is presented for the production"));
  EXPECT_EQ(first->abstract.find('\n'), std::string::npos);
  EXPECT_EQ(first->authors, (std::vector<std::string>{"C. Balázs", "E. L. Berger", "P. M. Nadolsky",
                                                      "C. -P. Yuan"}));
  EXPECT_EQ(first->categories, std::vector<std::string>{"hep-ph"});
  EXPECT_EQ(first->version, 2);
  EXPECT_EQ(first->published, "2007-04-02");
  EXPECT_EQ(first->updated, "2007-07-24");
  EXPECT_EQ(first->doi, "10.1103/PhysRevD.76.013009");
  EXPECT_EQ(first->journal_ref, "Phys.Rev.D76:013009,2007");
  EXPECT_EQ(first->comments, "37 pages, 15 figures; published version");
  EXPECT_EQ(first->license, "");
  EXPECT_EQ(first->feed_day, "");
  EXPECT_EQ(first->source, "arxiv-snapshot");

  const Paper* second = find(got, "0704.0002");
  ASSERT_NE(second, nullptr);
  EXPECT_EQ(second->categories, (std::vector<std::string>{"math.CO", "cs.CG"}));
  EXPECT_EQ(second->license, "http://arxiv.org/licenses/nonexclusive-distrib/1.0/");
  EXPECT_EQ(second->authors, (std::vector<std::string>{"Ileana Streinu", "Louis Theran"}));
  EXPECT_EQ(second->updated, "2008-12-13");

  // authors_parsed entries sometimes carry an affiliation as a fourth element: not part of the
  // name.
  const Paper* with_affiliation = find(got, "0704.0031");
  ASSERT_NE(with_affiliation, nullptr);
  EXPECT_EQ(with_affiliation->authors.front(), "V. M. Biryukov");
}

TEST(ArxivSnapshot, FallsBackToTheAuthorsStringAndUpdateDate) {
  TempDir dir;
  auto path = dir.file(
      "snapshot.json",
      R"({"id":"0704.0031","submitter":"V. Biryukov","authors":"V. M. Biryukov (Serpukhov, IHEP) and A. Other, B. Third","title":"T","abstract":"A","versions":[],"update_date":"2009-02-05","categories":"physics.acc-ph"})"
      "\n");
  Collected got = import_all(path);
  ASSERT_EQ(got.papers.size(), 1u) << got.rejection_text();
  EXPECT_EQ(got.papers[0].authors,
            (std::vector<std::string>{"V. M. Biryukov", "A. Other", "B. Third"}));
  EXPECT_EQ(got.papers[0].updated, "2009-02-05");
  EXPECT_EQ(got.papers[0].published, "");
}

TEST(ArxivListing, TakesTheFeedDayFromTheFileName) {
  Collected got = import_all(fixture("arxiv-daily-cs/2025-03-19.jsonl"));
  ASSERT_TRUE(got.result.has_value()) << got.result.error().message;
  EXPECT_EQ(got.rejections.size(), 0u) << got.rejection_text();
  ASSERT_EQ(got.papers.size(), 50u);
  const Paper& first = got.papers.front();
  EXPECT_EQ(first.arxiv_id, "2503.13531");
  EXPECT_EQ(
      first.title,
      "Context-aware Multimodal AI Reveals Hidden Pathways in Five Centuries of Art Evolution");
  EXPECT_EQ(first.authors,
            (std::vector<std::string>{"Jin Kim", "Byunghwee Lee", "Taekho You", "Jinhyuk Yun"}));
  EXPECT_EQ(first.categories, (std::vector<std::string>{"cs.CV", "cs.AI", "cs.CY", "cs.LG"}));
  EXPECT_EQ(first.comments,
            "30 pages, 4 figures. Some example paintings are blurred to avoid potential copyright "
            "violations");
  EXPECT_TRUE(
      first.abstract.starts_with("The rise of multimodal generative AI is transforming the "
                                 "intersection of technology and art"));
  EXPECT_EQ(first.source, "arxiv-listing");
  for (const Paper& paper : got.papers) EXPECT_EQ(paper.feed_day, "2025-03-19");
}

TEST(ArxivListing, DefaultFeedDayOptionWins) {
  ImportOptions options;
  options.default_feed_day = "2025-03-20";
  Collected got = import_all(fixture("arxiv-daily-cs/2025-03-19.jsonl"), options);
  ASSERT_EQ(got.papers.size(), 50u);
  EXPECT_EQ(got.papers.front().feed_day, "2025-03-20");

  options.default_feed_day = "20 March";
  Collected bad = import_all(fixture("arxiv-daily-cs/2025-03-19.jsonl"), options);
  ASSERT_FALSE(bad.result.has_value());
  EXPECT_NE(bad.result.error().message.find("not YYYY-MM-DD"), std::string::npos);
}

TEST(HfDaily, ImportsAModernDay) {
  Collected got = import_all(fixture("hf-daily/2025-06-02.json"));
  ASSERT_TRUE(got.result.has_value()) << got.result.error().message;
  EXPECT_EQ(got.rejections.size(), 0u) << got.rejection_text();
  ASSERT_EQ(got.papers.size(), 20u);
  const Paper& first = got.papers.front();
  EXPECT_EQ(first.arxiv_id, "2505.24864");
  EXPECT_EQ(first.title,
            "ProRL: Prolonged Reinforcement Learning Expands Reasoning Boundaries in Large "
            "Language Models");
  EXPECT_EQ(first.authors.size(), 8u);
  EXPECT_EQ(first.authors.front(), "Mingjie Liu");
  EXPECT_EQ(first.published, "2025-05-30");
  EXPECT_EQ(first.submitted_at, "2025-06-02T03:18:21Z");
  EXPECT_EQ(first.feed_day, "2025-06-02");
  EXPECT_EQ(first.submitted_by, "shizhediao");
  EXPECT_EQ(first.upvotes, 35);
  EXPECT_EQ(first.num_comments, 1);
  EXPECT_EQ(first.ai_keywords.size(), 9u);
  EXPECT_TRUE(first.ai_summary.starts_with("Prolonged reinforcement learning training (ProRL)"));
  EXPECT_EQ(first.source, "hf-daily");

  const Paper* with_code = find(got, "2505.24863");
  ASSERT_NE(with_code, nullptr);
  EXPECT_EQ(with_code->code_url, "https://github.com/ASTRAL-Group/AlphaOne");
  EXPECT_EQ(with_code->project_url, "https://alphaone-project.github.io/");
  EXPECT_EQ(with_code->submitted_by, "RunpeiDong");
}

TEST(HfDaily, OlderDaysWithoutSubmissionTimeUseTheFileDate) {
  Collected got = import_all(fixture("hf-daily/2024-05-27.json"));
  ASSERT_TRUE(got.result.has_value()) << got.result.error().message;
  ASSERT_EQ(got.papers.size(), 13u) << got.rejection_text();
  EXPECT_EQ(got.papers[0].arxiv_id, "2405.15738");
  EXPECT_EQ(got.papers[0].published, "2024-05-24");
  EXPECT_EQ(got.papers[0].upvotes, 32);
  EXPECT_EQ(got.papers[0].num_comments, 3);
  EXPECT_EQ(got.papers[0].submitted_at, "");
  for (const Paper& paper : got.papers) EXPECT_EQ(paper.feed_day, "2024-05-27");

  // Without a date in the name, the entry's top-level publishedAt day is the feed day.
  TempDir dir;
  auto renamed = dir.file("day.json", testing::read_bytes(fixture("hf-daily/2024-05-27.json")));
  Collected undated = import_all(renamed);
  ASSERT_EQ(undated.papers.size(), 13u);
  EXPECT_EQ(undated.papers[0].feed_day, "2024-05-27");
}

TEST(HfDaily, RejectsEachPythonReprStringWithItsLine) {
  Collected got = import_all(fixture("hf-daily/2025-01-02.json"));
  ASSERT_TRUE(got.result.has_value()) << got.result.error().message;
  EXPECT_EQ(got.papers.size(), 0u);
  ASSERT_EQ(got.rejections.size(), 3u);
  for (size_t i = 0; i < 3; ++i) {
    EXPECT_EQ(got.rejections[i].line, i + 2);
    EXPECT_EQ(got.rejections[i].file, fixture("hf-daily/2025-01-02.json").string());
    EXPECT_NE(got.rejections[i].reason.find("string, not an object"), std::string::npos);
  }
}

TEST(HfDaily, ReadsTheDataWrapper) {
  Collected strings = import_all(fixture("hf-daily/2025-01-10.json"));
  ASSERT_TRUE(strings.result.has_value()) << strings.result.error().message;
  EXPECT_EQ(strings.papers.size(), 0u);
  EXPECT_EQ(strings.rejections.size(), 9u);

  TempDir dir;
  auto wrapped = dir.file("2025-06-02.json",
                          "{\"status\": \"success\", \"date\": \"2025-06-02\", \"count\": 20,\n"
                          "\"data\": " +
                              testing::read_bytes(fixture("hf-daily/2025-06-02.json")) + "}");
  Collected objects = import_all(wrapped);
  ASSERT_TRUE(objects.result.has_value()) << objects.result.error().message;
  EXPECT_EQ(objects.papers.size(), 20u) << objects.rejection_text();
}

bool same_paper(const Paper& a, const Paper& b) {
  return to_canonical_json(a) == to_canonical_json(b);
}

TEST(Canonical, RoundTripsEveryImportedPaper) {
  std::vector<Paper> originals;
  for (const char* name : {"arxiv-metadata-oai-snapshot.json", "hf-daily/2025-06-02.json",
                           "arxiv-daily-cs/2025-03-19.jsonl", "page.txt"}) {
    Collected got = import_all(fixture(name));
    ASSERT_TRUE(got.result.has_value()) << name;
    originals.insert(originals.end(), got.papers.begin(), got.papers.end());
  }
  std::string lines;
  for (const Paper& paper : originals) lines += to_canonical_json(paper) + "\n";
  TempDir dir;
  Collected back = import_all(dir.file("export.jsonl", lines));
  ASSERT_TRUE(back.result.has_value()) << back.result.error().message;
  EXPECT_EQ(back.rejections.size(), 0u) << back.rejection_text();
  ASSERT_EQ(back.papers.size(), originals.size());
  for (size_t i = 0; i < originals.size(); ++i) {
    ASSERT_TRUE(same_paper(originals[i], back.papers[i])) << to_canonical_json(originals[i]) << "\n"
                                                          << to_canonical_json(back.papers[i]);
  }
}

TEST(Canonical, WritesFieldsNamedAsInPaper) {
  Paper paper;
  paper.arxiv_id = "2312.00752";
  paper.version = 2;
  paper.title = "Mamba \"quoted\"";
  paper.authors = {"Albert Gu", "Tri Dao"};
  paper.feed_day = "2023-12-04";
  paper.upvotes = 12;
  paper.source = "hf-daily";
  EXPECT_EQ(
      to_canonical_json(paper),
      R"({"arxiv_id":"2312.00752","version":2,"title":"Mamba \"quoted\"","authors":["Albert Gu","Tri Dao"],"feed_day":"2023-12-04","upvotes":12,"source":"hf-daily"})");
}

TEST(Canonical, ReadsHandWrittenRecordsStrictly) {
  TempDir dir;
  auto path = dir.file(
      "papers.jsonl",
      R"({"arxiv_id":"arXiv:2312.00752v3","title":"Mamba","published":"2023-12-01","submitted_at":"2023-12-04T08:00:00+02:00"})"
      "\n"
      R"({"arxiv_id":"","title":"Untitled draft","author_count":3})"
      "\n"
      R"({"arxiv_id":"2312.00752","title":"Mamba","upvotes":"many"})"
      "\n"
      R"({"arxiv_id":"2312.00752","title":"Mamba","published":"2023-12-1"})"
      "\n"
      R"({"arxiv_id":"not an id","title":"Mamba"})"
      "\n");
  ImportOptions options;
  options.format = Format::canonical;
  Collected got = import_all(path, options);
  ASSERT_TRUE(got.result.has_value());
  ASSERT_EQ(got.papers.size(), 2u) << got.rejection_text();
  EXPECT_EQ(got.papers[0].arxiv_id, "2312.00752");
  EXPECT_EQ(got.papers[0].version, 3);
  EXPECT_EQ(got.papers[0].submitted_at, "2023-12-04T06:00:00Z");
  EXPECT_EQ(got.papers[0].source, "canonical");
  EXPECT_EQ(got.papers[1].author_count, 3);
  ASSERT_EQ(got.rejections.size(), 3u);
  EXPECT_EQ(got.rejections[0].line, 3u);
  EXPECT_NE(got.rejections[0].reason.find("\"upvotes\" has the wrong type"), std::string::npos);
  EXPECT_EQ(got.rejections[1].line, 4u);
  EXPECT_NE(got.rejections[1].reason.find("bad date in published"), std::string::npos);
  EXPECT_EQ(got.rejections[2].line, 5u);
  EXPECT_NE(got.rejections[2].reason.find("bad arXiv id"), std::string::npos);
}

TEST(Sink, AnErrorFromOnPaperStopsTheImport) {
  size_t seen = 0;
  Sink sink;
  sink.on_paper = [&](Paper&&) -> Result<void> {
    ++seen;
    return fail("store is full");
  };
  auto result = import_file(fixture("arxiv-metadata-oai-snapshot.json"), {}, sink);
  ASSERT_FALSE(result.has_value());
  EXPECT_EQ(result.error().message, "store is full");
  EXPECT_EQ(seen, 1u);
}

}  // namespace
}  // namespace paperboy::ingest
