#include "web/community_routes.h"

#include <httplib.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <charconv>
#include <kainjow/mustache.hpp>
#include <mutex>
#include <nlohmann/json.hpp>
#include <set>
#include <shared_mutex>
#include <variant>

#include "core/arxiv_id.h"
#include "core/date.h"
#include "core/escape.h"
#include "web/accounts.h"
#include "web/assets.h"
#include "web/markdown.h"
#include "web/mustache_render.h"
#include "web/pages.h"

namespace paperboy::web {

namespace {

namespace mustache = kainjow::mustache;
using httplib::Request;
using httplib::Response;
using nlohmann::json;
using std::chrono::sys_seconds;

constexpr const char* kSessionCookie = "paperboy_session";
constexpr const char* kAnonymousCsrfCookie = "paperboy_csrf";
constexpr auto kSessionLifetime = std::chrono::days(30);
// Requests less than this apart are one visit; "new" badges mark papers since the last one.
constexpr auto kVisitGap = std::chrono::minutes(30);
constexpr size_t kMaxCommentBytes = 20000;
constexpr size_t kMaxNoteBytes = 2000;
constexpr size_t kMaxCollectionNameBytes = 100;
constexpr size_t kMaxDescriptionBytes = 2000;
constexpr size_t kMaxTokenLabelBytes = 100;
constexpr size_t kAdminListLength = 50;
constexpr const char* kHtml = "text/html; charset=utf-8";
constexpr const char* kJson = "application/json; charset=utf-8";

sys_seconds now() {
  return std::chrono::floor<std::chrono::seconds>(std::chrono::system_clock::now());
}

// Who is asking: a signed-in user (by session cookie or API token) or an anonymous visitor.
struct Visitor {
  std::optional<store::User> user;
  std::string csrf;          // the session's token, or the anonymous CSRF cookie
  std::string session_hash;  // set when signed in by cookie
  bool by_api_token = false;

  bool moderator() const {
    return user && (user->role == store::Role::moderator || user->role == store::Role::admin);
  }
  bool admin() const { return user && user->role == store::Role::admin; }
};

// A failure to answer with: the status and what to tell the visitor.
struct Refusal {
  int status;
  std::string message;
};

bool equal_in_constant_time(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  unsigned char difference = 0;
  for (size_t i = 0; i < a.size(); ++i) difference |= static_cast<unsigned char>(a[i] ^ b[i]);
  return difference == 0;
}

std::optional<int64_t> parse_id(const std::string& text) {
  int64_t value = 0;
  auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (text.empty() || error != std::errc() || end != text.data() + text.size() || value <= 0)
    return std::nullopt;
  return value;
}

// A redirect target from a form: only paths on this site, never "//host" or "/\host".
std::string local_path(const std::string& target, const std::string& fallback) {
  if (target.size() < 1 || target[0] != '/' || target.starts_with("//") ||
      target.starts_with("/\\") || std::any_of(target.begin(), target.end(), [](char c) {
        return static_cast<unsigned char>(c) < 0x20;
      }))
    return fallback;
  return target;
}

bool wants_secure_cookie(const Request& request) {
  return request.get_header_value("X-Forwarded-Proto") == "https";
}

std::string cookie(const Request& request, std::string_view name, std::string_view value,
                   std::chrono::seconds max_age) {
  std::string text = std::string(name) + "=" + std::string(value) +
                     "; Path=/; HttpOnly; SameSite=Lax; Max-Age=" + std::to_string(max_age.count());
  if (wants_secure_cookie(request)) text += "; Secure";
  return text;
}

// "2312.00752", "arXiv:2312.00752v2", arXiv abs/pdf URLs and Hugging Face paper URLs.
std::optional<ArxivId> submitted_id(std::string text) {
  while (!text.empty() && std::isspace(static_cast<unsigned char>(text.back()))) text.pop_back();
  size_t start = 0;
  while (start < text.size() && std::isspace(static_cast<unsigned char>(text[start]))) ++start;
  text.erase(0, start);
  for (std::string_view prefix : {"https://huggingface.co/papers/", "http://huggingface.co/papers/",
                                  "https://hf.co/papers/", "huggingface.co/papers/"}) {
    if (text.starts_with(prefix)) text.erase(0, prefix.size());
  }
  if (text.starts_with("arxiv.org/")) text = "https://" + text;
  return parse_arxiv_id(text);
}

const char* comment_state_name(store::CommentState state) {
  switch (state) {
    case store::CommentState::deleted_by_author:
      return "deleted";
    case store::CommentState::removed_by_moderator:
      return "removed";
    case store::CommentState::visible:
      break;
  }
  return "visible";
}

json comment_json(const store::Comment& comment) {
  const bool shown = comment.state == store::CommentState::visible;
  return json{
      {"id", comment.id},
      {"paper", comment.paper_id},
      {"author", comment.author_name.empty() ? json(nullptr) : json(comment.author_name)},
      {"state", comment_state_name(comment.state)},
      {"body", shown ? json(comment.body) : json(nullptr)},
      {"body_html", shown ? json(render_markdown(comment.body)) : json(nullptr)},
      {"created_at", format_instant(comment.created_at)},
      {"edited_at", comment.edited_at ? json(format_instant(*comment.edited_at)) : json(nullptr)}};
}

json collection_json(const store::Collection& collection) {
  return json{{"id", collection.id},
              {"owner", collection.owner_name},
              {"name", collection.name},
              {"description", collection.description},
              {"public", collection.is_public},
              {"item_count", collection.item_count},
              {"created_at", format_instant(collection.created_at)},
              {"url", "/collections/" + std::to_string(collection.id)}};
}

std::string paper_url(const std::string& paper_id) {
  Paper named;
  if (paper_id.starts_with("title-")) return "/papers/" + url_encode(paper_id);
  named.arxiv_id = paper_id;
  return paper_path(named);
}

using Templates = std::map<std::string, std::string_view, std::less<>>;

// Parses every community template once, so a broken one fails at start and not on a request.
Result<Templates> load_templates() {
  Templates templates;
  for (const char* name : {"signin", "signup", "settings", "submit", "collections", "collection",
                           "admin", "paper_community", "comment_edit", "notice", "account_nav"}) {
    const std::string path = std::string("templates/") + name + ".mustache";
    auto text = find_embedded_file(path);
    if (!text) return fail("web: template " + path + " is not embedded");
    mustache::mustache parsed{std::string(*text)};
    if (!parsed.is_valid()) return fail("web: " + path + ": " + parsed.error_message());
    templates.emplace(name, *text);
  }
  return templates;
}

}  // namespace

struct CommunityRoutes::Impl {
  // Five failed sign-ins per account, or twenty per address, in fifteen minutes.
  Impl(store::Store& papers, store::CommunityStore& community, const Pages& pages,
       Templates templates, std::vector<std::string> hidden)
      : papers(papers),
        community(community),
        pages(pages),
        limiter(5, 20, std::chrono::minutes(15)),
        templates(std::move(templates)),
        hidden_ids(hidden.begin(), hidden.end()) {}

  store::Store& papers;
  store::CommunityStore& community;
  const Pages& pages;
  LoginLimiter limiter;
  Templates templates;
  std::shared_mutex hidden_mutex;
  std::set<std::string, std::less<>> hidden_ids;

  std::string render(std::string_view name, const mustache::data& data) {
    return render_template(templates.find(name)->second, data);
  }

  // ---- Who is asking ----

  Visitor visitor(const Request& request) {
    Visitor visitor;
    const std::string authorization = request.get_header_value("Authorization");
    if (authorization.starts_with("Bearer ")) {
      auto user = community.find_api_token(token_hash(authorization.substr(7)));
      if (user && *user) {
        visitor.user = std::move(**user);
        visitor.by_api_token = true;
      }
      return visitor;
    }
    const std::string cookies = request.get_header_value("Cookie");
    if (auto token = cookie_value(cookies, kSessionCookie)) {
      const std::string hash = token_hash(*token);
      auto session = community.find_session(hash, now());
      if (!session) {
        spdlog::error("web: session lookup: {}", session.error().message);
      } else if (*session) {
        visitor.user = std::move((*session)->user);
        visitor.csrf = std::move((*session)->csrf_token);
        visitor.session_hash = hash;
        return visitor;
      }
    }
    visitor.csrf = cookie_value(cookies, kAnonymousCsrfCookie).value_or("");
    return visitor;
  }

  // A state-changing request must carry the visitor's CSRF token, as the form field "csrf" or
  // the X-CSRF-Token header; API tokens are not sent by browsers on their own, so they need none.
  static bool csrf_ok(const Request& request, const Visitor& visitor) {
    if (visitor.by_api_token) return true;
    std::string sent = request.get_header_value("X-CSRF-Token");
    if (sent.empty() && request.has_param("csrf")) sent = request.get_param_value("csrf");
    return !visitor.csrf.empty() && equal_in_constant_time(sent, visitor.csrf);
  }

  // The signed-in visitor allowed to change things, or why not.
  std::variant<Visitor, Refusal> writer(const Request& request) {
    Visitor who = visitor(request);
    if (!who.user) return Refusal{401, "sign in first"};
    if (!csrf_ok(request, who))
      return Refusal{403,
                     "the form is out of date or came from another site (CSRF token missing "
                     "or wrong); reload the page and try again"};
    return who;
  }

  // A field of a form or of a JSON object body.
  static std::optional<std::string> field(const Request& request, const char* name) {
    if (request.get_header_value("Content-Type").starts_with("application/json")) {
      auto body = json::parse(request.body, nullptr, /*allow_exceptions=*/false);
      if (!body.is_object() || !body.contains(name)) return std::nullopt;
      const json& value = body[name];
      if (value.is_string()) return value.get<std::string>();
      if (value.is_boolean()) return value.get<bool>() ? "on" : "";
      if (value.is_number_integer()) return std::to_string(value.get<int64_t>());
      return std::nullopt;
    }
    if (!request.has_param(name)) return std::nullopt;
    return request.get_param_value(name);
  }

  // ---- Answers ----

  void page(Response& response, int status, const std::string& title, const std::string& body) {
    response.status = status;
    response.set_content(pages.wrap(title, body), kHtml);
  }

  void notice(Response& response, int status, const std::string& heading, const std::string& detail,
              const std::string& link = "/",
              const std::string& link_label = "Back to today's papers") {
    mustache::data data;
    data.set("status", std::to_string(status));
    data.set("heading", heading);
    data.set("detail", detail);
    data.set("link", link);
    data.set("link_label", link_label);
    page(response, status, heading, render("notice", data));
  }

  static void send_json(Response& response, int status, const json& body) {
    response.status = status;
    response.set_content(body.dump(-1, ' ', false, json::error_handler_t::replace), kJson);
  }

  static void json_error(Response& response, int status, const std::string& message) {
    send_json(response, status, json{{"error", message}});
  }

  // Where to come back to after signing in: the page itself for a GET, else the page of this
  // site the form was on.
  static std::string return_path(const Request& request) {
    if (request.method == "GET") return request.path;
    const std::string referer = request.get_header_value("Referer");
    const size_t scheme = referer.find("://");
    const size_t path = scheme == std::string::npos ? scheme : referer.find('/', scheme + 3);
    if (path == std::string::npos ||
        referer.substr(scheme + 3, path - scheme - 3) != request.get_header_value("Host"))
      return "/";
    return local_path(referer.substr(path), "/");
  }

  void refuse_page(const Request& request, Response& response, const Refusal& refusal) {
    if (refusal.status == 401) {
      return response.set_redirect("/signin?next=" + url_encode(return_path(request)), 303);
    }
    notice(response, refusal.status, refusal.status == 403 ? "Not allowed" : "Not possible",
           refusal.message);
  }

  void internal_error(const Request& request, Response& response, const Error& error, bool api) {
    spdlog::error("web: {} {}: {}", request.method, request.path, error.message);
    const char* detail = "The store could not answer. Please try again in a moment.";
    if (api) return json_error(response, 500, std::string("internal error: ") + detail);
    notice(response, 500, "Something went wrong", detail);
  }

  // ---- Sessions ----

  // Signs `user` in: a new session, its cookie, and the way to `next`.
  void start_session(const Request& request, Response& response, const store::User& user,
                     const std::string& next) {
    const std::string token = random_token();
    auto added =
        community.add_session(token_hash(token), user.id, random_token(), now() + kSessionLifetime);
    if (!added) return internal_error(request, response, added.error(), false);
    response.set_header("Set-Cookie", cookie(request, kSessionCookie, token, kSessionLifetime));
    response.set_redirect(local_path(next, "/"), 303);
  }

  // The anonymous CSRF token of the sign-in and sign-up forms (set as a cookie when new).
  std::string anonymous_csrf(const Request& request, Response& response) {
    if (auto existing = cookie_value(request.get_header_value("Cookie"), kAnonymousCsrfCookie);
        existing && existing->size() == 64)
      return *existing;
    std::string token = random_token();
    response.set_header("Set-Cookie",
                        cookie(request, kAnonymousCsrfCookie, token, std::chrono::hours(24)));
    return token;
  }

  void account_form(const Request& request, Response& response, const char* name, int status,
                    const std::string& error, mustache::data data) {
    data.set("csrf", anonymous_csrf(request, response));
    if (!error.empty()) data.set("error", error);
    data.set("next",
             local_path(request.has_param("next") ? request.get_param_value("next") : "/", "/"));
    page(response, status, name == std::string_view("signin") ? "Sign in" : "Sign up",
         render(name, data));
  }

  void signin_page(const Request& request, Response& response) {
    if (visitor(request).user) return response.set_redirect("/", 303);
    account_form(request, response, "signin", 200, {}, {});
  }

  void signup_page(const Request& request, Response& response) {
    if (visitor(request).user) return response.set_redirect("/", 303);
    account_form(request, response, "signup", 200, {}, {});
  }

  void signin(const Request& request, Response& response) {
    const Visitor who = visitor(request);
    const std::string name = field(request, "name").value_or("");
    const std::string password = field(request, "password").value_or("");
    mustache::data kept;
    kept.set("name", name);
    if (!csrf_ok(request, who))
      return account_form(request, response, "signin", 403,
                          "The form had expired; please sign in again.", kept);
    std::string account = name;
    std::transform(account.begin(), account.end(), account.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    const auto clock = LoginLimiter::Clock::now();
    if (auto wait = limiter.wait(account, request.remote_addr, clock); wait.count() > 0) {
      response.set_header("Retry-After", std::to_string(wait.count()));
      return account_form(
          request, response, "signin", 429,
          "Too many failed sign-ins. Try again in " + std::to_string(wait.count()) + " seconds.",
          kept);
    }
    auto found = name.find('@') != std::string::npos ? community.find_user_by_email(name)
                                                     : community.find_user(name);
    if (!found) return internal_error(request, response, found.error(), false);
    const bool matches =
        verify_password(*found ? (*found)->password_hash : std::string(), password);
    if (!*found || !matches) {
      limiter.failed(account, request.remote_addr, clock);
      return account_form(request, response, "signin", 401, "Wrong name or password.", kept);
    }
    if ((*found)->banned)
      return account_form(request, response, "signin", 403, "This account is banned.", kept);
    limiter.succeeded(account);
    start_session(request, response, **found, field(request, "next").value_or("/"));
  }

  void signup(const Request& request, Response& response) {
    const Visitor who = visitor(request);
    const std::string name = field(request, "name").value_or("");
    const std::string email = field(request, "email").value_or("");
    const std::string password = field(request, "password").value_or("");
    mustache::data kept;
    kept.set("name", name);
    kept.set("email", email);
    if (!csrf_ok(request, who))
      return account_form(request, response, "signup", 403,
                          "The form had expired; please try again.", kept);
    for (const Result<void>& check :
         {check_user_name(name), check_email(email), check_password(password)}) {
      if (!check)
        return account_form(request, response, "signup", 400, check.error().message, kept);
    }
    auto hash = hash_password(password);
    if (!hash) return internal_error(request, response, hash.error(), false);
    auto everyone = community.users();
    if (!everyone) return internal_error(request, response, everyone.error(), false);
    // The first account of a new installation administers it.
    const store::Role role = everyone->empty() ? store::Role::admin : store::Role::user;
    auto added = community.add_user(store::NewUser{name, email, *hash, role});
    if (!added) return account_form(request, response, "signup", 409, added.error().message, kept);
    start_session(request, response, *added, field(request, "next").value_or("/"));
  }

  void signout(const Request& request, Response& response) {
    const Visitor who = visitor(request);
    if (who.user && !who.by_api_token) {
      if (!csrf_ok(request, who))
        return notice(response, 403, "Not allowed",
                      "The sign-out form had expired; reload and try again.");
      if (auto removed = community.remove_session(who.session_hash); !removed)
        return internal_error(request, response, removed.error(), false);
    }
    response.set_header("Set-Cookie", cookie(request, kSessionCookie, "", std::chrono::seconds(0)));
    response.set_redirect("/", 303);
  }

  void settings_page(const Request& request, Response& response, int status = 200,
                     const std::string& message = {}, const std::string& new_token = {}) {
    const Visitor who = visitor(request);
    if (!who.user) return refuse_page(request, response, Refusal{401, {}});
    mustache::data data;
    data.set("name", who.user->name);
    data.set("email", who.user->email);
    data.set("role", store::role_name(who.user->role));
    if (!message.empty()) data.set(status < 400 ? "message" : "error", message);
    if (!new_token.empty()) data.set("new_token", new_token);
    page(response, status, "Settings", render("settings", data));
  }

  void change_password(const Request& request, Response& response) {
    auto allowed = writer(request);
    if (auto* refusal = std::get_if<Refusal>(&allowed))
      return refuse_page(request, response, *refusal);
    const Visitor& who = std::get<Visitor>(allowed);
    const std::string current = field(request, "current_password").value_or("");
    const std::string next = field(request, "new_password").value_or("");
    if (!verify_password(who.user->password_hash, current))
      return settings_page(request, response, 403, "The current password is wrong.");
    if (auto checked = check_password(next); !checked)
      return settings_page(request, response, 400, checked.error().message);
    auto hash = hash_password(next);
    if (!hash) return internal_error(request, response, hash.error(), false);
    if (auto set = community.set_password_hash(who.user->id, *hash); !set)
      return internal_error(request, response, set.error(), false);
    // Other sessions may be someone who learned the old password.
    if (auto ended = community.remove_sessions_of(who.user->id, who.session_hash); !ended)
      return internal_error(request, response, ended.error(), false);
    settings_page(request, response, 200, "Password changed; other sessions were signed out.");
  }

  void create_api_token(const Request& request, Response& response) {
    auto allowed = writer(request);
    if (auto* refusal = std::get_if<Refusal>(&allowed))
      return refuse_page(request, response, *refusal);
    const Visitor& who = std::get<Visitor>(allowed);
    std::string label = field(request, "label").value_or("");
    if (label.empty()) label = "API token";
    if (label.size() > kMaxTokenLabelBytes)
      return settings_page(request, response, 400, "label: at most 100 bytes");
    const std::string token = random_token();
    if (auto added = community.add_api_token(token_hash(token), who.user->id, label); !added)
      return internal_error(request, response, added.error(), false);
    settings_page(request, response, 200,
                  "New API token \"" + label + "\" (shown only now):", token);
  }

  // ---- Votes ----

  std::string paper_id_from(const Request& request) {
    std::string id = request.matches[1].str();
    return httplib::detail::decode_url(id, false);
  }

  // The paper's canonical id if the store holds it and the visitor may see it.
  std::variant<Paper, Refusal> visible_paper(const std::string& id, const Visitor& who) {
    auto found = papers.find(id);
    if (!found) return Refusal{500, found.error().message};
    if (!*found || (is_hidden(paper_id(**found)) && !who.moderator()))
      return Refusal{404, "no paper with the id '" + id + "' is in the store"};
    return std::move(**found);
  }

  void upvote(const Request& request, Response& response, bool api) {
    auto allowed = writer(request);
    if (auto* refusal = std::get_if<Refusal>(&allowed)) {
      return api ? json_error(response, refusal->status, refusal->message)
                 : refuse_page(request, response, *refusal);
    }
    const Visitor& who = std::get<Visitor>(allowed);
    auto paper = visible_paper(paper_id_from(request), who);
    if (auto* refusal = std::get_if<Refusal>(&paper)) {
      if (refusal->status == 500)
        return internal_error(request, response, Error{refusal->message}, api);
      return api ? json_error(response, refusal->status, refusal->message)
                 : notice(response, refusal->status, "Paper not found", refusal->message);
    }
    const std::string id = paper_id(std::get<Paper>(paper));
    auto outcome = community.toggle_vote(who.user->id, id);
    if (!outcome) return internal_error(request, response, outcome.error(), api);
    if (api) {
      return send_json(
          response, 200,
          json{{"paper", id}, {"voted", outcome->voted}, {"upvotes", outcome->upvotes}});
    }
    response.set_redirect(paper_url(id), 303);
  }

  void my_votes(const Request& request, Response& response) {
    const Visitor who = visitor(request);
    if (!who.user) return json_error(response, 401, "sign in first");
    std::vector<std::string> ids;
    std::string list = request.has_param("ids") ? request.get_param_value("ids") : "";
    for (size_t start = 0; start <= list.size() && ids.size() < 200;) {
      const size_t end = std::min(list.find(',', start), list.size());
      if (end > start) ids.push_back(list.substr(start, end - start));
      start = end + 1;
    }
    auto voted = community.voted_papers(who.user->id, ids);
    if (!voted) return internal_error(request, response, voted.error(), true);
    send_json(response, 200, json{{"voted", *voted}});
  }

  void me(const Request& request, Response& response) {
    const Visitor who = visitor(request);
    if (!who.user) return json_error(response, 401, "sign in first");
    send_json(response, 200,
              json{{"name", who.user->name},
                   {"role", store::role_name(who.user->role)},
                   {"csrf_token", who.by_api_token ? json(nullptr) : json(who.csrf)}});
  }

  // ---- Comments ----

  void add_comment(const Request& request, Response& response, bool api) {
    auto allowed = writer(request);
    if (auto* refusal = std::get_if<Refusal>(&allowed)) {
      return api ? json_error(response, refusal->status, refusal->message)
                 : refuse_page(request, response, *refusal);
    }
    const Visitor& who = std::get<Visitor>(allowed);
    auto paper = visible_paper(paper_id_from(request), who);
    if (auto* refusal = std::get_if<Refusal>(&paper)) {
      if (refusal->status == 500)
        return internal_error(request, response, Error{refusal->message}, api);
      return api ? json_error(response, refusal->status, refusal->message)
                 : notice(response, refusal->status, "Paper not found", refusal->message);
    }
    const std::string id = paper_id(std::get<Paper>(paper));
    const std::string body = field(request, "body").value_or("");
    if (auto bad = check_comment(body)) {
      return api ? json_error(response, 400, *bad)
                 : notice(response, 400, "Comment not saved", *bad, paper_url(id),
                          "Back to the paper");
    }
    auto added = community.add_comment(id, who.user->id, body);
    if (!added) return internal_error(request, response, added.error(), api);
    if (api) return send_json(response, 201, comment_json(*added));
    response.set_redirect(paper_url(id) + "#comment-" + std::to_string(added->id), 303);
  }

  static std::optional<std::string> check_comment(const std::string& body) {
    const bool blank = std::all_of(body.begin(), body.end(), [](char c) {
      return std::isspace(static_cast<unsigned char>(c));
    });
    if (blank) return "body: write something first";
    if (body.size() > kMaxCommentBytes) return "body: at most 20000 bytes";
    return std::nullopt;
  }

  void paper_comments(const Request& request, Response& response) {
    const Visitor who = visitor(request);
    auto paper = visible_paper(paper_id_from(request), who);
    if (auto* refusal = std::get_if<Refusal>(&paper)) {
      if (refusal->status == 500)
        return internal_error(request, response, Error{refusal->message}, true);
      return json_error(response, refusal->status, refusal->message);
    }
    auto comments = community.comments_on(paper_id(std::get<Paper>(paper)));
    if (!comments) return internal_error(request, response, comments.error(), true);
    json list = json::array();
    for (const store::Comment& comment : *comments) list.push_back(comment_json(comment));
    send_json(response, 200, list);
  }

  // The comment the URL names, with the visitor allowed to change it, or why not.
  // Authors may edit and delete their comments; moderators may remove anyone's.
  std::variant<std::pair<Visitor, store::Comment>, Refusal> comment_for_change(
      const Request& request, bool removing) {
    auto allowed = writer(request);
    if (auto* refusal = std::get_if<Refusal>(&allowed)) return *refusal;
    Visitor who = std::get<Visitor>(std::move(allowed));
    auto id = parse_id(request.matches[1].str());
    if (!id) return Refusal{404, "no such comment"};
    auto comment = community.find_comment(*id);
    if (!comment) return Refusal{500, comment.error().message};
    if (!*comment || (*comment)->state != store::CommentState::visible)
      return Refusal{404, "no such comment"};
    const bool author = (*comment)->author_id == who.user->id;
    if (!author && !(removing && who.moderator()))
      return Refusal{403, "only the author can change this comment"};
    return std::pair{std::move(who), std::move(**comment)};
  }

  void edit_comment_page(const Request& request, Response& response) {
    const Visitor who = visitor(request);
    if (!who.user) return refuse_page(request, response, Refusal{401, {}});
    auto id = parse_id(request.matches[1].str());
    auto comment = id ? community.find_comment(*id) : Result<std::optional<store::Comment>>();
    if (!comment) return internal_error(request, response, comment.error(), false);
    if (!*comment || (*comment)->state != store::CommentState::visible)
      return notice(response, 404, "Comment not found", "No such comment.");
    if ((*comment)->author_id != who.user->id)
      return notice(response, 403, "Not allowed", "Only the author can edit this comment.");
    mustache::data data;
    data.set("id", std::to_string((*comment)->id));
    data.set("body", (*comment)->body);
    data.set("paper_url", paper_url((*comment)->paper_id));
    page(response, 200, "Edit comment", render("comment_edit", data));
  }

  void change_comment(const Request& request, Response& response, bool removing, bool api) {
    auto found = comment_for_change(request, removing);
    if (auto* refusal = std::get_if<Refusal>(&found)) {
      if (refusal->status == 500)
        return internal_error(request, response, Error{refusal->message}, api);
      return api ? json_error(response, refusal->status, refusal->message)
                 : refuse_page(request, response, *refusal);
    }
    auto& [who, comment] = std::get<std::pair<Visitor, store::Comment>>(found);
    if (removing) {
      const auto why = comment.author_id == who.user->id
                           ? store::CommentState::deleted_by_author
                           : store::CommentState::removed_by_moderator;
      if (auto removed = community.remove_comment(comment.id, why); !removed)
        return internal_error(request, response, removed.error(), api);
      if (api)
        return send_json(response, 200,
                         json{{"id", comment.id}, {"state", comment_state_name(why)}});
      return response.set_redirect(paper_url(comment.paper_id) + "#comments", 303);
    }
    const std::string body = field(request, "body").value_or("");
    if (auto bad = check_comment(body)) {
      return api ? json_error(response, 400, *bad)
                 : notice(response, 400, "Comment not saved", *bad, paper_url(comment.paper_id),
                          "Back to the paper");
    }
    if (auto edited = community.edit_comment(comment.id, body); !edited)
      return internal_error(request, response, edited.error(), api);
    if (api) {
      auto now_stored = community.find_comment(comment.id);
      if (!now_stored || !*now_stored)
        return internal_error(request, response, Error{"edited comment vanished"}, api);
      return send_json(response, 200, comment_json(**now_stored));
    }
    response.set_redirect(paper_url(comment.paper_id) + "#comment-" + std::to_string(comment.id),
                          303);
  }

  // ---- Collections ----

  // The collection the URL names, if the visitor may see it: public ones to all, private ones
  // only to their owner (anyone else gets 404, as if it did not exist).
  // The URL names the collection, or (for /collections/add) the form's "collection" field.
  std::variant<store::Collection, Refusal> collection_for(const Request& request,
                                                          const Visitor& who, bool changing) {
    auto id = parse_id(request.matches.size() > 1 ? request.matches[1].str()
                                                  : field(request, "collection").value_or(""));
    if (!id) return Refusal{404, "no such collection"};
    auto found = community.find_collection(*id);
    if (!found) return Refusal{500, found.error().message};
    const bool owner = *found && who.user && (*found)->owner_id == who.user->id;
    if (!*found || (!(*found)->is_public && !owner)) return Refusal{404, "no such collection"};
    if (changing && !owner) return Refusal{403, "only the owner can change this collection"};
    return std::move(**found);
  }

  Result<std::vector<std::pair<store::CollectionItem, std::optional<Paper>>>> items_with_papers(
      int64_t collection) {
    auto items = community.collection_items(collection);
    if (!items) return std::unexpected(items.error());
    std::vector<std::pair<store::CollectionItem, std::optional<Paper>>> out;
    for (store::CollectionItem& item : *items) {
      auto paper = papers.find(item.paper_id);
      if (!paper) return std::unexpected(paper.error());
      out.emplace_back(std::move(item), std::move(*paper));
    }
    return out;
  }

  void collections_page(const Request& request, Response& response, int status = 200,
                        const std::string& error = {}) {
    const Visitor who = visitor(request);
    if (!who.user) return refuse_page(request, response, Refusal{401, {}});
    auto mine = community.collections_of(who.user->id);
    if (!mine) return internal_error(request, response, mine.error(), false);
    mustache::data list{mustache::data::type::list};
    for (const store::Collection& collection : *mine) {
      mustache::data entry;
      entry.set("name", collection.name);
      entry.set("url", "/collections/" + std::to_string(collection.id));
      entry.set("count", std::to_string(collection.item_count));
      entry.set("public", collection.is_public);
      if (!collection.description.empty()) entry.set("description", collection.description);
      list.push_back(entry);
    }
    mustache::data data;
    if (!mine->empty()) {
      data.set("collections", list);
      data.set("has_collections", true);
    }
    if (!error.empty()) data.set("error", error);
    page(response, status, "Collections", render("collections", data));
  }

  static std::optional<std::string> check_collection(const std::string& name,
                                                     const std::string& description) {
    if (name.empty() || name.size() > kMaxCollectionNameBytes) return "name: 1 to 100 bytes";
    if (description.size() > kMaxDescriptionBytes) return "description: at most 2000 bytes";
    return std::nullopt;
  }

  void create_collection(const Request& request, Response& response, bool api) {
    auto allowed = writer(request);
    if (auto* refusal = std::get_if<Refusal>(&allowed)) {
      return api ? json_error(response, refusal->status, refusal->message)
                 : refuse_page(request, response, *refusal);
    }
    const Visitor& who = std::get<Visitor>(allowed);
    const std::string name = field(request, "name").value_or("");
    const std::string description = field(request, "description").value_or("");
    const bool is_public = !field(request, "public").value_or("").empty();
    if (auto bad = check_collection(name, description))
      return api ? json_error(response, 400, *bad) : collections_page(request, response, 400, *bad);
    auto created = community.create_collection(who.user->id, name, description, is_public);
    if (!created) return internal_error(request, response, created.error(), api);
    if (api) return send_json(response, 201, collection_json(*created));
    response.set_redirect("/collections/" + std::to_string(created->id), 303);
  }

  void collection_page(const Request& request, Response& response) {
    const Visitor who = visitor(request);
    auto found = collection_for(request, who, false);
    if (auto* refusal = std::get_if<Refusal>(&found)) {
      if (refusal->status == 500)
        return internal_error(request, response, Error{refusal->message}, false);
      return notice(response, refusal->status, "Collection not found", "No such collection.");
    }
    const store::Collection& collection = std::get<store::Collection>(found);
    auto items = items_with_papers(collection.id);
    if (!items) return internal_error(request, response, items.error(), false);
    const bool owner = who.user && who.user->id == collection.owner_id;
    mustache::data list{mustache::data::type::list};
    for (const auto& [item, paper] : *items) {
      if (!owner && paper && is_hidden(paper_id(*paper))) continue;
      mustache::data entry;
      entry.set("position", std::to_string(item.position));
      entry.set("paper_id", item.paper_id);
      entry.set("title", paper ? paper->title : item.title);
      entry.set("url", paper_url(item.paper_id));
      if (paper) {
        entry.set("upvotes", std::to_string(paper->upvotes));
        const std::string authors = authors_line(*paper, 3);
        if (!authors.empty()) entry.set("authors", authors);
      }
      if (!item.note.empty()) entry.set("note", item.note);
      entry.set("note_value", item.note);
      entry.set("up", std::to_string(std::max<int64_t>(1, item.position - 1)));
      entry.set("down", std::to_string(item.position + 1));
      entry.set("owner", owner);
      list.push_back(entry);
    }
    mustache::data data;
    data.set("id", std::to_string(collection.id));
    data.set("name", collection.name);
    data.set("owner_name", collection.owner_name);
    if (!collection.description.empty()) data.set("description", collection.description);
    data.set("public", collection.is_public);
    data.set("owner", owner);
    data.set("count", std::to_string(items->size()));
    if (!items->empty()) data.set("items", list);
    page(response, 200, collection.name, render("collection", data));
  }

  void api_collection(const Request& request, Response& response) {
    const Visitor who = visitor(request);
    auto found = collection_for(request, who, false);
    if (auto* refusal = std::get_if<Refusal>(&found)) {
      if (refusal->status == 500)
        return internal_error(request, response, Error{refusal->message}, true);
      return json_error(response, refusal->status, refusal->message);
    }
    const store::Collection& collection = std::get<store::Collection>(found);
    auto items = items_with_papers(collection.id);
    if (!items) return internal_error(request, response, items.error(), true);
    json body = collection_json(collection);
    json list = json::array();
    for (const auto& [item, paper] : *items) {
      list.push_back(json{{"paper", item.paper_id},
                          {"title", paper ? paper->title : item.title},
                          {"note", item.note},
                          {"position", item.position},
                          {"upvotes", paper ? json(paper->upvotes) : json(nullptr)}});
    }
    body["items"] = std::move(list);
    send_json(response, 200, body);
  }

  void my_collections(const Request& request, Response& response) {
    const Visitor who = visitor(request);
    if (!who.user) return json_error(response, 401, "sign in first");
    auto mine = community.collections_of(who.user->id);
    if (!mine) return internal_error(request, response, mine.error(), true);
    json list = json::array();
    for (const store::Collection& collection : *mine) list.push_back(collection_json(collection));
    send_json(response, 200, list);
  }

  enum class CollectionChange { add_item, remove_item, move_item, edit, remove };

  void change_collection(const Request& request, Response& response, CollectionChange change,
                         bool api) {
    auto allowed = writer(request);
    if (auto* refusal = std::get_if<Refusal>(&allowed)) {
      return api ? json_error(response, refusal->status, refusal->message)
                 : refuse_page(request, response, *refusal);
    }
    const Visitor& who = std::get<Visitor>(allowed);
    auto found = collection_for(request, who, true);
    if (auto* refusal = std::get_if<Refusal>(&found)) {
      if (refusal->status == 500)
        return internal_error(request, response, Error{refusal->message}, api);
      return api ? json_error(response, refusal->status, refusal->message)
                 : notice(response, refusal->status,
                          refusal->status == 404 ? "Collection not found" : "Not allowed",
                          refusal->message);
    }
    const store::Collection& collection = std::get<store::Collection>(found);
    const std::string back = "/collections/" + std::to_string(collection.id);
    auto bad_request = [&](const std::string& message) {
      return api ? json_error(response, 400, message)
                 : notice(response, 400, "Not saved", message, back, "Back to the collection");
    };
    Result<void> done;
    if (change == CollectionChange::edit) {
      const std::string name = field(request, "name").value_or(collection.name);
      const std::string description = field(request, "description").value_or("");
      if (auto bad = check_collection(name, description)) return bad_request(*bad);
      done = community.update_collection(collection.id, name, description,
                                         !field(request, "public").value_or("").empty());
    } else if (change == CollectionChange::remove) {
      done = community.delete_collection(collection.id);
    } else {
      const std::string wanted = field(request, "paper").value_or("");
      auto paper = visible_paper(wanted, who);
      if (std::holds_alternative<Refusal>(paper))
        return bad_request("paper: '" + wanted + "' is not in the store");
      const std::string id = paper_id(std::get<Paper>(paper));
      if (change == CollectionChange::add_item) {
        const std::string note = field(request, "note").value_or("");
        if (note.size() > kMaxNoteBytes) return bad_request("note: at most 2000 bytes");
        done = community.put_in_collection(collection.id, id, note);
      } else if (change == CollectionChange::remove_item) {
        auto removed = community.remove_from_collection(collection.id, id);
        if (!removed) done = std::unexpected(removed.error());
      } else {
        auto position = parse_id(field(request, "position").value_or(""));
        if (!position) return bad_request("position: a number from 1");
        done = community.move_in_collection(collection.id, id, *position);
      }
    }
    if (!done) return internal_error(request, response, done.error(), api);
    if (api) {
      if (change == CollectionChange::remove)
        return send_json(response, 200, json{{"deleted", collection.id}});
      return api_collection(request, response);
    }
    response.set_redirect(change == CollectionChange::remove ? "/collections" : back, 303);
  }

  // ---- Submissions ----

  void submit_page(const Request& request, Response& response, int status = 200,
                   const std::string& error = {}, const std::string& message = {},
                   const std::string& link = {}) {
    const Visitor who = visitor(request);
    if (!who.user) return refuse_page(request, response, Refusal{401, {}});
    mustache::data data;
    if (!error.empty()) data.set("error", error);
    if (!message.empty()) data.set("message", message);
    if (!link.empty()) data.set("link", link);
    page(response, status, "Submit a paper", render("submit", data));
  }

  void submit(const Request& request, Response& response, bool api) {
    auto allowed = writer(request);
    if (auto* refusal = std::get_if<Refusal>(&allowed)) {
      return api ? json_error(response, refusal->status, refusal->message)
                 : refuse_page(request, response, *refusal);
    }
    const Visitor& who = std::get<Visitor>(allowed);
    const std::string text = field(request, "paper").value_or("");
    auto id = submitted_id(text);
    if (!id) {
      const std::string message =
          "paper: expected an arXiv id or URL such as 2312.00752 or "
          "https://arxiv.org/abs/2312.00752, got '" +
          text + "'";
      return api ? json_error(response, 400, message)
                 : submit_page(request, response, 400, message);
    }
    auto stored = papers.find(id->id);
    if (!stored) return internal_error(request, response, stored.error(), api);
    if (!*stored) {
      auto recorded = community.record_submission(id->id, who.user->id, true);
      if (!recorded) return internal_error(request, response, recorded.error(), api);
      const std::string message = id->id +
                                  " is not in the store yet. It is queued for fetching and will "
                                  "enter the feed once the next sync brings it in.";
      if (api)
        return send_json(response, 202,
                         json{{"paper", id->id}, {"status", "queued"}, {"message", message}});
      return submit_page(request, response, 202, {}, message);
    }
    Paper entry;
    entry.arxiv_id = id->id;
    entry.feed_day = format_date(today());
    entry.submitted_at = format_instant(now());
    entry.submitted_by = who.user->name;
    if (auto begun = papers.begin_batch(); !begun)
      return internal_error(request, response, begun.error(), api);
    auto upserted = papers.upsert(entry);
    if (!upserted) {
      papers.rollback_batch();
      return internal_error(request, response, upserted.error(), api);
    }
    if (auto committed = papers.commit_batch(); !committed)
      return internal_error(request, response, committed.error(), api);
    auto recorded = community.record_submission(id->id, who.user->id, false);
    if (!recorded) return internal_error(request, response, recorded.error(), api);
    auto now_stored = papers.find(id->id);
    if (!now_stored || !*now_stored)
      return internal_error(request, response, Error{"submitted paper vanished"}, api);
    const Paper& paper = **now_stored;
    const bool entered = paper.feed_day == entry.feed_day;
    const std::string message =
        entered
            ? "\"" + paper.title + "\" is in today's feed, submitted by " + paper.submitted_by + "."
            : "\"" + paper.title + "\" was already in the feed on " + paper.feed_day + ".";
    if (api) {
      return send_json(response, 201,
                       json{{"paper", id->id},
                            {"status", entered ? "in_feed" : "already_in_feed"},
                            {"feed_day", paper.feed_day},
                            {"submitted_by", paper.submitted_by},
                            {"message", message}});
    }
    submit_page(request, response, 201, {}, message, paper_url(id->id));
  }

  // ---- Moderation ----

  bool is_hidden(std::string_view id) {
    std::shared_lock lock(hidden_mutex);
    return hidden_ids.contains(id);
  }

  void admin_page(const Request& request, Response& response) {
    const Visitor who = visitor(request);
    if (!who.user) return refuse_page(request, response, Refusal{401, {}});
    if (!who.moderator())
      return notice(response, 403, "Not allowed", "Moderation is for moderators and admins.");
    auto users = community.users();
    auto submissions = community.recent_submissions(kAdminListLength);
    auto queue = community.fetch_queue();
    for (const Error* error :
         {users ? nullptr : &users.error(), submissions ? nullptr : &submissions.error(),
          queue ? nullptr : &queue.error()}) {
      if (error) return internal_error(request, response, *error, false);
    }
    mustache::data user_list{mustache::data::type::list};
    for (const store::User& user : *users) {
      mustache::data entry;
      entry.set("name", user.name);
      entry.set("role", store::role_name(user.role));
      entry.set("banned", user.banned);
      entry.set("can_ban",
                user.id != who.user->id && (who.admin() || user.role == store::Role::user));
      mustache::data roles{mustache::data::type::list};
      for (store::Role role : {store::Role::user, store::Role::moderator, store::Role::admin}) {
        mustache::data option;
        option.set("value", store::role_name(role));
        option.set("selected", role == user.role);
        roles.push_back(option);
      }
      entry.set("roles", roles);
      entry.set("can_set_role", who.admin() && user.id != who.user->id);
      user_list.push_back(entry);
    }
    mustache::data hidden{mustache::data::type::list};
    {
      std::shared_lock lock(hidden_mutex);
      for (const std::string& id : hidden_ids) {
        mustache::data entry;
        entry.set("id", id);
        entry.set("url", paper_url(id));
        hidden.push_back(entry);
      }
    }
    mustache::data submitted{mustache::data::type::list};
    for (const store::Submission& submission : *submissions) {
      mustache::data entry;
      entry.set("id", submission.arxiv_id);
      entry.set("url", paper_url(submission.arxiv_id));
      entry.set("by", submission.user_name.empty() ? "(removed account)" : submission.user_name);
      entry.set("at", format_instant(submission.submitted_at));
      entry.set("queued", submission.queued);
      submitted.push_back(entry);
    }
    mustache::data queued{mustache::data::type::list};
    for (const store::FetchRequest& wanted : *queue) {
      mustache::data entry;
      entry.set("id", wanted.arxiv_id);
      entry.set("by", wanted.requested_by);
      entry.set("at", format_instant(wanted.requested_at));
      queued.push_back(entry);
    }
    mustache::data data;
    data.set("users", user_list);
    // Each list comes with a flag: a section named after a list repeats once per item.
    for (auto [name, list] : {std::pair{"hidden", &hidden}, std::pair{"submissions", &submitted},
                              std::pair{"queue", &queued}}) {
      if (list->is_empty_list()) continue;
      data.set(name, *list);
      data.set(std::string("has_") + name, true);
    }
    page(response, 200, "Moderation", render("admin", data));
  }

  enum class UserAction { ban, unban, set_role };

  void moderate_user(const Request& request, Response& response, UserAction action) {
    auto allowed = writer(request);
    if (auto* refusal = std::get_if<Refusal>(&allowed))
      return refuse_page(request, response, *refusal);
    const Visitor& who = std::get<Visitor>(allowed);
    if (!who.moderator())
      return notice(response, 403, "Not allowed", "Moderation is for moderators and admins.");
    auto target = community.find_user(request.matches[1].str());
    if (!target) return internal_error(request, response, target.error(), false);
    if (!*target)
      return notice(response, 404, "User not found", "No such user.", "/admin",
                    "Back to moderation");
    if ((*target)->id == who.user->id)
      return notice(response, 403, "Not allowed", "You cannot moderate your own account.", "/admin",
                    "Back to moderation");
    Result<void> done;
    if (action == UserAction::set_role) {
      if (!who.admin())
        return notice(response, 403, "Not allowed", "Only admins change roles.", "/admin",
                      "Back to moderation");
      auto role = store::parse_role(field(request, "role").value_or(""));
      if (!role)
        return notice(response, 400, "Not saved", "role: user, moderator or admin", "/admin",
                      "Back to moderation");
      done = community.set_role((*target)->id, *role);
    } else {
      if (!who.admin() && (*target)->role != store::Role::user)
        return notice(response, 403, "Not allowed", "Only admins ban moderators and admins.",
                      "/admin", "Back to moderation");
      done = community.set_banned((*target)->id, action == UserAction::ban);
    }
    if (!done) return internal_error(request, response, done.error(), false);
    response.set_redirect("/admin", 303);
  }

  void moderate_paper(const Request& request, Response& response, bool hide) {
    auto allowed = writer(request);
    if (auto* refusal = std::get_if<Refusal>(&allowed))
      return refuse_page(request, response, *refusal);
    const Visitor& who = std::get<Visitor>(allowed);
    if (!who.moderator())
      return notice(response, 403, "Not allowed", "Moderation is for moderators and admins.");
    const std::string wanted = field(request, "paper").value_or("");
    auto found = papers.find(wanted);
    if (!found) return internal_error(request, response, found.error(), false);
    if (!*found)
      return notice(response, 404, "Paper not found", "No paper '" + wanted + "' is in the store.",
                    "/admin", "Back to moderation");
    const std::string id = paper_id(**found);
    if (auto done = community.set_paper_hidden(id, hide); !done)
      return internal_error(request, response, done.error(), false);
    {
      std::unique_lock lock(hidden_mutex);
      if (hide) {
        hidden_ids.insert(id);
      } else {
        hidden_ids.erase(id);
      }
    }
    response.set_redirect("/admin", 303);
  }

  // ---- The paper page ----

  std::string paper_section(const Request& request, const Paper& paper) {
    const Visitor who = visitor(request);
    const std::string id = paper_id(paper);
    mustache::data data;
    data.set("paper_url", paper_url(id));
    data.set("signed_in", who.user.has_value());
    data.set("signin_url", "/signin?next=" + url_encode(paper_url(id)));
    data.set("moderator", who.moderator());
    data.set("hidden", is_hidden(id));
    data.set("paper_id", id);
    auto comments = community.comments_on(id);
    if (!comments) {
      spdlog::error("web: comments on {}: {}", id, comments.error().message);
      data.set("comments_unavailable", true);
    } else {
      mustache::data list{mustache::data::type::list};
      size_t visible_count = 0;
      for (const store::Comment& comment : *comments) {
        mustache::data entry;
        entry.set("id", std::to_string(comment.id));
        entry.set("author",
                  comment.author_name.empty() ? "[deleted account]" : comment.author_name);
        entry.set("created_at", format_instant(comment.created_at));
        if (comment.edited_at) entry.set("edited", true);
        if (comment.state == store::CommentState::visible) {
          ++visible_count;
          entry.set("body_html", render_markdown(comment.body));
          const bool author = who.user && who.user->id == comment.author_id;
          entry.set("can_edit", author);
          entry.set("can_delete", author || who.moderator());
        } else {
          entry.set("gone", comment.state == store::CommentState::deleted_by_author
                                ? "This comment was deleted by its author."
                                : "This comment was removed by a moderator.");
        }
        list.push_back(entry);
      }
      if (!comments->empty()) data.set("comments", list);
      data.set("comment_count", std::to_string(visible_count));
    }
    if (who.user) {
      auto mine = community.collections_of(who.user->id);
      if (mine && !mine->empty()) {
        mustache::data options{mustache::data::type::list};
        for (const store::Collection& collection : *mine) {
          mustache::data option;
          option.set("id", std::to_string(collection.id));
          option.set("name", collection.name);
          options.push_back(option);
        }
        data.set("collections", options);
        data.set("has_collections", true);
      }
    }
    return render("paper_community", data);
  }

  // ---- Per-visitor parts of pages ----

  void personalise(const Request& request, Response& response) {
    if (!response.get_header_value("Content-Type").starts_with("text/html")) return;
    std::string& body = response.body;
    const size_t account_at = body.find("<!--account-->");
    if (account_at == std::string::npos) return;
    const Visitor who = visitor(request);
    mustache::data data;
    if (who.user) {
      data.set("name", who.user->name);
      data.set("moderator", who.moderator());
      // Signed-in pages carry a CSRF token and the user's name: never cache them in between.
      response.set_header("Cache-Control", "private, no-store");
    }
    data.set("next", url_encode(request.path));
    data.set("csrf", who.csrf);
    body.replace(account_at, std::string_view("<!--account-->").size(),
                 render("account_nav", data));
    const std::string token = markup_escaped(who.user ? who.csrf : std::string());
    static constexpr std::string_view kCsrfMarker = "<!--csrf-->";
    for (size_t at = body.find(kCsrfMarker); at != std::string::npos;
         at = body.find(kCsrfMarker, at + token.size())) {
      body.replace(at, kCsrfMarker.size(), token);
    }
    if (who.user && !who.by_api_token) mark_new_papers(*who.user, body);
  }

  // Turns each card's <!--new:SECONDS--> (when the paper entered the feed) into a "new" badge
  // when that is after the user's previous visit, and records this visit.
  void mark_new_papers(const store::User& user, std::string& body) {
    auto since = community.record_visit(user.id, now(), kVisitGap);
    if (!since) {
      spdlog::error("web: recording a visit of {}: {}", user.name, since.error().message);
      return;
    }
    static constexpr std::string_view kMarker = "<!--new:";
    static constexpr std::string_view kBadge = " <span class=\"badge-new\">new</span>";
    for (size_t at = body.find(kMarker); at != std::string::npos; at = body.find(kMarker, at)) {
      const size_t end = body.find("-->", at);
      if (end == std::string::npos) break;
      int64_t entered = 0;
      const char* first = body.data() + at + kMarker.size();
      const auto parsed = std::from_chars(first, body.data() + end, entered);
      const bool fresh = parsed.ec == std::errc() && *since &&
                         sys_seconds{std::chrono::seconds{entered}} > **since;
      body.replace(at, end + 3 - at, fresh ? kBadge : std::string_view());
      if (fresh) at += kBadge.size();
    }
  }

  void install(httplib::Server& server) {
    using R = const Request&;
    using W = Response&;
    // Every answer of these routes gets the visitor's part of its page (a no-op for JSON).
    struct Routes {
      Impl* impl;
      httplib::Server& server;
      void Get(const std::string& pattern, httplib::Server::Handler handler) {
        server.Get(pattern, finished(std::move(handler)));
      }
      void Post(const std::string& pattern, httplib::Server::Handler handler) {
        server.Post(pattern, finished(std::move(handler)));
      }
      void Patch(const std::string& pattern, httplib::Server::Handler handler) {
        server.Patch(pattern, std::move(handler));
      }
      void Delete(const std::string& pattern, httplib::Server::Handler handler) {
        server.Delete(pattern, std::move(handler));
      }
      httplib::Server::Handler finished(httplib::Server::Handler handler) {
        return [impl = impl, handler = std::move(handler)](R request, W response) {
          handler(request, response);
          impl->personalise(request, response);
        };
      }
    } http{this, server};
    http.Get("/signin", [this](R q, W r) { signin_page(q, r); });
    http.Post("/signin", [this](R q, W r) { signin(q, r); });
    http.Get("/signup", [this](R q, W r) { signup_page(q, r); });
    http.Post("/signup", [this](R q, W r) { signup(q, r); });
    http.Post("/signout", [this](R q, W r) { signout(q, r); });
    http.Get("/settings", [this](R q, W r) { settings_page(q, r); });
    http.Post("/settings/password", [this](R q, W r) { change_password(q, r); });
    http.Post("/settings/tokens", [this](R q, W r) { create_api_token(q, r); });

    http.Post(R"(/papers/(.+)/upvote)", [this](R q, W r) { upvote(q, r, false); });
    http.Post(R"(/papers/(.+)/comments)", [this](R q, W r) { add_comment(q, r, false); });
    http.Get(R"(/comments/(\d+)/edit)", [this](R q, W r) { edit_comment_page(q, r); });
    http.Post(R"(/comments/(\d+)/edit)", [this](R q, W r) { change_comment(q, r, false, false); });
    http.Post(R"(/comments/(\d+)/delete)", [this](R q, W r) { change_comment(q, r, true, false); });

    http.Get("/collections", [this](R q, W r) { collections_page(q, r); });
    http.Post("/collections", [this](R q, W r) { create_collection(q, r, false); });
    http.Get(R"(/collections/(\d+))", [this](R q, W r) { collection_page(q, r); });
    http.Post("/collections/add",
              [this](R q, W r) { change_collection(q, r, CollectionChange::add_item, false); });
    http.Post(R"(/collections/(\d+)/items)",
              [this](R q, W r) { change_collection(q, r, CollectionChange::add_item, false); });
    http.Post(R"(/collections/(\d+)/items/remove)",
              [this](R q, W r) { change_collection(q, r, CollectionChange::remove_item, false); });
    http.Post(R"(/collections/(\d+)/items/move)",
              [this](R q, W r) { change_collection(q, r, CollectionChange::move_item, false); });
    http.Post(R"(/collections/(\d+)/edit)",
              [this](R q, W r) { change_collection(q, r, CollectionChange::edit, false); });
    http.Post(R"(/collections/(\d+)/delete)",
              [this](R q, W r) { change_collection(q, r, CollectionChange::remove, false); });

    http.Get("/submit", [this](R q, W r) { submit_page(q, r); });
    http.Post("/submit", [this](R q, W r) { submit(q, r, false); });

    http.Get("/admin", [this](R q, W r) { admin_page(q, r); });
    http.Post(R"(/admin/users/([A-Za-z0-9_-]+)/ban)",
              [this](R q, W r) { moderate_user(q, r, UserAction::ban); });
    http.Post(R"(/admin/users/([A-Za-z0-9_-]+)/unban)",
              [this](R q, W r) { moderate_user(q, r, UserAction::unban); });
    http.Post(R"(/admin/users/([A-Za-z0-9_-]+)/role)",
              [this](R q, W r) { moderate_user(q, r, UserAction::set_role); });
    http.Post("/admin/papers/hide", [this](R q, W r) { moderate_paper(q, r, true); });
    http.Post("/admin/papers/show", [this](R q, W r) { moderate_paper(q, r, false); });

    http.Get("/api/me", [this](R q, W r) { me(q, r); });
    http.Get("/api/me/votes", [this](R q, W r) { my_votes(q, r); });
    http.Get("/api/me/collections", [this](R q, W r) { my_collections(q, r); });
    http.Post(R"(/api/papers/(.+)/upvote)", [this](R q, W r) { upvote(q, r, true); });
    http.Get(R"(/api/papers/(.+)/comments)", [this](R q, W r) { paper_comments(q, r); });
    http.Post(R"(/api/papers/(.+)/comments)", [this](R q, W r) { add_comment(q, r, true); });
    http.Patch(R"(/api/comments/(\d+))", [this](R q, W r) { change_comment(q, r, false, true); });
    http.Delete(R"(/api/comments/(\d+))", [this](R q, W r) { change_comment(q, r, true, true); });
    http.Post("/api/collections", [this](R q, W r) { create_collection(q, r, true); });
    http.Get(R"(/api/collections/(\d+))", [this](R q, W r) { api_collection(q, r); });
    http.Patch(R"(/api/collections/(\d+))",
               [this](R q, W r) { change_collection(q, r, CollectionChange::edit, true); });
    http.Delete(R"(/api/collections/(\d+))",
                [this](R q, W r) { change_collection(q, r, CollectionChange::remove, true); });
    http.Post(R"(/api/collections/(\d+)/items)",
              [this](R q, W r) { change_collection(q, r, CollectionChange::add_item, true); });
    http.Post(R"(/api/collections/(\d+)/items/remove)",
              [this](R q, W r) { change_collection(q, r, CollectionChange::remove_item, true); });
    http.Post(R"(/api/collections/(\d+)/items/move)",
              [this](R q, W r) { change_collection(q, r, CollectionChange::move_item, true); });
    http.Post("/api/submit", [this](R q, W r) { submit(q, r, true); });
  }
};

Result<std::unique_ptr<CommunityRoutes>> CommunityRoutes::create(store::Store& papers,
                                                                 store::CommunityStore& community,
                                                                 const Pages& pages) {
  auto templates = load_templates();
  if (!templates) return std::unexpected(templates.error());
  auto hidden = community.hidden_papers();
  if (!hidden) return std::unexpected(hidden.error());
  return std::unique_ptr<CommunityRoutes>(new CommunityRoutes(
      std::make_unique<Impl>(papers, community, pages, std::move(*templates), std::move(*hidden))));
}

CommunityRoutes::CommunityRoutes(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

CommunityRoutes::~CommunityRoutes() = default;

void CommunityRoutes::install(httplib::Server& http) { impl_->install(http); }

void CommunityRoutes::personalise(const Request& request, Response& response) {
  impl_->personalise(request, response);
}

std::string CommunityRoutes::paper_section(const Request& request, const Paper& paper) {
  return impl_->paper_section(request, paper);
}

bool CommunityRoutes::visible(const Request& request, const Paper& paper) {
  if (!impl_->is_hidden(paper_id(paper))) return true;
  return impl_->visitor(request).moderator();
}

bool CommunityRoutes::hidden(std::string_view paper_id) { return impl_->is_hidden(paper_id); }

Result<std::optional<CommunityRoutes::ReadableCollection>> CommunityRoutes::readable_collection(
    const Request& request, int64_t id) {
  const Visitor who = impl_->visitor(request);
  auto found = impl_->community.find_collection(id);
  if (!found) return std::unexpected(found.error());
  const bool owner = *found && who.user && (*found)->owner_id == who.user->id;
  if (!*found || (!(*found)->is_public && !owner)) return std::nullopt;
  auto items = impl_->items_with_papers(id);
  if (!items) return std::unexpected(items.error());
  ReadableCollection readable{std::move(**found), {}};
  for (auto& [item, paper] : *items) {
    if (!paper || (!owner && impl_->is_hidden(paper_id(*paper)))) continue;
    readable.papers.push_back(std::move(*paper));
  }
  return readable;
}

std::optional<store::User> CommunityRoutes::signed_in(const Request& request) {
  return impl_->visitor(request).user;
}

void CommunityRoutes::drop_hidden(std::vector<Paper>& papers) {
  std::shared_lock lock(impl_->hidden_mutex);
  if (impl_->hidden_ids.empty()) return;
  std::erase_if(papers,
                [&](const Paper& paper) { return impl_->hidden_ids.contains(paper_id(paper)); });
}

}  // namespace paperboy::web
