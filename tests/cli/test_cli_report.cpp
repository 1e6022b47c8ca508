// `facet report` end to end on a tiny run: the page is well-formed (balanced tags), references only files
// that exist (pictures are data: URIs), holds every section, draws its curves as SVG with text, and, where
// headless Chromium is installed, renders to a PNG that is not blank. A comparison of two runs holds both.
#include <catch2/catch.hpp>
#include <cstdlib>
#include <filesystem>
#include <regex>
#include <set>

#include "tests/cli/cli_util.h"

using namespace facet;
using namespace facet::test;

namespace {

// "" when every element is closed in order (void elements excepted), else the first problem.
std::string unbalanced(const std::string& html) {
  static const std::set<std::string> kVoid = {"meta", "br",  "img",   "hr",     "input", "link", "area",
                                              "base", "col", "embed", "source", "track", "wbr",  "!doctype"};
  std::vector<std::string> open;
  const std::regex tag("<(/?)([A-Za-z!][A-Za-z0-9]*)[^>]*?(/?)>");
  for (auto it = std::sregex_iterator(html.begin(), html.end(), tag); it != std::sregex_iterator(); ++it) {
    std::string name = (*it)[2];
    std::transform(name.begin(), name.end(), name.begin(),
                   [](unsigned char c) { return char(std::tolower(c)); });
    if ((*it)[1] == "/") {
      if (open.empty() || open.back() != name)
        return "</" + name + "> closes <" + (open.empty() ? "nothing" : open.back()) + "> at " +
               std::to_string(it->position());
      open.pop_back();
    } else if (!kVoid.count(name) && (*it)[3] != "/") {
      open.push_back(name);
    }
  }
  return open.empty() ? "" : "<" + open.back() + "> never closed";
}

// Every src= / href= that is not a data: URI or an anchor, as paths relative to the page.
std::vector<std::string> missing_references(const std::string& html, const std::string& page_dir) {
  std::vector<std::string> missing;
  const std::regex ref("(?:src|href)=\"([^\"]*)\"");
  for (auto it = std::sregex_iterator(html.begin(), html.end(), ref); it != std::sregex_iterator(); ++it) {
    const std::string r = (*it)[1];
    if (r.rfind("data:", 0) == 0 || r.rfind("#", 0) == 0) continue;
    if (r.find("://") != std::string::npos || !std::filesystem::exists(page_dir + "/" + r))
      missing.push_back(r);
  }
  return missing;
}

void check_page(const std::string& path, const std::vector<std::string>& sections) {
  REQUIRE(std::filesystem::exists(path));
  const std::string html = read_text(path);
  INFO(path);
  CHECK(unbalanced(html) == "");
  CHECK(missing_references(html, std::filesystem::path(path).parent_path().string()).empty());
  for (const auto& id : sections) CHECK(html.find("<section id=\"" + id + "\">") != std::string::npos);
  CHECK(html.find("<svg") != std::string::npos);
  CHECK(html.find("<text") != std::string::npos);  // axis labels are SVG text, not bitmaps
}

}  // namespace

TEST_CASE("facet report: one run's page and a comparison of two", "[cli][report]") {
  Scratch dir("report");
  const std::string ckpt = tiny_checkpoint(dir);
  const std::string run = dir.file("run");
  RunResult r = run_facet("report " + run + " --faces 40 --grid 8 --cams 2");
  INFO(r.output);
  REQUIRE(r.code == 0);
  check_page(run + "/report.html", {"command", "curves", "confusion", "groups", "faces", "gradcam"});
  const std::string html = read_text(run + "/report.html");
  CHECK(html.find("data:image/png;base64,") != std::string::npos);  // the faces and CAMs, inline
  CHECK(html.find("worst mistakes first") != std::string::npos);
  CHECK(html.find("by race") != std::string::npos);
  CHECK(html.find("by gender") != std::string::npos);

  // A second run (another seed) and the comparison page.
  r = run_facet("train --data " + dir.file("utk") + " --out " + dir.file("run2") + kTiny + " --seed 7");
  REQUIRE(r.code == 0);
  r = run_facet("report " + run + " " + dir.file("run2") + " --out " + dir.file("compare.html"));
  INFO(r.output);
  REQUIRE(r.code == 0);
  check_page(dir.file("compare.html"), {"metrics", "curves"});
  const std::string cmp = read_text(dir.file("compare.html"));
  CHECK(cmp.find(">run<") != std::string::npos);
  CHECK(cmp.find(">run2<") != std::string::npos);
  CHECK(run_facet("report " + run + " " + dir.file("run2")).code != 0);  // several runs need --out

  // Rendered by a real browser engine where one is installed.
  if (std::system("command -v chromium >/dev/null 2>&1") != 0) {
    WARN("SKIPPED the render check: headless Chromium is not installed (apt-get install chromium)");
    return;
  }
  const std::string png = dir.file("page.png");
  const std::string cmd =
      "chromium --headless --no-sandbox --disable-gpu --hide-scrollbars --window-size=1200,1600 "
      "--screenshot=" +
      png + " file://" + run + "/report.html >/dev/null 2>&1";
  REQUIRE(std::system(cmd.c_str()) == 0);
  data::Image img;
  std::string error;
  REQUIRE(data::load_image(png, 3, img, error));
  CHECK(img.w == 1200);
  size_t dark = 0;  // text, curves and faces: far from the white background
  for (size_t i = 0; i + 2 < img.pixels.size(); i += 3)
    dark += img.pixels[i] + img.pixels[i + 1] + img.pixels[i + 2] < 3 * 128;
  CHECK(dark > img.pixels.size() / 3 / 200);
}
