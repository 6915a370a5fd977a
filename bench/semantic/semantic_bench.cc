// Semantic search figures for docs/benchmarks.md ("Semantic search"):
//   1. SciFact relevance: keyword, semantic, hybrid (RRF and score blend) side by side.
//   2. On a real corpus (arXiv listings): embedder training time, embedding throughput,
//      recall@10 of the HNSW index against exact float search, and queries/s against hnswlib
//      used directly on float32 vectors, over a sweep of ef; semantic and hybrid query latency
//      p50/p99; memory per paper.
//
//   semantic_bench /work/shared/data/scifact /work/shared/data/arxiv-daily-cs [threads]
#include <hnswlib/hnswlib.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <numeric>
#include <set>
#include <span>
#include <thread>
#include <unordered_set>

#include "embed/sif_model.h"
#include "hybrid/evaluation.h"
#include "hybrid/hybrid.h"
#include "index/index.h"
#include "ingest/ingest.h"
#include "search/eval.h"

namespace {

using namespace paperboy;
namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

double percentile(std::vector<double> values, double fraction) {
  std::sort(values.begin(), values.end());
  return values[std::min(values.size() - 1, static_cast<size_t>(fraction * values.size()))];
}

// The defaults, or the embedder settings to compare from PAPERBOY_BENCH_* variables.
embed::TrainOptions train_options(size_t threads) {
  embed::TrainOptions options;
  options.threads = threads;
  if (const char* dimension = std::getenv("PAPERBOY_BENCH_DIM"))
    options.dimension = std::stoul(dimension);
  if (const char* window = std::getenv("PAPERBOY_BENCH_WINDOW"))
    options.window = std::stoul(window);
  if (const char* sif = std::getenv("PAPERBOY_BENCH_SIF")) options.sif_weight = std::stod(sif);
  if (const char* min_count = std::getenv("PAPERBOY_BENCH_MIN_COUNT"))
    options.min_count = std::stoul(min_count);
  if (const char* idf = std::getenv("PAPERBOY_BENCH_IDF_WORDS"))
    options.idf_word_weights = std::string_view(idf) == "1";
  if (const char* lsi = std::getenv("PAPERBOY_BENCH_LSI")) options.lsi_fraction = std::stod(lsi);
  if (const char* share = std::getenv("PAPERBOY_BENCH_LSI_SHARE"))
    options.lsi_similarity_share = std::stod(share);
  if (const char* power = std::getenv("PAPERBOY_BENCH_LSI_POWER"))
    options.lsi_singular_power = std::stod(power);
  return options;
}

void scifact(const fs::path& dir, size_t threads) {
  auto benchmark =
      search::load_beir(dir / "corpus.jsonl", dir / "queries-train.jsonl", dir / "qrels-train.tsv");
  if (!benchmark) {
    std::fprintf(stderr, "%s\n", benchmark.error().message.c_str());
    return;
  }
  const fs::path index_dir = fs::temp_directory_path() / "semantic-bench-scifact";
  fs::remove_all(index_dir);
  if (auto indexed = search::index_beir(*benchmark, index_dir); !indexed) return;
  auto snapshot = index::Snapshot::open(index_dir);
  std::vector<std::string> texts, ids;
  for (const auto& document : benchmark->corpus) {
    texts.push_back(document.title + ". " + document.abstract);
    ids.push_back(document.stored.paper_id);
  }
  const embed::TrainOptions options = train_options(threads);
  const auto start = Clock::now();
  auto model = embed::train_sif_model(texts, options);
  const double train_seconds = seconds_since(start);
  auto vectors = vector::VectorIndex::create((*model)->dimension(), (*model)->identity());
  std::vector<float> rows;
  for (const std::string& text : texts) {
    auto row = (*model)->embed(text);
    rows.insert(rows.end(), row.begin(), row.end());
  }
  (void)vectors->upsert_batch(ids, rows, threads);
  hybrid::SemanticIndex semantic{std::shared_ptr<const embed::Embedder>(std::move(*model)),
                                 std::shared_ptr<const vector::VectorIndex>(std::move(vectors))};
  const auto tuning = search::tuning_queries(*benchmark);
  const auto held_out = search::held_out_queries(*benchmark);
  const auto fusions = hybrid::fusion_grid();
  const auto on_tuning =
      hybrid::evaluate_methods(**snapshot, semantic, *benchmark, tuning, fusions);
  const auto on_held_out =
      hybrid::evaluate_methods(**snapshot, semantic, *benchmark, held_out, fusions);
  std::printf("## SciFact (%zu docs; embedder trained on them in %.1f s)\n\n", texts.size(),
              train_seconds);
  std::printf(
      "| method | nDCG@10 tuning | nDCG@10 held out | recall@100 held out "
      "|\n|---|---:|---:|---:|\n");
  for (size_t m = 0; m < on_tuning.size(); ++m)
    std::printf("| %s | %.4f | %.4f | %.4f |\n", on_tuning[m].method.c_str(),
                on_tuning[m].scores.ndcg_at_10, on_held_out[m].scores.ndcg_at_10,
                on_held_out[m].scores.recall_at_100);
  std::printf("\n");

  // The fusion chosen on the tuning queries alone, by 5-fold cross-validation among them.
  constexpr size_t kFirstHybrid = 2;
  const std::span<const hybrid::MethodScores> tuning_hybrids(on_tuning.begin() + kFirstHybrid,
                                                             on_tuning.end());
  std::printf(
      "| family (5-fold on tuning) | nDCG@10 out of fold | weight | nDCG@10 tuning | nDCG@10 "
      "held out |\n|---|---:|---|---:|---:|\n");
  for (const hybrid::FamilyScore& family : hybrid::cross_validate_families(tuning_hybrids, 5)) {
    const size_t m = kFirstHybrid + family.best;
    std::printf("| %s | %.4f | %s | %.4f | %.4f |\n", family.family.c_str(),
                family.out_of_fold_ndcg, on_tuning[m].method.c_str(),
                on_tuning[m].scores.ndcg_at_10, on_held_out[m].scores.ndcg_at_10);
  }
  std::printf("\n");
  const hybrid::FusionChoice choice = hybrid::choose_fusion(tuning_hybrids, 5);
  const std::string default_name = hybrid::describe(hybrid::FusionParams{});
  for (size_t m = kFirstHybrid; m < on_held_out.size(); ++m) {
    const bool chosen = m == kFirstHybrid + choice.chosen;
    if (!chosen && on_held_out[m].method != default_name) continue;
    const auto difference = hybrid::paired_difference(on_held_out[m], on_held_out[0]);
    std::printf("%s %s: held out nDCG@10 minus keyword %+.4f +- %.4f (95%%, %zu queries)\n",
                chosen ? "chosen by cross-validation" : "default", on_held_out[m].method.c_str(),
                difference.mean, difference.half_width_95, difference.queries);
  }
  std::printf("\n");
  fs::remove_all(index_dir);
}

void corpus(const fs::path& dir, size_t threads) {
  std::vector<Paper> papers;
  std::unordered_set<std::string> seen;
  ingest::Sink sink;
  sink.on_paper = [&](Paper&& paper) -> Result<void> {
    if (seen.insert(paper.arxiv_id).second) papers.push_back(std::move(paper));
    return {};
  };
  sink.on_rejection = [](const ingest::Rejection&) {};
  std::vector<fs::path> files;
  for (const auto& entry : fs::directory_iterator(dir))
    if (entry.path().extension() == ".jsonl") files.push_back(entry.path());
  std::sort(files.begin(), files.end());
  for (const fs::path& file : files) (void)ingest::import_file(file, {}, sink);
  std::vector<std::string> texts, ids;
  for (const Paper& paper : papers) {
    texts.push_back(embed::paper_text(paper));
    ids.push_back(paper_id(paper));
  }
  std::printf("## %zu papers from %s, %zu threads\n\n", papers.size(), dir.c_str(), threads);

  const embed::TrainOptions options = train_options(threads);
  auto start = Clock::now();
  auto model = embed::train_sif_model(texts, options);
  std::printf("- training (%zu word + %zu LSI dims): %.1f s, %zu words\n",
              (*model)->word_dimension(), (*model)->lsi_dimension(), seconds_since(start),
              (*model)->vocabulary_size());
  const size_t dimension = (*model)->dimension();

  std::vector<float> rows(texts.size() * dimension);
  start = Clock::now();
  for (size_t i = 0; i < 2000; ++i)
    (*model)->embed(texts[i], std::span<float>(rows).subspan(i * dimension, dimension));
  std::printf("- embedding, 1 thread: %.0f papers/s\n", 2000 / seconds_since(start));
  start = Clock::now();
  {
    std::atomic<size_t> next{0};
    std::vector<std::jthread> workers;
    for (size_t t = 0; t < threads; ++t)
      workers.emplace_back([&] {
        for (size_t i; (i = next.fetch_add(1)) < texts.size();)
          (*model)->embed(texts[i], std::span<float>(rows).subspan(i * dimension, dimension));
      });
  }
  std::printf("- embedding, %zu threads: %.0f papers/s\n", threads,
              texts.size() / seconds_since(start));

  start = Clock::now();
  auto vectors = vector::VectorIndex::create(dimension, (*model)->identity());
  (void)vectors->upsert_batch(ids, rows, threads);
  std::printf("- HNSW build (int8, M=16, ef_construction=200): %.1f s, %.0f papers/s\n",
              seconds_since(start), ids.size() / seconds_since(start));
  std::printf("- memory per paper: %zu bytes (vectors + graph; float32 vectors alone: %zu)\n",
              vectors->bytes_per_paper(), dimension * sizeof(float));

  hnswlib::InnerProductSpace space(dimension);
  hnswlib::HierarchicalNSW<float> peer(&space, ids.size(), 16, 200);
  start = Clock::now();
  {
    std::atomic<size_t> next{0};
    std::vector<std::jthread> workers;
    for (size_t t = 0; t < threads; ++t)
      workers.emplace_back([&] {
        for (size_t i; (i = next.fetch_add(1)) < ids.size();)
          peer.addPoint(&rows[i * dimension], i);
      });
  }
  std::printf("- hnswlib float32 build (same M, ef_construction): %.1f s\n\n",
              seconds_since(start));

  // Queries: 1,000 titles, and exact float top 10 for each.
  std::vector<std::vector<float>> queries;
  std::vector<std::set<std::string>> truth;
  for (size_t q = 0; q < 1000; ++q) {
    queries.push_back((*model)->embed(papers[(q * 7919) % papers.size()].title));
    std::vector<std::pair<float, size_t>> scored(ids.size());
    for (size_t i = 0; i < ids.size(); ++i)
      scored[i] = {std::inner_product(queries.back().begin(), queries.back().end(),
                                      rows.begin() + i * dimension, 0.0f),
                   i};
    std::partial_sort(scored.begin(), scored.begin() + 10, scored.end(), std::greater<>());
    std::set<std::string> top;
    for (size_t i = 0; i < 10; ++i) top.insert(ids[scored[i].second]);
    truth.push_back(std::move(top));
  }
  std::printf(
      "| ef | paperboy int8 recall@10 | paperboy queries/s | hnswlib float32 recall@10 | hnswlib "
      "queries/s |\n|---:|---:|---:|---:|---:|\n");
  for (size_t ef : {16, 32, 64, 96, 128, 256}) {
    vector::IndexParams params;
    params.ef_search = ef;
    // Our index takes ef when opened: save once, reopen per ef.
    const fs::path folder = fs::temp_directory_path() / "semantic-bench-vectors";
    if (ef == 16) {
      fs::remove_all(folder);
      (void)vectors->save(folder);
    }
    auto opened = vector::VectorIndex::open(folder, params);
    size_t found = 0;
    start = Clock::now();
    for (size_t q = 0; q < queries.size(); ++q)
      for (const auto& hit : (*opened)->search(queries[q], 10))
        found += truth[q].count(hit.paper_id);
    const double ours_qps = queries.size() / seconds_since(start);
    const double ours_recall = static_cast<double>(found) / (queries.size() * 10.0);
    peer.setEf(ef);
    found = 0;
    start = Clock::now();
    for (size_t q = 0; q < queries.size(); ++q) {
      auto result = peer.searchKnn(queries[q].data(), 10);
      while (!result.empty()) {
        found += truth[q].count(ids[result.top().second]);
        result.pop();
      }
    }
    const double peer_qps = queries.size() / seconds_since(start);
    std::printf("| %zu | %.4f | %.0f | %.4f | %.0f |\n", ef, ours_recall, ours_qps,
                static_cast<double>(found) / (queries.size() * 10.0), peer_qps);
  }

  // End-to-end latency: text query -> embedder -> vectors (semantic) and + keyword + fusion.
  const fs::path index_dir = fs::temp_directory_path() / "semantic-bench-index";
  fs::remove_all(index_dir);
  {
    auto writer = index::IndexWriter::open(index_dir);
    for (const Paper& paper : papers) (void)(*writer)->add(index::document_from_paper(paper));
    (void)(*writer)->commit();
  }
  auto snapshot = index::Snapshot::open(index_dir);
  hybrid::SemanticIndex semantic{std::shared_ptr<const embed::Embedder>(std::move(*model)),
                                 std::shared_ptr<const vector::VectorIndex>(std::move(vectors))};
  std::printf("\n| mode | p50 ms | p99 ms |\n|---|---:|---:|\n");
  for (hybrid::Mode mode :
       {hybrid::Mode::kKeyword, hybrid::Mode::kSemantic, hybrid::Mode::kHybrid}) {
    std::vector<double> latencies;
    hybrid::HybridOptions options;
    options.mode = mode;
    options.limit = 20;
    for (size_t q = 0; q < 500; ++q) {
      const std::string& text = papers[(q * 104729) % papers.size()].title;
      const auto query_start = Clock::now();
      (void)hybrid::search(snapshot->get(), &semantic, text, options);
      latencies.push_back(seconds_since(query_start) * 1000);
    }
    std::printf("| %s | %.2f | %.2f |\n", std::string(hybrid::mode_name(mode)).c_str(),
                percentile(latencies, 0.5), percentile(latencies, 0.99));
  }
  for (const char* example :
       {"linear-time alternatives to attention", "making diffusion models generate images faster",
        "detecting hallucinations of language models"}) {
    hybrid::HybridOptions options;
    options.mode = hybrid::Mode::kSemantic;
    options.limit = 5;
    auto results = hybrid::search(snapshot->get(), &semantic, example, options);
    std::printf("\nsemantic \"%s\":\n", example);
    for (const auto& hit : results->hits) {
      auto found = std::find_if(papers.begin(), papers.end(),
                                [&](const Paper& paper) { return paper.arxiv_id == hit.paper_id; });
      std::printf("  %s %.3f %s\n", hit.paper_id.c_str(), hit.score,
                  found == papers.end() ? "" : collapse_whitespace(found->title).c_str());
    }
  }
  fs::remove_all(index_dir);
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 3) {
    std::fprintf(stderr, "usage: semantic_bench SCIFACT_DIR ARXIV_JSONL_DIR [threads]\n");
    return 2;
  }
  const size_t threads = argc > 3 ? std::stoul(argv[3]) : std::thread::hardware_concurrency();
  scifact(argv[1], threads);
  if (std::string_view(argv[2]) != "-") corpus(argv[2], threads);
  return 0;
}
