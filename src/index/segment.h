// One immutable index segment: a single file written once, fsync'd, then only mmap'd for
// reading. The layout is in docs/search.md; all integers are little-endian.
#pragma once

#include <algorithm>
#include <array>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.h"
#include "index/bitpack.h"

namespace paperboy::index {

// The fields scored by BM25F. Positions restart at 0 in every field.
enum Field : uint8_t { kTitle = 0, kAbstract = 1, kAuthors = 2 };
inline constexpr size_t kFieldCount = 3;
inline constexpr uint32_t kBlockSize = 128;
inline constexpr uint32_t kNoDoc = UINT32_MAX;
inline constexpr int32_t kUnknownDate = INT32_MIN;

// The stored per-document values used by filters, facets and sorting.
struct StoredDoc {
  std::string paper_id;
  int32_t date = kUnknownDate;  // feed day, else first publication, in days since 1970-01-01
  int64_t upvotes = 0;
  std::vector<std::string> categories;               // primary first
  std::array<uint32_t, kFieldCount> field_length{};  // indexed words per field
};

// One term's postings in doc order, stored flat so that building an index does not allocate
// per posting.
struct PostingList {
  std::vector<uint32_t> docs;
  std::vector<std::array<uint32_t, kFieldCount>> tf;
  std::vector<uint32_t> positions;  // per doc: title positions, then abstract, then authors

  size_t size() const { return docs.size(); }
  void clear() {
    docs.clear();
    tf.clear();
    positions.clear();
  }
};

// BM25F field weights and length normalisation under which every block's best weighted term
// frequency is precomputed (BlockBound::max_reference_weight). Search scales that figure to
// its own settings and collection statistics, so these only need to be close, not equal.
inline constexpr std::array<double, kFieldCount> kReferenceWeight = {2.0, 1.0, 1.0};
inline constexpr std::array<double, kFieldCount> kReferenceB = {0.4, 0.75, 0.5};

// BM25 length normalisation of one field, shared by indexing and search.
inline double length_norm(double b, double length, double average_length) {
  double norm = 1.0 - b + b * length / average_length;
  return norm > 0.05 ? norm : 0.05;
}

// Per-block summary kept in the skip table, for upper bounds of BM25F scores in the block.
struct BlockBound {
  std::array<uint16_t, kFieldCount> max_tf{};
  std::array<uint32_t, kFieldCount> min_length{};  // over the block's docs with tf > 0
  // Max over the block's docs of sum_f kReferenceWeight[f] * tf_f / length_norm(kReferenceB[f],
  // length_f, the segment's average length of f); rounded up. The tight bound: the per-field
  // maxima above combine the best field of different docs.
  float max_reference_weight = 0;
};

// One-byte codes of field lengths, for score bounds that take each doc's own lengths into
// account without reading its 40-byte record: exact below 128, above that rounded down to 4
// significant bits, so a decoded length never exceeds the true one and bounds stay bounds.
inline constexpr size_t kLengthCodes = 256;
uint8_t encode_length(uint32_t length);
uint32_t decode_length(uint8_t code);

namespace detail {
struct SegmentHeader;
struct DocRecord;
struct TermRecord;
struct BlockMeta;
}  // namespace detail

class Segment;

// Iterates one term's postings in one segment in doc order. A block's bit-packed docs are
// decoded into an array once the cursor steps or searches in the block a second time (its
// per-field term frequencies when a loop scans the block: skip_light_postings, positions),
// so that stepping, skipping inside a block and scanning frequencies index plain arrays; a
// single tf() reads the packed run.
// Skipping gallops over the blocks' last docs, so blocks passed over are never decoded;
// positions are read only for phrase checks and merges.
class PostingCursor {
 public:
  PostingCursor() = default;
  PostingCursor(const Segment* segment, const detail::TermRecord* term);

  uint32_t doc() const { return doc_; }
  uint32_t doc_freq() const { return doc_freq_; }
  // Moves to the next posting; doc() becomes kNoDoc at the end.
  void next() {
    if (doc_ == kNoDoc) return;
    if (++index_in_block_ < docs_in_block_) {
      if (!docs_decoded_) decode_docs();
      doc_ = docs_[index_in_block_];
      return;
    }
    enter_block(block_ + 1);
  }
  // Moves to the first posting with doc >= target.
  void advance(uint32_t target) {
    if (doc_ >= target) return;  // kNoDoc too
    // Common terms mostly move a posting or two: look at the next few before searching.
    if (docs_decoded_) {
      uint32_t stop = std::min(index_in_block_ + 4, docs_in_block_);
      for (uint32_t i = index_in_block_ + 1; i < stop; ++i)
        if (docs_[i] >= target) {
          index_in_block_ = i;
          doc_ = docs_[i];
          return;
        }
    }
    advance_far(target);
  }
  // Read from the packed run until a scan of the block decoded them: a term joining a
  // conjunction mostly reads one posting's frequencies in a block, not 3 x 128.
  uint32_t tf(size_t field) const {
    if (frequencies_decoded_) return tfs_[field][index_in_block_];
    return unpack_bits(tf_bits_[field], end_, tf_width_[field], index_in_block_);
  }
  // Within the current block, moves to the first posting at or before `last` whose weight
  // Σ_f tf_f · weight_by_code[f][codes[doc · kFieldCount + f]] exceeds `limit` and returns true;
  // if there is none, moves past them (to the next block when the block ends first) and
  // returns false. The loop that passes over a common term's postings too weak to make a
  // document competitive; `codes` are the segment's length codes.
  using CodeWeights = std::array<const double*, kFieldCount>;  // kLengthCodes entries each
  bool skip_light_postings(const CodeWeights& weight_by_code, const uint8_t* codes, double limit,
                           uint32_t last);
  // The current posting's weight as skip_light_postings computes it.
  double weight(const CodeWeights& weight_by_code, const uint8_t* codes) const {
    const uint8_t* code = codes + size_t{doc_} * kFieldCount;
    return tf(0) * weight_by_code[0][code[0]] + tf(1) * weight_by_code[1][code[1]] +
           tf(2) * weight_by_code[2][code[2]];
  }
  // Positions of the current doc in `field`.
  std::vector<uint32_t> positions(size_t field) const;
  // The same into `out` (cleared first), so that phrase checks reuse one buffer.
  void positions(size_t field, std::vector<uint32_t>& out) const;
  // Appends the current doc's positions in every field, field by field (merges copy them).
  void append_all_positions(std::vector<uint32_t>& out) const;

  // Block-max support: moves only the block pointer to the block that may hold `target`
  // (without reading it) and reports its bound and last doc. kNoDoc past the end.
  uint32_t shallow_advance(uint32_t target) {
    if (shallow_block_ < block_) shallow_block_ = block_;
    if (shallow_block_ < block_count_ && last_docs_[shallow_block_] < target)
      shallow_block_ = find_block(shallow_block_ + 1, target);
    return shallow_last_doc();
  }
  const BlockBound& shallow_bound() const;
  uint32_t shallow_last_doc() const {
    return shallow_block_ < block_count_ ? last_docs_[shallow_block_] : kNoDoc;
  }
  // Bound over the whole list (combined from the block table on first use).
  const BlockBound& list_bound() const;

 private:
  void enter_block(uint32_t block);
  void advance_far(uint32_t target);
  void decode_docs();
  // Doc `index` of the current block read from its packed run, without decoding the block.
  uint32_t packed_doc(uint32_t index) const;
  void decode_frequencies() const;
  // First block at or after `from` whose last doc is >= target (block_count_ if none).
  uint32_t find_block(uint32_t from, uint32_t target) const;
  // Points at the current doc's positions, continuing from the previous call when it can.
  const uint8_t* seek_positions() const;

  const uint32_t* last_docs_ = nullptr;
  const detail::BlockMeta* blocks_ = nullptr;
  const uint8_t* data_ = nullptr;
  const uint8_t* end_ = nullptr;
  uint32_t block_count_ = 0;
  uint32_t doc_freq_ = 0;
  uint32_t block_ = 0;          // current block
  uint32_t shallow_block_ = 0;  // block pointer for shallow_advance
  uint32_t index_in_block_ = 0;
  uint32_t docs_in_block_ = 0;
  uint32_t doc_ = kNoDoc;
  std::array<const uint8_t*, kFieldCount> tf_bits_{};
  std::array<uint32_t, kFieldCount> tf_width_{};
  // The current block's docs, decoded on the second search in the block or the first step:
  // a cursor that only visits a block once (a rare term's lead skipping a common term's
  // blocks) binary-searches the packed run instead.
  bool docs_decoded_ = false;
  bool searched_in_block_ = false;
  const uint8_t* doc_bits_ = nullptr;
  uint32_t doc_width_ = 0;
  uint32_t block_base_ = 0;  // docs are stored as offsets from it
  std::array<uint32_t, kBlockSize> docs_{};
  mutable bool frequencies_decoded_ = false;
  mutable std::array<std::array<uint32_t, kBlockSize>, kFieldCount> tfs_{};
  mutable uint32_t position_block_ = kNoDoc;  // where positions() stopped last time
  mutable uint32_t position_index_ = 0;
  mutable const uint8_t* position_pointer_ = nullptr;
  mutable BlockBound list_bound_;
  mutable bool list_bound_known_ = false;
};

class Segment {
 public:
  // Maps and validates the file; errors name the file and what is wrong.
  static Result<std::shared_ptr<const Segment>> open(const std::filesystem::path& path);
  // Whether the segment file at `path` is a paperboy segment of an older format than this
  // build reads (its header says so), as opposed to a current or a damaged one.
  static Result<bool> is_older_format(const std::filesystem::path& path);
  ~Segment();
  Segment(const Segment&) = delete;
  Segment& operator=(const Segment&) = delete;

  const std::string& name() const { return name_; }
  uint32_t doc_count() const;
  uint64_t field_length_sum(size_t field) const;
  // The average field length the reference weights of this segment's blocks were made with.
  double reference_average_length(size_t field) const;
  StoredDoc stored(uint32_t doc) const;
  std::string_view paper_id(uint32_t doc) const;
  int32_t date(uint32_t doc) const;
  int64_t upvotes(uint32_t doc) const;
  std::string_view categories(uint32_t doc) const;  // space-separated, primary first
  uint32_t field_length(uint32_t doc, size_t field) const;
  // Every doc's coded field lengths (encode_length), at doc * kFieldCount + field; built on
  // first use (one pass over the doc table) and kept while the segment is open.
  const uint8_t* length_codes() const;
  // Local doc holding `paper_id`, if any (deleted or not).
  std::optional<uint32_t> find_paper(std::string_view paper_id) const;

  uint64_t term_count() const;
  std::string_view term(uint64_t ordinal) const;
  std::optional<uint64_t> find_term(std::string_view term) const;
  uint32_t doc_freq(uint64_t ordinal) const;
  PostingCursor cursor(uint64_t ordinal) const;

 private:
  friend class PostingCursor;
  Segment() = default;
  Result<void> validate() const;

  std::string name_;
  const uint8_t* data_ = nullptr;
  size_t size_ = 0;
  const detail::SegmentHeader* header_ = nullptr;
  const detail::DocRecord* docs_ = nullptr;
  const uint32_t* id_order_ = nullptr;
  const detail::TermRecord* terms_ = nullptr;
  mutable std::once_flag length_codes_built_;
  mutable std::vector<uint8_t> length_codes_;
};

// Writes a segment file from documents in doc order and then terms in byte order, each with
// its postings in doc order. Used both for fresh documents and for merges.
class SegmentFileWriter {
 public:
  static Result<SegmentFileWriter> create(const std::filesystem::path& path,
                                          const std::vector<StoredDoc>& docs);
  SegmentFileWriter(SegmentFileWriter&&) noexcept;
  SegmentFileWriter& operator=(SegmentFileWriter&&) noexcept;
  ~SegmentFileWriter();

  Result<void> add_term(std::string_view term, const PostingList& postings);
  // Writes the term table and header, fsyncs and closes the file.
  Result<void> finish();

 private:
  SegmentFileWriter() = default;
  Result<void> write(const void* data, size_t size);
  Result<void> flush();
  Result<void> pad_to_8();

  std::filesystem::path path_;
  int fd_ = -1;
  uint64_t offset_ = 0;
  std::vector<uint8_t> buffer_;
  std::vector<uint8_t> term_table_;
  std::string term_strings_;
  uint64_t term_count_ = 0;
  uint64_t doc_count_ = 0;
  std::array<uint64_t, kFieldCount> field_length_sum_{};
  std::array<double, kFieldCount> reference_average_{};
  std::vector<std::array<uint32_t, kFieldCount>> doc_lengths_;  // for the blocks' bounds
  std::vector<uint8_t> doc_data_;  // scratch buffers reused across terms
  std::vector<uint8_t> position_data_;
  std::vector<uint32_t> block_values_;
  uint64_t docs_offset_ = 0;
  uint64_t strings_offset_ = 0;
  uint64_t id_order_offset_ = 0;
  uint64_t postings_offset_ = 0;
};

}  // namespace paperboy::index
