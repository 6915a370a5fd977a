// HTML pages of the web app, rendered from the mustache templates in src/web/templates.
#pragma once

#include <chrono>
#include <string>
#include <string_view>
#include <vector>

#include "core/paper.h"
#include "core/result.h"
#include "feed/feed.h"

namespace paperboy::web {

// What a feed page shows: one day, week or month of the feed, as the request asked for it.
struct FeedView {
  feed::FeedPage page;
  std::chrono::sys_days day{};  // the day the URL named (any day inside the period)
  std::string category;         // empty: all categories
  feed::SortOrder sort = feed::SortOrder::upvotes;
};

class Pages {
 public:
  // Parses every template once, so a broken template fails here and not on a request.
  static Result<Pages> load();

  std::string feed(const FeedView& view) const;
  // The home page while the feed is empty: says how to fill the store.
  std::string empty_feed() const;
  std::string paper(const Paper& paper) const;
  std::string trending(const std::vector<Paper>& papers) const;
  std::string error(int status, std::string_view heading, std::string_view detail) const;

 private:
  std::string_view layout_, feed_, card_, paper_, trending_, error_, empty_;
};

// Percent-encodes `text` for a URL query value (RFC 3986 unreserved characters stay).
std::string url_encode(std::string_view text);

// `url` if it is an absolute http(s) URL, else empty, so stored links can never be
// `javascript:` or other schemes when put in an href.
std::string safe_link(std::string_view url);

}  // namespace paperboy::web
