// libFuzzer target: load_checkpoint (tensor/checkpoint.cpp) on arbitrary bytes.
// Contract under test: a bad file is refused with std::runtime_error before any allocation the file's length
// does not justify; nothing else escapes (no bad_alloc, no json exception, no out-of-bounds read).
// Most mutations break the CRC, so each input is tried twice: as is, and with the header's file_size and the
// trailing CRC-32 fixed up, which lets the fuzzer reach the section sizes, the JSON and the tensor table.
#include <cstring>
#include <stdexcept>
#include <vector>

#include "tensor/checkpoint.h"
#include "tests/fuzz/fuzz_util.h"

namespace {

void try_load(const std::vector<uint8_t>& bytes) {
  const std::string path = facet::fuzz::write_scratch("in.ckpt", bytes.data(), bytes.size());
  try {
    const facet::Checkpoint ck = facet::load_checkpoint(path);
    for (const auto& t : ck.tensors) (void)t.tensor.numel();  // touch what was returned
  } catch (const std::runtime_error&) {
    // refused with a message: the expected outcome for almost every input
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::vector<uint8_t> bytes(data, data + size);
  try_load(bytes);
  constexpr size_t kHeader = 64;  // docs/checkpoint-format.md
  if (size >= kHeader + 4) {
    const uint64_t file_size = size;
    std::memcpy(bytes.data() + 16, &file_size, 8);  // little-endian u64, as the format (x86 host)
    const uint32_t crc = facet::crc32(bytes.data(), size - 4);
    std::memcpy(bytes.data() + size - 4, &crc, 4);
    try_load(bytes);
  }
  return 0;
}
