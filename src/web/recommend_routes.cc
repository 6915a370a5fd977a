#include "web/recommend_routes.h"

#include <httplib.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <charconv>
#include <cstdio>
#include <nlohmann/json.hpp>
#include <set>

#include "core/escape.h"
#include "recommend/recommend.h"
#include "web/community_routes.h"
#include "web/pages.h"

namespace paperboy::web {
namespace {

using httplib::Request;
using httplib::Response;
using nlohmann::json;

constexpr size_t kDefaultLimit = 20;
constexpr size_t kMaxLimit = 100;
constexpr int kDefaultDays = 7;
constexpr int kMaxDays = 365;
constexpr size_t kLikeResults = 20;
constexpr size_t kMaxLikeTextBytes = 20000;
constexpr const char* kHtml = "text/html; charset=utf-8";
constexpr const char* kJson = "application/json; charset=utf-8";

std::chrono::sys_seconds now() {
  return std::chrono::floor<std::chrono::seconds>(std::chrono::system_clock::now());
}

void send_json(Response& response, int status, const json& body) {
  response.status = status;
  response.set_content(body.dump(-1, ' ', false, json::error_handler_t::replace), kJson);
}

// A whole number parameter in [1, max], or `fallback` when absent.
Result<int64_t> number_param(const Request& request, const char* name, int64_t fallback,
                             int64_t max) {
  if (!request.has_param(name)) return fallback;
  const std::string text = request.get_param_value(name);
  int64_t value = 0;
  auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (text.empty() || error != std::errc() || end != text.data() + text.size() || value < 1 ||
      value > max) {
    return fail(std::string(name) + ": expected a number from 1 to " + std::to_string(max) +
                ", got '" + text + "'");
  }
  return value;
}

std::string similarity_label(float similarity) {
  char text[32];
  std::snprintf(text, sizeof text, "similarity %.2f", static_cast<double>(similarity));
  return text;
}

// One paper as a card: title, authors, day, upvotes and why it is listed.
std::string card(const Paper& paper, const std::string& why) {
  std::string html =
      "<li class=\"card\"><div class=\"card-body\"><h3 class=\"card-title\"><a href=\"" +
      markup_escaped(paper_path(paper)) + "\">" + markup_escaped(paper.title) + "</a></h3>";
  if (std::string authors = authors_line(paper, 3); !authors.empty())
    html += "<p class=\"muted\">" + markup_escaped(authors) + "</p>";
  const std::string& day = paper.feed_day.empty() ? paper.published : paper.feed_day;
  html += "<p class=\"card-foot muted\">▲ " + std::to_string(paper.upvotes);
  if (!day.empty()) html += " · " + markup_escaped(day);
  if (!why.empty()) html += " · <span class=\"reason\">" + markup_escaped(why) + "</span>";
  html += "</p></div></li>\n";
  return html;
}

}  // namespace

RecommendRoutes::RecommendRoutes(store::Store& papers, store::CommunityStore& community,
                                 CommunityRoutes& accounts, const Pages& pages,
                                 SemanticSource semantic, KeywordSource keyword,
                                 store::SubscriptionStore* subscriptions, mail::MailSettings mail)
    : papers_(papers),
      community_(community),
      accounts_(accounts),
      pages_(pages),
      semantic_(std::move(semantic)),
      keyword_(std::move(keyword)),
      subscriptions_(subscriptions),
      mail_(std::move(mail)) {}

void RecommendRoutes::install(httplib::Server& http) {
  // A page in the site's layout, with the visitor's account links filled in.
  auto page = [this](const Request& request, Response& response, int status,
                     const std::string& title, const std::string& content) {
    response.status = status;
    response.set_content(pages_.wrap(title, content), kHtml);
    accounts_.personalise(request, response);
  };
  auto internal_error = [page](const Request& request, Response& response, const Error& error) {
    spdlog::error("web: {} {}: {}", request.method, request.path, error.message);
    page(request, response, 500, "Something went wrong",
         "<section class=\"error-page\"><h1>Something went wrong</h1><p>The paper store could "
         "not answer. Please try again in a moment.</p></section>");
  };

  // The user's recommendations, without the papers moderators hid.
  struct ForYou {
    size_t likes = 0;
    bool vectors = false;
    std::vector<recommend::Recommendation> picks;
  };
  auto for_you = [this](const store::User& user, size_t limit, int days) -> Result<ForYou> {
    ForYou answer;
    auto likes = recommend::likes_of(community_, user.id);
    if (!likes) return std::unexpected(likes.error());
    answer.likes = likes->size();
    auto semantic = semantic_();
    answer.vectors = semantic != nullptr;
    recommend::Options options;
    options.limit = limit + 10;  // room for hidden papers
    options.recent_days = days;
    recommend::Recommender recommender(papers_, std::move(semantic));
    auto picks = recommender.recommend(*likes, options);
    if (!picks) return std::unexpected(picks.error());
    std::vector<Paper> listed;
    for (const auto& pick : *picks) listed.push_back(pick.paper);
    accounts_.drop_hidden(listed);
    std::set<std::string> shown;
    for (const Paper& paper : listed) shown.insert(paper_id(paper));
    for (auto& pick : *picks) {
      if (answer.picks.size() < limit && shown.contains(paper_id(pick.paper)))
        answer.picks.push_back(std::move(pick));
    }
    return answer;
  };

  http.Get("/for-you", [this, page, internal_error, for_you](const Request& request,
                                                             Response& response) {
    auto user = accounts_.signed_in(request);
    if (!user) return response.set_redirect("/signin?next=/for-you", 303);
    auto days = number_param(request, "days", kDefaultDays, kMaxDays);
    if (!days)
      return page(request, response, 400, "For you",
                  "<p>" + markup_escaped(days.error().message) + "</p>");
    auto answer = for_you(*user, kDefaultLimit, static_cast<int>(*days));
    if (!answer) return internal_error(request, response, answer.error());
    std::string html = "<section class=\"feed-head\"><div class=\"period-title\"><h1>For you</h1>";
    if (answer->likes == 0) {
      html +=
          "</div></section><p class=\"empty\">Nothing to go on yet. Upvote papers you like (the "
          "▲ on every card) or add them to a <a href=\"/collections\">collection</a>, and this "
          "page lists new papers like them, each with the paper it resembles.</p>";
      return page(request, response, 200, "For you", html);
    }
    html += "<p class=\"muted\">New papers of the last " + std::to_string(*days) +
            " feed days and papers near yours, ranked by a model of the " +
            std::to_string(answer->likes) + " papers you upvoted or collected.</p></div></section>";
    if (!answer->vectors) {
      html +=
          "<p class=\"note\">Ranking by words only: vectors (<code>paperboy embed "
          "train</code>) would add meaning.</p>";
    }
    if (answer->picks.empty()) {
      html +=
          "<p class=\"empty\">No new papers in these days. Try <a href=\"/for-you?days=30\">the "
          "last 30 days</a>.</p>";
    }
    html += "<ol class=\"cards\">\n";
    for (const auto& pick : answer->picks) html += card(pick.paper, pick.reason);
    html += "</ol>";
    page(request, response, 200, "For you", html);
  });

  http.Get("/api/for-you", [this, for_you](const Request& request, Response& response) {
    auto user = accounts_.signed_in(request);
    if (!user)
      return send_json(response, 401, json{{"error", "sign in first (session or API token)"}});
    auto limit = number_param(request, "limit", kDefaultLimit, kMaxLimit);
    if (!limit) return send_json(response, 400, json{{"error", limit.error().message}});
    auto days = number_param(request, "days", kDefaultDays, kMaxDays);
    if (!days) return send_json(response, 400, json{{"error", days.error().message}});
    auto answer = for_you(*user, static_cast<size_t>(*limit), static_cast<int>(*days));
    if (!answer) {
      spdlog::error("web: {} {}: {}", request.method, request.path, answer.error().message);
      return send_json(response, 500,
                       json{{"error", "internal error: the paper store could not answer"}});
    }
    json results = json::array();
    for (const auto& pick : answer->picks) {
      const Paper& paper = pick.paper;
      results.push_back(
          json{{"id", paper_id(paper)},
               {"url", paper_path(paper)},
               {"title", paper.title},
               {"authors", paper.authors},
               {"feed_day", paper.feed_day.empty() ? json(nullptr) : json(paper.feed_day)},
               {"published", paper.published.empty() ? json(nullptr) : json(paper.published)},
               {"upvotes", paper.upvotes},
               {"score", pick.score},
               {"because", json{{"id", pick.like_id}, {"title", pick.like_title}}},
               {"reason", pick.reason}});
    }
    send_json(response, 200,
              json{{"user", user->name},
                   {"likes", answer->likes},
                   {"vectors", answer->vectors},
                   {"results", std::move(results)}});
  });

  http.Get(
      "/digest/preview", [this, page, internal_error](const Request& request, Response& response) {
        auto user = accounts_.signed_in(request);
        if (!user) return response.set_redirect("/signin?next=/digest/preview", 303);
        auto subscription = subscriptions_ ? subscriptions_->find_subscription(user->email)
                                           : Result<std::optional<store::Subscription>>();
        if (!subscription) return internal_error(request, response, subscription.error());
        if (!*subscription || (*subscription)->state == store::SubscriptionState::unsubscribed) {
          return page(request, response, 200, "Digest preview",
                      "<h1>Digest preview</h1><p class=\"empty\">" + markup_escaped(user->email) +
                          " has no digest subscription. <a href=\"/digest\">Subscribe</a> (with "
                          "“papers like my upvotes” for a personal one) and come back.</p>");
        }
        const store::Subscription& subscribed = **subscription;
        mail::DigestSources sources{keyword_(), semantic_(), &community_};
        mail::DigestBuilder builder(papers_, std::move(sources), now());
        auto digest = builder.build(
            subscribed, std::string(store::frequency_name(subscribed.frequency)) + " preview");
        if (!digest) return internal_error(request, response, digest.error());
        std::string html =
            "<section class=\"feed-head\"><div class=\"period-title\"><h1>Digest "
            "preview</h1><p class=\"muted\">What the " +
            std::string(store::frequency_name(subscribed.frequency)) + " digest to " +
            markup_escaped(subscribed.email) + " would hold now (" +
            store::subscription_state_name(subscribed.state) + ").</p></div></section>";
        if (!*digest) {
          html += "<p class=\"empty\">Nothing new matches your topics since your last digest.</p>";
          return page(request, response, 200, "Digest preview", html);
        }
        const mail::Digest& preview = **digest;
        html += "<h2>" +
                markup_escaped(preview.first_day == preview.last_day
                                   ? preview.last_day
                                   : preview.first_day + " to " + preview.last_day) +
                "</h2><ol class=\"cards\">\n";
        for (const mail::DigestEntry& entry : preview.papers)
          html += card(entry.paper, entry.reason);
        html += "</ol>";
        if (!preview.trending.empty()) {
          html += "<h2>Trending on paperboy</h2><ol class=\"cards\">\n";
          for (const Paper& paper : preview.trending) html += card(paper, "");
          html += "</ol>";
        }
        page(request, response, 200, "Digest preview", html);
      });

  // "Find papers like this abstract": a form post, read-only, so it needs no CSRF token.
  http.Post("/search/like", [this, page](const Request& request, Response& response) {
    const std::string text = request.get_param_value("text");
    auto answer = [&](int status, const std::string& body) {
      page(request, response, status, "Papers like this text",
           "<h1>Papers like this text</h1><blockquote class=\"muted\">" +
               markup_escaped(text.substr(0, 600)) + (text.size() > 600 ? " …" : "") +
               "</blockquote>" + body);
    };
    if (std::all_of(text.begin(), text.end(),
                    [](char c) { return std::isspace(static_cast<unsigned char>(c)); }))
      return answer(400, "<p class=\"empty\">Paste a paragraph first, such as an abstract.</p>");
    if (text.size() > kMaxLikeTextBytes)
      return answer(413, "<p class=\"empty\">At most 20,000 bytes of text.</p>");
    auto semantic = semantic_();
    if (!semantic) {
      return answer(503,
                    "<p class=\"empty\">Finding similar papers needs vectors: run "
                    "<code>paperboy embed train</code>.</p>");
    }
    auto neighbors = hybrid::like_text(*semantic, text, kLikeResults);
    if (!neighbors)
      return answer(422,
                    "<p class=\"empty\">" + markup_escaped(neighbors.error().message) + "</p>");
    std::vector<Paper> found;
    std::vector<float> similarity;
    for (const vector::Neighbor& neighbor : *neighbors) {
      auto paper = papers_.find(neighbor.paper_id);
      if (!paper || !*paper) continue;
      found.push_back(std::move(**paper));
      similarity.push_back(neighbor.similarity);
    }
    std::string html = "<ol class=\"cards\">\n";
    std::vector<Paper> visible = found;
    accounts_.drop_hidden(visible);
    std::set<std::string> shown;
    for (const Paper& paper : visible) shown.insert(paper_id(paper));
    for (size_t i = 0; i < found.size(); ++i) {
      if (!shown.contains(paper_id(found[i]))) continue;
      html += card(found[i], similarity_label(similarity[i]));
    }
    answer(200, html + "</ol>");
  });
}

}  // namespace paperboy::web
