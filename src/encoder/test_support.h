// For tests of the encoder and of what uses it: runs torch_reference.py (PyTorch, see
// docs/encoder.md) to write tiny random checkpoints and their reference ids and embeddings.
// Needs PAPERBOY_SOURCE_DIR and PAPERBOY_PYTHON (the interpreter that has Debian's python3-torch).
#pragma once

#include <stdlib.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>

#include "core/result.h"

namespace paperboy::encoder::test_support {

inline std::string read_file(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream content;
  content << in.rdbuf();
  return content.str();
}

// A fresh temporary folder holding the reference checkpoints and reference.json.
struct TorchReference {
  std::filesystem::path root;
  nlohmann::json reference;
};

inline Result<TorchReference> make_torch_reference() {
  char pattern[] = "/tmp/paperboy-encoder-test-XXXXXX";
  if (mkdtemp(pattern) == nullptr) return fail("cannot create a temporary folder");
  TorchReference made{pattern, {}};
  const std::filesystem::path log = made.root / "torch_reference.log";
  const std::string command = std::string(PAPERBOY_PYTHON) + " " + PAPERBOY_SOURCE_DIR +
                              "/src/encoder/testdata/torch_reference.py " + made.root.string() +
                              " >" + log.string() + " 2>&1";
  if (std::system(command.c_str()) != 0)
    return fail("the PyTorch reference failed (" + command + "):\n" + read_file(log));
  made.reference = nlohmann::json::parse(read_file(made.root / "reference.json"));
  return made;
}

}  // namespace paperboy::encoder::test_support
