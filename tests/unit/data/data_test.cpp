// Collation and caching of samples.
#include <ATen/ATen.h>
#include <gtest/gtest.h>
#include <torch/data/dataloader.h>
#include <torch/data/datasets/map.h>
#include <torch/data/samplers/sequential.h>

#include <atomic>
#include <filesystem>
#include <fstream>

#include "snn/data/cache.h"
#include "snn/data/collate.h"
#include "test_util.h"

namespace {

namespace fs = std::filesystem;

using snn::test::error_of;

// Sample i: i + 1 time steps of a [2] feature filled with i; target i. Counts its loads.
struct Counting : torch::data::datasets::Dataset<Counting> {
  std::shared_ptr<std::atomic<int>> loads = std::make_shared<std::atomic<int>>(0);
  at::ScalarType dtype = at::kFloat;
  torch::data::Example<> get(size_t i) override {
    ++*loads;
    const auto n = static_cast<int64_t>(i);
    return {at::full({n + 1, 2}, n, at::TensorOptions().dtype(dtype)), at::tensor({n})};
  }
  std::optional<size_t> size() const override { return 6; }
};

using snn::test::TempDir;

TEST(PadTensorsTest, PadsToTheLongestAndStacks) {
  const auto a = at::ones({2, 3}, at::kShort), b = at::ones({4, 3}, at::kShort);
  const auto batch = snn::data::pad_tensors({a, b});
  EXPECT_EQ(batch.sizes(), (at::IntArrayRef{2, 4, 3}));
  EXPECT_EQ(batch.scalar_type(), at::kFloat) << "integer samples become float32, as in Tonic";
  EXPECT_EQ(batch[0].sum().item<double>(), 6);
  EXPECT_EQ(snn::data::pad_tensors({a, b}, /*batch_first=*/false).sizes(),
            (at::IntArrayRef{4, 2, 3}));
  EXPECT_EQ(snn::data::pad_tensors({at::ones({1}, at::kDouble)}).scalar_type(), at::kDouble);
  EXPECT_NE(error_of([&] {
              snn::data::pad_tensors({a, at::ones({2, 5})});
            }).find("sample 1 has shape [2, 5], which differs from sample 0's [2, 3]"),
            std::string::npos);
}

TEST(PadTensorsTest, CollatesALoaderWithWorkers) {
  auto loader = torch::data::make_data_loader<torch::data::samplers::SequentialSampler>(
      Counting().map(snn::data::PadTensors()),
      torch::data::DataLoaderOptions().batch_size(3).workers(2));
  int64_t batches = 0;
  for (auto& batch : *loader) {
    EXPECT_EQ(batch.data.size(0), 3);
    EXPECT_EQ(batch.target.sizes(), (at::IntArrayRef{3}));
    // The longest sample of the batch sets T: sample i has i + 1 steps.
    EXPECT_EQ(batch.data.size(1), batch.target.max().item<int64_t>() + 1);
    ++batches;
  }
  EXPECT_EQ(batches, 2);
}

TEST(MemoryCachedDatasetTest, LoadsEachSampleOnce) {
  Counting source;
  auto loads = source.loads;
  snn::data::MemoryCachedDataset<Counting> cached(source);
  const auto first = cached.get(3);
  const auto again = cached.get(3);
  EXPECT_EQ(loads->load(), 1);
  EXPECT_TRUE(at::equal(first.data, again.data));
  EXPECT_EQ(cached.size().value(), 6u);
}

TEST(DiskCachedDatasetTest, WritesOnceThenReadsFromDisk) {
  TempDir dir("snn_data_test");
  for (auto dtype : {at::kFloat, at::kShort, at::kBool}) {
    Counting source;
    source.dtype = dtype;
    auto loads = source.loads;
    const std::string key = std::string("Counting | dtype=") + c10::toString(dtype);
    snn::data::DiskCachedDataset<Counting> cached(source, dir.str(), key);
    const auto computed = cached.get(4);
    EXPECT_EQ(loads->load(), 1);
    snn::data::DiskCachedDataset<Counting> reopened(source, dir.str(), key);
    const auto read = reopened.get(4);
    EXPECT_EQ(loads->load(), 1) << "the second get must come from disk";
    EXPECT_EQ(read.data.scalar_type(), dtype);
    EXPECT_TRUE(at::equal(read.data, computed.data));
    EXPECT_TRUE(at::equal(read.target, computed.target));
    for (const auto& entry : fs::directory_iterator(cached.folder())) {
      EXPECT_EQ(entry.path().string().find(".tmp."), std::string::npos) << "temp file left";
    }
  }
}

TEST(DiskCachedDatasetTest, AnotherKeyNeverServesStaleSamples) {
  TempDir dir("snn_data_test");
  Counting source;
  auto loads = source.loads;
  snn::data::DiskCachedDataset<Counting> a(source, dir.str(), "Counting | ToFrame(n_time_bins=3)");
  snn::data::DiskCachedDataset<Counting> b(source, dir.str(), "Counting | ToFrame(n_time_bins=4)");
  EXPECT_NE(a.folder(), b.folder());
  a.get(1);
  b.get(1);
  EXPECT_EQ(loads->load(), 2);
  snn::data::DiskCachedDataset<Counting> reset(source, dir.str(),
                                               "Counting | ToFrame(n_time_bins=3)",
                                               snn::data::DiskCacheOptions().reset(true));
  reset.get(1);
  EXPECT_EQ(loads->load(), 3) << "reset must drop the cached samples";
}

TEST(DiskCachedDatasetTest, DamagedFileIsNamed) {
  TempDir dir("snn_data_test");
  snn::data::DiskCachedDataset<Counting> cached(Counting(), dir.str(), "key");
  std::ofstream(cached.folder() + "/2_0.h5") << "not hdf5";
  EXPECT_NE(error_of([&] {
              cached.get(2);
            }).find("cannot open cache file " + cached.folder() + "/2_0.h5"),
            std::string::npos);
  EXPECT_NE(error_of([&] {
              snn::data::DiskCachedDataset<Counting>(Counting(), dir.str(), "key",
                                                     snn::data::DiskCacheOptions().num_copies(0));
            }).find("num_copies must be >= 1, got 0"),
            std::string::npos);
}

}  // namespace
