#include "encoder/safetensors.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <bit>
#include <cerrno>
#include <cmath>
#include <cstring>
#include <limits>
#include <nlohmann/json.hpp>
#include <utility>

namespace paperboy::encoder {
namespace {

// Tensor bytes are little-endian and used in place.
static_assert(std::endian::native == std::endian::little);

constexpr size_t kHeaderLengthBytes = 8;
// The format caps the header at 100 MB; a larger length means a corrupt or foreign file.
constexpr uint64_t kMaxHeaderBytes = 100'000'000;

std::string errno_text() { return std::strerror(errno); }

size_t element_bytes(TensorType type) { return type == TensorType::kF32 ? 4 : 2; }

Result<TensorInfo> parse_tensor(const std::string& where, const nlohmann::json& entry,
                                size_t data_bytes) {
  if (!entry.is_object())
    return fail(where + ": expected an object with dtype, shape, data_offsets");
  const auto dtype = entry.find("dtype");
  if (dtype == entry.end() || !dtype->is_string()) return fail(where + ": missing dtype");
  TensorInfo info;
  const std::string dtype_name = dtype->get<std::string>();
  if (dtype_name == "F32") {
    info.type = TensorType::kF32;
  } else if (dtype_name == "F16") {
    info.type = TensorType::kF16;
  } else {
    return fail(where + ": unsupported dtype " + dtype_name + " (supported: F32, F16)");
  }

  const auto shape = entry.find("shape");
  if (shape == entry.end() || !shape->is_array()) return fail(where + ": missing shape");
  size_t elements = 1;
  for (const nlohmann::json& extent : *shape) {
    if (!extent.is_number_unsigned()) return fail(where + ": shape holds a non-integer extent");
    const uint64_t value = extent.get<uint64_t>();
    if (value != 0 && elements > std::numeric_limits<size_t>::max() / 8 / value)
      return fail(where + ": shape is too large");
    elements *= value;
    info.shape.push_back(value);
  }

  const auto offsets = entry.find("data_offsets");
  if (offsets == entry.end() || !offsets->is_array() || offsets->size() != 2 ||
      !(*offsets)[0].is_number_unsigned() || !(*offsets)[1].is_number_unsigned())
    return fail(where + ": data_offsets must be [begin, end]");
  info.begin = (*offsets)[0].get<uint64_t>();
  info.end = (*offsets)[1].get<uint64_t>();
  const std::string range =
      "data_offsets [" + std::to_string(info.begin) + ", " + std::to_string(info.end) + "]";
  if (info.begin > info.end) return fail(where + ": " + range + " run backwards");
  if (info.end > data_bytes)
    return fail(where + ": " + range + " run past the end of the data (" +
                std::to_string(data_bytes) + " bytes; is the file truncated?)");
  if (info.end - info.begin != elements * element_bytes(info.type))
    return fail(where + ": " + range + " hold " + std::to_string(info.end - info.begin) +
                " bytes but " + dtype_name + " " + shape_text(info.shape) + " needs " +
                std::to_string(elements * element_bytes(info.type)));
  return info;
}

}  // namespace

std::string shape_text(std::span<const size_t> shape) {
  std::string text = "[";
  for (size_t i = 0; i < shape.size(); ++i) text += (i ? ", " : "") + std::to_string(shape[i]);
  return text + "]";
}

float half_to_float(uint16_t half) {
  const uint32_t sign = static_cast<uint32_t>(half & 0x8000u) << 16;
  const uint32_t exponent = (half >> 10) & 0x1fu;
  const uint32_t mantissa = half & 0x3ffu;
  if (exponent == 0) {
    // Zero or subnormal: mantissa * 2^-24, exact in single precision.
    const float magnitude = std::ldexp(static_cast<float>(mantissa), -24);
    return sign ? -magnitude : magnitude;
  }
  if (exponent == 0x1f) return std::bit_cast<float>(sign | 0x7f800000u | (mantissa << 13));
  return std::bit_cast<float>(sign | ((exponent + 112) << 23) | (mantissa << 13));
}

Result<SafetensorsFile> SafetensorsFile::open(const std::filesystem::path& path) {
  const std::string name = path.string();
  const int fd = ::open(name.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return fail(name + ": cannot open: " + errno_text());
  struct stat status {};
  if (::fstat(fd, &status) != 0) {
    const std::string reason = errno_text();
    ::close(fd);
    return fail(name + ": cannot stat: " + reason);
  }
  const size_t size = static_cast<size_t>(status.st_size);
  if (size < kHeaderLengthBytes) {
    ::close(fd);
    return fail(name + ": corrupt safetensors header: file has " + std::to_string(size) +
                " bytes, fewer than the 8-byte header length");
  }
  void* mapped = ::mmap(nullptr, size, PROT_READ, MAP_SHARED, fd, 0);
  const std::string map_error = errno_text();
  ::close(fd);
  if (mapped == MAP_FAILED) return fail(name + ": cannot mmap: " + map_error);

  SafetensorsFile file;
  file.path_ = path;
  file.mapped_ = static_cast<const std::byte*>(mapped);
  file.size_ = size;

  uint64_t header_bytes = 0;
  for (size_t i = 0; i < kHeaderLengthBytes; ++i)
    header_bytes |= static_cast<uint64_t>(file.mapped_[i]) << (8 * i);
  if (header_bytes > kMaxHeaderBytes || header_bytes > size - kHeaderLengthBytes)
    return fail(name + ": corrupt safetensors header: header length " +
                std::to_string(header_bytes) + " exceeds the file's " + std::to_string(size) +
                " bytes");
  file.data_ = file.mapped_ + kHeaderLengthBytes + header_bytes;
  const size_t data_bytes = size - kHeaderLengthBytes - header_bytes;

  nlohmann::json header;
  try {
    header = nlohmann::json::parse(reinterpret_cast<const char*>(file.mapped_ + kHeaderLengthBytes),
                                   reinterpret_cast<const char*>(file.data_));
  } catch (const nlohmann::json::exception& error) {
    return fail(name + ": corrupt safetensors header: " + error.what());
  }
  if (!header.is_object()) return fail(name + ": corrupt safetensors header: not a JSON object");
  for (const auto& [tensor_name, entry] : header.items()) {
    if (tensor_name == "__metadata__") continue;
    auto info = parse_tensor(name + ": tensor '" + tensor_name + "'", entry, data_bytes);
    if (!info) return std::unexpected(info.error());
    file.tensors_.emplace(tensor_name, std::move(*info));
  }
  return file;
}

SafetensorsFile::SafetensorsFile(SafetensorsFile&& other) noexcept
    : path_(std::move(other.path_)),
      mapped_(std::exchange(other.mapped_, nullptr)),
      size_(std::exchange(other.size_, 0)),
      data_(std::exchange(other.data_, nullptr)),
      tensors_(std::move(other.tensors_)),
      converted_(std::move(other.converted_)) {}

SafetensorsFile& SafetensorsFile::operator=(SafetensorsFile&& other) noexcept {
  if (this != &other) {
    if (mapped_) ::munmap(const_cast<std::byte*>(mapped_), size_);
    path_ = std::move(other.path_);
    mapped_ = std::exchange(other.mapped_, nullptr);
    size_ = std::exchange(other.size_, 0);
    data_ = std::exchange(other.data_, nullptr);
    tensors_ = std::move(other.tensors_);
    converted_ = std::move(other.converted_);
  }
  return *this;
}

SafetensorsFile::~SafetensorsFile() {
  if (mapped_) ::munmap(const_cast<std::byte*>(mapped_), size_);
}

Result<std::span<const float>> SafetensorsFile::floats(const std::string& name,
                                                       std::span<const size_t> expected_shape) {
  const auto found = tensors_.find(name);
  if (found == tensors_.end()) return fail(path_.string() + ": missing tensor '" + name + "'");
  const TensorInfo& info = found->second;
  if (!std::ranges::equal(info.shape, expected_shape))
    return fail(path_.string() + ": tensor '" + name + "' has shape " + shape_text(info.shape) +
                ", expected " + shape_text(expected_shape));
  const std::byte* bytes = data_ + info.begin;
  const size_t count = (info.end - info.begin) / element_bytes(info.type);
  if (info.type == TensorType::kF32 && reinterpret_cast<uintptr_t>(bytes) % alignof(float) == 0)
    return std::span<const float>(reinterpret_cast<const float*>(bytes), count);

  auto buffer = std::make_unique<float[]>(count);
  if (info.type == TensorType::kF32) {
    std::memcpy(buffer.get(), bytes, count * sizeof(float));
  } else {
    for (size_t i = 0; i < count; ++i) {
      uint16_t half;
      std::memcpy(&half, bytes + 2 * i, sizeof(half));
      buffer[i] = half_to_float(half);
    }
  }
  const std::span<const float> values(buffer.get(), count);
  converted_.push_back(std::move(buffer));
  return values;
}

}  // namespace paperboy::encoder
