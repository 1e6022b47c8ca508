// Tour, chapter 1 (docs/tour/01-tensor.md): a tensor, its shape and strides, and a view.
//
// A facet Tensor is one flat buffer of floats plus a shape. Its storage is row-major: the last index moves
// fastest, so the stride of dimension d (how many floats to step to add 1 to index d) is the product of the
// sizes after it:   stride[d] = size[d+1] * size[d+2] * ... * size[last],   stride[last] = 1
// and element (i0, i1, ..., ik) lives at   offset = i0*stride[0] + i1*stride[1] + ... + ik*stride[k].
// A view (reshape, flatten) is a new shape over the same buffer: no copy, writes through one show in the
// other.
#include <cstdio>
#include <string>
#include <vector>

#include "tensor/tensor.h"

using facet::Shape;
using facet::Tensor;

// The offset of element `index` in a row-major tensor with these strides.
int64_t offset_of(const Shape& index, const Shape& strides) {
  int64_t offset = 0;
  for (size_t d = 0; d < index.size(); ++d) offset += index[d] * strides[d];
  return offset;
}

int main() {
  // A batch of 2 images with 3 channels of 4 x 5 pixels: the (N, C, H, W) layout of every image in facet.
  std::vector<float> values(2 * 3 * 4 * 5);
  for (size_t i = 0; i < values.size(); ++i) values[i] = float(i);  // each element holds its own offset
  Tensor x = Tensor::from_vector(values, {2, 3, 4, 5});             // (N, C, H, W) = (2, 3, 4, 5)

  std::printf("x: shape %s, %lld elements, strides %s\n", facet::shape_str(x.shape()).c_str(),
              (long long)x.numel(), facet::shape_str(x.strides()).c_str());

  // Element (n=1, c=2, h=3, w=4), the last one: its offset from the strides, and the value stored there.
  const Shape index = {1, 2, 3, 4};
  const int64_t offset = offset_of(index, x.strides());
  std::printf("element %s sits at offset %lld and holds %.0f\n", facet::shape_str(index).c_str(),
              (long long)offset, x.data()[offset]);

  // A view: the same 120 floats seen as 2 rows of 60 (what a classifier's linear layer reads).
  Tensor flat = x.flatten(1);  // (N, C*H*W) = (2, 60)
  std::printf("flat = x.flatten(1): shape %s, strides %s\n", facet::shape_str(flat.shape()).c_str(),
              facet::shape_str(flat.strides()).c_str());
  const bool shared = flat.data() == x.data();
  std::printf("the view shares the storage: %s\n", shared ? "yes" : "no");

  // Writing through the view changes x: element (0, 7) of flat is element (0, 0, 1, 2) of x,
  // because 7 = 0*20 + 1*5 + 2 (channel 0, row 1, column 2).
  flat.data()[offset_of({0, 7}, flat.strides())] = -1.0f;
  const float seen = x.data()[offset_of({0, 0, 1, 2}, x.strides())];
  std::printf("after flat[0, 7] = -1, x[0, 0, 1, 2] = %.0f\n", seen);

  // A copy does not share: clone() has its own buffer.
  Tensor copy = x.clone();
  copy.data()[0] = 100.0f;
  std::printf("after copy[0, 0, 0, 0] = 100, x[0, 0, 0, 0] = %.0f (clone() copies)\n", x.data()[0]);

  const bool ok = shared && seen == -1.0f && x.data()[0] == 0.0f && x.data()[offset] == float(offset);
  std::printf("%s\n", ok ? "all as expected" : "FAILED: a view or a copy did not behave as described");
  return ok ? 0 : 1;
}
