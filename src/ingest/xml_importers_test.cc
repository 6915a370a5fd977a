// The XML importers: arXiv API Atom and OAI-PMH (arXiv, arXivRaw) on handwritten fixtures that
// follow the published formats, plus generated harvests larger than the reader's chunks.
#include <gtest/gtest.h>

#include "ingest/ingest.h"
#include "ingest/test_support.h"

namespace paperboy::ingest {
namespace {

using testing::Collected;
using testing::fixture;
using testing::import_all;
using testing::TempDir;

TEST(ArxivAtom, ImportsEveryEntry) {
  Collected got = import_all(fixture("arxiv-api-atom.xml"));
  ASSERT_TRUE(got.result.has_value()) << got.result.error().message;
  EXPECT_EQ(got.rejections.size(), 0u) << got.rejection_text();
  ASSERT_EQ(got.papers.size(), 3u);

  const Paper& mamba = got.papers[0];
  EXPECT_EQ(mamba.arxiv_id, "2312.00752");
  EXPECT_EQ(mamba.version, 2);
  EXPECT_EQ(mamba.title, "Mamba: Linear-Time Sequence Modeling with Selective State Spaces");
  EXPECT_TRUE(
      mamba.abstract.starts_with("Foundation models, now powering most of the exciting "
                                 "applications in deep learning, are"));
  EXPECT_EQ(mamba.authors, (std::vector<std::string>{"Albert Gu", "Tri Dao"}));
  EXPECT_EQ(mamba.categories, (std::vector<std::string>{"cs.LG", "cs.AI"}));
  EXPECT_EQ(mamba.published, "2023-12-01");
  EXPECT_EQ(mamba.updated, "2024-05-31");
  EXPECT_EQ(mamba.source, "arxiv-atom");

  // Namespaces declared on each element (the classic API style).
  const Paper& diphoton = got.papers[1];
  EXPECT_EQ(diphoton.arxiv_id, "0704.0001");
  EXPECT_EQ(
      diphoton.title,
      "Calculation of prompt diphoton production cross sections at Tevatron and LHC energies");
  EXPECT_EQ(diphoton.authors.front(), "C. Balázs");
  EXPECT_EQ(diphoton.doi, "10.1103/PhysRevD.76.013009");
  EXPECT_EQ(diphoton.journal_ref, "Phys.Rev.D76:013009,2007");
  EXPECT_EQ(diphoton.comments, "37 pages, 15 figures; published version");
  EXPECT_EQ(diphoton.categories, std::vector<std::string>{"hep-ph"});

  // Namespace declared once on <feed> (the current API style).
  const Paper& attention = got.papers[2];
  EXPECT_EQ(attention.arxiv_id, "1706.03762");
  EXPECT_EQ(attention.version, 7);
  EXPECT_EQ(attention.comments, "15 pages, 5 figures");
  EXPECT_EQ(attention.categories, (std::vector<std::string>{"cs.CL", "cs.LG"}));
}

TEST(ArxivAtom, ReportsAnApiErrorEntry) {
  TempDir dir;
  auto path = dir.file("error.xml", R"(<?xml version="1.0" encoding="UTF-8"?>
<feed xmlns="http://www.w3.org/2005/Atom">
  <title type="html">ArXiv Query: search_query=&amp;id_list=1234.12345&amp;start=0&amp;max_results=10</title>
  <entry>
    <id>http://arxiv.org/api/errors#incorrect_id_format_for_1234.12345</id>
    <title>Error</title>
    <summary>incorrect id format for 1234.12345</summary>
    <updated>2024-06-03T00:00:00-04:00</updated>
    <link href="http://arxiv.org/api/errors#incorrect_id_format_for_1234.12345" rel="alternate" type="text/html"/>
    <author>
      <name>arXiv api core</name>
    </author>
  </entry>
</feed>
)");
  Collected got = import_all(path);
  ASSERT_TRUE(got.result.has_value()) << got.result.error().message;
  EXPECT_EQ(got.papers.size(), 0u);
  ASSERT_EQ(got.rejections.size(), 1u);
  EXPECT_EQ(got.rejections[0].line, 4u);
  EXPECT_EQ(got.rejections[0].reason, "arXiv API error: incorrect id format for 1234.12345");
}

TEST(OaiPmh, ImportsArxivFormatAndSkipsDeletedRecords) {
  Collected got = import_all(fixture("oai-pmh-arxiv.xml"));
  ASSERT_TRUE(got.result.has_value()) << got.result.error().message;
  ASSERT_EQ(got.papers.size(), 2u) << got.rejection_text();

  const Paper& mamba = got.papers[0];
  EXPECT_EQ(mamba.arxiv_id, "2312.00752");
  EXPECT_EQ(mamba.authors, (std::vector<std::string>{"Albert Gu", "Tri Dao"}));
  EXPECT_EQ(mamba.categories, (std::vector<std::string>{"cs.LG", "cs.AI"}));
  EXPECT_EQ(mamba.published, "2023-12-01");
  EXPECT_EQ(mamba.updated, "2024-05-31");
  EXPECT_EQ(mamba.license, "http://creativecommons.org/licenses/by/4.0/");
  EXPECT_TRUE(mamba.abstract.starts_with("Foundation models, now powering"));
  EXPECT_EQ(mamba.source, "oai-pmh");

  const Paper& branes = got.papers[1];
  EXPECT_EQ(branes.arxiv_id, "hep-th/9901001");
  EXPECT_EQ(branes.authors, (std::vector<std::string>{"Curtis G. Callan Jr.", "Juan Maldacena"}));
  EXPECT_EQ(branes.published, "1999-01-04");
  EXPECT_EQ(branes.updated, "1999-01-04");
  EXPECT_EQ(branes.comments, "21 pages, 4 figures");
  EXPECT_EQ(branes.journal_ref, "Nucl.Phys. B513 (1998) 198-212");
  EXPECT_EQ(branes.doi, "10.1016/S0550-3213(97)00700-1");
  EXPECT_EQ(branes.abstract,
            "We study the dynamics of branes using the Born-Infeld action & find spikes that "
            "represent strings.");

  ASSERT_EQ(got.rejections.size(), 1u);
  EXPECT_EQ(got.rejections[0].line, 31u);
  EXPECT_NE(got.rejections[0].reason.find("deleted record oai:arXiv.org:2405.99999"),
            std::string::npos);
}

TEST(OaiPmh, ImportsArxivRawFormatWithVersions) {
  Collected got = import_all(fixture("oai-pmh-arxivraw.xml"));
  ASSERT_TRUE(got.result.has_value()) << got.result.error().message;
  EXPECT_EQ(got.rejections.size(), 0u) << got.rejection_text();
  ASSERT_EQ(got.papers.size(), 2u);

  const Paper& diphoton = got.papers[0];
  EXPECT_EQ(diphoton.arxiv_id, "0704.0001");
  EXPECT_EQ(diphoton.version, 2);
  EXPECT_EQ(diphoton.published, "2007-04-02");
  EXPECT_EQ(diphoton.updated, "2007-07-24");
  EXPECT_EQ(diphoton.authors, (std::vector<std::string>{"C. Bal\\'azs", "E. L. Berger",
                                                        "P. M. Nadolsky", "C.-P. Yuan"}));
  EXPECT_EQ(diphoton.doi, "10.1103/PhysRevD.76.013009");

  // Versions listed newest first still give v1's day as published.
  const Paper& sparsity = got.papers[1];
  EXPECT_EQ(sparsity.version, 2);
  EXPECT_EQ(sparsity.published, "2007-03-31");
  EXPECT_EQ(sparsity.updated, "2008-12-13");
  EXPECT_EQ(sparsity.authors, (std::vector<std::string>{"Ileana Streinu", "Louis Theran"}));
  EXPECT_EQ(sparsity.categories, (std::vector<std::string>{"math.CO", "cs.CG"}));
  EXPECT_EQ(sparsity.license, "http://arxiv.org/licenses/nonexclusive-distrib/1.0/");
}

TEST(OaiPmh, RejectsOtherMetadataFormats) {
  TempDir dir;
  auto path = dir.file("dc.xml", R"(<?xml version="1.0" encoding="UTF-8"?>
<OAI-PMH xmlns="http://www.openarchives.org/OAI/2.0/">
<ListRecords>
<record><header><identifier>oai:arXiv.org:0704.0001</identifier><datestamp>2008-11-13</datestamp></header>
<metadata><oai_dc:dc xmlns:oai_dc="http://www.openarchives.org/OAI/2.0/oai_dc/" xmlns:dc="http://purl.org/dc/elements/1.1/"><dc:title>Calculation</dc:title></oai_dc:dc></metadata>
</record>
</ListRecords>
</OAI-PMH>
)");
  Collected got = import_all(path);
  ASSERT_TRUE(got.result.has_value());
  ASSERT_EQ(got.rejections.size(), 1u);
  EXPECT_EQ(got.rejections[0].line, 4u);
  EXPECT_NE(got.rejections[0].reason.find("unsupported metadata <oai_dc:dc>"), std::string::npos);
}

// A harvest of thousands of records spans many read chunks: every record must survive the cuts.
TEST(OaiPmh, StreamsALargeCompressedHarvest) {
  std::string xml =
      "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
      "<OAI-PMH xmlns=\"http://www.openarchives.org/OAI/2.0/\">\n<!-- generated: <record> in a "
      "comment is not a record -->\n<ListRecords>\n";
  constexpr int kRecords = 3000;
  for (int i = 0; i < kRecords; ++i) {
    char id[16];
    std::snprintf(id, sizeof id, "2401.%05d", i);
    xml += std::string("<record><header><identifier>oai:arXiv.org:") + id +
           "</identifier><datestamp>2024-01-05</datestamp></header><metadata>\n"
           "<arXiv xmlns=\"http://arxiv.org/OAI/arXiv/\"><id>" +
           id +
           "</id><created>2024-01-02</created><authors><author><keyname>Doe</keyname>"
           "<forenames>Jane</forenames></author></authors><title>Paper number " +
           std::to_string(i) + "</title><categories>cs.LG</categories><abstract><![CDATA[We " +
           "study x < y & </record> in CDATA.]]> " + std::string(400, 'a') +
           "</abstract></arXiv>\n</metadata></record>\n";
  }
  xml +=
      "<resumptionToken cursor=\"0\" completeListSize=\"3000\">6960524|3001</resumptionToken>\n"
      "</ListRecords>\n</OAI-PMH>\n";
  TempDir dir;
  Collected got = import_all(dir.file("harvest.xml.zst", testing::zstd(xml)));
  ASSERT_TRUE(got.result.has_value()) << got.result.error().message;
  EXPECT_EQ(got.rejections.size(), 0u) << got.rejection_text();
  ASSERT_EQ(got.papers.size(), static_cast<size_t>(kRecords));
  EXPECT_EQ(got.papers[1234].arxiv_id, "2401.01234");
  EXPECT_EQ(got.papers[1234].title, "Paper number 1234");
  EXPECT_TRUE(got.papers[1234].abstract.starts_with("We study x < y & </record> in CDATA. aaa"));
  EXPECT_EQ(got.progress.back(), xml.size());
}

TEST(OaiPmh, ProtocolErrorsAreFileErrorsButNoRecordsMatchIsEmpty) {
  TempDir dir;
  auto response = [&](std::string_view code, std::string_view message) {
    return dir.file(std::string(code) + ".xml",
                    "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
                    "<OAI-PMH xmlns=\"http://www.openarchives.org/OAI/2.0/\">\n"
                    "<responseDate>2024-06-03T12:00:00Z</responseDate>\n"
                    "<request verb=\"ListRecords\">http://export.arxiv.org/oai2</request>\n"
                    "<error code=\"" +
                        std::string(code) + "\">" + std::string(message) +
                        "</error>\n</OAI-PMH>\n");
  };
  Collected empty = import_all(response("noRecordsMatch", "No records match"));
  ASSERT_TRUE(empty.result.has_value()) << empty.result.error().message;
  EXPECT_EQ(empty.papers.size(), 0u);

  auto bad_token = response("badResumptionToken", "Token 6960524|1001 expired");
  Collected failed = import_all(bad_token);
  ASSERT_FALSE(failed.result.has_value());
  EXPECT_EQ(
      failed.result.error().message,
      bad_token.string() + ":5: OAI-PMH error badResumptionToken: Token 6960524|1001 expired");
}

TEST(OaiPmh, AWrongRootElementIsAFileError) {
  Collected got = import_all(fixture("arxiv-api-atom.xml"), testing::with_format(Format::oai_pmh));
  ASSERT_FALSE(got.result.has_value());
  EXPECT_NE(got.result.error().message.find("root element is <feed>, not <OAI-PMH>"),
            std::string::npos);
}

TEST(ImportBuffer, ReadsAResponseBodyLikeTheFileAndNamesItInMessages) {
  const std::string body = testing::read_bytes(fixture("oai-pmh-arxiv.xml"));
  const Collected from_file = import_all(fixture("oai-pmh-arxiv.xml"));
  Collected from_memory;
  Sink sink;
  sink.on_paper = [&](Paper&& paper) -> Result<void> {
    from_memory.papers.push_back(std::move(paper));
    return {};
  };
  sink.on_rejection = [&](const Rejection& r) { from_memory.rejections.push_back(r); };
  const std::string url = "http://127.0.0.1:9/oai?verb=ListRecords";
  from_memory.result = import_buffer(body, url, {}, sink);
  ASSERT_TRUE(from_memory.result.has_value()) << from_memory.result.error().message;
  ASSERT_EQ(from_memory.papers.size(), from_file.papers.size());
  for (size_t i = 0; i < from_file.papers.size(); ++i) {
    EXPECT_EQ(from_memory.papers[i].arxiv_id, from_file.papers[i].arxiv_id);
    EXPECT_EQ(from_memory.papers[i].title, from_file.papers[i].title);
  }
  for (const Rejection& rejection : from_memory.rejections) {
    EXPECT_EQ(rejection.file, url);
  }

  const std::string cut = body.substr(0, body.size() / 2);
  auto truncated = import_buffer(cut, url, {}, sink);
  const bool reported = !truncated.has_value() || !from_memory.rejections.empty();
  EXPECT_TRUE(reported);

  auto empty = import_buffer("", url, {}, sink);
  ASSERT_FALSE(empty.has_value());
  EXPECT_NE(empty.error().message.find(url), std::string::npos) << empty.error().message;
}

}  // namespace
}  // namespace paperboy::ingest
