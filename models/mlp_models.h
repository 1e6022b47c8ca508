// Study E's fully connected models on the flattened, preprocessed image (histogram equalisation, YCbCr,
// min-max scaling are data transforms):
//  - FCN2Hot: hidden layers (default 64-32-32-16-16) with ReLU, dropout 0.8 after the first hidden layer and
//    0.5 after the others, one 10-way output read as 8 age groups + 2 genders: two softmax cross-entropies
//    over the two slices. predict() applies interpret_2hot (invalid or unsure patterns are undefined).
//  - TupleModel: hidden 32-32-16-16-10 with ReLU, output 2 = (age class, gender) regressed with MSE;
//    predict() applies interpret_tuple.
#pragma once
#include "models/model.h"

namespace facet {

class FCN2Hot : public Model {
 public:
  FCN2Hot(const nlohmann::json& config, uint64_t seed);
  std::string kind() const override { return "fcn2hot"; }
  std::vector<Tensor> forward(const Tensor& x) override;
  Prediction predict(const std::vector<Tensor>& outputs) const override;

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

 private:
  int age_classes_;
  float margin_;
};

}  // namespace facet
