// Closes the AVX-512 region opened by kernels/cpu/avx512_region_begin.h (see there).
#if defined(FACET_AVX512_REGION)
#pragma GCC diagnostic pop
#pragma GCC pop_options
#endif
