#include "web/metrics.h"

#include <gtest/gtest.h>
#include <httplib.h>

#include <filesystem>
#include <map>
#include <random>
#include <sstream>
#include <thread>

#include "store/store.h"
#include "store/subscriptions.h"
#include "web/server.h"

namespace paperboy::web {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

// Sample lines of an exposition, keyed by everything before the value.
std::map<std::string, double> samples_of(const std::string& text) {
  std::map<std::string, double> samples;
  std::istringstream lines(text);
  std::string line;
  while (std::getline(lines, line)) {
    if (line.empty() || line[0] == '#') continue;
    const size_t space = line.rfind(' ');
    samples[line.substr(0, space)] = std::stod(line.substr(space + 1));
  }
  return samples;
}

TEST(MetricsText, EscapesLabelValuesAndAnnouncesFamilies) {
  MetricsText out;
  out.help("paperboy_things", MetricsText::Kind::counter, "Things.");
  out.sample("paperboy_things", 3, {{"name", "a \"quoted\"\\path\nnext"}});
  out.single("paperboy_ratio", MetricsText::Kind::gauge, "A ratio.", 0.25);
  EXPECT_EQ(out.text(),
            "# HELP paperboy_things Things.\n"
            "# TYPE paperboy_things counter\n"
            "paperboy_things{name=\"a \\\"quoted\\\"\\\\path\\nnext\"} 3\n"
            "# HELP paperboy_ratio A ratio.\n"
            "# TYPE paperboy_ratio gauge\n"
            "paperboy_ratio 0.25\n");
}

TEST(RequestMetrics, NamesRoutesByPrefixWithBoundedLabels) {
  EXPECT_EQ(RequestMetrics::route_of("/"), "home");
  EXPECT_EQ(RequestMetrics::route_of("/api/daily_papers"), "api_daily_papers");
  EXPECT_EQ(RequestMetrics::route_of("/api/papers/search"), "api_papers_search");
  EXPECT_EQ(RequestMetrics::route_of("/api/papers/2312.00752"), "api_paper");
  EXPECT_EQ(RequestMetrics::route_of("/papers/2312.00752"), "paper");
  EXPECT_EQ(RequestMetrics::route_of("/week/2024-W03"), "feed");
  EXPECT_EQ(RequestMetrics::route_of("/wp-admin/setup.php"), "other");
}

TEST(RequestMetrics, CountsByStatusClassWithCumulativeBuckets) {
  RequestMetrics metrics;
  metrics.record("/search", 200, 300us);
  metrics.record("/search", 200, 20ms);
  metrics.record("/search", 404, 3s);
  MetricsText out;
  metrics.write(out);
  const auto samples = samples_of(out.text());
  EXPECT_EQ(samples.at("paperboy_http_requests_total{route=\"search\",status=\"2xx\"}"), 2);
  EXPECT_EQ(samples.at("paperboy_http_requests_total{route=\"search\",status=\"4xx\"}"), 1);
  EXPECT_EQ(
      samples.at("paperboy_http_request_duration_seconds_bucket{route=\"search\",le=\"0.0005\"}"),
      1);
  EXPECT_EQ(
      samples.at("paperboy_http_request_duration_seconds_bucket{route=\"search\",le=\"0.025\"}"),
      2);
  EXPECT_EQ(
      samples.at("paperboy_http_request_duration_seconds_bucket{route=\"search\",le=\"2.5\"}"), 2);
  EXPECT_EQ(
      samples.at("paperboy_http_request_duration_seconds_bucket{route=\"search\",le=\"+Inf\"}"), 3);
  EXPECT_EQ(samples.at("paperboy_http_request_duration_seconds_count{route=\"search\"}"), 3);
  EXPECT_NEAR(samples.at("paperboy_http_request_duration_seconds_sum{route=\"search\"}"), 3.0203,
              1e-9);
  EXPECT_EQ(samples.count("paperboy_http_requests_total{route=\"home\",status=\"2xx\"}"), 0u);
}

TEST(ServerMetrics, ReportsRequestsStoreOutboxAndAddedSources) {
  std::random_device random;
  const fs::path directory =
      fs::temp_directory_path() / ("paperboy-metrics-" + std::to_string(random()));
  fs::create_directories(directory);
  {
    auto store = store::open_sqlite_store(directory / "papers.sqlite");
    ASSERT_TRUE(store) << store.error().message;
    ASSERT_TRUE((*store)->begin_batch());
    Paper paper;
    paper.arxiv_id = "2312.00752";
    paper.title = "Mamba: Linear-Time Sequence Modeling with Selective State Spaces";
    paper.feed_day = "2023-12-04";
    ASSERT_TRUE((*store)->upsert(paper));
    ASSERT_TRUE((*store)->commit_batch());
    auto subscriptions = store::open_sqlite_subscription_store(directory / "papers.sqlite");
    ASSERT_TRUE(subscriptions) << subscriptions.error().message;

    ServerOptions options;
    options.port = 0;
    options.threads = 2;
    options.subscriptions = subscriptions->get();
    options.metrics_sources.push_back([](MetricsText& out) {
      out.single("paperboy_sync_requests_total", MetricsText::Kind::counter, "Sync requests.", 7);
    });
    auto server = Server::create(**store, options);
    ASSERT_TRUE(server) << server.error().message;
    std::thread serving([&] { EXPECT_TRUE((*server)->run()); });
    httplib::Client client("127.0.0.1", (*server)->port());
    client.set_read_timeout(10, 0);
    // One connection: the server records a request after answering it, so a new connection
    // could be served before the previous request is counted.
    client.set_keep_alive(true);
    for (int i = 0; i < 3; ++i) {
      auto home = client.Get("/");
      ASSERT_TRUE(home);
      EXPECT_EQ(home->status, 200);
    }
    auto missing = client.Get("/papers/9999.99999");
    ASSERT_TRUE(missing);
    EXPECT_EQ(missing->status, 404);

    auto scraped = client.Get("/metrics");
    ASSERT_TRUE(scraped);
    EXPECT_EQ(scraped->status, 200);
    EXPECT_EQ(scraped->get_header_value("Content-Type"),
              "text/plain; version=0.0.4; charset=utf-8");
    const auto samples = samples_of(scraped->body);
    EXPECT_EQ(samples.at("paperboy_http_requests_total{route=\"home\",status=\"2xx\"}"), 3);
    EXPECT_EQ(samples.at("paperboy_http_requests_total{route=\"paper\",status=\"4xx\"}"), 1);
    EXPECT_EQ(samples.at("paperboy_http_request_duration_seconds_count{route=\"home\"}"), 3);
    EXPECT_EQ(samples.at("paperboy_store_last_change"), 1);
    EXPECT_EQ(samples.at("paperboy_digest_outbox_messages{state=\"pending\"}"), 0);
    EXPECT_EQ(samples.at("paperboy_sync_requests_total"), 7);
    EXPECT_GT(samples.at("paperboy_process_resident_memory_bytes"), 1e6);
    EXPECT_NE(scraped->body.find("# TYPE paperboy_http_request_duration_seconds histogram\n"),
              std::string::npos);

    (*server)->stop();
    serving.join();
  }
  fs::remove_all(directory);
}

}  // namespace
}  // namespace paperboy::web
