#include "vector/vector_index.h"

#include <fcntl.h>
#include <hnswlib/hnswlib.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <bit>
#include <cerrno>
#include <cmath>
#include <cstring>
#include <fstream>
#include <iterator>
#include <limits>
#include <mutex>
#include <optional>
#include <thread>
#include <unordered_map>

namespace paperboy::vector {

namespace {

namespace fs = std::filesystem;

constexpr char kMagic[8] = {'P', 'B', 'V', 'E', 'C', '0', '0', '1'};
constexpr const char* kCurrentFile = "CURRENT";
constexpr const char* kGraphFile = "graph.hnsw";
constexpr const char* kPapersFile = "papers.bin";

// Vectors as int8 with one float scale: [scale][dimension x int8]. Distance 1 - dot product, so
// that hnswlib's "smallest distance first" means "most similar first".
class Int8Space final : public hnswlib::SpaceInterface<float> {
 public:
  explicit Int8Space(size_t dimension) : dimension_(dimension) {}
  size_t get_data_size() override { return sizeof(float) + dimension_; }
  hnswlib::DISTFUNC<float> get_dist_func() override { return &distance; }
  void* get_dist_func_param() override { return &dimension_; }

 private:
  static float distance(const void* a, const void* b, const void* parameter) {
    const size_t dimension = *static_cast<const size_t*>(parameter);
    float scale_a, scale_b;
    std::memcpy(&scale_a, a, sizeof scale_a);
    std::memcpy(&scale_b, b, sizeof scale_b);
    const auto* codes_a = static_cast<const int8_t*>(a) + sizeof(float);
    const auto* codes_b = static_cast<const int8_t*>(b) + sizeof(float);
    int32_t sum = 0;
    for (size_t i = 0; i < dimension; ++i)
      sum += static_cast<int32_t>(codes_a[i]) * static_cast<int32_t>(codes_b[i]);
    return 1.0f - scale_a * scale_b * static_cast<float>(sum);
  }

  size_t dimension_;
};

uint64_t fnv1a(std::string_view bytes) {
  uint64_t hash = 1469598103934665603ull;
  for (unsigned char c : bytes) {
    hash ^= c;
    hash *= 1099511628211ull;
  }
  return hash;
}

template <class T>
void put(std::string& out, const T& value) {
  out.append(reinterpret_cast<const char*>(&value), sizeof(T));
}

class Reader {
 public:
  explicit Reader(std::string_view bytes) : bytes_(bytes) {}
  template <class T>
  bool get(T& value) {
    if (bytes_.size() - at_ < sizeof(T)) return false;
    std::memcpy(&value, bytes_.data() + at_, sizeof(T));
    at_ += sizeof(T);
    return true;
  }
  bool get_string(std::string& out, size_t size) {
    if (bytes_.size() - at_ < size) return false;
    out.assign(bytes_.data() + at_, size);
    at_ += size;
    return true;
  }
  bool at_end() const { return at_ == bytes_.size(); }

 private:
  std::string_view bytes_;
  size_t at_ = 0;
};

Result<void> fsync_path(const fs::path& path, bool directory) {
  const int fd = ::open(path.c_str(), (directory ? O_RDONLY | O_DIRECTORY : O_RDONLY) | O_CLOEXEC);
  if (fd < 0) return fail(path.string() + ": " + std::strerror(errno));
  const bool synced = ::fsync(fd) == 0;
  const int saved_errno = errno;
  ::close(fd);
  if (!synced) return fail(path.string() + ": " + std::strerror(saved_errno));
  return {};
}

Result<void> write_synced(const fs::path& path, std::string_view bytes) {
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return fail(path.string() + ": " + std::strerror(errno));
  size_t written = 0;
  while (written < bytes.size()) {
    const ssize_t n = ::write(fd, bytes.data() + written, bytes.size() - written);
    if (n <= 0) break;
    written += static_cast<size_t>(n);
  }
  const bool complete = written == bytes.size() && ::fsync(fd) == 0;
  const int saved_errno = errno;
  ::close(fd);
  if (!complete) return fail(path.string() + ": " + std::strerror(saved_errno));
  return {};
}

std::optional<uint64_t> generation_number(const std::string& name) {
  if (name.size() != 13 || name[0] != 'g') return std::nullopt;
  uint64_t number = 0;
  for (char c : name.substr(1)) {
    if (c < '0' || c > '9') return std::nullopt;
    number = number * 10 + static_cast<uint64_t>(c - '0');
  }
  return number;
}

std::string generation_name(uint64_t number) {
  char name[16];
  std::snprintf(name, sizeof name, "g%012llu", static_cast<unsigned long long>(number));
  return name;
}

}  // namespace

// Paper ids by label and labels by id, packed: the id bytes end to end, one end offset per
// label, and an open-addressing table of labels. About 25 bytes a paper against ~105 for a
// vector of strings plus an unordered_map of them, which mattered at millions of papers.
class PaperIds {
 public:
  size_t size() const { return ends_.size(); }
  std::string_view id(size_t label) const {
    const uint32_t begin = label == 0 ? 0 : ends_[label - 1];
    return std::string_view(bytes_).substr(begin, ends_[label] - begin);
  }
  std::optional<size_t> find(std::string_view paper_id) const {
    if (slots_.empty()) return std::nullopt;
    for (size_t slot = hash(paper_id) & (slots_.size() - 1);;
         slot = (slot + 1) & (slots_.size() - 1)) {
      if (slots_[slot] == 0) return std::nullopt;
      if (id(slots_[slot] - 1) == paper_id) return slots_[slot] - 1;
    }
  }
  // Room for `papers` ids without regrowing (an index being opened knows its count).
  void reserve(size_t papers) {
    ends_.reserve(papers);
    size_t slot_count = 64;
    while (4 * (papers + 1) > 3 * slot_count) slot_count *= 2;
    if (slot_count > slots_.size()) rehash(slot_count);
  }
  // The new id's label; fails when the packed ids would pass 4 GiB.
  Result<size_t> add(std::string_view paper_id) {
    if (bytes_.size() + paper_id.size() > std::numeric_limits<uint32_t>::max())
      return fail("vector index: too many paper id bytes");
    bytes_ += paper_id;
    ends_.push_back(static_cast<uint32_t>(bytes_.size()));
    if (4 * (ends_.size() + 1) > 3 * slots_.size())
      rehash(std::max<size_t>(64, slots_.size() * 2));
    else
      place(ends_.size() - 1);
    return ends_.size() - 1;
  }

 private:
  static size_t hash(std::string_view paper_id) { return std::hash<std::string_view>{}(paper_id); }
  void place(size_t label) {
    size_t slot = hash(id(label)) & (slots_.size() - 1);
    while (slots_[slot] != 0) slot = (slot + 1) & (slots_.size() - 1);
    slots_[slot] = static_cast<uint32_t>(label + 1);
  }
  void rehash(size_t slot_count) {
    slots_.assign(slot_count, 0);
    for (size_t label = 0; label < ends_.size(); ++label) place(label);
  }

  std::string bytes_;
  std::vector<uint32_t> ends_;   // by label
  std::vector<uint32_t> slots_;  // label + 1, 0 when empty; a power of two, at most 3/4 full
};

struct VectorIndex::Graph {
  explicit Graph(size_t dimension) : space(dimension) {}
  Int8Space space;
  std::unique_ptr<hnswlib::HierarchicalNSW<float>> hnsw;  // after space: it points into it
  PaperIds ids;
  std::vector<uint8_t> removed;  // by label
  size_t live = 0;
  // An opened index only searches until its first write, so it drops what only inserts use:
  // hnswlib's per-paper insertion locks (a 40-byte mutex each) and its label table (about
  // 40 bytes each), and finds vectors through internal_ids (4 bytes each) instead.
  // make_writable() rebuilds them.
  bool writable = true;
  std::vector<uint32_t> internal_ids;  // by label, while !writable

  void make_writable() {
    if (writable) return;
    std::vector<std::mutex>(hnsw->max_elements_).swap(hnsw->link_list_locks_);
    for (size_t internal = 0; internal < hnsw->cur_element_count; ++internal)
      hnsw->label_lookup_[hnsw->getExternalLabel(static_cast<hnswlib::tableint>(internal))] =
          static_cast<hnswlib::tableint>(internal);
    std::vector<uint32_t>().swap(internal_ids);
    writable = true;
  }
};

VectorIndex::VectorIndex(size_t dimension, std::string model_identity, const IndexParams& params)
    : dimension_(dimension),
      model_identity_(std::move(model_identity)),
      params_(params),
      graph_(std::make_unique<Graph>(dimension)) {}

VectorIndex::~VectorIndex() = default;

std::unique_ptr<VectorIndex> VectorIndex::create(size_t dimension, std::string model_identity,
                                                 const IndexParams& params) {
  auto index =
      std::unique_ptr<VectorIndex>(new VectorIndex(dimension, std::move(model_identity), params));
  index->graph_->hnsw = std::make_unique<hnswlib::HierarchicalNSW<float>>(
      &index->graph_->space, 1024, params.links, params.ef_construction);
  index->graph_->hnsw->setEf(params.ef_search);
  return index;
}

fs::path VectorIndex::current_generation(const fs::path& folder) {
  std::ifstream in(folder / kCurrentFile);
  std::string name;
  if (!in || !std::getline(in, name) || !generation_number(name)) return {};
  return folder / name;
}

Result<std::unique_ptr<VectorIndex>> VectorIndex::open(const fs::path& folder,
                                                       const IndexParams& params) {
  const fs::path generation = current_generation(folder);
  if (generation.empty())
    return fail((folder / kCurrentFile).string() +
                ": no vectors yet (`paperboy embed train` builds them)");
  const fs::path papers_path = generation / kPapersFile;
  std::ifstream in(papers_path, std::ios::binary);
  if (!in) return fail(papers_path.string() + ": cannot open");
  const std::string file((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (file.size() < sizeof kMagic + sizeof(uint64_t) ||
      std::memcmp(file.data(), kMagic, sizeof kMagic) != 0)
    return fail(papers_path.string() + ": not a paperboy vector index");
  const std::string_view body(file.data() + sizeof kMagic,
                              file.size() - sizeof kMagic - sizeof(uint64_t));
  uint64_t checksum = 0;
  std::memcpy(&checksum, file.data() + file.size() - sizeof checksum, sizeof checksum);
  if (fnv1a(body) != checksum) return fail(papers_path.string() + ": checksum mismatch (damaged)");

  Reader reader(body);
  uint32_t dimension = 0, identity_length = 0;
  uint64_t sequence = 0, count = 0;
  std::string identity;
  bool ok = reader.get(dimension) && reader.get(sequence) && reader.get(identity_length) &&
            reader.get_string(identity, identity_length) && reader.get(count) && dimension > 0;
  if (!ok) return fail(papers_path.string() + ": malformed header");
  auto index = std::unique_ptr<VectorIndex>(new VectorIndex(dimension, identity, params));
  index->store_sequence_ = sequence;
  index->generation_ = generation;
  Graph& graph = *index->graph_;
  if (count > body.size()) return fail(papers_path.string() + ": malformed paper count");
  graph.ids.reserve(count);
  graph.removed.reserve(count);
  for (uint64_t label = 0; ok && label < count; ++label) {
    uint8_t removed = 0;
    uint32_t length = 0;
    std::string id;
    ok = reader.get(removed) && reader.get(length) && reader.get_string(id, length);
    if (!ok) break;
    if (graph.ids.find(id)) return fail(papers_path.string() + ": paper " + id + " listed twice");
    if (auto added = graph.ids.add(id); !added) return std::unexpected(added.error());
    graph.removed.push_back(removed);
    if (!removed) ++graph.live;
  }
  if (!ok || !reader.at_end()) return fail(papers_path.string() + ": malformed paper list");

  const fs::path graph_path = generation / kGraphFile;
  try {
    graph.hnsw = std::make_unique<hnswlib::HierarchicalNSW<float>>(
        &graph.space, graph_path.string(), false, std::max<size_t>(count, 1024));
  } catch (const std::exception& error) {
    return fail(graph_path.string() + ": " + error.what());
  }
  auto& hnsw = *graph.hnsw;
  if (hnsw.cur_element_count != count || hnsw.data_size_ != graph.space.get_data_size())
    return fail(graph_path.string() + ": does not match " + papers_path.string());
  graph.internal_ids.assign(count, 0);
  for (size_t internal = 0; internal < count; ++internal) {
    const size_t label = hnsw.getExternalLabel(static_cast<hnswlib::tableint>(internal));
    if (label >= count)
      return fail(graph_path.string() + ": does not match " + papers_path.string());
    graph.internal_ids[label] = static_cast<uint32_t>(internal);
  }
  std::vector<std::mutex>().swap(hnsw.link_list_locks_);
  std::unordered_map<hnswlib::labeltype, hnswlib::tableint>().swap(hnsw.label_lookup_);
  graph.writable = false;
  hnsw.setEf(params.ef_search);
  return index;
}

Result<void> VectorIndex::save(const fs::path& folder,
                               std::span<const fs::path> companion_files) const {
  static_assert(std::endian::native == std::endian::little, "vector files are little-endian");
  std::error_code error;
  fs::create_directories(folder, error);
  if (error) return fail(folder.string() + ": " + error.message());

  // Generations newer than CURRENT are left over from a save that crashed: replace them.
  const fs::path current = current_generation(folder);
  uint64_t next = current.empty() ? 1 : *generation_number(current.filename().string()) + 1;
  const fs::path generation = folder / generation_name(next);
  fs::remove_all(generation, error);
  fs::create_directories(generation, error);
  if (error) return fail(generation.string() + ": " + error.message());

  const Graph& graph = *graph_;
  const fs::path graph_path = generation / kGraphFile;
  try {
    graph.hnsw->saveIndex(graph_path.string());
  } catch (const std::exception& exception) {
    return fail(graph_path.string() + ": " + exception.what());
  }
  // hnswlib does not check its writes: compare the file with the size it must have.
  size_t expected = 96 + graph.hnsw->cur_element_count * graph.hnsw->size_data_per_element_;
  for (size_t i = 0; i < graph.hnsw->cur_element_count; ++i)
    expected += sizeof(unsigned) + (graph.hnsw->element_levels_[i] > 0
                                        ? graph.hnsw->size_links_per_element_ *
                                              static_cast<size_t>(graph.hnsw->element_levels_[i])
                                        : 0);
  if (fs::file_size(graph_path, error) != expected || error)
    return fail(graph_path.string() + ": incomplete write (disk full?)");
  if (auto synced = fsync_path(graph_path, false); !synced) return synced;

  std::string papers(kMagic, sizeof kMagic);
  std::string body;
  put(body, static_cast<uint32_t>(dimension_));
  put(body, store_sequence_);
  put(body, static_cast<uint32_t>(model_identity_.size()));
  body += model_identity_;
  put(body, static_cast<uint64_t>(graph.ids.size()));
  for (size_t label = 0; label < graph.ids.size(); ++label) {
    put(body, graph.removed[label]);
    put(body, static_cast<uint32_t>(graph.ids.id(label).size()));
    body += graph.ids.id(label);
  }
  papers += body;
  put(papers, fnv1a(body));
  if (auto written = write_synced(generation / kPapersFile, papers); !written) return written;

  for (const fs::path& companion : companion_files) {
    const fs::path target = generation / companion.filename();
    if (::link(companion.c_str(), target.c_str()) != 0) {
      fs::copy_file(companion, target, fs::copy_options::overwrite_existing, error);
      if (error) return fail(companion.string() + ": " + error.message());
      if (auto synced = fsync_path(target, false); !synced) return synced;
    }
  }
  if (auto synced = fsync_path(generation, true); !synced) return synced;

  const std::string name = generation.filename().string() + "\n";
  const fs::path temp = folder / (std::string(kCurrentFile) + ".tmp");
  if (auto written = write_synced(temp, name); !written) return written;
  if (::rename(temp.c_str(), (folder / kCurrentFile).c_str()) != 0)
    return fail((folder / kCurrentFile).string() + ": " + std::strerror(errno));
  if (auto synced = fsync_path(folder, true); !synced) return synced;

  // Readers load a generation whole, so older ones can go once CURRENT has moved on.
  for (const auto& entry : fs::directory_iterator(folder, error)) {
    const std::string entry_name = entry.path().filename().string();
    if (generation_number(entry_name) && entry.path() != generation) {
      std::error_code ignored;
      fs::remove_all(entry.path(), ignored);
    }
  }
  return {};
}

std::vector<char> VectorIndex::quantize(std::span<const float> vector) const {
  std::vector<char> data(sizeof(float) + dimension_, 0);
  float largest = 0;
  for (size_t i = 0; i < dimension_ && i < vector.size(); ++i)
    largest = std::max(largest, std::abs(vector[i]));
  const float scale = largest > 0 ? largest / 127.0f : 0.0f;
  std::memcpy(data.data(), &scale, sizeof scale);
  for (size_t i = 0; i < dimension_ && i < vector.size() && scale > 0; ++i)
    data[sizeof(float) + i] = static_cast<char>(std::lround(vector[i] / scale));
  return data;
}

void VectorIndex::reserve(size_t papers) {
  auto& hnsw = *graph_->hnsw;
  if (papers <= hnsw.max_elements_) return;
  hnsw.resizeIndex(std::max(papers, hnsw.max_elements_ * 2));
}

Result<size_t> VectorIndex::label_for(std::string_view paper_id) {
  Graph& graph = *graph_;
  if (auto found = graph.ids.find(paper_id)) return *found;
  auto added = graph.ids.add(paper_id);
  if (added) graph.removed.push_back(1);  // counted live once its vector is in the graph
  return added;
}

Result<void> VectorIndex::upsert(std::string_view paper_id, std::span<const float> vector) {
  const std::string id(paper_id);
  return upsert_batch(std::span<const std::string>(&id, 1), vector, 1);
}

Result<void> VectorIndex::upsert_batch(std::span<const std::string> paper_ids,
                                       std::span<const float> vectors, size_t threads) {
  if (vectors.size() != paper_ids.size() * dimension_)
    return fail(std::to_string(vectors.size()) + " floats for " + std::to_string(paper_ids.size()) +
                " papers: the index holds " + std::to_string(dimension_) + "-dimensional vectors");
  Graph& graph = *graph_;
  graph.make_writable();
  std::vector<std::pair<size_t, std::vector<char>>> additions;
  for (size_t i = 0; i < paper_ids.size(); ++i) {
    const auto vector = vectors.subspan(i * dimension_, dimension_);
    if (std::all_of(vector.begin(), vector.end(), [](float value) { return value == 0.0f; })) {
      remove(paper_ids[i]);
      continue;
    }
    auto assigned = label_for(paper_ids[i]);
    if (!assigned) return std::unexpected(assigned.error());
    const size_t label = *assigned;
    additions.emplace_back(label, quantize(vector));
    if (graph.removed[label]) {
      graph.removed[label] = 0;
      ++graph.live;
    }
  }
  std::atomic<size_t> next{0};
  std::atomic<bool> failed{false};
  std::string failure;  // written by the one thread that set `failed`
  auto insert = [&] {
    for (size_t i; !failed && (i = next.fetch_add(1)) < additions.size();) {
      try {
        graph.hnsw->addPoint(additions[i].second.data(), additions[i].first);
      } catch (const std::exception& error) {
        if (!failed.exchange(true)) failure = error.what();
      }
    }
  };
  try {
    reserve(graph.ids.size());
  } catch (const std::exception& error) {
    return fail(std::string("vector index: ") + error.what());
  }
  {
    std::vector<std::jthread> workers;
    for (size_t t = 1; t < std::min(threads, additions.size()); ++t) workers.emplace_back(insert);
    insert();
  }
  if (failed) return fail("vector index: " + failure);
  return {};
}

void VectorIndex::remove(std::string_view paper_id) {
  Graph& graph = *graph_;
  const auto found = graph.ids.find(paper_id);
  if (!found || graph.removed[*found]) return;
  graph.make_writable();
  graph.hnsw->markDelete(*found);
  graph.removed[*found] = 1;
  --graph.live;
}

std::vector<Neighbor> VectorIndex::search(std::span<const float> query, size_t k) const {
  std::vector<Neighbor> neighbors;
  if (graph_->live == 0 || k == 0 || query.size() != dimension_) return neighbors;
  const std::vector<char> quantized = quantize(query);
  if (std::all_of(quantized.begin(), quantized.begin() + sizeof(float),
                  [](char byte) { return byte == 0; }))
    return neighbors;  // a zero query has no direction
  auto queue = graph_->hnsw->searchKnn(quantized.data(), std::min(k, graph_->live));
  neighbors.resize(queue.size());
  for (size_t i = queue.size(); i-- > 0;) {
    neighbors[i] = {std::string(graph_->ids.id(queue.top().second)), 1.0f - queue.top().first};
    queue.pop();
  }
  return neighbors;
}

std::optional<std::vector<float>> VectorIndex::vector_of(std::string_view paper_id) const {
  const auto found = graph_->ids.find(paper_id);
  if (!found || graph_->removed[*found]) return std::nullopt;
  const auto& hnsw = *graph_->hnsw;
  hnswlib::tableint internal = graph_->internal_ids.empty() ? 0 : graph_->internal_ids[*found];
  if (graph_->writable) {
    const auto looked_up = hnsw.label_lookup_.find(*found);
    if (looked_up == hnsw.label_lookup_.end()) return std::nullopt;
    internal = looked_up->second;
  }
  const char* data = hnsw.getDataByInternalId(internal);
  float scale;
  std::memcpy(&scale, data, sizeof scale);
  std::vector<float> vector(dimension_);
  for (size_t i = 0; i < dimension_; ++i)
    vector[i] = scale * static_cast<float>(static_cast<int8_t>(data[sizeof(float) + i]));
  return vector;
}

size_t VectorIndex::size() const { return graph_->live; }

std::vector<std::string> VectorIndex::paper_ids() const {
  std::vector<std::string> ids;
  ids.reserve(graph_->live);
  for (size_t label = 0; label < graph_->ids.size(); ++label)
    if (!graph_->removed[label]) ids.emplace_back(graph_->ids.id(label));
  return ids;
}

size_t VectorIndex::bytes_per_paper() const {
  const auto& hnsw = *graph_->hnsw;
  if (hnsw.cur_element_count == 0) return 0;
  size_t bytes = 0;
  for (size_t i = 0; i < hnsw.cur_element_count; ++i)
    bytes += hnsw.size_data_per_element_ + sizeof(void*) + sizeof(int) +
             hnsw.size_links_per_element_ * static_cast<size_t>(hnsw.element_levels_[i]);
  return bytes / hnsw.cur_element_count;
}

}  // namespace paperboy::vector
