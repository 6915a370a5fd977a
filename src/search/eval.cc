#include "search/eval.h"

#include <cmath>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

namespace paperboy::search {

namespace {

Result<nlohmann::json> parse_json_line(const std::filesystem::path& path, int line_number,
                                       const std::string& line) {
  auto value = nlohmann::json::parse(line, nullptr, /*allow_exceptions=*/false);
  if (value.is_discarded() || !value.is_object())
    return fail(path.string() + ":" + std::to_string(line_number) + ": not a JSON object");
  return value;
}

Result<std::string> string_field(const std::filesystem::path& path, int line_number,
                                 const nlohmann::json& object, const char* name, bool required) {
  auto found = object.find(name);
  if (found == object.end() || found->is_null()) {
    if (required)
      return fail(path.string() + ":" + std::to_string(line_number) + ": missing \"" + name + "\"");
    return std::string();
  }
  if (found->is_string()) return found->get<std::string>();
  if (found->is_number_integer()) return std::to_string(found->get<int64_t>());
  return fail(path.string() + ":" + std::to_string(line_number) + ": \"" + name +
              "\" is not a string");
}

}  // namespace

Result<BeirBenchmark> load_beir(const std::filesystem::path& corpus_jsonl,
                                const std::filesystem::path& queries_jsonl,
                                const std::filesystem::path& qrels_tsv) {
  BeirBenchmark benchmark;
  std::ifstream qrels(qrels_tsv);
  if (!qrels) return fail(qrels_tsv.string() + ": cannot open");
  std::string line;
  int line_number = 0;
  while (std::getline(qrels, line)) {
    ++line_number;
    if (line.empty() || (line_number == 1 && line.starts_with("query-id"))) continue;
    std::istringstream fields(line);
    std::string query_id;
    std::string doc_id;
    int grade = 0;
    if (!(fields >> query_id >> doc_id >> grade))
      return fail(qrels_tsv.string() + ":" + std::to_string(line_number) +
                  ": expected query-id, corpus-id and score separated by tabs");
    if (grade > 0) benchmark.qrels[query_id][doc_id] = grade;
  }

  std::ifstream queries(queries_jsonl);
  if (!queries) return fail(queries_jsonl.string() + ": cannot open");
  line_number = 0;
  while (std::getline(queries, line)) {
    ++line_number;
    if (line.empty()) continue;
    auto object = parse_json_line(queries_jsonl, line_number, line);
    if (!object) return fail(object.error().message);
    auto id = string_field(queries_jsonl, line_number, *object, "_id", true);
    if (!id) return fail(id.error().message);
    auto text = string_field(queries_jsonl, line_number, *object, "text", true);
    if (!text) return fail(text.error().message);
    if (benchmark.qrels.contains(*id)) benchmark.queries.push_back({*id, *text});
  }

  std::ifstream corpus(corpus_jsonl);
  if (!corpus) return fail(corpus_jsonl.string() + ": cannot open");
  line_number = 0;
  while (std::getline(corpus, line)) {
    ++line_number;
    if (line.empty()) continue;
    auto object = parse_json_line(corpus_jsonl, line_number, line);
    if (!object) return fail(object.error().message);
    index::IndexDocument document;
    auto id = string_field(corpus_jsonl, line_number, *object, "_id", true);
    if (!id) return fail(id.error().message);
    auto title = string_field(corpus_jsonl, line_number, *object, "title", false);
    if (!title) return fail(title.error().message);
    auto text = string_field(corpus_jsonl, line_number, *object, "text", true);
    if (!text) return fail(text.error().message);
    document.stored.paper_id = *id;
    document.title = *title;
    document.abstract = *text;
    benchmark.corpus.push_back(std::move(document));
  }
  return benchmark;
}

Result<void> index_beir(const BeirBenchmark& benchmark, const std::filesystem::path& directory) {
  auto writer = index::IndexWriter::open(directory);
  if (!writer) return fail(writer.error().message);
  if ((*writer)->snapshot()->doc_count() > 0)
    return fail(directory.string() + ": already holds an index; give an empty directory");
  for (const index::IndexDocument& document : benchmark.corpus)
    if (auto added = (*writer)->add(document); !added) return added;
  if (auto committed = (*writer)->commit(); !committed) return committed;
  return (*writer)->merge();
}

std::vector<size_t> tuning_queries(const BeirBenchmark& benchmark) {
  std::vector<size_t> chosen;
  for (size_t i = 0; i < benchmark.queries.size(); ++i)
    if (i % 3 != 2) chosen.push_back(i);
  return chosen;
}

std::vector<size_t> held_out_queries(const BeirBenchmark& benchmark) {
  std::vector<size_t> chosen;
  for (size_t i = 0; i < benchmark.queries.size(); ++i)
    if (i % 3 == 2) chosen.push_back(i);
  return chosen;
}

double ndcg_at_10(const std::vector<std::string>& ranking,
                  const std::unordered_map<std::string, int>& relevant) {
  double dcg = 0;
  for (size_t i = 0; i < ranking.size() && i < 10; ++i)
    if (auto found = relevant.find(ranking[i]); found != relevant.end())
      dcg += (std::pow(2.0, found->second) - 1.0) / std::log2(static_cast<double>(i) + 2.0);
  std::vector<int> grades;
  for (const auto& [doc, grade] : relevant) grades.push_back(grade);
  std::sort(grades.rbegin(), grades.rend());
  double ideal = 0;
  for (size_t i = 0; i < grades.size() && i < 10; ++i)
    ideal += (std::pow(2.0, grades[i]) - 1.0) / std::log2(static_cast<double>(i) + 2.0);
  return ideal > 0 ? dcg / ideal : 0.0;
}

double recall_at(size_t k, const std::vector<std::string>& ranking,
                 const std::unordered_map<std::string, int>& relevant) {
  if (relevant.empty()) return 0.0;
  size_t found = 0;
  for (size_t i = 0; i < ranking.size() && i < k; ++i) found += relevant.contains(ranking[i]);
  return static_cast<double>(found) / static_cast<double>(relevant.size());
}

EvalScores evaluate(const index::Snapshot& snapshot, const BeirBenchmark& benchmark,
                    std::span<const size_t> query_indices, const Bm25fParams& ranking) {
  EvalScores scores;
  SearchOptions options;
  options.limit = 100;
  options.ranking = ranking;
  for (size_t index : query_indices) {
    const BeirQuery& query = benchmark.queries[index];
    auto results = search(snapshot, plain_query(query.text), options);
    std::vector<std::string> ranking_ids;
    if (results)
      for (const Hit& hit : results->hits) ranking_ids.push_back(hit.paper_id);
    const auto& relevant = benchmark.qrels.at(query.id);
    scores.ndcg_at_10 += ndcg_at_10(ranking_ids, relevant);
    scores.recall_at_100 += recall_at(100, ranking_ids, relevant);
    ++scores.queries;
  }
  if (scores.queries > 0) {
    scores.ndcg_at_10 /= static_cast<double>(scores.queries);
    scores.recall_at_100 /= static_cast<double>(scores.queries);
  }
  return scores;
}

}  // namespace paperboy::search
