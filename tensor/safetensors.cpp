#include "tensor/safetensors.h"

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <limits>
#include <nlohmann/json.hpp>
#include <numeric>
#include <set>
#include <stdexcept>

#include "data/io/atomic_file.h"

namespace facet {

static_assert(std::endian::native == std::endian::little, "safetensors are little-endian; so is every host facet targets");

size_t safetensors_dtype_size(std::string_view d) {
  if (d == "F64" || d == "I64" || d == "U64") return 8;
  if (d == "F32" || d == "I32" || d == "U32") return 4;
  if (d == "F16" || d == "BF16" || d == "I16" || d == "U16") return 2;
  if (d == "I8" || d == "U8" || d == "BOOL") return 1;
  return 0;
}

int64_t SafeTensor::numel() const {
  int64_t n = 1;
  for (int64_t d : shape) n *= d;
  return n;
}

// IEEE binary16 -> binary32: sign, 5-bit exponent (bias 15), 10-bit mantissa; subnormals are m * 2^-24.
static float half_to_float(uint16_t h) {
  const uint32_t sign = uint32_t(h >> 15) << 31, exp = (h >> 10) & 0x1f, man = h & 0x3ff;
  float mag;
  if (exp == 0) mag = std::ldexp(float(man), -24);
  else if (exp == 31) mag = man ? std::numeric_limits<float>::quiet_NaN() : std::numeric_limits<float>::infinity();
  else mag = std::ldexp(float(man | 0x400), int(exp) - 25);
  return sign ? -mag : mag;
}

template <class T>
static void cast_all(const std::vector<uint8_t>& bytes, std::vector<float>& out) {
  for (size_t i = 0; i < out.size(); ++i) {
    T v;
    std::memcpy(&v, bytes.data() + i * sizeof(T), sizeof(T));
    out[i] = float(v);
  }
}

std::vector<float> SafeTensor::to_float() const {
  const size_t n = size_t(numel());
  std::vector<float> out(n);
  if (dtype == "F32") cast_all<float>(bytes, out);
  else if (dtype == "F64") cast_all<double>(bytes, out);
  else if (dtype == "I64") cast_all<int64_t>(bytes, out);
  else if (dtype == "I32") cast_all<int32_t>(bytes, out);
  else if (dtype == "I16") cast_all<int16_t>(bytes, out);
  else if (dtype == "I8") cast_all<int8_t>(bytes, out);
  else if (dtype == "U8") cast_all<uint8_t>(bytes, out);
  else if (dtype == "U16") cast_all<uint16_t>(bytes, out);
  else if (dtype == "U32") cast_all<uint32_t>(bytes, out);
  else if (dtype == "U64") cast_all<uint64_t>(bytes, out);
  else if (dtype == "F16" || dtype == "BF16") {
    for (size_t i = 0; i < n; ++i) {
      uint16_t h;
      std::memcpy(&h, bytes.data() + 2 * i, 2);
      out[i] = dtype == "F16" ? half_to_float(h) : std::bit_cast<float>(uint32_t(h) << 16);  // bf16: the top half
    }
  } else {
    throw std::runtime_error("tensor '" + name + "' has dtype " + dtype + ", which has no float reading");
  }
  return out;
}

SafeTensor SafeTensor::f32(std::string name, std::vector<int64_t> shape, const float* values) {
  SafeTensor t{std::move(name), "F32", std::move(shape), {}};
  t.bytes.resize(size_t(t.numel()) * 4);
  if (!t.bytes.empty()) std::memcpy(t.bytes.data(), values, t.bytes.size());
  return t;
}

SafeTensor SafeTensor::i64(std::string name, std::vector<int64_t> shape, const int64_t* values) {
  SafeTensor t{std::move(name), "I64", std::move(shape), {}};
  t.bytes.resize(size_t(t.numel()) * 8);
  if (!t.bytes.empty()) std::memcpy(t.bytes.data(), values, t.bytes.size());
  return t;
}

const SafeTensor* SafetensorsFile::find(std::string_view name) const {
  for (const auto& t : tensors)
    if (t.name == name) return &t;
  return nullptr;
}

// ---- read -------------------------------------------------------------------------------------------------------

namespace {

struct Entry {
  std::string name, dtype;
  std::vector<int64_t> shape;
  uint64_t begin = 0, end = 0;
};

// One header entry, checked against the buffer's length `buffer` (so no later arithmetic can overflow).
Entry parse_entry(const std::string& name, const nlohmann::json& j, uint64_t buffer,
                  const std::function<std::runtime_error(const std::string&)>& refuse) {
  auto bad = [&](const std::string& why) { return refuse("tensor '" + name + "': " + why); };
  if (!j.is_object()) throw bad("its entry is not an object {\"dtype\", \"shape\", \"data_offsets\"}");
  for (const auto& [key, value] : j.items())
    if (key != "dtype" && key != "shape" && key != "data_offsets") throw bad("unknown field '" + key + "'");
  Entry e;
  e.name = name;
  if (!j.contains("dtype") || !j["dtype"].is_string()) throw bad("no \"dtype\" string");
  e.dtype = j["dtype"].get<std::string>();
  const size_t elem = safetensors_dtype_size(e.dtype);
  if (elem == 0) throw bad("unknown dtype '" + e.dtype + "'");
  if (!j.contains("shape") || !j["shape"].is_array()) throw bad("no \"shape\" array");
  // Every dim <= buffer, and the running product checked against buffer before each multiply: no overflow.
  uint64_t bytes = elem;
  for (const auto& d : j["shape"]) {
    if (!d.is_number_unsigned()) throw bad("shape " + j["shape"].dump() + " holds a dimension that is not an integer >= 0");
    const uint64_t v = d.get<uint64_t>();
    if (v > buffer) throw bad("dimension " + std::to_string(v) + " exceeds the " + std::to_string(buffer) + "-byte data buffer");
    e.shape.push_back(int64_t(v));
    if (v != 0 && bytes > buffer / v) throw bad("shape " + j["shape"].dump() + " needs more bytes than the data buffer holds (" + std::to_string(buffer) + ")");
    bytes *= v;
  }
  const auto& off = j.contains("data_offsets") ? j["data_offsets"] : nlohmann::json();
  if (!off.is_array() || off.size() != 2 || !off[0].is_number_unsigned() || !off[1].is_number_unsigned())
    throw bad("\"data_offsets\" is not [begin, end] of integers >= 0");
  e.begin = off[0].get<uint64_t>();
  e.end = off[1].get<uint64_t>();
  if (e.begin > e.end || e.end > buffer)
    throw bad("data_offsets [" + std::to_string(e.begin) + ", " + std::to_string(e.end) + "] lie outside the " +
              std::to_string(buffer) + "-byte data buffer (truncated file?)");
  if (e.end - e.begin != bytes)
    throw bad(e.dtype + " shape " + j["shape"].dump() + " is " + std::to_string(bytes) + " bytes, but data_offsets span " +
              std::to_string(e.end - e.begin));
  return e;
}

}  // namespace

SafetensorsFile parse_safetensors(const uint8_t* data, size_t size, const std::string& what) {
  auto refuse = [&](const std::string& why) {
    return std::runtime_error("safetensors file '" + what + "' refused: " + why);
  };
  if (size < 8) throw refuse("truncated: " + std::to_string(size) + " bytes, fewer than the 8-byte header length");
  uint64_t n;
  std::memcpy(&n, data, 8);
  if (n > kMaxSafetensorsHeader)
    throw refuse("header length " + std::to_string(n) + " exceeds the format's bound " + std::to_string(kMaxSafetensorsHeader));
  if (n > size - 8)
    throw refuse("truncated: the header is " + std::to_string(n) + " bytes, the file has " + std::to_string(size - 8) + " after the length");
  const char* h = reinterpret_cast<const char*>(data + 8);
  if (n == 0 || h[0] != '{') throw refuse("the header does not start with '{' (not a safetensors file?)");
  nlohmann::json header;
  try {
    header = nlohmann::json::parse(h, h + n);  // UTF-8 checked by the parser; trailing spaces are padding
  } catch (const nlohmann::json::exception& e) {
    throw refuse("the header is not valid JSON: " + std::string(e.what()));
  }
  if (!header.is_object()) throw refuse("the header is not a JSON object");
  const uint64_t buffer = size - 8 - n;
  SafetensorsFile out;
  out.path = what;
  std::vector<Entry> entries;
  for (const auto& [key, value] : header.items()) {
    if (key == "__metadata__") {
      if (!value.is_object()) throw refuse("__metadata__ is not an object of strings");
      for (const auto& [mk, mv] : value.items()) {
        if (!mv.is_string()) throw refuse("__metadata__ key '" + mk + "' is not a string");
        out.metadata[mk] = mv.get<std::string>();
      }
      continue;
    }
    entries.push_back(parse_entry(key, value, buffer, refuse));
  }
  // The tensors must tile the buffer: sorted by begin, each starts where the previous ended, the last ends at the
  // buffer's end (the reference reader's rule; it also rules out overlap, which would alias two tensors).
  std::sort(entries.begin(), entries.end(), [](const Entry& a, const Entry& b) {
    return a.begin != b.begin ? a.begin < b.begin : a.end < b.end;
  });
  uint64_t at = 0;
  for (const auto& e : entries) {
    if (e.begin != at)
      throw refuse("tensor '" + e.name + "' starts at byte " + std::to_string(e.begin) + " of the data buffer, expected " +
                   std::to_string(at) + (e.begin < at ? " (it overlaps the tensor before it)" : " (a gap before it)"));
    at = e.end;
  }
  if (at != buffer)
    throw refuse("the tensors cover " + std::to_string(at) + " bytes of the " + std::to_string(buffer) +
                 "-byte data buffer (trailing bytes after the last tensor)");
  const uint8_t* buf = data + 8 + n;
  for (auto& e : entries)
    out.tensors.push_back({e.name, e.dtype, e.shape, std::vector<uint8_t>(buf + e.begin, buf + e.end)});
  return out;
}

SafetensorsFile read_safetensors(const std::string& path) {
  std::error_code ec;
  if (!std::filesystem::is_regular_file(path, ec))
    throw std::runtime_error("safetensors file '" + path + "' does not exist or is not a regular file");
  const uint64_t size = std::filesystem::file_size(path, ec);
  if (ec) throw std::runtime_error("cannot read safetensors file '" + path + "': " + ec.message());
  std::ifstream in(path, std::ios::binary);
  std::vector<uint8_t> bytes(static_cast<size_t>(size));  // the file's own length: no header can ask for more
  if (!in.read(reinterpret_cast<char*>(bytes.data()), std::streamsize(size)))
    throw std::runtime_error("cannot read safetensors file '" + path + "' (" + std::to_string(size) + " bytes)");
  return parse_safetensors(bytes.data(), bytes.size(), path);
}

// ---- write ------------------------------------------------------------------------------------------------------

std::string encode_safetensors(const std::vector<SafeTensor>& tensors, const std::map<std::string, std::string>& metadata) {
  std::set<std::string> seen;
  std::vector<const SafeTensor*> order;
  for (const auto& t : tensors) {
    if (t.name.empty() || t.name == "__metadata__" || !seen.insert(t.name).second)
      throw std::invalid_argument("safetensors: tensor name '" + t.name + "' is empty, reserved or repeated");
    const size_t elem = safetensors_dtype_size(t.dtype);
    if (elem == 0 || t.bytes.size() != size_t(t.numel()) * elem)
      throw std::invalid_argument("safetensors: tensor '" + t.name + "' holds " + std::to_string(t.bytes.size()) +
                                  " bytes, not what dtype '" + t.dtype + "' and its shape need");
    order.push_back(&t);
  }
  std::stable_sort(order.begin(), order.end(), [](const SafeTensor* a, const SafeTensor* b) {
    return safetensors_dtype_size(a->dtype) > safetensors_dtype_size(b->dtype);
  });
  nlohmann::ordered_json header;
  if (!metadata.empty()) header["__metadata__"] = metadata;
  uint64_t at = 0;
  for (const SafeTensor* t : order) {
    header[t->name] = {{"dtype", t->dtype}, {"shape", t->shape}, {"data_offsets", {at, at + t->bytes.size()}}};
    at += t->bytes.size();
  }
  std::string json = header.dump();
  json.append((8 - json.size() % 8) % 8, ' ');  // the buffer starts 8-byte aligned
  std::string out(8, '\0');
  const uint64_t n = json.size();
  std::memcpy(out.data(), &n, 8);
  out += json;
  out.reserve(out.size() + at);
  for (const SafeTensor* t : order) out.append(reinterpret_cast<const char*>(t->bytes.data()), t->bytes.size());
  return out;
}

void write_safetensors(const std::string& path, const std::vector<SafeTensor>& tensors,
                       const std::map<std::string, std::string>& metadata) {
  io::write_file_atomic(path, encode_safetensors(tensors, metadata));
}

}  // namespace facet
