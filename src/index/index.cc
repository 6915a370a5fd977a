#include "index/index.h"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstring>
#include <fstream>
#include <functional>
#include <numeric>
#include <queue>
#include <sstream>

#include "core/date.h"
#include "text/analyzer.h"

namespace paperboy::index {

namespace {

constexpr std::string_view kManifest = "MANIFEST";
constexpr std::string_view kManifestTemp = "MANIFEST.tmp";
constexpr std::string_view kManifestHeader = "paperboy-index 1";
constexpr char kDeletionMagic[8] = {'P', 'B', 'D', 'E', 'L', 'E', 'T', 'E'};
// Author names are separate values of one field: a gap keeps phrases inside one name.
constexpr uint32_t kAuthorGap = 10;

std::string errno_text() { return std::strerror(errno); }

Result<void> fsync_path(const std::filesystem::path& path, bool directory) {
  int fd = ::open(path.c_str(), (directory ? O_RDONLY | O_DIRECTORY : O_RDONLY) | O_CLOEXEC);
  if (fd < 0) return fail(path.string() + ": cannot open for fsync: " + errno_text());
  int status = ::fsync(fd);
  ::close(fd);
  if (status != 0) return fail(path.string() + ": fsync failed: " + errno_text());
  return {};
}

Result<void> write_file_durably(const std::filesystem::path& path, const std::string& bytes) {
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return fail(path.string() + ": cannot create: " + errno_text());
  size_t done = 0;
  while (done < bytes.size()) {
    ssize_t n = ::write(fd, bytes.data() + done, bytes.size() - done);
    if (n < 0) {
      if (errno == EINTR) continue;
      std::string message = path.string() + ": write failed: " + errno_text();
      ::close(fd);
      return fail(message);
    }
    done += static_cast<size_t>(n);
  }
  if (::fsync(fd) != 0) {
    std::string message = path.string() + ": fsync failed: " + errno_text();
    ::close(fd);
    return fail(message);
  }
  if (::close(fd) != 0) return fail(path.string() + ": close failed: " + errno_text());
  return {};
}

Result<std::string> read_file(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return fail(path.string() + ": cannot open: " + errno_text());
  std::ostringstream content;
  content << in.rdbuf();
  return content.str();
}

int32_t days_of(const std::string& iso_date) {
  if (iso_date.empty()) return kUnknownDate;
  auto day = parse_date(iso_date);
  if (!day) return kUnknownDate;
  return static_cast<int32_t>(day->time_since_epoch().count());
}

// Below this many documents a segment is analysed on one thread: starting more costs more.
constexpr size_t kMinDocsPerChunk = 2'000;

// The term dictionary of a segment being built: each term's bytes stored once, found again
// through an open-addressing table of ids, so a token costs one hash and usually one compare
// (a map keyed by std::string cost a node and cache misses per lookup).
class TermDictionary {
 public:
  uint32_t intern(std::string_view term) {
    if ((hashes_.size() + 1) * 2 > slots_.size()) grow();
    size_t mask = slots_.size() - 1;
    uint64_t hash = std::hash<std::string_view>{}(term);
    for (size_t slot = hash & mask;; slot = (slot + 1) & mask) {
      uint32_t id = slots_[slot];
      if (id == kEmptySlot) {
        id = static_cast<uint32_t>(hashes_.size());
        bytes_.append(term);
        offsets_.push_back(bytes_.size());
        hashes_.push_back(hash);
        slots_[slot] = id;
        return id;
      }
      if (hashes_[id] == hash && this->term(id) == term) return id;
    }
  }
  std::string_view term(uint32_t id) const {
    return std::string_view(bytes_).substr(offsets_[id], offsets_[id + 1] - offsets_[id]);
  }
  uint32_t size() const { return static_cast<uint32_t>(hashes_.size()); }

 private:
  static constexpr uint32_t kEmptySlot = UINT32_MAX;
  void grow() {
    slots_.assign(std::max<size_t>(1024, slots_.size() * 2), kEmptySlot);
    size_t mask = slots_.size() - 1;
    for (uint32_t id = 0; id < hashes_.size(); ++id) {
      size_t slot = hashes_[id] & mask;
      while (slots_[slot] != kEmptySlot) slot = (slot + 1) & mask;
      slots_[slot] = id;
    }
  }
  std::string bytes_;
  std::vector<uint64_t> offsets_{0};
  std::vector<uint64_t> hashes_;
  std::vector<uint32_t> slots_;
};

// The postings of a run of consecutive documents, grouped by term (ids of the chunk's own
// dictionary) and in doc order within a term.
struct ChunkPostings {
  TermDictionary terms;
  std::vector<uint32_t> sorted_terms;    // ids in term byte order
  std::vector<uint64_t> term_start;      // per id, its first posting; one more at the end
  std::vector<uint64_t> position_start;  // per id, its first position; one more at the end
  std::vector<uint32_t> docs;
  std::vector<std::array<uint32_t, kFieldCount>> tf;
  std::vector<uint32_t> positions;  // per posting: title positions, then abstract, authors
};

// A token's place in the document's posting order: term, then field, then position.
uint64_t token_key(uint32_t term, size_t field, uint32_t position) {
  return uint64_t{term} << 34 | uint64_t{field} << 32 | position;
}

// Analyses documents [first, last) into `out` and fills their stored values.
void analyze_chunk(const std::vector<IndexDocument>& documents, size_t first, size_t last,
                   std::vector<StoredDoc>& stored, ChunkPostings& out) {
  // Postings in doc order first; grouped by term below with a counting sort.
  std::vector<uint32_t> posting_terms;
  std::vector<uint32_t> posting_docs;
  std::vector<std::array<uint32_t, kFieldCount>> posting_tf;
  std::vector<uint32_t> doc_positions;
  std::array<std::vector<text::Token>, kFieldCount> tokens;
  std::vector<uint64_t> keys;
  for (size_t doc = first; doc < last; ++doc) {
    const IndexDocument& document = documents[doc];
    for (auto& field_tokens : tokens) field_tokens.clear();
    text::analyze_into(document.title, 0, tokens[kTitle]);
    text::analyze_into(document.abstract, 0, tokens[kAbstract]);
    uint32_t next_position = 0;
    for (const std::string& author : document.authors)
      next_position = text::analyze_into(author, next_position, tokens[kAuthors]) + kAuthorGap;
    keys.clear();
    std::array<uint32_t, kFieldCount> length{};
    for (size_t f = 0; f < kFieldCount; ++f) {
      for (const text::Token& token : tokens[f]) {
        keys.push_back(token_key(out.terms.intern(token.term), f, token.position));
        if (!token.overlay) ++length[f];
      }
    }
    std::sort(keys.begin(), keys.end());
    for (size_t i = 0; i < keys.size();) {
      auto term = static_cast<uint32_t>(keys[i] >> 34);
      std::array<uint32_t, kFieldCount> tf{};
      for (; i < keys.size() && keys[i] >> 34 == term; ++i) {
        ++tf[keys[i] >> 32 & 3];
        doc_positions.push_back(static_cast<uint32_t>(keys[i]));
      }
      posting_terms.push_back(term);
      posting_docs.push_back(static_cast<uint32_t>(doc));
      posting_tf.push_back(tf);
    }
    stored[doc] = document.stored;
    stored[doc].field_length = length;
  }

  size_t term_count = out.terms.size();
  out.term_start.assign(term_count + 1, 0);
  out.position_start.assign(term_count + 1, 0);
  auto positions_of = [](const std::array<uint32_t, kFieldCount>& tf) {
    return uint64_t{tf[0]} + tf[1] + tf[2];
  };
  for (size_t p = 0; p < posting_terms.size(); ++p) {
    ++out.term_start[posting_terms[p] + 1];
    out.position_start[posting_terms[p] + 1] += positions_of(posting_tf[p]);
  }
  for (size_t id = 0; id < term_count; ++id) {
    out.term_start[id + 1] += out.term_start[id];
    out.position_start[id + 1] += out.position_start[id];
  }
  std::vector<uint64_t> next_posting(out.term_start.begin(), out.term_start.end() - 1);
  std::vector<uint64_t> next_position(out.position_start.begin(), out.position_start.end() - 1);
  out.docs.resize(posting_terms.size());
  out.tf.resize(posting_terms.size());
  out.positions.resize(doc_positions.size());
  size_t read_position = 0;
  for (size_t p = 0; p < posting_terms.size(); ++p) {
    uint32_t term = posting_terms[p];
    uint64_t target = next_posting[term]++;
    out.docs[target] = posting_docs[p];
    out.tf[target] = posting_tf[p];
    uint64_t count = positions_of(posting_tf[p]);
    std::copy_n(doc_positions.begin() + static_cast<ptrdiff_t>(read_position), count,
                out.positions.begin() + static_cast<ptrdiff_t>(next_position[term]));
    next_position[term] += count;
    read_position += count;
  }
  out.sorted_terms.resize(term_count);
  std::iota(out.sorted_terms.begin(), out.sorted_terms.end(), 0u);
  std::sort(out.sorted_terms.begin(), out.sorted_terms.end(),
            [&](uint32_t a, uint32_t b) { return out.terms.term(a) < out.terms.term(b); });
}

Result<std::vector<uint64_t>> read_deletions(const std::filesystem::path& path, uint32_t doc_count,
                                             uint32_t& deleted_count) {
  auto bytes = read_file(path);
  if (!bytes) return fail(bytes.error().message);
  size_t words = (doc_count + 63) / 64;
  if (bytes->size() != 16 + words * 8 || std::memcmp(bytes->data(), kDeletionMagic, 8) != 0)
    return fail(path.string() + ": not a deletion file for a segment of " +
                std::to_string(doc_count) + " documents");
  uint32_t stored_count = 0;
  std::memcpy(&stored_count, bytes->data() + 8, 4);
  std::memcpy(&deleted_count, bytes->data() + 12, 4);
  if (stored_count != doc_count) return fail(path.string() + ": document count does not match");
  std::vector<uint64_t> bitmap(words);
  std::memcpy(bitmap.data(), bytes->data() + 16, words * 8);
  return bitmap;
}

std::string encode_deletions(const SegmentView& view) {
  std::string bytes(kDeletionMagic, 8);
  uint32_t doc_count = view.segment->doc_count();
  bytes.append(reinterpret_cast<const char*>(&doc_count), 4);
  bytes.append(reinterpret_cast<const char*>(&view.deleted_count), 4);
  std::vector<uint64_t> bitmap = view.deleted;
  bitmap.resize((doc_count + 63) / 64, 0);
  bytes.append(reinterpret_cast<const char*>(bitmap.data()), bitmap.size() * 8);
  return bytes;
}

struct ParsedManifest {
  uint64_t generation = 0;
  uint64_t next_file_number = 1;
  struct Entry {
    std::string segment_file;
    std::string deletion_file;
  };
  std::vector<Entry> entries;
};

Result<ParsedManifest> parse_manifest(const std::filesystem::path& path, const std::string& text) {
  ParsedManifest manifest;
  std::istringstream lines(text);
  std::string line;
  int number = 0;
  auto error = [&](const std::string& what) {
    return fail(path.string() + ":" + std::to_string(number) + ": " + what);
  };
  while (std::getline(lines, line)) {
    ++number;
    if (number == 1) {
      if (line != kManifestHeader) return error("not a paperboy index manifest");
      continue;
    }
    std::istringstream fields(line);
    std::string key;
    fields >> key;
    if (key == "generation") {
      if (!(fields >> manifest.generation)) return error("bad generation");
    } else if (key == "next-file") {
      if (!(fields >> manifest.next_file_number)) return error("bad next-file");
    } else if (key == "segment") {
      ParsedManifest::Entry entry;
      if (!(fields >> entry.segment_file >> entry.deletion_file)) return error("bad segment line");
      if (entry.deletion_file == "-") entry.deletion_file.clear();
      for (const std::string* name : {&entry.segment_file, &entry.deletion_file})
        if (name->find('/') != std::string::npos || *name == "..")
          return error("file name '" + *name + "' leaves the index directory");
      manifest.entries.push_back(std::move(entry));
    } else if (!key.empty()) {
      return error("unknown entry '" + key + "'");
    }
  }
  if (number == 0) return fail(path.string() + ": empty manifest");
  return manifest;
}

}  // namespace

IndexDocument document_from_paper(const Paper& paper) {
  IndexDocument document;
  document.stored.paper_id = paper_id(paper);
  document.stored.date = days_of(paper.feed_day.empty() ? paper.published : paper.feed_day);
  document.stored.upvotes = paper.upvotes;
  document.stored.categories = paper.categories;
  document.title = paper.title;
  document.abstract = paper.abstract;
  document.authors = paper.authors;
  return document;
}

Result<std::shared_ptr<const Segment>> write_segment(const std::filesystem::path& path,
                                                     const std::vector<IndexDocument>& documents,
                                                     size_t threads) {
  std::vector<StoredDoc> stored(documents.size());
  // Analysis is most of the work: consecutive runs of documents are analysed in parallel, and
  // their postings are concatenated term by term in doc order, so the file is the same
  // whatever the number of threads.
  if (threads == 0) threads = std::max(1u, std::thread::hardware_concurrency());
  size_t chunk_count =
      std::clamp<size_t>(documents.size() / kMinDocsPerChunk, 1, std::max<size_t>(threads, 1));
  std::vector<ChunkPostings> chunks(chunk_count);
  auto chunk_first = [&](size_t chunk) { return documents.size() * chunk / chunk_count; };
  std::vector<std::thread> workers;
  for (size_t c = 1; c < chunk_count; ++c)
    workers.emplace_back([&, c] {
      analyze_chunk(documents, chunk_first(c), chunk_first(c + 1), stored, chunks[c]);
    });
  analyze_chunk(documents, 0, chunk_first(1), stored, chunks[0]);
  for (std::thread& worker : workers) worker.join();

  auto writer = SegmentFileWriter::create(path, stored);
  if (!writer) return fail(writer.error().message);
  stored.clear();
  stored.shrink_to_fit();
  // Merge the chunks' sorted term lists; a term's postings are its chunks' in chunk order.
  std::vector<size_t> rank(chunk_count, 0);
  auto current_term = [&](size_t c) {
    const ChunkPostings& chunk = chunks[c];
    return chunk.terms.term(chunk.sorted_terms[rank[c]]);
  };
  PostingList postings;
  while (true) {
    std::optional<std::string_view> smallest;
    for (size_t c = 0; c < chunk_count; ++c)
      if (rank[c] < chunks[c].sorted_terms.size() && (!smallest || current_term(c) < *smallest))
        smallest = current_term(c);
    if (!smallest) break;
    std::string_view term = *smallest;
    postings.clear();
    for (size_t c = 0; c < chunk_count; ++c) {
      if (rank[c] >= chunks[c].sorted_terms.size() || current_term(c) != term) continue;
      const ChunkPostings& chunk = chunks[c];
      uint32_t id = chunk.sorted_terms[rank[c]++];
      postings.docs.insert(postings.docs.end(), chunk.docs.begin() + chunk.term_start[id],
                           chunk.docs.begin() + chunk.term_start[id + 1]);
      postings.tf.insert(postings.tf.end(), chunk.tf.begin() + chunk.term_start[id],
                         chunk.tf.begin() + chunk.term_start[id + 1]);
      postings.positions.insert(postings.positions.end(),
                                chunk.positions.begin() + chunk.position_start[id],
                                chunk.positions.begin() + chunk.position_start[id + 1]);
    }
    // The term's bytes live in its chunk's dictionary, which outlives the call.
    if (auto added = writer->add_term(term, postings); !added) return fail(added.error().message);
  }
  if (auto finished = writer->finish(); !finished) return fail(finished.error().message);
  return Segment::open(path);
}

// ---------------------------------------------------------------------------------------------
// Snapshot

Result<bool> Snapshot::needs_rebuild(const std::filesystem::path& directory) {
  const std::filesystem::path manifest_path = directory / kManifest;
  std::error_code error;
  if (!std::filesystem::exists(manifest_path, error)) return false;
  auto text = read_file(manifest_path);
  if (!text) return std::unexpected(text.error());
  auto manifest = parse_manifest(manifest_path, *text);
  if (!manifest) return std::unexpected(manifest.error());
  for (const auto& entry : manifest->entries) {
    auto older = Segment::is_older_format(directory / entry.segment_file);
    if (!older) return older;
    if (*older) return true;
  }
  return false;
}

Result<std::shared_ptr<const Snapshot>> Snapshot::open(const std::filesystem::path& directory) {
  // The writer may remove files of an older commit between our reading the manifest and
  // opening them; the manifest then names a newer commit, so read it again.
  constexpr int kAttempts = 10;
  std::string last_error;
  for (int attempt = 0; attempt < kAttempts; ++attempt) {
    auto snapshot = std::make_shared<Snapshot>();
    std::filesystem::path manifest_path = directory / kManifest;
    std::error_code exists_error;
    if (!std::filesystem::exists(manifest_path, exists_error)) {
      if (!std::filesystem::is_directory(directory, exists_error))
        return fail(directory.string() + ": no index directory");
      return std::shared_ptr<const Snapshot>(snapshot);  // a fresh, empty index
    }
    auto text = read_file(manifest_path);
    if (!text) return fail(text.error().message);
    auto manifest = parse_manifest(manifest_path, *text);
    if (!manifest) return fail(manifest.error().message);
    snapshot->generation_ = manifest->generation;
    snapshot->next_file_number_ = manifest->next_file_number;
    bool retry = false;
    for (const auto& entry : manifest->entries) {
      SegmentView view;
      auto segment = Segment::open(directory / entry.segment_file);
      if (!segment) {
        last_error = segment.error().message;
        retry = !std::filesystem::exists(directory / entry.segment_file);
        if (!retry) return fail(last_error);
        break;
      }
      view.segment = *segment;
      if (!entry.deletion_file.empty()) {
        auto bitmap = read_deletions(directory / entry.deletion_file, view.segment->doc_count(),
                                     view.deleted_count);
        if (!bitmap) {
          last_error = bitmap.error().message;
          retry = !std::filesystem::exists(directory / entry.deletion_file);
          if (!retry) return fail(last_error);
          break;
        }
        view.deleted = std::move(*bitmap);
        view.deletion_file = entry.deletion_file;
      }
      snapshot->segments_.push_back(std::move(view));
    }
    if (!retry) return std::shared_ptr<const Snapshot>(snapshot);
  }
  return fail(last_error + " (the index kept changing while opening it)");
}

uint64_t Snapshot::doc_count() const {
  uint64_t count = 0;
  for (const SegmentView& view : segments_) count += view.segment->doc_count();
  return count;
}

uint64_t Snapshot::live_count() const {
  uint64_t count = 0;
  for (const SegmentView& view : segments_) count += view.live_count();
  return count;
}

double Snapshot::average_field_length(size_t field) const {
  uint64_t docs = doc_count();
  if (docs == 0) return 1.0;
  uint64_t sum = 0;
  for (const SegmentView& view : segments_) sum += view.segment->field_length_sum(field);
  return std::max(1.0, static_cast<double>(sum) / static_cast<double>(docs));
}

std::optional<Snapshot::Location> Snapshot::find_paper(std::string_view paper_id) const {
  for (size_t s = segments_.size(); s-- > 0;) {
    auto doc = segments_[s].segment->find_paper(paper_id);
    if (doc && !segments_[s].is_deleted(*doc)) return Location{s, *doc};
  }
  return std::nullopt;
}

// ---------------------------------------------------------------------------------------------
// Merges

std::optional<MergeRange> choose_merge(const std::vector<SegmentView>& segments,
                                       const MergePolicy& policy) {
  if (policy.merge_factor < 2) return std::nullopt;
  size_t count = segments.size();
  double log_factor = std::log(static_cast<double>(policy.merge_factor));
  auto min_docs = static_cast<double>(std::max<uint64_t>(policy.min_level_docs, 1));
  std::vector<double> levels;
  for (const SegmentView& view : segments)
    levels.push_back(std::log(std::max(static_cast<double>(view.live_count()), min_docs)) /
                     log_factor);
  double floor_level = std::log(min_docs) / log_factor;
  // As Lucene's LogMergePolicy: from the left, the segments down to 0.75 levels below the
  // largest remaining one form one level; merge its first merge_factor adjacent segments.
  for (size_t start = 0; start < count;) {
    double top = *std::max_element(levels.begin() + static_cast<ptrdiff_t>(start), levels.end());
    double bottom = top <= floor_level ? -1.0 : top - 0.75;
    size_t last = count - 1;
    while (last > start && levels[last] < bottom) --last;
    if (last + 1 - start >= policy.merge_factor)
      return MergeRange{start, start + policy.merge_factor};
    start = last + 1;
  }
  for (size_t s = 0; s < count; ++s) {
    const SegmentView& view = segments[s];
    if (view.deleted_count > policy.max_deleted_fraction * view.segment->doc_count())
      return MergeRange{s, s + 1};
  }
  return std::nullopt;
}

Result<std::shared_ptr<const Segment>> write_merged_segment(
    const std::filesystem::path& path, const std::vector<SegmentView>& sources,
    std::vector<std::vector<uint32_t>>& remap, const std::atomic<bool>& cancel) {
  // New doc ids follow segment order, so each term's postings stay in doc order when the
  // segments are visited in turn.
  std::vector<StoredDoc> docs;
  remap.assign(sources.size(), {});
  for (size_t s = 0; s < sources.size(); ++s) {
    const SegmentView& view = sources[s];
    remap[s].assign(view.segment->doc_count(), kNoDoc);
    for (uint32_t doc = 0; doc < view.segment->doc_count(); ++doc) {
      if (view.is_deleted(doc)) continue;
      remap[s][doc] = static_cast<uint32_t>(docs.size());
      docs.push_back(view.segment->stored(doc));
    }
  }
  if (docs.empty()) return std::shared_ptr<const Segment>();
  auto writer = SegmentFileWriter::create(path, docs);
  if (!writer) return fail(writer.error().message);

  // k-way merge of the sorted term tables.
  using Head = std::pair<std::string_view, size_t>;  // term, source
  std::priority_queue<Head, std::vector<Head>, std::greater<>> heads;
  std::vector<uint64_t> ordinal(sources.size(), 0);
  for (size_t s = 0; s < sources.size(); ++s)
    if (sources[s].segment->term_count() > 0) heads.emplace(sources[s].segment->term(0), s);
  PostingList postings;
  std::vector<size_t> term_sources;
  uint64_t terms_done = 0;
  while (!heads.empty()) {
    if (++terms_done % 4096 == 0 && cancel.load(std::memory_order_relaxed))
      return fail(path.string() + ": merge cancelled");
    std::string_view term = heads.top().first;
    term_sources.clear();
    while (!heads.empty() && heads.top().first == term) {
      term_sources.push_back(heads.top().second);
      heads.pop();
    }
    std::sort(term_sources.begin(), term_sources.end());
    postings.clear();
    for (size_t s : term_sources) {
      const Segment& segment = *sources[s].segment;
      for (PostingCursor cursor = segment.cursor(ordinal[s]); cursor.doc() != kNoDoc;
           cursor.next()) {
        uint32_t doc = remap[s][cursor.doc()];
        if (doc == kNoDoc) continue;
        postings.docs.push_back(doc);
        postings.tf.push_back({cursor.tf(0), cursor.tf(1), cursor.tf(2)});
        cursor.append_all_positions(postings.positions);
      }
    }
    // Terms are views into the mapped segments, which outlive this loop.
    if (auto added = writer->add_term(term, postings); !added) return fail(added.error().message);
    for (size_t s : term_sources)
      if (++ordinal[s] < sources[s].segment->term_count())
        heads.emplace(sources[s].segment->term(ordinal[s]), s);
  }
  if (auto finished = writer->finish(); !finished) return fail(finished.error().message);
  return Segment::open(path);
}

// ---------------------------------------------------------------------------------------------
// IndexWriter

Result<std::unique_ptr<IndexWriter>> IndexWriter::open(const std::filesystem::path& directory,
                                                       WriterOptions options) {
  std::error_code error;
  std::filesystem::create_directories(directory, error);
  if (error)
    return fail(directory.string() + ": cannot create index directory: " + error.message());
  std::unique_ptr<IndexWriter> writer(new IndexWriter());
  writer->directory_ = directory;
  writer->options_ = options;
  std::filesystem::path lock_path = directory / "LOCK";
  writer->lock_fd_ = ::open(lock_path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (writer->lock_fd_ < 0) return fail(lock_path.string() + ": cannot open: " + errno_text());
  if (::flock(writer->lock_fd_, LOCK_EX | LOCK_NB) != 0)
    return fail(directory.string() + ": the index is already open for writing by another process");
  auto snapshot = Snapshot::open(directory);
  if (!snapshot) return fail(snapshot.error().message);
  writer->committed_ = *snapshot;
  writer->next_file_number_ = (*snapshot)->next_file_number_;
  writer->working_ = (*snapshot)->segments();
  writer->working_dirty_.assign(writer->working_.size(), false);
  writer->remove_unreferenced_files();
  if (options.merge_policy.background) {
    writer->merge_thread_ = std::thread([raw = writer.get()] { raw->run_background_merges(); });
    // An index left with too many segments (by an older version, or a writer that stopped
    // before its merges finished) is tidied up too.
    writer->request_merge();
  }
  return writer;
}

IndexWriter::~IndexWriter() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  merge_state_changed_.notify_all();
  // A merge under way notices stopping_ and gives up; its file is removed at the next open.
  if (merge_thread_.joinable()) merge_thread_.join();
  if (lock_fd_ >= 0) ::close(lock_fd_);  // closing releases the flock
}

std::shared_ptr<const Snapshot> IndexWriter::snapshot() const {
  std::lock_guard lock(mutex_);
  return committed_;
}

std::string IndexWriter::next_file_name(std::string_view extension) {
  char name[32];
  std::snprintf(name, sizeof(name), "%08llu", static_cast<unsigned long long>(next_file_number_++));
  return std::string(name) + std::string(extension);
}

Result<void> IndexWriter::add(IndexDocument document) {
  if (document.stored.paper_id.empty()) return fail("index: document without paper_id");
  std::string id = document.stored.paper_id;
  removals_.erase(id);
  if (auto slot = buffer_slot_.find(id); slot != buffer_slot_.end()) {
    buffer_[slot->second] = std::move(document);
    return {};
  }
  buffer_slot_.emplace(id, buffer_.size());
  buffer_.push_back(std::move(document));
  if (buffer_.size() >= options_.max_buffered_docs) return flush_buffer();
  return {};
}

void IndexWriter::remove(std::string_view paper_id) {
  std::string id(paper_id);
  if (auto slot = buffer_slot_.find(id); slot != buffer_slot_.end()) {
    buffer_[slot->second].stored.paper_id.clear();  // a hole, skipped when flushing
    buffer_slot_.erase(slot);
  }
  removals_.insert(std::move(id));
}

void IndexWriter::delete_everywhere(const std::string& paper_id) {
  for (size_t s = 0; s < working_.size(); ++s) {
    SegmentView& view = working_[s];
    auto doc = view.segment->find_paper(paper_id);
    if (!doc || view.is_deleted(*doc)) continue;
    if (view.deleted.empty()) view.deleted.assign((view.segment->doc_count() + 63) / 64, 0);
    view.deleted[*doc >> 6] |= uint64_t{1} << (*doc & 63);
    ++view.deleted_count;
    working_dirty_[s] = true;
  }
}

Result<void> IndexWriter::flush_buffer() {
  std::vector<IndexDocument> documents;
  documents.reserve(buffer_.size());
  std::string name;
  {
    std::lock_guard lock(mutex_);
    for (const std::string& id : removals_) delete_everywhere(id);
    for (IndexDocument& document : buffer_) {
      if (document.stored.paper_id.empty()) continue;
      delete_everywhere(document.stored.paper_id);
      documents.push_back(std::move(document));
    }
    buffer_.clear();
    buffer_slot_.clear();
    removals_.clear();
    if (documents.empty()) return {};
    name = next_file_name(".seg");
    files_in_progress_.insert(name);
  }
  // Written without the lock, so that a background merge can commit meanwhile.
  auto segment = write_segment(directory_ / name, documents, options_.analysis_threads);
  std::lock_guard lock(mutex_);
  files_in_progress_.erase(name);
  if (!segment) return fail(segment.error().message);
  SegmentView view;
  view.segment = *segment;
  working_.push_back(std::move(view));
  working_dirty_.push_back(false);
  return {};
}

Result<void> IndexWriter::commit() {
  if (auto flushed = flush_buffer(); !flushed) return flushed;
  {
    std::lock_guard lock(mutex_);
    std::vector<SegmentView> segments;
    for (size_t s = 0; s < working_.size(); ++s) {
      SegmentView view = working_[s];
      if (view.live_count() == 0) continue;  // fully deleted: drop the segment
      if (working_dirty_[s]) {
        view.deletion_file = next_file_name(".del");
        if (auto written =
                write_file_durably(directory_ / view.deletion_file, encode_deletions(view));
            !written)
          return written;
      }
      segments.push_back(std::move(view));
    }
    if (auto written = write_commit(std::move(segments)); !written) return written;
    working_ = committed_->segments();
    working_dirty_.assign(working_.size(), false);
    remove_unreferenced_files();
  }
  request_merge();
  return {};
}

Result<void> IndexWriter::write_commit(std::vector<SegmentView> segments) {
  auto snapshot = std::make_shared<Snapshot>();
  snapshot->generation_ = committed_->generation() + 1;
  snapshot->next_file_number_ = next_file_number_;
  std::string manifest(kManifestHeader);
  manifest += "\ngeneration " + std::to_string(snapshot->generation_) + "\nnext-file " +
              std::to_string(next_file_number_) + "\n";
  for (const SegmentView& view : segments)
    manifest += "segment " + view.segment->name() + " " +
                (view.deletion_file.empty() ? std::string("-") : view.deletion_file) + "\n";
  // Segment files were fsync'd when written; the directory entries of new files are made
  // durable by the directory fsync before the rename becomes visible.
  if (auto synced = fsync_path(directory_, true); !synced) return synced;
  if (auto written = write_file_durably(directory_ / kManifestTemp, manifest); !written)
    return written;
  std::error_code error;
  std::filesystem::rename(directory_ / kManifestTemp, directory_ / kManifest, error);
  if (error)
    return fail((directory_ / kManifest).string() + ": cannot replace: " + error.message());
  if (auto synced = fsync_path(directory_, true); !synced) return synced;
  snapshot->segments_ = std::move(segments);
  committed_ = snapshot;
  return {};
}

void IndexWriter::request_merge() {
  if (!options_.merge_policy.background) return;
  {
    std::lock_guard lock(mutex_);
    merge_requested_ = true;
  }
  merge_state_changed_.notify_all();
}

void IndexWriter::run_background_merges() {
  std::unique_lock lock(mutex_);
  while (true) {
    merge_state_changed_.wait(lock, [&] { return stopping_ || (merge_requested_ && !merging_); });
    if (stopping_) return;
    auto range = choose_merge(committed_->segments(), options_.merge_policy);
    if (range) {
      merging_ = true;
      auto merged = merge_range(lock, *range);
      merging_ = false;
      if (!merged && !stopping_) {
        if (!merge_error_) merge_error_ = merged.error();
        merge_requested_ = false;  // retried at the next commit, not in a loop
      }
    } else {
      merge_requested_ = false;
    }
    merge_state_changed_.notify_all();
  }
}

Result<void> IndexWriter::wait_for_merges() {
  std::unique_lock lock(mutex_);
  merge_state_changed_.wait(lock, [&] { return stopping_ || (!merge_requested_ && !merging_); });
  if (!merge_error_) return {};
  Error error = std::move(*merge_error_);
  merge_error_.reset();
  return std::unexpected(std::move(error));
}

Result<void> IndexWriter::merge() {
  if (auto committed = commit(); !committed) return committed;
  std::unique_lock lock(mutex_);
  merge_state_changed_.wait(lock, [&] { return !merging_; });
  const std::vector<SegmentView>& segments = committed_->segments();
  if (segments.size() <= 1 && (segments.empty() || segments[0].deleted_count == 0)) return {};
  merging_ = true;
  auto merged = merge_range(lock, MergeRange{0, segments.size()});
  merging_ = false;
  lock.unlock();
  merge_state_changed_.notify_all();
  return merged;
}

// Called with the lock held and merging_ set; writes the merged file without the lock.
Result<void> IndexWriter::merge_range(std::unique_lock<std::mutex>& lock, MergeRange range) {
  const std::vector<SegmentView>& committed = committed_->segments();
  std::vector<SegmentView> sources(committed.begin() + static_cast<ptrdiff_t>(range.first),
                                   committed.begin() + static_cast<ptrdiff_t>(range.last));
  std::string name = next_file_name(".seg");
  files_in_progress_.insert(name);
  lock.unlock();
  std::vector<std::vector<uint32_t>> remap;
  auto merged = write_merged_segment(directory_ / name, sources, remap, stopping_);
  lock.lock();
  files_in_progress_.erase(name);
  if (!merged) {
    std::error_code error;
    std::filesystem::remove(directory_ / name, error);
    return fail(merged.error().message);
  }
  return install_merge(sources, *merged, remap);
}

// Replaces the merged segments by the result, in the committed and in the working state. What
// was deleted from them while the merge ran is deleted in the result too.
Result<void> IndexWriter::install_merge(const std::vector<SegmentView>& sources,
                                        std::shared_ptr<const Segment> merged,
                                        const std::vector<std::vector<uint32_t>>& remap) {
  auto locate = [&](const std::vector<SegmentView>& list) -> std::optional<size_t> {
    for (size_t i = 0; i + sources.size() <= list.size(); ++i) {
      if (list[i].segment != sources[0].segment) continue;
      for (size_t k = 1; k < sources.size(); ++k)
        if (list[i + k].segment != sources[k].segment) return std::nullopt;
      return i;
    }
    return std::nullopt;
  };
  auto in_committed = locate(committed_->segments());
  auto in_working = locate(working_);
  if (!in_committed || !in_working) {
    // A commit dropped a fully deleted source meanwhile; the merge has nothing left to replace.
    remove_unreferenced_files();
    return {};
  }
  auto carry_deletions = [&](const std::vector<SegmentView>& list, size_t first) {
    SegmentView view;
    view.segment = merged;
    if (!merged) return view;
    for (size_t s = 0; s < sources.size(); ++s) {
      const SegmentView& now = list[first + s];
      if (now.deleted_count == 0) continue;
      for (uint32_t doc = 0; doc < now.segment->doc_count(); ++doc) {
        uint32_t target = remap[s][doc];
        if (target == kNoDoc || !now.is_deleted(doc)) continue;
        if (view.deleted.empty()) view.deleted.assign((merged->doc_count() + 63) / 64, 0);
        view.deleted[target >> 6] |= uint64_t{1} << (target & 63);
        ++view.deleted_count;
      }
    }
    return view;
  };
  SegmentView committed_view = carry_deletions(committed_->segments(), *in_committed);
  SegmentView working_view = carry_deletions(working_, *in_working);
  bool keep = merged && committed_view.live_count() > 0;
  if (keep && committed_view.deleted_count > 0) {
    committed_view.deletion_file = next_file_name(".del");
    if (auto written = write_file_durably(directory_ / committed_view.deletion_file,
                                          encode_deletions(committed_view));
        !written)
      return written;
  }
  std::vector<SegmentView> segments = committed_->segments();
  auto first = segments.begin() + static_cast<ptrdiff_t>(*in_committed);
  first = segments.erase(first, first + static_cast<ptrdiff_t>(sources.size()));
  if (keep) segments.insert(first, committed_view);
  if (auto written = write_commit(std::move(segments)); !written) return written;

  auto working_first = static_cast<ptrdiff_t>(*in_working);
  working_.erase(working_.begin() + working_first,
                 working_.begin() + working_first + static_cast<ptrdiff_t>(sources.size()));
  working_dirty_.erase(
      working_dirty_.begin() + working_first,
      working_dirty_.begin() + working_first + static_cast<ptrdiff_t>(sources.size()));
  if (keep) {
    working_view.deletion_file = committed_view.deletion_file;
    bool dirty = working_view.deleted_count != committed_view.deleted_count;
    working_.insert(working_.begin() + working_first, std::move(working_view));
    working_dirty_.insert(working_dirty_.begin() + working_first, dirty);
  }
  remove_unreferenced_files();
  return {};
}

void IndexWriter::remove_unreferenced_files() const {
  std::set<std::string> referenced = files_in_progress_;
  for (const auto* list : {&committed_->segments(), &working_}) {
    for (const SegmentView& view : *list) {
      referenced.insert(view.segment->name());
      if (!view.deletion_file.empty()) referenced.insert(view.deletion_file);
    }
  }
  std::error_code error;
  for (const auto& entry : std::filesystem::directory_iterator(directory_, error)) {
    std::string name = entry.path().filename().string();
    bool ours = entry.path().extension() == ".seg" || entry.path().extension() == ".del" ||
                name == kManifestTemp;
    if (ours && !referenced.contains(name)) std::filesystem::remove(entry.path(), error);
  }
}

}  // namespace paperboy::index
