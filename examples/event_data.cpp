// Event data end to end: files in N-MNIST's layout -> transform -> frames -> disk cache ->
// padded batches from a loader with worker threads.
//
// Usage: event_data [ROOT]. Without ROOT it first writes a small synthetic N-MNIST-shaped
// dataset (random events, 2 files per digit) into a temporary folder, so that it runs
// anywhere; with ROOT it reads the real N-MNIST from ROOT/Train/<digit>/*.bin.
#include <torch/data/dataloader.h>
#include <torch/data/datasets/map.h>
#include <unistd.h>

#include <filesystem>
#include <iostream>
#include <random>

#include "snn/snn.h"

namespace ev = snn::events;
namespace fs = std::filesystem;

// Two recordings per digit of random events (34x34, 2 polarities, ~300 ms).
std::string write_synthetic_nmnist() {
  const fs::path root = fs::temp_directory_path() / ("snn_event_data_" + std::to_string(getpid()));
  std::mt19937_64 rng(0);
  for (int digit = 0; digit < 10; ++digit) {
    const fs::path folder = root / "Train" / std::to_string(digit);
    fs::create_directories(folder);
    for (int k = 0; k < 2; ++k) {
      ev::Events e(ev::SensorSize{34, 34, 2});
      int64_t t = 0;
      for (int i = 0; i < 2000 + 500 * k; ++i) {
        t += static_cast<int64_t>(rng() % 300);
        e.push_back(t, rng() % 34, rng() % 34, rng() % 2);
      }
      ev::write_events(e, (folder / (std::to_string(k) + ".bin")).string(), ev::FileFormat::NMNIST);
    }
  }
  return root.string();
}

int main(int argc, char** argv) {
  const std::string root = argc > 1 ? argv[1] : write_synthetic_nmnist();
  auto nmnist = std::make_shared<snn::data::NMNIST>(root, /*train=*/true);
  std::cout << nmnist->repr() << ": " << nmnist->size() << " samples\n";

  // One recording by hand: a transform, then frames.
  auto denoise =
      ev::parse_transform("Compose([Denoise(filter_time=10000), Downsample(spatial_factor=0.5)])");
  const at::Tensor frames = ev::ToFrame(ev::ToFrameOptions().n_time_bins(20))
                                .apply(denoise->apply(nmnist->events(0), /*seed=*/0));
  std::cout << "sample 0 as frames: " << frames.sizes() << "\n";

  // The whole dataset: frames, cached on disk under a key naming everything that decides them.
  snn::data::EventTensorDataset frames_ds(nmnist,
                                          ev::parse_representation("ToFrame(time_window=10000)"));
  const std::string cache = (fs::path(root) / "cache").string();
  snn::data::DiskCachedDataset<snn::data::EventTensorDataset> cached(frames_ds, cache,
                                                                     frames_ds.key());
  std::cout << "cache key: " << frames_ds.key() << "\n";
  auto loader = torch::data::make_data_loader(std::move(cached).map(snn::data::PadTensors()),
                                              torch::data::DataLoaderOptions(8).workers(2));
  int64_t batches = 0, samples = 0;
  for (auto& batch : *loader) {
    if (batches == 0)
      std::cout << "first batch: data " << batch.data.sizes() << ", target " << batch.target.sizes()
                << "\n";
    ++batches;
    samples += batch.data.size(0);
  }
  std::cout << "read " << samples << " samples in " << batches << " batches\n";
  if (argc <= 1) fs::remove_all(root);
  return samples == nmnist->size() ? 0 : 1;
}
