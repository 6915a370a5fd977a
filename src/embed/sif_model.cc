#include "embed/sif_model.h"

#include <fcntl.h>
#include <unistd.h>

#include <Eigen/Dense>
#include <algorithm>
#include <atomic>
#include <bit>
#include <cerrno>
#include <chrono>
#include <cmath>
#include <cstring>
#include <fstream>
#include <iterator>
#include <random>
#include <thread>

#include "text/analyzer.h"

namespace paperboy::embed {

namespace {

namespace fs = std::filesystem;

constexpr char kMagicWordsOnly[8] = {'P', 'B', 'S', 'I', 'F', '0', '0', '1'};
constexpr char kMagic[8] = {'P', 'B', 'S', 'I', 'F', '0', '0', '2'};
constexpr const char* kModelNameWordsOnly = "ppmi-svd-sif/1";
constexpr const char* kModelName = "ppmi-svd-sif-lsi/2";
constexpr uint32_t kDocumentBreak = UINT32_MAX;
constexpr size_t kOversampling = 16;
constexpr double kContextSmoothing = 0.75;
// Partial sums are taken over fixed chunks, not per thread, so that results do not depend on
// the thread count.
constexpr size_t kChunk = 4096;

using Dense = Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;

struct Csr {
  size_t rows = 0;
  size_t columns = 0;
  std::vector<uint64_t> offsets;  // rows + 1
  std::vector<uint32_t> indices;
  std::vector<float> values;
};

size_t thread_count(size_t requested) {
  if (requested > 0) return requested;
  return std::max(1u, std::thread::hardware_concurrency());
}

// Runs work(item) for every item in [0, count) on `threads` threads taking items in turn, and
// reports progress from the calling thread.
void parallel_for(size_t count, size_t threads, const std::function<void(size_t)>& work,
                  const std::function<void(size_t)>& report) {
  std::atomic<size_t> next{0};
  std::atomic<size_t> done{0};
  std::vector<std::jthread> workers;
  for (size_t t = 0; t < std::min(threads, std::max<size_t>(count, 1)); ++t) {
    workers.emplace_back([&] {
      for (size_t item; (item = next.fetch_add(1)) < count;) {
        work(item);
        done.fetch_add(1);
      }
    });
  }
  while (done.load() < count) {
    report(done.load());
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  workers.clear();
  report(count);
}

std::vector<std::string> words_of(std::string_view text) {
  std::vector<std::string> words;
  for (text::Token& token : text::analyze(text))
    if (!token.overlay) words.push_back(std::move(token.term));
  return words;
}

// out = a * x, row by row in parallel.
Dense multiply(const Csr& a, const Dense& x, size_t threads) {
  Dense out = Dense::Zero(static_cast<Eigen::Index>(a.rows), x.cols());
  const size_t width = static_cast<size_t>(x.cols());
  const size_t blocks = (a.rows + 255) / 256;
  parallel_for(
      blocks, threads,
      [&](size_t block) {
        for (size_t row = block * 256; row < std::min(a.rows, block * 256 + 256); ++row) {
          float* target = out.data() + row * width;
          for (uint64_t k = a.offsets[row]; k < a.offsets[row + 1]; ++k) {
            const float value = a.values[k];
            const float* source = x.data() + static_cast<size_t>(a.indices[k]) * width;
            for (size_t c = 0; c < width; ++c) target[c] += value * source[c];
          }
        }
      },
      [](size_t) {});
  return out;
}

// An orthonormal basis of the columns of `y` (thin Householder QR).
Dense orthonormal(const Dense& y) {
  Eigen::MatrixXf column_major = y;
  Eigen::HouseholderQR<Eigen::MatrixXf> qr(column_major);
  Eigen::MatrixXf q = qr.householderQ() * Eigen::MatrixXf::Identity(y.rows(), y.cols());
  return q;
}

Csr transpose(const Csr& a) {
  Csr t;
  t.rows = a.columns;
  t.columns = a.rows;
  t.offsets.assign(t.rows + 1, 0);
  for (uint32_t column : a.indices) ++t.offsets[column + 1];
  for (size_t i = 0; i < t.rows; ++i) t.offsets[i + 1] += t.offsets[i];
  t.indices.resize(a.indices.size());
  t.values.resize(a.values.size());
  std::vector<uint64_t> fill(t.offsets.begin(), t.offsets.end() - 1);
  for (size_t row = 0; row < a.rows; ++row) {
    for (uint64_t k = a.offsets[row]; k < a.offsets[row + 1]; ++k) {
      const uint64_t at = fill[a.indices[k]]++;
      t.indices[at] = static_cast<uint32_t>(row);
      t.values[at] = a.values[k];
    }
  }
  return t;
}

struct TruncatedSvd {
  Dense left;                    // rows x rank: the top left singular vectors
  std::vector<double> singular;  // rank values, largest first
};

// Randomized SVD (Halko et al. 2011): a basis Q for the range of `a` by power iterations, then
// the SVD of the small matrix Q^T A through the eigenvectors of (Q^T A)(Q^T A)^T.
TruncatedSvd randomized_svd(const Csr& a, size_t rank, size_t power_iterations, uint64_t seed,
                            size_t threads, const std::function<void(size_t, size_t)>& report) {
  const Csr a_transposed = transpose(a);
  const size_t sample_width = rank + kOversampling;
  const size_t steps = 2 + 2 * power_iterations + 1;
  size_t step = 0;
  Dense sample(static_cast<Eigen::Index>(a.columns), static_cast<Eigen::Index>(sample_width));
  std::mt19937_64 random(seed);
  std::normal_distribution<float> gaussian;
  for (Eigen::Index i = 0; i < sample.size(); ++i) sample.data()[i] = gaussian(random);
  report(step, steps);
  Dense basis = orthonormal(multiply(a, sample, threads));
  report(++step, steps);
  for (size_t iteration = 0; iteration < power_iterations; ++iteration) {
    const Dense back = orthonormal(multiply(a_transposed, basis, threads));
    report(++step, steps);
    basis = orthonormal(multiply(a, back, threads));
    report(++step, steps);
  }
  const Dense projected = multiply(a_transposed, basis, threads);  // (Q^T A)^T
  const Eigen::MatrixXd gram = (projected.transpose() * projected).cast<double>();
  Eigen::SelfAdjointEigenSolver<Eigen::MatrixXd> solver(gram);
  report(++step, steps);
  // Eigenvalues ascend: the top `rank` are the last columns.
  Eigen::MatrixXf top(static_cast<Eigen::Index>(sample_width), static_cast<Eigen::Index>(rank));
  TruncatedSvd svd;
  for (size_t c = 0; c < rank; ++c) {
    const Eigen::Index source = static_cast<Eigen::Index>(sample_width - 1 - c);
    svd.singular.push_back(std::sqrt(std::max(0.0, solver.eigenvalues()(source))));
    top.col(static_cast<Eigen::Index>(c)) = solver.eigenvectors().col(source).cast<float>();
  }
  svd.left = basis * top;
  report(++step, steps);
  return svd;
}

uint64_t fnv1a(std::string_view bytes) {
  uint64_t hash = 1469598103934665603ull;
  for (unsigned char c : bytes) {
    hash ^= c;
    hash *= 1099511628211ull;
  }
  return hash;
}

template <class T>
void put(std::string& out, const T& value) {
  out.append(reinterpret_cast<const char*>(&value), sizeof(T));
}

class Reader {
 public:
  explicit Reader(std::string_view bytes) : bytes_(bytes) {}
  template <class T>
  bool get(T& value) {
    if (bytes_.size() - at_ < sizeof(T)) return false;
    std::memcpy(&value, bytes_.data() + at_, sizeof(T));
    at_ += sizeof(T);
    return true;
  }
  bool get_bytes(void* out, size_t size) {
    if (bytes_.size() - at_ < size) return false;
    if (size == 0) return true;  // `out` may be the null data() of an empty vector
    std::memcpy(out, bytes_.data() + at_, size);
    at_ += size;
    return true;
  }
  bool at_end() const { return at_ == bytes_.size(); }

 private:
  std::string_view bytes_;
  size_t at_ = 0;
};

Result<void> write_file_atomically(const fs::path& path, std::string_view bytes) {
  std::error_code error;
  if (path.has_parent_path()) fs::create_directories(path.parent_path(), error);
  if (error) return fail(path.parent_path().string() + ": " + error.message());
  const fs::path temp = path.string() + ".tmp";
  const int fd = ::open(temp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return fail(temp.string() + ": " + std::strerror(errno));
  size_t written = 0;
  while (written < bytes.size()) {
    const ssize_t n = ::write(fd, bytes.data() + written, bytes.size() - written);
    if (n <= 0) break;
    written += static_cast<size_t>(n);
  }
  const bool complete = written == bytes.size() && ::fsync(fd) == 0;
  const int saved_errno = errno;
  ::close(fd);
  if (!complete) {
    ::unlink(temp.c_str());
    return fail(temp.string() + ": " + std::strerror(saved_errno));
  }
  if (::rename(temp.c_str(), path.c_str()) != 0)
    return fail(path.string() + ": " + std::strerror(errno));
  const fs::path folder = path.has_parent_path() ? path.parent_path() : fs::path(".");
  if (const int dir_fd = ::open(folder.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC); dir_fd >= 0) {
    ::fsync(dir_fd);
    ::close(dir_fd);
  }
  return {};
}

}  // namespace

std::string paper_text(const Paper& paper) {
  if (paper.abstract.empty()) return paper.title;
  return paper.title + ". " + paper.abstract;
}

std::span<const float> SifModel::word_vector(std::string_view term) const {
  auto found = term_ids_.find(std::string(term));
  if (found == term_ids_.end()) return {};
  return {word_vectors_.data() + static_cast<size_t>(found->second) * dimension_, dimension_};
}

namespace {

// Scales `part` to length `length`; an all-zero part stays zero. Returns whether it was nonzero.
bool scale_to(std::span<float> part, float length) {
  double norm = 0;
  for (float value : part) norm += static_cast<double>(value) * value;
  norm = std::sqrt(norm);
  if (norm < 1e-12) {
    std::fill(part.begin(), part.end(), 0.0f);
    return false;
  }
  for (float& value : part) value = static_cast<float>(value * length / norm);
  return true;
}

}  // namespace

void SifModel::embed(std::string_view text, std::span<float> out) const {
  std::fill(out.begin(), out.end(), 0.0f);
  std::vector<uint32_t> ids;
  for (const std::string& word : words_of(text))
    if (auto found = term_ids_.find(word); found != term_ids_.end()) ids.push_back(found->second);
  if (ids.empty()) return;
  const size_t lsi_dimension = dimension_ - word_dimension_;
  const std::span<float> word_part = out.first(word_dimension_);
  const std::span<float> lsi_part = out.subspan(word_dimension_);

  for (uint32_t id : ids) {
    const float weight = term_weights_[id];
    const float* vector = word_vectors_.data() + static_cast<size_t>(id) * word_dimension_;
    for (size_t c = 0; c < word_dimension_; ++c) word_part[c] += weight * vector[c];
  }
  float projection = 0;
  for (size_t c = 0; c < word_dimension_; ++c) projection += word_part[c] * common_component_[c];
  for (size_t c = 0; c < word_dimension_; ++c) word_part[c] -= projection * common_component_[c];

  // LSI folding in: sublinear tf times idf, projected on the term vectors.
  std::sort(ids.begin(), ids.end());
  for (size_t at = 0; at < ids.size() && lsi_dimension > 0;) {
    size_t end = at;
    while (end < ids.size() && ids[end] == ids[at]) ++end;
    const float weight = (1.0f + std::log(static_cast<float>(end - at))) * idf_[ids[at]];
    const float* vector = lsi_vectors_.data() + static_cast<size_t>(ids[at]) * lsi_dimension;
    for (size_t c = 0; c < lsi_dimension; ++c) lsi_part[c] += weight * vector[c];
    at = end;
  }

  const bool has_words =
      scale_to(word_part, std::sqrt(1.0f - (lsi_dimension > 0 ? lsi_similarity_share_ : 0.0f)));
  const bool has_lsi =
      scale_to(lsi_part, std::sqrt(word_dimension_ > 0 ? lsi_similarity_share_ : 1.0f));
  // When one part vanished (all its words cancelled out), the other alone still has length 1.
  if (has_words != has_lsi) scale_to(out, 1.0f);
}

std::string SifModel::serialize_body() const {
  std::string body;
  if (format_ == 1) {
    put(body, static_cast<uint32_t>(dimension_));
  } else {
    put(body, static_cast<uint32_t>(word_dimension_));
    put(body, static_cast<uint32_t>(dimension_ - word_dimension_));
    put(body, lsi_similarity_share_);
  }
  put(body, sif_weight_);
  put(body, static_cast<uint32_t>(terms_.size()));
  for (size_t i = 0; i < terms_.size(); ++i) {
    put(body, static_cast<uint16_t>(terms_[i].size()));
    body += terms_[i];
    put(body, term_weights_[i]);
    if (format_ != 1) put(body, idf_[i]);
  }
  body.append(reinterpret_cast<const char*>(word_vectors_.data()),
              word_vectors_.size() * sizeof(float));
  body.append(reinterpret_cast<const char*>(common_component_.data()),
              common_component_.size() * sizeof(float));
  body.append(reinterpret_cast<const char*>(lsi_vectors_.data()),
              lsi_vectors_.size() * sizeof(float));
  return body;
}

void SifModel::finish_loading() {
  term_ids_.clear();
  term_ids_.reserve(terms_.size());
  for (size_t i = 0; i < terms_.size(); ++i) term_ids_.emplace(terms_[i], static_cast<uint32_t>(i));
  char hex[17];
  std::snprintf(hex, sizeof hex, "%016llx",
                static_cast<unsigned long long>(fnv1a(serialize_body())));
  identity_ = std::string(format_ == 1 ? kModelNameWordsOnly : kModelName) + ":" + hex;
}

Result<void> SifModel::save(const fs::path& path) const {
  static_assert(std::endian::native == std::endian::little, "the model file is little-endian");
  std::string file(format_ == 1 ? kMagicWordsOnly : kMagic, sizeof kMagic);
  const std::string body = serialize_body();
  file += body;
  put(file, fnv1a(body));
  return write_file_atomically(path, file);
}

Result<std::unique_ptr<SifModel>> SifModel::load(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in)
    return fail(path.string() +
                ": cannot open the embedding model (train one with `paperboy embed train`)");
  std::string file((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (file.size() < sizeof kMagic + sizeof(uint64_t))
    return fail(path.string() + ": not a paperboy embedding model");
  auto model = std::unique_ptr<SifModel>(new SifModel());
  if (std::memcmp(file.data(), kMagicWordsOnly, sizeof kMagic) == 0)
    model->format_ = 1;
  else if (std::memcmp(file.data(), kMagic, sizeof kMagic) != 0)
    return fail(path.string() + ": not a paperboy embedding model");
  const std::string_view body(file.data() + sizeof kMagic,
                              file.size() - sizeof kMagic - sizeof(uint64_t));
  uint64_t checksum = 0;
  std::memcpy(&checksum, file.data() + file.size() - sizeof checksum, sizeof checksum);
  if (fnv1a(body) != checksum)
    return fail(path.string() + ": checksum mismatch (the model file is damaged)");

  Reader reader(body);
  uint32_t word_dimension = 0, lsi_dimension = 0, vocabulary = 0;
  bool ok = reader.get(word_dimension);
  if (ok && model->format_ != 1)
    ok = reader.get(lsi_dimension) && reader.get(model->lsi_similarity_share_);
  ok = ok && reader.get(model->sif_weight_) && reader.get(vocabulary) &&
       word_dimension + lsi_dimension > 0 && word_dimension <= 65536 && lsi_dimension <= 65536;
  model->word_dimension_ = word_dimension;
  model->dimension_ = word_dimension + lsi_dimension;
  for (uint32_t i = 0; ok && i < vocabulary; ++i) {
    uint16_t length = 0;
    float weight = 0, idf = 0;
    std::string term;
    ok = reader.get(length);
    if (!ok) break;
    term.resize(length);
    ok = reader.get_bytes(term.data(), length) && reader.get(weight) &&
         (model->format_ == 1 || reader.get(idf));
    model->terms_.push_back(std::move(term));
    model->term_weights_.push_back(weight);
    model->idf_.push_back(idf);
  }
  if (ok) {
    model->word_vectors_.resize(static_cast<size_t>(vocabulary) * word_dimension);
    model->common_component_.resize(word_dimension);
    model->lsi_vectors_.resize(static_cast<size_t>(vocabulary) * lsi_dimension);
    ok = reader.get_bytes(model->word_vectors_.data(),
                          model->word_vectors_.size() * sizeof(float)) &&
         reader.get_bytes(model->common_component_.data(), word_dimension * sizeof(float)) &&
         reader.get_bytes(model->lsi_vectors_.data(), model->lsi_vectors_.size() * sizeof(float)) &&
         reader.at_end();
  }
  if (!ok) return fail(path.string() + ": malformed embedding model");
  if (model->format_ == 1) model->idf_.clear();
  model->finish_loading();
  return model;
}

Result<std::unique_ptr<SifModel>> train_sif_model(std::span<const std::string> texts,
                                                  const TrainOptions& options) {
  const size_t threads = thread_count(options.threads);
  const size_t dimension = options.dimension;
  if (dimension < 2 || dimension > 4096)
    return fail("embedding dimension must lie in [2, 4096], not " + std::to_string(dimension));
  auto progress = [&](std::string_view stage, size_t done, size_t total) {
    if (options.on_progress) options.on_progress(stage, done, total);
  };

  // 1. Vocabulary: the most frequent analysed terms.
  const size_t chunks = (texts.size() + kChunk - 1) / kChunk;
  std::vector<std::unordered_map<std::string, uint64_t>> chunk_counts(chunks);
  parallel_for(
      chunks, threads,
      [&](size_t chunk) {
        auto& counts = chunk_counts[chunk];
        for (size_t i = chunk * kChunk; i < std::min(texts.size(), (chunk + 1) * kChunk); ++i)
          for (std::string& word : words_of(texts[i])) ++counts[std::move(word)];
      },
      [&](size_t done) {
        progress("vocabulary", std::min(done * kChunk, texts.size()), texts.size());
      });
  std::unordered_map<std::string, uint64_t> counts;
  uint64_t total_words = 0;
  for (auto& chunk : chunk_counts) {
    for (auto& [word, count] : chunk) {
      counts[word] += count;
      total_words += count;
    }
    chunk = {};
  }
  std::vector<std::pair<std::string, uint64_t>> ranked;
  for (auto& [word, count] : counts)
    if (count >= options.min_count) ranked.emplace_back(word, count);
  counts = {};
  std::sort(ranked.begin(), ranked.end(), [](const auto& a, const auto& b) {
    return a.second != b.second ? a.second > b.second : a.first < b.first;
  });
  if (ranked.size() > options.max_vocabulary) ranked.resize(options.max_vocabulary);
  const size_t vocabulary = ranked.size();
  const size_t sample_width = dimension + kOversampling;
  if (vocabulary <= sample_width)
    return fail("the corpus has " + std::to_string(vocabulary) + " terms seen at least " +
                std::to_string(options.min_count) + " times; a " + std::to_string(dimension) +
                "-dimensional model needs more than " + std::to_string(sample_width) +
                " (add papers or lower --dim)");

  // The LSI part needs more papers than its rank; on small corpora the word part takes the rest.
  const size_t largest_lsi_rank =
      texts.size() > 2 * kOversampling ? texts.size() - 2 * kOversampling : 0;
  const size_t lsi_dimension =
      std::min({static_cast<size_t>(std::llround(static_cast<double>(dimension) *
                                                 std::clamp(options.lsi_fraction, 0.0, 1.0))),
                largest_lsi_rank, dimension});
  const size_t word_dimension = dimension - lsi_dimension;

  auto model = std::unique_ptr<SifModel>(new SifModel());
  model->dimension_ = dimension;
  model->word_dimension_ = word_dimension;
  model->lsi_similarity_share_ =
      static_cast<float>(std::clamp(options.lsi_similarity_share, 0.0, 1.0));
  model->sif_weight_ = options.sif_weight;
  for (auto& [word, count] : ranked) {
    const double probability = static_cast<double>(count) / static_cast<double>(total_words);
    model->terms_.push_back(word);
    model->term_weights_.push_back(
        static_cast<float>(options.sif_weight / (options.sif_weight + probability)));
  }
  ranked = {};
  for (size_t i = 0; i < model->terms_.size(); ++i)
    model->term_ids_.emplace(model->terms_[i], static_cast<uint32_t>(i));

  // 2. Every text as term ids, texts separated by kDocumentBreak.
  std::vector<std::vector<uint32_t>> chunk_ids(chunks);
  std::vector<uint64_t> text_starts(texts.size() + 1, 0);
  parallel_for(
      chunks, threads,
      [&](size_t chunk) {
        auto& ids = chunk_ids[chunk];
        for (size_t i = chunk * kChunk; i < std::min(texts.size(), (chunk + 1) * kChunk); ++i) {
          for (const std::string& word : words_of(texts[i])) {
            auto found = model->term_ids_.find(word);
            if (found != model->term_ids_.end()) ids.push_back(found->second);
          }
          ids.push_back(kDocumentBreak);
        }
      },
      [&](size_t done) {
        progress("analyse", std::min(done * kChunk, texts.size()), texts.size());
      });
  std::vector<uint32_t> tokens;
  tokens.push_back(kDocumentBreak);  // so that every window stops at a break on the left
  for (auto& ids : chunk_ids) {
    tokens.insert(tokens.end(), ids.begin(), ids.end());
    ids = {};
  }
  {
    size_t text = 0;
    for (size_t at = 1; at < tokens.size(); ++at)
      if (tokens[at] == kDocumentBreak) text_starts[++text] = at + 1;
    text_starts[0] = 1;
  }
  std::vector<uint32_t> papers_with_term(vocabulary, 0);
  {
    std::vector<uint32_t> ids;
    for (size_t i = 0; i < texts.size(); ++i) {
      ids.assign(tokens.begin() + static_cast<std::ptrdiff_t>(text_starts[i]),
                 std::find(tokens.begin() + static_cast<std::ptrdiff_t>(text_starts[i]),
                           tokens.end(), kDocumentBreak));
      std::sort(ids.begin(), ids.end());
      ids.erase(std::unique(ids.begin(), ids.end()), ids.end());
      for (uint32_t id : ids) ++papers_with_term[id];
    }
  }
  model->idf_.resize(vocabulary);
  for (size_t i = 0; i < vocabulary; ++i)
    model->idf_[i] = static_cast<float>(
        std::log(static_cast<double>(texts.size()) / std::max<uint32_t>(papers_with_term[i], 1)));
  if (options.idf_word_weights) model->term_weights_ = model->idf_;

  if (word_dimension > 0) {
    // 3. Co-occurrences, one row per term, from that term's occurrences.
    std::vector<uint64_t> occurrence_offsets(vocabulary + 1, 0);
    for (uint32_t id : tokens)
      if (id != kDocumentBreak) ++occurrence_offsets[id + 1];
    for (size_t i = 0; i < vocabulary; ++i) occurrence_offsets[i + 1] += occurrence_offsets[i];
    std::vector<uint64_t> occurrences(occurrence_offsets.back());
    {
      std::vector<uint64_t> fill(occurrence_offsets.begin(), occurrence_offsets.end() - 1);
      for (uint64_t at = 0; at < tokens.size(); ++at)
        if (tokens[at] != kDocumentBreak) occurrences[fill[tokens[at]]++] = at;
    }
    std::vector<std::vector<std::pair<uint32_t, float>>> rows(vocabulary);
    {
      const size_t window = std::max<size_t>(options.window, 1);
      std::atomic<size_t> next_row{0};
      std::atomic<size_t> rows_done{0};
      std::vector<std::jthread> workers;
      for (size_t t = 0; t < threads; ++t) {
        workers.emplace_back([&, t] {
          std::vector<float> sums(vocabulary, 0.0f);
          std::vector<uint32_t> touched;
          for (size_t row; (row = next_row.fetch_add(1)) < vocabulary;) {
            auto add = [&](uint32_t context, float weight) {
              if (sums[context] == 0.0f) touched.push_back(context);
              sums[context] += weight;
            };
            for (uint64_t k = occurrence_offsets[row]; k < occurrence_offsets[row + 1]; ++k) {
              const uint64_t at = occurrences[k];
              for (size_t distance = 1; distance <= window; ++distance) {
                const uint32_t left = tokens[at - distance];
                if (left == kDocumentBreak) break;
                add(left, 1.0f / static_cast<float>(distance));
              }
              for (size_t distance = 1; distance <= window && at + distance < tokens.size();
                   ++distance) {
                const uint32_t right = tokens[at + distance];
                if (right == kDocumentBreak) break;
                add(right, 1.0f / static_cast<float>(distance));
              }
            }
            std::sort(touched.begin(), touched.end());
            auto& entries = rows[row];
            entries.reserve(touched.size());
            for (uint32_t context : touched) {
              entries.emplace_back(context, sums[context]);
              sums[context] = 0.0f;
            }
            touched.clear();
            rows_done.fetch_add(1);
          }
        });
      }
      while (rows_done.load() < vocabulary) {
        progress("co-occurrence", rows_done.load(), vocabulary);
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
      }
      workers.clear();
      progress("co-occurrence", vocabulary, vocabulary);
    }
    occurrences = {};

    // 4. Positive PMI with smoothed context probabilities.
    std::vector<double> row_sums(vocabulary, 0.0);
    for (size_t row = 0; row < vocabulary; ++row)
      for (const auto& [context, count] : rows[row]) row_sums[row] += count;
    std::vector<double> context_probability(vocabulary);
    double smoothed_total = 0;
    for (size_t i = 0; i < vocabulary; ++i)
      smoothed_total += context_probability[i] = std::pow(row_sums[i], kContextSmoothing);
    for (double& p : context_probability) p /= smoothed_total;
    Csr ppmi;
    ppmi.rows = ppmi.columns = vocabulary;
    ppmi.offsets.push_back(0);
    for (size_t row = 0; row < vocabulary; ++row) {
      for (const auto& [context, count] : rows[row]) {
        const double pmi = std::log(count / (row_sums[row] * context_probability[context]));
        if (pmi > 0) {
          ppmi.indices.push_back(context);
          ppmi.values.push_back(static_cast<float>(pmi));
        }
      }
      ppmi.offsets.push_back(ppmi.indices.size());
      rows[row] = {};
    }

    // 5. Randomized SVD; word vectors are U * sqrt(S) rows, unit length.
    const TruncatedSvd svd =
        randomized_svd(ppmi, word_dimension, options.power_iterations, options.seed, threads,
                       [&](size_t done, size_t total) { progress("svd", done, total); });
    model->word_vectors_.resize(vocabulary * word_dimension);
    for (size_t row = 0; row < vocabulary; ++row) {
      float* target = model->word_vectors_.data() + row * word_dimension;
      double norm = 0;
      for (size_t c = 0; c < word_dimension; ++c) {
        target[c] = static_cast<float>(
            svd.left(static_cast<Eigen::Index>(row), static_cast<Eigen::Index>(c)) *
            std::sqrt(svd.singular[c]));
        norm += static_cast<double>(target[c]) * target[c];
      }
      if (norm > 0)
        for (size_t c = 0; c < word_dimension; ++c)
          target[c] = static_cast<float>(target[c] / std::sqrt(norm));
    }

    // 6. The common component: the top eigenvector of the paper vectors' second moment.
    std::vector<Eigen::MatrixXd> chunk_moments(chunks);
    parallel_for(
        chunks, threads,
        [&](size_t chunk) {
          Eigen::MatrixXd moment = Eigen::MatrixXd::Zero(static_cast<Eigen::Index>(word_dimension),
                                                         static_cast<Eigen::Index>(word_dimension));
          Eigen::VectorXd average(static_cast<Eigen::Index>(word_dimension));
          for (size_t i = chunk * kChunk; i < std::min(texts.size(), (chunk + 1) * kChunk); ++i) {
            average.setZero();
            size_t words = 0;
            for (uint64_t at = text_starts[i]; tokens[at] != kDocumentBreak; ++at, ++words) {
              const uint32_t id = tokens[at];
              const float* vector =
                  model->word_vectors_.data() + static_cast<size_t>(id) * word_dimension;
              for (size_t c = 0; c < word_dimension; ++c)
                average(static_cast<Eigen::Index>(c)) += model->term_weights_[id] * vector[c];
            }
            if (words == 0) continue;
            average /= static_cast<double>(words);
            moment.selfadjointView<Eigen::Lower>().rankUpdate(average);
          }
          chunk_moments[chunk] = std::move(moment);
        },
        [&](size_t done) { progress("common component", done, chunks); });
    Eigen::MatrixXd moment = Eigen::MatrixXd::Zero(static_cast<Eigen::Index>(word_dimension),
                                                   static_cast<Eigen::Index>(word_dimension));
    for (const auto& chunk : chunk_moments) moment += chunk;
    Eigen::SelfAdjointEigenSolver<Eigen::MatrixXd> moment_solver(
        Eigen::MatrixXd(moment.selfadjointView<Eigen::Lower>()));
    const Eigen::VectorXd common =
        moment_solver.eigenvectors().col(static_cast<Eigen::Index>(word_dimension - 1));
    model->common_component_.resize(word_dimension);
    for (size_t c = 0; c < word_dimension; ++c)
      model->common_component_[c] = static_cast<float>(common(static_cast<Eigen::Index>(c)));
  }

  if (lsi_dimension > 0) {
    // 7. LSI: the papers' tf-idf rows (unit length), terms x papers, truncated by the SVD; its
    // left singular vectors are the right ones of the paper-term matrix.
    Csr term_papers;
    {
      Csr paper_terms;
      paper_terms.rows = texts.size();
      paper_terms.columns = vocabulary;
      paper_terms.offsets.push_back(0);
      std::vector<uint32_t> ids;
      for (size_t i = 0; i < texts.size(); ++i) {
        ids.assign(tokens.begin() + static_cast<std::ptrdiff_t>(text_starts[i]),
                   std::find(tokens.begin() + static_cast<std::ptrdiff_t>(text_starts[i]),
                             tokens.end(), kDocumentBreak));
        std::sort(ids.begin(), ids.end());
        const size_t row_start = paper_terms.values.size();
        double norm = 0;
        for (size_t at = 0; at < ids.size();) {
          size_t end = at;
          while (end < ids.size() && ids[end] == ids[at]) ++end;
          const float weight =
              (1.0f + std::log(static_cast<float>(end - at))) * model->idf_[ids[at]];
          paper_terms.indices.push_back(ids[at]);
          paper_terms.values.push_back(weight);
          norm += static_cast<double>(weight) * weight;
          at = end;
        }
        if (norm > 0)
          for (size_t k = row_start; k < paper_terms.values.size(); ++k)
            paper_terms.values[k] = static_cast<float>(paper_terms.values[k] / std::sqrt(norm));
        paper_terms.offsets.push_back(paper_terms.indices.size());
      }
      term_papers = transpose(paper_terms);
    }
    const TruncatedSvd svd =
        randomized_svd(term_papers, lsi_dimension, options.power_iterations, options.seed + 1,
                       threads, [&](size_t done, size_t total) { progress("lsi", done, total); });
    model->lsi_vectors_.resize(vocabulary * lsi_dimension);
    for (size_t c = 0; c < lsi_dimension; ++c) {
      // A rank the corpus does not have (singular value 0) contributes nothing.
      const double scale =
          svd.singular[c] > 1e-9 ? std::pow(svd.singular[c], -options.lsi_singular_power) : 0.0;
      for (size_t row = 0; row < vocabulary; ++row)
        model->lsi_vectors_[row * lsi_dimension + c] = static_cast<float>(
            svd.left(static_cast<Eigen::Index>(row), static_cast<Eigen::Index>(c)) * scale);
    }
  }
  model->finish_loading();
  return model;
}

}  // namespace paperboy::embed
