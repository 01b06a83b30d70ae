#include "snn/data/event_datasets.h"

#include <ATen/ops/scalar_tensor.h>
#include <c10/util/Exception.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "snn/data/cache.h"
#include "snn/events/io.h"
#include "util/atomic_file.h"

namespace snn::data {
namespace {

namespace fs = std::filesystem;

// Throws the "missing files" error: what is missing, and where to get it.
[[noreturn]] void missing(const std::string& dataset, const std::vector<std::string>& paths,
                          const std::string& how_to_get) {
  std::string list;
  for (const auto& p : paths) list += "\n  " + p;
  TORCH_CHECK(false, "snn::data::", dataset, ": missing file(s):", list, "\n", how_to_get);
}

std::vector<fs::path> sorted_entries(const fs::path& folder, bool directories) {
  std::vector<fs::path> out;
  for (const auto& e : fs::directory_iterator(folder)) {
    if (directories ? e.is_directory() : e.is_regular_file()) out.push_back(e.path());
  }
  std::sort(out.begin(), out.end());
  return out;
}

}  // namespace

void EventDataset::check_index(int64_t index) const {
  TORCH_CHECK(index >= 0 && index < size(), "snn::data::", repr(), ": index ", index,
              " out of range for ", size(), " samples");
}

// ---- SHD / SSC -----------------------------------------------------------------------------

// The file, opened once (HSDFile is safe to read from the loader's worker threads).
struct SHD::File {
  explicit File(const std::string& path) : hsd(path) {}
  events::HSDFile hsd;
};

SHD::SHD(const std::string& root, bool train)
    : SHD(root, train ? "shd_train.h5" : "shd_test.h5", train ? "SHD(train)" : "SHD(test)") {}

SHD::SHD(const std::string& root, const std::string& file, const std::string& name) : name_(name) {
  const auto path = (fs::path(root) / file).string();
  if (!fs::exists(path)) {
    missing(name, {path},
            "Download " + file +
                ".zip from https://zenkelab.org/datasets/ and "
                "unzip it into " +
                root + ".");
  }
  file_ = std::make_shared<File>(path);
}

int64_t SHD::size() const {
  return file_->hsd.size();
}

events::Events SHD::events(int64_t index) const {
  check_index(index);
  return file_->hsd.events(index);
}

int64_t SHD::label(int64_t index) const {
  check_index(index);
  return file_->hsd.label(index);
}

int64_t SHD::speaker(int64_t index) const {
  check_index(index);
  return file_->hsd.speaker(index);
}

events::SensorSize SHD::sensor() const {
  return events::HSDFile::kSensor;
}
std::string SHD::repr() const {
  return name_;
}

SSC::SSC(const std::string& root, const std::string& split)
    : SHD(root, "ssc_" + split + ".h5", "SSC(" + split + ")") {
  TORCH_CHECK(split == "train" || split == "valid" || split == "test",
              "snn::data::SSC: split must be \"train\", \"valid\" or \"test\", got \"", split,
              "\"");
}

// ---- N-MNIST ---------------------------------------------------------------------------------

NMNIST::NMNIST(const std::string& root, bool train, bool first_saccade_only)
    : train_(train), first_saccade_only_(first_saccade_only) {
  const std::string split = train ? "Train" : "Test";
  const fs::path folder = fs::path(root) / split;
  std::vector<std::string> absent;
  for (int digit = 0; digit < 10; ++digit) {
    const fs::path sub = folder / std::to_string(digit);
    if (!fs::is_directory(sub)) {
      absent.push_back(sub.string() + "/");
      continue;
    }
    for (const auto& file : sorted_entries(sub, /*directories=*/false)) {
      if (file.extension() != ".bin") continue;
      files_.push_back(file.string());
      labels_.push_back(digit);
    }
  }
  if (!absent.empty()) {
    missing("NMNIST", absent,
            "Download " + split +
                ".zip from https://www.garrickorchard.com/datasets/n-mnist and "
                "unzip it into " +
                root + " (giving " + folder.string() + "/0 ... /9).");
  }
}

events::Events NMNIST::events(int64_t index) const {
  check_index(index);
  auto e = events::read_events(files_[index], events::FileFormat::NMNIST);
  if (!first_saccade_only_) return e;
  std::vector<bool> keep(e.size());
  for (int64_t i = 0; i < e.size(); ++i) keep[i] = e.t[i] < 100000;
  return e.select(keep);
}

int64_t NMNIST::label(int64_t index) const {
  check_index(index);
  return labels_[index];
}

std::string NMNIST::repr() const {
  return std::string("NMNIST(") + (train_ ? "train" : "test") +
         (first_saccade_only_ ? ", first_saccade_only" : "") + ")";
}

// ---- DVS Gesture -------------------------------------------------------------------------

DVSGesture::DVSGesture(const std::string& root, bool train) : train_(train) {
  const std::string list = train ? "trials_to_train.txt" : "trials_to_test.txt";
  const auto list_path = (fs::path(root) / list).string();
  const std::string source =
      "Download DvsGesture.tar.gz from https://research.ibm.com/interactive/dvsgesture/ and "
      "unpack it so that " +
      root + " holds the .aedat recordings, their _labels.csv files and " + list + ".";
  if (!fs::exists(list_path)) missing("DVSGesture", {list_path}, source);
  std::vector<std::string> absent;
  for (const auto& name : events::read_trial_list(list_path)) {
    const fs::path recording = fs::path(root) / name;
    fs::path labels = recording;
    labels.replace_filename(recording.stem().string() + "_labels.csv");
    bool ok = true;
    for (const auto& p : {recording, labels}) {
      if (!fs::exists(p)) {
        absent.push_back(p.string());
        ok = false;
      }
    }
    if (!ok) continue;
    const int64_t r = static_cast<int64_t>(recordings_.size());
    recordings_.push_back(recording.string());
    for (const auto& seg : events::read_gesture_labels(labels.string())) {
      TORCH_CHECK(seg.label >= 1 && seg.label <= 11, "snn::data::DVSGesture: ", labels.string(),
                  ": class ", seg.label, " outside 1..11");
      samples_.push_back({r, seg.label - 1, seg.start_us, seg.end_us});
    }
  }
  if (!absent.empty()) missing("DVSGesture", absent, source);
}

events::Events DVSGesture::events(int64_t index) const {
  check_index(index);
  const Sample& s = samples_[index];
  std::lock_guard<std::mutex> lock(mutex_);
  if (cached_recording_ != s.recording) {
    cached_events_ = events::read_events(recordings_[s.recording], events::FileFormat::AEDAT3);
    cached_recording_ = s.recording;
  }
  return events::cut_gestures(cached_events_, {{s.label + 1, s.start_us, s.end_us}}).front();
}

int64_t DVSGesture::label(int64_t index) const {
  check_index(index);
  return samples_[index].label;
}

std::string DVSGesture::repr() const {
  return std::string("DVSGesture(") + (train_ ? "train" : "test") + ")";
}

// ---- folder of files ---------------------------------------------------------------------

EventFolder::EventFolder(const std::string& root, std::optional<events::SensorSize> sensor)
    : root_(root) {
  TORCH_CHECK(fs::is_directory(root), "snn::data::EventFolder: ", root,
              " is not a folder (expected <root>/<class>/<event files>)");
  for (const auto& dir : sorted_entries(root, /*directories=*/true)) {
    const int64_t label = static_cast<int64_t>(classes_.size());
    classes_.push_back(dir.filename().string());
    for (const auto& file : sorted_entries(dir, /*directories=*/false)) {
      files_.push_back(file.string());
      labels_.push_back(label);
    }
  }
  TORCH_CHECK(!files_.empty(), "snn::data::EventFolder: no event files in ", root,
              " (expected <root>/<class>/<event files>)");
  if (sensor) {
    sensor_ = *sensor;
  } else {
    sensor_ = events::EventFileReader(files_.front()).sensor();
  }
}

events::Events EventFolder::events(int64_t index) const {
  check_index(index);
  events::ReadOptions options;
  options.sensor = sensor_;
  return events::read_events(files_[index], events::FileFormat::Auto, options);
}

int64_t EventFolder::label(int64_t index) const {
  check_index(index);
  return labels_[index];
}

std::string EventFolder::repr() const {
  return "EventFolder(" + root_ + ")";
}

// ---- slices ------------------------------------------------------------------------------

SlicedDataset::SlicedDataset(std::shared_ptr<const EventDataset> source, events::SlicerPtr slicer,
                             const std::optional<std::string>& metadata_dir)
    : source_(std::move(source)), slicer_(std::move(slicer)) {
  TORCH_CHECK(source_ != nullptr && slicer_ != nullptr,
              "snn::data::SlicedDataset: needs a source dataset and a slicer");
  const std::string key = source_->repr() + " | " + slicer_->repr();
  if (metadata_dir) {
    fs::create_directories(*metadata_dir);
    metadata_file_ =
        (fs::path(*metadata_dir) / (detail::stable_hash_hex(key) + ".slices")).string();
    std::ifstream in(metadata_file_);
    std::string stored_key;
    if (in && std::getline(in, stored_key) && stored_key == key) {
      int64_t n = 0;
      in >> n;
      TORCH_CHECK(in && n >= 0, "snn::data::SlicedDataset: damaged slice table ", metadata_file_,
                  " (delete it to have it rebuilt)");
      Slice sl{};
      while (in >> sl.sample >> sl.start >> sl.stop >> sl.piece) {
        TORCH_CHECK(sl.sample >= 0 && sl.sample < source_->size() && 0 <= sl.start &&
                        sl.start <= sl.stop && sl.piece >= 0,
                    "snn::data::SlicedDataset: damaged slice table ", metadata_file_,
                    " (delete it to have it rebuilt)");
        slices_.push_back(sl);
      }
      TORCH_CHECK(static_cast<int64_t>(slices_.size()) == n,
                  "snn::data::SlicedDataset: damaged slice table ", metadata_file_, ": ",
                  slices_.size(), " of ", n, " slices (delete it to have it rebuilt)");
      return;
    }
  }
  for (int64_t i = 0; i < source_->size(); ++i) {
    int64_t piece = 0;
    for (const auto& r : slicer_->slice_indices(source_->events(i))) {
      slices_.push_back({i, r.start, r.stop, piece++});
    }
  }
  if (!metadata_file_.empty()) {
    std::ostringstream os;
    os << key << "\n" << slices_.size() << "\n";
    for (const auto& sl : slices_) {
      os << sl.sample << " " << sl.start << " " << sl.stop << " " << sl.piece << "\n";
    }
    snn::detail::write_file_atomically(metadata_file_, os.str());
  }
}

const SlicedDataset::Slice& SlicedDataset::slice(int64_t index) const {
  check_index(index);
  return slices_[index];
}

events::Events SlicedDataset::events(int64_t index) const {
  const Slice& sl = slice(index);
  const auto all = source_->events(sl.sample);
  TORCH_CHECK(sl.stop <= all.size(), "snn::data::SlicedDataset: slice [", sl.start, ", ", sl.stop,
              ") of sample ", sl.sample, " exceeds its ", all.size(),
              " events: the source changed since the slice table ", metadata_file_,
              " was written (delete it)");
  return slicer_->piece(all, {sl.start, sl.stop}, sl.piece);
}

int64_t SlicedDataset::label(int64_t index) const {
  return source_->label(slice(index).sample);
}

std::string SlicedDataset::repr() const {
  return "Sliced(" + source_->repr() + ", " + slicer_->repr() + ")";
}

// ---- tensors -----------------------------------------------------------------------------

EventTensorDataset::EventTensorDataset(std::shared_ptr<const EventDataset> source,
                                       events::RepresentationPtr representation,
                                       events::TransformPtr transform, uint64_t seed)
    : source_(std::move(source)),
      representation_(std::move(representation)),
      transform_(std::move(transform)),
      seed_(seed) {
  TORCH_CHECK(source_ != nullptr, "snn::data::EventTensorDataset: no source dataset");
  TORCH_CHECK(representation_ != nullptr,
              "snn::data::EventTensorDataset: no representation (events -> tensor)");
}

torch::data::Example<> EventTensorDataset::get(size_t index) {
  const auto i = static_cast<int64_t>(index);
  auto events = source_->events(i);
  if (transform_) {
    // One generator per sample: the same sample gets the same draw on every thread.
    events::Rng rng(seed_ * 0x9E3779B97F4A7C15ull + index);
    events = transform_->apply(events, rng);
  }
  return {representation_->apply(events), at::scalar_tensor(source_->label(i), at::kLong)};
}

std::string EventTensorDataset::key() const {
  return source_->repr() + " | " + (transform_ ? transform_->repr() + " | " : "") +
         representation_->repr() + " | seed=" + std::to_string(seed_);
}

}  // namespace snn::data
