// libFuzzer target: parse_safetensors (tensor/safetensors.cpp) on arbitrary bytes, and the float reading of
// whatever it accepts. Contract under test: a bad file is refused with std::runtime_error before any allocation
// the input's length does not justify; nothing else escapes (no bad_alloc, no json exception, no out-of-bounds
// read). Each input is also tried with its first 8 bytes rewritten to the true header length (the input up to
// its last '}'), which lets the fuzzer past the length check into the JSON, shapes and offsets.
#include <cstring>
#include <stdexcept>
#include <vector>

#include "tensor/safetensors.h"

namespace {

void try_parse(const uint8_t* data, size_t size) {
  try {
    const facet::SafetensorsFile f = facet::parse_safetensors(data, size, "fuzz.safetensors");
    for (const auto& t : f.tensors) {
      try {
        (void)t.to_float();
      } catch (const std::runtime_error&) {
        // BOOL has no float reading: refused with a message
      }
    }
  } catch (const std::runtime_error&) {
    // refused with a message: the expected outcome for almost every input
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  try_parse(data, size);
  if (size > 8) {
    std::vector<uint8_t> bytes(data, data + size);
    size_t end = size;
    while (end > 8 && bytes[end - 1] != '}') --end;
    const uint64_t n = end - 8;
    std::memcpy(bytes.data(), &n, 8);  // little-endian u64, as the format (x86 host)
    try_parse(bytes.data(), bytes.size());
  }
  return 0;
}
