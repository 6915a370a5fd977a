// Feeds, citation exports, author and category pages, exclusion words, API cursors and "new"
// badges: the formatting functions on their own, then everything through a real server over a
// real SQLite store and search index, parsing the XML answers with pugixml.
#include <gtest/gtest.h>
#include <httplib.h>

#include <filesystem>
#include <nlohmann/json.hpp>
#include <pugixml.hpp>
#include <random>
#include <thread>

#include "core/date.h"
#include "index/index.h"
#include "store/community.h"
#include "store/store.h"
#include "store/subscriptions.h"
#include "web/accounts.h"
#include "web/api_cursor.h"
#include "web/exports.h"
#include "web/paper_lists.h"
#include "web/server.h"
#include "web/syndication.h"

namespace paperboy::web {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;
using std::chrono::sys_seconds;

constexpr const char* kHostileTitle = "<script>alert('x')</script> & Hostile $\\alpha_1$ at 100%";

Paper make_paper(std::string id, std::string title, std::vector<std::string> authors,
                 std::string category, std::string feed_day, int64_t upvotes,
                 std::string abstract) {
  Paper paper;
  paper.arxiv_id = std::move(id);
  paper.version = 1;
  paper.title = std::move(title);
  paper.authors = std::move(authors);
  paper.categories = {std::move(category)};
  paper.published = feed_day;
  paper.feed_day = std::move(feed_day);
  paper.upvotes = upvotes;
  paper.abstract = std::move(abstract);
  return paper;
}

std::vector<Paper> fixture_papers() {
  return {make_paper("2505.24864", "ProRL: Prolonged Reinforcement Learning",
                     {"Mingjie Liu", "Shizhe Diao"}, "cs.LG", "2025-06-02", 35,
                     "Prolonged reinforcement learning expands reasoning."),
          make_paper("2505.24863", "AlphaOne: A Survey of Reasoning Models",
                     {"Junyu Zhang", "Mingjie Liu"}, "cs.CL", "2025-06-02", 28,
                     "We survey reasoning at test time."),
          make_paper("2506.01234", kHostileTitle, {"Eve <b>Evil</b>"}, "cs.CR", "2025-06-02", 7,
                     "An attack hides <img src=x onerror=alert(2)> in reinforcement learning."),
          make_paper("2505.11111", "Older Reinforcement Learning Baselines", {"Mingjie Liu"},
                     "cs.LG", "2025-05-20", 3, "Baselines for reinforcement learning.")};
}

// ---- Formatting on its own ----

TEST(Exports, EscapesLatexSpecialsOutsideMath) {
  EXPECT_EQ(bibtex_escaped("50% & #1 {x} a_b ~ ^ \\"),
            "50\\% \\& \\#1 \\{x\\} a\\_b \\textasciitilde{} \\textasciicircum{} "
            "\\textbackslash{}");
  EXPECT_EQ(bibtex_escaped("Loss $\\mathcal{L}_{1}$ here"), "Loss $\\mathcal{L}_{1}$ here");
  // Unbalanced math or a lone dollar is text, escaped, so the entry still parses.
  EXPECT_EQ(bibtex_escaped("costs $5"), "costs \\$5");
  EXPECT_EQ(bibtex_escaped("$a}$ b"), "\\$a\\}\\$ b");
  EXPECT_EQ(bibtex_escaped("line\nbreak"), "line break");
}

TEST(Exports, WritesBibtexEntries) {
  Paper paper = fixture_papers()[0];
  paper.doi = "10.1000/x_y";
  EXPECT_EQ(bibtex_key(paper), "liu2025prorl");
  EXPECT_EQ(bibtex_entry(paper),
            "@misc{liu2025prorl,\n"
            "  title = {{ProRL: Prolonged Reinforcement Learning}},\n"
            "  author = {Mingjie Liu and Shizhe Diao},\n"
            "  year = {2025},\n"
            "  eprint = {2505.24864},\n"
            "  archivePrefix = {arXiv},\n"
            "  primaryClass = {cs.LG},\n"
            "  doi = {10.1000/x\\_y},\n"
            "  url = {https://arxiv.org/abs/2505.24864},\n"
            "}\n\n");
  Paper hostile = fixture_papers()[2];
  EXPECT_EQ(bibtex_key(hostile), "bevilb2025scriptalertxscript") << "letters and digits only";
  const std::string entry = bibtex_entry(hostile);
  EXPECT_NE(entry.find("title = {{<script>alert('x')</script> \\& Hostile $\\alpha_1$ at 100\\%}}"),
            std::string::npos)
      << entry;
  Paper journal = paper;
  journal.journal_ref = "NeurIPS 2025";
  EXPECT_TRUE(bibtex_entry(journal).starts_with("@article{liu2025prorl,\n"));
  EXPECT_NE(bibtex_entry(journal).find("  journal = {NeurIPS 2025},\n"), std::string::npos);
}

TEST(Exports, WritesRisRecords) {
  Paper paper = fixture_papers()[0];
  paper.abstract = "Two\nlines.";
  EXPECT_EQ(ris_record(paper),
            "TY  - PREP\r\nTI  - ProRL: Prolonged Reinforcement Learning\r\n"
            "AU  - Mingjie Liu\r\nAU  - Shizhe Diao\r\nPY  - 2025\r\nDA  - 2025/06/02\r\n"
            "AB  - Two lines.\r\nKW  - cs.LG\r\nAN  - arXiv:2505.24864\r\n"
            "UR  - https://arxiv.org/abs/2505.24864\r\nER  - \r\n\r\n");
}

TEST(Syndication, FormatsDatesForAtomAndRss) {
  const sys_seconds instant = *parse_instant("2025-06-02T03:18:21Z");
  EXPECT_EQ(rfc3339(instant), "2025-06-02T03:18:21Z");
  EXPECT_EQ(rfc822(instant), "Mon, 02 Jun 2025 03:18:21 +0000");
  EXPECT_EQ(rfc822(*parse_instant("2024-02-29T23:59:59Z")), "Thu, 29 Feb 2024 23:59:59 +0000");
}

TEST(Exclusions, LeaveOutPapersHoldingAWordAsSearchAnalysesIt) {
  auto exclusions = Exclusions::parse(" surveys , large language,, the ");
  ASSERT_TRUE(exclusions) << exclusions.error().message;
  EXPECT_EQ(exclusions->text(), "surveys, large language");
  EXPECT_EQ(exclusions->query_terms(), " -surveys -\"large language\"");
  const std::vector<Paper> papers = fixture_papers();
  EXPECT_TRUE(exclusions->excludes(papers[1])) << "'survey' in the title, stemmed alike";
  EXPECT_FALSE(exclusions->excludes(papers[0]));
  Paper language = papers[0];
  language.abstract = "A language model that is large.";
  EXPECT_TRUE(exclusions->excludes(language)) << "every term of a word, anywhere";
  language.abstract = "A language model.";
  EXPECT_FALSE(exclusions->excludes(language));
  EXPECT_TRUE(Exclusions::parse("")->empty());
  EXPECT_EQ(Exclusions::parse(std::string(101, 'a')).error().message,
            "exclude: each word at most 100 bytes, got 101");
  std::string many;
  for (int i = 0; i < 21; ++i) many += "word" + std::to_string(i) + ",";
  EXPECT_EQ(Exclusions::parse(many).error().message, "exclude: at most 20 words");
}

TEST(ApiCursor, RoundTripsAndRefusesOtherListsCursors) {
  httplib::Request request;
  request.path = "/api/daily_papers";
  request.params = {{"week", "2025-W23"}, {"limit", "10"}, {"cursor", "x"}};
  const std::string fingerprint = list_fingerprint(request);
  request.params = {{"week", "2025-W23"}, {"limit", "20"}};
  EXPECT_EQ(list_fingerprint(request), fingerprint) << "paging parameters do not count";
  const std::string cursor = make_cursor(40, fingerprint);
  EXPECT_EQ(cursor.find_first_not_of("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
                                     "0123456789-_"),
            std::string::npos)
      << cursor;
  EXPECT_EQ(read_cursor(cursor, fingerprint), 40u);
  request.params = {{"week", "2025-W24"}};
  auto foreign = read_cursor(cursor, list_fingerprint(request));
  ASSERT_FALSE(foreign);
  EXPECT_TRUE(foreign.error().message.starts_with("cursor: it belongs to a different list"));
  for (const char* bad : {"", "!!", "abc", "YzE6eDp5"}) {
    auto read = read_cursor(bad, fingerprint);
    ASSERT_FALSE(read) << bad;
    EXPECT_TRUE(read.error().message.starts_with("cursor: not a cursor from this list")) << bad;
  }
}

// ---- Through the real server ----

fs::path fresh_temp_dir() {
  std::random_device random;
  fs::path directory =
      fs::temp_directory_path() / ("paperboy-feeds-web-" + std::to_string(random()));
  fs::remove_all(directory);
  fs::create_directories(directory);
  return directory;
}

class FeedsWeb : public ::testing::Test {
 protected:
  void SetUp() override {
    directory_ = fresh_temp_dir();
    const fs::path path = directory_ / "papers.sqlite";
    auto opened = store::open_sqlite_store(path);
    ASSERT_TRUE(opened) << opened.error().message;
    store_ = std::move(*opened);
    ASSERT_TRUE(store_->begin_batch());
    for (const Paper& paper : fixture_papers()) ASSERT_TRUE(store_->upsert(paper));
    ASSERT_TRUE(store_->commit_batch());
    auto community = store::open_sqlite_community_store(path);
    ASSERT_TRUE(community) << community.error().message;
    community_ = std::move(*community);
    auto subscriptions = store::open_sqlite_subscription_store(path);
    ASSERT_TRUE(subscriptions) << subscriptions.error().message;
    subscriptions_ = std::move(*subscriptions);
    build_index();
    start_server();
  }

  void build_index() {
    auto writer = index::IndexWriter::open(directory_ / "index");
    ASSERT_TRUE(writer) << writer.error().message;
    auto visited = store_->for_each_paper([&](const Paper& paper) {
      auto added = (*writer)->add(index::document_from_paper(paper));
      EXPECT_TRUE(added) << added.error().message;
    });
    ASSERT_TRUE(visited) << visited.error().message;
    auto committed = (*writer)->commit();
    ASSERT_TRUE(committed) << committed.error().message;
  }

  void start_server() {
    stop_server();
    ServerOptions options;
    options.port = 0;
    options.threads = 4;
    options.index_dir = directory_ / "index";
    options.community = community_.get();
    options.subscriptions = subscriptions_.get();
    options.mail.secret = "feeds-test-secret";
    auto created = Server::create(*store_, options);
    ASSERT_TRUE(created) << created.error().message;
    server_ = std::move(*created);
    thread_ = std::thread([this] { ran_ = server_->run(); });
    client_ = std::make_unique<httplib::Client>("127.0.0.1", server_->port());
    client_->set_read_timeout(20, 0);
  }

  void stop_server() {
    if (server_) server_->stop();
    if (thread_.joinable()) thread_.join();
    EXPECT_TRUE(ran_) << ran_.error().message;
    server_.reset();
  }

  void TearDown() override {
    stop_server();
    subscriptions_.reset();
    community_.reset();
    store_.reset();
    std::error_code ignored;
    fs::remove_all(directory_, ignored);
  }

  // A signed-in user: an account and a session made in the store, its cookie for requests.
  std::string session_for(const std::string& name) {
    auto user = community_->add_user(store::NewUser{name, name + "@example.org", "unused"});
    EXPECT_TRUE(user) << user.error().message;
    const std::string token = random_token();
    EXPECT_TRUE(community_->add_session(
        token_hash(token), user->id, random_token(),
        sys_seconds{std::chrono::floor<std::chrono::seconds>(std::chrono::system_clock::now())} +
            std::chrono::hours(1)));
    user_ids_[name] = user->id;
    return "paperboy_session=" + token;
  }

  httplib::Result fetch(const std::string& path, const std::string& cookie = {}) {
    httplib::Headers headers;
    if (!cookie.empty()) headers.emplace("Cookie", cookie);
    auto response = client_->Get(path.c_str(), headers);
    EXPECT_TRUE(response) << path << ": " << httplib::to_string(response.error());
    return response;
  }

  std::string get(const std::string& path, int status = 200, const std::string& cookie = {}) {
    auto response = fetch(path, cookie);
    if (!response) return {};
    EXPECT_EQ(response->status, status) << path << "\n" << response->body.substr(0, 800);
    return response->body;
  }

  json get_json(const std::string& path, int status = 200) {
    return json::parse(get(path, status), nullptr, /*allow_exceptions=*/false);
  }

  // The feed parsed as XML, failing the test when it is not well-formed.
  pugi::xml_document get_xml(const std::string& path, const std::string& content_type,
                             const std::string& cookie = {}) {
    pugi::xml_document document;
    auto response = fetch(path, cookie);
    if (!response) return document;
    EXPECT_EQ(response->status, 200) << path << "\n" << response->body.substr(0, 800);
    EXPECT_EQ(response->get_header_value("Content-Type"), content_type) << path;
    const pugi::xml_parse_result parsed = document.load_string(response->body.c_str());
    EXPECT_TRUE(parsed) << path << ": " << parsed.description() << "\n" << response->body;
    return document;
  }

  static std::vector<std::string> atom_titles(const pugi::xml_document& document) {
    std::vector<std::string> titles;
    for (pugi::xml_node entry : document.child("feed").children("entry"))
      titles.push_back(entry.child_value("title"));
    return titles;
  }

  static std::vector<std::string> rss_titles(const pugi::xml_document& document) {
    std::vector<std::string> titles;
    for (pugi::xml_node item : document.child("rss").child("channel").children("item"))
      titles.push_back(item.child_value("title"));
    return titles;
  }

  static std::vector<std::string> daily_ids(const json& entries) {
    std::vector<std::string> ids;
    for (const json& entry : entries) ids.push_back(entry["paper"]["id"]);
    return ids;
  }

  fs::path directory_;
  std::unique_ptr<store::Store> store_;
  std::unique_ptr<store::CommunityStore> community_;
  std::unique_ptr<store::SubscriptionStore> subscriptions_;
  std::unique_ptr<Server> server_;
  std::unique_ptr<httplib::Client> client_;
  std::thread thread_;
  Result<void> ran_;
  std::map<std::string, int64_t> user_ids_;
};

constexpr const char* kAtom = "application/atom+xml; charset=utf-8";
constexpr const char* kRss = "application/rss+xml; charset=utf-8";

TEST_F(FeedsWeb, DailyFeedsAreWellFormedWithEscapedTitlesAndStandardDates) {
  pugi::xml_document atom = get_xml("/feeds/daily.atom", kAtom);
  pugi::xml_node feed = atom.child("feed");
  EXPECT_STREQ(feed.attribute("xmlns").value(), "http://www.w3.org/2005/Atom");
  EXPECT_EQ(atom_titles(atom),
            (std::vector<std::string>{"ProRL: Prolonged Reinforcement Learning",
                                      "AlphaOne: A Survey of Reasoning Models", kHostileTitle}));
  const std::string base = "http://127.0.0.1:" + std::to_string(server_->port());
  EXPECT_EQ(
      std::string(feed.find_child_by_attribute("link", "rel", "self").attribute("href").value()),
      base + "/feeds/daily.atom");
  pugi::xml_node first = feed.child("entry");
  EXPECT_EQ(std::string(first.child_value("id")), base + "/papers/2505.24864");
  EXPECT_STREQ(first.child_value("updated"), "2025-06-02T00:00:00Z");
  EXPECT_STREQ(first.child("author").child_value("name"), "Mingjie Liu");
  EXPECT_STREQ(first.child("category").attribute("term").value(), "cs.LG");
  EXPECT_STREQ(feed.child_value("updated"), "2025-06-02T00:00:00Z");

  pugi::xml_document rss = get_xml("/feeds/daily.rss", kRss);
  pugi::xml_node channel = rss.child("rss").child("channel");
  EXPECT_STREQ(rss.child("rss").attribute("version").value(), "2.0");
  EXPECT_EQ(rss_titles(rss)[2], kHostileTitle);
  EXPECT_STREQ(channel.child("item").child_value("pubDate"), "Mon, 02 Jun 2025 00:00:00 +0000");
  EXPECT_STREQ(channel.child("item").child_value("dc:creator"), "Mingjie Liu");
  EXPECT_EQ(std::string(channel.child_value("link")), base + "/date/2025-06-02");
  // The raw text holds the title escaped, never as markup.
  const std::string raw = get("/feeds/daily.rss");
  EXPECT_EQ(raw.find("<script>"), std::string::npos);
  EXPECT_NE(raw.find("&lt;script&gt;"), std::string::npos);

  EXPECT_EQ(atom_titles(get_xml("/feeds/daily.atom?category=cs.CL", kAtom)),
            std::vector<std::string>{"AlphaOne: A Survey of Reasoning Models"});
  get("/feeds/daily.atom?category=%3Cx%3E", 400);
}

TEST_F(FeedsWeb, FeedsOfTrendingASearchAnAuthorAndACategory) {
  EXPECT_EQ(rss_titles(get_xml("/feeds/trending.rss", kRss)).size(), 4u);
  // A search feed lists the newest matches first.
  const std::vector<std::string> searched =
      atom_titles(get_xml("/feeds/search.atom?q=reinforcement", kAtom));
  ASSERT_EQ(searched.size(), 3u);
  EXPECT_EQ(searched[2], "Older Reinforcement Learning Baselines");
  get("/feeds/search.atom", 400);
  EXPECT_EQ(atom_titles(get_xml("/feeds/author/Mingjie%20Liu.atom", kAtom)).size(), 3u);
  EXPECT_EQ(rss_titles(get_xml("/feeds/author/Eve%20%3Cb%3EEvil%3C%2Fb%3E.rss", kRss)),
            std::vector<std::string>{kHostileTitle});
  EXPECT_EQ(atom_titles(get_xml("/feeds/category/cs.LG.atom", kAtom)),
            (std::vector<std::string>{"ProRL: Prolonged Reinforcement Learning",
                                      "Older Reinforcement Learning Baselines"}));
  EXPECT_TRUE(atom_titles(get_xml("/feeds/category/q-bio.NC.atom", kAtom)).empty());
}

TEST_F(FeedsWeb, PagesAnnounceTheirFeedsAndExports) {
  const std::string home = get("/");
  EXPECT_NE(home.find("<link rel=\"alternate\" type=\"application/atom+xml\" title=\"Daily papers "
                      "(Atom)\" href=\"/feeds/daily.atom\">"),
            std::string::npos);
  EXPECT_NE(get("/trending").find("href=\"/feeds/trending.rss\""), std::string::npos);
  const std::string search = get("/search?q=reasoning");
  EXPECT_NE(search.find("href=\"/feeds/search.atom?q=reasoning\""), std::string::npos);
  EXPECT_NE(search.find("href=\"/search.bib?q=reasoning\""), std::string::npos);
  const std::string paper = get("/papers/2505.24864");
  EXPECT_NE(paper.find("href=\"/papers/2505.24864.bib\""), std::string::npos);
  EXPECT_NE(paper.find("href=\"/papers/2505.24864.ris\""), std::string::npos);
  EXPECT_NE(paper.find("<a href=\"/authors/Mingjie%20Liu\">Mingjie Liu</a>"), std::string::npos);
  EXPECT_NE(paper.find("href=\"/categories/cs.LG\""), std::string::npos);
  EXPECT_NE(home.find("<a href=\"/authors/Shizhe%20Diao\">Shizhe Diao</a>"), std::string::npos)
      << "cards link their authors";
}

TEST_F(FeedsWeb, ExportsAPaperASearchAndACollection) {
  auto bib = fetch("/papers/2505.24864.bib");
  ASSERT_TRUE(bib);
  EXPECT_EQ(bib->status, 200);
  EXPECT_EQ(bib->get_header_value("Content-Type"), "application/x-bibtex; charset=utf-8");
  EXPECT_EQ(bib->body, bibtex_entry(fixture_papers()[0]));
  auto ris_answer = fetch("/papers/2505.24864v1.ris");
  ASSERT_TRUE(ris_answer);
  EXPECT_EQ(ris_answer->get_header_value("Content-Type"),
            "application/x-research-info-systems; charset=utf-8");
  EXPECT_TRUE(ris_answer->body.starts_with("TY  - PREP\r\nTI  - ProRL")) << ris_answer->body;
  get("/papers/2599.99999.bib", 404);

  const std::string searched = get("/search.bib?q=reinforcement&sort=date");
  EXPECT_LT(searched.find("@misc{liu2025prorl,"), searched.find("@misc{liu2025older,"));
  EXPECT_NE(searched.find("title = {{<script>alert('x')</script> \\& Hostile"), std::string::npos);
  EXPECT_EQ(get("/search.ris?q=survey").find("TI  - AlphaOne"), 12u);
  get("/search.bib?q=x&limit=101", 400);

  const std::string ada = session_for("ada");
  auto mine = community_->create_collection(user_ids_["ada"], "Private reading", "", false);
  ASSERT_TRUE(mine);
  ASSERT_TRUE(community_->put_in_collection(mine->id, "2505.24863", "note"));
  ASSERT_TRUE(community_->put_in_collection(mine->id, "2505.24864", ""));
  const std::string id = std::to_string(mine->id);
  const std::string exported = get("/collections/" + id + ".bib", 200, ada);
  EXPECT_LT(exported.find("zhang2025alphaone"), exported.find("liu2025prorl")) << "in order";
  EXPECT_EQ(atom_titles(get_xml("/feeds/collection/" + id + ".atom", kAtom, ada)).size(), 2u);
  // Nobody else sees a private collection, signed in or not.
  const std::string bob = session_for("bob");
  get("/collections/" + id + ".bib", 404);
  get("/collections/" + id + ".ris", 404, bob);
  get("/feeds/collection/" + id + ".rss", 404, bob);
  ASSERT_TRUE(community_->update_collection(mine->id, "Public reading", "", true));
  EXPECT_EQ(rss_titles(get_xml("/feeds/collection/" + id + ".rss", kRss)).size(), 2u);
  EXPECT_NE(get("/collections/" + id + ".ris").find("TI  - AlphaOne"), std::string::npos);
}

TEST_F(FeedsWeb, AuthorAndCategoryPagesListNewestFirst) {
  const std::string author = get("/authors/Mingjie%20Liu");
  EXPECT_NE(author.find("<h1 data-math>Mingjie Liu</h1>"), std::string::npos);
  EXPECT_NE(author.find("3 papers, newest first"), std::string::npos);
  const size_t older = author.find("Older Reinforcement Learning Baselines");
  EXPECT_NE(older, std::string::npos);
  EXPECT_LT(author.find("ProRL"), older);
  EXPECT_NE(author.find("href=\"/feeds/author/Mingjie%20Liu.atom\""), std::string::npos);
  // Another author sharing a name's words is not theirs.
  get("/authors/Liu", 404);
  const std::string hostile = get("/authors/Eve%20%3Cb%3EEvil%3C%2Fb%3E");
  EXPECT_EQ(hostile.find("<b>Evil"), std::string::npos);
  EXPECT_NE(hostile.find("<h1 data-math>Eve &lt;b&gt;Evil&lt;"), std::string::npos);

  const std::string category = get("/categories/cs.LG");
  EXPECT_NE(category.find("2 papers in the feed"), std::string::npos);
  EXPECT_LT(category.find("ProRL"), category.find("Older Reinforcement Learning Baselines"));
  EXPECT_EQ(category.find("AlphaOne"), std::string::npos);
  get("/categories/%3Cscript%3E", 404);
}

TEST_F(FeedsWeb, ExclusionWordsApplyToEveryList) {
  const std::string home = get("/?exclude=survey");
  EXPECT_EQ(home.find("AlphaOne"), std::string::npos);
  EXPECT_NE(home.find("ProRL"), std::string::npos);
  EXPECT_NE(home.find("name=\"exclude\" value=\"survey\""), std::string::npos)
      << "kept in the form";
  EXPECT_NE(home.find("?sort=date&amp;exclude=survey"), std::string::npos) << "kept in links";
  EXPECT_EQ(get("/trending?exclude=surveys").find("AlphaOne"), std::string::npos);
  EXPECT_EQ(get("/search?q=reasoning&exclude=survey").find("AlphaOne"), std::string::npos);
  EXPECT_NE(get("/search?q=reasoning").find("AlphaOne"), std::string::npos);
  EXPECT_EQ(daily_ids(get_json("/api/daily_papers?exclude=survey,attack")),
            std::vector<std::string>{"2505.24864"});
  const json searched = get_json("/api/search?q=reinforcement&exclude=attack");
  EXPECT_EQ(searched["results"].size(), 2u);
  EXPECT_EQ(get_json("/api/daily_papers?exclude=" + std::string(101, 'a'), 400)["error"],
            "exclude: each word at most 100 bytes, got 101");
  EXPECT_EQ(atom_titles(get_xml("/feeds/daily.atom?exclude=attack,survey", kAtom)),
            std::vector<std::string>{"ProRL: Prolonged Reinforcement Learning"});
  EXPECT_EQ(get("/authors/Mingjie%20Liu?exclude=baselines").find("Older Reinforcement"),
            std::string::npos);
}

TEST_F(FeedsWeb, HiddenPapersLeaveSearchFeedsExportsAndTheApi) {
  ASSERT_TRUE(community_->set_paper_hidden("2505.24863", true));
  start_server();  // the server reads the hidden papers when it starts
  EXPECT_EQ(get("/search?q=reasoning").find("AlphaOne"), std::string::npos);
  EXPECT_TRUE(get_json("/api/search?q=survey")["results"].empty());
  EXPECT_EQ(daily_ids(get_json("/api/daily_papers")).size(), 2u);
  get_json("/api/papers/2505.24863", 404);
  for (const char* path :
       {"/feeds/daily.atom", "/feeds/trending.atom", "/feeds/search.atom?q=reasoning",
        "/feeds/author/Junyu%20Zhang.atom", "/feeds/category/cs.CL.atom"}) {
    for (const std::string& title : atom_titles(get_xml(path, kAtom)))
      EXPECT_NE(title, "AlphaOne: A Survey of Reasoning Models") << path;
  }
  get("/papers/2505.24863.bib", 404);
  EXPECT_EQ(get("/search.bib?q=survey"), "");
  EXPECT_EQ(get("/categories/cs.CL").find("AlphaOne"), std::string::npos);
}

TEST_F(FeedsWeb, JsonListsPageByCursor) {
  // /api/daily_papers keeps its HF array; ?cursor= answers {papers, next_cursor}.
  auto plain = fetch("/api/daily_papers?limit=2");
  ASSERT_TRUE(plain);
  const std::string header_cursor = plain->get_header_value("X-Next-Cursor");
  EXPECT_FALSE(header_cursor.empty());
  const json first = get_json("/api/daily_papers?limit=2&cursor=");
  EXPECT_EQ(daily_ids(first["papers"]), (std::vector<std::string>{"2505.24864", "2505.24863"}));
  ASSERT_TRUE(first["next_cursor"].is_string());
  EXPECT_EQ(first["next_cursor"], header_cursor);
  const json second =
      get_json("/api/daily_papers?limit=2&cursor=" + first["next_cursor"].get<std::string>());
  EXPECT_EQ(daily_ids(second["papers"]), std::vector<std::string>{"2506.01234"});
  EXPECT_TRUE(second["next_cursor"].is_null());

  EXPECT_TRUE(
      get_json("/api/daily_papers?cursor=not-ours", 400)["error"].get<std::string>().starts_with(
          "cursor: not a cursor from this list"));
  EXPECT_TRUE(get_json("/api/daily_papers?sort=publishedAt&cursor=" + header_cursor, 400)["error"]
                  .get<std::string>()
                  .starts_with("cursor: it belongs to a different list"));
  EXPECT_EQ(get_json("/api/daily_papers?p=1&cursor=", 400)["error"],
            "cursor, p: give one of them, not both");

  const json page_one = get_json("/api/search?q=reinforcement&sort=date&limit=2");
  ASSERT_TRUE(page_one["next_cursor"].is_string()) << page_one.dump();
  const json page_two = get_json("/api/search?q=reinforcement&sort=date&limit=2&cursor=" +
                                 page_one["next_cursor"].get<std::string>());
  EXPECT_EQ(page_two["offset"], 2);
  ASSERT_EQ(page_two["results"].size(), 1u);
  EXPECT_EQ(page_two["results"][0]["id"], "2505.11111");
  EXPECT_TRUE(page_two["next_cursor"].is_null());
  EXPECT_TRUE(get_json("/api/search?q=survey&cursor=" + page_one["next_cursor"].get<std::string>(),
                       400)["error"]
                  .get<std::string>()
                  .starts_with("cursor: it belongs to a different list"));
}

TEST_F(FeedsWeb, NewBadgesMarkPapersThatCameSinceTheLastVisit) {
  const std::string ada = session_for("ada");
  const std::string bob = session_for("bob");
  // Ada's last request was three hours ago; since then a paper entered today's feed.
  const sys_seconds now =
      std::chrono::floor<std::chrono::seconds>(std::chrono::system_clock::now());
  ASSERT_TRUE(community_->record_visit(user_ids_["ada"], now - std::chrono::hours(3),
                                       std::chrono::minutes(30)));
  Paper fresh = make_paper("2511.00001", "A Fresh Paper", {"New Author"}, "cs.LG",
                           format_date(today()), 1, "Fresh.");
  fresh.submitted_at = format_instant(now - std::chrono::hours(1));
  ASSERT_TRUE(store_->begin_batch());
  ASSERT_TRUE(store_->upsert(fresh));
  ASSERT_TRUE(store_->commit_batch());
  // Trending lists them all, old and new.
  std::string home = get("/trending", 200, ada);
  const size_t badge = home.find("<span class=\"badge-new\">new</span>");
  ASSERT_NE(badge, std::string::npos) << home;
  EXPECT_EQ(home.find("badge-new", badge + 30), std::string::npos) << "only the fresh paper";
  EXPECT_LT(home.find("A Fresh Paper"), badge);
  EXPECT_EQ(home.find("<!--new:"), std::string::npos) << "markers never reach a signed-in user";
  // Within the same visit the paper stays new; nothing is new on a first visit or for visitors.
  EXPECT_NE(get("/trending", 200, ada).find("badge-new"), std::string::npos);
  EXPECT_EQ(get("/trending", 200, bob).find("badge-new"), std::string::npos);
  EXPECT_EQ(get("/trending").find("badge-new"), std::string::npos);
}

TEST_F(FeedsWeb, DigestAndListPagesShowTheAccountNavigation) {
  const std::string ada = session_for("ada");
  for (const char* path : {"/digest", "/authors/Mingjie%20Liu", "/categories/cs.LG"}) {
    const std::string page = get(path, 200, ada);
    EXPECT_NE(page.find("<a class=\"account-name\" href=\"/settings\" title=\"Settings\">ada</a>"),
              std::string::npos)
        << path;
    EXPECT_EQ(page.find("<!--account-->"), std::string::npos) << path;
  }
  EXPECT_NE(get("/digest").find("href=\"/signin?next=%2Fdigest\""), std::string::npos);
}

}  // namespace
}  // namespace paperboy::web
