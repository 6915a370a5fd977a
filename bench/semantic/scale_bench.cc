// Semantic search at scale, for docs/benchmarks.md ("Semantic search at 1M papers"): on a large
// canonical JSONL corpus (bench/search's generator), measures
//   1. built-in embedder training (on an even sample, as `paperboy embed train` samples) and
//      embedding throughput of every paper;
//   2. HNSW build of paperboy's int8 index and of hnswlib on the same float32 vectors;
//   3. memory per paper: resident memory of the saved index reopened as a server opens it, and
//      bytes of its files;
//   4. recall@10 against exact search (OpenBLAS) and queries/s over a sweep of ef, against
//      hnswlib used directly;
//   5. keyword, semantic and hybrid query latency p50/p99 (text in, 20 results out);
//   6. with PAPERBOY_BENCH_ENCODER=DIR, the throughput of that transformer checkpoint.
// Expensive steps leave their results in WORK_DIR (model.bin, vectors.f32, index/) and later
// runs reuse them, so a rerun with other graph parameters (PAPERBOY_BENCH_LINKS=16,12 compares
// graph sizes) only rebuilds the graphs.
//
// Settings, from the environment:
//   PAPERBOY_BENCH_STEPS=recall,peer,latency  the steps after the build (default all), so the
//       long build can run niced and the latency passes alone at real-time priority;
//   PAPERBOY_BENCH_QUERY_PRIORITY=N  the timed latency passes at SCHED_FIFO N on one thread;
//   PAPERBOY_BENCH_INDEX=DIR  an existing keyword index of the same corpus (opened read-only)
//       instead of building one in WORK_DIR/index;
//   PAPERBOY_BENCH_GROW_FROM=DIR  the saved graph of a prefix of the corpus to insert the rest
//       into (a shorter WORK_DIR/vectors.f32 is likewise extended, not recomputed);
//   PAPERBOY_BENCH_EFS, PAPERBOY_BENCH_KEYWORD_CANDIDATES  lists of values to measure.
//
//   scale_bench CORPUS.jsonl WORK_DIR [threads]
#include <cblas.h>
#include <fcntl.h>
#include <hnswlib/hnswlib.h>
#include <malloc.h>
#include <pthread.h>
#include <sched.h>
#include <sys/mman.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <set>
#include <sstream>
#include <thread>

#include "embed/sif_model.h"
#include "encoder/encoder.h"
#include "hybrid/hybrid.h"
#include "index/index.h"
#include "ingest/ingest.h"
#include "search/search.h"

namespace {

using namespace paperboy;
namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

constexpr size_t kQueries = 1000;
constexpr size_t kLatencyQueries = 500;

double seconds_since(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

double percentile(std::vector<double> values, double fraction) {
  std::sort(values.begin(), values.end());
  return values[std::min(values.size() - 1, static_cast<size_t>(fraction * values.size()))];
}

size_t env_size(const char* name, size_t fallback) {
  const char* value = std::getenv(name);
  return value ? std::stoul(value) : fallback;
}

// A comma-separated list of numbers from the environment.
std::vector<size_t> env_list(const char* name, std::vector<size_t> fallback) {
  const char* value = std::getenv(name);
  if (value == nullptr) return fallback;
  std::vector<size_t> numbers;
  std::istringstream list(value);
  for (std::string item; std::getline(list, item, ',');) numbers.push_back(std::stoul(item));
  return numbers;
}

bool step_wanted(std::string_view step) {
  const char* steps = std::getenv("PAPERBOY_BENCH_STEPS");
  if (steps == nullptr) return true;
  std::istringstream list(steps);
  for (std::string item; std::getline(list, item, ',');)
    if (item == step) return true;
  return false;
}

// Resident memory of this process, in bytes.
size_t resident_bytes() {
  std::ifstream status("/proc/self/status");
  std::string line;
  while (std::getline(status, line))
    if (line.rfind("VmRSS:", 0) == 0) return std::stoul(line.substr(6)) * 1024;
  return 0;
}

size_t folder_bytes(const fs::path& folder) {
  size_t bytes = 0;
  for (const auto& entry : fs::recursive_directory_iterator(folder))
    if (entry.is_regular_file()) bytes += entry.file_size();
  return bytes;
}

template <class Work>
void parallel_for(size_t count, size_t threads, Work work) {
  std::atomic<size_t> next{0};
  std::vector<std::jthread> workers;
  for (size_t t = 0; t < threads; ++t)
    workers.emplace_back([&] {
      for (size_t i; (i = next.fetch_add(1)) < count;) work(i);
    });
}

// bench/search's generator writes canonical records whose first key is not one detection
// looks for.
ingest::ImportOptions canonical_format() {
  ingest::ImportOptions options;
  options.format = ingest::Format::canonical;
  return options;
}

struct Corpus {
  std::vector<std::string> ids, titles, texts;
};

// Leaves the texts of papers `keep_first` to `texts_from` empty: their vectors are saved
// already, and only the transformer's throughput reads the first few.
Corpus read_corpus(const fs::path& file, size_t keep_first, size_t texts_from) {
  Corpus corpus;
  ingest::Sink sink;
  sink.on_paper = [&](Paper&& paper) -> Result<void> {
    const size_t position = corpus.ids.size();
    corpus.texts.push_back(
        position < keep_first || position >= texts_from ? embed::paper_text(paper) : std::string());
    corpus.ids.push_back(paper_id(paper));
    corpus.titles.push_back(paper.title);
    return {};
  };
  sink.on_rejection = [](const ingest::Rejection&) {};
  const auto start = Clock::now();
  if (auto imported = ingest::import_file(file, canonical_format(), sink); !imported) {
    std::fprintf(stderr, "%s\n", imported.error().message.c_str());
    std::exit(1);
  }
  std::printf("- read %zu papers in %.1f s\n", corpus.ids.size(), seconds_since(start));
  return corpus;
}

std::unique_ptr<embed::SifModel> built_in_model(const Corpus& corpus, const fs::path& work,
                                                size_t threads) {
  const fs::path path = work / "model.bin";
  if (fs::exists(path)) {
    auto model = embed::SifModel::load(path);
    std::printf("- built-in embedder: reused %s (%s)\n", path.c_str(),
                (*model)->identity().c_str());
    return std::move(*model);
  }
  // An even sample, as train_embedder takes from a large store.
  const size_t sample = env_size("PAPERBOY_BENCH_TRAIN_PAPERS", 100000);
  const size_t stride = std::max<size_t>(1, corpus.texts.size() / sample);
  std::vector<std::string> texts;
  for (size_t i = 0; i < corpus.texts.size() && texts.size() < sample; i += stride)
    texts.push_back(corpus.texts[i]);
  embed::TrainOptions options;
  options.threads = threads;
  const auto start = Clock::now();
  auto model = embed::train_sif_model(texts, options);
  if (!model) {
    std::fprintf(stderr, "%s\n", model.error().message.c_str());
    std::exit(1);
  }
  std::printf("- built-in embedder trained on %zu papers in %.1f s, %zu words, %zu dims\n",
              texts.size(), seconds_since(start), (*model)->vocabulary_size(),
              (*model)->dimension());
  (void)(*model)->save(path);
  return std::move(*model);
}

// WORK_DIR/vectors.f32 mapped read-only: the kernel can drop and reread its pages (4 GB at
// 2.7M papers) instead of the process holding them.
class MappedRows {
 public:
  explicit MappedRows(const fs::path& path) : bytes_(fs::file_size(path)) {
    const int file = ::open(path.c_str(), O_RDONLY);
    data_ = bytes_ > 0 && file >= 0 ? mmap(nullptr, bytes_, PROT_READ, MAP_SHARED, file, 0)
                                    : MAP_FAILED;
    if (file >= 0) ::close(file);
    if (data_ == MAP_FAILED) {
      std::fprintf(stderr, "%s: cannot map\n", path.c_str());
      std::exit(1);
    }
  }
  ~MappedRows() { munmap(data_, bytes_); }
  MappedRows(const MappedRows&) = delete;
  MappedRows& operator=(const MappedRows&) = delete;
  std::span<const float> rows() const {
    return {static_cast<const float*>(data_), bytes_ / sizeof(float)};
  }

 private:
  size_t bytes_;
  void* data_;
};

// Vectors already in WORK_DIR/vectors.f32, a prefix of the corpus's (a smaller corpus of the
// same generator, embedded by the same model), 0 without a saved model.
size_t saved_vectors(const fs::path& work) {
  const fs::path model_path = work / "model.bin";
  const fs::path path = work / "vectors.f32";
  if (!fs::exists(model_path) || !fs::exists(path)) return 0;
  auto model = embed::SifModel::load(model_path);
  if (!model) return 0;
  return fs::file_size(path) / ((*model)->dimension() * sizeof(float));
}

// Embeds the papers after the `reused` saved ones, appends their vectors to
// WORK_DIR/vectors.f32 and maps the whole file.
std::unique_ptr<MappedRows> paper_vectors(const Corpus& corpus, const embed::Embedder& model,
                                          const fs::path& work, size_t reused, size_t threads) {
  const size_t dimension = model.dimension();
  const fs::path path = work / "vectors.f32";
  reused = std::min(reused, corpus.texts.size());
  if (reused > 0) std::printf("- paper vectors: reused %zu from %s\n", reused, path.c_str());
  const size_t rest = corpus.texts.size() - reused;
  if (rest > 0) {
    std::vector<float> rows(rest * dimension);
    const size_t single = std::min<size_t>(5000, rest);
    auto start = Clock::now();
    for (size_t i = 0; i < single; ++i)
      model.embed(corpus.texts[reused + i],
                  std::span<float>(rows).subspan(i * dimension, dimension));
    std::printf("- embedding, 1 thread: %.0f papers/s\n", single / seconds_since(start));
    start = Clock::now();
    parallel_for(rest, threads, [&](size_t i) {
      model.embed(corpus.texts[reused + i],
                  std::span<float>(rows).subspan(i * dimension, dimension));
    });
    const double seconds = seconds_since(start);
    std::printf("- embedding %zu papers, %zu threads: %.1f s, %.0f papers/s\n", rest, threads,
                seconds, rest / seconds);
    if (fs::exists(path)) fs::resize_file(path, reused * dimension * sizeof(float));
    std::ofstream(path, std::ios::binary | std::ios::app)
        .write(reinterpret_cast<const char*>(rows.data()),
               static_cast<std::streamsize>(rows.size() * sizeof(float)));
  }
  return std::make_unique<MappedRows>(path);
}

// Exact top 10 by float inner product for each query, through OpenBLAS in blocks of papers.
std::vector<std::set<size_t>> exact_top10(const std::vector<float>& queries,
                                          std::span<const float> rows, size_t dimension) {
  const size_t query_count = queries.size() / dimension;
  const size_t papers = rows.size() / dimension;
  constexpr size_t kBlock = 50000;
  std::vector<std::vector<std::pair<float, size_t>>> best(query_count);
  std::vector<float> scores(query_count * kBlock);
  for (size_t first = 0; first < papers; first += kBlock) {
    const size_t block = std::min(kBlock, papers - first);
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, static_cast<int>(query_count),
                static_cast<int>(block), static_cast<int>(dimension), 1.0f, queries.data(),
                static_cast<int>(dimension), rows.data() + first * dimension,
                static_cast<int>(dimension), 0.0f, scores.data(), static_cast<int>(block));
    for (size_t q = 0; q < query_count; ++q) {
      auto& top = best[q];
      for (size_t i = 0; i < block; ++i) top.emplace_back(scores[q * block + i], first + i);
      std::partial_sort(top.begin(), top.begin() + std::min<size_t>(10, top.size()), top.end(),
                        std::greater<>());
      top.resize(std::min<size_t>(10, top.size()));
    }
  }
  std::vector<std::set<size_t>> truth(query_count);
  for (size_t q = 0; q < query_count; ++q)
    for (const auto& [score, paper] : best[q]) truth[q].insert(paper);
  return truth;
}

void encoder_throughput(const Corpus& corpus, const fs::path& checkpoint, size_t threads) {
  auto encoder = encoder::load_sentence_encoder(checkpoint, {.threads = threads});
  if (!encoder) {
    std::fprintf(stderr, "%s\n", encoder.error().message.c_str());
    return;
  }
  const size_t count =
      std::min<size_t>(env_size("PAPERBOY_BENCH_ENCODER_PAPERS", 2000), corpus.texts.size());
  const std::vector<std::string> texts(corpus.texts.begin(),
                                       corpus.texts.begin() + static_cast<ptrdiff_t>(count));
  const auto start = Clock::now();
  auto vectors = (*encoder)->encode(texts);
  const double seconds = seconds_since(start);
  if (!vectors) {
    std::fprintf(stderr, "%s\n", vectors.error().message.c_str());
    return;
  }
  std::printf(
      "- transformer %s: %zu papers (title + abstract) in %.1f s, %.1f papers/s, %zu threads\n",
      (*encoder)->info().describe().c_str(), count, seconds, count / seconds, threads);
}

// Builds paperboy's index, saves it, and reopens it alone to see what a server holds. Returns
// the vector folder.
fs::path build_ours(const Corpus& corpus, std::span<const float> rows, const embed::Embedder& model,
                    const fs::path& work, const vector::IndexParams& params, size_t threads) {
  const size_t papers = corpus.ids.size();
  const fs::path saved =
      work / ("vectors-M" + std::to_string(params.links) + "-" + std::to_string(papers));
  if (!vector::VectorIndex::current_generation(saved).empty()) {
    std::printf("- paperboy HNSW M=%zu: reused %s\n", params.links, saved.c_str());
  } else {
    auto vectors = vector::VectorIndex::create(model.dimension(), model.identity(), params);
    // PAPERBOY_BENCH_GROW_FROM names the saved graph (same model and M) of a prefix of this
    // corpus: the build inserts only the papers after it, as a full build would, in order.
    size_t grown = 0;
    if (const char* smaller = std::getenv("PAPERBOY_BENCH_GROW_FROM")) {
      auto prefix = vector::VectorIndex::open(smaller, params);
      if (!prefix) {
        std::fprintf(stderr, "%s\n", prefix.error().message.c_str());
        std::exit(1);
      }
      const auto prefix_ids = (*prefix)->paper_ids();
      if (prefix_ids.size() < papers &&
          std::equal(prefix_ids.begin(), prefix_ids.end(), corpus.ids.begin())) {
        vectors = std::move(*prefix);
        grown = prefix_ids.size();
        std::printf("- paperboy HNSW M=%zu: grows %s (%zu papers)\n", params.links, smaller, grown);
      }
    }
    auto start = Clock::now();
    if (auto added = vectors->upsert_batch(
            std::span<const std::string>(corpus.ids).subspan(grown),
            rows.subspan(grown * model.dimension(), (papers - grown) * model.dimension()), threads);
        !added) {
      std::fprintf(stderr, "%s\n", added.error().message.c_str());
      std::exit(1);
    }
    const double seconds = seconds_since(start);
    std::printf(
        "- paperboy HNSW build (int8, M=%zu, ef_construction=%zu), %zu papers inserted: %.1f s, "
        "%.0f papers/s\n",
        params.links, params.ef_construction, papers - grown, seconds, (papers - grown) / seconds);
    fs::remove_all(saved);
    start = Clock::now();
    if (auto written = vectors->save(saved); !written) {
      std::fprintf(stderr, "%s\n", written.error().message.c_str());
      std::exit(1);
    }
    std::printf("- save: %.1f s\n", seconds_since(start));
  }
  malloc_trim(0);
  const size_t resident_before = resident_bytes();
  const auto start = Clock::now();
  auto opened = vector::VectorIndex::open(saved, params);
  if (!opened) {
    std::fprintf(stderr, "%s\n", opened.error().message.c_str());
    std::exit(1);
  }
  const double open_seconds = seconds_since(start);
  malloc_trim(0);
  const size_t resident = resident_bytes() - resident_before;
  const size_t files = folder_bytes(vector::VectorIndex::current_generation(saved));
  std::printf(
      "- M=%zu reopened in %.1f s; memory per paper: %.0f bytes resident (%.2f GB for %zu "
      "papers), %zu by the index's own count, files %.0f bytes (%.2f GB)\n",
      params.links, open_seconds, static_cast<double>(resident) / papers, resident / 1e9, papers,
      (*opened)->bytes_per_paper(), static_cast<double>(files) / papers, files / 1e9);
  std::printf("  projected to 2.7M papers: %.2f GB resident, %.2f GB of files\n",
              static_cast<double>(resident) / papers * 2.7e6 / 1e9,
              static_cast<double>(files) / papers * 2.7e6 / 1e9);
  std::fflush(stdout);
  return saved;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 3) {
    std::fprintf(stderr, "usage: scale_bench CORPUS.jsonl WORK_DIR [threads]\n");
    return 2;
  }
  const fs::path work = argv[2];
  fs::create_directories(work);
  const size_t threads = argc > 3 ? std::stoul(argv[3]) : std::thread::hardware_concurrency();
  openblas_set_num_threads(static_cast<int>(threads));
  // Graph sizes to compare, "16,12": the first is also hnswlib's and the latency run's.
  const std::vector<size_t> links = env_list("PAPERBOY_BENCH_LINKS", {16});
  vector::IndexParams params;
  params.links = links.front();
  params.ef_construction = env_size("PAPERBOY_BENCH_EF_CONSTRUCTION", params.ef_construction);

  const size_t reused_vectors = saved_vectors(work);
  const size_t encoder_papers =
      std::getenv("PAPERBOY_BENCH_ENCODER") ? env_size("PAPERBOY_BENCH_ENCODER_PAPERS", 2000) : 0;
  Corpus corpus = read_corpus(argv[1], encoder_papers, reused_vectors);
  const size_t papers = corpus.ids.size();
  std::printf("## %zu papers from %s, %zu threads\n\n", papers, argv[1], threads);
  std::fflush(stdout);

  std::shared_ptr<const embed::Embedder> model = built_in_model(corpus, work, threads);
  const size_t dimension = model->dimension();
  std::fflush(stdout);
  const auto mapped_rows = paper_vectors(corpus, *model, work, reused_vectors, threads);
  const std::span<const float> rows = mapped_rows->rows().first(papers * dimension);
  std::fflush(stdout);
  // Only the transformer's throughput reads the texts from here on: free the rest (about 4 GB
  // at 2.7M papers).
  corpus.texts.resize(std::min(corpus.texts.size(), encoder_papers));
  corpus.texts.shrink_to_fit();

  std::vector<fs::path> saved;
  for (size_t m : links) {
    vector::IndexParams built = params;
    built.links = m;
    saved.push_back(build_ours(corpus, rows, *model, work, built, threads));
  }

  // Queries: titles of papers spread over the corpus, embedded.
  std::vector<float> queries(kQueries * dimension);
  for (size_t q = 0; q < kQueries; ++q)
    model->embed(corpus.titles[(q * 7919) % papers],
                 std::span<float>(queries).subspan(q * dimension, dimension));
  std::unordered_map<std::string, size_t> position;
  for (size_t i = 0; i < papers; ++i) position.emplace(corpus.ids[i], i);
  const auto recall_and_rate = [&](const fs::path& saved_index, vector::IndexParams search_params,
                                   const std::vector<std::set<size_t>>& truth) {
    auto opened = vector::VectorIndex::open(saved_index, search_params);
    size_t found = 0;
    const auto begin = Clock::now();
    for (size_t q = 0; q < kQueries; ++q)
      for (const auto& hit :
           (*opened)->search(std::span<const float>(queries).subspan(q * dimension, dimension), 10))
        found += truth[q].count(position.at(hit.paper_id));
    const double rate = kQueries / seconds_since(begin);
    return std::pair(static_cast<double>(found) / (kQueries * 10.0), rate);
  };
  const std::vector<size_t> efs =
      env_list("PAPERBOY_BENCH_EFS", {16, 32, 48, 64, 96, 128, 192, 256});

  // paperboy alone on every paper.
  auto start = Clock::now();
  if (step_wanted("recall")) {
    const auto truth = exact_top10(queries, rows, dimension);
    std::printf("\nexact top 10 of %zu queries over %zu papers in %.1f s\n\n| ef |", kQueries,
                papers, seconds_since(start));
    for (size_t m : links) std::printf(" paperboy int8 M=%zu recall@10 | queries/s |", m);
    std::printf("\n|---:|");
    for (size_t i = 0; i < links.size(); ++i) std::printf("---:|---:|");
    std::printf("\n");
    for (size_t ef : efs) {
      std::printf("| %zu |", ef);
      for (size_t which = 0; which < links.size(); ++which) {
        vector::IndexParams search_params = params;
        search_params.links = links[which];
        search_params.ef_search = ef;
        const auto [recall, rate] = recall_and_rate(saved[which], search_params, truth);
        std::printf(" %.4f | %.0f |", recall, rate);
      }
      std::printf("\n");
      std::fflush(stdout);
    }
  }

  // Against hnswlib on the same float32 vectors (the first PAPERBOY_BENCH_PEER_PAPERS papers,
  // default all), same M and ef_construction.
  if (step_wanted("peer")) {
    const size_t peer_papers = std::min(papers, env_size("PAPERBOY_BENCH_PEER_PAPERS", papers));
    fs::path ours_for_peer = saved.front();
    const std::span<const float> peer_rows = rows.first(peer_papers * dimension);
    if (peer_papers < papers) {
      Corpus subset;
      subset.ids.assign(corpus.ids.begin(),
                        corpus.ids.begin() + static_cast<ptrdiff_t>(peer_papers));
      ours_for_peer = build_ours(subset, peer_rows, *model, work, params, threads);
    }
    const auto peer_truth = exact_top10(queries, peer_rows, dimension);
    hnswlib::InnerProductSpace space(dimension);
    hnswlib::HierarchicalNSW<float> peer(&space, peer_papers, params.links, params.ef_construction);
    start = Clock::now();
    parallel_for(peer_papers, threads, [&](size_t i) { peer.addPoint(&rows[i * dimension], i); });
    std::printf(
        "- hnswlib float32 build on %zu papers (M=%zu, ef_construction=%zu): %.1f s, %.0f "
        "papers/s\n\n",
        peer_papers, params.links, params.ef_construction, seconds_since(start),
        peer_papers / seconds_since(start));
    std::printf(
        "| ef | paperboy int8 recall@10 | queries/s | hnswlib float32 recall@10 | queries/s |\n"
        "|---:|---:|---:|---:|---:|\n");
    for (size_t ef : efs) {
      vector::IndexParams search_params = params;
      search_params.ef_search = ef;
      const auto [recall, rate] = recall_and_rate(ours_for_peer, search_params, peer_truth);
      peer.setEf(ef);
      size_t found = 0;
      start = Clock::now();
      for (size_t q = 0; q < kQueries; ++q) {
        auto result = peer.searchKnn(&queries[q * dimension], 10);
        for (; !result.empty(); result.pop()) found += peer_truth[q].count(result.top().second);
      }
      const double peer_qps = kQueries / seconds_since(start);
      std::printf("| %zu | %.4f | %.0f | %.4f | %.0f |\n", ef, recall, rate,
                  static_cast<double>(found) / (kQueries * 10.0), peer_qps);
      std::fflush(stdout);
    }
  }

  // Latency end to end at the default ef: text -> embedder -> vectors, and keyword + fusion.
  if (step_wanted("latency")) {
    const char* given_index = std::getenv("PAPERBOY_BENCH_INDEX");
    const fs::path index_dir = given_index ? fs::path(given_index) : work / "index";
    if (!fs::exists(index_dir / "MANIFEST")) {
      start = Clock::now();
      auto writer = index::IndexWriter::open(index_dir);
      ingest::Sink sink;
      sink.on_paper = [&](Paper&& paper) {
        return (*writer)->add(index::document_from_paper(paper));
      };
      sink.on_rejection = [](const ingest::Rejection&) {};
      (void)ingest::import_file(argv[1], canonical_format(), sink);
      (void)(*writer)->commit();
      std::printf("\n- keyword index built in %.1f s\n", seconds_since(start));
    }
    auto snapshot = index::Snapshot::open(index_dir);
    if (!snapshot) {
      std::fprintf(stderr, "%s\n", snapshot.error().message.c_str());
      return 1;
    }
    auto opened = vector::VectorIndex::open(saved.front(), params);
    hybrid::SemanticIndex semantic{model,
                                   std::shared_ptr<const vector::VectorIndex>(std::move(*opened))};
    std::vector<std::string> texts;
    for (size_t q = 0; q < kLatencyQueries; ++q)
      texts.push_back(corpus.titles[(q * 104729) % papers]);
    hybrid::HybridOptions options;
    options.limit = 20;
    const auto timed = [&](auto&& run_query) {
      std::vector<double> latencies;
      for (const std::string& text : texts) {
        const auto query_start = Clock::now();
        run_query(text);
        latencies.push_back(seconds_since(query_start) * 1000);
      }
      return std::pair(percentile(latencies, 0.5), percentile(latencies, 0.99));
    };
    // One untimed hybrid pass first, as a running server's index pages are in memory.
    for (const std::string& text : texts)
      (void)hybrid::search(snapshot->get(), &semantic, text, options);
    // With PAPERBOY_BENCH_QUERY_PRIORITY=N the timed passes run on this thread alone at
    // SCHED_FIFO priority N (as `chrt -f N`), the rest of the run at the usual priority.
    const size_t priority = env_size("PAPERBOY_BENCH_QUERY_PRIORITY", 0);
    if (priority > 0) {
      sched_param realtime{.sched_priority = static_cast<int>(priority)};
      if (pthread_setschedparam(pthread_self(), SCHED_FIFO, &realtime) != 0)
        std::fprintf(stderr, "could not raise the query thread to SCHED_FIFO %zu\n", priority);
    }
    std::printf("\n| mode (%zu title queries, %zu results) | p50 ms | p99 ms |\n|---|---:|---:|\n",
                texts.size(), options.limit);
    for (hybrid::Mode mode : {hybrid::Mode::kKeyword, hybrid::Mode::kSemantic}) {
      options.mode = mode;
      const auto [p50, p99] = timed([&](const std::string& text) {
        (void)hybrid::search(snapshot->get(), &semantic, text, options);
      });
      std::printf("| %s | %.2f | %.2f |\n", std::string(hybrid::mode_name(mode)).c_str(), p50, p99);
      std::fflush(stdout);
    }
    // Hybrid and its keyword candidate fetch alone, for each number of keyword candidates in
    // PAPERBOY_BENCH_KEYWORD_CANDIDATES (default: hybrid's default).
    options.mode = hybrid::Mode::kHybrid;
    for (size_t candidates :
         env_list("PAPERBOY_BENCH_KEYWORD_CANDIDATES", {options.keyword_candidates})) {
      hybrid::HybridOptions with_candidates = options;
      with_candidates.keyword_candidates = candidates;
      const auto [fetch_p50, fetch_p99] = timed([&](const std::string& text) {
        (void)search::search(**snapshot, text, hybrid::keyword_candidate_options(with_candidates));
      });
      std::printf("| keyword candidates of hybrid (top %zu) | %.2f | %.2f |\n", candidates,
                  fetch_p50, fetch_p99);
      const auto [p50, p99] = timed([&](const std::string& text) {
        (void)hybrid::search(snapshot->get(), &semantic, text, with_candidates);
      });
      std::printf("| hybrid, %zu keyword candidates | %.2f | %.2f |\n", candidates, p50, p99);
      std::fflush(stdout);
    }
    if (priority > 0) {
      sched_param usual{.sched_priority = 0};
      pthread_setschedparam(pthread_self(), SCHED_OTHER, &usual);
    }
  }

  if (const char* checkpoint = std::getenv("PAPERBOY_BENCH_ENCODER"))
    encoder_throughput(corpus, checkpoint, threads);
  return 0;
}
