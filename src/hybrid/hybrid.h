// Keyword, semantic and hybrid search over the same papers, and related papers.
//
//   hybrid::SemanticIndex semantic = *hybrid::open_semantic("data/vectors");
//   auto results = hybrid::search(keyword_snapshot.get(), &semantic, "linear-time attention",
//                                 {.mode = hybrid::Mode::kHybrid});
//
// Hybrid takes the top `candidates` of each side and fuses them. Two fusions are offered:
//  - reciprocal rank fusion (Cormack et al. 2009): score = sum over sides of 1 / (k + rank);
//  - score blend: each side's scores min-max normalised over its candidates, then
//    (1 - w) * keyword + w * semantic, a side's missing paper counting 0.
// The default is the one that measured better on SciFact (docs/search.md has the figures).
// The semantic side honours the query's category and date filters (through the keyword index's
// stored values); phrases and exclusions constrain the keyword side only.
#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.h"
#include "embed/embedder.h"
#include "index/index.h"
#include "search/search.h"
#include "vector/vector_index.h"

namespace paperboy::hybrid {

enum class Mode { kKeyword, kSemantic, kHybrid };
enum class Fusion { kReciprocalRank, kScoreBlend };

std::optional<Mode> parse_mode(std::string_view name);  // "keyword", "semantic", "hybrid"
std::string_view mode_name(Mode mode);
std::optional<Fusion> parse_fusion(std::string_view name);  // "rrf", "blend"
std::string_view fusion_name(Fusion fusion);

struct FusionParams {
  Fusion fusion = Fusion::kScoreBlend;
  double rrf_k = 60;
  double semantic_weight = 0.2;  // w of the score blend, chosen on SciFact's tuning queries
};

struct HybridOptions {
  Mode mode = Mode::kHybrid;
  FusionParams fusion;
  size_t limit = 20;
  size_t offset = 0;
  size_t candidates = 100;  // taken from each side before fusing
};

struct HybridHit {
  std::string paper_id;
  double score = 0;
  std::optional<double> keyword_score;   // BM25F, when the keyword side found it
  std::optional<double> semantic_score;  // cosine similarity, when the semantic side found it
  std::string date;                      // "YYYY-MM-DD", empty when unknown
  int64_t upvotes = 0;
};

struct HybridResults {
  std::vector<HybridHit> hits;
  Mode mode = Mode::kHybrid;  // the mode that ran (hybrid falls back to keyword without vectors)
  bool jumped = false;        // the query named one paper (keyword side), hits holds it
  std::vector<std::string> notes;
};

// An embedder and the vectors it made, loaded together from one vector generation.
struct SemanticIndex {
  std::shared_ptr<const embed::Embedder> embedder;
  std::shared_ptr<const vector::VectorIndex> vectors;
};

// Opens <vectors_dir>'s live generation and the model saved in it ("model.bin").
Result<SemanticIndex> open_semantic(const std::filesystem::path& vectors_dir);

// Fuses two rankings (best first) into one, best first.
std::vector<HybridHit> fuse(const std::vector<search::Hit>& keyword,
                            const std::vector<vector::Neighbor>& semantic,
                            const FusionParams& params);

// The words of a query without its operators (filters, exclusions, field prefixes, quotes):
// what the embedder should see.
std::string semantic_text(std::string_view query_text);

// Runs `query_text` in options.mode. `keyword` may be null (semantic only); `semantic` may be
// null, and then hybrid runs as keyword and semantic fails with a message for people.
Result<HybridResults> search(const index::Snapshot* keyword, const SemanticIndex* semantic,
                             std::string_view query_text, const HybridOptions& options);

// Papers nearest to `paper_id` (itself excluded), most similar first. Fails when the paper has
// no vector.
Result<std::vector<vector::Neighbor>> related(const SemanticIndex& semantic,
                                              std::string_view paper_id, size_t limit);

// Papers nearest to a piece of text (an abstract, a paragraph).
Result<std::vector<vector::Neighbor>> like_text(const SemanticIndex& semantic,
                                                std::string_view text, size_t limit);

}  // namespace paperboy::hybrid
