#include "web/paper_lists.h"

#include <algorithm>
#include <set>

#include "search/query.h"
#include "text/analyzer.h"

namespace paperboy::web {

namespace {

constexpr size_t kMaxExclusions = 20;
constexpr size_t kMaxExclusionBytes = 100;
// Rounds of fetching more hits when `keep` rejects some; bounds the work of one request.
constexpr size_t kMaxSearchRounds = 5;

std::string trimmed(std::string_view text) {
  while (!text.empty() && std::isspace(static_cast<unsigned char>(text.front())))
    text.remove_prefix(1);
  while (!text.empty() && std::isspace(static_cast<unsigned char>(text.back())))
    text.remove_suffix(1);
  return std::string(text);
}

std::vector<std::string> terms_of(std::string_view text) {
  std::vector<std::string> terms;
  for (text::Token& token : text::analyze(text)) {
    if (!token.overlay) terms.push_back(std::move(token.term));
  }
  return terms;
}

}  // namespace

Result<Exclusions> Exclusions::parse(std::string_view list) {
  Exclusions exclusions;
  size_t start = 0;
  while (start <= list.size()) {
    const size_t comma = std::min(list.find(',', start), list.size());
    std::string word = trimmed(list.substr(start, comma - start));
    start = comma + 1;
    if (word.empty()) continue;
    if (word.size() > kMaxExclusionBytes) {
      return fail("exclude: each word at most " + std::to_string(kMaxExclusionBytes) +
                  " bytes, got " + std::to_string(word.size()));
    }
    // Quotes would end the phrase in query_terms(); they carry no meaning in a word anyway.
    std::erase(word, '"');
    std::vector<std::string> terms = terms_of(word);
    if (terms.empty()) continue;  // stop words and punctuation exclude nothing
    if (exclusions.words_.size() == kMaxExclusions) {
      return fail("exclude: at most " + std::to_string(kMaxExclusions) + " words");
    }
    exclusions.words_.push_back(std::move(word));
    exclusions.terms_.push_back(std::move(terms));
  }
  return exclusions;
}

bool Exclusions::excludes(const Paper& paper) const {
  if (words_.empty()) return false;
  std::set<std::string, std::less<>> present;
  for (const std::string* field : {&paper.title, &paper.abstract, &paper.ai_summary}) {
    for (std::string& term : terms_of(*field)) present.insert(std::move(term));
  }
  return std::any_of(terms_.begin(), terms_.end(), [&](const std::vector<std::string>& terms) {
    return std::all_of(terms.begin(), terms.end(),
                       [&](const std::string& term) { return present.contains(term); });
  });
}

void Exclusions::drop_from(std::vector<Paper>& papers) const {
  if (words_.empty()) return;
  std::erase_if(papers, [this](const Paper& paper) { return excludes(paper); });
}

std::string Exclusions::query_terms() const {
  std::string out;
  for (const std::string& word : words_) {
    const bool phrase = word.find(' ') != std::string::npos;
    out += phrase ? " -\"" + word + "\"" : " -" + word;
  }
  return out;
}

std::string Exclusions::text() const {
  std::string out;
  for (const std::string& word : words_) {
    if (!out.empty()) out += ", ";
    out += word;
  }
  return out;
}

Result<std::vector<Paper>> search_papers(LiveIndex& index, store::Store& store,
                                         std::string_view query_text, search::Sort sort,
                                         size_t limit,
                                         const std::function<bool(const Paper&)>& keep) {
  auto snapshot = index.current();
  if (!snapshot) return std::unexpected(snapshot.error());
  auto query = search::parse_query(query_text);
  if (!query) return fail("q: " + query.error().message);
  std::vector<Paper> papers;
  search::SearchOptions options;
  options.sort = sort;
  options.limit = limit;
  for (size_t round = 0; round < kMaxSearchRounds && papers.size() < limit; ++round) {
    auto results = search::search(**snapshot, *query, options);
    if (!results) return fail("q: " + results.error().message);
    for (const search::Hit& hit : results->hits) {
      auto found = store.find(hit.paper_id);
      if (!found) return std::unexpected(found.error());
      if (!*found || !keep(**found)) continue;
      papers.push_back(std::move(**found));
      if (papers.size() == limit) break;
    }
    if (results->hits.size() < options.limit) break;  // no more matches
    options.offset += options.limit;
  }
  return papers;
}

}  // namespace paperboy::web
