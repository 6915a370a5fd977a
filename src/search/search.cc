#include "search/search.h"

#include <algorithm>
#include <cctype>
#include <chrono>
#include <cmath>
#include <initializer_list>
#include <limits>
#include <queue>

#include "core/date.h"
#include "search/facets.h"

namespace paperboy::search {

namespace {

using index::BlockBound;
using index::kFieldCount;
using index::kNoDoc;
using index::PostingCursor;
using index::Segment;
using index::SegmentView;

// Upper bounds are compared with a little slack so that rounding in a different summation
// order can never prune a document the exhaustive scorer would rank.
constexpr double kBoundSlack = 1.0 + 1e-9;

struct TermKey {
  std::string term;
  Scope scope = Scope::kAll;
  bool operator==(const TermKey&) const = default;
};

bool in_scope(Scope scope, size_t field) {
  switch (scope) {
    case Scope::kAll:
      return true;
    case Scope::kTitle:
      return field == index::kTitle;
    case Scope::kAbstract:
      return field == index::kAbstract;
    case Scope::kAuthors:
      return field == index::kAuthors;
  }
  return false;
}

// A clause with its terms resolved to indices into the term table.
struct ResolvedClause {
  std::vector<size_t> terms;
  std::vector<uint32_t> offsets;
  Scope scope = Scope::kAll;
};

struct ResolvedGroup {
  std::vector<ResolvedClause> alternatives;
  std::vector<size_t> terms;  // every term of every alternative, for advancing
  bool strict = false;
};

// The query compiled against one snapshot: the distinct scored terms with their idf, the
// groups and exclusions in terms of them, and the BM25F constants.
struct Plan {
  std::vector<TermKey> scored;  // scored terms, in the fixed order scores are summed
  std::vector<double> idf;
  std::vector<TermKey> excluded_terms;
  std::vector<ResolvedGroup> groups;
  std::vector<ResolvedClause> excluded;  // indices into excluded_terms
  const Query* query = nullptr;
  Bm25fParams params;
  std::array<double, kFieldCount> average_length{};
  // weight[f] / length_norm(f, decode_length(code)) per field and length code: a term's
  // weighted frequency bound in a doc from the doc's length codes (index::encode_length).
  std::array<std::array<double, index::kLengthCodes>, kFieldCount> weight_by_code{};
  std::array<double, index::kLengthCodes> no_weight{};  // for fields outside a term's scope
};

size_t intern(std::vector<TermKey>& table, const std::string& term, Scope scope) {
  TermKey key{term, scope};
  auto found = std::find(table.begin(), table.end(), key);
  if (found != table.end()) return static_cast<size_t>(found - table.begin());
  table.push_back(std::move(key));
  return table.size() - 1;
}

ResolvedClause resolve(std::vector<TermKey>& table, const Clause& clause) {
  ResolvedClause resolved;
  resolved.scope = clause.scope;
  resolved.offsets = clause.offsets;
  for (const std::string& term : clause.terms)
    resolved.terms.push_back(intern(table, term, clause.scope));
  return resolved;
}

Plan make_plan(const index::Snapshot& snapshot, const Query& query, const SearchOptions& options) {
  Plan plan;
  plan.query = &query;
  plan.params = options.ranking;
  for (size_t f = 0; f < kFieldCount; ++f)
    plan.average_length[f] = snapshot.average_field_length(f);
  for (const Group& group : query.groups) {
    ResolvedGroup resolved;
    resolved.strict = group.strict;
    for (const Clause& clause : group.alternatives) {
      resolved.alternatives.push_back(resolve(plan.scored, clause));
      for (size_t term : resolved.alternatives.back().terms)
        if (std::find(resolved.terms.begin(), resolved.terms.end(), term) == resolved.terms.end())
          resolved.terms.push_back(term);
    }
    plan.groups.push_back(std::move(resolved));
  }
  for (const Clause& clause : query.excluded)
    plan.excluded.push_back(resolve(plan.excluded_terms, clause));
  for (size_t f = 0; f < kFieldCount; ++f)
    for (size_t code = 0; code < index::kLengthCodes; ++code)
      plan.weight_by_code[f][code] =
          plan.params.weight[f] /
          index::length_norm(plan.params.b[f],
                             static_cast<double>(index::decode_length(static_cast<uint8_t>(code))),
                             plan.average_length[f]);
  auto total_docs = static_cast<double>(snapshot.doc_count());
  for (const TermKey& key : plan.scored) {
    double doc_freq = 0;
    for (const SegmentView& view : snapshot.segments())
      if (auto ordinal = view.segment->find_term(key.term))
        doc_freq += view.segment->doc_freq(*ordinal);
    plan.idf.push_back(std::log(1.0 + (total_docs - doc_freq + 0.5) / (doc_freq + 0.5)));
  }
  return plan;
}

double saturate(const Plan& plan, size_t term, double weighted_tf) {
  double k1 = plan.params.k1;
  return plan.idf[term] * weighted_tf * (k1 + 1.0) / (k1 + weighted_tf);
}

double length_norm(const Plan& plan, size_t field, double length) {
  return index::length_norm(plan.params.b[field], length, plan.average_length[field]);
}

// How far a block's reference weight (made with kReferenceWeight, kReferenceB and the
// segment's average lengths) can fall short of the weight under the query's settings: the
// largest ratio, over fields and lengths, of the two normalised, weighted term frequencies.
// Both norms are increasing piecewise-linear functions of the length, so the ratio peaks at
// length 0, at a clamp corner, or as the length grows without bound.
double reference_scale(const Plan& plan, const Segment& segment) {
  double scale = 0;
  for (size_t f = 0; f < kFieldCount; ++f) {
    double weight = plan.params.weight[f];
    if (weight <= 0) continue;
    double b_ref = index::kReferenceB[f];
    double average_ref = segment.reference_average_length(f);
    double b = plan.params.b[f];
    double average = plan.average_length[f];
    auto ratio = [&](double length) {
      return index::length_norm(b_ref, length, average_ref) /
             index::length_norm(b, length, average);
    };
    double worst = ratio(0);
    for (auto [corner_b, corner_average] : {std::pair{b_ref, average_ref}, std::pair{b, average}})
      if (corner_b > 0.95)
        worst = std::max(worst, ratio((corner_b - 0.95) * corner_average / corner_b));
    if (b > 0)
      worst = std::max(worst, (b_ref / average_ref) / (b / average));
    else if (b_ref > 0)
      return std::numeric_limits<double>::infinity();
    scale = std::max(scale, weight / index::kReferenceWeight[f] * worst);
  }
  return scale;
}

// Per-segment cursors and the scoring and matching of one document.
class SegmentSearch {
 public:
  SegmentSearch(const Plan& plan, const SegmentView& view, uint32_t base)
      : plan_(plan),
        view_(view),
        segment_(*view.segment),
        base_(base),
        reference_scale_(reference_scale(plan, *view.segment) * kBoundSlack),
        length_codes_(view.segment->length_codes()) {
    cursors_.resize(plan.scored.size());
    block_cache_.resize(plan.scored.size());
    code_weights_.resize(plan.scored.size());
    for (size_t t = 0; t < plan.scored.size(); ++t)
      for (size_t f = 0; f < kFieldCount; ++f)
        code_weights_[t][f] = in_scope(plan.scored[t].scope, f) ? plan.weight_by_code[f].data()
                                                                : plan.no_weight.data();
    present_.resize(plan.scored.size(), false);
    for (size_t t = 0; t < plan.scored.size(); ++t) {
      if (auto ordinal = segment_.find_term(plan.scored[t].term))
        cursors_[t] = segment_.cursor(*ordinal);
    }
    excluded_cursors_.resize(plan.excluded_terms.size());
    for (size_t t = 0; t < plan.excluded_terms.size(); ++t)
      if (auto ordinal = segment_.find_term(plan.excluded_terms[t].term))
        excluded_cursors_[t] = segment_.cursor(*ordinal);
  }

  uint32_t base() const { return base_; }
  const PostingCursor::CodeWeights& code_weights(size_t term) const { return code_weights_[term]; }
  const uint8_t* length_codes() const { return length_codes_; }
  // Upper bound of the term's score at its cursor's doc from the frequencies and the doc's
  // length codes (reads no doc record).
  double cursor_frequency_bound(size_t term) const {
    double weighted = cursors_[term].weight(code_weights_[term], length_codes_);
    return weighted > 0 ? saturate(plan_, term, weighted) : 0.0;
  }
  uint64_t scored_documents() const { return scored_documents_; }
  size_t term_count() const { return cursors_.size(); }
  PostingCursor& cursor(size_t term) { return cursors_[term]; }
  // Upper bound of the term's score over its whole list (reads its whole block table, so only
  // the partial-match tier asks).
  double max_score(size_t term) const { return bound_score(term, cursors_[term].list_bound()); }

  // Upper bound of the term's score in the block of its list that may hold `target` (0 past
  // the end). Moves only the block pointer; the bound is cached per block, as consecutive
  // candidates mostly fall into the same blocks.
  double block_bound(size_t term, uint32_t target) {
    uint32_t last = cursors_[term].shallow_advance(target);
    if (last == kNoDoc) return 0.0;
    return cached_block(term, last).bound;
  }

  // Upper bound of the term's score over the docs `bound` summarises: the smaller of the
  // scaled reference weight and the combination of per-field maxima.
  double bound_score(size_t term, const BlockBound& bound) const {
    double weighted = 0;
    for (size_t f = 0; f < kFieldCount; ++f) {
      if (bound.max_tf[f] == 0 || !in_scope(plan_.scored[term].scope, f)) continue;
      weighted +=
          plan_.params.weight[f] * bound.max_tf[f] / length_norm(plan_, f, bound.min_length[f]);
    }
    weighted = std::min(weighted, reference_scale_ * bound.max_reference_weight);
    return weighted > 0 ? saturate(plan_, term, weighted) : 0.0;
  }

  // Upper bound of score(doc) from the term frequencies alone, each field's length taken as the
  // shortest in the term's block: it reads no document record (a cache miss per doc), so most
  // docs of a block whose best doc is competitive are passed over at the cost of a few shifts.
  double frequency_bound(uint32_t doc) {
    double total = 0;
    for (size_t t = 0; t < cursors_.size(); ++t) total += term_frequency_bound(t, doc);
    return total;
  }

  // The same for one term (0 when its cursor is not on `doc`).
  double term_frequency_bound(size_t term, uint32_t doc) {
    return cursors_[term].doc() == doc ? cursor_frequency_bound(term) : 0.0;
  }

  // Moves `term`'s cursor over its postings up to `last` whose frequency bound cannot exceed
  // `need`, and returns where it stops: the first posting that can, or the first past `last`.
  // The loop a common lead term runs through: per posting, three field frequencies times
  // per-block constants, compared with the weighted frequency that saturates to `need`.
  uint32_t skip_weak_postings(size_t term, uint32_t last, double need) {
    PostingCursor& cursor = cursors_[term];
    if (need <= 0) return cursor.doc();
    double k1 = plan_.params.k1;
    double ceiling = plan_.idf[term] * (k1 + 1.0);  // saturate() of an unbounded frequency
    if (need >= ceiling) {
      cursor.advance(last == kNoDoc ? kNoDoc : last + 1);
      return cursor.doc();
    }
    double max_weighted = k1 * need / (ceiling - need);
    while (cursor.doc() != kNoDoc && cursor.doc() <= last) {
      uint32_t block_last = cursor.shallow_advance(cursor.doc());
      const BlockCache& cache = cached_block(term, block_last);
      if (cache.bound <= need) {
        cursor.advance(std::min(block_last, last) + 1);
        continue;
      }
      if (cursor.skip_light_postings(code_weights_[term], length_codes_, max_weighted, last))
        return cursor.doc();
    }
    return cursor.doc();
  }

  // Score of `doc`, assuming every cursor is at or past it; also records which terms are
  // present (in their scope) for the match checks.
  double score(uint32_t doc) {
    ++scored_documents_;
    double total = 0;
    for (size_t t = 0; t < cursors_.size(); ++t) {
      present_[t] = false;
      if (cursors_[t].doc() != doc) continue;
      double weighted = 0;
      for (size_t f = 0; f < kFieldCount; ++f) {
        uint32_t tf = cursors_[t].tf(f);
        if (tf == 0 || !in_scope(plan_.scored[t].scope, f)) continue;
        weighted +=
            plan_.params.weight[f] * tf / length_norm(plan_, f, segment_.field_length(doc, f));
      }
      if (weighted <= 0) continue;
      present_[t] = true;
      total += saturate(plan_, t, weighted);
    }
    return total;
  }

  // What score(doc) records of the terms present, without scoring: true exactly when
  // score(doc) would be above 0. Reads no doc record while the field weights are not negative.
  bool mark_present(uint32_t doc) {
    if (!nonnegative_weights_) return score(doc) > 0;
    bool any = false;
    for (size_t t = 0; t < cursors_.size(); ++t) {
      present_[t] = false;
      if (cursors_[t].doc() != doc) continue;
      for (size_t f = 0; f < kFieldCount && !present_[t]; ++f)
        present_[t] = cursors_[t].tf(f) > 0 && plan_.params.weight[f] > 0 &&
                      in_scope(plan_.scored[t].scope, f);
      any = any || present_[t];
    }
    return any;
  }

  // Whether every required phrase (a group whose one alternative has several words) holds at
  // `doc`: checked before scoring, which reads the doc table, as most docs holding a common
  // phrase's words do not hold the phrase.
  bool required_phrases_hold(uint32_t doc) {
    for (const ResolvedGroup& group : plan_.groups)
      if (group.alternatives.size() == 1 && group.alternatives[0].terms.size() > 1 &&
          !clause_matches(group.alternatives[0], doc, cursors_, nullptr))
        return false;
    return true;
  }

  bool passes_filters(uint32_t doc) const {
    if (view_.is_deleted(doc)) return false;
    const Query& query = *plan_.query;
    if (query.first_day != INT32_MIN || query.last_day != INT32_MAX) {
      // Read only when filtering: the doc table is a cache miss per candidate.
      int32_t date = segment_.date(doc);
      if (date == index::kUnknownDate || date < query.first_day || date > query.last_day)
        return false;
    }
    if (!query.categories.empty() && !has_category(doc)) return false;
    return true;
  }

  // After score(doc): how the document stands against the groups and exclusions.
  struct Match {
    bool all_groups = true;
    bool strict_groups = true;
    bool excluded = false;
  };
  Match match(uint32_t doc) {
    Match result;
    for (const ResolvedGroup& group : plan_.groups) {
      bool satisfied = false;
      for (const ResolvedClause& clause : group.alternatives)
        if (clause_matches(clause, doc, cursors_, &present_)) {
          satisfied = true;
          break;
        }
      if (!satisfied) {
        result.all_groups = false;
        if (group.strict) result.strict_groups = false;
      }
    }
    for (const ResolvedClause& clause : plan_.excluded) {
      for (size_t term : clause.terms) excluded_cursors_[term].advance(doc);
      if (clause_matches(clause, doc, excluded_cursors_, nullptr)) {
        result.excluded = true;
        break;
      }
    }
    return result;
  }

  // Per term, what block_bound and the frequency bounds need of its current block.
  struct BlockCache {
    uint32_t last_doc = kNoDoc;
    double bound = 0;
  };
  // The cache entry of `term`'s block ending at `last_doc` (its shallow block).
  const BlockCache& cached_block(size_t term, uint32_t last_doc) {
    BlockCache& cache = block_cache_[term];
    if (cache.last_doc != last_doc) {
      const BlockBound& bound = cursors_[term].shallow_bound();
      cache.last_doc = last_doc;
      cache.bound = bound_score(term, bound);
    }
    return cache;
  }

  const Segment& segment() const { return segment_; }

 private:
  bool has_category(uint32_t doc) const {
    std::string_view list = segment_.categories(doc);
    while (!list.empty()) {
      size_t space = list.find(' ');
      std::string_view category = list.substr(0, space);
      for (const std::string& wanted : plan_.query->categories) {
        if (category.size() < wanted.size()) continue;
        bool same_prefix = std::equal(
            wanted.begin(), wanted.end(), category.begin(),
            [](char a, char b) { return a == std::tolower(static_cast<unsigned char>(b)); });
        if (same_prefix && (category.size() == wanted.size() || category[wanted.size()] == '.'))
          return true;
      }
      if (space == std::string_view::npos) break;
      list.remove_prefix(space + 1);
    }
    return false;
  }

  bool term_present(size_t term, uint32_t doc, std::vector<PostingCursor>& cursors,
                    const std::vector<bool>* present, Scope scope) const {
    if (present != nullptr) return (*present)[term];
    const PostingCursor& cursor = cursors[term];
    if (cursor.doc() != doc) return false;
    for (size_t f = 0; f < kFieldCount; ++f)
      if (in_scope(scope, f) && cursor.tf(f) > 0) return true;
    return false;
  }

  bool clause_matches(const ResolvedClause& clause, uint32_t doc,
                      std::vector<PostingCursor>& cursors, const std::vector<bool>* present) const {
    for (size_t term : clause.terms)
      if (!term_present(term, doc, cursors, present, clause.scope)) return false;
    if (clause.terms.size() < 2) return true;
    for (size_t f = 0; f < kFieldCount; ++f) {
      if (!in_scope(clause.scope, f)) continue;
      bool all_in_field = true;
      for (size_t term : clause.terms) {
        if (cursors[term].tf(f) == 0) {
          all_in_field = false;
          break;
        }
      }
      if (!all_in_field) continue;
      if (positions_.size() < clause.terms.size()) positions_.resize(clause.terms.size());
      for (size_t k = 0; k < clause.terms.size(); ++k)
        cursors[clause.terms[k]].positions(f, positions_[k]);
      const auto& positions = positions_;
      for (uint32_t start : positions[0]) {
        bool found = true;
        for (size_t k = 1; k < clause.terms.size() && found; ++k)
          found = std::binary_search(positions[k].begin(), positions[k].end(),
                                     start + clause.offsets[k] - clause.offsets[0]);
        if (found) return true;
      }
    }
    return false;
  }

  const Plan& plan_;
  const SegmentView& view_;
  const Segment& segment_;
  uint32_t base_;
  double reference_scale_;
  const uint8_t* length_codes_;
  std::vector<PostingCursor> cursors_;
  std::vector<PostingCursor::CodeWeights> code_weights_;  // per term, by its scope
  std::vector<BlockCache> block_cache_;
  std::vector<bool> present_;
  bool nonnegative_weights_ =
      std::ranges::all_of(plan_.params.weight, [](double weight) { return weight >= 0; });
  std::vector<PostingCursor> excluded_cursors_;
  mutable std::vector<std::vector<uint32_t>> positions_;  // phrase checks' buffers, reused
  uint64_t scored_documents_ = 0;
};

struct Scored {
  double score = 0;
  uint64_t global_doc = 0;
  size_t segment = 0;
  uint32_t doc = 0;
  bool matched_all = false;
};

// Better first: higher score, then lower global doc id (earlier indexed).
bool better(const Scored& a, const Scored& b) {
  if (a.score != b.score) return a.score > b.score;
  return a.global_doc < b.global_doc;
}

class TopK {
 public:
  explicit TopK(size_t k) : k_(k) {}
  // Whether a document must beat threshold() to enter: k were offered, or a floor is set.
  bool full() const { return heap_full() || floor_ > 0; }
  double threshold() const { return std::max(heap_full() ? heap_.top().score : -1.0, floor_); }
  // k real matches are known to score at least `score`, so nothing below it can enter and the
  // search may prune with it before k were offered. Lowered by the slack, so that a document
  // scoring exactly `score` still competes (ties break by doc order).
  void set_floor(double score) { floor_ = score / (kBoundSlack * kBoundSlack); }
  // Documents arrive in increasing global doc order, so an equal score never displaces.
  void offer(const Scored& entry) {
    if (k_ == 0) return;
    if (!heap_full()) {
      heap_.push(entry);
    } else if (entry.score > heap_.top().score) {
      heap_.pop();
      heap_.push(entry);
    }
  }
  std::vector<Scored> sorted() {
    std::vector<Scored> out;
    while (!heap_.empty()) {
      out.push_back(heap_.top());
      heap_.pop();
    }
    std::sort(out.begin(), out.end(), better);
    return out;
  }

 private:
  bool heap_full() const { return heap_.size() >= k_; }

  size_t k_;
  double floor_ = -1.0;
  std::priority_queue<Scored, std::vector<Scored>, decltype(&better)> heap_{&better};
};

// Tier 1: documents satisfying every group, by block-max AND over the groups.
void top_all_groups(SegmentSearch& search, size_t segment_index, const Plan& plan, TopK& top) {
  size_t terms = search.term_count();
  // First doc >= target holding every term of the clause (a phrase needs them all).
  auto clause_doc = [&](const ResolvedClause& clause, uint32_t target) {
    uint32_t doc = target;
    for (bool aligned = false; !aligned && doc != kNoDoc;) {
      aligned = true;
      for (size_t t : clause.terms) {
        search.cursor(t).advance(doc);
        if (search.cursor(t).doc() != doc) {
          doc = search.cursor(t).doc();
          aligned = false;
          break;
        }
      }
    }
    return doc;
  };
  auto group_doc = [&](const ResolvedGroup& group, uint32_t target) {
    uint32_t doc = kNoDoc;
    for (const ResolvedClause& clause : group.alternatives)
      doc = std::min(doc, clause_doc(clause, target));
    // Terms of other alternatives must not lag behind the candidate when it is scored.
    for (size_t t : group.terms) search.cursor(t).advance(target);
    return doc;
  };
  // Rarest groups first, each advanced to the furthest doc seen so far in the round: a rare
  // group's next doc lets the common groups' cursors skip whole blocks without decoding them.
  auto postings = [&](const ResolvedGroup& group) {
    uint64_t total = 0;
    for (const ResolvedClause& clause : group.alternatives) {
      uint32_t rarest = UINT32_MAX;
      for (size_t t : clause.terms) rarest = std::min(rarest, search.cursor(t).doc_freq());
      total += rarest;
    }
    return total;
  };
  std::vector<const ResolvedGroup*> rarest_first;
  for (const ResolvedGroup& group : plan.groups) rarest_first.push_back(&group);
  std::stable_sort(
      rarest_first.begin(), rarest_first.end(),
      [&](const ResolvedGroup* a, const ResolvedGroup* b) { return postings(*a) < postings(*b); });
  // A term counts from the first (rarest) group holding it: once that group sits on the
  // candidate, the term's own frequencies bound its score; before, only its block's bound does.
  std::vector<std::vector<size_t>> terms_by_rank(rarest_first.size());
  {
    std::vector<bool> ranked(terms, false);
    for (size_t rank = 0; rank < rarest_first.size(); ++rank)
      for (size_t t : rarest_first[rank]->terms)
        if (!ranked[t]) {
          ranked[t] = true;
          terms_by_rank[rank].push_back(t);
        }
  }
  // When the rarest group has a single alternative (a word or a phrase: the usual case), its
  // rarest term is in every match. It leads, walking its postings in a tight loop that passes
  // over those whose frequencies cannot make the candidate competitive.
  size_t lead_term = SIZE_MAX;
  if (!rarest_first.empty() && rarest_first[0]->alternatives.size() == 1) {
    for (size_t t : rarest_first[0]->alternatives[0].terms)
      if (lead_term == SIZE_MAX ||
          search.cursor(t).doc_freq() < search.cursor(lead_term).doc_freq())
        lead_term = t;
  }
  uint32_t candidate = 0;
  while (candidate != kNoDoc) {
    double bound = 0;  // of the candidate's score; known once the top k is full
    if (top.full()) {
      // Skip whole blocks whose best possible score cannot enter the top k.
      uint32_t block_end = kNoDoc;
      for (size_t t = 0; t < terms; ++t) {
        PostingCursor& cursor = search.cursor(t);
        if (cursor.doc() == kNoDoc) continue;
        bound += search.block_bound(t, candidate);
        block_end = std::min(block_end, cursor.shallow_last_doc());
      }
      if (bound * kBoundSlack <= top.threshold()) {
        candidate = block_end == kNoDoc ? kNoDoc : block_end + 1;
        continue;
      }
    }
    if (lead_term != SIZE_MAX && top.full()) {
      PostingCursor& lead = search.cursor(lead_term);
      lead.advance(candidate);
      if (lead.doc() == kNoDoc) return;
      if (lead.doc() != candidate) {
        candidate = lead.doc();
        continue;
      }
      double others = 0;
      uint32_t window_end = kNoDoc;
      for (size_t t = 0; t < terms; ++t) {
        if (t == lead_term || search.cursor(t).doc() == kNoDoc) continue;
        others += search.block_bound(t, candidate);
        window_end = std::min(window_end, search.cursor(t).shallow_last_doc());
      }
      uint32_t doc =
          search.skip_weak_postings(lead_term, window_end, top.threshold() / kBoundSlack - others);
      if (doc == kNoDoc) return;
      if (doc != candidate) {
        candidate = doc;
        continue;
      }
    }
    // Groups join rarest first. As soon as one moves past the candidate, the next round starts
    // there (block check first); while they agree, the frequencies of the groups on the
    // candidate and the block bounds of the rest must still reach the top k, so that a common
    // lead term's many weak postings are passed over without moving the other cursors.
    uint32_t next_candidate = candidate;
    for (size_t rank = 0; rank < rarest_first.size(); ++rank) {
      uint32_t doc = group_doc(*rarest_first[rank], candidate);
      if (doc == kNoDoc) return;
      if (doc != candidate) {
        next_candidate = doc;
        break;
      }
      if (!top.full() || rank + 1 == rarest_first.size()) continue;
      for (size_t t : terms_by_rank[rank])
        bound += search.term_frequency_bound(t, candidate) - search.block_bound(t, candidate);
      if (bound * kBoundSlack <= top.threshold()) {
        next_candidate = candidate + 1;
        break;
      }
    }
    if (next_candidate != candidate) {
      candidate = next_candidate;
      continue;
    }
    bool could_enter =
        !top.full() || search.frequency_bound(candidate) * kBoundSlack > top.threshold();
    if (could_enter && search.required_phrases_hold(candidate) &&
        search.passes_filters(candidate)) {
      double score = search.score(candidate);
      // Phrase and exclusion checks read positions; skip them when the score cannot enter.
      bool competitive = score > 0 && (!top.full() || score > top.threshold());
      auto match = competitive ? search.match(candidate) : SegmentSearch::Match{};
      if (competitive && match.all_groups && !match.excluded)
        top.offer(
            Scored{score, uint64_t{search.base()} + candidate, segment_index, candidate, true});
    }
    candidate = candidate + 1 == kNoDoc ? kNoDoc : candidate + 1;
  }
}

// Tier 1 when every group is a single word or phrase (the usual query), so that every term is
// in every match. It works window by window, a window ending at the nearest block end of any
// term, so that each term's block bound is fixed inside it: if their sum cannot enter the top
// k the window is skipped whole; otherwise the rarest term leads through its postings in the
// window, passing over those whose frequencies plus the other terms' block bounds cannot
// compete, and the others join rarest first, each swapping its block bound for its frequency
// bound, so that a candidate is dropped as soon as its bound cannot enter. Survivors are
// checked for phrases and filters and scored as in top_all_groups; results are identical.
void top_conjunction(SegmentSearch& search, size_t segment_index, const Plan& plan, TopK& top) {
  const size_t terms = search.term_count();
  std::vector<size_t> rarest_first(terms);
  for (size_t t = 0; t < terms; ++t) rarest_first[t] = t;
  std::stable_sort(rarest_first.begin(), rarest_first.end(), [&](size_t a, size_t b) {
    return search.cursor(a).doc_freq() < search.cursor(b).doc_freq();
  });
  const size_t lead = rarest_first[0];
  PostingCursor& lead_cursor = search.cursor(lead);
  const double k1 = plan.params.k1;
  const double lead_ceiling = plan.idf[lead] * (k1 + 1.0);  // its score at unbounded frequency
  std::vector<const SegmentSearch::BlockCache*> block(terms);
  std::vector<double> term_bound(terms, 0.0);
  // Bound of `term`'s score at its cursor's doc: its frequency bound, or its bound in the
  // current window when that is lower.
  auto frequency_bound = [&](size_t term) {
    return std::min(search.cursor_frequency_bound(term), term_bound[term]);
  };
  // Offers the matches among the lead's postings in [from, to], with term_bound[t] bounding
  // term t's score there; false when no match can follow. With `until_full` no bounds are
  // known, and it stops (true) at the first posting it reaches with the top k full.
  auto scan = [&](uint32_t from, uint32_t to, bool until_full) {
    double others = 0;
    for (size_t t = 0; t < terms; ++t)
      if (t != lead) others += term_bound[t];
    lead_cursor.advance(from);
    // The lead's weighted frequency a posting must exceed, recomputed when the threshold rises.
    double limit_threshold = std::numeric_limits<double>::quiet_NaN();
    double max_weighted = -1;
    while (lead_cursor.doc() != kNoDoc && lead_cursor.doc() <= to) {
      if (top.full()) {
        if (until_full) return true;
        if (top.threshold() != limit_threshold) {
          limit_threshold = top.threshold();
          double need = limit_threshold / kBoundSlack - others;
          if (need >= lead_ceiling) return true;
          max_weighted = need <= 0 ? -1.0 : k1 * need / (lead_ceiling - need);
        }
        // The lead's block holds [from, to], so false means it left the range.
        if (!lead_cursor.skip_light_postings(search.code_weights(lead), search.length_codes(),
                                             max_weighted, to))
          return lead_cursor.doc() != kNoDoc;
      }
      const uint32_t doc = lead_cursor.doc();
      // Until the top k is full every match enters, so no bound is computed.
      const bool pruning = top.full();
      double bound = pruning ? others + frequency_bound(lead) : 0.0;
      uint32_t next = doc + 1;
      bool competes = true;
      for (size_t rank = 1; rank < terms && competes; ++rank) {
        size_t t = rarest_first[rank];
        PostingCursor& cursor = search.cursor(t);
        cursor.advance(doc);
        if (cursor.doc() != doc) {
          competes = false;
          next = cursor.doc();
          break;
        }
        if (pruning) {
          bound += frequency_bound(t) - term_bound[t];
          competes = bound * kBoundSlack > top.threshold();
        }
      }
      if (competes && search.required_phrases_hold(doc) && search.passes_filters(doc)) {
        double score = search.score(doc);
        // Phrase and exclusion checks read positions; skip them when the score cannot enter.
        bool competitive = score > 0 && (!top.full() || score > top.threshold());
        if (competitive) {
          auto match = search.match(doc);
          if (match.all_groups && !match.excluded)
            top.offer(Scored{score, uint64_t{search.base()} + doc, segment_index, doc, true});
        }
      }
      if (next == kNoDoc) return false;
      lead_cursor.advance(next);
    }
    return lead_cursor.doc() != kNoDoc;
  };
  // Until the top k is full every match enters: a plain intersection, computing no bounds
  // (conjunctions of rarer words, most of them empty, never fill it).
  if (!scan(0, kNoDoc - 1, true)) return;
  uint32_t start = lead_cursor.doc();
  while (true) {
    double window_bound = 0;
    uint32_t window_end = kNoDoc;
    for (size_t t = 0; t < terms; ++t) {
      // A term every match needs has no posting left: no more matches.
      if (search.cursor(t).doc() == kNoDoc) return;
      uint32_t last = search.cursor(t).shallow_advance(start);
      if (last == kNoDoc) return;
      block[t] = &search.cached_block(t, last);
      term_bound[t] = block[t]->bound;
      window_bound += term_bound[t];
      window_end = std::min(window_end, last);
    }
    bool can_enter = !top.full() || window_bound * kBoundSlack > top.threshold();
    if (can_enter && !scan(start, window_end, false)) return;
    if (window_end == kNoDoc) return;
    lead_cursor.advance(window_end + 1);
    if (lead_cursor.doc() == kNoDoc) return;
    start = lead_cursor.doc();
  }
}

// top_some_groups' scratch for search_window, reused from window to window.
struct WindowState {
  std::vector<double> bound;  // by term: its block bound in the current window
  std::vector<size_t> order;  // the terms by that bound, smallest first
};

// Block-max MaxScore over the window from `start` to the nearest block end of any term, which
// it returns (kNoDoc when no term has a later block). Within it each term's block bound holds,
// so the terms are partitioned by those: the weakest ones whose bounds together cannot beat
// the threshold only get probed, the others propose candidates. A candidate proposed by one
// term alone is first passed over by that term's tight loop unless its frequencies, with
// every other term's block bound, can enter; skipping it there is safe even where another
// term proposes the same document later, as the document cannot enter at all.
template <typename Consider>
uint32_t search_window(SegmentSearch& search, const std::vector<size_t>& terms, uint32_t start,
                       TopK& top, WindowState& window, Consider& consider) {
  std::vector<double>& bound = window.bound;
  uint32_t window_end = kNoDoc;
  double total = 0;
  for (size_t t : terms) {
    bound[t] = search.block_bound(t, start);
    total += bound[t];
    window_end = std::min(window_end, search.cursor(t).shallow_last_doc());
  }
  if (total * kBoundSlack <= top.threshold()) return window_end;
  std::vector<size_t>& order = window.order;
  order.assign(terms.begin(), terms.end());
  std::sort(order.begin(), order.end(), [&](size_t a, size_t b) { return bound[a] < bound[b]; });
  const size_t count = order.size();
  size_t essential = 0;  // order[essential..count) propose candidates
  double rest = 0;       // summed bounds of order[0..essential)
  auto update_essential = [&] {
    while (essential < count && (rest + bound[order[essential]]) * kBoundSlack <= top.threshold())
      rest += bound[order[essential++]];
  };
  update_essential();
  for (size_t i = essential; i < count; ++i) search.cursor(order[i]).advance(start);
  while (essential < count) {
    uint32_t doc = kNoDoc;
    size_t on_doc = 0;
    size_t first_on_doc = 0;
    for (size_t i = essential; i < count; ++i) {
      uint32_t at = search.cursor(order[i]).doc();
      if (at < doc) {
        doc = at;
        on_doc = 1;
        first_on_doc = order[i];
      } else if (at == doc) {
        ++on_doc;
      }
    }
    if (doc == kNoDoc || doc > window_end) break;
    if (on_doc == 1) {
      double need = top.threshold() / kBoundSlack - (total - bound[first_on_doc]);
      if (search.skip_weak_postings(first_on_doc, window_end, need) != doc) continue;
    }
    // Block bounds of the probed terms, frequency bounds of the proposing ones; then the
    // probed terms swap theirs for frequency bounds, largest first, until it cannot enter.
    double candidate_bound = rest;
    for (size_t i = essential; i < count; ++i) {
      size_t t = order[i];
      if (search.cursor(t).doc() == doc)
        candidate_bound += std::min(search.cursor_frequency_bound(t), bound[t]);
    }
    bool competes = candidate_bound * kBoundSlack > top.threshold();
    for (size_t i = essential; i-- > 0 && competes;) {
      size_t t = order[i];
      search.cursor(t).advance(doc);
      double frequency = search.cursor(t).doc() == doc
                             ? std::min(search.cursor_frequency_bound(t), bound[t])
                             : 0.0;
      candidate_bound += frequency - bound[t];
      competes = candidate_bound * kBoundSlack > top.threshold();
    }
    if (competes) {
      consider(doc);
      update_essential();
    }
    for (size_t i = essential; i < count; ++i)
      if (search.cursor(order[i]).doc() == doc) search.cursor(order[i]).next();
  }
  return window_end;
}

// Tier 2: documents satisfying some groups (and every strict one), by block-max MaxScore.
// Terms sorted by their list maxima; the smallest ones whose summed maxima cannot beat the
// threshold are non-essential: they never propose candidates. Once the top k is full the
// essential terms' next candidate opens a window up to the nearest block end of any term, in
// which every term's block bound holds: there the terms are partitioned again by those
// bounds (see search_window), so a common word whose block is weak stops proposing
// candidates. With `full_matches_too` it is the one tier of a plain ranking
// (SearchOptions::all_words_first = false) and takes every match.
void top_some_groups(SegmentSearch& search, size_t segment_index, TopK& top,
                     bool full_matches_too) {
  std::vector<size_t> terms;
  for (size_t t = 0; t < search.term_count(); ++t)
    if (search.cursor(t).doc() != kNoDoc) terms.push_back(t);
  std::vector<double> list_max(search.term_count(), 0.0);
  for (size_t t : terms) list_max[t] = search.max_score(t);
  std::sort(terms.begin(), terms.end(),
            [&](size_t a, size_t b) { return list_max[a] < list_max[b]; });
  const size_t count = terms.size();
  std::vector<double> prefix_max(count + 1, 0.0);
  for (size_t i = 0; i < count; ++i) prefix_max[i + 1] = prefix_max[i] + list_max[terms[i]];
  size_t essential = 0;  // terms[essential..count) propose candidates
  auto update_essential = [&] {
    double threshold = top.threshold();
    while (essential < count && prefix_max[essential + 1] * kBoundSlack <= threshold) ++essential;
  };
  auto consider = [&](uint32_t doc) {
    for (size_t t : terms) search.cursor(t).advance(doc);
    if (!search.passes_filters(doc)) return;
    double score = search.score(doc);
    if (score <= 0 || (top.full() && score <= top.threshold())) return;
    auto match = search.match(doc);
    if ((full_matches_too || !match.all_groups) && match.strict_groups && !match.excluded) {
      top.offer(Scored{score, uint64_t{search.base()} + doc, segment_index, doc, match.all_groups});
      update_essential();
    }
  };
  WindowState window;
  window.bound.resize(search.term_count(), 0.0);
  update_essential();
  while (essential < count) {
    uint32_t doc = kNoDoc;
    for (size_t i = essential; i < count; ++i) doc = std::min(doc, search.cursor(terms[i]).doc());
    if (doc == kNoDoc) return;
    if (!top.full()) {
      consider(doc);
      for (size_t i = essential; i < count; ++i)
        if (search.cursor(terms[i]).doc() == doc) search.cursor(terms[i]).next();
      continue;
    }
    uint32_t window_end = search_window(search, terms, doc, top, window, consider);
    if (window_end == kNoDoc) return;
    for (size_t i = essential; i < count; ++i) search.cursor(terms[i]).advance(window_end + 1);
  }
}

// Scores of real matches for a plain ranking's floor (TopK::set_floor), kept in `best` (the k
// highest): the first `budget` postings of the term with the highest list bound, usually the
// rarest, each scored in full. Without it a long query's MaxScore starts from threshold 0, so
// every term is essential and proposes candidates until k matches were seen.
void collect_seed_scores(SegmentSearch& search, size_t k, size_t budget,
                         std::priority_queue<double, std::vector<double>, std::greater<>>& best) {
  size_t strongest = SIZE_MAX;
  double strongest_max = 0;
  for (size_t t = 0; t < search.term_count(); ++t) {
    if (search.cursor(t).doc() == kNoDoc) continue;
    double max = search.max_score(t);
    if (max > strongest_max) {
      strongest_max = max;
      strongest = t;
    }
  }
  if (strongest == SIZE_MAX) return;
  PostingCursor& lead = search.cursor(strongest);
  for (size_t n = 0; n < budget && lead.doc() != kNoDoc; ++n, lead.next()) {
    uint32_t doc = lead.doc();
    if (!search.passes_filters(doc)) continue;
    for (size_t t = 0; t < search.term_count(); ++t) search.cursor(t).advance(doc);
    double score = search.score(doc);
    if (score <= 0) continue;
    auto match = search.match(doc);
    if (!match.strict_groups || match.excluded) continue;
    if (best.size() < k) {
      best.push(score);
    } else if (score > best.top()) {
      best.pop();
      best.push(score);
    }
  }
}

// Every match, scored: the oracle, and the path for date/upvote sorting and facets.
void all_matches(SegmentSearch& search, size_t segment_index, const Plan& plan,
                 std::vector<Scored>& first_tier, std::vector<Scored>& second_tier) {
  const Segment& segment = search.segment();
  if (plan.groups.empty()) {
    for (uint32_t doc = 0; doc < segment.doc_count(); ++doc) {
      if (!search.passes_filters(doc) || search.match(doc).excluded) continue;
      first_tier.push_back(Scored{0, uint64_t{search.base()} + doc, segment_index, doc, true});
    }
    return;
  }
  while (true) {
    uint32_t doc = kNoDoc;
    for (size_t t = 0; t < search.term_count(); ++t) doc = std::min(doc, search.cursor(t).doc());
    if (doc == kNoDoc) return;
    if (search.passes_filters(doc)) {
      double score = search.score(doc);
      auto match = search.match(doc);
      if (!match.excluded && match.strict_groups && score > 0) {
        Scored entry{score, uint64_t{search.base()} + doc, segment_index, doc, match.all_groups};
        (match.all_groups ? first_tier : second_tier).push_back(entry);
      }
    }
    for (size_t t = 0; t < search.term_count(); ++t)
      if (search.cursor(t).doc() == doc) search.cursor(t).next();
  }
}

// Every match counted into `counter`, none scored: the facets and total of a top-k search.
// The same matches as all_matches() takes: passing the filters, a term present in its scope
// (a score above 0), every strict group satisfied, nothing excluded.
uint64_t count_matches(SegmentSearch& search, size_t segment_index, FacetCounter& counter) {
  uint64_t matches = 0;
  while (true) {
    uint32_t doc = kNoDoc;
    for (size_t t = 0; t < search.term_count(); ++t) doc = std::min(doc, search.cursor(t).doc());
    if (doc == kNoDoc) return matches;
    if (search.passes_filters(doc) && search.mark_present(doc)) {
      auto match = search.match(doc);
      if (!match.excluded && match.strict_groups) {
        counter.count(segment_index, doc);
        ++matches;
      }
    }
    for (size_t t = 0; t < search.term_count(); ++t)
      if (search.cursor(t).doc() == doc) search.cursor(t).next();
  }
}

int64_t sort_key(const Segment& segment, uint32_t doc, Sort sort) {
  return sort == Sort::kUpvotes ? segment.upvotes(doc) : segment.date(doc);
}

// Sorting by date or upvotes without scoring every match: one unscored walk takes each match's
// tier and key (and counts the facets), then only the matches that can be shown are scored:
// the first `wanted` by tier and key, and every match tied with the last of them. Fresh
// cursors score them in doc order. The order is the exhaustive path's: tier (all words first,
// unless options.all_words_first is false), key, score, doc.
std::vector<Scored> top_by_key(const index::Snapshot& snapshot, const Plan& plan,
                               const SearchOptions& options, size_t wanted, FacetCounter* counter,
                               SearchResults& results) {
  struct Candidate {
    int64_t key = 0;
    Scored entry;
    bool later_tier = false;
  };
  auto ahead = [](const Candidate& a, const Candidate& b) {
    if (a.later_tier != b.later_tier) return b.later_tier;
    return a.key > b.key;
  };
  std::vector<Candidate> candidates;
  uint32_t base = 0;
  for (size_t s = 0; s < snapshot.segments().size(); ++s) {
    SegmentSearch search(plan, snapshot.segments()[s], base);
    const Segment& segment = search.segment();
    while (true) {
      uint32_t doc = kNoDoc;
      for (size_t t = 0; t < search.term_count(); ++t) doc = std::min(doc, search.cursor(t).doc());
      if (doc == kNoDoc) break;
      if (search.passes_filters(doc) && search.mark_present(doc)) {
        auto match = search.match(doc);
        if (!match.excluded && match.strict_groups) {
          if (counter) counter->count(s, doc);
          candidates.push_back({sort_key(segment, doc, options.sort),
                                Scored{0, uint64_t{base} + doc, s, doc, match.all_groups},
                                options.all_words_first && !match.all_groups});
        }
      }
      for (size_t t = 0; t < search.term_count(); ++t)
        if (search.cursor(t).doc() == doc) search.cursor(t).next();
    }
    base += segment.doc_count();
  }
  results.total = candidates.size();
  if (wanted == 0) return {};
  if (candidates.size() > wanted) {
    auto last_shown = candidates.begin() + static_cast<std::ptrdiff_t>(wanted - 1);
    std::nth_element(candidates.begin(), last_shown, candidates.end(), ahead);
    Candidate boundary = *last_shown;
    candidates.erase(std::partition(candidates.begin(), candidates.end(),
                                    [&](const Candidate& c) { return !ahead(boundary, c); }),
                     candidates.end());
  }
  std::sort(candidates.begin(), candidates.end(), [](const Candidate& a, const Candidate& b) {
    return a.entry.global_doc < b.entry.global_doc;
  });
  base = 0;
  size_t next = 0;
  for (size_t s = 0; s < snapshot.segments().size() && next < candidates.size(); ++s) {
    SegmentSearch search(plan, snapshot.segments()[s], base);
    for (; next < candidates.size() && candidates[next].entry.segment == s; ++next) {
      uint32_t doc = candidates[next].entry.doc;
      for (size_t t = 0; t < search.term_count(); ++t) search.cursor(t).advance(doc);
      candidates[next].entry.score = search.score(doc);
    }
    results.scored_documents += search.scored_documents();
    base += snapshot.segments()[s].segment->doc_count();
  }
  std::sort(candidates.begin(), candidates.end(), [&](const Candidate& a, const Candidate& b) {
    if (ahead(a, b) || ahead(b, a)) return ahead(a, b);
    return better(a.entry, b.entry);
  });
  std::vector<Scored> ranked;
  for (size_t i = 0; i < candidates.size() && i < wanted; ++i)
    ranked.push_back(candidates[i].entry);
  return ranked;
}

std::string format_day(int32_t days) {
  if (days == index::kUnknownDate) return "";
  return format_date(std::chrono::sys_days{std::chrono::days{days}});
}

Hit make_hit(const index::Snapshot& snapshot, const Scored& entry) {
  const Segment& segment = *snapshot.segments()[entry.segment].segment;
  Hit hit;
  hit.paper_id = std::string(segment.paper_id(entry.doc));
  hit.score = entry.score;
  hit.date = format_day(segment.date(entry.doc));
  hit.upvotes = segment.upvotes(entry.doc);
  hit.matched_all = entry.matched_all;
  return hit;
}

}  // namespace

Result<SearchResults> search(const index::Snapshot& snapshot, const Query& query,
                             const SearchOptions& options) {
  SearchResults results;
  results.notes = query.notes;
  if (query.arxiv_id) {
    if (auto location = snapshot.find_paper(*query.arxiv_id)) {
      results.jumped = true;
      results.total = 1;
      if (options.offset == 0 && options.limit > 0)
        results.hits.push_back(
            make_hit(snapshot, Scored{0, 0, location->segment, location->doc, true}));
      return results;
    }
  }
  if (query.groups.empty() && !query.has_filters()) {
    results.total = 0;
    if (results.notes.empty()) results.notes.push_back("the query has no words to search for");
    return results;
  }
  Plan plan = make_plan(snapshot, query, options);
  size_t wanted = options.offset + options.limit;
  // Partial matches must still satisfy every strict group, so there are none when all groups
  // are strict (a quoted phrase alone, say): the all-words tier is then the whole ranking.
  const bool all_strict = std::all_of(plan.groups.begin(), plan.groups.end(),
                                      [](const ResolvedGroup& group) { return group.strict; });
  // Facets and sorting by a key do not need every match scored (count_matches(),
  // top_by_key()).
  bool need_everything = options.exhaustive || plan.groups.empty();
  std::vector<Scored> ranked;
  if (need_everything) {
    std::vector<Scored> first_tier;
    std::vector<Scored> second_tier;
    uint32_t base = 0;
    for (size_t s = 0; s < snapshot.segments().size(); ++s) {
      SegmentSearch segment_search(plan, snapshot.segments()[s], base);
      all_matches(segment_search, s, plan, first_tier, second_tier);
      results.scored_documents += segment_search.scored_documents();
      base += snapshot.segments()[s].segment->doc_count();
    }
    results.total = first_tier.size() + second_tier.size();
    if (options.facets) {
      FacetCounter counter(snapshot);
      for (const std::vector<Scored>* tier : {&first_tier, &second_tier})
        for (const Scored& entry : *tier) counter.count(entry.segment, entry.doc);
      counter.write(results);
    }
    // Only the first `wanted` matches are shown: order those, not every match.
    auto order = [&](std::vector<Scored>& tier, size_t needed) {
      auto key = [&](const Scored& entry) {
        return sort_key(*snapshot.segments()[entry.segment].segment, entry.doc, options.sort);
      };
      bool by_relevance = options.sort == Sort::kRelevance && !plan.groups.empty();
      auto shown = tier.begin() + static_cast<std::ptrdiff_t>(std::min(needed, tier.size()));
      std::partial_sort(tier.begin(), shown, tier.end(), [&](const Scored& a, const Scored& b) {
        if (!by_relevance) {
          int64_t key_a = key(a);
          int64_t key_b = key(b);
          if (key_a != key_b) return key_a > key_b;
        }
        return better(a, b);
      });
      tier.erase(shown, tier.end());
    };
    if (!options.all_words_first) {
      first_tier.insert(first_tier.end(), second_tier.begin(), second_tier.end());
      second_tier.clear();
    }
    order(first_tier, wanted);
    order(second_tier, wanted - first_tier.size());
    ranked = std::move(first_tier);
    ranked.insert(ranked.end(), second_tier.begin(), second_tier.end());
  } else if (options.sort != Sort::kRelevance) {
    std::optional<FacetCounter> counter;
    if (options.facets) counter.emplace(snapshot);
    ranked = top_by_key(snapshot, plan, options, wanted, counter ? &*counter : nullptr, results);
    if (counter) counter->write(results);
  } else if (wanted == 0) {
    // Only the total and the facets were asked for (counted below): nothing to rank.
  } else if (!options.all_words_first && !all_strict) {
    TopK top(wanted);
    std::priority_queue<double, std::vector<double>, std::greater<>> seeds;
    uint32_t base = 0;
    for (size_t s = 0; s < snapshot.segments().size(); ++s) {
      SegmentSearch seeding(plan, snapshot.segments()[s], base);
      collect_seed_scores(seeding, wanted, 8 * wanted, seeds);
      results.scored_documents += seeding.scored_documents();
      base += snapshot.segments()[s].segment->doc_count();
    }
    if (seeds.size() == wanted) top.set_floor(seeds.top());
    base = 0;
    for (size_t s = 0; s < snapshot.segments().size(); ++s) {
      SegmentSearch segment_search(plan, snapshot.segments()[s], base);
      top_some_groups(segment_search, s, top, true);
      results.scored_documents += segment_search.scored_documents();
      base += snapshot.segments()[s].segment->doc_count();
    }
    ranked = top.sorted();
  } else {
    TopK first(wanted);
    bool single_alternatives =
        std::all_of(plan.groups.begin(), plan.groups.end(),
                    [](const ResolvedGroup& group) { return group.alternatives.size() == 1; });
    uint32_t base = 0;
    for (size_t s = 0; s < snapshot.segments().size(); ++s) {
      SegmentSearch segment_search(plan, snapshot.segments()[s], base);
      if (single_alternatives)
        top_conjunction(segment_search, s, plan, first);
      else
        top_all_groups(segment_search, s, plan, first);
      results.scored_documents += segment_search.scored_documents();
      base += snapshot.segments()[s].segment->doc_count();
    }
    ranked = first.sorted();
    if (ranked.size() < wanted && !all_strict) {
      TopK second(wanted - ranked.size());
      base = 0;
      for (size_t s = 0; s < snapshot.segments().size(); ++s) {
        SegmentSearch segment_search(plan, snapshot.segments()[s], base);
        top_some_groups(segment_search, s, second, false);
        results.scored_documents += segment_search.scored_documents();
        base += snapshot.segments()[s].segment->doc_count();
      }
      auto rest = second.sorted();
      ranked.insert(ranked.end(), rest.begin(), rest.end());
    }
  }
  if (options.facets && !need_everything && options.sort == Sort::kRelevance) {
    FacetCounter counter(snapshot);
    uint64_t matches = 0;
    uint32_t base = 0;
    for (size_t s = 0; s < snapshot.segments().size(); ++s) {
      SegmentSearch segment_search(plan, snapshot.segments()[s], base);
      matches += count_matches(segment_search, s, counter);
      base += snapshot.segments()[s].segment->doc_count();
    }
    results.total = matches;
    counter.write(results);
  }
  for (size_t i = options.offset; i < ranked.size() && i < wanted; ++i)
    results.hits.push_back(make_hit(snapshot, ranked[i]));
  return results;
}

Result<SearchResults> search(const index::Snapshot& snapshot, std::string_view query_text,
                             const SearchOptions& options) {
  auto query = parse_query(query_text);
  if (!query) return fail(query.error().message);
  return search(snapshot, *query, options);
}

}  // namespace paperboy::search
