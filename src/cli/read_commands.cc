// Read-only commands: show, feed, trending, stats, export.
#include <cstdio>
#include <fstream>
#include <iostream>

#include "cli/commands.h"
#include "core/date.h"
#include "feed/feed.h"
#include "ingest/canonical.h"
#include "store/store.h"

namespace paperboy::cli {

namespace {

// Reading commands do not create an empty SQLite store where none is.
Result<std::unique_ptr<store::Store>> open_store(const GlobalOptions& global) {
  if (global.store.empty() && !std::filesystem::exists(store_path(global)))
    return fail(store_path(global).string() +
                ": no store here yet; run `paperboy ingest FILE...` first or pass --data DIR");
  return open_papers_store(global);
}

std::string join(const std::vector<std::string>& items, const char* separator) {
  std::string out;
  for (const std::string& item : items) {
    if (!out.empty()) out += separator;
    out += item;
  }
  return out;
}

std::string authors_line(const Paper& paper) {
  if (!paper.authors.empty()) return join(paper.authors, ", ");
  if (paper.author_count > 0) return std::to_string(paper.author_count) + " authors";
  return "unknown authors";
}

void print_paper(const Paper& paper) {
  std::printf("%s\n", paper.title.c_str());
  std::printf("  id:          %s%s\n", paper_id(paper).c_str(),
              paper.version > 0 ? ("v" + std::to_string(paper.version)).c_str() : "");
  std::printf("  authors:     %s\n", authors_line(paper).c_str());
  auto field = [](const char* name, const std::string& value) {
    if (!value.empty()) std::printf("  %-12s %s\n", name, value.c_str());
  };
  field("categories:", join(paper.categories, " "));
  field("published:", paper.published);
  field("updated:", paper.updated);
  field("in feed:", paper.feed_day);
  std::printf("  upvotes:     %lld\n", static_cast<long long>(paper.upvotes));
  field("submitted by:", paper.submitted_by);
  field("doi:", paper.doi);
  field("journal:", paper.journal_ref);
  field("comments:", paper.comments);
  field("licence:", paper.license);
  field("abs:", abs_url(paper));
  field("pdf:", pdf_url(paper));
  field("code:", paper.code_url);
  field("project:", paper.project_url);
  field("source:", paper.source);
  if (!paper.abstract.empty()) std::printf("\n%s\n", paper.abstract.c_str());
}

void print_listing_line(const Paper& paper) {
  const std::string category =
      paper.categories.empty() ? "" : " [" + paper.categories.front() + "]";
  std::printf("%5lld  %-18s %s%s\n", static_cast<long long>(paper.upvotes), paper_id(paper).c_str(),
              paper.title.c_str(), category.c_str());
}

int report(const Error& error, const char* command) {
  std::fprintf(stderr, "paperboy %s: %s\n", command, error.message.c_str());
  return kError;
}

}  // namespace

std::filesystem::path store_path(const GlobalOptions& global) {
  return global.data_dir / "paperboy.db";
}

Result<std::unique_ptr<store::Store>> open_papers_store(const GlobalOptions& global) {
  return store::open_store(global.store, store_path(global));
}

std::string store_name(const GlobalOptions& global) {
  return global.store.empty() ? store_path(global).string()
                              : store::redact_store_locator(global.store);
}

int run_show(const GlobalOptions& global, const std::string& id, bool json) {
  auto store = open_store(global);
  if (!store) return report(store.error(), "show");
  auto paper = (*store)->find(id);
  if (!paper) return report(paper.error(), "show");
  if (!*paper) {
    std::fprintf(stderr, "paperboy show: no paper '%s' in %s\n", id.c_str(),
                 store_name(global).c_str());
    return kNotFound;
  }
  if (json)
    std::printf("%s\n", ingest::to_canonical_json(**paper).c_str());
  else
    print_paper(**paper);
  return kSuccess;
}

int run_feed(const GlobalOptions& global, const FeedOptions& options) {
  feed::FeedQuery query;
  if (options.period == "day")
    query.period = feed::Period::day;
  else if (options.period == "week")
    query.period = feed::Period::week;
  else if (options.period == "month")
    query.period = feed::Period::month;
  if (options.sort == "upvotes")
    query.sort = feed::SortOrder::upvotes;
  else if (options.sort == "date")
    query.sort = feed::SortOrder::date;
  else if (options.sort == "trending")
    query.sort = feed::SortOrder::trending;
  else {
    std::fprintf(stderr, "paperboy feed: --sort must be upvotes, date or trending, not '%s'\n",
                 options.sort.c_str());
    return kUsage;
  }
  query.category = options.category;

  auto store = open_store(global);
  if (!store) return report(store.error(), "feed");
  if (options.date.empty()) {
    auto latest = feed::latest_feed_day(**store, today());
    if (!latest) return report(latest.error(), "feed");
    if (!*latest) {
      std::fprintf(stderr, "paperboy feed: the feed is empty\n");
      return kNotFound;
    }
    query.date = *parse_date(**latest);
  } else {
    auto date = parse_date(options.date);
    if (!date) {
      std::fprintf(stderr, "paperboy feed: '%s' is not a date (YYYY-MM-DD)\n",
                   options.date.c_str());
      return kUsage;
    }
    query.date = *date;
  }

  auto page = feed::load_feed(**store, query);
  if (!page) return report(page.error(), "feed");
  if (options.json) {
    for (const Paper& paper : page->papers)
      std::printf("%s\n", ingest::to_canonical_json(paper).c_str());
    return kSuccess;
  }
  if (page->first_day == page->last_day)
    std::printf("Daily papers, %s: %zu papers\n", page->first_day.c_str(), page->papers.size());
  else
    std::printf("Papers %s .. %s: %zu papers\n", page->first_day.c_str(), page->last_day.c_str(),
                page->papers.size());
  for (const Paper& paper : page->papers) print_listing_line(paper);
  if (!page->previous.empty() || !page->next.empty())
    std::printf("previous: %s  next: %s\n", page->previous.empty() ? "-" : page->previous.c_str(),
                page->next.empty() ? "-" : page->next.c_str());
  return kSuccess;
}

int run_trending(const GlobalOptions& global, size_t limit, bool json) {
  auto store = open_store(global);
  if (!store) return report(store.error(), "trending");
  auto now = std::chrono::floor<std::chrono::seconds>(std::chrono::system_clock::now());
  auto papers = feed::trending(**store, now, limit);
  if (!papers) return report(papers.error(), "trending");
  for (const Paper& paper : *papers) {
    if (json)
      std::printf("%s\n", ingest::to_canonical_json(paper).c_str());
    else
      print_listing_line(paper);
  }
  return kSuccess;
}

int run_stats(const GlobalOptions& global, bool json) {
  auto store = open_store(global);
  if (!store) return report(store.error(), "stats");
  auto stats = (*store)->stats();
  if (!stats) return report(stats.error(), "stats");
  std::error_code error;
  // A PostgreSQL store has no file: its size reads as 0.
  const auto bytes = std::filesystem::file_size(
      global.store.empty() ? store_path(global) : std::filesystem::path(global.store), error);
  if (json) {
    std::printf(
        "{\"papers\":%lld,\"papers_with_arxiv_id\":%lld,\"papers_in_feed\":%lld,\"feed_days\":%lld,"
        "\"total_upvotes\":%lld,\"first_feed_day\":\"%s\",\"last_feed_day\":\"%s\",\"schema_"
        "version\":%d,"
        "\"store_bytes\":%llu}\n",
        static_cast<long long>(stats->papers), static_cast<long long>(stats->papers_with_arxiv_id),
        static_cast<long long>(stats->papers_in_feed), static_cast<long long>(stats->feed_days),
        static_cast<long long>(stats->total_upvotes), stats->first_feed_day.c_str(),
        stats->last_feed_day.c_str(), stats->schema_version,
        static_cast<unsigned long long>(error ? 0 : bytes));
    return kSuccess;
  }
  std::printf("store:          %s (%.1f MB, schema %d)\n", store_name(global).c_str(),
              error ? 0.0 : static_cast<double>(bytes) / 1e6, stats->schema_version);
  std::printf("papers:         %lld (%lld with an arXiv id)\n",
              static_cast<long long>(stats->papers),
              static_cast<long long>(stats->papers_with_arxiv_id));
  std::printf("in the feed:    %lld papers on %lld days",
              static_cast<long long>(stats->papers_in_feed),
              static_cast<long long>(stats->feed_days));
  if (!stats->first_feed_day.empty())
    std::printf(", %s .. %s", stats->first_feed_day.c_str(), stats->last_feed_day.c_str());
  std::printf("\nupvotes:        %lld\n", static_cast<long long>(stats->total_upvotes));
  return kSuccess;
}

int run_export(const GlobalOptions& global, const std::string& output) {
  auto store = open_store(global);
  if (!store) return report(store.error(), "export");
  std::ofstream file;
  std::ostream* out = &std::cout;
  if (output != "-") {
    file.open(output, std::ios::binary | std::ios::trunc);
    if (!file) return report(Error{output + ": cannot open for writing"}, "export");
    out = &file;
  }
  size_t count = 0;
  auto visited = (*store)->for_each_paper([&](const Paper& paper) {
    *out << ingest::to_canonical_json(paper) << '\n';
    ++count;
  });
  if (!visited) return report(visited.error(), "export");
  out->flush();
  if (!*out) return report(Error{output + ": write failed (disk full?)"}, "export");
  if (output != "-") std::fprintf(stderr, "exported %zu papers to %s\n", count, output.c_str());
  return kSuccess;
}

}  // namespace paperboy::cli
