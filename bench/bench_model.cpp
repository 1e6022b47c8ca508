// Whole-model rows: BaseCNN (6 x [conv3x3 -> BN -> LeakyReLU -> maxpool2], dense 256/128 with dropout 0.5,
// heads age 10 / gender 2 / race 5), batch B, at each input side, on the CPU or (--device cuda) on the GPU:
//   train step  = forward (training mode) + loss + backward + Adam update of every parameter (optim/adam.h,
//                 lr 1e-3: the framework's own step, the one the trainer runs)
//   inference   = forward in eval mode without a graph (NoGradGuard)
// Each row also records the process's peak RSS while it ran (bench_util.h reset_peak_rss / peak_rss_mib).
// reported as images/s. Inputs and labels are synthetic and seeded: speed does not depend on the values. On
// the GPU every call ends by waiting for the device, so a sample is the whole step, not the time to queue it.
#include <functional>
#include <string>
#include <vector>

#include "bench/bench_util.h"
#include "models/model.h"
#include "optim/optimizer.h"
#include "tensor/host_cache.h"
#include "tensor/tensor.h"

namespace facet::bench {

void run_model(Recorder& rec, int threads) {
  const int B = rec.options().batch;
  for (int size : rec.options().sizes) {
    const std::string tag = "basecnn@" + std::to_string(size);
    if (!rec.wanted(tag)) continue;
    nlohmann::json config = {{"kind", "basecnn"}, {"channels", 3}, {"size", size}};
    const Device device = parse_device(rec.options().device);
    std::unique_ptr<Model> model = make_model(config, 42);
    model->to(device);
    auto adam = make_optimizer({{"type", "adam"}, {"lr", 1e-3}}, model->parameters());
    Buffer xin(int64_t(B) * 3 * size * size, 71, 0.0f, 1.0f);
    const std::vector<float> pixels(xin.data(), xin.data() + xin.size());
    Tensor x = Tensor::from_vector(pixels, {B, 3, size, size}, device);  // (B, 3, size, size)
    std::vector<std::vector<int32_t>> labels;
    for (const Head& h : model->heads()) {
      std::vector<int32_t> l(static_cast<size_t>(B));
      for (int i = 0; i < B; ++i) l[size_t(i)] = (i * 7 + 3) % h.outputs;
      labels.push_back(l);
    }
    const std::string shape = "B=" + std::to_string(B) + " 3x" + std::to_string(size) + "x" + std::to_string(size);
    // Layer by layer, then batchnorm -> activation -> maxpool fused (kernels/bn_act_pool.h), then the default:
    // the whole conv -> BN -> activation -> pool cycle (BN statistics in the conv's epilogue, BN folded into the
    // conv in eval), so the gain of each fusion is measured in the same run. On the CPU with the fused im2col
    // packers (kernels/cpu/conv2d_pack.h) the default is timed alternating, in rounds, with itself with im2col
    // unrolled into memory, since that difference is within the run-to-run noise of blocks timed one after another.
    using Fusion = Sequential::Fusion;
    auto train_step = [&] {
      adam->zero_grad();
      std::vector<Tensor> out = model->forward(x);
      Tensor loss = model_loss(*model, out, labels, {});
      loss.backward();
      adam->step();
      synchronize(device);
    };
    auto infer_step = [&] {
      NoGradGuard guard;
      std::vector<Tensor> out = model->forward(x);
      synchronize(device);
    };
    auto make = [&](const std::string& kind, const std::string& suffix, const std::string& note) {
      Row r;
      r.section = "model";
      r.name = tag + " " + kind + suffix;
      r.shape = shape;
      r.threads = threads;
      r.items = B;
      r.note = note;
      if (device != Device::CPU) r.impl = device_name(device);
      return r;
    };
    // Each row's own peak: the host cache's free blocks from the rows before are given back first (a training
    // process runs one configuration; glibc gives the peer's freed tensors back to the OS alike).
    auto timed = [&](Row row, const std::function<void()>& step) {
      host_cache_release();
      reset_peak_rss();
      const Samples samples = rec.sample(step, rec.options().repeats);
      row.peak_rss_mib = peak_rss_mib();
      rec.record(row, samples);
    };
    auto peak_of = [&](const std::function<void()>& step) {  // two steps, untimed
      host_cache_release();
      reset_peak_rss();
      step();
      step();
      return peak_rss_mib();
    };
    const bool compare_im2col = device == Device::CPU && cpu::conv_im2col() != cpu::ConvIm2col::memory &&
                                cpu::conv_pack::available();
    for (Fusion fusion : {Fusion::none, Fusion::bn_act_pool, Fusion::conv_bn_act_pool}) {
      model->set_fusion(fusion);
      const bool fused = fusion == Fusion::conv_bn_act_pool;
      const std::string suffix = fusion == Fusion::none ? ", layer by layer" : fused ? "" : ", bn+act+pool fused only";
      const std::string what = fusion == Fusion::none ? ", BN/act/pool unfused"
                               : fused                ? ""
                                                      : ", conv unfused (BN statistics a pass of their own)";
      Row train = make("train step", suffix, "fwd+loss+bwd+Adam" + what);
      Row infer = make("inference", suffix, "eval mode, no graph" + (fused ? std::string(", BN folded into the conv") : what));
      for (int phase = 0; phase < 2; ++phase) {
        model->set_training(phase == 0);
        Row& row = phase == 0 ? train : infer;
        const std::function<void()> step = phase == 0 ? std::function<void()>(train_step) : infer_step;
        if (!(fused && compare_im2col)) {
          timed(row, step);
          continue;
        }
        Row mem = row;
        mem.name += ", im2col in memory";
        mem.note += ", conv's im2col unrolled into memory, not into the GEMM's packing";
        const std::function<void()> mem_step = with_conv_im2col(cpu::ConvIm2col::memory, step);
        mem.peak_rss_mib = peak_of(mem_step);
        row.peak_rss_mib = peak_of(step);
        rec.time_alternating({{mem, mem_step}, {row, step}});
      }
    }
  }
}

}  // namespace facet::bench
