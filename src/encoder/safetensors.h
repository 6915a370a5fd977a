// Reads a safetensors file (https://huggingface.co/docs/safetensors): an 8-byte little-endian
// header length, a JSON header naming each tensor's dtype, shape and byte range, then the raw
// tensor bytes. The file is memory-mapped; F32 tensors are used in place, F16 ones converted.
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "core/result.h"

namespace paperboy::encoder {

enum class TensorType { kF32, kF16 };

struct TensorInfo {
  TensorType type = TensorType::kF32;
  std::vector<size_t> shape;
  size_t begin = 0;  // byte offset into the data section
  size_t end = 0;
};

// "[384, 1536]", for messages.
std::string shape_text(std::span<const size_t> shape);

class SafetensorsFile {
 public:
  // Maps the file and validates the whole header: every tensor's dtype is supported, its shape
  // matches its byte range and the range lies inside the file.
  static Result<SafetensorsFile> open(const std::filesystem::path& path);

  SafetensorsFile(SafetensorsFile&&) noexcept;
  SafetensorsFile& operator=(SafetensorsFile&&) noexcept;
  ~SafetensorsFile();

  const std::filesystem::path& path() const { return path_; }
  bool contains(const std::string& name) const { return tensors_.contains(name); }
  const std::map<std::string, TensorInfo>& tensors() const { return tensors_; }

  // The tensor as floats, checked against `expected_shape`. F32 data that is suitably aligned
  // is returned in place (valid while this file is open); anything else is converted into a
  // buffer this object keeps.
  Result<std::span<const float>> floats(const std::string& name,
                                        std::span<const size_t> expected_shape);

  // The header and data bytes as mapped, for fingerprinting.
  std::span<const std::byte> bytes() const { return {mapped_, size_}; }

 private:
  SafetensorsFile() = default;

  std::filesystem::path path_;
  const std::byte* mapped_ = nullptr;
  size_t size_ = 0;
  const std::byte* data_ = nullptr;  // start of the data section
  std::map<std::string, TensorInfo> tensors_;
  std::vector<std::unique_ptr<float[]>> converted_;
};

// IEEE 754 half precision to single precision, exactly (subnormals, infinities and NaN kept).
float half_to_float(uint16_t half);

}  // namespace paperboy::encoder
