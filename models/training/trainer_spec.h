// Everything that defines a training run, as plain fields with a JSON form. `facet train` fills one from its
// flags, writes it to <run>/config.json, and `--resume` reads it back, so a run directory alone is enough to
// continue (or repeat) the run.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace facet {

struct DataSpec {
  std::string path;                     // UTKFace folder, Adience folder (fold files) or UTKFace CSV file
  std::string format = "auto";          // auto | utkface | adience | csv
  std::string labels = "groups10+gender+race";  // a label scheme (data/labels.h)
  std::string duplicates = "drop-conflicts";
  std::string adience_images;           // Adience: root holding aligned/ (default: `path`)
  std::string split_file;               // read this split instead of making one
  double val = 0.1, test = 0.1;         // fractions of a stratified split
  int fold = -1;                        // Adience protocol: test on this fold (0-4), train on the others
  bool subject_exclusive = false;       // keep each identity on one side of the split
  int max_per_class = 0;                // before splitting: keep at most this many faces of each class of the
                                        // first head (seeded), e.g. study D's 5,000 female + 5,000 male; 0 = all
  std::string balance = "none";         // training split only: undersample:<task>:<class>:<keep> | smallest:<task>
                                        // | weighted:<task> | none
  int limit = 0;                        // use only this many training faces (seeded; quick checks), 0 = all
  // Network input.
  int size = 64;                        // side of the square input
  int channels = 3;                     // 1 gray, 3 colour
  int resize = 0;                       // side the decoded face is resized to before cropping (0 = size)
  bool random_crop = false;             // training: crop `size` at a random place of the `resize` image
  bool flip = false;                    // training: random horizontal flips
  bool equalize = false;                // histogram equalization (study E)
  bool ycbcr = false;                   // RGB -> YCbCr (study E)
  std::string scale = "unit";           // unit | minmax | raw
  bool normalize = true;                // per-channel mean/std of the training split
  int workers = 2;                      // loader threads
};

struct OptimSpec {
  std::string optimizer = "adam";  // sgd | adam | adamw
  float lr = 1e-3f;
  float momentum = 0.9f;           // sgd
  bool nesterov = false;           // sgd
  float weight_decay = 0.0f;       // L2 (sgd, adam) or decoupled (adamw)
  std::string schedule = "constant";  // constant | step | cosine (per epoch)
  int step_size = 10;              // step: epochs between decays
  float gamma = 0.1f;              // step: decay factor
  float min_lr = 0.0f;             // cosine: final learning rate
  int warmup = 0;                  // epochs of linear warmup
  float max_norm = 0.0f;           // max-norm constraint on weights after every step (0: off)
  float clip = 0.0f;               // clip the global gradient norm (0: off)
  float label_smoothing = 0.0f;
};

struct RunSpec {
  int epochs = 20;
  int batch = 64;
  uint64_t seed = 1;               // model init, data order, augmentation, dropout, split
  int patience = 0;                // early stopping: epochs without a better validation score (0: off)
  std::string best_metric = "mean";  // what picks the best epoch: mean (mean validation accuracy over heads),
                                     // loss (validation loss), or a head name (its validation accuracy)
  bool tta = false;                // evaluation: average the outputs of the image and its mirror image
  int threads = 0;                 // OpenMP threads for the kernels (0: the default)
  std::string device = "cpu";      // cpu | cuda: where the model, its batches and the optimizer state live
  std::string out;                 // run directory
  bool test = true;                // evaluate the best checkpoint on the test split at the end
  int checkpoint_every = 0;        // also rewrite last.ckpt every this many optimizer steps, with the loader's
                                   // position in the epoch (0: only after each epoch)
};

struct TrainSpec {
  DataSpec data;
  nlohmann::json model;  // model config for make_model ({"kind": "basecnn", ...}); channels/size/heads filled in
  OptimSpec optim;
  RunSpec run;
};

nlohmann::json to_json(const TrainSpec& s);
TrainSpec train_spec_from_json(const nlohmann::json& j);  // fields left out keep their defaults

}  // namespace facet
