#include "index/segment.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstring>
#include <fstream>
#include <limits>

#include "index/bitpack.h"
#include "index/varint.h"

namespace paperboy::index {

namespace detail {

inline constexpr char kMagic[8] = {'P', 'B', 'S', 'E', 'G', 'M', 'N', 'T'};
inline constexpr uint32_t kFormatVersion = 3;

struct SegmentHeader {
  char magic[8];
  uint32_t version;
  uint32_t doc_count;
  uint64_t term_count;
  uint64_t field_length_sum[kFieldCount];
  uint64_t docs_offset;      // DocRecord[doc_count]
  uint64_t strings_offset;   // paper ids and category lists
  uint64_t id_order_offset;  // uint32_t[doc_count], docs sorted by paper id
  uint64_t postings_offset;
  uint64_t terms_offset;         // TermRecord[term_count], sorted by term bytes
  uint64_t term_strings_offset;  // term bytes
  uint64_t file_size;
};

struct DocRecord {
  uint32_t id_offset;  // relative to strings_offset
  uint32_t categories_offset;
  uint16_t id_length;
  uint16_t categories_length;
  int32_t date;
  int64_t upvotes;
  uint32_t field_length[kFieldCount];
  uint32_t padding;
};

struct TermRecord {
  // uint32_t last_doc[block_count], BlockMeta[block_count], block data, then positions
  uint64_t postings_offset;
  uint64_t postings_size;
  uint64_t term_offset;  // relative to term_strings_offset
  uint32_t term_length;
  uint32_t doc_freq;
  uint32_t block_count;
  uint32_t padding;
};

// A block's data, bit-packed (bitpack.h), each run padded to a byte: the docs as offsets from
// the block's base (0 for the first block, else the previous block's last doc + 1) at the width
// of last_doc - base, then the term frequency of each field at the width of the bound's max_tf.
// Both widths follow from the skip data, so they are not stored.
struct BlockMeta {
  uint32_t data_offset;           // relative to the end of the BlockMeta table
  uint32_t position_data_offset;  // same base
  uint32_t doc_count;
  BlockBound bound;
};

static_assert(sizeof(SegmentHeader) == 104);
static_assert(sizeof(DocRecord) == 40);
static_assert(sizeof(TermRecord) == 40);
static_assert(sizeof(BlockMeta) == 12 + sizeof(BlockBound));

// Bytes of table per block: its last doc and its BlockMeta.
inline constexpr uint64_t kBlockTableBytes = sizeof(uint32_t) + sizeof(BlockMeta);

}  // namespace detail

using detail::BlockMeta;
using detail::DocRecord;
using detail::SegmentHeader;
using detail::TermRecord;

namespace {

std::string errno_text() { return std::strerror(errno); }

uint64_t align8(uint64_t value) { return (value + 7) & ~uint64_t{7}; }

double average_length(uint64_t sum, uint64_t docs) {
  return docs == 0 ? 1.0 : std::max(1.0, static_cast<double>(sum) / static_cast<double>(docs));
}

// The float nearest above `value`, so that a stored bound never undercuts the true maximum.
float round_up(double value) {
  auto rounded = static_cast<float>(value);
  if (static_cast<double>(rounded) < value)
    rounded = std::nextafter(rounded, std::numeric_limits<float>::infinity());
  return rounded;
}

}  // namespace

uint8_t encode_length(uint32_t length) {
  if (length < 128) return static_cast<uint8_t>(length);
  // 128 + 16·(exponent − 3) + the 4 bits below the leading one; lengths past the last code's
  // range get the last code, whose decoded length is still below them.
  uint32_t exponent = bit_width_of(length) - 5;
  uint32_t code = 128 + 16 * (exponent - 3) + ((length >> exponent) - 16);
  return static_cast<uint8_t>(std::min<uint32_t>(code, 255));
}

uint32_t decode_length(uint8_t code) {
  if (code < 128) return code;
  uint32_t exponent = (code - 128u) / 16 + 3;
  return (16 + (code - 128u) % 16) << exponent;
}

// ---------------------------------------------------------------------------------------------
// PostingCursor

namespace {

uint32_t block_base(const uint32_t* last_docs, uint32_t block) {
  return block == 0 ? 0 : last_docs[block - 1] + 1;
}

uint32_t doc_width(const uint32_t* last_docs, uint32_t block) {
  return bit_width_of(last_docs[block] - block_base(last_docs, block));
}

// Bytes of a block's packed docs and frequencies.
uint64_t block_data_bytes(const uint32_t* last_docs, const BlockMeta& meta, uint32_t block) {
  uint64_t bytes = packed_bytes(meta.doc_count, doc_width(last_docs, block));
  for (size_t f = 0; f < kFieldCount; ++f)
    bytes += packed_bytes(meta.doc_count, bit_width_of(meta.bound.max_tf[f]));
  return bytes;
}

}  // namespace

PostingCursor::PostingCursor(const Segment* segment, const TermRecord* term) {
  const uint8_t* base = segment->data_ + term->postings_offset;
  block_count_ = term->block_count;
  doc_freq_ = term->doc_freq;
  last_docs_ = reinterpret_cast<const uint32_t*>(base);
  blocks_ = reinterpret_cast<const BlockMeta*>(base + sizeof(uint32_t) * block_count_);
  data_ = base + detail::kBlockTableBytes * block_count_;
  end_ = base + term->postings_size;
  enter_block(0);
}

const BlockBound& PostingCursor::list_bound() const {
  if (list_bound_known_) return list_bound_;
  for (uint32_t b = 0; b < block_count_; ++b) {
    const BlockBound& bound = blocks_[b].bound;
    list_bound_.max_reference_weight =
        std::max(list_bound_.max_reference_weight, bound.max_reference_weight);
    for (size_t f = 0; f < kFieldCount; ++f) {
      list_bound_.max_tf[f] = std::max(list_bound_.max_tf[f], bound.max_tf[f]);
      if (bound.max_tf[f] > 0 &&
          (list_bound_.min_length[f] == 0 || bound.min_length[f] < list_bound_.min_length[f]))
        list_bound_.min_length[f] = bound.min_length[f];
    }
  }
  list_bound_known_ = true;
  return list_bound_;
}

void PostingCursor::enter_block(uint32_t block) {
  block_ = block;
  index_in_block_ = 0;
  frequencies_decoded_ = false;
  if (block >= block_count_) {
    doc_ = kNoDoc;
    docs_in_block_ = 0;
    return;
  }
  const BlockMeta& meta = blocks_[block];
  docs_in_block_ = std::min(meta.doc_count, kBlockSize);
  block_base_ = block_base(last_docs_, block);
  doc_width_ = doc_width(last_docs_, block);
  docs_decoded_ = false;
  searched_in_block_ = false;
  const uint8_t* run = data_ + meta.data_offset;
  doc_bits_ = run;
  run += packed_bytes(meta.doc_count, doc_width_);
  for (size_t f = 0; f < kFieldCount; ++f) {
    tf_width_[f] = bit_width_of(meta.bound.max_tf[f]);
    tf_bits_[f] = run;
    run += packed_bytes(meta.doc_count, tf_width_[f]);
  }
  doc_ = docs_in_block_ > 0 ? packed_doc(0) : kNoDoc;
  if (shallow_block_ < block) shallow_block_ = block;
}

void PostingCursor::decode_docs() {
  unpack_run(doc_bits_, end_, doc_width_, docs_in_block_, docs_.data());
  for (uint32_t i = 0; i < docs_in_block_; ++i) docs_[i] += block_base_;
  docs_decoded_ = true;
}

uint32_t PostingCursor::packed_doc(uint32_t index) const {
  return block_base_ + unpack_bits(doc_bits_, end_, doc_width_, index);
}

void PostingCursor::decode_frequencies() const {
  for (size_t f = 0; f < kFieldCount; ++f)
    unpack_run(tf_bits_[f], end_, tf_width_[f], docs_in_block_, tfs_[f].data());
  frequencies_decoded_ = true;
}

uint32_t PostingCursor::find_block(uint32_t from, uint32_t target) const {
  // Galloping: conjunctions mostly skip a few blocks, sometimes very many.
  uint32_t high = from;
  uint32_t step = 1;
  while (high < block_count_ && last_docs_[high] < target) {
    from = high + 1;
    high += step;
    step *= 2;
  }
  high = std::min(high, block_count_);
  return static_cast<uint32_t>(std::lower_bound(last_docs_ + from, last_docs_ + high, target) -
                               last_docs_);
}

void PostingCursor::advance_far(uint32_t target) {
  while (doc_ < target) {
    if (last_docs_[block_] < target) {
      enter_block(find_block(block_ + 1, target));
      continue;
    }
    // The block's last doc is >= target: binary search its remaining docs, in the packed
    // run on the first search in the block.
    if (!docs_decoded_ && !searched_in_block_) {
      searched_in_block_ = true;
      uint32_t low = index_in_block_ + 1;
      uint32_t high = docs_in_block_ - 1;
      while (low < high) {
        uint32_t middle = low + (high - low) / 2;
        if (packed_doc(middle) < target)
          low = middle + 1;
        else
          high = middle;
      }
      index_in_block_ = std::min(low, docs_in_block_ - 1);
      doc_ = packed_doc(index_in_block_);
      // Only a damaged block has no doc >= target before its end; go on with the next one.
      if (doc_ < target) enter_block(block_ + 1);
      continue;
    }
    if (!docs_decoded_) decode_docs();
    const uint32_t* begin = docs_.data() + index_in_block_ + 1;
    const uint32_t* end = docs_.data() + docs_in_block_;
    const uint32_t* found = std::lower_bound(begin, end, target);
    // Only a damaged block has no doc >= target before its end; go on with the next one.
    if (found == end) {
      enter_block(block_ + 1);
      continue;
    }
    index_in_block_ = static_cast<uint32_t>(found - docs_.data());
    doc_ = *found;
  }
}

bool PostingCursor::skip_light_postings(const CodeWeights& weight_by_code, const uint8_t* codes,
                                        double limit, uint32_t last) {
  if (doc_ == kNoDoc) return false;
  if (!docs_decoded_) decode_docs();
  if (!frequencies_decoded_) decode_frequencies();
  uint32_t i = index_in_block_;
  for (; i < docs_in_block_ && docs_[i] <= last; ++i) {
    const uint8_t* code = codes + size_t{docs_[i]} * kFieldCount;
    double weight = tfs_[0][i] * weight_by_code[0][code[0]] +
                    tfs_[1][i] * weight_by_code[1][code[1]] +
                    tfs_[2][i] * weight_by_code[2][code[2]];
    if (weight > limit) {
      index_in_block_ = i;
      doc_ = docs_[i];
      return true;
    }
  }
  if (i < docs_in_block_) {
    index_in_block_ = i;
    doc_ = docs_[i];
  } else {
    enter_block(block_ + 1);
  }
  return false;
}

const uint8_t* PostingCursor::seek_positions() const {
  // Sequential calls (phrase checks, merges) continue from the previous doc's positions.
  const uint8_t* p = data_ + blocks_[block_].position_data_offset;
  uint32_t i = 0;
  if (position_block_ == block_ && position_index_ <= index_in_block_) {
    p = position_pointer_;
    i = position_index_;
  }
  if (!frequencies_decoded_) decode_frequencies();
  uint64_t skipped = 0;
  for (; i < index_in_block_; ++i)
    for (size_t f = 0; f < kFieldCount; ++f) skipped += tfs_[f][i];
  p = skip_varints(p, end_, skipped);
  position_block_ = block_;
  position_index_ = index_in_block_;
  position_pointer_ = p;
  return p;
}

std::vector<uint32_t> PostingCursor::positions(size_t field) const {
  std::vector<uint32_t> out;
  positions(field, out);
  return out;
}

void PostingCursor::positions(size_t field, std::vector<uint32_t>& out) const {
  out.clear();
  if (doc_ == kNoDoc) return;
  const uint8_t* p = seek_positions();
  uint64_t skipped = 0;
  for (size_t f = 0; f < field; ++f) skipped += tf(f);
  p = skip_varints(p, end_, skipped);
  uint32_t position = 0;
  for (uint32_t k = tf(field); k > 0; --k) {
    position += read_varint(p, end_);
    out.push_back(position);
  }
}

void PostingCursor::append_all_positions(std::vector<uint32_t>& out) const {
  if (doc_ == kNoDoc) return;
  const uint8_t* p = seek_positions();
  for (size_t f = 0; f < kFieldCount; ++f) {
    uint32_t position = 0;
    for (uint32_t k = tf(f); k > 0; --k) {
      position += read_varint(p, end_);
      out.push_back(position);
    }
  }
}

const BlockBound& PostingCursor::shallow_bound() const {
  static const BlockBound kEmpty;
  return shallow_block_ < block_count_ ? blocks_[shallow_block_].bound : kEmpty;
}

// ---------------------------------------------------------------------------------------------
// Segment

Result<std::shared_ptr<const Segment>> Segment::open(const std::filesystem::path& path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return fail(path.string() + ": cannot open segment: " + errno_text());
  struct stat info {};
  if (::fstat(fd, &info) != 0) {
    std::string message = path.string() + ": cannot stat segment: " + errno_text();
    ::close(fd);
    return fail(message);
  }
  auto size = static_cast<size_t>(info.st_size);
  if (size < sizeof(SegmentHeader)) {
    ::close(fd);
    return fail(path.string() + ": segment file is truncated (" + std::to_string(size) + " bytes)");
  }
  void* mapped = ::mmap(nullptr, size, PROT_READ, MAP_SHARED, fd, 0);
  ::close(fd);
  if (mapped == MAP_FAILED) return fail(path.string() + ": cannot mmap segment: " + errno_text());
  std::shared_ptr<Segment> segment(new Segment());
  segment->name_ = path.filename().string();
  segment->data_ = static_cast<const uint8_t*>(mapped);
  segment->size_ = size;
  segment->header_ = reinterpret_cast<const SegmentHeader*>(segment->data_);
  if (auto valid = segment->validate(); !valid)
    return fail(path.string() + ": " + valid.error().message);
  segment->docs_ =
      reinterpret_cast<const DocRecord*>(segment->data_ + segment->header_->docs_offset);
  segment->id_order_ =
      reinterpret_cast<const uint32_t*>(segment->data_ + segment->header_->id_order_offset);
  segment->terms_ =
      reinterpret_cast<const TermRecord*>(segment->data_ + segment->header_->terms_offset);
  return segment;
}

Result<bool> Segment::is_older_format(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  char magic[sizeof(SegmentHeader::magic)] = {};
  uint32_t version = 0;
  if (!in.read(magic, sizeof(magic)) ||
      !in.read(reinterpret_cast<char*>(&version), sizeof(version)))
    return fail(path.string() + ": cannot read the segment header");
  return std::memcmp(magic, detail::kMagic, sizeof(magic)) == 0 && version < detail::kFormatVersion;
}

Segment::~Segment() {
  if (data_ != nullptr) ::munmap(const_cast<uint8_t*>(data_), size_);
}

Result<void> Segment::validate() const {
  const SegmentHeader& h = *header_;
  if (std::memcmp(h.magic, detail::kMagic, sizeof(h.magic)) != 0)
    return fail("not a paperboy segment (bad magic)");
  if (h.version < detail::kFormatVersion)
    return fail("segment format version " + std::to_string(h.version) +
                " was written by an older paperboy; the index is derived from the store, so "
                "rebuild it with `paperboy index rebuild`");
  if (h.version != detail::kFormatVersion)
    return fail("unsupported segment format version " + std::to_string(h.version));
  if (h.file_size != size_) return fail("segment is truncated or has trailing bytes");
  auto within = [&](uint64_t offset, uint64_t bytes) {
    return offset % 8 == 0 && offset <= size_ && bytes <= size_ - offset;
  };
  if (!within(h.docs_offset, uint64_t{h.doc_count} * sizeof(DocRecord)) ||
      !within(h.id_order_offset, uint64_t{h.doc_count} * sizeof(uint32_t)) ||
      h.term_count > size_ || !within(h.terms_offset, h.term_count * sizeof(TermRecord)) ||
      h.strings_offset > size_ || h.term_strings_offset > size_ || h.postings_offset > size_)
    return fail("section offsets point outside the file");
  const auto* docs = reinterpret_cast<const DocRecord*>(data_ + h.docs_offset);
  for (uint32_t d = 0; d < h.doc_count; ++d) {
    const DocRecord& doc = docs[d];
    if (h.strings_offset + doc.id_offset + doc.id_length > h.id_order_offset ||
        h.strings_offset + doc.categories_offset + doc.categories_length > h.id_order_offset)
      return fail("document " + std::to_string(d) + " has stored strings outside the file");
  }
  const auto* order = reinterpret_cast<const uint32_t*>(data_ + h.id_order_offset);
  for (uint32_t d = 0; d < h.doc_count; ++d)
    if (order[d] >= h.doc_count) return fail("paper id order names a missing document");
  const auto* terms = reinterpret_cast<const TermRecord*>(data_ + h.terms_offset);
  for (uint64_t t = 0; t < h.term_count; ++t) {
    const TermRecord& term = terms[t];
    if (h.term_strings_offset + term.term_offset + term.term_length > size_ ||
        !within(term.postings_offset, term.postings_size) || term.block_count == 0 ||
        uint64_t{term.block_count} * detail::kBlockTableBytes > term.postings_size)
      return fail("term " + std::to_string(t) + " points outside the file");
    const auto* last_docs = reinterpret_cast<const uint32_t*>(data_ + term.postings_offset);
    const auto* blocks = reinterpret_cast<const BlockMeta*>(data_ + term.postings_offset +
                                                            sizeof(uint32_t) * term.block_count);
    uint64_t data_size = term.postings_size - uint64_t{term.block_count} * detail::kBlockTableBytes;
    uint64_t postings = 0;
    for (uint32_t b = 0; b < term.block_count; ++b) {
      const BlockMeta& meta = blocks[b];
      if (last_docs[b] >= h.doc_count || (b > 0 && last_docs[b] <= last_docs[b - 1]) ||
          meta.doc_count == 0 || meta.doc_count > kBlockSize ||
          meta.doc_count - 1 > last_docs[b] - block_base(last_docs, b))
        return fail("term " + std::to_string(t) + " has a block with impossible docs");
      if (meta.data_offset > data_size ||
          block_data_bytes(last_docs, meta, b) > data_size - meta.data_offset ||
          meta.position_data_offset > data_size)
        return fail("term " + std::to_string(t) + " has a block outside its postings");
      postings += meta.doc_count;
    }
    if (postings != term.doc_freq)
      return fail("term " + std::to_string(t) + " has a wrong document frequency");
  }
  return {};
}

uint32_t Segment::doc_count() const { return header_->doc_count; }

uint64_t Segment::field_length_sum(size_t field) const { return header_->field_length_sum[field]; }

double Segment::reference_average_length(size_t field) const {
  return average_length(header_->field_length_sum[field], header_->doc_count);
}

std::string_view Segment::paper_id(uint32_t doc) const {
  const DocRecord& record = docs_[doc];
  return {reinterpret_cast<const char*>(data_ + header_->strings_offset + record.id_offset),
          record.id_length};
}

std::string_view Segment::categories(uint32_t doc) const {
  const DocRecord& record = docs_[doc];
  return {reinterpret_cast<const char*>(data_ + header_->strings_offset + record.categories_offset),
          record.categories_length};
}

int32_t Segment::date(uint32_t doc) const { return docs_[doc].date; }
int64_t Segment::upvotes(uint32_t doc) const { return docs_[doc].upvotes; }
uint32_t Segment::field_length(uint32_t doc, size_t field) const {
  return docs_[doc].field_length[field];
}

const uint8_t* Segment::length_codes() const {
  std::call_once(length_codes_built_, [this] {
    length_codes_.resize(size_t{doc_count()} * kFieldCount);
    for (uint32_t doc = 0; doc < doc_count(); ++doc)
      for (size_t f = 0; f < kFieldCount; ++f)
        length_codes_[size_t{doc} * kFieldCount + f] = encode_length(docs_[doc].field_length[f]);
  });
  return length_codes_.data();
}

StoredDoc Segment::stored(uint32_t doc) const {
  StoredDoc stored;
  stored.paper_id = std::string(paper_id(doc));
  stored.date = date(doc);
  stored.upvotes = upvotes(doc);
  std::string_view list = categories(doc);
  while (!list.empty()) {
    size_t space = list.find(' ');
    std::string_view category = list.substr(0, space);
    if (!category.empty()) stored.categories.emplace_back(category);
    if (space == std::string_view::npos) break;
    list.remove_prefix(space + 1);
  }
  for (size_t f = 0; f < kFieldCount; ++f) stored.field_length[f] = field_length(doc, f);
  return stored;
}

std::optional<uint32_t> Segment::find_paper(std::string_view id) const {
  const uint32_t* begin = id_order_;
  const uint32_t* end = id_order_ + header_->doc_count;
  const uint32_t* found = std::lower_bound(
      begin, end, id,
      [&](uint32_t doc, std::string_view wanted) { return paper_id(doc) < wanted; });
  if (found != end && paper_id(*found) == id) return *found;
  return std::nullopt;
}

uint64_t Segment::term_count() const { return header_->term_count; }

std::string_view Segment::term(uint64_t ordinal) const {
  const TermRecord& record = terms_[ordinal];
  return {reinterpret_cast<const char*>(data_ + header_->term_strings_offset + record.term_offset),
          record.term_length};
}

std::optional<uint64_t> Segment::find_term(std::string_view wanted) const {
  uint64_t low = 0;
  uint64_t high = header_->term_count;
  while (low < high) {
    uint64_t middle = low + (high - low) / 2;
    if (term(middle) < wanted)
      low = middle + 1;
    else
      high = middle;
  }
  if (low < header_->term_count && term(low) == wanted) return low;
  return std::nullopt;
}

uint32_t Segment::doc_freq(uint64_t ordinal) const { return terms_[ordinal].doc_freq; }

PostingCursor Segment::cursor(uint64_t ordinal) const {
  return PostingCursor(this, &terms_[ordinal]);
}

// ---------------------------------------------------------------------------------------------
// SegmentFileWriter

Result<SegmentFileWriter> SegmentFileWriter::create(const std::filesystem::path& path,
                                                    const std::vector<StoredDoc>& docs) {
  SegmentFileWriter writer;
  writer.path_ = path;
  writer.fd_ = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (writer.fd_ < 0) return fail(path.string() + ": cannot create segment: " + errno_text());
  writer.doc_count_ = docs.size();

  SegmentHeader header{};
  if (auto written = writer.write(&header, sizeof(header)); !written)
    return fail(written.error().message);

  std::string strings;
  std::vector<DocRecord> records(docs.size());
  for (size_t d = 0; d < docs.size(); ++d) {
    const StoredDoc& doc = docs[d];
    DocRecord& record = records[d];
    record.id_offset = static_cast<uint32_t>(strings.size());
    record.id_length = static_cast<uint16_t>(std::min<size_t>(doc.paper_id.size(), UINT16_MAX));
    strings.append(doc.paper_id, 0, record.id_length);
    std::string categories;
    for (const std::string& category : doc.categories) {
      if (!categories.empty()) categories.push_back(' ');
      categories += category;
    }
    record.categories_offset = static_cast<uint32_t>(strings.size());
    record.categories_length =
        static_cast<uint16_t>(std::min<size_t>(categories.size(), UINT16_MAX));
    strings.append(categories, 0, record.categories_length);
    record.date = doc.date;
    record.upvotes = doc.upvotes;
    for (size_t f = 0; f < kFieldCount; ++f) {
      record.field_length[f] = doc.field_length[f];
      writer.field_length_sum_[f] += doc.field_length[f];
    }
    writer.doc_lengths_.push_back(doc.field_length);
  }
  for (size_t f = 0; f < kFieldCount; ++f)
    writer.reference_average_[f] = average_length(writer.field_length_sum_[f], docs.size());
  writer.docs_offset_ = writer.offset_;
  if (auto written = writer.write(records.data(), records.size() * sizeof(DocRecord)); !written)
    return fail(written.error().message);
  writer.strings_offset_ = writer.offset_;
  strings.resize(align8(strings.size()), '\0');
  if (auto written = writer.write(strings.data(), strings.size()); !written)
    return fail(written.error().message);

  std::vector<uint32_t> order(docs.size());
  for (uint32_t d = 0; d < order.size(); ++d) order[d] = d;
  std::stable_sort(order.begin(), order.end(),
                   [&](uint32_t a, uint32_t b) { return docs[a].paper_id < docs[b].paper_id; });
  writer.id_order_offset_ = writer.offset_;
  if (order.size() % 2 == 1) order.push_back(0);  // keeps the next section 8-aligned
  if (auto written = writer.write(order.data(), order.size() * sizeof(uint32_t)); !written)
    return fail(written.error().message);
  writer.postings_offset_ = writer.offset_;
  return writer;
}

SegmentFileWriter::SegmentFileWriter(SegmentFileWriter&& other) noexcept {
  *this = std::move(other);
}

SegmentFileWriter& SegmentFileWriter::operator=(SegmentFileWriter&& other) noexcept {
  if (this == &other) return *this;
  if (fd_ >= 0) ::close(fd_);
  path_ = std::move(other.path_);
  fd_ = std::exchange(other.fd_, -1);
  offset_ = other.offset_;
  buffer_ = std::move(other.buffer_);
  term_table_ = std::move(other.term_table_);
  term_strings_ = std::move(other.term_strings_);
  term_count_ = other.term_count_;
  doc_count_ = other.doc_count_;
  field_length_sum_ = other.field_length_sum_;
  reference_average_ = other.reference_average_;
  doc_lengths_ = std::move(other.doc_lengths_);
  doc_data_ = std::move(other.doc_data_);
  position_data_ = std::move(other.position_data_);
  block_values_ = std::move(other.block_values_);
  docs_offset_ = other.docs_offset_;
  strings_offset_ = other.strings_offset_;
  id_order_offset_ = other.id_order_offset_;
  postings_offset_ = other.postings_offset_;
  return *this;
}

SegmentFileWriter::~SegmentFileWriter() {
  if (fd_ >= 0) ::close(fd_);
}

Result<void> SegmentFileWriter::write(const void* data, size_t size) {
  const auto* bytes = static_cast<const uint8_t*>(data);
  buffer_.insert(buffer_.end(), bytes, bytes + size);
  offset_ += size;
  if (buffer_.size() >= (1u << 20)) return flush();
  return {};
}

Result<void> SegmentFileWriter::flush() {
  size_t done = 0;
  while (done < buffer_.size()) {
    ssize_t n = ::write(fd_, buffer_.data() + done, buffer_.size() - done);
    if (n < 0) {
      if (errno == EINTR) continue;
      return fail(path_.string() + ": write failed: " + errno_text());
    }
    done += static_cast<size_t>(n);
  }
  buffer_.clear();
  return {};
}

Result<void> SegmentFileWriter::add_term(std::string_view term, const PostingList& postings) {
  if (postings.size() == 0) return {};
  if (term.size() > UINT16_MAX) return {};  // no analyser emits such a term; nothing to find
  auto block_count = static_cast<uint32_t>((postings.size() + kBlockSize - 1) / kBlockSize);
  std::vector<uint32_t> last_docs(block_count);
  std::vector<BlockMeta> metas(block_count);
  doc_data_.clear();
  position_data_.clear();
  size_t position_index = 0;
  for (uint32_t b = 0; b < block_count; ++b) {
    BlockMeta& meta = metas[b];
    size_t first = size_t{b} * kBlockSize;
    size_t last = std::min(postings.size(), first + kBlockSize);
    meta.doc_count = static_cast<uint32_t>(last - first);
    meta.data_offset = static_cast<uint32_t>(doc_data_.size());
    meta.position_data_offset = static_cast<uint32_t>(position_data_.size());
    for (size_t i = first; i < last; ++i) {
      uint32_t doc = postings.docs[i];
      if (doc >= doc_count_ || (i > 0 && doc <= postings.docs[i - 1]))
        return fail(path_.string() + ": postings of term '" + std::string(term) +
                    "' are not in increasing doc order");
      double reference_weight = 0;
      for (size_t f = 0; f < kFieldCount; ++f) {
        uint32_t full_tf = postings.tf[i][f];
        uint32_t tf = std::min<uint32_t>(full_tf, UINT16_MAX);
        uint32_t previous_position = 0;
        for (uint32_t k = 0; k < tf; ++k) {
          uint32_t position =
              position_index < postings.positions.size() ? postings.positions[position_index] : 0;
          ++position_index;
          write_varint(position_data_, position - std::min(position, previous_position));
          previous_position = position;
        }
        position_index += full_tf - tf;
        if (tf == 0) continue;
        BlockBound& bound = meta.bound;
        bound.max_tf[f] = std::max(bound.max_tf[f], static_cast<uint16_t>(tf));
        uint32_t length = doc_lengths_[doc][f];
        if (bound.min_length[f] == 0 || length < bound.min_length[f]) bound.min_length[f] = length;
        reference_weight +=
            kReferenceWeight[f] * tf / length_norm(kReferenceB[f], length, reference_average_[f]);
      }
      meta.bound.max_reference_weight =
          std::max(meta.bound.max_reference_weight, round_up(reference_weight));
    }
    last_docs[b] = postings.docs[last - 1];
    uint32_t base = block_base(last_docs.data(), b);
    block_values_.clear();
    for (size_t i = first; i < last; ++i) block_values_.push_back(postings.docs[i] - base);
    pack_bits(doc_data_, block_values_, doc_width(last_docs.data(), b));
    for (size_t f = 0; f < kFieldCount; ++f) {
      block_values_.clear();
      for (size_t i = first; i < last; ++i)
        block_values_.push_back(std::min<uint32_t>(postings.tf[i][f], UINT16_MAX));
      pack_bits(doc_data_, block_values_, bit_width_of(meta.bound.max_tf[f]));
    }
  }
  // Block positions follow all doc data of the term.
  for (BlockMeta& meta : metas)
    meta.position_data_offset += static_cast<uint32_t>(doc_data_.size());

  if (auto padded = pad_to_8(); !padded) return padded;
  TermRecord record{};
  record.postings_offset = offset_;
  record.postings_size =
      uint64_t{block_count} * detail::kBlockTableBytes + doc_data_.size() + position_data_.size();
  record.term_offset = term_strings_.size();
  record.term_length = static_cast<uint32_t>(term.size());
  record.doc_freq = static_cast<uint32_t>(postings.size());
  record.block_count = block_count;
  if (auto written = write(last_docs.data(), last_docs.size() * sizeof(uint32_t)); !written)
    return written;
  if (auto written = write(metas.data(), metas.size() * sizeof(BlockMeta)); !written)
    return written;
  if (auto written = write(doc_data_.data(), doc_data_.size()); !written) return written;
  if (auto written = write(position_data_.data(), position_data_.size()); !written) return written;
  term_strings_.append(term);
  const auto* bytes = reinterpret_cast<const uint8_t*>(&record);
  term_table_.insert(term_table_.end(), bytes, bytes + sizeof(record));
  ++term_count_;
  return {};
}

Result<void> SegmentFileWriter::pad_to_8() {
  static constexpr uint8_t kZeros[8] = {};
  return write(kZeros, align8(offset_) - offset_);
}

Result<void> SegmentFileWriter::finish() {
  if (auto padded = pad_to_8(); !padded) return padded;
  uint64_t terms_offset = offset_;
  if (auto written = write(term_table_.data(), term_table_.size()); !written) return written;
  uint64_t term_strings_offset = offset_;
  if (auto written = write(term_strings_.data(), term_strings_.size()); !written) return written;
  if (auto padded = pad_to_8(); !padded) return padded;

  SegmentHeader header{};
  std::memcpy(header.magic, detail::kMagic, sizeof(header.magic));
  header.version = detail::kFormatVersion;
  header.doc_count = static_cast<uint32_t>(doc_count_);
  header.term_count = term_count_;
  for (size_t f = 0; f < kFieldCount; ++f) header.field_length_sum[f] = field_length_sum_[f];
  header.docs_offset = docs_offset_;
  header.strings_offset = strings_offset_;
  header.id_order_offset = id_order_offset_;
  header.postings_offset = postings_offset_;
  header.terms_offset = terms_offset;
  header.term_strings_offset = term_strings_offset;
  header.file_size = offset_;
  if (auto flushed = flush(); !flushed) return flushed;
  if (::pwrite(fd_, &header, sizeof(header), 0) != static_cast<ssize_t>(sizeof(header)))
    return fail(path_.string() + ": cannot write segment header: " + errno_text());
  if (::fsync(fd_) != 0) return fail(path_.string() + ": fsync failed: " + errno_text());
  int fd = std::exchange(fd_, -1);
  if (::close(fd) != 0) return fail(path_.string() + ": close failed: " + errno_text());
  return {};
}

}  // namespace paperboy::index
