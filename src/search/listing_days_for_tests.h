// Real arXiv listings (cs.CV/cs.CL) of three days from the shared data, for the search tests:
// each paper with its listing's id, title, abstract, authors and categories; each test adds the
// dates and upvotes it needs.
#pragma once

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>
#include <utility>
#include <vector>

#include "core/paper.h"

namespace paperboy::search {

// Days in listing order; a day whose file is missing comes back empty (the caller's size checks
// then fail and name it).
inline std::vector<std::pair<std::string, std::vector<Paper>>> listing_days_for_tests() {
  std::vector<std::pair<std::string, std::vector<Paper>>> days;
  const std::filesystem::path data =
      std::filesystem::path(PAPERBOY_SHARED_DATA_DIR) / "arxiv-daily-cs";
  for (const char* day : {"2025-03-19", "2025-03-21", "2025-03-24"}) {
    days.emplace_back(day, std::vector<Paper>{});
    std::ifstream in(data / (std::string(day) + ".jsonl"));
    std::string line;
    while (std::getline(in, line)) {
      auto record = nlohmann::json::parse(line);
      Paper& paper = days.back().second.emplace_back();
      paper.arxiv_id = record["id"];
      paper.title = record["title"];
      paper.abstract = record["summary"];
      paper.authors = record["authors"].get<std::vector<std::string>>();
      paper.categories = record["categories"].get<std::vector<std::string>>();
    }
  }
  return days;
}

}  // namespace paperboy::search
