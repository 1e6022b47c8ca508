// Every CPU kernel on BaseCNN's shapes (batch B, input side 64 and 128): conv2d forward (plain, and with BN's
// batch statistics in its epilogue) and backward per layer, batchnorm (train forward, backward, eval), LeakyReLU,
// max-pool 2x2, the three fused (and their pass with the statistics given), dropout on each conv layer's output,
// the dense layers (features->256->128) and softmax-CE on the three heads.
// bytes = compulsory traffic (inputs read once, outputs written once, += outputs read and written), so GB/s
// against the triad roof says how close a memory-bound kernel is to its limit; GFLOP/s against the FMA
// probe does the same for the conv and dense kernels.
// Each conv row is also timed against a Caffe-style im2col + OpenBLAS sgemm convolution (impl
// "openblas-im2col", bench_conv_openblas.h) on the same inputs and threads, after checking once that its output
// and gradients match facet's; the two alternate in rounds as the sgemm rows do (bench_sgemm.cpp says why).
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "bench/bench_conv_nhwc.h"
#include "bench/bench_conv_openblas.h"
#include "bench/bench_util.h"
#include "kernels/activation.h"
#include "kernels/batchnorm2d.h"
#include "kernels/bn_act_pool.h"
#include "kernels/conv2d.h"
#include "kernels/cpu/conv2d_pack.h"
#include "kernels/cpu/conv2d_im2col.h"
#include "kernels/dropout.h"
#include "kernels/linear.h"
#include "kernels/maxpool2d.h"
#include "kernels/softmax_ce.h"

namespace facet::bench {
namespace {

std::string nchw(int n, int c, int h, int w) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "(%d,%d,%d,%d)", n, c, h, w);
  return buf;
}

Row make_row(const std::string& name, const std::string& shape, int threads, double flops, double bytes) {
  Row r;
  r.section = "kernels";
  r.name = name;
  r.shape = shape;
  r.threads = threads;
  r.flops = flops;
  r.bytes = bytes;
  return r;
}

// "" when every got[i] is within 1e-3 + 1e-3*|ref[i]| of ref[i], else where and by how much it is not.
std::string mismatch(const char* what, const float* got, const float* ref, int64_t n) {
  int64_t bad = 0, worst = -1;
  double worst_excess = 0;
  for (int64_t i = 0; i < n; ++i) {
    const double err = std::fabs(double(got[i]) - ref[i]), tol = 1e-3 + 1e-3 * std::fabs(double(ref[i]));
    if (!(err <= tol)) {  // NaN fails too
      ++bad;
      if (worst < 0 || !(err - tol <= worst_excess)) worst = i, worst_excess = err - tol;
    }
  }
  if (bad == 0) return "";
  char buf[192];
  std::snprintf(buf, sizeof buf, "mismatch: %s differs from facet's at %lld of %lld, worst [%lld] %g vs %g",
                what, (long long)bad, (long long)n, (long long)worst, double(got[worst]), double(ref[worst]));
  return buf;
}

// Another implementation of a conv row: its impl name, what it times (null: not available) and why its check
// failed (empty: it passed).
struct Alternative {
  std::string impl;
  std::function<void()> f;
  std::string failure;
};

// Times facet's conv row (im2col as the default mode chooses, kernels/cpu/conv2d_pack.h) alternating, in rounds,
// with facet's other im2col modes (impl "im2col-memory": always into a col buffer; "im2col-packed": always
// into the GEMM's packing) where the packers exist, and with the alternatives; then prints the ratios. An
// alternative whose check failed is recorded untimed with the failure as its note.
void time_conv_contenders(Recorder& rec, const Row& row, const std::function<void()>& ours,
                          const std::vector<Alternative>& others) {
  std::vector<Contender> contenders = {{row, ours}};
  const cpu::ConvIm2col mode = cpu::conv_im2col();
  if (mode != cpu::ConvIm2col::memory && cpu::conv_pack::available())
    for (cpu::ConvIm2col alt : {cpu::ConvIm2col::memory, cpu::ConvIm2col::packed}) {
      if (alt == mode) continue;
      Row r = row;
      r.impl = alt == cpu::ConvIm2col::memory ? "im2col-memory" : "im2col-packed";
      contenders.push_back({r, with_conv_im2col(alt, ours)});
    }
  std::vector<Row> failed;
  for (const Alternative& a : others) {
    if (!a.f) continue;
    Row other = row;
    other.impl = a.impl;
    if (a.failure.empty()) {
      contenders.push_back({other, a.f});
    } else {
      other.note = a.failure;
      rec.fail(row.name + " " + row.shape + " " + a.impl + ": " + a.failure);
      failed.push_back(other);
    }
  }
  const std::vector<Row> rows = contenders.size() == 1 ? std::vector<Row>{rec.time(row, ours)}
                                                       : rec.time_alternating(contenders);
  for (const Row& f : failed) rec.add(f);
  for (size_t i = 1; i < rows.size(); ++i)
    std::printf("%-8s %-34s facet/%s speed ratio %.2f\n", "", row.name.c_str(), rows[i].impl.c_str(),
                rows[i].median_s / rows[0].median_s);
}

void conv_layer(Recorder& rec, const ConvLayer& l, int size, int B, int threads) {
  const std::string tag = "conv" + std::to_string(l.index) + "@" + std::to_string(size);
  if (!rec.wanted(tag)) return;
  Conv2dDims d{B, l.cin, l.side, l.side, l.cout, 3, 3, 1, 1};
  const int64_t in_n = int64_t(B) * l.cin * l.side * l.side, out_n = int64_t(B) * l.cout * l.side * l.side;
  const int64_t w_n = int64_t(l.cout) * l.cin * 9;
  Buffer x(in_n, 21), w(w_n, 22, -0.1f, 0.1f), bias(l.cout, 23), y(out_n, 24), dy(out_n, 25);
  Buffer dx(in_n, 26), dw(w_n, 27), db(l.cout, 28);
  const double fwd_flops = 2.0 * out_n * l.cin * 9;
  const std::string shape = nchw(B, l.cin, l.side, l.side) + "->" + std::to_string(l.cout);
  // Layer 1's input is the image batch: training computes no input gradient there.
  const bool with_dx = l.index > 1;

  // The OpenBLAS im2col conv, when OpenBLAS is loadable, checked once against facet's kernels on these inputs.
  const bool use_openblas = rec.options().compare_openblas && openblas().ok;
  if (!use_openblas) {
    static bool said = false;  // one line per run, not per row
    if (!said)
      std::printf("conv openblas-im2col rows skipped: %s\n",
                  rec.options().compare_openblas ? openblas().error.c_str() : "--no-openblas");
    said = true;
  }
  std::unique_ptr<OpenBlasConv> obc;
  std::string fwd_failure, bwd_failure;
  Buffer y2, dx2, dw2, db2;
  if (use_openblas) {
    obc = std::make_unique<OpenBlasConv>(openblas(), d);
    y2 = Buffer(out_n);
    cpu::conv2d_forward(y.data(), x.data(), w.data(), bias.data(), d);
    obc->forward(y2.data(), x.data(), w.data(), bias.data());
    fwd_failure = mismatch("output", y2.data(), y.data(), out_n);
    dx2 = Buffer(in_n);
    dw2 = Buffer(w_n);
    db2 = Buffer(l.cout);
    for (Buffer* g : {&dx, &dw, &db, &dx2, &dw2, &db2}) g->zero();
    cpu::conv2d_backward(with_dx ? dx.data() : nullptr, dw.data(), db.data(), dy.data(), x.data(), w.data(), d);
    obc->backward(with_dx ? dx2.data() : nullptr, dw2.data(), db2.data(), dy.data(), x.data(), w.data());
    for (const std::string& m : {with_dx ? mismatch("dx", dx2.data(), dx.data(), in_n) : std::string(),
                                 mismatch("dw", dw2.data(), dw.data(), w_n),
                                 mismatch("db", db2.data(), db.data(), l.cout)})
      if (bwd_failure.empty()) bwd_failure = m;
  }

  // The same convolution in NHWC on facet's sgemm (bench_conv_nhwc.h), checked once against facet's NCHW
  // results after converting the layouts; its buffers are NHWC (x3, dy3, dx3) and (K,R,S,C) (w3, dw3).
  NhwcConv nhwc(d);
  Buffer x3(in_n), w3(w_n), y3(out_n), dy3(out_n), dx3(in_n), dw3(w_n), db3(l.cout);
  std::string nhwc_fwd_failure, nhwc_bwd_failure;
  {
    NhwcConv::nchw_to_nhwc(x3.data(), x.data(), B, l.cin, l.side, l.side);
    NhwcConv::nchw_to_nhwc(w3.data(), w.data(), l.cout, l.cin, 3, 3);  // (K,C,R,S) -> (K,R,S,C)
    NhwcConv::nchw_to_nhwc(dy3.data(), dy.data(), B, l.cout, l.side, l.side);
    Buffer back_in(in_n), back_out(out_n), back_w(w_n);
    cpu::conv2d_forward(y.data(), x.data(), w.data(), bias.data(), d);
    nhwc.forward(y3.data(), x3.data(), w3.data(), bias.data());
    NhwcConv::nhwc_to_nchw(back_out.data(), y3.data(), B, l.cout, l.side, l.side);
    nhwc_fwd_failure = mismatch("output", back_out.data(), y.data(), out_n);
    for (Buffer* g : {&dx, &dw, &db, &dx3, &dw3, &db3}) g->zero();
    cpu::conv2d_backward(with_dx ? dx.data() : nullptr, dw.data(), db.data(), dy.data(), x.data(), w.data(), d);
    nhwc.backward(with_dx ? dx3.data() : nullptr, dw3.data(), db3.data(), dy3.data(), x3.data(), w3.data());
    NhwcConv::nhwc_to_nchw(back_in.data(), dx3.data(), B, l.cin, l.side, l.side);
    NhwcConv::nhwc_to_nchw(back_w.data(), dw3.data(), l.cout, l.cin, 3, 3);
    for (const std::string& m : {with_dx ? mismatch("dx", back_in.data(), dx.data(), in_n) : std::string(),
                                 mismatch("dw", back_w.data(), dw.data(), w_n),
                                 mismatch("db", db3.data(), db.data(), l.cout)})
      if (nhwc_bwd_failure.empty()) nhwc_bwd_failure = m;
  }

  // Each conv row is timed for the fast batch-parallel kernel, for OpenBLAS's im2col conv (alternating with it)
  // and for the plain im2col+sgemm reference path the fast kernel replaced (impl "reference"), in the same run.
  Row fwd = make_row(tag + " conv fwd", shape, threads, fwd_flops, 4.0 * (in_n + w_n + out_n));
  time_conv_contenders(
      rec, fwd, [&] { cpu::conv2d_forward(y.data(), x.data(), w.data(), bias.data(), d); },
      {{"openblas-im2col",
        obc ? std::function<void()>([&] { obc->forward(y2.data(), x.data(), w.data(), bias.data()); }) : nullptr,
        fwd_failure},
       {"nhwc-im2col", [&] { nhwc.forward(y3.data(), x3.data(), w3.data(), bias.data()); }, nhwc_fwd_failure}});
  fwd.impl = "reference";
  rec.time(fwd, [&] { cpu::conv2d_forward_im2col(y.data(), x.data(), w.data(), bias.data(), d); });
  // The same forward with batchnorm's batch statistics gathered in its epilogue (the training path of the
  // fused cycle): what it costs over the plain forward is the statistics' share, read from cache, not memory.
  {
    Buffer mean(l.cout), rstd(l.cout), rmean(l.cout), rvar(l.cout, 43, 0.5f, 1.5f);
    Row st = make_row(tag + " conv fwd + BN statistics", shape, threads, fwd_flops, 4.0 * (in_n + w_n + out_n));
    rec.time(st, [&] {
      cpu::conv2d_forward_bn_stats(y.data(), mean.data(), rstd.data(), rmean.data(), rvar.data(), x.data(), w.data(),
                                   bias.data(), 0.1f, 1e-5f, d);
    });
  }
  Row bwd = make_row(tag + (with_dx ? " conv bwd (dx,dw,db)" : " conv bwd (dw,db)"), shape, threads,
                     fwd_flops * (with_dx ? 2 : 1), 4.0 * (out_n + in_n + 2 * w_n + (with_dx ? 2 * in_n : 0)));
  time_conv_contenders(
      rec, bwd,
      [&] {
        cpu::conv2d_backward(with_dx ? dx.data() : nullptr, dw.data(), db.data(), dy.data(), x.data(), w.data(),
                             d);
      },
      {{"openblas-im2col",
        obc ? std::function<void()>([&] {
          obc->backward(with_dx ? dx2.data() : nullptr, dw2.data(), db2.data(), dy.data(), x.data(), w.data());
        })
            : nullptr,
        bwd_failure},
       {"nhwc-im2col",
        [&] {
          nhwc.backward(with_dx ? dx3.data() : nullptr, dw3.data(), db3.data(), dy3.data(), x3.data(), w3.data());
        },
        nhwc_bwd_failure}});
  bwd.impl = "reference";
  rec.time(bwd, [&] {
    cpu::conv2d_backward_im2col(with_dx ? dx.data() : nullptr, dw.data(), db.data(), dy.data(), x.data(),
                                   w.data(), d);
  });
}

void pointwise_layer(Recorder& rec, const ConvLayer& l, int size, int B, int threads) {
  const std::string tag = "layer" + std::to_string(l.index) + "@" + std::to_string(size);
  if (!rec.wanted(tag)) return;
  const int C = l.cout, HW = l.side * l.side;
  const int64_t n = int64_t(B) * C * HW;
  const std::string shape = nchw(B, C, l.side, l.side);
  Buffer x(n, 31), y(n, 32), dy(n, 33), dx(n, 34);
  Buffer gamma(C, 35, 0.5f, 1.5f), beta(C, 36), mean(C, 37), rstd(C, 38, 0.5f, 1.5f), rmean(C, 39), rvar(C, 40, 0.5f, 1.5f);
  Buffer dgamma(C, 41), dbeta(C, 42);
  rec.time(make_row(tag + " batchnorm fwd train", shape, threads, 0, 8.0 * n), [&] {
    cpu::batchnorm2d_forward_train(y.data(), mean.data(), rstd.data(), rmean.data(), rvar.data(), x.data(), gamma.data(),
                                   beta.data(), B, C, HW, 0.1f, 1e-5f);
  });
  rec.time(make_row(tag + " batchnorm bwd", shape, threads, 0, 16.0 * n), [&] {
    cpu::batchnorm2d_backward(dx.data(), dgamma.data(), dbeta.data(), dy.data(), x.data(), gamma.data(), mean.data(),
                              rstd.data(), B, C, HW);
  });
  rec.time(make_row(tag + " batchnorm eval", shape, threads, 0, 8.0 * n), [&] {
    cpu::batchnorm2d_forward_eval(y.data(), x.data(), gamma.data(), beta.data(), rmean.data(), rvar.data(), B, C, HW,
                                  1e-5f);
  });
  rec.time(make_row(tag + " leakyrelu fwd", shape, threads, 0, 8.0 * n),
           [&] { cpu::leakyrelu_forward(y.data(), x.data(), n, 0.01f); });
  rec.time(make_row(tag + " leakyrelu bwd", shape, threads, 0, 16.0 * n),
           [&] { cpu::leakyrelu_backward(dx.data(), dy.data(), x.data(), n, 0.01f); });
  if (l.side >= 2) {
    Pool2dDims pd{B, C, l.side, l.side, 2, 2, 0};
    const int64_t pn = int64_t(B) * C * pd.P() * pd.Q();
    std::vector<int32_t> argmax(size_t(pn), 0);
    rec.time(make_row(tag + " maxpool2 fwd", shape, threads, 0, 4.0 * n + 8.0 * pn),
             [&] { cpu::maxpool2d_forward(y.data(), argmax.data(), x.data(), pd); });
    rec.time(make_row(tag + " maxpool2 bwd", shape, threads, 0, 8.0 * pn + 8.0 * n),
             [&] { cpu::maxpool2d_backward(dx.data(), dy.data(), argmax.data(), pd); });
    // The three above fused (kernels/bn_act_pool.h): compulsory bytes = x read twice (statistics, then the
    // windows) + out and argmax written; backward = dout and argmax read, x read twice, dx read and written.
    rec.time(make_row(tag + " bn+leaky+pool fused fwd train", shape, threads, 0, 8.0 * n + 8.0 * pn), [&] {
      cpu::bn_act_pool_forward(y.data(), argmax.data(), mean.data(), rstd.data(), rmean.data(), rvar.data(), x.data(),
                               gamma.data(), beta.data(), true, 0.1f, 1e-5f, 0.01f, pd);
    });
    // With the statistics given (after conv2d_forward_bn_stats): x read once. Eval after folding: the same pass.
    rec.time(make_row(tag + " bn+leaky+pool apply (statistics given)", shape, threads, 0, 4.0 * n + 8.0 * pn), [&] {
      cpu::bn_act_pool_apply(y.data(), argmax.data(), x.data(), mean.data(), rstd.data(), gamma.data(), beta.data(),
                             0.01f, pd);
    });
    rec.time(make_row(tag + " bn+leaky+pool fused bwd", shape, threads, 0, 8.0 * pn + 16.0 * n), [&] {
      cpu::bn_act_pool_backward(dx.data(), dgamma.data(), dbeta.data(), dy.data(), argmax.data(), x.data(),
                                gamma.data(), beta.data(), mean.data(), rstd.data(), 0.01f, pd);
    });
  }
}

void dense_and_heads(Recorder& rec, int size, int B, int threads) {
  const std::vector<ConvLayer> layers = basecnn_layers(size);
  const int side = layers.back().side / 2;
  const int features = layers.back().cout * side * side;
  const std::string tag = "dense@" + std::to_string(size);
  if (!rec.wanted(tag)) return;
  const int dims[][2] = {{features, 256}, {256, 128}};
  for (const auto& io : dims) {
    const int IN = io[0], OUT = io[1];
    Buffer x(int64_t(B) * IN, 51), w(int64_t(OUT) * IN, 52, -0.1f, 0.1f), b(OUT, 53), y(int64_t(B) * OUT, 54);
    Buffer dy(int64_t(B) * OUT, 55), dx(int64_t(B) * IN, 56), dw(int64_t(OUT) * IN, 57), db(OUT, 58);
    const std::string shape = "B=" + std::to_string(B) + " " + std::to_string(IN) + "->" + std::to_string(OUT);
    const double flops = 2.0 * B * IN * OUT;
    const double bytes = 4.0 * (double(B) * IN + double(IN) * OUT + double(B) * OUT);
    rec.time(make_row(tag + " linear fwd", shape, threads, flops, bytes),
             [&] { cpu::linear_forward(y.data(), x.data(), w.data(), b.data(), B, IN, OUT); });
    rec.time(make_row(tag + " linear bwd", shape, threads, 2 * flops, 2 * bytes),
             [&] { cpu::linear_backward(dx.data(), dw.data(), db.data(), dy.data(), x.data(), w.data(), B, IN, OUT); });
    const int64_t n = int64_t(B) * OUT;
    uint64_t offset = 0;
    std::vector<uint8_t> mask(static_cast<size_t>(n));
    rec.time(make_row(tag + " dropout fwd", shape, threads, 0, 9.0 * n),
             [&] { cpu::dropout_forward(dy.data(), mask.data(), y.data(), n, 0.5f, 7, offset += n); });
    rec.time(make_row(tag + " dropout bwd", shape, threads, 0, 13.0 * n),
             [&] { cpu::dropout_backward(y.data(), dy.data(), mask.data(), n, 0.5f); });
  }
  for (int classes : {10, 2, 5}) {
    Buffer logits(int64_t(B) * classes, 61), probs(int64_t(B) * classes, 62), losses(B, 63), dlosses(B, 64);
    Buffer dlogits(int64_t(B) * classes, 65);
    std::vector<int32_t> targets(static_cast<size_t>(B));
    for (int i = 0; i < B; ++i) targets[size_t(i)] = i % classes;
    const std::string shape = "B=" + std::to_string(B) + " C=" + std::to_string(classes);
    rec.time(make_row(tag + " softmax-CE fwd", shape, threads, 0, 8.0 * B * classes), [&] {
      cpu::softmax_cross_entropy_forward(losses.data(), probs.data(), logits.data(), targets.data(), nullptr, B, classes, 0.0f);
    });
    rec.time(make_row(tag + " softmax-CE bwd", shape, threads, 0, 12.0 * B * classes), [&] {
      cpu::softmax_cross_entropy_backward(dlogits.data(), dlosses.data(), probs.data(), targets.data(), nullptr, B,
                                          classes, 0.0f);
    });
  }
}

}  // namespace

void run_kernels(Recorder& rec, int threads) {
  const int B = rec.options().batch;
  for (int size : rec.options().sizes) {
    for (const ConvLayer& l : basecnn_layers(size)) conv_layer(rec, l, size, B, threads);
    for (const ConvLayer& l : basecnn_layers(size)) pointwise_layer(rec, l, size, B, threads);
    dense_and_heads(rec, size, B, threads);
  }
}

}  // namespace facet::bench
