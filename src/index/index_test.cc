#include "index/index.h"

#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>
#include <random>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "index/varint.h"

namespace paperboy::index {
namespace {

class TempDir {
 public:
  TempDir() {
    std::string pattern =
        (std::filesystem::temp_directory_path() / "paperboy-index-XXXXXX").string();
    path_ = ::mkdtemp(pattern.data());
  }
  ~TempDir() { std::filesystem::remove_all(path_); }
  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
};

IndexDocument make_doc(const std::string& id, const std::string& title, const std::string& abstract,
                       std::vector<std::string> authors = {"Ada Lovelace"}) {
  IndexDocument doc;
  doc.stored.paper_id = id;
  doc.stored.date = 19000;
  doc.stored.upvotes = 7;
  doc.stored.categories = {"cs.CL", "cs.LG"};
  doc.title = title;
  doc.abstract = abstract;
  doc.authors = std::move(authors);
  return doc;
}

// Every live doc id in the snapshot that has `term` in any field.
std::set<std::string> docs_with(const Snapshot& snapshot, std::string_view term) {
  std::set<std::string> ids;
  for (const SegmentView& view : snapshot.segments()) {
    auto ordinal = view.segment->find_term(term);
    if (!ordinal) continue;
    for (auto cursor = view.segment->cursor(*ordinal); cursor.doc() != kNoDoc; cursor.next())
      if (!view.is_deleted(cursor.doc())) ids.emplace(view.segment->paper_id(cursor.doc()));
  }
  return ids;
}

std::set<std::string> live_ids(const Snapshot& snapshot) {
  std::set<std::string> ids;
  for (const SegmentView& view : snapshot.segments())
    for (uint32_t doc = 0; doc < view.segment->doc_count(); ++doc)
      if (!view.is_deleted(doc)) ids.emplace(view.segment->paper_id(doc));
  return ids;
}

TEST(Index, RoundTripsPostingsPositionsAndStoredFields) {
  TempDir dir;
  auto writer = IndexWriter::open(dir.path());
  ASSERT_TRUE(writer) << writer.error().message;
  ASSERT_TRUE((*writer)->add(make_doc("2312.00752", "Mamba: Linear-Time Sequence Modeling",
                                      "Selective state space models scale linearly. State space.",
                                      {"Albert Gu", "Tri Dao"})));
  ASSERT_TRUE((*writer)->add(
      make_doc("1706.03762", "Attention Is All You Need", "The Transformer relies on attention.")));
  ASSERT_TRUE((*writer)->commit());

  auto snapshot = Snapshot::open(dir.path());
  ASSERT_TRUE(snapshot) << snapshot.error().message;
  ASSERT_EQ((*snapshot)->segments().size(), 1u);
  const Segment& segment = *(*snapshot)->segments()[0].segment;
  EXPECT_EQ(segment.doc_count(), 2u);
  StoredDoc stored = segment.stored(0);
  EXPECT_EQ(stored.paper_id, "2312.00752");
  EXPECT_EQ(stored.categories, (std::vector<std::string>{"cs.CL", "cs.LG"}));
  EXPECT_EQ(stored.upvotes, 7);
  EXPECT_EQ(stored.date, 19000);
  EXPECT_EQ(stored.field_length[kTitle], 5u);  // mamba linear time sequence modeling
  EXPECT_EQ(stored.field_length[kAuthors], 4u);

  auto ordinal = segment.find_term("state");
  ASSERT_TRUE(ordinal);
  PostingCursor cursor = segment.cursor(*ordinal);
  ASSERT_EQ(cursor.doc(), 0u);
  EXPECT_EQ(cursor.tf(kAbstract), 2u);
  EXPECT_EQ(cursor.tf(kTitle), 0u);
  EXPECT_EQ(cursor.positions(kAbstract), (std::vector<uint32_t>{1, 6}));
  cursor.next();
  EXPECT_EQ(cursor.doc(), kNoDoc);

  auto dao = segment.find_term("dao");
  ASSERT_TRUE(dao);
  PostingCursor author = segment.cursor(*dao);
  EXPECT_EQ(author.tf(kAuthors), 1u);
  EXPECT_EQ(author.positions(kAuthors), (std::vector<uint32_t>{13}));  // 2 + gap 10 + 1

  EXPECT_EQ(segment.find_paper("1706.03762"), 1u);
  EXPECT_FALSE(segment.find_paper("0000.00000"));
  EXPECT_FALSE(segment.find_term("zebra"));
}

std::string file_bytes(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

TEST(Index, ParallelAnalysisWritesTheSameSegmentFile) {
  // Enough documents for several analysis chunks; common words span every chunk, rare ones
  // only some, and words repeat within a document and across fields.
  std::mt19937 random(7);
  const std::vector<std::string> common = {"model",   "state-space", "learning", "GPT-4",
                                           "network", "Schrödinger", "the",      "data"};
  std::vector<IndexDocument> documents;
  for (int d = 0; d < 6'500; ++d) {
    std::string title = common[random() % common.size()] + " rare" + std::to_string(d % 997);
    std::string abstract;
    for (int w = 0; w < 8; ++w)
      abstract += common[random() % common.size()] + " w" + std::to_string(random() % 5000) + " ";
    documents.push_back(make_doc("p" + std::to_string(d), title, abstract,
                                 {"Author " + std::to_string(d % 13), "Ada Model"}));
  }
  TempDir dir;
  std::map<size_t, std::string> files;
  for (size_t threads : {1, 2, 5}) {
    auto path = dir.path() / ("threads-" + std::to_string(threads) + ".seg");
    auto segment = write_segment(path, documents, threads);
    ASSERT_TRUE(segment) << segment.error().message;
    files[threads] = file_bytes(path);
    if (threads != 1) continue;
    // The one-thread file holds every document of a common word, in order.
    auto ordinal = (*segment)->find_term("model");
    ASSERT_TRUE(ordinal);
    uint32_t count = 0;
    uint32_t previous = 0;
    for (auto cursor = (*segment)->cursor(*ordinal); cursor.doc() != kNoDoc; cursor.next()) {
      if (count > 0) {
        EXPECT_GT(cursor.doc(), previous);
      }
      previous = cursor.doc();
      ++count;
    }
    EXPECT_EQ(count, (*segment)->doc_count());  // every doc has "Ada Model" among its authors
  }
  EXPECT_FALSE(files[1].empty());
  EXPECT_TRUE(files[1] == files[2]);
  EXPECT_TRUE(files[1] == files[5]);
}
TEST(Index, SkipsAcrossManyBlocks) {
  TempDir dir;
  auto writer = IndexWriter::open(dir.path());
  ASSERT_TRUE(writer);
  for (int i = 0; i < 1000; ++i) {
    std::string abstract = "common words here";
    if (i % 3 == 0) abstract += " rare";
    for (int k = 0; k < i % 5; ++k) abstract += " common";
    ASSERT_TRUE((*writer)->add(make_doc("id" + std::to_string(i), "title", abstract)));
  }
  ASSERT_TRUE((*writer)->commit());
  auto snapshot = (*writer)->snapshot();
  const Segment& segment = *snapshot->segments()[0].segment;
  auto rare = segment.cursor(*segment.find_term("rare"));
  EXPECT_EQ(rare.doc_freq(), 334u);
  rare.advance(500);
  EXPECT_EQ(rare.doc(), 501u);
  rare.advance(998);
  EXPECT_EQ(rare.doc(), 999u);
  rare.advance(1000);
  EXPECT_EQ(rare.doc(), kNoDoc);

  auto common = segment.cursor(*segment.find_term("common"));
  EXPECT_EQ(common.shallow_advance(300), 383u);  // third block holds docs 256..383
  EXPECT_EQ(common.shallow_bound().max_tf[kAbstract], 5u);
  common.advance(301);
  EXPECT_EQ(common.doc(), 301u);
  EXPECT_EQ(common.tf(kAbstract), 1u + 301 % 5);
  EXPECT_EQ(common.positions(kAbstract).size(), 1u + 301 % 5);
}

// Postings with gaps from 1 to 2,000 (doc widths of 1 to 18 bits) and frequencies up to
// 70,000 (capped at 65,535 as the format stores them), read back through next() and through
// advance() to random targets.
TEST(Index, CursorReadsBitPackedBlocksAtEveryWidth) {
  TempDir dir;
  std::mt19937 random(7);
  PostingList postings;
  std::vector<StoredDoc> docs(600'000);
  const std::array<uint32_t, 4> gap_scales = {1, 16, 256, 2000};  // by block, in turn
  for (uint32_t doc = 0; doc < docs.size();) {
    postings.docs.push_back(doc);
    uint32_t title_tf = random() % 2;
    uint32_t abstract_tf = random() % 400 == 0 ? 70'000 : random() % 9;
    uint32_t authors_tf = random() % 4 == 0 ? 1 : 0;
    postings.tf.push_back({title_tf, abstract_tf, authors_tf});
    for (size_t f = 0; f < kFieldCount; ++f)
      for (uint32_t k = 0; k < postings.tf.back()[f]; ++k) postings.positions.push_back(k * 3);
    doc += 1 + random() % gap_scales[postings.docs.size() / kBlockSize % gap_scales.size()];
  }
  for (StoredDoc& doc : docs) doc.field_length = {10, 100'000, 3};
  auto path = dir.path() / "00000001.seg";
  auto writer = SegmentFileWriter::create(path, docs);
  ASSERT_TRUE(writer) << writer.error().message;
  ASSERT_TRUE(writer->add_term("term", postings));
  ASSERT_TRUE(writer->finish());
  auto segment = Segment::open(path);
  ASSERT_TRUE(segment) << segment.error().message;
  auto cursor = (*segment)->cursor(0);
  ASSERT_EQ(cursor.doc_freq(), postings.size());
  size_t position_index = 0;
  for (size_t i = 0; i < postings.size(); ++i, cursor.next()) {
    ASSERT_EQ(cursor.doc(), postings.docs[i]);
    for (size_t f = 0; f < kFieldCount; ++f) {
      uint32_t stored_tf = std::min<uint32_t>(postings.tf[i][f], UINT16_MAX);
      ASSERT_EQ(cursor.tf(f), stored_tf) << "posting " << i << " field " << f;
      std::vector<uint32_t> expected(postings.positions.begin() + position_index,
                                     postings.positions.begin() + position_index + stored_tf);
      ASSERT_EQ(cursor.positions(f), expected);
      position_index += postings.tf[i][f];
    }
  }
  EXPECT_EQ(cursor.doc(), kNoDoc);

  for (int round = 0; round < 20; ++round) {
    auto skipping = (*segment)->cursor(0);
    uint32_t target = 0;
    while (true) {
      target += random() % (round < 10 ? 50 : 1'000'000 / (round + 1));
      skipping.advance(target);
      auto expected = std::lower_bound(postings.docs.begin(), postings.docs.end(), target);
      if (expected == postings.docs.end()) {
        ASSERT_EQ(skipping.doc(), kNoDoc);
        break;
      }
      ASSERT_EQ(skipping.doc(), *expected) << "target " << target;
      ASSERT_EQ(skipping.tf(kTitle), postings.tf[expected - postings.docs.begin()][kTitle]);
      target = skipping.doc();
    }
  }
}

// skip_varints counts value ends eight bytes at a time: it must stop exactly where reading
// the values one by one does, for values of every byte length, and never pass `end`.
TEST(Varint, SkipStopsWhereReadingStops) {
  std::mt19937 random(3);
  std::vector<uint8_t> bytes;
  std::vector<const uint8_t*> starts;
  std::vector<uint32_t> values;
  for (int i = 0; i < 5000; ++i) {
    uint32_t bits = random() % 33;
    values.push_back(bits == 0 ? 0 : static_cast<uint32_t>(random() >> (32 - bits)));
  }
  for (uint32_t value : values) write_varint(bytes, value);
  const uint8_t* end = bytes.data() + bytes.size();
  for (const uint8_t* p = bytes.data(); p < end; read_varint(p, end)) starts.push_back(p);
  ASSERT_EQ(starts.size(), values.size());
  for (int round = 0; round < 2000; ++round) {
    size_t from = random() % values.size();
    size_t count = random() % (round % 2 == 0 ? 20 : 2000);
    const uint8_t* skipped = skip_varints(starts[from], end, count);
    if (from + count < values.size()) {
      ASSERT_EQ(skipped, starts[from + count]) << from << " + " << count;
      const uint8_t* p = skipped;
      ASSERT_EQ(read_varint(p, end), values[from + count]);
    } else {
      ASSERT_EQ(skipped, end) << from << " + " << count;
    }
  }
}

TEST(Index, OlderSegmentFormatAsksForARebuild) {
  TempDir dir;
  {
    auto writer = IndexWriter::open(dir.path());
    ASSERT_TRUE(writer);
    ASSERT_TRUE((*writer)->add(make_doc("a", "first", "")));
    ASSERT_TRUE((*writer)->commit());
  }
  auto current = Snapshot::needs_rebuild(dir.path());
  ASSERT_TRUE(current);
  EXPECT_FALSE(*current);
  std::filesystem::path segment_path;
  for (const auto& entry : std::filesystem::directory_iterator(dir.path()))
    if (entry.path().extension() == ".seg") segment_path = entry.path();
  // The version follows the 8-byte magic; 2 is the format before bit-packed blocks.
  FILE* segment = std::fopen(segment_path.c_str(), "r+b");
  ASSERT_NE(segment, nullptr);
  const uint32_t old_version = 2;
  std::fseek(segment, 8, SEEK_SET);
  std::fwrite(&old_version, sizeof(old_version), 1, segment);
  std::fclose(segment);
  auto opened = Snapshot::open(dir.path());
  ASSERT_FALSE(opened);
  EXPECT_NE(opened.error().message.find(segment_path.filename().string()), std::string::npos);
  EXPECT_NE(opened.error().message.find("paperboy index rebuild"), std::string::npos);
  auto needs_rebuild = Snapshot::needs_rebuild(dir.path());
  ASSERT_TRUE(needs_rebuild);
  EXPECT_TRUE(*needs_rebuild);
}

TEST(Index, UpdatesReplaceAndRemovesDelete) {
  TempDir dir;
  {
    auto writer = IndexWriter::open(dir.path());
    ASSERT_TRUE(writer);
    ASSERT_TRUE((*writer)->add(make_doc("a", "alpha version one", "")));
    ASSERT_TRUE((*writer)->add(make_doc("b", "beta", "")));
    ASSERT_TRUE((*writer)->add(make_doc("c", "gamma", "")));
    ASSERT_TRUE((*writer)->commit());
    ASSERT_TRUE((*writer)->add(make_doc("a", "alpha version two", "")));
    (*writer)->remove("b");
    ASSERT_TRUE((*writer)->add(make_doc("d", "delta", "")));
    (*writer)->remove("d");  // removed before it was ever committed
    ASSERT_TRUE((*writer)->commit());
  }
  auto snapshot = Snapshot::open(dir.path());
  ASSERT_TRUE(snapshot);
  EXPECT_EQ(live_ids(**snapshot), (std::set<std::string>{"a", "c"}));
  EXPECT_EQ(docs_with(**snapshot, "one"), std::set<std::string>{});
  EXPECT_EQ(docs_with(**snapshot, "two"), std::set<std::string>{"a"});
  EXPECT_EQ((*snapshot)->live_count(), 2u);
  auto location = (*snapshot)->find_paper("a");
  ASSERT_TRUE(location);
  EXPECT_EQ(location->segment, 1u);
  EXPECT_FALSE((*snapshot)->find_paper("b"));
}

TEST(Index, MergeKeepsLiveDocumentsOnly) {
  TempDir dir;
  auto writer = IndexWriter::open(dir.path(), WriterOptions{.max_buffered_docs = 50});
  ASSERT_TRUE(writer);
  for (int i = 0; i < 300; ++i)
    ASSERT_TRUE((*writer)->add(make_doc("p" + std::to_string(i), "paper " + std::to_string(i % 7),
                                        "shared text with number " + std::to_string(i))));
  ASSERT_TRUE((*writer)->commit());
  EXPECT_EQ((*writer)->snapshot()->segments().size(), 6u);
  for (int i = 0; i < 300; i += 2) (*writer)->remove("p" + std::to_string(i));
  ASSERT_TRUE((*writer)->commit());
  auto before = docs_with(*(*writer)->snapshot(), "3");
  ASSERT_TRUE((*writer)->merge());
  auto merged = (*writer)->snapshot();
  ASSERT_EQ(merged->segments().size(), 1u);
  EXPECT_EQ(merged->live_count(), 150u);
  EXPECT_EQ(docs_with(*merged, "3"), before);
  EXPECT_EQ(docs_with(*merged, "share").size(), 150u);
  // Positions survive the merge.
  const Segment& segment = *merged->segments()[0].segment;
  auto cursor = segment.cursor(*segment.find_term("number"));
  EXPECT_EQ(cursor.positions(kAbstract), (std::vector<uint32_t>{3}));
  // Only the merged segment's file is left.
  int segment_files = 0;
  for (const auto& entry : std::filesystem::directory_iterator(dir.path()))
    segment_files += entry.path().extension() == ".seg";
  EXPECT_EQ(segment_files, 1);

  auto reopened = Snapshot::open(dir.path());
  ASSERT_TRUE(reopened);
  EXPECT_EQ(live_ids(**reopened), live_ids(*merged));
}

// A committed index of `segment_sizes.size()` segments of those many documents ("s<segment>-<i>"),
// written with background merges off.
void write_segments(const std::filesystem::path& directory, const std::vector<int>& segment_sizes) {
  auto writer = IndexWriter::open(directory, WriterOptions{.merge_policy = {.background = false}});
  ASSERT_TRUE(writer) << writer.error().message;
  for (size_t s = 0; s < segment_sizes.size(); ++s) {
    for (int i = 0; i < segment_sizes[s]; ++i)
      ASSERT_TRUE((*writer)->add(make_doc("s" + std::to_string(s) + "-" + std::to_string(i),
                                          "segment " + std::to_string(s),
                                          "word" + std::to_string(i % 13) + " common")));
    ASSERT_TRUE((*writer)->commit());
  }
}

TEST(MergePolicy, MergesAdjacentSegmentsOfOneLevel) {
  const MergePolicy policy{.merge_factor = 3, .min_level_docs = 10};
  auto choose = [&](const std::vector<int>& sizes) {
    TempDir dir;
    write_segments(dir.path(), sizes);
    auto snapshot = Snapshot::open(dir.path());
    EXPECT_TRUE(snapshot);
    return choose_merge((*snapshot)->segments(), policy);
  };
  EXPECT_EQ(choose({5, 2}), std::nullopt);
  // Everything below min_level_docs is one level.
  EXPECT_EQ(choose({5, 2, 9}), (MergeRange{0, 3}));
  // A large segment stays out of the merge of the small ones after it.
  EXPECT_EQ(choose({200, 4, 4}), std::nullopt);
  EXPECT_EQ(choose({200, 4, 4, 4}), (MergeRange{1, 4}));
  EXPECT_EQ(choose({200, 90, 100, 4, 110}), (MergeRange{0, 3}));
}

TEST(MergePolicy, RewritesSegmentsWithManyDeletions) {
  TempDir dir;
  write_segments(dir.path(), {40, 40});
  auto writer = IndexWriter::open(dir.path(), WriterOptions{.merge_policy = {.background = false}});
  ASSERT_TRUE(writer);
  for (int i = 0; i < 10; ++i) (*writer)->remove("s1-" + std::to_string(i));
  ASSERT_TRUE((*writer)->commit());
  const MergePolicy policy{.merge_factor = 3, .min_level_docs = 10, .max_deleted_fraction = 0.3};
  EXPECT_EQ(choose_merge((*writer)->snapshot()->segments(), policy), std::nullopt);
  for (int i = 10; i < 13; ++i) (*writer)->remove("s1-" + std::to_string(i));
  ASSERT_TRUE((*writer)->commit());
  EXPECT_EQ(choose_merge((*writer)->snapshot()->segments(), policy), (MergeRange{1, 2}));
}

TEST(Index, ManySmallCommitsEndUpInFewSegments) {
  TempDir dir;
  const WriterOptions options{.merge_policy = {.merge_factor = 4, .min_level_docs = 10}};
  auto writer = IndexWriter::open(dir.path(), options);
  ASSERT_TRUE(writer);
  std::set<std::string> expected;
  for (int commit = 0; commit < 150; ++commit) {
    for (int i = 0; i < 5; ++i) {
      std::string id = "c" + std::to_string(commit) + "-" + std::to_string(i);
      ASSERT_TRUE((*writer)->add(make_doc(id, "commit " + std::to_string(commit), "text")));
      expected.insert(id);
    }
    // Every tenth commit replaces a paper of an earlier one and deletes another.
    if (commit % 10 == 9) {
      ASSERT_TRUE((*writer)->add(make_doc("c0-0", "replaced", "text")));
      std::string gone = "c" + std::to_string(commit - 5) + "-1";
      (*writer)->remove(gone);
      expected.erase(gone);
    }
    ASSERT_TRUE((*writer)->commit());
  }
  ASSERT_TRUE((*writer)->wait_for_merges());
  auto snapshot = (*writer)->snapshot();
  // 750 documents at factor 4 from level 10: at most 3 segments per level, 3 levels.
  EXPECT_LE(snapshot->segments().size(), 9u);
  EXPECT_EQ(live_ids(*snapshot), expected);
  EXPECT_EQ(docs_with(*snapshot, "replac"), std::set<std::string>{"c0-0"});
  EXPECT_EQ(docs_with(*snapshot, "149").size(), 5u);
  // What is on disk is exactly the last commit: merges went through the MANIFEST.
  auto reopened = Snapshot::open(dir.path());
  ASSERT_TRUE(reopened) << reopened.error().message;
  EXPECT_EQ((*reopened)->generation(), snapshot->generation());
  EXPECT_EQ(live_ids(**reopened), expected);
  std::set<std::string> files;
  for (const auto& entry : std::filesystem::directory_iterator(dir.path()))
    if (entry.path().extension() == ".seg") files.insert(entry.path().filename().string());
  std::set<std::string> referenced;
  for (const SegmentView& view : snapshot->segments()) referenced.insert(view.segment->name());
  EXPECT_EQ(files, referenced);
}

// Deletions and replacements committed while a background merge runs must survive it.
TEST(Index, ChangesCommittedDuringAMergeAreKept) {
  TempDir dir;
  write_segments(dir.path(), std::vector<int>(9, 400));
  const WriterOptions options{.merge_policy = {.merge_factor = 10, .min_level_docs = 100}};
  auto writer = IndexWriter::open(dir.path(), options);
  ASSERT_TRUE(writer);
  for (int i = 0; i < 400; ++i)
    ASSERT_TRUE((*writer)->add(make_doc("s9-" + std::to_string(i), "segment 9", "common")));
  ASSERT_TRUE((*writer)->commit());  // ten segments of one level: a merge starts
  for (int s = 0; s < 10; ++s) {
    (*writer)->remove("s" + std::to_string(s) + "-7");
    ASSERT_TRUE((*writer)->add(make_doc("s" + std::to_string(s) + "-8", "renamed", "common")));
    ASSERT_TRUE((*writer)->commit());
  }
  ASSERT_TRUE((*writer)->wait_for_merges());
  auto snapshot = (*writer)->snapshot();
  EXPECT_LT(snapshot->segments().size(), 10u);
  EXPECT_EQ(snapshot->live_count(), 3990u);
  for (int s = 0; s < 10; ++s) {
    EXPECT_FALSE(snapshot->find_paper("s" + std::to_string(s) + "-7")) << s;
    EXPECT_TRUE(docs_with(*snapshot, "renam").contains("s" + std::to_string(s) + "-8")) << s;
  }
  EXPECT_EQ(docs_with(*snapshot, "renam").size(), 10u);
  auto reopened = Snapshot::open(dir.path());
  ASSERT_TRUE(reopened);
  EXPECT_EQ(live_ids(**reopened), live_ids(*snapshot));
}

TEST(Index, ReadersKeepWorkingWhileBackgroundMergesReplaceTheirFiles) {
  TempDir dir;
  write_segments(dir.path(), std::vector<int>(12, 150));
  auto old_snapshot = Snapshot::open(dir.path());
  ASSERT_TRUE(old_snapshot);
  const auto expected_common = docs_with(**old_snapshot, "common");
  ASSERT_EQ(expected_common.size(), 1800u);
  std::atomic<bool> done = false;
  std::atomic<int> reads = 0;
  std::atomic<int> mismatches = 0;
  std::thread reader([&] {
    while (!done) {
      if (docs_with(**old_snapshot, "common") != expected_common) ++mismatches;
      ++reads;
    }
  });
  {
    auto writer = IndexWriter::open(
        dir.path(), WriterOptions{.merge_policy = {.merge_factor = 4, .min_level_docs = 100}});
    ASSERT_TRUE(writer);
    ASSERT_TRUE((*writer)->wait_for_merges());
    EXPECT_LT((*writer)->snapshot()->segments().size(), 12u);
  }
  done = true;
  reader.join();
  EXPECT_GT(reads, 0);
  EXPECT_EQ(mismatches, 0);
  // The old snapshot's files are gone from the directory, yet it still reads them.
  for (const SegmentView& view : (*old_snapshot)->segments())
    EXPECT_FALSE(std::filesystem::exists(dir.path() / view.segment->name()));
  EXPECT_EQ(docs_with(**old_snapshot, "common"), expected_common);
  EXPECT_EQ(live_ids(**old_snapshot), live_ids(**Snapshot::open(dir.path())));
}

TEST(Index, ReadersKeepTheirSnapshotWhileTheWriterMovesOn) {
  TempDir dir;
  auto writer = IndexWriter::open(dir.path());
  ASSERT_TRUE(writer);
  ASSERT_TRUE((*writer)->add(make_doc("a", "first", "")));
  ASSERT_TRUE((*writer)->commit());
  auto old_snapshot = Snapshot::open(dir.path());
  ASSERT_TRUE(old_snapshot);
  ASSERT_TRUE((*writer)->add(make_doc("b", "second", "")));
  (*writer)->remove("a");
  ASSERT_TRUE((*writer)->commit());
  ASSERT_TRUE((*writer)->merge());
  EXPECT_EQ(live_ids(**old_snapshot), std::set<std::string>{"a"});
  EXPECT_EQ(docs_with(**old_snapshot, "first"), std::set<std::string>{"a"});
  auto new_snapshot = Snapshot::open(dir.path());
  ASSERT_TRUE(new_snapshot);
  EXPECT_EQ(live_ids(**new_snapshot), std::set<std::string>{"b"});
}

TEST(Index, SecondWriterIsRefused) {
  TempDir dir;
  auto first = IndexWriter::open(dir.path());
  ASSERT_TRUE(first);
  auto second = IndexWriter::open(dir.path());
  ASSERT_FALSE(second);
  EXPECT_NE(second.error().message.find("already open for writing"), std::string::npos);
}

TEST(Index, DamagedFilesGiveClearErrors) {
  TempDir dir;
  {
    auto writer = IndexWriter::open(dir.path());
    ASSERT_TRUE(writer);
    ASSERT_TRUE((*writer)->add(make_doc("a", "first", "")));
    ASSERT_TRUE((*writer)->commit());
  }
  auto current = Snapshot::needs_rebuild(dir.path());
  ASSERT_TRUE(current);
  EXPECT_FALSE(*current);
  std::filesystem::path segment_path;
  for (const auto& entry : std::filesystem::directory_iterator(dir.path()))
    if (entry.path().extension() == ".seg") segment_path = entry.path();
  std::filesystem::resize_file(segment_path, std::filesystem::file_size(segment_path) - 3);
  auto truncated = Snapshot::open(dir.path());
  ASSERT_FALSE(truncated);
  EXPECT_NE(truncated.error().message.find(segment_path.filename().string()), std::string::npos);

  FILE* manifest = std::fopen((dir.path() / "MANIFEST").c_str(), "w");
  std::fputs("paperboy-index 1\nsegment ../etc/passwd -\n", manifest);
  std::fclose(manifest);
  auto escaped = Snapshot::open(dir.path());
  ASSERT_FALSE(escaped);
  EXPECT_NE(escaped.error().message.find("MANIFEST:2"), std::string::npos);
}

// A child indexes batches and commits, reporting each finished commit through a pipe; the
// parent kills it at a random moment. Reopening must show exactly the last reported commit,
// or the one being made when the kill came if its manifest rename had already happened.
TEST(Index, SurvivesBeingKilledAtAnyPoint) {
  std::mt19937 random(20240601);
  int commits_seen = 0;
  for (int round = 0; round < 6; ++round) {
    TempDir dir;
    int pipe_fds[2];
    ASSERT_EQ(::pipe(pipe_fds), 0);
    pid_t child = ::fork();
    ASSERT_GE(child, 0);
    if (child == 0) {
      ::close(pipe_fds[0]);
      auto writer = IndexWriter::open(dir.path(), WriterOptions{.max_buffered_docs = 40});
      if (!writer) ::_exit(2);
      for (int batch = 1;; ++batch) {
        for (int i = 0; i < 100; ++i) {
          int id = (batch * 37 + i * 11) % 400;
          if (!(*writer)->add(
                  make_doc("p" + std::to_string(id), "batch " + std::to_string(batch), "text")))
            ::_exit(3);
        }
        (*writer)->remove("p" + std::to_string(batch % 400));
        if (!(*writer)->commit()) ::_exit(4);
        if (batch % 4 == 0 && !(*writer)->merge()) ::_exit(5);
        if (::write(pipe_fds[1], &batch, sizeof(batch)) != sizeof(batch)) ::_exit(6);
      }
    }
    ::close(pipe_fds[1]);
    auto deadline = std::chrono::milliseconds(50 + random() % 400);
    std::this_thread::sleep_for(deadline);
    ::kill(child, SIGKILL);
    int status = 0;
    ::waitpid(child, &status, 0);
    ASSERT_TRUE(WIFSIGNALED(status)) << "child exited early with " << WEXITSTATUS(status);
    int last_reported = 0;
    int batch = 0;
    while (::read(pipe_fds[0], &batch, sizeof(batch)) == sizeof(batch)) last_reported = batch;
    ::close(pipe_fds[0]);
    commits_seen += last_reported;

    auto snapshot = Snapshot::open(dir.path());
    ASSERT_TRUE(snapshot) << snapshot.error().message;
    // Rebuild what each commit must contain and compare with what is on disk.
    auto expected_after = [](int batches) {
      std::map<std::string, int> latest;
      for (int b = 1; b <= batches; ++b) {
        for (int i = 0; i < 100; ++i) latest["p" + std::to_string((b * 37 + i * 11) % 400)] = b;
        latest.erase("p" + std::to_string(b % 400));
      }
      return latest;
    };
    std::map<std::string, int> on_disk;
    for (const SegmentView& view : (*snapshot)->segments())
      for (uint32_t doc = 0; doc < view.segment->doc_count(); ++doc)
        if (!view.is_deleted(doc)) on_disk[std::string(view.segment->paper_id(doc))] = 0;
    for (auto& [id, b] : on_disk)
      for (int candidate = 0; candidate <= last_reported + 1; ++candidate)
        if (docs_with(**snapshot, std::to_string(candidate)).contains(id)) b = candidate;
    bool matches_last = on_disk == expected_after(last_reported);
    bool matches_next = on_disk == expected_after(last_reported + 1);
    EXPECT_TRUE(matches_last || matches_next)
        << "round " << round << ": last reported commit " << last_reported << ", " << on_disk.size()
        << " docs on disk";
    // A writer can reopen the index and clears leftovers of the interrupted commit.
    auto writer = IndexWriter::open(dir.path());
    ASSERT_TRUE(writer) << writer.error().message;
    ASSERT_TRUE((*writer)->add(make_doc("after", "crash", "")));
    ASSERT_TRUE((*writer)->commit());
  }
  EXPECT_GT(commits_seen, 6) << "the child should have committed before most kills";
}

}  // namespace
}  // namespace paperboy::index
