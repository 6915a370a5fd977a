// The community half of the web app: accounts (sign up, sign in, sessions, CSRF, API tokens),
// upvotes, submissions, comments, collections and moderation, as pages and JSON (docs/api.md).
// The server creates one when it is given a community store and calls it from its routes.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/paper.h"
#include "core/result.h"
#include "store/community.h"
#include "store/store.h"

namespace httplib {
class Server;
struct Request;
struct Response;
}  // namespace httplib

namespace paperboy::web {

class Pages;

class CommunityRoutes {
 public:
  // Loads the templates; `pages` supplies the site's layout and must outlive the routes.
  static Result<std::unique_ptr<CommunityRoutes>> create(store::Store& papers,
                                                         store::CommunityStore& community,
                                                         const Pages& pages);
  ~CommunityRoutes();
  CommunityRoutes(const CommunityRoutes&) = delete;
  CommunityRoutes& operator=(const CommunityRoutes&) = delete;

  // Registers the routes; call before routes whose patterns would swallow these
  // (GET /api/papers/(.+) would take /api/papers/<id>/comments).
  void install(httplib::Server& http);

  // Pages are rendered alike for everyone; this fills in the visitor's part of an HTML
  // response: the account links (<!--account--> in the layout) and the CSRF token of forms
  // (<!--csrf-->). User text cannot hold either marker: it is escaped or rendered safely.
  void personalise(const httplib::Request& request, httplib::Response& response);

  // The paper page's community part: the visitor's vote, comments, the comment form and
  // "add to collection".
  std::string paper_section(const httplib::Request& request, const Paper& paper);

  // Whether the visitor may see the paper (moderators hide papers; moderators still see them).
  bool visible(const httplib::Request& request, const Paper& paper);
  // Drops the papers moderators have hidden from a list.
  void drop_hidden(std::vector<Paper>& papers);
  // The signed-in user behind the request (session cookie or API token), if any.
  std::optional<store::User> signed_in(const httplib::Request& request);
  // Whether moderators have hidden the paper (`paper_id` as paper_id() gives it).
  bool hidden(std::string_view paper_id);

  // A collection with its stored papers in order, when the visitor may read it: public ones
  // for everyone, private ones for their owner only. Papers hidden by moderators are left out
  // (except for the owner), as on the collection's page. nullopt: no such collection for them.
  struct ReadableCollection {
    store::Collection collection;
    std::vector<Paper> papers;
  };
  Result<std::optional<ReadableCollection>> readable_collection(const httplib::Request& request,
                                                                int64_t id);

 private:
  struct Impl;
  explicit CommunityRoutes(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace paperboy::web
