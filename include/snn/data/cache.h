#pragma once
/// \file
/// Caching of transformed samples (Tonic's MemoryCachedDataset / DiskCachedDataset).
///
/// DiskCachedDataset differs from Tonic's on purpose: Tonic serves whatever file sits at
/// the cache path, so a changed transform silently returns stale samples. Here every cache
/// lives in a folder named after a hash of a `key` — the canonical description of the
/// dataset and its transform (e.g. "NMNIST(train) | ToFrame(n_time_bins=10)") — and the full
/// key is stored beside the samples and checked, so a changed configuration never meets
/// old samples. Files are HDF5 (datasets "data" and "target"), written to a temporary
/// file and renamed into place: a crash never leaves a half-written sample behind.
#include <torch/arg.h>
#include <torch/data/datasets/base.h>
#include <torch/data/example.h>

#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <random>
#include <string>
#include <unordered_map>

namespace snn::data {

namespace detail {
/// Writes {data, target} to an HDF5 file at `path` atomically (temp + rename).
void save_example(const std::string& path, const at::Tensor& data, const at::Tensor& target,
                  bool compress);
/// Reads {data, target} written by save_example; nullopt if there is no file at `path`;
/// throws (naming the path) on an unreadable file.
std::optional<torch::data::Example<>> load_example(const std::string& path);
/// A 16-hex-digit hash of `key` (FNV-1a), the same on every platform and run.
std::string stable_hash_hex(const std::string& key);
/// The folder of the cache for `key` under `root` (created on first use, with the key in
/// key.txt); throws if that folder holds another key (a hash collision). With `reset`,
/// the folder's samples are deleted first.
std::string cache_folder(const std::string& root, const std::string& key, bool reset);
}  // namespace detail

/// Keeps every sample in memory after its first load. Copies share one cache, and get()
/// may be called from several loader threads at once.
template <typename Source>
class MemoryCachedDataset : public torch::data::datasets::Dataset<MemoryCachedDataset<Source>,
                                                                  typename Source::ExampleType> {
 public:
  using ExampleType = typename Source::ExampleType;
  explicit MemoryCachedDataset(Source source)
      : source_(std::make_shared<Source>(std::move(source))), state_(std::make_shared<State>()) {}

  ExampleType get(size_t index) override {
    {
      std::lock_guard<std::mutex> lock(state_->mutex);
      if (auto it = state_->samples.find(index); it != state_->samples.end()) return it->second;
    }
    ExampleType example = source_->get(index);
    std::lock_guard<std::mutex> lock(state_->mutex);
    return state_->samples.emplace(index, std::move(example)).first->second;
  }
  std::optional<size_t> size() const override { return source_->size(); }

 private:
  struct State {
    std::mutex mutex;
    std::unordered_map<size_t, ExampleType> samples;
  };
  std::shared_ptr<Source> source_;
  std::shared_ptr<State> state_;
};

/// Options of DiskCachedDataset.
struct DiskCacheOptions {
  /// Number of cached copies of each sample, one of which get() returns at random: for
  /// datasets augmented by random transforms. Must be ≥ 1. Default: 1.
  TORCH_ARG(int64_t, num_copies) = 1;
  /// Compress the samples (HDF5 deflate, level 1). Default: true.
  TORCH_ARG(bool, compress) = true;
  /// Delete this key's cached samples when the dataset is created. Default: false.
  TORCH_ARG(bool, reset) = false;
  /// Seed of the choice among copies. Default: 0.
  TORCH_ARG(uint64_t, seed) = 0;
};

/// Caches the samples of `source` (Example<Tensor, Tensor>) as HDF5 files under
/// `root/<hash of key>/`: the first get(i) computes and writes sample i, later ones read it.
template <typename Source>
class DiskCachedDataset
    : public torch::data::datasets::Dataset<DiskCachedDataset<Source>, torch::data::Example<>> {
 public:
  DiskCachedDataset(Source source, const std::string& root, const std::string& key,
                    DiskCacheOptions options = {})
      : source_(std::make_shared<Source>(std::move(source))),
        folder_(detail::cache_folder(root, key, options.reset())),
        options_(options),
        rng_(std::make_shared<Rng>(options.seed())) {
    TORCH_CHECK(options.num_copies() >= 1,
                "snn::data::DiskCachedDataset: num_copies must be >= 1, got ",
                options.num_copies());
  }

  torch::data::Example<> get(size_t index) override {
    const std::string path =
        folder_ + "/" + std::to_string(index) + "_" + std::to_string(pick_copy()) + ".h5";
    if (auto cached = detail::load_example(path)) return *cached;
    torch::data::Example<> example = source_->get(index);
    detail::save_example(path, example.data, example.target, options_.compress());
    return example;
  }
  std::optional<size_t> size() const override { return source_->size(); }
  /// The folder this cache writes to.
  const std::string& folder() const { return folder_; }

 private:
  struct Rng {
    explicit Rng(uint64_t seed) : engine(seed) {}
    std::mutex mutex;
    std::mt19937_64 engine;
  };
  int64_t pick_copy() {
    if (options_.num_copies() == 1) return 0;
    std::lock_guard<std::mutex> lock(rng_->mutex);
    return static_cast<int64_t>(rng_->engine() % static_cast<uint64_t>(options_.num_copies()));
  }
  std::shared_ptr<Source> source_;
  std::string folder_;
  DiskCacheOptions options_;
  std::shared_ptr<Rng> rng_;
};

}  // namespace snn::data
