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

constexpr char kMagic[8] = {'P', 'B', 'S', 'I', 'F', '0', '0', '1'};
constexpr const char* kModelName = "ppmi-svd-sif/1";
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

void SifModel::embed(std::string_view text, std::span<float> out) const {
  std::fill(out.begin(), out.end(), 0.0f);
  size_t words = 0;
  for (const std::string& word : words_of(text)) {
    auto found = term_ids_.find(word);
    if (found == term_ids_.end()) continue;
    const float weight = term_weights_[found->second];
    const float* vector = word_vectors_.data() + static_cast<size_t>(found->second) * dimension_;
    for (size_t c = 0; c < dimension_; ++c) out[c] += weight * vector[c];
    ++words;
  }
  if (words == 0) return;
  float projection = 0;
  for (size_t c = 0; c < dimension_; ++c) projection += out[c] * common_component_[c];
  float norm = 0;
  for (size_t c = 0; c < dimension_; ++c) {
    out[c] -= projection * common_component_[c];
    norm += out[c] * out[c];
  }
  norm = std::sqrt(norm);
  if (norm < 1e-12f) {
    std::fill(out.begin(), out.end(), 0.0f);
    return;
  }
  for (float& value : out) value /= norm;
}

std::string SifModel::serialize_body() const {
  std::string body;
  put(body, static_cast<uint32_t>(dimension_));
  put(body, sif_weight_);
  put(body, static_cast<uint32_t>(terms_.size()));
  for (size_t i = 0; i < terms_.size(); ++i) {
    put(body, static_cast<uint16_t>(terms_[i].size()));
    body += terms_[i];
    put(body, term_weights_[i]);
  }
  body.append(reinterpret_cast<const char*>(word_vectors_.data()),
              word_vectors_.size() * sizeof(float));
  body.append(reinterpret_cast<const char*>(common_component_.data()),
              common_component_.size() * sizeof(float));
  return body;
}

void SifModel::finish_loading() {
  term_ids_.clear();
  term_ids_.reserve(terms_.size());
  for (size_t i = 0; i < terms_.size(); ++i) term_ids_.emplace(terms_[i], static_cast<uint32_t>(i));
  char hex[17];
  std::snprintf(hex, sizeof hex, "%016llx",
                static_cast<unsigned long long>(fnv1a(serialize_body())));
  identity_ = std::string(kModelName) + ":" + hex;
}

Result<void> SifModel::save(const fs::path& path) const {
  static_assert(std::endian::native == std::endian::little, "the model file is little-endian");
  std::string file(kMagic, sizeof kMagic);
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
  if (file.size() < sizeof kMagic + sizeof(uint64_t) ||
      std::memcmp(file.data(), kMagic, sizeof kMagic) != 0)
    return fail(path.string() + ": not a paperboy embedding model");
  const std::string_view body(file.data() + sizeof kMagic,
                              file.size() - sizeof kMagic - sizeof(uint64_t));
  uint64_t checksum = 0;
  std::memcpy(&checksum, file.data() + file.size() - sizeof checksum, sizeof checksum);
  if (fnv1a(body) != checksum)
    return fail(path.string() + ": checksum mismatch (the model file is damaged)");

  auto model = std::unique_ptr<SifModel>(new SifModel());
  Reader reader(body);
  uint32_t dimension = 0, vocabulary = 0;
  bool ok = reader.get(dimension) && reader.get(model->sif_weight_) && reader.get(vocabulary) &&
            dimension > 0 && dimension <= 65536;
  model->dimension_ = dimension;
  for (uint32_t i = 0; ok && i < vocabulary; ++i) {
    uint16_t length = 0;
    float weight = 0;
    std::string term;
    ok = reader.get(length);
    if (!ok) break;
    term.resize(length);
    ok = reader.get_bytes(term.data(), length) && reader.get(weight);
    model->terms_.push_back(std::move(term));
    model->term_weights_.push_back(weight);
  }
  if (ok) {
    model->word_vectors_.resize(static_cast<size_t>(vocabulary) * dimension);
    model->common_component_.resize(dimension);
    ok = reader.get_bytes(model->word_vectors_.data(),
                          model->word_vectors_.size() * sizeof(float)) &&
         reader.get_bytes(model->common_component_.data(), dimension * sizeof(float)) &&
         reader.at_end();
  }
  if (!ok) return fail(path.string() + ": malformed embedding model");
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

  auto model = std::unique_ptr<SifModel>(new SifModel());
  model->dimension_ = dimension;
  model->sif_weight_ = options.sif_weight;
  for (auto& [word, count] : ranked) {
    const double probability = static_cast<double>(count) / static_cast<double>(total_words);
    model->terms_.push_back(word);
    model->term_weights_.push_back(
        static_cast<float>(options.sif_weight / (options.sif_weight + probability)));
  }
  ranked = {};
  model->finish_loading();

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
  const Csr ppmi_transposed = transpose(ppmi);

  // 5. Randomized SVD: a basis Q for the range of A by power iterations, then the SVD of the
  // small matrix Q^T A through the eigenvectors of (Q^T A)(Q^T A)^T.
  const size_t steps = 2 + 2 * options.power_iterations + 1;
  size_t step = 0;
  Dense sample(static_cast<Eigen::Index>(vocabulary), static_cast<Eigen::Index>(sample_width));
  std::mt19937_64 random(options.seed);
  std::normal_distribution<float> gaussian;
  for (Eigen::Index i = 0; i < sample.size(); ++i) sample.data()[i] = gaussian(random);
  progress("svd", step, steps);
  Dense basis = orthonormal(multiply(ppmi, sample, threads));
  progress("svd", ++step, steps);
  for (size_t iteration = 0; iteration < options.power_iterations; ++iteration) {
    const Dense back = orthonormal(multiply(ppmi_transposed, basis, threads));
    progress("svd", ++step, steps);
    basis = orthonormal(multiply(ppmi, back, threads));
    progress("svd", ++step, steps);
  }
  const Dense projected = multiply(ppmi_transposed, basis, threads);  // (Q^T A)^T
  const Eigen::MatrixXd gram = (projected.transpose() * projected).cast<double>();
  Eigen::SelfAdjointEigenSolver<Eigen::MatrixXd> solver(gram);
  progress("svd", ++step, steps);
  // Eigenvalues ascend: the top `dimension` are the last columns.
  Eigen::MatrixXf top(static_cast<Eigen::Index>(sample_width),
                      static_cast<Eigen::Index>(dimension));
  for (size_t c = 0; c < dimension; ++c) {
    const Eigen::Index source = static_cast<Eigen::Index>(sample_width - 1 - c);
    const double singular = std::sqrt(std::max(0.0, solver.eigenvalues()(source)));
    top.col(static_cast<Eigen::Index>(c)) =
        (solver.eigenvectors().col(source) * std::sqrt(singular)).cast<float>();
  }
  const Dense vectors = basis * top;
  model->word_vectors_.resize(vocabulary * dimension);
  for (size_t row = 0; row < vocabulary; ++row) {
    const auto source = vectors.row(static_cast<Eigen::Index>(row));
    const float norm = source.norm();
    for (size_t c = 0; c < dimension; ++c)
      model->word_vectors_[row * dimension + c] =
          norm > 0 ? source(static_cast<Eigen::Index>(c)) / norm : 0.0f;
  }
  progress("svd", ++step, steps);

  // 6. The common component: the top eigenvector of the paper vectors' second moment.
  std::vector<Eigen::MatrixXd> chunk_moments(chunks);
  parallel_for(
      chunks, threads,
      [&](size_t chunk) {
        Eigen::MatrixXd moment = Eigen::MatrixXd::Zero(static_cast<Eigen::Index>(dimension),
                                                       static_cast<Eigen::Index>(dimension));
        Eigen::VectorXd average(static_cast<Eigen::Index>(dimension));
        for (size_t i = chunk * kChunk; i < std::min(texts.size(), (chunk + 1) * kChunk); ++i) {
          average.setZero();
          size_t words = 0;
          for (uint64_t at = text_starts[i]; tokens[at] != kDocumentBreak; ++at, ++words) {
            const uint32_t id = tokens[at];
            const float* vector = model->word_vectors_.data() + static_cast<size_t>(id) * dimension;
            for (size_t c = 0; c < dimension; ++c)
              average(static_cast<Eigen::Index>(c)) += model->term_weights_[id] * vector[c];
          }
          if (words == 0) continue;
          average /= static_cast<double>(words);
          moment.selfadjointView<Eigen::Lower>().rankUpdate(average);
        }
        chunk_moments[chunk] = std::move(moment);
      },
      [&](size_t done) { progress("common component", done, chunks); });
  Eigen::MatrixXd moment = Eigen::MatrixXd::Zero(static_cast<Eigen::Index>(dimension),
                                                 static_cast<Eigen::Index>(dimension));
  for (const auto& chunk : chunk_moments) moment += chunk;
  Eigen::SelfAdjointEigenSolver<Eigen::MatrixXd> moment_solver(
      Eigen::MatrixXd(moment.selfadjointView<Eigen::Lower>()));
  const Eigen::VectorXd common =
      moment_solver.eigenvectors().col(static_cast<Eigen::Index>(dimension - 1));
  model->common_component_.resize(dimension);
  for (size_t c = 0; c < dimension; ++c)
    model->common_component_[c] = static_cast<float>(common(static_cast<Eigen::Index>(c)));

  model->finish_loading();
  return model;
}

}  // namespace paperboy::embed
