// CPU emulation of the CUDA programming model, so kernels/cuda/*.cu compile with g++ and run without a GPU.
//
// A launch runs the grid's blocks one after another (blocks are independent, as on a GPU); with
// FACET_CUDA_EMU_THREADS=n or set_os_threads(n) they are spread over n OpenMP threads instead. The default is
// 1: the test grids are small and a parallel region per launch costs more than it saves. Inside a block every
// CUDA thread is a Boost.Context fiber: the fibers of one block take turns on one OS thread, and a fiber
// gives up its turn only at a synchronisation point (__syncthreads, __syncwarp, __shfl_*_sync,
// __ballot_sync). So
//   - threadIdx/blockIdx/blockDim/gridDim read the context of the fiber that is running (a thread_local
//     pointer the scheduler sets before each switch);
//   - __shared__ is `static thread_local`: every fiber of a block runs on the same OS thread, so they share
//     it, and blocks that run at the same time on other OS threads have their own copy;
//   - __syncthreads is a barrier over the block's fibers; a warp op is a barrier over the 32 lanes in its
//     mask.
// What a GPU would punish is reported as an emu::KernelError naming the kernel, the block and the thread:
// a __syncthreads reached by only part of the block (the rest exited or wait elsewhere), threads of one block
// at different __syncthreads calls, a warp op whose mask names exited or missing lanes, and (checked mode,
// FACET_CUDA_EMU_CHECKED=1, the default) an out-of-bounds index into shared memory declared with
// FACET_SHARED_ARRAY / FACET_DYNAMIC_SHARED. Shared memory is filled with 0xFF bytes (NaN as float) before
// every block, so a kernel that reads shared memory it never wrote produces NaNs, not plausible numbers.
// Included only by kernels/cuda/cuda_compat.h when the compiler is not nvcc.
#pragma once
#if defined(__CUDACC__)
#error "kernels/cuda/emu/emu.h is the host-compiler emulation; nvcc uses the real CUDA runtime"
#endif

#include <atomic>
#include <bit>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <source_location>
#include <stdexcept>
#include <string>
#include <type_traits>

#include "kernels/cuda/emu/runtime_api.h"

#ifndef FACET_CUDA_EMU_CHECKED
#define FACET_CUDA_EMU_CHECKED 1
#endif

// ---- CUDA keywords: plain C++ on the host ------------------------------------------------------------
#define __global__
#define __device__
#define __host__
#define __forceinline__ inline __attribute__((always_inline))
#define __launch_bounds__(...)
#define __align__(n) __attribute__((aligned(n)))
#define __shared__ static thread_local

// ---- built-in vector types and variables --------------------------------------------------------------
struct uint3 {
  unsigned x, y, z;
};
struct dim3 {
  unsigned x, y, z;
  constexpr dim3(unsigned x_ = 1, unsigned y_ = 1, unsigned z_ = 1) : x(x_), y(y_), z(z_) {}
};
constexpr int warpSize = 32;

namespace facet::cuda::emu {

// Thrown for every error the emulator detects inside a kernel; the message names kernel, block and thread.
struct KernelError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// What a running CUDA thread sees. The scheduler points tls_thread at the running fiber's context.
struct ThreadContext {
  uint3 thread_idx;
  uint3 block_idx;
  dim3 block_dim;
  dim3 grid_dim;
};
inline thread_local const ThreadContext* tls_thread = nullptr;
[[noreturn]] void outside_kernel(const char* what);
inline const ThreadContext& this_thread(const char* what) {
  if (!tls_thread) outside_kernel(what);
  return *tls_thread;
}

// Throws a KernelError: "<what> in kernel 'k' (launched at file:line), block (x,y,z), thread (x,y,z)".
[[noreturn]] void fail(const std::string& what);

// ---- synchronisation (implemented by the scheduler in emu.cpp) -------------------------------------------
void syncthreads(const std::source_location& where);
// Waits until every lane in mask has arrived at a warp op; `what` names the intrinsic for error messages.
void warp_barrier(unsigned mask, const char* what, const std::source_location& where);
unsigned lane_id();               // the calling thread's lane in its warp (linear thread index % 32)
unsigned warp_lanes_present();    // mask of lanes that exist in the calling thread's warp
uint64_t* warp_exchange_slots();  // the 32 slots of the warp barrier the calling lane joins next
[[noreturn]] void shuffle_source_not_in_mask(const char* what, const std::source_location& where, int src,
                                             unsigned mask);

// A shuffle: every lane in mask stores its value in the slots of the barrier it is about to join, waits for
// the others, and reads lane src_of(lane)'s value (src_of returns -1 for "keep own value"). The slots
// alternate with the barrier's generation, so a lane that runs ahead to the next warp op writes the other
// set: nobody's value is overwritten before every lane has read it (the op after next needs all lanes past
// the next barrier).
template <class T, class SrcOf>
T shuffle(unsigned mask, T var, int width, const char* what, const std::source_location& where,
          SrcOf src_of) {
  static_assert(std::is_trivially_copyable_v<T> && sizeof(T) <= 8,
                "__shfl_*_sync takes values of <= 8 bytes");
  if (width <= 0 || width > warpSize || (width & (width - 1)) != 0)
    fail(std::string(what) + ": width " + std::to_string(width) + " is not a power of two in [1, 32]");
  const unsigned lane = lane_id();
  uint64_t* slots = warp_exchange_slots();
  std::memcpy(&slots[lane], &var, sizeof(T));
  warp_barrier(mask, what, where);
  const int src = src_of(int(lane));
  T result = var;
  if (src >= 0 && unsigned(src) != lane) {
    if (!(mask >> src & 1u)) shuffle_source_not_in_mask(what, where, src, mask);
    std::memcpy(&result, &slots[src], sizeof(T));
  }
  return result;
}

// ---- shared memory ---------------------------------------------------------------------------------------
template <std::size_t N>
struct FixedString {
  char text[N];
  constexpr FixedString(const char (&s)[N]) {
    for (std::size_t i = 0; i < N; ++i) text[i] = s[i];
  }
};

[[noreturn]] void shared_out_of_bounds(const char* name, long long index, std::size_t extent, int dimension);
void register_static_shared(void* data, std::size_t bytes);  // poisoned before every block
void* dynamic_shared_memory(std::size_t* bytes);             // this block's dynamic shared memory

// A bounds-checked view of an array type A = U[N] (U may itself be an array): same layout as A.
template <FixedString Name, class A, int Dimension = 0>
struct CheckedArray;
template <FixedString Name, class U, std::size_t N, int Dimension>
struct CheckedArray<Name, U[N], Dimension> {
  U data[N];
  using Element = std::conditional_t<std::is_array_v<U>, CheckedArray<Name, U, Dimension + 1>, U>;
  Element& operator[](long long i) {
    if (i < 0 || i >= (long long)N) shared_out_of_bounds(Name.text, i, N, Dimension);
    return reinterpret_cast<Element&>(data[i]);
  }
  const Element& operator[](long long i) const {
    if (i < 0 || i >= (long long)N) shared_out_of_bounds(Name.text, i, N, Dimension);
    return reinterpret_cast<const Element&>(data[i]);
  }
};

// The declared object: registers itself so the scheduler can poison it before each block.
template <FixedString Name, class A>
struct SharedArray : CheckedArray<Name, A> {
  SharedArray() { register_static_shared(this, sizeof(A)); }
};

// Dynamic shared memory (the launch's shared_bytes) as a checked span of T.
template <class T>
struct SharedSpan {
  T* data;
  std::size_t size;
  const char* name;
  T& operator[](long long i) const {
    if (FACET_CUDA_EMU_CHECKED && (i < 0 || i >= (long long)size)) shared_out_of_bounds(name, i, size, 0);
    return data[i];
  }
  SharedSpan operator+(long long offset) const {
    if (offset < 0 || offset > (long long)size) shared_out_of_bounds(name, offset, size, 0);
    return {data + offset, size - std::size_t(offset), name};
  }
};
template <class T>
SharedSpan<T> dynamic_shared(const char* name) {
  std::size_t bytes = 0;
  void* p = dynamic_shared_memory(&bytes);
  return {static_cast<T*>(p), bytes / sizeof(T), name};
}

// ---- launching --------------------------------------------------------------------------------------------
struct LaunchSite {
  const char* kernel;  // the kernel expression as written at the call site
  const char* file;
  int line;
};

// A non-owning reference to the per-thread body (avoids std::function's allocation per launch).
class KernelBody {
 public:
  template <class F>
  explicit KernelBody(F& f) : object_(&f), call_([](void* o) { (*static_cast<F*>(o))(); }) {}
  void operator()() const { call_(object_); }

 private:
  void* object_;
  void (*call_)(void*);
};

// Runs body once per CUDA thread of the grid (see the file comment); throws KernelError on a detected error.
void run_grid(const LaunchSite& site, dim3 grid, dim3 block, std::size_t shared_bytes, KernelBody body);

// Emulation on/off: available() and cudaGetDeviceCount report a device only when enabled (env
// FACET_CUDA_EMULATE=1, or set_enabled(true) from a test), so nothing silently runs "on the GPU" on a CPU.
bool enabled();
void set_enabled(bool on);
void reset_enabled_from_environment();  // forget set_enabled: read FACET_CUDA_EMULATE again
// OS threads that run blocks concurrently (0: back to FACET_CUDA_EMU_THREADS, default 1).
void set_os_threads(int threads);

}  // namespace facet::cuda::emu

// ---- builtins --------------------------------------------------------------------------------------------
#define threadIdx (::facet::cuda::emu::this_thread("threadIdx").thread_idx)
#define blockIdx (::facet::cuda::emu::this_thread("blockIdx").block_idx)
#define blockDim (::facet::cuda::emu::this_thread("blockDim").block_dim)
#define gridDim (::facet::cuda::emu::this_thread("gridDim").grid_dim)

inline void __syncthreads(const std::source_location& where = std::source_location::current()) {
  ::facet::cuda::emu::syncthreads(where);
}
inline void __syncwarp(unsigned mask = 0xffffffffu,
                       const std::source_location& where = std::source_location::current()) {
  ::facet::cuda::emu::warp_barrier(mask, "__syncwarp", where);
}

template <class T>
T __shfl_sync(unsigned mask, T var, int src_lane, int width = warpSize,
              const std::source_location& where = std::source_location::current()) {
  return ::facet::cuda::emu::shuffle(mask, var, width, "__shfl_sync", where, [&](int lane) {
    return (lane & ~(width - 1)) + (src_lane & (width - 1));
  });
}
template <class T>
T __shfl_down_sync(unsigned mask, T var, unsigned delta, int width = warpSize,
                   const std::source_location& where = std::source_location::current()) {
  return ::facet::cuda::emu::shuffle(mask, var, width, "__shfl_down_sync", where, [&](int lane) {
    return (lane & (width - 1)) + int(delta) < width ? lane + int(delta) : -1;
  });
}
template <class T>
T __shfl_up_sync(unsigned mask, T var, unsigned delta, int width = warpSize,
                 const std::source_location& where = std::source_location::current()) {
  return ::facet::cuda::emu::shuffle(mask, var, width, "__shfl_up_sync", where, [&](int lane) {
    return (lane & (width - 1)) >= int(delta) ? lane - int(delta) : -1;
  });
}
template <class T>
T __shfl_xor_sync(unsigned mask, T var, int lane_mask, int width = warpSize,
                  const std::source_location& where = std::source_location::current()) {
  return ::facet::cuda::emu::shuffle(mask, var, width, "__shfl_xor_sync", where, [&](int lane) {
    const int src = lane ^ lane_mask;
    return (src & ~(width - 1)) == (lane & ~(width - 1)) ? src : -1;
  });
}
inline unsigned __ballot_sync(unsigned mask, int predicate,
                              const std::source_location& where = std::source_location::current()) {
  // Each lane shares its predicate; the ballot is the mask of lanes in mask whose predicate is non-zero.
  const unsigned lane = ::facet::cuda::emu::lane_id();
  uint64_t* slots = ::facet::cuda::emu::warp_exchange_slots();
  slots[lane] = predicate != 0;
  ::facet::cuda::emu::warp_barrier(mask, "__ballot_sync", where);
  unsigned ballot = 0;
  for (unsigned l = 0; l < 32; ++l)
    if ((mask >> l & 1u) && slots[l]) ballot |= 1u << l;
  return ballot;
}
inline int __any_sync(unsigned mask, int p, const std::source_location& w = std::source_location::current()) {
  return __ballot_sync(mask, p, w) != 0;
}
inline int __all_sync(unsigned mask, int p, const std::source_location& w = std::source_location::current()) {
  return __ballot_sync(mask, p, w) == mask;
}

// ---- atomics: real atomics, because blocks may run concurrently on OpenMP threads -------------------------
template <class T>
T atomicAdd(T* address, T value) {
  return std::atomic_ref<T>(*address).fetch_add(value);
}
template <class T>
T atomicSub(T* address, T value) {
  return std::atomic_ref<T>(*address).fetch_sub(value);
}
template <class T>
T atomicExch(T* address, T value) {
  return std::atomic_ref<T>(*address).exchange(value);
}
template <class T>
T atomicCAS(T* address, T compare, T value) {
  std::atomic_ref<T>(*address).compare_exchange_strong(compare, value);
  return compare;  // the old value either way
}
template <class T>
T atomicMax(T* address, T value) {
  static_assert(std::is_integral_v<T>, "CUDA's atomicMax is for integers");
  std::atomic_ref<T> a(*address);
  T old = a.load();
  while (old < value && !a.compare_exchange_weak(old, value)) {
  }
  return old;
}
template <class T>
T atomicMin(T* address, T value) {
  static_assert(std::is_integral_v<T>, "CUDA's atomicMin is for integers");
  std::atomic_ref<T> a(*address);
  T old = a.load();
  while (old > value && !a.compare_exchange_weak(old, value)) {
  }
  return old;
}
inline void __threadfence() {
  std::atomic_thread_fence(std::memory_order_seq_cst);
}
inline void __threadfence_block() {
  std::atomic_thread_fence(std::memory_order_seq_cst);
}

// ---- device math: the host libm (the GPU's fast intrinsics differ by a few ulp; tolerances allow it) ---
inline float rsqrtf(float x) {
  return 1.0f / std::sqrt(x);
}
inline float __expf(float x) {
  return std::exp(x);
}
inline float __logf(float x) {
  return std::log(x);
}
inline float __fdividef(float a, float b) {
  return a / b;
}
inline float __saturatef(float x) {
  return x < 0.0f ? 0.0f : (x > 1.0f ? 1.0f : x);
}
inline float __fmaf_rn(float a, float b, float c) {
  return std::fma(a, b, c);
}
inline unsigned __float_as_uint(float x) {
  return std::bit_cast<unsigned>(x);
}
inline float __uint_as_float(unsigned x) {
  return std::bit_cast<float>(x);
}
inline int __float_as_int(float x) {
  return std::bit_cast<int>(x);
}
inline float __int_as_float(int x) {
  return std::bit_cast<float>(x);
}
inline int __popc(unsigned x) {
  return std::popcount(x);
}
inline int __clz(unsigned x) {
  return std::countl_zero(x);
}
inline int __ffs(unsigned x) {
  return x ? std::countr_zero(x) + 1 : 0;
}
template <class T>
T __ldg(const T* p) {
  return *p;
}
