#include "search/query.h"

#include <algorithm>
#include <chrono>

#include "core/arxiv_id.h"
#include "core/date.h"
#include "text/analyzer.h"

namespace paperboy::search {

namespace {

using std::chrono::days;
using std::chrono::sys_days;

bool is_space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }

// One lexical item of the query before analysis.
struct Item {
  std::string field;  // lower-case operator name before ':', empty for plain text
  std::string value;
  bool quoted = false;
  bool negated = false;
  bool is_or = false;
};

std::string lower_ascii(std::string_view text) {
  std::string out(text);
  for (char& c : out)
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  return out;
}

bool is_operator_name(std::string_view name) {
  for (std::string_view known :
       {"title", "abstract", "author", "authors", "cat", "category", "after", "before", "year"})
    if (name == known) return true;
  return false;
}

std::vector<Item> lex(std::string_view text, std::vector<std::string>& notes) {
  std::vector<Item> items;
  size_t i = 0;
  while (i < text.size()) {
    while (i < text.size() && is_space(text[i])) ++i;
    if (i >= text.size()) break;
    Item item;
    if (text[i] == '-' && i + 1 < text.size() && !is_space(text[i + 1])) {
      item.negated = true;
      ++i;
    }
    // An operator prefix such as "title:" (a URL's "https:" is not one).
    size_t colon = i;
    while (colon < text.size() && colon - i <= 8 && text[colon] != ':' && !is_space(text[colon]) &&
           text[colon] != '"')
      ++colon;
    if (colon < text.size() && text[colon] == ':' &&
        is_operator_name(lower_ascii(text.substr(i, colon - i)))) {
      item.field = lower_ascii(text.substr(i, colon - i));
      i = colon + 1;
    }
    if (i < text.size() && text[i] == '"') {
      size_t close = text.find('"', i + 1);
      if (close == std::string_view::npos) {
        notes.push_back("unbalanced quote: the phrase runs to the end of the query");
        close = text.size();
      }
      item.value = std::string(text.substr(i + 1, close - i - 1));
      item.quoted = true;
      i = std::min(text.size(), close + 1);
    } else {
      size_t end = i;
      while (end < text.size() && !is_space(text[end])) ++end;
      item.value = std::string(text.substr(i, end - i));
      i = end;
    }
    if (!item.quoted && !item.negated && item.field.empty() && item.value == "OR")
      item.is_or = true;
    if (item.value.empty() && !item.quoted && item.field.empty()) continue;  // a lone "-"
    items.push_back(std::move(item));
  }
  return items;
}

Scope scope_of(std::string_view field) {
  if (field == "title") return Scope::kTitle;
  if (field == "abstract") return Scope::kAbstract;
  if (field == "author" || field == "authors") return Scope::kAuthors;
  return Scope::kAll;
}

// The clauses a piece of text stands for: one phrase when quoted, else one group per word
// with a compound's joined form or an id's canonical form as an alternative.
std::vector<Group> groups_of(const std::string& value, bool quoted, Scope scope) {
  std::vector<text::Token> tokens = text::analyze(value);
  std::vector<Group> groups;
  if (tokens.empty()) return groups;
  if (quoted) {
    Clause phrase;
    phrase.scope = scope;
    uint32_t first = UINT32_MAX;
    for (const text::Token& token : tokens)
      if (!token.overlay) first = std::min(first, token.position);
    for (const text::Token& token : tokens) {
      if (token.overlay) continue;
      phrase.terms.push_back(token.term);
      phrase.offsets.push_back(token.position - first);
    }
    if (phrase.terms.empty()) return groups;
    Group group;
    group.strict = true;
    group.alternatives.push_back(std::move(phrase));
    groups.push_back(std::move(group));
    return groups;
  }
  // An overlay (joined compound, canonical arXiv id) is another way to satisfy each part of
  // its word; the word's parts are the groups at or after the overlay's position.
  std::vector<uint32_t> group_positions;
  for (const text::Token& token : tokens) {
    Clause clause;
    clause.terms = {token.term};
    clause.offsets = {0};
    clause.scope = scope;
    bool added = false;
    if (token.overlay) {
      for (size_t g = 0; g < groups.size(); ++g) {
        if (group_positions[g] < token.position) continue;
        groups[g].alternatives.push_back(clause);
        added = true;
      }
    }
    if (!added) {
      Group group;
      group.alternatives.push_back(std::move(clause));
      groups.push_back(std::move(group));
      group_positions.push_back(token.position);
    }
  }
  return groups;
}

std::optional<sys_days> parse_day(std::string_view value) {
  if (value.size() != 10 || value[4] != '-' || value[7] != '-') return std::nullopt;
  return parse_date(value);
}

}  // namespace

Result<Query> parse_query(std::string_view raw_text) {
  Query query;
  std::string text = text::sanitize_utf8(raw_text);
  std::string trimmed = text;
  while (!trimmed.empty() && is_space(trimmed.back())) trimmed.pop_back();
  trimmed.erase(0, std::min(trimmed.size(), trimmed.find_first_not_of(" \t\r\n")));
  if (auto id = parse_arxiv_id(trimmed)) query.arxiv_id = id->id;

  std::vector<Item> items = lex(text, query.notes);
  bool pending_or = false;
  for (size_t i = 0; i < items.size(); ++i) {
    Item& item = items[i];
    if (item.is_or) {
      if (query.groups.empty() || i + 1 == items.size())
        query.notes.push_back("OR needs words on both sides; it was ignored");
      else
        pending_or = true;
      continue;
    }
    const std::string& field = item.field;
    if (field == "cat" || field == "category") {
      if (item.value.empty()) {
        query.notes.push_back(field + ": needs a category such as cs.CL");
      } else {
        query.categories.push_back(lower_ascii(item.value));
      }
      pending_or = false;
      continue;
    }
    if (field == "after" || field == "before" || field == "year") {
      if (field == "year") {
        bool digits =
            item.value.size() == 4 && std::all_of(item.value.begin(), item.value.end(),
                                                  [](char c) { return c >= '0' && c <= '9'; });
        if (!digits) return fail("year: expects a year such as 2023, got '" + item.value + "'");
        int year = std::stoi(item.value);
        sys_days first = std::chrono::year{year} / 1 / 1;
        sys_days last = std::chrono::year{year} / 12 / 31;
        query.first_day =
            std::max(query.first_day, static_cast<int32_t>(first.time_since_epoch().count()));
        query.last_day =
            std::min(query.last_day, static_cast<int32_t>(last.time_since_epoch().count()));
      } else {
        auto day = parse_day(item.value);
        if (!day)
          return fail(field + ": expects a date such as 2024-01-01, got '" + item.value + "'");
        auto count = static_cast<int32_t>(day->time_since_epoch().count());
        // after: and before: are exclusive, like the words say.
        if (field == "after")
          query.first_day = std::max(query.first_day, count + 1);
        else
          query.last_day = std::min(query.last_day, count - 1);
      }
      pending_or = false;
      continue;
    }
    // An exclusion drops papers holding its words in order: "-state-space", -"large model".
    std::vector<Group> groups = groups_of(item.value, item.quoted || item.negated, scope_of(field));
    if (groups.empty()) {
      pending_or = false;
      continue;
    }
    if (item.negated) {
      query.excluded.push_back(std::move(groups.front().alternatives.front()));
      pending_or = false;
      continue;
    }
    if (pending_or) {
      // "a OR b": b's first group becomes another way to satisfy a's last group.
      Group& previous = query.groups.back();
      for (Clause& clause : groups.front().alternatives)
        previous.alternatives.push_back(std::move(clause));
      previous.strict = previous.strict && groups.front().strict;
      groups.erase(groups.begin());
      pending_or = false;
    }
    for (Group& group : groups) query.groups.push_back(std::move(group));
  }
  if (query.groups.size() > kMaxGroups) {
    query.notes.push_back("only the first " + std::to_string(kMaxGroups) +
                          " words of the query were used");
    query.groups.resize(kMaxGroups);
  }
  if (query.excluded.size() > kMaxGroups) query.excluded.resize(kMaxGroups);
  if (query.first_day > query.last_day) query.notes.push_back("the date filters exclude every day");
  return query;
}

Query plain_query(std::string_view text) {
  Query query;
  query.groups = groups_of(text::sanitize_utf8(text), /*quoted=*/false, Scope::kAll);
  if (query.groups.size() > kMaxGroups) query.groups.resize(kMaxGroups);
  return query;
}

}  // namespace paperboy::search
