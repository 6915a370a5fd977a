// JSON reading shared by the JSON importers: error messages naming the field, simdjson DOM
// helpers, and the JSON Lines loop.
#pragma once

#include <simdjson.h>

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/paper.h"
#include "core/result.h"
#include "ingest/importers.h"
#include "ingest/input.h"

namespace paperboy::ingest {

// The DOM API: it validates each whole line (a syntax error in a field nobody reads still
// rejects the line) and picks the fastest SIMD kernels for the CPU at run time.
namespace dom = simdjson::dom;

static_assert(LineReader::kPadding >= simdjson::SIMDJSON_PADDING);

inline Error json_error(simdjson::error_code code, std::string_view field) {
  switch (code) {
    case simdjson::UTF8_ERROR:
      return Error{"not valid UTF-8"};
    case simdjson::INCORRECT_TYPE:
    case simdjson::NUMBER_ERROR:
    case simdjson::NUMBER_OUT_OF_RANGE:
      return Error{"field \"" + std::string(field) + "\" has the wrong type (" +
                   simdjson::error_message(code) + ")"};
    default:
      break;
  }
  std::string message = "invalid JSON";
  if (!field.empty()) message += " in field \"" + std::string(field) + "\"";
  return Error{message + ": " + simdjson::error_message(code)};
}

// A string or null (as ""). The view lives as long as the parsed document.
inline Result<std::string_view> json_string(dom::element value, std::string_view field) {
  if (value.is_null()) return std::string_view();
  std::string_view text;
  if (auto error = value.get_string().get(text)) return std::unexpected(json_error(error, field));
  return text;
}

// An integer or null (as 0).
inline Result<int64_t> json_integer(dom::element value, std::string_view field) {
  if (value.is_null()) return int64_t{0};
  int64_t number = 0;
  if (auto error = value.get_int64().get(number)) return std::unexpected(json_error(error, field));
  return number;
}

// An array of strings (or null) appended to `out`, each passed through `transform`; empty
// results are dropped.
template <class Transform>
Result<void> json_string_array(dom::element value, std::string_view field,
                               std::vector<std::string>& out, Transform&& transform) {
  if (value.is_null()) return {};
  dom::array array;
  if (auto error = value.get_array().get(array)) return std::unexpected(json_error(error, field));
  for (dom::element element : array) {
    std::string_view text;
    if (auto error = element.get_string().get(text)) {
      return std::unexpected(json_error(error, field));
    }
    std::string item = transform(text);
    if (!item.empty()) out.push_back(std::move(item));
  }
  return {};
}

// Reads a JSON Lines file: every non-blank line must be one object, which `parse_record`
// (Result<void>(dom::object, Paper&)) turns into a paper. Bad lines are rejected, the rest read.
template <class ParseRecord>
Result<void> import_json_lines(const ImportContext& context, ParseRecord&& parse_record) {
  auto input = context.open();
  if (!input) return std::unexpected(input.error());
  LineReader lines(*input, context.options.max_record_bytes);
  dom::parser parser;
  for (;;) {
    auto next = lines.next();
    if (!next) return std::unexpected(next.error());
    if (!*next) return {};
    const LineReader::Line& line = **next;
    if (line.too_long) {
      context.reject(line.number,
                     "record of " + std::to_string(line.length) + " bytes is over the limit of " +
                         std::to_string(context.options.max_record_bytes) + " bytes; skipped");
      continue;
    }
    if (line.text.find_first_not_of(" \t\r") == std::string_view::npos) continue;

    // The line sits in LineReader's buffer with kPadding readable bytes after it.
    dom::element root;
    if (auto error = parser.parse(line.text.data(), line.text.size(), false).get(root)) {
      context.reject(line.number, json_error(error, "").message);
      continue;
    }
    dom::object object;
    if (root.get_object().get(object)) {
      context.reject(line.number, "not a JSON object");
      continue;
    }
    Paper paper;
    if (auto parsed = parse_record(object, paper); !parsed) {
      context.reject(line.number, parsed.error().message);
      continue;
    }
    if (auto delivered = context.deliver(std::move(paper)); !delivered) return delivered;
  }
}

}  // namespace paperboy::ingest
