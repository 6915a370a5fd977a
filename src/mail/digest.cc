#include "mail/digest.h"

#include <date/iso_week.h>
#include <date/tz.h>
#include <fmt/format.h>

#include <algorithm>

#include "core/date.h"
#include "core/escape.h"
#include "feed/feed.h"
#include "mail/links.h"
#include "recommend/recommend.h"
#include "search/search.h"

namespace paperboy::mail {
namespace {

using std::chrono::days;
using std::chrono::sys_days;
using std::chrono::sys_seconds;

constexpr size_t kTrendingInDigest = 5;
constexpr size_t kSavedSearchDepth = 1000;
// A paper is about a saved search when its vector is as near the query's as the query's
// kSemanticDepth-th nearest paper in the whole store.
constexpr size_t kSemanticDepth = 20;
constexpr size_t kExcerptCharacters = 280;
constexpr std::chrono::days kUnsubscribeLinkLifetime{3650};

std::string lowercase(std::string_view text) {
  std::string out(text);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

bool lists_category(const Paper& paper, const std::string& category) {
  for (const std::string& listed : paper.categories) {
    if (listed == category || (listed.starts_with(category) && listed.size() > category.size() &&
                               listed[category.size()] == '.')) {
      return true;
    }
  }
  return false;
}

std::optional<std::string> author_match(const Paper& paper,
                                        const std::vector<std::string>& wanted) {
  for (const std::string& name : wanted) {
    std::string needle = lowercase(name);
    for (const std::string& author : paper.authors) {
      if (lowercase(author) == needle) return author;
    }
  }
  return std::nullopt;
}

// The first words of the abstract, cut at a word boundary.
std::string excerpt(const std::string& abstract) {
  if (abstract.size() <= kExcerptCharacters) return abstract;
  size_t cut = abstract.rfind(' ', kExcerptCharacters);
  if (cut == std::string::npos || cut < kExcerptCharacters / 2) cut = kExcerptCharacters;
  while (cut > 0 && (static_cast<unsigned char>(abstract[cut]) & 0xC0) == 0x80) --cut;
  return abstract.substr(0, cut) + " …";
}

std::string author_line(const Paper& paper) {
  if (paper.authors.empty()) {
    return paper.author_count > 0 ? fmt::format("{} authors", paper.author_count) : "";
  }
  std::string line;
  for (size_t i = 0; i < paper.authors.size() && i < 3; ++i) {
    if (i > 0) line += ", ";
    line += paper.authors[i];
  }
  if (paper.authors.size() > 3) line += fmt::format(" and {} more", paper.authors.size() - 3);
  return line;
}

std::string paper_url(const Paper& paper, const MailSettings& settings) {
  return settings.base_url + "/papers/" + paper_id(paper);
}

Result<const date::time_zone*> zone_named(const std::string& name) {
  try {
    return date::locate_zone(name);
  } catch (const std::exception&) {
    return fail(fmt::format("time_zone: \"{}\" is not a known IANA time zone", name));
  }
}

std::string period_title(const std::string& period) {
  return period.starts_with("weekly") ? "weekly" : "daily";
}

void append_text_paper(std::string& text, size_t number, const Paper& paper,
                       const std::string& reason, const MailSettings& settings) {
  text += fmt::format("{}. {}\n", number, paper.title);
  if (std::string authors = author_line(paper); !authors.empty()) text += "   " + authors + "\n";
  text += fmt::format("   {} upvotes", paper.upvotes);
  if (!paper.categories.empty()) text += " · " + paper.categories.front();
  if (!reason.empty()) text += " · " + reason;
  text += "\n";
  if (!paper.abstract.empty()) text += "   " + excerpt(paper.abstract) + "\n";
  text += "   " + paper_url(paper, settings) + "\n\n";
}

void append_html_paper(std::string& html, const Paper& paper, const std::string& reason,
                       const MailSettings& settings) {
  html +=
      "<tr><td style=\"padding:12px 0;border-bottom:1px solid #e5e7eb\">"
      "<a href=\"" +
      markup_escaped(paper_url(paper, settings)) +
      "\" style=\"color:#1d4ed8;font-size:16px;font-weight:600;text-decoration:none\">" +
      markup_escaped(paper.title) + "</a>";
  if (std::string authors = author_line(paper); !authors.empty()) {
    html += "<div style=\"color:#4b5563;font-size:13px;margin-top:2px\">" +
            markup_escaped(authors) + "</div>";
  }
  html += "<div style=\"color:#6b7280;font-size:12px;margin-top:2px\">&#9650; " +
          std::to_string(paper.upvotes);
  if (!paper.categories.empty()) html += " &middot; " + markup_escaped(paper.categories.front());
  if (!reason.empty()) html += " &middot; " + markup_escaped(reason);
  html += "</div>";
  if (!paper.abstract.empty()) {
    html += "<div style=\"color:#111827;font-size:14px;margin-top:6px;line-height:1.4\">" +
            markup_escaped(excerpt(paper.abstract)) + "</div>";
  }
  html += "</td></tr>\n";
}

std::string html_page(const std::string& heading, const std::string& rows,
                      const std::string& footer) {
  return "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><meta name=\"viewport\" "
         "content=\"width=device-width\"></head>\n<body style=\"margin:0;background:#f9fafb\">\n"
         "<table role=\"presentation\" width=\"100%\" cellpadding=\"0\" cellspacing=\"0\" "
         "style=\"max-width:640px;margin:0 auto;background:#ffffff;font-family:-apple-system,"
         "Segoe UI,Helvetica,Arial,sans-serif;padding:16px\">\n<tr><td><h1 style=\"font-size:"
         "20px;color:#111827;margin:0 0 8px\">" +
         heading + "</h1></td></tr>\n" + rows +
         "<tr><td style=\"padding-top:16px;color:#6b7280;font-size:12px\">" + footer +
         "</td></tr>\n</table>\n</body></html>\n";
}

}  // namespace

std::string confirm_url(const store::Subscription& subscription, const MailSettings& settings,
                        sys_seconds now) {
  return settings.base_url + "/digest/confirm?token=" +
         sign_link(settings.secret, LinkAction::confirm, subscription.id,
                   now + settings.confirm_link_lifetime);
}

std::string unsubscribe_url(const store::Subscription& subscription, const MailSettings& settings) {
  // Unsubscribe links must keep working in old mails; they expire only in ten years.
  sys_seconds far =
      std::chrono::floor<std::chrono::seconds>(subscription.created_at) + kUnsubscribeLinkLifetime;
  return settings.base_url + "/digest/unsubscribe?token=" +
         sign_link(settings.secret, LinkAction::unsubscribe, subscription.id, far);
}

Result<store::Subscription> subscribe(store::SubscriptionStore& subscriptions,
                                      const store::Subscription& request,
                                      const MailSettings& settings, sys_seconds now) {
  if (auto ok = check_address(request.email); !ok) {
    return fail(fmt::format("email \"{}\": {}", request.email, ok.error().message));
  }
  Message probe;  // the name must be fit for a To header
  probe.from = settings.from;
  probe.to = {request.name, request.email};
  if (auto ok = render_message(probe); !ok) return std::unexpected(ok.error());
  if (auto zone = zone_named(request.time_zone); !zone) return std::unexpected(zone.error());
  auto stored = subscriptions.subscribe(request, now);
  if (!stored || stored->state != store::SubscriptionState::pending) return stored;

  Message m;
  m.from = settings.from;
  m.to = {stored->name, stored->email};
  m.subject = "Confirm your paperboy digest";
  m.date = now;
  std::string link = confirm_url(*stored, settings, now);
  m.text = fmt::format(
      "Someone, hopefully you, asked for paperboy's {} digest of new papers at this address.\n\n"
      "To start receiving it, confirm here (the link is valid for {} days):\n{}\n\n"
      "If you did not ask for it, ignore this mail: nothing will be sent.\n",
      frequency_name(stored->frequency), settings.confirm_link_lifetime.count(), link);
  m.html = html_page(
      "Confirm your paperboy digest",
      "<tr><td style=\"font-size:14px;color:#111827;line-height:1.5\">Someone, hopefully you, "
      "asked for paperboy's " +
          std::string(frequency_name(stored->frequency)) +
          " digest of new papers at this address.<p><a href=\"" + markup_escaped(link) +
          "\" style=\"display:inline-block;background:#1d4ed8;color:#ffffff;padding:10px 16px;"
          "border-radius:6px;text-decoration:none\">Confirm my subscription</a></p></td></tr>\n",
      "If you did not ask for it, ignore this mail: nothing will be sent.");
  auto rendered = render_message(m);
  if (!rendered) return std::unexpected(rendered.error());
  store::OutboxMessage queued;
  queued.subscription_id = stored->id;
  queued.period = "confirm " + format_date(std::chrono::floor<days>(now));
  queued.recipient = stored->email;
  queued.message = std::move(*rendered);
  queued.next_attempt_at = now;
  queued.created_at = now;
  if (auto done = subscriptions.enqueue(queued); !done) return std::unexpected(done.error());
  return stored;
}

Result<store::Subscription> confirm(store::SubscriptionStore& subscriptions, std::string_view token,
                                    const MailSettings& settings, sys_seconds now) {
  auto id = verify_link(settings.secret, LinkAction::confirm, token, now);
  if (!id) return std::unexpected(id.error());
  if (auto done = subscriptions.set_subscription_state(*id, store::SubscriptionState::active, now);
      !done) {
    return std::unexpected(done.error());
  }
  auto found = subscriptions.subscription_by_id(*id);
  if (!found) return std::unexpected(found.error());
  if (!*found) return fail("this subscription no longer exists");
  return **found;
}

Result<store::Subscription> unsubscribe(store::SubscriptionStore& subscriptions,
                                        std::string_view token, const MailSettings& settings,
                                        sys_seconds now) {
  auto id = verify_link(settings.secret, LinkAction::unsubscribe, token, now);
  if (!id) return std::unexpected(id.error());
  if (auto done =
          subscriptions.set_subscription_state(*id, store::SubscriptionState::unsubscribed, now);
      !done) {
    return std::unexpected(done.error());
  }
  auto found = subscriptions.subscription_by_id(*id);
  if (!found) return std::unexpected(found.error());
  if (!*found) return fail("this subscription no longer exists");
  return **found;
}

Result<std::optional<std::string>> due_period(const store::Subscription& subscription,
                                              sys_seconds now) {
  auto zone = zone_named(subscription.time_zone);
  if (!zone) return std::unexpected(zone.error());
  auto local = (*zone)->to_local(now);
  auto local_day = date::floor<date::days>(local);
  auto hour = date::floor<std::chrono::hours>(local - local_day).count();
  sys_days day{local_day.time_since_epoch()};
  if (subscription.frequency == store::DigestFrequency::daily) {
    if (hour < subscription.send_hour) return std::optional<std::string>();
    return std::optional<std::string>("daily " + format_date(day));
  }
  iso_week::year_weeknum_weekday week{date::sys_days{day.time_since_epoch()}};
  auto weekday_index = static_cast<unsigned>(week.weekday()) - 1;  // Monday = 0
  if (weekday_index == 0 && hour < subscription.send_hour) return std::optional<std::string>();
  return std::optional<std::string>(fmt::format("weekly {}-W{:02}", static_cast<int>(week.year()),
                                                static_cast<unsigned>(week.weeknum())));
}

DigestBuilder::DigestBuilder(store::Store& papers, DigestSources sources, sys_seconds now)
    : papers_(papers), sources_(std::move(sources)), now_(now) {}

Result<const std::vector<Paper>*> DigestBuilder::papers_between(const std::string& first_day,
                                                                const std::string& last_day) {
  auto key = std::pair(first_day, last_day);
  auto found = papers_between_.find(key);
  if (found != papers_between_.end()) return &found->second;
  auto loaded = papers_.feed_papers(first_day, last_day);
  if (!loaded) return std::unexpected(loaded.error());
  std::sort(loaded->begin(), loaded->end(), [](const Paper& a, const Paper& b) {
    if (a.upvotes != b.upvotes) return a.upvotes > b.upvotes;
    if (a.feed_day != b.feed_day) return a.feed_day > b.feed_day;
    return paper_id(a) < paper_id(b);
  });
  return &papers_between_.emplace(key, std::move(*loaded)).first->second;
}

Result<const std::set<std::string>*> DigestBuilder::search_matches(const std::string& query) {
  auto found = search_matches_.find(query);
  if (found != search_matches_.end()) return &found->second;
  std::set<std::string> ids;
  if (sources_.keyword_index != nullptr) {
    search::SearchOptions options;
    options.limit = kSavedSearchDepth;
    auto results = search::search(*sources_.keyword_index, query, options);
    if (!results) return std::unexpected(results.error());
    for (const search::Hit& hit : results->hits) {
      if (hit.matched_all) ids.insert(hit.paper_id);
    }
  }
  return &search_matches_.emplace(query, std::move(ids)).first->second;
}

const std::optional<std::pair<std::vector<float>, float>>& DigestBuilder::semantic_match(
    const std::string& query) {
  auto found = semantic_matches_.find(query);
  if (found != semantic_matches_.end()) return found->second;
  std::optional<std::pair<std::vector<float>, float>> match;
  if (sources_.semantic != nullptr) {
    std::vector<float> vector = sources_.semantic->embedder->embed(hybrid::semantic_text(query));
    auto nearest = sources_.semantic->vectors->search(vector, kSemanticDepth);
    bool known = std::any_of(vector.begin(), vector.end(), [](float x) { return x != 0; });
    if (known && !nearest.empty()) match.emplace(std::move(vector), nearest.back().similarity);
  }
  return semantic_matches_.emplace(query, std::move(match)).first->second;
}

Result<std::map<std::string, std::string>> DigestBuilder::liked_matches(
    const store::Subscription& subscription, const std::vector<Paper>& candidates,
    const std::string& first_day) {
  std::map<std::string, std::string> reasons;
  if (!subscription.topics.like_my_papers || sources_.community == nullptr) return reasons;
  auto user = sources_.community->find_user_by_email(subscription.email);
  if (!user) return std::unexpected(user.error());
  if (!*user) return reasons;
  auto likes = recommend::likes_of(*sources_.community, (*user)->id);
  if (!likes) return std::unexpected(likes.error());
  recommend::Options options;
  options.limit = static_cast<size_t>(subscription.max_papers);
  recommend::Recommender recommender(papers_, sources_.semantic);
  auto training = recommender.training(*likes, first_day, options);
  if (!training) return std::unexpected(training.error());
  for (recommend::Recommendation& pick : recommender.rank(*training, candidates, options))
    reasons.emplace(paper_id(pick.paper), std::move(pick.reason));
  return reasons;
}

Result<std::optional<Digest>> DigestBuilder::build(const store::Subscription& subscription,
                                                   const std::string& period) {
  if (!latest_day_) {
    auto latest = feed::latest_feed_day(papers_, std::chrono::floor<days>(now_));
    if (!latest) return std::unexpected(latest.error());
    latest_day_ = latest->value_or("");
  }
  if (latest_day_->empty()) return std::optional<Digest>();
  auto last = parse_date(*latest_day_);
  if (!last) return fail("feed day \"" + *latest_day_ + "\" is not a date");
  bool weekly = subscription.frequency == store::DigestFrequency::weekly;
  sys_days first = *last - days(weekly || !subscription.covered_through.empty() ? 6 : 0);
  if (auto covered = parse_date(subscription.covered_through)) {
    if (*covered >= *last) return std::optional<Digest>();
    first = std::max(first, *covered + days(1));
  }

  Digest digest;
  digest.period = period;
  digest.first_day = format_date(first);
  digest.last_day = *latest_day_;
  auto candidates = papers_between(digest.first_day, digest.last_day);
  if (!candidates) return std::unexpected(candidates.error());
  const store::Topics& topics = subscription.topics;
  bool any_topic = !topics.categories.empty() || !topics.queries.empty() ||
                   !topics.authors.empty() || topics.like_my_papers;
  std::vector<const std::set<std::string>*> query_matches;
  std::vector<const std::optional<std::pair<std::vector<float>, float>>*> query_vectors;
  for (const std::string& query : topics.queries) {
    auto matches = search_matches(query);
    if (!matches) return std::unexpected(matches.error());
    query_matches.push_back(*matches);
    query_vectors.push_back(&semantic_match(query));
  }
  auto liked = liked_matches(subscription, **candidates, digest.first_day);
  if (!liked) return std::unexpected(liked.error());
  // How near a paper lies to a saved search, by the vectors.
  auto about = [&](const Paper& paper, size_t query) {
    const auto& match = *query_vectors[query];
    if (!match) return false;
    auto vector = sources_.semantic->vectors->vector_of(paper_id(paper));
    if (!vector || vector->size() != match->first.size()) return false;
    float similarity = 0;
    for (size_t i = 0; i < vector->size(); ++i) similarity += (*vector)[i] * match->first[i];
    return similarity >= match->second;
  };
  for (const Paper& paper : **candidates) {
    if (digest.papers.size() >= static_cast<size_t>(subscription.max_papers)) break;
    std::string reason;
    if (!any_topic) {
      reason = "new in the feed";
    } else {
      for (const std::string& category : topics.categories) {
        if (lists_category(paper, category)) {
          reason = "in " + category;
          break;
        }
      }
      if (reason.empty()) {
        if (auto author = author_match(paper, topics.authors)) reason = "by " + *author;
      }
      for (size_t i = 0; reason.empty() && i < query_matches.size(); ++i) {
        if (query_matches[i]->contains(paper_id(paper))) {
          reason = "matches \"" + topics.queries[i] + "\"";
        } else if (about(paper, i)) {
          reason = "about \"" + topics.queries[i] + "\"";
        }
      }
      if (reason.empty()) {
        if (auto found = liked->find(paper_id(paper)); found != liked->end())
          reason = found->second;
      }
    }
    if (!reason.empty()) digest.papers.push_back({paper, std::move(reason)});
  }
  if (digest.papers.empty()) return std::optional<Digest>();
  if (subscription.include_trending) {
    if (!trending_) {
      auto trending = feed::trending(papers_, now_, kTrendingInDigest);
      if (!trending) return std::unexpected(trending.error());
      trending_ = std::move(*trending);
    }
    digest.trending = *trending_;
  }
  return std::optional<Digest>(std::move(digest));
}

Result<Message> digest_message(const Digest& digest, const store::Subscription& subscription,
                               const MailSettings& settings, sys_seconds now) {
  Message m;
  m.from = settings.from;
  m.to = {subscription.name, subscription.email};
  m.date = now;
  m.unsubscribe_url = unsubscribe_url(subscription, settings);
  const Paper& top = digest.papers.front().paper;
  m.subject = digest.papers.size() == 1
                  ? fmt::format("paperboy {}: {}", period_title(digest.period), top.title)
                  : fmt::format("paperboy {}: {} and {} more", period_title(digest.period),
                                top.title, digest.papers.size() - 1);
  std::string span = digest.first_day == digest.last_day
                         ? digest.last_day
                         : digest.first_day + " to " + digest.last_day;
  std::string heading = fmt::format("Your {} papers, {}", period_title(digest.period), span);

  std::string text = heading + "\n\n";
  std::string rows;
  for (size_t i = 0; i < digest.papers.size(); ++i) {
    append_text_paper(text, i + 1, digest.papers[i].paper, digest.papers[i].reason, settings);
    append_html_paper(rows, digest.papers[i].paper, digest.papers[i].reason, settings);
  }
  if (!digest.trending.empty()) {
    text += "Trending on paperboy\n\n";
    rows +=
        "<tr><td><h2 style=\"font-size:16px;color:#111827;margin:20px 0 0\">Trending on "
        "paperboy</h2></td></tr>\n";
    for (size_t i = 0; i < digest.trending.size(); ++i) {
      append_text_paper(text, i + 1, digest.trending[i], "", settings);
      append_html_paper(rows, digest.trending[i], "", settings);
    }
  }
  text += fmt::format(
      "-- \nYou receive this {} digest because you subscribed at {}.\nUnsubscribe: {}\n",
      frequency_name(subscription.frequency), settings.base_url, m.unsubscribe_url);
  m.text = std::move(text);
  m.html = html_page(markup_escaped(heading), rows,
                     "You receive this digest because you subscribed at " +
                         markup_escaped(settings.base_url) + ". <a href=\"" +
                         markup_escaped(m.unsubscribe_url) +
                         "\" style=\"color:#6b7280\">Unsubscribe</a>");
  return m;
}

Result<QueueReport> queue_due_digests(store::SubscriptionStore& subscriptions,
                                      DigestBuilder& builder, const MailSettings& settings,
                                      sys_seconds now,
                                      const std::function<void(const QueueReport&)>& progress) {
  constexpr size_t kPage = 500;
  QueueReport report;
  int64_t after = 0;
  while (true) {
    auto page =
        subscriptions.subscriptions_in_state(store::SubscriptionState::active, after, kPage);
    if (!page) return std::unexpected(page.error());
    if (page->empty()) break;
    for (const store::Subscription& subscription : *page) {
      after = subscription.id;
      ++report.subscribers;
      auto period = due_period(subscription, now);
      if (!period) return std::unexpected(period.error());
      if (*period) {
        auto queued = subscriptions.has_queued(subscription.id, **period);
        if (!queued) return std::unexpected(queued.error());
        if (*queued) {
          ++report.already;
        } else {
          auto digest = builder.build(subscription, **period);
          if (!digest) return std::unexpected(digest.error());
          if (!*digest) {
            ++report.nothing_new;
          } else {
            auto message = digest_message(**digest, subscription, settings, now);
            if (!message) return std::unexpected(message.error());
            auto rendered = render_message(*message);
            if (!rendered) {
              return fail(
                  fmt::format("subscription {}: {}", subscription.id, rendered.error().message));
            }
            store::OutboxMessage outbox;
            outbox.subscription_id = subscription.id;
            outbox.period = **period;
            outbox.recipient = subscription.email;
            outbox.message = std::move(*rendered);
            outbox.covered_through = (*digest)->last_day;
            outbox.next_attempt_at = now;
            outbox.created_at = now;
            auto added = subscriptions.enqueue(outbox);
            if (!added) return std::unexpected(added.error());
            ++(*added ? report.queued : report.already);
          }
        }
      }
      if (progress) progress(report);
    }
  }
  return report;
}

Result<DeliveryTotals> deliver_outbox(store::SubscriptionStore& subscriptions, SmtpClient& smtp,
                                      const MailSettings& settings, sys_seconds now) {
  constexpr size_t kClaim = 100;
  DeliveryTotals totals;
  while (true) {
    auto claimed = subscriptions.claim_due(now, settings.lease, kClaim);
    if (!claimed) return std::unexpected(claimed.error());
    if (claimed->empty()) return totals;
    for (const store::OutboxMessage& message : *claimed) {
      DeliveryReport report = smtp.send(settings.from.address, message.recipient, message.message);
      Result<void> recorded;
      bool retries_left = static_cast<size_t>(message.attempts) <= settings.retry_delays.size();
      if (report.outcome == DeliveryOutcome::kAccepted) {
        recorded = subscriptions.mark_sent(message.id, now);
        ++totals.sent;
      } else if (report.outcome == DeliveryOutcome::kTemporaryFailure && retries_left) {
        recorded = subscriptions.mark_retry(
            message.id, now + settings.retry_delays[static_cast<size_t>(message.attempts) - 1],
            report.detail);
        ++totals.deferred;
      } else {
        recorded =
            subscriptions.mark_failed(message.id, report.detail, settings.pause_after_bounces);
        ++totals.failed;
      }
      if (!recorded) return std::unexpected(recorded.error());
    }
  }
}

Result<DigestRun> run_digest_job(store::Store& papers, store::SubscriptionStore& subscriptions,
                                 DigestSources sources, SmtpClient& smtp,
                                 const MailSettings& settings, sys_seconds now) {
  DigestBuilder builder(papers, std::move(sources), now);
  auto queued = queue_due_digests(subscriptions, builder, settings, now);
  if (!queued) return std::unexpected(queued.error());
  auto delivered = deliver_outbox(subscriptions, smtp, settings, now);
  if (!delivered) return std::unexpected(delivered.error());
  return DigestRun{*queued, *delivered};
}

}  // namespace paperboy::mail
