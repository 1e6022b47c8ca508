// Tour, chapter 3 (docs/tour/03-conv.md): convolution forward and backward, im2col, naive loop vs fast
// kernel.
//
// Input in (N,C,H,W), weights w (K,C,R,S), bias (K), stride st, zero padding pad; output out (N,K,P,Q) with
//   P = (H + 2 pad - R) / st + 1,   Q = (W + 2 pad - S) / st + 1
// forward   out[n,k,p,q]  = bias[k] + sum_{c,r,s} in[n,c, p*st-pad+r, q*st-pad+s] * w[k,c,r,s]
// backward  dbias[k]     = sum_{n,p,q} dout[n,k,p,q]
//           dw[k,c,r,s]  = sum_{n,p,q} dout[n,k,p,q] * in[n,c, p*st-pad+r, q*st-pad+s]
//           din[n,c,h,w] = sum over the (k,p,q,r,s) with h = p*st-pad+r, w = q*st-pad+s of dout[n,k,p,q] *
//           w[k,c,r,s]
// (input cells outside the image are the zero padding: they contribute nothing and get no gradient).
//
// im2col rewrites the forward as one matrix product per image: copy every input patch the kernel sees into a
// column of a (C*R*S, P*Q) matrix, then  out[n] (K, P*Q) = w (K, C*R*S) x col (C*R*S, P*Q).
// facet's fast kernel (facet::cpu::conv2d_forward, kernels/cpu/conv2d.cpp) does that with its blocked SGEMM.
//
// Usage: tour_03_conv [PICTURE.png]   (default tour_03_im2col.png: the im2col picture drawn below)
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <string>
#include <vector>

#include "data/image_io.h"
#include "kernels/conv2d.h"
#include "tensor/rng.h"

using facet::Conv2dDims;
using Vec = std::vector<float>;

// The input cell that kernel tap (r, s) reads for output (p, q), or false in the padding.
bool input_cell(const Conv2dDims& d, int p, int q, int r, int s, int& h, int& w) {
  h = p * d.stride - d.pad + r;
  w = q * d.stride - d.pad + s;
  return h >= 0 && h < d.H && w >= 0 && w < d.W;
}

// The forward formula, loop for loop. out (N,K,P,Q), in (N,C,H,W), w (K,C,R,S), bias (K).
void naive_conv2d_forward(Vec& out, const Vec& in, const Vec& w, const Vec& bias, const Conv2dDims& d) {
  const int P = d.P(), Q = d.Q();
  for (int n = 0; n < d.N; ++n)
    for (int k = 0; k < d.K; ++k)
      for (int p = 0; p < P; ++p)
        for (int q = 0; q < Q; ++q) {
          double acc = bias[k];
          for (int c = 0; c < d.C; ++c)
            for (int r = 0; r < d.R; ++r)
              for (int s = 0; s < d.S; ++s) {
                int h, x;
                if (input_cell(d, p, q, r, s, h, x))
                  acc += in[((n * d.C + c) * d.H + h) * d.W + x] * w[((k * d.C + c) * d.R + r) * d.S + s];
              }
          out[((n * d.K + k) * P + p) * Q + q] = float(acc);
        }
}

// The backward formulas: every output gradient dout[n,k,p,q] is sent back along the products that made it.
void naive_conv2d_backward(Vec& din, Vec& dw, Vec& dbias, const Vec& dout, const Vec& in, const Vec& w,
                           const Conv2dDims& d) {
  const int P = d.P(), Q = d.Q();
  for (int n = 0; n < d.N; ++n)
    for (int k = 0; k < d.K; ++k)
      for (int p = 0; p < P; ++p)
        for (int q = 0; q < Q; ++q) {
          const float g = dout[((n * d.K + k) * P + p) * Q + q];
          dbias[k] += g;
          for (int c = 0; c < d.C; ++c)
            for (int r = 0; r < d.R; ++r)
              for (int s = 0; s < d.S; ++s) {
                int h, x;
                if (!input_cell(d, p, q, r, s, h, x)) continue;
                const int i = ((n * d.C + c) * d.H + h) * d.W + x, j = ((k * d.C + c) * d.R + r) * d.S + s;
                dw[j] += g * in[i];
                din[i] += g * w[j];
              }
        }
}

// im2col of image n: col (C*R*S, P*Q), row (c,r,s), column (p,q); padding cells are 0. source[] records, for
// the picture, which input cell each entry came from (-1: padding).
Vec im2col(const Vec& in, int n, const Conv2dDims& d, std::vector<int>& source) {
  const int P = d.P(), Q = d.Q(), rows = d.C * d.R * d.S;
  Vec col(size_t(rows) * P * Q, 0.0f);
  source.assign(col.size(), -1);
  for (int c = 0; c < d.C; ++c)
    for (int r = 0; r < d.R; ++r)
      for (int s = 0; s < d.S; ++s)
        for (int p = 0; p < P; ++p)
          for (int q = 0; q < Q; ++q) {
            const size_t at = size_t((c * d.R + r) * d.S + s) * P * Q + p * Q + q;
            int h, x;
            if (!input_cell(d, p, q, r, s, h, x)) continue;
            source[at] = (c * d.H + h) * d.W + x;
            col[at] = in[((n * d.C + c) * d.H + h) * d.W + x];
          }
  return col;
}

// ---- the picture -----------------------------------------------------------------------------------------
// A distinct colour per input cell i of `cells` (hues around the colour wheel), dark grey for padding (-1).
void cell_colour(int i, int cells, uint8_t rgb[3]) {
  if (i < 0) {
    rgb[0] = rgb[1] = rgb[2] = 48;
    return;
  }
  const float hue = 6.0f * float(i) / float(cells), f = hue - std::floor(hue);
  const float ramp[6][3] = {{1, f, 0}, {1 - f, 1, 0}, {0, 1, f}, {0, 1 - f, 1}, {f, 0, 1}, {1, 0, 1 - f}};
  const float* c = ramp[int(hue) % 6];
  for (int j = 0; j < 3; ++j) rgb[j] = uint8_t(60 + 180 * c[j]);
}

// Fills one cell x cell square (a 1-pixel white border around it) at grid position (row, col) from x0.
void draw_cell(facet::data::Image& img, int x0, int row, int col, int cell, const uint8_t rgb[3]) {
  for (int y = row * cell; y < (row + 1) * cell; ++y)
    for (int x = x0 + col * cell; x < x0 + (col + 1) * cell; ++x) {
      const bool border = y == row * cell || x == x0 + col * cell;
      for (int j = 0; j < 3; ++j) img.at(y, x, j) = border ? 255 : rgb[j];
    }
}

// Left: the H x W input, one colour per cell. Right: its im2col matrix (R*S rows, P*Q columns), each entry in
// the colour of the input cell it copies: the same colour appears up to R*S times (the duplication im2col
// pays for one big matrix product). Also printed as letters (a, b, ... for the input cells, '.' for padding).
void draw_im2col(const Conv2dDims& d, const std::string& path) {
  std::vector<int> source;
  im2col(Vec(size_t(d.H) * d.W), 0, d, source);  // only where each entry comes from matters here
  const int rows = d.R * d.S, cols = d.P() * d.Q(), cells = d.H * d.W, cell = 20, gap = cell;
  std::printf(
      "input %dx%d (one letter per pixel) and its im2col matrix (%d rows (r,s) x %d columns (p,q)):\n", d.H,
      d.W, rows, cols);
  for (int r = 0; r < std::max(rows, d.H); ++r) {
    for (int x = 0; x < d.W; ++x) std::printf("%c", r < d.H ? char('a' + r * d.W + x) : ' ');
    std::printf("    ");
    for (int j = 0; r < rows && j < cols; ++j)
      std::printf("%c", source[r * cols + j] < 0 ? '.' : char('a' + source[r * cols + j]));
    std::printf("\n");
  }
  facet::data::Image img(d.W * cell + gap + cols * cell, std::max(rows, d.H) * cell, 3, 255);
  uint8_t rgb[3];
  for (int i = 0; i < cells; ++i) {
    cell_colour(i, cells, rgb);
    draw_cell(img, 0, i / d.W, i % d.W, cell, rgb);
  }
  for (int r = 0; r < rows; ++r)
    for (int j = 0; j < cols; ++j) {
      cell_colour(source[r * cols + j], cells, rgb);
      draw_cell(img, d.W * cell + gap, r, j, cell, rgb);
    }
  facet::data::write_png(path, img);
  std::printf("wrote %s (%d x %d pixels)\n", path.c_str(), img.w, img.h);
}

// ---- the comparisons -------------------------------------------------------------------------------------
Vec random_vec(size_t n, facet::Rng& rng) {
  Vec v(n);
  for (float& x : v) x = rng.uniform(-1.0f, 1.0f);
  return v;
}

double max_difference(const Vec& x, const Vec& y) {
  double worst = 0;
  for (size_t i = 0; i < x.size(); ++i) worst = std::max(worst, std::fabs(double(x[i]) - double(y[i])));
  return worst;
}

// Naive loops against facet::cpu::conv2d_forward / conv2d_backward on one random problem; returns whether
// every difference is within tolerance. The sums have a few dozen terms of size ~1 taken in another order, so
// they agree to float rounding: 1e-4 is generous.
bool compare(const Conv2dDims& d, facet::Rng& rng) {
  const double tol = 1e-4;
  const size_t n_in = size_t(d.N) * d.C * d.H * d.W, n_w = size_t(d.K) * d.C * d.R * d.S,
               n_out = size_t(d.N) * d.K * d.P() * d.Q();
  const Vec in = random_vec(n_in, rng), w = random_vec(n_w, rng), bias = random_vec(d.K, rng),
            dout = random_vec(n_out, rng);
  Vec out_naive(n_out), out_fast(n_out);
  naive_conv2d_forward(out_naive, in, w, bias, d);
  facet::cpu::conv2d_forward(out_fast.data(), in.data(), w.data(), bias.data(), d);

  // im2col + one matrix product for image 0: out[0] (K, P*Q) = w (K, C*R*S) x col (C*R*S, P*Q), plus bias.
  std::vector<int> source;
  const Vec col = im2col(in, 0, d, source);
  const int PQ = d.P() * d.Q(), CRS = d.C * d.R * d.S;
  Vec out_gemm(size_t(d.K) * PQ);
  for (int k = 0; k < d.K; ++k)
    for (int j = 0; j < PQ; ++j) {
      double acc = bias[k];
      for (int i = 0; i < CRS; ++i) acc += w[size_t(k) * CRS + i] * col[size_t(i) * PQ + j];
      out_gemm[size_t(k) * PQ + j] = float(acc);
    }
  const Vec out_naive0(out_naive.begin(), out_naive.begin() + out_gemm.size());

  Vec din_n(n_in, 0.0f), dw_n(n_w, 0.0f), db_n(d.K, 0.0f), din_f(n_in, 0.0f), dw_f(n_w, 0.0f),
      db_f(d.K, 0.0f);
  naive_conv2d_backward(din_n, dw_n, db_n, dout, in, w, d);
  facet::cpu::conv2d_backward(din_f.data(), dw_f.data(), db_f.data(), dout.data(), in.data(), w.data(), d);

  std::printf("conv N=%d C=%d %dx%d K=%d %dx%d stride %d pad %d -> output %dx%d\n", d.N, d.C, d.H, d.W, d.K,
              d.R, d.S, d.stride, d.pad, d.P(), d.Q());
  const double diffs[5] = {max_difference(out_gemm, out_naive0), max_difference(out_fast, out_naive),
                           max_difference(din_f, din_n), max_difference(dw_f, dw_n),
                           max_difference(db_f, db_n)};
  const char* names[5] = {"im2col x matrix product vs naive (image 0)", "forward  fast vs naive",
                          "d input  fast vs naive", "d weight fast vs naive", "d bias   fast vs naive"};
  bool ok = true;
  for (int i = 0; i < 5; ++i) {
    std::printf("  %-44s max difference %.3g (tolerance %.0e)\n", names[i], diffs[i], tol);
    ok = ok && diffs[i] <= tol;
  }
  std::printf("  out[0,0,0,0..3]: naive %.5f %.5f %.5f %.5f\n", out_naive[0], out_naive[1], out_naive[2],
              out_naive[3]);
  std::printf("                   fast  %.5f %.5f %.5f %.5f\n", out_fast[0], out_fast[1], out_fast[2],
              out_fast[3]);
  return ok;
}

int main(int argc, char** argv) {
  const std::string picture = argc > 1 ? argv[1] : "tour_03_im2col.png";
  draw_im2col(Conv2dDims{1, 1, 4, 4, 1, 3, 3, 1, 1}, picture);  // 4x4 input, 3x3 kernel, stride 1, pad 1

  facet::Rng rng(3);
  bool ok = compare(Conv2dDims{2, 3, 8, 8, 4, 3, 3, 1, 1}, rng);   // BaseCNN's 3x3, pad 1 (same size out)
  ok = compare(Conv2dDims{2, 2, 9, 7, 3, 3, 3, 2, 0}, rng) && ok;  // stride 2, no padding, not square
  std::printf("%s\n", ok ? "naive and fast agree" : "FAILED: a difference is over its tolerance");
  return ok ? 0 : 1;
}
