// `paperboy encode --model DIR [TEXT...]`: runs a BERT sentence encoder (src/encoder) over the
// texts given, or over standard input one text a line, and prints one JSON line per text:
// {"text": ..., "embedding": [...]}.
#include <algorithm>
#include <cstdio>
#include <iostream>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>
#include <vector>

#include "cli/commands.h"
#include "cli/progress.h"
#include "encoder/encoder.h"

namespace paperboy::cli {
namespace {

// Lines of standard input are encoded in chunks, so output streams and memory stays flat.
constexpr size_t kChunkTexts = 1024;

// `where` prefixes errors: which lines of standard input the texts came from, or nothing.
bool print_vectors(const encoder::SentenceEncoder& model, const std::vector<std::string>& texts,
                   const std::string& where) {
  auto vectors = model.encode(texts);
  if (!vectors) {
    std::fprintf(stderr, "paperboy encode: %s%s\n", where.c_str(), vectors.error().message.c_str());
    return false;
  }
  for (size_t i = 0; i < texts.size(); ++i) {
    const std::span<const float> row = vectors->row(i);
    const nlohmann::json line = {{"text", texts[i]},
                                 {"embedding", std::vector<float>(row.begin(), row.end())}};
    std::cout << line.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) << '\n';
  }
  return true;
}

}  // namespace

int run_encode(const GlobalOptions& global, const EncodeOptions& options) {
  auto model = encoder::load_sentence_encoder(
      options.model_dir,
      {.threads =
           options.threads ? options.threads : std::max(1u, std::thread::hardware_concurrency()),
       .batch_size = options.batch_size,
       .max_tokens = options.max_tokens});
  if (!model) {
    std::fprintf(stderr, "paperboy encode: %s\n", model.error().message.c_str());
    return kError;
  }
  if (!global.quiet) std::fprintf(stderr, "model: %s\n", (*model)->info().describe().c_str());

  if (!options.texts.empty()) return print_vectors(**model, options.texts, "") ? kSuccess : kError;

  Progress progress("encoding", 0);
  std::vector<std::string> chunk;
  size_t done = 0, bytes = 0;
  std::string line;
  const auto flush = [&] {
    if (chunk.empty()) return true;
    const std::string where = "standard input lines " + std::to_string(done + 1) + "-" +
                              std::to_string(done + chunk.size()) + ", ";
    if (!print_vectors(**model, chunk, where)) return false;
    done += chunk.size();
    chunk.clear();
    if (!global.quiet) progress.update(done, bytes);
    return true;
  };
  while (std::getline(std::cin, line)) {
    bytes += line.size() + 1;
    chunk.push_back(std::move(line));
    if (chunk.size() == kChunkTexts && !flush()) return kError;
  }
  if (!flush()) return kError;
  if (!global.quiet) progress.finish(done, bytes);
  return kSuccess;
}

}  // namespace paperboy::cli
