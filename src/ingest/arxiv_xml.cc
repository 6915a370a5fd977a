// arXiv's XML sources: Atom responses of export.arxiv.org/api/query, and OAI-PMH ListRecords
// responses in the arXiv and arXivRaw metadata formats. Each <entry> or <record> is cut from the
// stream and parsed alone.
#include <algorithm>
#include <functional>
#include <string_view>

#include "core/arxiv_id.h"
#include "core/date.h"
#include "ingest/importers.h"
#include "ingest/text.h"
#include "ingest/xml_records.h"

namespace paperboy::ingest {

namespace {

constexpr std::string_view kAtom = "http://www.w3.org/2005/Atom";
constexpr std::string_view kArxivAtom = "http://arxiv.org/schemas/atom";
constexpr std::string_view kOai = "http://www.openarchives.org/OAI/2.0/";
constexpr std::string_view kArxivOai = "http://arxiv.org/OAI/arXiv/";
constexpr std::string_view kArxivRaw = "http://arxiv.org/OAI/arXivRaw/";

using RecordConverter = std::function<Result<Paper>(pugi::xml_node, const NamespaceMap&)>;

// All character data directly inside the element (text and CDATA sections alike).
std::string element_text(pugi::xml_node node) {
  std::string text;
  for (pugi::xml_node child : node.children()) {
    if (child.type() == pugi::node_pcdata || child.type() == pugi::node_cdata)
      text += child.value();
  }
  return collapse_text(text);
}

Result<void> set_arxiv_id(std::string_view text, std::string_view field, Paper& paper) {
  if (text.empty()) return fail("missing " + std::string(field));
  auto id = parse_arxiv_id(text);
  if (!id) return fail("bad arXiv id in " + std::string(field) + ": " + excerpt(text));
  paper.arxiv_id = std::move(id->id);
  paper.version = std::max(paper.version, id->version);
  return {};
}

void add_category(std::string_view term, Paper& paper) {
  if (term.empty()) return;
  if (std::find(paper.categories.begin(), paper.categories.end(), term) == paper.categories.end())
    paper.categories.emplace_back(term);
}

// <entry> of an arXiv API Atom feed.
Result<Paper> convert_atom_entry(pugi::xml_node entry, const NamespaceMap& outer) {
  Paper paper;
  std::string id, published, updated, primary_category;
  std::vector<std::string> categories;
  for (pugi::xml_node child : entry.children()) {
    if (child.type() != pugi::node_element) continue;
    const std::string_view ns = namespace_uri(child, outer);
    const std::string_view local = local_name(child);
    if (ns == kAtom) {
      if (local == "id") {
        id = element_text(child);
      } else if (local == "title") {
        paper.title = element_text(child);
      } else if (local == "summary") {
        paper.abstract = element_text(child);
      } else if (local == "published") {
        published = element_text(child);
      } else if (local == "updated") {
        updated = element_text(child);
      } else if (local == "author") {
        std::string name = element_text(child_element(child, kAtom, "name", outer));
        if (!name.empty()) paper.authors.push_back(std::move(name));
      } else if (local == "category") {
        categories.push_back(child.attribute("term").value());
      }
    } else if (ns == kArxivAtom) {
      if (local == "primary_category") {
        primary_category = child.attribute("term").value();
      } else if (local == "comment") {
        paper.comments = element_text(child);
      } else if (local == "journal_ref") {
        paper.journal_ref = element_text(child);
      } else if (local == "doi") {
        paper.doi = element_text(child);
      }
    }
  }
  // The API reports a bad query as a single entry whose id is an errors URL.
  if (id.find("arxiv.org/api/errors") != std::string::npos) {
    return fail("arXiv API error: " + (paper.abstract.empty() ? id : paper.abstract));
  }
  if (auto set = set_arxiv_id(id, "<id>", paper); !set) return std::unexpected(set.error());
  if (paper.title.empty()) return fail("missing title");
  add_category(primary_category, paper);
  for (const std::string& term : categories) add_category(term, paper);
  if (!published.empty()) {
    auto day = iso_day(published, "<published>");
    if (!day) return std::unexpected(day.error());
    paper.published = std::move(*day);
  }
  if (!updated.empty()) {
    auto day = iso_day(updated, "<updated>");
    if (!day) return std::unexpected(day.error());
    paper.updated = std::move(*day);
  }
  paper.source = "arxiv-atom";
  return paper;
}

// Fields both OAI metadata formats share, in their own namespace.
Result<void> convert_common_oai_fields(pugi::xml_node metadata, std::string_view ns,
                                       const NamespaceMap& outer, Paper& paper) {
  auto text = [&](std::string_view local) {
    return element_text(child_element(metadata, ns, local, outer));
  };
  if (auto set = set_arxiv_id(text("id"), "<id>", paper); !set) return set;
  paper.title = text("title");
  if (paper.title.empty()) return fail("missing title");
  paper.abstract = text("abstract");
  paper.categories = split_words(text("categories"));
  paper.comments = text("comments");
  paper.journal_ref = text("journal-ref");
  paper.doi = text("doi");
  paper.license = text("license");
  return {};
}

// metadataPrefix=arXiv: created/updated days and structured authors.
Result<void> convert_oai_arxiv(pugi::xml_node metadata, const NamespaceMap& outer, Paper& paper) {
  if (auto common = convert_common_oai_fields(metadata, kArxivOai, outer, paper); !common)
    return common;
  for (std::string_view field : {"created", "updated"}) {
    std::string value = element_text(child_element(metadata, kArxivOai, field, outer));
    if (value.empty()) continue;
    std::string element(1, '<');
    element.append(field).push_back('>');
    auto day = iso_day(value, element);
    if (!day) return std::unexpected(day.error());
    (field == "created" ? paper.published : paper.updated) = std::move(*day);
  }
  if (paper.updated.empty()) paper.updated = paper.published;
  pugi::xml_node authors = child_element(metadata, kArxivOai, "authors", outer);
  for (pugi::xml_node author : authors.children()) {
    if (author.type() != pugi::node_element || local_name(author) != "author") continue;
    auto part = [&](std::string_view local) {
      return element_text(child_element(author, kArxivOai, local, outer));
    };
    std::string name = person_name(part("forenames"), part("keyname"), part("suffix"));
    if (!name.empty()) paper.authors.push_back(std::move(name));
  }
  return {};
}

// metadataPrefix=arXivRaw: an authors string and one <version> per version with its date.
Result<void> convert_oai_arxiv_raw(pugi::xml_node metadata, const NamespaceMap& outer,
                                   Paper& paper) {
  if (auto common = convert_common_oai_fields(metadata, kArxivRaw, outer, paper); !common)
    return common;
  paper.authors =
      split_author_list(element_text(child_element(metadata, kArxivRaw, "authors", outer)));
  std::optional<std::chrono::sys_days> first_day, newest_day;
  int first_version = 0;
  for (pugi::xml_node version : metadata.children()) {
    if (version.type() != pugi::node_element || local_name(version) != "version" ||
        namespace_uri(version, outer) != kArxivRaw)
      continue;
    std::string_view label = version.attribute("version").value();
    const std::optional<int> number = version_number(label);
    if (!number) return fail("bad version attribute in <version>: " + excerpt(label));
    const std::string date = element_text(child_element(version, kArxivRaw, "date", outer));
    auto day = parse_date(date);
    if (!day)
      return fail("bad date in <version version=\"" + std::string(label) +
                  "\"><date>: " + excerpt(date));
    if (first_version == 0 || *number < first_version) {
      first_version = *number;
      first_day = day;
    }
    if (!newest_day || *day > *newest_day) newest_day = day;
    paper.version = std::max(paper.version, *number);
  }
  if (first_day) paper.published = format_day(*first_day);
  if (newest_day) paper.updated = format_day(*newest_day);
  return {};
}

// <record> of an OAI-PMH ListRecords response.
Result<Paper> convert_oai_record(pugi::xml_node record, const NamespaceMap& outer) {
  pugi::xml_node header = child_element(record, kOai, "header", outer);
  if (!header) return fail("missing <header>");
  const std::string identifier = element_text(child_element(header, kOai, "identifier", outer));
  if (std::string_view(header.attribute("status").value()) == "deleted") {
    return fail("deleted record " + identifier + " (header status=\"deleted\"); skipped");
  }
  pugi::xml_node wrapper = child_element(record, kOai, "metadata", outer);
  pugi::xml_node metadata =
      wrapper.find_child([](pugi::xml_node node) { return node.type() == pugi::node_element; });
  if (!metadata) return fail("missing <metadata> in record " + identifier);
  Paper paper;
  const std::string_view ns = namespace_uri(metadata, outer);
  Result<void> converted;
  if (ns == kArxivOai && local_name(metadata) == "arXiv") {
    converted = convert_oai_arxiv(metadata, outer, paper);
  } else if (ns == kArxivRaw && local_name(metadata) == "arXivRaw") {
    converted = convert_oai_arxiv_raw(metadata, outer, paper);
  } else {
    return fail("unsupported metadata <" + std::string(metadata.name()) + "> (namespace \"" +
                std::string(ns) + "\"); harvest with metadataPrefix=arXiv or arXivRaw");
  }
  if (!converted) return std::unexpected(converted.error());
  paper.source = "oai-pmh";
  return paper;
}

size_t line_of_offset(std::string_view text, size_t start_line, ptrdiff_t offset) {
  size_t end = std::min(text.size(), static_cast<size_t>(std::max<ptrdiff_t>(offset, 0)));
  return start_line + static_cast<size_t>(std::count(text.begin(), text.begin() + end, '\n'));
}

// An OAI-PMH <error code="...">: "no records match" is an empty harvest, anything else (a bad
// resumption token, a bad argument) means the file holds no answer at all.
Result<void> check_oai_error(pugi::xml_node error, const ImportContext& context, size_t line) {
  const std::string_view code = error.attribute("code").value();
  if (code == "noRecordsMatch") return {};
  return fail(context.file + ":" + std::to_string(line) + ": OAI-PMH error " + std::string(code) +
              ": " + element_text(error));
}

// Reads every `record_name` element under a `root_name` root. For OAI-PMH, `error_name` is the
// protocol's error element, checked with check_oai_error; empty for Atom.
Result<void> import_xml_records(const ImportContext& context, std::string_view root_name,
                                const std::string& record_name, const std::string& error_name,
                                const RecordConverter& convert) {
  auto input = context.open();
  if (!input) return std::unexpected(input.error());
  std::vector<std::string> names = {record_name};
  if (!error_name.empty()) names.push_back(error_name);
  XmlRecordReader reader(*input, names, context.options.max_record_bytes);
  for (;;) {
    auto next = reader.next();
    if (!next) return std::unexpected(next.error());
    if (!*next) break;
    const XmlRecord& record = **next;
    std::string element(1, '<');
    element.append(record.name).push_back('>');
    if (record.state == XmlRecord::State::too_large) {
      context.reject(record.line, element + " record of " + std::to_string(record.bytes) +
                                      " bytes is over the limit of " +
                                      std::to_string(context.options.max_record_bytes) +
                                      " bytes; skipped");
      continue;
    }
    if (record.state == XmlRecord::State::unterminated) {
      context.reject(record.line, element + " is not closed before the end of the file");
      continue;
    }
    if (!is_valid_utf8(record.text)) {
      context.reject(record.line, "not valid UTF-8");
      continue;
    }
    pugi::xml_document document;
    pugi::xml_parse_result parsed = document.load_buffer(record.text.data(), record.text.size(),
                                                         pugi::parse_default, pugi::encoding_utf8);
    if (!parsed) {
      context.reject(line_of_offset(record.text, record.line, parsed.offset),
                     "invalid XML in " + element + ": " + parsed.description());
      continue;
    }
    if (record.name == error_name) {
      if (auto checked = check_oai_error(document.document_element(), context, record.line);
          !checked)
        return checked;
      continue;
    }
    auto paper = convert(document.document_element(), reader.outer_namespaces());
    if (!paper) {
      context.reject(record.line, paper.error().message);
      continue;
    }
    if (auto delivered = context.deliver(std::move(*paper)); !delivered) return delivered;
  }
  if (reader.root_name() != root_name) {
    return fail(context.file + ": " +
                (reader.root_name().empty() ? std::string("no XML elements")
                                            : "root element is <" + reader.root_name() + ">") +
                ", not <" + std::string(root_name) + ">");
  }
  return {};
}

}  // namespace

Result<void> import_arxiv_atom(const ImportContext& context) {
  return import_xml_records(context, "feed", "entry", "", convert_atom_entry);
}

Result<void> import_oai_pmh(const ImportContext& context) {
  return import_xml_records(context, "OAI-PMH", "record", "error", convert_oai_record);
}

}  // namespace paperboy::ingest
