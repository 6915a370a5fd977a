// Offline evaluation of "For you" (src/recommend) on Hugging Face daily papers: simulated
// readers each like one topic (the papers Hugging Face tagged with one AI keyword); the papers
// of that topic that enter the feed in a held-out week must come out on top among that week's
// papers, ranked from the likes before it. Reports hit-rate@10 (a held-out paper in the top
// 10) and recall@10 for the per-user SVM, plain nearest neighbour and recency.
//
//   paperboy --data /tmp/hf ingest /work/shared/data/hf-daily-papers
//   paperboy --data /tmp/hf embed train            # optional: vectors as features too
//   recommend_eval /tmp/hf
#include <algorithm>
#include <cctype>
#include <cstdio>
#include <filesystem>
#include <map>
#include <set>

#include "core/date.h"
#include "hybrid/hybrid.h"
#include "recommend/recommend.h"
#include "store/store.h"
#include "vector/vector_index.h"

namespace {

using namespace paperboy;
using std::chrono::days;

constexpr size_t kMinTopicPapers = 40;  // topics with fewer papers give too few test weeks
constexpr size_t kMaxTopics = 40;
constexpr size_t kMinLikes = 5;
constexpr size_t kMaxLikes = 30;  // the most recent likes before the week
constexpr size_t kTop = 10;
constexpr size_t kWeeksPerTopic = 3;

struct Totals {
  size_t cases = 0;
  size_t hits = 0;
  double recall = 0;
};

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: %s DATA_DIR (a paperboy data folder holding HF daily papers)\n",
                 argv[0]);
    return 2;
  }
  const std::filesystem::path data = argv[1];
  auto store = store::open_sqlite_store(data / "paperboy.db");
  if (!store) {
    std::fprintf(stderr, "%s\n", store.error().message.c_str());
    return 1;
  }
  std::shared_ptr<const hybrid::SemanticIndex> semantic;
  if (!vector::VectorIndex::current_generation(data / "vectors").empty()) {
    auto opened = hybrid::open_semantic(data / "vectors");
    if (!opened) {
      std::fprintf(stderr, "%s\n", opened.error().message.c_str());
      return 1;
    }
    semantic = std::make_shared<const hybrid::SemanticIndex>(std::move(*opened));
  }

  // Topics: AI keywords by how many feed papers carry them.
  std::map<std::string, std::vector<Paper>> by_keyword;
  std::map<std::string, std::vector<Paper>> by_week;  // Monday -> the week's feed papers
  auto visited = (*store)->for_each_paper([&](const Paper& paper) {
    auto day = parse_date(paper.feed_day);
    if (!day) return;
    by_week[format_date(week_start(*day))].push_back(paper);
    std::set<std::string> seen;
    for (std::string keyword : paper.ai_keywords) {
      // "Large Language Models" and "large language models" are one topic.
      std::transform(keyword.begin(), keyword.end(), keyword.begin(),
                     [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
      if (seen.insert(keyword).second) by_keyword[keyword].push_back(paper);
    }
  });
  if (!visited) {
    std::fprintf(stderr, "%s\n", visited.error().message.c_str());
    return 1;
  }
  std::vector<std::pair<size_t, std::string>> topics;
  for (const auto& [keyword, papers] : by_keyword) {
    if (papers.size() >= kMinTopicPapers) topics.emplace_back(papers.size(), keyword);
  }
  std::sort(topics.rbegin(), topics.rend());
  // The broadest keywords ("large language models") are half the corpus, not a reader's topic.
  std::erase_if(topics, [](const auto& topic) { return topic.first > 400; });
  if (topics.size() > kMaxTopics) topics.resize(kMaxTopics);

  const std::pair<const char*, recommend::Method> methods[] = {
      {"svm", recommend::Method::kLinearSvm},
      {"nearest", recommend::Method::kNearestNeighbor},
      {"recency", recommend::Method::kRecency}};
  std::map<std::string, Totals> totals;
  recommend::Recommender recommender(**store, semantic);
  for (const auto& [count, keyword] : topics) {
    std::vector<Paper> liked = by_keyword[keyword];
    std::sort(liked.begin(), liked.end(),
              [](const Paper& a, const Paper& b) { return a.feed_day < b.feed_day; });
    // Test weeks: the last kWeeksPerTopic weeks with a topic paper and enough likes before.
    std::vector<std::string> weeks;
    for (auto it = by_week.rbegin(); it != by_week.rend() && weeks.size() < kWeeksPerTopic; ++it) {
      size_t before = 0, inside = 0;
      for (const Paper& paper : liked) {
        before += paper.feed_day < it->first;
        inside += format_date(week_start(*parse_date(paper.feed_day))) == it->first;
      }
      if (inside > 0 && before >= kMinLikes) weeks.push_back(it->first);
    }
    for (const std::string& week : weeks) {
      std::vector<recommend::Like> likes;
      std::set<std::string> held_out;
      for (const Paper& paper : liked) {
        if (paper.feed_day < week) likes.push_back({paper_id(paper), ""});
        if (format_date(week_start(*parse_date(paper.feed_day))) == week)
          held_out.insert(paper_id(paper));
      }
      if (likes.size() > kMaxLikes) likes.erase(likes.begin(), likes.end() - kMaxLikes);
      for (const auto& [name, method] : methods) {
        recommend::Options options;
        options.limit = kTop;
        options.method = method;
        auto training = recommender.training(likes, week, options);
        if (!training) {
          std::fprintf(stderr, "%s\n", training.error().message.c_str());
          return 1;
        }
        auto picks = recommender.rank(*training, by_week[week], options);
        size_t found = 0;
        for (const auto& pick : picks) found += held_out.contains(paper_id(pick.paper));
        Totals& total = totals[name];
        ++total.cases;
        total.hits += found > 0;
        total.recall +=
            static_cast<double>(found) / static_cast<double>(std::min(held_out.size(), kTop));
      }
    }
  }
  std::printf("%zu topics, %zu held-out weeks, features: tf-idf%s\n", topics.size(),
              totals["svm"].cases, semantic ? " + embeddings" : " only");
  std::printf("| method | hit-rate@10 | recall@10 |\n|---|---|---|\n");
  for (const auto& [name, method] : methods) {
    const Totals& total = totals[name];
    std::printf("| %s | %.3f | %.3f |\n", name,
                static_cast<double>(total.hits) / static_cast<double>(total.cases),
                total.recall / static_cast<double>(total.cases));
  }
  return 0;
}
