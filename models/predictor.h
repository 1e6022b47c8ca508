// facet::Predictor: the stable inference API, installed as <facet/predictor.h> (docs/api.md).
//
// A Predictor loads a checkpoint written by `facet train` (best.ckpt or last.ckpt; several make an ensemble,
// the mean of the members' outputs), and predicts every attribute head for 8-bit images: a buffer (gray or
// RGB, any row stride) or an image file. This header uses only the standard library; the network, tensors and
// decoders stay behind the pimpl, so they can change without breaking code that links facet::facet.
//
// Errors: every failure throws. std::invalid_argument for a bad argument (null pixels, a size <= 0, a channel
// count other than 1 or 3, a stride shorter than a row, an unknown device); std::runtime_error for a
// checkpoint or image file that cannot be read or used (the message names the file and says what to do).
//
// Threads: one Predictor may be shared by threads; its predict calls run one at a time (an internal mutex),
// and each call uses the OpenMP threads of the process (omp_set_num_threads / OMP_NUM_THREADS). Separate
// Predictors hold separate models and may predict at the same time.
#pragma once
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace facet {

struct PredictorOptions {
  std::string device = "cpu";  // "cpu", or "cuda" where this build has a GPU backend and a GPU is present
  bool tta = false;            // also run each image mirrored and average the outputs (test-time flip)
  // A head whose winning probability is below this is reported as undefined (class -1): a rejection rule.
  float min_confidence = 0;
  std::string model_kind;  // refuse a checkpoint unless it holds this model ("basecnn", ...); empty: any
};

// An 8-bit image in memory: row y starts at pixels + y * stride; pixels are interleaved (gray, or R, G, B).
struct ImageView {
  const uint8_t* pixels = nullptr;
  int width = 0, height = 0;
  int channels = 3;   // 1 (gray) or 3 (RGB); converted to what the model reads (BT.601 luma for gray)
  size_t stride = 0;  // bytes from one row to the next; 0 means width * channels (packed rows)
};

// One attribute head's answer for one image.
struct HeadPrediction {
  std::string name;       // "age", "gender", "race", ...
  int class_index = -1;   // -1: undefined (below min_confidence, or the model's own reject rule)
  std::string label;      // the class's name in the model's label scheme, or "undefined"
  float probability = 0;  // the probability (confidence) of the winning class, even when undefined
  // The softmax over the head's classes (index = class). Empty for a head that is not a softmax over its
  // classes (the tuple model's regression outputs).
  std::vector<float> probabilities;
};

struct ImagePrediction {
  std::vector<HeadPrediction> heads;  // in the order of ModelInfo::heads
};

struct ModelInfo {
  std::string kind;                // "basecnn", "levihassner", "fcn2hot", "tuple"
  int members = 1;                 // checkpoints in the ensemble
  int width = 0, height = 0;       // the network's input size (images are resized and centre-cropped to it)
  int channels = 3;                // 1 or 3: what the network reads
  std::vector<std::string> heads;  // attribute names, in prediction order
  std::vector<std::vector<std::string>> labels;  // [head][class]: the class names
};

class Predictor {
 public:
  // Loads the checkpoint (or every checkpoint of an ensemble, which must share heads, labels and channels).
  explicit Predictor(const std::string& checkpoint, const PredictorOptions& options = {});
  explicit Predictor(const std::vector<std::string>& checkpoints, const PredictorOptions& options = {});
  ~Predictor();
  Predictor(Predictor&&) noexcept;
  Predictor& operator=(Predictor&&) noexcept;
  Predictor(const Predictor&) = delete;
  Predictor& operator=(const Predictor&) = delete;

  const ModelInfo& info() const;
  ImagePrediction predict(const ImageView& image) const;
  ImagePrediction predict(const uint8_t* pixels, int width, int height, int channels,
                          size_t stride = 0) const;
  // Decodes a JPEG, PNG, BMP, GIF (first frame), TGA or PNM file and predicts it.
  ImagePrediction predict_file(const std::string& path) const;
  // Several images in one forward pass (faster than one call each); results in the order of `images`.
  std::vector<ImagePrediction> predict_batch(const std::vector<ImageView>& images) const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
  friend struct PredictorAccess;  // facet's own CLI reads the label scheme (models/predictor_access.h)
};

}  // namespace facet
