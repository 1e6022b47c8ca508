// cuBLAS / cuDNN behind facet's kernel signatures (see cuda_ref.h). Host code only: compiled by g++ against
// the CUDA, cuBLAS and cuDNN headers, linked only into facet_cuda_ref (bench/cuda_bench).
#include "kernels/cuda/ref/cuda_ref.h"

#include <cublas_v2.h>
#include <cuda_runtime.h>
#include <cudnn.h>

#include <map>
#include <mutex>
#include <stdexcept>
#include <string>
#include <tuple>
#include <vector>

#include "kernels/cuda/runtime.h"

namespace facet::cuda_ref {

namespace {

[[noreturn]] void fail(const std::string& library, const std::string& call, const std::string& error,
                       int line) {
  throw std::runtime_error("kernels/cuda/ref/cuda_ref.cpp:" + std::to_string(line) + ": " + call +
                           " failed: " + library + " " + error);
}
void check(cublasStatus_t s, const char* call, int line) {
  if (s != CUBLAS_STATUS_SUCCESS) fail("cuBLAS", call, cublasGetStatusString(s), line);
}
void check(cudnnStatus_t s, const char* call, int line) {
  if (s != CUDNN_STATUS_SUCCESS) fail("cuDNN", call, cudnnGetErrorString(s), line);
}
void check(cudaError_t s, const char* call, int line) {
  if (s != cudaSuccess)
    fail("CUDA", call, std::string(cudaGetErrorName(s)) + ": " + cudaGetErrorString(s), line);
}
#define REF_CHECK(call) check((call), #call, __LINE__)

cudaStream_t stream() {
  return static_cast<cudaStream_t>(facet::cuda::current_stream());
}

// One handle each per process, bound to the current stream before every call.
cublasHandle_t cublas() {
  static cublasHandle_t handle = [] {
    facet::cuda::require_device();
    cublasHandle_t h;
    REF_CHECK(cublasCreate(&h));
    return h;
  }();
  REF_CHECK(cublasSetStream(handle, stream()));
  return handle;
}
cudnnHandle_t cudnn() {
  static cudnnHandle_t handle = [] {
    facet::cuda::require_device();
    cudnnHandle_t h;
    REF_CHECK(cudnnCreate(&h));
    return h;
  }();
  REF_CHECK(cudnnSetStream(handle, stream()));
  return handle;
}

// RAII owners of cuDNN descriptors.
struct Tensor4d {
  cudnnTensorDescriptor_t desc{};
  Tensor4d(int n, int c, int h, int w) {
    REF_CHECK(cudnnCreateTensorDescriptor(&desc));
    REF_CHECK(cudnnSetTensor4dDescriptor(desc, CUDNN_TENSOR_NCHW, CUDNN_DATA_FLOAT, n, c, h, w));
  }
  ~Tensor4d() { cudnnDestroyTensorDescriptor(desc); }
  Tensor4d(const Tensor4d&) = delete;
  Tensor4d& operator=(const Tensor4d&) = delete;
};
struct Filter4d {
  cudnnFilterDescriptor_t desc{};
  Filter4d(int k, int c, int r, int s) {
    REF_CHECK(cudnnCreateFilterDescriptor(&desc));
    REF_CHECK(cudnnSetFilter4dDescriptor(desc, CUDNN_DATA_FLOAT, CUDNN_TENSOR_NCHW, k, c, r, s));
  }
  ~Filter4d() { cudnnDestroyFilterDescriptor(desc); }
  Filter4d(const Filter4d&) = delete;
  Filter4d& operator=(const Filter4d&) = delete;
};
struct Convolution {
  cudnnConvolutionDescriptor_t desc{};
  explicit Convolution(const Conv2dDims& d) {
    REF_CHECK(cudnnCreateConvolutionDescriptor(&desc));
    REF_CHECK(cudnnSetConvolution2dDescriptor(desc, d.pad, d.pad, d.stride, d.stride, 1, 1,
                                              CUDNN_CROSS_CORRELATION, CUDNN_DATA_FLOAT));
    REF_CHECK(cudnnSetConvolutionMathType(desc, CUDNN_FMA_MATH));  // FP32 FMA only: no TF32 tensor cores
  }
  ~Convolution() { cudnnDestroyConvolutionDescriptor(desc); }
  Convolution(const Convolution&) = delete;
  Convolution& operator=(const Convolution&) = delete;
};

// A device buffer from facet's caching allocator.
struct Scratch {
  void* ptr;
  explicit Scratch(size_t bytes) : ptr(bytes ? facet::cuda::device_alloc(bytes) : nullptr) {}
  ~Scratch() { facet::cuda::device_free(ptr); }
  Scratch(const Scratch&) = delete;
  Scratch& operator=(const Scratch&) = delete;
};

// The algorithms cudnnFind* measured fastest for a shape, found once per shape. Prefers a result that used
// the FMA math type (no tensor cores) and succeeded.
struct ConvAlgorithms {
  cudnnConvolutionFwdAlgo_t forward;
  size_t forward_bytes;
  cudnnConvolutionBwdDataAlgo_t data;
  size_t data_bytes;
  cudnnConvolutionBwdFilterAlgo_t filter;
  size_t filter_bytes;
};

template <class Perf>
const Perf& pick(const Perf* results, int count, const char* what) {
  for (int i = 0; i < count; ++i)
    if (results[i].status == CUDNN_STATUS_SUCCESS && results[i].mathType == CUDNN_FMA_MATH) return results[i];
  for (int i = 0; i < count; ++i)
    if (results[i].status == CUDNN_STATUS_SUCCESS) return results[i];
  throw std::runtime_error(std::string("cuda_ref: cuDNN found no working ") + what + " algorithm");
}

const ConvAlgorithms& algorithms(const Conv2dDims& d, const Tensor4d& x, const Filter4d& w,
                                 const Convolution& conv, const Tensor4d& y) {
  static std::mutex mutex;
  static std::map<std::tuple<int, int, int, int, int, int, int, int, int>, ConvAlgorithms> cache;
  const auto key = std::make_tuple(d.N, d.C, d.H, d.W, d.K, d.R, d.S, d.stride, d.pad);
  std::lock_guard lock(mutex);
  const auto it = cache.find(key);
  if (it != cache.end()) return it->second;
  constexpr int kMax = 16;
  int n = 0;
  cudnnConvolutionFwdAlgoPerf_t fwd[kMax];
  REF_CHECK(cudnnFindConvolutionForwardAlgorithm(cudnn(), x.desc, w.desc, conv.desc, y.desc, kMax, &n, fwd));
  const auto& f = pick(fwd, n, "forward");
  cudnnConvolutionBwdDataAlgoPerf_t bwd_data[kMax];
  REF_CHECK(cudnnFindConvolutionBackwardDataAlgorithm(cudnn(), w.desc, y.desc, conv.desc, x.desc, kMax, &n,
                                                      bwd_data));
  const auto& bd = pick(bwd_data, n, "backward-data");
  cudnnConvolutionBwdFilterAlgoPerf_t bwd_filter[kMax];
  REF_CHECK(cudnnFindConvolutionBackwardFilterAlgorithm(cudnn(), x.desc, y.desc, conv.desc, w.desc, kMax, &n,
                                                        bwd_filter));
  const auto& bf = pick(bwd_filter, n, "backward-filter");
  return cache[key] = {f.algo, f.memory, bd.algo, bd.memory, bf.algo, bf.memory};
}

}  // namespace

// Row-major C = A*B is column-major C^T = B^T * A^T: cuBLAS gets B first, with the roles of M and N swapped.
void sgemm(bool transA, bool transB, int M, int N, int K, float alpha, const float* A, int lda,
           const float* B, int ldb, float beta, float* C, int ldc) {
  REF_CHECK(cublasSgemm(cublas(), transB ? CUBLAS_OP_T : CUBLAS_OP_N, transA ? CUBLAS_OP_T : CUBLAS_OP_N, N,
                        M, K, &alpha, B, ldb, A, lda, &beta, C, ldc));
}

namespace {
// A device vector of at least n ones (kept and grown as needed): turns bias broadcasts and sums into GEMMs.
const float* ones(int n) {
  static std::mutex mutex;
  static float* data = nullptr;
  static int size = 0;
  std::lock_guard lock(mutex);
  if (n > size) {
    facet::cuda::device_free(data);
    data = static_cast<float*>(facet::cuda::device_alloc(sizeof(float) * size_t(n)));
    const std::vector<float> host(size_t(n), 1.0f);
    facet::cuda::copy_to_device(data, host.data(), sizeof(float) * size_t(n));
    facet::cuda::synchronize();
    size = n;
  }
  return data;
}
}  // namespace

// out (B,OUT) = ones (B,1) * bias (1,OUT), then += in (B,IN) * W^T (IN,OUT)
void linear_forward(float* out, const float* in, const float* weight, const float* bias, int B, int IN,
                    int OUT) {
  if (bias) sgemm(false, false, B, OUT, 1, 1.0f, ones(B), 1, bias, OUT, 0.0f, out, OUT);
  sgemm(false, true, B, OUT, IN, 1.0f, in, IN, weight, IN, bias ? 1.0f : 0.0f, out, OUT);
}

void linear_backward(float* din, float* dweight, float* dbias, const float* dout, const float* in,
                     const float* weight, int B, int IN, int OUT) {
  if (din) sgemm(false, false, B, IN, OUT, 1.0f, dout, OUT, weight, IN, 1.0f, din, IN);
  if (dweight) sgemm(true, false, OUT, IN, B, 1.0f, dout, OUT, in, IN, 1.0f, dweight, IN);
  if (dbias) {  // dbias (OUT) += dout^T (OUT,B) * ones (B): column-major dout is (OUT,B) with ld OUT
    const float alpha = 1.0f, beta = 1.0f;
    REF_CHECK(cublasSgemv(cublas(), CUBLAS_OP_N, OUT, B, &alpha, dout, OUT, ones(B), 1, &beta, dbias, 1));
  }
}

void conv2d_forward(float* out, const float* in, const float* weight, const float* bias,
                    const Conv2dDims& d) {
  Tensor4d x(d.N, d.C, d.H, d.W), y(d.N, d.K, d.P(), d.Q()), b(1, d.K, 1, 1);
  Filter4d w(d.K, d.C, d.R, d.S);
  Convolution conv(d);
  const ConvAlgorithms& a = algorithms(d, x, w, conv, y);
  Scratch work(a.forward_bytes);
  const float one = 1.0f, zero = 0.0f;
  REF_CHECK(cudnnConvolutionForward(cudnn(), &one, x.desc, in, w.desc, weight, conv.desc, a.forward, work.ptr,
                                    a.forward_bytes, &zero, y.desc, out));
  if (bias) REF_CHECK(cudnnAddTensor(cudnn(), &one, b.desc, bias, &one, y.desc, out));
}

void conv2d_backward(float* din, float* dweight, float* dbias, const float* dout, const float* in,
                     const float* weight, const Conv2dDims& d) {
  Tensor4d x(d.N, d.C, d.H, d.W), y(d.N, d.K, d.P(), d.Q()), b(1, d.K, 1, 1);
  Filter4d w(d.K, d.C, d.R, d.S);
  Convolution conv(d);
  const ConvAlgorithms& a = algorithms(d, x, w, conv, y);
  const float one = 1.0f;  // beta = 1: accumulate into the gradients, as facet's contract says
  if (din) {
    Scratch work(a.data_bytes);
    REF_CHECK(cudnnConvolutionBackwardData(cudnn(), &one, w.desc, weight, y.desc, dout, conv.desc, a.data,
                                           work.ptr, a.data_bytes, &one, x.desc, din));
  }
  if (dweight) {
    Scratch work(a.filter_bytes);
    REF_CHECK(cudnnConvolutionBackwardFilter(cudnn(), &one, x.desc, in, y.desc, dout, conv.desc, a.filter,
                                             work.ptr, a.filter_bytes, &one, w.desc, dweight));
  }
  if (dbias) REF_CHECK(cudnnConvolutionBackwardBias(cudnn(), &one, y.desc, dout, &one, b.desc, dbias));
}

void batchnorm2d_forward_train(float* out, float* mean, float* rstd, float* running_mean, float* running_var,
                               const float* in, const float* gamma, const float* beta, int N, int C, int HW,
                               float momentum, float eps) {
  if (!gamma || !beta)
    throw std::invalid_argument("cuda_ref::batchnorm2d_forward_train: cuDNN needs gamma and beta");
  Tensor4d x(N, C, HW, 1), stats(1, C, 1, 1);
  const float one = 1.0f, zero = 0.0f;
  REF_CHECK(cudnnBatchNormalizationForwardTraining(cudnn(), CUDNN_BATCHNORM_SPATIAL, &one, &zero, x.desc, in,
                                                   x.desc, out, stats.desc, gamma, beta, momentum,
                                                   running_mean, running_var, eps, mean, rstd));
}

void batchnorm2d_backward(float* din, float* dgamma, float* dbeta, const float* dout, const float* in,
                          const float* gamma, const float* mean, const float* rstd, int N, int C, int HW,
                          float eps) {
  if (!gamma || !din || !dgamma || !dbeta)
    throw std::invalid_argument("cuda_ref::batchnorm2d_backward: cuDNN needs gamma, din, dgamma and dbeta");
  Tensor4d x(N, C, HW, 1), stats(1, C, 1, 1);
  const float one = 1.0f;  // beta = 1 for data and parameters: accumulate
  REF_CHECK(cudnnBatchNormalizationBackward(cudnn(), CUDNN_BATCHNORM_SPATIAL, &one, &one, &one, &one, x.desc,
                                            in, x.desc, dout, x.desc, din, stats.desc, gamma, dgamma, dbeta,
                                            eps, mean, rstd));
}

namespace {
struct Pooling {
  cudnnPoolingDescriptor_t desc{};
  explicit Pooling(const Pool2dDims& d) {
    REF_CHECK(cudnnCreatePoolingDescriptor(&desc));
    REF_CHECK(cudnnSetPooling2dDescriptor(desc, CUDNN_POOLING_MAX, CUDNN_PROPAGATE_NAN, d.k, d.k, d.pad,
                                          d.pad, d.stride, d.stride));
  }
  ~Pooling() { cudnnDestroyPoolingDescriptor(desc); }
  Pooling(const Pooling&) = delete;
  Pooling& operator=(const Pooling&) = delete;
};
}  // namespace

void maxpool2d_forward(float* out, int32_t*, const float* in, const Pool2dDims& d) {
  Tensor4d x(d.N, d.C, d.H, d.W), y(d.N, d.C, d.P(), d.Q());
  Pooling pool(d);
  const float one = 1.0f, zero = 0.0f;
  REF_CHECK(cudnnPoolingForward(cudnn(), pool.desc, &one, x.desc, in, &zero, y.desc, out));
}

void maxpool2d_backward(float* din, const float* dout, const float* in, const float* out,
                        const Pool2dDims& d) {
  Tensor4d x(d.N, d.C, d.H, d.W), y(d.N, d.C, d.P(), d.Q());
  Pooling pool(d);
  const float one = 1.0f;
  REF_CHECK(cudnnPoolingBackward(cudnn(), pool.desc, &one, y.desc, out, y.desc, dout, x.desc, in, &one,
                                 x.desc, din));
}

}  // namespace facet::cuda_ref
