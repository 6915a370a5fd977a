#include "encoder/paper_embedder.h"

#include <fcntl.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cmath>
#include <cstring>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <thread>
#include <vector>

#include "embed/sif_model.h"

namespace paperboy::encoder {

namespace {

namespace fs = std::filesystem;

constexpr const char* kIdentityPrefix = "sentence-encoder/1:";

// The embedder contract promises unit vectors; checkpoints without a Normalize module do not.
void normalize(std::span<float> vector) {
  double norm = 0;
  for (float value : vector) norm += static_cast<double>(value) * value;
  if (norm <= 0) return;
  const float scale = static_cast<float>(1.0 / std::sqrt(norm));
  for (float& value : vector) value *= scale;
}

Result<void> write_synced(const fs::path& path, std::string_view bytes) {
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return fail(path.string() + ": " + std::strerror(errno));
  const bool written =
      ::write(fd, bytes.data(), bytes.size()) == static_cast<ssize_t>(bytes.size());
  const bool complete = written && ::fsync(fd) == 0;
  const int saved_errno = errno;
  ::close(fd);
  if (!complete) return fail(path.string() + ": " + std::strerror(saved_errno));
  return {};
}

}  // namespace

EncoderEmbedder::EncoderEmbedder(std::unique_ptr<SentenceEncoder> encoder)
    : encoder_(std::move(encoder)),
      identity_(kIdentityPrefix + encoder_->info().name + ":" + encoder_->info().fingerprint) {}

void EncoderEmbedder::embed(std::string_view text, std::span<float> out) const {
  const std::string owned(text);
  embed_batch(std::span<const std::string>(&owned, 1), out);
}

void EncoderEmbedder::embed_batch(std::span<const std::string> texts, std::span<float> out) const {
  const size_t dim = dimension();
  std::fill(out.begin(), out.end(), 0.0f);
  auto vectors = encoder_->encode(texts);
  if (vectors) {
    std::copy(vectors->values.begin(), vectors->values.end(), out.begin());
    for (size_t i = 0; i < texts.size(); ++i) normalize(out.subspan(i * dim, dim));
    return;
  }
  // One text the tokenizer rejects fails the whole call: encode the rest one by one.
  for (size_t i = 0; i < texts.size() && texts.size() > 1; ++i)
    embed_batch(texts.subspan(i, 1), out.subspan(i * dim, dim));
}

Result<void> save_encoder_reference(const fs::path& reference_file, const fs::path& checkpoint) {
  std::error_code error;
  const fs::path absolute = fs::absolute(checkpoint, error);
  if (error) return fail(checkpoint.string() + ": " + error.message());
  if (auto loaded = load_sentence_encoder(absolute); !loaded)
    return std::unexpected(loaded.error());
  fs::create_directories(reference_file.parent_path(), error);
  if (error) return fail(reference_file.parent_path().string() + ": " + error.message());
  const nlohmann::json reference = {{"checkpoint", absolute.lexically_normal().string()}};
  const fs::path temp = reference_file.string() + ".tmp";
  if (auto written = write_synced(temp, reference.dump(2) + "\n"); !written) return written;
  if (::rename(temp.c_str(), reference_file.c_str()) != 0)
    return fail(reference_file.string() + ": " + std::strerror(errno));
  return {};
}

Result<std::unique_ptr<embed::Embedder>> load_embedder(const fs::path& model_file, size_t threads) {
  if (model_file.filename() != kEncoderReferenceFile) {
    auto model = embed::SifModel::load(model_file);
    if (!model) return std::unexpected(model.error());
    return std::unique_ptr<embed::Embedder>(std::move(*model));
  }
  std::ifstream in(model_file);
  if (!in) return fail(model_file.string() + ": cannot open");
  std::ostringstream text;
  text << in.rdbuf();
  const auto reference = nlohmann::json::parse(text.str(), nullptr, false);
  if (!reference.is_object() || !reference.contains("checkpoint") ||
      !reference["checkpoint"].is_string())
    return fail(model_file.string() + ": expected {\"checkpoint\": \"/path/to/model\"}");
  auto encoder = load_sentence_encoder(reference["checkpoint"].get<std::string>(),
                                       {.threads = std::max<size_t>(threads, 1)});
  if (!encoder)
    return fail(model_file.string() +
                " names a checkpoint that does not load: " + encoder.error().message);
  return std::unique_ptr<embed::Embedder>(std::make_unique<EncoderEmbedder>(std::move(*encoder)));
}

Result<std::unique_ptr<embed::Embedder>> load_generation_embedder(const fs::path& generation,
                                                                  size_t threads) {
  const fs::path reference = generation / kEncoderReferenceFile;
  return load_embedder(fs::exists(reference) ? reference : generation / "model.bin", threads);
}

void embed_texts(const embed::Embedder& embedder, std::span<const std::string> texts,
                 std::span<float> out, size_t threads) {
  if (const auto* encoder = dynamic_cast<const EncoderEmbedder*>(&embedder)) {
    encoder->embed_batch(texts, out);
    return;
  }
  const size_t dim = embedder.dimension();
  std::atomic<size_t> next{0};
  std::vector<std::jthread> workers;
  for (size_t t = 0; t < std::max<size_t>(threads, 1); ++t)
    workers.emplace_back([&] {
      for (size_t i; (i = next.fetch_add(1)) < texts.size();)
        embedder.embed(texts[i], out.subspan(i * dim, dim));
    });
}

}  // namespace paperboy::encoder
