// Keeps the paper vectors (<data>/vectors) in step with the store, as index_sync.h does for the
// search index. Each vector generation records the store change it has caught up to and the
// model that made it (a hard link to <data>/embed/model.bin), all switched in by one rename,
// so after a crash the vectors are those of a complete earlier sync and the next sync catches
// up from there. A model other than the one that made the vectors (after a retrain) makes the
// next sync rebuild them. Writers take <data>/vectors/LOCK, so syncs never interleave.
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>

#include "core/result.h"
#include "store/store.h"

namespace paperboy::cli {

struct EmbedTrainOptions {
  // A transformer sentence-encoder checkpoint folder to embed with (encoder/paper_embedder.h)
  // instead of training the built-in embedder; empty: the built-in one.
  std::filesystem::path encoder;
  size_t dimension = 384;
  uint64_t seed = 1;
  size_t threads = 0;          // 0: every core
  size_t max_papers = 500000;  // a larger store is sampled evenly for training
};

// Learns the built-in embedder from the store's titles and abstracts and saves it as
// <embed_dir>/model.bin, or with options.encoder set, makes that checkpoint the embedder
// (<embed_dir>/encoder.json); then rebuilds the vectors with it. Returns the number of papers
// with vectors.
Result<size_t> train_embedder(store::Store& store, const std::filesystem::path& embed_dir,
                              const std::filesystem::path& vectors_dir,
                              const EmbedTrainOptions& options, bool quiet);

// Embeds the papers changed since the vectors last caught up (all of them when the model
// changed) with the embedder `model_file` names (encoder::load_embedder). Does nothing, and
// returns 0, while no model has been trained.
Result<size_t> sync_vectors(store::Store& store, const std::filesystem::path& model_file,
                            const std::filesystem::path& vectors_dir, bool quiet,
                            size_t threads = 0);

}  // namespace paperboy::cli
