#pragma once
// The audio-folder data source (data_sources.h, "audio"): sound files → cochlea spikes →
// frames, with labels and a test split taken from the file names. Private to libsnn.
#include "snn/train/data_sources.h"

namespace snn::train::detail {

TrainingData audio_folder(const DataOptions& options);

}  // namespace snn::train::detail
