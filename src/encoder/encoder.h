// Transformer sentence encoders on the CPU: a BERT-family sentence-embedding checkpoint folder,
// as published for sentence-transformers/all-MiniLM-L6-v2, BAAI/bge-small-en-v1.5 or
// intfloat/e5-small-v2, turns texts into fixed-size float vectors.
//
//   auto encoder = encoder::load_sentence_encoder("models/all-MiniLM-L6-v2", {.threads = 2});
//   if (!encoder) ... encoder.error().message names the file and field at fault ...
//   auto vectors = (*encoder)->encode(texts);  // vectors->row(i): (*encoder)->dim() floats
//
// The folder holds config.json, model.safetensors (F32 or F16), tokenizer.json and/or vocab.txt,
// and optionally modules.json, 1_Pooling/config.json and sentence_bert_config.json. Models that
// expect instruction prefixes (e5: "query: " / "passage: ", bge: its query instruction) get them
// from the caller. See docs/encoder.md.
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.h"

namespace paperboy::encoder {

struct EncoderOptions {
  // Worker threads. Each runs whole batches with OpenBLAS single-threaded (loading an encoder
  // sets OpenBLAS to one thread for the process): the small matrix products of one sentence
  // batch gain little from splitting, and the threads also share the non-BLAS work.
  size_t threads = 1;
  // Sentences per forward pass; a call with fewer than threads * batch_size texts is split so
  // that every thread gets some.
  size_t batch_size = 32;
  // Tokens per text including [CLS] and [SEP]; longer texts are cut. 0: the checkpoint's
  // max_seq_length (sentence_bert_config.json), else its max_position_embeddings.
  size_t max_tokens = 0;
};

enum class Pooling { kMean, kCls, kMax };

struct EncoderInfo {
  std::string name;         // the folder's name, e.g. "all-MiniLM-L6-v2"
  std::string fingerprint;  // 16 hex digits over every file that shapes the vectors
  size_t dim = 0;
  size_t layers = 0;
  size_t max_tokens = 0;
  Pooling pooling = Pooling::kMean;
  bool normalized = false;  // vectors have unit length (a Normalize module)
  std::string weight_type;  // "F32" or "F16" (of the word embeddings)

  // "all-MiniLM-L6-v2 (BERT, 6 layers, 384 dims, mean pooling, normalized, F32, max 256 tokens,
  // fingerprint 0123456789abcdef)"
  std::string describe() const;
};

// Row-major vectors, one row of `dim` floats per input text.
struct Embeddings {
  size_t dim = 0;
  std::vector<float> values;

  size_t size() const { return dim ? values.size() / dim : 0; }
  std::span<const float> row(size_t index) const { return {values.data() + index * dim, dim}; }
};

class SentenceEncoder {
 public:
  ~SentenceEncoder();

  // One vector per text, in order. Safe to call from several threads at once. Fails only for a
  // text that is not valid UTF-8 (the message names its index and byte).
  Result<Embeddings> encode(std::span<const std::string> texts) const;

  // The ids the model sees for `text`: [CLS] WordPiece ids... [SEP], cut to max_tokens.
  Result<std::vector<int32_t>> token_ids(std::string_view text) const;

  const EncoderInfo& info() const;
  size_t dim() const { return info().dim; }

 private:
  struct State;
  explicit SentenceEncoder(std::unique_ptr<State> state);
  friend Result<std::unique_ptr<SentenceEncoder>> load_sentence_encoder(
      const std::filesystem::path& folder, const EncoderOptions& options);

  std::unique_ptr<State> state_;
};

// Loads and checks the whole checkpoint; the weights are memory-mapped (F32 used in place).
// Each problem (missing file, missing tensor, wrong shape, unsupported dtype, config that does
// not match the weights, corrupt safetensors header) is reported naming the file and field.
Result<std::unique_ptr<SentenceEncoder>> load_sentence_encoder(const std::filesystem::path& folder,
                                                               const EncoderOptions& options = {});

}  // namespace paperboy::encoder
