// Upsert throughput on real arXiv records (the shared snapshot sample, renumbered to any count).
// Run from a Release build: store_bench [--benchmark_filter=...]
#include <benchmark/benchmark.h>
#include <fmt/format.h>
#include <stdlib.h>

#include <fstream>
#include <nlohmann/json.hpp>

#include "core/paper.h"
#include "store/store.h"

namespace paperboy::store {
namespace {

namespace fs = std::filesystem;

constexpr size_t kBatchSize = 5000;

std::vector<std::string> split(std::string_view text, std::string_view separator) {
  std::vector<std::string> parts;
  while (!text.empty()) {
    size_t end = text.find(separator);
    parts.emplace_back(text.substr(0, end));
    if (end == std::string_view::npos) break;
    text.remove_prefix(end + separator.size());
  }
  return parts;
}

// The 200 records of the snapshot sample, mapped to papers the way the snapshot importer does.
std::vector<Paper> sample_papers() {
  std::ifstream in(fs::path(PAPERBOY_SHARED_DATA_DIR) / "arxiv-snapshot-sample" /
                   "arxiv-metadata-oai-snapshot.json");
  std::vector<Paper> papers;
  for (std::string line; std::getline(in, line);) {
    auto json = nlohmann::json::parse(line);
    auto text = [&](const char* key) {
      return json.contains(key) && json[key].is_string() ? json[key].get<std::string>() : "";
    };
    Paper paper;
    paper.title = collapse_whitespace(text("title"));
    paper.abstract = collapse_whitespace(text("abstract"));
    paper.authors = split(text("authors"), ", ");
    paper.categories = split(text("categories"), " ");
    paper.comments = text("comments");
    paper.journal_ref = text("journal-ref");
    paper.doi = text("doi");
    paper.license = text("license");
    paper.version = static_cast<int>(json["versions"].size());
    paper.published = "2007-04-02";
    paper.updated = text("update_date");
    paper.source = "arxiv-snapshot";
    papers.push_back(std::move(paper));
  }
  return papers;
}

// `count` papers cycling through the sample, each with its own arXiv id and title.
std::vector<Paper> corpus(size_t count) {
  static const std::vector<Paper> sample = sample_papers();
  std::vector<Paper> papers;
  papers.reserve(count);
  for (size_t i = 0; i < count; ++i) {
    Paper paper = sample[i % sample.size()];
    paper.arxiv_id = fmt::format("{:04}.{:05}", 1501 + (i / 90000) % 12 + (i / 1080000) * 100,
                                 i % 90000 + 10000);
    paper.title += fmt::format(" (part {})", i);
    papers.push_back(std::move(paper));
  }
  return papers;
}

class TempFile {
 public:
  TempFile() {
    std::string pattern = (fs::temp_directory_path() / "paperboy-bench-XXXXXX").string();
    folder_ = mkdtemp(pattern.data());
  }
  ~TempFile() { fs::remove_all(folder_); }
  fs::path path() const { return folder_ / "papers.db"; }

 private:
  fs::path folder_;
};

void upsert_all(benchmark::State& state, Store& store, const std::vector<Paper>& papers) {
  for (size_t start = 0; start < papers.size(); start += kBatchSize) {
    if (!store.begin_batch()) state.SkipWithError("begin_batch failed");
    for (size_t i = start; i < std::min(papers.size(), start + kBatchSize); ++i)
      if (!store.upsert(papers[i])) state.SkipWithError("upsert failed");
    if (!store.commit_batch()) state.SkipWithError("commit_batch failed");
  }
}

// Fresh papers into an empty store: one lookup miss, one title-key miss, one insert each.
void BM_InsertNewPapers(benchmark::State& state) {
  const auto papers = corpus(static_cast<size_t>(state.range(0)));
  for (auto _ : state) {
    state.PauseTiming();
    TempFile file;
    auto store = open_sqlite_store(file.path());
    state.ResumeTiming();
    upsert_all(state, **store, papers);
    state.PauseTiming();
    store->reset();
    state.ResumeTiming();
  }
  state.SetItemsProcessed(state.iterations() * state.range(0));
}
BENCHMARK(BM_InsertNewPapers)->Arg(100000)->Unit(benchmark::kMillisecond)->UseRealTime();

// Re-importing the same papers: one lookup and a merge that finds nothing to write.
void BM_ReimportUnchanged(benchmark::State& state) {
  const auto papers = corpus(static_cast<size_t>(state.range(0)));
  TempFile file;
  auto store = open_sqlite_store(file.path());
  upsert_all(state, **store, papers);
  for (auto _ : state) upsert_all(state, **store, papers);
  state.SetItemsProcessed(state.iterations() * state.range(0));
}
BENCHMARK(BM_ReimportUnchanged)->Arg(100000)->Unit(benchmark::kMillisecond)->UseRealTime();

}  // namespace
}  // namespace paperboy::store

BENCHMARK_MAIN();
