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
//   scale_bench CORPUS.jsonl WORK_DIR [threads]
#include <cblas.h>
#include <hnswlib/hnswlib.h>
#include <malloc.h>

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

Corpus read_corpus(const fs::path& file) {
  Corpus corpus;
  ingest::Sink sink;
  sink.on_paper = [&](Paper&& paper) -> Result<void> {
    corpus.ids.push_back(paper_id(paper));
    corpus.titles.push_back(paper.title);
    corpus.texts.push_back(embed::paper_text(paper));
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

std::vector<float> paper_vectors(const Corpus& corpus, const embed::Embedder& model,
                                 const fs::path& work, size_t threads) {
  const size_t dimension = model.dimension();
  std::vector<float> rows(corpus.texts.size() * dimension);
  const fs::path path = work / "vectors.f32";
  if (fs::exists(path) && fs::file_size(path) == rows.size() * sizeof(float)) {
    std::ifstream(path, std::ios::binary)
        .read(reinterpret_cast<char*>(rows.data()),
              static_cast<std::streamsize>(rows.size() * sizeof(float)));
    std::printf("- paper vectors: reused %s\n", path.c_str());
    return rows;
  }
  const size_t single = std::min<size_t>(5000, corpus.texts.size());
  auto start = Clock::now();
  for (size_t i = 0; i < single; ++i)
    model.embed(corpus.texts[i], std::span<float>(rows).subspan(i * dimension, dimension));
  std::printf("- embedding, 1 thread: %.0f papers/s\n", single / seconds_since(start));
  start = Clock::now();
  parallel_for(corpus.texts.size(), threads, [&](size_t i) {
    model.embed(corpus.texts[i], std::span<float>(rows).subspan(i * dimension, dimension));
  });
  const double seconds = seconds_since(start);
  std::printf("- embedding every paper, %zu threads: %.1f s, %.0f papers/s\n", threads, seconds,
              corpus.texts.size() / seconds);
  std::ofstream(path, std::ios::binary)
      .write(reinterpret_cast<const char*>(rows.data()),
             static_cast<std::streamsize>(rows.size() * sizeof(float)));
  return rows;
}

// Exact top 10 by float inner product for each query, through OpenBLAS in blocks of papers.
std::vector<std::set<size_t>> exact_top10(const std::vector<float>& queries,
                                          const std::vector<float>& rows, size_t dimension) {
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
fs::path build_ours(const Corpus& corpus, const std::vector<float>& rows,
                    const embed::Embedder& model, const fs::path& work,
                    const vector::IndexParams& params, size_t threads) {
  const size_t papers = corpus.ids.size();
  const fs::path saved =
      work / ("vectors-M" + std::to_string(params.links) + "-" + std::to_string(papers));
  if (!vector::VectorIndex::current_generation(saved).empty()) {
    std::printf("- paperboy HNSW M=%zu: reused %s\n", params.links, saved.c_str());
  } else {
    auto start = Clock::now();
    auto vectors = vector::VectorIndex::create(model.dimension(), model.identity(), params);
    if (auto added = vectors->upsert_batch(corpus.ids, rows, threads); !added) {
      std::fprintf(stderr, "%s\n", added.error().message.c_str());
      std::exit(1);
    }
    const double seconds = seconds_since(start);
    std::printf("- paperboy HNSW build (int8, M=%zu, ef_construction=%zu): %.1f s, %.0f papers/s\n",
                params.links, params.ef_construction, seconds, papers / seconds);
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
  std::vector<size_t> links;
  {
    std::istringstream list(
        std::getenv("PAPERBOY_BENCH_LINKS") ? std::getenv("PAPERBOY_BENCH_LINKS") : "16");
    for (std::string item; std::getline(list, item, ',');) links.push_back(std::stoul(item));
  }
  vector::IndexParams params;
  params.links = links.front();
  params.ef_construction = env_size("PAPERBOY_BENCH_EF_CONSTRUCTION", params.ef_construction);

  const Corpus corpus = read_corpus(argv[1]);
  const size_t papers = corpus.ids.size();
  std::printf("## %zu papers from %s, %zu threads\n\n", papers, argv[1], threads);
  std::fflush(stdout);

  std::shared_ptr<const embed::Embedder> model = built_in_model(corpus, work, threads);
  const size_t dimension = model->dimension();
  std::fflush(stdout);
  const std::vector<float> rows = paper_vectors(corpus, *model, work, threads);
  std::fflush(stdout);

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
  constexpr size_t kEfs[] = {16, 32, 48, 64, 96, 128, 192, 256};

  // paperboy alone on every paper.
  auto start = Clock::now();
  const auto truth = exact_top10(queries, rows, dimension);
  std::printf("\nexact top 10 of %zu queries over %zu papers in %.1f s\n\n| ef |", kQueries, papers,
              seconds_since(start));
  for (size_t m : links) std::printf(" paperboy int8 M=%zu recall@10 | queries/s |", m);
  std::printf("\n|---:|");
  for (size_t i = 0; i < links.size(); ++i) std::printf("---:|---:|");
  std::printf("\n");
  for (size_t ef : kEfs) {
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

  // Against hnswlib on the same float32 vectors (the first PAPERBOY_BENCH_PEER_PAPERS papers,
  // default all), same M and ef_construction.
  const size_t peer_papers = std::min(papers, env_size("PAPERBOY_BENCH_PEER_PAPERS", papers));
  fs::path ours_for_peer = saved.front();
  auto peer_truth = truth;
  if (peer_papers < papers) {
    Corpus subset;
    subset.ids.assign(corpus.ids.begin(), corpus.ids.begin() + static_cast<ptrdiff_t>(peer_papers));
    ours_for_peer = build_ours(
        subset,
        std::vector<float>(rows.begin(),
                           rows.begin() + static_cast<ptrdiff_t>(peer_papers * dimension)),
        *model, work, params, threads);
    peer_truth = exact_top10(
        queries,
        std::vector<float>(rows.begin(),
                           rows.begin() + static_cast<ptrdiff_t>(peer_papers * dimension)),
        dimension);
  }
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
  for (size_t ef : kEfs) {
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

  // Latency end to end at the default ef: text -> embedder -> vectors, and keyword + fusion.
  const fs::path index_dir = work / "index";
  if (!fs::exists(index_dir / "MANIFEST")) {
    start = Clock::now();
    std::ifstream corpus_file(argv[1]);
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
  std::printf("\n| mode | p50 ms | p99 ms |\n|---|---:|---:|\n");
  for (hybrid::Mode mode :
       {hybrid::Mode::kKeyword, hybrid::Mode::kSemantic, hybrid::Mode::kHybrid}) {
    std::vector<double> latencies;
    hybrid::HybridOptions options;
    options.mode = mode;
    options.limit = 20;
    for (size_t q = 0; q < kLatencyQueries; ++q) {
      const std::string& text = corpus.titles[(q * 104729) % papers];
      const auto query_start = Clock::now();
      (void)hybrid::search(snapshot->get(), &semantic, text, options);
      latencies.push_back(seconds_since(query_start) * 1000);
    }
    std::printf("| %s | %.2f | %.2f |\n", std::string(hybrid::mode_name(mode)).c_str(),
                percentile(latencies, 0.5), percentile(latencies, 0.99));
    std::fflush(stdout);
  }

  if (const char* checkpoint = std::getenv("PAPERBOY_BENCH_ENCODER"))
    encoder_throughput(corpus, checkpoint, threads);
  return 0;
}
