// torch.ops.snn entries of snn::data (Python access, e.g. for the parity tests).
#include <torch/library.h>

#include "snn/data/collate.h"
#include "snn/train/presets.h"

TORCH_LIBRARY_FRAGMENT(snn, m) {
  m.def("pad_tensors(Tensor[] samples, bool batch_first=True) -> Tensor",
        [](std::vector<at::Tensor> samples, bool batch_first) {
          return snn::data::pad_tensors(samples, batch_first);
        });
  m.def("hsd_frames(str path, int channels=140, int time_bins=70, int bin_ms=0) -> (Tensor, Tensor)",
        [](const std::string& path, int64_t channels, int64_t time_bins, int64_t bin_ms) {
          const auto d = snn::train::hsd_frames(path, channels, time_bins, bin_ms);
          return std::make_tuple(d.inputs, d.labels);
        });
}
