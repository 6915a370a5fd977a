// The built-in embedder, learned from the store's own titles and abstracts, offline, on the CPU:
//  1. Terms come from the search analyser (text/analyzer.h), so "transformers" and "Transformer"
//     are one word here as in keyword search.
//  2. Word vectors: co-occurrence counts in a +-window (weighted 1/distance), positive PMI with
//     context-distribution smoothing (alpha 0.75), truncated by randomized SVD (Halko et al.
//     2011) to `dimension` columns, scaled by sqrt(singular value) (Levy et al. 2015).
//  3. Paper vectors, first part: smooth inverse-frequency weighted mean of the word vectors,
//     with the corpus's common component removed (Arora et al. 2017), then unit length.
//  4. Paper vectors, second part: latent semantic indexing (Deerwester et al. 1990). The
//     paper-term matrix of tf-idf weights (sublinear tf, rows unit length) is truncated by the
//     same randomized SVD; a text is "folded in": its tf-idf vector times the top right singular
//     vectors, so papers added later (and queries) get vectors the same way the training papers
//     did. Word vectors capture what words mean near each other; LSI captures which words make
//     up the same kind of paper. On SciFact the two together rank better than either alone.
//  The parts are concatenated, each scaled so that the cosine of two paper vectors is
//  (1 - s) * cosine of their word parts + s * cosine of their LSI parts, s = lsi_similarity_share.
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
  size_t threads = 0;  // 0: every core
  size_t window = 10;  // context words on each side
  // Rarer terms get no vector. 1 keeps every term (up to max_vocabulary): in the LSI part a rare
  // term points at the papers that use it, which measured better on SciFact than dropping it.
  size_t min_count = 1;
  size_t max_vocabulary = 60000;  // the most frequent terms
  size_t power_iterations = 3;    // randomized SVD accuracy
  double sif_weight = 1e-3;       // the "a" of a / (a + p(w))
  bool idf_word_weights = false;  // weigh the word part by idf instead of a / (a + p(w))
  // Share of `dimension` given to the LSI part (rounded; reduced when the corpus has too few
  // papers for it, the word part taking the rest). 0: word vectors only.
  double lsi_fraction = 0.5;
  double lsi_similarity_share = 0.5;  // the s above
  // LSI term vectors are V * S^-power: 0 keeps the concepts' own weight (the cosine of the
  // rank-k tf-idf vectors), 1 weighs every concept alike.
  double lsi_singular_power = 0;
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
  size_t word_dimension() const { return word_dimension_; }  // the SIF part's share
  size_t lsi_dimension() const { return dimension_ - word_dimension_; }
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

  // 1: word vectors only (models saved before LSI; still loaded, identity unchanged); 2: both.
  uint32_t format_ = 2;
  size_t dimension_ = 0;
  size_t word_dimension_ = 0;
  double sif_weight_ = 1e-3;
  float lsi_similarity_share_ = 0;
  std::vector<std::string> terms_;
  std::vector<float> term_weights_;      // a / (a + p(w)) per term
  std::vector<float> idf_;               // log(papers / papers with the term), for the LSI part
  std::vector<float> word_vectors_;      // terms_.size() x word_dimension_, rows unit length
  std::vector<float> common_component_;  // unit length; removed from every word part
  std::vector<float> lsi_vectors_;       // terms_.size() x lsi_dimension()
  std::unordered_map<std::string, uint32_t> term_ids_;
  std::string identity_;
};

// Learns a model from `texts` (titles and abstracts, one paper each). Fails when the texts hold
// too few distinct terms for the asked dimension.
Result<std::unique_ptr<SifModel>> train_sif_model(std::span<const std::string> texts,
                                                  const TrainOptions& options);

}  // namespace paperboy::embed
