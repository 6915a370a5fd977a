// Byte input: decompression, line splitting, progress, format detection.
#include "ingest/input.h"

#include <gtest/gtest.h>

#include "ingest/test_support.h"

namespace paperboy::ingest {
namespace {

using testing::fixture;
using testing::TempDir;

std::string read_all(InputStream& input) {
  std::string out;
  char buffer[7919];  // an odd size, so reads never line up with internal chunks
  for (;;) {
    auto got = input.read(buffer, sizeof buffer);
    EXPECT_TRUE(got.has_value()) << got.error().message;
    if (!got || *got == 0) return out;
    out.append(buffer, *got);
  }
}

std::vector<std::string> all_lines(const std::filesystem::path& path, size_t max_line) {
  auto input = InputStream::open(path);
  EXPECT_TRUE(input.has_value());
  LineReader reader(*input, max_line);
  std::vector<std::string> lines;
  for (;;) {
    auto line = reader.next();
    EXPECT_TRUE(line.has_value());
    if (!line || !*line) return lines;
    const LineReader::Line& l = **line;
    std::string entry = std::to_string(l.number);
    if (l.too_long) {
      entry.append(" too long ").append(std::to_string(l.length));
    } else {
      entry.append(" ").append(l.text);
    }
    lines.push_back(std::move(entry));
  }
}

// Several MiB of varied text, so compressed streams span many chunks.
std::string sample_text() {
  std::string text;
  for (int i = 0; text.size() < (size_t{5} << 20); ++i) {
    text +=
        "line " + std::to_string(i) + " " + std::string(static_cast<size_t>(i % 97), 'x') + "\n";
  }
  return text;
}

TEST(InputStream, ReadsPlainGzipAndZstdIdentically) {
  TempDir dir;
  const std::string text = sample_text();
  for (const auto& [name, bytes] :
       {std::pair{"plain.txt", text}, std::pair{"packed.gz", testing::gzip(text)},
        std::pair{"packed.zst", testing::zstd(text)}}) {
    auto input = InputStream::open(dir.file(name, bytes));
    ASSERT_TRUE(input.has_value()) << input.error().message;
    std::vector<size_t> progress;
    input->set_progress([&](size_t bytes) { progress.push_back(bytes); });
    EXPECT_EQ(read_all(*input), text) << name;
    // About one report per MiB, and the last one is the total.
    ASSERT_GE(progress.size(), 5u) << name;
    EXPECT_LE(progress.size(), 7u) << name;
    EXPECT_EQ(progress.back(), text.size()) << name;
  }
}

TEST(InputStream, RecognisesCompressionByContentNotName) {
  TempDir dir;
  auto input = InputStream::open(dir.file("misnamed.json", testing::zstd("{\"a\": 1}\n")));
  ASSERT_TRUE(input.has_value());
  EXPECT_EQ(input->compression(), Compression::zstd);
  EXPECT_EQ(read_all(*input), "{\"a\": 1}\n");
}

TEST(InputStream, ReadsConcatenatedGzipMembers) {
  TempDir dir;
  auto input =
      InputStream::open(dir.file("two.gz", testing::gzip("first\n") + testing::gzip("second\n")));
  ASSERT_TRUE(input.has_value());
  EXPECT_EQ(read_all(*input), "first\nsecond\n");
}

TEST(InputStream, TruncatedCompressedDataIsAnErrorNamingTheFile) {
  TempDir dir;
  const std::string text = sample_text();
  for (const auto& [name, bytes, kind] : {std::tuple{"cut.gz", testing::gzip(text), "gzip"},
                                          std::tuple{"cut.zst", testing::zstd(text), "zstd"}}) {
    auto path = dir.file(name, std::string_view(bytes).substr(0, bytes.size() / 2));
    auto input = InputStream::open(path);
    ASSERT_TRUE(input.has_value());
    std::string out;
    char buffer[65536];
    Result<size_t> got = 0;
    do {
      got = input->read(buffer, sizeof buffer);
      if (got) out.append(buffer, *got);
    } while (got && *got > 0);
    ASSERT_FALSE(got.has_value()) << name;
    EXPECT_NE(got.error().message.find(path.string()), std::string::npos) << got.error().message;
    EXPECT_NE(got.error().message.find(std::string("truncated ") + kind), std::string::npos)
        << got.error().message;
    EXPECT_GT(out.size(), 0u);
    EXPECT_EQ(out, text.substr(0, out.size()));
  }
}

TEST(InputStream, MissingFileAndDirectoryAreErrors) {
  TempDir dir;
  auto missing = InputStream::open(dir.path() / "absent.json");
  ASSERT_FALSE(missing.has_value());
  EXPECT_NE(missing.error().message.find("absent.json: cannot open: No such file"),
            std::string::npos)
      << missing.error().message;
  auto directory = InputStream::open(dir.path());
  ASSERT_FALSE(directory.has_value());
  EXPECT_NE(directory.error().message.find("is a directory"), std::string::npos);
}

TEST(LineReader, SplitsLinesAndNumbersThem) {
  TempDir dir;
  auto path = dir.file("lines.txt", "one\r\ntwo\n\nlast without newline");
  EXPECT_EQ(all_lines(path, 100),
            (std::vector<std::string>{"1 one", "2 two", "3 ", "4 last without newline"}));
}

TEST(LineReader, SkipsOverlongLinesAndKeepsGoing) {
  TempDir dir;
  const std::string long_line(5000, 'y');
  auto path = dir.file("long.txt", "short\n" + long_line + "\nafter\n" + long_line);
  EXPECT_EQ(all_lines(path, 1000),
            (std::vector<std::string>{"1 short", "2 too long 5000", "3 after", "4 too long 5000"}));
}

TEST(LineReader, LinesLongerThanTheFirstBufferGrowItUpToTheLimit) {
  TempDir dir;
  const std::string long_line(3 << 20, 'z');
  auto path = dir.file("grow.txt", "a\n" + long_line + "\nb\n");
  auto lines = all_lines(path, 4 << 20);
  ASSERT_EQ(lines.size(), 3u);
  EXPECT_EQ(lines[1].size(), 2 + long_line.size());
  EXPECT_EQ(lines[2], "3 b");
}

TEST(DetectFormat, RecognisesEveryFixture) {
  const std::pair<const char*, Format> cases[] = {
      {"arxiv-metadata-oai-snapshot.json", Format::arxiv_snapshot},
      {"arxiv-api-atom.xml", Format::arxiv_atom},
      {"oai-pmh-arxiv.xml", Format::oai_pmh},
      {"oai-pmh-arxivraw.xml", Format::oai_pmh},
      {"hf-daily/2025-06-02.json", Format::hf_daily},
      {"hf-daily/2025-01-10.json", Format::hf_daily},
      {"hf-daily/2025-01-02.json", Format::hf_daily},
      {"page.txt", Format::page_text},
      {"arxiv-daily-cs/2025-03-19.jsonl", Format::arxiv_listing},
  };
  for (const auto& [name, format] : cases) {
    auto detected = detect_format(fixture(name));
    ASSERT_TRUE(detected.has_value()) << name << ": " << detected.error().message;
    EXPECT_EQ(*detected, format) << name;
  }
}

TEST(DetectFormat, SeesThroughCompressionAndRecognisesCanonical) {
  TempDir dir;
  auto snapshot = testing::read_bytes(fixture("arxiv-metadata-oai-snapshot.json"));
  EXPECT_EQ(detect_format(dir.file("s.json.gz", testing::gzip(snapshot))), Format::arxiv_snapshot);
  EXPECT_EQ(detect_format(dir.file("s.json.zst", testing::zstd(snapshot))), Format::arxiv_snapshot);
  EXPECT_EQ(
      detect_format(dir.file("c.jsonl", "{\"arxiv_id\":\"2312.00752\",\"title\":\"Mamba\"}\n")),
      Format::canonical);
}

TEST(DetectFormat, UnknownAndEmptyContentAreErrors) {
  TempDir dir;
  auto unknown = detect_format(dir.file("notes.txt", "just some notes\n"));
  ASSERT_FALSE(unknown.has_value());
  EXPECT_NE(unknown.error().message.find("unknown format"), std::string::npos);
  auto empty = detect_format(dir.file("empty.json", "\n\n"));
  ASSERT_FALSE(empty.has_value());
  EXPECT_NE(empty.error().message.find("empty"), std::string::npos);
  auto fields = detect_format(dir.file("other.jsonl", "{\"_id\": \"1\", \"text\": \"x\"}\n"));
  ASSERT_FALSE(fields.has_value());
  EXPECT_NE(fields.error().message.find("no known format"), std::string::npos);
}

TEST(FormatNames, RoundTrip) {
  for (Format format :
       {Format::arxiv_snapshot, Format::arxiv_atom, Format::oai_pmh, Format::hf_daily,
        Format::canonical, Format::page_text, Format::arxiv_listing}) {
    EXPECT_EQ(parse_format(format_name(format)), format);
  }
  EXPECT_EQ(parse_format("arxiv_snapshot"), Format::arxiv_snapshot);
  EXPECT_EQ(parse_format("hf-daily"), Format::hf_daily);
  EXPECT_EQ(parse_format("json"), std::nullopt);
}

}  // namespace
}  // namespace paperboy::ingest
