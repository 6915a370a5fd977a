// The BERT WordPiece tokenizer, as Hugging Face's BertTokenizer and the `tokenizers` BertNormalizer
// + BertPreTokenizer + WordPiece model do it: clean the text (drop control characters, unify
// whitespace), put spaces around CJK ideographs, lower-case and strip accents, split on
// whitespace and punctuation, then split each word greedily into the longest vocabulary pieces
// (continuations prefixed "##"); a word with no split becomes [UNK].
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "core/result.h"

namespace paperboy::encoder {

struct WordPieceSettings {
  bool lowercase = true;
  bool strip_accents = true;
  bool split_cjk = true;
  std::string unknown_token = "[UNK]";
  std::string continuation_prefix = "##";
  size_t max_word_chars = 100;  // longer words become [UNK] whole
};

class WordPieceTokenizer {
 public:
  // From `tokenizer.json` (Hugging Face tokenizers: WordPiece model, BertNormalizer).
  static Result<WordPieceTokenizer> from_tokenizer_json(const std::filesystem::path& path);
  // From `vocab.txt` (one token a line, the line number is the id) with `tokenizer_config.json`
  // beside it when present (do_lower_case, strip_accents, tokenize_chinese_chars).
  static Result<WordPieceTokenizer> from_vocab_txt(const std::filesystem::path& path);

  // Ids of "[CLS] pieces... [SEP]", the pieces cut so the whole holds at most `max_tokens`.
  // Fails only for text that is not valid UTF-8.
  Result<std::vector<int32_t>> encode(std::string_view text, size_t max_tokens) const;

  // The normalised, pre-tokenized words of `text` (before WordPiece), for tests and tools.
  Result<std::vector<std::string>> words(std::string_view text) const;

  size_t vocabulary_size() const { return vocabulary_size_; }
  const WordPieceSettings& settings() const { return settings_; }

 private:
  // Looks up pieces by string_view without building a std::string per lookup.
  struct Hash {
    using is_transparent = void;
    size_t operator()(std::string_view text) const { return std::hash<std::string_view>{}(text); }
  };
  using Vocabulary = std::unordered_map<std::string, int32_t, Hash, std::equal_to<>>;

  static Result<WordPieceTokenizer> create(const std::string& source, Vocabulary vocabulary,
                                           WordPieceSettings settings);
  void append_pieces(std::string_view word, std::vector<int32_t>& ids) const;

  Vocabulary vocabulary_;
  size_t vocabulary_size_ = 0;  // largest id + 1
  WordPieceSettings settings_;
  int32_t unknown_id_ = 0;
  int32_t cls_id_ = 0;
  int32_t sep_id_ = 0;
};

}  // namespace paperboy::encoder
