#include "web/digest_routes.h"

#include <httplib.h>

#include <chrono>
#include <nlohmann/json.hpp>
#include <sstream>

#include "core/escape.h"
#include "web/page_routes.h"
#include "web/pages.h"

namespace paperboy::web {
namespace {

using httplib::Request;
using httplib::Response;

std::chrono::sys_seconds now() {
  return std::chrono::floor<std::chrono::seconds>(std::chrono::system_clock::now());
}

// Items separated by `separators`, trimmed, empty ones dropped.
std::vector<std::string> split_list(const std::string& text, std::string_view separators) {
  std::vector<std::string> items;
  size_t start = 0;
  while (start <= text.size()) {
    size_t end = text.find_first_of(separators, start);
    if (end == std::string::npos) end = text.size();
    std::string item = text.substr(start, end - start);
    size_t first = item.find_first_not_of(" \t\r\n");
    size_t last = item.find_last_not_of(" \t\r\n");
    if (first != std::string::npos) items.push_back(item.substr(first, last - first + 1));
    start = end + 1;
  }
  return items;
}

Result<store::Subscription> request_from(const std::function<std::string(const char*)>& field) {
  store::Subscription s;
  s.email = field("email");
  s.name = field("name");
  std::string frequency = field("frequency");
  if (!frequency.empty()) {
    auto parsed = store::parse_frequency(frequency);
    if (!parsed) return fail("frequency: must be daily or weekly");
    s.frequency = *parsed;
  }
  if (std::string zone = field("time_zone"); !zone.empty()) s.time_zone = zone;
  if (std::string hour = field("hour"); !hour.empty()) {
    try {
      s.send_hour = std::stoi(hour);
    } catch (const std::exception&) {
      return fail("hour: not a number");
    }
  }
  if (std::string max = field("max_papers"); !max.empty()) {
    try {
      s.max_papers = std::stoi(max);
    } catch (const std::exception&) {
      return fail("max_papers: not a number");
    }
  }
  s.topics.categories = split_list(field("categories"), ", ");
  s.topics.authors = split_list(field("authors"), ",\n");
  s.topics.queries = split_list(field("queries"), "\n");
  const std::string like = field("like_my_papers");
  s.topics.like_my_papers = like == "on" || like == "1" || like == "true";
  s.include_trending = field("include_trending") != "0" && field("include_trending") != "false";
  return s;
}

std::string button_form(const std::string& action, const std::string& token,
                        const std::string& label) {
  return "<form method=\"post\" action=\"" + markup_escaped(action) +
         "\"><input type=\"hidden\" name=\"token\" value=\"" + markup_escaped(token) +
         "\"><button type=\"submit\">" + markup_escaped(label) + "</button></form>";
}

constexpr const char* kSubscribeForm = R"html(<h1>Get trending papers in your inbox</h1>
<p>A daily or weekly mail with the new papers on your topics, and what is trending. You will
get one mail to confirm the address first; every digest has a one-click unsubscribe link.</p>
<form method="post" action="/digest" class="digest-form">
<label>Email <input type="email" name="email" required autocomplete="email"></label>
<label>Name (optional) <input type="text" name="name" autocomplete="name"></label>
<label>How often <select name="frequency"><option value="daily">Daily</option>
<option value="weekly">Weekly (Mondays)</option></select></label>
<label>Time zone (IANA, e.g. Europe/Paris) <input type="text" name="time_zone" value="UTC"></label>
<label>Hour <input type="number" name="hour" min="0" max="23" value="7"></label>
<label>Categories <input type="text" name="categories" placeholder="cs.CL, cs.LG"></label>
<label>Authors <input type="text" name="authors" placeholder="Albert Gu, Tri Dao"></label>
<label>Saved searches (one per line) <textarea name="queries" rows="3"
placeholder="&quot;state space&quot; model"></textarea></label>
<label><input type="checkbox" name="like_my_papers"> Papers like my upvotes and collections
(for the account with this email)</label>
<label>Papers per digest <input type="number" name="max_papers" min="1" max="100" value="10"></label>
<button type="submit">Subscribe</button>
</form>)html";

}  // namespace

DigestRoutes::DigestRoutes(store::SubscriptionStore& subscriptions, mail::MailSettings settings,
                           const Pages& pages)
    : subscriptions_(subscriptions), settings_(std::move(settings)), pages_(pages) {}

void DigestRoutes::install(PageRoutes& http) {
  auto html = [this](Response& response, int status, const std::string& title,
                     const std::string& content) {
    response.status = status;
    response.set_content(pages_.wrap(title, content), "text/html; charset=utf-8");
  };

  http.Get("/digest", [html](const Request&, Response& response) {
    html(response, 200, "Email digest", kSubscribeForm);
  });

  http.Post("/digest", [this, html](const Request& request, Response& response) {
    auto parsed = request_from([&](const char* key) { return request.get_param_value(key); });
    auto stored = parsed ? mail::subscribe(subscriptions_, *parsed, settings_, now())
                         : Result<store::Subscription>(std::unexpected(parsed.error()));
    if (!stored) {
      html(response, 400, "Email digest",
           "<h1>That did not work</h1><p>" + markup_escaped(stored.error().message) +
               "</p><p><a href=\"/digest\">Back to the form</a></p>");
      return;
    }
    html(response, 200, "Email digest",
         stored->state == store::SubscriptionState::pending
             ? "<h1>Check your inbox</h1><p>We sent a confirmation link to " +
                   markup_escaped(stored->email) + ". Nothing else is sent until you open it.</p>"
             : "<h1>Preferences saved</h1><p>Your digest settings for " +
                   markup_escaped(stored->email) + " are updated.</p>");
  });

  http.Post("/api/digest/subscribe", [this](const Request& request, Response& response) {
    auto body = nlohmann::json::parse(request.body, nullptr, /*allow_exceptions=*/false);
    auto field = [&](const char* key) -> std::string {
      if (!body.is_object() || !body.contains(key)) return {};
      const auto& value = body[key];
      if (value.is_string()) return value.get<std::string>();
      if (value.is_number_integer()) return std::to_string(value.get<int64_t>());
      if (value.is_boolean()) return value.get<bool>() ? "true" : "false";
      if (value.is_array()) {
        std::string joined;
        for (const auto& item : value) {
          if (item.is_string()) joined += item.get<std::string>() + "\n";
        }
        return joined;
      }
      return {};
    };
    auto parsed = body.is_object() ? request_from(field)
                                   : Result<store::Subscription>(fail("body: not a JSON object"));
    auto stored = parsed ? mail::subscribe(subscriptions_, *parsed, settings_, now())
                         : Result<store::Subscription>(std::unexpected(parsed.error()));
    if (!stored) {
      response.status = 400;
      response.set_content(nlohmann::json{{"error", stored.error().message}}.dump(),
                           "application/json");
      return;
    }
    response.status = 202;
    response.set_content(nlohmann::json{{"email", stored->email},
                                        {"state", store::subscription_state_name(stored->state)}}
                             .dump(),
                         "application/json");
  });

  http.Get("/digest/confirm", [html](const Request& request, Response& response) {
    html(response, 200, "Confirm your digest",
         "<h1>Confirm your digest</h1><p>One click and the digest starts.</p>" +
             button_form("/digest/confirm", request.get_param_value("token"),
                         "Confirm my subscription"));
  });
  http.Post("/digest/confirm", [this, html](const Request& request, Response& response) {
    auto confirmed =
        mail::confirm(subscriptions_, request.get_param_value("token"), settings_, now());
    if (!confirmed) {
      html(response, 400, "Confirm your digest",
           "<h1>That link did not work</h1><p>" + markup_escaped(confirmed.error().message) +
               "</p><p><a href=\"/digest\">Subscribe again</a></p>");
      return;
    }
    html(response, 200, "Subscribed",
         "<h1>You are subscribed</h1><p>" + markup_escaped(confirmed->email) + " gets the " +
             store::frequency_name(confirmed->frequency) + " digest from now on.</p>");
  });

  http.Get("/digest/unsubscribe", [html](const Request& request, Response& response) {
    html(response, 200, "Unsubscribe",
         "<h1>Unsubscribe</h1><p>Stop the digest for this address?</p>" +
             button_form("/digest/unsubscribe", request.get_param_value("token"), "Unsubscribe"));
  });
  // Mail clients post "List-Unsubscribe=One-Click" to the URL of the header, token included.
  http.Post("/digest/unsubscribe", [this, html](const Request& request, Response& response) {
    auto left =
        mail::unsubscribe(subscriptions_, request.get_param_value("token"), settings_, now());
    if (!left) {
      html(response, 400, "Unsubscribe",
           "<h1>That link did not work</h1><p>" + markup_escaped(left.error().message) + "</p>");
      return;
    }
    html(response, 200, "Unsubscribed",
         "<h1>Unsubscribed</h1><p>No more digests go to " + markup_escaped(left->email) + ".</p>");
  });
}

}  // namespace paperboy::web
