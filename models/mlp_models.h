// Study E's fully connected models on the flattened, preprocessed image (histogram equalisation, YCbCr,
// min-max scaling are data transforms):
//  - FCN2Hot: hidden layers (default 64-32-32-16-16) with ReLU, dropout after each hidden layer, one 10-way
//    output read as 8 age groups + 2 genders: two softmax cross-entropies over the two slices. Dropout values
//    are DROP probabilities (PyTorch's convention): the defaults 0.2 on the first hidden layer and 0.5 after are
//    the study's TFLearn `dropout(x, 0.8)` and `dropout(x, 0.5)`, whose argument is the KEEP probability.
//    predict() applies interpret_2hot: each slice by its argmax, with the reject rule ("threshold") per slice.
//  - TupleModel: hidden 32-32-16-16-10 with ReLU, output 2 = (age class, gender) regressed with MSE (not the
//    cross-entropy the study names: two scalars that stand for class indices are no probability distribution,
//    so cross-entropy has nothing to compare). predict() reads each value by "read": "round" (interpret_tuple,
//    facet's) or "calibrated" (read_calibrated on per-class ranges measured on the training faces after
//    training, stored in the config as "calibration"; the study's). A calibrated model without ranges yet
//    (validation during training) reads by rounding.
#pragma once
#include "models/interpret.h"
#include "models/model.h"

namespace facet {

// The share of a class's training outputs its calibrated range covers: the central 90% (5th to 95th percentile),
// so a few outliers of a class do not stretch its range over its neighbours'.
inline constexpr float kCalibrationShare = 0.9f;

class FCN2Hot : public Model {
 public:
  FCN2Hot(const nlohmann::json& config, uint64_t seed);
  std::string kind() const override { return "fcn2hot"; }
  std::vector<Tensor> forward(const Tensor& x) override;
  Prediction predict(const std::vector<Tensor>& outputs) const override;
  void set_reading(const nlohmann::json& reading) override;

 private:
  int age_classes_;
  float threshold_;
};

class TupleModel : public Model {
 public:
  TupleModel(const nlohmann::json& config, uint64_t seed);
  std::string kind() const override { return "tuple"; }
  std::vector<Tensor> forward(const Tensor& x) override;
  Prediction predict(const std::vector<Tensor>& outputs) const override;
  std::vector<Attribute> attributes() const override;
  void set_reading(const nlohmann::json& reading) override;
  // Measures the per-class ranges on the training faces: outputs (N, 2) of the model in eval mode, labels[0] the
  // age classes and labels[1] the genders of the same faces. Stores them in the config ("calibration").
  void calibrate(const std::vector<float>& outputs, const std::vector<std::vector<int32_t>>& labels);
  bool calibrated() const { return !ranges_[0].empty(); }

 private:
  int age_classes_;
  float margin_;
  std::string read_;                       // "round" or "calibrated"
  std::vector<ClassRange> ranges_[2];      // [age, gender][class]; empty until calibrated
};

}  // namespace facet
