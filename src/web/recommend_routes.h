// The personal part of the web app built on src/recommend: the "For you" page (/for-you) and
// its JSON twin (GET /api/for-you, by session or API token), the signed-in subscriber's
// digest preview (/digest/preview, what `paperboy digest preview EMAIL` prints), and "papers
// like this text" for people (POST /search/like, the form on the search page).
#pragma once

#include <functional>
#include <memory>

#include "hybrid/hybrid.h"
#include "index/index.h"
#include "mail/digest.h"
#include "store/community.h"
#include "store/store.h"
#include "store/subscriptions.h"

namespace httplib {
class Server;
}

namespace paperboy::web {

class CommunityRoutes;
class Pages;

class RecommendRoutes {
 public:
  // Called per request, so retrained vectors and new index commits are used at once; either
  // may return null.
  using SemanticSource = std::function<std::shared_ptr<const hybrid::SemanticIndex>()>;
  using KeywordSource = std::function<std::shared_ptr<const index::Snapshot>()>;

  // `accounts` and `pages` must outlive the routes. `subscriptions` may be null (no digests).
  RecommendRoutes(store::Store& papers, store::CommunityStore& community, CommunityRoutes& accounts,
                  const Pages& pages, SemanticSource semantic, KeywordSource keyword,
                  store::SubscriptionStore* subscriptions, mail::MailSettings mail);

  // Registers the routes; call before the catch-all POST handler.
  void install(httplib::Server& http);

 private:
  store::Store& papers_;
  store::CommunityStore& community_;
  CommunityRoutes& accounts_;
  const Pages& pages_;
  SemanticSource semantic_;
  KeywordSource keyword_;
  store::SubscriptionStore* subscriptions_;
  mail::MailSettings mail_;
};

}  // namespace paperboy::web
