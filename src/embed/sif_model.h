// The built-in embedder, learned from the store's own titles and abstracts, offline, on the CPU:
//  1. Terms come from the search analyser (text/analyzer.h), so "transformers" and "Transformer"
//     are one word here as in keyword search.
//  2. Word vectors: co-occurrence counts in a +-window (weighted 1/distance), positive PMI with
//     context-distribution smoothing (alpha 0.75), truncated by randomized SVD (Halko et al.
//     2011) to `dimension` columns, scaled by sqrt(singular value) (Levy et al. 2015).
//  3. Paper vectors: smooth inverse-frequency weighted mean of the word vectors, with the
//     corpus's common component removed (Arora et al. 2017), then unit length.
// Training is deterministic for a given corpus, options and seed, whatever the thread count.
//
//   auto model = embed::train_sif_model(texts, {.dimension = 384, .seed = 1});
//   (*model)->save("data/embed/model.bin");
//   std::vector<float> v = (*model)->embed("linear-time alternatives to attention");
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "core/result.h"
#include "embed/embedder.h"

namespace paperboy::embed {

struct TrainOptions {
  size_t dimension = 384;
  uint64_t seed = 1;
  size_t threads = 0;             // 0: every core
  size_t window = 10;             // context words on each side
  size_t min_count = 3;           // rarer terms get no vector
  size_t max_vocabulary = 60000;  // the most frequent terms
  size_t power_iterations = 3;    // randomized SVD accuracy
  double sif_weight = 1e-3;       // the "a" of a / (a + p(w))
  // Called from the training thread as each stage advances: ("analyse", done, total), ...
  std::function<void(std::string_view stage, size_t done, size_t total)> on_progress;
};

class SifModel final : public Embedder {
 public:
  size_t dimension() const override { return dimension_; }
  std::string identity() const override { return identity_; }
  void embed(std::string_view text, std::span<float> out) const override;
  using Embedder::embed;

  size_t vocabulary_size() const { return terms_.size(); }
  // The unit-length vector of an analysed term, empty when the term is not in the vocabulary.
  std::span<const float> word_vector(std::string_view term) const;

  // Writes the model atomically: temp file, fsync, rename, fsync of the folder.
  Result<void> save(const std::filesystem::path& path) const;
  static Result<std::unique_ptr<SifModel>> load(const std::filesystem::path& path);

 private:
  friend Result<std::unique_ptr<SifModel>> train_sif_model(std::span<const std::string> texts,
                                                           const TrainOptions& options);
  std::string serialize_body() const;
  void finish_loading();  // builds the term lookup and the identity

  size_t dimension_ = 0;
  double sif_weight_ = 1e-3;
  std::vector<std::string> terms_;
  std::vector<float> term_weights_;      // a / (a + p(w)) per term
  std::vector<float> word_vectors_;      // terms_.size() x dimension_, rows unit length
  std::vector<float> common_component_;  // unit length; removed from every paper vector
  std::unordered_map<std::string, uint32_t> term_ids_;
  std::string identity_;
};

// Learns a model from `texts` (titles and abstracts, one paper each). Fails when the texts hold
// too few distinct terms for the asked dimension.
Result<std::unique_ptr<SifModel>> train_sif_model(std::span<const std::string> texts,
                                                  const TrainOptions& options);

}  // namespace paperboy::embed
