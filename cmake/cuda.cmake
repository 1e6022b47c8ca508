# CUDA kernels, built two ways from the same kernels/cuda/*.cu sources:
#  - facet_cuda_emu: g++ compiles each .cu (through a generated one-line .cpp wrapper) against the CPU
#    emulation layer in kernels/cuda/emu/, so the tests run every CUDA kernel on a machine without a GPU;
#  - facet_cuda: nvcc compiles them for sm_80 and sm_90 when nvcc is found (FACET_CUDA=ON);
#  - facet_cuda_ref and bench/cuda_bench (with nvcc and cuDNN): cuBLAS/cuDNN behind our kernel signatures, timed
#    against ours. Only the benchmark links them.
# FACET_DEVICE_LIB is the one the `facet` library links: the real one when built, else the emulated one.
file(GLOB FACET_CUDA_SOURCES CONFIGURE_DEPENDS ${PROJECT_SOURCE_DIR}/kernels/cuda/*.cu)
file(GLOB FACET_CUDA_EMU_SUPPORT CONFIGURE_DEPENDS ${PROJECT_SOURCE_DIR}/kernels/cuda/emu/*.cpp)

set(emu_sources ${FACET_CUDA_EMU_SUPPORT})
foreach(cu ${FACET_CUDA_SOURCES})
  get_filename_component(stem ${cu} NAME_WE)
  set(wrapper ${PROJECT_BINARY_DIR}/cuda_emu/${stem}_emu.cpp)
  file(CONFIGURE OUTPUT ${wrapper} CONTENT "// generated: ${stem}.cu compiled by g++ on the emulation layer\n#include \"${cu}\"\n")
  list(APPEND emu_sources ${wrapper})
endforeach()
if(emu_sources)
  add_library(facet_cuda_emu STATIC ${emu_sources})
  set(emu_scope PUBLIC)
else()
  add_library(facet_cuda_emu INTERFACE)
  set(emu_scope INTERFACE)
endif()
target_link_libraries(facet_cuda_emu ${emu_scope} facet_flags Boost::context)
target_compile_definitions(facet_cuda_emu ${emu_scope} FACET_CUDA_EMULATION=1)

set(FACET_HAVE_CUDA OFF)
include(CheckLanguage)
if(FACET_CUDA)
  check_language(CUDA)
endif()
if(FACET_CUDA AND CMAKE_CUDA_COMPILER AND FACET_CUDA_SOURCES)
  enable_language(CUDA)
  # CMake 3.25 does not know nvcc's C++20 flag yet.
  set(CMAKE_CUDA20_STANDARD_COMPILE_OPTION "-std=c++20")
  set(CMAKE_CUDA20_EXTENSION_COMPILE_OPTION "-std=c++20")
  find_package(CUDAToolkit REQUIRED)
  add_library(facet_cuda STATIC ${FACET_CUDA_SOURCES})
  set_target_properties(facet_cuda PROPERTIES CUDA_ARCHITECTURES "80;90" CUDA_STANDARD 20
                                              CUDA_SEPARABLE_COMPILATION OFF)
  target_include_directories(facet_cuda PUBLIC $<BUILD_INTERFACE:${PROJECT_SOURCE_DIR}>)
  target_compile_options(facet_cuda PRIVATE $<$<COMPILE_LANGUAGE:CUDA>:-Xcompiler=-Wall,-Wextra -lineinfo>)
  target_link_libraries(facet_cuda PUBLIC CUDA::cudart)
  set(FACET_HAVE_CUDA ON)
  set(FACET_DEVICE_LIB facet_cuda)

  # Vendor references (cuBLAS, cuDNN) for the benchmark only: never linked into the framework.
  find_library(FACET_CUDNN_LIBRARY cudnn HINTS ${CUDAToolkit_LIBRARY_DIR})
  find_path(FACET_CUDNN_INCLUDE_DIR cudnn.h HINTS ${CUDAToolkit_INCLUDE_DIRS})
  if(FACET_CUDNN_LIBRARY AND FACET_CUDNN_INCLUDE_DIR)
    add_library(facet_cuda_ref STATIC ${PROJECT_SOURCE_DIR}/kernels/cuda/ref/cuda_ref.cpp)
    target_include_directories(facet_cuda_ref SYSTEM PRIVATE ${FACET_CUDNN_INCLUDE_DIR})
    target_link_libraries(facet_cuda_ref PUBLIC facet_cuda facet_flags PRIVATE CUDA::cublas ${FACET_CUDNN_LIBRARY})
    if(FACET_BENCH)
      add_executable(cuda_bench ${PROJECT_SOURCE_DIR}/bench/cuda_bench.cpp)
      set_target_properties(cuda_bench PROPERTIES RUNTIME_OUTPUT_DIRECTORY ${PROJECT_BINARY_DIR}/bench)
      target_link_libraries(cuda_bench PRIVATE facet_cuda_ref facet_cuda facet_flags CUDA::cudart)
    endif()
  else()
    message(STATUS "facet: cuDNN not found: no facet_cuda_ref / cuda_bench")
  endif()
else()
  set(FACET_DEVICE_LIB facet_cuda_emu)
endif()
message(STATUS "facet: nvcc build of CUDA kernels: ${FACET_HAVE_CUDA}; device library: ${FACET_DEVICE_LIB}")
