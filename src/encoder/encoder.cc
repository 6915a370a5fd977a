#include "encoder/encoder.h"

#include <cblas.h>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstring>
#include <fstream>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <sstream>
#include <thread>

#include "encoder/bert.h"
#include "encoder/safetensors.h"
#include "encoder/wordpiece.h"

namespace paperboy::encoder {
namespace {

Result<std::string> read_text(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return fail(path.string() + ": cannot open");
  std::ostringstream content;
  content << in.rdbuf();
  return content.str();
}

Result<nlohmann::json> read_json_object(const std::filesystem::path& path) {
  auto text = read_text(path);
  if (!text) return std::unexpected(text.error());
  try {
    nlohmann::json json = nlohmann::json::parse(*text);
    return json;
  } catch (const nlohmann::json::exception& error) {
    return fail(path.string() + ": invalid JSON: " + error.what());
  }
}

// 64-bit FNV-1a over 8-byte words: fast enough to cover the weights at load time.
class Fingerprint {
 public:
  void add(std::span<const std::byte> bytes) {
    size_t offset = 0;
    for (; offset + 8 <= bytes.size(); offset += 8) {
      uint64_t word;
      std::memcpy(&word, bytes.data() + offset, 8);
      mix(word);
    }
    uint64_t tail = 0;
    std::memcpy(&tail, bytes.data() + offset, bytes.size() - offset);
    mix(tail ^ (static_cast<uint64_t>(bytes.size()) << 56));
  }
  void add(std::string_view text) { add(std::as_bytes(std::span(text.data(), text.size()))); }
  std::string hex() const {
    char digits[17];
    std::snprintf(digits, sizeof digits, "%016llx", static_cast<unsigned long long>(hash_));
    return digits;
  }

 private:
  void mix(uint64_t word) { hash_ = (hash_ ^ word) * 0x100000001b3ULL; }
  uint64_t hash_ = 0xcbf29ce484222325ULL;
};

struct PoolingSetup {
  Pooling pooling = Pooling::kMean;
  bool normalized = false;
};

Result<Pooling> read_pooling(const std::filesystem::path& path, size_t hidden_size,
                             Fingerprint& fingerprint) {
  auto text = read_text(path);
  if (!text) return std::unexpected(text.error());
  fingerprint.add(*text);
  auto json = read_json_object(path);
  if (!json) return std::unexpected(json.error());
  const std::string where = path.string();
  if (!json->is_object()) return fail(where + ": expected a JSON object");
  if (const auto width = json->find("word_embedding_dimension");
      width != json->end() && !(width->is_number_unsigned() && width->get<size_t>() == hidden_size))
    return fail(where + ": word_embedding_dimension " + width->dump() +
                " does not match config.json hidden_size " + std::to_string(hidden_size));
  const std::pair<const char*, std::optional<Pooling>> modes[] = {
      {"pooling_mode_mean_tokens", Pooling::kMean},
      {"pooling_mode_cls_token", Pooling::kCls},
      {"pooling_mode_max_tokens", Pooling::kMax},
      {"pooling_mode_mean_sqrt_len_tokens", std::nullopt},
      {"pooling_mode_weightedmean_tokens", std::nullopt},
      {"pooling_mode_lasttoken", std::nullopt},
  };
  std::vector<Pooling> chosen;
  for (const auto& [field, pooling] : modes) {
    const auto found = json->find(field);
    if (found == json->end() || !found->is_boolean() || !found->get<bool>()) continue;
    if (!pooling) return fail(where + ": " + field + " is not supported (mean, cls or max)");
    chosen.push_back(*pooling);
  }
  if (chosen.size() != 1)
    return fail(where + ": exactly one of pooling_mode_mean_tokens, pooling_mode_cls_token, " +
                "pooling_mode_max_tokens must be true");
  return chosen.front();
}

// modules.json lists the sentence-transformers pipeline: Transformer, Pooling, maybe Normalize.
Result<PoolingSetup> read_pipeline(const std::filesystem::path& folder, size_t hidden_size,
                                   Fingerprint& fingerprint) {
  PoolingSetup setup;
  const std::filesystem::path modules_path = folder / "modules.json";
  std::filesystem::path pooling_folder = "1_Pooling";
  if (std::filesystem::exists(modules_path)) {
    auto modules = read_json_object(modules_path);
    if (!modules) return std::unexpected(modules.error());
    const std::string where = modules_path.string();
    if (!modules->is_array()) return fail(where + ": expected a JSON array of modules");
    bool has_pooling = false;
    for (const nlohmann::json& module : *modules) {
      const std::string type = module.is_object() ? module.value("type", "") : "";
      if (type == "sentence_transformers.models.Transformer") continue;
      if (type == "sentence_transformers.models.Normalize") {
        setup.normalized = true;
      } else if (type == "sentence_transformers.models.Pooling") {
        has_pooling = true;
        pooling_folder = module.value("path", pooling_folder.string());
      } else {
        return fail(where + ": module type \"" + type +
                    "\" is not supported (Transformer, Pooling, Normalize)");
      }
    }
    if (!has_pooling) return fail(where + ": lists no sentence_transformers.models.Pooling");
    fingerprint.add(setup.normalized ? "normalized" : "unnormalized");
  }
  const std::filesystem::path pooling_config = folder / pooling_folder / "config.json";
  if (std::filesystem::exists(pooling_config) || std::filesystem::exists(modules_path)) {
    auto pooling = read_pooling(pooling_config, hidden_size, fingerprint);
    if (!pooling) return std::unexpected(pooling.error());
    setup.pooling = *pooling;
  }
  // Without either file this is a plain BERT folder: mean pooling, as sentence-transformers does.
  return setup;
}

Result<size_t> checkpoint_max_tokens(const std::filesystem::path& folder, size_t fallback) {
  const std::filesystem::path path = folder / "sentence_bert_config.json";
  if (!std::filesystem::exists(path)) return fallback;
  auto json = read_json_object(path);
  if (!json) return std::unexpected(json.error());
  const auto found = json->is_object() ? json->find("max_seq_length") : json->end();
  if (found == json->end()) return fallback;
  if (!found->is_number_unsigned() || found->get<size_t>() < 2)
    return fail(path.string() + ": max_seq_length must be an integer of at least 2");
  return found->get<size_t>();
}

const char* pooling_name(Pooling pooling) {
  switch (pooling) {
    case Pooling::kMean:
      return "mean";
    case Pooling::kCls:
      return "cls";
    case Pooling::kMax:
      return "max";
  }
  return "mean";
}

}  // namespace

struct SentenceEncoder::State {
  BertModel model;
  WordPieceTokenizer tokenizer;
  EncoderOptions options;
  EncoderInfo info;

  // Pools one sentence's token rows into `out` and normalises it when the model says so.
  void pool(std::span<const float> rows, size_t length, float* out) const {
    const size_t dim = info.dim;
    switch (info.pooling) {
      case Pooling::kCls:
        std::copy_n(rows.data(), dim, out);
        break;
      case Pooling::kMean:
        std::fill_n(out, dim, 0.0f);
        for (size_t token = 0; token < length; ++token)
          for (size_t i = 0; i < dim; ++i) out[i] += rows[token * dim + i];
        for (size_t i = 0; i < dim; ++i) out[i] /= static_cast<float>(length);
        break;
      case Pooling::kMax:
        std::copy_n(rows.data(), dim, out);
        for (size_t token = 1; token < length; ++token)
          for (size_t i = 0; i < dim; ++i) out[i] = std::max(out[i], rows[token * dim + i]);
        break;
    }
    if (info.normalized) {
      float squares = 0;
      for (size_t i = 0; i < dim; ++i) squares += out[i] * out[i];
      // As torch.nn.functional.normalize: divide by max(norm, 1e-12).
      const float norm = std::max(std::sqrt(squares), 1e-12f);
      for (size_t i = 0; i < dim; ++i) out[i] /= norm;
    }
  }
};

SentenceEncoder::SentenceEncoder(std::unique_ptr<State> state) : state_(std::move(state)) {}
SentenceEncoder::~SentenceEncoder() = default;

const EncoderInfo& SentenceEncoder::info() const { return state_->info; }

std::string EncoderInfo::describe() const {
  return name + " (BERT, " + std::to_string(layers) + " layers, " + std::to_string(dim) +
         " dims, " + pooling_name(pooling) + " pooling, " +
         (normalized ? "normalized" : "not normalized") + ", " + weight_type + ", max " +
         std::to_string(max_tokens) + " tokens, fingerprint " + fingerprint + ")";
}

Result<std::vector<int32_t>> SentenceEncoder::token_ids(std::string_view text) const {
  return state_->tokenizer.encode(text, state_->info.max_tokens);
}

Result<Embeddings> SentenceEncoder::encode(std::span<const std::string> texts) const {
  const State& state = *state_;
  Embeddings result;
  result.dim = state.info.dim;
  result.values.assign(texts.size() * result.dim, 0.0f);
  if (texts.empty()) return result;

  const size_t threads = std::min(state.options.threads, texts.size());
  const size_t batch_size =
      std::min(state.options.batch_size, (texts.size() + threads - 1) / threads);
  const size_t batches = (texts.size() + batch_size - 1) / batch_size;
  std::atomic<size_t> next_batch{0};
  std::mutex error_mutex;
  std::optional<std::pair<size_t, Error>> first_error;  // the lowest text index that failed

  const auto work = [&] {
    BertWorkspace workspace;
    std::vector<int32_t> ids;
    std::vector<size_t> lengths;
    for (size_t batch = next_batch++; batch < batches; batch = next_batch++) {
      const size_t begin = batch * batch_size;
      const size_t end = std::min(begin + batch_size, texts.size());
      ids.clear();
      lengths.clear();
      for (size_t index = begin; index < end; ++index) {
        auto tokens = state.tokenizer.encode(texts[index], state.info.max_tokens);
        if (!tokens) {
          std::lock_guard lock(error_mutex);
          if (!first_error || index < first_error->first)
            first_error.emplace(
                index, Error{"text " + std::to_string(index) + ": " + tokens.error().message});
          return;
        }
        ids.insert(ids.end(), tokens->begin(), tokens->end());
        lengths.push_back(tokens->size());
      }
      const std::span<const float> hidden = state.model.forward(ids, lengths, workspace);
      size_t first_row = 0;
      for (size_t index = begin; index < end; ++index) {
        const size_t length = lengths[index - begin];
        state.pool(hidden.subspan(first_row * result.dim, length * result.dim), length,
                   result.values.data() + index * result.dim);
        first_row += length;
      }
    }
  };
  if (threads <= 1) {
    work();
  } else {
    std::vector<std::jthread> workers;
    for (size_t i = 0; i < threads; ++i) workers.emplace_back(work);
  }
  if (first_error) return std::unexpected(first_error->second);
  return result;
}

Result<std::unique_ptr<SentenceEncoder>> load_sentence_encoder(const std::filesystem::path& folder,
                                                               const EncoderOptions& options) {
  if (!std::filesystem::is_directory(folder))
    return fail(folder.string() + ": not a model folder (expected config.json, " +
                "model.safetensors and vocab.txt or tokenizer.json)");
  if (options.threads == 0 || options.batch_size == 0)
    return fail("encoder options: threads and batch_size must be at least 1");

  Fingerprint fingerprint;
  auto config_text = read_text(folder / "config.json");
  if (!config_text)
    return fail(config_text.error().message + " (is this a sentence-transformers model folder?)");
  fingerprint.add(*config_text);
  auto config = BertConfig::read(folder / "config.json");
  if (!config) return std::unexpected(config.error());

  const std::filesystem::path weights_path = folder / "model.safetensors";
  if (!std::filesystem::exists(weights_path))
    return fail(weights_path.string() + ": missing (only safetensors weights are read; " +
                "pytorch_model.bin is not)");
  auto weights = SafetensorsFile::open(weights_path);
  if (!weights) return std::unexpected(weights.error());

  const std::filesystem::path tokenizer_json = folder / "tokenizer.json";
  const std::filesystem::path vocab_txt = folder / "vocab.txt";
  const bool from_json = std::filesystem::exists(tokenizer_json);
  if (!from_json && !std::filesystem::exists(vocab_txt))
    return fail(folder.string() + ": no tokenizer: expected tokenizer.json or vocab.txt");
  auto tokenizer = from_json ? WordPieceTokenizer::from_tokenizer_json(tokenizer_json)
                             : WordPieceTokenizer::from_vocab_txt(vocab_txt);
  if (!tokenizer) return std::unexpected(tokenizer.error());
  auto tokenizer_text = read_text(from_json ? tokenizer_json : vocab_txt);
  if (!tokenizer_text) return std::unexpected(tokenizer_text.error());
  fingerprint.add(*tokenizer_text);
  if (tokenizer->vocabulary_size() > config->vocab_size)
    return fail((from_json ? tokenizer_json : vocab_txt).string() + ": holds " +
                std::to_string(tokenizer->vocabulary_size()) +
                " token ids but config.json vocab_size is " + std::to_string(config->vocab_size));

  auto max_tokens = checkpoint_max_tokens(folder, config->max_positions);
  if (!max_tokens) return std::unexpected(max_tokens.error());
  if (options.max_tokens != 0) *max_tokens = options.max_tokens;
  if (*max_tokens < 2 || *max_tokens > config->max_positions)
    return fail("max tokens " + std::to_string(*max_tokens) + " must lie between 2 and " +
                "config.json max_position_embeddings " + std::to_string(config->max_positions));

  const std::string word_embeddings = weights->contains("embeddings.word_embeddings.weight")
                                          ? "embeddings.word_embeddings.weight"
                                          : "bert.embeddings.word_embeddings.weight";
  const auto word_tensor = weights->tensors().find(word_embeddings);
  const std::string weight_type =
      word_tensor != weights->tensors().end() && word_tensor->second.type == TensorType::kF16
          ? "F16"
          : "F32";
  fingerprint.add(weights->bytes());
  auto model = BertModel::load(*config, std::move(*weights));
  if (!model) return std::unexpected(model.error());
  auto pipeline = read_pipeline(folder, config->hidden_size, fingerprint);
  if (!pipeline) return std::unexpected(pipeline.error());

  // One OpenBLAS thread: our own workers split the work (see EncoderOptions::threads).
  static std::once_flag single_threaded_blas;
  std::call_once(single_threaded_blas, [] { openblas_set_num_threads(1); });

  std::filesystem::path normal = std::filesystem::absolute(folder).lexically_normal();
  if (!normal.has_filename()) normal = normal.parent_path();
  EncoderInfo info{
      .name = normal.filename().string(),
      .fingerprint = fingerprint.hex(),
      .dim = config->hidden_size,
      .layers = config->layers,
      .max_tokens = *max_tokens,
      .pooling = pipeline->pooling,
      .normalized = pipeline->normalized,
      .weight_type = weight_type,
  };
  auto state = std::make_unique<SentenceEncoder::State>(
      SentenceEncoder::State{std::move(*model), std::move(*tokenizer), options, std::move(info)});
  return std::unique_ptr<SentenceEncoder>(new SentenceEncoder(std::move(state)));
}

}  // namespace paperboy::encoder
