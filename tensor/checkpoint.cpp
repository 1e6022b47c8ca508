// Checkpoint writer and validating reader (format: docs/checkpoint-format.md).
#include "tensor/checkpoint.h"

#include "data/io/atomic_file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <bit>
#include <cmath>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <limits>
#include <set>
#include <sstream>
#include <stdexcept>

namespace facet {

namespace {

// ---- layout constants (docs/checkpoint-format.md) ---------------------------------------------------------
constexpr uint64_t kHeaderSize = 64;
constexpr uint64_t kAlign = 64;  // the data section and every tensor in it start on 64-byte boundaries
constexpr uint32_t kDtypeF32 = 0;
constexpr uint32_t kMaxRank = 8;
constexpr uint32_t kMaxNameLength = 4096;

uint64_t align_up(uint64_t x) {
  return (x + kAlign - 1) / kAlign * kAlign;
}

// ---- CRC-32
// ------------------------------------------------------------------------------------------------
// Byte-at-a-time table: table[b] is the CRC register after shifting the byte b through 8 rounds of the
// reflected polynomial; then crc = table[(crc ^ byte) & 0xFF] ^ (crc >> 8) for each byte.
constexpr std::array<uint32_t, 256> make_crc_table() {
  std::array<uint32_t, 256> t{};
  for (uint32_t b = 0; b < 256; ++b) {
    uint32_t c = b;
    for (int k = 0; k < 8; ++k) c = (c & 1u) ? 0xEDB88320u ^ (c >> 1) : c >> 1;
    t[b] = c;
  }
  return t;
}
constexpr std::array<uint32_t, 256> kCrcTable = make_crc_table();

// ---- little-endian encoding
// --------------------------------------------------------------------------------
void put_u32(std::string& out, uint32_t v) {
  for (int i = 0; i < 4; ++i) out.push_back(char((v >> (8 * i)) & 0xFFu));
}
void put_u64(std::string& out, uint64_t v) {
  for (int i = 0; i < 8; ++i) out.push_back(char((v >> (8 * i)) & 0xFFu));
}
uint32_t get_u32(const unsigned char* p) {
  uint32_t v = 0;
  for (int i = 3; i >= 0; --i) v = (v << 8) | p[i];
  return v;
}
uint64_t get_u64(const unsigned char* p) {
  uint64_t v = 0;
  for (int i = 7; i >= 0; --i) v = (v << 8) | p[i];
  return v;
}

// Float data is stored little-endian; on a big-endian host each value's bytes are swapped.
void floats_to_le(std::vector<float>& v) {
  if constexpr (std::endian::native == std::endian::big) {
    for (float& f : v) {
      uint32_t u;
      std::memcpy(&u, &f, 4);
      u = __builtin_bswap32(u);
      std::memcpy(&f, &u, 4);
    }
  } else {
    (void)v;
  }
}
void floats_from_le(float* dst, const unsigned char* src, int64_t n) {
  std::memcpy(dst, src, size_t(n) * 4);
  if constexpr (std::endian::native == std::endian::big) {
    for (int64_t i = 0; i < n; ++i) {
      uint32_t u;
      std::memcpy(&u, dst + i, 4);
      u = __builtin_bswap32(u);
      std::memcpy(dst + i, &u, 4);
    }
  }
}

std::string sys_error() {
  return std::strerror(errno);
}

// The temporary file of one save (io::AtomicFile: written, fsynced, renamed over the target; removed unless
// committed), plus the running CRC32 of what went into it.
class TempFile {
 public:
  explicit TempFile(const std::string& target) : file_(target) {}
  void write(const void* data, size_t n) {
    crc_ = crc32_update(crc_, data, n);
    file_.write(data, n);
  }
  void write(const std::string& s) { write(s.data(), s.size()); }
  void zeros(uint64_t n) { write(std::string(size_t(n), '\0')); }
  uint64_t written() const { return file_.written(); }
  uint32_t crc() const { return crc_; }
  void commit() { file_.commit(); }

 private:
  io::AtomicFile file_;
  uint32_t crc_ = 0;
};

// The first non-finite value of a tensor's host copy: its index, or -1 when all are finite.
int64_t first_non_finite(const std::vector<float>& v) {
  for (size_t i = 0; i < v.size(); ++i)
    if (!std::isfinite(v[i])) return int64_t(i);
  return -1;
}

}  // namespace

uint32_t crc32_update(uint32_t crc, const void* data, size_t n) {
  const unsigned char* p = static_cast<const unsigned char*>(data);
  crc = ~crc;
  for (size_t i = 0; i < n; ++i) crc = kCrcTable[(crc ^ p[i]) & 0xFFu] ^ (crc >> 8);
  return ~crc;
}

void detail::set_checkpoint_write_fault(int64_t fail_after_bytes) {
  io::detail::set_write_fault(fail_after_bytes);
}

// ---- save
// ----------------------------------------------------------------------------------------------------

void save_checkpoint(const std::string& path, const std::vector<NamedTensor>& tensors,
                     const nlohmann::json& meta) {
  const std::string where = "save_checkpoint '" + path + "': ";
  std::set<std::string> names;
  for (size_t i = 0; i < tensors.size(); ++i) {
    const NamedTensor& t = tensors[i];
    if (t.name.empty() || t.name.size() > kMaxNameLength)
      throw std::invalid_argument(where + "tensor #" + std::to_string(i) + " has a name of " +
                                  std::to_string(t.name.size()) + " bytes (needs 1 to " +
                                  std::to_string(kMaxNameLength) + ")");
    if (!names.insert(t.name).second)
      throw std::invalid_argument(where + "two tensors are named '" + t.name + "' (names must be unique)");
    if (!t.tensor.defined()) throw std::invalid_argument(where + "tensor '" + t.name + "' is undefined");
    if (t.tensor.dim() > int(kMaxRank))
      throw std::invalid_argument(where + "tensor '" + t.name + "' has rank " +
                                  std::to_string(t.tensor.dim()) + " (at most " + std::to_string(kMaxRank) +
                                  ")");
  }
  std::string meta_text;
  try {
    meta_text = meta.dump();
  } catch (const nlohmann::json::exception& e) {
    throw std::invalid_argument(where + "the metadata cannot be written as JSON: " + e.what());
  }

  // Layout: header | metadata | table | zero pad | data (each tensor 64-aligned) | CRC32.
  std::vector<uint64_t> offsets(tensors.size());  // (tensors) byte offset of each tensor in the data section
  uint64_t data_size = 0;
  for (size_t i = 0; i < tensors.size(); ++i) {
    offsets[i] = i == 0 ? 0 : align_up(data_size);
    data_size = offsets[i] + uint64_t(tensors[i].tensor.numel()) * 4;
  }
  std::string table;
  for (size_t i = 0; i < tensors.size(); ++i) {
    const NamedTensor& t = tensors[i];
    put_u32(table, uint32_t(t.name.size()));
    table += t.name;
    put_u32(table, kDtypeF32);
    put_u32(table, uint32_t(t.tensor.dim()));
    for (int64_t d : t.tensor.shape()) put_u64(table, uint64_t(d));
    put_u64(table, offsets[i]);
    put_u64(table, uint64_t(t.tensor.numel()) * 4);
  }
  const uint64_t data_offset = align_up(kHeaderSize + meta_text.size() + table.size());
  const uint64_t file_size = data_offset + data_size + 4;

  std::string head(kCheckpointMagic, 8);
  put_u32(head, kCheckpointVersion);
  put_u32(head, uint32_t(tensors.size()));
  put_u64(head, file_size);
  put_u64(head, meta_text.size());
  put_u64(head, table.size());
  put_u64(head, data_offset);
  put_u64(head, data_size);
  put_u64(head, 0);  // reserved
  head += meta_text;
  head += table;
  head.resize(size_t(data_offset), '\0');

  TempFile file(path);
  file.write(head);
  for (size_t i = 0; i < tensors.size(); ++i) {
    file.zeros(data_offset + offsets[i] - file.written());
    std::vector<float> host = tensors[i].tensor.to_vector();  // a host copy, also for CUDA tensors
    // A checkpoint is never written with inf or NaN in it: it would load, and score every face alike.
    if (const int64_t bad = first_non_finite(host); bad >= 0)
      throw std::runtime_error(where + "tensor '" + tensors[i].name + "' holds a non-finite value (" +
                               std::to_string(host[size_t(bad)]) + " at element " + std::to_string(bad) +
                               "); nothing was written (the previous checkpoint, if any, is untouched)");
    floats_to_le(host);
    file.write(host.data(), host.size() * 4);
  }
  std::string crc;
  put_u32(crc, file.crc());
  file.write(crc);
  file.commit();
}

// ---- load
// ----------------------------------------------------------------------------------------------------

namespace {

// The error of a refused checkpoint: "checkpoint '<path>' refused: <why>".
struct Refusal {
  const std::string& path;
  std::runtime_error operator()(const std::string& why) const {
    return std::runtime_error("checkpoint '" + path + "' refused: " + why);
  }
};

// The whole file, read with one descriptor (fstat's size, then read until it is in).
std::vector<unsigned char> read_checkpoint_bytes(const std::string& path) {
  std::vector<unsigned char> bytes;
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) throw std::runtime_error("cannot open checkpoint '" + path + "': " + sys_error());
  struct stat st {};
  if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    ::close(fd);
    throw std::runtime_error("checkpoint '" + path + "' is not a regular file");
  }
  bytes.resize(size_t(st.st_size));
  size_t got = 0;
  while (got < bytes.size()) {
    const ssize_t r = ::read(fd, bytes.data() + got, bytes.size() - got);
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) {
      const std::string err = r < 0 ? sys_error() : "the file shrank while being read";
      ::close(fd);
      throw std::runtime_error("cannot read checkpoint '" + path + "': " + err);
    }
    got += size_t(r);
  }
  ::close(fd);
  return bytes;
}

// The fixed header's fields (see docs/checkpoint-format.md), once check_header has accepted them.
struct Header {
  uint32_t version = 0, count = 0;
  uint64_t file_size = 0, meta_size = 0, table_size = 0, data_offset = 0, data_size = 0;
  uint64_t body() const { return file_size - 4; }  // everything before the CRC
};

// Magic, version, then the file length the header promises, then the CRC over everything before it; the
// section sizes must tile the file exactly (checked without overflow), and the padding be zero.
Header check_header(const unsigned char* b, uint64_t have, const Refusal& refuse) {
  if (have > 0 && std::memcmp(b, kCheckpointMagic, size_t(std::min<uint64_t>(have, 8))) != 0)
    throw refuse("not a facet checkpoint (the file does not start with \"FACETCKP\")");
  if (have < kHeaderSize)
    throw refuse("truncated: expected at least " + std::to_string(kHeaderSize) +
                 " bytes (the header), file has " + std::to_string(have));
  Header h;
  h.version = get_u32(b + 8);
  if (h.version == 0 || h.version > kCheckpointVersion)
    throw refuse("format version " + std::to_string(h.version) +
                 " is not supported (this build reads version " + std::to_string(kCheckpointVersion) +
                 "; was it written by a newer facet?)");
  h.count = get_u32(b + 12);
  h.file_size = get_u64(b + 16), h.meta_size = get_u64(b + 24), h.table_size = get_u64(b + 32);
  h.data_offset = get_u64(b + 40), h.data_size = get_u64(b + 48);
  const uint64_t file_size = h.file_size, meta_size = h.meta_size, table_size = h.table_size;
  const uint64_t data_offset = h.data_offset, data_size = h.data_size;
  if (have < file_size)
    throw refuse("truncated: expected " + std::to_string(file_size) + " bytes, file has " +
                 std::to_string(have));
  if (have > file_size)
    throw refuse("expected " + std::to_string(file_size) + " bytes, file has " + std::to_string(have) +
                 " (trailing bytes: the file is corrupted or something was appended)");
  if (file_size < kHeaderSize + 4)
    throw refuse("the header gives a file size of " + std::to_string(file_size) + " bytes, too small");
  const uint32_t stored_crc = get_u32(b + file_size - 4), crc = crc32(b, size_t(file_size - 4));
  if (stored_crc != crc) {
    std::ostringstream os;
    os << std::hex << "CRC32 mismatch: stored 0x" << stored_crc << ", computed 0x" << crc
       << " (the file is corrupted)";
    throw refuse(os.str());
  }
  if (get_u64(b + 56) != 0) throw refuse("the reserved header field (bytes 56-63) is not zero");

  const uint64_t body = h.body();
  if (meta_size > body || table_size > body || data_offset > body || data_size > body ||
      kHeaderSize + meta_size + table_size > data_offset || data_offset % kAlign != 0 ||
      data_offset + data_size != body)
    throw refuse("inconsistent section sizes in the header (metadata " + std::to_string(meta_size) +
                 ", table " + std::to_string(table_size) + ", data " + std::to_string(data_size) + " at " +
                 std::to_string(data_offset) + ", file " + std::to_string(file_size) + " bytes)");
  for (uint64_t i = kHeaderSize + meta_size + table_size; i < data_offset; ++i)
    if (b[i] != 0) throw refuse("non-zero padding before the data section at byte " + std::to_string(i));
  return h;
}

// The tensor table, every read bounds-checked against the table section; each tensor's bytes must lie in the
// data section, after the previous tensor's (stored in order, not overlapping). A forged size never drives an
// allocation: a shape is accepted only when its bytes are in the file.
std::vector<NamedTensor> read_tensor_table(const unsigned char* b, const Header& h, const Refusal& refuse) {
  const uint64_t body = h.body(), data_size = h.data_size;
  const unsigned char* p = b + kHeaderSize + h.meta_size;
  const unsigned char* const end = p + h.table_size;
  auto need = [&](uint64_t n, const std::string& what) {
    if (uint64_t(end - p) < n) throw refuse("the tensor table ends inside " + what);
  };
  std::vector<NamedTensor> tensors;
  std::set<std::string> names;
  uint64_t data_end = 0;  // end of the previous tensor's bytes
  for (uint32_t i = 0; i < h.count; ++i) {
    const std::string which = "entry " + std::to_string(i);
    need(4, which);
    const uint32_t name_len = get_u32(p);
    p += 4;
    if (name_len == 0 || name_len > kMaxNameLength)
      throw refuse("tensor table " + which + " has a name of " + std::to_string(name_len) + " bytes");
    need(name_len, which + "'s name");
    std::string name(reinterpret_cast<const char*>(p), name_len);
    p += name_len;
    const std::string tname = "tensor '" + name + "'";
    if (!names.insert(name).second) throw refuse(tname + " appears twice");
    need(8, tname);
    const uint32_t dtype = get_u32(p), rank = get_u32(p + 4);
    p += 8;
    if (dtype != kDtypeF32)
      throw refuse(tname + " has dtype code " + std::to_string(dtype) +
                   " (this build reads only 0 = float32)");
    if (rank > kMaxRank) throw refuse(tname + " has rank " + std::to_string(rank));
    need(uint64_t(rank) * 8 + 16, tname);
    Shape shape;
    uint64_t numel = 1;
    bool overflow = false;
    for (uint32_t d = 0; d < rank; ++d, p += 8) {
      const uint64_t n = get_u64(p);
      if (n > uint64_t(std::numeric_limits<int64_t>::max()) || (n != 0 && numel > body / n)) overflow = true;
      if (!overflow) numel *= n;
      shape.push_back(int64_t(n));
    }
    const uint64_t offset = get_u64(p), nbytes = get_u64(p + 8);
    p += 16;
    if (overflow || numel > body / 4 || nbytes != numel * 4)
      throw refuse(tname + " of shape " + shape_str(shape) + " claims " + std::to_string(nbytes) +
                   " bytes (float32 needs 4 per element)");
    if (offset % kAlign != 0 || offset < data_end || offset > data_size || nbytes > data_size - offset)
      throw refuse(tname + " lies outside the data section or overlaps the previous one (bytes " +
                   std::to_string(offset) + "+" + std::to_string(nbytes) + " of " +
                   std::to_string(data_size) + ")");
    data_end = offset + nbytes;
    Tensor t = Tensor::empty(shape);
    floats_from_le(t.data(), b + h.data_offset + offset, int64_t(numel));
    tensors.push_back({std::move(name), std::move(t)});
  }
  if (p != end)
    throw refuse("the tensor table has " + std::to_string(end - p) + " bytes after its " +
                 std::to_string(h.count) + " entries");
  return tensors;
}

}  // namespace

// The file in memory -> header checks -> metadata JSON -> tensor table; any inconsistency is refused, naming the
// file and what is wrong.
Checkpoint load_checkpoint(const std::string& path) {
  const Refusal refuse{path};
  const std::vector<unsigned char> bytes = read_checkpoint_bytes(path);  // the whole file
  const unsigned char* b = bytes.data();
  const Header h = check_header(b, bytes.size(), refuse);
  Checkpoint ck;
  ck.path = path;
  ck.version = h.version;
  try {
    ck.meta = nlohmann::json::parse(b + kHeaderSize, b + kHeaderSize + h.meta_size);
  } catch (const nlohmann::json::exception& e) {
    throw refuse(std::string("the metadata is not valid JSON: ") + e.what());
  }
  ck.tensors = read_tensor_table(b, h, refuse);
  return ck;
}

// ---- Checkpoint
// ----------------------------------------------------------------------------------------------

const Tensor* Checkpoint::find(std::string_view name) const {
  for (const NamedTensor& t : tensors)
    if (t.name == name) return &t.tensor;
  return nullptr;
}

const Tensor& Checkpoint::at(std::string_view name) const {
  if (const Tensor* t = find(name)) return *t;
  throw std::runtime_error("checkpoint '" + path + "' has no tensor named '" + std::string(name) + "'");
}

void Checkpoint::load_into(const std::vector<NamedTensor>& targets,
                           const std::vector<std::string>& ignore_prefixes) const {
  std::vector<std::string> missing, mismatched, unexpected;
  std::set<std::string> wanted;
  for (const NamedTensor& t : targets) {
    if (!wanted.insert(t.name).second)
      throw std::invalid_argument("load_into: two targets are named '" + t.name + "'");
    const Tensor* saved = find(t.name);
    if (!saved)
      missing.push_back("'" + t.name + "'");
    else if (saved->shape() != t.tensor.shape())
      mismatched.push_back("'" + t.name + "' is " + shape_str(saved->shape()) + " in the checkpoint but " +
                           shape_str(t.tensor.shape()) + " here");
  }
  for (const NamedTensor& t : tensors) {
    if (wanted.count(t.name)) continue;
    const bool ignored = std::any_of(ignore_prefixes.begin(), ignore_prefixes.end(),
                                     [&](const std::string& pre) { return t.name.starts_with(pre); });
    if (!ignored) unexpected.push_back("'" + t.name + "'");
  }
  if (!missing.empty() || !mismatched.empty() || !unexpected.empty()) {
    auto list = [](const std::vector<std::string>& v) {
      std::string s;
      for (size_t i = 0; i < v.size() && i < 8; ++i) s += (i ? ", " : "") + v[i];
      if (v.size() > 8) s += ", ... (" + std::to_string(v.size()) + " in all)";
      return s;
    };
    std::vector<std::string> parts;
    if (!mismatched.empty()) parts.push_back("shape mismatch: " + list(mismatched));
    if (!missing.empty()) parts.push_back("missing from the checkpoint: " + list(missing));
    if (!unexpected.empty()) parts.push_back("in the checkpoint but not expected: " + list(unexpected));
    std::string msg = "checkpoint '" + path + "' does not fit the tensors it is loaded into: ";
    for (size_t i = 0; i < parts.size(); ++i) msg += (i ? "; " : "") + parts[i];
    msg += ". Nothing was loaded (was it saved from a different model or configuration?)";
    throw std::runtime_error(msg);
  }
  for (const NamedTensor& t : targets) {
    Tensor dst = t.tensor;
    dst.copy_from(*find(t.name));
  }
}

}  // namespace facet
