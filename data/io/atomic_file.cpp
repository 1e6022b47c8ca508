#include "data/io/atomic_file.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <mutex>
#include <stdexcept>

namespace facet::io {

namespace {

// The test fault (detail::set_write_fault): a byte budget and the file-name suffix it applies to.
std::mutex g_fault_mutex;
int64_t g_fault_after = -1;
std::string g_fault_suffix;

int64_t fault_budget(const std::string& target) {
  std::lock_guard<std::mutex> lock(g_fault_mutex);
  if (g_fault_after < 0) return -1;
  if (!g_fault_suffix.empty() && (target.size() < g_fault_suffix.size() ||
                                  target.compare(target.size() - g_fault_suffix.size(), std::string::npos,
                                                 g_fault_suffix) != 0))
    return -1;
  return g_fault_after;
}

std::string dir_of(const std::string& path) {
  std::string dir = std::filesystem::path(path).parent_path().string();
  return dir.empty() ? "." : dir;
}

bool all_digits(const std::string& s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

}  // namespace

void detail::set_write_fault(int64_t fail_after_bytes, std::string name_suffix) {
  std::lock_guard<std::mutex> lock(g_fault_mutex);
  g_fault_after = fail_after_bytes;
  g_fault_suffix = std::move(name_suffix);
}

AtomicFile::AtomicFile(std::string target) : target_(std::move(target)) {
  static std::atomic<uint64_t> counter{0};
  int err = 0;
  for (int attempt = 0; attempt < 100 && fd_ < 0; ++attempt) {
    path_ = target_ + ".tmp." + std::to_string(::getpid()) + "." + std::to_string(counter++);
    fd_ = ::open(path_.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
    err = errno;
    if (fd_ < 0 && err != EEXIST) break;
  }
  if (fd_ < 0)
    throw std::runtime_error("cannot write '" + target_ + "': creating the temporary file '" + path_ +
                             "' failed: " + std::strerror(err) + " (does the directory exist and is it writable?)");
}

AtomicFile::~AtomicFile() {
  if (fd_ >= 0) ::close(fd_);
  if (!committed_) ::unlink(path_.c_str());
}

void AtomicFile::write(const void* data, size_t n) {
  const char* p = static_cast<const char*>(data);
  const int64_t fault = fault_budget(target_);
  while (n > 0) {
    size_t chunk = n;
    if (fault >= 0) {
      if (written_ >= uint64_t(fault)) fail("write", EIO);
      chunk = std::min<size_t>(chunk, size_t(uint64_t(fault) - written_));
    }
    const ssize_t got = ::write(fd_, p, chunk);
    if (got < 0) {
      if (errno == EINTR) continue;
      fail("write", errno);
    }
    p += got;
    n -= size_t(got);
    written_ += uint64_t(got);
  }
}

void AtomicFile::commit() {
  if (::fsync(fd_) != 0) fail("fsync", errno);
  const int fd = fd_;
  fd_ = -1;
  if (::close(fd) != 0) fail("close", errno);
  if (::rename(path_.c_str(), target_.c_str()) != 0) fail("rename to the target path", errno);
  committed_ = true;
  // The rename is durable only once the directory entry is: fsync the directory.
  const std::string dir = dir_of(target_);
  const int dfd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  const bool synced = dfd >= 0 && ::fsync(dfd) == 0;
  const int err = errno;
  if (dfd >= 0) ::close(dfd);
  if (!synced)
    throw std::runtime_error("writing '" + target_ + "': the file was written and renamed into place, but fsync " +
                             "of its directory '" + dir + "' failed (" + std::strerror(err) +
                             "): it may not survive a power loss");
}

void AtomicFile::fail(const char* what, int err) {
  throw std::runtime_error("cannot write '" + target_ + "': " + what + " of '" + path_ + "' failed: " +
                           std::strerror(err) + " (disk full? the previous file, if any, is untouched)");
}

void write_file_atomic(const std::string& path, std::string_view bytes) {
  AtomicFile f(path);
  f.write(bytes);
  f.commit();
}

bool is_temp_name(const std::string& filename) {
  // <anything>.tmp.<pid>.<counter>
  const size_t last = filename.rfind('.');
  if (last == std::string::npos || last == 0 || !all_digits(filename.substr(last + 1))) return false;
  const size_t mid = filename.rfind('.', last - 1);
  if (mid == std::string::npos || !all_digits(filename.substr(mid + 1, last - mid - 1))) return false;
  return mid >= 4 && filename.compare(mid - 4, 4, ".tmp") == 0;
}

std::vector<std::string> remove_stale_temps(const std::string& dir) {
  std::vector<std::string> removed;
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator(dir, ec)) {
    const std::string name = entry.path().filename().string();
    if (!is_temp_name(name)) continue;
    // The writer's pid sits between ".tmp." and the counter; a live writer (this process included) keeps its
    // file. kill(pid, 0) fails with ESRCH once that process is gone.
    const size_t last = name.rfind('.'), mid = name.rfind('.', last - 1);
    const std::string digits = name.substr(mid + 1, last - mid - 1);
    const long pid = digits.size() < 10 ? std::stol(digits) : 0;
    if (pid == long(::getpid())) continue;
    const bool alive = pid > 0 && (::kill(pid_t(pid), 0) == 0 || errno == EPERM);
    if (alive) continue;
    if (std::filesystem::remove(entry.path(), ec)) removed.push_back(name);
  }
  std::sort(removed.begin(), removed.end());
  return removed;
}

}  // namespace facet::io
