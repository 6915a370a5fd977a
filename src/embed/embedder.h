// Text -> fixed-size vector, the contract every paper embedder meets: the built-in PPMI-SVD-SIF
// model (sif_model.h) and transformer sentence encoders alike. Vectors are unit length (or all
// zero when the text holds nothing the embedder knows), so cosine similarity is a dot product.
#pragma once

#include <cstddef>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/paper.h"

namespace paperboy::embed {

class Embedder {
 public:
  virtual ~Embedder() = default;

  // Length of every vector this embedder returns.
  virtual size_t dimension() const = 0;

  // Names the model and its exact weights ("ppmi-svd-sif/1:9f3c..."). Stored beside the
  // vectors it produced, so that a different model forces them to be rebuilt.
  virtual std::string identity() const = 0;

  // Writes the vector of `text` to `out` (dimension() floats). Safe to call from several threads.
  virtual void embed(std::string_view text, std::span<float> out) const = 0;

  std::vector<float> embed(std::string_view text) const {
    std::vector<float> vector(dimension());
    embed(text, vector);
    return vector;
  }
};

// The text a paper is embedded from: its title and abstract.
std::string paper_text(const Paper& paper);

}  // namespace paperboy::embed
