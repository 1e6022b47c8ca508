// The loader: mini-batches of (N, C, H, W) floats plus labels, decoded and transformed on worker threads ahead
// of the training step.
//
// Per epoch the loader fixes an order of sample indices (a seeded permutation, the identity, or a weighted draw
// with replacement), cuts it into batches, and worker threads build batch b, b+1, ... up to `prefetch` batches
// ahead of the one the trainer is reading (a bounded queue: memory stays at prefetch batches). Each batch is
// assembled by position, and every random choice of sample i at position p of epoch e comes from
// derive_seed(seed, e, p), so the batches are identical for any number of workers.
// With `cache` on, the prepared (decoded, resized, uint8) image of each sample is kept after its first decode:
// later epochs never touch the JPEGs (64x64 RGB: 12 KB per face, ~260 MB for all of UTKFace).
// A sample whose image cannot be decoded is left out of its batch (batch.n shrinks), warned about once on
// stderr with its name and reason, and counted in stats(); it is never replaced by a blank image.
#pragma once
#include <condition_variable>
#include <cstdint>
#include <exception>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "data/batch.h"
#include "data/dataset.h"
#include "data/transforms.h"

namespace facet::data {

struct LoaderOptions {
  int batch_size = 64;
  int workers = 2;                 // decode threads; 0 = build each batch on the calling thread, no prefetch
  int prefetch = 4;                // batches built ahead of the trainer
  bool shuffle = true;             // seeded permutation per epoch (else dataset order)
  bool drop_last = false;          // drop a last batch smaller than batch_size
  bool augment = false;            // use the transform's random crop / flip (training); off for evaluation
  bool cache = true;               // keep prepared uint8 images in memory after the first decode
  bool warn = true;                // print each undecodable sample once on stderr
  uint64_t seed = 1;
  std::vector<double> weights;     // one per sample: when given, each epoch draws N samples with replacement
                                   // with probability proportional to the weight (balance.h: weighted:<task>)
  TransformConfig transform;
};

struct LoaderStats {
  int64_t images = 0;       // samples delivered in batches
  int64_t decoded = 0;      // image decodes (file reads + JPEG decode + resize)
  int64_t cache_hits = 0;   // prepared images served from the cache
  int64_t failed = 0;       // samples left out because their image would not decode
  double wait_s = 0;        // time next() spent waiting for a batch that was not ready yet
  std::vector<std::string> failures;  // "name: reason", once per sample, sorted
};

class Loader {
 public:
  // Throws std::invalid_argument for bad options (batch size, transform sizes, weights count).
  Loader(Dataset data, LoaderOptions options);
  ~Loader();  // stops and joins the workers
  Loader(const Loader&) = delete;
  Loader& operator=(const Loader&) = delete;

  // Drops what is left of the previous epoch. `first_batch` > 0 starts mid-epoch (a resumed run): batches
  // before it are skipped unbuilt, and the ones delivered are those an epoch started at 0 delivers there,
  // since order and augmentation depend only on (seed, epoch, position).
  void start_epoch(int epoch, int64_t first_batch = 0);
  bool next(Batch& out);         // the next batch of the epoch; false when the epoch is over
  int64_t batches_per_epoch() const;
  const Dataset& dataset() const { return data_; }
  const LoaderOptions& options() const { return options_; }
  LoaderStats stats() const;
  size_t cache_bytes() const;

 private:
  struct Slot;  // cache entry of one sample
  void worker_loop();
  void build(int64_t b, const std::vector<size_t>& order, int epoch, Batch& out);
  std::shared_ptr<const Image> prepared(size_t index, std::string& error);
  std::vector<size_t> make_order(int epoch) const;

  Dataset data_;
  LoaderOptions options_;
  int tasks_ = 0, target_dim_ = 0;
  std::vector<std::unique_ptr<Slot>> slots_;
  mutable std::vector<std::mutex> stripes_;  // guard the slots (slot i: stripe i % 64)

  mutable std::mutex mutex_;
  std::condition_variable work_cv_, ready_cv_;
  bool stop_ = false;
  uint64_t generation_ = 0;
  int epoch_ = -1;
  std::shared_ptr<const std::vector<size_t>> order_;
  int64_t batches_ = 0, next_build_ = 0, next_consume_ = 0;
  std::map<int64_t, Batch> ready_;
  std::exception_ptr error_;  // an exception a worker hit, rethrown by next()
  LoaderStats stats_;
  std::vector<std::thread> threads_;
};

// Decodes one sample (its file, or its in-memory pixels) to `channels` channels.
bool load_sample_image(const Sample& s, int channels, Image& out, std::string& error);

// The network input for one image file (no augmentation): what `facet predict` feeds a model.
bool load_input(const std::string& path, const TransformConfig& config, std::vector<float>& chw, std::string& error);

// Per-channel mean and std of the network input (before normalization, no augmentation) over `ds` -- pass the
// training split -- or over a seeded sample of max_images of it (0 = all). Undecodable images are skipped.
Normalization compute_normalization(const Dataset& ds, TransformConfig config, size_t max_images, uint64_t seed,
                                    int workers = 2);

}  // namespace facet::data
