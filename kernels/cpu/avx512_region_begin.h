// Opens the AVX-512 region of an AVX-512 translation unit (gemm_avx512.cpp, gemm_nt_avx512.cpp,
// conv2d_pack_avx512.cpp); kernels/cpu/avx512_region_end.h closes it. Where the compiler can target AVX-512
// (x86-64, GCC or Clang) it defines FACET_AVX512_REGION and compiles what follows for AVX-512 only (target
// pragma), so a FACET_NATIVE=OFF build still runs everywhere: each file hands its AVX-512 code out only when the
// CPU reports the features at run time (avx512_kernel() in gemm_avx512.cpp), and keeps that check outside the
// region.
//
//   #include "kernels/cpu/avx512_region_begin.h"
//   #if defined(FACET_AVX512_REGION)
//   ... AVX-512 code, internal linkage ...
//   #endif
//   #include "kernels/cpu/avx512_region_end.h"
//
// No standard-library code inside the region: an inline function instantiated there with AVX-512 enabled
// could be picked by the linker for other files and break non-AVX-512 CPUs. Include this once per file, after
// the file's other headers.
#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#define FACET_AVX512_REGION 1
#pragma GCC push_options
#pragma GCC target("avx512f,avx512dq,avx512bw,avx512vl,avx2,fma")
#include <immintrin.h>
// GCC 12's unpack/shuffle intrinsics start from _mm512_undefined_ps(), which -Wmaybe-uninitialized flags
// when inlined (a false positive in the compiler's own header).
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#include "kernels/cpu/avx512_util.h"
#endif
