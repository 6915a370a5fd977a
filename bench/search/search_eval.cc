// Relevance on a BEIR benchmark: paperboy (default and tuned BM25F) against SQLite FTS5 and
// Xapian, all on the same corpus, queries and judgements in one run.
//   search_eval DATA_DIR WORK_DIR
// DATA_DIR holds corpus.jsonl, queries-train.jsonl and qrels-train.tsv (BEIR layout).
// BM25F weights, k1 and b are tuned on two thirds of the queries; every figure is also given
// on the held-out third, which tuning never saw.
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <string>
#include <vector>

#include "bench/search/engines.h"
#include "search/eval.h"

namespace fs = std::filesystem;
using namespace paperboy;

namespace {

struct Row {
  std::string engine;
  search::EvalScores tuning;
  search::EvalScores held_out;
  double milliseconds_per_query = 0;
};

template <class Engine>
Row evaluate_engine(const std::string& name, Engine& engine, const search::BeirBenchmark& benchmark,
                    bench::Match match) {
  Row row;
  row.engine = name;
  auto run = [&](const std::vector<size_t>& chosen, search::EvalScores& scores) {
    auto start = std::chrono::steady_clock::now();
    for (size_t index : chosen) {
      const search::BeirQuery& query = benchmark.queries[index];
      auto ranking = engine.search(query.text, 100, match);
      const auto& relevant = benchmark.qrels.at(query.id);
      scores.ndcg_at_10 += search::ndcg_at_10(ranking, relevant);
      scores.recall_at_100 += search::recall_at(100, ranking, relevant);
      ++scores.queries;
    }
    scores.ndcg_at_10 /= static_cast<double>(scores.queries);
    scores.recall_at_100 /= static_cast<double>(scores.queries);
    return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start)
        .count();
  };
  double elapsed = run(search::tuning_queries(benchmark), row.tuning);
  elapsed += run(search::held_out_queries(benchmark), row.held_out);
  row.milliseconds_per_query = elapsed / static_cast<double>(benchmark.queries.size());
  return row;
}

Row evaluate_paperboy(const std::string& name, const index::Snapshot& snapshot,
                      const search::BeirBenchmark& benchmark, const search::Bm25fParams& params) {
  Row row;
  row.engine = name;
  auto start = std::chrono::steady_clock::now();
  auto tuning = search::tuning_queries(benchmark);
  auto held_out = search::held_out_queries(benchmark);
  row.tuning = search::evaluate(snapshot, benchmark, tuning, params);
  row.held_out = search::evaluate(snapshot, benchmark, held_out, params);
  row.milliseconds_per_query =
      std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count() /
      static_cast<double>(benchmark.queries.size());
  return row;
}

void print(const Row& row) {
  std::printf("| %s | %.4f | %.4f | %.4f | %.4f | %.2f |\n", row.engine.c_str(),
              row.held_out.ndcg_at_10, row.held_out.recall_at_100, row.tuning.ndcg_at_10,
              row.tuning.recall_at_100, row.milliseconds_per_query);
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 3) {
    std::fprintf(stderr, "usage: %s DATA_DIR WORK_DIR\n", argv[0]);
    return 2;
  }
  fs::path data = argv[1];
  fs::path work = argv[2];
  fs::remove_all(work);
  fs::create_directories(work);
  auto benchmark = search::load_beir(data / "corpus.jsonl", data / "queries-train.jsonl",
                                     data / "qrels-train.tsv");
  if (!benchmark) {
    std::fprintf(stderr, "%s\n", benchmark.error().message.c_str());
    return 1;
  }
  if (auto indexed = search::index_beir(*benchmark, work / "paperboy"); !indexed) {
    std::fprintf(stderr, "%s\n", indexed.error().message.c_str());
    return 1;
  }
  auto snapshot = index::Snapshot::open(work / "paperboy");
  if (!snapshot) {
    std::fprintf(stderr, "%s\n", snapshot.error().message.c_str());
    return 1;
  }

  // Grid search on the tuning queries only.
  auto tuning = search::tuning_queries(*benchmark);
  search::Bm25fParams best;
  double best_ndcg = -1;
  for (double k1 : {0.6, 0.9, 1.2, 1.5})
    for (double title_weight : {1.0, 1.5, 2.0, 3.0})
      for (double b_title : {0.3, 0.6, 0.9})
        for (double b_abstract : {0.5, 0.65, 0.8, 0.95}) {
          search::Bm25fParams params;
          params.k1 = k1;
          params.weight[index::kTitle] = title_weight;
          params.b[index::kTitle] = b_title;
          params.b[index::kAbstract] = b_abstract;
          double ndcg = search::evaluate(**snapshot, *benchmark, tuning, params).ndcg_at_10;
          if (ndcg > best_ndcg) {
            best_ndcg = ndcg;
            best = params;
          }
        }

  std::vector<bench::BenchDocument> documents;
  for (const index::IndexDocument& document : benchmark->corpus)
    documents.push_back({document.stored.paper_id, document.title, document.abstract, ""});
  bench::Fts5Engine fts5((work / "fts5.db").string());
  fts5.add_all(documents);
  bench::XapianEngine xapian((work / "xapian").string());
  xapian.add_all(documents);

  std::printf("%zu documents, %zu queries (%zu tuning, %zu held out)\n\n", benchmark->corpus.size(),
              benchmark->queries.size(), tuning.size(),
              search::held_out_queries(*benchmark).size());
  std::printf(
      "| engine | held-out nDCG@10 | held-out recall@100 | tuning nDCG@10 | tuning recall@100 | "
      "ms/query |\n");
  std::printf("|---|---:|---:|---:|---:|---:|\n");
  print(
      evaluate_paperboy("paperboy BM25F, defaults", **snapshot, *benchmark, search::Bm25fParams{}));
  print(evaluate_paperboy("paperboy BM25F, tuned", **snapshot, *benchmark, best));
  print(evaluate_engine("SQLite FTS5 (porter, bm25, OR of words)", fts5, *benchmark,
                        bench::Match::kAny));
  print(evaluate_engine("Xapian (English stemmer, BM25, OR)", xapian, *benchmark,
                        bench::Match::kAny));
  std::printf("\ntuned: k1 %.2f, title weight %.2f, b title %.2f, b abstract %.2f\n", best.k1,
              best.weight[index::kTitle], best.b[index::kTitle], best.b[index::kAbstract]);
  return 0;
}
