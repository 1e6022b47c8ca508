// consumer CHECKPOINT IMAGE.ppm: predicts a binary RGB PPM (P6, maxval 255) twice with facet::Predictor, once
// from the file and once from a buffer with padded rows (stride > width * 3), and prints one line per head:
//   <file|buffer> <head> <class> <label> <probability> <sum of probabilities>
#include <facet/predictor.h>

#include <cstdio>
#include <fstream>
#include <iostream>
#include <stdexcept>
#include <string>
#include <vector>

namespace {

// The pixels of a P6 file with an 8-bit maxval, copied into rows of `stride` bytes (the padding left at 0).
std::vector<uint8_t> read_ppm(const std::string& path, int& width, int& height, size_t stride_pad) {
  std::ifstream in(path, std::ios::binary);
  std::string magic;
  int maxval = 0;
  in >> magic >> width >> height >> maxval;
  in.get();  // the one whitespace byte before the pixels
  if (!in || magic != "P6" || maxval != 255 || width <= 0 || height <= 0 || width > 4096 || height > 4096)
    throw std::runtime_error(path + ": not an 8-bit binary PPM (P6) of at most 4096x4096");
  const size_t row = size_t(width) * 3, stride = row + stride_pad;
  std::vector<uint8_t> buffer(stride * size_t(height), 0);
  for (int y = 0; y < height; ++y)
    in.read(reinterpret_cast<char*>(buffer.data() + size_t(y) * stride), std::streamsize(row));
  if (!in) throw std::runtime_error(path + ": truncated pixel data");
  return buffer;
}

void print(const char* source, const facet::ImagePrediction& p) {
  for (const facet::HeadPrediction& h : p.heads) {
    double sum = 0;
    for (float q : h.probabilities) sum += q;
    std::printf("%s %s %d %s %.6f %.4f\n", source, h.name.c_str(), h.class_index, h.label.c_str(),
                double(h.probability), sum);
  }
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 3) {
    std::cerr << "usage: consumer CHECKPOINT IMAGE.ppm\n";
    return 2;
  }
  try {
    const facet::Predictor predictor(argv[1]);
    const facet::ModelInfo& info = predictor.info();
    std::printf("model %s %dx%dx%d heads %zu\n", info.kind.c_str(), info.width, info.height, info.channels,
                info.heads.size());
    print("file", predictor.predict_file(argv[2]));
    int w = 0, h = 0;
    const size_t pad = 5;
    const std::vector<uint8_t> pixels = read_ppm(argv[2], w, h, pad);
    print("buffer", predictor.predict(pixels.data(), w, h, 3, size_t(w) * 3 + pad));
    try {  // errors are exceptions that say what is wrong
      predictor.predict(pixels.data(), w, h, 3, size_t(w));
    } catch (const std::invalid_argument& e) {
      std::printf("error %s\n", e.what());
    }
  } catch (const std::exception& e) {
    std::cerr << "consumer: " << e.what() << "\n";
    return 1;
  }
  return 0;
}
