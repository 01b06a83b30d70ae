// torch.ops.snn entries of snn::data (Python access, e.g. for the parity tests).
#include <torch/library.h>

#include "snn/data/collate.h"

TORCH_LIBRARY_FRAGMENT(snn, m) {
  m.def("pad_tensors(Tensor[] samples, bool batch_first=True) -> Tensor",
        [](std::vector<at::Tensor> samples, bool batch_first) {
          return snn::data::pad_tensors(samples, batch_first);
        });
}
