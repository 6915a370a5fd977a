// Keyword, semantic and hybrid search over the same papers, and related papers.
//
//   hybrid::SemanticIndex semantic = *hybrid::open_semantic("data/vectors");
//   auto results = hybrid::search(keyword_snapshot.get(), &semantic, "linear-time attention",
//                                 {.mode = hybrid::Mode::kHybrid});
//
// Hybrid takes the top `candidates` of each side and fuses them. Three fusions are offered:
//  - reciprocal rank fusion (Cormack et al. 2009): score = sum over sides of 1 / (k + rank);
//  - score blend: each side's scores min-max normalised over its candidates, then
//    (1 - w) * keyword + w * semantic, a side's missing paper counting as that side's lowest;
//  - z-score blend: the same with each side standardised (minus mean, over standard deviation);
//  - learned: a weighted sum of per-candidate features fit on tuning queries (learned_fusion.h).
// In hybrid mode the semantic query can take pseudo-relevance feedback from the keyword side:
// the query vector is moved toward the mean vector of the best keyword hits before the vector
// search, so the semantic side looks for papers like the ones the words found.
// The defaults are the fusion chosen by 5-fold cross-validation on SciFact's tuning queries
// (docs/search.md). The semantic side honours the query's category and date filters (through the
// keyword index's stored values); phrases and exclusions constrain the keyword side only.
#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.h"
#include "embed/embedder.h"
#include "hybrid/learned_fusion.h"
#include "index/index.h"
#include "search/search.h"
#include "vector/vector_index.h"

namespace paperboy::hybrid {

enum class Mode { kKeyword, kSemantic, kHybrid };
enum class Fusion { kReciprocalRank, kScoreBlend, kZScore, kLearned };

std::optional<Mode> parse_mode(std::string_view name);  // "keyword", "semantic", "hybrid"
std::string_view mode_name(Mode mode);
std::optional<Fusion> parse_fusion(std::string_view name);  // "rrf", "blend", "zscore", "learned"
std::string_view fusion_name(Fusion fusion);

// The defaults: the fusion chosen by cross-validation on SciFact's tuning queries (docs/search.md).
struct FusionParams {
  Fusion fusion = Fusion::kScoreBlend;
  double rrf_k = 60;
  double semantic_weight = 0.4;  // w of the score blends
  size_t feedback_papers = 3;    // keyword hits whose vectors steer the semantic query; 0: none
  double feedback_weight = 0.5;  // share of their mean vector in the steered query
  // Give keyword candidates the semantic side did not return their own similarity to the
  // query (from their stored vectors) instead of that side's lowest score.
  bool score_keyword_candidates = true;
  FusionWeights learned_weights = kLearnedFusionWeights;  // of the learned fusion
};

// Names a fusion and its parameters: "rrf k=60", "blend w=0.20 feedback 3x0.50",
// "learned v1 feedback 3x0.50 scored".
std::string describe(const FusionParams& params);

struct HybridOptions {
  Mode mode = Mode::kHybrid;
  FusionParams fusion;
  size_t limit = 20;
  size_t offset = 0;
  size_t candidates = 100;  // taken from the semantic side before fusing
  // Taken from the keyword side before fusing (at least the page), apart from the semantic
  // side's: the keyword side costs far more per query (docs/benchmarks.md, "Semantic and
  // hybrid search at 2.7M papers", times both sides and several values).
  size_t keyword_candidates = 100;
};

// What hybrid search asks of the keyword index for its keyword candidates (in keyword mode it
// asks for the shown page alone).
search::SearchOptions keyword_candidate_options(const HybridOptions& options);

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

// Opens <vectors_dir>'s live generation and the embedder saved in it, built-in ("model.bin")
// or a transformer ("encoder.json"), so queries are embedded by the model that made the vectors.
Result<SemanticIndex> open_semantic(const std::filesystem::path& vectors_dir);

// Fuses two rankings (best first) into one, best first.
std::vector<HybridHit> fuse(const std::vector<search::Hit>& keyword,
                            const std::vector<vector::Neighbor>& semantic,
                            const FusionParams& params);

// The learned fusion of the two rankings: `plain_query` is the query vector before feedback.
std::vector<HybridHit> fuse_learned(const std::vector<search::Hit>& keyword,
                                    const std::vector<vector::Neighbor>& semantic,
                                    const SemanticIndex& index, std::span<const float> plain_query,
                                    const FusionWeights& weights);

// The length of the word-vector part of the embedder's vectors (all of it for a transformer).
size_t word_dimension_of(const embed::Embedder& embedder);

// normalise((1 - weight) * query + weight * mean of the vectors of the first `papers` keyword
// hits): pseudo-relevance feedback for the semantic side. Returns `query` unchanged when none
// of those papers has a vector or `papers` is 0.
std::vector<float> feedback_query(const vector::VectorIndex& vectors, std::span<const float> query,
                                  const std::vector<search::Hit>& keyword, size_t papers,
                                  double weight);

// `semantic` (best first) extended by the keyword hits it lacks that have a vector, each with
// its similarity to `query`, and sorted again, best first.
std::vector<vector::Neighbor> with_keyword_candidates(const vector::VectorIndex& vectors,
                                                      std::span<const float> query,
                                                      std::vector<vector::Neighbor> semantic,
                                                      const std::vector<search::Hit>& keyword);

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
