// Keyword search speed: paperboy against SQLite FTS5 and Xapian on the same generated corpus
// and queries. bench/search/run.sh drives it; the subcommands are:
//   search_bench generate RECORDS REAL_DATA_DIR CORPUS.jsonl QUERIES.tsv
//       arXiv-like records whose words, title/abstract lengths, authors and categories are
//       drawn from the real listings in REAL_DATA_DIR (Zipfian word frequencies come from the
//       real unigram counts, plus a Zipf tail of rare words so the vocabulary keeps growing
//       with the corpus as real text does), and queries by class built from real titles.
//   search_bench run ENGINE CORPUS.jsonl QUERIES.tsv WORK_DIR
//       ENGINE is paperboy, fts5 or xapian: builds its index, then runs every query for the
//       top 10 (one warm-up pass, one timed pass) and prints one Markdown table row per class.
//   search_bench query ENGINE CORPUS.jsonl QUERIES.tsv WORK_DIR
//       the same without building: queries the index a previous run left in WORK_DIR.
#include <sys/resource.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <random>
#include <string>
#include <unordered_map>
#include <vector>

#include "bench/search/engines.h"
#include "search/search.h"
#include "text/analyzer.h"

namespace fs = std::filesystem;
using namespace paperboy;

namespace {

using Clock = std::chrono::steady_clock;

// An empirical distribution to sample from.
template <class T>
class Sampler {
 public:
  void add(const T& value, double weight = 1.0) {
    values_.push_back(value);
    total_ += weight;
    cumulative_.push_back(total_);
  }
  const T& draw(std::mt19937_64& random) const {
    double point = std::uniform_real_distribution<double>(0, total_)(random);
    size_t index = static_cast<size_t>(
        std::lower_bound(cumulative_.begin(), cumulative_.end(), point) - cumulative_.begin());
    return values_[std::min(index, values_.size() - 1)];
  }
  size_t size() const { return values_.size(); }

 private:
  std::vector<T> values_;
  std::vector<double> cumulative_;
  double total_ = 0;
};

std::vector<std::string> split_spaces(const std::string& text) {
  std::vector<std::string> words;
  std::string word;
  for (char c : text) {
    if (c == ' ' || c == '\n' || c == '\t' || c == '\r') {
      if (!word.empty()) words.push_back(std::move(word));
      word.clear();
    } else {
      word.push_back(c);
    }
  }
  if (!word.empty()) words.push_back(std::move(word));
  return words;
}

std::string join(const std::vector<std::string>& words, const char* separator = " ") {
  std::string out;
  for (const std::string& word : words) {
    if (!out.empty()) out += separator;
    out += word;
  }
  return out;
}

int generate(size_t records, const fs::path& real_dir, const fs::path& corpus_path,
             const fs::path& queries_path) {
  std::unordered_map<std::string, double> title_counts;
  std::unordered_map<std::string, double> abstract_counts;
  Sampler<size_t> title_lengths;
  Sampler<size_t> abstract_lengths;
  Sampler<std::string> authors;
  Sampler<size_t> author_counts;
  Sampler<std::vector<std::string>> categories;
  std::vector<std::vector<std::string>> real_titles;
  std::vector<fs::path> files;
  for (const auto& entry : fs::directory_iterator(real_dir))
    if (entry.path().extension() == ".jsonl") files.push_back(entry.path());
  std::sort(files.begin(), files.end());
  for (const fs::path& file : files) {
    std::ifstream in(file);
    std::string line;
    while (std::getline(in, line)) {
      auto record = nlohmann::json::parse(line, nullptr, false);
      if (record.is_discarded()) continue;
      auto title = split_spaces(record.value("title", ""));
      auto abstract = split_spaces(record.value("summary", ""));
      for (const auto& word : title) title_counts[word] += 1;
      for (const auto& word : abstract) abstract_counts[word] += 1;
      title_lengths.add(title.size());
      abstract_lengths.add(abstract.size());
      auto names = record.value("authors", std::vector<std::string>{});
      author_counts.add(names.size());
      for (const auto& name : names) authors.add(name);
      categories.add(record.value("categories", std::vector<std::string>{}));
      real_titles.push_back(std::move(title));
    }
  }
  Sampler<std::string> title_words;
  Sampler<std::string> abstract_words;
  for (const auto& [word, count] : title_counts) title_words.add(word, count);
  for (const auto& [word, count] : abstract_counts) abstract_words.add(word, count);
  std::fprintf(stderr,
               "real data: %zu titles, %zu title words, %zu abstract words, %zu author names\n",
               real_titles.size(), title_words.size(), abstract_words.size(), authors.size());

  std::mt19937_64 random(42);
  // Rare words: Zipf(1.1) over 5M synthetic terms, 3% of the words of a document.
  std::vector<double> rare_weights(5'000'000);
  for (size_t i = 0; i < rare_weights.size(); ++i)
    rare_weights[i] = 1.0 / std::pow(double(i + 1), 1.1);
  std::discrete_distribution<size_t> rare(rare_weights.begin(), rare_weights.end());
  std::bernoulli_distribution use_rare(0.03);
  auto word = [&](const Sampler<std::string>& words) {
    if (use_rare(random)) return "zq" + std::to_string(rare(random));
    return words.draw(random);
  };
  std::ofstream corpus(corpus_path);
  int first_day = 18262;  // 2020-01-01
  for (size_t r = 0; r < records; ++r) {
    std::vector<std::string> title;
    for (size_t i = std::max<size_t>(1, title_lengths.draw(random)); i > 0; --i)
      title.push_back(word(title_words));
    std::vector<std::string> abstract;
    for (size_t i = std::max<size_t>(1, abstract_lengths.draw(random)); i > 0; --i)
      abstract.push_back(word(abstract_words));
    std::vector<std::string> names;
    for (size_t i = std::max<size_t>(1, author_counts.draw(random)); i > 0; --i)
      names.push_back(authors.draw(random));
    nlohmann::json record = {
        {"id", "g" + std::to_string(r)},
        {"title", join(title)},
        {"abstract", join(abstract)},
        {"authors", names},
        {"categories", categories.draw(random)},
        {"day", first_day + static_cast<int>(random() % 2000)},
        {"upvotes", static_cast<int>(std::pow(double(random() % 1000) / 1000.0, 8) * 500)}};
    corpus << record.dump() << '\n';
  }

  // Query classes from real titles: words that appear together in real titles.
  std::ofstream queries(queries_path);
  auto content_words = [](const std::vector<std::string>& title) {
    std::vector<std::string> words;
    for (const std::string& raw : title) {
      std::string clean;
      for (char c : raw)
        if (std::isalnum(static_cast<unsigned char>(c)))
          clean.push_back(static_cast<char>(std::tolower(c)));
      if (clean.size() >= 3 && !text::is_stop_word(clean)) words.push_back(clean);
    }
    return words;
  };
  std::map<std::string, size_t> per_class;
  const std::map<std::string, size_t> wanted = {
      {"1 word", 300}, {"2 words", 300}, {"3 words", 300}, {"5 words", 200}, {"phrase", 200}};
  while (per_class.size() < wanted.size() ||
         std::any_of(wanted.begin(), wanted.end(),
                     [&](const auto& entry) { return per_class[entry.first] < entry.second; })) {
    auto words = content_words(real_titles[random() % real_titles.size()]);
    if (words.size() < 5) continue;
    for (const auto& [name, count] : wanted) {
      if (per_class[name] >= count) continue;
      size_t take = name == "phrase" ? 2 : static_cast<size_t>(name[0] - '0');
      size_t start = random() % (words.size() - take + 1);
      std::vector<std::string> picked(words.begin() + static_cast<long>(start),
                                      words.begin() + static_cast<long>(start + take));
      queries << name << '\t' << join(picked) << '\n';
      ++per_class[name];
      break;
    }
  }
  return 0;
}

struct QueryLine {
  std::string query_class;
  std::string text;
};

std::vector<QueryLine> read_queries(const fs::path& path) {
  std::vector<QueryLine> lines;
  std::ifstream in(path);
  std::string line;
  while (std::getline(in, line)) {
    size_t tab = line.find('\t');
    if (tab != std::string::npos) lines.push_back({line.substr(0, tab), line.substr(tab + 1)});
  }
  return lines;
}

uint64_t directory_bytes(const fs::path& path) {
  if (fs::is_regular_file(path)) return fs::file_size(path);
  uint64_t total = 0;
  for (const auto& entry : fs::recursive_directory_iterator(path))
    if (entry.is_regular_file()) total += entry.file_size();
  return total;
}

// Engines: paperboy (papers holding every word first, then partial matches: the query
// language's free-text semantics), fts5 and xapian (every word required, as their free text
// would be with AND), and query-only variants over the same indexes that line the semantics
// up: paperboy-and (every word required), paperboy-or and xapian-or (any word, ranked by score
// alone: SearchOptions::all_words_first = false, what hybrid search asks for).
int run(const std::string& variant, const fs::path& corpus_path, const fs::path& queries_path,
        const fs::path& work, bool reuse_index) {
  const std::string engine = variant.substr(0, variant.find('-'));
  const bool require_all =
      variant != "paperboy" && variant != "paperboy-or" && variant != "xapian-or";
  if (!reuse_index) {
    fs::remove_all(work);
    fs::create_directories(work);
  }
  std::vector<bench::BenchDocument> documents;
  std::vector<index::IndexDocument> index_documents;
  {
    std::ifstream in(corpus_path);
    std::string line;
    while (!reuse_index && std::getline(in, line)) {
      auto record = nlohmann::json::parse(line);
      auto names = record["authors"].get<std::vector<std::string>>();
      if (engine == "paperboy") {
        index::IndexDocument document;
        document.stored.paper_id = record["id"];
        document.stored.date = record["day"];
        document.stored.upvotes = record["upvotes"];
        document.stored.categories = record["categories"].get<std::vector<std::string>>();
        document.title = record["title"];
        document.abstract = record["abstract"];
        document.authors = std::move(names);
        index_documents.push_back(std::move(document));
      } else {
        documents.push_back({record["id"], record["title"], record["abstract"], join(names, ", ")});
      }
    }
  }
  auto queries = read_queries(queries_path);
  size_t records = std::max(documents.size(), index_documents.size());
  if (reuse_index) {
    std::ifstream in(corpus_path);
    records = static_cast<size_t>(std::count(std::istreambuf_iterator<char>(in), {}, '\n'));
  }

  auto build_start = Clock::now();
  std::unique_ptr<bench::Fts5Engine> fts5;
  std::unique_ptr<bench::XapianEngine> xapian;
  std::shared_ptr<const index::Snapshot> snapshot;
  fs::path index_path = work / engine;
  if (engine == "paperboy" && reuse_index) {
    auto opened = index::Snapshot::open(index_path);
    if (!opened) return std::fprintf(stderr, "%s\n", opened.error().message.c_str()), 1;
    snapshot = *opened;
  } else if (engine == "paperboy") {
    auto writer = index::IndexWriter::open(index_path, {.max_buffered_docs = 100'000});
    if (!writer) return std::fprintf(stderr, "%s\n", writer.error().message.c_str()), 1;
    for (auto& document : index_documents)
      if (auto added = (*writer)->add(std::move(document)); !added)
        return std::fprintf(stderr, "%s\n", added.error().message.c_str()), 1;
    index_documents.clear();
    if (auto committed = (*writer)->commit(); !committed) return 1;
    auto merge_start = Clock::now();
    if (auto merged = (*writer)->merge(); !merged) return 1;
    snapshot = (*writer)->snapshot();
    auto seconds_since = [](Clock::time_point start) {
      return std::chrono::duration<double>(Clock::now() - start).count();
    };
    std::fprintf(stderr, "paperboy build: %.1f s analysing and writing segments, %.1f s merging\n",
                 seconds_since(build_start) - seconds_since(merge_start),
                 seconds_since(merge_start));
  } else if (engine == "fts5") {
    index_path = work / "fts5.db";
    fts5 = std::make_unique<bench::Fts5Engine>(index_path.string());
    if (!reuse_index) fts5->add_all(documents);
  } else if (engine == "xapian") {
    xapian = std::make_unique<bench::XapianEngine>(index_path.string());
    if (reuse_index)
      xapian->open_existing();
    else
      xapian->add_all(documents);
  } else {
    std::fprintf(stderr, "unknown engine %s\n", engine.c_str());
    return 2;
  }
  double build_seconds = std::chrono::duration<double>(Clock::now() - build_start).count();
  documents.clear();
  documents.shrink_to_fit();

  // Top 10 as the peers; PAPERBOY_BENCH_TOP_K asks paperboy for more (hybrid takes 100).
  const char* top_k_setting = std::getenv("PAPERBOY_BENCH_TOP_K");
  const size_t top_k = top_k_setting != nullptr ? std::stoul(top_k_setting) : 10;
  auto run_query = [&](const QueryLine& query) {
    bool phrase = query.query_class == "phrase";
    if (engine == "paperboy") {
      search::SearchOptions options;
      options.limit = top_k;
      options.all_words_first = variant != "paperboy-or";
      auto parsed = search::parse_query(phrase ? "\"" + query.text + "\"" : query.text);
      if (!parsed) return size_t{0};
      if (require_all) {
        for (search::Group& group : parsed->groups) group.strict = true;
      }
      auto results = search::search(*snapshot, *parsed, options);
      return results ? results->hits.size() : 0;
    }
    const auto match = require_all ? bench::Match::kAll : bench::Match::kAny;
    if (engine == "fts5") return fts5->search(query.text, 10, match, phrase).size();
    return xapian->search(query.text, 10, match, phrase).size();
  };
  for (const QueryLine& query : queries) run_query(query);  // warm-up: page cache and caches
  std::map<std::string, std::vector<double>> latencies;
  std::map<std::string, size_t> empty;
  std::vector<std::pair<double, const QueryLine*>> slowest;
  for (const QueryLine& query : queries) {
    auto start = Clock::now();
    size_t hits = run_query(query);
    double micros = std::chrono::duration<double, std::micro>(Clock::now() - start).count();
    latencies[query.query_class].push_back(micros);
    slowest.emplace_back(micros, &query);
    if (hits == 0) ++empty[query.query_class];
  }
  struct rusage usage {};
  getrusage(RUSAGE_SELF, &usage);
  std::printf("| %s | %zu | %.1f | %.0f | %.0f |", variant.c_str(), records, build_seconds,
              static_cast<double>(directory_bytes(index_path)) / 1e6,
              static_cast<double>(usage.ru_maxrss) / 1024.0);
  for (auto& [name, values] : latencies) {
    std::sort(values.begin(), values.end());
    double total = 0;
    for (double value : values) total += value;
    double p50 = values[values.size() / 2];
    double p99 = values[std::min(values.size() - 1, values.size() * 99 / 100)];
    std::printf(" %.2f / %.2f / %.0f |", p50 / 1000.0, p99 / 1000.0,
                1e6 * static_cast<double>(values.size()) / total);
  }
  std::printf("\n");
  std::fflush(stdout);
  std::fprintf(stderr, "%s: classes", variant.c_str());
  for (const auto& [name, values] : latencies)
    std::fprintf(stderr, " [%s: %zu queries, %zu empty]", name.c_str(), values.size(), empty[name]);
  std::fprintf(stderr, "\n");
  // The tail is what p99 is made of: name the queries so that they can be profiled.
  size_t shown = std::min<size_t>(slowest.size(), 10);
  std::partial_sort(slowest.begin(), slowest.begin() + static_cast<long>(shown), slowest.end(),
                    [](const auto& a, const auto& b) { return a.first > b.first; });
  for (size_t i = 0; i < shown; ++i)
    std::fprintf(stderr, "%s: slow %.2f ms [%s] %s\n", variant.c_str(), slowest[i].first / 1000.0,
                 slowest[i].second->query_class.c_str(), slowest[i].second->text.c_str());
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<std::string> args(argv + 1, argv + argc);
  if (args.size() == 5 && args[0] == "generate")
    return generate(std::stoul(args[1]), args[2], args[3], args[4]);
  if (args.size() == 5 && (args[0] == "run" || args[0] == "query"))
    return run(args[1], args[2], args[3], args[4], args[0] == "query");
  std::fprintf(
      stderr,
      "usage: search_bench generate RECORDS REAL_DATA_DIR CORPUS.jsonl QUERIES.tsv\n"
      "       search_bench run paperboy|fts5|xapian CORPUS.jsonl QUERIES.tsv WORK_DIR\n"
      "       search_bench query ENGINE ...same as run, reusing the index a run left in WORK_DIR;\n"
      "                          ENGINE may also be paperboy-and, paperboy-or or xapian-or\n");
  return 2;
}
