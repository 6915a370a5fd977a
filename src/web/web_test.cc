#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <httplib.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <random>
#include <thread>
#include <vector>

#include "core/date.h"
#include "store/store.h"
#include "web/hf_json.h"
#include "web/pages.h"
#include "web/periods.h"
#include "web/server.h"

namespace paperboy::web {
namespace {

using std::chrono::sys_days;

TEST(Periods, ParsesIsoWeeksIncludingYearBoundaries) {
  EXPECT_EQ(format_date(*parse_iso_week("2026-W34")), "2026-08-17");
  EXPECT_EQ(format_date(*parse_iso_week("2026-W01")), "2025-12-29");  // week 1 starts in 2025
  EXPECT_EQ(format_date(*parse_iso_week("2020-W53")), "2020-12-28");  // 2020 has 53 weeks
  EXPECT_EQ(format_date(*parse_iso_week("2026-W53")), "2026-12-28");  // 2026 starts on a Thursday
  EXPECT_FALSE(parse_iso_week("2025-W53"));                           // 2025 has 52 weeks
  EXPECT_FALSE(parse_iso_week("2026-W00"));
  EXPECT_FALSE(parse_iso_week("2026-34"));
  EXPECT_FALSE(parse_iso_week("2026-W3"));
  EXPECT_EQ(format_iso_week(*parse_date("2026-08-21")), "2026-W34");
  EXPECT_EQ(format_iso_week(*parse_date("2027-01-01")), "2026-W53");
  EXPECT_EQ(format_iso_week(*parse_date("2025-12-29")), "2026-W01");
}

TEST(Periods, ParsesDaysAndMonthsStrictly) {
  EXPECT_EQ(format_date(*parse_iso_day("2024-02-29")), "2024-02-29");
  EXPECT_FALSE(parse_iso_day("2025-02-29"));
  EXPECT_FALSE(parse_iso_day("2025-2-28"));
  EXPECT_FALSE(parse_iso_day("2025-02-28x"));
  EXPECT_EQ(format_date(*parse_year_month("2026-08")), "2026-08-01");
  EXPECT_FALSE(parse_year_month("2026-13"));
  EXPECT_FALSE(parse_year_month("2026-8"));
  const sys_days day = *parse_date("2026-08-21");
  EXPECT_EQ(period_path(feed::Period::day, day), "/date/2026-08-21");
  EXPECT_EQ(period_path(feed::Period::week, day), "/week/2026-W34");
  EXPECT_EQ(period_path(feed::Period::month, day), "/month/2026-08");
  EXPECT_EQ(period_title(feed::Period::day, day), "Friday, 21 August 2026");
  EXPECT_EQ(period_title(feed::Period::week, day), "Week 34, 2026 (17 Aug – 23 Aug)");
  EXPECT_EQ(period_title(feed::Period::month, day), "August 2026");
}

TEST(HfJson, FormatsTimestampsLikeHuggingFace) {
  EXPECT_EQ(hf_timestamp("2025-05-30"), "2025-05-30T00:00:00.000Z");
  EXPECT_EQ(hf_timestamp("2025-06-02T03:18:21.654Z"), "2025-06-02T03:18:21.654Z");
  EXPECT_EQ(hf_timestamp("2025-06-02T03:18:21.6Z"), "2025-06-02T03:18:21.600Z");
  EXPECT_EQ(hf_timestamp("2025-06-02T05:18:21+02:00"), "2025-06-02T03:18:21.000Z");
  EXPECT_EQ(hf_timestamp(""), "");
  EXPECT_EQ(hf_timestamp("soon"), "");
}

TEST(Links, OnlyHttpLinksSurvive) {
  EXPECT_EQ(safe_link("https://github.com/a/b"), "https://github.com/a/b");
  EXPECT_EQ(safe_link("HTTP://example.org/x"), "HTTP://example.org/x");
  EXPECT_EQ(safe_link("javascript:alert(1)"), "");
  EXPECT_EQ(safe_link(" https://example.org"), "");
  EXPECT_EQ(safe_link("https://"), "");
  EXPECT_EQ(safe_link("data:text/html,hi"), "");
  EXPECT_EQ(url_encode("cs.CL"), "cs.CL");
  EXPECT_EQ(url_encode("a b&c\"<"), "a%20b%26c%22%3C");
}

// ---- The real server over a real SQLite store ----

namespace fs = std::filesystem;
using nlohmann::json;

// Papers modelled on real Hugging Face Daily Papers records (2025-05-30 .. 2025-07-01).
std::vector<Paper> fixture_papers() {
  std::vector<Paper> papers;
  auto add = [&papers](std::string id, std::string title, int64_t upvotes, std::string feed_day,
                       std::vector<std::string> categories) -> Paper& {
    Paper& paper = papers.emplace_back();
    paper.arxiv_id = std::move(id);
    paper.version = 1;
    paper.title = std::move(title);
    paper.upvotes = upvotes;
    paper.feed_day = feed_day;
    paper.submitted_at = feed_day + "T03:18:21.654Z";
    paper.published = "2025-05-30";
    paper.categories = std::move(categories);
    paper.authors = {"Mingjie Liu", "Shizhe Diao", "Ximing Lu", "Jian Hu"};
    paper.abstract = "An abstract about " + paper.title + ".";
    paper.submitted_by = "hassanjbara";
    paper.source = "hf-daily";
    return paper;
  };
  Paper& prorl =
      add("2505.24864",
          "ProRL: Prolonged Reinforcement Learning Expands Reasoning Boundaries in Large "
          "Language Models",
          35, "2025-06-02", {"cs.LG", "cs.AI"});
  prorl.abstract = "Recent advances in reasoning-centric language models show $O(n^2)$ gains.";
  prorl.code_url = "https://github.com/NVlabs/ProRL";
  prorl.project_url = "https://nvlabs.github.io/ProRL/";
  prorl.github_stars = 120;
  prorl.ai_summary = "Prolonged reinforcement learning training (ProRL) uncovers novel strategies.";
  prorl.ai_keywords = {"reinforcement learning", "KL divergence control"};
  prorl.num_comments = 2;
  prorl.organization = "nvidia";
  prorl.comments = "12 pages, 5 figures";
  add("2505.24863", "AlphaOne: Reasoning Models Thinking Slow and Fast at Test Time", 28,
      "2025-06-02", {"cs.CL"});
  add("2505.22312", "Skywork Open Reasoner 1 Technical Report", 18, "2025-06-02", {"cs.LG"});
  Paper& title_only = papers.emplace_back();
  title_only.title = "A Survey Known Only By Its Title";
  title_only.author_count = 12;
  title_only.feed_day = "2025-06-02";
  title_only.upvotes = 3;
  add("2505.23604", "Satori-SWE: Evolutionary Test-Time Scaling", 50, "2025-05-30", {"cs.SE"});
  Paper& hostile = add("2506.01234", "<script>alert(\"title\")</script> & \"Quoted\" 'Title'", 7,
                       "2025-06-03", {"cs.CR"});
  hostile.authors = {"Eve <img src=x onerror=alert(1)>", "Mallory \"Q\""};
  hostile.abstract = "</p><script>alert('abstract')</script>";
  hostile.code_url = "javascript:alert('code')";
  hostile.project_url = "https://example.org/\"onmouseover=\"alert(1)";
  hostile.submitted_by = "<b>bold</b>";
  add("2506.24000", "Next Month's Paper", 11, "2025-07-01", {"cs.CV"});
  return papers;
}

// Forwards to a real store, and fails every read while `failing` is set.
class FailingStore : public store::Store {
 public:
  explicit FailingStore(store::Store& inner) : inner_(inner) {}
  std::atomic<bool> failing{false};

  Result<void> begin_batch() override { return inner_.begin_batch(); }
  Result<void> commit_batch() override { return inner_.commit_batch(); }
  void rollback_batch() override { inner_.rollback_batch(); }
  Result<store::UpsertOutcome> upsert(const Paper& paper) override { return inner_.upsert(paper); }
  Result<std::optional<Paper>> find(std::string_view id) override {
    if (failing) return fail("disk I/O error");
    return inner_.find(id);
  }
  Result<std::vector<Paper>> feed_papers(std::string_view first, std::string_view last,
                                         std::string_view category) override {
    if (failing) return fail("disk I/O error");
    return inner_.feed_papers(first, last, category);
  }
  Result<std::vector<std::string>> feed_days() override {
    if (failing) return fail("disk I/O error");
    return inner_.feed_days();
  }
  Result<void> for_each_paper(const std::function<void(const Paper&)>& visit) override {
    if (failing) return fail("disk I/O error");
    return inner_.for_each_paper(visit);
  }
  Result<store::StoreStats> stats() override {
    if (failing) return fail("disk I/O error");
    return inner_.stats();
  }
  Result<std::optional<std::string>> feed_day_before(std::string_view day,
                                                     std::string_view category) override {
    if (failing) return fail("disk I/O error");
    return inner_.feed_day_before(day, category);
  }
  Result<std::optional<std::string>> feed_day_after(std::string_view day,
                                                    std::string_view category) override {
    if (failing) return fail("disk I/O error");
    return inner_.feed_day_after(day, category);
  }
  Result<std::vector<Paper>> upvoted_papers(std::chrono::sys_seconds from,
                                            std::chrono::sys_seconds to,
                                            int64_t min_upvotes) override {
    if (failing) return fail("disk I/O error");
    return inner_.upvoted_papers(from, to, min_upvotes);
  }

 private:
  store::Store& inner_;
};

// A new, empty folder of its own, so parallel runs of the suite never share files.
fs::path fresh_temp_dir(const std::string& prefix) {
  std::random_device random;
  fs::path directory = fs::temp_directory_path() / (prefix + "-" + std::to_string(random()));
  fs::remove_all(directory);
  fs::create_directories(directory);
  return directory;
}

class WebServer : public ::testing::Test {
 protected:
  void SetUp() override {
    directory_ = fresh_temp_dir("paperboy-web-test");
    auto opened = store::open_sqlite_store(directory_ / "papers.sqlite");
    ASSERT_TRUE(opened) << opened.error().message;
    store_ = std::move(*opened);
    ASSERT_TRUE(store_->begin_batch());
    for (const Paper& paper : fixture_papers()) {
      auto outcome = store_->upsert(paper);
      ASSERT_TRUE(outcome) << paper.title << ": " << outcome.error().message;
    }
    ASSERT_TRUE(store_->commit_batch());
    failing_ = std::make_unique<FailingStore>(*store_);

    ServerOptions options;
    options.port = 0;
    options.threads = 2;
    options.max_body_bytes = 64 * 1024;
    auto created = Server::create(*failing_, options);
    ASSERT_TRUE(created) << created.error().message;
    server_ = std::move(*created);
    ASSERT_GT(server_->port(), 0);
    thread_ = std::thread([this] { ran_ = server_->run(); });
    client_ = std::make_unique<httplib::Client>("127.0.0.1", server_->port());
    client_->set_read_timeout(10, 0);
  }

  void TearDown() override {
    if (server_) server_->stop();
    if (thread_.joinable()) thread_.join();
    EXPECT_TRUE(ran_) << ran_.error().message;
    server_.reset();
    failing_.reset();
    store_.reset();
    std::error_code ignored;
    fs::remove_all(directory_, ignored);
  }

  // GET that must answer `status`; returns the body.
  std::string get(const std::string& path, int status = 200) {
    auto response = client_->Get(path.c_str());
    EXPECT_TRUE(response) << path << ": " << httplib::to_string(response.error());
    if (!response) return {};
    EXPECT_EQ(response->status, status) << path << "\n" << response->body.substr(0, 400);
    return response->body;
  }

  json get_json(const std::string& path, int status = 200) {
    auto response = client_->Get(path.c_str());
    EXPECT_TRUE(response) << path;
    if (!response) return nullptr;
    EXPECT_EQ(response->status, status) << path << "\n" << response->body.substr(0, 400);
    EXPECT_EQ(response->get_header_value("Content-Type"), "application/json; charset=utf-8");
    return json::parse(response->body);
  }

  fs::path directory_;
  std::unique_ptr<store::Store> store_;
  std::unique_ptr<FailingStore> failing_;
  std::unique_ptr<Server> server_;
  std::thread thread_;
  Result<void> ran_;
  std::unique_ptr<httplib::Client> client_;
};

// Byte offset of `needle` in `haystack`, or npos; fails the test when absent.
size_t position_of(const std::string& haystack, const std::string& needle) {
  const size_t at = haystack.find(needle);
  EXPECT_NE(at, std::string::npos) << "missing: " << needle;
  return at;
}

TEST_F(WebServer, HomeShowsTheLatestFeedDay) {
  const std::string body = get("/");
  EXPECT_NE(body.find("Next Month&apos;s Paper"), std::string::npos);
  EXPECT_NE(body.find("Tuesday, 1 July 2025"), std::string::npos);
  EXPECT_NE(body.find("href=\"/date/2025-06-03\" rel=\"prev\""), std::string::npos);
  EXPECT_EQ(body.find("rel=\"next\""), std::string::npos);
  EXPECT_NE(body.find("paperboy"), std::string::npos);
  EXPECT_EQ(body.find("ProRL"), std::string::npos);
}

TEST_F(WebServer, DayPageListsPapersByUpvotesWithNavigation) {
  const std::string body = get("/date/2025-06-02");
  const size_t prorl = position_of(body, "ProRL: Prolonged");
  const size_t alpha = position_of(body, "AlphaOne");
  const size_t skywork = position_of(body, "Skywork Open Reasoner");
  const size_t survey = position_of(body, "A Survey Known Only By Its Title");
  EXPECT_LT(prorl, alpha);
  EXPECT_LT(alpha, skywork);
  EXPECT_LT(skywork, survey);
  EXPECT_NE(body.find("12 authors"), std::string::npos);
  EXPECT_NE(body.find("<a href=\"/authors/Mingjie%20Liu\">Mingjie Liu</a>, <a "
                      "href=\"/authors/Shizhe%20Diao\">Shizhe Diao</a> et al. (4 authors)"),
            std::string::npos);
  EXPECT_NE(body.find("Submitted by <strong>hassanjbara</strong> · 2 comments"), std::string::npos);
  EXPECT_NE(body.find("Monday, 2 June 2025"), std::string::npos);
  EXPECT_NE(body.find("href=\"/date/2025-05-30\" rel=\"prev\""), std::string::npos);
  EXPECT_NE(body.find("href=\"/date/2025-06-03\" rel=\"next\""), std::string::npos);
  EXPECT_NE(body.find("href=\"/week/2025-W23\""), std::string::npos);
  EXPECT_NE(body.find("href=\"/month/2025-06\""), std::string::npos);
  EXPECT_NE(body.find("href=\"/papers/2505.24864\""), std::string::npos);
  EXPECT_NE(body.find("href=\"https://arxiv.org/pdf/2505.24864\""), std::string::npos);
  EXPECT_NE(body.find("href=\"https://github.com/NVlabs/ProRL\""), std::string::npos);
  EXPECT_NE(body.find("hassanjbara"), std::string::npos);
  EXPECT_EQ(body.find("Satori-SWE"), std::string::npos);  // another day
}

TEST_F(WebServer, WeekAndMonthPagesCoverTheirPeriod) {
  const std::string week = get("/week/2025-W23");
  EXPECT_NE(week.find("Week 23, 2025"), std::string::npos);
  for (const char* title : {"ProRL", "AlphaOne", "Skywork", "&lt;script&gt;alert"}) {
    EXPECT_NE(week.find(title), std::string::npos) << title;
  }
  EXPECT_EQ(week.find("Satori-SWE"), std::string::npos);  // 2025-05-30 is in week 22
  EXPECT_EQ(week.find("Next Month"), std::string::npos);
  EXPECT_NE(week.find("href=\"/week/2025-W22\" rel=\"prev\""), std::string::npos);
  EXPECT_NE(week.find("href=\"/week/2025-W27\" rel=\"next\""), std::string::npos);

  const std::string month = get("/month/2025-06");
  EXPECT_NE(month.find("June 2025"), std::string::npos);
  EXPECT_NE(month.find("ProRL"), std::string::npos);
  EXPECT_EQ(month.find("Satori-SWE"), std::string::npos);
  EXPECT_NE(month.find("href=\"/month/2025-05\" rel=\"prev\""), std::string::npos);
  EXPECT_NE(month.find("href=\"/month/2025-07\" rel=\"next\""), std::string::npos);
  EXPECT_NE(get("/month/2025-05").find("Satori-SWE"), std::string::npos);
}

TEST_F(WebServer, FiltersByCategoryAndSorts) {
  const std::string only_cl = get("/date/2025-06-02?category=cs.CL");
  EXPECT_NE(only_cl.find("AlphaOne"), std::string::npos);
  EXPECT_EQ(only_cl.find("ProRL"), std::string::npos);
  EXPECT_NE(only_cl.find("href=\"/date/2025-06-02\" title=\"Show all categories\""),
            std::string::npos);

  EXPECT_NE(get("/date/2025-06-02?category=<x>", 400).find("category: expected"),
            std::string::npos);
  EXPECT_NE(get("/date/2025-06-02?sort=best", 400).find("sort: expected"), std::string::npos);
  get("/date/2025-06-02?sort=date");
  get("/date/2025-06-02?sort=trending");

  auto redirect = client_->Get("/papers?week=2025-W23&category=cs.LG");
  ASSERT_TRUE(redirect);
  EXPECT_EQ(redirect->status, 302);
  EXPECT_EQ(redirect->get_header_value("Location"), "/week/2025-W23?category=cs.LG");
}

TEST_F(WebServer, PaperPageShowsEverythingKnown) {
  const std::string body = get("/papers/2505.24864");
  for (const char* expected :
       {"<h1 class=\"paper-title\" data-math>ProRL: Prolonged",
        "<li><a href=\"/authors/Mingjie%20Liu\">Mingjie Liu</a></li>", "$O(n^2)$ gains",
        "https://arxiv.org/abs/2505.24864", "https://arxiv.org/pdf/2505.24864",
        "https://github.com/NVlabs/ProRL", "https://nvlabs.github.io/ProRL/",
        "uncovers novel strategies", "KL divergence control", "12 pages, 5 figures", "nvidia",
        ">35<", "★ 120", "href=\"/date/2025-06-02\"", "/static/katex/katex.min.js",
        "/static/katex/contrib/auto-render.min.js", "/static/katex/katex.min.css", "cs.LG"}) {
    EXPECT_NE(body.find(expected), std::string::npos) << expected;
  }
  EXPECT_NE(get("/papers/2505.24864v1").find("ProRL"), std::string::npos);
  const std::string missing = get("/papers/2999.00001", 404);
  EXPECT_NE(missing.find("2999.00001"), std::string::npos);
  EXPECT_NE(missing.find("<html"), std::string::npos);
}

TEST_F(WebServer, EscapesHostileText) {
  for (const std::string path : {"/papers/2506.01234", "/date/2025-06-03", "/week/2025-W23"}) {
    const std::string body = get(path);
    EXPECT_EQ(body.find("<script>alert"), std::string::npos) << path;
    EXPECT_EQ(body.find("<img src=x"), std::string::npos) << path;
    EXPECT_EQ(body.find("javascript:"), std::string::npos) << path;
    EXPECT_EQ(body.find("\"onmouseover"), std::string::npos) << path;
    EXPECT_EQ(body.find("<b>bold</b>"), std::string::npos) << path;
    EXPECT_NE(
        body.find("&lt;script&gt;alert(&quot;title&quot;)&lt;/script&gt; &amp; &quot;Quoted&quot; "
                  "&apos;Title&apos;"),
        std::string::npos)
        << path;
  }
  const std::string page = get("/papers/2506.01234");
  EXPECT_NE(page.find("Eve &lt;img src=x onerror=alert(1)&gt;"), std::string::npos);
  EXPECT_NE(page.find("&lt;/p&gt;&lt;script&gt;alert(&apos;abstract&apos;)"), std::string::npos);
  EXPECT_NE(page.find("<title>&lt;script&gt;"), std::string::npos);
  // A quote in a URL cannot leave the href attribute.
  EXPECT_NE(page.find("href=\"https://example.org/&quot;onmouseover=&quot;alert(1)\""),
            std::string::npos);
}

TEST_F(WebServer, UnknownAddressesGet404Pages) {
  EXPECT_NE(get("/nowhere", 404).find("Page not found"), std::string::npos);
  get("/date/2025-02-30", 404);
  get("/week/2025-W60", 404);
  get("/month/2025-13", 404);
  get("/static/missing.css", 404);
  const json api = get_json("/api/nowhere", 404);
  EXPECT_TRUE(api.contains("error"));
}

TEST_F(WebServer, TrendingPageRanksUpvotedPapers) {
  const std::string body = get("/trending");
  EXPECT_NE(body.find("Trending papers"), std::string::npos);
  EXPECT_NE(body.find("ProRL"), std::string::npos);
}

// "2025-05-30T17:59:01.000Z": digits where the pattern has 9, the rest literally.
bool is_hf_timestamp(const std::string& text) {
  const std::string pattern = "9999-99-99T99:99:99.999Z";
  if (text.size() != pattern.size()) return false;
  for (size_t i = 0; i < text.size(); ++i) {
    if (pattern[i] == '9' ? !std::isdigit(static_cast<unsigned char>(text[i]))
                          : text[i] != pattern[i]) {
      return false;
    }
  }
  return true;
}

// The type names nlohmann gives, to compare shapes: "string", "number", "boolean", ...
std::string type_of(const json& value) { return value.is_number() ? "number" : value.type_name(); }

// Every field we emit exists in the real record with the same JSON type (null: unknown here).
void expect_same_shape(const json& ours, const json& real, const std::string& where) {
  for (const auto& [key, value] : ours.items()) {
    ASSERT_TRUE(real.contains(key)) << where << "." << key << " is not a Hugging Face field";
    if (value.is_null()) continue;
    EXPECT_EQ(type_of(value), type_of(real[key])) << where << "." << key;
    if (value.is_object() && key != "organization")
      expect_same_shape(value, real[key], where + "." + key);
  }
}

TEST_F(WebServer, DailyPapersApiMatchesHuggingFaceShape) {
  // Records carry different optional fields, so the reference shape is the union of two real
  // responses a year apart.
  json real = json::object();
  for (const char* day : {"2025-06-02", "2026-08-21"}) {
    std::ifstream file(std::string(PAPERBOY_SHARED_DATA_DIR) + "/hf-daily-papers/" + day + ".json");
    ASSERT_TRUE(file) << "real HF response missing: " << day;
    for (const json& record : json::parse(file)) real.merge_patch(record);
  }

  const json entries = get_json("/api/daily_papers?date=2025-06-02");
  ASSERT_TRUE(entries.is_array());
  ASSERT_EQ(entries.size(), 4u);
  EXPECT_EQ(entries[0]["paper"]["id"], "2505.24864");
  EXPECT_EQ(entries[1]["paper"]["id"], "2505.24863");
  EXPECT_EQ(entries[0]["paper"]["upvotes"], 35);
  for (const json& entry : entries) expect_same_shape(entry, real, "entry");

  const json& prorl = entries[0];
  for (const char* key :
       {"paper", "publishedAt", "title", "summary", "numComments", "submittedBy"}) {
    EXPECT_TRUE(prorl.contains(key)) << key;
  }
  for (const char* key : {"id", "authors", "publishedAt", "submittedOnDailyAt", "title", "summary",
                          "upvotes", "githubRepo", "githubStars", "projectPage", "ai_summary",
                          "ai_keywords", "submittedOnDailyBy"}) {
    EXPECT_TRUE(prorl["paper"].contains(key)) << key;
  }
  EXPECT_TRUE(is_hf_timestamp(prorl["publishedAt"].get<std::string>())) << prorl["publishedAt"];
  EXPECT_TRUE(is_hf_timestamp(real["publishedAt"].get<std::string>()));
  EXPECT_EQ(prorl["paper"]["submittedOnDailyAt"], "2025-06-02T03:18:21.654Z");
  EXPECT_EQ(prorl["paper"]["authors"][0], (json{{"name", "Mingjie Liu"}, {"hidden", false}}));
  EXPECT_EQ(prorl["submittedBy"]["name"], "hassanjbara");
  EXPECT_EQ(prorl["numComments"], 2);
  EXPECT_EQ(prorl["paper"]["ai_keywords"][1], "KL divergence control");

  const json single = get_json("/api/papers/2505.24864");
  EXPECT_EQ(single["id"], "2505.24864");
  expect_same_shape(single, real["paper"], "paper");
  EXPECT_EQ(get_json("/api/papers/2999.00001", 404)["error"], "paper '2999.00001' not found");
}

TEST_F(WebServer, DailyPapersApiPeriodsPagesAndFilters) {
  EXPECT_EQ(get_json("/api/daily_papers")[0]["paper"]["id"], "2506.24000");  // latest day
  EXPECT_EQ(get_json("/api/daily_papers?week=2025-W23").size(), 5u);
  EXPECT_EQ(get_json("/api/daily_papers?month=2025-05").size(), 1u);
  const json first = get_json("/api/daily_papers?week=2025-W23&limit=2");
  const json second = get_json("/api/daily_papers?week=2025-W23&limit=2&p=1");
  ASSERT_EQ(first.size(), 2u);
  ASSERT_EQ(second.size(), 2u);
  EXPECT_EQ(first[0]["paper"]["id"], "2505.24864");
  EXPECT_EQ(second[0]["paper"]["id"], "2505.22312");
  EXPECT_TRUE(get_json("/api/daily_papers?week=2025-W23&limit=2&p=9").empty());
  const json by_submitter = get_json("/api/daily_papers?submitter=hassanjbara");
  EXPECT_EQ(by_submitter.size(), 5u);
  EXPECT_EQ(by_submitter[0]["paper"]["id"], "2505.23604");  // most upvoted of all
  EXPECT_EQ(get_json("/api/daily_papers?month=2025-06&submitter=%3Cb%3Ebold%3C%2Fb%3E").size(), 1u);
  const json newest = get_json("/api/daily_papers?month=2025-06&sort=publishedAt");
  EXPECT_EQ(newest[0]["paper"]["id"], "2506.01234");  // the latest feed day first
  get_json("/api/daily_papers?week=2025-W23&sort=trending");
  get_json("/api/daily_papers?sort=upvotes");
}

TEST_F(WebServer, DailyPapersApiRejectsBadParameters) {
  const std::pair<const char*, const char*> cases[] = {
      {"date=2025-13-01", "date: "},
      {"date=yesterday", "date: "},
      {"week=2025-W60", "week: "},
      {"week=2025-23", "week: "},
      {"month=2025-6", "month: "},
      {"limit=0", "limit: "},
      {"limit=101", "limit: "},
      {"limit=ten", "limit: "},
      {"p=-1", "p: "},
      {"sort=best", "sort: "},
      {"submitter=", "submitter: "},
      {"date=2025-06-02&week=2025-W23", "date, week, month: "}};
  for (const auto& [query, prefix] : cases) {
    const json body = get_json(std::string("/api/daily_papers?") + query, 400);
    ASSERT_TRUE(body.contains("error")) << query;
    EXPECT_TRUE(body["error"].get<std::string>().starts_with(prefix)) << query << ": " << body;
  }
}

TEST_F(WebServer, HealthReportsPaperCount) {
  const json health = get_json("/healthz");
  EXPECT_EQ(health["status"], "ok");
  EXPECT_EQ(health["papers"], 7);
  EXPECT_EQ(health["last_feed_day"], "2025-07-01");
}

TEST_F(WebServer, SendsSecurityHeadersEverywhere) {
  for (const char* path : {"/", "/papers/2505.24864", "/api/daily_papers", "/static/style.css",
                           "/static/katex/katex.min.js", "/nowhere"}) {
    auto response = client_->Get(path);
    ASSERT_TRUE(response) << path;
    const std::string policy = response->get_header_value("Content-Security-Policy");
    EXPECT_NE(policy.find("default-src 'self'"), std::string::npos) << path;
    EXPECT_NE(policy.find("script-src 'self';"), std::string::npos) << path;
    EXPECT_NE(policy.find("style-src 'self' 'unsafe-inline'"), std::string::npos) << path;
    EXPECT_NE(policy.find("font-src 'self'"), std::string::npos) << path;
    EXPECT_NE(policy.find("frame-ancestors 'none'"), std::string::npos) << path;
    EXPECT_EQ(response->get_header_value("X-Content-Type-Options"), "nosniff") << path;
    EXPECT_FALSE(response->get_header_value("Referrer-Policy").empty()) << path;
  }
}

TEST_F(WebServer, ServesStylesScriptsAndKatex) {
  auto css = client_->Get("/static/style.css");
  ASSERT_TRUE(css);
  EXPECT_EQ(css->status, 200);
  EXPECT_EQ(css->get_header_value("Content-Type"), "text/css; charset=utf-8");
  EXPECT_NE(css->body.find("prefers-color-scheme: dark"), std::string::npos);
  auto script = client_->Get("/static/app.js");
  ASSERT_TRUE(script);
  EXPECT_NE(script->body.find("renderMathInElement"), std::string::npos);
  auto katex = client_->Get("/static/katex/contrib/auto-render.min.js");
  ASSERT_TRUE(katex);
  EXPECT_EQ(katex->status, 200);
  auto font = client_->Get("/static/katex/fonts/KaTeX_Main-Regular.woff2");
  ASSERT_TRUE(font);
  EXPECT_EQ(font->status, 200);
  EXPECT_EQ(font->get_header_value("Content-Type"), "font/woff2");
  get("/static/katex/../../package.json", 404);
}

TEST_F(WebServer, RefusesBodiesAndOtherMethods) {
  auto large = client_->Post("/api/daily_papers", std::string(200 * 1024, 'x'), "text/plain");
  ASSERT_TRUE(large);
  EXPECT_EQ(large->status, 413);
  EXPECT_NE(large->body.find("limited to 65536 bytes"), std::string::npos);
  httplib::Client fresh("127.0.0.1", server_->port());
  auto small = fresh.Post("/", "x", "text/plain");
  ASSERT_TRUE(small);
  EXPECT_EQ(small->status, 405);
  EXPECT_EQ(small->get_header_value("Allow"), "GET, HEAD");
  get("/healthz");
}

TEST_F(WebServer, StoreFailureGives500AndServingGoesOn) {
  failing_->failing = true;
  const std::string page = get("/date/2025-06-02", 500);
  EXPECT_NE(page.find("Something went wrong"), std::string::npos);
  EXPECT_EQ(page.find("disk I/O error"), std::string::npos);  // internals stay in the log
  get("/papers/2505.24864", 500);
  EXPECT_TRUE(get_json("/api/daily_papers", 500).contains("error"));
  EXPECT_EQ(get_json("/healthz", 500)["status"], "error");
  failing_->failing = false;
  EXPECT_NE(get("/date/2025-06-02").find("ProRL"), std::string::npos);
}

TEST_F(WebServer, TakenPortIsAClearError) {
  ServerOptions options;
  options.port = server_->port();
  auto second = Server::create(*store_, options);
  ASSERT_FALSE(second);
  EXPECT_NE(
      second.error().message.find("cannot listen on 127.0.0.1:" + std::to_string(server_->port())),
      std::string::npos)
      << second.error().message;
}

// A server on an empty store in a fresh folder, created but not running.
class WebServerLifecycle : public ::testing::Test {
 protected:
  void SetUp() override {
    auto opened = store::open_sqlite_store(directory_ / "papers.sqlite");
    ASSERT_TRUE(opened) << opened.error().message;
    store_ = std::move(*opened);
    options_.port = 0;
    auto created = Server::create(*store_, options_);
    ASSERT_TRUE(created) << created.error().message;
    server_ = std::move(*created);
  }
  void TearDown() override {
    server_.reset();
    store_.reset();
    fs::remove_all(directory_);
  }

  const fs::path directory_ = fresh_temp_dir("paperboy-web-lifecycle-test");
  ServerOptions options_;
  std::unique_ptr<store::Store> store_;
  std::unique_ptr<Server> server_;
};

TEST_F(WebServerLifecycle, StopBeforeRunMakesRunReturn) {
  server_->stop();
  EXPECT_TRUE(server_->run());

  ServerOptions missing_katex = options_;
  missing_katex.katex_dir = directory_ / "no-katex-here";
  auto refused = Server::create(*store_, missing_katex);
  ASSERT_FALSE(refused);
  EXPECT_NE(refused.error().message.find("no-katex-here"), std::string::npos);
}

// A burst of new connections must not wait for the kernel to retry dropped handshakes (1 s at
// the earliest): the server accepts nothing here, so only the listen backlog holds them.
TEST_F(WebServerLifecycle, ListenBacklogHoldsABurstOfConnections) {
  constexpr int kConnections = 64;
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(static_cast<uint16_t>(server_->port()));
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  std::vector<pollfd> connections;
  for (int i = 0; i < kConnections; ++i) {
    const int socket = ::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
    ASSERT_GE(socket, 0);
    connections.push_back({socket, POLLOUT, 0});
    const int connected =
        ::connect(socket, reinterpret_cast<const sockaddr*>(&address), sizeof address);
    ASSERT_TRUE(connected == 0 || errno == EINPROGRESS) << std::strerror(errno);
  }
  // A connection is established once it is writable with no pending error.
  int established = 0;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(800);
  while (established < kConnections && std::chrono::steady_clock::now() < deadline) {
    ::poll(connections.data(), connections.size(), 50);
    for (auto& connection : connections) {
      if (connection.fd < 0 || !(connection.revents & POLLOUT)) continue;
      int error = 0;
      socklen_t length = sizeof error;
      ::getsockopt(connection.fd, SOL_SOCKET, SO_ERROR, &error, &length);
      if (error == 0) ++established;
      ::close(connection.fd);
      connection.fd = -1;
    }
  }
  for (const auto& connection : connections) {
    if (connection.fd >= 0) ::close(connection.fd);
  }
  EXPECT_EQ(established, kConnections);
}

TEST_F(WebServerLifecycle, EmptyStoreHomeExplainsHowToFillIt) {
  std::thread runner([&] { EXPECT_TRUE(server_->run()); });
  httplib::Client client("127.0.0.1", server_->port());
  auto home = client.Get("/");
  ASSERT_TRUE(home);
  EXPECT_EQ(home->status, 200);
  EXPECT_NE(home->body.find("paperboy ingest"), std::string::npos);
  auto api = client.Get("/api/daily_papers");
  ASSERT_TRUE(api);
  EXPECT_EQ(api->body, "[]");
  server_->stop();
  runner.join();
}
}  // namespace
}  // namespace paperboy::web
