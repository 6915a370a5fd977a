#include "recommend/recommend.h"

#include <linear.h>

#include <algorithm>
#include <cmath>
#include <map>
#include <mutex>
#include <random>
#include <set>
#include <unordered_map>

#include "core/date.h"
#include "embed/embedder.h"
#include "feed/feed.h"
#include "text/analyzer.h"

namespace paperboy::recommend {
namespace {

using std::chrono::days;

// A sparse vector: (feature, weight) by ascending feature.
using SparseVector = std::vector<std::pair<int, double>>;

// One paper as the model sees it.
struct Features {
  SparseVector tfidf;            // unit length, or empty
  std::vector<float> embedding;  // unit length, or empty without vectors
};

// Terms of title + abstract: the analyser's words and each pair of neighbouring words, which
// carry phrases such as "state space" that single words lose.
std::vector<std::string> terms_of(const Paper& paper) {
  std::vector<std::string> terms;
  std::string previous;
  uint32_t previous_position = 0;
  for (const text::Token& token : text::analyze(paper.title + "\n" + paper.abstract)) {
    if (token.overlay) continue;
    if (!previous.empty() && token.position == previous_position + 1) {
      terms.push_back(previous + " " + token.term);
    }
    terms.push_back(token.term);
    previous = token.term;
    previous_position = token.position;
  }
  return terms;
}

// tf-idf vectors (sublinear tf, smoothed idf, unit length) over the terms of `papers`. Terms of a
// single paper are dropped: they cannot tell two papers alike.
std::vector<SparseVector> tfidf_vectors(const std::vector<const Paper*>& papers, int* dimension) {
  std::vector<std::map<std::string, int>> counts(papers.size());
  std::unordered_map<std::string, int> document_frequency;
  for (size_t i = 0; i < papers.size(); ++i) {
    for (std::string& term : terms_of(*papers[i])) ++counts[i][std::move(term)];
    for (const auto& [term, count] : counts[i]) ++document_frequency[term];
  }
  std::unordered_map<std::string, int> feature_of;
  std::vector<double> idf;
  for (const auto& [term, frequency] : document_frequency) {
    if (frequency < 2) continue;
    feature_of.emplace(term, static_cast<int>(idf.size()));
    idf.push_back(std::log((1.0 + static_cast<double>(papers.size())) / (1.0 + frequency)) + 1.0);
  }
  *dimension = static_cast<int>(idf.size());
  std::vector<SparseVector> vectors(papers.size());
  for (size_t i = 0; i < papers.size(); ++i) {
    SparseVector& vector = vectors[i];
    double norm = 0;
    for (const auto& [term, count] : counts[i]) {
      auto found = feature_of.find(term);
      if (found == feature_of.end()) continue;
      double weight = (1.0 + std::log(count)) * idf[static_cast<size_t>(found->second)];
      vector.emplace_back(found->second, weight);
      norm += weight * weight;
    }
    std::sort(vector.begin(), vector.end());
    norm = std::sqrt(norm);
    for (auto& entry : vector) entry.second /= norm;
  }
  return vectors;
}

double sparse_dot(const SparseVector& a, const SparseVector& b) {
  double sum = 0;
  size_t i = 0, j = 0;
  while (i < a.size() && j < b.size()) {
    if (a[i].first < b[j].first) {
      ++i;
    } else if (b[j].first < a[i].first) {
      ++j;
    } else {
      sum += a[i++].second * b[j++].second;
    }
  }
  return sum;
}

double dense_dot(const std::vector<float>& a, const std::vector<float>& b) {
  if (a.empty() || a.size() != b.size()) return 0;
  double sum = 0;
  for (size_t i = 0; i < a.size(); ++i) sum += static_cast<double>(a[i]) * b[i];
  return sum;
}

// How alike two papers are: the cosine of their embeddings when both have one (it sees
// synonyms), else of their tf-idf vectors.
double similarity(const Features& a, const Features& b) {
  if (!a.embedding.empty() && !b.embedding.empty()) return dense_dot(a.embedding, b.embedding);
  return sparse_dot(a.tfidf, b.tfidf);
}

// liblinear prints progress to stdout unless told otherwise; once per process.
void silence_liblinear() {
  static std::once_flag once;
  std::call_once(once, [] { set_print_string_function([](const char*) {}); });
}

// liblinear's input row: tf-idf features from 1, the embedding after them, then the bias
// feature, ended by index -1.
std::vector<feature_node> liblinear_row(const Features& features, int tfidf_dimension,
                                        int embedding_dimension, double embedding_weight) {
  std::vector<feature_node> row;
  row.reserve(features.tfidf.size() + features.embedding.size() + 2);
  for (const auto& [feature, weight] : features.tfidf) row.push_back({feature + 1, weight});
  for (size_t i = 0; i < features.embedding.size(); ++i) {
    row.push_back({tfidf_dimension + 1 + static_cast<int>(i),
                   embedding_weight * static_cast<double>(features.embedding[i])});
  }
  row.push_back({tfidf_dimension + embedding_dimension + 1, 1.0});
  row.push_back({-1, 0});
  return row;
}

// Decision values of a linear SVM trained on positives against negatives, for `scored`.
std::vector<double> svm_scores(const std::vector<const Features*>& positives,
                               const std::vector<const Features*>& negatives,
                               const std::vector<const Features*>& scored, int tfidf_dimension,
                               int embedding_dimension, const Options& options) {
  silence_liblinear();
  std::vector<std::vector<feature_node>> rows;
  std::vector<double> labels;
  for (const Features* features : positives) {
    rows.push_back(
        liblinear_row(*features, tfidf_dimension, embedding_dimension, options.embedding_weight));
    labels.push_back(+1);
  }
  for (const Features* features : negatives) {
    rows.push_back(
        liblinear_row(*features, tfidf_dimension, embedding_dimension, options.embedding_weight));
    labels.push_back(-1);
  }
  std::vector<feature_node*> row_pointers;
  for (auto& row : rows) row_pointers.push_back(row.data());
  problem training{};
  training.l = static_cast<int>(rows.size());
  training.n = tfidf_dimension + embedding_dimension + 1;
  training.y = labels.data();
  training.x = row_pointers.data();
  training.bias = 1;
  // Few positives against many negatives: weight the positives up so the classes count alike.
  int weighted_label = +1;
  double positive_weight =
      static_cast<double>(negatives.size()) / static_cast<double>(positives.size());
  parameter settings{};
  settings.solver_type = L2R_L2LOSS_SVC;  // the primal solver: deterministic, unlike the dual
  settings.eps = 0.01;
  settings.C = options.svm_cost;
  settings.nr_weight = 1;
  settings.weight_label = &weighted_label;
  settings.weight = &positive_weight;
  settings.p = 0.1;
  model* trained = train(&training, &settings);
  int first_label = 0;
  get_labels(trained, &first_label);
  const double sign = first_label == +1 ? 1.0 : -1.0;
  std::vector<double> scores;
  scores.reserve(scored.size());
  for (const Features* features : scored) {
    auto row =
        liblinear_row(*features, tfidf_dimension, embedding_dimension, options.embedding_weight);
    double decision = 0;
    predict_values(trained, row.data(), &decision);
    scores.push_back(sign * decision);
  }
  free_and_destroy_model(&trained);
  return scores;
}

Result<std::string> latest_day(store::Store& papers) {
  auto latest = feed::latest_feed_day(papers, today());
  if (!latest) return std::unexpected(latest.error());
  return latest->value_or("");
}

}  // namespace

std::string reason_for(const Like& like, std::string_view liked_title) {
  if (like.collection.empty()) return "like «" + std::string(liked_title) + "» that you upvoted";
  return "like «" + std::string(liked_title) + "» in your collection «" + like.collection + "»";
}

Result<std::vector<Like>> likes_of(store::CommunityStore& community, int64_t user_id,
                                   size_t limit) {
  std::vector<Like> likes;
  std::set<std::string> seen;
  auto voted = community.votes_of(user_id, limit);
  if (!voted) return std::unexpected(voted.error());
  for (std::string& id : *voted) {
    if (seen.insert(id).second) likes.push_back({std::move(id), ""});
  }
  auto collections = community.collections_of(user_id);
  if (!collections) return std::unexpected(collections.error());
  for (const store::Collection& collection : *collections) {
    auto items = community.collection_items(collection.id);
    if (!items) return std::unexpected(items.error());
    for (store::CollectionItem& item : *items) {
      if (likes.size() >= limit) return likes;
      if (seen.insert(item.paper_id).second) likes.push_back({item.paper_id, collection.name});
    }
  }
  return likes;
}

Recommender::Recommender(store::Store& papers,
                         std::shared_ptr<const hybrid::SemanticIndex> semantic)
    : papers_(papers), semantic_(std::move(semantic)) {}

Result<Training> Recommender::training(const std::vector<Like>& likes, const std::string& first_day,
                                       const Options& options) {
  Training training;
  std::set<std::string> liked_ids;
  for (const Like& like : likes) {
    auto found = papers_.find(like.paper_id);
    if (!found) return std::unexpected(found.error());
    if (!*found || !liked_ids.insert(paper_id(**found)).second) continue;
    training.likes.push_back(like);
    training.liked.push_back(std::move(**found));
  }
  if (training.liked.empty() || options.negatives == 0) return training;

  auto all_days = papers_.feed_days();
  if (!all_days) return std::unexpected(all_days.error());
  auto start = parse_date(first_day);
  if (!start) return fail("first_day: expected YYYY-MM-DD, got \"" + first_day + "\"");
  const std::string earliest = format_date(*start - days(options.negative_days));
  std::vector<std::string> pool;
  for (const std::string& day : *all_days) {
    if (day >= earliest && day < first_day) pool.push_back(day);
  }
  if (pool.empty()) {
    for (const std::string& day : *all_days) {
      if (day >= first_day) pool.push_back(day);
    }
  }
  // Random days, then random papers of each, so a large feed is never loaded whole.
  std::mt19937_64 random(options.seed);
  std::shuffle(pool.begin(), pool.end(), random);
  const size_t per_day = std::max<size_t>(1, (options.negatives + 19) / 20);
  for (const std::string& day : pool) {
    if (training.negatives.size() >= options.negatives) break;
    auto papers = papers_.feed_papers(day, day);
    if (!papers) return std::unexpected(papers.error());
    std::sort(papers->begin(), papers->end(),
              [](const Paper& a, const Paper& b) { return paper_id(a) < paper_id(b); });
    std::shuffle(papers->begin(), papers->end(), random);
    size_t taken = 0;
    for (Paper& paper : *papers) {
      if (taken == per_day || training.negatives.size() >= options.negatives) break;
      if (liked_ids.contains(paper_id(paper))) continue;
      training.negatives.push_back(std::move(paper));
      ++taken;
    }
  }
  return training;
}

Result<std::vector<Paper>> Recommender::neighbors(const std::vector<Paper>& liked,
                                                  size_t per_like) {
  std::vector<Paper> found;
  if (!semantic_ || per_like == 0) return found;
  std::set<std::string> seen;
  for (const Paper& paper : liked) {
    auto near = hybrid::related(*semantic_, paper_id(paper), per_like);
    if (!near) continue;  // a liked paper without a vector has no neighbours
    for (const vector::Neighbor& neighbor : *near) {
      if (!seen.insert(neighbor.paper_id).second) continue;
      auto stored = papers_.find(neighbor.paper_id);
      if (!stored) return std::unexpected(stored.error());
      if (*stored) found.push_back(std::move(**stored));
    }
  }
  return found;
}

Result<std::vector<Recommendation>> Recommender::recommend(const std::vector<Like>& likes,
                                                           const Options& options) {
  if (likes.empty()) return std::vector<Recommendation>();
  std::string last_day = options.last_day;
  if (last_day.empty()) {
    auto latest = latest_day(papers_);
    if (!latest) return std::unexpected(latest.error());
    last_day = *latest;
  }
  std::string first_day = options.first_day;
  if (first_day.empty() && !last_day.empty()) {
    auto last = parse_date(last_day);
    if (!last) return fail("last_day: expected YYYY-MM-DD, got \"" + last_day + "\"");
    first_day = format_date(*last - days(std::max(options.recent_days, 1) - 1));
  }
  std::vector<Paper> candidates;
  if (!last_day.empty()) {
    auto recent = papers_.feed_papers(first_day, last_day);
    if (!recent) return std::unexpected(recent.error());
    candidates = std::move(*recent);
  }
  auto learnt = training(likes, first_day.empty() ? "9999-12-31" : first_day, options);
  if (!learnt) return std::unexpected(learnt.error());
  if (learnt->liked.empty()) return std::vector<Recommendation>();
  auto near = neighbors(learnt->liked, options.neighbors_per_like);
  if (!near) return std::unexpected(near.error());
  for (Paper& paper : *near) candidates.push_back(std::move(paper));
  return rank(*learnt, std::move(candidates), options);
}

std::vector<Recommendation> Recommender::rank(const Training& training,
                                              std::vector<Paper> candidates,
                                              const Options& options) const {
  std::vector<Recommendation> ranked;
  if (training.liked.empty()) return ranked;
  std::set<std::string> skip;
  for (const Paper& paper : training.liked) skip.insert(paper_id(paper));
  std::erase_if(candidates,
                [&](const Paper& paper) { return !skip.insert(paper_id(paper)).second; });
  if (candidates.empty()) return ranked;

  // Every paper the model sees, in one feature space: liked, negatives, candidates.
  std::vector<const Paper*> all;
  for (const Paper& paper : training.liked) all.push_back(&paper);
  for (const Paper& paper : training.negatives) all.push_back(&paper);
  for (const Paper& paper : candidates) all.push_back(&paper);
  int tfidf_dimension = 0;
  std::vector<SparseVector> tfidf = tfidf_vectors(all, &tfidf_dimension);
  std::vector<Features> features(all.size());
  int embedding_dimension = 0;
  for (size_t i = 0; i < all.size(); ++i) {
    features[i].tfidf = std::move(tfidf[i]);
    if (!semantic_) continue;
    embedding_dimension = static_cast<int>(semantic_->vectors->dimension());
    auto stored = semantic_->vectors->vector_of(paper_id(*all[i]));
    features[i].embedding =
        stored ? std::move(*stored) : semantic_->embedder->embed(embed::paper_text(*all[i]));
    double norm = std::sqrt(dense_dot(features[i].embedding, features[i].embedding));
    if (norm == 0) {
      features[i].embedding.clear();
    } else {
      for (float& value : features[i].embedding) value = static_cast<float>(value / norm);
    }
  }
  const size_t liked_count = training.liked.size();
  const size_t negative_count = training.negatives.size();
  std::vector<const Features*> positives, negatives, scored;
  for (size_t i = 0; i < liked_count; ++i) positives.push_back(&features[i]);
  for (size_t i = 0; i < negative_count; ++i) negatives.push_back(&features[liked_count + i]);
  for (size_t i = 0; i < candidates.size(); ++i)
    scored.push_back(&features[liked_count + negative_count + i]);

  // The most similar liked paper of each candidate: the reason, and the nearest-neighbour score.
  std::vector<size_t> closest(candidates.size(), 0);
  std::vector<double> best_similarity(candidates.size(), -2);
  for (size_t c = 0; c < candidates.size(); ++c) {
    for (size_t l = 0; l < liked_count; ++l) {
      double alike = similarity(*scored[c], *positives[l]);
      if (alike > best_similarity[c]) {
        best_similarity[c] = alike;
        closest[c] = l;
      }
    }
  }
  std::vector<double> scores;
  Method method = options.method;
  if (method == Method::kLinearSvm && negatives.empty()) method = Method::kNearestNeighbor;
  switch (method) {
    case Method::kLinearSvm:
      scores =
          svm_scores(positives, negatives, scored, tfidf_dimension, embedding_dimension, options);
      break;
    case Method::kNearestNeighbor:
      scores = best_similarity;
      break;
    case Method::kRecency:
      for (const Paper& paper : candidates) {
        auto entered = store::entered_feed_at(paper);
        scores.push_back(entered ? static_cast<double>(entered->time_since_epoch().count()) : 0);
      }
      break;
  }
  std::vector<size_t> order(candidates.size());
  for (size_t i = 0; i < order.size(); ++i) order[i] = i;
  std::sort(order.begin(), order.end(), [&](size_t a, size_t b) {
    if (scores[a] != scores[b]) return scores[a] > scores[b];
    return paper_id(candidates[a]) < paper_id(candidates[b]);
  });
  for (size_t i = 0; i < order.size() && ranked.size() < options.limit; ++i) {
    const size_t c = order[i];
    const size_t l = closest[c];
    Recommendation& pick = ranked.emplace_back();
    pick.score = scores[c];
    pick.like_id = paper_id(training.liked[l]);
    pick.like_title = training.liked[l].title;
    pick.reason = reason_for(training.likes[l], training.liked[l].title);
    pick.paper = std::move(candidates[c]);
  }
  return ranked;
}

}  // namespace paperboy::recommend
