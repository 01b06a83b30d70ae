// torch.ops.snn entries of snn::io's pictures (Python access, e.g. for tests).
#include <torch/library.h>

#include "snn/io/image.h"

TORCH_LIBRARY_FRAGMENT(snn, m) {
  m.def("write_png(str path, Tensor rgb) -> ()", [](c10::string_view path, const at::Tensor& rgb) {
    snn::io::write_png(std::string(path), rgb);
  });
  m.def("write_gif(str path, Tensor frames, int delay_cs=10) -> ()",
        [](c10::string_view path, const at::Tensor& frames, int64_t delay_cs) {
          snn::io::write_gif(std::string(path), frames, static_cast<int>(delay_cs));
        });
  m.def("frames_to_rgb(Tensor frames) -> Tensor", &snn::io::frames_to_rgb);
}
