// Shared by the libFuzzer targets: the readers under test take file paths (as facet's users give them), so each
// input is written to a file in a private temporary directory made once per process (mkdtemp under $TMPDIR, or
// /tmp) and removed at a normal exit. libFuzzer skips atexit handlers, so scripts/fuzz.sh points TMPDIR into
// build-fuzz/tmp and empties it.
#pragma once
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>

namespace facet::fuzz {

inline const std::filesystem::path& scratch_dir() {
  static const std::filesystem::path dir = [] {
    const char* base = std::getenv("TMPDIR");
    std::string tmpl = std::string(base && *base ? base : "/tmp") + "/facet-fuzz-XXXXXX";
    if (!::mkdtemp(tmpl.data())) {
      std::perror("facet fuzz: mkdtemp");
      std::abort();
    }
    std::atexit([] {
      std::error_code ec;
      std::filesystem::remove_all(scratch_dir(), ec);
    });
    return std::filesystem::path(tmpl);
  }();
  return dir;
}

// Writes `n` bytes to scratch_dir()/name (replacing it) and returns the path.
inline std::string write_scratch(const std::string& name, const void* data, size_t n) {
  const std::filesystem::path path = scratch_dir() / name;
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(static_cast<const char*>(data), std::streamsize(n));
  out.close();
  if (!out) {
    std::fprintf(stderr, "facet fuzz: cannot write %s\n", path.c_str());
    std::abort();
  }
  return path.string();
}

}  // namespace facet::fuzz
