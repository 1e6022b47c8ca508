#include "layers/module.h"

#include "tensor/rng.h"

namespace facet {

void Module::to(Device device) {
  for (auto& p : parameters()) p.tensor.move_to(device);
  for (auto& b : buffers()) b.tensor.move_to(device);
}

int64_t Module::parameter_count() {
  int64_t n = 0;
  for (auto& p : parameters()) n += p.tensor.numel();
  return n;
}

Tensor uniform_parameter(const Shape& shape, float bound, Rng& rng) {
  std::vector<float> v(size_t(shape_numel(shape)));
  for (float& x : v) x = rng.uniform(-bound, bound);
  Tensor t = Tensor::from_vector(v, shape);
  t.set_requires_grad(true);
  return t;
}

}  // namespace facet
