// The prefetching loader: same batches for any worker count and with the cache on or off, undecodable images
// left out (never replaced), weighted sampling, clean shutdown mid-epoch, training-split statistics.
#include <catch2/catch.hpp>

#include <set>

#include "data/loader.h"
#include "tests/common/check.h"
#include "tests/data/helpers.h"

using namespace facet::data;
using facet::test::TempDir;

namespace {
struct Files {
  TempDir dir;
  Dataset ds;
};

// n JPEGs of different sizes (and one grayscale), labels: class i % 3, gender i % 2; `broken` truncated files.
void make_files(Files& f, int n, int broken = 0) {
  f.ds.source = "test";
  for (int i = 0; i < n + broken; ++i) {
    Sample s;
    s.name = "img" + std::to_string(i) + ".jpg";
    s.path = f.dir.file(s.name);
    facet::test::write_jpeg_file(s.path, 20 + i % 5, 18 + i % 3, i == 4 ? 1 : 3, unsigned(i));
    if (i >= n) {  // truncate
      auto b = facet::test::file_bytes(s.path);
      b.resize(b.size() / 2);
      facet::test::write_bytes(s.path, b);
    }
    s.labels = {i % 3, i % 2};
    s.targets = {float(i), 1.0f};
    f.ds.samples.push_back(s);
  }
}

LoaderOptions options(int workers, bool cache) {
  LoaderOptions o;
  o.batch_size = 5;
  o.workers = workers;
  o.prefetch = 2;
  o.cache = cache;
  o.augment = true;
  o.seed = 9;
  o.transform.width = o.transform.height = 12;
  o.transform.resize_w = o.transform.resize_h = 16;
  o.transform.random_crop = o.transform.random_flip = true;
  o.warn = false;
  return o;
}

std::vector<Batch> epochs(Loader& loader, int count) {
  std::vector<Batch> all;
  for (int e = 0; e < count; ++e) {
    loader.start_epoch(e);
    Batch b;
    while (loader.next(b)) all.push_back(b);
  }
  return all;
}

void require_same(const std::vector<Batch>& a, const std::vector<Batch>& b) {
  REQUIRE(a.size() == b.size());
  for (size_t i = 0; i < a.size(); ++i) {
    INFO("batch " << i);
    REQUIRE(a[i].n == b[i].n);
    REQUIRE(a[i].names == b[i].names);
    REQUIRE(a[i].labels == b[i].labels);
    REQUIRE(a[i].targets == b[i].targets);
    REQUIRE(a[i].images == b[i].images);  // bit-exact
  }
}
}  // namespace

TEST_CASE("loader: identical batches for 0, 1 and 3 workers, cache on or off", "[data][loader]") {
  Files f;
  make_files(f, 23);
  Loader l1(f.ds, options(1, true)), l3(f.ds, options(3, true)), l0(f.ds, options(0, false)), l3n(f.ds, options(3, false));
  const auto a = epochs(l1, 3);
  REQUIRE(a.size() == 15);  // 23 samples, batch 5 -> 5 batches per epoch
  CHECK(a[4].n == 3);
  CHECK((a[0].c == 3 && a[0].h == 12 && a[0].w == 12));
  CHECK(a[0].images.size() == size_t(5 * 3 * 12 * 12));
  CHECK(a[0].labels.size() == 2);
  CHECK(a[0].target_dim == 2);
  require_same(a, epochs(l3, 3));
  require_same(a, epochs(l0, 3));
  require_same(a, epochs(l3n, 3));
  // epochs differ (new order, new crops), every sample once per epoch
  CHECK(a[0].names != a[5].names);
  std::set<std::string> seen;
  for (int b = 0; b < 5; ++b) seen.insert(a[size_t(b)].names.begin(), a[size_t(b)].names.end());
  CHECK(seen.size() == 23);
  // labels travel with their image
  for (const auto& b : a)
    for (int i = 0; i < b.n; ++i) {
      const int idx = std::stoi(b.names[size_t(i)].substr(3));
      REQUIRE(b.labels[0][size_t(i)] == idx % 3);
      REQUIRE(b.targets[size_t(i) * 2] == float(idx));
      REQUIRE(b.indices[size_t(i)] == idx);
    }
  // the cache: every image decoded once over three epochs; without it, every epoch decodes again
  CHECK(l1.stats().decoded == 23);
  CHECK(l1.stats().cache_hits == 46);
  CHECK(l1.cache_bytes() == size_t(23 * 16 * 16 * 3));
  CHECK(l3n.stats().decoded == 69);
  CHECK(l3n.stats().cache_hits == 0);
  CHECK(l3n.cache_bytes() == 0);
  CHECK(l1.stats().images == 69);
}

TEST_CASE("loader: an undecodable image is left out of its batch, named, counted once", "[data][loader]") {
  Files f;
  make_files(f, 9, 2);  // img9.jpg and img10.jpg are truncated
  LoaderOptions o = options(2, true);
  o.shuffle = false;
  Loader loader(f.ds, o);
  const auto b = epochs(loader, 2);
  REQUIRE(b.size() == 6);
  CHECK(b[0].n == 5);
  CHECK(b[1].n == 4);  // img5..img8
  CHECK(b[2].n == 0);  // img9, img10: both broken -> an empty batch, not grey images
  CHECK(b[2].images.empty());
  const LoaderStats st = loader.stats();
  CHECK(st.failed == 4);  // two per epoch
  REQUIRE(st.failures.size() == 2);
  CHECK(st.failures[0].find("img10.jpg: ") == 0);  // sorted by name
  CHECK(st.failures[1].find("img9.jpg: ") == 0);
  CHECK(st.failures[1].find("truncated JPEG") != std::string::npos);
  CHECK(st.images == 18);
}

TEST_CASE("loader: weighted sampling draws by weight, deterministically", "[data][loader]") {
  Files f;
  make_files(f, 12);
  LoaderOptions o = options(2, true);
  o.weights.assign(12, 0.0);
  o.weights[3] = 1.0;
  o.weights[7] = 3.0;
  Loader a(f.ds, o), b(f.ds, o);
  const auto x = epochs(a, 2), y = epochs(b, 2);
  require_same(x, y);
  int n3 = 0, n7 = 0;
  for (const auto& batch : x)
    for (const auto& name : batch.names) {
      REQUIRE((name == "img3.jpg" || name == "img7.jpg"));
      (name == "img3.jpg" ? n3 : n7)++;
    }
  CHECK(n3 + n7 == 24);
  CHECK(n7 > n3);
  o.weights.resize(5);
  CHECK_THROWS_WITH(Loader(f.ds, o), Catch::Contains("5 sampling weights for 12 samples"));
}

TEST_CASE("loader: stopping mid-epoch, restarting an epoch, misuse", "[data][loader]") {
  Files f;
  make_files(f, 20);
  {
    Loader loader(f.ds, options(3, false));
    loader.start_epoch(0);
    Batch b;
    REQUIRE(loader.next(b));
    loader.start_epoch(0);  // restart: the same first batch again
    Batch again;
    REQUIRE(loader.next(again));
    CHECK(again.names == b.names);
    CHECK(again.images == b.images);
  }  // destroyed with batches in flight: joins its threads
  Loader fresh(f.ds, options(2, true));
  Batch b;
  CHECK_THROWS_WITH(fresh.next(b), Catch::Contains("before start_epoch"));
  LoaderOptions bad = options(1, true);
  bad.batch_size = 0;
  CHECK_THROWS_WITH(Loader(f.ds, bad), Catch::Contains("batch size 0"));
  LoaderOptions last = options(1, true);
  last.drop_last = true;
  CHECK(Loader(f.ds, last).batches_per_epoch() == 4);
}

TEST_CASE("normalization statistics of the network input over a split", "[data][loader]") {
  TempDir dir;
  Dataset ds;
  // Two flat images: RGB (0, 51, 255) and (102, 51, 0) -> per channel mean/std over both (unit scaling).
  const uint8_t c1[3] = {0, 51, 255}, c2[3] = {102, 51, 0};
  for (int k = 0; k < 2; ++k) {
    Image img(8, 8, 3);
    for (int i = 0; i < 64; ++i)
      for (int ch = 0; ch < 3; ++ch) img.pixels[size_t(i * 3 + ch)] = (k ? c2 : c1)[ch];
    Sample s;
    s.name = "flat" + std::to_string(k) + ".png";
    s.path = dir.file(s.name);
    write_png(s.path, img);
    ds.samples.push_back(s);
  }
  TransformConfig tc;
  tc.width = tc.height = 4;
  const Normalization n = compute_normalization(ds, tc, 0, 1, 2);
  CHECK_ALL_CLOSE(n.mean, (std::vector<float>{0.2f, 0.2f, 0.5f}), 1e-6, 0);
  // channel 1 is constant (std 0): stored as 1, so its inputs stay x - mean and a checkpoint's std is never 0
  CHECK_ALL_CLOSE(n.std, (std::vector<float>{0.2f, 1.0f, 0.5f}), 1e-6, 0);
  const Normalization back = Normalization::from_json(n.to_json());
  CHECK(back.mean == n.mean);
  // applied by the loader, the statistics make the input zero-mean
  LoaderOptions o;
  o.transform = tc;
  o.transform.norm = n;
  o.workers = 1;
  Loader loader(ds, o);
  loader.start_epoch(0);
  Batch b;
  REQUIRE(loader.next(b));
  double sum = 0;
  for (size_t i = 0; i < b.images.size(); i += 3 * 16) sum += b.images[i];  // channel 0, first pixel of each
  CHECK(std::abs(sum) < 1e-5);

  std::vector<float> chw;
  std::string error;
  REQUIRE(load_input(ds.samples[0].path, o.transform, chw, error));
  CHECK(chw.size() == 3 * 16);
  CHECK_FALSE(load_input(dir.file("none.png"), o.transform, chw, error));
}
