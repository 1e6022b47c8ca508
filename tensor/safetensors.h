// safetensors: the container format of Hugging Face's `safetensors` package, read and written without it.
//
//   bytes 0..8        N, the JSON header's length (u64, little-endian)
//   bytes 8..8+N      the header, UTF-8 JSON: {"<name>": {"dtype": "F32", "shape": [2, 3],
//                     "data_offsets": [begin, end]}, ..., "__metadata__": {"<key>": "<string>", ...}}
//   bytes 8+N..       the data buffer; each tensor's bytes are buffer[begin, end), row-major, little-endian
//
// The reader checks everything before it allocates: N against the file's length and kMaxSafetensorsHeader, the
// JSON, every dtype, shape (each dim and the product, without overflow), shape * dtype size == end - begin, the
// offsets inside the buffer, and that the tensors tile the buffer exactly (sorted by offset: no overlap, no gap,
// nothing after the last one), as the format's own reader requires. A refusal is a std::runtime_error naming
// the file and, where there is one, the tensor. So a forged header cannot drive an allocation larger than the
// file it came in. The container knows nothing of facet's Tensor: models/export.h maps it onto models.
#pragma once
#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

namespace facet {

// The header's bound: 100 MB, the bound of the format's reference reader (a header that large already describes
// millions of tensors).
inline constexpr uint64_t kMaxSafetensorsHeader = 100'000'000;

struct SafeTensor {
  std::string name;
  std::string dtype;           // "F32", "F64", "F16", "BF16", "I64", "I32", "I16", "I8", "U8", "BOOL"
  std::vector<int64_t> shape;  // empty: a scalar (one element)
  std::vector<uint8_t> bytes;  // numel * dtype_size(dtype), little-endian

  int64_t numel() const;
  // The values as float32: F32 as is, F64/F16/BF16 converted, integers cast. Throws naming the tensor for BOOL.
  std::vector<float> to_float() const;
  static SafeTensor f32(std::string name, std::vector<int64_t> shape, const float* values);
  static SafeTensor i64(std::string name, std::vector<int64_t> shape, const int64_t* values);
};

struct SafetensorsFile {
  std::string path;  // or what the bytes were called (parse_safetensors)
  std::map<std::string, std::string> metadata;
  std::vector<SafeTensor> tensors;  // in the order of their offsets

  const SafeTensor* find(std::string_view name) const;  // null when absent
};

// Bytes per element of a dtype name; 0 for a name the format does not define.
size_t safetensors_dtype_size(std::string_view dtype);

// Reads and validates a whole file. Throws std::runtime_error naming `path` (and the tensor) on any fault.
SafetensorsFile read_safetensors(const std::string& path);
// The same on bytes in memory; `what` names them in errors.
SafetensorsFile parse_safetensors(const uint8_t* data, size_t size, const std::string& what);

// The file's bytes. As the reference writer: the header is padded with spaces so the buffer starts at a multiple
// of 8, and the tensors lie back to back (the reader refuses gaps), widest dtype first (stable), so every tensor
// starts aligned to its element size. Throws std::invalid_argument on an empty or repeated name, the name
// "__metadata__", an unknown dtype, or bytes that do not match dtype and shape.
std::string encode_safetensors(const std::vector<SafeTensor>& tensors, const std::map<std::string, std::string>& metadata);
// encode_safetensors written atomically (data/io/atomic_file.h): `path` is its old content or the whole new one.
void write_safetensors(const std::string& path, const std::vector<SafeTensor>& tensors,
                       const std::map<std::string, std::string>& metadata);

}  // namespace facet
