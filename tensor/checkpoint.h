// Checkpoints: named float32 tensors plus a free-form JSON metadata blob in one binary file
// (the format is specified in docs/checkpoint-format.md).
//
//   save_checkpoint(path, tensors, meta)   writes atomically: a temporary file in the same directory, fsync,
//                                          rename over `path`, fsync of the directory. An existing checkpoint
//                                          at `path` is never half-overwritten: after a failure it is
//                                          untouched and the temporary file is removed.
//   load_checkpoint(path)                  reads and validates everything (magic, version, sizes against the
//                                          file length, CRC32, the tensor table) before returning anything;
//                                          a bad file is refused with an exception naming the file and the
//                                          problem ("truncated: expected N bytes, file has M", ...).
//   Checkpoint::load_into(targets)         copies the saved values into live tensors (any device) after
//                                          checking that the names and shapes match exactly.
#pragma once
#include <cstddef>
#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "tensor/tensor.h"

namespace facet {

inline constexpr char kCheckpointMagic[8] = {'F', 'A', 'C', 'E', 'T', 'C', 'K', 'P'};
inline constexpr uint32_t kCheckpointVersion = 1;

// Writes `tensors` (each defined, names unique and non-empty; CUDA tensors are copied to the host) and `meta`
// (any JSON value: model name, config, label scheme, normalisation, epoch, optimizer scalars, ...).
// Throws std::runtime_error naming the path and the system error when the file cannot be written.
void save_checkpoint(const std::string& path, const std::vector<NamedTensor>& tensors,
                     const nlohmann::json& meta);

// A loaded, validated checkpoint. Its tensors live on the CPU, in file order.
struct Checkpoint {
  std::string path;
  uint32_t version = 0;
  nlohmann::json meta;
  std::vector<NamedTensor> tensors;

  const Tensor* find(std::string_view name) const;  // null when absent
  const Tensor& at(std::string_view name) const;    // throws, naming the checkpoint, when absent

  // Copies every checkpoint tensor into the target of the same name. Refused (nothing is copied) when a
  // target is missing from the checkpoint, a shape differs (the message names the tensor and both shapes),
  // or the checkpoint holds a tensor no target asks for, unless its name starts with one of
  // `ignore_prefixes` (e.g. {"optim/"} to load only a model from a training checkpoint).
  void load_into(const std::vector<NamedTensor>& targets,
                 const std::vector<std::string>& ignore_prefixes = {}) const;
};

Checkpoint load_checkpoint(const std::string& path);

// CRC-32 (IEEE 802.3, reflected polynomial 0xEDB88320, as zlib and PNG): crc32("123456789") = 0xCBF43926.
// Incremental: crc32_update(crc32_update(0, a), b) == crc32(a + b).
uint32_t crc32_update(uint32_t crc, const void* data, size_t n);
inline uint32_t crc32(const void* data, size_t n) {
  return crc32_update(0, data, n);
}

namespace detail {
// For the tests of atomicity only: when >= 0, the next saves fail with EIO once that many bytes of the
// temporary file are written (as a full disk would). -1 turns it off.
void set_checkpoint_write_fault(int64_t fail_after_bytes);
}  // namespace detail

}  // namespace facet
