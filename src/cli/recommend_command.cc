#include "cli/recommend_command.h"

#include <cstdio>
#include <nlohmann/json.hpp>

#include "hybrid/hybrid.h"
#include "recommend/recommend.h"
#include "store/community.h"
#include "store/store.h"

namespace paperboy::cli {
namespace {

int report(const Error& error) {
  std::fprintf(stderr, "paperboy recommend: %s\n", error.message.c_str());
  return kError;
}

}  // namespace

RecommendCommand::RecommendCommand(CLI::App& app) {
  command_ = app.add_subcommand(
      "recommend",
      "Papers for a user from their upvotes and collections (a per-user linear SVM over tf-idf\n"
      "and embedding features), each with the liked paper it resembles");
  command_->add_option("--user", user_, "Account name")->required();
  command_->add_option("--limit", limit_, "How many papers")
      ->capture_default_str()
      ->check(CLI::Range(1, 1000));
  command_->add_option("--days", days_, "Candidates from this many feed days up to the latest")
      ->capture_default_str()
      ->check(CLI::Range(1, 3650));
  command_
      ->add_option("--method", method_,
                   "svm (the recommender), or the baselines nearest (most similar to a "
                   "liked paper) and recency (newest first)")
      ->capture_default_str()
      ->check(CLI::IsMember({"svm", "nearest", "recency"}));
  command_->add_flag("--json", json_, "Print JSON");
}

bool RecommendCommand::parsed() const { return command_->parsed(); }

int RecommendCommand::run(const GlobalOptions& global) {
  auto papers = open_papers_store(global);
  if (!papers) return report(papers.error());
  auto community = store::open_community_store(global.store, store_path(global));
  if (!community) return report(community.error());
  auto user = (*community)->find_user(user_);
  if (!user) return report(user.error());
  if (!*user) {
    std::fprintf(stderr, "paperboy recommend: no user named '%s'\n", user_.c_str());
    return kNotFound;
  }
  std::shared_ptr<const hybrid::SemanticIndex> semantic;
  if (!vector::VectorIndex::current_generation(vectors_path(global)).empty()) {
    auto opened = hybrid::open_semantic(vectors_path(global));
    if (!opened) return report(opened.error());
    semantic = std::make_shared<const hybrid::SemanticIndex>(std::move(*opened));
  }
  auto likes = recommend::likes_of(**community, (*user)->id);
  if (!likes) return report(likes.error());
  recommend::Options options;
  options.limit = limit_;
  options.recent_days = days_;
  options.method = method_ == "nearest"   ? recommend::Method::kNearestNeighbor
                   : method_ == "recency" ? recommend::Method::kRecency
                                          : recommend::Method::kLinearSvm;
  recommend::Recommender recommender(**papers, semantic);
  auto picks = recommender.recommend(*likes, options);
  if (!picks) return report(picks.error());

  if (json_) {
    nlohmann::json results = nlohmann::json::array();
    for (const recommend::Recommendation& pick : *picks) {
      results.push_back({{"id", paper_id(pick.paper)},
                         {"title", pick.paper.title},
                         {"authors", pick.paper.authors},
                         {"feed_day", pick.paper.feed_day},
                         {"upvotes", pick.paper.upvotes},
                         {"score", pick.score},
                         {"because", pick.like_id},
                         {"reason", pick.reason}});
    }
    std::printf("%s\n", nlohmann::json{{"user", (*user)->name},
                                       {"likes", likes->size()},
                                       {"vectors", semantic != nullptr},
                                       {"results", std::move(results)}}
                            .dump(2, ' ', false, nlohmann::json::error_handler_t::replace)
                            .c_str());
    return kSuccess;
  }
  if (likes->empty()) {
    std::printf("%s has not upvoted or collected any paper yet: recommendations learn from them.\n",
                (*user)->name.c_str());
    return kSuccess;
  }
  std::printf("For %s, from %zu liked papers%s:\n\n", (*user)->name.c_str(), likes->size(),
              semantic ? "" : " (keyword features only: run `paperboy embed train` for vectors)");
  for (size_t i = 0; i < picks->size(); ++i) {
    const recommend::Recommendation& pick = (*picks)[i];
    std::printf("%2zu. %-12s %s\n    %s\n", i + 1, paper_id(pick.paper).c_str(),
                collapse_whitespace(pick.paper.title).c_str(), pick.reason.c_str());
  }
  if (picks->empty()) std::printf("No new papers in the last %d feed days.\n", days_);
  return kSuccess;
}

}  // namespace paperboy::cli
