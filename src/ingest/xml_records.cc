#include "ingest/xml_records.h"

#include <algorithm>
#include <cctype>

namespace paperboy::ingest {

namespace {

constexpr size_t kChunkBytes = size_t{64} << 10;
// Tags outside records (root, wrappers) are short; a longer one means the file is not XML.
constexpr size_t kMaxOuterTagBytes = size_t{1} << 20;

bool is_name_end(char c) {
  return c == '/' || c == '>' || std::isspace(static_cast<unsigned char>(c));
}

std::string_view after_prefix(std::string_view name) {
  size_t colon = name.find(':');
  return colon == std::string_view::npos ? name : name.substr(colon + 1);
}

}  // namespace

XmlRecordReader::XmlRecordReader(InputStream& input, std::vector<std::string> record_names,
                                 size_t max_record_bytes)
    : input_(input),
      record_names_(std::move(record_names)),
      max_record_bytes_(max_record_bytes),
      chunk_(std::make_unique<char[]>(kChunkBytes)) {}

bool XmlRecordReader::get(char& c) {
  if (chunk_pos_ == chunk_len_) {
    if (error_) return false;
    auto got = input_.read(chunk_.get(), kChunkBytes);
    if (!got) {
      error_ = got.error();
      return false;
    }
    if (*got == 0) return false;
    chunk_pos_ = 0;
    chunk_len_ = *got;
  }
  c = chunk_[chunk_pos_++];
  if (c == '\n') ++line_;
  if (capturing_) {
    ++record_bytes_;
    if (!too_large_) {
      if (record_.size() < max_record_bytes_) {
        record_.push_back(c);
      } else {
        // Stop keeping the record but go on scanning to its end.
        too_large_ = true;
        std::string().swap(record_);
      }
    }
  }
  return true;
}

bool XmlRecordReader::skip_until(std::string_view terminator) {
  size_t matched = 0;
  char c;
  while (get(c)) {
    if (c == terminator[matched]) {
      if (++matched == terminator.size()) return true;
    } else {
      // The terminators ("-->", "]]>", "?>") repeat their first character and then end in
      // another, so a repeat of that character keeps the match so far ("--->" still ends).
      if (c != terminator[0]) {
        matched = 0;
      } else if (matched == 0) {
        matched = 1;
      }
    }
  }
  return false;
}

bool XmlRecordReader::skip_declaration() {
  // <!DOCTYPE ...> may hold an internal subset in brackets, itself holding '>'.
  int brackets = 0;
  char quote = 0;
  char c;
  while (get(c)) {
    if (quote) {
      if (c == quote) quote = 0;
    } else if (c == '"' || c == '\'') {
      quote = c;
    } else if (c == '[') {
      ++brackets;
    } else if (c == ']') {
      --brackets;
    } else if (c == '>' && brackets <= 0) {
      return true;
    }
  }
  return false;
}

bool XmlRecordReader::read_tag(char first) {
  tag_.assign(1, first);
  char quote = 0;
  char c;
  while (get(c)) {
    if (quote) {
      if (c == quote) quote = 0;
    } else if (c == '"' || c == '\'') {
      quote = c;
    } else if (c == '>') {
      return true;
    }
    if (tag_.size() >= kMaxOuterTagBytes) {
      error_ = Error{input_.name() + ":" + std::to_string(line_) +
                     ": malformed XML: a tag longer than 1 MiB"};
      return false;
    }
    tag_.push_back(c);
  }
  return false;
}

void XmlRecordReader::note_namespaces(size_t attributes_start) {
  std::string_view rest = std::string_view(tag_).substr(attributes_start);
  for (size_t at = rest.find("xmlns"); at != std::string_view::npos;
       at = rest.find("xmlns", at + 5)) {
    if (at > 0 && !std::isspace(static_cast<unsigned char>(rest[at - 1]))) continue;
    size_t equals = rest.find('=', at);
    if (equals == std::string_view::npos) return;
    std::string_view attribute = rest.substr(at, equals - at);
    while (!attribute.empty() && std::isspace(static_cast<unsigned char>(attribute.back())))
      attribute.remove_suffix(1);
    size_t open = rest.find_first_of("\"'", equals);
    if (open == std::string_view::npos) return;
    size_t close = rest.find(rest[open], open + 1);
    if (close == std::string_view::npos) return;
    std::string uri(rest.substr(open + 1, close - open - 1));
    if (attribute == "xmlns") {
      namespaces_[""] = std::move(uri);
    } else if (attribute.starts_with("xmlns:")) {
      namespaces_[std::string(attribute.substr(6))] = std::move(uri);
    }
  }
}

Result<std::optional<XmlRecord>> XmlRecordReader::next() {
  char c;
  while (get(c)) {
    if (c != '<') continue;
    const size_t tag_line = line_;
    if (!get(c)) break;
    if (c == '!') {
      char kind;
      if (!get(kind)) break;
      bool closed = kind == '-'   ? skip_until("-->")
                    : kind == '[' ? skip_until("]]>")
                                  : skip_declaration();
      if (!closed) break;
      continue;
    }
    if (c == '?') {
      if (!skip_until("?>")) break;
      continue;
    }
    // Inside a record, get() already keeps the tag's bytes; only the outer tags need tag_.
    const bool was_capturing = capturing_;
    if (was_capturing) {
      // Only the name and the closing characters matter for depth tracking.
      tag_.assign(1, c);
      char quote = 0;
      char previous = c;
      bool in_name = !is_name_end(c) || c == '/';
      bool closed = false;
      while (get(c)) {
        if (quote) {
          if (c == quote) quote = 0;
        } else if (c == '"' || c == '\'') {
          quote = c;
        } else if (c == '>') {
          closed = true;
          break;
        }
        if (in_name && !is_name_end(c)) {
          tag_.push_back(c);
        } else {
          in_name = false;
        }
        if (!std::isspace(static_cast<unsigned char>(c))) previous = c;
      }
      if (!closed) break;
      const bool end_tag = tag_[0] == '/';
      const bool self_closing = !end_tag && previous == '/';
      if (end_tag) {
        if (--depth_ == 0) {
          capturing_ = false;
          XmlRecord record;
          record.name = current_name_;
          record.name = current_name_;
          record.line = record_line_;
          record.bytes = record_bytes_;
          record.state = too_large_ ? XmlRecord::State::too_large : XmlRecord::State::complete;
          if (!too_large_) record.text = record_;
          return record;
        }
      } else if (!self_closing) {
        ++depth_;
      }
      continue;
    }
    if (!read_tag(c)) break;
    if (tag_[0] == '/') continue;
    size_t name_end = 0;
    while (name_end < tag_.size() && !is_name_end(tag_[name_end])) ++name_end;
    const std::string_view local = after_prefix(std::string_view(tag_).substr(0, name_end));
    const bool self_closing = tag_.back() == '/';
    if (root_name_.empty()) root_name_ = local;
    auto matched = std::find(record_names_.begin(), record_names_.end(), local);
    if (matched != record_names_.end()) {
      current_name_ = *matched;
      record_.assign(1, '<');
      record_.append(tag_);
      record_.push_back('>');
      record_line_ = tag_line;
      record_bytes_ = record_.size();
      too_large_ = record_.size() > max_record_bytes_;
      if (too_large_) std::string().swap(record_);
      if (self_closing) {
        XmlRecord record;
        record.name = current_name_;
        record.line = record_line_;
        record.bytes = record_bytes_;
        record.state = too_large_ ? XmlRecord::State::too_large : XmlRecord::State::complete;
        if (!too_large_) record.text = record_;
        return record;
      }
      capturing_ = true;
      depth_ = 1;
      continue;
    }
    note_namespaces(name_end);
  }
  if (error_) return std::unexpected(*error_);
  if (capturing_) {
    capturing_ = false;
    XmlRecord record;
    record.name = current_name_;
    record.line = record_line_;
    record.bytes = record_bytes_;
    record.state = XmlRecord::State::unterminated;
    return record;
  }
  return std::nullopt;
}

std::string_view local_name(pugi::xml_node node) { return after_prefix(node.name()); }

std::string_view namespace_uri(pugi::xml_node node, const NamespaceMap& outer) {
  std::string_view name = node.name();
  size_t colon = name.find(':');
  std::string attribute = "xmlns";
  std::string_view prefix;
  if (colon != std::string_view::npos) {
    prefix = name.substr(0, colon);
    attribute.append(":").append(prefix);
  }
  for (pugi::xml_node scope = node; scope && scope.type() == pugi::node_element;
       scope = scope.parent()) {
    if (pugi::xml_attribute declared = scope.attribute(attribute.c_str())) return declared.value();
  }
  auto found = outer.find(prefix);
  return found == outer.end() ? std::string_view() : std::string_view(found->second);
}

pugi::xml_node child_element(pugi::xml_node parent, std::string_view ns, std::string_view local,
                             const NamespaceMap& outer) {
  for (pugi::xml_node child : parent.children()) {
    if (child.type() == pugi::node_element && local_name(child) == local &&
        namespace_uri(child, outer) == ns) {
      return child;
    }
  }
  return {};
}

}  // namespace paperboy::ingest
