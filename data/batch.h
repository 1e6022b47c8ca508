// One mini-batch as plain vectors: what the loader hands to the trainer, which wraps it in Tensors.
// data/ knows nothing of tensor/ (see docs/architecture.md); this header is the whole contract between them.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

namespace facet::data {

struct Batch {
  std::vector<float> images;                  // (N, C, H, W), row-major, ready for the network
  int n = 0, c = 0, h = 0, w = 0;             // n can be below the batch size: last batch, or undecodable images
  std::vector<std::vector<int32_t>> labels;   // [task][N] class index per task of the label scheme, -1 = no label
  std::vector<float> targets;                 // (N, target_dim) float targets (2-hot, tuple), empty when none
  int target_dim = 0;
  std::vector<std::string> names;             // [N] sample names (file names), for predictions and reports
  std::vector<int64_t> indices;               // [N] index of each sample in the loader's Dataset
};

}  // namespace facet::data
