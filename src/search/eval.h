// Relevance evaluation on BEIR-format benchmarks (corpus.jsonl, queries.jsonl, qrels.tsv),
// through the real index and search path.
//
//   auto benchmark = search::load_beir(dir / "corpus.jsonl", dir / "queries-train.jsonl",
//                                      dir / "qrels-train.tsv");
//   search::index_beir(*benchmark, "/tmp/scifact-index");
//   auto snapshot = index::Snapshot::open("/tmp/scifact-index");
//   auto scores = search::evaluate(**snapshot, *benchmark, search::held_out_queries(*benchmark),
//   {});
#pragma once

#include <filesystem>
#include <span>
#include <string>
#include <unordered_map>
#include <vector>

#include "core/result.h"
#include "index/index.h"
#include "search/search.h"

namespace paperboy::search {

struct BeirQuery {
  std::string id;
  std::string text;
};

struct BeirBenchmark {
  std::vector<index::IndexDocument> corpus;  // paper_id = the corpus "_id"
  std::vector<BeirQuery> queries;            // only queries that have judgements
  // query id -> (document id -> relevance grade > 0)
  std::unordered_map<std::string, std::unordered_map<std::string, int>> qrels;
};

// Reads the three files; errors name the file and line.
Result<BeirBenchmark> load_beir(const std::filesystem::path& corpus_jsonl,
                                const std::filesystem::path& queries_jsonl,
                                const std::filesystem::path& qrels_tsv);

// Builds a one-segment index of the corpus in `directory` (which must not hold an index).
Result<void> index_beir(const BeirBenchmark& benchmark, const std::filesystem::path& directory);

struct EvalScores {
  double ndcg_at_10 = 0;
  double recall_at_100 = 0;
  size_t queries = 0;
};

// The standard split used for tuning: every third query (by position) is held out.
std::vector<size_t> tuning_queries(const BeirBenchmark& benchmark);
std::vector<size_t> held_out_queries(const BeirBenchmark& benchmark);

// Runs each chosen query (as plain words, see plain_query) for the top 100 and averages
// nDCG@10 and recall@100 over them.
EvalScores evaluate(const index::Snapshot& snapshot, const BeirBenchmark& benchmark,
                    std::span<const size_t> query_indices, const Bm25fParams& ranking);

// Metrics on one ranking, for comparing other engines on the same judgements.
double ndcg_at_10(const std::vector<std::string>& ranking,
                  const std::unordered_map<std::string, int>& relevant);
double recall_at(size_t k, const std::vector<std::string>& ranking,
                 const std::unordered_map<std::string, int>& relevant);

}  // namespace paperboy::search
