// Writes the seed corpora for the fuzz targets into <dir>/<target>/: a few small valid inputs of each format,
// made by facet's own writers (save_checkpoint, write_png, write_jpeg) or spelled out here, and the inputs of
// past findings (docs/reliability.md), so no image file is committed at all. scripts/fuzz.sh runs it before
// the targets. Usage: fuzz_make_seeds build-fuzz/seeds
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <stdexcept>
#include <string>
#include <vector>

#include "data/image_io.h"
#include "tensor/checkpoint.h"

namespace fs = std::filesystem;

namespace {

void write_text(const fs::path& path, const std::string& text) {
  std::ofstream(path, std::ios::binary) << text;
}

void checkpoints(const fs::path& dir) {
  using facet::Tensor;
  facet::save_checkpoint((dir / "two_tensors.ckpt").string(),
                  {{"conv1/weight", Tensor::from_vector({1, 2, 3, 4, 5, 6}, {2, 3})},
                   {"conv1/bias", Tensor::from_vector({0.5f, -0.5f}, {2})}},
                  {{"model", "tiny"}, {"epoch", 3}, {"normalize", {{"mean", {0.5}}, {"std", {0.25}}}}});
  facet::save_checkpoint((dir / "one_tensor.ckpt").string(), {{"w", Tensor::from_vector({7}, {1})}}, nlohmann::json::object());
}

std::vector<char> read_bytes(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

// The inputs of the image findings (docs/reliability.md, "Findings"), rebuilt from a valid JPEG the way the
// regression tests in tests/data/test_image_io.cpp build them.
void image_regressions(const fs::path& dir, const fs::path& valid_jpeg) {
  // 1. a PPM whose height is not a number (stb_image decoded it as 1x0)
  write_text(dir / "regress_pnm_zero_height.ppm", std::string("P6\n1$1\n255\n") + "\xff\x80");
  // 2. a Huffman table of more than 256 codes (stb_image wrote past its size table), alone and after fill bytes
  std::vector<char> jpeg = read_bytes(valid_jpeg);
  size_t dht = 0;
  for (size_t i = 2; i + 1 < jpeg.size() && !dht; ++i)
    if (uint8_t(jpeg[i]) == 0xFF && uint8_t(jpeg[i + 1]) == 0xC4) dht = i;
  if (dht == 0 || dht + 20 >= jpeg.size()) throw std::runtime_error("fuzz_make_seeds: no DHT in " + valid_jpeg.string());
  jpeg[dht + 5 + 15] = char(255);  // the first table's count of 16-bit codes: over 256 codes in all
  write_text(dir / "regress_jpeg_dht_codes.jpg", std::string(jpeg.begin(), jpeg.end()));
  write_text(dir / "regress_jpeg_fill_bytes.jpg", std::string(16, '\xff') + std::string(jpeg.begin(), jpeg.end()));
  // 3. a PNM header number of many digits (signed overflow in stb_image)
  write_text(dir / "regress_pnm_long_number.ppm", "P6\n2222222222 1\n255\n\x80\x80\x80");
}

void images(const fs::path& dir) {
  using facet::data::Image;
  Image rgb(4, 3, 3), gray(2, 2, 1);
  for (size_t i = 0; i < rgb.pixels.size(); ++i) rgb.pixels[i] = uint8_t(i * 21);
  for (size_t i = 0; i < gray.pixels.size(); ++i) gray.pixels[i] = uint8_t(i * 80);
  facet::data::write_png((dir / "rgb_4x3.png").string(), rgb);
  facet::data::write_png((dir / "gray_2x2.png").string(), gray);
  facet::data::write_jpeg((dir / "rgb_4x3.jpg").string(), rgb.pixels.data(), rgb.w, rgb.h, 3, 75);
  write_text(dir / "gray_2x2.pgm", std::string("P5\n2 2\n255\n") + "\x10\x20\x30\x40");
  write_text(dir / "rgb_1x1.ppm", std::string("P6\n1 1\n255\n") + "\xff\x80\x00");
  image_regressions(dir, dir / "rgb_4x3.jpg");
}

void utkface_names(const fs::path& dir) {
  const char* names[] = {"26_1_2_20170116174525125.jpg.chip.jpg", "1_0_0_20161219140623097.jpg.chip.jpg",
                         "39_1_20170116174525125.jpg.chip.jpg", "61_1_3_20170109150557335 .jpg.chip.jpg",
                         "53__0_20170116184028385.jpg.chip.jpg", "7_0_4_2017010914280373jpg.chip.jpg"};
  int i = 0;
  for (const char* n : names) write_text(dir / ("name" + std::to_string(i++)), n);
}

void manifests(const fs::path& dir) {
  write_text(dir / "blank_cells.csv", "path,mood,age\nimg/a.png,happy,3\nimg/b.png,,30\n./img/c.png,\"sad, very\",\n");
  write_text(dir / "bom_crlf.csv", "\xEF\xBB\xBFpath,k\r\na.jpg,x\r\na.jpg,y\r\n");
  write_text(dir / "path_last.csv", "label,path\ncat,cats/1.png\ndog,dogs/2.png\n");
}

void adience(const fs::path& dir) {
  const std::string header =
      "user_id\toriginal_image\tface_id\tage\tgender\tx\ty\tdx\tdy\ttilt_ang\tfiducial_yaw_angle\tfiducial_score\n";
  write_text(dir / "fold_rows.txt",
             header + "30601258@N03\t10399646885_67c7d20df9_o.jpg\t1\t(25, 32)\tf\t0\t414\t1086\t1383\t-115\t30\t17\n"
                      "30601258@N03\t10424815813_e94629b1ec_o.jpg\t2\t(60, 100)\tm\t301\t105\t640\t641\t0\t0\t94\n"
                      "7153718@N04\t11597935654_2d2a2ab2b2_o.jpg\t3\t35\tu\t1\t2\t3\t4\t5\t6\t7\n"
                      "7153718@N04\t11597935654_2d2a2ab2b2_o.jpg\t4\t(27, 32)\t\t1\t2\t3\t4\t5\t6\t7\r\n"
                      "7153718@N04\tx.jpg\t5\tNone\tf\n");
  write_text(dir / "age_range.txt", "(8, 23)");
}

void csv(const fs::path& dir) {
  write_text(dir / "two_rows.csv",
             "age,ethnicity,gender,img_name,pixels\n"
             "26,2,1,20170116174525125.jpg.chip.jpg,\"0 64 128 255\"\n"
             "1,0,0,20161219140623097.jpg.chip.jpg,12 13 14 15 16 17 18 19 20\r\n");
  write_text(dir / "reordered.csv", "pixels,img_name,gender,age,ethnicity\n1 2 3 4,a,1,117,x\n");
  // finding 4: a pixel of many digits overflowed the int it was read into
  write_text(dir / "regress_long_pixel.csv", "age,ethnicity,gender,img_name,pixels\n1,0,0,a,99999999999999999999 1 2\n");
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: %s <corpus dir, e.g. build-fuzz/seeds>\n", argv[0]);
    return 2;
  }
  const fs::path root = argv[1];
  for (const char* t : {"fuzz_checkpoint", "fuzz_image", "fuzz_utkface_name", "fuzz_adience", "fuzz_csv",
                        "fuzz_manifest"})
    fs::create_directories(root / t);
  checkpoints(root / "fuzz_checkpoint");
  images(root / "fuzz_image");
  utkface_names(root / "fuzz_utkface_name");
  adience(root / "fuzz_adience");
  csv(root / "fuzz_csv");
  manifests(root / "fuzz_manifest");
  return 0;
}
