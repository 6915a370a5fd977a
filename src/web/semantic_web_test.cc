// Semantic search and related papers through the real server: a real SQLite store of 1,000
// real papers, a real keyword index, a real embedder trained on them and their saved vectors.
#include <gtest/gtest.h>
#include <httplib.h>
#include <unistd.h>

#include <fstream>
#include <nlohmann/json.hpp>
#include <thread>

#include "embed/sif_model.h"
#include "index/index.h"
#include "store/store.h"
#include "vector/vector_index.h"
#include "web/server.h"

namespace paperboy::web {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

std::vector<Paper> fixture_papers() {
  std::vector<Paper> papers;
  std::ifstream in(fs::path(PAPERBOY_SOURCE_DIR) / "src/embed/testdata/papers.jsonl");
  for (std::string line; std::getline(in, line);) {
    auto record = json::parse(line);
    Paper paper;
    paper.arxiv_id = record["id"];
    paper.version = 1;
    paper.title = record["title"];
    paper.abstract = record["abstract"];
    paper.authors = {"A. Author", "B. Author"};
    paper.categories = record["categories"].get<std::vector<std::string>>();
    paper.feed_day = record["day"];
    paper.published = record["day"];
    paper.source = "canonical";
    papers.push_back(std::move(paper));
  }
  return papers;
}

class SemanticWeb : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    char pattern[] = "/tmp/paperboy-semantic-web-XXXXXX";
    directory_ = new fs::path(mkdtemp(pattern));
    papers_ = new std::vector<Paper>(fixture_papers());
    auto opened = store::open_sqlite_store(*directory_ / "papers.sqlite");
    ASSERT_TRUE(opened) << opened.error().message;
    store_ = opened->release();
    ASSERT_TRUE(store_->begin_batch());
    for (const Paper& paper : *papers_) ASSERT_TRUE(store_->upsert(paper));
    ASSERT_TRUE(store_->commit_batch());

    auto writer = index::IndexWriter::open(*directory_ / "index");
    ASSERT_TRUE(writer);
    std::vector<std::string> texts, ids;
    for (const Paper& paper : *papers_) {
      ASSERT_TRUE((*writer)->add(index::document_from_paper(paper)));
      texts.push_back(embed::paper_text(paper));
      ids.push_back(paper_id(paper));
    }
    ASSERT_TRUE((*writer)->commit());

    embed::TrainOptions options;
    options.dimension = 64;
    options.min_count = 2;
    options.power_iterations = 2;
    auto model = embed::train_sif_model(texts, options);
    ASSERT_TRUE(model) << model.error().message;
    const fs::path model_path = *directory_ / "embed" / "model.bin";
    ASSERT_TRUE((*model)->save(model_path));
    auto vectors = vector::VectorIndex::create((*model)->dimension(), (*model)->identity());
    std::vector<float> rows;
    for (const std::string& text : texts) {
      auto row = (*model)->embed(text);
      rows.insert(rows.end(), row.begin(), row.end());
    }
    ASSERT_TRUE(vectors->upsert_batch(ids, rows, 2));
    ASSERT_TRUE(vectors->save(*directory_ / "vectors", {&model_path, 1}));
  }

  static void TearDownTestSuite() {
    delete store_;
    fs::remove_all(*directory_);
    delete directory_;
    delete papers_;
  }

  void start(const fs::path& vectors_dir) {
    ServerOptions options;
    options.port = 0;
    options.threads = 2;
    options.index_dir = *directory_ / "index";
    options.vectors_dir = vectors_dir;
    auto created = Server::create(*store_, options);
    ASSERT_TRUE(created) << created.error().message;
    server_ = std::move(*created);
    thread_ = std::thread([this] { ran_ = server_->run(); });
    client_ = std::make_unique<httplib::Client>("127.0.0.1", server_->port());
    client_->set_read_timeout(10, 0);
  }

  void SetUp() override { start(*directory_ / "vectors"); }

  void TearDown() override {
    if (server_) server_->stop();
    if (thread_.joinable()) thread_.join();
    EXPECT_TRUE(ran_) << ran_.error().message;
  }

  json get_json(const std::string& path, int status = 200) {
    auto response = client_->Get(path.c_str());
    EXPECT_TRUE(response) << path;
    if (!response) return nullptr;
    EXPECT_EQ(response->status, status) << path << "\n" << response->body.substr(0, 400);
    return json::parse(response->body);
  }

  json post_json(const std::string& path, const std::string& body, int status = 200) {
    auto response = client_->Post(path.c_str(), body, "text/plain");
    EXPECT_TRUE(response) << path;
    if (!response) return nullptr;
    EXPECT_EQ(response->status, status) << path << "\n" << response->body.substr(0, 400);
    return json::parse(response->body);
  }

  static std::vector<std::string> ids(const json& answer) {
    std::vector<std::string> found;
    for (const json& result : answer["results"]) found.push_back(result["id"]);
    return found;
  }

  static inline fs::path* directory_ = nullptr;
  static inline std::vector<Paper>* papers_ = nullptr;
  static inline store::Store* store_ = nullptr;
  std::unique_ptr<Server> server_;
  std::thread thread_;
  Result<void> ran_;
  std::unique_ptr<httplib::Client> client_;
};

TEST_F(SemanticWeb, RelatedPapersApiListsNeighboursWithoutThePaper) {
  const std::string id = (*papers_)[10].arxiv_id;
  const json answer = get_json("/api/papers/" + id + "/related?limit=5");
  EXPECT_EQ(answer["id"], id);
  const auto found = ids(answer);
  ASSERT_EQ(found.size(), 5u);
  EXPECT_EQ(std::count(found.begin(), found.end(), id), 0);
  EXPECT_FALSE(answer["results"][0]["title"].get<std::string>().empty());
  EXPECT_EQ(answer["results"][0]["url"], "/papers/" + found[0]);
  EXPECT_GE(answer["results"][0]["similarity"].get<double>(),
            answer["results"][4]["similarity"].get<double>());
  // Versioned ids and the plain paper API still work beside it.
  EXPECT_EQ(ids(get_json("/api/papers/" + id + "v1/related?limit=5")), found);
  EXPECT_EQ(get_json("/api/papers/" + id)["id"], id);
  get_json("/api/papers/9999.99999/related", 404);
  get_json("/api/papers/" + id + "/related?limit=0", 400);
  get_json("/api/papers/" + id + "/related?limit=abc", 400);
}

TEST_F(SemanticWeb, PaperPageShowsRelatedPapers) {
  const std::string id = (*papers_)[10].arxiv_id;
  auto page = client_->Get(("/papers/" + id).c_str());
  ASSERT_TRUE(page);
  EXPECT_EQ(page->status, 200);
  EXPECT_NE(page->body.find("Related papers"), std::string::npos);
  const json related = get_json("/api/papers/" + id + "/related?limit=1");
  EXPECT_NE(page->body.find("href=\"/papers/" + related["results"][0]["id"].get<std::string>()),
            std::string::npos);
}

TEST_F(SemanticWeb, LikeThisTextFindsThePaperItCameFrom) {
  const Paper& paper = (*papers_)[123];
  const json answer = post_json("/api/papers/like?limit=3", paper.abstract);
  const auto found = ids(answer);
  ASSERT_FALSE(found.empty());
  EXPECT_EQ(found[0], paper.arxiv_id);
  post_json("/api/papers/like", "   ", 400);
  post_json("/api/papers/like", "zzqx qqzzy", 422);
}

TEST_F(SemanticWeb, SearchTakesAMode) {
  const json keyword = get_json("/api/search?q=speech%20recognition&mode=keyword&limit=10");
  const json semantic = get_json("/api/search?q=speech%20recognition&mode=semantic&limit=10");
  const json hybrid = get_json("/api/search?q=speech%20recognition&mode=hybrid&limit=10");
  const json default_mode = get_json("/api/search?q=speech%20recognition&limit=10");
  EXPECT_EQ(ids(keyword).size(), 10u);
  EXPECT_EQ(ids(semantic).size(), 10u);
  EXPECT_NE(ids(keyword), ids(semantic));
  EXPECT_EQ(ids(default_mode), ids(hybrid));  // hybrid is the default when vectors exist
  // Semantic search honours the category filter.
  const json filtered = get_json("/api/search?q=segmentation&mode=semantic&category=eess.IV");
  ASSERT_FALSE(filtered["results"].empty());
  for (const json& result : filtered["results"]) {
    const auto categories = result["categories"].get<std::vector<std::string>>();
    EXPECT_NE(std::find(categories.begin(), categories.end(), "eess.IV"), categories.end());
  }
  const json bad = get_json("/api/search?q=speech&mode=psychic", 400);
  EXPECT_NE(bad["error"].get<std::string>().find("mode"), std::string::npos);
  auto page = client_->Get("/search?q=speech%20recognition&mode=semantic");
  ASSERT_TRUE(page);
  EXPECT_EQ(page->status, 200);
}

TEST_F(SemanticWeb, WithoutVectorsSearchIsKeywordAndRelatedSaysWhy) {
  TearDown();
  start(*directory_ / "no-vectors-here");
  const json keyword = get_json("/api/search?q=speech%20recognition&mode=keyword&limit=10");
  const json default_mode = get_json("/api/search?q=speech%20recognition&limit=10");
  EXPECT_EQ(ids(default_mode), ids(keyword));
  const json related = get_json("/api/papers/" + (*papers_)[0].arxiv_id + "/related", 503);
  EXPECT_NE(related["error"].get<std::string>().find("embed train"), std::string::npos);
  auto page = client_->Get(("/papers/" + (*papers_)[0].arxiv_id).c_str());
  ASSERT_TRUE(page);
  EXPECT_EQ(page->status, 200);
  EXPECT_EQ(page->body.find("Related papers"), std::string::npos);
}

}  // namespace
}  // namespace paperboy::web
