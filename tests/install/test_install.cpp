// The installable library: facet::Predictor in process (buffers, strides, batches, errors), and the installed
// tree as a user meets it: `cmake --install` into a temporary prefix, then tests/install/consumer configured
// with find_package(facet), built and run on a tiny checkpoint; its answers must be `facet predict`'s.
#include <catch2/catch.hpp>
#include <cmath>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <sstream>
#include <thread>

#include "models/predictor.h"
#include "tests/cli/cli_util.h"

using namespace facet::test;

namespace {

void write_ppm(const std::string& path, const facet::data::Image& im) {  // im: 3 channels
  std::ofstream f(path, std::ios::binary);
  f << "P6\n" << im.w << " " << im.h << "\n255\n";
  f.write(reinterpret_cast<const char*>(im.pixels.data()), std::streamsize(im.pixels.size()));
}

// The trained checkpoint, made once for every test case here (a tiny run takes a second or two).
const std::string& shared_checkpoint() {
  static Scratch dir("install");
  static const std::string ckpt = tiny_checkpoint(dir);
  return ckpt;
}

}  // namespace

TEST_CASE("Predictor: buffers with padded rows, gray input, batches and files agree",
          "[install][predictor]") {
  const facet::Predictor p(shared_checkpoint());
  const facet::ModelInfo& info = p.info();
  REQUIRE(info.kind == "basecnn");
  REQUIRE(info.heads.size() == 2);                                   // intuition+gender: age and gender
  const facet::data::Image face = synthetic_face(40, 32, 30, 1, 7);  // (H, W, 3)
  const facet::ImagePrediction packed = p.predict(face.pixels.data(), face.w, face.h, 3);
  for (const auto& h : packed.heads) {
    CHECK(h.class_index >= 0);
    CHECK(h.label == info.labels[&h - packed.heads.data()][size_t(h.class_index)]);
    double sum = 0;
    for (float q : h.probabilities) sum += q;
    CHECK(sum == Approx(1.0).epsilon(1e-5));
    CHECK(h.probabilities[size_t(h.class_index)] == h.probability);
  }
  // The same pixels with 7 bytes of junk after each row: the stride must be honoured, not the width.
  const size_t row = size_t(face.w) * 3, stride = row + 7;
  std::vector<uint8_t> padded(stride * size_t(face.h), 0xAB);
  for (int y = 0; y < face.h; ++y) std::copy_n(face.pixels.data() + y * row, row, padded.data() + y * stride);
  const facet::ImagePrediction strided = p.predict(padded.data(), face.w, face.h, 3, stride);
  const std::vector<facet::ImagePrediction> batch = p.predict_batch(
      {{padded.data(), face.w, face.h, 3, stride}, {face.pixels.data(), face.w, face.h, 3, 0}});
  REQUIRE(batch.size() == 2);
  for (size_t a = 0; a < packed.heads.size(); ++a) {
    CHECK(strided.heads[a].probabilities == packed.heads[a].probabilities);
    CHECK(batch[0].heads[a].probabilities == packed.heads[a].probabilities);
    CHECK(batch[1].heads[a].probabilities == packed.heads[a].probabilities);
  }
  // A file decodes to the same pixels (PPM is lossless).
  Scratch dir("predictor_file");
  write_ppm(dir.file("face.ppm"), face);
  const facet::ImagePrediction from_file = p.predict_file(dir.file("face.ppm"));
  for (size_t a = 0; a < packed.heads.size(); ++a)
    CHECK(from_file.heads[a].probabilities == packed.heads[a].probabilities);
  // Gray in: converted to RGB (the model reads 3 channels) and predicted.
  std::vector<uint8_t> gray(size_t(face.w) * face.h, 100);
  CHECK(p.predict(gray.data(), face.w, face.h, 1).heads.size() == 2);
}

TEST_CASE("Predictor: one predictor shared by threads gives each thread the sequential answers",
          "[install][predictor][threads]") {
  const facet::Predictor p(shared_checkpoint());
  std::vector<facet::data::Image> faces;
  std::vector<facet::ImagePrediction> expected;
  for (int i = 0; i < 4; ++i) {
    faces.push_back(synthetic_face(24 + 4 * i, 24, 10 + 20 * i, i % 2, uint64_t(i)));
    expected.push_back(p.predict(faces.back().pixels.data(), faces.back().w, faces.back().h, 3));
  }
  std::vector<int> mismatches(faces.size(), 0);
  std::vector<std::thread> threads;
  for (size_t t = 0; t < faces.size(); ++t)
    threads.emplace_back([&, t] {
      for (int round = 0; round < 5; ++round) {
        const facet::ImagePrediction got = p.predict(faces[t].pixels.data(), faces[t].w, faces[t].h, 3);
        for (size_t a = 0; a < got.heads.size(); ++a)
          mismatches[t] += got.heads[a].probabilities != expected[t].heads[a].probabilities;
      }
    });
  for (auto& th : threads) th.join();
  CHECK(mismatches == std::vector<int>(faces.size(), 0));
}

TEST_CASE("Predictor: bad arguments and bad files throw, naming what is wrong", "[install][predictor]") {
  const facet::Predictor p(shared_checkpoint());
  std::vector<uint8_t> px(16 * 16 * 4, 0);
  CHECK_THROWS_WITH(p.predict(nullptr, 16, 16, 3), Catch::Contains("pixels is null"));
  CHECK_THROWS_WITH(p.predict(px.data(), 0, 16, 3), Catch::Contains("width and height must be > 0"));
  CHECK_THROWS_WITH(p.predict(px.data(), 16, 16, 4), Catch::Contains("4 channels"));
  CHECK_THROWS_WITH(p.predict(px.data(), 16, 16, 3, 40),
                    Catch::Contains("stride 40 is shorter than a row of 48"));
  CHECK_THROWS_AS(p.predict(px.data(), 16, 16, 3, 40), std::invalid_argument);
  CHECK_THROWS_WITH(p.predict_file("/no/such/face.png"), Catch::Contains("/no/such/face.png"));
  CHECK_THROWS_WITH(facet::Predictor("/no/such/best.ckpt"), Catch::Contains("/no/such/best.ckpt"));
  facet::PredictorOptions wrong;
  wrong.model_kind = "tuple";
  CHECK_THROWS_WITH(facet::Predictor(shared_checkpoint(), wrong), Catch::Contains("not a tuple"));
  wrong = {};
  wrong.min_confidence = 2;
  CHECK_THROWS_AS(facet::Predictor(shared_checkpoint(), wrong), std::invalid_argument);
}

TEST_CASE(
    "installed facet: a consumer project builds with find_package(facet) and predicts as `facet predict`",
    "[install][consumer]") {
  Scratch dir("consumer");
  const std::string prefix = dir.file("prefix"), build = dir.file("build");
  RunResult r = run_shell("'" FACET_CMAKE "' --install '" FACET_BUILD_DIR "' --prefix '" + prefix + "'");
  INFO(r.output);
  REQUIRE(r.code == 0);
  CHECK(std::filesystem::exists(prefix + "/include/facet/predictor.h"));
  CHECK(std::filesystem::exists(prefix + "/lib/cmake/facet/facetConfig.cmake"));
  r = run_shell("'" FACET_CMAKE "' -S '" FACET_SOURCE_DIR "/tests/install/consumer' -B '" + build +
                "' -DCMAKE_BUILD_TYPE=Release -DCMAKE_CXX_COMPILER='" FACET_CXX "' -DCMAKE_PREFIX_PATH='" +
                prefix + "' && '" FACET_CMAKE "' --build '" + build + "'");
  INFO(r.output);
  REQUIRE(r.code == 0);

  write_ppm(dir.file("face.ppm"), synthetic_face(48, 40, 50, 0, 3));
  r = run_shell("'" + build + "/consumer' '" + shared_checkpoint() + "' '" + dir.file("face.ppm") + "'");
  INFO(r.output);
  REQUIRE(r.code == 0);
  const RunResult cli = run_facet("predict --checkpoint " + shared_checkpoint() + " " + dir.file("face.ppm"));
  INFO(cli.output);
  REQUIRE(cli.code == 0);
  const nlohmann::json expected = nlohmann::json::parse(cli.output.substr(0, cli.output.find('\n')));

  std::istringstream lines(r.output);
  std::string source, head, label, line;
  int heads = 0;
  while (std::getline(lines, line)) {
    std::istringstream in(line);
    in >> source;
    if (source == "error") CHECK_THAT(line, Catch::Contains("stride"));  // the consumer's deliberate bad call
    if (source != "file" && source != "buffer") continue;
    int cls = -2;
    double prob = -1, sum = 0;
    in >> head >> cls >> label >> prob >> sum;
    const nlohmann::json& e = expected["predictions"].at(head);
    CHECK(cls == e["class"].get<int>());
    CHECK(label == e["name"].get<std::string>());
    CHECK(prob == Approx(e["probability"].get<double>()).margin(1e-6));
    CHECK(sum == Approx(1.0).margin(1e-3));
    ++heads;
  }
  CHECK(heads == 2 * int(expected["predictions"].size()));  // every head, from the file and from the buffer
  CHECK_THAT(r.output, Catch::Contains("error") && Catch::Contains("model basecnn"));
}
