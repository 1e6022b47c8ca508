// Helpers for the optimizer and checkpoint tests: parameters from literal values, gradients set through a
// real backward pass, and a scratch directory removed at the end of each test.
#pragma once
#include <unistd.h>

#include <filesystem>
#include <string>
#include <vector>

#include "tensor/ops.h"
#include "tensor/tensor.h"
#include "tests/common/check.h"

namespace facet::test {

inline Tensor param(const std::vector<float>& values, const Shape& shape) {
  Tensor t = Tensor::from_vector(values, shape);
  t.set_requires_grad(true);
  return t;
}
inline Tensor param(const std::vector<float>& values) {
  return param(values, {int64_t(values.size())});
}

// Gives each parameter exactly the gradient `grads[i]` by back-propagating L = sum_i sum(w_i * c_i), c_i =
// grads[i] (dL/dw_i = c_i). Previous gradients are dropped first.
inline void set_grads(const std::vector<NamedTensor>& params, const std::vector<std::vector<float>>& grads) {
  Tensor loss;
  for (size_t i = 0; i < params.size(); ++i) {
    Tensor w = params[i].tensor;
    w.zero_grad();
    Tensor term = sum(mul(w, Tensor::from_vector(grads[i], w.shape())));
    loss = loss.defined() ? add(loss, term) : term;
  }
  loss.backward();
}

// A fresh directory under the system temp dir, removed with everything in it when the test ends.
class ScratchDir {
 public:
  explicit ScratchDir(const std::string& tag) {
    path_ = std::filesystem::temp_directory_path() / ("facet-test-" + tag + "-" + std::to_string(::getpid()));
    std::filesystem::remove_all(path_);
    std::filesystem::create_directories(path_);
  }
  ~ScratchDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  ScratchDir(const ScratchDir&) = delete;
  ScratchDir& operator=(const ScratchDir&) = delete;
  std::string file(const std::string& name) const { return (path_ / name).string(); }
  std::vector<std::string> entries() const {
    std::vector<std::string> out;
    for (const auto& e : std::filesystem::directory_iterator(path_))
      out.push_back(e.path().filename().string());
    return out;
  }
  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
};

}  // namespace facet::test
