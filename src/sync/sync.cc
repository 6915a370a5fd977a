#include "sync/sync.h"

#include <algorithm>
#include <map>
#include <nlohmann/json.hpp>
#include <pugixml.hpp>
#include <set>
#include <thread>
#include <utility>

#include "core/arxiv_id.h"
#include "core/date.h"
#include "ingest/ingest.h"
#include "sync/http.h"
#include "sync/state.h"

namespace paperboy::sync {
namespace {

// Local part of an element name ("opensearch:totalResults" -> "totalResults").
std::string_view local_name(pugi::xml_node node) {
  std::string_view name = node.name();
  const size_t colon = name.find(':');
  return colon == std::string_view::npos ? name : name.substr(colon + 1);
}

pugi::xml_node child_named(pugi::xml_node parent, std::string_view local) {
  for (pugi::xml_node child : parent.children()) {
    if (child.type() == pugi::node_element && local_name(child) == local) return child;
  }
  return {};
}

std::string trimmed_text(pugi::xml_node node) {
  std::string text = node.child_value();
  const size_t first = text.find_first_not_of(" \t\r\n");
  if (first == std::string::npos) return {};
  const size_t last = text.find_last_not_of(" \t\r\n");
  return text.substr(first, last - first + 1);
}

// Why a body is not the complete XML document with root `root`, or nullopt when it is.
std::optional<std::string> xml_problem(const std::string& body, std::string_view root,
                                       pugi::xml_document& document) {
  const pugi::xml_parse_result parsed = document.load_buffer(body.data(), body.size());
  if (!parsed) {
    return "malformed XML at byte " + std::to_string(parsed.offset) + " of " +
           std::to_string(body.size()) + ": " + parsed.description();
  }
  if (local_name(document.document_element()) != root) {
    return "the response is not <" + std::string(root) + "> but <" +
           std::string(document.document_element().name()) + ">";
  }
  return std::nullopt;
}

// The OAI-PMH set holding a category: "cs.CL" -> "cs", "hep-th" -> "physics:hep-th".
std::string oai_set(std::string_view category) {
  const std::string archive(category.substr(0, category.find('.')));
  static const std::set<std::string, std::less<>> kTopLevel = {"cs",    "econ",  "eess", "math",
                                                               "q-bio", "q-fin", "stat", "physics"};
  if (kTopLevel.contains(archive)) return archive;
  return "physics:" + archive;
}

// Whether a paper lists one of `wanted` ("cs.CL" exactly, or "cs" as an archive).
bool in_categories(const Paper& paper, const std::vector<std::string>& wanted) {
  if (wanted.empty()) return true;
  for (const std::string& category : paper.categories) {
    for (const std::string& want : wanted) {
      if (category == want) return true;
      if (want.find('.') == std::string::npos && category.starts_with(want) &&
          category.size() > want.size() && category[want.size()] == '.')
        return true;
    }
  }
  return false;
}

struct Parsed {
  std::vector<Paper> papers;
  size_t rejected = 0;
};

Result<Parsed> parse_body(const std::string& body, const std::string& url, ingest::Format format,
                          const std::string& feed_day = {}) {
  Parsed parsed;
  ingest::ImportOptions options;
  options.format = format;
  options.default_feed_day = feed_day;
  ingest::Sink sink;
  sink.on_paper = [&](Paper&& paper) -> Result<void> {
    // arXiv papers enter the feed on the day of their first version, unless a source knew better.
    if (paper.feed_day.empty()) paper.feed_day = paper.published;
    parsed.papers.push_back(std::move(paper));
    return {};
  };
  sink.on_rejection = [&](const ingest::Rejection&) { ++parsed.rejected; };
  if (auto imported = ingest::import_buffer(body, url, options, sink); !imported)
    return std::unexpected(imported.error());
  return parsed;
}

std::string day_string(std::chrono::sys_days day) { return format_date(day); }

std::string json_string(const nlohmann::json& object, const char* key) {
  auto found = object.find(key);
  return found != object.end() && found->is_string() ? found->get<std::string>() : std::string();
}

size_t json_size(const nlohmann::json& object, const char* key) {
  auto found = object.find(key);
  return found != object.end() && found->is_number_unsigned() ? found->get<size_t>() : 0;
}

std::string with_query(const std::string& base, const std::string& query) {
  return base + (base.find('?') == std::string::npos ? "?" : "&") + query;
}

Result<void> check_day(const std::string& day, const char* what) {
  if (day.empty()) return {};
  auto parsed = parse_date(day);
  if (!parsed || format_date(*parsed) != day) {
    return fail(std::string(what) + " date \"" + day + "\" is not YYYY-MM-DD");
  }
  return {};
}

}  // namespace

SyncTotals& SyncTotals::operator+=(const SyncTotals& other) {
  requests += other.requests;
  pages += other.pages;
  records += other.records;
  added += other.added;
  updated += other.updated;
  unchanged += other.unchanged;
  skipped += other.skipped;
  rejected += other.rejected;
  retries += other.retries;
  still_queued += other.still_queued;
  resumed = resumed || other.resumed;
  return *this;
}

std::filesystem::path state_file(const std::filesystem::path& data_dir) {
  return data_dir / "sync" / "state.json";
}

SyncCounters& process_counters() {
  static SyncCounters counters;
  return counters;
}

std::vector<std::string> recent_days(std::chrono::sys_days today, int count) {
  std::vector<std::string> days;
  for (int back = count - 1; back >= 0; --back)
    days.push_back(day_string(today - std::chrono::days(back)));
  return days;
}

HarvestPositions::HarvestPositions(std::filesystem::path state_file,
                                   std::shared_ptr<store::SharedState> shared)
    : state_file_(std::move(state_file)), shared_(std::move(shared)) {}

Result<nlohmann::json> HarvestPositions::load(const std::string& key) const {
  if (!shared_) return load_state(state_file_, key);
  auto text = shared_->get("sync:" + key);
  if (!text) return std::unexpected(text.error());
  if (!*text) return nlohmann::json::object();
  auto parsed = nlohmann::json::parse(**text, nullptr, false);
  if (parsed.is_discarded() || !parsed.is_object()) {
    return fail("shared sync state \"sync:" + key +
                "\" is not a JSON object; delete its cluster_state row to harvest from scratch");
  }
  return parsed;
}

Result<void> HarvestPositions::save(const std::string& key, const nlohmann::json& value) const {
  if (!shared_) return save_state(state_file_, key, value);
  return shared_->put("sync:" + key, value.dump());
}

Result<HarvestPositions> open_harvest_positions(std::string_view store_locator,
                                                const std::filesystem::path& data_dir) {
  if (!store::is_shared_store(store_locator)) return HarvestPositions(state_file(data_dir));
  auto shared = store::open_postgres_shared_state(store_locator);
  if (!shared) return std::unexpected(shared.error());
  return HarvestPositions(state_file(data_dir), std::move(*shared));
}

Syncer::Syncer(store::Store& store, HarvestPositions positions, SyncSources sources,
               HttpPolicy policy, SyncCounters& counters,
               std::function<void(const SyncTotals&)> on_page)
    : store_(store),
      positions_(std::move(positions)),
      sources_(std::move(sources)),
      policy_(std::move(policy)),
      counters_(counters),
      on_page_(std::move(on_page)) {}

void Syncer::stop() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_all();
}

bool Syncer::wait(std::chrono::milliseconds duration) {
  std::unique_lock lock(mutex_);
  return !wake_.wait_for(lock, duration, [this] { return stopping_.load(); });
}

Result<std::string> Syncer::get(const std::string& url, const BodyCheck& check,
                                SyncTotals& totals) {
  std::string problem;
  auto backoff = policy_.backoff;
  for (int attempt = 1; attempt <= std::max(policy_.max_attempts, 1); ++attempt) {
    if (requested_before_) {
      const auto since = std::chrono::steady_clock::now() - last_request_;
      if (since < policy_.delay &&
          !wait(std::chrono::duration_cast<std::chrono::milliseconds>(policy_.delay - since)))
        return fail(url + ": stopped");
    }
    if (stopping_) return fail(url + ": stopped");
    last_request_ = std::chrono::steady_clock::now();
    requested_before_ = true;
    ++totals.requests;
    ++counters_.requests;
    std::optional<std::chrono::milliseconds> retry_wait;
    auto response = http_get(url, policy_.timeout, policy_.user_agent, stopping_);
    if (!response) {
      problem = response.error().message;
    } else if (response->status == 200) {
      auto bad = check(response->body);
      if (!bad) return std::move(response->body);
      problem = url + ": " + *bad;
    } else if (response->status == 429 || response->status >= 500) {
      problem = url + ": HTTP status " + std::to_string(response->status);
      if (response->retry_after) {
        retry_wait =
            std::min<std::chrono::milliseconds>(*response->retry_after, policy_.max_retry_after);
      }
    } else {
      return fail(url + ": HTTP status " + std::to_string(response->status) +
                  " (a request error; not retried)");
    }
    if (attempt == policy_.max_attempts) break;
    ++totals.retries;
    ++counters_.retries;
    if (!wait(retry_wait.value_or(backoff))) return fail(url + ": stopped");
    if (!retry_wait) backoff *= 2;
  }
  return fail(problem + " (gave up after " + std::to_string(policy_.max_attempts) + " attempts)");
}

Result<void> Syncer::store_papers(std::vector<Paper>& papers, SyncTotals& totals) {
  std::erase_if(papers, [&](const Paper& paper) {
    bool rejected = !store::check_storable(paper);
    totals.rejected += rejected;
    return rejected;
  });
  if (papers.empty()) return {};
  if (auto begun = store_.begin_batch(); !begun) return begun;
  // One merge for the whole page of records (two round trips a chunk on PostgreSQL).
  auto outcomes = store_.upsert_many(papers);
  if (!outcomes) {
    store_.rollback_batch();
    return std::unexpected(outcomes.error());
  }
  for (store::UpsertOutcome outcome : *outcomes) {
    ++totals.records;
    ++counters_.records;
    switch (outcome) {
      case store::UpsertOutcome::added:
        ++totals.added;
        ++counters_.added;
        break;
      case store::UpsertOutcome::updated:
        ++totals.updated;
        ++counters_.updated;
        break;
      case store::UpsertOutcome::unchanged:
        ++totals.unchanged;
        ++counters_.unchanged;
        break;
    }
  }
  return store_.commit_batch();
}

Result<SyncTotals> Syncer::sync_arxiv(const ArxivSyncOptions& options) {
  if (options.categories.empty()) return fail("sync arxiv: no categories given");
  if (auto checked = check_day(options.from, "--from"); !checked)
    return std::unexpected(checked.error());
  if (auto checked = check_day(options.until, "--until"); !checked)
    return std::unexpected(checked.error());
  ++counters_.runs;
  auto synced = options.source == ArxivSource::oai ? sync_oai(options) : sync_api(options);
  if (!synced) ++counters_.errors;
  return synced;
}

Result<SyncTotals> Syncer::sync_oai(const ArxivSyncOptions& options) {
  auto lock = SyncLock::acquire(positions_.state_file());
  if (!lock) return std::unexpected(lock.error());
  std::map<std::string, std::vector<std::string>> categories_by_set;
  for (const std::string& category : options.categories)
    categories_by_set[oai_set(category)].push_back(category);

  SyncTotals totals;
  for (const auto& [set, categories] : categories_by_set) {
    const std::string key = "oai:" + options.metadata_prefix + ":" + set;
    auto saved = positions_.load(key);
    if (!saved) return std::unexpected(saved.error());
    const std::string harvested_through = json_string(*saved, "harvested_through");
    std::string from = options.from;
    if (from.empty()) {
      from = harvested_through.empty() ? day_string(today() - std::chrono::days(2))
                                       : harvested_through;
    }
    std::string token;
    std::string newest = harvested_through;
    if (json_string(*saved, "from") == from && json_string(*saved, "until") == options.until) {
      token = json_string(*saved, "resumption_token");
      if (!token.empty()) {
        totals.resumed = true;
        newest = std::max(newest, json_string(*saved, "newest_datestamp"));
      }
    }
    for (;;) {
      const std::string url =
          token.empty()
              ? with_query(
                    sources_.arxiv_oai_url,
                    "verb=ListRecords&metadataPrefix=" + url_encode(options.metadata_prefix) +
                        "&set=" + url_encode(set) + "&from=" + from +
                        (options.until.empty() ? "" : "&until=" + options.until))
              : with_query(sources_.arxiv_oai_url,
                           "verb=ListRecords&resumptionToken=" + url_encode(token));
      pugi::xml_document document;
      auto body = get(
          url, [&](const std::string& text) { return xml_problem(text, "OAI-PMH", document); },
          totals);
      if (!body) return std::unexpected(body.error());
      ++totals.pages;
      const pugi::xml_node root = document.document_element();
      if (pugi::xml_node error = child_named(root, "error")) {
        const std::string code = error.attribute("code").value();
        if (code == "noRecordsMatch") {
          token.clear();
        } else if (code == "badResumptionToken" && !token.empty()) {
          // Tokens expire (arXiv keeps them for hours); start the same harvest again.
          token.clear();
          continue;
        } else {
          return fail(url + ": OAI-PMH error " + code + ": " + trimmed_text(error));
        }
      } else {
        const pugi::xml_node list = child_named(root, "ListRecords");
        for (pugi::xml_node record : list.children()) {
          if (local_name(record) != "record") continue;
          newest = std::max(newest,
                            trimmed_text(child_named(child_named(record, "header"), "datestamp")));
        }
        auto parsed = parse_body(*body, url, ingest::Format::oai_pmh);
        if (!parsed) return std::unexpected(parsed.error());
        totals.rejected += parsed->rejected;
        std::vector<Paper> kept;
        for (Paper& paper : parsed->papers) {
          if (in_categories(paper, categories)) {
            kept.push_back(std::move(paper));
          } else {
            ++totals.skipped;
          }
        }
        if (auto stored = store_papers(kept, totals); !stored)
          return std::unexpected(stored.error());
        token = trimmed_text(child_named(list, "resumptionToken"));
      }
      nlohmann::json state = {{"from", from},
                              {"until", options.until},
                              {"newest_datestamp", newest},
                              {"harvested_through", harvested_through}};
      if (token.empty()) {
        state["harvested_through"] = std::max(harvested_through, newest.empty() ? from : newest);
      } else {
        state["resumption_token"] = token;
      }
      if (auto saved_state = positions_.save(key, state); !saved_state)
        return std::unexpected(saved_state.error());
      if (on_page_) on_page_(totals);
      if (token.empty()) break;
    }
  }
  return totals;
}

Result<SyncTotals> Syncer::sync_api(const ArxivSyncOptions& options) {
  auto lock = SyncLock::acquire(positions_.state_file());
  if (!lock) return std::unexpected(lock.error());
  std::string query;
  for (const std::string& category : options.categories)
    query += (query.empty() ? "cat:" : " OR cat:") + category;
  if (!options.from.empty() || !options.until.empty()) {
    auto compact = [](std::string day) {
      std::erase(day, '-');
      return day;
    };
    const std::string first = options.from.empty() ? "19910101" : compact(options.from);
    const std::string last =
        options.until.empty() ? compact(day_string(today())) : compact(options.until);
    query = "(" + query + ") AND submittedDate:[" + first + "0000 TO " + last + "2359]";
  }
  const std::string key = "api:" + query;
  auto saved = positions_.load(key);
  if (!saved) return std::unexpected(saved.error());
  const std::string newest_before = json_string(*saved, "newest_updated");
  // Without dates, an incremental run stops at papers no newer than the last complete run saw.
  const std::string stop_before = options.from.empty() ? newest_before : std::string();
  SyncTotals totals;
  size_t start = json_size(*saved, "start");
  std::string run_newest = json_string(*saved, "run_newest");
  totals.resumed = start > 0;
  const size_t page_size = std::max<size_t>(options.page_size, 1);
  for (;;) {
    const std::string url = with_query(
        sources_.arxiv_api_url,
        "search_query=" + url_encode(query) +
            "&sortBy=lastUpdatedDate&sortOrder=descending&start=" + std::to_string(start) +
            "&max_results=" + std::to_string(page_size));
    pugi::xml_document document;
    size_t entries = 0, total_results = 0;
    auto body = get(
        url,
        [&](const std::string& text) -> std::optional<std::string> {
          if (auto problem = xml_problem(text, "feed", document)) return problem;
          const pugi::xml_node feed = document.document_element();
          entries = 0;
          for (pugi::xml_node child : feed.children()) entries += local_name(child) == "entry";
          total_results = static_cast<size_t>(
              std::max(0LL, child_named(feed, "totalResults").text().as_llong(0)));
          // The API now and then answers a page in range with no entries; asking again works.
          if (entries == 0 && start < total_results) {
            return "an empty page although totalResults is " + std::to_string(total_results);
          }
          return std::nullopt;
        },
        totals);
    if (!body) return std::unexpected(body.error());
    ++totals.pages;
    auto parsed = parse_body(*body, url, ingest::Format::arxiv_atom);
    if (!parsed) return std::unexpected(parsed.error());
    totals.rejected += parsed->rejected;
    std::string oldest_on_page;
    std::vector<Paper> kept;
    for (Paper& paper : parsed->papers) {
      const std::string& updated = paper.updated.empty() ? paper.published : paper.updated;
      run_newest = std::max(run_newest, updated);
      if (oldest_on_page.empty() || updated < oldest_on_page) oldest_on_page = updated;
      if (in_categories(paper, options.categories)) {
        kept.push_back(std::move(paper));
      } else {
        ++totals.skipped;
      }
    }
    if (auto stored = store_papers(kept, totals); !stored) return std::unexpected(stored.error());
    start += entries;
    const bool done =
        entries < page_size || start >= total_results ||
        (!stop_before.empty() && !oldest_on_page.empty() && oldest_on_page < stop_before);
    nlohmann::json state = {{"newest_updated", newest_before}};
    if (done) {
      state["newest_updated"] = std::max(newest_before, run_newest);
    } else {
      state["start"] = start;
      state["run_newest"] = run_newest;
    }
    if (auto saved_state = positions_.save(key, state); !saved_state)
      return std::unexpected(saved_state.error());
    if (on_page_) on_page_(totals);
    if (done) break;
  }
  return totals;
}

Result<SyncTotals> Syncer::sync_hf(const std::vector<std::string>& days) {
  for (const std::string& day : days) {
    if (auto checked = check_day(day, "daily papers"); !checked)
      return std::unexpected(checked.error());
  }
  auto lock = SyncLock::acquire(positions_.state_file());
  if (!lock) return std::unexpected(lock.error());
  ++counters_.runs;
  SyncTotals totals;
  for (const std::string& day : days) {
    const std::string url = with_query(sources_.hf_api_url, "date=" + day);
    auto body = get(
        url,
        [](const std::string& text) -> std::optional<std::string> {
          if (nlohmann::json::accept(text)) return std::nullopt;
          return "not complete JSON (" + std::to_string(text.size()) + " bytes)";
        },
        totals);
    auto parsed = body ? parse_body(*body, url, ingest::Format::hf_daily, day)
                       : Result<Parsed>(std::unexpected(body.error()));
    if (!parsed) {
      ++counters_.errors;
      return std::unexpected(parsed.error());
    }
    ++totals.pages;
    totals.rejected += parsed->rejected;
    if (auto stored = store_papers(parsed->papers, totals); !stored) {
      ++counters_.errors;
      return std::unexpected(stored.error());
    }
    if (on_page_) on_page_(totals);
  }
  return totals;
}

Result<SyncTotals> Syncer::fetch_queued(store::CommunityStore& community) {
  auto queue = community.fetch_queue();
  if (!queue) return std::unexpected(queue.error());
  SyncTotals totals;
  if (queue->empty()) return totals;
  auto lock = SyncLock::acquire(positions_.state_file());
  if (!lock) return std::unexpected(lock.error());
  ++counters_.runs;
  // The API takes a list of ids; 50 keeps each answer small.
  constexpr size_t kIdsPerRequest = 50;
  for (size_t begin = 0; begin < queue->size(); begin += kIdsPerRequest) {
    const size_t end = std::min(queue->size(), begin + kIdsPerRequest);
    std::string ids;
    std::map<std::string, std::string> queued_by_id;  // normalised id -> id as queued
    for (size_t i = begin; i < end; ++i) {
      const std::string& queued = (*queue)[i].arxiv_id;
      auto parsed_id = parse_arxiv_id(queued);
      const std::string id = parsed_id ? parsed_id->id : queued;
      queued_by_id.emplace(id, queued);
      ids += (ids.empty() ? "" : ",") + id;
    }
    const std::string url =
        with_query(sources_.arxiv_api_url,
                   "id_list=" + url_encode(ids) + "&max_results=" + std::to_string(kIdsPerRequest));
    pugi::xml_document document;
    auto body = get(
        url, [&](const std::string& text) { return xml_problem(text, "feed", document); }, totals);
    auto parsed = body ? parse_body(*body, url, ingest::Format::arxiv_atom)
                       : Result<Parsed>(std::unexpected(body.error()));
    if (!parsed) {
      ++counters_.errors;
      return std::unexpected(parsed.error());
    }
    ++totals.pages;
    totals.rejected += parsed->rejected;
    std::vector<std::string> stored_ids;
    for (const Paper& paper : parsed->papers) {
      if (queued_by_id.contains(paper.arxiv_id)) stored_ids.push_back(paper.arxiv_id);
    }
    if (auto stored = store_papers(parsed->papers, totals); !stored) {
      ++counters_.errors;
      return std::unexpected(stored.error());
    }
    for (const std::string& id : stored_ids) {
      if (auto marked = community.fetched(queued_by_id[id]); !marked) {
        ++counters_.errors;
        return std::unexpected(marked.error());
      }
      queued_by_id.erase(id);
    }
    totals.still_queued += queued_by_id.size();
    if (on_page_) on_page_(totals);
  }
  return totals;
}

}  // namespace paperboy::sync
