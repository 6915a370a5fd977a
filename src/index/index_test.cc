#include "index/index.h"

#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <map>
#include <random>
#include <set>
#include <string>
#include <thread>
#include <vector>

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
