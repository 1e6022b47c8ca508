// cuda_bench: our CUDA kernels (facet::cuda) against cuDNN / cuBLAS (facet::cuda_ref) on the BaseCNN shapes:
// 64x64 input, batch 64, six cycles of conv 3x3 pad 1 (3->32->32->64->64->128->128 channels) -> batchnorm ->
// maxpool 2x2, then the dense layers 128->256->128 and a 10-way head; plus a square SGEMM for scale.
// Each case: 3 warm-up runs, then the median of 7 timed batches of `iters` runs (CUDA events on the default
// stream). Prints a table and writes JSON (--json PATH, default cuda_bench.json). Also prints the largest
// |ours - vendor| per case, so a GPU run doubles as a correctness check against the vendor libraries.
// Needs a GPU: without one it says so and exits with status 2. Built only when nvcc is found
// (cmake/cuda.cmake).
#include <cuda_runtime.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <functional>
#include <random>
#include <string>
#include <vector>

#include "kernels/activation.h"
#include "kernels/batchnorm2d.h"
#include "kernels/conv2d.h"
#include "kernels/cuda/conv2d_algorithms.h"
#include "kernels/cuda/ref/cuda_ref.h"
#include "kernels/cuda/runtime.h"
#include "kernels/dropout.h"
#include "kernels/elementwise.h"
#include "kernels/gemm.h"
#include "kernels/linear.h"
#include "kernels/maxpool2d.h"
#include "kernels/optim_update.h"
#include "kernels/softmax_ce.h"

namespace {

size_t sz(int64_t n) {
  return size_t(n);
}

void check(cudaError_t e, const char* call, int line) {
  if (e != cudaSuccess) {
    std::fprintf(stderr, "bench/cuda_bench.cpp:%d: %s failed: %s\n", line, call, cudaGetErrorString(e));
    std::exit(1);
  }
}
#define BENCH_CHECK(call) check((call), #call, __LINE__)

// A device buffer of floats filled with uniform [-1, 1) from a fixed seed (RAII).
class Buffer {
 public:
  explicit Buffer(size_t n, uint64_t seed = 0, float lo = -1.0f, float hi = 1.0f) : n_(n) {
    p_ = static_cast<float*>(facet::cuda::device_alloc(n * sizeof(float)));
    std::vector<float> host(n);
    std::mt19937_64 gen(seed);
    std::uniform_real_distribution<float> dist(lo, hi);
    for (auto& v : host) v = dist(gen);
    facet::cuda::copy_to_device(p_, host.data(), n * sizeof(float));
  }
  ~Buffer() { facet::cuda::device_free(p_); }
  Buffer(const Buffer&) = delete;
  Buffer& operator=(const Buffer&) = delete;
  float* get() const { return p_; }
  size_t size() const { return n_; }
  std::vector<float> host() const {
    std::vector<float> h(n_);
    facet::cuda::copy_to_host(h.data(), p_, n_ * sizeof(float));
    return h;
  }
  void copy_from(const Buffer& o) { facet::cuda::copy_device_to_device(p_, o.p_, n_ * sizeof(float)); }

 private:
  float* p_;
  size_t n_;
};

double max_abs_diff(const Buffer& a, const Buffer& b) {
  const std::vector<float> x = a.host(), y = b.host();
  double m = 0;
  for (size_t i = 0; i < x.size(); ++i) m = std::max(m, double(std::fabs(x[i] - y[i])));
  return m;
}

// Median milliseconds per call of fn.
double time_ms(const std::function<void()>& fn, int iters) {
  for (int i = 0; i < 3; ++i) fn();
  cudaEvent_t start, stop;
  BENCH_CHECK(cudaEventCreate(&start));
  BENCH_CHECK(cudaEventCreate(&stop));
  std::vector<double> samples;
  for (int r = 0; r < 7; ++r) {
    BENCH_CHECK(cudaEventRecord(start));
    for (int i = 0; i < iters; ++i) fn();
    BENCH_CHECK(cudaEventRecord(stop));
    BENCH_CHECK(cudaEventSynchronize(stop));
    float ms = 0;
    BENCH_CHECK(cudaEventElapsedTime(&ms, start, stop));
    samples.push_back(double(ms) / iters);
  }
  BENCH_CHECK(cudaGetLastError());
  BENCH_CHECK(cudaEventDestroy(start));
  BENCH_CHECK(cudaEventDestroy(stop));
  std::sort(samples.begin(), samples.end());
  return samples[samples.size() / 2];
}

struct Row {
  std::string op, shape;
  double ours_ms, vendor_ms;  // vendor_ms < 0: no vendor version
  double work;                // flops (rate in TFLOP/s) or bytes (rate in GB/s)
  bool flops;
  double max_diff;  // |ours - vendor| on one output, < 0 when not compared
};
std::vector<Row> rows;

void add(const std::string& op, const std::string& shape, double ours, double vendor, double work, bool flops,
         double diff) {
  rows.push_back({op, shape, ours, vendor, work, flops, diff});
  const double rate = flops ? work / (ours * 1e9) : work / (ours * 1e6);  // TFLOP/s or GB/s
  std::printf("%-22s %-28s %9.4f  %9s  %6s  %8.2f %-6s %10s\n", op.c_str(), shape.c_str(), ours,
              vendor >= 0 ? std::to_string(vendor).substr(0, 7).c_str() : "-",
              vendor >= 0 ? std::to_string(ours / vendor).substr(0, 5).c_str() : "-", rate,
              flops ? "TF/s" : "GB/s", diff >= 0 ? std::to_string(diff).substr(0, 8).c_str() : "-");
  std::fflush(stdout);
}

std::string dims(std::initializer_list<int> v) {
  std::string s;
  for (int x : v) {
    if (!s.empty()) s.push_back('x');
    s.append(std::to_string(x));
  }
  return s;
}

void bench_conv(int N, int C, int H, int K) {
  const facet::Conv2dDims d{N, C, H, H, K, 3, 3, 1, 1};
  const size_t nx = size_t(N) * C * H * H, nw = size_t(K) * C * 9, ny = size_t(N) * K * H * H;
  Buffer x(nx, 1), w(nw, 2, -0.2f, 0.2f), b(sz(K), 3), dy(ny, 4);
  Buffer y(ny), y_ref(ny), dx(nx), dw(nw), db(sz(K)), dx_ref(nx), dw_ref(nw), db_ref(sz(K));
  const std::string shape = dims({N, C, H, H}) + " K" + std::to_string(K);
  const double fwd_flops = 2.0 * N * K * H * H * C * 9;
  auto ours_fwd = [&] { facet::cuda::conv2d_forward(y.get(), x.get(), w.get(), b.get(), d); };
  auto ref_fwd = [&] { facet::cuda_ref::conv2d_forward(y_ref.get(), x.get(), w.get(), b.get(), d); };
  const int iters = 20;
  const double t_ours = time_ms(ours_fwd, iters), t_ref = time_ms(ref_fwd, iters);
  add("conv2d fwd", shape, t_ours, t_ref, fwd_flops, true, max_abs_diff(y, y_ref));
  facet::cuda::set_conv2d_algorithm(facet::cuda::Conv2dAlgorithm::naive);
  add("conv2d fwd (naive)", shape, time_ms(ours_fwd, 5), -1, fwd_flops, true, -1);
  facet::cuda::set_conv2d_algorithm(facet::cuda::Conv2dAlgorithm::implicit_gemm);
  // Backward accumulates: compare one call from zeroed gradients, time repeated calls.
  auto ours_bwd = [&] {
    facet::cuda::conv2d_backward(dx.get(), dw.get(), db.get(), dy.get(), x.get(), w.get(), d);
  };
  auto ref_bwd = [&] {
    facet::cuda_ref::conv2d_backward(dx_ref.get(), dw_ref.get(), db_ref.get(), dy.get(), x.get(), w.get(), d);
  };
  const double tb_ours = time_ms(ours_bwd, iters), tb_ref = time_ms(ref_bwd, iters);
  facet::cuda::fill(dw.get(), 0.0f, int64_t(nw));
  facet::cuda::fill(dw_ref.get(), 0.0f, int64_t(nw));
  ours_bwd();
  ref_bwd();
  add("conv2d bwd (data+w+b)", shape, tb_ours, tb_ref, 2 * fwd_flops, true, max_abs_diff(dw, dw_ref));
}

void bench_batchnorm(int N, int C, int H) {
  const int HW = H * H;
  const size_t n = size_t(N) * C * HW;
  Buffer x(n, 5), g(sz(C), 6, 0.5f, 1.5f), be(sz(C), 7), y(n), y_ref(n), m(sz(C)), r(sz(C));
  Buffer rm(sz(C)), rv(sz(C), 8, 0.5f, 1.5f), dy(n, 9), dx(n), dg(sz(C)), db(sz(C));
  const std::string shape = dims({N, C, H, H});
  const double bytes = 3.0 * n * sizeof(float);  // read x twice (stats, normalise), write y
  auto ours = [&] {
    facet::cuda::batchnorm2d_forward_train(y.get(), m.get(), r.get(), rm.get(), rv.get(), x.get(), g.get(),
                                           be.get(), N, C, HW, 0.1f, 1e-5f);
  };
  auto ref = [&] {
    facet::cuda_ref::batchnorm2d_forward_train(y_ref.get(), m.get(), r.get(), rm.get(), rv.get(), x.get(),
                                               g.get(), be.get(), N, C, HW, 0.1f, 1e-5f);
  };
  const double t_ours = time_ms(ours, 20), t_ref = time_ms(ref, 20);
  add("batchnorm fwd train", shape, t_ours, t_ref, bytes, false, max_abs_diff(y, y_ref));
  auto ours_b = [&] {
    facet::cuda::batchnorm2d_backward(dx.get(), dg.get(), db.get(), dy.get(), x.get(), g.get(), m.get(),
                                      r.get(), N, C, HW);
  };
  auto ref_b = [&] {
    facet::cuda_ref::batchnorm2d_backward(dx.get(), dg.get(), db.get(), dy.get(), x.get(), g.get(), m.get(),
                                          r.get(), N, C, HW, 1e-5f);
  };
  add("batchnorm bwd", shape, time_ms(ours_b, 20), time_ms(ref_b, 20), 5.0 * n * sizeof(float), false, -1);
}

void bench_maxpool(int N, int C, int H) {
  const facet::Pool2dDims d{N, C, H, H, 2, 2, 0};
  const size_t n = size_t(N) * C * H * H, no = n / 4;
  Buffer x(n, 10), y(no), y_ref(no), dy(no, 11), dx(n);
  int32_t* argmax = static_cast<int32_t*>(facet::cuda::device_alloc(no * sizeof(int32_t)));
  const std::string shape = dims({N, C, H, H});
  auto ours = [&] { facet::cuda::maxpool2d_forward(y.get(), argmax, x.get(), d); };
  auto ref = [&] { facet::cuda_ref::maxpool2d_forward(y_ref.get(), nullptr, x.get(), d); };
  const double t_ours = time_ms(ours, 50), t_ref = time_ms(ref, 50);
  add("maxpool fwd", shape, t_ours, t_ref, (n + 2.0 * no) * sizeof(float), false, max_abs_diff(y, y_ref));
  auto ours_b = [&] { facet::cuda::maxpool2d_backward(dx.get(), dy.get(), argmax, d); };
  auto ref_b = [&] { facet::cuda_ref::maxpool2d_backward(dx.get(), dy.get(), x.get(), y_ref.get(), d); };
  add("maxpool bwd", shape, time_ms(ours_b, 50), time_ms(ref_b, 50), (2.0 * n + 2.0 * no) * sizeof(float),
      false, -1);
  facet::cuda::device_free(argmax);
}

void bench_linear(int B, int IN, int OUT) {
  Buffer x(sz(B) * IN, 12), w(sz(OUT) * IN, 13, -0.1f, 0.1f), b(sz(OUT), 14), dy(sz(B) * OUT, 15);
  Buffer y(sz(B) * OUT), y_ref(sz(B) * OUT), dx(sz(B) * IN), dw(sz(OUT) * IN), db(sz(OUT));
  const std::string shape = dims({B, IN, OUT});
  const double flops = 2.0 * B * IN * OUT;
  auto ours = [&] { facet::cuda::linear_forward(y.get(), x.get(), w.get(), b.get(), B, IN, OUT); };
  auto ref = [&] { facet::cuda_ref::linear_forward(y_ref.get(), x.get(), w.get(), b.get(), B, IN, OUT); };
  const double t_ours = time_ms(ours, 100), t_ref = time_ms(ref, 100);
  add("linear fwd", shape, t_ours, t_ref, flops, true, max_abs_diff(y, y_ref));
  auto ours_b = [&] {
    facet::cuda::linear_backward(dx.get(), dw.get(), db.get(), dy.get(), x.get(), w.get(), B, IN, OUT);
  };
  auto ref_b = [&] {
    facet::cuda_ref::linear_backward(dx.get(), dw.get(), db.get(), dy.get(), x.get(), w.get(), B, IN, OUT);
  };
  add("linear bwd", shape, time_ms(ours_b, 100), time_ms(ref_b, 100), 2 * flops, true, -1);
}

void bench_sgemm(int n) {
  Buffer a(sz(n) * n, 16), b(sz(n) * n, 17), c(sz(n) * n), c_ref(sz(n) * n);
  auto ours = [&] {
    facet::cuda::sgemm(false, false, n, n, n, 1.0f, a.get(), n, b.get(), n, 0.0f, c.get(), n);
  };
  auto ref = [&] {
    facet::cuda_ref::sgemm(false, false, n, n, n, 1.0f, a.get(), n, b.get(), n, 0.0f, c_ref.get(), n);
  };
  const double t_ours = time_ms(ours, 10), t_ref = time_ms(ref, 10);
  add("sgemm NN", dims({n, n, n}), t_ours, t_ref, 2.0 * n * n * n, true, max_abs_diff(c, c_ref));
}

// Ops with no vendor counterpart: our time and bandwidth only.
void bench_pointwise() {
  const int64_t n = int64_t(64) * 32 * 64 * 64;  // the first conv layer's output
  Buffer x(sz(n), 18), y(sz(n)), dy(sz(n), 19), dx(sz(n)), m(sz(n)), v(sz(n), 20, 0.0f, 0.1f);
  uint8_t* mask = static_cast<uint8_t*>(facet::cuda::device_alloc(size_t(n)));
  const std::string shape = std::to_string(n);
  add("relu fwd", shape, time_ms([&] { facet::cuda::relu_forward(y.get(), x.get(), n); }, 50), -1, 8.0 * n,
      false, -1);
  add("leakyrelu bwd", shape,
      time_ms([&] { facet::cuda::leakyrelu_backward(dx.get(), dy.get(), x.get(), n, 0.01f); }, 50), -1,
      16.0 * n, false, -1);
  add("dropout fwd", shape,
      time_ms([&] { facet::cuda::dropout_forward(y.get(), mask, x.get(), n, 0.5f, 42, 0); }, 50), -1, 9.0 * n,
      false, -1);
  add("adam update", shape,
      time_ms(
          [&] {
            facet::cuda::adam_update(x.get(), m.get(), v.get(), dy.get(), n, 1e-3f, 0.9f, 0.999f, 1e-8f, 0.0f,
                                     false, 10);
          },
          50),
      -1, 28.0 * n, false, -1);
  facet::cuda::device_free(mask);
  const int B = 64, C = 10;
  Buffer z(sz(B) * C, 21), p(sz(B) * C), l(sz(B));
  std::vector<int32_t> t(sz(B));
  for (int i = 0; i < B; ++i) t[size_t(i)] = i % C;
  int32_t* targets = static_cast<int32_t*>(facet::cuda::device_alloc(sizeof(int32_t) * size_t(B)));
  facet::cuda::copy_to_device(targets, t.data(), sizeof(int32_t) * size_t(B));
  add("softmax-CE fwd", dims({B, C}),
      time_ms(
          [&] {
            facet::cuda::softmax_cross_entropy_forward(l.get(), p.get(), z.get(), targets, nullptr, B, C,
                                                       0.0f);
          },
          100),
      -1, 2.0 * B * C * sizeof(float), false, -1);
  facet::cuda::device_free(targets);
}

void write_json(const char* path, const std::string& device) {
  FILE* f = std::fopen(path, "w");
  if (!f) {
    std::fprintf(stderr, "cuda_bench: cannot write %s\n", path);
    return;
  }
  std::fprintf(
      f,
      "{\n  \"device\": \"%s\",\n  \"method\": \"median of 7 batches of CUDA-event-timed runs after 3 "
      "warm-ups; FP32 everywhere (cuBLAS default math, cuDNN FMA math)\",\n  \"rows\": [\n",
      device.c_str());
  for (size_t i = 0; i < rows.size(); ++i) {
    const Row& r = rows[i];
    std::fprintf(
        f,
        "    {\"op\": \"%s\", \"shape\": \"%s\", \"ours_ms\": %.6f, \"vendor_ms\": %s, \"ratio\": %s, "
        "\"%s\": %.4f, \"max_abs_diff\": %s}%s\n",
        r.op.c_str(), r.shape.c_str(), r.ours_ms,
        r.vendor_ms >= 0 ? std::to_string(r.vendor_ms).c_str() : "null",
        r.vendor_ms >= 0 ? std::to_string(r.ours_ms / r.vendor_ms).c_str() : "null",
        r.flops ? "ours_tflops" : "ours_gbps",
        r.flops ? r.work / (r.ours_ms * 1e9) : r.work / (r.ours_ms * 1e6),
        r.max_diff >= 0 ? std::to_string(r.max_diff).c_str() : "null", i + 1 < rows.size() ? "," : "");
  }
  std::fprintf(f, "  ]\n}\n");
  std::fclose(f);
}

}  // namespace

int main(int argc, char** argv) {
  const char* json = "cuda_bench.json";
  for (int i = 1; i < argc; ++i) {
    if (std::strcmp(argv[i], "--json") == 0 && i + 1 < argc)
      json = argv[++i];
    else {
      std::fprintf(stderr, "usage: cuda_bench [--json PATH]\n");
      return 1;
    }
  }
  if (!facet::cuda::available()) {
    std::fprintf(stderr, "cuda_bench: %s. This benchmark needs an NVIDIA GPU.\n",
                 facet::cuda::device_description().c_str());
    return 2;
  }
  const std::string device = facet::cuda::device_description();
  std::printf("cuda_bench on %s\n", device.c_str());
  std::printf("%-22s %-28s %9s  %9s  %6s  %15s %10s\n", "op", "shape", "ours ms", "vendor ms", "ratio",
              "ours rate", "max|diff|");
  const int batch = 64;
  const int channels[7] = {3, 32, 32, 64, 64, 128, 128};
  for (int layer = 0; layer < 6; ++layer) {
    const int H = 64 >> layer;
    bench_conv(batch, channels[layer], H, channels[layer + 1]);
    bench_batchnorm(batch, channels[layer + 1], H);
    bench_maxpool(batch, channels[layer + 1], H);
  }
  bench_linear(batch, 128, 256);
  bench_linear(batch, 256, 128);
  bench_linear(batch, 128, 10);
  bench_sgemm(1024);
  bench_pointwise();
  write_json(json, device);
  std::printf("wrote %s\n", json);
  return 0;
}
