// End-to-end: the real `paperboy encode` on checkpoints written by the PyTorch reference
// (src/encoder/testdata/torch_reference.py) prints the embeddings PyTorch computed.
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <vector>

#include "encoder/test_support.h"

namespace {

namespace fs = std::filesystem;
using nlohmann::json;
using paperboy::encoder::test_support::read_file;

struct Outcome {
  int exit_code = -1;
  std::vector<json> lines;
  std::string err;
};

class EncodeCommand : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    auto made = paperboy::encoder::test_support::make_torch_reference();
    ASSERT_TRUE(made) << made.error().message;
    root_ = made->root;
    reference_ = std::move(made->reference);
  }
  static void TearDownTestSuite() { fs::remove_all(root_); }

  // Runs `paperboy -q encode ARGS... [< stdin_file]` through the shell.
  static Outcome run(const std::string& args, const std::string& stdin_file = "") {
    const fs::path out = root_ / "out", err = root_ / "err";
    std::string command = std::string(PAPERBOY_BINARY) + " -q encode " + args + " >" +
                          out.string() + " 2>" + err.string();
    if (!stdin_file.empty()) command += " <" + stdin_file;
    const int status = std::system(command.c_str());
    Outcome outcome{WIFEXITED(status) ? WEXITSTATUS(status) : -1, {}, read_file(err)};
    std::istringstream lines(read_file(out));
    for (std::string line; std::getline(lines, line);) outcome.lines.push_back(json::parse(line));
    return outcome;
  }

  static void expect_reference_vectors(const std::vector<json>& lines,
                                       const std::vector<size_t>& sentence_indexes) {
    const json& variant = reference_["variants"][0];
    ASSERT_EQ(lines.size(), sentence_indexes.size());
    for (size_t i = 0; i < lines.size(); ++i) {
      const size_t sentence = sentence_indexes[i];
      EXPECT_EQ(lines[i]["text"], reference_["sentences"][sentence]);
      const json& expected = variant["embeddings"][sentence];
      ASSERT_EQ(lines[i]["embedding"].size(), expected.size());
      for (size_t d = 0; d < expected.size(); ++d)
        ASSERT_NEAR(lines[i]["embedding"][d].get<float>(), expected[d].get<float>(), 1e-4)
            << "sentence " << sentence << " dim " << d;
    }
  }

  static fs::path model() { return root_ / reference_["variants"][0]["folder"].get<std::string>(); }

  static inline fs::path root_;
  static inline json reference_;
};

TEST_F(EncodeCommand, PrintsThePyTorchEmbeddingsForArguments) {
  const Outcome outcome = run("--model " + model().string() +
                              " 'Attention is all you need.' 'Café, naïve résumé — déjà vu!'");
  ASSERT_EQ(outcome.exit_code, 0) << outcome.err;
  expect_reference_vectors(outcome.lines, {0, 1});
}

TEST_F(EncodeCommand, ReadsOneTextPerLineOfStandardInput) {
  // Every reference sentence that fits on one line.
  std::vector<size_t> indexes;
  std::ofstream input(root_ / "texts.txt");
  for (size_t i = 0; i < reference_["sentences"].size(); ++i) {
    const std::string text = reference_["sentences"][i];
    if (text.find('\n') != std::string::npos) continue;
    input << text << '\n';
    indexes.push_back(i);
  }
  input.close();
  const Outcome outcome =
      run("--threads 2 --batch 2 --model " + model().string(), (root_ / "texts.txt").string());
  ASSERT_EQ(outcome.exit_code, 0) << outcome.err;
  expect_reference_vectors(outcome.lines, indexes);
}

TEST_F(EncodeCommand, ABrokenModelFolderIsAnErrorNamingTheFile) {
  const fs::path broken = root_ / "no-config";
  fs::copy(model(), broken, fs::copy_options::recursive);
  fs::remove(broken / "config.json");
  const Outcome outcome = run("--model " + broken.string() + " text");
  EXPECT_EQ(outcome.exit_code, 1);
  EXPECT_NE(outcome.err.find("config.json: cannot open"), std::string::npos) << outcome.err;

  EXPECT_EQ(run("--model " + (root_ / "missing").string() + " text").exit_code, 2);
}

TEST_F(EncodeCommand, InvalidUtf8OnStandardInputNamesTheLines) {
  std::ofstream(root_ / "bad.txt") << "fine\nbad \xff byte\n";
  const Outcome outcome = run("--model " + model().string(), (root_ / "bad.txt").string());
  EXPECT_EQ(outcome.exit_code, 1);
  EXPECT_NE(outcome.err.find("standard input lines 1-2, text 1: invalid UTF-8 at byte 4"),
            std::string::npos)
      << outcome.err;
}

}  // namespace
