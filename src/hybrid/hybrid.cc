#include "hybrid/hybrid.h"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <cmath>
#include <unordered_map>
#include <unordered_set>

#include "core/date.h"
#include "embed/sif_model.h"
#include "encoder/paper_embedder.h"
#include "search/query.h"

namespace paperboy::hybrid {

namespace {

namespace fs = std::filesystem;

std::string lower(std::string_view text) {
  std::string out(text);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

bool category_matches(std::string_view category, const std::vector<std::string>& wanted) {
  const std::string have = lower(category);
  for (const std::string& want : wanted) {
    const std::string folded = lower(want);
    if (have == folded ||
        (have.starts_with(folded) && have.size() > folded.size() && have[folded.size()] == '.'))
      return true;
  }
  return false;
}

// Min-max normalised scores over one side's candidates; a single candidate scores 1.
std::vector<double> min_max(const std::vector<double>& scores) {
  if (scores.empty()) return {};
  const auto [low, high] = std::minmax_element(scores.begin(), scores.end());
  std::vector<double> out;
  for (double score : scores) out.push_back(*high > *low ? (score - *low) / (*high - *low) : 1.0);
  return out;
}

// Standardised scores over one side's candidates; equal scores all standardise to 0.
std::vector<double> z_scores(const std::vector<double>& scores) {
  if (scores.empty()) return {};
  double mean = 0;
  for (double score : scores) mean += score;
  mean /= static_cast<double>(scores.size());
  double variance = 0;
  for (double score : scores) variance += (score - mean) * (score - mean);
  const double deviation = std::sqrt(variance / static_cast<double>(scores.size()));
  std::vector<double> out;
  for (double score : scores) out.push_back(deviation > 0 ? (score - mean) / deviation : 0.0);
  return out;
}

std::vector<double> normalised(const std::vector<double>& scores, Fusion fusion) {
  return fusion == Fusion::kZScore ? z_scores(scores) : min_max(scores);
}

std::string date_text(int32_t days) {
  if (days == index::kUnknownDate) return {};
  return format_date(std::chrono::sys_days{std::chrono::days{days}});
}

}  // namespace

std::optional<Mode> parse_mode(std::string_view name) {
  if (name == "keyword") return Mode::kKeyword;
  if (name == "semantic") return Mode::kSemantic;
  if (name == "hybrid") return Mode::kHybrid;
  return std::nullopt;
}

std::string_view mode_name(Mode mode) {
  switch (mode) {
    case Mode::kKeyword:
      return "keyword";
    case Mode::kSemantic:
      return "semantic";
    case Mode::kHybrid:
      return "hybrid";
  }
  return "hybrid";
}

std::optional<Fusion> parse_fusion(std::string_view name) {
  if (name == "rrf") return Fusion::kReciprocalRank;
  if (name == "blend") return Fusion::kScoreBlend;
  if (name == "zscore") return Fusion::kZScore;
  if (name == "learned") return Fusion::kLearned;
  return std::nullopt;
}

std::string_view fusion_name(Fusion fusion) {
  switch (fusion) {
    case Fusion::kReciprocalRank:
      return "rrf";
    case Fusion::kScoreBlend:
      return "blend";
    case Fusion::kZScore:
      return "zscore";
    case Fusion::kLearned:
      return "learned";
  }
  return "blend";
}

std::string describe(const FusionParams& params) {
  std::string name(fusion_name(params.fusion));
  if (params.fusion == Fusion::kReciprocalRank)
    name += fmt::format(" k={:g}", params.rrf_k);
  else if (params.fusion == Fusion::kLearned)
    name += fmt::format(" {}", kLearnedFusionVersion);
  else
    name += fmt::format(" w={:.2f}", params.semantic_weight);
  if (params.feedback_papers > 0)
    name += fmt::format(" feedback {}x{:.2f}", params.feedback_papers, params.feedback_weight);
  if (params.score_keyword_candidates) name += " scored";
  return name;
}

std::vector<float> feedback_query(const vector::VectorIndex& vectors, std::span<const float> query,
                                  const std::vector<search::Hit>& keyword, size_t papers,
                                  double weight) {
  std::vector<float> mean(query.size(), 0.0f);
  size_t found = 0;
  for (size_t i = 0; i < keyword.size() && i < papers; ++i) {
    const auto stored = vectors.vector_of(keyword[i].paper_id);
    if (!stored || stored->size() != mean.size()) continue;
    for (size_t c = 0; c < mean.size(); ++c) mean[c] += (*stored)[c];
    ++found;
  }
  if (found == 0) return {query.begin(), query.end()};
  std::vector<float> steered(query.size());
  double norm = 0;
  for (size_t c = 0; c < steered.size(); ++c) {
    steered[c] =
        static_cast<float>((1 - weight) * query[c] + weight * mean[c] / static_cast<double>(found));
    norm += static_cast<double>(steered[c]) * steered[c];
  }
  if (norm <= 0) return {query.begin(), query.end()};
  for (float& value : steered) value = static_cast<float>(value / std::sqrt(norm));
  return steered;
}

Result<SemanticIndex> open_semantic(const fs::path& vectors_dir) {
  // A save may replace the generation between opening the vectors and the model: try again.
  for (int attempt = 0;; ++attempt) {
    auto vectors = vector::VectorIndex::open(vectors_dir);
    if (!vectors) return std::unexpected(vectors.error());
    const fs::path generation = (*vectors)->generation();
    auto model = encoder::load_generation_embedder(generation, 1);
    if (!model) {
      if (attempt < 2) continue;
      return std::unexpected(model.error());
    }
    if ((*model)->identity() != (*vectors)->model_identity())
      return fail(generation.string() + ": model " + (*model)->identity() +
                  " did not make these vectors (" + (*vectors)->model_identity() + ")");
    SemanticIndex semantic;
    semantic.embedder = std::shared_ptr<const embed::Embedder>(std::move(*model));
    semantic.vectors = std::shared_ptr<const vector::VectorIndex>(std::move(*vectors));
    return semantic;
  }
}

std::vector<HybridHit> fuse(const std::vector<search::Hit>& keyword,
                            const std::vector<vector::Neighbor>& semantic,
                            const FusionParams& params) {
  std::vector<HybridHit> hits;
  std::unordered_map<std::string, size_t> position;
  auto hit_for = [&](const std::string& paper_id) -> HybridHit& {
    auto [found, added] = position.emplace(paper_id, hits.size());
    if (added) {
      hits.emplace_back();
      hits.back().paper_id = paper_id;
    }
    return hits[found->second];
  };
  std::vector<double> keyword_scores, semantic_scores;
  for (const search::Hit& hit : keyword) keyword_scores.push_back(hit.score);
  for (const vector::Neighbor& neighbor : semantic) semantic_scores.push_back(neighbor.similarity);
  const auto keyword_normalised = normalised(keyword_scores, params.fusion);
  const auto semantic_normalised = normalised(semantic_scores, params.fusion);
  const double w = params.semantic_weight;
  // A paper one side did not return counts as that side's lowest candidate.
  const double keyword_floor =
      keyword_normalised.empty()
          ? 0
          : *std::min_element(keyword_normalised.begin(), keyword_normalised.end());
  const double semantic_floor =
      semantic_normalised.empty()
          ? 0
          : *std::min_element(semantic_normalised.begin(), semantic_normalised.end());
  const bool by_rank = params.fusion == Fusion::kReciprocalRank;
  for (size_t rank = 0; rank < keyword.size(); ++rank) {
    HybridHit& hit = hit_for(keyword[rank].paper_id);
    hit.keyword_score = keyword[rank].score;
    hit.date = keyword[rank].date;
    hit.upvotes = keyword[rank].upvotes;
    hit.score += by_rank ? 1.0 / (params.rrf_k + static_cast<double>(rank + 1))
                         : (1 - w) * keyword_normalised[rank];
  }
  for (size_t rank = 0; rank < semantic.size(); ++rank) {
    HybridHit& hit = hit_for(semantic[rank].paper_id);
    hit.semantic_score = semantic[rank].similarity;
    hit.score += by_rank ? 1.0 / (params.rrf_k + static_cast<double>(rank + 1))
                         : w * semantic_normalised[rank];
  }
  if (!by_rank) {
    for (HybridHit& hit : hits) {
      if (!hit.keyword_score) hit.score += (1 - w) * keyword_floor;
      if (!hit.semantic_score) hit.score += w * semantic_floor;
    }
  }
  std::stable_sort(hits.begin(), hits.end(),
                   [](const HybridHit& a, const HybridHit& b) { return a.score > b.score; });
  return hits;
}

std::vector<HybridHit> fuse_learned(const std::vector<search::Hit>& keyword,
                                    const std::vector<vector::Neighbor>& semantic,
                                    const SemanticIndex& index, std::span<const float> plain_query,
                                    const FusionWeights& weights) {
  const auto candidates = fusion_candidates(keyword, semantic, *index.vectors, plain_query,
                                            word_dimension_of(*index.embedder));
  std::vector<HybridHit> hits;
  hits.reserve(candidates.size());
  for (const FusionCandidate& candidate : candidates) {
    HybridHit& hit = hits.emplace_back();
    hit.paper_id = candidate.paper_id;
    hit.score = fused_score(candidate.features, weights);
    hit.semantic_score = candidate.semantic_similarity;
    if (candidate.keyword != nullptr) {
      hit.keyword_score = candidate.keyword->score;
      hit.date = candidate.keyword->date;
      hit.upvotes = candidate.keyword->upvotes;
    }
  }
  std::stable_sort(hits.begin(), hits.end(),
                   [](const HybridHit& a, const HybridHit& b) { return a.score > b.score; });
  return hits;
}

size_t word_dimension_of(const embed::Embedder& embedder) {
  if (const auto* sif = dynamic_cast<const embed::SifModel*>(&embedder))
    return sif->word_dimension();
  return embedder.dimension();
}

std::vector<vector::Neighbor> with_keyword_candidates(const vector::VectorIndex& vectors,
                                                      std::span<const float> query,
                                                      std::vector<vector::Neighbor> semantic,
                                                      const std::vector<search::Hit>& keyword) {
  std::unordered_set<std::string_view> present;
  for (const vector::Neighbor& neighbor : semantic) present.insert(neighbor.paper_id);
  std::vector<vector::Neighbor> added;
  for (const search::Hit& hit : keyword) {
    if (present.contains(hit.paper_id)) continue;
    const auto stored = vectors.vector_of(hit.paper_id);
    if (!stored || stored->size() != query.size()) continue;
    float similarity = 0;
    for (size_t c = 0; c < query.size(); ++c) similarity += query[c] * (*stored)[c];
    added.push_back({hit.paper_id, similarity});
  }
  semantic.insert(semantic.end(), std::make_move_iterator(added.begin()),
                  std::make_move_iterator(added.end()));
  std::stable_sort(semantic.begin(), semantic.end(),
                   [](const vector::Neighbor& a, const vector::Neighbor& b) {
                     return a.similarity > b.similarity;
                   });
  return semantic;
}

std::string semantic_text(std::string_view query_text) {
  std::string out;
  size_t at = 0;
  while (at < query_text.size()) {
    while (at < query_text.size() && std::isspace(static_cast<unsigned char>(query_text[at]))) ++at;
    if (at >= query_text.size()) break;
    // A word runs to the next space outside quotes.
    size_t end = at;
    bool quoted = false;
    while (end < query_text.size() &&
           (quoted || !std::isspace(static_cast<unsigned char>(query_text[end])))) {
      if (query_text[end] == '"') quoted = !quoted;
      ++end;
    }
    std::string_view word = query_text.substr(at, end - at);
    at = end;
    if (word.starts_with('-') || word == "OR") continue;
    const std::string folded = lower(word);
    if (folded.starts_with("cat:") || folded.starts_with("after:") ||
        folded.starts_with("before:") || folded.starts_with("year:"))
      continue;
    for (std::string_view prefix : {"title:", "abstract:", "author:"})
      if (folded.starts_with(prefix)) word.remove_prefix(prefix.size());
    for (char c : word)
      if (c != '"') out += c;
    out += ' ';
  }
  if (!out.empty()) out.pop_back();
  return out;
}

search::SearchOptions keyword_candidate_options(const HybridOptions& options) {
  search::SearchOptions keyword_options;
  keyword_options.limit = std::max(options.offset + options.limit, options.keyword_candidates);
  // One top k by BM25F: fusion re-ranks the candidates anyway, and the all-words tier costs
  // long queries most (a title's words are rarely all in another paper).
  keyword_options.all_words_first = false;
  return keyword_options;
}

Result<HybridResults> search(const index::Snapshot* keyword, const SemanticIndex* semantic,
                             std::string_view query_text, const HybridOptions& options) {
  HybridResults results;
  results.mode = options.mode;
  if (results.mode == Mode::kHybrid && semantic == nullptr) {
    results.mode = Mode::kKeyword;
    results.notes.push_back("no vectors yet: keyword search only (`paperboy embed train`)");
  }
  if (results.mode == Mode::kSemantic && semantic == nullptr)
    return fail("semantic search needs vectors: run `paperboy embed train` first");
  if (results.mode != Mode::kSemantic && keyword == nullptr)
    return fail("keyword search needs the search index");

  auto query = search::parse_query(query_text);
  if (!query) return std::unexpected(query.error());
  results.notes.insert(results.notes.end(), query->notes.begin(), query->notes.end());
  const size_t wanted = options.offset + options.limit;

  std::vector<search::Hit> keyword_hits;
  if (results.mode != Mode::kSemantic) {
    search::SearchOptions keyword_options;
    if (results.mode == Mode::kKeyword)
      keyword_options.limit = wanted;
    else
      keyword_options = keyword_candidate_options(options);
    auto found = search::search(*keyword, *query, keyword_options);
    if (!found) return std::unexpected(found.error());
    keyword_hits = std::move(found->hits);
    results.jumped = found->jumped;
    for (std::string& note : found->notes)
      if (std::find(results.notes.begin(), results.notes.end(), note) == results.notes.end())
        results.notes.push_back(std::move(note));
  }

  std::vector<vector::Neighbor> semantic_hits;
  std::vector<float> query_vector, plain_query_vector;
  if (results.mode != Mode::kKeyword && !results.jumped) {
    const std::string text = semantic_text(query_text);
    query_vector = semantic->embedder->embed(text);
    plain_query_vector = query_vector;
    if (results.mode == Mode::kHybrid && options.fusion.feedback_papers > 0)
      query_vector = feedback_query(*semantic->vectors, query_vector, keyword_hits,
                                    options.fusion.feedback_papers, options.fusion.feedback_weight);
    const size_t depth =
        results.mode == Mode::kSemantic ? wanted : std::max(wanted, options.candidates);
    // Filters are checked after the graph search, so ask for more when there are filters.
    const size_t fetch = query->has_filters() && keyword != nullptr ? depth * 10 : depth;
    for (vector::Neighbor& neighbor : semantic->vectors->search(query_vector, fetch)) {
      if (query->has_filters() && keyword != nullptr) {
        auto location = keyword->find_paper(neighbor.paper_id);
        if (!location) continue;
        const auto stored = keyword->segments()[location->segment].segment->stored(location->doc);
        if (stored.date < query->first_day || stored.date > query->last_day) continue;
        if (!query->categories.empty() &&
            std::none_of(
                stored.categories.begin(), stored.categories.end(),
                [&](const std::string& c) { return category_matches(c, query->categories); }))
          continue;
      }
      semantic_hits.push_back(std::move(neighbor));
      if (semantic_hits.size() >= depth) break;
    }
    if (query_vector.empty() ||
        std::all_of(query_vector.begin(), query_vector.end(), [](float v) { return v == 0; }))
      results.notes.push_back("no word of the query is known to the embedding model");
  }

  std::vector<HybridHit> ranked;
  if (results.mode == Mode::kHybrid && !results.jumped) {
    if (options.fusion.score_keyword_candidates)
      semantic_hits = with_keyword_candidates(*semantic->vectors, query_vector,
                                              std::move(semantic_hits), keyword_hits);
    ranked = options.fusion.fusion == Fusion::kLearned
                 ? fuse_learned(keyword_hits, semantic_hits, *semantic, plain_query_vector,
                                options.fusion.learned_weights)
                 : fuse(keyword_hits, semantic_hits, options.fusion);
  } else if (results.mode == Mode::kSemantic) {
    for (const vector::Neighbor& neighbor : semantic_hits) {
      HybridHit& hit = ranked.emplace_back();
      hit.paper_id = neighbor.paper_id;
      hit.score = hit.semantic_score.emplace(neighbor.similarity);
    }
  } else {
    for (const search::Hit& keyword_hit : keyword_hits) {
      HybridHit& hit = ranked.emplace_back();
      hit.paper_id = keyword_hit.paper_id;
      hit.score = hit.keyword_score.emplace(keyword_hit.score);
      hit.date = keyword_hit.date;
      hit.upvotes = keyword_hit.upvotes;
    }
  }
  for (size_t i = options.offset; i < std::min(ranked.size(), wanted); ++i)
    results.hits.push_back(std::move(ranked[i]));
  // Semantic-only papers carry no stored values yet: take them from the keyword index.
  for (HybridHit& hit : results.hits) {
    if (hit.keyword_score || keyword == nullptr) continue;
    if (auto location = keyword->find_paper(hit.paper_id)) {
      const auto stored = keyword->segments()[location->segment].segment->stored(location->doc);
      hit.date = date_text(stored.date);
      hit.upvotes = stored.upvotes;
    }
  }
  return results;
}

Result<std::vector<vector::Neighbor>> related(const SemanticIndex& semantic,
                                              std::string_view paper_id, size_t limit) {
  auto stored = semantic.vectors->vector_of(paper_id);
  if (!stored) return fail("paper " + std::string(paper_id) + " has no vector");
  std::vector<vector::Neighbor> neighbors;
  for (vector::Neighbor& neighbor : semantic.vectors->search(*stored, limit + 1)) {
    if (neighbor.paper_id == paper_id) continue;
    neighbors.push_back(std::move(neighbor));
  }
  if (neighbors.size() > limit) neighbors.resize(limit);
  return neighbors;
}

Result<std::vector<vector::Neighbor>> like_text(const SemanticIndex& semantic,
                                                std::string_view text, size_t limit) {
  const auto query = semantic.embedder->embed(text);
  if (std::all_of(query.begin(), query.end(), [](float v) { return v == 0; }))
    return fail("no word of the text is known to the embedding model");
  return semantic.vectors->search(query, limit);
}

}  // namespace paperboy::hybrid
