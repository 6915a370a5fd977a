// Error policy for every component boundary: a function that can fail returns Result<T>.
// The error carries a message for a person, already naming the file, line or field at fault.
#pragma once

#include <expected>
#include <string>
#include <utility>

namespace paperboy {

struct Error {
  std::string message;
};

template <class T>
using Result = std::expected<T, Error>;

// Shorthand for returning a failure: `return fail("papers.jsonl:12: missing title");`
inline std::unexpected<Error> fail(std::string message) {
  return std::unexpected<Error>(Error{std::move(message)});
}

}  // namespace paperboy
