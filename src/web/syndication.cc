#include "web/syndication.h"

#include <fmt/format.h>

#include <algorithm>
#include <pugixml.hpp>
#include <sstream>

#include "core/date.h"
#include "store/store.h"
#include "text/analyzer.h"
#include "web/pages.h"

namespace paperboy::web {

namespace {

using std::chrono::sys_seconds;

// XML 1.0 forbids most control characters even escaped; stored text may hold them.
std::string xml_text(std::string_view text) { return text::sanitize_utf8(text); }

void add_text(pugi::xml_node parent, const char* name, std::string_view value) {
  parent.append_child(name).text().set(xml_text(value).c_str());
}

std::string serialised(const pugi::xml_document& document) {
  std::ostringstream out;
  document.save(out, "  ", pugi::format_default, pugi::encoding_utf8);
  return out.str();
}

pugi::xml_document with_declaration() {
  pugi::xml_document document;
  pugi::xml_node declaration = document.append_child(pugi::node_declaration);
  declaration.append_attribute("version") = "1.0";
  declaration.append_attribute("encoding") = "UTF-8";
  return document;
}

sys_seconds newest(const Syndication& feed, sys_seconds now) {
  std::optional<sys_seconds> newest;
  for (const Paper& paper : feed.papers) {
    const sys_seconds at = paper_time(paper, now);
    if (!newest || at > *newest) newest = at;
  }
  return newest.value_or(now);
}

}  // namespace

std::string rfc3339(sys_seconds instant) { return format_instant(instant); }

std::string rfc822(sys_seconds instant) {
  static constexpr const char* kDays[] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
  static constexpr const char* kMonths[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                            "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
  const auto day = std::chrono::floor<std::chrono::days>(instant);
  const std::chrono::year_month_day ymd{day};
  const std::chrono::hh_mm_ss time{instant - day};
  return fmt::format("{}, {:02} {} {:04} {:02}:{:02}:{:02} +0000",
                     kDays[std::chrono::weekday{day}.c_encoding()],
                     static_cast<unsigned>(ymd.day()),
                     kMonths[static_cast<unsigned>(ymd.month()) - 1], static_cast<int>(ymd.year()),
                     time.hours().count(), time.minutes().count(), time.seconds().count());
}

sys_seconds paper_time(const Paper& paper, sys_seconds fallback) {
  return store::entered_feed_at(paper).value_or(fallback);
}

std::string atom_feed(const Syndication& feed, sys_seconds now) {
  pugi::xml_document document = with_declaration();
  pugi::xml_node root = document.append_child("feed");
  root.append_attribute("xmlns") = "http://www.w3.org/2005/Atom";
  add_text(root, "title", feed.title);
  add_text(root, "id", feed.base_url + feed.self_path);
  add_text(root, "updated", rfc3339(newest(feed, now)));
  add_text(root, "generator", "paperboy");
  pugi::xml_node self = root.append_child("link");
  self.append_attribute("rel") = "self";
  self.append_attribute("type") = "application/atom+xml";
  self.append_attribute("href") = xml_text(feed.base_url + feed.self_path).c_str();
  pugi::xml_node page = root.append_child("link");
  page.append_attribute("rel") = "alternate";
  page.append_attribute("type") = "text/html";
  page.append_attribute("href") = xml_text(feed.base_url + feed.page_path).c_str();
  for (const Paper& paper : feed.papers) {
    const std::string url = feed.base_url + paper_path(paper);
    pugi::xml_node entry = root.append_child("entry");
    add_text(entry, "title", paper.title);
    add_text(entry, "id", url);
    pugi::xml_node link = entry.append_child("link");
    link.append_attribute("rel") = "alternate";
    link.append_attribute("type") = "text/html";
    link.append_attribute("href") = xml_text(url).c_str();
    add_text(entry, "updated", rfc3339(paper_time(paper, now)));
    if (auto published = parse_date(paper.published)) {
      add_text(entry, "published", rfc3339(sys_seconds{*published}));
    }
    for (const std::string& name : paper.authors) {
      add_text(entry.append_child("author"), "name", name);
    }
    for (const std::string& category : paper.categories) {
      entry.append_child("category").append_attribute("term") = xml_text(category).c_str();
    }
    const std::string& summary = paper.abstract.empty() ? paper.ai_summary : paper.abstract;
    if (!summary.empty()) {
      pugi::xml_node node = entry.append_child("summary");
      node.append_attribute("type") = "text";
      node.text().set(xml_text(summary).c_str());
    }
  }
  return serialised(document);
}

std::string rss_feed(const Syndication& feed, sys_seconds now) {
  pugi::xml_document document = with_declaration();
  pugi::xml_node root = document.append_child("rss");
  root.append_attribute("version") = "2.0";
  root.append_attribute("xmlns:atom") = "http://www.w3.org/2005/Atom";
  root.append_attribute("xmlns:dc") = "http://purl.org/dc/elements/1.1/";
  pugi::xml_node channel = root.append_child("channel");
  add_text(channel, "title", feed.title);
  add_text(channel, "link", feed.base_url + feed.page_path);
  add_text(channel, "description", feed.title + ", from paperboy");
  add_text(channel, "lastBuildDate", rfc822(newest(feed, now)));
  add_text(channel, "generator", "paperboy");
  pugi::xml_node self = channel.append_child("atom:link");
  self.append_attribute("rel") = "self";
  self.append_attribute("type") = "application/rss+xml";
  self.append_attribute("href") = xml_text(feed.base_url + feed.self_path).c_str();
  for (const Paper& paper : feed.papers) {
    const std::string url = feed.base_url + paper_path(paper);
    pugi::xml_node item = channel.append_child("item");
    add_text(item, "title", paper.title);
    add_text(item, "link", url);
    pugi::xml_node guid = item.append_child("guid");
    guid.append_attribute("isPermaLink") = "true";
    guid.text().set(xml_text(url).c_str());
    add_text(item, "pubDate", rfc822(paper_time(paper, now)));
    const std::string& summary = paper.abstract.empty() ? paper.ai_summary : paper.abstract;
    if (!summary.empty()) add_text(item, "description", summary);
    for (const std::string& category : paper.categories) add_text(item, "category", category);
    // RSS's own <author> wants an email address; Dublin Core's creator takes a name.
    for (const std::string& name : paper.authors) add_text(item, "dc:creator", name);
  }
  return serialised(document);
}

}  // namespace paperboy::web
