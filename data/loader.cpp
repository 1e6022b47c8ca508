#include "data/loader.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <numeric>
#include <stdexcept>

#include "data/rng.h"

namespace facet::data {

// What the loader remembers of one sample: its prepared image (cache on), or why it cannot be decoded.
struct Loader::Slot {
  std::shared_ptr<const Image> image;
  std::string error;  // non-empty: undecodable (remembered even with the cache off, so it is warned once)
};

bool load_sample_image(const Sample& s, int channels, Image& out, std::string& error) {
  if (s.pixels) {
    out = convert_channels(*s.pixels, channels);
    return true;
  }
  if (s.path.empty()) {
    error = s.name + ": no image (no path and no pixels)";
    return false;
  }
  return load_image(s.path, channels, out, error);
}

bool load_input(const std::string& path, const TransformConfig& config, std::vector<float>& chw, std::string& error) {
  Image img;
  if (!load_image(path, config.channels, img, error)) return false;
  chw.resize(size_t(config.channels) * config.width * config.height);
  finish(prepare(img, config), config, false, 0, chw.data());
  return true;
}

Loader::Loader(Dataset data, LoaderOptions options)
    : data_(std::move(data)), options_(std::move(options)), stripes_(64) {
  if (options_.batch_size <= 0)
    throw std::invalid_argument("loader: batch size " + std::to_string(options_.batch_size) + " must be positive");
  if (options_.workers < 0 || options_.workers > 256)
    throw std::invalid_argument("loader: workers " + std::to_string(options_.workers) + " (use 0..256)");
  if (options_.prefetch < 1) options_.prefetch = 1;
  if (!options_.weights.empty() && options_.weights.size() != data_.size())
    throw std::invalid_argument("loader: " + std::to_string(options_.weights.size()) + " sampling weights for " +
                                std::to_string(data_.size()) + " samples");
  options_.transform.validate();
  for (const auto& s : data_.samples) {
    tasks_ = std::max(tasks_, int(s.labels.size()));
    target_dim_ = std::max(target_dim_, int(s.targets.size()));
  }
  slots_.reserve(data_.size());
  for (size_t i = 0; i < data_.size(); ++i) slots_.push_back(std::make_unique<Slot>());
  for (int t = 0; t < options_.workers; ++t) threads_.emplace_back([this] { worker_loop(); });
}

Loader::~Loader() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stop_ = true;
  }
  work_cv_.notify_all();
  for (auto& t : threads_) t.join();
}

int64_t Loader::batches_per_epoch() const {
  const int64_t n = int64_t(data_.size()), bs = options_.batch_size;
  return options_.drop_last ? n / bs : (n + bs - 1) / bs;
}

std::vector<size_t> Loader::make_order(int epoch) const {
  const size_t n = data_.size();
  std::vector<size_t> order(n);
  if (!options_.weights.empty()) {  // weighted draw with replacement: inverse CDF on the cumulative weights
    std::vector<double> cdf(n);
    std::partial_sum(options_.weights.begin(), options_.weights.end(), cdf.begin());
    Rng rng(derive_seed(options_.seed, uint64_t(epoch), 0x77656967ull));
    for (auto& o : order) {
      const double u = rng.uniform() * cdf.back();
      o = std::min(n - 1, size_t(std::upper_bound(cdf.begin(), cdf.end(), u) - cdf.begin()));
    }
    return order;
  }
  std::iota(order.begin(), order.end(), size_t(0));
  if (options_.shuffle) {
    Rng rng(derive_seed(options_.seed, uint64_t(epoch)));
    shuffle(order, rng);
  }
  return order;
}

void Loader::start_epoch(int epoch, int64_t first_batch) {
  if (first_batch < 0 || first_batch > batches_per_epoch())
    throw std::invalid_argument("loader: start_epoch at batch " + std::to_string(first_batch) + " of an epoch of " +
                                std::to_string(batches_per_epoch()) + " batches");
  auto order = std::make_shared<const std::vector<size_t>>(make_order(epoch));
  {
    std::lock_guard<std::mutex> lock(mutex_);
    ++generation_;
    epoch_ = epoch;
    order_ = std::move(order);
    batches_ = batches_per_epoch();
    next_build_ = next_consume_ = first_batch;
    ready_.clear();
  }
  work_cv_.notify_all();
}

std::shared_ptr<const Image> Loader::prepared(size_t index, std::string& error) {
  Slot& slot = *slots_[index];
  std::mutex& stripe = stripes_[index % stripes_.size()];
  {
    std::lock_guard<std::mutex> lock(stripe);
    if (!slot.error.empty()) {
      error = slot.error;
      return nullptr;
    }
    if (slot.image) {
      std::lock_guard<std::mutex> stats_lock(mutex_);
      ++stats_.cache_hits;
      return slot.image;
    }
  }
  Image decoded;
  std::shared_ptr<const Image> image;
  const bool ok = load_sample_image(data_.samples[index], options_.transform.channels, decoded, error);
  if (ok) image = std::make_shared<const Image>(prepare(decoded, options_.transform));
  bool first_failure = false;
  {
    std::lock_guard<std::mutex> lock(stripe);
    if (!ok) {
      first_failure = slot.error.empty();
      slot.error = error;
    } else if (options_.cache && !slot.image) {
      slot.image = image;
    }
  }
  {
    std::lock_guard<std::mutex> stats_lock(mutex_);
    ++stats_.decoded;
    if (first_failure) stats_.failures.push_back(data_.samples[index].name + ": " + error);
  }
  if (first_failure && options_.warn)
    std::fprintf(stderr, "facet: warning: skipping %s: %s\n", data_.samples[index].name.c_str(), error.c_str());
  return image;
}

void Loader::build(int64_t b, const std::vector<size_t>& order, int epoch, Batch& out) {
  const TransformConfig& tc = options_.transform;
  const size_t begin = size_t(b) * size_t(options_.batch_size);
  const size_t end = std::min(order.size(), begin + size_t(options_.batch_size));
  const size_t plane = size_t(tc.channels) * tc.width * tc.height;
  out = Batch{};
  out.c = tc.channels, out.h = tc.height, out.w = tc.width;
  out.images.resize((end - begin) * plane);
  out.labels.assign(size_t(tasks_), {});
  out.target_dim = target_dim_;
  int failed = 0;
  for (size_t p = begin; p < end; ++p) {
    const size_t index = order[p];
    std::string error;
    const auto image = prepared(index, error);
    if (!image) {
      ++failed;
      continue;
    }
    const Sample& s = data_.samples[index];
    finish(*image, tc, options_.augment, derive_seed(options_.seed, uint64_t(epoch), p), &out.images[size_t(out.n) * plane]);
    for (int t = 0; t < tasks_; ++t) out.labels[size_t(t)].push_back(size_t(t) < s.labels.size() ? s.labels[size_t(t)] : -1);
    if (target_dim_ > 0) {
      for (int k = 0; k < target_dim_; ++k) out.targets.push_back(size_t(k) < s.targets.size() ? s.targets[size_t(k)] : 0.0f);
    }
    out.names.push_back(s.name);
    out.indices.push_back(int64_t(index));
    ++out.n;
  }
  out.images.resize(size_t(out.n) * plane);
  std::lock_guard<std::mutex> lock(mutex_);
  stats_.failed += failed;
}

void Loader::worker_loop() {
  std::unique_lock<std::mutex> lock(mutex_);
  for (;;) {
    work_cv_.wait(lock, [&] {
      return stop_ || (order_ && next_build_ < batches_ && next_build_ < next_consume_ + options_.prefetch);
    });
    if (stop_) return;
    const int64_t b = next_build_++;
    const uint64_t generation = generation_;
    const int epoch = epoch_;
    const auto order = order_;  // keeps this epoch's order alive while building
    lock.unlock();
    Batch batch;
    std::exception_ptr error;
    try {
      build(b, *order, epoch, batch);
    } catch (...) {
      error = std::current_exception();
    }
    lock.lock();
    if (error && !error_) error_ = error;
    if (generation == generation_) ready_.emplace(b, std::move(batch));
    ready_cv_.notify_all();
  }
}

bool Loader::next(Batch& out) {
  std::unique_lock<std::mutex> lock(mutex_);
  if (!order_)
    throw std::logic_error("loader: next() before start_epoch() (call start_epoch(epoch) at the top of each epoch)");
  if (next_consume_ >= batches_) return false;
  const int64_t b = next_consume_;
  if (threads_.empty()) {  // no workers: build here
    const auto order = order_;
    const int epoch = epoch_;
    ++next_consume_;
    lock.unlock();
    build(b, *order, epoch, out);
    lock.lock();
    stats_.images += out.n;
    return true;
  }
  const auto t0 = std::chrono::steady_clock::now();
  ready_cv_.wait(lock, [&] { return ready_.count(b) > 0 || error_; });
  if (error_) std::rethrow_exception(error_);
  stats_.wait_s += std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  auto it = ready_.find(b);
  out = std::move(it->second);
  ready_.erase(it);
  ++next_consume_;
  stats_.images += out.n;
  lock.unlock();
  work_cv_.notify_all();
  return true;
}

LoaderStats Loader::stats() const {
  std::lock_guard<std::mutex> lock(mutex_);
  LoaderStats out = stats_;
  std::sort(out.failures.begin(), out.failures.end());  // workers find them in any order
  return out;
}

size_t Loader::cache_bytes() const {
  size_t bytes = 0;
  for (size_t i = 0; i < slots_.size(); ++i) {
    std::lock_guard<std::mutex> lock(stripes_[i % stripes_.size()]);
    if (slots_[i]->image) bytes += slots_[i]->image->pixels.size();
  }
  return bytes;
}

Normalization compute_normalization(const Dataset& ds, TransformConfig config, size_t max_images, uint64_t seed,
                                    int workers) {
  Dataset subset;
  subset.source = ds.source, subset.root = ds.root;
  std::vector<size_t> idx(ds.size());
  std::iota(idx.begin(), idx.end(), size_t(0));
  if (max_images > 0 && idx.size() > max_images) {
    Rng rng(seed);
    shuffle(idx, rng);
    idx.resize(max_images);
    std::sort(idx.begin(), idx.end());
  }
  for (size_t i : idx) subset.samples.push_back(ds.samples[i]);
  config.norm = {};
  LoaderOptions o;
  o.batch_size = 64, o.workers = workers, o.shuffle = false, o.cache = false, o.augment = false, o.warn = false;
  o.transform = config;
  Loader loader(std::move(subset), o);
  loader.start_epoch(0);
  const int c = config.channels;
  const size_t hw = size_t(config.width) * config.height;
  std::vector<double> sum(size_t(c), 0.0), sq(size_t(c), 0.0);
  double count = 0;
  Batch b;
  while (loader.next(b)) {
    for (int n = 0; n < b.n; ++n)
      for (int ch = 0; ch < c; ++ch) {
        const float* p = &b.images[(size_t(n) * c + ch) * hw];
        double s = 0, q = 0;
        for (size_t i = 0; i < hw; ++i) s += p[i], q += double(p[i]) * p[i];
        sum[size_t(ch)] += s, sq[size_t(ch)] += q;
      }
    count += double(b.n) * double(hw);
  }
  Normalization norm;
  if (count == 0) return norm;
  for (int ch = 0; ch < c; ++ch) {
    const double mean = sum[size_t(ch)] / count;
    norm.mean.push_back(float(mean));
    const double sd = std::sqrt(std::max(0.0, sq[size_t(ch)] / count - mean * mean));
    // A channel constant over the training split carries nothing: divide by 1, not by ~0 (which would blow a
    // different value at test time up by 1e8, and which a checkpoint's validation refuses).
    norm.std.push_back(sd < 1e-6 ? 1.0f : float(sd));
  }
  return norm;
}

}  // namespace facet::data
