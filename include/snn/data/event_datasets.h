#pragma once
/// \file
/// Event datasets read from files the user has placed at a path — nothing is downloaded.
/// When files are missing, the error names each missing file and where to get it.
///
/// An EventDataset gives the events and the label of sample i; EventTensorDataset turns it
/// into a torch::data dataset of {tensor, label} through an optional event transform and
/// a representation (e.g. ToFrame), for loaders with worker threads and for the caches of
/// snn/data/cache.h.
#include <torch/data/datasets/base.h>
#include <torch/data/example.h>

#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "snn/events/events.h"
#include "snn/events/slicers.h"
#include "snn/events/transforms.h"

namespace snn::data {

/// Samples of events with integer labels. Implementations are safe to read from several
/// threads at once.
class EventDataset {
 public:
  virtual ~EventDataset() = default;
  virtual int64_t size() const = 0;
  /// The events of sample i (0 ≤ i < size()).
  virtual events::Events events(int64_t index) const = 0;
  /// The label of sample i, 0-based.
  virtual int64_t label(int64_t index) const = 0;
  /// The sensor every sample comes from.
  virtual events::SensorSize sensor() const = 0;
  /// A description that names the dataset and its split, e.g. "SHD(train)": with a
  /// transform's repr it keys a DiskCachedDataset.
  virtual std::string repr() const = 0;

 protected:
  void check_index(int64_t index) const;
};

/// Spiking Heidelberg Digits (Cramer et al. 2020) as Tonic's SHD: 700 channels, 20 classes;
/// `root/shd_train.h5` or `root/shd_test.h5` (from https://zenkelab.org/datasets/: unzip
/// shd_train.h5.zip / shd_test.h5.zip into root).
class SHD : public EventDataset {
 public:
  SHD(const std::string& root, bool train = true);
  int64_t size() const override;
  events::Events events(int64_t index) const override;
  int64_t label(int64_t index) const override;
  events::SensorSize sensor() const override;
  std::string repr() const override;
  /// The speaker of sample i.
  int64_t speaker(int64_t index) const;

 protected:
  SHD(const std::string& root, const std::string& file, const std::string& name);

 private:
  struct File;
  std::shared_ptr<File> file_;
  std::string name_;
};

/// Spiking Speech Commands: as SHD with 35 classes; split "train", "valid" or "test":
/// `root/ssc_<split>.h5` (from https://zenkelab.org/datasets/, ssc_<split>.h5.zip).
class SSC : public SHD {
 public:
  SSC(const std::string& root, const std::string& split = "train");
};

/// N-MNIST (Orchard et al. 2015) as Tonic's NMNIST: `root/Train/<digit>/<id>.bin` or
/// `root/Test/...` (from https://www.garrickorchard.com/datasets/n-mnist: unzip Train.zip
/// and Test.zip into root). Sensor (34, 34, 2); labels 0..9. With `first_saccade_only`,
/// only the events with t < 100 ms (the first of three saccades) are kept.
class NMNIST : public EventDataset {
 public:
  NMNIST(const std::string& root, bool train = true, bool first_saccade_only = false);
  int64_t size() const override { return static_cast<int64_t>(files_.size()); }
  events::Events events(int64_t index) const override;
  int64_t label(int64_t index) const override;
  events::SensorSize sensor() const override { return {34, 34, 2}; }
  std::string repr() const override;

 private:
  std::vector<std::string> files_;
  std::vector<int64_t> labels_;
  bool train_, first_saccade_only_;
};

/// DVS128 Gesture (Amir et al. 2017) from its original recordings: `root/trials_to_train.txt`
/// (or trials_to_test.txt) lists AEDAT 3.1 files in root, each with its
/// `<name>_labels.csv`; every labelled gesture is one sample (label = class - 1, 0..10),
/// its events cut from the recording (start ≤ t < end). Sensor (128, 128, 2). Source:
/// https://research.ibm.com/interactive/dvsgesture/ (DvsGesture.tar.gz, unpacked into root).
class DVSGesture : public EventDataset {
 public:
  DVSGesture(const std::string& root, bool train = true);
  int64_t size() const override { return static_cast<int64_t>(samples_.size()); }
  events::Events events(int64_t index) const override;
  int64_t label(int64_t index) const override;
  events::SensorSize sensor() const override { return {128, 128, 2}; }
  std::string repr() const override;

 private:
  struct Sample {
    int64_t recording, label, start_us, end_us;
  };
  std::vector<std::string> recordings_;
  std::vector<Sample> samples_;
  bool train_;
  // The last recording read: consecutive samples usually share it.
  mutable std::mutex mutex_;
  mutable int64_t cached_recording_ = -1;
  mutable events::Events cached_events_;
};

/// A folder of event files, one subfolder per class: `root/<class>/<file>` in any format
/// that events::read_events reads. Classes are the subfolder names in sorted order (label =
/// position); files are sorted by name. All files must come from one sensor size (that
/// of the first file, unless `sensor` is given).
class EventFolder : public EventDataset {
 public:
  explicit EventFolder(const std::string& root,
                       std::optional<events::SensorSize> sensor = std::nullopt);
  int64_t size() const override { return static_cast<int64_t>(files_.size()); }
  events::Events events(int64_t index) const override;
  int64_t label(int64_t index) const override;
  events::SensorSize sensor() const override { return sensor_; }
  std::string repr() const override;
  const std::vector<std::string>& classes() const { return classes_; }

 private:
  std::string root_;
  std::vector<std::string> classes_, files_;
  std::vector<int64_t> labels_;
  events::SensorSize sensor_;
};

/// Every slice of every sample of `source` as a sample of its own (Tonic's SlicedDataset):
/// sample k is slice j of source sample i, with i's label. Finding the slices reads every
/// sample once; with a `metadata_dir`, the slice table is stored there (keyed by the
/// source's and the slicer's repr, written atomically) and read back by later instances,
/// so that the samples are not read again. A table stored for another key is never used.
class SlicedDataset : public EventDataset {
 public:
  SlicedDataset(std::shared_ptr<const EventDataset> source, events::SlicerPtr slicer,
                const std::optional<std::string>& metadata_dir = std::nullopt);
  int64_t size() const override { return static_cast<int64_t>(slices_.size()); }
  events::Events events(int64_t index) const override;
  int64_t label(int64_t index) const override;
  events::SensorSize sensor() const override { return source_->sensor(); }
  std::string repr() const override;
  /// The source sample, the event range [start, stop) and the position of slice `index`
  /// among the slices of its sample (which e.g. SliceByTime's reset_time uses).
  struct Slice {
    int64_t sample, start, stop, piece;
  };
  const Slice& slice(int64_t index) const;
  /// Where the slice table is stored (empty without a metadata_dir).
  const std::string& metadata_file() const { return metadata_file_; }

 private:
  std::shared_ptr<const EventDataset> source_;
  events::SlicerPtr slicer_;
  std::vector<Slice> slices_;
  std::string metadata_file_;
};

/// A torch::data dataset of {representation(transform(events_i)), label_i} (label int64).
/// Random transforms draw from a generator seeded with (seed, i), so sample i is the same
/// on every thread and every run. Example:
///   auto ds = EventTensorDataset(std::make_shared<NMNIST>(root),
///                                events::parse_representation("ToFrame(n_time_bins=10)"));
///   DiskCachedDataset<EventTensorDataset> cached(ds, "cache", ds.key());
class EventTensorDataset : public torch::data::datasets::Dataset<EventTensorDataset> {
 public:
  EventTensorDataset(std::shared_ptr<const EventDataset> source,
                     events::RepresentationPtr representation,
                     events::TransformPtr transform = nullptr, uint64_t seed = 0);
  torch::data::Example<> get(size_t index) override;
  std::optional<size_t> size() const override { return static_cast<size_t>(source_->size()); }
  const EventDataset& source() const { return *source_; }
  /// "<dataset> | <transform> | <representation> | seed=<seed>": everything that decides
  /// the samples, for DiskCachedDataset's key.
  std::string key() const;

 private:
  std::shared_ptr<const EventDataset> source_;
  events::RepresentationPtr representation_;
  events::TransformPtr transform_;
  uint64_t seed_;
};

}  // namespace snn::data
