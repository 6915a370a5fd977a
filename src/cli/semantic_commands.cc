// Semantic search commands: `paperboy embed train`, `paperboy related`, `paperboy search` in
// semantic and hybrid modes (and --like), `paperboy eval` across modes.
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <iterator>
#include <map>
#include <nlohmann/json.hpp>
#include <sstream>

#include "cli/commands.h"
#include "cli/index_sync.h"
#include "cli/progress.h"
#include "cli/vector_sync.h"
#include "embed/sif_model.h"
#include "encoder/paper_embedder.h"
#include "hybrid/evaluation.h"
#include "hybrid/hybrid.h"
#include "ingest/ingest.h"
#include "store/store.h"

namespace paperboy::cli {

namespace {

namespace fs = std::filesystem;

constexpr size_t kSnippetCharacters = 240;

int report(const Error& error, const char* command) {
  std::fprintf(stderr, "paperboy %s: %s\n", command, error.message.c_str());
  return kError;
}

// The start of an abstract, cut at a space, on one line.
std::string excerpt(const std::string& text) {
  std::string flat = collapse_whitespace(text);
  if (flat.size() <= kSnippetCharacters) return flat;
  size_t cut = flat.rfind(' ', kSnippetCharacters);
  if (cut == std::string::npos || cut < kSnippetCharacters / 2) cut = kSnippetCharacters;
  // Do not split a UTF-8 sequence.
  while (cut > 0 && (static_cast<unsigned char>(flat[cut]) & 0xC0) == 0x80) --cut;
  return flat.substr(0, cut) + " ...";
}

struct Listed {
  std::string id;
  double score = 0;
  std::optional<double> keyword_score;
  std::optional<double> semantic_score;
};

// Prints papers found by the semantic side as text or JSON; papers missing from the store
// (removed since the vectors were saved) are skipped.
int print_listed(store::Store& store, const std::vector<Listed>& listed, bool json,
                 nlohmann::json header, const char* command) {
  nlohmann::json results = nlohmann::json::array();
  for (const Listed& item : listed) {
    auto paper = store.find(item.id);
    if (!paper) return report(paper.error(), command);
    if (!*paper) continue;
    const Paper& found = **paper;
    if (json) {
      nlohmann::json entry = {{"id", item.id},
                              {"score", item.score},
                              {"title", found.title},
                              {"authors", found.authors},
                              {"published", found.published},
                              {"upvotes", found.upvotes},
                              {"categories", found.categories}};
      if (item.keyword_score) entry["keyword_score"] = *item.keyword_score;
      if (item.semantic_score) entry["semantic_score"] = *item.semantic_score;
      results.push_back(std::move(entry));
      continue;
    }
    std::printf("%s  %s\n", item.id.c_str(), collapse_whitespace(found.title).c_str());
    std::string details;
    if (!found.authors.empty())
      details += found.authors.front() + (found.authors.size() > 1 ? " et al." : "");
    const std::string& date = found.feed_day.empty() ? found.published : found.feed_day;
    if (!date.empty()) details += (details.empty() ? "" : " · ") + date;
    details += (details.empty() ? "" : " · ") + std::to_string(found.upvotes) + " upvotes";
    char score[96];
    if (item.keyword_score && item.semantic_score)
      std::snprintf(score, sizeof score, " · keyword %.2f + similarity %.3f", *item.keyword_score,
                    *item.semantic_score);
    else if (item.semantic_score)
      std::snprintf(score, sizeof score, " · similarity %.3f", *item.semantic_score);
    else
      std::snprintf(score, sizeof score, " · keyword %.2f", item.keyword_score.value_or(0));
    std::printf("    %s%s\n    %s\n\n", details.c_str(), score, excerpt(found.abstract).c_str());
  }
  if (json) {
    header["results"] = std::move(results);
    std::printf("%s\n", header.dump(2).c_str());
  }
  return kSuccess;
}

// Brings the vectors up to date and opens them; nullopt (with a note) when there are none.
Result<std::optional<hybrid::SemanticIndex>> current_semantic(store::Store& store,
                                                              const GlobalOptions& global) {
  if (auto synced = sync_vectors(store, embed_model_path(global), vectors_path(global), true);
      !synced)
    std::fprintf(stderr, "note: using the vectors as last saved: %s\n",
                 synced.error().message.c_str());
  if (vector::VectorIndex::current_generation(vectors_path(global)).empty())
    return std::optional<hybrid::SemanticIndex>();
  auto semantic = hybrid::open_semantic(vectors_path(global));
  if (!semantic) return std::unexpected(semantic.error());
  return std::optional<hybrid::SemanticIndex>(std::move(*semantic));
}

Result<std::string> read_text(const std::string& file) {
  if (file == "-") {
    return std::string((std::istreambuf_iterator<char>(std::cin)),
                       std::istreambuf_iterator<char>());
  }
  std::ifstream in(file);
  if (!in) return fail(file + ": cannot open");
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

}  // namespace

fs::path vectors_path(const GlobalOptions& global) { return global.data_dir / "vectors"; }
fs::path embed_model_path(const GlobalOptions& global) {
  // A transformer named by `embed train --encoder` takes the place of the built-in model.
  const fs::path reference = global.data_dir / "embed" / encoder::kEncoderReferenceFile;
  return fs::exists(reference) ? reference : global.data_dir / "embed" / "model.bin";
}

int run_embed_train(const GlobalOptions& global, const EmbedTrainOptions& options) {
  auto store = open_papers_store(global);
  if (!store) return report(store.error(), "embed train");
  const auto start = std::chrono::steady_clock::now();
  auto count = train_embedder(**store, global.data_dir / "embed", vectors_path(global), options,
                              global.quiet);
  if (!count) return report(count.error(), "embed train");
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::printf("%s and embedded %zu papers in %.1f s into %s\n",
              options.encoder.empty() ? "trained the embedder"
                                      : ("took the encoder " + options.encoder.string()).c_str(),
              *count, seconds, vectors_path(global).c_str());
  return kSuccess;
}

int run_related(const GlobalOptions& global, const std::string& id, size_t limit, bool json) {
  auto store = open_papers_store(global);
  if (!store) return report(store.error(), "related");
  auto paper = (*store)->find(id);
  if (!paper) return report(paper.error(), "related");
  if (!*paper) {
    std::fprintf(stderr, "paperboy related: no paper '%s' in %s\n", id.c_str(),
                 store_path(global).c_str());
    return kNotFound;
  }
  auto semantic = current_semantic(**store, global);
  if (!semantic) return report(semantic.error(), "related");
  if (!*semantic)
    return report(Error{"no vectors yet: run `paperboy embed train` first"}, "related");
  const std::string canonical_id = paper_id(**paper);
  auto neighbors = hybrid::related(**semantic, canonical_id, limit);
  if (!neighbors) return report(neighbors.error(), "related");
  std::vector<Listed> listed;
  for (const vector::Neighbor& neighbor : *neighbors)
    listed.push_back({neighbor.paper_id, neighbor.similarity, std::nullopt, neighbor.similarity});
  if (!json)
    std::printf("papers related to %s  %s\n\n", canonical_id.c_str(),
                collapse_whitespace((*paper)->title).c_str());
  return print_listed(**store, listed, json, {{"id", canonical_id}}, "related");
}

int run_search_modes(const GlobalOptions& global, const SearchCommandOptions& options) {
  std::optional<hybrid::Mode> mode;
  if (!options.mode.empty()) {
    mode = hybrid::parse_mode(options.mode);
    if (!mode) {
      std::fprintf(stderr,
                   "paperboy search: --mode must be keyword, semantic or hybrid, not '%s'\n",
                   options.mode.c_str());
      return kUsage;
    }
  }
  const bool keyword_features = options.sort != "relevance" || options.facets;
  if (mode == hybrid::Mode::kKeyword || (keyword_features && options.like_file.empty()))
    return run_search(global, options);

  auto store = open_papers_store(global);
  if (!store) return report(store.error(), "search");
  auto semantic = current_semantic(**store, global);
  if (!semantic) return report(semantic.error(), "search");

  if (!options.like_file.empty()) {
    if (!*semantic)
      return report(Error{"no vectors yet: run `paperboy embed train` first"}, "search");
    auto text = read_text(options.like_file);
    if (!text) return report(text.error(), "search");
    auto neighbors = hybrid::like_text(**semantic, *text, options.offset + options.limit);
    if (!neighbors) return report(neighbors.error(), "search");
    std::vector<Listed> listed;
    for (size_t i = options.offset; i < neighbors->size(); ++i)
      listed.push_back({(*neighbors)[i].paper_id, (*neighbors)[i].similarity, std::nullopt,
                        (*neighbors)[i].similarity});
    return print_listed(**store, listed, options.json, {{"like", options.like_file}}, "search");
  }
  // Without vectors and without an explicit mode, search is keyword search as it always was.
  if (!*semantic && !mode) return run_search(global, options);

  if (auto synced = sync_index(**store, index_path(global), true); !synced)
    std::fprintf(stderr, "note: searching the index as last committed: %s\n",
                 synced.error().message.c_str());
  auto snapshot = index::Snapshot::open(index_path(global));
  if (!snapshot) return report(snapshot.error(), "search");
  hybrid::HybridOptions hybrid_options;
  hybrid_options.mode = mode.value_or(hybrid::Mode::kHybrid);
  hybrid_options.limit = options.limit;
  hybrid_options.offset = options.offset;
  auto results = hybrid::search(snapshot->get(), *semantic ? &**semantic : nullptr, options.query,
                                hybrid_options);
  if (!results) return report(results.error(), "search");
  for (const std::string& note : results->notes) std::fprintf(stderr, "note: %s\n", note.c_str());
  std::vector<Listed> listed;
  for (const hybrid::HybridHit& hit : results->hits)
    listed.push_back({hit.paper_id, hit.score, hit.keyword_score, hit.semantic_score});
  nlohmann::json header = {{"query", options.query},
                           {"mode", hybrid::mode_name(results->mode)},
                           {"notes", results->notes}};
  return print_listed(**store, listed, options.json, std::move(header), "search");
}

int run_eval_modes(const EvalCommandOptions& options) {
  const fs::path dir = options.benchmark_dir;
  auto benchmark =
      search::load_beir(dir / "corpus.jsonl", dir / options.queries, dir / options.qrels);
  if (!benchmark) return report(benchmark.error(), "eval");
  char pattern[] = "/tmp/paperboy-eval-XXXXXX";
  if (!mkdtemp(pattern)) return report(Error{"cannot create a temporary folder"}, "eval");
  const fs::path index_dir = fs::path(pattern) / "index";
  auto indexed = search::index_beir(*benchmark, index_dir);
  auto snapshot =
      indexed ? index::Snapshot::open(index_dir)
              : Result<std::shared_ptr<const index::Snapshot>>(std::unexpected(indexed.error()));
  fs::remove_all(pattern);
  if (!snapshot) return report(snapshot.error(), "eval");

  // The embedder learns from the corpus itself, plus any extra paper files given.
  std::vector<std::string> texts;
  for (const index::IndexDocument& document : benchmark->corpus)
    texts.push_back(document.title + ". " + document.abstract);
  for (const std::string& file : options.extra_training) {
    ingest::Sink sink;
    sink.on_paper = [&](Paper&& paper) -> Result<void> {
      texts.push_back(embed::paper_text(paper));
      return {};
    };
    sink.on_rejection = [](const ingest::Rejection&) {};
    std::vector<fs::path> files;
    if (fs::is_directory(file)) {
      for (const auto& entry : fs::directory_iterator(file))
        if (entry.is_regular_file() && entry.path().extension() != ".md")
          files.push_back(entry.path());
      std::sort(files.begin(), files.end());
    } else {
      files.push_back(file);
    }
    for (const fs::path& path : files)
      if (auto imported = ingest::import_file(path, {}, sink); !imported)
        return report(imported.error(), "eval");
  }
  embed::TrainOptions train;
  train.dimension = options.dimension;
  const auto start = std::chrono::steady_clock::now();
  auto model = embed::train_sif_model(texts, train);
  if (!model) return report(model.error(), "eval");
  const double train_seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  auto vectors = vector::VectorIndex::create((*model)->dimension(), (*model)->identity());
  std::vector<std::string> ids;
  std::vector<float> rows;
  for (const index::IndexDocument& document : benchmark->corpus) {
    ids.push_back(document.stored.paper_id);
    auto row = (*model)->embed(document.title + ". " + document.abstract);
    rows.insert(rows.end(), row.begin(), row.end());
  }
  if (auto added = vectors->upsert_batch(ids, rows, std::thread::hardware_concurrency()); !added)
    return report(added.error(), "eval");
  hybrid::SemanticIndex semantic;
  semantic.embedder = std::shared_ptr<const embed::Embedder>(std::move(*model));
  semantic.vectors = std::shared_ptr<const vector::VectorIndex>(std::move(vectors));

  std::vector<size_t> all(benchmark->queries.size());
  for (size_t i = 0; i < all.size(); ++i) all[i] = i;
  const auto tuning = search::tuning_queries(*benchmark);
  const auto held_out = search::held_out_queries(*benchmark);
  const hybrid::FusionParams default_fusion;
  std::vector<hybrid::FusionParams> fusions = {default_fusion};
  for (const hybrid::FusionParams& fusion : hybrid::fusion_grid())
    if (hybrid::describe(fusion) != hybrid::describe(default_fusion)) fusions.push_back(fusion);
  const auto on_all = hybrid::evaluate_methods(**snapshot, semantic, *benchmark, all, fusions);
  const auto on_tuning =
      hybrid::evaluate_methods(**snapshot, semantic, *benchmark, tuning, fusions);
  const auto on_held_out =
      hybrid::evaluate_methods(**snapshot, semantic, *benchmark, held_out, fusions);

  // Rows: keyword, semantic, the default hybrid, then for every other family of fusions (kind
  // and feedback setting) its member best on the tuning queries.
  constexpr size_t kFirstHybrid = 2;
  auto family = [](std::string name) {  // the name without its weight (" w=0.20")
    if (const size_t at = name.find(" w="); at != std::string::npos) name.erase(at, 7);
    return name;
  };
  std::vector<size_t> shown = {0, 1, kFirstHybrid};
  std::map<std::string, size_t> best_of_family;
  for (size_t m = kFirstHybrid + 1; m < on_tuning.size(); ++m) {
    auto [best, added] = best_of_family.try_emplace(family(on_tuning[m].method), m);
    if (!added && on_tuning[m].scores.ndcg_at_10 > on_tuning[best->second].scores.ndcg_at_10)
      best->second = m;
  }
  std::vector<size_t> family_rows;
  for (const auto& [name, m] : best_of_family) family_rows.push_back(m);
  std::sort(family_rows.begin(), family_rows.end());
  shown.insert(shown.end(), family_rows.begin(), family_rows.end());

  std::printf(
      "%zu documents, %zu judged queries (%s); embedder trained on %zu texts in %.1f s, "
      "%zu dimensions\n"
      "tuning: %zu queries (2 of every 3), held out: %zu (every third); other fusions: the best "
      "of each family on the tuning queries\n\n",
      benchmark->corpus.size(), all.size(), dir.c_str(), texts.size(), train_seconds,
      semantic.embedder->dimension(), on_tuning[0].scores.queries, on_held_out[0].scores.queries);
  std::printf(
      "| method | nDCG@10 all | recall@100 all | nDCG@10 tuning | nDCG@10 held out "
      "| recall@100 held out |\n|---|---:|---:|---:|---:|---:|\n");
  for (size_t m : shown) {
    const std::string name = m < kFirstHybrid ? on_all[m].method : "hybrid " + on_all[m].method;
    std::printf("| %s%s | %.4f | %.4f | %.4f | %.4f | %.4f |\n", name.c_str(),
                m == kFirstHybrid ? " (default)" : "", on_all[m].scores.ndcg_at_10,
                on_all[m].scores.recall_at_100, on_tuning[m].scores.ndcg_at_10,
                on_held_out[m].scores.ndcg_at_10, on_held_out[m].scores.recall_at_100);
  }

  // Whether hybrid's lead is more than noise, and how the default would be chosen afresh:
  // cross-validation inside the tuning queries, so the held-out ones stay unseen.
  constexpr size_t kFolds = 5;
  const std::span<const hybrid::MethodScores> tuning_hybrids =
      std::span(on_tuning).subspan(kFirstHybrid);
  const hybrid::FusionChoice choice = hybrid::choose_fusion(tuning_hybrids, kFolds);
  std::printf(
      "\n%zu-fold cross-validation on the tuning queries chooses: hybrid %s (out-of-fold "
      "nDCG@10 %.4f)\n",
      kFolds, tuning_hybrids[choice.chosen].method.c_str(), choice.out_of_fold_ndcg);

  // Learned fusions over the same candidates, fit and cross-validated on the tuning queries.
  const auto tuning_queries =
      hybrid::training_queries(**snapshot, semantic, *benchmark, tuning, default_fusion);
  const auto held_out_queries =
      hybrid::training_queries(**snapshot, semantic, *benchmark, held_out, default_fusion);
  std::printf(
      "\n| learned fusion (feedback as the default) | nDCG@10 out of fold (tuning) | nDCG@10 "
      "held out | recall@100 held out | held out minus keyword (95%%) | weights fit on tuning "
      "|\n|---|---:|---:|---:|---:|---|\n");
  for (const auto& learned :
       hybrid::evaluate_learned_fusions(tuning_queries, held_out_queries, kFolds)) {
    const auto difference = hybrid::paired_difference(learned.held_out, on_held_out[0]);
    std::printf("| %s | %.4f | %.4f | %.4f | %+.4f +- %.4f | %s |\n", learned.variant.c_str(),
                learned.out_of_fold_ndcg, learned.held_out.scores.ndcg_at_10,
                learned.held_out.scores.recall_at_100, difference.mean, difference.half_width_95,
                hybrid::describe(learned.weights).c_str());
  }
  const hybrid::PairedDifference lead =
      hybrid::paired_difference(on_held_out[kFirstHybrid], on_held_out[0]);
  std::printf(
      "hybrid (default) minus keyword on the %zu held-out queries: %+.4f +- %.4f "
      "(95%% interval)%s\n",
      lead.queries, lead.mean, lead.half_width_95,
      lead.mean - lead.half_width_95 > 0 ? "" : ", within noise");
  return kSuccess;
}

}  // namespace paperboy::cli
