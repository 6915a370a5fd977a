// The C++ side of the sentence encoder benchmark (see run.sh): encodes a file of texts, one a
// line, and prints JSON {"texts", "tokens", "seconds", "cpu_seconds", "per_second"}. The time
// covers tokenizing, the forward passes and pooling, after one warm-up batch; CPU seconds (user +
// system, all threads) say how much work that was on a machine shared with other jobs.
#include <sys/resource.h>

#include <chrono>
#include <cstdio>
#include <fstream>
#include <string>
#include <vector>

#include "encoder/encoder.h"

int main(int argc, char** argv) {
  if (argc != 5) {
    std::fprintf(stderr, "usage: encoder_bench MODEL_DIR TEXTS THREADS BATCH\n");
    return 2;
  }
  const size_t threads = std::stoul(argv[3]);
  const size_t batch = std::stoul(argv[4]);
  auto encoder =
      paperboy::encoder::load_sentence_encoder(argv[1], {.threads = threads, .batch_size = batch});
  if (!encoder) {
    std::fprintf(stderr, "encoder_bench: %s\n", encoder.error().message.c_str());
    return 1;
  }
  std::ifstream in(argv[2]);
  std::vector<std::string> texts;
  for (std::string line; std::getline(in, line);) texts.push_back(line);
  if (texts.empty()) {
    std::fprintf(stderr, "encoder_bench: %s: no texts\n", argv[2]);
    return 1;
  }
  size_t tokens = 0;
  for (const std::string& text : texts) tokens += (*encoder)->token_ids(text)->size();

  const std::vector<std::string> warm_up(texts.begin(),
                                         texts.begin() + std::min(batch, texts.size()));
  if (!(*encoder)->encode(warm_up)) return 1;
  const auto cpu_seconds = [] {
    rusage usage{};
    getrusage(RUSAGE_SELF, &usage);
    return static_cast<double>(usage.ru_utime.tv_sec + usage.ru_stime.tv_sec) +
           static_cast<double>(usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) / 1e6;
  };
  const double cpu_start = cpu_seconds();
  const auto start = std::chrono::steady_clock::now();
  auto vectors = (*encoder)->encode(texts);
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  const double cpu = cpu_seconds() - cpu_start;
  if (!vectors) {
    std::fprintf(stderr, "encoder_bench: %s\n", vectors.error().message.c_str());
    return 1;
  }
  std::printf(
      "{\"texts\": %zu, \"tokens\": %zu, \"seconds\": %.4f, \"cpu_seconds\": %.4f, "
      "\"per_second\": %.2f}\n",
      texts.size(), tokens, seconds, cpu, static_cast<double>(texts.size()) / seconds);
  return 0;
}
