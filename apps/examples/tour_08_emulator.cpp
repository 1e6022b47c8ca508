// Tour, chapter 8 (docs/tour/08-cuda-emulator.md): a CUDA kernel run on the CPU, against its CPU twin.
//
// facet's CUDA kernels (kernels/cuda/*.cu) are compiled twice: by nvcc for the GPU, and by g++ against the
// emulator (kernels/cuda/emu/), where every CUDA thread is a fiber and __syncthreads is a barrier over the
// fibers of its block. This file is compiled the second way: it includes kernels/cuda/cuda_compat.h (as every
// .cu does), so the kernels below are CUDA code, and it links facet_cuda_emu, the g++ build of
// kernels/cuda/*.cu, so facet::cuda::conv2d_forward is the very kernel the GPU runs.
//
//   1. block_sums: the textbook shared-memory reduction, written here, against a plain CPU loop;
//   2. the same kernel without its __syncthreads: the emulator fills shared memory with NaN before each
//   block,
//      so reading a slot before its writer ran shows up as NaN instead of as a plausible wrong number;
//   3. facet::cuda::conv2d_forward (kernels/cuda/conv2d.cu) against its twin facet::cpu::conv2d_forward.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <vector>

#include "kernels/conv2d.h"
#include "kernels/cuda/cuda_compat.h"
#include "kernels/cuda/runtime.h"

using Vec = std::vector<float>;
constexpr int kThreads = 256;  // threads per block

// out[b] = in[b*256] + ... + in[b*256 + 255]: each step adds the upper half of the partial sums onto the
// lower half (256 -> 128 -> ... -> 1); the barrier makes every thread's write visible before the next step.
__global__ void block_sums(float* out, const float* in, int n) {
  FACET_SHARED_ARRAY(float, partial, [kThreads]);  // __shared__ float partial[256], bounds-checked here
  const int t = threadIdx.x, i = blockIdx.x * blockDim.x + t;
  partial[t] = i < n ? in[i] : 0.0f;
  __syncthreads();
  for (int half = blockDim.x / 2; half > 0; half /= 2) {
    if (t < half) partial[t] += partial[t + half];
    __syncthreads();
  }
  if (t == 0) out[blockIdx.x] = partial[0];
}

// The same without the barriers: a race. On a GPU it may give right answers for months; here thread 0 runs
// until its first read of a slot no one has written yet.
__global__ void block_sums_racy(float* out, const float* in, int n) {
  FACET_SHARED_ARRAY(float, partial, [kThreads]);
  const int t = threadIdx.x, i = blockIdx.x * blockDim.x + t;
  partial[t] = i < n ? in[i] : 0.0f;
  for (int half = blockDim.x / 2; half > 0; half /= 2)
    if (t < half) partial[t] += partial[t + half];
  if (t == 0) out[blockIdx.x] = partial[0];
}

// A device copy of a host vector (device memory is host memory on the emulator, but the code cannot tell).
struct DeviceBuffer {
  float* ptr;
  size_t n;
  explicit DeviceBuffer(const Vec& host) : n(host.size()) {
    ptr = static_cast<float*>(facet::cuda::device_alloc(n * sizeof(float)));
    facet::cuda::copy_to_device(ptr, host.data(), n * sizeof(float));
  }
  ~DeviceBuffer() { facet::cuda::device_free(ptr); }
  DeviceBuffer(const DeviceBuffer&) = delete;
  DeviceBuffer& operator=(const DeviceBuffer&) = delete;
  Vec to_host() const {
    Vec h(n);
    facet::cuda::copy_to_host(h.data(), ptr, n * sizeof(float));
    return h;
  }
};

double max_difference(const Vec& x, const Vec& y) {
  double worst = 0;
  for (size_t i = 0; i < x.size(); ++i) worst = std::max(worst, std::fabs(double(x[i]) - double(y[i])));
  return worst;
}

Vec ramp(size_t n, int seed) {  // fixed values in [-1, 1]
  Vec v(n);
  for (size_t i = 0; i < n; ++i) v[i] = float((i * 7919 + seed * 104729) % 2001) / 1000.0f - 1.0f;
  return v;
}

// 1 and 2: the reduction, correct and racy, against the CPU's sums.
bool check_reduction() {
  const int n = 1000, blocks = (n + kThreads - 1) / kThreads;
  const Vec in = ramp(n, 1);
  Vec cpu(blocks, 0.0f);
  for (int i = 0; i < n; ++i) cpu[i / kThreads] += in[i];  // the CPU twin: a plain loop

  DeviceBuffer d_in(in), d_out{Vec(blocks)}, d_racy{Vec(blocks)};
  FACET_LAUNCH(block_sums, dim3(blocks), dim3(kThreads), 0, facet::cuda::current_stream_handle(), d_out.ptr,
               d_in.ptr, n);
  FACET_LAUNCH(block_sums_racy, dim3(blocks), dim3(kThreads), 0, facet::cuda::current_stream_handle(),
               d_racy.ptr, d_in.ptr, n);
  const Vec gpu = d_out.to_host(), racy = d_racy.to_host();
  const double tol = 1e-4, diff = max_difference(gpu, cpu);  // 256 floats summed in another order
  std::printf("block_sums, %d blocks of %d threads: block 0 = %.5f (CPU %.5f)\n", blocks, kThreads, gpu[0],
              cpu[0]);
  std::printf("  kernel vs CPU loop: max difference %.3g (tolerance %.0e)\n", diff, tol);
  const bool caught = std::isnan(racy[0]);
  std::printf("block_sums_racy (no __syncthreads): block 0 = %f -> %s\n", racy[0],
              caught ? "the race shows up as NaN" : "NOT caught");
  return diff <= tol && caught;
}

// 3: one of facet's own CUDA kernels against its CPU twin.
bool check_conv2d() {
  const facet::Conv2dDims d{2, 3, 10, 10, 8, 3, 3, 1, 1};  // N C H W K R S stride pad
  const Vec in = ramp(size_t(d.N) * d.C * d.H * d.W, 2), w = ramp(size_t(d.K) * d.C * d.R * d.S, 3),
            bias = ramp(d.K, 4);
  const size_t n_out = size_t(d.N) * d.K * d.P() * d.Q();
  Vec cpu(n_out);
  facet::cpu::conv2d_forward(cpu.data(), in.data(), w.data(), bias.data(), d);  // (N, K, P, Q)
  DeviceBuffer d_in(in), d_w(w), d_bias(bias), d_out{Vec(n_out)};
  facet::cuda::conv2d_forward(d_out.ptr, d_in.ptr, d_w.ptr, d_bias.ptr, d);
  const double tol = 1e-4, diff = max_difference(d_out.to_host(), cpu);
  std::printf(
      "facet::cuda::conv2d_forward vs facet::cpu::conv2d_forward (N=2 C=3 10x10 K=8 3x3 pad 1): "
      "max difference %.3g (tolerance %.0e)\n",
      diff, tol);
  return diff <= tol;
}

int main() {
  facet::cuda::set_emulation_enabled(
      true);  // the emulated device is off unless asked for (FACET_CUDA_EMULATE=1)
  std::printf("device: %s\n", facet::cuda::device_description().c_str());
  bool ok = check_reduction();
  ok = check_conv2d() && ok;
  std::printf("%s\n", ok ? "the CUDA kernels agree with their CPU twins" : "FAILED");
  return ok ? 0 : 1;
}
