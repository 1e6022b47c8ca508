#include "models/viz.h"

#include <algorithm>
#include <cmath>
#include <stdexcept>

#include "layers/activation.h"
#include "layers/conv2d.h"
#include "tensor/ops.h"

namespace facet {

namespace {

uint8_t to_byte(double v) {
  return uint8_t(std::clamp(std::lround(v * 255.0), 0L, 255L));
}

bool is_activation(Module& m) {
  return dynamic_cast<ReLU*>(&m) || dynamic_cast<LeakyReLU*>(&m);
}

// The trunk layers whose output is 4-D and which are activations, in order.
std::vector<size_t> activation_layers(Model& model) {
  Sequential& trunk = model.trunk();
  std::vector<size_t> out;
  Shape s = model.input_shape(1);
  for (size_t i = 0; i < trunk.size(); ++i) {
    s = trunk[i].output_shape(s);
    if (s.size() == 4 && is_activation(trunk[i])) out.push_back(i);
  }
  if (out.empty())
    throw std::invalid_argument(
        "model " + model.kind() +
        " has no convolutional feature maps (no activation with a "
        "(N, C, H, W) output): feature maps and Grad-CAM need a conv model such as basecnn");
  return out;
}

// One channel (h, w) of a (C, h, w) block as a grey image, min-max scaled.
data::Image channel_image(const float* v, int h, int w) {
  const auto [lo, hi] = std::minmax_element(v, v + size_t(h) * w);
  const double range = double(*hi) - double(*lo);
  data::Image img(w, h, 1);
  for (int i = 0; i < h * w; ++i) img.pixels[size_t(i)] = range > 0 ? to_byte((v[i] - *lo) / range) : 0;
  return img;
}

}  // namespace

data::Image enlarge(const data::Image& in, int factor) {
  factor = std::max(1, factor);
  data::Image out(in.w * factor, in.h * factor, in.c);
  for (int y = 0; y < out.h; ++y)
    for (int x = 0; x < out.w; ++x)
      for (int c = 0; c < in.c; ++c) out.at(y, x, c) = in.at(y / factor, x / factor, c);
  return out;
}

data::Image tile_images(const std::vector<data::Image>& images, int columns, int gap) {
  if (images.empty()) return data::Image(1, 1, 3, 128);
  int cw = 0, ch = 0;
  for (const auto& im : images) cw = std::max(cw, im.w), ch = std::max(ch, im.h);
  const int cols = std::max(1, std::min(columns, int(images.size())));
  const int rows = (int(images.size()) + cols - 1) / cols;
  data::Image out(cols * cw + (cols + 1) * gap, rows * ch + (rows + 1) * gap, 3, 128);
  for (size_t i = 0; i < images.size(); ++i) {
    const int x0 = gap + int(i % size_t(cols)) * (cw + gap), y0 = gap + int(i / size_t(cols)) * (ch + gap);
    const auto& im = images[i];
    for (int y = 0; y < im.h; ++y)
      for (int x = 0; x < im.w; ++x)
        for (int c = 0; c < 3; ++c) out.at(y0 + y, x0 + x, c) = im.at(y, x, im.c >= 3 ? c : 0);
  }
  return out;
}

FaceBatch faces_from_images(const std::vector<data::Image>& decoded, const data::TransformConfig& t) {
  FaceBatch b;
  const size_t per_image = size_t(t.channels) * t.height * t.width;
  std::vector<float> x(decoded.size() * per_image);  // (N, C, H, W)
  for (size_t i = 0; i < decoded.size(); ++i) {
    const data::Image prepared = data::prepare(decoded[i], t);
    data::finish(prepared, t, false, 0, x.data() + i * per_image);
    b.views.push_back(data::center_crop(prepared, t.width, t.height));
  }
  b.x = Tensor::from_vector(x, {int64_t(decoded.size()), t.channels, t.height, t.width});
  return b;
}

FaceBatch load_faces(const std::vector<std::string>& files, const data::TransformConfig& t) {
  std::vector<data::Image> decoded;
  for (const auto& f : files) {
    data::Image img;
    std::string error;
    if (!data::load_image(f, t.channels, img, error)) throw std::runtime_error(error);
    decoded.push_back(std::move(img));
  }
  return faces_from_images(decoded, t);
}

data::Image filter_grid(Model& model, int cell) {
  Sequential& trunk = model.trunk();
  Conv2d* conv = nullptr;
  for (size_t i = 0; i < trunk.size() && !conv; ++i) conv = dynamic_cast<Conv2d*>(&trunk[i]);
  if (!conv) throw std::invalid_argument("model " + model.kind() + " has no conv layer: no filters to draw");
  const Shape& ws = conv->weight.shape();  // (Cout, Cin, k, k)
  const int out = int(ws[0]), in = int(ws[1]), k = int(ws[2]);
  const std::vector<float> w = conv->weight.to_vector();
  const int factor = std::max(1, cell / k);
  std::vector<data::Image> tiles;
  for (int o = 0; o < out; ++o) {
    const float* f = w.data() + size_t(o) * in * k * k;  // (Cin, k, k)
    float m = 0;
    for (int i = 0; i < in * k * k; ++i) m = std::max(m, std::abs(f[i]));
    data::Image t(k, k, 3);
    for (int y = 0; y < k; ++y)
      for (int x = 0; x < k; ++x)
        for (int c = 0; c < 3; ++c) {
          double v = 0;
          if (in == 3)
            v = f[(c * k + y) * k + x];
          else
            for (int i = 0; i < in; ++i) v += f[(i * k + y) * k + x] / in;
          t.at(y, x, c) = to_byte(m > 0 ? 0.5 + 0.5 * v / m : 0.5);
        }
    tiles.push_back(enlarge(t, factor));
  }
  return tile_images(tiles, int(std::ceil(std::sqrt(double(out)))), 3);
}

std::vector<FeatureMap> feature_maps(Model& model, const Tensor& x, int cell) {
  const std::vector<size_t> acts = activation_layers(model);
  NoGradGuard no_grad;
  model.set_training(false);
  Sequential& trunk = model.trunk();
  std::vector<FeatureMap> maps;
  Tensor h = x;
  for (size_t i = 0; i <= acts.back(); ++i) {
    h = trunk[i].forward(h);
    if (std::find(acts.begin(), acts.end(), i) == acts.end()) continue;
    const Shape s = h.shape();  // (1, C, H, W)
    const int C = int(s[1]), H = int(s[2]), W = int(s[3]);
    const std::vector<float> v = h.to_vector();
    std::vector<data::Image> tiles;
    const int factor = std::max(1, cell / std::max(H, W));
    for (int c = 0; c < C; ++c)
      tiles.push_back(enlarge(channel_image(v.data() + size_t(c) * H * W, H, W), factor));
    maps.push_back({trunk.name(i), s, tile_images(tiles, int(std::ceil(std::sqrt(double(C)))), 2)});
  }
  return maps;
}

GradCam grad_cam(Model& model, const Tensor& x, int head, int cls) {
  const auto& heads = model.heads();
  if (head < 0 || head >= int(heads.size()))
    throw std::invalid_argument("grad_cam: head " + std::to_string(head) + " of " +
                                std::to_string(heads.size()));
  if (cls >= heads[size_t(head)].outputs)
    throw std::invalid_argument("grad_cam: class " + std::to_string(cls) + " of head '" +
                                heads[size_t(head)].name + "', which has " +
                                std::to_string(heads[size_t(head)].outputs) + " (0.." +
                                std::to_string(heads[size_t(head)].outputs - 1) + ")");
  const size_t at = activation_layers(model).back();
  model.set_training(false);
  Sequential& trunk = model.trunk();
  Tensor a;  // (N, C, h, w): the feature maps, a leaf
  {
    NoGradGuard no_grad;
    Tensor h = x;
    for (size_t i = 0; i <= at; ++i) h = trunk[i].forward(h);
    a = h.clone();
  }
  a.set_requires_grad(true);
  Tensor t = a;
  for (size_t i = at + 1; i < trunk.size(); ++i) t = trunk[i].forward(t);
  Tensor out;  // (N, K): the head's pre-softmax outputs
  Sequential& hl = model.head_layers();
  if (hl.size() == heads.size()) {
    out = hl[size_t(head)].forward(t);
  } else {  // heads are consecutive columns of the trunk's output (fcn2hot, tuple)
    int offset = 0;
    for (int k = 0; k < head; ++k) offset += heads[size_t(k)].outputs;
    out = slice_columns(t, offset, heads[size_t(head)].outputs);
  }
  const int N = int(out.size(0)), K = int(out.size(1));
  const std::vector<float> logits = out.to_vector();
  const std::vector<float> probs = softmax(out.detach()).to_vector();
  GradCam g;
  g.layer = trunk.name(at);
  std::vector<float> onehot(size_t(N) * K, 0.0f);  // (N, K): picks score_n = out[n, cls_n]
  for (int n = 0; n < N; ++n) {
    int c = cls;
    if (c < 0)
      c = int(std::max_element(logits.begin() + n * K, logits.begin() + (n + 1) * K) -
              (logits.begin() + n * K));
    onehot[size_t(n) * K + c] = 1.0f;
    g.cls.push_back(c);
    g.prob.push_back(probs[size_t(n) * K + c]);
  }
  sum(mul(out, Tensor::from_vector(onehot, out.shape(), out.device()))).backward();
  const std::vector<float> av = a.to_vector(), gv = a.grad().to_vector();
  const int C = int(a.size(1));
  g.h = int(a.size(2)), g.w = int(a.size(3));
  const size_t hw = size_t(g.h) * g.w;
  for (int n = 0; n < N; ++n) {
    std::vector<float> cam(hw, 0.0f);
    for (int c = 0; c < C; ++c) {
      const size_t base = (size_t(n) * C + c) * hw;
      double alpha = 0;
      for (size_t i = 0; i < hw; ++i) alpha += gv[base + i];
      alpha /= double(hw);
      for (size_t i = 0; i < hw; ++i) cam[i] += float(alpha * av[base + i]);
    }
    float m = 0;
    for (float& v : cam) v = std::max(v, 0.0f), m = std::max(m, v);
    if (m > 0)
      for (float& v : cam) v /= m;
    g.cam.push_back(std::move(cam));
  }
  return g;
}

uint32_t heat_color(float v) {
  // Piecewise linear through blue, cyan, green, yellow, red at v = 0, .25, .5, .75, 1.
  static const double stops[5][3] = {{0, 0, 255}, {0, 255, 255}, {0, 255, 0}, {255, 255, 0}, {255, 0, 0}};
  const double t = std::clamp(double(v), 0.0, 1.0) * 4;
  const int i = std::min(3, int(t));
  const double f = t - i;
  uint32_t c = 0;
  for (int k = 0; k < 3; ++k)
    c = c << 8 | uint32_t(std::lround(stops[i][k] + f * (stops[i + 1][k] - stops[i][k])));
  return c;
}

data::Image overlay_cam(const data::Image& face, const std::vector<float>& cam, int h, int w, float alpha) {
  data::Image out(face.w, face.h, 3);
  for (int y = 0; y < face.h; ++y)
    for (int x = 0; x < face.w; ++x) {
      // Bilinear sample at the pixel centre, in cam coordinates (cell centres at i + 0.5).
      const double cy = std::clamp((y + 0.5) * h / face.h - 0.5, 0.0, h - 1.0);
      const double cx = std::clamp((x + 0.5) * w / face.w - 0.5, 0.0, w - 1.0);
      const int y0 = int(cy), x0 = int(cx), y1 = std::min(y0 + 1, h - 1), x1 = std::min(x0 + 1, w - 1);
      const double fy = cy - y0, fx = cx - x0;
      const double v = (1 - fy) * ((1 - fx) * cam[size_t(y0 * w + x0)] + fx * cam[size_t(y0 * w + x1)]) +
                       fy * ((1 - fx) * cam[size_t(y1 * w + x0)] + fx * cam[size_t(y1 * w + x1)]);
      const uint32_t hc = heat_color(float(v));
      for (int c = 0; c < 3; ++c) {
        const double base = face.at(y, x, face.c >= 3 ? c : 0), heat = (hc >> (16 - 8 * c)) & 255;
        out.at(y, x, c) = uint8_t(std::lround((1 - alpha) * base + alpha * heat));
      }
    }
  return out;
}

}  // namespace facet
