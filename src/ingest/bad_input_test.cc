// Bad input in every format is rejected record by record with file:line: reason, while the rest
// of the file is still imported; file-level problems are Errors naming the file.
#include <gtest/gtest.h>
#include <simdjson.h>

#include "ingest/ingest.h"
#include "ingest/test_support.h"

namespace paperboy::ingest {
namespace {

using testing::Collected;
using testing::fixture;
using testing::import_all;
using testing::TempDir;

constexpr std::string_view kGoodSnapshotLine =
    R"({"id":"0704.0001","authors":"A. One","title":"Good","abstract":"A","categories":"hep-ph","versions":[{"version":"v1","created":"Mon, 2 Apr 2007 19:18:42 GMT"}],"update_date":"2008-11-26","authors_parsed":[["One","A.",""]]})";

std::string snapshot_with(std::string_view bad_line) {
  return std::string(kGoodSnapshotLine) + "\n" + std::string(bad_line) + "\n" +
         std::string(kGoodSnapshotLine) + "\n";
}

// Imports `content` and expects the two good records and one rejection on line 2 whose reason
// contains `reason`.
void expect_middle_line_rejected(const std::string& name, const std::string& content,
                                 const std::string& reason) {
  TempDir dir;
  auto path = dir.file(name, content);
  Collected got = import_all(path);
  ASSERT_TRUE(got.result.has_value()) << got.result.error().message;
  EXPECT_EQ(got.papers.size(), 2u) << got.rejection_text();
  ASSERT_EQ(got.rejections.size(), 1u) << got.rejection_text();
  EXPECT_EQ(got.rejections[0].file, path.string());
  EXPECT_EQ(got.rejections[0].line, 2u);
  EXPECT_NE(got.rejections[0].reason.find(reason), std::string::npos) << got.rejections[0].reason;
}

TEST(BadJsonLines, BrokenJson) {
  expect_middle_line_rejected("a.json", snapshot_with(R"({"id":"0704.0002","title":"Cut off)"),
                              "invalid JSON");
  // Broken inside a field the importer does not use: still the whole line is rejected.
  expect_middle_line_rejected(
      "b.json", snapshot_with(R"({"id":"0704.0002","title":"T","report-no":tru,"versions":[]})"),
      "invalid JSON");
  expect_middle_line_rejected("c.json", snapshot_with(R"({"id":"0704.0002","title":"T"} {"x":1})"),
                              "invalid JSON");
  expect_middle_line_rejected("d.json", snapshot_with(R"(["id","0704.0002"])"),
                              "not a JSON object");
}

TEST(BadJsonLines, MissingTitle) {
  expect_middle_line_rejected("a.json", snapshot_with(R"({"id":"0704.0002","abstract":"A"})"),
                              "missing title");
  expect_middle_line_rejected(
      "2025-03-19.jsonl",
      R"({"id":"2503.00001","pdf":"p","abs":"a","authors":["A"],"title":"One","categories":["cs.CV"],"comment":"","summary":"S"})"
      "\n"
      R"({"id":"2503.00002","pdf":"p","abs":"a","authors":["A"],"title":"  ","categories":["cs.CV"],"comment":"","summary":"S"})"
      "\n"
      R"({"id":"2503.00003","pdf":"p","abs":"a","authors":["A"],"title":"Three","categories":["cs.CV"],"comment":"","summary":"S"})"
      "\n",
      "missing title");
}

TEST(BadJsonLines, BadDateAndBadTypes) {
  expect_middle_line_rejected(
      "a.json",
      snapshot_with(
          R"({"id":"0704.0002","title":"T","versions":[{"version":"v1","created":"Mon, 31 Feb 2007 19:18:42 GMT"}]})"),
      "bad date in versions[0].created: \"Mon, 31 Feb 2007 19:18:42 GMT\"");
  expect_middle_line_rejected(
      "b.json", snapshot_with(R"({"id":"0704.0002","title":"T","update_date":"soon"})"),
      "bad date in update_date");
  expect_middle_line_rejected("c.json", snapshot_with(R"({"id":"0704.0002","title":["T"]})"),
                              "field \"title\" has the wrong type");
}

TEST(BadJsonLines, NonUtf8Bytes) {
  expect_middle_line_rejected(
      "a.json", snapshot_with("{\"id\":\"0704.0002\",\"title\":\"Caf\xE9\"}"), "not valid UTF-8");
}

TEST(BadJsonLines, FiftyMegabyteFieldIsSkippedWithoutStoppingTheFile) {
  const std::string huge = R"({"id":"0704.0002","title":")" + std::string(50u << 20, 'x') + "\"}";
  expect_middle_line_rejected("a.json", snapshot_with(huge),
                              "record of 52428829 bytes is over the limit of 8388608 bytes");
}

TEST(BadHfDaily, RejectsBadEntriesAndKeepsTheOthers) {
  TempDir dir;
  auto path = dir.file("2025-06-02.json", R"([
  {"paper": {"id": "2505.24864", "title": "Good", "summary": "S", "authors": [{"name": "A"}], "upvotes": 1}, "numComments": 0},
  {"paper": {"id": "2505.24865", "summary": "no title", "upvotes": 1}},
  {"paper": {"id": "2505.24866", "title": "Bad day", "submittedOnDailyAt": "2025-13-02T03:18:21Z"}},
  {"paper": {"id": "2505.24867", "title": "Bad votes", "upvotes": "many"}},
  "{'paper': {'id': '2505.24868'}}",
  {"paper": {"id": "2505.24869", "title": "Also good", "upvotes": 2}}
])");
  Collected got = import_all(path);
  ASSERT_TRUE(got.result.has_value()) << got.result.error().message;
  ASSERT_EQ(got.papers.size(), 2u) << got.rejection_text();
  EXPECT_EQ(got.papers[1].arxiv_id, "2505.24869");
  ASSERT_EQ(got.rejections.size(), 4u);
  EXPECT_EQ(got.rejection_text(),
            path.string() + ":3: missing title\n" + path.string() +
                ":4: bad timestamp in paper.submittedOnDailyAt: \"2025-13-02T03:18:21Z\"\n" +
                path.string() + ":5: field \"paper.upvotes\" has the wrong type (" +
                simdjson::error_message(simdjson::INCORRECT_TYPE) + ")\n" + path.string() +
                ":6: entry is a JSON string, not an object (this file holds Python repr() text of "
                "each record); skipped\n");
}

TEST(BadHfDaily, BrokenJsonIsAFileErrorWithALine) {
  TempDir dir;
  auto path = dir.file("2025-06-02.json",
                       "[\n  {\"paper\": {\"id\": \"2505.24864\", \"title\": \"A\"}},\n"
                       "  {\"paper\": {\"id\": \"2505.24865\", \"title\": }\n]");
  Collected got = import_all(path);
  ASSERT_FALSE(got.result.has_value());
  EXPECT_TRUE(got.result.error().message.starts_with(path.string() + ":"))
      << got.result.error().message;
  EXPECT_NE(got.result.error().message.find("JSON"), std::string::npos);
}

TEST(BadHfDaily, AFileOverTheSizeCapIsAFileError) {
  TempDir dir;
  std::string json = "[\n";
  const std::string entry = "  {\"paper\": {\"id\": \"2505.24864\", \"title\": \"" +
                            std::string(1u << 20, 't') + "\"}},\n";
  while (json.size() <= (size_t{64} << 20)) json += entry;
  json += "  {\"paper\": {\"id\": \"2505.24864\", \"title\": \"last\"}}\n]\n";
  auto path = dir.file("2025-06-02.json", json);
  Collected got = import_all(path);
  ASSERT_FALSE(got.result.has_value());
  EXPECT_EQ(got.result.error().message.find(path.string() + ": over 64 MiB"), 0u)
      << got.result.error().message;
  EXPECT_EQ(got.papers.size(), 0u);
}

std::string atom_with(std::string_view middle_entry) {
  auto entry = [](std::string_view id, std::string_view title) {
    return "  <entry>\n    <id>http://arxiv.org/abs/" + std::string(id) + "v1</id>\n    <title>" +
           std::string(title) +
           "</title>\n    <published>2023-12-01T18:01:34Z</published>\n  </entry>\n";
  };
  return "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<feed "
         "xmlns=\"http://www.w3.org/2005/Atom\">\n" +
         entry("2312.00001", "First") + std::string(middle_entry) + entry("2312.00003", "Third") +
         "</feed>\n";
}

void expect_atom_entry_rejected(std::string_view middle_entry, size_t line,
                                const std::string& reason) {
  TempDir dir;
  auto path = dir.file("feed.xml", atom_with(middle_entry));
  Collected got = import_all(path);
  ASSERT_TRUE(got.result.has_value()) << got.result.error().message;
  ASSERT_EQ(got.papers.size(), 2u) << got.rejection_text();
  EXPECT_EQ(got.papers[1].title, "Third");
  ASSERT_EQ(got.rejections.size(), 1u);
  EXPECT_EQ(got.rejections[0].line, line);
  EXPECT_NE(got.rejections[0].reason.find(reason), std::string::npos) << got.rejections[0].reason;
}

TEST(BadXml, InvalidElement) {
  expect_atom_entry_rejected(
      "  <entry>\n    <id>http://arxiv.org/abs/2312.00002v1</id>\n    <title>Broken</titel>\n  "
      "</entry>\n",
      10, "invalid XML in <entry>: Start-end tags mismatch");
}

TEST(BadXml, MissingTitleAndBadDate) {
  expect_atom_entry_rejected(
      "  <entry>\n    <id>http://arxiv.org/abs/2312.00002v1</id>\n  </entry>\n", 8,
      "missing title");
  expect_atom_entry_rejected(
      "  <entry>\n    <id>http://arxiv.org/abs/2312.00002v1</id>\n    <title>T</title>\n"
      "    <published>yesterday</published>\n  </entry>\n",
      8, "bad date in <published>: \"yesterday\"");
}

TEST(BadXml, NonUtf8Bytes) {
  expect_atom_entry_rejected(
      "  <entry>\n    <id>http://arxiv.org/abs/2312.00002v1</id>\n    <title>Caf\xE9</title>\n  "
      "</entry>\n",
      8, "not valid UTF-8");
}

TEST(BadXml, FiftyMegabyteSummaryIsSkipped) {
  expect_atom_entry_rejected(
      "  <entry>\n    <id>http://arxiv.org/abs/2312.00002v1</id>\n    <title>T</title>\n"
      "    <summary>" +
          std::string(50u << 20, 's') + "</summary>\n  </entry>\n",
      8, "<entry> record of 52428910 bytes is over the limit of 8388608 bytes");
}

TEST(BadXml, UnclosedLastRecord) {
  TempDir dir;
  std::string xml = atom_with("");
  xml.resize(xml.rfind("  <entry>"));
  xml += "  <entry>\n    <id>http://arxiv.org/abs/2312.00003v1</id>\n";
  Collected got = import_all(dir.file("feed.xml", xml));
  ASSERT_TRUE(got.result.has_value()) << got.result.error().message;
  EXPECT_EQ(got.papers.size(), 1u);
  ASSERT_EQ(got.rejections.size(), 1u);
  EXPECT_EQ(got.rejections[0].line, 8u);
  EXPECT_EQ(got.rejections[0].reason, "<entry> is not closed before the end of the file");
}

TEST(BadPageText, RejectsThePaperWithTheBadLineOnly) {
  TempDir dir;
  const std::string good =
      "Good title\n\nGood abstract.\n\n  \xE2\x80\xA2 3 authors\n\xC2\xB7\nJun 9, 2024\n\n";
  auto path = dir.file(
      "page.txt",
      "Daily Papers\n\nNov 6\n\n" + good +
          "Bad \xFF title\n\nAbstract.\n\n  \xE2\x80\xA2 2 authors\n\xC2\xB7\nJun 9, 2024\n\n" +
          "Bad date\n\nAbstract.\n\n  \xE2\x80\xA2 2 authors\n\xC2\xB7\nFeb 30, 2024 4\n\n" +
          "Huge\n\n" + std::string(9u << 20, 'h') +
          "\n\n  \xE2\x80\xA2 2 authors\n\xC2\xB7\nJun 9\n\n" + good);
  Collected got = import_all(path);
  ASSERT_TRUE(got.result.has_value()) << got.result.error().message;
  ASSERT_EQ(got.papers.size(), 2u) << got.rejection_text();
  EXPECT_EQ(got.papers[1].author_count, 3);
  ASSERT_EQ(got.rejections.size(), 3u) << got.rejection_text();
  EXPECT_EQ(got.rejections[0].line, 13u);
  EXPECT_EQ(got.rejections[0].reason, "not valid UTF-8");
  EXPECT_EQ(got.rejections[1].line, 21u);
  EXPECT_EQ(got.rejections[1].reason, "bad date \"Feb 30, 2024 4\"");
  EXPECT_EQ(got.rejections[2].line, 29u);
  EXPECT_NE(got.rejections[2].reason.find("line 31 of 9437184 bytes is over the limit"),
            std::string::npos);
}

TEST(BadFiles, TruncatedCompressedFilesAreFileErrorsAfterTheGoodRecords) {
  TempDir dir;
  const std::string snapshot = testing::read_bytes(fixture("arxiv-metadata-oai-snapshot.json"));
  for (const auto& [name, packed] : {std::pair{"cut.json.gz", testing::gzip(snapshot)},
                                     std::pair{"cut.json.zst", testing::zstd(snapshot)}}) {
    auto path = dir.file(name, std::string_view(packed).substr(0, packed.size() * 3 / 4));
    Collected got = import_all(path);
    ASSERT_FALSE(got.result.has_value()) << name;
    EXPECT_TRUE(got.result.error().message.starts_with(path.string() + ": truncated"))
        << got.result.error().message;
    EXPECT_GT(got.papers.size(), 50u) << name;
    EXPECT_LT(got.papers.size(), 200u) << name;
  }
}

TEST(BadFiles, CompressedFilesImportLikePlainOnes) {
  TempDir dir;
  const std::string snapshot = testing::read_bytes(fixture("arxiv-metadata-oai-snapshot.json"));
  for (const auto& [name, packed] : {std::pair{"s.json.gz", testing::gzip(snapshot)},
                                     std::pair{"s.json.zst", testing::zstd(snapshot)}}) {
    Collected got = import_all(dir.file(name, packed));
    ASSERT_TRUE(got.result.has_value()) << got.result.error().message;
    EXPECT_EQ(got.papers.size(), 200u) << name;
    EXPECT_EQ(got.progress.back(), snapshot.size()) << name;
  }
}

TEST(BadFiles, MissingAndUnreadableFiles) {
  TempDir dir;
  Collected missing = import_all(dir.path() / "nope.json");
  ASSERT_FALSE(missing.result.has_value());
  EXPECT_NE(missing.result.error().message.find("nope.json: cannot open"), std::string::npos);

  Collected directory = import_all(dir.path(), testing::with_format(Format::canonical));
  ASSERT_FALSE(directory.result.has_value());
  EXPECT_NE(directory.result.error().message.find("is a directory"), std::string::npos);
}

}  // namespace
}  // namespace paperboy::ingest
