// Image folders in torchvision's ImageFolder layout: root/<class>/**/<image>. See data/readers.h.
#include <algorithm>
#include <cctype>
#include <filesystem>
#include <stdexcept>

#include "data/readers.h"

namespace facet::data {

namespace fs = std::filesystem;

namespace {

// The file types data/image_io.h decodes (stb_image), by extension, case-insensitive.
bool image_extension(const fs::path& p) {
  std::string e = p.extension().string();
  std::transform(e.begin(), e.end(), e.begin(), [](unsigned char c) { return char(std::tolower(c)); });
  for (const char* x : {".jpg", ".jpeg", ".png", ".bmp", ".gif", ".tga", ".ppm", ".pgm", ".pnm"})
    if (e == x) return true;
  return false;
}

bool hidden(const fs::path& p) { return !p.filename().empty() && p.filename().string()[0] == '.'; }

// Every file under `dir` (recursively, not following directory links), sorted so the order is the same everywhere.
std::vector<fs::path> files_under(const fs::path& dir) {
  std::vector<fs::path> files;
  std::error_code ec;
  for (auto it = fs::recursive_directory_iterator(dir, fs::directory_options::skip_permission_denied, ec);
       !ec && it != fs::recursive_directory_iterator(); it.increment(ec)) {
    if (hidden(it->path())) {
      if (it->is_directory(ec)) it.disable_recursion_pending();
      continue;
    }
    if (!it->is_directory(ec)) files.push_back(it->path());
  }
  std::sort(files.begin(), files.end());
  return files;
}

}  // namespace

ReadResult read_image_folder(const std::string& dir, const OwnDataOptions& options) {
  std::error_code ec;
  if (!fs::is_directory(dir, ec))
    throw std::runtime_error("image folder '" + dir + "' is not a directory (lay your images out as " + dir +
                             "/<class>/<image>.jpg, one folder per class)");
  ReadResult out;
  out.data.source = out.report.source = "folder";
  out.data.root = out.report.root = dir;
  out.data.columns = {"class"};
  std::vector<fs::path> top;
  for (const auto& e : fs::directory_iterator(dir, ec)) top.push_back(e.path());
  std::sort(top.begin(), top.end());
  int classes = 0;
  for (const auto& entry : top) {
    const std::string name = entry.filename().string();
    if (hidden(entry)) continue;
    if (!fs::is_directory(entry, ec)) {
      ++out.report.entries;
      out.report.skip(name, "not inside a class folder (the layout is <root>/<class>/<image>)");
      out.report.count("skipped: outside a class folder");
      continue;
    }
    if (utf8_error_offset(name) != std::string::npos) {
      out.report.skip(name + "/", "class folder name is not UTF-8: rename it");
      out.report.count("skipped: class folder name not UTF-8");
      continue;
    }
    int images = 0;
    for (const auto& file : files_under(entry)) {
      ++out.report.entries;
      const std::string rel = fs::relative(file, dir, ec).generic_string();
      if (utf8_error_offset(rel) != std::string::npos) {
        out.report.skip(name + "/?", "file name is not UTF-8: rename it");
        out.report.count("skipped: file name not UTF-8");
        continue;
      }
      if (!image_extension(file)) {
        out.report.skip(rel, "not an image file (facet reads .jpg .jpeg .png .bmp .gif .tga .ppm .pgm .pnm)");
        out.report.count("skipped: not an image file");
        continue;
      }
      Sample s;
      s.name = rel;
      s.origin = rel;
      s.path = file.string();
      s.attributes["class"] = name;
      out.data.samples.push_back(std::move(s));
      ++images;
    }
    if (images == 0) out.report.notes.push_back("class folder '" + name + "' holds no image file: not a class");
    classes += images > 0;
  }
  if (classes == 0)
    throw std::runtime_error("image folder '" + dir + "' has no class folder holding images (lay them out as " + dir +
                             "/<class>/<image>.jpg, one folder per class)");
  if (options.scan) scan_contents(out.data, out.report, options.duplicates, options.decode);
  out.report.usable = int64_t(out.data.samples.size());
  return out;
}

}  // namespace facet::data
