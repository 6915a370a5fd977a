// What every paper list of the site shares: exclusion words (?exclude=word,word on feeds,
// trending, search and the JSON API) and keyword search as a plain list of stored papers (for
// feeds, exports and author pages).
#pragma once

#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "core/paper.h"
#include "core/result.h"
#include "search/search.h"
#include "store/store.h"
#include "web/live_index.h"

namespace paperboy::web {

// Words a visitor does not want to see. A paper is left out when its title, abstract or AI
// summary holds every term of one of the words, analysed as search analyses text, so
// "surveys" also leaves out "survey" and matching agrees with search's -word.
class Exclusions {
 public:
  // "survey, benchmark" (commas between words; spaces inside one are a phrase of terms).
  // Fails naming the parameter for too many or too long words.
  static Result<Exclusions> parse(std::string_view list);

  bool empty() const { return words_.empty(); }
  bool excludes(const Paper& paper) const;
  void drop_from(std::vector<Paper>& papers) const;
  // " -survey -\"large language\"", for the search engine's query language.
  std::string query_terms() const;
  // The words as the visitor gave them, joined by ", ", for forms and links.
  std::string text() const;

 private:
  std::vector<std::string> words_;
  std::vector<std::vector<std::string>> terms_;  // per word, its index terms
};

// Papers matching `query_text` (the search query language), best or newest first, loaded from
// the store; papers the index knows but the store lacks are skipped, as are those `keep`
// rejects (hidden or excluded ones), while still filling up to `limit`.
Result<std::vector<Paper>> search_papers(LiveIndex& index, store::Store& store,
                                         std::string_view query_text, search::Sort sort,
                                         size_t limit,
                                         const std::function<bool(const Paper&)>& keep);

}  // namespace paperboy::web
