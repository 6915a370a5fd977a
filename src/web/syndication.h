// RSS 2.0 and Atom (RFC 4287) documents for paper lists, built with pugixml so that every title,
// abstract and author name is escaped and the documents are always well-formed XML.
#pragma once

#include <chrono>
#include <string>
#include <vector>

#include "core/paper.h"

namespace paperboy::web {

struct Syndication {
  std::string title;      // "Daily papers · paperboy"
  std::string base_url;   // "http://example.org:8080": feed readers need absolute links
  std::string page_path;  // the HTML page the feed follows, "/date/2025-06-02"
  std::string self_path;  // the feed's own address, with its query
  std::vector<Paper> papers;
};

// "2025-06-02T03:18:21Z" (RFC 3339, Atom) and "Mon, 02 Jun 2025 03:18:21 +0000" (RFC 822, RSS).
std::string rfc3339(std::chrono::sys_seconds instant);
std::string rfc822(std::chrono::sys_seconds instant);

// When a paper entered the feed, else its publication day; `fallback` when neither is known.
std::chrono::sys_seconds paper_time(const Paper& paper, std::chrono::sys_seconds fallback);

// `now` dates an empty feed and papers without dates.
std::string atom_feed(const Syndication& feed, std::chrono::sys_seconds now);
std::string rss_feed(const Syndication& feed, std::chrono::sys_seconds now);

}  // namespace paperboy::web
