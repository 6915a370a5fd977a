// Paper lists beyond the period feeds: RSS 2.0 and Atom feeds (the daily feed, trending, a
// search, an author, a category, a public collection), BibTeX and RIS exports (a paper, a
// search, a collection), and the author and category pages. Every list leaves out papers
// moderators hid and honours ?exclude=word,word (docs/api.md lists the addresses).
#pragma once

#include <memory>

#include "store/store.h"

namespace paperboy::web {

class CommunityRoutes;
class LiveIndex;
class PageRoutes;
class Pages;

class FeedRoutes {
 public:
  // `index` (search, author pages) and `community` (hidden papers, collections) may be null;
  // what needs them then answers that it is unavailable. All must outlive the routes.
  FeedRoutes(store::Store& store, LiveIndex* index, CommunityRoutes* community, const Pages& pages);
  ~FeedRoutes();
  FeedRoutes(const FeedRoutes&) = delete;
  FeedRoutes& operator=(const FeedRoutes&) = delete;

  // Registers the routes; call before GET /papers/(.+), which would take /papers/<id>.bib.
  void install(PageRoutes& http);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace paperboy::web
