// torch.ops.snn_bench: times snn.cpp's C++ API in-process, for the benchmark scripts
// (bench/*.py), so that they can print what a C++ user gets (no tensor <-> events
// conversion) beside the Python-visible ops and the Python peers, all in the same run.
// Built as libsnn_bench.so; not part of the library.
#include <torch/library.h>
#include <torch/nn/functional/loss.h>
#include <torch/nn/modules/container/sequential.h>
#include <torch/nn/modules/conv.h>
#include <torch/nn/modules/linear.h>
#include <torch/optim/adam.h>

#include <algorithm>
#include <chrono>
#include <functional>
#include <string>
#include <vector>

#include "snn/events/io.h"
#include "snn/events/transforms.h"
#include "snn/nn/lif.h"
#include "snn/nn/stateful.h"
#include "snn/nn/structural.h"
#include "snn/snntorch/neurons.h"

namespace {

namespace ev = snn::events;

double median(std::vector<double> v) {
  std::nth_element(v.begin(), v.begin() + v.size() / 2, v.end());
  return v[v.size() / 2];
}

template <typename F>
double median_seconds(int64_t repeats, F&& f) {
  TORCH_CHECK(repeats >= 1, "snn_bench: repeats must be >= 1, got ", repeats);
  f();  // warm-up
  std::vector<double> times;
  for (int64_t r = 0; r < repeats; ++r) {
    const auto t0 = std::chrono::steady_clock::now();
    f();
    times.push_back(std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
  }
  std::nth_element(times.begin(), times.begin() + times.size() / 2, times.end());
  return times[times.size() / 2];
}

// Median time of one read_events of `path`.
double read_seconds(c10::string_view path, int64_t repeats) {
  const std::string p(path);
  return median_seconds(repeats, [&] { return ev::read_events(p).size(); });
}

// Median time of reading every sample of an SHD/SSC HDF5 file through one HSDFile (as the
// SHD and SSC datasets do).
double hsd_read_seconds(c10::string_view path, int64_t repeats) {
  const std::string p(path);
  return median_seconds(repeats, [&] {
    ev::HSDFile file(p);
    int64_t events = 0;
    for (int64_t i = 0; i < file.size(); ++i) events += file.events(i).size();
    return events;
  });
}

// Median time of applying `spec` (a transform, or a representation when `dense`) to the
// events, which are converted from the tensor once, outside the timing.
double apply_seconds(const at::Tensor& events, c10::IntArrayRef sensor, bool has_y,
                     c10::string_view spec, bool dense, int64_t repeats) {
  TORCH_CHECK(sensor.size() == 3, "snn_bench: expected sensor_size (W, H, P), got ", sensor);
  const auto e = ev::Events::from_tensor(events, {sensor[0], sensor[1], sensor[2]}, has_y);
  if (dense) {
    const auto r = ev::parse_representation(std::string(spec));
    return median_seconds(repeats, [&] { return r->apply(e).numel(); });
  }
  const auto t = ev::parse_transform(std::string(spec));
  return median_seconds(repeats, [&] { return t->apply(e, 0).size(); });
}

// Times of `steps` training steps (after one warm-up step) of `model` with Adam (lr 1e-3)
// and cross-entropy on the spikes summed over time: states reset, forward, loss, backward,
// optimiser step. input [B, T, ...]; the model returns [B, T, classes].
std::vector<double> train_seconds(torch::nn::Sequential model, const at::Tensor& input,
                                  const at::Tensor& labels, int64_t steps) {
  TORCH_CHECK(steps >= 1, "snn_bench: steps must be >= 1, got ", steps);
  torch::optim::Adam opt(model->parameters(), torch::optim::AdamOptions(1e-3));
  std::vector<double> times;
  for (int64_t s = 0; s <= steps; ++s) {
    const auto t0 = std::chrono::steady_clock::now();
    snn::reset_states(*model);
    opt.zero_grad();
    const auto out = model->forward(input);
    const auto loss = torch::nn::functional::cross_entropy(out.sum(1), labels);
    loss.backward();
    opt.step();
    const double dt = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    if (s > 0) times.push_back(dt);
  }
  return times;
}

// The SHD tutorial model: Linear 140→64 → IAF → 64→64 → IAF → 64→20 → IAF on [B, T, 140].
std::vector<double> shd_train_seconds(const at::Tensor& input, const at::Tensor& labels,
                                      int64_t steps) {
  TORCH_CHECK(input.dim() == 3 && input.size(2) == 140,
              "snn_bench: expected input [B, T, 140], got ", input.sizes());
  torch::manual_seed(0);
  using torch::nn::Linear;
  auto model = torch::nn::Sequential(Linear(140, 64), snn::IAF(), Linear(64, 64), snn::IAF(),
                                     Linear(64, 20), snn::IAF());
  return train_seconds(model, input, labels, steps);
}

// The DVS tutorial's convolutional model on frames [B, T, 2, 64, 64], 11 classes:
// Conv(2→8, k3, pad 1) → IAFSqueeze → SumPool(2) → Conv(8→16, k3, pad 1) → IAFSqueeze →
// SumPool(2) → Conv(16→16, k3, pad 1) → IAFSqueeze → SumPool(2) → Flatten →
// Linear(16·8·8 → 11) → IAFSqueeze.
std::vector<double> dvs_train_seconds(const at::Tensor& input, const at::Tensor& labels,
                                      int64_t steps) {
  TORCH_CHECK(input.dim() == 5 && input.size(2) == 2 && input.size(3) == 64 &&
                  input.size(4) == 64,
              "snn_bench: expected input [B, T, 2, 64, 64], got ", input.sizes());
  torch::manual_seed(0);
  const int64_t B = input.size(0);
  auto iaf = [&] { return snn::IAFSqueeze(snn::IAFOptions(), snn::SqueezeOptions().batch_size(B)); };
  using torch::nn::Conv2d;
  using torch::nn::Conv2dOptions;
  auto conv = [](int64_t in, int64_t out) {
    return Conv2d(Conv2dOptions(in, out, 3).padding(1).bias(false));
  };
  auto model = torch::nn::Sequential(
      snn::FlattenTime(), conv(2, 8), iaf(), snn::SumPool2d(2), conv(8, 16), iaf(),
      snn::SumPool2d(2), conv(16, 16), iaf(), snn::SumPool2d(2), torch::nn::Flatten(),
      torch::nn::Linear(torch::nn::LinearOptions(16 * 8 * 8, 11).bias(false)), iaf(),
      snn::UnflattenTime(B));
  return train_seconds(model, input, labels, steps);
}

// snnTorch's models as the C++ layers run them, on x [B, T, N] (beta 0.905, alpha 0.819,
// threshold 1, subtractive reset; RLeaky all-to-all over N): the median seconds of
// [forward (graph recorded), backward of output.sum()]. `step`: a loop of the single-step
// call `layer(x_t, states...)`, as snnTorch users write it, each x_t its own leaf tensor
// (made outside the timing: the backward of slicing one input would add a full-size
// gradient per step to both sides); else the sequence forward.
std::vector<double> snntorch_layer_seconds(const at::Tensor& x, c10::string_view model_name,
                                           bool step, int64_t repeats) {
  TORCH_CHECK(x.dim() == 3, "snn_bench: expected x [B, T, N], got ", x.sizes());
  TORCH_CHECK(repeats >= 1, "snn_bench: repeats must be >= 1, got ", repeats);
  namespace st = snn::snntorch;
  const std::string model(model_name);
  const int64_t T = x.size(1), N = x.size(2);
  std::vector<at::Tensor> xs;  // the step inputs of this repetition
  std::function<at::Tensor(const at::Tensor&)> run;
  if (model == "Leaky") {
    st::Leaky l(st::LeakyOptions(0.905));
    run = [l, step, T, &xs](const at::Tensor& in) mutable {
      l->reset_mem();  // a fresh start (no graph kept from the last run)
      if (!step) return l(in);
      at::Tensor mem = at::zeros_like(xs[0]);
      std::vector<at::Tensor> out;
      for (int64_t t = 0; t < T; ++t) {
        auto [spk, m] = l(xs[t], mem);
        mem = m;
        out.push_back(spk);
      }
      return at::stack(out, 1);
    };
  } else if (model == "Synaptic") {
    st::Synaptic l(st::SynapticOptions(0.819, 0.905));
    run = [l, step, T, &xs](const at::Tensor& in) mutable {
      l->reset_mem();  // a fresh start (no graph kept from the last run)
      if (!step) return l(in);
      at::Tensor syn = at::zeros_like(xs[0]), mem = at::zeros_like(syn);
      std::vector<at::Tensor> out;
      for (int64_t t = 0; t < T; ++t) {
        auto [spk, sy, m] = l(xs[t], syn, mem);
        syn = sy;
        mem = m;
        out.push_back(spk);
      }
      return at::stack(out, 1);
    };
  } else if (model == "Alpha") {
    st::Alpha l(st::AlphaOptions(0.905, 0.819).reset_mechanism("subtract"));
    run = [l, step, T, &xs](const at::Tensor& in) mutable {
      l->reset_mem();  // a fresh start (no graph kept from the last run)
      if (!step) return l(in);
      at::Tensor e = at::zeros_like(xs[0]), i = at::zeros_like(e), mem = at::zeros_like(e);
      std::vector<at::Tensor> out;
      for (int64_t t = 0; t < T; ++t) {
        auto [spk, se, si, m] = l(xs[t], e, i, mem);
        e = se;
        i = si;
        mem = m;
        out.push_back(spk);
      }
      return at::stack(out, 1);
    };
  } else {
    TORCH_CHECK(model == "RLeaky", "snn_bench: unknown snnTorch model ", model);
    torch::manual_seed(0);
    st::RLeaky l(st::RLeakyOptions(0.905).linear_features(N));
    run = [l, step, T, &xs](const at::Tensor& in) mutable {
      l->reset_mem();  // a fresh start (no graph kept from the last run)
      if (!step) return l(in);
      at::Tensor spk = at::zeros_like(xs[0]), mem = at::zeros_like(spk);
      std::vector<at::Tensor> out;
      for (int64_t t = 0; t < T; ++t) {
        auto [s, m] = l(xs[t], spk, mem);
        spk = s;
        mem = m;
        out.push_back(s);
      }
      return at::stack(out, 1);
    };
  }
  std::vector<double> fwd, bwd;
  for (int64_t r = 0; r <= repeats; ++r) {
    const auto xi = x.detach().requires_grad_(true);
    xs.clear();
    for (int64_t t = 0; step && t < T; ++t) {
      xs.push_back(x.select(1, t).contiguous().requires_grad_(true));
    }
    const auto t0 = std::chrono::steady_clock::now();
    const auto out = run(xi);
    const auto t1 = std::chrono::steady_clock::now();
    out.sum().backward();
    const auto t2 = std::chrono::steady_clock::now();
    if (r == 0) continue;  // warm-up
    fwd.push_back(std::chrono::duration<double>(t1 - t0).count());
    bwd.push_back(std::chrono::duration<double>(t2 - t1).count());
  }
  return {median(fwd), median(bwd)};
}

}  // namespace

TORCH_LIBRARY(snn_bench, m) {
  m.def("snntorch_layer_seconds(Tensor x, str model, bool step, int repeats) -> float[]",
        &snntorch_layer_seconds);
  m.def("shd_train_seconds(Tensor input, Tensor labels, int steps) -> float[]",
        &shd_train_seconds);
  m.def("dvs_train_seconds(Tensor input, Tensor labels, int steps) -> float[]",
        &dvs_train_seconds);
  m.def("read_seconds(str path, int repeats) -> float", &read_seconds);
  m.def("hsd_read_seconds(str path, int repeats) -> float", &hsd_read_seconds);
  m.def("apply_seconds(Tensor events, int[] sensor_size, bool has_y, str spec, bool dense, "
        "int repeats) -> float",
        &apply_seconds);
}
