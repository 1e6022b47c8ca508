#include "layers/linear.h"

#include <cmath>
#include <stdexcept>

#include "tensor/ops.h"
#include "tensor/rng.h"

namespace facet {

Linear::Linear(int in_features, int out_features, Rng& rng, bool with_bias) : in_(in_features), out_(out_features) {
  float bound = 1.0f / std::sqrt(float(in_features));
  weight = uniform_parameter({out_features, in_features}, bound, rng);
  if (with_bias) bias = uniform_parameter({out_features}, bound, rng);
}

Tensor Linear::forward(const Tensor& x) { return linear(x, weight, bias); }

Shape Linear::output_shape(const Shape& in) const {
  if (in.size() != 2 || in[1] != in_)
    throw std::invalid_argument(describe() + ": input " + shape_str(in) + " must be (B," + std::to_string(in_) + ")");
  return {in[0], out_};
}

std::string Linear::describe() const { return "linear " + std::to_string(in_) + "->" + std::to_string(out_); }

std::vector<NamedTensor> Linear::parameters() {
  std::vector<NamedTensor> p{{"weight", weight}};
  if (bias.defined()) p.push_back({"bias", bias});
  return p;
}

}  // namespace facet
