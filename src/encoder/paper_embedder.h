// A transformer sentence encoder as the paper embedder of the vector index (embed/embedder.h),
// in place of the built-in PPMI-SVD-SIF model.
//
// The data folder names the embedder in use by one file in <data>/embed/: model.bin (the
// built-in model itself) or encoder.json, a reference to a checkpoint folder:
//   {"checkpoint": "/abs/path/all-MiniLM-L6-v2"}
// Each vector generation keeps a copy of that file, so search, related papers and ingest embed
// queries and new papers with the model that made the vectors. The identity of an encoder
// covers its checkpoint's fingerprint: replacing the weights makes the next sync rebuild.
//
//   auto embedder = encoder::load_embedder("data/embed/encoder.json", 2);
//   (*embedder)->embed("linear-time alternatives to attention", vector);
#pragma once

#include <cstddef>
#include <filesystem>
#include <memory>
#include <span>
#include <string>
#include <string_view>

#include "core/result.h"
#include "embed/embedder.h"
#include "encoder/encoder.h"

namespace paperboy::encoder {

inline constexpr const char* kEncoderReferenceFile = "encoder.json";

class EncoderEmbedder final : public embed::Embedder {
 public:
  explicit EncoderEmbedder(std::unique_ptr<SentenceEncoder> encoder);

  size_t dimension() const override { return encoder_->dim(); }
  // "sentence-encoder/1:all-MiniLM-L6-v2:0123456789abcdef"
  std::string identity() const override { return identity_; }
  // A text the tokenizer rejects (invalid UTF-8) gets the zero vector: no direction.
  void embed(std::string_view text, std::span<float> out) const override;
  using Embedder::embed;
  // Many texts at once, in the encoder's batches and threads: rows of dimension() floats.
  void embed_batch(std::span<const std::string> texts, std::span<float> out) const;

  const SentenceEncoder& encoder() const { return *encoder_; }

 private:
  std::unique_ptr<SentenceEncoder> encoder_;
  std::string identity_;
};

// Checks that `checkpoint` loads, then writes the reference file naming its absolute path
// atomically (temp file, fsync, rename).
Result<void> save_encoder_reference(const std::filesystem::path& reference_file,
                                    const std::filesystem::path& checkpoint);

// The embedder a model file names: an encoder reference (encoder.json) loads the checkpoint it
// points to with `threads` workers; any other file is a built-in model (embed/sif_model.h).
Result<std::unique_ptr<embed::Embedder>> load_embedder(const std::filesystem::path& model_file,
                                                       size_t threads);

// The embedder a vector generation folder keeps beside its vectors: its encoder.json when it
// has one, else its built-in model.bin.
Result<std::unique_ptr<embed::Embedder>> load_generation_embedder(
    const std::filesystem::path& generation, size_t threads);

// Writes the vectors of `texts` (rows of embedder.dimension() floats) on `threads` threads;
// an encoder runs its own batches.
void embed_texts(const embed::Embedder& embedder, std::span<const std::string> texts,
                 std::span<float> out, size_t threads);

}  // namespace paperboy::encoder
