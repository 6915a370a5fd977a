#include "encoder/wordpiece.h"

#include <utf8proc.h>

#include <array>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

namespace paperboy::encoder {
namespace {

bool is_whitespace(int32_t code_point) {
  if (code_point == ' ' || code_point == '\t' || code_point == '\n' || code_point == '\r')
    return true;
  const utf8proc_category_t category = utf8proc_category(code_point);
  // Zl and Zp too: Python's str.split() and Rust's char::is_whitespace split on them.
  return category == UTF8PROC_CATEGORY_ZS || category == UTF8PROC_CATEGORY_ZL ||
         category == UTF8PROC_CATEGORY_ZP;
}

// Every "C" category (control, format, unassigned, private use, surrogate) except tab and newlines.
bool is_control(int32_t code_point) {
  if (code_point == '\t' || code_point == '\n' || code_point == '\r') return false;
  switch (utf8proc_category(code_point)) {
    case UTF8PROC_CATEGORY_CC:
    case UTF8PROC_CATEGORY_CF:
    case UTF8PROC_CATEGORY_CN:
    case UTF8PROC_CATEGORY_CO:
    case UTF8PROC_CATEGORY_CS:
      return true;
    default:
      return false;
  }
}

// ASCII symbols count as punctuation too ("$", "+", "^", "`"), as in BERT.
bool is_punctuation(int32_t code_point) {
  if ((code_point >= 33 && code_point <= 47) || (code_point >= 58 && code_point <= 64) ||
      (code_point >= 91 && code_point <= 96) || (code_point >= 123 && code_point <= 126))
    return true;
  const utf8proc_category_t category = utf8proc_category(code_point);
  return category >= UTF8PROC_CATEGORY_PC && category <= UTF8PROC_CATEGORY_PO;
}

// CJK Unified Ideographs and their extensions and compatibility blocks (not Hangul or kana).
bool is_cjk(int32_t code_point) {
  return (code_point >= 0x4E00 && code_point <= 0x9FFF) ||
         (code_point >= 0x3400 && code_point <= 0x4DBF) ||
         (code_point >= 0x20000 && code_point <= 0x2A6DF) ||
         (code_point >= 0x2A700 && code_point <= 0x2B73F) ||
         (code_point >= 0x2B740 && code_point <= 0x2B81F) ||
         (code_point >= 0x2B820 && code_point <= 0x2CEAF) ||
         (code_point >= 0xF900 && code_point <= 0xFAFF) ||
         (code_point >= 0x2F800 && code_point <= 0x2FA1F);
}

void append_utf8(int32_t code_point, std::string& out) {
  std::array<utf8proc_uint8_t, 4> bytes{};
  const utf8proc_ssize_t length = utf8proc_encode_char(code_point, bytes.data());
  out.append(reinterpret_cast<const char*>(bytes.data()), static_cast<size_t>(length));
}

Result<std::string> read_file(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return fail(path.string() + ": cannot open");
  std::ostringstream content;
  content << in.rdbuf();
  return content.str();
}

Result<nlohmann::json> read_json(const std::filesystem::path& path) {
  auto text = read_file(path);
  if (!text) return std::unexpected(text.error());
  try {
    return nlohmann::json::parse(*text);
  } catch (const nlohmann::json::exception& error) {
    return fail(path.string() + ": invalid JSON: " + error.what());
  }
}

// A boolean field that may be absent or null (then `fallback`).
Result<bool> optional_flag(const std::string& where, const nlohmann::json& object,
                           const char* field, bool fallback) {
  const auto found = object.find(field);
  if (found == object.end() || found->is_null()) return fallback;
  if (!found->is_boolean()) return fail(where + ": field " + field + " must be true or false");
  return found->get<bool>();
}

}  // namespace

Result<WordPieceTokenizer> WordPieceTokenizer::create(const std::string& source,
                                                      Vocabulary vocabulary,
                                                      WordPieceSettings settings) {
  WordPieceTokenizer tokenizer;
  tokenizer.settings_ = std::move(settings);
  for (const auto& [token, id] : vocabulary)
    tokenizer.vocabulary_size_ = std::max(tokenizer.vocabulary_size_, static_cast<size_t>(id) + 1);
  const auto id_of = [&](const std::string& token) -> Result<int32_t> {
    const auto found = vocabulary.find(token);
    if (found == vocabulary.end()) return fail(source + ": the vocabulary has no " + token);
    return found->second;
  };
  auto unknown = id_of(tokenizer.settings_.unknown_token);
  auto cls = id_of("[CLS]");
  auto sep = id_of("[SEP]");
  if (!unknown) return std::unexpected(unknown.error());
  if (!cls) return std::unexpected(cls.error());
  if (!sep) return std::unexpected(sep.error());
  tokenizer.unknown_id_ = *unknown;
  tokenizer.cls_id_ = *cls;
  tokenizer.sep_id_ = *sep;
  tokenizer.vocabulary_ = std::move(vocabulary);
  return tokenizer;
}

Result<WordPieceTokenizer> WordPieceTokenizer::from_tokenizer_json(
    const std::filesystem::path& path) {
  auto json = read_json(path);
  if (!json) return std::unexpected(json.error());
  const std::string where = path.string();
  if (!json->is_object()) return fail(where + ": expected a JSON object");
  const auto model = json->find("model");
  if (model == json->end() || !model->is_object()) return fail(where + ": missing field model");
  if (model->value("type", "") != "WordPiece")
    return fail(where + ": model.type is \"" + model->value("type", "") +
                "\", only WordPiece (BERT) tokenizers are supported");

  WordPieceSettings settings;
  settings.unknown_token = model->value("unk_token", settings.unknown_token);
  settings.continuation_prefix =
      model->value("continuing_subword_prefix", settings.continuation_prefix);
  settings.max_word_chars = model->value("max_input_chars_per_word", settings.max_word_chars);

  const auto normalizer = json->find("normalizer");
  if (normalizer != json->end() && !normalizer->is_null()) {
    if (!normalizer->is_object() || normalizer->value("type", "") != "BertNormalizer")
      return fail(where + ": normalizer.type must be BertNormalizer");
    auto lowercase = optional_flag(where + ": normalizer", *normalizer, "lowercase", true);
    if (!lowercase) return std::unexpected(lowercase.error());
    auto strip = optional_flag(where + ": normalizer", *normalizer, "strip_accents", *lowercase);
    if (!strip) return std::unexpected(strip.error());
    auto cjk = optional_flag(where + ": normalizer", *normalizer, "handle_chinese_chars", true);
    if (!cjk) return std::unexpected(cjk.error());
    settings.lowercase = *lowercase;
    settings.strip_accents = *strip;
    settings.split_cjk = *cjk;
  }
  const auto pre_tokenizer = json->find("pre_tokenizer");
  if (pre_tokenizer != json->end() && !pre_tokenizer->is_null() &&
      (!pre_tokenizer->is_object() || pre_tokenizer->value("type", "") != "BertPreTokenizer"))
    return fail(where + ": pre_tokenizer.type must be BertPreTokenizer");

  const auto entries = model->find("vocab");
  if (entries == model->end() || !entries->is_object() || entries->empty())
    return fail(where + ": model.vocab must be an object of token: id");
  Vocabulary vocabulary;
  for (const auto& [token, id] : entries->items()) {
    if (!id.is_number_unsigned() || id.get<uint64_t>() > INT32_MAX)
      return fail(where + ": model.vocab: token \"" + token + "\" has no valid id");
    vocabulary[token] = static_cast<int32_t>(id.get<uint64_t>());
  }
  return create(where, std::move(vocabulary), std::move(settings));
}

Result<WordPieceTokenizer> WordPieceTokenizer::from_vocab_txt(const std::filesystem::path& path) {
  auto text = read_file(path);
  if (!text) return std::unexpected(text.error());
  Vocabulary vocabulary;
  int32_t id = 0;
  size_t start = 0;
  while (start < text->size()) {
    size_t end = text->find('\n', start);
    if (end == std::string::npos) end = text->size();
    std::string token = text->substr(start, end - start);
    if (!token.empty() && token.back() == '\r') token.pop_back();
    vocabulary[token] = id++;
    start = end + 1;
  }
  if (vocabulary.empty()) return fail(path.string() + ": empty vocabulary");

  WordPieceSettings settings;
  const std::filesystem::path config_path = path.parent_path() / "tokenizer_config.json";
  if (std::filesystem::exists(config_path)) {
    auto config = read_json(config_path);
    if (!config) return std::unexpected(config.error());
    const std::string where = config_path.string();
    if (!config->is_object()) return fail(where + ": expected a JSON object");
    auto lowercase = optional_flag(where, *config, "do_lower_case", true);
    if (!lowercase) return std::unexpected(lowercase.error());
    auto strip = optional_flag(where, *config, "strip_accents", *lowercase);
    if (!strip) return std::unexpected(strip.error());
    auto cjk = optional_flag(where, *config, "tokenize_chinese_chars", true);
    if (!cjk) return std::unexpected(cjk.error());
    settings.lowercase = *lowercase;
    settings.strip_accents = *strip;
    settings.split_cjk = *cjk;
    if (const auto unk = config->find("unk_token"); unk != config->end() && unk->is_string())
      settings.unknown_token = unk->get<std::string>();
  }
  return create(path.string(), std::move(vocabulary), std::move(settings));
}

Result<std::vector<std::string>> WordPieceTokenizer::words(std::string_view text) const {
  std::vector<std::string> words;
  std::string word;
  const auto end_word = [&] {
    if (!word.empty()) words.push_back(std::move(word));
    word.clear();
  };
  const auto* bytes = reinterpret_cast<const utf8proc_uint8_t*>(text.data());
  size_t offset = 0;
  while (offset < text.size()) {
    utf8proc_int32_t code_point = 0;
    const utf8proc_ssize_t length = utf8proc_iterate(
        bytes + offset, static_cast<utf8proc_ssize_t>(text.size() - offset), &code_point);
    if (length < 0) return fail("invalid UTF-8 at byte " + std::to_string(offset));
    offset += static_cast<size_t>(length);

    if (code_point == 0 || code_point == 0xFFFD || is_control(code_point)) continue;
    if (is_whitespace(code_point)) {
      end_word();
      continue;
    }
    if (settings_.split_cjk && is_cjk(code_point)) {
      end_word();
      append_utf8(code_point, word);
      end_word();
      continue;
    }
    std::array<utf8proc_int32_t, 8> decomposed{};
    utf8proc_ssize_t count = 1;
    decomposed[0] = settings_.lowercase ? utf8proc_tolower(code_point) : code_point;
    if (settings_.strip_accents) {
      int boundary_class = 0;
      count = utf8proc_decompose_char(decomposed[0], decomposed.data(), decomposed.size(),
                                      UTF8PROC_DECOMPOSE, &boundary_class);
      if (count < 0 || count > static_cast<utf8proc_ssize_t>(decomposed.size())) count = 1;
    }
    for (utf8proc_ssize_t i = 0; i < count; ++i) {
      const int32_t piece = decomposed[static_cast<size_t>(i)];
      if (settings_.strip_accents && utf8proc_category(piece) == UTF8PROC_CATEGORY_MN) continue;
      if (is_punctuation(piece)) {
        end_word();
        append_utf8(piece, word);
        end_word();
      } else {
        append_utf8(piece, word);
      }
    }
  }
  end_word();
  return words;
}

void WordPieceTokenizer::append_pieces(std::string_view word, std::vector<int32_t>& ids) const {
  // Byte offsets where each code point starts, plus the end.
  std::vector<size_t> boundaries;
  for (size_t i = 0; i < word.size(); ++i)
    if ((static_cast<unsigned char>(word[i]) & 0xC0) != 0x80) boundaries.push_back(i);
  boundaries.push_back(word.size());
  if (boundaries.size() - 1 > settings_.max_word_chars) {
    ids.push_back(unknown_id_);
    return;
  }
  const size_t first_piece = ids.size();
  std::string candidate;
  size_t start = 0;
  while (start + 1 < boundaries.size()) {
    size_t end = boundaries.size() - 1;
    int32_t match = -1;
    for (; end > start; --end) {
      const std::string_view piece =
          word.substr(boundaries[start], boundaries[end] - boundaries[start]);
      Vocabulary::const_iterator found;
      if (start == 0) {
        found = vocabulary_.find(piece);
      } else {
        candidate.assign(settings_.continuation_prefix).append(piece);
        found = vocabulary_.find(std::string_view(candidate));
      }
      if (found != vocabulary_.end()) {
        match = found->second;
        break;
      }
    }
    if (match < 0) {
      ids.resize(first_piece);
      ids.push_back(unknown_id_);
      return;
    }
    ids.push_back(match);
    start = end;
  }
}

Result<std::vector<int32_t>> WordPieceTokenizer::encode(std::string_view text,
                                                        size_t max_tokens) const {
  auto split = words(text);
  if (!split) return std::unexpected(split.error());
  std::vector<int32_t> ids{cls_id_};
  for (const std::string& word : *split) append_pieces(word, ids);
  // Room for [SEP]; at least [CLS] [SEP] are always kept.
  const size_t limit = std::max<size_t>(max_tokens, 2);
  if (ids.size() > limit - 1) ids.resize(limit - 1);
  ids.push_back(sep_id_);
  return ids;
}

}  // namespace paperboy::encoder
