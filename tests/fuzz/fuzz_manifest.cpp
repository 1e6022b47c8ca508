// libFuzzer target: the manifest reader (data/manifest.cpp) and the attribute label schemes (data/attributes.cpp)
// on arbitrary file contents.
// Contract under test: a bad manifest (no header, no path column, ragged rows, a path leaving the folder, bytes
// that are not UTF-8) is refused with std::runtime_error naming it; a bad --labels or class with
// std::invalid_argument; whatever is kept names a file inside the manifest's folder, and the report (which JSON
// dumps, and which refuses invalid UTF-8 by throwing) can always be written.
#include <cstdlib>
#include <stdexcept>
#include <string>

#include "data/attributes.h"
#include "data/readers.h"
#include "tests/fuzz/fuzz_util.h"

using namespace facet::data;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string path = facet::fuzz::write_scratch("in.csv", data, size);
  ReadResult r;
  try {
    r = read_manifest(path);
  } catch (const std::runtime_error&) {
    return 0;  // refused with a message naming the file
  }
  for (const Sample& s : r.data.samples) {
    if (s.name.empty() || s.name[0] == '/' || s.name.find("..") == 0 || s.name.find("/../") != std::string::npos)
      std::abort();  // a kept path must stay inside the manifest's folder
    for (const auto& [column, value] : s.attributes)
      if (value.empty()) std::abort();  // a blank cell is no entry
  }
  (void)r.report.to_json().dump();  // throws (and so fails the target) on bytes that are not UTF-8
  try {
    const LabelScheme scheme = scheme_for(r.data, "");
    Dataset labelled = r.data;
    apply_scheme(labelled, scheme);
    (void)scheme.to_json().dump();
  } catch (const std::invalid_argument&) {
    // no usable value in a column: refused, naming it
  }
  return 0;
}
