// Route registration for HTML pages: every answer passes through `finish` (the visitor's part
// of a page: account links, CSRF tokens, "new" badges) before httplib measures and compresses
// it. Route groups register through this rather than a bare httplib::Server, so no page of the
// site goes out without the account navigation.
#pragma once

#include <httplib.h>

#include <functional>
#include <string>
#include <utility>

namespace paperboy::web {

class PageRoutes {
 public:
  using Handler = std::function<void(const httplib::Request&, httplib::Response&)>;

  // `finish` may be empty (a site without accounts): handlers then answer unchanged.
  PageRoutes(httplib::Server& http, Handler finish) : http_(http), finish_(std::move(finish)) {}

  void Get(const std::string& pattern, Handler handler) {
    http_.Get(pattern, finished(std::move(handler)));
  }
  void Post(const std::string& pattern, Handler handler) {
    http_.Post(pattern, finished(std::move(handler)));
  }

 private:
  Handler finished(Handler handler) const {
    if (!finish_) return handler;
    return [finish = finish_, handler = std::move(handler)](const httplib::Request& request,
                                                            httplib::Response& response) {
      handler(request, response);
      finish(request, response);
    };
  }

  httplib::Server& http_;
  Handler finish_;
};

}  // namespace paperboy::web
