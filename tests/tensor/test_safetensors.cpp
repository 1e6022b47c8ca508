// tensor/safetensors.h: a round trip keeps names, dtypes, shapes, bytes and metadata; every truncated or forged
// file is refused with an error naming the file and the tensor, before any allocation its length does not cover.
#include <catch2/catch.hpp>

#include <cstring>
#include <filesystem>
#include <fstream>

#include "tensor/safetensors.h"

using namespace facet;
using Catch::Matchers::Contains;

namespace {

// A file from a header written by hand and `buffer` bytes of data.
std::string forge(const std::string& header, size_t buffer) {
  std::string out(8, '\0');
  const uint64_t n = header.size();
  std::memcpy(out.data(), &n, 8);
  return out + header + std::string(buffer, '\0');
}

SafetensorsFile parse(const std::string& bytes) {
  return parse_safetensors(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size(), "forged.safetensors");
}

std::string two_tensors() {
  const float w[6] = {1, 2, 3, 4, 5, -6.5f};
  const int64_t steps = 7;
  return encode_safetensors({SafeTensor::f32("trunk.0.weight", {2, 3}, w), SafeTensor::i64("trunk.1.num_batches_tracked", {}, &steps)},
                            {{"model", "{\"kind\":\"basecnn\"}"}});
}

}  // namespace

TEST_CASE("safetensors: a written file reads back exactly", "[safetensors]") {
  const std::string bytes = two_tensors();
  uint64_t n;
  std::memcpy(&n, bytes.data(), 8);
  CHECK((8 + n) % 8 == 0);  // the buffer starts aligned, as the reference writer pads it
  const SafetensorsFile f = parse(bytes);
  REQUIRE(f.tensors.size() == 2);
  CHECK(f.tensors[0].name == "trunk.1.num_batches_tracked");  // the 8-byte dtype first: every tensor aligned
  const SafeTensor* w = f.find("trunk.0.weight");
  REQUIRE(w);
  CHECK(w->dtype == "F32");
  CHECK(w->shape == std::vector<int64_t>{2, 3});
  CHECK(w->to_float() == std::vector<float>{1, 2, 3, 4, 5, -6.5f});
  CHECK(f.find("trunk.1.num_batches_tracked")->shape.empty());
  CHECK(f.find("trunk.1.num_batches_tracked")->to_float() == std::vector<float>{7});
  CHECK(f.metadata.at("model") == "{\"kind\":\"basecnn\"}");

  const std::string path = (std::filesystem::temp_directory_path() / "facet_test_rt.safetensors").string();
  write_safetensors(path, f.tensors, f.metadata);
  CHECK(read_safetensors(path).find("trunk.0.weight")->bytes == w->bytes);
  std::filesystem::remove(path);
}

TEST_CASE("safetensors: half and bfloat16 read as float", "[safetensors]") {
  const uint16_t half[3] = {0x3c00, 0xc000, 0x0001};    // 1, -2, 2^-24 (subnormal)
  const uint16_t bf16[2] = {0x3f80, 0x4049};            // 1, 3.140625
  SafeTensor h{"h", "F16", {3}, std::vector<uint8_t>(6)}, b{"b", "BF16", {2}, std::vector<uint8_t>(4)};
  std::memcpy(h.bytes.data(), half, 6);
  std::memcpy(b.bytes.data(), bf16, 4);
  const SafetensorsFile f = parse(encode_safetensors({h, b}, {}));
  CHECK(f.find("h")->to_float() == std::vector<float>{1.0f, -2.0f, std::ldexp(1.0f, -24)});
  CHECK(f.find("b")->to_float() == std::vector<float>{1.0f, 3.140625f});
}

TEST_CASE("safetensors: truncated files are refused, naming the file", "[safetensors]") {
  const std::string good = two_tensors();
  for (size_t cut : {size_t(0), size_t(5), size_t(20), good.size() - 1}) {
    INFO("cut at " << cut);
    CHECK_THROWS_WITH(parse(good.substr(0, cut)), Contains("forged.safetensors"));
  }
  CHECK_THROWS_WITH(parse(good.substr(0, good.size() - 1)), Contains("trunk.0.weight") && Contains("outside"));
  CHECK_THROWS_WITH(read_safetensors("/nonexistent/x.safetensors"), Contains("/nonexistent/x.safetensors"));
}

TEST_CASE("safetensors: forged headers are refused before allocating, naming the tensor", "[safetensors]") {
  // A header length far beyond the file: refused from the 8 bytes alone.
  std::string huge(8, '\0');
  const uint64_t n = uint64_t(1) << 62;
  std::memcpy(huge.data(), &n, 8);
  CHECK_THROWS_WITH(parse(huge + "{}"), Contains("header length"));
  CHECK_THROWS_WITH(parse(forge("{\"a\":", 0)), Contains("not valid JSON"));
  CHECK_THROWS_WITH(parse(forge("[1]", 0)), Contains("does not start with '{'"));
  // Shapes whose product overflows 64 bits or dwarfs the buffer: refused without multiplying past it.
  CHECK_THROWS_WITH(parse(forge(R"({"w":{"dtype":"F32","shape":[4294967296,4294967296,16],"data_offsets":[0,8]}})", 8)),
                    Contains("tensor 'w'"));
  CHECK_THROWS_WITH(parse(forge(R"({"w":{"dtype":"F32","shape":[3],"data_offsets":[0,8]}})", 16)),
                    Contains("tensor 'w'") && Contains("12 bytes"));
  CHECK_THROWS_WITH(parse(forge(R"({"w":{"dtype":"F32","shape":[-1],"data_offsets":[0,4]}})", 4)),
                    Contains("tensor 'w'") && Contains("not an integer"));
  CHECK_THROWS_WITH(parse(forge(R"({"w":{"dtype":"Q4","shape":[1],"data_offsets":[0,4]}})", 4)),
                    Contains("tensor 'w'") && Contains("unknown dtype"));
  CHECK_THROWS_WITH(parse(forge(R"({"w":{"dtype":"F32","shape":[2],"data_offsets":[8,0]}})", 8)),
                    Contains("tensor 'w'") && Contains("outside"));
  CHECK_THROWS_WITH(parse(forge(R"({"w":{"dtype":"F32","shape":[1],"data_offsets":[0,4],"x":1}})", 4)),
                    Contains("unknown field 'x'"));
  // Overlap, gap, trailing bytes.
  CHECK_THROWS_WITH(parse(forge(R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}})", 8)),
                    Contains("tensor 'b'") && Contains("overlaps"));
  CHECK_THROWS_WITH(parse(forge(R"({"a":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}})", 8)),
                    Contains("tensor 'a'") && Contains("gap"));
  CHECK_THROWS_WITH(parse(forge(R"({"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}})", 8)),
                    Contains("trailing"));
  CHECK_THROWS_WITH(parse(forge(R"({"__metadata__":{"k":1}})", 0)), Contains("'k' is not a string"));
  const SafeTensor flags{"b", "BOOL", {1}, {1}};
  CHECK_THROWS_WITH(flags.to_float(), Contains("tensor 'b'"));
}

TEST_CASE("safetensors: the writer refuses what the reader would", "[safetensors]") {
  const float v = 1;
  CHECK_THROWS_WITH(encode_safetensors({SafeTensor::f32("a", {1}, &v), SafeTensor::f32("a", {1}, &v)}, {}),
                    Contains("'a'"));
  SafeTensor short_bytes = SafeTensor::f32("s", {1}, &v);
  short_bytes.bytes.pop_back();
  CHECK_THROWS_WITH(encode_safetensors({short_bytes}, {}), Contains("'s'"));
}
