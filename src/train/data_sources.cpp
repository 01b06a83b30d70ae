// The data sources of snn::train (data_sources.h): a registry by name, and the built-in
// audio (SHD layout) and camera (N-MNIST, DVS Gesture) sources.
#include "snn/train/data_sources.h"

#include <ATen/ATen.h>
#include <c10/util/Exception.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <mutex>

#include "snn/data/event_datasets.h"
#include "snn/data/spoken_digits.h"
#include "snn/events/io.h"
#include "snn/train/presets.h"
#include "audio_folder.h"

namespace snn::train {
namespace {

namespace fs = std::filesystem;

void log(const DataOptions& o, const std::string& line) {
  if (o.log()) o.log()(line);
}

// Files or folders a source needs under path: the missing ones are named, with `what`.
void require(const DataOptions& o, const std::vector<std::string>& names, const std::string& what) {
  TORCH_CHECK(!o.path().empty(), "data: the ", o.source(), " source needs the folder of its files "
              "(data.path, --data-path)");
  std::string missing;
  for (const auto& n : names) {
    if (!fs::exists(fs::path(o.path()) / n)) missing += "\n  " + (fs::path(o.path()) / n).string();
  }
  TORCH_CHECK(missing.empty(), "data: missing ", o.source(), " files:", missing, "\n", what);
}

int64_t classes_of(const TrainingData& d) {
  return std::max(d.train.labels.max().item<int64_t>(), d.test.labels.max().item<int64_t>()) + 1;
}

// The files' class names when they name every class, else "0", "1", ...
std::vector<std::string> class_names(const std::vector<std::string>& keys, int64_t classes) {
  if (static_cast<int64_t>(keys.size()) >= classes) {
    return std::vector<std::string>(keys.begin(), keys.begin() + classes);
  }
  std::vector<std::string> names;
  for (int64_t i = 0; i < classes; ++i) names.push_back(std::to_string(i));
  return names;
}

fs::path cache_base() {
  const char* cache = std::getenv("SNN_CACHE_DIR");
  const char* home = std::getenv("HOME");
  return cache != nullptr && *cache != '\0' ? fs::path(cache)
         : home != nullptr                 ? fs::path(home) / ".cache" / "snn.cpp"
                                           : fs::path(".snn-cache");
}

// SHD-layout files (train, test) → frames of channels.
TrainingData hsd_data(const DataOptions& o, const std::string& train, const std::string& test) {
  TrainingData d;
  d.train = hsd_frames(train, o.channels(), o.time_bins(), o.bin_ms());
  d.test = hsd_frames(test, o.channels(), o.time_bins(), o.bin_ms());
  d.frame = {o.channels()};
  const events::HSDFile file(test);
  d.sample = file.events(0);
  const auto& keys = file.keys();
  const int64_t label = file.label(0);
  d.sample_name = label < static_cast<int64_t>(keys.size()) ? keys[label]
                                                            : "label " + std::to_string(label);
  d.classes = classes_of(d);
  d.class_names = class_names(keys, d.classes);
  return d;
}

TrainingData spoken_digits(const DataOptions& o) {
  const std::string dir = o.path().empty() ? default_spoken_digits_dir() : o.path();
  log(o, "the embedded spoken digits in " + dir + " (made once, then reused)");
  const auto files = data::make_spoken_digits(
      dir, data::SpokenDigitsOptions()
                   .voices(o.voices())
                   .renditions(o.renditions())
                   .flite_renditions(o.flite_renditions())
                   .augment(o.augment()));
  return hsd_data(o, files.train, files.test);
}

DataSource hsd_source(const std::string& name, const std::string& title) {
  return {name,
          title + ": " + name + "_train.h5 and " + name + "_test.h5 (unpacked) in the folder",
          false, [name, title](const DataOptions& o) {
            require(o, {name + "_train.h5", name + "_test.h5"},
                    "place the " + title + " HDF5 files (unpacked) there, named as above");
            return hsd_data(o, (fs::path(o.path()) / (name + "_train.h5")).string(),
                            (fs::path(o.path()) / (name + "_test.h5")).string());
          }};
}

// Camera recordings → frames [P, H, W] per step (uint8 counts).
TrainingData camera_data(const DataOptions& o, const data::EventDataset& train,
                         const data::EventDataset& test) {
  log(o, train.repr() + " and " + test.repr() + " into frames");
  const double factor =
      o.spatial_factor() == 0 ? data_source(o.source()).spatial_factor : o.spatial_factor();
  TrainingData d;
  d.train = event_frames(train, o.time_bins(), factor);
  d.test = event_frames(test, o.time_bins(), factor);
  d.frame = d.train.inputs.sizes().slice(2).vec();
  d.sample = test.events(0);
  d.sample_name = "label " + std::to_string(test.label(0));
  d.classes = classes_of(d);
  d.class_names = class_names({}, d.classes);
  return d;
}

std::vector<DataSource> builtin_sources() {
  return {
      {"spoken-digits",
       "the embedded spoken digits (English and German, eSpeak NG voices), made once into the "
       "folder (default: the cache folder)",
       false, spoken_digits},
      hsd_source("shd", "SHD"),
      hsd_source("ssc", "SSC"),
      {"nmnist", "N-MNIST: Train/ and Test/ in the folder (.bin recordings, as Tonic unpacks them)",
       true,
       [](const DataOptions& o) {
         require(o, {"Train", "Test"}, "place N-MNIST's Train and Test folders there (one folder "
                 "of .bin recordings per digit, as Tonic unpacks them)");
         return camera_data(o, data::NMNIST(o.path(), true), data::NMNIST(o.path(), false));
       },
       1.0},
      // DVS Gesture's 128×128 pixels become 32×32, as in Sinabs' and Tonic's tutorials.
      {"dvs-gesture",
       "DVS Gesture: user*.aedat, their _labels.csv files and the two trial lists in the folder",
       true,
       [](const DataOptions& o) {
         require(o, {"trials_to_train.txt", "trials_to_test.txt"},
                 "place DVS Gesture's recordings there (user*.aedat, their _labels.csv files and "
                 "the two trial lists, as DvsGesture.tar.gz unpacks)");
         return camera_data(o, data::DVSGesture(o.path(), true),
                            data::DVSGesture(o.path(), false));
       },
       0.25},
      {"audio",
       "a folder of sound files (WAV, FLAC, ...): labels from subfolders or data.label_regex, "
       "the test split by data.test_speakers, data.test_list or data.test_fraction",
       false, detail::audio_folder},
  };
}

std::mutex& registry_mutex() {
  static std::mutex m;
  return m;
}

std::vector<DataSource>& registry() {
  static std::vector<DataSource> sources = builtin_sources();
  return sources;
}

}  // namespace

void register_data_source(DataSource source) {
  TORCH_CHECK(!source.name.empty() && source.load,
              "snn::train::register_data_source: a source needs a name and a load function");
  std::lock_guard<std::mutex> lock(registry_mutex());
  for (const auto& s : registry()) {
    TORCH_CHECK(s.name != source.name, "snn::train::register_data_source: a source named \"",
                source.name, "\" exists already");
  }
  registry().push_back(std::move(source));
}

std::vector<std::string> data_source_names() {
  std::lock_guard<std::mutex> lock(registry_mutex());
  std::vector<std::string> names;
  for (const auto& s : registry()) names.push_back(s.name);
  return names;
}

DataSource data_source(const std::string& name) {
  std::lock_guard<std::mutex> lock(registry_mutex());
  std::string known;
  for (const auto& s : registry()) {
    if (s.name == name) return s;
    known += (known.empty() ? "" : ", ") + s.name;
  }
  TORCH_CHECK(false, "data.source must be one of ", known, "; got \"", name, "\"");
}

TrainingData load_data(const DataOptions& o) {
  const auto source = data_source(o.source());
  TORCH_CHECK(o.time_bins() >= 1, "data.time_bins must be > 0; got ", o.time_bins());
  TORCH_CHECK(o.bin_ms() >= 0, "data.bin_ms must be >= 0; got ", o.bin_ms());
  TORCH_CHECK(source.camera || (o.channels() >= 1 && o.channels() <= 700),
              "data.channels must be in [1, 700]; got ", o.channels());
  return source.load(o);
}

std::string default_spoken_digits_dir() { return (cache_base() / "data" / "spoken-digits").string(); }

std::string audio_cache_dir() { return (cache_base() / "data" / "audio").string(); }

}  // namespace snn::train
