// The emulator's scheduler (one block's CUDA threads as Boost.Context fibers on one OS thread; blocks one
// after another, or spread over OpenMP threads on request), its error reports, and the emulated CUDA runtime
// API. Design notes: emu.h.
#include "kernels/cuda/emu/emu.h"

#include <sys/mman.h>
#include <unistd.h>

#include <boost/context/fiber.hpp>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <memory>
#include <mutex>
#include <sstream>
#include <vector>

#ifdef _OPENMP
#include <omp.h>
#endif
#if defined(__SANITIZE_ADDRESS__)
#include <sanitizer/common_interface_defs.h>
#endif

namespace facet::cuda::emu {
namespace {

namespace ctx = boost::context;

// ---- fiber stacks: a per-OS-thread pool of mmap'd stacks, each with a PROT_NONE guard page below it, so a
// kernel that overflows its stack faults instead of silently overwriting a neighbour's. Pooled because a
// launch creates one fiber per CUDA thread and mmap/mprotect per fiber would dominate the run time.
constexpr std::size_t kStackBytes = 128 * 1024;  // virtual; only the pages a fiber touches become resident

class StackPool {
 public:
  ~StackPool() {
    for (void* base : free_) munmap(base, kStackBytes + page());
  }
  ctx::stack_context allocate() {
    void* base;
    if (!free_.empty()) {
      base = free_.back();
      free_.pop_back();
    } else {
      base = mmap(nullptr, kStackBytes + page(), PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
      if (base == MAP_FAILED) throw std::bad_alloc();
      mprotect(base, page(), PROT_NONE);  // the guard page (stacks grow down)
    }
    ctx::stack_context sc;
    sc.size = kStackBytes;
    sc.sp = static_cast<char*>(base) + page() + kStackBytes;
    return sc;
  }
  void deallocate(ctx::stack_context& sc) {
    free_.push_back(static_cast<char*>(sc.sp) - kStackBytes - page());
  }

 private:
  static std::size_t page() {
    static const std::size_t size = std::size_t(sysconf(_SC_PAGESIZE));
    return size;
  }
  std::vector<void*> free_;
};
thread_local StackPool stack_pool;

struct PooledStack {           // Boost.Context's StackAllocator concept over the thread's pool
  ctx::stack_context* record;  // where the allocated stack is noted (for AddressSanitizer)
  ctx::stack_context allocate() { return *record = stack_pool.allocate(); }
  void deallocate(ctx::stack_context& sc) { stack_pool.deallocate(sc); }
};

// AddressSanitizer must be told about every switch between stacks (else it reports false errors, e.g. when
// an exception is thrown on a fiber stack). A switch is announced by the side leaving (start: the stack it
// goes to; nullptr as save slot when the leaving fiber ends) and confirmed on arrival (finish: the save
// slot of the arriving side; the bounds of the stack it came from). No-ops without -fsanitize=address.
struct AsanStack {
  const void* bottom = nullptr;
  std::size_t size = 0;
  void* fake = nullptr;  // ASan's fake stack of this context while it is switched out
};
inline void asan_start_switch([[maybe_unused]] void** save, [[maybe_unused]] const AsanStack& to) {
#if defined(__SANITIZE_ADDRESS__)
  __sanitizer_start_switch_fiber(save, to.bottom, to.size);
#endif
}
inline void asan_finish_switch([[maybe_unused]] void* saved, [[maybe_unused]] AsanStack* from) {
#if defined(__SANITIZE_ADDRESS__)
  __sanitizer_finish_switch_fiber(saved, from ? &from->bottom : nullptr, from ? &from->size : nullptr);
#endif
}

// Thrown inside a suspended thread when the scheduler abandons the block after an error, so the thread's
// stack unwinds normally (kernels never catch it).
struct AbandonBlock {};

// ---- the state of one block -------------------------------------------------------------------------------
enum class Waiting { no, at_syncthreads, at_warp_op };

struct Block;

struct Thread : ThreadContext {
  Block* block = nullptr;
  unsigned linear = 0, lane = 0, warp = 0;
  ctx::fiber fiber;  // this CUDA thread
  ctx::fiber back;   // the scheduler, while this thread runs
  ctx::stack_context stack;
  AsanStack asan;
  bool finished = false;
  Waiting waiting = Waiting::no;
  std::source_location wait_site;
  const char* wait_what = "";
  const unsigned* wait_generation = nullptr;  // blocked while *wait_generation == wait_value
  unsigned wait_value = 0;
  std::exception_ptr error;
};

struct Warp {
  unsigned generation = 0;
  unsigned arrived = 0;  // lanes waiting at the current warp op
  unsigned mask = 0;     // the op's mask, set by its first lane
  unsigned present = 0;  // lanes that exist (the last warp of a block may be partial)
  const char* what = "";
  std::source_location site;
  uint64_t slots[2][32] = {};  // double-buffered by generation parity: one barrier per shuffle suffices
};

struct Block {
  const LaunchSite* launch = nullptr;
  uint3 index{};
  std::vector<Thread> threads;
  std::vector<Warp> warps;
  unsigned barrier_generation = 0;
  unsigned barrier_arrived = 0;
  std::source_location barrier_site;
  std::vector<unsigned char> dynamic_shared;  // the launch's shared_bytes
  bool abandoning = false;                    // after an error: suspended threads unwind when resumed
  AsanStack scheduler_stack;
};

thread_local Thread* running = nullptr;  // the fiber now running on this OS thread
thread_local Block this_os_thread_block;
thread_local std::vector<std::pair<void*, std::size_t>> static_shared;  // every __shared__ array seen here

std::string short_path(const char* file) {
  std::string f = file ? file : "?";
  for (const char* root : {"/kernels/", "/tests/", "/bench/"}) {
    const auto at = f.rfind(root);
    if (at != std::string::npos) return f.substr(at + 1);
  }
  return f;
}
std::string xyz(uint3 v) {
  return "(" + std::to_string(v.x) + "," + std::to_string(v.y) + "," + std::to_string(v.z) + ")";
}
std::string hex(unsigned v) {
  char text[16];
  std::snprintf(text, sizeof text, "0x%08x", v);
  return text;
}
std::string where_str(const std::source_location& s) {
  return short_path(s.file_name()) + ":" + std::to_string(s.line());
}
bool same_site(const std::source_location& a, const std::source_location& b) {
  return a.line() == b.line() && a.column() == b.column() && std::strcmp(a.file_name(), b.file_name()) == 0;
}
std::string block_prefix(const Block& b) {
  return "CUDA emulator: kernel '" + std::string(b.launch->kernel) + "' (launched at " +
         short_path(b.launch->file) + ":" + std::to_string(b.launch->line) + "), block " + xyz(b.index);
}

Thread& current(const char* what) {
  if (!running) outside_kernel(what);
  return *running;
}

// Back to the scheduler until it resumes this thread.
void yield(Thread& t) {
  Block& b = *t.block;
  asan_start_switch(&t.asan.fake, b.scheduler_stack);
  t.back = std::move(t.back).resume();
  asan_finish_switch(t.asan.fake, &b.scheduler_stack);
  if (b.abandoning) throw AbandonBlock{};
}

// Runs thread t until it blocks or returns.
void resume(Block& b, Thread& t) {
  running = &t;
  tls_thread = &t;
  asan_start_switch(&b.scheduler_stack.fake, t.asan);
  t.fiber = std::move(t.fiber).resume();
  asan_finish_switch(b.scheduler_stack.fake, nullptr);
  running = nullptr;
  tls_thread = nullptr;
}

// Called by the scheduler when a whole round of the block's fibers made no progress: every live thread
// waits for something that can no longer happen. Says which threads wait where, and why it cannot complete.
[[noreturn]] void report_stall(const Block& b) {
  std::vector<const Thread*> at_barrier, at_warp, exited;
  for (const Thread& t : b.threads) {
    if (t.finished)
      exited.push_back(&t);
    else if (t.waiting == Waiting::at_syncthreads)
      at_barrier.push_back(&t);
    else
      at_warp.push_back(&t);
  }
  const std::size_t n = b.threads.size();
  std::ostringstream msg;
  msg << block_prefix(b) << ": ";
  if (!at_barrier.empty() && !exited.empty()) {
    msg << "__syncthreads() at " << where_str(b.barrier_site) << " was reached by " << at_barrier.size()
        << " of " << n << " threads; " << exited.size() << " exited without reaching it (first: thread "
        << xyz(exited.front()->thread_idx)
        << "). Every thread of a block must reach the same __syncthreads() "
        << "(on a GPU this hangs or corrupts shared memory): move the early return after the barrier.";
  } else if (!at_barrier.empty() && !at_warp.empty()) {
    const Thread& w = *at_warp.front();
    msg << "deadlock: " << at_barrier.size() << " threads wait at __syncthreads() at "
        << where_str(b.barrier_site) << " while " << at_warp.size() << " wait at " << w.wait_what << " at "
        << where_str(w.wait_site) << " (first: thread " << xyz(w.thread_idx) << ").";
  } else if (!at_warp.empty()) {
    const Thread& w = *at_warp.front();
    const Warp& warp = b.warps[w.warp];
    const unsigned missing = warp.mask & ~warp.arrived;
    msg << w.wait_what << " at " << where_str(w.wait_site) << " with mask " << hex(warp.mask) << " in warp "
        << w.warp << ": lanes " << hex(missing) << " never arrive";
    for (unsigned l = 0; l < 32; ++l) {
      if (!(missing >> l & 1u)) continue;
      const Thread& m = b.threads[w.warp * 32 + l];
      msg << " (lane " << l << ", thread " << xyz(m.thread_idx)
          << (m.finished ? ", has exited" : ", waits elsewhere") << ")";
      break;
    }
    msg << ". Every lane named in a warp op's mask must execute that same op.";
  } else {
    msg << "no thread can make progress.";
  }
  throw KernelError(msg.str());
}

void validate_launch(const LaunchSite& site, dim3 grid, dim3 block, std::size_t shared_bytes) {
  const unsigned long long threads = 1ull * block.x * block.y * block.z;
  std::string bad;
  if (threads == 0 || threads > 1024 || block.x > 1024 || block.y > 1024 || block.z > 64)
    bad = "block (" + std::to_string(block.x) + "," + std::to_string(block.y) + "," +
          std::to_string(block.z) + ") is not 1..1024 threads with x,y <= 1024 and z <= 64";
  else if (grid.x == 0 || grid.y == 0 || grid.z == 0 || grid.x > 0x7fffffffu || grid.y > 65535 ||
           grid.z > 65535)
    bad = "grid (" + std::to_string(grid.x) + "," + std::to_string(grid.y) + "," + std::to_string(grid.z) +
          ") is empty or too large (x < 2^31, y and z <= 65535)";
  else if (shared_bytes > 48 * 1024)
    bad = std::to_string(shared_bytes) + " bytes of dynamic shared memory exceed the 48 KiB default limit";
  if (!bad.empty())
    throw KernelError("CUDA emulator: invalid launch of kernel '" + std::string(site.kernel) + "' at " +
                      short_path(site.file) + ":" + std::to_string(site.line) + ": " + bad);
}

void run_block(Block& b, const LaunchSite& site, dim3 grid, dim3 dim, uint3 index, std::size_t shared_bytes,
               KernelBody body) {
  const unsigned n = dim.x * dim.y * dim.z;
  b.launch = &site;
  b.index = index;
  b.barrier_generation = 0;
  b.barrier_arrived = 0;
  b.abandoning = false;
  b.dynamic_shared.assign(shared_bytes, 0xFF);
  for (auto& [data, bytes] : static_shared) std::memset(data, 0xFF, bytes);
  b.warps.assign((n + 31) / 32, Warp{});
  b.threads.resize(n);
  for (unsigned i = 0; i < n; ++i) {
    Thread& t = b.threads[i];
    t.thread_idx = {i % dim.x, (i / dim.x) % dim.y, i / (dim.x * dim.y)};
    t.block_idx = index;
    t.block_dim = dim;
    t.grid_dim = grid;
    t.block = &b;
    t.linear = i;
    t.lane = i % 32;
    t.warp = i / 32;
    t.finished = false;
    t.waiting = Waiting::no;
    t.error = nullptr;
    b.warps[t.warp].present |= 1u << t.lane;
    t.fiber = ctx::fiber(std::allocator_arg, PooledStack{&t.stack}, [&b, &t, body](ctx::fiber&& scheduler) {
      asan_finish_switch(nullptr, &b.scheduler_stack);
      t.back = std::move(scheduler);
      try {
        if (!b.abandoning) body();  // a thread first started while abandoning does not run the kernel
      } catch (const AbandonBlock&) {
        // the block failed elsewhere: this thread just stops
      } catch (const ctx::detail::forced_unwind&) {
        throw;  // Boost is tearing this fiber down: let it unwind
      } catch (...) {
        t.error = std::current_exception();
      }
      t.finished = true;
      asan_start_switch(nullptr, b.scheduler_stack);  // this stack is done
      return std::move(t.back);
    });
    t.asan = {static_cast<char*>(t.stack.sp) - t.stack.size, t.stack.size, nullptr};
  }

  // Round-robin over the fibers that can run; each runs until it blocks at a barrier or returns. A thread
  // blocked at a barrier is skipped (not resumed just to find it still blocked) until the barrier opens.
  unsigned live = n;
  std::exception_ptr error;
  while (live > 0 && !error) {
    bool resumed_any = false;
    for (Thread& t : b.threads) {
      if (t.finished || (t.waiting != Waiting::no && *t.wait_generation == t.wait_value)) continue;
      resumed_any = true;
      resume(b, t);
      if (t.finished) {
        --live;
        if (t.error) {
          error = t.error;
          break;
        }
      }
    }
    if (!error && live > 0 && !resumed_any) {
      try {
        report_stall(b);
      } catch (...) {
        error = std::current_exception();
      }
    }
  }
  if (error) {
    b.abandoning = true;  // resume every suspended thread once: it throws AbandonBlock and unwinds its stack
    for (Thread& t : b.threads)
      if (!t.finished) resume(b, t);
    std::rethrow_exception(error);
  }
}

std::atomic<int> os_threads_setting{0};  // 0: not set, read FACET_CUDA_EMU_THREADS (default 1)

int emulator_threads(unsigned long long blocks) {
  int threads = os_threads_setting.load();
  if (threads <= 0) {
    const char* env = std::getenv("FACET_CUDA_EMU_THREADS");
    threads = env ? std::max(1, std::atoi(env)) : 1;
  }
  return int(std::min<unsigned long long>(blocks, (unsigned long long)threads));
}

}  // namespace

// ---- errors -----------------------------------------------------------------------------------------------
void outside_kernel(const char* what) {
  throw KernelError(std::string("CUDA emulator: ") + what +
                    " used outside a kernel (only code run by facet::cuda launch/FACET_LAUNCH sees it)");
}

void fail(const std::string& what) {
  const Thread& t = current("an emulator check");
  throw KernelError(block_prefix(*t.block) + ", thread " + xyz(t.thread_idx) + ": " + what);
}

void shared_out_of_bounds(const char* name, long long index, std::size_t extent, int dimension) {
  fail("out-of-bounds shared memory access: " + std::string(name) +
       (dimension ? " dimension " + std::to_string(dimension) : "") + " index " + std::to_string(index) +
       " not in [0, " + std::to_string(extent) + ")");
}

void shuffle_source_not_in_mask(const char* what, const std::source_location& where, int src, unsigned mask) {
  fail(std::string(what) + " at " + where_str(where) + " reads lane " + std::to_string(src) +
       ", which is not in mask " + hex(mask) + " (its value is undefined on a GPU)");
}

// ---- synchronisation --------------------------------------------------------------------------------------
void syncthreads(const std::source_location& where) {
  Thread& t = current("__syncthreads");
  Block& b = *t.block;
  if (b.barrier_arrived == 0) {
    b.barrier_site = where;
  } else if (!same_site(b.barrier_site, where)) {
    fail("threads of one block are at different __syncthreads() calls (" + where_str(b.barrier_site) +
         " and " + where_str(where) + "); all must reach the same one");
  }
  const unsigned generation = b.barrier_generation;
  t.waiting = Waiting::at_syncthreads;
  t.wait_site = where;
  t.wait_what = "__syncthreads";
  t.wait_generation = &b.barrier_generation;
  t.wait_value = generation;
  if (++b.barrier_arrived == b.threads.size()) {
    b.barrier_arrived = 0;
    ++b.barrier_generation;
  }
  while (b.barrier_generation == generation) yield(t);
  t.waiting = Waiting::no;
}

void warp_barrier(unsigned mask, const char* what, const std::source_location& where) {
  Thread& t = current(what);
  Block& b = *t.block;
  Warp& w = b.warps[t.warp];
  const unsigned bit = 1u << t.lane;
  if (!(mask & bit))
    fail(std::string(what) + " at " + where_str(where) + ": the calling lane " + std::to_string(t.lane) +
         " is not in its mask " + hex(mask));
  if (mask & ~w.present)
    fail(std::string(what) + " at " + where_str(where) + ": mask " + hex(mask) + " names lanes " +
         hex(mask & ~w.present) + " that do not exist (the block has " + std::to_string(b.threads.size()) +
         " threads; use a mask of the lanes present)");
  if (w.arrived == 0) {
    w.mask = mask;
    w.what = what;
    w.site = where;
  } else if (w.mask != mask || !same_site(w.site, where)) {
    fail("lanes of warp " + std::to_string(t.warp) + " are at different warp ops: " + w.what + " at " +
         where_str(w.site) + " mask " + hex(w.mask) + " and " + what + " at " + where_str(where) + " mask " +
         hex(mask));
  }
  const unsigned generation = w.generation;
  t.waiting = Waiting::at_warp_op;
  t.wait_site = where;
  t.wait_what = what;
  t.wait_generation = &w.generation;
  t.wait_value = generation;
  w.arrived |= bit;
  if (w.arrived == mask) {
    w.arrived = 0;
    ++w.generation;
  }
  while (w.generation == generation) yield(t);
  t.waiting = Waiting::no;
}

unsigned lane_id() {
  return current("lane_id").lane;
}
unsigned warp_lanes_present() {
  const Thread& t = current("warp_lanes_present");
  return t.block->warps[t.warp].present;
}
uint64_t* warp_exchange_slots() {
  const Thread& t = current("a warp op");
  Warp& w = t.block->warps[t.warp];
  return w.slots[w.generation & 1u];
}

// ---- shared memory ----------------------------------------------------------------------------------------
void register_static_shared(void* data, std::size_t bytes) {
  std::memset(data, 0xFF, bytes);
  static_shared.emplace_back(data, bytes);
}

void* dynamic_shared_memory(std::size_t* bytes) {
  Block& b = *current("dynamic shared memory").block;
  *bytes = b.dynamic_shared.size();
  return b.dynamic_shared.data();
}

// ---- launching --------------------------------------------------------------------------------------------
void run_grid(const LaunchSite& site, dim3 grid, dim3 block, std::size_t shared_bytes, KernelBody body) {
  if (running)
    throw KernelError("CUDA emulator: kernel '" + std::string(site.kernel) +
                      "' launched from inside a kernel (dynamic parallelism is not emulated)");
  validate_launch(site, grid, block, shared_bytes);
  const unsigned long long blocks = 1ull * grid.x * grid.y * grid.z;
  std::exception_ptr first_error;
  unsigned long long first_failed = blocks;
  std::mutex error_mutex;
  std::atomic<bool> failed{false};
  auto run_one = [&](unsigned long long i) {
    if (failed.load(std::memory_order_relaxed)) return;
    const uint3 index{unsigned(i % grid.x), unsigned(i / grid.x % grid.y),
                      unsigned(i / (1ull * grid.x * grid.y))};
    try {
      run_block(this_os_thread_block, site, grid, block, index, shared_bytes, body);
    } catch (...) {
      std::lock_guard lock(error_mutex);
      if (i < first_failed) {
        first_failed = i;
        first_error = std::current_exception();
      }
      failed = true;
    }
  };
  const int threads = emulator_threads(blocks);
  if (threads <= 1) {
    for (unsigned long long i = 0; i < blocks; ++i) run_one(i);
  } else {
#pragma omp parallel for schedule(dynamic, 1) num_threads(threads)
    for (unsigned long long i = 0; i < blocks; ++i) run_one(i);
  }
  if (first_error) std::rethrow_exception(first_error);
}

namespace {
std::atomic<int> enabled_state{-1};  // -1: not decided yet (read FACET_CUDA_EMULATE), 0 off, 1 on
}
bool enabled() {
  int s = enabled_state.load();
  if (s < 0) {
    const char* env = std::getenv("FACET_CUDA_EMULATE");
    s = env && std::string(env) == "1";
    int expected = -1;
    enabled_state.compare_exchange_strong(expected, s);
    s = enabled_state.load();
  }
  return s == 1;
}
void set_enabled(bool on) {
  enabled_state = on ? 1 : 0;
}
void reset_enabled_from_environment() {
  enabled_state = -1;
}
void set_os_threads(int threads) {
  os_threads_setting = threads;
}

}  // namespace facet::cuda::emu

// ---- the emulated CUDA runtime API ------------------------------------------------------------------------
struct CUstream_st {
  unsigned flags;
};

namespace {
thread_local cudaError_t last_error = cudaSuccess;
cudaError_t record(cudaError_t e) {
  if (e != cudaSuccess) last_error = e;
  return e;
}
}  // namespace

const char* cudaGetErrorName(cudaError_t error) {
  switch (error) {
    case cudaSuccess:
      return "cudaSuccess";
    case cudaErrorInvalidValue:
      return "cudaErrorInvalidValue";
    case cudaErrorMemoryAllocation:
      return "cudaErrorMemoryAllocation";
    case cudaErrorInsufficientDriver:
      return "cudaErrorInsufficientDriver";
    case cudaErrorNoDevice:
      return "cudaErrorNoDevice";
    case cudaErrorInvalidDevice:
      return "cudaErrorInvalidDevice";
    case cudaErrorLaunchFailure:
      return "cudaErrorLaunchFailure";
  }
  return "cudaErrorUnknown";
}
const char* cudaGetErrorString(cudaError_t error) {
  switch (error) {
    case cudaSuccess:
      return "no error";
    case cudaErrorInvalidValue:
      return "invalid argument";
    case cudaErrorMemoryAllocation:
      return "out of memory";
    case cudaErrorInsufficientDriver:
      return "CUDA driver version is insufficient for CUDA runtime version";
    case cudaErrorNoDevice:
      return "no CUDA-capable device is detected (CPU emulation is off: set FACET_CUDA_EMULATE=1 to emulate "
             "one)";
    case cudaErrorInvalidDevice:
      return "invalid device ordinal";
    case cudaErrorLaunchFailure:
      return "unspecified launch failure";
  }
  return "unknown error";
}
cudaError_t cudaGetLastError() {
  return std::exchange(last_error, cudaSuccess);
}
cudaError_t cudaPeekAtLastError() {
  return last_error;
}

cudaError_t cudaGetDeviceCount(int* count) {
  *count = facet::cuda::emu::enabled() ? 1 : 0;
  return record(*count ? cudaSuccess : cudaErrorNoDevice);
}
cudaError_t cudaGetDevice(int* device) {
  *device = 0;
  return cudaSuccess;
}
cudaError_t cudaSetDevice(int device) {
  return record(device == 0 && facet::cuda::emu::enabled() ? cudaSuccess : cudaErrorInvalidDevice);
}
cudaError_t cudaGetDeviceProperties(cudaDeviceProp* prop, int device) {
  if (device != 0 || !facet::cuda::emu::enabled()) return record(cudaErrorInvalidDevice);
  *prop = cudaDeviceProp{};
  std::snprintf(prop->name, sizeof prop->name, "CPU emulation of CUDA (Boost.Context fibers)");
  prop->totalGlobalMem = std::size_t(sysconf(_SC_PHYS_PAGES)) * std::size_t(sysconf(_SC_PAGESIZE));
  prop->sharedMemPerBlock = 48 * 1024;
  prop->maxThreadsPerBlock = 1024;
#ifdef _OPENMP
  prop->multiProcessorCount = omp_get_max_threads();
#else
  prop->multiProcessorCount = 1;
#endif
  return cudaSuccess;
}
cudaError_t cudaMalloc(void** ptr, std::size_t bytes) {
  *ptr = nullptr;
  if (!facet::cuda::emu::enabled()) return record(cudaErrorNoDevice);
  if (bytes == 0) return cudaSuccess;
  *ptr = std::aligned_alloc(256, (bytes + 255) / 256 * 256);
  return *ptr ? cudaSuccess : record(cudaErrorMemoryAllocation);
}
cudaError_t cudaFree(void* ptr) {
  std::free(ptr);
  return cudaSuccess;
}
cudaError_t cudaMemcpy(void* dst, const void* src, std::size_t bytes, cudaMemcpyKind) {
  if (bytes && (!dst || !src)) return record(cudaErrorInvalidValue);
  if (bytes) std::memmove(dst, src, bytes);
  return cudaSuccess;
}
cudaError_t cudaMemcpyAsync(void* dst, const void* src, std::size_t bytes, cudaMemcpyKind kind,
                            cudaStream_t) {
  return cudaMemcpy(dst, src, bytes, kind);
}
cudaError_t cudaMemsetAsync(void* ptr, int value, std::size_t bytes, cudaStream_t) {
  if (bytes && !ptr) return record(cudaErrorInvalidValue);
  if (bytes) std::memset(ptr, value, bytes);
  return cudaSuccess;
}
cudaError_t cudaStreamCreateWithFlags(cudaStream_t* stream, unsigned flags) {
  *stream = new CUstream_st{flags};
  return cudaSuccess;
}
cudaError_t cudaStreamDestroy(cudaStream_t stream) {
  delete stream;
  return cudaSuccess;
}
cudaError_t cudaStreamSynchronize(cudaStream_t) {
  return cudaSuccess;
}  // emulated work is already done
cudaError_t cudaDeviceSynchronize() {
  return cudaSuccess;
}
