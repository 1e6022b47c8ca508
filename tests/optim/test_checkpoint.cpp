// Checkpoints (tensor/checkpoint.h, docs/checkpoint-format.md): CRC-32, round trip, the layout, refusal of
// truncated / corrupted / foreign / mismatched files with messages that say what is wrong, atomic saves,
// and an optimizer resumed from a checkpoint taking a bit-identical next step.
#include <catch2/catch.hpp>
#include <cstring>
#include <fstream>
#include <iterator>

#include "optim/adam.h"
#include "optim/sgd.h"
#include "tensor/checkpoint.h"
#include "tests/optim/optim_test_util.h"

using namespace facet;
using facet::test::param;
using facet::test::random_uniform;
using facet::test::ScratchDir;
using facet::test::set_grads;
using Bytes = std::vector<unsigned char>;

namespace {

Bytes read_bytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return Bytes(std::istreambuf_iterator<char>(in), {});
}
void write_bytes(const std::string& path, const Bytes& b) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(reinterpret_cast<const char*>(b.data()), std::streamsize(b.size()));
}
uint64_t u64_at(const Bytes& b, size_t off) {
  uint64_t v = 0;
  for (int i = 7; i >= 0; --i) v = (v << 8) | b[off + size_t(i)];
  return v;
}
void put_u32_at(Bytes& b, size_t off, uint32_t v) {
  for (int i = 0; i < 4; ++i) b[off + size_t(i)] = uint8_t(v >> (8 * i));
}
// Rewrites the trailing CRC so that a deliberately edited file passes the CRC and reaches the later checks.
void fix_crc(Bytes& b) {
  put_u32_at(b, b.size() - 4, crc32(b.data(), b.size() - 4));
}

std::string load_error(const std::string& path) {
  try {
    load_checkpoint(path);
  } catch (const std::exception& e) {
    return e.what();
  }
  return "(no error)";
}

// A small model-like set: conv weight (4, 3, 3, 3), its bias (4), a linear weight (2, 5), a scalar, an empty
// one.
std::vector<NamedTensor> sample_tensors() {
  return {{"conv1.weight", Tensor::from_vector(random_uniform(108, 1), {4, 3, 3, 3})},
          {"conv1.bias", Tensor::from_vector(random_uniform(4, 2), {4})},
          {"fc.weight", Tensor::from_vector(random_uniform(10, 3), {2, 5})},
          {"scalar", Tensor::from_vector({42.5f}, {})},
          {"empty", Tensor::zeros({0, 3})}};
}
const nlohmann::json kMeta = {{"model", "basecnn"},
                              {"epoch", 7},
                              {"config", {{"lr", 0.1}, {"labels", {"male", "female"}}}},
                              {"normalization", {{"mean", {0.5, 0.4, 0.3}}, {"std", {0.2, 0.2, 0.2}}}}};

}  // namespace

TEST_CASE("crc32: the standard check value and incremental updates", "[checkpoint]") {
  const char* s = "123456789";
  CHECK(crc32(s, 9) == 0xCBF43926u);
  CHECK(crc32_update(crc32(s, 4), s + 4, 5) == 0xCBF43926u);
  CHECK(crc32(s, 0) == 0u);
}

TEST_CASE("checkpoint round trip: names, order, shapes, bit-exact values, metadata", "[checkpoint]") {
  ScratchDir dir("ckpt-roundtrip");
  const auto tensors = sample_tensors();
  const std::string path = dir.file("model.ckpt");
  save_checkpoint(path, tensors, kMeta);
  const Checkpoint ck = load_checkpoint(path);
  CHECK(ck.version == kCheckpointVersion);
  CHECK(ck.meta == kMeta);
  REQUIRE(ck.tensors.size() == tensors.size());
  for (size_t i = 0; i < tensors.size(); ++i) {
    INFO(tensors[i].name);
    CHECK(ck.tensors[i].name == tensors[i].name);
    CHECK(ck.tensors[i].tensor.shape() == tensors[i].tensor.shape());
    CHECK(ck.tensors[i].tensor.to_vector() == tensors[i].tensor.to_vector());
  }
  CHECK(ck.at("scalar").item() == 42.5f);
  CHECK(ck.find("nope") == nullptr);
  CHECK_THROWS_WITH(ck.at("nope"), Catch::Contains("no tensor named 'nope'"));

  // Layout (docs/checkpoint-format.md): magic, version 1 little-endian, the file size in the header, data
  // section 64-byte aligned; no temporary file is left behind.
  const Bytes b = read_bytes(path);
  CHECK(std::memcmp(b.data(), "FACETCKP", 8) == 0);
  CHECK((b[8] == 1 && b[9] == 0 && b[10] == 0 && b[11] == 0));
  CHECK(u64_at(b, 16) == b.size());
  CHECK(u64_at(b, 40) % 64 == 0);
  CHECK(dir.entries() == std::vector<std::string>({"model.ckpt"}));

  // Saving again over an existing checkpoint replaces it.
  save_checkpoint(path, {{"only", Tensor::full({2}, 1.5f)}}, nlohmann::json::object());
  CHECK(load_checkpoint(path).tensors.size() == 1);
}

TEST_CASE("checkpoint: truncated files are refused with both lengths", "[checkpoint]") {
  ScratchDir dir("ckpt-truncated");
  const std::string path = dir.file("m.ckpt"), cut = dir.file("cut.ckpt");
  save_checkpoint(path, sample_tensors(), kMeta);
  const Bytes full = read_bytes(path);
  const size_t n = full.size();
  for (size_t len : {size_t(0), size_t(5), size_t(63), size_t(64), size_t(100), n / 2, n - 5, n - 1}) {
    INFO("cut to " << len << " of " << n << " bytes");
    write_bytes(cut, Bytes(full.begin(), full.begin() + std::ptrdiff_t(len)));
    const std::string err = load_error(cut);
    CHECK_THAT(err, Catch::Contains("refused: truncated"));
    CHECK_THAT(err, Catch::Contains(cut));
    if (len >= 64)
      CHECK_THAT(
          err, Catch::Contains("expected " + std::to_string(n) + " bytes, file has " + std::to_string(len)));
  }
  Bytes longer = full;
  longer.push_back(0);
  write_bytes(cut, longer);
  CHECK_THAT(load_error(cut), Catch::Contains("trailing bytes"));
}

TEST_CASE("checkpoint: a flipped byte anywhere fails the CRC", "[checkpoint]") {
  ScratchDir dir("ckpt-crc");
  const std::string path = dir.file("m.ckpt"), bad = dir.file("bad.ckpt");
  save_checkpoint(path, sample_tensors(), kMeta);
  const Bytes full = read_bytes(path);
  const size_t data_offset = size_t(u64_at(full, 40));
  // in the metadata, in the tensor table, in the tensor data, and in the stored CRC itself
  for (size_t pos : {size_t(70), data_offset - 70, data_offset + 3, full.size() - 200, full.size() - 2}) {
    INFO("byte " << pos << " of " << full.size());
    Bytes b = full;
    b[pos] ^= 0x10;
    write_bytes(bad, b);
    CHECK_THAT(load_error(bad), Catch::Contains("CRC32 mismatch"));
  }
}

TEST_CASE("checkpoint: wrong magic, newer version, malformed table are refused", "[checkpoint]") {
  ScratchDir dir("ckpt-header");
  const std::string path = dir.file("m.ckpt"), bad = dir.file("bad.ckpt");
  save_checkpoint(path, sample_tensors(), kMeta);
  const Bytes full = read_bytes(path);

  Bytes b = full;
  std::memcpy(b.data(), "PK\x03\x04zip!", 8);
  write_bytes(bad, b);
  CHECK_THAT(load_error(bad), Catch::Contains("not a facet checkpoint"));

  b = full;
  put_u32_at(b, 8, 2);
  fix_crc(b);
  write_bytes(bad, b);
  CHECK_THAT(load_error(bad), Catch::Contains("format version 2 is not supported"));

  // The first table entry's dtype (after its u32 name length and name "conv1.weight") set to 1, CRC fixed:
  // the CRC passes and the table check refuses it.
  b = full;
  const size_t table = 64 + size_t(u64_at(full, 24));
  put_u32_at(b, table + 4 + 12, 1);
  fix_crc(b);
  write_bytes(bad, b);
  CHECK_THAT(load_error(bad), Catch::Contains("tensor 'conv1.weight' has dtype code 1"));

  // The first dimension of conv1.weight changed from 4 to 5: its byte count no longer matches its shape.
  b = full;
  b[table + 4 + 12 + 8] = 5;
  fix_crc(b);
  write_bytes(bad, b);
  CHECK_THAT(load_error(bad),
             Catch::Contains("tensor 'conv1.weight' of shape (5, 3, 3, 3) claims 432 bytes"));

  CHECK_THAT(load_error(dir.file("absent.ckpt")), Catch::Contains("cannot open checkpoint"));
}

TEST_CASE("checkpoint: any edited header or table byte (CRC fixed) is loaded or refused, never a crash",
          "[checkpoint]") {
  // Every byte of the header, metadata and table, set to a few values, with the CRC recomputed so that the
  // structural checks (not the CRC) must catch it. Each load either succeeds (e.g. a changed letter in a
  // name) or throws std::runtime_error; run under AddressSanitizer this also proves no read outside the file.
  ScratchDir dir("ckpt-edits");
  const std::string path = dir.file("m.ckpt"), bad = dir.file("bad.ckpt");
  save_checkpoint(path, sample_tensors(), kMeta);
  const Bytes full = read_bytes(path);
  const size_t data_offset = size_t(u64_at(full, 40));
  int refused = 0, loaded = 0;
  for (size_t pos = 8; pos < data_offset; ++pos)
    for (const uint8_t value : {uint8_t(0x00), uint8_t(0x01), uint8_t(0x7F), uint8_t(0xFF)}) {
      if (full[pos] == value) continue;
      Bytes b = full;
      b[pos] = value;
      fix_crc(b);
      write_bytes(bad, b);
      try {
        load_checkpoint(bad);
        ++loaded;
      } catch (const std::runtime_error&) {
        ++refused;
      }
    }
  INFO(refused << " refused, " << loaded << " loaded");
  CHECK(refused > 0);
}

TEST_CASE("checkpoint load_into: copies on an exact fit, refuses mismatches and copies nothing",
          "[checkpoint]") {
  ScratchDir dir("ckpt-load-into");
  const std::string path = dir.file("m.ckpt");
  save_checkpoint(path,
                  {{"fc.weight", Tensor::from_vector({1, 2, 3, 4, 5, 6}, {2, 3})},
                   {"fc.bias", Tensor::from_vector({7, 8}, {2})},
                   {"optim/fc.weight/velocity", Tensor::zeros({2, 3})}},
                  kMeta);
  const Checkpoint ck = load_checkpoint(path);
  Tensor w = param({0, 0, 0, 0, 0, 0}, {2, 3}), b = param({0, 0});

  SECTION("exact fit, ignoring the optimizer's tensors") {
    ck.load_into({{"fc.weight", w}, {"fc.bias", b}}, {"optim/"});
    CHECK(w.to_vector() == std::vector<float>({1, 2, 3, 4, 5, 6}));
    CHECK(b.to_vector() == std::vector<float>({7, 8}));
    CHECK(w.requires_grad());
  }
  SECTION("shape mismatch names the tensor and both shapes") {
    Tensor w2 = param({0, 0, 0, 0, 0, 0}, {3, 2});
    CHECK_THROWS_WITH(ck.load_into({{"fc.weight", w2}, {"fc.bias", b}}, {"optim/"}),
                      Catch::Contains("'fc.weight' is (2, 3) in the checkpoint but (3, 2) here"));
    CHECK(b.to_vector() == std::vector<float>({0, 0}));  // nothing copied
  }
  SECTION("missing tensor") {
    Tensor extra = param({0});
    CHECK_THROWS_WITH(ck.load_into({{"fc.weight", w}, {"fc.bias", b}, {"fc2.bias", extra}}, {"optim/"}),
                      Catch::Contains("missing from the checkpoint: 'fc2.bias'"));
    CHECK(w.to_vector() == std::vector<float>(6, 0.0f));
  }
  SECTION("unexpected tensor (the optimizer state, when not ignored)") {
    CHECK_THROWS_WITH(ck.load_into({{"fc.weight", w}, {"fc.bias", b}}),
                      Catch::Contains("in the checkpoint but not expected: 'optim/fc.weight/velocity'"));
  }
}

TEST_CASE("checkpoint saves are atomic: a failed save leaves the previous checkpoint untouched",
          "[checkpoint]") {
  ScratchDir dir("ckpt-atomic");
  const std::string path = dir.file("best.ckpt");
  save_checkpoint(path, sample_tensors(), kMeta);
  const Bytes before = read_bytes(path);
  auto other = std::vector<NamedTensor>{{"different", Tensor::full({1000}, 3.0f)}};

  SECTION("the write fails part-way (a full disk, simulated) at several points") {
    for (int64_t after : {int64_t(0), int64_t(10), int64_t(64), int64_t(200), int64_t(3000)}) {
      INFO("write fails after " << after << " bytes");
      detail::set_checkpoint_write_fault(after);
      CHECK_THROWS_WITH(
          save_checkpoint(path, other, {{"epoch", 8}}),
          Catch::Contains("write of") && Catch::Contains("previous file, if any, is untouched"));
      detail::set_checkpoint_write_fault(-1);
      CHECK(read_bytes(path) == before);
      CHECK(dir.entries() == std::vector<std::string>({"best.ckpt"}));  // the temporary file is removed
    }
  }
  SECTION("the rename fails (the target is now a non-empty directory)") {
    const std::string blocked = dir.file("blocked.ckpt");
    std::filesystem::create_directories(blocked + "/inside");
    CHECK_THROWS_WITH(save_checkpoint(blocked, other, kMeta), Catch::Contains("rename"));
    CHECK(std::filesystem::is_directory(blocked + "/inside"));
    CHECK(read_bytes(path) == before);
    CHECK(dir.entries().size() == 2);  // best.ckpt and blocked.ckpt: no temporary left
  }
  SECTION("the directory does not exist") {
    CHECK_THROWS_WITH(save_checkpoint(dir.file("no/such/dir/x.ckpt"), other, kMeta),
                      Catch::Contains("does the directory exist"));
  }
  SECTION("invalid input is refused before anything is written") {
    CHECK_THROWS_WITH(save_checkpoint(path, {{"a", Tensor::zeros({1})}, {"a", Tensor::zeros({1})}}, kMeta),
                      Catch::Contains("two tensors are named 'a'"));
    CHECK_THROWS_WITH(save_checkpoint(path, {{"", Tensor::zeros({1})}}, kMeta),
                      Catch::Contains("name of 0 bytes"));
    CHECK_THROWS_WITH(save_checkpoint(path, {{"u", Tensor()}}, kMeta), Catch::Contains("'u' is undefined"));
    CHECK_THROWS_WITH(save_checkpoint(path, other, {{"bad", std::string("\xff\xfe")}}),
                      Catch::Contains("metadata cannot be written as JSON"));
    CHECK(read_bytes(path) == before);
  }
  CHECK(load_checkpoint(path).meta == kMeta);
}

TEST_CASE("optimizer state through a checkpoint: the resumed next step is bit-identical",
          "[checkpoint][optim]") {
  ScratchDir dir("ckpt-resume");
  const std::string path = dir.file("resume.ckpt");
  auto make_params = [] {
    return std::vector<NamedTensor>{{"fc.weight", param(random_uniform(12, 31), {3, 4})},
                                    {"fc.bias", param(random_uniform(3, 32))}};
  };
  auto grads = [](int step) {
    return std::vector<std::vector<float>>{random_uniform(12, 100 + uint64_t(step)),
                                           random_uniform(3, 200 + uint64_t(step))};
  };
  auto run = [&](auto make_opt) {
    // Original run: 3 steps, save (params + optimizer state, scalars in the metadata), then step 4.
    auto params = make_params();
    auto opt = make_opt(params);
    opt->set_max_norm(1.5f);
    for (int s = 0; s < 3; ++s) {
      set_grads(params, grads(s));
      opt->set_learning_rate(0.1f / float(s + 1));
      opt->step();
    }
    std::vector<NamedTensor> saved = params;
    for (auto& t : opt->state_tensors()) saved.push_back(t);
    save_checkpoint(path, saved, {{"optimizer", opt->state()}, {"epoch", 3}});
    set_grads(params, grads(3));
    opt->step();

    // Resumed run: fresh parameters and optimizer, everything loaded, the same step 4.
    auto params2 = make_params();
    auto opt2 = make_opt(params2);
    const Checkpoint ck = load_checkpoint(path);
    std::vector<NamedTensor> targets = params2;
    for (auto& t : opt2->state_tensors()) targets.push_back(t);
    ck.load_into(targets);
    opt2->load_state(ck.meta.at("optimizer"));
    CHECK(opt2->learning_rate() == opt->learning_rate());
    CHECK(opt2->step_count() == 3);
    set_grads(params2, grads(3));
    opt2->step();
    for (size_t i = 0; i < params.size(); ++i)
      CHECK(params2[i].tensor.to_vector() == params[i].tensor.to_vector());
    const auto s1 = opt->state_tensors(), s2 = opt2->state_tensors();
    for (size_t i = 0; i < s1.size(); ++i) CHECK(s2[i].tensor.to_vector() == s1[i].tensor.to_vector());
    CHECK(opt2->state() == opt->state());
  };
  SECTION("Adam") {
    run([](std::vector<NamedTensor>& p) { return std::make_unique<Adam>(p, AdamOptions{.lr = 0.1f}); });
  }
  SECTION("AdamW") {
    run([](std::vector<NamedTensor>& p) {
      return std::make_unique<AdamW>(p, AdamOptions{.lr = 0.1f, .weight_decay = 0.05f});
    });
  }
  SECTION("SGD with Nesterov momentum") {
    run([](std::vector<NamedTensor>& p) {
      return std::make_unique<Sgd>(
          p, SgdOptions{.lr = 0.1f, .momentum = 0.9f, .weight_decay = 1e-3f, .nesterov = true});
    });
  }
}
