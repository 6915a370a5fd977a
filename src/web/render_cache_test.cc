// The render cache and the render gate on their own, and the cache on a real server over a real
// SQLite store: anonymous visitors share answers for at most the configured age, a page being
// rendered is rendered once for every visitor asking meanwhile, writes through the server show
// at once, and a signed-in visitor's page never reaches anyone else.
#include "web/render_cache.h"

#include <gtest/gtest.h>
#include <httplib.h>

#include <atomic>
#include <filesystem>
#include <optional>
#include <random>
#include <thread>
#include <variant>
#include <vector>

#include "store/community.h"
#include "store/store.h"
#include "web/accounts.h"
#include "web/render_gate.h"
#include "web/server.h"

namespace paperboy::web {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;
using Clock = RenderCache::Clock;

std::shared_ptr<const CachedAnswer> answer(std::string body) {
  auto made = std::make_shared<CachedAnswer>();
  made->headers = {{"Content-Type", "text/html"}};
  made->body = std::move(body);
  return made;
}

TEST(RenderCache, ServesAnAnswerUntilItsMaximumAge) {
  RenderCache cache(1000ms, 1 << 20);
  const Clock::time_point start = Clock::now();
  cache.store("/papers/1", answer("first"), cache.begin(start));
  auto fresh = cache.find("/papers/1", start + 999ms);
  if (!fresh) {
    ADD_FAILURE() << "an answer younger than the maximum age is served";
  } else {
    EXPECT_EQ(fresh->body, "first");
  }
  EXPECT_FALSE(cache.find("/papers/2", start)) << "another key";
  EXPECT_FALSE(cache.find("/papers/1", start + 1000ms)) << "as old as the maximum age";
  EXPECT_EQ(cache.size(), 0u) << "an expired answer is dropped when found";
}

TEST(RenderCache, InvalidateDropsAnswersAndRendersThatBeganBefore) {
  RenderCache cache(60s, 1 << 20);
  const Clock::time_point start = Clock::now();
  cache.store("/", answer("before the write"), cache.begin(start));
  const RenderCache::Ticket overlapping = cache.begin(start);
  cache.invalidate();
  EXPECT_FALSE(cache.find("/", start));
  cache.store("/", answer("rendered while the write ran"), overlapping);
  EXPECT_FALSE(cache.find("/", start)) << "a render that began before the write is not kept";
  cache.store("/", answer("after the write"), cache.begin(start));
  auto after = cache.find("/", start);
  if (!after) {
    ADD_FAILURE() << "a render that began after the write is kept";
  } else {
    EXPECT_EQ(after->body, "after the write");
  }
}

TEST(RenderCache, KeepsTheNewerRenderingOfAKey) {
  RenderCache cache(60s, 1 << 20);
  const Clock::time_point start = Clock::now();
  const RenderCache::Ticket older = cache.begin(start);
  cache.store("/", answer("newer"), cache.begin(start + 10ms));
  cache.store("/", answer("older"), older);
  EXPECT_EQ(cache.find("/", start + 20ms)->body, "newer");
  EXPECT_EQ(cache.size(), 1u);
}

TEST(RenderCache, StaysWithinItsByteBoundDroppingTheLeastRecentlyUsed) {
  const size_t entry_bytes = std::string("/a").size() + 1000 + std::string("Content-Type").size() +
                             std::string("text/html").size();
  RenderCache cache(60s, 3 * entry_bytes);
  const Clock::time_point start = Clock::now();
  for (const char* key : {"/a", "/b", "/c"})
    cache.store(key, answer(std::string(1000, 'x')), cache.begin(start));
  EXPECT_TRUE(cache.find("/a", start)) << "now the most recently used";
  cache.store("/d", answer(std::string(1000, 'x')), cache.begin(start));
  EXPECT_EQ(cache.size(), 3u);
  EXPECT_LE(cache.bytes(), 3 * entry_bytes);
  EXPECT_FALSE(cache.find("/b", start)) << "the least recently used went";
  EXPECT_TRUE(cache.find("/a", start));
  EXPECT_TRUE(cache.find("/d", start));
  cache.store("/huge", answer(std::string(4 * entry_bytes, 'x')), cache.begin(start));
  EXPECT_FALSE(cache.find("/huge", start)) << "larger than the whole bound";
  EXPECT_TRUE(cache.find("/a", start));
}

// Waits up to a few seconds for `condition`; false if it never held.
template <typename Condition>
bool eventually(Condition condition) {
  for (int i = 0; i < 500; ++i) {
    if (condition()) return true;
    std::this_thread::sleep_for(10ms);
  }
  return condition();
}

TEST(RenderCache, RequestsForAKeyBeingRenderedWaitForThatRendering) {
  RenderCache cache(60s, 1 << 20);
  auto first = cache.claim("/search?q=x");
  auto* render = std::get_if<RenderCache::Render>(&first);
  ASSERT_TRUE(render) << "nothing is stored yet: the first request renders";
  std::atomic<int> answered = 0;
  std::atomic<int> rendered_themselves = 0;
  std::vector<std::thread> waiters;
  for (int i = 0; i < 4; ++i) {
    waiters.emplace_back([&] {
      auto claimed = cache.claim("/search?q=x");
      if (auto* shared = std::get_if<std::shared_ptr<const CachedAnswer>>(&claimed)) {
        if ((*shared)->body == "results") ++answered;
      } else {
        ++rendered_themselves;
      }
    });
  }
  std::this_thread::sleep_for(100ms);
  EXPECT_EQ(answered + rendered_themselves, 0) << "they wait while the rendering runs";
  auto other = cache.claim("/search?q=y");
  EXPECT_TRUE(std::holds_alternative<RenderCache::Render>(other)) << "another key does not wait";
  render->finish(answer("results"));
  for (std::thread& waiter : waiters) waiter.join();
  EXPECT_EQ(answered, 4);
  EXPECT_EQ(rendered_themselves, 0);
  auto later = cache.claim("/search?q=x");
  EXPECT_TRUE(std::holds_alternative<std::shared_ptr<const CachedAnswer>>(later));
}

TEST(RenderCache, AnUnshareableOrAbandonedRenderingLetsEachWaiterRender) {
  RenderCache cache(60s, 1 << 20);
  std::atomic<int> rendered_themselves = 0;
  for (bool abandoned : {false, true}) {
    rendered_themselves = 0;
    std::optional<std::variant<std::shared_ptr<const CachedAnswer>, RenderCache::Render>> first =
        cache.claim("/");
    std::vector<std::thread> waiters;
    for (int i = 0; i < 3; ++i) {
      waiters.emplace_back([&] {
        auto claimed = cache.claim("/");
        if (auto* render = std::get_if<RenderCache::Render>(&claimed)) {
          ++rendered_themselves;
          render->finish(nullptr);
        }
      });
    }
    std::this_thread::sleep_for(50ms);
    if (abandoned) {
      first.reset();  // as when the handler threw
    } else {
      std::get<RenderCache::Render>(*first).finish(nullptr);  // as for a page that set a cookie
    }
    for (std::thread& waiter : waiters) waiter.join();
    EXPECT_EQ(rendered_themselves, 3) << (abandoned ? "abandoned" : "unshareable");
    EXPECT_EQ(cache.size(), 0u);
  }
}

TEST(RenderCache, ARequestAfterInvalidateDoesNotWaitForAnOlderRendering) {
  RenderCache cache(60s, 1 << 20);
  auto before_write = cache.claim("/");
  ASSERT_TRUE(std::holds_alternative<RenderCache::Render>(before_write));
  cache.invalidate();
  auto after_write = cache.claim("/");
  ASSERT_TRUE(std::holds_alternative<RenderCache::Render>(after_write))
      << "renders anew instead of waiting for a rendering that may miss the write";
  std::get<RenderCache::Render>(before_write).finish(answer("stale"));
  EXPECT_EQ(cache.size(), 0u) << "the rendering that began before the write is not kept";
  std::get<RenderCache::Render>(after_write).finish(answer("fresh"));
  auto found = cache.find("/");
  if (!found) {
    ADD_FAILURE() << "the rendering after the write is kept";
  } else {
    EXPECT_EQ(found->body, "fresh");
  }
}

TEST(RenderGate, AdmitsAtMostItsWidthAtOnce) {
  RenderGate gate(2);
  std::atomic<int> inside = 0;
  std::atomic<int> most_inside = 0;
  std::vector<std::thread> threads;
  for (int t = 0; t < 6; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 50; ++i) {
        const RenderGate::Pass pass = gate.enter();
        const int now_inside = ++inside;
        int seen = most_inside;
        while (now_inside > seen && !most_inside.compare_exchange_weak(seen, now_inside)) {
        }
        std::this_thread::sleep_for(100us);
        --inside;
      }
    });
  }
  for (std::thread& thread : threads) thread.join();
  EXPECT_EQ(most_inside, 2);
  EXPECT_EQ(gate.waiting(), 0u);
}

TEST(RenderGate, AdmitsWaitersInArrivalOrder) {
  RenderGate gate(1);
  std::optional<RenderGate::Pass> held = gate.enter();
  std::mutex order_mutex;
  std::vector<int> order;
  std::vector<std::thread> threads;
  for (int arrival = 0; arrival < 5; ++arrival) {
    threads.emplace_back([&, arrival] {
      const RenderGate::Pass pass = gate.enter();
      std::lock_guard lock(order_mutex);
      order.push_back(arrival);
    });
    // The next one arrives only once this one is queued.
    ASSERT_TRUE(eventually([&] { return gate.waiting() == static_cast<size_t>(arrival) + 1; }));
  }
  held.reset();
  for (std::thread& thread : threads) thread.join();
  EXPECT_EQ(order, (std::vector<int>{0, 1, 2, 3, 4}));
}

TEST(RenderGate, WidthZeroAdmitsEveryone) {
  RenderGate gate(0);
  std::vector<RenderGate::Pass> passes;
  for (int i = 0; i < 100; ++i) passes.push_back(gate.enter());
  EXPECT_EQ(gate.waiting(), 0u);
}

TEST(RenderCache, MaximumAgeZeroKeepsNothing) {
  RenderCache cache(0ms, 1 << 20);
  EXPECT_FALSE(cache.enabled());
  cache.store("/", answer("page"), cache.begin());
  EXPECT_FALSE(cache.find("/"));
}

// ---- On a real server ----

Paper fixture_paper(std::string id, std::string title, int64_t upvotes) {
  Paper paper;
  paper.arxiv_id = std::move(id);
  paper.version = 1;
  paper.title = std::move(title);
  paper.upvotes = upvotes;
  paper.feed_day = "2025-06-02";
  paper.published = "2025-05-30";
  paper.authors = {"Mingjie Liu", "Shizhe Diao"};
  paper.abstract = "An abstract.";
  paper.categories = {"cs.LG"};
  return paper;
}

std::string vote_count(int64_t upvotes) {
  return "<span class=\"vote-count\">" + std::to_string(upvotes) + "</span>";
}

class SharedRenders : public ::testing::Test {
 protected:
  // `max_age`: how long anonymous visitors share an answer on this server.
  void start(std::chrono::milliseconds max_age) {
    std::random_device random;
    directory_ = fs::temp_directory_path() / ("paperboy-render-cache-" + std::to_string(random()));
    fs::remove_all(directory_);
    fs::create_directories(directory_);
    const fs::path path = directory_ / "papers.sqlite";
    auto opened = store::open_sqlite_store(path);
    ASSERT_TRUE(opened) << opened.error().message;
    store_ = std::move(*opened);
    ASSERT_TRUE(store_->begin_batch());
    ASSERT_TRUE(store_->upsert(fixture_paper("2505.24864", "ProRL: Prolonged Training", 35)));
    ASSERT_TRUE(store_->commit_batch());
    auto community = store::open_sqlite_community_store(path);
    ASSERT_TRUE(community) << community.error().message;
    community_ = std::move(*community);

    ServerOptions options;
    options.port = 0;
    options.threads = 4;
    options.community = community_.get();
    options.shared_render_max_age = max_age;
    auto created = Server::create(*store_, options);
    ASSERT_TRUE(created) << created.error().message;
    server_ = std::move(*created);
    thread_ = std::thread([this] { ran_ = server_->run(); });
  }

  void TearDown() override {
    if (server_) server_->stop();
    if (thread_.joinable()) thread_.join();
    EXPECT_TRUE(ran_) << ran_.error().message;
    server_.reset();
    community_.reset();
    store_.reset();
    std::error_code ignored;
    fs::remove_all(directory_, ignored);
  }

  // A user with a session; returns the Cookie header that signs them in, and their CSRF token.
  std::pair<std::string, std::string> signed_in_user(const std::string& name) {
    auto user = community_->add_user(store::NewUser{name, name + "@example.org", "unused"});
    EXPECT_TRUE(user) << user.error().message;
    const std::string token = random_token();
    const std::string csrf = random_token();
    const auto expires =
        std::chrono::floor<std::chrono::seconds>(std::chrono::system_clock::now()) +
        std::chrono::hours(1);
    EXPECT_TRUE(community_->add_session(token_hash(token), user->id, csrf, expires));
    return {"paperboy_session=" + token, csrf};
  }

  std::string get(const std::string& path, const std::string& cookie = {}) {
    httplib::Client client("127.0.0.1", server_->port());
    client.set_read_timeout(20, 0);
    httplib::Headers headers;
    if (!cookie.empty()) headers.emplace("Cookie", cookie);
    auto result = client.Get(path.c_str(), headers);
    if (!result) {
      ADD_FAILURE() << "GET " << path << " failed";
      return {};
    }
    EXPECT_EQ(result->status, 200) << path;
    return result->body;
  }

  int post(const std::string& path, const std::string& cookie, const std::string& csrf,
           const httplib::Params& form) {
    httplib::Client client("127.0.0.1", server_->port());
    httplib::Params with_csrf = form;
    with_csrf.emplace("csrf", csrf);
    auto result = client.Post(path.c_str(), httplib::Headers{{"Cookie", cookie}}, with_csrf);
    return result ? result->status : -1;
  }

  fs::path directory_;
  std::unique_ptr<store::Store> store_;
  std::unique_ptr<store::CommunityStore> community_;
  std::unique_ptr<Server> server_;
  std::thread thread_;
  Result<void> ran_;
};

TEST_F(SharedRenders, AVoteOrNewPaperFromElsewhereShowsOnceTheMaximumAgeHasPassed) {
  constexpr auto kMaxAge = 1500ms;
  start(kMaxAge);
  const auto first_render = Clock::now();
  EXPECT_NE(get("/papers/2505.24864").find(vote_count(35)), std::string::npos);
  EXPECT_EQ(get("/").find("A Paper From Another Node"), std::string::npos);
  const auto last_render = Clock::now();
  // Another process votes and ingests: this server hears of neither.
  auto voter = community_->add_user(store::NewUser{"ada", "ada@example.org", "unused"});
  ASSERT_TRUE(voter);
  ASSERT_TRUE(community_->toggle_vote(voter->id, "2505.24864"));
  ASSERT_TRUE(store_->begin_batch());
  ASSERT_TRUE(store_->upsert(fixture_paper("2506.00001", "A Paper From Another Node", 3)));
  ASSERT_TRUE(store_->commit_batch());
  const std::string shared = get("/papers/2505.24864");
  if (Clock::now() - first_render < kMaxAge) {
    EXPECT_NE(shared.find(vote_count(35)), std::string::npos) << "the shared answer, not rendered";
  }
  std::this_thread::sleep_until(last_render + kMaxAge);
  EXPECT_NE(get("/papers/2505.24864").find(vote_count(36)), std::string::npos);
  EXPECT_NE(get("/").find("A Paper From Another Node"), std::string::npos);
}

TEST_F(SharedRenders, AVoteThroughThisServerShowsOnTheNextAnonymousView) {
  start(std::chrono::minutes(10));
  const auto [cookie, csrf] = signed_in_user("ada");
  EXPECT_NE(get("/papers/2505.24864").find(vote_count(35)), std::string::npos);
  EXPECT_NE(get("/api/papers/2505.24864").find("\"upvotes\":35"), std::string::npos);
  EXPECT_EQ(post("/papers/2505.24864/upvote", cookie, csrf, {}), 303);
  EXPECT_NE(get("/papers/2505.24864").find(vote_count(36)), std::string::npos);
  EXPECT_NE(get("/api/papers/2505.24864").find("\"upvotes\":36"), std::string::npos);
  EXPECT_NE(get("/").find(vote_count(36)), std::string::npos);
}

TEST_F(SharedRenders, ASignedInPageNeverReachesAnotherVisitor) {
  start(std::chrono::minutes(10));
  const auto [ada_cookie, ada_csrf] = signed_in_user("ada");
  const auto [bob_cookie, bob_csrf] = signed_in_user("bob");
  // An anonymous render first, so a shared answer exists when ada comes.
  const std::string anonymous_before = get("/papers/2505.24864");
  EXPECT_NE(anonymous_before.find(">Sign in</a>"), std::string::npos);
  EXPECT_EQ(post("/papers/2505.24864/comments", ada_cookie, ada_csrf,
                 {{"body", "Noted by the first reader"}}),
            303);

  const std::string ada = get("/papers/2505.24864", ada_cookie);
  EXPECT_NE(ada.find("title=\"Settings\">ada</a>"), std::string::npos);
  EXPECT_NE(ada.find("Noted by the first reader"), std::string::npos)
      << "her comment shows at once";
  EXPECT_NE(ada.find("/edit\">Edit</a>"), std::string::npos) << "and she may edit it";
  EXPECT_NE(ada.find(ada_csrf), std::string::npos);

  for (int round = 0; round < 2; ++round) {
    const std::string bob = get("/papers/2505.24864", bob_cookie);
    EXPECT_NE(bob.find("title=\"Settings\">bob</a>"), std::string::npos);
    EXPECT_EQ(bob.find(">ada</a>"), std::string::npos);
    EXPECT_EQ(bob.find("/edit\">Edit</a>"), std::string::npos) << "not bob's comment";
    EXPECT_EQ(bob.find(ada_csrf), std::string::npos);
    const std::string anonymous = get("/papers/2505.24864");
    EXPECT_NE(anonymous.find("Noted by the first reader"), std::string::npos);
    EXPECT_NE(anonymous.find(">Sign in</a>"), std::string::npos);
    EXPECT_EQ(anonymous.find(">ada</a>"), std::string::npos);
    EXPECT_EQ(anonymous.find("/edit\">Edit</a>"), std::string::npos);
    EXPECT_EQ(anonymous.find(ada_csrf), std::string::npos);
    EXPECT_EQ(anonymous.find(bob_csrf), std::string::npos);
  }
}

}  // namespace
}  // namespace paperboy::web
