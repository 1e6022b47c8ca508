#include "models/explain.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <stdexcept>

#include "layers/activation.h"
#include "layers/batchnorm2d.h"
#include "layers/conv2d.h"
#include "layers/dropout.h"
#include "layers/linear.h"
#include "layers/maxpool2d.h"
#include "tensor/ops.h"
#include "tensor/rng.h"

namespace facet {

static double numel(const Shape& s) {
  double n = 1;
  for (int64_t d : s) n *= double(d);
  return n;
}

double layer_flops(Module& layer, const Shape& in, bool training) {
  const Shape out = layer.output_shape(in);
  const double n_out = numel(out), n_in = numel(in);
  if (auto* c = dynamic_cast<Conv2d*>(&layer)) {
    const Shape& w = c->weight.shape();                                    // (Cout, Cin, k, k)
    const double per_output = double(w[1]) * double(w[2]) * double(w[3]);  // Cin k^2 multiply-adds
    return 2.0 * n_out * per_output + (c->bias.defined() ? n_out : 0.0);
  }
  if (auto* l = dynamic_cast<Linear*>(&layer)) {
    const Shape& w = l->weight.shape();  // (out, in)
    return 2.0 * n_out * double(w[1]) + (l->bias.defined() ? n_out : 0.0);
  }
  if (dynamic_cast<BatchNorm2d*>(&layer)) return (training ? 8.0 : 2.0) * n_in;
  if (dynamic_cast<ReLU*>(&layer) || dynamic_cast<LeakyReLU*>(&layer)) return n_in;
  if (auto* p = dynamic_cast<MaxPool2d*>(&layer)) return n_out * double(p->kernel() * p->kernel() - 1);
  if (dynamic_cast<Dropout*>(&layer)) return training ? n_in : 0.0;
  return 0.0;  // flatten and other views
}

namespace {

using Clock = std::chrono::steady_clock;

double ms_since(Clock::time_point t0) {
  return std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v.empty() ? -1 : v[v.size() / 2];
}

Tensor random_tensor(const Shape& shape, Rng& rng, Device device) {
  std::vector<float> v(size_t(numel(shape)));
  for (float& x : v) x = rng.normal();
  return Tensor::from_vector(v, shape, device);
}

// The backward pass needs a scalar: loss = sum(out * g) with a fixed random g seeds d(loss)/d(out) = g. Its
// own backward (the mul and sum) is timed on a leaf of the output's shape and subtracted from the layer's.
struct Timing {
  double forward = 0, backward = 0;
};

Timing time_layer(Module& layer, const Shape& in, const ExplainOptions& o, Rng& rng, Device device) {
  const Shape out_shape = layer.output_shape(in);
  const Tensor g = random_tensor(out_shape, rng, device);
  std::vector<double> fwd, bwd, seed;
  for (int r = 0; r <= o.repeats; ++r) {  // r == 0: warm-up, not kept
    Tensor x = random_tensor(in, rng, device);
    x.set_requires_grad(true);
    auto t0 = Clock::now();
    Tensor y = layer.forward(x);
    const double f = ms_since(t0);
    Tensor loss = sum(mul(y, g));
    t0 = Clock::now();
    loss.backward();
    const double b = ms_since(t0);
    Tensor leaf = random_tensor(out_shape, rng, device);
    leaf.set_requires_grad(true);
    Tensor seed_loss = sum(mul(leaf, g));
    t0 = Clock::now();
    seed_loss.backward();
    const double s = ms_since(t0);
    if (r == 0) continue;
    fwd.push_back(f), bwd.push_back(b), seed.push_back(s);
  }
  return {median(fwd), std::max(0.0, median(bwd) - median(seed))};
}

LayerCost cost_of(Module& layer, const std::string& name, const Shape& in, const ExplainOptions& o, Rng& rng,
                  Device device) {
  LayerCost c;
  c.name = name;
  c.layer = layer.describe();
  c.output = layer.output_shape(in);
  c.parameters = layer.parameter_count();
  c.flops = layer_flops(layer, in, o.training);
  c.activation_bytes = 4.0 * numel(c.output);
  if (o.time) {
    const Timing t = time_layer(layer, in, o, rng, device);
    c.forward_ms = t.forward, c.backward_ms = t.backward;
  }
  return c;
}

}  // namespace

std::vector<LayerCost> explain_model(Model& model, const ExplainOptions& o) {
  if (o.batch < 1)
    throw std::invalid_argument("explain: --batch " + std::to_string(o.batch) + " must be at least 1");
  std::vector<LayerCost> rows;
  Rng rng(1234);
  const Device device = model.device();
  model.set_training(o.training);
  Shape shape = model.input_shape(o.batch);  // (N, C, H, W)
  Sequential& trunk = model.trunk();
  for (size_t i = 0; i < trunk.size(); ++i) {
    rows.push_back(cost_of(trunk[i], trunk.name(i), shape, o, rng, device));
    shape = rows.back().output;
  }
  Sequential& heads = model.head_layers();
  for (size_t h = 0; h < heads.size(); ++h) {  // every head reads the trunk's features
    rows.push_back(cost_of(heads[h], heads.name(h), shape, o, rng, device));
    rows.back().layer += " (head)";
  }
  model.set_training(false);
  return rows;
}

namespace {

std::string human(double v, const char* unit) {  // 1234567 -> "1.23 M"
  const char* prefix[] = {"", "k", "M", "G", "T"};
  int p = 0;
  while (std::abs(v) >= 1000 && p < 4) v /= 1000, ++p;
  char b[48];
  std::snprintf(b, sizeof b, p == 0 ? "%.0f %s%s" : "%.2f %s%s", v, prefix[p], unit);
  return b;
}

std::string bytes(double v) {  // binary units: 1 MiB = 2^20 bytes
  const char* prefix[] = {"B", "KiB", "MiB", "GiB"};
  int p = 0;
  while (v >= 1024 && p < 3) v /= 1024, ++p;
  char b[48];
  std::snprintf(b, sizeof b, p == 0 ? "%.0f %s" : "%.2f %s", v, prefix[p]);
  return b;
}

struct Totals {
  int64_t parameters = 0;
  double flops = 0, bytes = 0, forward_ms = 0, backward_ms = 0;
};

Totals totals_of(const std::vector<LayerCost>& rows) {
  Totals t;
  for (const auto& r : rows) {
    t.parameters += r.parameters, t.flops += r.flops, t.bytes += r.activation_bytes;
    t.forward_ms += std::max(0.0, r.forward_ms), t.backward_ms += std::max(0.0, r.backward_ms);
  }
  return t;
}

double share(double part, double whole) {
  return whole > 0 ? 100.0 * part / whole : 0.0;
}

const char* kConvention =
    "FLOPs: forward, whole batch, a multiply-add counts 2 (conv 2*N*Cout*Ho*Wo*Cin*k*k + bias adds); "
    "activation memory: each layer's float32 output for the batch";

}  // namespace

std::string explain_text(const std::vector<LayerCost>& rows, const ExplainOptions& o,
                         const std::string& title) {
  const Totals t = totals_of(rows);
  std::string s = title + "\n" + kConvention + "\n";
  char line[320];
  std::snprintf(line, sizeof line, "%-9s %-30s %-18s %10s %12s %6s %11s", "layer", "what", "output", "params",
                "FLOPs", "share", "act. mem");
  s += line;
  if (o.time) s += "    fwd ms    bwd ms  time share";
  s += "\n";
  for (const auto& r : rows) {
    std::snprintf(line, sizeof line, "%-9s %-30s %-18s %10lld %12s %5.1f%% %11s", r.name.c_str(),
                  r.layer.c_str(), shape_str(r.output).c_str(), (long long)r.parameters,
                  human(r.flops, "").c_str(), share(r.flops, t.flops), bytes(r.activation_bytes).c_str());
    s += line;
    if (o.time) {
      std::snprintf(line, sizeof line, " %9.3f %9.3f %10.1f%%", r.forward_ms, r.backward_ms,
                    share(r.forward_ms + r.backward_ms, t.forward_ms + t.backward_ms));
      s += line;
    }
    s += "\n";
  }
  std::snprintf(line, sizeof line, "%-9s %-30s %-18s %10lld %12s %5.1f%% %11s", "total", "", "",
                (long long)t.parameters, human(t.flops, "").c_str(), 100.0, bytes(t.bytes).c_str());
  s += line;
  if (o.time) {
    std::snprintf(line, sizeof line, " %9.3f %9.3f %10.1f%%", t.forward_ms, t.backward_ms, 100.0);
    s += line;
  }
  s += "\n";
  std::snprintf(line, sizeof line, "batch %d, %s mode; %s per image forward\n", o.batch,
                o.training ? "training" : "eval", human(t.flops / o.batch, "FLOPs").c_str());
  s += line;
  if (o.time)
    s += "times: median of " + std::to_string(o.repeats) +
         " runs per layer on its own (unfused, this machine); backward excludes the seed op sum(out * g)\n";
  return s;
}

nlohmann::json explain_json(const std::vector<LayerCost>& rows, const ExplainOptions& o,
                            const std::string& title) {
  const Totals t = totals_of(rows);
  nlohmann::json layers = nlohmann::json::array();
  for (const auto& r : rows) {
    nlohmann::json j = {{"name", r.name},
                        {"layer", r.layer},
                        {"output", r.output},
                        {"parameters", r.parameters},
                        {"flops", r.flops},
                        {"flops_share", share(r.flops, t.flops) / 100.0},
                        {"activation_bytes", r.activation_bytes}};
    if (o.time) {
      j["forward_ms"] = r.forward_ms;
      j["backward_ms"] = r.backward_ms;
      j["time_share"] = share(r.forward_ms + r.backward_ms, t.forward_ms + t.backward_ms) / 100.0;
    }
    layers.push_back(j);
  }
  nlohmann::json total = {{"parameters", t.parameters}, {"flops", t.flops}, {"activation_bytes", t.bytes}};
  if (o.time) total["forward_ms"] = t.forward_ms, total["backward_ms"] = t.backward_ms;
  return {{"title", title},
          {"batch", o.batch},
          {"mode", o.training ? "training" : "eval"},
          {"convention", kConvention},
          {"layers", layers},
          {"total", total}};
}

}  // namespace facet
