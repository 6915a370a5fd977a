// Search through the real server: a real SQLite store, a real index built from its papers with
// index::IndexWriter, the server on a free port and httplib's client.
#include <gtest/gtest.h>
#include <httplib.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <random>
#include <thread>

#include "index/index.h"
#include "store/store.h"
#include "web/server.h"

namespace paperboy::web {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

Paper make_paper(std::string id, std::string title, std::string abstract,
                 std::vector<std::string> authors, std::vector<std::string> categories,
                 std::string feed_day, int64_t upvotes) {
  Paper paper;
  paper.arxiv_id = std::move(id);
  paper.version = 1;
  paper.title = std::move(title);
  paper.abstract = std::move(abstract);
  paper.authors = std::move(authors);
  paper.categories = std::move(categories);
  paper.published = feed_day;
  paper.feed_day = std::move(feed_day);
  paper.upvotes = upvotes;
  paper.source = "hf-daily";
  return paper;
}

constexpr int kFillerPapers = 25;

std::vector<Paper> search_papers() {
  std::vector<Paper> papers;
  papers.push_back(make_paper(
      "2312.00752", "Mamba: Linear-Time Sequence Modeling with Selective State Spaces",
      "Foundation models are almost universally based on the Transformer. We identify that a key "
      "weakness of structured state space models is their inability to perform content-based "
      "reasoning.",
      {"Albert Gu", "Tri Dao"}, {"cs.LG", "cs.AI"}, "2023-12-04", 120));
  papers.push_back(make_paper(
      "2405.21060",
      "Transformers are SSMs: Generalized Models and Efficient Algorithms Through Structured "
      "State Space Duality",
      "We show that state space models and variants of attention are closely related.",
      {"Tri Dao", "Albert Gu"}, {"cs.LG"}, "2024-06-03", 60));
  papers.push_back(make_paper(
      "2505.24864", "ProRL: Prolonged Reinforcement Learning Expands Reasoning Boundaries",
      "Reinforcement learning with verifiable rewards expands what language models can reason.",
      {"Mingjie Liu", "Shizhe Diao"}, {"cs.LG", "cs.AI"}, "2025-06-02", 35));
  papers.push_back(make_paper("2505.24863",
                              "AlphaOne: Reasoning Models Thinking Slow and Fast at Test Time",
                              "A universal framework for modulating reasoning at test time.",
                              {"Junyu Zhang"}, {"cs.CL"}, "2025-06-02", 28));
  papers.push_back(make_paper("2506.01234", "<script>alert(1)</script> Hostile Attack Paper",
                              "An attack hides <img src=x onerror=alert(2)> & \"quotes\" here.",
                              {"Eve <b>Evil</b>"}, {"cs.CR"}, "2025-06-03", 7));
  papers.push_back(make_paper("2403.00001", "Exploring Outer Space: The State of Satellite Imaging",
                              "Satellites image the earth from orbit.", {"Ana Orbit"}, {"cs.CV"},
                              "2024-03-01", 5));
  for (int i = 1; i <= kFillerPapers; ++i) {
    char id[16];
    std::snprintf(id, sizeof id, "2401.%05d", i);
    papers.push_back(make_paper(id, "Graph Coloring Study " + std::to_string(i),
                                "Colouring graphs, case " + std::to_string(i) + ".", {"Gus Graph"},
                                {"math.CO"}, "2024-01-15", i));
  }
  return papers;
}

fs::path fresh_temp_dir(const std::string& prefix) {
  std::random_device random;
  fs::path directory = fs::temp_directory_path() / (prefix + "-" + std::to_string(random()));
  fs::remove_all(directory);
  fs::create_directories(directory);
  return directory;
}

class SearchWeb : public ::testing::Test {
 protected:
  void SetUp() override {
    directory_ = fresh_temp_dir("paperboy-search-web-test");
    auto opened = store::open_sqlite_store(directory_ / "papers.sqlite");
    ASSERT_TRUE(opened) << opened.error().message;
    store_ = std::move(*opened);
    ASSERT_TRUE(store_->begin_batch());
    for (const Paper& paper : search_papers()) {
      auto outcome = store_->upsert(paper);
      ASSERT_TRUE(outcome) << paper.title << ": " << outcome.error().message;
    }
    ASSERT_TRUE(store_->commit_batch());
    index_dir_ = directory_ / "index";
    auto writer = index::IndexWriter::open(index_dir_);
    ASSERT_TRUE(writer) << writer.error().message;
    auto visited = store_->for_each_paper([&](const Paper& paper) {
      auto added = (*writer)->add(index::document_from_paper(paper));
      EXPECT_TRUE(added) << added.error().message;
    });
    ASSERT_TRUE(visited) << visited.error().message;
    auto committed = (*writer)->commit();
    ASSERT_TRUE(committed) << committed.error().message;
    start_server(index_dir_);
  }

  void start_server(const fs::path& index_dir) {
    stop_server();
    ServerOptions options;
    options.port = 0;
    options.threads = 2;
    options.index_dir = index_dir;
    auto created = Server::create(*store_, options);
    ASSERT_TRUE(created) << created.error().message;
    server_ = std::move(*created);
    thread_ = std::thread([this] { ran_ = server_->run(); });
    client_ = std::make_unique<httplib::Client>("127.0.0.1", server_->port());
    client_->set_read_timeout(10, 0);
  }

  void stop_server() {
    if (server_) server_->stop();
    if (thread_.joinable()) thread_.join();
    EXPECT_TRUE(ran_) << ran_.error().message;
    server_.reset();
  }

  void TearDown() override {
    stop_server();
    store_.reset();
    std::error_code ignored;
    fs::remove_all(directory_, ignored);
  }

  httplib::Result fetch(const std::string& path) {
    auto response = client_->Get(path.c_str());
    EXPECT_TRUE(response) << path << ": " << httplib::to_string(response.error());
    return response;
  }

  std::string get(const std::string& path, int status = 200) {
    auto response = fetch(path);
    if (!response) return {};
    EXPECT_EQ(response->status, status) << path << "\n" << response->body.substr(0, 600);
    return response->body;
  }

  json get_json(const std::string& path, int status = 200) {
    auto response = fetch(path);
    if (!response) return nullptr;
    EXPECT_EQ(response->status, status) << path << "\n" << response->body.substr(0, 600);
    EXPECT_EQ(response->get_header_value("Content-Type"), "application/json; charset=utf-8");
    return json::parse(response->body);
  }

  static std::vector<std::string> ids(const json& answer) {
    std::vector<std::string> found;
    for (const json& result : answer["results"]) found.push_back(result["id"]);
    return found;
  }

  fs::path directory_;
  fs::path index_dir_;
  std::unique_ptr<store::Store> store_;
  std::unique_ptr<Server> server_;
  std::thread thread_;
  Result<void> ran_;
  std::unique_ptr<httplib::Client> client_;
};

TEST_F(SearchWeb, RanksPapersWithEveryWordFirst) {
  const json answer = get_json("/api/search?q=state%20space%20models");
  const std::vector<std::string> found = ids(answer);
  ASSERT_GE(found.size(), 2u);
  // Both SSM papers hold every word; the satellite paper has only some, so it comes after.
  EXPECT_EQ(std::set<std::string>(found.begin(), found.begin() + 2),
            (std::set<std::string>{"2312.00752", "2405.21060"}));
  EXPECT_EQ(answer["query"], "state space models");
  EXPECT_EQ(answer["sort"], "relevance");
  EXPECT_GT(answer["results"][0]["score"].get<double>(), 0);
  EXPECT_GE(answer["results"][0]["score"].get<double>(),
            answer["results"][1]["score"].get<double>());
  const json& first = answer["results"][0];
  EXPECT_TRUE(first["authors"].is_array());
  EXPECT_TRUE(first["categories"].is_array());
  EXPECT_TRUE(first.contains("published"));
  EXPECT_TRUE(first.contains("upvotes"));
  EXPECT_EQ(first["url"], "/papers/" + first["id"].get<std::string>());
}

TEST_F(SearchWeb, PhraseAndFieldQueries) {
  // "space" and "state" both occur in the satellite paper, but not as the phrase.
  const json phrase = get_json("/api/search?q=%22state%20space%22");
  std::vector<std::string> found = ids(phrase);
  std::sort(found.begin(), found.end());
  EXPECT_EQ(found, (std::vector<std::string>{"2312.00752", "2405.21060"}));
  EXPECT_EQ(phrase["total"], 2);

  const json loose = get_json("/api/search?q=state%20space");
  EXPECT_EQ(loose["total"], 3);

  const json author = get_json("/api/search?q=author:%22Tri%20Dao%22");
  found = ids(author);
  std::sort(found.begin(), found.end());
  EXPECT_EQ(found, (std::vector<std::string>{"2312.00752", "2405.21060"}));

  // "reasoning" is in Mamba's abstract too, but only two titles hold it.
  const json title = get_json("/api/search?q=title:reasoning");
  found = ids(title);
  std::sort(found.begin(), found.end());
  EXPECT_EQ(found, (std::vector<std::string>{"2505.24863", "2505.24864"}));
}

TEST_F(SearchWeb, SortsByDateAndUpvotesAndFiltersByFacet) {
  EXPECT_EQ(ids(get_json("/api/search?category=cs.LG&sort=upvotes")),
            (std::vector<std::string>{"2312.00752", "2405.21060", "2505.24864"}));
  EXPECT_EQ(ids(get_json("/api/search?q=cat:cs.LG&sort=date")),
            (std::vector<std::string>{"2505.24864", "2405.21060", "2312.00752"}));
  const json filtered = get_json("/api/search?q=state%20space&year=2024");
  EXPECT_EQ(filtered["query"], "state space year:2024");
  std::vector<std::string> found = ids(filtered);
  std::sort(found.begin(), found.end());
  EXPECT_EQ(found, (std::vector<std::string>{"2403.00001", "2405.21060"}));
}

TEST_F(SearchWeb, CountsFacetsOverAllMatches) {
  const json answer = get_json("/api/search?q=state%20space&limit=1");
  EXPECT_EQ(answer["results"].size(), 1u);
  EXPECT_EQ(answer["total"], 3);
  json categories = json::object();
  for (const json& facet : answer["facets"]["categories"])
    categories[facet["value"]] = facet["count"];
  EXPECT_EQ(categories, (json{{"cs.LG", 2}, {"cs.AI", 1}, {"cs.CV", 1}}));
  const json& years = answer["facets"]["years"];
  ASSERT_EQ(years.size(), 2u);
  EXPECT_EQ(years[0], (json{{"value", "2024"}, {"count", 2}}));  // newest first
  EXPECT_EQ(years[1], (json{{"value", "2023"}, {"count", 1}}));

  const std::string page = get("/search?q=state%20space");
  EXPECT_NE(page.find("href=\"/search?q=state%20space&amp;category=cs.LG\""), std::string::npos)
      << page;
  EXPECT_NE(page.find("href=\"/search?q=state%20space&amp;year=2024\""), std::string::npos);
  // Within a category, its facet link leads back out of it.
  const std::string narrowed = get("/search?q=state%20space&category=cs.LG");
  EXPECT_NE(narrowed.find("2 papers in <strong>cs.LG</strong>"), std::string::npos);
  EXPECT_NE(narrowed.find("class=\"facet active\" href=\"/search?q=state%20space\""),
            std::string::npos);
  // The header's search box keeps the filter for the next query.
  EXPECT_NE(narrowed.find("<input type=\"hidden\" name=\"category\" value=\"cs.LG\">"),
            std::string::npos);
}

TEST_F(SearchWeb, PagesThroughResults) {
  const json first = get_json("/api/search?q=graph&sort=upvotes&limit=10");
  const json second = get_json("/api/search?q=graph&sort=upvotes&limit=10&offset=10");
  const json last = get_json("/api/search?q=graph&sort=upvotes&limit=10&offset=20");
  EXPECT_EQ(first["total"], kFillerPapers);
  EXPECT_EQ(first["results"].size(), 10u);
  EXPECT_EQ(first["results"][0]["id"], "2401.00025");
  EXPECT_EQ(second["results"][0]["id"], "2401.00015");
  EXPECT_EQ(last["results"].size(), 5u);
  EXPECT_EQ(last["results"][4]["id"], "2401.00001");

  const std::string page_one = get("/search?q=graph&sort=upvotes");
  EXPECT_NE(page_one.find("Page 1 of 2"), std::string::npos);
  EXPECT_NE(page_one.find("href=\"/search?q=graph&amp;sort=upvotes&amp;page=2\" rel=\"next\""),
            std::string::npos);
  EXPECT_NE(page_one.find("<span class=\"rank\">20.</span>"), std::string::npos);
  EXPECT_EQ(page_one.find("<span class=\"rank\">21.</span>"), std::string::npos);
  const std::string page_two = get("/search?q=graph&sort=upvotes&page=2");
  EXPECT_NE(page_two.find("Page 2 of 2"), std::string::npos);
  EXPECT_NE(page_two.find("<span class=\"rank\">25.</span>"), std::string::npos);
  EXPECT_NE(page_two.find("rel=\"prev\""), std::string::npos);
  EXPECT_EQ(page_two.find("rel=\"next\""), std::string::npos);
}

TEST_F(SearchWeb, HighlightsMatchesInTitlesAndSnippets) {
  const json answer = get_json("/api/search?q=selective%20transformer");
  ASSERT_FALSE(answer["results"].empty());
  const json& mamba = answer["results"][0];
  EXPECT_EQ(mamba["id"], "2312.00752");
  EXPECT_NE(mamba["title_html"].get<std::string>().find("<mark>Selective</mark>"),
            std::string::npos)
      << mamba["title_html"];
  EXPECT_NE(mamba["snippet_html"].get<std::string>().find("<mark>Transformer</mark>"),
            std::string::npos)
      << mamba["snippet_html"];

  const std::string page = get("/search?q=selective%20transformer");
  EXPECT_NE(page.find("<mark>Selective</mark>"), std::string::npos);
  EXPECT_NE(page.find("Results for “selective transformer”"), std::string::npos);
  EXPECT_NE(page.find("value=\"selective transformer\""), std::string::npos);  // header box
}

TEST_F(SearchWeb, EscapesHostileTextInTitlesAndSnippets) {
  const json answer = get_json("/api/search?q=attack");
  ASSERT_EQ(answer["results"].size(), 1u);
  const std::string title = answer["results"][0]["title_html"];
  const std::string snippet = answer["results"][0]["snippet_html"];
  EXPECT_EQ(title.find("<script"), std::string::npos) << title;
  EXPECT_NE(title.find("&lt;script&gt;"), std::string::npos) << title;
  EXPECT_NE(title.find("<mark>Attack</mark>"), std::string::npos) << title;
  EXPECT_EQ(snippet.find("<img"), std::string::npos) << snippet;
  EXPECT_NE(snippet.find("&lt;img"), std::string::npos) << snippet;

  const std::string page = get("/search?q=attack");
  EXPECT_EQ(page.find("<script>alert"), std::string::npos);
  EXPECT_EQ(page.find("<img src=x"), std::string::npos);
  EXPECT_EQ(page.find("<b>Evil"), std::string::npos);
  EXPECT_NE(page.find("Eve &lt;b&gt;Evil&lt;/b&gt;"), std::string::npos);
  // A hostile query is escaped wherever it is shown.
  const std::string echoed = get("/search?q=%22%3E%3Cscript%3Ealert(3)%3C/script%3E");
  EXPECT_EQ(echoed.find("<script>alert(3)"), std::string::npos);
  EXPECT_NE(echoed.find("&lt;script&gt;alert(3)"), std::string::npos);
}

TEST_F(SearchWeb, RejectsBadParametersWith400) {
  const std::pair<const char*, const char*> cases[] = {
      {"/api/search?q=x&limit=0", "limit: expected a number from 1 to 100, got '0'"},
      {"/api/search?q=x&limit=101", "limit: expected a number from 1 to 100, got '101'"},
      {"/api/search?q=x&offset=-1", "offset: expected a number from 0 to 10000, got '-1'"},
      {"/api/search?q=x&sort=best", "sort: expected relevance, date or upvotes, got 'best'"},
      {"/api/search?q=x&category=cs%20CL",
       "category: expected an arXiv category such as cs.CL, got 'cs CL'"},
      {"/api/search?q=x&year=24", "year: expected a year such as 2024, got '24'"},
      {"/api/search?q=", "q: expected a query, such as q=state+space+models"},
      {"/api/search?q=mamba%20after:yesterday",
       "q: after: expects a date such as 2024-01-01, got 'yesterday'"},
      {"/api/papers/search?q=x&limit=500", "limit: expected a number from 1 to 100, got '500'"},
  };
  for (const auto& [path, message] : cases) {
    const json answer = get_json(path, 400);
    EXPECT_EQ(answer, (json{{"error", message}})) << path;
  }
  EXPECT_EQ(get_json("/api/search?q=" + std::string(2001, 'a'), 400),
            (json{{"error", "q: at most 2000 bytes, got 2001"}}));
  EXPECT_NE(get("/search?q=x&page=0", 400).find("page: expected a page number"), std::string::npos);
  EXPECT_NE(get("/search?q=mamba%20before:soon", 400).find("before: expects a date"),
            std::string::npos);
}

TEST_F(SearchWeb, ArxivIdQueryJumpsToThePaper) {
  for (const char* query :
       {"2312.00752", "arXiv:2312.00752v2", "https%3A%2F%2Farxiv.org%2Fabs%2F2312.00752"}) {
    auto response = fetch(std::string("/search?q=") + query);
    ASSERT_TRUE(response);
    EXPECT_EQ(response->status, 302) << query;
    EXPECT_EQ(response->get_header_value("Location"), "/papers/2312.00752") << query;
  }
  const json answer = get_json("/api/search?q=2312.00752");
  EXPECT_TRUE(answer["jumped"].get<bool>());
  EXPECT_EQ(ids(answer), (std::vector<std::string>{"2312.00752"}));
}

TEST_F(SearchWeb, HuggingFaceSearchReturnsDailyPaperEntries) {
  const json entries = get_json("/api/papers/search?q=mamba%20selective&limit=1");
  ASSERT_TRUE(entries.is_array());
  ASSERT_EQ(entries.size(), 1u);
  EXPECT_EQ(entries[0]["paper"]["id"], "2312.00752");
  EXPECT_EQ(entries[0]["title"],
            "Mamba: Linear-Time Sequence Modeling with Selective State Spaces");
  EXPECT_EQ(entries[0]["paper"]["authors"][0], (json{{"name", "Albert Gu"}, {"hidden", false}}));
  EXPECT_EQ(entries[0]["paper"]["upvotes"], 120);
  EXPECT_TRUE(entries[0].contains("summary"));
  EXPECT_EQ(get_json("/api/papers/search?q=reasoning").size(), 3u);
  // The paper route still answers for real ids.
  EXPECT_EQ(get_json("/api/papers/2312.00752")["id"], "2312.00752");
}

TEST_F(SearchWeb, SeesNewCommitsWithoutARestart) {
  EXPECT_EQ(get_json("/api/search?q=zeppelin")["total"], 0);
  Paper paper = make_paper("2507.00001", "Zeppelin Flight Planning", "Airships plan routes.",
                           {"Hugo Eckener"}, {"cs.RO"}, "2025-07-01", 3);
  ASSERT_TRUE(store_->begin_batch());
  auto upserted = store_->upsert(paper);
  ASSERT_TRUE(upserted) << upserted.error().message;
  ASSERT_TRUE(store_->commit_batch());
  {
    auto writer = index::IndexWriter::open(index_dir_);
    ASSERT_TRUE(writer) << writer.error().message;
    ASSERT_TRUE((*writer)->add(index::document_from_paper(paper)));
    ASSERT_TRUE((*writer)->commit());
  }
  // The server looks at the MANIFEST at most once a second.
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  json answer;
  do {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    answer = get_json("/api/search?q=zeppelin");
  } while (answer["total"] == 0 && std::chrono::steady_clock::now() < deadline);
  EXPECT_EQ(ids(answer), (std::vector<std::string>{"2507.00001"}));
  EXPECT_NE(get("/search?q=zeppelin").find("<mark>Zeppelin</mark> Flight Planning"),
            std::string::npos);
}

TEST_F(SearchWeb, StaleIndexEntriesAreLeftOutWithANote) {
  // The index knows a paper the store does not (the index is rebuilt after the store).
  {
    auto writer = index::IndexWriter::open(index_dir_);
    ASSERT_TRUE(writer) << writer.error().message;
    ASSERT_TRUE((*writer)->add(index::document_from_paper(make_paper(
        "2508.00001", "Ghost Paper on State Space", "", {}, {"cs.LG"}, "2025-08-01", 1))));
    ASSERT_TRUE((*writer)->commit());
  }
  start_server(index_dir_);
  const json answer = get_json("/api/search?q=ghost");
  EXPECT_TRUE(answer["results"].empty());
  EXPECT_EQ(answer["notes"], (json{"1 match is not in the paper store any more and left out"}));
}

TEST_F(SearchWeb, ServesOpenSearchDescription) {
  auto response = fetch("/opensearch.xml");
  ASSERT_TRUE(response);
  EXPECT_EQ(response->status, 200);
  EXPECT_EQ(response->get_header_value("Content-Type"),
            "application/opensearchdescription+xml; charset=utf-8");
  const std::string host = "127.0.0.1:" + std::to_string(server_->port());
  EXPECT_NE(response->body.find("template=\"http://" + host + "/search?q={searchTerms}\""),
            std::string::npos)
      << response->body;
  // Every page links it and has the search box.
  for (const char* path : {"/", "/trending", "/papers/2312.00752", "/search"}) {
    const std::string page = get(path);
    EXPECT_NE(page.find("<link rel=\"search\" type=\"application/opensearchdescription+xml\""),
              std::string::npos)
        << path;
    EXPECT_NE(page.find("<form class=\"site-search\" action=\"/search\""), std::string::npos)
        << path;
  }
}

TEST_F(SearchWeb, EmptySearchPageExplainsTheSyntax) {
  const std::string page = get("/search");
  EXPECT_NE(page.find("<details class=\"syntax\" open>"), std::string::npos);
  EXPECT_NE(page.find("author:\"Albert Gu\""), std::string::npos);
  EXPECT_EQ(page.find("Results for"), std::string::npos);
}

TEST_F(SearchWeb, WithoutAnIndexSearchSaysItIsDisabled) {
  start_server({});
  EXPECT_NE(get("/search?q=mamba", 503).find("Search is unavailable"), std::string::npos);
  EXPECT_NE(get("/search", 503).find("this server was started without an index"),
            std::string::npos);
  EXPECT_EQ(
      get_json("/api/search?q=mamba", 503),
      (json{{"error", "search is disabled: this server was started without a search index"}}));
  EXPECT_EQ(get_json("/api/papers/search?q=mamba", 503)["error"],
            "search is disabled: this server was started without a search index");
  get("/");  // the rest of the site still works
}

TEST_F(SearchWeb, MissingIndexGivesAClearMessageAndRecovers) {
  const fs::path missing = directory_ / "no-index-here";
  start_server(missing);
  const json answer = get_json("/api/search?q=mamba", 503);
  const std::string message = answer["error"];
  EXPECT_NE(message.find(missing.string()), std::string::npos) << message;
  EXPECT_NE(message.find("paperboy index rebuild"), std::string::npos) << message;
  EXPECT_NE(get("/search?q=mamba", 503).find("paperboy index rebuild"), std::string::npos);

  // Once the index exists, search starts working (after the once-a-second check).
  fs::copy(index_dir_, missing, fs::copy_options::recursive);
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  int status = 0;
  std::string body;
  do {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    auto response = fetch("/api/search?q=mamba");
    ASSERT_TRUE(response);
    status = response->status;
    body = response->body;
  } while (status == 503 && std::chrono::steady_clock::now() < deadline);
  EXPECT_EQ(status, 200);
  EXPECT_EQ(ids(json::parse(body)).front(), "2312.00752");
}

TEST_F(SearchWeb, BrokenIndexGivesAClearMessage) {
  const fs::path broken = directory_ / "broken-index";
  fs::create_directories(broken);
  std::ofstream(broken / "MANIFEST") << "not a manifest\n";
  start_server(broken);
  const std::string message = get_json("/api/search?q=mamba", 503)["error"];
  EXPECT_NE(message.find("the search index in " + broken.string() + " cannot be opened ("),
            std::string::npos)
      << message;
  EXPECT_NE(message.find("MANIFEST"), std::string::npos) << message;
  EXPECT_NE(get("/search?q=mamba", 503).find("Search is unavailable"), std::string::npos);
}

}  // namespace
}  // namespace paperboy::web
