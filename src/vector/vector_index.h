// Approximate nearest-neighbour search over paper vectors: an HNSW graph (hnswlib) whose
// vectors are stored as int8 with one float scale each (dimension + 4 bytes a paper instead of
// 4 x dimension), compared by inner product, so unit vectors rank by cosine similarity.
//
// On disk a vector folder holds generations: <folder>/gNNNNNNNNNNNN/{graph.hnsw, papers.bin,
// and companion files such as the model that made the vectors} and <folder>/CURRENT naming the
// live one. save() writes and fsyncs a whole new generation, then replaces CURRENT by rename,
// so a crash leaves the previous generation or the new one, never a mix. papers.bin holds the
// paper ids, the embedder's identity and the store change number the vectors have caught up to.
//
//   auto index = vector::VectorIndex::create(256, model.identity());
//   index->upsert("2312.00752", model.embed(text));
//   index->set_store_sequence(42);
//   index->save("data/vectors", {"data/embed/model.bin"});
//   auto opened = vector::VectorIndex::open("data/vectors");
//   for (auto& hit : (*opened)->search(query_vector, 10)) ... hit.paper_id, hit.similarity ...
#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.h"

namespace paperboy::vector {

// M = 12 with ef = 128 measured within 0.005 of the recall and 8% of the speed of M = 16 with
// ef = 96 at 1M papers, builds 19% faster, and saves 32 bytes a paper of level-0 links: 548
// bytes a paper in memory, 1.48 GB at 2.7M papers (docs/benchmarks.md, "Semantic search at
// 1M papers").
struct IndexParams {
  size_t links = 12;             // HNSW M: neighbours kept per node and layer (2M on level 0)
  size_t ef_construction = 200;  // candidate list while inserting
  size_t ef_search = 128;        // candidate list while searching (at least k)
};

struct Neighbor {
  std::string paper_id;
  float similarity = 0;  // inner product of the (quantised) vectors
};

class VectorIndex {
 public:
  ~VectorIndex();
  VectorIndex(const VectorIndex&) = delete;
  VectorIndex& operator=(const VectorIndex&) = delete;

  static std::unique_ptr<VectorIndex> create(size_t dimension, std::string model_identity,
                                             const IndexParams& params = {});
  // Opens the generation CURRENT names. Fails with a message naming the file at fault.
  static Result<std::unique_ptr<VectorIndex>> open(const std::filesystem::path& folder,
                                                   const IndexParams& params = {});
  // The folder of the live generation, empty when there is none.
  static std::filesystem::path current_generation(const std::filesystem::path& folder);

  // Writes a new generation holding the index and hard links to (or copies of)
  // `companion_files`, switches CURRENT to it and removes older generations.
  Result<void> save(const std::filesystem::path& folder,
                    std::span<const std::filesystem::path> companion_files = {}) const;

  // Adds or replaces a paper's vector; a zero vector removes the paper instead, since it has
  // no direction to compare. Fails for a vector of another dimension. Not safe concurrently
  // with other calls.
  Result<void> upsert(std::string_view paper_id, std::span<const float> vector);
  // Adds or replaces many at once (`vectors` holds one row per id), inserting into the graph on
  // `threads` threads. After a failure the in-memory index is unusable: reopen it.
  Result<void> upsert_batch(std::span<const std::string> paper_ids, std::span<const float> vectors,
                            size_t threads);
  void remove(std::string_view paper_id);

  // The k nearest papers, most similar first. Safe from several threads at once.
  std::vector<Neighbor> search(std::span<const float> query, size_t k) const;
  // The stored (dequantised) vector of a paper, nullopt when it has none.
  std::optional<std::vector<float>> vector_of(std::string_view paper_id) const;

  size_t size() const;  // papers with a vector
  // The ids of the papers with a vector, in the order they were first added.
  std::vector<std::string> paper_ids() const;
  size_t dimension() const { return dimension_; }
  const std::string& model_identity() const { return model_identity_; }
  // The generation folder open() read, empty for an index made by create().
  const std::filesystem::path& generation() const { return generation_; }
  uint64_t store_sequence() const { return store_sequence_; }
  void set_store_sequence(uint64_t sequence) { store_sequence_ = sequence; }
  // Bytes of vector and graph memory per stored paper (excluding id strings).
  size_t bytes_per_paper() const;

 private:
  struct Graph;
  VectorIndex(size_t dimension, std::string model_identity, const IndexParams& params);
  std::vector<char> quantize(std::span<const float> vector) const;
  void reserve(size_t papers);
  // The label for `paper_id`, assigning the next one to a new id.
  Result<size_t> label_for(std::string_view paper_id);

  size_t dimension_;
  std::string model_identity_;
  IndexParams params_;
  uint64_t store_sequence_ = 0;
  std::filesystem::path generation_;
  std::unique_ptr<Graph> graph_;
};

}  // namespace paperboy::vector
