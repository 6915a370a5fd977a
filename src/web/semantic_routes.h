// The semantic part of the web app: related papers (on the paper page and at
// GET /api/papers/{id}/related), "papers like this text" (POST /api/papers/like), and the
// mode=keyword|semantic|hybrid choice of search. Vectors are followed live: a sync or a retrain
// by another process shows up within a second; without vectors search stays keyword search.
#pragma once

#include <filesystem>
#include <memory>
#include <string>
#include <string_view>

#include "core/paper.h"
#include "core/result.h"
#include "hybrid/live_semantic.h"
#include "search/search.h"
#include "store/store.h"

namespace httplib {
class Server;
}

namespace paperboy::web {

class SemanticRoutes {
 public:
  SemanticRoutes(store::Store& store, std::filesystem::path vectors_dir);

  // Registers the routes; call before GET /api/papers/(.+), which would take .../related.
  void install(httplib::Server& http);

  // The live vectors and model; null while there are none.
  std::shared_ptr<const hybrid::SemanticIndex> current() { return live_.current(); }

  // The paper page's "Related papers" list; empty when the paper has no vector.
  std::string related_section(const Paper& paper);

  // Runs a search in `mode` ("keyword", "semantic", "hybrid"; empty: hybrid when vectors
  // exist). Sorting by date or upvotes is the keyword engine's; facets and the total always
  // come from it.
  Result<search::SearchResults> search(const index::Snapshot& snapshot, std::string_view query_text,
                                       const search::Query& query,
                                       const search::SearchOptions& options, std::string_view mode);

 private:
  store::Store& store_;
  hybrid::LiveSemantic live_;
};

}  // namespace paperboy::web
