// The importers behind import_file, one per Format. Internal to the ingest component.
#pragma once

#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

#include "core/paper.h"
#include "core/result.h"
#include "ingest/ingest.h"
#include "ingest/input.h"

namespace paperboy::ingest {

// What every importer needs: where records go and how to name the file in messages.
struct ImportContext {
  std::filesystem::path path;
  std::string file;  // the path as shown in messages
  const ImportOptions& options;
  const Sink& sink;
  // Set when reading from memory (import_buffer) instead of the file at `path`.
  std::optional<std::string_view> content = std::nullopt;

  void reject(size_t line, std::string reason) const {
    if (sink.on_rejection) sink.on_rejection(Rejection{file, line, std::move(reason)});
  }
  Result<void> deliver(Paper&& paper) const {
    if (!sink.on_paper) return {};
    return sink.on_paper(std::move(paper));
  }
  // Opens the file for reading, wired to the sink's progress callback.
  Result<InputStream> open() const;
  // The day for records without one: the option, else a date in the file name, else empty.
  std::string fallback_feed_day() const;
};

Result<void> import_arxiv_snapshot(const ImportContext& context);
Result<void> import_arxiv_listing(const ImportContext& context);
Result<void> import_canonical(const ImportContext& context);
Result<void> import_hf_daily(const ImportContext& context);
Result<void> import_arxiv_atom(const ImportContext& context);
Result<void> import_oai_pmh(const ImportContext& context);
Result<void> import_page_text(const ImportContext& context);

}  // namespace paperboy::ingest
