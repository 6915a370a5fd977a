// "For you": papers ranked for one user from what they upvoted and collected.
//
// As arxiv-sanity does, a linear SVM is trained per request: the liked papers are the
// positives, a random sample of the recent feed the negatives (classes weighted to balance),
// over tf-idf features of title + abstract (words and word pairs, idf from the papers the model
// sees) joined with the paper's embedding when vectors exist. Candidates are the recent feed
// plus the nearest neighbours of each liked paper in the vector index. Each result names the
// liked paper it is most similar to, as the reason people see.
//
//   recommend::Recommender recommender(store, semantic);  // semantic may be null
//   auto likes = recommend::likes_of(community, user.id);
//   auto picks = recommender.recommend(*likes, {.limit = 20});
//   for (auto& pick : *picks) ... pick.paper.title, pick.reason ("like «Mamba» that you upvoted")
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/paper.h"
#include "core/result.h"
#include "hybrid/hybrid.h"
#include "store/community.h"
#include "store/store.h"

namespace paperboy::recommend {

// A paper the user showed they like, and where: "upvoted", or the collection's name.
struct Like {
  std::string paper_id;
  std::string collection;  // empty for an upvote
};

// The user's upvotes (newest first), then the items of their collections, each paper once,
// at most `limit` of them.
Result<std::vector<Like>> likes_of(store::CommunityStore& community, int64_t user_id,
                                   size_t limit = 500);

// How candidates are scored. kLinearSvm is the recommender; the others are the baselines the
// evaluation compares it with (docs/benchmarks.md).
enum class Method {
  kLinearSvm,        // per-user linear SVM over tf-idf + embedding features
  kNearestNeighbor,  // highest similarity to any liked paper
  kRecency,          // newest first
};

struct Options {
  size_t limit = 20;
  // The feed days candidates come from (ISO dates, inclusive); empty: the `recent_days` feed
  // days up to the latest one.
  std::string first_day;
  std::string last_day;
  int recent_days = 7;
  size_t neighbors_per_like = 10;  // candidates taken from the vector index for each liked paper
  size_t negatives = 400;          // random feed papers the model learns as "not liked"
  int negative_days = 120;         // the feed days negatives are drawn from, back from last_day
  double svm_cost = 1.0;           // C of the SVM; classes are weighted to balance
  double embedding_weight = 1.0;   // scale of the embedding block against the tf-idf block
  uint64_t seed = 20261129;        // negatives are sampled with it, so results are repeatable
  Method method = Method::kLinearSvm;
};

struct Recommendation {
  Paper paper;
  double score = 0;     // higher is better; comparable within one answer only
  std::string like_id;  // the liked paper this one is most similar to
  std::string like_title;
  std::string reason;  // "like «Mamba» that you upvoted", "like «X» in your collection «Y»"
};

// Scores given papers against given likes: the part shared by recommend(), digests and the
// evaluation. `likes` and `liked` are parallel (the store's papers for each like).
struct Training {
  std::vector<Like> likes;
  std::vector<Paper> liked;
  std::vector<Paper> negatives;
};

class Recommender {
 public:
  // `semantic` may be null: features and similarities are then tf-idf only, and no neighbours
  // join the candidates.
  Recommender(store::Store& papers, std::shared_ptr<const hybrid::SemanticIndex> semantic);

  // The best `options.limit` papers for someone with these likes, best first; liked papers
  // are never recommended. Empty when `likes` is empty or none of them is in the store.
  Result<std::vector<Recommendation>> recommend(const std::vector<Like>& likes,
                                                const Options& options);

  // Loads the liked papers (likes missing from the store are left out) and samples
  // options.negatives papers from the options.negative_days feed days before `first_day` (an
  // ISO date: where the candidates start, so they are not learnt as dislikes), or from the
  // days from `first_day` on when the feed holds none before it.
  Result<Training> training(const std::vector<Like>& likes, const std::string& first_day,
                            const Options& options);

  // Ranks `candidates` (liked ones are skipped), best first, at most options.limit.
  std::vector<Recommendation> rank(const Training& training, std::vector<Paper> candidates,
                                   const Options& options) const;

 private:
  Result<std::vector<Paper>> neighbors(const std::vector<Paper>& liked, size_t per_like);

  store::Store& papers_;
  std::shared_ptr<const hybrid::SemanticIndex> semantic_;
};

// "like «Title» that you upvoted" / "like «Title» in your collection «Name»".
std::string reason_for(const Like& like, std::string_view liked_title);

}  // namespace paperboy::recommend
