// Event datasets over files written in their real layouts.
#include <ATen/ATen.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "snn/data/cache.h"
#include "snn/data/event_datasets.h"
#include "snn/events/io.h"
#include "test_util.h"

namespace {

namespace fs = std::filesystem;
namespace ev = snn::events;
using snn::test::error_of;

class DatasetTest : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ = fs::temp_directory_path() /
            ("snn_dataset_test_" + std::to_string(getpid()) + "_" +
             ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(root_);
    fs::create_directories(root_);
  }
  void TearDown() override { fs::remove_all(root_); }

  // n events at t = start, start + 10, ... on a (w, h) sensor.
  static ev::Events make(int64_t n, int64_t start, ev::SensorSize sensor, bool has_y = true) {
    ev::Events e(sensor, has_y);
    for (int64_t i = 0; i < n; ++i) {
      e.push_back(start + 10 * i, i % sensor.width, has_y ? (i * 7) % sensor.height : 0, i % 2);
    }
    return e;
  }
  fs::path root_;
};

TEST_F(DatasetTest, NMNISTReadsTheTrainFolderWithDigitLabels) {
  for (int digit = 0; digit < 10; ++digit) {
    fs::create_directories(root_ / "Train" / std::to_string(digit));
  }
  ev::write_events(make(5, 0, {34, 34, 2}), (root_ / "Train/3/00002.bin").string(),
                   ev::FileFormat::NMNIST);
  ev::write_events(make(9, 99990, {34, 34, 2}), (root_ / "Train/7/00001.bin").string(),
                   ev::FileFormat::NMNIST);
  snn::data::NMNIST train(root_.string());
  ASSERT_EQ(train.size(), 2);
  EXPECT_EQ(train.label(0), 3);
  EXPECT_EQ(train.label(1), 7);
  EXPECT_EQ(train.events(1).size(), 9);
  snn::data::NMNIST first_saccade(root_.string(), true, /*first_saccade_only=*/true);
  EXPECT_EQ(first_saccade.events(1).size(), 1) << "only t < 100000 us";
  EXPECT_EQ(train.repr(), "NMNIST(train)");
}

TEST_F(DatasetTest, MissingFilesAreNamedWithTheirSource) {
  const auto nmnist = error_of([&] { snn::data::NMNIST(root_.string(), false); });
  EXPECT_NE(nmnist.find((root_ / "Test/0/").string()), std::string::npos) << nmnist;
  EXPECT_NE(nmnist.find("Test.zip from https://www.garrickorchard.com/datasets/n-mnist"),
            std::string::npos);
  const auto shd = error_of([&] { snn::data::SHD(root_.string(), true); });
  EXPECT_NE(shd.find((root_ / "shd_train.h5").string()), std::string::npos) << shd;
  EXPECT_NE(shd.find("shd_train.h5.zip from https://zenkelab.org/datasets/"), std::string::npos);
  const auto gesture = error_of([&] { snn::data::DVSGesture(root_.string(), true); });
  EXPECT_NE(gesture.find((root_ / "trials_to_train.txt").string()), std::string::npos) << gesture;
  EXPECT_NE(error_of([&] { snn::data::SSC(root_.string(), "dev"); }).find("missing"),
            std::string::npos);
}

TEST_F(DatasetTest, SHDSamplesComeFromTheHDF5File) {
  std::vector<ev::Events> samples{make(4, 0, ev::HSDFile::kSensor, false),
                                  make(6, 50, ev::HSDFile::kSensor, false)};
  ev::write_hsd((root_ / "shd_test.h5").string(), samples, {5, 19}, {1, 2});
  snn::data::SHD test(root_.string(), /*train=*/false);
  ASSERT_EQ(test.size(), 2);
  EXPECT_EQ(test.label(1), 19);
  EXPECT_EQ(test.speaker(1), 2);
  EXPECT_EQ(test.events(1).x, samples[1].x);
  EXPECT_EQ(test.events(1).t, samples[1].t);
  EXPECT_NE(error_of([&] { test.events(2); }).find("index 2 out of range for 2 samples"),
            std::string::npos);
}

TEST_F(DatasetTest, DVSGestureCutsRecordingsIntoLabelledGestures) {
  ev::write_events(make(100, 0, {128, 128, 2}), (root_ / "user01_led.aedat").string(),
                   ev::FileFormat::AEDAT3);
  ev::write_gesture_labels({{3, 0, 200}, {11, 500, 800}},
                           (root_ / "user01_led_labels.csv").string());
  std::ofstream(root_ / "trials_to_train.txt") << "user01_led.aedat\n";
  snn::data::DVSGesture train(root_.string());
  ASSERT_EQ(train.size(), 2);
  EXPECT_EQ(train.label(0), 2);
  EXPECT_EQ(train.label(1), 10);
  EXPECT_EQ(train.events(0).size(), 20);  // t = 0, 10, ..., 190
  EXPECT_EQ(train.events(1).size(), 30);  // t = 500 .. 790
  EXPECT_EQ(train.events(1).t.front(), 500);
}

TEST_F(DatasetTest, FolderDatasetFeedsFramesToADiskCache) {
  for (const auto* cls : {"left", "right"}) fs::create_directories(root_ / "data" / cls);
  ev::write_events(make(30, 0, {16, 8, 2}), (root_ / "data/left/a.aedat").string(),
                   ev::FileFormat::AEDAT3);
  ev::write_events(make(40, 0, {16, 8, 2}), (root_ / "data/right/b.aedat").string(),
                   ev::FileFormat::AEDAT3);
  auto folder =
      std::make_shared<snn::data::EventFolder>((root_ / "data").string(), ev::SensorSize{16, 8, 2});
  EXPECT_EQ(folder->classes(), (std::vector<std::string>{"left", "right"}));
  snn::data::EventTensorDataset frames(folder, ev::parse_representation("ToFrame(event_count=20)"));
  const auto sample = frames.get(1);
  EXPECT_EQ(sample.data.sizes(), (at::IntArrayRef{2, 2, 8, 16}));  // 40 events, 20 a frame
  EXPECT_EQ(sample.data.sum().item<int64_t>(), 40);
  EXPECT_EQ(sample.target.item<int64_t>(), 1);
  snn::data::DiskCachedDataset<snn::data::EventTensorDataset> cached(
      frames, (root_ / "cache").string(), frames.key());
  EXPECT_TRUE(at::equal(cached.get(1).data, sample.data));
  EXPECT_TRUE(at::equal(cached.get(1).data, sample.data));
  EXPECT_NE(frames.key().find("EventFolder("), std::string::npos);
  EXPECT_NE(frames.key().find("ToFrame("), std::string::npos);
}

}  // namespace

namespace {

// Counts how often the source is read, to show that a stored slice table is reused.
class CountingSource : public snn::data::EventDataset {
 public:
  explicit CountingSource(int64_t n) : n_(n) {}
  int64_t size() const override { return n_; }
  ev::Events events(int64_t index) const override {
    ++reads;
    ev::Events e(ev::SensorSize{4, 4, 2});
    for (int64_t i = 0; i < 10 * (index + 1); ++i) e.push_back(100 * i, i % 4, 0, 0);
    return e;
  }
  int64_t label(int64_t index) const override { return index + 5; }
  ev::SensorSize sensor() const override { return {4, 4, 2}; }
  std::string repr() const override { return "Counting(" + std::to_string(n_) + ")"; }
  mutable int64_t reads = 0;

 private:
  int64_t n_;
};

TEST_F(DatasetTest, SlicedDatasetStoresAndReusesItsSliceTable) {
  auto source = std::make_shared<CountingSource>(3);  // 10, 20, 30 events, 100 us apart
  const auto slicer = ev::parse_slicer("SliceByEventCount(event_count=10)");
  snn::data::SlicedDataset sliced(source, slicer, (root_ / "meta").string());
  ASSERT_EQ(sliced.size(), 6);  // 1 + 2 + 3 slices, as Tonic's get_slice_metadata gives them
  EXPECT_EQ(source->reads, 3);
  const auto expected = slicer->slice_indices(source->events(2));
  EXPECT_EQ(sliced.slice(5).sample, 2);
  EXPECT_EQ(sliced.slice(5).start, expected.back().start);
  EXPECT_EQ(sliced.events(5).t, source->events(2).slice(20, 30).t);
  EXPECT_EQ(sliced.label(5), 7);
  EXPECT_EQ(sliced.slice(5).piece, 2);

  // A slicer that changes the pieces (reset_time shifts slice k back by k windows) is
  // applied by events(), as its own slice() does.
  const auto reset = ev::parse_slicer("SliceByTime(time_window=1000, reset_time=true)");
  snn::data::SlicedDataset shifted(source, reset);
  const auto pieces = reset->slice(source->events(2));
  ASSERT_GE(pieces.size(), 2u);
  const int64_t last = shifted.size() - 1;
  EXPECT_EQ(shifted.slice(last).piece, static_cast<int64_t>(pieces.size()) - 1);
  EXPECT_EQ(shifted.events(last).t, pieces.back().t);
  EXPECT_LT(pieces.back().t.front(), source->events(2).t[shifted.slice(last).start]);

  source->reads = 0;
  snn::data::SlicedDataset again(source, slicer, (root_ / "meta").string());
  EXPECT_EQ(source->reads, 0) << "the stored table must be read, not the samples";
  EXPECT_EQ(again.size(), 6);
  EXPECT_EQ(again.metadata_file(), sliced.metadata_file());

  snn::data::SlicedDataset other(source, ev::parse_slicer("SliceByEventCount(event_count=5)"),
                                 (root_ / "meta").string());
  EXPECT_EQ(other.size(), 12) << "another slicer never meets the stored table";
  EXPECT_NE(other.metadata_file(), sliced.metadata_file());

  // A table cut short (6 slices announced, 1 present) is reported, not half used.
  std::ofstream(sliced.metadata_file(), std::ios::trunc)
      << "Counting(3) | " << slicer->repr() << "\n6\n0 0 10 0\n";
  EXPECT_NE(error_of([&] {
              snn::data::SlicedDataset(source, slicer, (root_ / "meta").string());
            }).find("damaged slice table"),
            std::string::npos);
}

}  // namespace
