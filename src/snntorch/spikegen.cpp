// snnTorch's spike generators, operation for operation as snntorch.spikegen computes them.
#include "snn/snntorch/spikegen.h"

#include <ATen/ATen.h>
#include <c10/util/Exception.h>
#include <torch/library.h>

namespace snn::snntorch::spikegen {
namespace {
constexpr const char* kWhat = "snn::snntorch::spikegen";
}  // namespace

at::Tensor rate_conv(const at::Tensor& data, std::optional<at::Generator> generator) {
  return at::bernoulli(at::clamp(data, 0, 1), generator);
}

at::Tensor rate(const at::Tensor& data, const RateOptions& o) {
  TORCH_CHECK(o.first_spike_time() >= 0 && o.num_steps() >= 0, kWhat,
              "::rate: first_spike_time and num_steps cannot be negative, got ",
              o.first_spike_time(), " and ", o.num_steps());
  TORCH_CHECK(!(o.time_var_input() && o.num_steps() > 0), kWhat,
              "::rate: num_steps must be 0 with time_var_input (the data's first dimension is "
              "time), got ", o.num_steps());
  TORCH_CHECK(o.time_var_input() || o.num_steps() > 0, kWhat,
              "::rate: num_steps must be > 0 for data that is not time-varying");
  TORCH_CHECK(o.time_var_input() || o.first_spike_time() <= o.num_steps() - 1, kWhat,
              "::rate: first_spike_time (", o.first_spike_time(),
              ") must be <= num_steps - 1 (", o.num_steps() - 1, ")");
  if (o.time_var_input()) {
    auto spikes = rate_conv(data, o.generator());
    if (o.first_spike_time() > 0) {
      auto shape = spikes.sizes().vec();
      shape[0] = o.first_spike_time();
      spikes = at::cat({at::zeros(shape, spikes.options()), spikes});
    }
    return spikes;
  }
  // snnTorch: data.repeat(num_steps, 1, ...) * gain + offset.
  std::vector<int64_t> repeat(data.dim() + 1, 1);
  repeat[0] = o.num_steps();
  const auto time_data = data.repeat(repeat) * o.gain() + o.offset();
  auto spikes = rate_conv(time_data, o.generator());
  if (o.first_spike_time() > 0) spikes.slice(0, 0, o.first_spike_time()).zero_();
  return spikes;
}

at::Tensor latency(const at::Tensor& data, const LatencyOptions& o) {
  TORCH_CHECK(data.numel() > 0, kWhat, "::latency: the data is empty");
  const double lo = data.min().item<double>(), hi = data.max().item<double>();
  TORCH_CHECK(lo >= 0 && hi <= 1, kWhat, "::latency: elements of data must be in [0, 1], got [",
              lo, ", ", hi, "]");
  TORCH_CHECK(o.threshold() > 0 && o.threshold() < 1, kWhat,
              "::latency: threshold must be in (0, 1), got ", o.threshold());
  TORCH_CHECK(o.tau() > 0, kWhat, "::latency: tau must be > 0, got ", o.tau());
  TORCH_CHECK(o.num_steps() >= 0 && o.first_spike_time() >= 0, kWhat,
              "::latency: num_steps and first_spike_time cannot be negative, got ",
              o.num_steps(), " and ", o.first_spike_time());
  TORCH_CHECK(o.num_steps() > 0 || o.bypass(), kWhat,
              "::latency: num_steps must be given (or bypass set: num_steps becomes the last "
              "spike time + 1)");
  TORCH_CHECK(o.first_spike_time() == 0 || o.num_steps() == 0 ||
                  o.first_spike_time() <= o.num_steps() - 1,
              kWhat, "::latency: first_spike_time (", o.first_spike_time(),
              ") must be <= num_steps - 1 (", o.num_steps() - 1, ")");
  TORCH_CHECK(!o.normalize() || o.num_steps() > 0, kWhat,
              "::latency: normalize needs num_steps");
  const auto below = data < o.threshold();
  const double first = static_cast<double>(o.first_spike_time());
  at::Tensor t;
  if (!o.linear()) {
    const auto d = at::clamp_min(data, o.threshold() + o.epsilon());
    t = o.tau() * at::log(d / (d - o.threshold()));
    if (o.first_spike_time() > 0) t = t + first;
    if (o.normalize()) {
      t = (t - first) * static_cast<double>(o.num_steps() - o.first_spike_time() - 1) /
              at::max(t - first) +
          first;
    }
  } else {
    const double tau = o.normalize() ? static_cast<double>(o.num_steps() - 1) - first : o.tau();
    t = at::clamp_max(-tau * (data - 1), -tau * (o.threshold() - 1)) + first;
    if (o.normalize() && t.min().item<double>() < 0) {
      t = (t - at::min(t)) * (1 / (at::max(t) - at::min(t))) *
          static_cast<double>(o.num_steps() - 1);
    }
  }
  int64_t steps = o.num_steps();
  const int64_t last = at::round(at::max(t)).item<int64_t>();
  if (steps == 0) {
    steps = last + 1;
    TORCH_CHECK(steps > 0, kWhat, "::latency: num_steps from the spike times is ", steps,
                ": normalise the data to larger values or lower the threshold");
  }
  TORCH_CHECK(last <= steps - 1 || o.bypass(), kWhat, "::latency: the last spike time ", last,
              " is beyond num_steps - 1 (", steps - 1,
              "): set bypass, lower tau, or set normalize");
  auto shape = t.sizes().vec();
  shape.insert(shape.begin(), steps);
  const auto dropped = at::round(t).to(at::kLong) > steps - 1;
  const auto index = at::round(at::clamp_max(t, static_cast<double>(steps - 1))).to(at::kLong);
  auto spikes = at::zeros(shape, data.options().dtype(at::kFloat))
                    .scatter(0, index.unsqueeze(0), 1.0) *
                at::logical_not(dropped);
  if (o.clip()) spikes = spikes * at::logical_not(below);
  return at::clamp_min(spikes * o.on_target(), o.off_target());
}

at::Tensor delta(const at::Tensor& data, const DeltaOptions& o) {
  TORCH_CHECK(data.dim() >= 1 && data.size(0) >= 1, kWhat,
              "::delta: expected time-first data [T, ...], got ", data.sizes());
  const auto first = o.padding() ? data.slice(0, 0, 1) : at::zeros_like(data.slice(0, 0, 1));
  const auto previous = at::cat({first, data}).slice(0, 0, data.size(0));
  const auto change = data - previous;
  auto on = at::ones_like(data) * (change >= o.threshold());
  if (!o.off_spike()) return on;
  return on + -at::ones_like(data) * (change <= -o.threshold());
}

at::Tensor to_one_hot(const at::Tensor& targets, int64_t num_classes) {
  TORCH_CHECK(targets.dim() == 1, kWhat, "::to_one_hot: expected targets [N], got ",
              targets.sizes());
  TORCH_CHECK(num_classes >= 1, kWhat, "::to_one_hot: num_classes must be >= 1, got ",
              num_classes);
  if (targets.numel() > 0) {
    const auto most = targets.max().item<double>();
    TORCH_CHECK(most <= num_classes - 1 && targets.min().item<double>() >= 0, kWhat,
                "::to_one_hot: target ", most, " is out of bounds for num_classes ",
                num_classes);
  }
  return at::zeros({targets.size(0), num_classes}, targets.options().dtype(at::kFloat))
      .scatter(1, targets.to(at::kLong).unsqueeze(-1), 1.0);
}

}  // namespace snn::snntorch::spikegen

// torch.ops.snn.spikegen_* (Python access, for the parity tests against snnTorch).
TORCH_LIBRARY_FRAGMENT(snn, m) {
  using namespace snn::snntorch::spikegen;
  m.def("spikegen_rate(Tensor data, int num_steps=0, float gain=1, float offset=0, "
        "int first_spike_time=0, bool time_var_input=False) -> Tensor",
        [](const at::Tensor& data, int64_t num_steps, double gain, double offset,
           int64_t first_spike_time, bool time_var_input) {
          return rate(data, RateOptions()
                                .num_steps(num_steps)
                                .gain(gain)
                                .offset(offset)
                                .first_spike_time(first_spike_time)
                                .time_var_input(time_var_input));
        });
  m.def("spikegen_latency(Tensor data, int num_steps=0, float threshold=0.01, float tau=1, "
        "int first_spike_time=0, float on_target=1, float off_target=0, bool clip=False, "
        "bool normalize=False, bool linear=False, bool bypass=False, float epsilon=1e-7) -> Tensor",
        [](const at::Tensor& data, int64_t num_steps, double threshold, double tau,
           int64_t first_spike_time, double on_target, double off_target, bool clip,
           bool normalize, bool linear, bool bypass, double epsilon) {
          return latency(data, LatencyOptions()
                                   .num_steps(num_steps)
                                   .threshold(threshold)
                                   .tau(tau)
                                   .first_spike_time(first_spike_time)
                                   .on_target(on_target)
                                   .off_target(off_target)
                                   .clip(clip)
                                   .normalize(normalize)
                                   .linear(linear)
                                   .bypass(bypass)
                                   .epsilon(epsilon));
        });
  m.def("spikegen_delta(Tensor data, float threshold=0.1, bool padding=False, "
        "bool off_spike=False) -> Tensor",
        [](const at::Tensor& data, double threshold, bool padding, bool off_spike) {
          return delta(data,
                       DeltaOptions().threshold(threshold).padding(padding).off_spike(off_spike));
        });
  m.def("spikegen_to_one_hot(Tensor targets, int num_classes) -> Tensor", &to_one_hot);
}
