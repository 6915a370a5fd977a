// Papers as JSON in the shapes of Hugging Face's API (huggingface.co/api/daily_papers and
// /api/papers/{id}), so HF clients can read paperboy unchanged. docs/api.md lists the fields.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

#include "core/paper.h"

namespace paperboy::web {

// HF's timestamp format, "2025-05-30T17:59:01.000Z", from a stored ISO date or instant (keeping
// its milliseconds); empty when the text holds no date.
std::string hf_timestamp(std::string_view date_or_instant);

// The `paper` object of /api/papers/{id}.
nlohmann::json hf_paper(const Paper& paper);

// One element of /api/daily_papers: {paper, publishedAt, title, summary, numComments, ...}.
nlohmann::json hf_daily_entry(const Paper& paper);

}  // namespace paperboy::web
