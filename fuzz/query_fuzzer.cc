// libFuzzer target: the query parser, the analyser, search and highlighting must accept any
// bytes without crashing, and keep their invariants. Build and run: see docs/search.md.
#include <unistd.h>

#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <string_view>

#include "search/highlight.h"
#include "search/search.h"
#include "text/analyzer.h"

namespace {

using namespace paperboy;

void require(bool condition) {
  if (!condition) std::abort();
}

// A small real index shared by all runs, so that parsed queries also go through search.
const index::Snapshot& sample_index() {
  static std::shared_ptr<const index::Snapshot> snapshot = [] {
    std::filesystem::path directory =
        std::filesystem::temp_directory_path() / ("paperboy-fuzz-" + std::to_string(::getpid()));
    std::filesystem::remove_all(directory);
    auto writer = index::IndexWriter::open(directory);
    require(writer.has_value());
    const char* papers[][3] = {
        {"2312.00752", "Mamba: Linear-Time Sequence Modeling with Selective State Spaces",
         "Foundation models, now powering most of the exciting applications in deep learning."},
        {"1706.03762", "Attention Is All You Need",
         "The dominant sequence transduction models are based on complex recurrent networks."},
        {"hep-th/9901001", "$\\Delta$-DiT: a state-space ViT-B/16 for GPT-4 3D scenes",
         "See https://arxiv.org/abs/2312.00752 and e.g. 92.4% on BERT-base."}};
    for (const auto& paper : papers) {
      index::IndexDocument document;
      document.stored.paper_id = paper[0];
      document.stored.date = 19000;
      document.stored.categories = {"cs.LG"};
      document.title = paper[1];
      document.abstract = paper[2];
      document.authors = {"Albert Gu", "Tri Dao"};
      require((*writer)->add(std::move(document)).has_value());
    }
    require((*writer)->commit().has_value());
    auto opened = index::Snapshot::open(directory);
    require(opened.has_value());
    std::filesystem::remove_all(directory);  // the snapshot keeps its files mapped
    return *opened;
  }();
  return *snapshot;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view input(reinterpret_cast<const char*>(data), size);
  for (const text::Token& token : text::analyze(input)) {
    require(!token.term.empty());
    require(token.start < token.end && token.end <= size);
  }
  auto query = search::parse_query(input);
  if (query) {
    require(query->groups.size() <= search::kMaxGroups);
    for (const search::Group& group : query->groups)
      for (const search::Clause& clause : group.alternatives)
        require(!clause.terms.empty() && clause.terms.size() == clause.offsets.size());
    search::SearchOptions options;
    options.limit = 3;
    auto results = search::search(sample_index(), *query, options);
    require(results.has_value() && results->hits.size() <= 3);
    options.exhaustive = true;
    options.facets = true;
    require(search::search(sample_index(), *query, options).has_value());
    // Highlighting escapes everything: no '<' is left once the marks are taken out.
    for (std::string marked :
         {search::highlight(input, *query), search::snippet(input, *query, 40)}) {
      for (std::string_view tag : {"<mark>", "</mark>"})
        for (size_t at = marked.find(tag); at != std::string::npos; at = marked.find(tag))
          marked.erase(at, tag.size());
      require(marked.find('<') == std::string::npos);
    }
  }
  search::plain_query(input);
  return 0;
}
