// The pieces of `facet report`'s page: escaping, the CSV reader, the SVG chart, PNG data URIs that decode
// back.
#include <catch2/catch.hpp>
#include <cmath>

#include "models/report_html.h"

using namespace facet;

TEST_CASE("report html: escaping, CSV columns with empty cells, SVG with text", "[report]") {
  CHECK(html::escape("a<b & \"c\">'") == "a&lt;b &amp; &quot;c&quot;&gt;&#39;");
  const html::Table t = html::parse_csv("epoch,train_loss,val_loss\n1,2.5,2.0\n2,1.5,\n");
  REQUIRE(t.rows.size() == 2);
  CHECK(t.values("train_loss") == std::vector<double>{2.5, 1.5});
  CHECK(std::isnan(t.values("val_loss")[1]));
  CHECK(t.column("nope") == -1);
  const std::string svg =
      html::svg_chart("loss <per> epoch", "loss", {{"val", t.values("val_loss"), "#000", false}});
  CHECK(svg.find("<svg") == 0);
  CHECK(svg.find("loss &lt;per&gt; epoch") != std::string::npos);
  CHECK(svg.find("<polyline") != std::string::npos);
  CHECK(svg.find(">val</text>") != std::string::npos);
}

TEST_CASE("report html: a PNG data URI decodes back to the same pixels", "[report]") {
  data::Image img(5, 3, 3);
  for (size_t i = 0; i < img.pixels.size(); ++i) img.pixels[i] = uint8_t(i * 17);
  const std::string uri = html::png_data_uri(img);
  const std::string prefix = "data:image/png;base64,";
  REQUIRE(uri.rfind(prefix, 0) == 0);
  std::vector<uint8_t> bytes;
  uint32_t acc = 0;
  int bits = 0;
  for (char c : uri.substr(prefix.size())) {
    if (c == '=') break;
    const std::string b64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    acc = acc << 6 | uint32_t(b64.find(c));
    bits += 6;
    if (bits >= 8) bytes.push_back(uint8_t(acc >> (bits -= 8)));
  }
  data::Image back;
  std::string error;
  REQUIRE(data::decode_image(bytes.data(), bytes.size(), 3, back, error));
  CHECK(back.pixels == img.pixels);
}
