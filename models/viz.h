// Pictures of what a network sees (`facet viz`): the first layer's filters, the feature maps of every conv
// cycle, and Grad-CAM heat maps. Pure functions of a model and input tensors that return images; the command
// line (apps/cmd_viz.cpp) decodes faces and writes the PNGs.
#pragma once
#include <string>
#include <vector>

#include "data/image_io.h"
#include "data/transforms.h"
#include "models/model.h"

namespace facet {

// The first Conv2d's filters (Cout, Cin, k, k) as a grid of tiles, each filter scaled up to about `cell`
// pixels (nearest neighbour) and shown symmetrically: 0 is mid-grey, each filter's largest |w| is black or
// white. A 3-channel filter is drawn in colour (its channels as R, G, B: the network's input space, YCbCr
// when the transform converts), a 1-channel one in grey, more channels as their mean. Throws when the model
// has no conv.
data::Image filter_grid(Model& model, int cell = 32);

struct FeatureMap {
  std::string layer;  // "act1": the activation that ends a conv cycle
  Shape shape;        // (1, C, H, W)
  data::Image grid;   // every channel, min-max scaled on its own (a constant channel is black), side by side
};
// One image x (1, C, H, W) through the trunk in eval mode, layer by layer: the output of every activation
// layer with a 4-D output (the end of each conv -> batchnorm -> activation cycle, before its pooling). Throws
// when the model has none (an MLP).
std::vector<FeatureMap> feature_maps(Model& model, const Tensor& x, int cell = 48);

// Grad-CAM (Selvaraju et al. 2017) at the last activation with a 4-D output, A (N, C, h, w):
//   alpha[n, c] = mean over (y, x) of d score_n / d A[n, c, y, x],   cam[n] = ReLU(sum_c alpha[n, c] A[n, c])
// where score_n is the pre-softmax output of class `cls` of head `head` for face n (cls < 0: each face's
// predicted class). The model runs in eval mode; A is a leaf, so gradients flow only through the layers after
// it. Each map is scaled to [0, 1] by its maximum (an all-zero map stays zero).
struct GradCam {
  std::string layer;                    // where A was taken
  int h = 0, w = 0;                     // A's spatial size
  std::vector<std::vector<float>> cam;  // [n] (h, w) in [0, 1]
  std::vector<int> cls;                 // [n] the class each map explains
  std::vector<float> prob;              // [n] that class's softmax probability (classification heads)
};
GradCam grad_cam(Model& model, const Tensor& x, int head, int cls);

// The face with the heat map laid over it: cam (h, w) upsampled bilinearly to the face's size, coloured from
// blue (0) through green and yellow to red (1), blended at `alpha`.
data::Image overlay_cam(const data::Image& face, const std::vector<float>& cam, int h, int w,
                        float alpha = 0.5f);
uint32_t heat_color(float v);  // 0xRRGGBB for v in [0, 1]

// Faces ready for the network, with the pixels it sees (for overlays).
struct FaceBatch {
  Tensor x;                        // (N, C, H, W), through the transform's finish() (no augmentation)
  std::vector<data::Image> views;  // [N] the prepared image centre-cropped to the network input, 8-bit
};
FaceBatch faces_from_images(const std::vector<data::Image>& decoded, const data::TransformConfig& t);
// Decodes the files (throws naming a file that cannot be read or decoded).
FaceBatch load_faces(const std::vector<std::string>& files, const data::TransformConfig& t);

// Nearest-neighbour enlargement by an integer factor (>= 1).
data::Image enlarge(const data::Image& in, int factor);

// Images side by side with `gap` pixels between them (grey background), for a row of faces or maps.
data::Image tile_images(const std::vector<data::Image>& images, int columns, int gap = 4);

}  // namespace facet
