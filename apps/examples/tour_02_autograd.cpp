// Tour, chapter 2 (docs/tour/02-autograd.md): a gradient by hand against facet's autograd.
//
// The expression, on vectors a and b of n numbers:
//   u = a * b            (elementwise product: u_i = a_i b_i)
//   L = sum_i relu(u_i)  (relu(t) = max(t, 0))
// The chain rule, one op at a time from the loss back:
//   dL/du_i = relu'(u_i) = 1 if u_i > 0 else 0
//   dL/da_i = dL/du_i * du_i/da_i = [u_i > 0] * b_i
//   dL/db_i = dL/du_i * du_i/db_i = [u_i > 0] * a_i
// facet records the same graph while computing L (each op remembers its inputs and a backward function), and
// L.backward() runs those functions from L back to a and b.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <vector>

#include "tensor/ops.h"
#include "tensor/rng.h"
#include "tensor/tensor.h"

using facet::Tensor;

std::vector<float> random_vector(int n, facet::Rng& rng) {
  std::vector<float> v(n);
  for (float& x : v) x = rng.uniform(-1.0f, 1.0f);
  return v;
}

// The largest |x_i - y_i|.
double max_difference(const std::vector<float>& x, const std::vector<float>& y) {
  double worst = 0;
  for (size_t i = 0; i < x.size(); ++i) worst = std::max(worst, std::fabs(double(x[i]) - double(y[i])));
  return worst;
}

int main() {
  const int n = 8;
  facet::Rng rng(2);  // seeded: the same numbers every run
  const std::vector<float> a = random_vector(n, rng), b = random_vector(n, rng);

  // ---- by hand: forward, then the chain rule above ----
  std::vector<float> da_hand(n), db_hand(n);
  double loss_hand = 0;
  for (int i = 0; i < n; ++i) {
    const float u = a[i] * b[i];
    loss_hand += std::max(u, 0.0f);
    const bool open = u > 0;  // dL/du_i = relu'(u_i) = 1 if u_i > 0, else 0 (and the product is 0)
    da_hand[i] = open ? b[i] : 0.0f;
    db_hand[i] = open ? a[i] : 0.0f;
  }

  // ---- by facet: the same expression on tensors, then backward ----
  Tensor ta = Tensor::from_vector(a, {n}), tb = Tensor::from_vector(b, {n});
  ta.set_requires_grad();
  tb.set_requires_grad();
  Tensor u = ta * tb;                        // op "mul"
  Tensor loss = facet::sum(facet::relu(u));  // ops "relu", then "sum"
  std::printf("the graph, from the loss back: %s <- %s <- %s <- (a, b)\n", loss.op(),
              loss.impl()->parents[0]->op, u.op());
  loss.backward();

  std::printf("loss: by hand %.6f, by autograd %.6f\n", loss_hand, loss.item());
  std::printf("  i      a_i      b_i   dL/da hand  autograd   dL/db hand  autograd\n");
  const std::vector<float> da = ta.grad().to_vector(), db = tb.grad().to_vector();
  for (int i = 0; i < n; ++i)
    std::printf("%3d %8.4f %8.4f %11.4f %9.4f %11.4f %9.4f\n", i, a[i], b[i], da_hand[i], da[i], db_hand[i],
                db[i]);

  // The hand formula and autograd do the same float multiplications, so they agree exactly (tolerance 0 would
  // do; 1e-6 leaves room for a compiler that fuses a multiply-add).
  const double tol = 1e-6;
  const double diff = std::max(
      {max_difference(da, da_hand), max_difference(db, db_hand), std::fabs(loss.item() - loss_hand)});
  std::printf("hand vs autograd: max difference %.3g (tolerance %.0e)\n", diff, tol);
  return diff <= tol ? 0 : 1;
}
