// Atomic, checked writes of the files a run directory holds (checkpoints, config.json, metrics, split files,
// reports, PNG curves): a file is either its previous content or its complete new content, never empty or cut
// short, and every failing write, fsync, close or rename throws, naming the file.
//
//   AtomicFile f(path);  f.write(...); ...; f.commit();
//     writes "<path>.tmp.<pid>.<n>" in the same directory (so the rename cannot cross file systems), then
//     fsync, close, rename over `path`, fsync of the directory (so the rename itself survives a power loss).
//     Destroyed without commit() (an exception, a failed write), it removes its temporary file; `path` is
//     untouched.
//   write_file_atomic(path, bytes)      the same for content already in memory.
//   remove_stale_temps(dir)             deletes the temporary files that a process killed during a save left
//                                       in `dir` (those of processes no longer alive); returns their names.
#pragma once
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace facet::io {

class AtomicFile {
 public:
  explicit AtomicFile(std::string target);  // throws when the temporary file cannot be created
  ~AtomicFile();
  AtomicFile(const AtomicFile&) = delete;
  AtomicFile& operator=(const AtomicFile&) = delete;

  void write(const void* data, size_t n);
  void write(std::string_view s) { write(s.data(), s.size()); }
  void commit();
  uint64_t written() const { return written_; }
  const std::string& target() const { return target_; }

 private:
  [[noreturn]] void fail(const char* what, int err);

  std::string target_, path_;
  int fd_ = -1;
  bool committed_ = false;
  uint64_t written_ = 0;
};

void write_file_atomic(const std::string& path, std::string_view bytes);

// True for a name this module gives temporary files: "<anything>.tmp.<digits>.<digits>".
bool is_temp_name(const std::string& filename);
std::vector<std::string> remove_stale_temps(const std::string& dir);

namespace detail {
// For tests of failing writes only: when fail_after_bytes >= 0, writes to targets whose file name ends with
// `name_suffix` (every target when empty) fail with EIO once that many bytes are written, as on a full disk.
// fail_after_bytes = -1 turns it off.
void set_write_fault(int64_t fail_after_bytes, std::string name_suffix = "");
}  // namespace detail

}  // namespace facet::io
