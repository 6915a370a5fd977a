#include "ingest/ingest.h"

#include <array>
#include <utility>

#include "core/date.h"
#include "ingest/importers.h"
#include "ingest/input.h"
#include "ingest/text.h"

namespace paperboy::ingest {

namespace {

// Enough to hold the start of any format's first record.
constexpr size_t kDetectionBytes = size_t{64} << 10;

constexpr std::array<std::pair<Format, std::string_view>, 7> kFormatNames = {{
    {Format::arxiv_snapshot, "arxiv-snapshot"},
    {Format::arxiv_atom, "arxiv-atom"},
    {Format::oai_pmh, "oai-pmh"},
    {Format::hf_daily, "hf-daily"},
    {Format::canonical, "canonical"},
    {Format::page_text, "page-text"},
    {Format::arxiv_listing, "arxiv-listing"},
}};

// True when `"key"` appears as an object key in JSON text (followed by a colon, and not inside
// a string, where its quotes would be escaped).
bool has_json_key(std::string_view json, std::string_view key) {
  // Appended piecewise: GCC 12 at -O3 warns falsely (-Wrestrict) on "literal" + string.
  std::string quoted_key(1, '"');
  quoted_key.append(key).push_back('"');
  for (size_t at = json.find(quoted_key); at != std::string_view::npos;
       at = json.find(quoted_key, at + 1)) {
    if (at > 0 && json[at - 1] == '\\') continue;
    size_t after = at + quoted_key.size();
    while (after < json.size() && (json[after] == ' ' || json[after] == '\t')) ++after;
    if (after < json.size() && json[after] == ':') return true;
  }
  return false;
}

Result<Format> detect_json_lines(std::string_view head, const std::string& file) {
  const std::string_view first_line = head.substr(0, head.find('\n'));
  const size_t last = first_line.find_last_not_of(" \t\r");
  if (last == std::string_view::npos || first_line[last] != '}') {
    // An object spread over several lines is one JSON document, not JSON Lines: the HF wrapper
    // {"status": ..., "data": [...]}.
    if (has_json_key(head, "data") || has_json_key(head, "paper")) return Format::hf_daily;
  }
  if (has_json_key(first_line, "paper") || has_json_key(first_line, "data"))
    return Format::hf_daily;
  if (has_json_key(first_line, "authors_parsed") || has_json_key(first_line, "update_date") ||
      has_json_key(first_line, "versions") || has_json_key(first_line, "submitter"))
    return Format::arxiv_snapshot;
  if (has_json_key(first_line, "arxiv_id") || has_json_key(first_line, "feed_day") ||
      has_json_key(first_line, "author_count"))
    return Format::canonical;
  if (has_json_key(first_line, "summary") &&
      (has_json_key(first_line, "abs") || has_json_key(first_line, "pdf")))
    return Format::arxiv_listing;
  return fail(file +
              ": JSON with fields of no known format (expected an arXiv snapshot, arXiv listing, "
              "canonical or hf-daily record); pass the format explicitly");
}

Result<Format> detect_from_head(std::string_view head, const std::string& file) {
  if (head.starts_with("\xEF\xBB\xBF")) head.remove_prefix(3);
  const size_t start = head.find_first_not_of(" \t\r\n");
  if (start == std::string_view::npos) return fail(file + ": empty file; no format to detect");
  head.remove_prefix(start);
  switch (head.front()) {
    case '<':
      if (head.find("http://www.openarchives.org/OAI/2.0/") != std::string_view::npos ||
          head.find("<OAI-PMH") != std::string_view::npos)
        return Format::oai_pmh;
      if (head.find("http://www.w3.org/2005/Atom") != std::string_view::npos ||
          head.find("<feed") != std::string_view::npos)
        return Format::arxiv_atom;
      return fail(file + ": XML, but neither an Atom feed nor an OAI-PMH response");
    case '[':
      return Format::hf_daily;
    case '{':
      return detect_json_lines(head, file);
    default:
      break;
  }
  if (head.find("Daily Papers") != std::string_view::npos ||
      head.find("\xE2\x80\xA2 ") != std::string_view::npos)
    return Format::page_text;
  return fail(file + ": unknown format (not JSON, XML or a Daily Papers page capture)");
}

}  // namespace

std::string_view format_name(Format format) {
  for (const auto& [known, name] : kFormatNames) {
    if (known == format) return name;
  }
  return "unknown";
}

std::optional<Format> parse_format(std::string_view name) {
  for (const auto& [format, known] : kFormatNames) {
    if (name.size() != known.size()) continue;
    bool same = true;
    for (size_t i = 0; i < name.size() && same; ++i) {
      same = name[i] == known[i] || (name[i] == '_' && known[i] == '-');
    }
    if (same) return format;
  }
  return std::nullopt;
}

Result<InputStream> ImportContext::open() const {
  auto input = content ? InputStream::open_memory(*content, file) : InputStream::open(path);
  if (input && sink.on_progress) input->set_progress(sink.on_progress);
  return input;
}

std::string ImportContext::fallback_feed_day() const {
  if (!options.default_feed_day.empty()) return options.default_feed_day;
  return date_in_file_name(path).value_or("");
}

Result<Format> detect_format(const std::filesystem::path& path) {
  auto input = InputStream::open(path);
  if (!input) return std::unexpected(input.error());
  std::string head(kDetectionBytes, '\0');
  size_t filled = 0;
  while (filled < head.size()) {
    auto got = input->read(head.data() + filled, head.size() - filled);
    if (!got) return std::unexpected(got.error());
    if (*got == 0) break;
    filled += *got;
  }
  head.resize(filled);
  return detect_from_head(head, path.string());
}

namespace {

Result<void> check_default_feed_day(const ImportOptions& options) {
  if (options.default_feed_day.empty()) return {};
  auto day = parse_date(options.default_feed_day);
  if (!day || format_day(*day) != options.default_feed_day) {
    return fail("default feed day " + excerpt(options.default_feed_day) + " is not YYYY-MM-DD");
  }
  return {};
}

Result<void> run_importer(Format format, const ImportContext& context) {
  switch (format) {
    case Format::arxiv_snapshot:
      return import_arxiv_snapshot(context);
    case Format::arxiv_atom:
      return import_arxiv_atom(context);
    case Format::oai_pmh:
      return import_oai_pmh(context);
    case Format::hf_daily:
      return import_hf_daily(context);
    case Format::canonical:
      return import_canonical(context);
    case Format::page_text:
      return import_page_text(context);
    case Format::arxiv_listing:
      return import_arxiv_listing(context);
  }
  return fail(context.file + ": unsupported format");
}

}  // namespace

Result<void> import_file(const std::filesystem::path& path, const ImportOptions& options,
                         const Sink& sink) {
  if (auto checked = check_default_feed_day(options); !checked) return checked;
  Format format;
  if (options.format) {
    format = *options.format;
  } else {
    auto detected = detect_format(path);
    if (!detected) return std::unexpected(detected.error());
    format = *detected;
  }
  return run_importer(format, ImportContext{path, path.string(), options, sink});
}

Result<void> import_buffer(std::string_view content, const std::string& name,
                           const ImportOptions& options, const Sink& sink) {
  if (auto checked = check_default_feed_day(options); !checked) return checked;
  Format format;
  if (options.format) {
    format = *options.format;
  } else {
    auto detected = detect_from_head(content.substr(0, kDetectionBytes), name);
    if (!detected) return std::unexpected(detected.error());
    format = *detected;
  }
  if (content.empty()) return fail(name + ": empty; nothing to import");
  return run_importer(format, ImportContext{name, name, options, sink, content});
}

}  // namespace paperboy::ingest
