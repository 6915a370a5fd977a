// The BERT encoder stack (Hugging Face BertModel, absolute positions, exact erf GELU) on the CPU,
// with every matrix product through OpenBLAS. Internal to the encoder component.
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <span>
#include <vector>

#include "core/result.h"
#include "encoder/safetensors.h"

namespace paperboy::encoder {

struct BertConfig {
  size_t vocab_size = 0;
  size_t hidden_size = 0;
  size_t layers = 0;
  size_t heads = 0;
  size_t intermediate_size = 0;
  size_t max_positions = 0;
  size_t type_vocab_size = 0;
  float layer_norm_eps = 1e-12f;

  // Reads and checks `config.json`; each problem names the file and the field.
  static Result<BertConfig> read(const std::filesystem::path& path);
};

// Scratch memory for one forward pass; one per thread, reused across batches.
struct BertWorkspace {
  std::vector<float> hidden, query, key, value, context, projected, intermediate, scores;
};

class BertModel {
 public:
  // Binds every tensor the config calls for, with or without the "bert." prefix, checking its
  // shape against the config (so a config that does not match the weights is named).
  static Result<BertModel> load(const BertConfig& config, SafetensorsFile weights);

  const BertConfig& config() const { return config_; }
  std::span<const std::byte> weight_bytes() const { return weights_.bytes(); }

  // Runs the encoder over sentences packed back to back: `ids` holds every sentence's token ids
  // one after another and `lengths` their lengths. Attention stays within each sentence, which
  // is what padding plus an attention mask computes, without spending work on padding. Returns
  // the last hidden state, one row of hidden_size per token, in workspace.hidden.
  std::span<const float> forward(std::span<const int32_t> ids, std::span<const size_t> lengths,
                                 BertWorkspace& workspace) const;

 private:
  struct Linear {
    const float* weight = nullptr;  // [out, in], as torch.nn.Linear stores it
    const float* bias = nullptr;    // [out]
    size_t in = 0;
    size_t out = 0;
  };
  struct Norm {
    const float* gain = nullptr;
    const float* bias = nullptr;
  };
  struct Layer {
    Linear query, key, value, attention_output;
    Norm attention_norm;
    Linear intermediate, output;
    Norm output_norm;
  };

  explicit BertModel(SafetensorsFile weights) : weights_(std::move(weights)) {}
  Result<Linear> bind_linear(const std::string& name, size_t in, size_t out);
  Result<Norm> bind_norm(const std::string& name);
  Result<const float*> bind(const std::string& name, std::vector<size_t> shape);

  void linear(const float* input, size_t rows, const Linear& layer, float* output) const;
  void layer_norm(float* rows, size_t count, const Norm& norm) const;
  void attention(std::span<const size_t> lengths, BertWorkspace& workspace) const;

  SafetensorsFile weights_;
  BertConfig config_;
  std::string prefix_;  // "" or "bert."
  const float* word_embeddings_ = nullptr;
  const float* position_embeddings_ = nullptr;
  const float* token_type_embeddings_ = nullptr;
  Norm embedding_norm_;
  std::vector<Layer> layers_;
};

}  // namespace paperboy::encoder
