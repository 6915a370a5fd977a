#include "cli/vector_sync.h"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <optional>
#include <thread>

#include "cli/progress.h"
#include "embed/sif_model.h"
#include "encoder/paper_embedder.h"
#include "vector/vector_index.h"

namespace paperboy::cli {

namespace {

namespace fs = std::filesystem;

constexpr size_t kEmbedBatch = 8192;
// A transformer embeds some hundred papers a second at best: smaller batches keep the
// progress line moving.
constexpr size_t kEncoderEmbedBatch = 512;

size_t thread_count(size_t requested) {
  return requested > 0 ? requested : std::max(1u, std::thread::hardware_concurrency());
}

// An exclusive flock on <vectors>/LOCK, released when destroyed.
class WriterLock {
 public:
  static Result<WriterLock> take(const fs::path& vectors_dir) {
    std::error_code error;
    fs::create_directories(vectors_dir, error);
    if (error) return fail(vectors_dir.string() + ": " + error.message());
    const fs::path path = vectors_dir / "LOCK";
    const int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (fd < 0) return fail(path.string() + ": " + std::strerror(errno));
    if (::flock(fd, LOCK_EX) != 0) {
      const int saved_errno = errno;
      ::close(fd);
      return fail(path.string() + ": " + std::strerror(saved_errno));
    }
    return WriterLock(fd);
  }
  WriterLock(WriterLock&& other) noexcept : fd_(std::exchange(other.fd_, -1)) {}
  WriterLock& operator=(WriterLock&&) = delete;
  ~WriterLock() {
    if (fd_ >= 0) ::close(fd_);
  }

 private:
  explicit WriterLock(int fd) : fd_(fd) {}
  int fd_;
};

// Embeds papers in batches on several threads and hands them to the index.
class Embedding {
 public:
  Embedding(const embed::Embedder& embedder, vector::VectorIndex& vectors, size_t threads,
            bool quiet)
      : embedder_(embedder),
        vectors_(vectors),
        threads_(threads),
        batch_(dynamic_cast<const encoder::EncoderEmbedder*>(&embedder) ? kEncoderEmbedBatch
                                                                        : kEmbedBatch),
        quiet_(quiet),
        progress_("embed", 0) {}

  Result<void> add(const Paper& paper) {
    if (!paper.arxiv_id.empty()) {
      // The paper may have adopted a title-only record (store.h), whose vector goes.
      Paper title_only;
      title_only.title = paper.title;
      vectors_.remove(paper_id(title_only));
    }
    ids_.push_back(paper_id(paper));
    texts_.push_back(embed::paper_text(paper));
    if (ids_.size() >= batch_) return flush();
    return {};
  }

  Result<void> flush() {
    std::vector<float> rows(ids_.size() * embedder_.dimension());
    encoder::embed_texts(embedder_, texts_, rows, threads_);
    auto added = vectors_.upsert_batch(ids_, rows, threads_);
    count_ += ids_.size();
    ids_.clear();
    texts_.clear();
    if (!quiet_) progress_.update(count_, 0);
    return added;
  }

  size_t finish() {
    if (!quiet_ && count_ > 0) progress_.finish(count_, 0);
    return count_;
  }

 private:
  const embed::Embedder& embedder_;
  vector::VectorIndex& vectors_;
  size_t threads_;
  size_t batch_;
  bool quiet_;
  Progress progress_;
  std::vector<std::string> ids_;
  std::vector<std::string> texts_;
  size_t count_ = 0;
};

// Embeds every paper into a new index and saves it as the live generation.
Result<size_t> rebuild(store::Store& store, const embed::Embedder& model,
                       const fs::path& model_path, const fs::path& vectors_dir, size_t threads,
                       bool quiet) {
  // Changes committed while this runs are picked up by the next sync.
  auto last = store.last_change();
  if (!last) return std::unexpected(last.error());
  auto vectors = vector::VectorIndex::create(model.dimension(), model.identity());
  Embedding embedding(model, *vectors, threads, quiet);
  Result<void> added;
  auto visited = store.for_each_paper([&](const Paper& paper) {
    if (added) added = embedding.add(paper);
  });
  if (!visited) return std::unexpected(visited.error());
  if (added) added = embedding.flush();
  if (!added) return std::unexpected(added.error());
  const size_t count = embedding.finish();
  vectors->set_store_sequence(*last);
  if (auto saved = vectors->save(vectors_dir, {&model_path, 1}); !saved)
    return std::unexpected(saved.error());
  return count;
}

// Makes the checkpoint the embedder and rebuilds the vectors with it.
Result<size_t> adopt_encoder(store::Store& store, const fs::path& embed_dir,
                             const fs::path& vectors_dir, const EmbedTrainOptions& options,
                             bool quiet) {
  const fs::path reference = embed_dir / encoder::kEncoderReferenceFile;
  auto lock = WriterLock::take(vectors_dir);
  if (!lock) return std::unexpected(lock.error());
  if (auto saved = encoder::save_encoder_reference(reference, options.encoder); !saved)
    return std::unexpected(saved.error());
  const size_t threads = thread_count(options.threads);
  auto model = encoder::load_embedder(reference, threads);
  if (!model) return std::unexpected(model.error());
  if (!quiet)
    std::fprintf(
        stderr, "embedding with %s\n",
        static_cast<const encoder::EncoderEmbedder&>(**model).encoder().info().describe().c_str());
  return rebuild(store, **model, reference, vectors_dir, threads, quiet);
}

}  // namespace

Result<size_t> train_embedder(store::Store& store, const fs::path& embed_dir,
                              const fs::path& vectors_dir, const EmbedTrainOptions& options,
                              bool quiet) {
  if (!options.encoder.empty()) return adopt_encoder(store, embed_dir, vectors_dir, options, quiet);
  const fs::path model_path = embed_dir / "model.bin";
  auto stats = store.stats();
  if (!stats) return std::unexpected(stats.error());
  const size_t papers = static_cast<size_t>(stats->papers);
  const size_t stride = std::max<size_t>(
      1, (papers + options.max_papers - 1) / std::max<size_t>(options.max_papers, 1));
  std::vector<std::string> texts;
  size_t seen = 0;
  {
    Progress reading("read", 0);
    auto visited = store.for_each_paper([&](const Paper& paper) {
      if (seen++ % stride == 0) texts.push_back(embed::paper_text(paper));
      if (!quiet) reading.update(seen, 0);
    });
    if (!visited) return std::unexpected(visited.error());
    if (!quiet) reading.finish(seen, 0);
  }

  embed::TrainOptions train;
  train.dimension = options.dimension;
  train.seed = options.seed;
  train.threads = thread_count(options.threads);
  std::optional<Progress> stage_progress;
  std::string stage_name;
  train.on_progress = [&](std::string_view stage, size_t done, size_t) {
    if (quiet) return;
    if (stage != stage_name) {
      stage_progress.reset();
      stage_name = stage;
      stage_progress.emplace(stage_name, 0);
    }
    stage_progress->update(done, 0);
  };
  auto model = embed::train_sif_model(texts, train);
  stage_progress.reset();
  if (!model) return std::unexpected(model.error());
  texts = {};
  if (!quiet)
    std::fprintf(stderr, "trained %s: %zu words, %zu dimensions, from %zu papers\n",
                 (*model)->identity().c_str(), (*model)->vocabulary_size(), (*model)->dimension(),
                 (papers + stride - 1) / stride);

  auto lock = WriterLock::take(vectors_dir);
  if (!lock) return std::unexpected(lock.error());
  if (auto saved = (*model)->save(model_path); !saved) return std::unexpected(saved.error());
  // The built-in model is the embedder again: drop a transformer's reference.
  std::error_code ignored;
  fs::remove(embed_dir / encoder::kEncoderReferenceFile, ignored);
  return rebuild(store, **model, model_path, vectors_dir, train.threads, quiet);
}

Result<size_t> sync_vectors(store::Store& store, const fs::path& model_path,
                            const fs::path& vectors_dir, bool quiet, size_t threads) {
  if (!fs::exists(model_path)) return size_t{0};
  auto lock = WriterLock::take(vectors_dir);
  if (!lock) return std::unexpected(lock.error());
  threads = thread_count(threads);
  auto model = encoder::load_embedder(model_path, threads);
  if (!model) return std::unexpected(model.error());
  auto vectors = vector::VectorIndex::open(vectors_dir);
  if (!vectors || (*vectors)->model_identity() != (*model)->identity())
    return rebuild(store, **model, model_path, vectors_dir, threads, quiet);

  auto last = store.last_change();
  if (!last) return std::unexpected(last.error());
  const uint64_t since = (*vectors)->store_sequence();
  if (since >= *last) return size_t{0};
  Embedding embedding(**model, **vectors, threads, quiet);
  Result<void> added;
  auto visited = store.for_each_change(since, *last, [&](const Paper& paper) {
    if (added) added = embedding.add(paper);
  });
  if (!visited) return std::unexpected(visited.error());
  if (added) added = embedding.flush();
  if (!added) return std::unexpected(added.error());
  const size_t count = embedding.finish();
  (*vectors)->set_store_sequence(*last);
  if (auto saved = (*vectors)->save(vectors_dir, {&model_path, 1}); !saved)
    return std::unexpected(saved.error());
  return count;
}

}  // namespace paperboy::cli
