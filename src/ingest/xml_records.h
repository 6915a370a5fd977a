// Splits an XML stream into its record elements (<entry>, <record>) one at a time, so that a
// harvest of any size is parsed in constant memory, and resolves namespaces for pugixml (which
// keeps prefixed names as written).
#pragma once

#include <map>
#include <memory>
#include <optional>
#include <pugixml.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.h"
#include "ingest/input.h"

namespace paperboy::ingest {

// Prefix ("" for the default namespace) -> namespace URI.
using NamespaceMap = std::map<std::string, std::string, std::less<>>;

struct XmlRecord {
  enum class State { complete, too_large, unterminated };
  std::string_view name;  // local name of the element (one of the reader's record names)
  std::string_view text;  // the element's markup; empty unless complete
  size_t line = 0;        // line of the element's start tag
  size_t bytes = 0;       // bytes the element spans (so far, when not complete)
  State state = State::complete;
};

class XmlRecordReader {
 public:
  XmlRecordReader(InputStream& input, std::vector<std::string> record_names,
                  size_t max_record_bytes);

  // The next element with one of the record names (matched by local name, at any depth),
  // nullopt at the end.
  // The text stays valid until the next call.
  Result<std::optional<XmlRecord>> next();

  // Namespace declarations on elements outside the records (the root and its wrappers).
  const NamespaceMap& outer_namespaces() const { return namespaces_; }
  // Local name of the document's root element; empty until one was seen.
  const std::string& root_name() const { return root_name_; }

 private:
  bool get(char& c);
  bool skip_until(std::string_view terminator);
  bool skip_declaration();
  bool read_tag(char first);
  void note_namespaces(size_t attributes_start);

  InputStream& input_;
  std::vector<std::string> record_names_;
  std::string_view current_name_;
  size_t max_record_bytes_;
  std::unique_ptr<char[]> chunk_;
  size_t chunk_pos_ = 0;
  size_t chunk_len_ = 0;
  std::optional<Error> error_;
  size_t line_ = 1;

  std::string tag_;
  std::string record_;
  bool capturing_ = false;
  bool too_large_ = false;
  size_t record_bytes_ = 0;
  size_t record_line_ = 0;
  size_t depth_ = 0;

  NamespaceMap namespaces_;
  std::string root_name_;
};

// The local part of an element name ("arxiv:doi" -> "doi").
std::string_view local_name(pugi::xml_node node);

// The namespace URI of an element, from declarations on it, its ancestors, then `outer`.
std::string_view namespace_uri(pugi::xml_node node, const NamespaceMap& outer);

// The first child element with this namespace and local name (empty node if none).
pugi::xml_node child_element(pugi::xml_node parent, std::string_view ns, std::string_view local,
                             const NamespaceMap& outer);

}  // namespace paperboy::ingest
