#include "cli/digest_command.h"

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <nlohmann/json.hpp>

#include "index/index.h"
#include "mail/digest.h"
#include "mail/links.h"
#include "store/community.h"
#include "store/store.h"
#include "store/subscriptions.h"

namespace paperboy::cli {
namespace {

using std::chrono::sys_seconds;

sys_seconds now() {
  return std::chrono::floor<std::chrono::seconds>(std::chrono::system_clock::now());
}

int report(const Error& error, const char* command) {
  std::fprintf(stderr, "paperboy digest %s: %s\n", command, error.message.c_str());
  return kError;
}

// "Name <address>" or a bare address.
mail::Mailbox parse_mailbox(const std::string& text) {
  size_t open = text.find('<');
  size_t close = text.rfind('>');
  if (open == std::string::npos || close == std::string::npos || close < open) return {"", text};
  std::string name = text.substr(0, open);
  while (!name.empty() && name.back() == ' ') name.pop_back();
  return {name, text.substr(open + 1, close - open - 1)};
}

}  // namespace

Result<OpenedDigestSources> open_digest_sources(const GlobalOptions& global) {
  OpenedDigestSources opened;
  if (std::filesystem::exists(index_path(global) / "MANIFEST")) {
    if (auto snapshot = index::Snapshot::open(index_path(global))) {
      opened.sources.keyword_index = *snapshot;
    }
  }
  if (!vector::VectorIndex::current_generation(vectors_path(global)).empty()) {
    auto semantic = hybrid::open_semantic(vectors_path(global));
    if (!semantic) return std::unexpected(semantic.error());
    opened.sources.semantic = std::make_shared<const hybrid::SemanticIndex>(std::move(*semantic));
  }
  auto community = store::open_community_store(global.store, store_path(global));
  if (!community) return std::unexpected(community.error());
  opened.community = std::move(*community);
  opened.sources.community = opened.community.get();
  return opened;
}

OpenedDigestSources digest_sources_beside(const std::filesystem::path& index_dir,
                                          std::shared_ptr<const index::Snapshot> keyword_index) {
  GlobalOptions global;
  global.data_dir = index_dir.parent_path();
  auto opened = open_digest_sources(global);
  if (!opened) {
    std::fprintf(stderr, "paperboy serve: digests without vectors and accounts: %s\n",
                 opened.error().message.c_str());
    opened = OpenedDigestSources{};
  }
  opened->sources.keyword_index = std::move(keyword_index);
  return std::move(*opened);
}

namespace {

nlohmann::json to_json(const store::Subscription& s) {
  return {{"id", s.id},
          {"email", s.email},
          {"name", s.name},
          {"state", store::subscription_state_name(s.state)},
          {"frequency", store::frequency_name(s.frequency)},
          {"time_zone", s.time_zone},
          {"send_hour", s.send_hour},
          {"categories", s.topics.categories},
          {"queries", s.topics.queries},
          {"authors", s.topics.authors},
          {"like_my_papers", s.topics.like_my_papers},
          {"max_papers", s.max_papers},
          {"include_trending", s.include_trending},
          {"covered_through", s.covered_through},
          {"bounces", s.bounces}};
}

}  // namespace

Result<mail::MailSettings> mail_settings(const GlobalOptions& global, const MailOptions& options) {
  mail::MailSettings settings;
  settings.smtp.host = options.smtp_host;
  settings.smtp.port = options.smtp_port;
  settings.smtp.tls = options.smtp_tls == "starttls" ? mail::TlsMode::kStartTls
                      : options.smtp_tls == "tls"    ? mail::TlsMode::kImplicit
                                                     : mail::TlsMode::kNone;
  settings.smtp.username = options.smtp_user;
  settings.smtp.password = options.smtp_password;
  settings.smtp.verify_peer = options.smtp_verify;
  settings.from = parse_mailbox(options.from);
  if (auto ok = mail::check_address(settings.from.address); !ok) {
    return fail("--from \"" + options.from + "\": " + ok.error().message);
  }
  settings.base_url = options.base_url;
  while (settings.base_url.ends_with('/')) settings.base_url.pop_back();
  auto secret = mail::load_or_create_secret(global.data_dir / "secret");
  if (!secret) return std::unexpected(secret.error());
  settings.secret = std::move(*secret);
  return settings;
}

void add_mail_options(CLI::App& app, MailOptions& options) {
  app.add_option("--smtp-host", options.smtp_host, "SMTP server")
      ->envname("PAPERBOY_SMTP_HOST")
      ->capture_default_str();
  app.add_option("--smtp-port", options.smtp_port, "SMTP port")
      ->envname("PAPERBOY_SMTP_PORT")
      ->capture_default_str()
      ->check(CLI::Range(1, 65535));
  app.add_option("--smtp-tls", options.smtp_tls, "none, starttls (required) or tls (smtps)")
      ->envname("PAPERBOY_SMTP_TLS")
      ->capture_default_str()
      ->check(CLI::IsMember({"none", "starttls", "tls"}));
  app.add_option("--smtp-user", options.smtp_user, "SMTP user name (empty: no AUTH)")
      ->envname("PAPERBOY_SMTP_USER");
  app.add_option("--smtp-password", options.smtp_password, "SMTP password")
      ->envname("PAPERBOY_SMTP_PASSWORD");
  app.add_flag("!--smtp-no-verify", options.smtp_verify,
               "Accept any TLS certificate (a self-signed relay)");
  app.add_option("--from", options.from, "Sender, \"Name <address>\"")
      ->envname("PAPERBOY_MAIL_FROM")
      ->capture_default_str();
  app.add_option("--base-url", options.base_url, "Public URL of this paperboy, for links")
      ->envname("PAPERBOY_BASE_URL")
      ->capture_default_str();
}

DigestCommands::DigestCommands(CLI::App& app) {
  digest_ = app.add_subcommand("digest", "Email digests: subscriptions, previews and sending");
  digest_->require_subcommand(1);
  add_mail_options(*digest_, mail_);

  subscribe_ = digest_->add_subcommand(
      "subscribe", "Subscribe an address; it gets a confirmation mail (double opt-in)");
  subscribe_->add_option("email", email_, "Address")->required();
  subscribe_->add_option("--name", name_, "Display name");
  subscribe_->add_flag("--weekly", weekly_, "Weekly instead of daily");
  subscribe_->add_option("--time-zone", time_zone_, "IANA time zone")->capture_default_str();
  subscribe_->add_option("--hour", hour_, "Local hour to send at")
      ->capture_default_str()
      ->check(CLI::Range(0, 23));
  subscribe_->add_option("--category", categories_, "arXiv category or archive (repeatable)");
  subscribe_->add_option("--author", authors_, "Author name (repeatable)");
  subscribe_->add_option("--query", queries_, "Saved search (repeatable)");
  subscribe_->add_flag("--like-my-papers", like_my_papers_,
                       "Papers like the upvotes and collections of the account with this email");
  subscribe_->add_option("--max", max_papers_, "Papers per digest")
      ->capture_default_str()
      ->check(CLI::Range(1, 100));
  subscribe_->add_flag("!--no-trending", trending_, "Leave out the trending list");
  subscribe_->add_flag("--confirmed", confirmed_,
                       "Activate at once, without a confirmation mail (the operator vouches)");

  confirm_ = digest_->add_subcommand("confirm", "Confirm a subscription with its link's token");
  confirm_->add_option("token", token_, "The token= value of the confirmation link")->required();
  unsubscribe_ = digest_->add_subcommand("unsubscribe", "Stop sending digests to an address");
  unsubscribe_->add_option("email", email_, "Address")->required();
  list_ = digest_->add_subcommand("list", "List subscriptions and the outbox counts");
  list_->add_flag("--json", json_, "JSON output");
  preview_ = digest_->add_subcommand(
      "preview", "Print the digest an address would get now (plain-text part), sending nothing");
  preview_->add_option("email", email_, "Address")->required();
  send_ = digest_->add_subcommand(
      "send", "Queue every due digest and deliver the outbox (idempotent; run it from cron)");
  // The mail options belong to `digest` but may follow the subcommand too.
  for (CLI::App* sub : {subscribe_, confirm_, unsubscribe_, list_, preview_, send_}) {
    sub->fallthrough();
  }
}

bool DigestCommands::parsed() const { return digest_->parsed(); }

int DigestCommands::run(const GlobalOptions& global) {
  const char* command = subscribe_->parsed()     ? "subscribe"
                        : confirm_->parsed()     ? "confirm"
                        : unsubscribe_->parsed() ? "unsubscribe"
                        : list_->parsed()        ? "list"
                        : preview_->parsed()     ? "preview"
                                                 : "send";
  auto settings = mail_settings(global, mail_);
  if (!settings) return report(settings.error(), command);
  auto subscriptions = store::open_subscription_store(global.store, store_path(global));
  if (!subscriptions) return report(subscriptions.error(), command);
  store::SubscriptionStore& subs = **subscriptions;

  if (subscribe_->parsed()) {
    store::Subscription request;
    request.email = email_;
    request.name = name_;
    request.frequency = weekly_ ? store::DigestFrequency::weekly : store::DigestFrequency::daily;
    request.time_zone = time_zone_;
    request.send_hour = hour_;
    request.topics = {categories_, queries_, authors_, like_my_papers_};
    request.max_papers = max_papers_;
    request.include_trending = trending_;
    auto stored = mail::subscribe(subs, request, *settings, now());
    if (!stored) return report(stored.error(), command);
    if (confirmed_) {
      if (auto done =
              subs.set_subscription_state(stored->id, store::SubscriptionState::active, now());
          !done) {
        return report(done.error(), command);
      }
      std::printf("%s: subscribed and active\n", stored->email.c_str());
    } else {
      std::printf("%s: %s\n", stored->email.c_str(),
                  stored->state == store::SubscriptionState::pending
                      ? "confirmation mail queued (paperboy digest send delivers it)"
                      : "preferences updated");
    }
    return kSuccess;
  }
  if (confirm_->parsed()) {
    auto confirmed = mail::confirm(subs, token_, *settings, now());
    if (!confirmed) return report(confirmed.error(), command);
    std::printf("%s: confirmed\n", confirmed->email.c_str());
    return kSuccess;
  }
  if (unsubscribe_->parsed() || preview_->parsed()) {
    auto found = subs.find_subscription(email_);
    if (!found) return report(found.error(), command);
    if (!*found) {
      std::fprintf(stderr, "paperboy digest %s: no subscription for %s\n", command, email_.c_str());
      return kNotFound;
    }
    if (unsubscribe_->parsed()) {
      if (auto done = subs.set_subscription_state((*found)->id,
                                                  store::SubscriptionState::unsubscribed, now());
          !done) {
        return report(done.error(), command);
      }
      std::printf("%s: unsubscribed\n", email_.c_str());
      return kSuccess;
    }
    auto papers = open_papers_store(global);
    if (!papers) return report(papers.error(), command);
    auto sources = open_digest_sources(global);
    if (!sources) return report(sources.error(), command);
    mail::DigestBuilder builder(**papers, sources->sources, now());
    std::string period = store::frequency_name((*found)->frequency);
    auto digest = builder.build(**found, period + " preview");
    if (!digest) return report(digest.error(), command);
    if (!*digest) {
      std::printf("Nothing new for %s since their last digest.\n", email_.c_str());
      return kSuccess;
    }
    auto message = mail::digest_message(**digest, **found, *settings, now());
    if (!message) return report(message.error(), command);
    std::printf("Subject: %s\n\n%s", message->subject.c_str(), message->text.c_str());
    return kSuccess;
  }
  if (list_->parsed()) {
    nlohmann::json all = nlohmann::json::array();
    for (auto state : {store::SubscriptionState::pending, store::SubscriptionState::active,
                       store::SubscriptionState::paused, store::SubscriptionState::unsubscribed}) {
      int64_t after = 0;
      while (true) {
        auto page = subs.subscriptions_in_state(state, after, 1000);
        if (!page) return report(page.error(), command);
        if (page->empty()) break;
        for (const auto& s : *page) {
          all.push_back(to_json(s));
          after = s.id;
        }
      }
    }
    auto counts = subs.outbox_counts();
    if (!counts) return report(counts.error(), command);
    if (json_) {
      std::printf(
          "%s\n",
          nlohmann::json{
              {"subscriptions", all},
              {"outbox",
               {{"pending", counts->pending}, {"sent", counts->sent}, {"failed", counts->failed}}}}
              .dump(2)
              .c_str());
      return kSuccess;
    }
    for (const auto& s : all) {
      std::printf("%-32s %-12s %-6s %s %02d:00\n", s["email"].get<std::string>().c_str(),
                  s["state"].get<std::string>().c_str(), s["frequency"].get<std::string>().c_str(),
                  s["time_zone"].get<std::string>().c_str(), s["send_hour"].get<int>());
    }
    std::printf("outbox: %lld pending, %lld sent, %lld failed\n",
                static_cast<long long>(counts->pending), static_cast<long long>(counts->sent),
                static_cast<long long>(counts->failed));
    return kSuccess;
  }

  auto papers = open_papers_store(global);
  if (!papers) return report(papers.error(), command);
  auto smtp = mail::SmtpClient::create(settings->smtp);
  if (!smtp) return report(smtp.error(), command);
  auto sources = open_digest_sources(global);
  if (!sources) return report(sources.error(), command);
  auto run = mail::run_digest_job(**papers, subs, sources->sources, **smtp, *settings, now());
  if (!run) return report(run.error(), command);
  const mail::QueueReport& queued = run->queued;
  const mail::DeliveryTotals& delivered = run->delivered;
  if (!global.quiet) {
    std::printf(
        "digest: %zu active subscriptions, %zu digests queued (%zu already, %zu with nothing "
        "new); delivered %zu, deferred %zu, failed %zu\n",
        queued.subscribers, queued.queued, queued.already, queued.nothing_new, delivered.sent,
        delivered.deferred, delivered.failed);
  }
  return delivered.deferred > 0 || delivered.failed > 0 ? kRejected : kSuccess;
}

}  // namespace paperboy::cli
