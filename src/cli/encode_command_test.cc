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

  // What a command prints on standard output: JSON Lines, one JSON document, or text (not kept).
  enum class Printed { kJsonLines, kJson, kText };

  // Runs `paperboy -q ARGS... [< stdin_file]` through the shell.
  static Outcome run_paperboy(const std::string& args, const std::string& stdin_file = "",
                              Printed printed_as = Printed::kJsonLines) {
    const fs::path out = root_ / "out", err = root_ / "err";
    std::string command =
        std::string(PAPERBOY_BINARY) + " -q " + args + " >" + out.string() + " 2>" + err.string();
    if (!stdin_file.empty()) command += " <" + stdin_file;
    const int status = std::system(command.c_str());
    Outcome outcome{WIFEXITED(status) ? WEXITSTATUS(status) : -1, {}, read_file(err)};
    const std::string printed = read_file(out);
    if (printed_as == Printed::kText) return outcome;
    if (printed_as == Printed::kJson) {
      if (outcome.exit_code == 0) outcome.lines.push_back(json::parse(printed));
      return outcome;
    }
    std::istringstream lines(printed);
    for (std::string line; std::getline(lines, line);) outcome.lines.push_back(json::parse(line));
    return outcome;
  }
  static Outcome run(const std::string& args, const std::string& stdin_file = "") {
    return run_paperboy("encode " + args, stdin_file);
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

// The transformer as the embedder of the vector index: `embed train --encoder` embeds every
// paper with it, and related papers, semantic search and ingest use it for queries and new
// papers. Papers are titled with reference sentences (no abstract, so the embedded text is the
// title), so their similarities must be those of PyTorch's embeddings.
class EncoderAsEmbedder : public EncodeCommand {
 protected:
  static float reference_similarity(size_t a, size_t b) {
    const json& embeddings = reference_["variants"][0]["embeddings"];
    float dot = 0;
    for (size_t d = 0; d < embeddings[a].size(); ++d)
      dot += embeddings[a][d].get<float>() * embeddings[b][d].get<float>();
    return dot;
  }

  // A canonical JSONL file of papers 2401.0000N titled with reference sentence `sentence`.
  static fs::path write_papers(const std::string& name,
                               const std::vector<std::pair<int, size_t>>& papers) {
    const fs::path path = root_ / name;
    std::ofstream out(path);
    for (const auto& [number, sentence] : papers)
      out << json{{"arxiv_id", "2401.0000" + std::to_string(number)},
                  {"title", reference_["sentences"][sentence]},
                  {"authors", {"A. Author"}},
                  {"categories", {"cs.CL"}},
                  {"published", "2024-01-15"}}
                 .dump()
          << "\n";
    return path;
  }

  static std::string vectors_identity(const fs::path& data) {
    std::ifstream current(data / "vectors" / "CURRENT");
    std::string generation;
    std::getline(current, generation);
    const std::string papers = read_file(data / "vectors" / generation / "papers.bin");
    const size_t at = papers.find("sentence-encoder/1:");
    return at == std::string::npos ? "" : papers.substr(at, papers.find(':', at + 19) - at);
  }

  // The similarity `related` reports between `id` and `other`, -2 when it lists no such paper.
  static float related_similarity(const json& related, const std::string& other) {
    for (const json& result : related["results"])
      if (result["id"] == other) return result["score"].get<float>();
    return -2;
  }
};

TEST_F(EncoderAsEmbedder, EmbedsPapersQueriesAndNewPapersWithTheTransformer) {
  const fs::path data = root_ / "data-embedder";
  const std::string at = "--data " + data.string() + " ";
  // Sentences 0, 2 and 9 are English; 1 has accents and a dash.
  ASSERT_EQ(
      run_paperboy(at + "ingest " + write_papers("first.jsonl", {{1, 0}, {2, 2}, {3, 9}}).string(),
                   "", Printed::kText)
          .exit_code,
      0);
  const Outcome trained =
      run_paperboy(at + "embed train --encoder " + model().string(), "", Printed::kText);
  ASSERT_EQ(trained.exit_code, 0) << trained.err;
  EXPECT_TRUE(fs::exists(data / "embed" / "encoder.json"));
  EXPECT_EQ(vectors_identity(data), "sentence-encoder/1:mean-normalized-f32-vocab-prefixed");

  // int8 vectors: similarities within a few hundredths of PyTorch's.
  const Outcome related = run_paperboy(at + "related 2401.00001 --json", "", Printed::kJson);
  ASSERT_EQ(related.exit_code, 0) << related.err;
  EXPECT_NEAR(related_similarity(related.lines[0], "2401.00002"), reference_similarity(0, 2), 0.03);
  EXPECT_NEAR(related_similarity(related.lines[0], "2401.00003"), reference_similarity(0, 9), 0.03);

  // The query is embedded by the same transformer: a paper's own text finds it, similarity ~1.
  const Outcome searched = run_paperboy(
      at + "search --mode semantic --json 'The Cafe model learns with the deep network.'", "",
      Printed::kJson);
  ASSERT_EQ(searched.exit_code, 0) << searched.err;
  ASSERT_FALSE(searched.lines[0]["results"].empty());
  EXPECT_EQ(searched.lines[0]["results"][0]["id"], "2401.00003");
  EXPECT_GT(searched.lines[0]["results"][0]["score"].get<float>(), 0.97f);

  // A paper ingested later gets its vector from the transformer too.
  ASSERT_EQ(run_paperboy(at + "ingest " + write_papers("second.jsonl", {{4, 1}}).string(), "",
                         Printed::kText)
                .exit_code,
            0);
  const Outcome added = run_paperboy(at + "related 2401.00004 --json", "", Printed::kJson);
  ASSERT_EQ(added.exit_code, 0) << added.err;
  EXPECT_NEAR(related_similarity(added.lines[0], "2401.00001"), reference_similarity(1, 0), 0.03);
  EXPECT_EQ(vectors_identity(data), "sentence-encoder/1:mean-normalized-f32-vocab-prefixed");
}

TEST_F(EncoderAsEmbedder, ABrokenCheckpointLeavesTheVectorsAsTheyWere) {
  const fs::path data = root_ / "data-broken";
  const std::string at = "--data " + data.string() + " ";
  ASSERT_EQ(run_paperboy(at + "ingest " + write_papers("broken.jsonl", {{1, 0}, {2, 9}}).string(),
                         "", Printed::kText)
                .exit_code,
            0);
  ASSERT_EQ(
      run_paperboy(at + "embed train --encoder " + model().string(), "", Printed::kText).exit_code,
      0);
  const std::string current = read_file(data / "vectors" / "CURRENT");

  const fs::path broken = root_ / "broken-model";
  fs::copy(model(), broken, fs::copy_options::recursive);
  fs::remove(broken / "model.safetensors");
  const Outcome failed =
      run_paperboy(at + "embed train --encoder " + broken.string(), "", Printed::kText);
  EXPECT_EQ(failed.exit_code, 1);
  EXPECT_NE(failed.err.find("model.safetensors"), std::string::npos) << failed.err;
  EXPECT_EQ(read_file(data / "vectors" / "CURRENT"), current);
  EXPECT_EQ(run_paperboy(at + "related 2401.00001 --json", "", Printed::kJson).exit_code, 0);
}

}  // namespace
