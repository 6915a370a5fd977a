#include "encoder/bert.h"

#include <cblas.h>

#include <algorithm>
#include <bit>
#include <cmath>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

namespace paperboy::encoder {
namespace {

Result<size_t> positive_field(const std::string& where, const nlohmann::json& config,
                              const char* field, std::optional<size_t> fallback = std::nullopt) {
  const auto found = config.find(field);
  if (found == config.end() || found->is_null()) {
    if (fallback) return *fallback;
    return fail(where + ": missing field " + field);
  }
  if (!found->is_number_unsigned() || found->get<uint64_t>() == 0 ||
      found->get<uint64_t>() > (uint64_t{1} << 24))
    return fail(where + ": field " + field + " must be a positive integer, not " + found->dump());
  return found->get<size_t>();
}

Result<std::string> string_field(const std::string& where, const nlohmann::json& config,
                                 const char* field, const std::string& fallback) {
  const auto found = config.find(field);
  if (found == config.end() || found->is_null()) return fallback;
  if (!found->is_string()) return fail(where + ": field " + field + " must be a string");
  return found->get<std::string>();
}

// exp(x) for x <= 0 to about 1e-7 relative, written so that the compiler vectorises loops over
// it (glibc's expf is scalar): x = n ln 2 + r with |r| <= ln 2 / 2, exp(r) by its Taylor series.
float exp_nonpositive(float x) {
  x = std::max(x, -87.0f);  // keeps 2^n a normal float
  const float n = static_cast<float>(static_cast<int32_t>(x * 1.44269504f - 0.5f));
  const float r = x - n * 0.693145751953125f - n * 1.428606765330187e-06f;
  const float series =
      1.0f + r * (1.0f + r * (0.5f + r * (1.0f / 6 +
                                          r * (1.0f / 24 + r * (1.0f / 120 + r * (1.0f / 720))))));
  return series * std::bit_cast<float>((static_cast<int32_t>(n) + 127) << 23);
}

// GELU with erf, as torch.nn.functional.gelu (approximate="none"). erf comes from Abramowitz &
// Stegun 7.1.26 (absolute error below 1.5e-7, float rounding level), the formula PyTorch's own
// vectorised CPU kernel uses; std::erf is scalar and took an eighth of the encoder's time.
float gelu(float x) {
  const float z = x * static_cast<float>(M_SQRT1_2);
  const float a = std::abs(z);
  const float t = 1.0f / (1.0f + 0.3275911f * a);
  const float poly =
      t * (0.254829592f +
           t * (-0.284496736f + t * (1.421413741f + t * (-1.453152027f + t * 1.061405429f))));
  const float erf_a = 1.0f - poly * exp_nonpositive(-a * a);
  const float erf_z = std::copysign(erf_a, z);
  return 0.5f * x * (1.0f + erf_z);
}

}  // namespace

Result<BertConfig> BertConfig::read(const std::filesystem::path& path) {
  const std::string where = path.string();
  std::ifstream in(path, std::ios::binary);
  if (!in) return fail(where + ": cannot open (is this a sentence-transformers model folder?)");
  std::ostringstream text;
  text << in.rdbuf();
  nlohmann::json json;
  try {
    json = nlohmann::json::parse(text.str());
  } catch (const nlohmann::json::exception& error) {
    return fail(where + ": invalid JSON: " + error.what());
  }
  if (!json.is_object()) return fail(where + ": expected a JSON object");

  auto model_type = string_field(where, json, "model_type", "bert");
  if (!model_type) return std::unexpected(model_type.error());
  if (*model_type != "bert")
    return fail(where + ": model_type is \"" + *model_type +
                "\"; only BERT checkpoints (model_type \"bert\") are supported");
  auto activation = string_field(where, json, "hidden_act", "gelu");
  if (!activation) return std::unexpected(activation.error());
  if (*activation != "gelu")
    return fail(where + ": hidden_act is \"" + *activation + "\"; only \"gelu\" is supported");
  auto positions = string_field(where, json, "position_embedding_type", "absolute");
  if (!positions) return std::unexpected(positions.error());
  if (*positions != "absolute")
    return fail(where + ": position_embedding_type is \"" + *positions +
                "\"; only \"absolute\" is supported");

  BertConfig config;
  const std::pair<const char*, size_t*> required[] = {
      {"vocab_size", &config.vocab_size},
      {"hidden_size", &config.hidden_size},
      {"num_hidden_layers", &config.layers},
      {"num_attention_heads", &config.heads},
      {"intermediate_size", &config.intermediate_size},
      {"max_position_embeddings", &config.max_positions},
  };
  for (const auto& [field, target] : required) {
    auto value = positive_field(where, json, field);
    if (!value) return std::unexpected(value.error());
    *target = *value;
  }
  auto type_vocab = positive_field(where, json, "type_vocab_size", 2);
  if (!type_vocab) return std::unexpected(type_vocab.error());
  config.type_vocab_size = *type_vocab;

  if (const auto eps = json.find("layer_norm_eps"); eps != json.end()) {
    if (!eps->is_number() || eps->get<double>() <= 0 || eps->get<double>() > 1)
      return fail(where + ": field layer_norm_eps must be a small positive number");
    config.layer_norm_eps = eps->get<float>();
  }
  if (config.hidden_size % config.heads != 0)
    return fail(where + ": hidden_size " + std::to_string(config.hidden_size) +
                " is not a multiple of num_attention_heads " + std::to_string(config.heads));
  return config;
}

Result<const float*> BertModel::bind(const std::string& name, std::vector<size_t> shape) {
  auto values = weights_.floats(prefix_ + name, shape);
  if (!values) {
    return fail(values.error().message + " (config.json: hidden_size " +
                std::to_string(config_.hidden_size) + ", num_hidden_layers " +
                std::to_string(config_.layers) + ", intermediate_size " +
                std::to_string(config_.intermediate_size) + ", vocab_size " +
                std::to_string(config_.vocab_size) + ", max_position_embeddings " +
                std::to_string(config_.max_positions) + ")");
  }
  return values->data();
}

Result<BertModel::Linear> BertModel::bind_linear(const std::string& name, size_t in, size_t out) {
  Linear layer{.in = in, .out = out};
  auto weight = bind(name + ".weight", {out, in});
  if (!weight) return std::unexpected(weight.error());
  auto bias = bind(name + ".bias", {out});
  if (!bias) return std::unexpected(bias.error());
  layer.weight = *weight;
  layer.bias = *bias;
  return layer;
}

Result<BertModel::Norm> BertModel::bind_norm(const std::string& name) {
  auto gain = bind(name + ".weight", {config_.hidden_size});
  if (!gain) return std::unexpected(gain.error());
  auto bias = bind(name + ".bias", {config_.hidden_size});
  if (!bias) return std::unexpected(bias.error());
  return Norm{*gain, *bias};
}

Result<BertModel> BertModel::load(const BertConfig& config, SafetensorsFile weights) {
  BertModel model(std::move(weights));
  model.config_ = config;
  if (!model.weights_.contains("embeddings.word_embeddings.weight") &&
      model.weights_.contains("bert.embeddings.word_embeddings.weight"))
    model.prefix_ = "bert.";

  const size_t hidden = config.hidden_size;
  auto words = model.bind("embeddings.word_embeddings.weight", {config.vocab_size, hidden});
  if (!words) return std::unexpected(words.error());
  auto positions =
      model.bind("embeddings.position_embeddings.weight", {config.max_positions, hidden});
  if (!positions) return std::unexpected(positions.error());
  auto types =
      model.bind("embeddings.token_type_embeddings.weight", {config.type_vocab_size, hidden});
  if (!types) return std::unexpected(types.error());
  auto embedding_norm = model.bind_norm("embeddings.LayerNorm");
  if (!embedding_norm) return std::unexpected(embedding_norm.error());
  model.word_embeddings_ = *words;
  model.position_embeddings_ = *positions;
  model.token_type_embeddings_ = *types;
  model.embedding_norm_ = *embedding_norm;

  for (size_t index = 0; index < config.layers; ++index) {
    const std::string base = "encoder.layer." + std::to_string(index) + ".";
    Layer layer;
    const std::pair<std::string, Linear*> square[] = {
        {"attention.self.query", &layer.query},
        {"attention.self.key", &layer.key},
        {"attention.self.value", &layer.value},
        {"attention.output.dense", &layer.attention_output},
    };
    for (const auto& [name, target] : square) {
      auto bound = model.bind_linear(base + name, hidden, hidden);
      if (!bound) return std::unexpected(bound.error());
      *target = *bound;
    }
    auto intermediate =
        model.bind_linear(base + "intermediate.dense", hidden, config.intermediate_size);
    if (!intermediate) return std::unexpected(intermediate.error());
    auto output = model.bind_linear(base + "output.dense", config.intermediate_size, hidden);
    if (!output) return std::unexpected(output.error());
    auto attention_norm = model.bind_norm(base + "attention.output.LayerNorm");
    if (!attention_norm) return std::unexpected(attention_norm.error());
    auto output_norm = model.bind_norm(base + "output.LayerNorm");
    if (!output_norm) return std::unexpected(output_norm.error());
    layer.intermediate = *intermediate;
    layer.output = *output;
    layer.attention_norm = *attention_norm;
    layer.output_norm = *output_norm;
    model.layers_.push_back(layer);
  }
  const std::string extra_layer = model.prefix_ + "encoder.layer." + std::to_string(config.layers) +
                                  ".attention.self.query.weight";
  if (model.weights_.contains(extra_layer))
    return fail(model.weights_.path().string() + ": holds tensor '" + extra_layer +
                "' but config.json num_hidden_layers is " + std::to_string(config.layers));
  return model;
}

void BertModel::linear(const float* input, size_t rows, const Linear& layer, float* output) const {
  // Start from the bias in every row and let sgemm add input * weight^T onto it (beta = 1).
  for (size_t row = 0; row < rows; ++row)
    std::copy_n(layer.bias, layer.out, output + row * layer.out);
  cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, static_cast<int>(rows),
              static_cast<int>(layer.out), static_cast<int>(layer.in), 1.0f, input,
              static_cast<int>(layer.in), layer.weight, static_cast<int>(layer.in), 1.0f, output,
              static_cast<int>(layer.out));
}

void BertModel::layer_norm(float* rows, size_t count, const Norm& norm) const {
  const size_t width = config_.hidden_size;
  for (size_t row = 0; row < count; ++row) {
    float* values = rows + row * width;
    float mean = 0;
    for (size_t i = 0; i < width; ++i) mean += values[i];
    mean /= static_cast<float>(width);
    float variance = 0;
    for (size_t i = 0; i < width; ++i) variance += (values[i] - mean) * (values[i] - mean);
    variance /= static_cast<float>(width);
    const float scale = 1.0f / std::sqrt(variance + config_.layer_norm_eps);
    for (size_t i = 0; i < width; ++i)
      values[i] = (values[i] - mean) * scale * norm.gain[i] + norm.bias[i];
  }
}

void BertModel::attention(std::span<const size_t> lengths, BertWorkspace& workspace) const {
  const size_t hidden = config_.hidden_size;
  const size_t head_size = hidden / config_.heads;
  const float scale = 1.0f / std::sqrt(static_cast<float>(head_size));
  const int stride = static_cast<int>(hidden);
  size_t first_token = 0;
  for (const size_t length : lengths) {
    const int n = static_cast<int>(length);
    for (size_t head = 0; head < config_.heads; ++head) {
      const size_t offset = first_token * hidden + head * head_size;
      float* scores = workspace.scores.data();
      // scores = scale * Q_head K_head^T; the head's columns are read in place (stride hidden).
      cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, n, n, static_cast<int>(head_size), scale,
                  workspace.query.data() + offset, stride, workspace.key.data() + offset, stride,
                  0.0f, scores, n);
      for (size_t row = 0; row < length; ++row) {
        float* values = scores + row * length;
        const float largest = *std::max_element(values, values + length);
        float sum = 0;
        for (size_t i = 0; i < length; ++i) sum += values[i] = std::exp(values[i] - largest);
        const float inverse = 1.0f / sum;
        for (size_t i = 0; i < length; ++i) values[i] *= inverse;
      }
      cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, n, static_cast<int>(head_size), n,
                  1.0f, scores, n, workspace.value.data() + offset, stride, 0.0f,
                  workspace.context.data() + offset, stride);
    }
    first_token += length;
  }
}

std::span<const float> BertModel::forward(std::span<const int32_t> ids,
                                          std::span<const size_t> lengths,
                                          BertWorkspace& workspace) const {
  const size_t hidden = config_.hidden_size;
  const size_t tokens = ids.size();
  const size_t longest = lengths.empty() ? 0 : *std::ranges::max_element(lengths);
  for (auto* buffer : {&workspace.hidden, &workspace.query, &workspace.key, &workspace.value,
                       &workspace.context, &workspace.projected})
    buffer->resize(tokens * hidden);
  workspace.intermediate.resize(tokens * config_.intermediate_size);
  workspace.scores.resize(longest * longest);

  // Embeddings: word + position (within each sentence) + token type 0, then LayerNorm.
  float* x = workspace.hidden.data();
  size_t token = 0;
  for (const size_t length : lengths) {
    for (size_t position = 0; position < length; ++position, ++token) {
      const float* word = word_embeddings_ + static_cast<size_t>(ids[token]) * hidden;
      const float* place = position_embeddings_ + position * hidden;
      float* row = x + token * hidden;
      for (size_t i = 0; i < hidden; ++i) row[i] = word[i] + place[i] + token_type_embeddings_[i];
    }
  }
  layer_norm(x, tokens, embedding_norm_);

  for (const Layer& layer : layers_) {
    linear(x, tokens, layer.query, workspace.query.data());
    linear(x, tokens, layer.key, workspace.key.data());
    linear(x, tokens, layer.value, workspace.value.data());
    attention(lengths, workspace);

    float* projected = workspace.projected.data();
    linear(workspace.context.data(), tokens, layer.attention_output, projected);
    for (size_t i = 0; i < tokens * hidden; ++i) projected[i] += x[i];
    layer_norm(projected, tokens, layer.attention_norm);

    float* intermediate = workspace.intermediate.data();
    linear(projected, tokens, layer.intermediate, intermediate);
    for (size_t i = 0; i < tokens * config_.intermediate_size; ++i)
      intermediate[i] = gelu(intermediate[i]);
    linear(intermediate, tokens, layer.output, x);
    for (size_t i = 0; i < tokens * hidden; ++i) x[i] += projected[i];
    layer_norm(x, tokens, layer.output_norm);
  }
  return {x, tokens * hidden};
}

}  // namespace paperboy::encoder
