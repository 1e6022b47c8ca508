// data/io/atomic_file.h: a failing write names the file and leaves its previous content; stale temporary files of
// dead writers are removed.
#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "data/io/atomic_file.h"

namespace fs = std::filesystem;

namespace {
std::string slurp(const std::string& p) {
  std::ifstream f(p, std::ios::binary);
  std::stringstream s;
  s << f.rdbuf();
  return s.str();
}
}  // namespace

TEST_CASE("a failing atomic write names the file and keeps the previous content", "[io]") {
  const fs::path dir = fs::temp_directory_path() / ("facet_atomic_" + std::to_string(::getpid()));
  fs::remove_all(dir);
  fs::create_directories(dir);
  const std::string path = (dir / "metrics.csv").string();
  facet::io::write_file_atomic(path, "epoch,loss\n1,0.5\n");
  for (int64_t after : {0, 5}) {  // a full disk at once, and after a few bytes
    facet::io::detail::set_write_fault(after, "metrics.csv");
    CHECK_THROWS_WITH(facet::io::write_file_atomic(path, "epoch,loss\n1,0.5\n2,0.4\n"),
                      Catch::Contains("cannot write '" + path + "'") && Catch::Contains("untouched"));
    facet::io::detail::set_write_fault(-1);
    CHECK(slurp(path) == "epoch,loss\n1,0.5\n");
  }
  // another file name is not hit by the fault
  facet::io::detail::set_write_fault(0, "metrics.csv");
  facet::io::write_file_atomic((dir / "config.json").string(), "{}\n");
  facet::io::detail::set_write_fault(-1);
  CHECK(slurp((dir / "config.json").string()) == "{}\n");
  // no temporary file is left behind
  for (const auto& e : fs::directory_iterator(dir)) CHECK_FALSE(facet::io::is_temp_name(e.path().filename().string()));
  CHECK_THROWS_WITH(facet::io::write_file_atomic((dir / "no/such/dir/x.json").string(), "x"),
                    Catch::Contains("x.json") && Catch::Contains("does the directory exist"));
  fs::remove_all(dir);
}

TEST_CASE("stale temporary files of dead writers are removed, live ones kept", "[io]") {
  const fs::path dir = fs::temp_directory_path() / ("facet_stale_" + std::to_string(::getpid()));
  fs::remove_all(dir);
  fs::create_directories(dir);
  // pid 2^22+7 is above Linux's pid_max default range for a live process in a test container
  const std::string dead = "last.ckpt.tmp.4194311.0", mine = "last.ckpt.tmp." + std::to_string(::getpid()) + ".3";
  for (const auto& n : {dead, mine, std::string("last.ckpt"), std::string("notes.tmp.txt")})
    std::ofstream(dir / n) << "x";
  CHECK(facet::io::is_temp_name(dead));
  CHECK_FALSE(facet::io::is_temp_name("notes.tmp.txt"));
  const auto removed = facet::io::remove_stale_temps(dir.string());
  REQUIRE(removed.size() == 1);
  CHECK(removed[0] == dead);
  CHECK_FALSE(fs::exists(dir / dead));
  CHECK(fs::exists(dir / mine));
  CHECK(fs::exists(dir / "last.ckpt"));
  fs::remove_all(dir);
}
