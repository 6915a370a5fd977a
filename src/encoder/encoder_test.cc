// The encoder against PyTorch: torch_reference.py writes tiny random checkpoints in the
// sentence-transformers layout and the embeddings PyTorch computes for them; the C++ encoder must
// reproduce the token ids exactly and the embeddings within 1e-4. Then every kind of broken
// checkpoint must be refused with a message naming the file and field.
#include "encoder/encoder.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <functional>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <vector>

#include "encoder/test_support.h"
#include "encoder/wordpiece.h"

namespace paperboy::encoder {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;
using test_support::read_file;

void write_file(const fs::path& path, const std::string& content) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << content;
}

class EncoderTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    auto made = test_support::make_torch_reference();
    ASSERT_TRUE(made) << made.error().message;
    root_ = made->root;
    reference_ = std::move(made->reference);
  }
  static void TearDownTestSuite() { fs::remove_all(root_); }

  static std::vector<std::string> sentences() {
    return reference_["sentences"].get<std::vector<std::string>>();
  }

  // A private copy of a reference checkpoint for a test to break.
  fs::path copy_of(const std::string& variant) {
    const fs::path copy = root_ / ("broken-" + std::to_string(copies_++));
    fs::copy(root_ / variant, copy, fs::copy_options::recursive);
    return copy;
  }

  static Error load_error(const fs::path& folder, const EncoderOptions& options = {}) {
    auto encoder = load_sentence_encoder(folder, options);
    EXPECT_FALSE(encoder) << folder << " loaded";
    return encoder ? Error{} : encoder.error();
  }

  // Rewrites the JSON header of a safetensors file, keeping its data bytes.
  static void edit_safetensors_header(const fs::path& path,
                                      const std::function<void(json&)>& edit) {
    const std::string bytes = read_file(path);
    uint64_t length = 0;
    for (int i = 0; i < 8; ++i)
      length |= static_cast<uint64_t>(static_cast<uint8_t>(bytes[i])) << (8 * i);
    json header = json::parse(bytes.substr(8, length));
    edit(header);
    std::string text = header.dump();
    text.append((8 - text.size() % 8) % 8, ' ');
    std::string out(8, '\0');
    for (int i = 0; i < 8; ++i) out[i] = static_cast<char>((text.size() >> (8 * i)) & 0xff);
    write_file(path, out + text + bytes.substr(8 + length));
  }

  static void edit_json(const fs::path& path, const std::function<void(json&)>& edit) {
    json value = json::parse(read_file(path));
    edit(value);
    write_file(path, value.dump(2));
  }

  static inline fs::path root_;
  static inline json reference_;
  static inline int copies_ = 0;
  static constexpr const char* kMeanVariant = "mean-normalized-f32-vocab-prefixed";
};

TEST_F(EncoderTest, TokenIdsEqualThePythonWordPiece) {
  for (const json& variant : reference_["variants"]) {
    SCOPED_TRACE(variant["folder"].get<std::string>());
    auto encoder = load_sentence_encoder(root_ / variant["folder"].get<std::string>(),
                                         {.max_tokens = variant["options_max_tokens"]});
    ASSERT_TRUE(encoder) << encoder.error().message;
    EXPECT_EQ((*encoder)->info().max_tokens, variant["max_tokens"].get<size_t>());
    const std::vector<std::string> texts = sentences();
    for (size_t i = 0; i < texts.size(); ++i) {
      auto ids = (*encoder)->token_ids(texts[i]);
      ASSERT_TRUE(ids) << ids.error().message;
      EXPECT_EQ(*ids, variant["ids"][i].get<std::vector<int32_t>>()) << "sentence " << i;
    }
  }
}

TEST_F(EncoderTest, WordsEqualThePythonBasicTokenizer) {
  for (const json& variant : reference_["variants"]) {
    SCOPED_TRACE(variant["folder"].get<std::string>());
    const fs::path folder = root_ / variant["folder"].get<std::string>();
    auto tokenizer = fs::exists(folder / "tokenizer.json")
                         ? WordPieceTokenizer::from_tokenizer_json(folder / "tokenizer.json")
                         : WordPieceTokenizer::from_vocab_txt(folder / "vocab.txt");
    ASSERT_TRUE(tokenizer) << tokenizer.error().message;
    const std::vector<std::string> texts = sentences();
    for (size_t i = 0; i < texts.size(); ++i) {
      auto words = tokenizer->words(texts[i]);
      ASSERT_TRUE(words) << words.error().message;
      EXPECT_EQ(*words, variant["words"][i].get<std::vector<std::string>>()) << "sentence " << i;
    }
  }
}

TEST_F(EncoderTest, EmbeddingsMatchPyTorchWithin1e4) {
  for (const json& variant : reference_["variants"]) {
    SCOPED_TRACE(variant["folder"].get<std::string>());
    auto encoder = load_sentence_encoder(
        root_ / variant["folder"].get<std::string>(),
        {.threads = 2, .batch_size = 3, .max_tokens = variant["options_max_tokens"]});
    ASSERT_TRUE(encoder) << encoder.error().message;
    ASSERT_EQ((*encoder)->dim(), 32u);
    auto embeddings = (*encoder)->encode(sentences());
    ASSERT_TRUE(embeddings) << embeddings.error().message;
    const json& expected = variant["embeddings"];
    ASSERT_EQ(embeddings->size(), expected.size());
    for (size_t row = 0; row < expected.size(); ++row) {
      const std::span<const float> actual = embeddings->row(row);
      for (size_t i = 0; i < actual.size(); ++i)
        ASSERT_NEAR(actual[i], expected[row][i].get<float>(), 1e-4)
            << "sentence " << row << " dim " << i;
    }
  }
}

TEST_F(EncoderTest, BatchSizeAndThreadsDoNotChangeTheVectors) {
  const fs::path folder = root_ / kMeanVariant;
  auto one_by_one = load_sentence_encoder(folder, {.threads = 1, .batch_size = 1});
  auto batched = load_sentence_encoder(folder, {.threads = 2, .batch_size = 32});
  ASSERT_TRUE(one_by_one && batched);
  std::vector<std::string> texts = sentences();
  for (int copy = 0; copy < 3; ++copy) texts.insert(texts.end(), texts.begin(), texts.begin() + 10);
  auto single = (*one_by_one)->encode(texts);
  auto parallel = (*batched)->encode(texts);
  ASSERT_TRUE(single && parallel);
  ASSERT_EQ(single->values.size(), parallel->values.size());
  for (size_t i = 0; i < single->values.size(); ++i)
    ASSERT_NEAR(single->values[i], parallel->values[i], 1e-5) << "value " << i;
}

TEST_F(EncoderTest, DescribesTheCheckpoint) {
  auto mean = load_sentence_encoder(root_ / kMeanVariant);
  auto cls = load_sentence_encoder(root_ / "cls-f16-tokenizer-json-cased");
  ASSERT_TRUE(mean && cls);
  const EncoderInfo& info = (*mean)->info();
  EXPECT_EQ(info.name, kMeanVariant);
  EXPECT_EQ(info.layers, 2u);
  EXPECT_EQ(info.pooling, Pooling::kMean);
  EXPECT_TRUE(info.normalized);
  EXPECT_EQ(info.weight_type, "F32");
  EXPECT_EQ(info.max_tokens, 24u);  // sentence_bert_config.json's max_seq_length
  EXPECT_EQ((*cls)->info().pooling, Pooling::kCls);
  EXPECT_FALSE((*cls)->info().normalized);
  EXPECT_EQ((*cls)->info().weight_type, "F16");
  EXPECT_EQ((*cls)->info().max_tokens, 40u);  // max_position_embeddings
  EXPECT_EQ(info.fingerprint.size(), 16u);
  EXPECT_NE(info.fingerprint, (*cls)->info().fingerprint);
  EXPECT_EQ(info.describe(), std::string(kMeanVariant) +
                                 " (BERT, 2 layers, 32 dims, mean pooling, normalized, F32, "
                                 "max 24 tokens, fingerprint " +
                                 info.fingerprint + ")");

  // Changing one weight byte changes the fingerprint: stored vectors can tell they are stale.
  const fs::path changed = copy_of(kMeanVariant);
  std::string weights = read_file(changed / "model.safetensors");
  weights.back() = static_cast<char>(weights.back() ^ 1);
  write_file(changed / "model.safetensors", weights);
  auto reloaded = load_sentence_encoder(changed);
  ASSERT_TRUE(reloaded) << reloaded.error().message;
  EXPECT_NE((*reloaded)->info().fingerprint, info.fingerprint);
}

TEST_F(EncoderTest, EmptyInputGivesNoVectorsAndBadUtf8IsNamed) {
  auto encoder = load_sentence_encoder(root_ / kMeanVariant);
  ASSERT_TRUE(encoder);
  auto none = (*encoder)->encode({});
  ASSERT_TRUE(none);
  EXPECT_EQ(none->size(), 0u);
  const std::vector<std::string> texts = {"fine", "also fine", "bad \xff byte"};
  auto result = (*encoder)->encode(texts);
  ASSERT_FALSE(result);
  EXPECT_EQ(result.error().message, "text 2: invalid UTF-8 at byte 4");
}

TEST_F(EncoderTest, MissingFilesAreNamed) {
  EXPECT_NE(load_error(root_ / "no-such-model").message.find("not a model folder"),
            std::string::npos);

  fs::path folder = copy_of(kMeanVariant);
  fs::remove(folder / "config.json");
  EXPECT_NE(load_error(folder).message.find("config.json: cannot open"), std::string::npos);

  folder = copy_of(kMeanVariant);
  fs::remove(folder / "model.safetensors");
  EXPECT_NE(load_error(folder).message.find("model.safetensors: missing"), std::string::npos);

  folder = copy_of(kMeanVariant);
  fs::remove(folder / "vocab.txt");
  EXPECT_NE(load_error(folder).message.find("no tokenizer: expected tokenizer.json or vocab.txt"),
            std::string::npos);

  folder = copy_of(kMeanVariant);
  fs::remove_all(folder / "1_Pooling");
  EXPECT_NE(load_error(folder).message.find("1_Pooling/config.json: cannot open"),
            std::string::npos);
}

TEST_F(EncoderTest, ConfigThatDoesNotMatchTheWeightsIsNamed) {
  const std::string vocab_size =
      json::parse(read_file(root_ / kMeanVariant / "config.json"))["vocab_size"].dump();
  fs::path folder = copy_of(kMeanVariant);
  edit_json(folder / "config.json", [](json& config) { config["hidden_size"] = 48; });
  std::string message = load_error(folder).message;
  EXPECT_NE(message.find("tensor 'bert.embeddings.word_embeddings.weight' has shape [" +
                         vocab_size + ", 32], expected [" + vocab_size + ", 48]"),
            std::string::npos)
      << message;
  EXPECT_NE(message.find("config.json: hidden_size 48"), std::string::npos) << message;

  folder = copy_of(kMeanVariant);
  edit_json(folder / "config.json", [](json& config) { config["num_hidden_layers"] = 3; });
  message = load_error(folder).message;
  EXPECT_NE(message.find("missing tensor 'bert.encoder.layer.2.attention.self.query.weight'"),
            std::string::npos)
      << message;

  folder = copy_of(kMeanVariant);
  edit_json(folder / "config.json", [](json& config) { config["num_hidden_layers"] = 1; });
  message = load_error(folder).message;
  EXPECT_NE(message.find("holds tensor 'bert.encoder.layer.1.attention.self.query.weight' but "
                         "config.json num_hidden_layers is 1"),
            std::string::npos)
      << message;

  folder = copy_of(kMeanVariant);
  edit_json(folder / "config.json", [](json& config) { config["vocab_size"] = 100; });
  message = load_error(folder).message;
  EXPECT_NE(message.find("vocab.txt: holds " + vocab_size +
                         " token ids but config.json vocab_size is 100"),
            std::string::npos)
      << message;

  folder = copy_of(kMeanVariant);
  edit_json(folder / "config.json", [](json& config) { config["hidden_act"] = "relu"; });
  EXPECT_NE(load_error(folder).message.find("config.json: hidden_act is \"relu\""),
            std::string::npos);

  folder = copy_of(kMeanVariant);
  edit_json(folder / "config.json", [](json& config) { config.erase("num_attention_heads"); });
  EXPECT_NE(load_error(folder).message.find("config.json: missing field num_attention_heads"),
            std::string::npos);

  folder = copy_of(kMeanVariant);
  edit_json(folder / "config.json", [](json& config) { config["num_attention_heads"] = 5; });
  EXPECT_NE(
      load_error(folder).message.find("hidden_size 32 is not a multiple of num_attention_heads 5"),
      std::string::npos);

  EXPECT_NE(load_error(root_ / kMeanVariant, {.max_tokens = 41})
                .message.find("max tokens 41 must lie between 2 and config.json "
                              "max_position_embeddings 40"),
            std::string::npos);
}

TEST_F(EncoderTest, BadTensorsAreNamed) {
  fs::path folder = copy_of(kMeanVariant);
  edit_safetensors_header(folder / "model.safetensors", [](json& header) {
    header["bert.encoder.layer.1.output.dense.bias"]["shape"] = {16, 2};
  });
  std::string message = load_error(folder).message;
  EXPECT_NE(message.find("model.safetensors: tensor 'bert.encoder.layer.1.output.dense.bias' has "
                         "shape [16, 2], expected [32]"),
            std::string::npos)
      << message;

  folder = copy_of(kMeanVariant);
  edit_safetensors_header(folder / "model.safetensors", [](json& header) {
    header.erase("bert.encoder.layer.1.output.LayerNorm.bias");
  });
  message = load_error(folder).message;
  EXPECT_NE(message.find("model.safetensors: missing tensor "
                         "'bert.encoder.layer.1.output.LayerNorm.bias'"),
            std::string::npos)
      << message;

  folder = copy_of(kMeanVariant);
  edit_safetensors_header(folder / "model.safetensors", [](json& header) {
    header["bert.embeddings.LayerNorm.weight"]["dtype"] = "BF16";
  });
  message = load_error(folder).message;
  EXPECT_NE(message.find("tensor 'bert.embeddings.LayerNorm.weight': unsupported dtype BF16 "
                         "(supported: F32, F16)"),
            std::string::npos)
      << message;

  folder = copy_of(kMeanVariant);
  edit_safetensors_header(folder / "model.safetensors", [](json& header) {
    header["bert.embeddings.LayerNorm.bias"]["data_offsets"][1] =
        header["bert.embeddings.LayerNorm.bias"]["data_offsets"][1].get<size_t>() + 4;
  });
  message = load_error(folder).message;
  EXPECT_NE(message.find("tensor 'bert.embeddings.LayerNorm.bias': data_offsets"),
            std::string::npos)
      << message;
  EXPECT_NE(message.find("hold 132 bytes but F32 [32] needs 128"), std::string::npos) << message;
}

TEST_F(EncoderTest, CorruptSafetensorsHeadersAreNamed) {
  fs::path folder = copy_of(kMeanVariant);
  const fs::path weights = folder / "model.safetensors";
  const std::string original = read_file(weights);

  write_file(weights, original.substr(0, 5));
  EXPECT_NE(load_error(folder).message.find("model.safetensors: corrupt safetensors header: file "
                                            "has 5 bytes"),
            std::string::npos);

  std::string huge_length = original;
  huge_length[6] = '\x7f';
  write_file(weights, huge_length);
  EXPECT_NE(load_error(folder).message.find("corrupt safetensors header: header length"),
            std::string::npos);

  std::string bad_json = original;
  bad_json[8] = '!';
  write_file(weights, bad_json);
  EXPECT_NE(load_error(folder).message.find("model.safetensors: corrupt safetensors header: "
                                            "[json.exception.parse_error"),
            std::string::npos);

  write_file(weights, original.substr(0, original.size() - 100));
  const std::string message = load_error(folder).message;
  EXPECT_NE(message.find("run past the end of the data"), std::string::npos) << message;
  EXPECT_NE(message.find("is the file truncated?"), std::string::npos) << message;
}

TEST_F(EncoderTest, UnsupportedPipelinesAreNamed) {
  fs::path folder = copy_of(kMeanVariant);
  edit_json(folder / "1_Pooling" / "config.json", [](json& pooling) {
    pooling["pooling_mode_mean_tokens"] = false;
    pooling["pooling_mode_mean_sqrt_len_tokens"] = true;
  });
  EXPECT_NE(
      load_error(folder).message.find("1_Pooling/config.json: pooling_mode_mean_sqrt_len_tokens "
                                      "is not supported"),
      std::string::npos);

  folder = copy_of(kMeanVariant);
  edit_json(folder / "modules.json", [](json& modules) {
    modules.push_back({{"idx", 3},
                       {"name", "3"},
                       {"path", "3_Dense"},
                       {"type", "sentence_transformers.models.Dense"}});
  });
  EXPECT_NE(
      load_error(folder).message.find("modules.json: module type "
                                      "\"sentence_transformers.models.Dense\" is not supported"),
      std::string::npos);

  folder = copy_of("cls-f16-tokenizer-json-cased");
  edit_json(folder / "tokenizer.json", [](json& tokenizer) { tokenizer["model"]["type"] = "BPE"; });
  EXPECT_NE(load_error(folder).message.find("tokenizer.json: model.type is \"BPE\""),
            std::string::npos);
}

}  // namespace
}  // namespace paperboy::encoder
