// snnTorch's spike generators, operation for operation as snntorch.spikegen computes them.
#include "snn/snntorch/spikegen.h"

#include <ATen/ATen.h>
#include <c10/util/Exception.h>
#include <torch/library.h>

#include <algorithm>
#include <cctype>
#include <cmath>
#include <set>

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
  if (o.interpolate()) return latency_interpolate(t, steps, o.on_target(), o.off_target());
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

at::Tensor to_one_hot_inverse(const at::Tensor& one_hot) {
  return at::where(one_hot == 0, at::ones_like(one_hot), at::zeros_like(one_hot));
}

at::Tensor from_one_hot(const at::Tensor& one_hot) {
  TORCH_CHECK(one_hot.dim() == 1 || one_hot.dim() == 2, kWhat,
              "::from_one_hot: expected a one-hot [C] or [N, C], got ", one_hot.sizes());
  return at::nonzero(one_hot == 1).select(1, one_hot.dim() - 1);
}

namespace {

std::string lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return s;
}

void check_pattern(const char* op, const std::string& pattern) {
  const auto p = lower(pattern);
  TORCH_CHECK(p == "regular" || p == "uniform" || p == "poisson", kWhat, "::", op,
              ": firing_pattern must be \"regular\", \"uniform\" or \"poisson\", got \"",
              pattern, "\"");
}

}  // namespace

std::tuple<at::Tensor, at::Tensor> target_rate_code(int64_t num_steps,
                                                    const TargetRateCodeOptions& o) {
  TORCH_CHECK(num_steps >= 0, kWhat, "::target_rate_code: num_steps cannot be negative, got ",
              num_steps);
  TORCH_CHECK(o.rate() >= 0 && o.rate() <= 1, kWhat,
              "::target_rate_code: rate must be in [0, 1], got ", o.rate());
  TORCH_CHECK(o.first_spike_time() >= 0 && o.first_spike_time() <= num_steps, kWhat,
              "::target_rate_code: first_spike_time must be in [0, num_steps] = [0, ", num_steps,
              "], got ", o.first_spike_time());
  check_pattern("target_rate_code", o.firing_pattern());
  const auto f32 = at::TensorOptions().dtype(at::kFloat);
  if (o.rate() == 0) return {at::zeros({num_steps}, f32), at::empty({0}, at::kLong)};
  const auto pattern = lower(o.firing_pattern());
  const int64_t first = o.first_spike_time();
  if (pattern == "poisson") {
    const auto p = at::cat({at::zeros({first}, f32), at::full({num_steps - first}, o.rate(), f32)});
    const auto spikes = at::bernoulli(p, o.generator());
    return {spikes, at::nonzero(spikes == 1).select(1, 0)};
  }
  // As snnTorch: torch.arange(first, num_steps, 1 / rate) in float.
  auto times = at::arange(first, num_steps, 1.0 / o.rate(), f32);
  if (pattern == "uniform") {
    times = at::rand({times.size(0)}, o.generator(), f32) *
                static_cast<double>(num_steps - first) +
            static_cast<double>(first);
  }
  const auto index = times.to(at::kLong);
  return {at::zeros({num_steps}, f32).scatter(0, index, 1.0), index};
}

at::Tensor rate_interpolate(const at::Tensor& spike_time, int64_t num_steps, double on_target,
                            double off_target, double epsilon) {
  TORCH_CHECK(num_steps >= 0, kWhat, "::rate_interpolate: num_steps cannot be negative, got ",
              num_steps);
  const auto f32 = at::TensorOptions().dtype(at::kFloat);
  if (spike_time.numel() == 0) return at::ones({num_steps}, f32) * off_target;
  const auto times = spike_time.to(at::kDouble).contiguous().view(-1);
  const double* data = times.data_ptr<double>();
  const std::set<double> spikes(data, data + times.numel());
  std::vector<at::Tensor> parts;
  int64_t current = -1;
  for (int64_t step = 0; step < num_steps; ++step) {
    if (!spikes.count(static_cast<double>(step))) continue;
    if (step == current + 1) {
      parts.push_back(at::full({1}, on_target, f32));
    } else {
      TORCH_CHECK(on_target != off_target, kWhat,
                  "::rate_interpolate: on_target and off_target must differ for a ramp "
                  "between spikes, got ", on_target, " for both");
      parts.push_back(at::arange(off_target, on_target + epsilon,
                                 (on_target - off_target) / static_cast<double>(step - current - 1),
                                 f32));
    }
    current = step;
  }
  const double last = *spikes.rbegin();
  if (last < static_cast<double>(num_steps - 1)) {
    // snnTorch: one off_target for every step in range(int(max), num_steps - 1).
    const auto tail = static_cast<int64_t>(num_steps - 1 - static_cast<int64_t>(last));
    parts.push_back(at::full({std::max<int64_t>(tail, 0)}, off_target, f32));
  }
  return parts.empty() ? at::empty({0}, f32) : at::cat(parts);
}

at::Tensor latency_interpolate(const at::Tensor& spike_time, int64_t num_steps, double on_target,
                               double off_target) {
  TORCH_CHECK(on_target >= off_target, kWhat, "::latency_interpolate: on_target (", on_target,
              ") must be >= off_target (", off_target, ")");
  TORCH_CHECK(num_steps >= 1, kWhat, "::latency_interpolate: num_steps must be >= 1, got ",
              num_steps);
  auto s = at::round(spike_time).to(at::kFloat);
  // Times beyond num_steps become 0.5: t / 0.5 > 1 from step 1, which is cleared below.
  s = at::where(s > static_cast<double>(num_steps), at::full_like(s, 0.5), s);
  const auto zero = s == 0;
  const bool has_zero = zero.any().item<bool>();
  s = at::where(zero, at::full_like(s, 0.5), s);
  std::vector<int64_t> view(s.dim() + 1, 1);
  view[0] = num_steps;
  // snnTorch's step / s is Python's rtruediv: reciprocal(s) * step.
  auto targets = at::reciprocal(s) * at::arange(num_steps, s.options()).view(view);
  if (has_zero) targets[0] = zero.to(at::kFloat);
  targets = targets * (on_target - off_target) + off_target;
  return at::where(targets > on_target, at::full_like(targets, off_target), targets);
}

at::Tensor targets_rate(const at::Tensor& targets, int64_t num_classes,
                        const TargetsRateOptions& o) {
  const double cr = o.correct_rate(), ir = o.incorrect_rate();
  TORCH_CHECK(cr >= 0 && cr <= 1 && ir >= 0 && ir <= 1, kWhat,
              "::targets_rate: correct_rate and incorrect_rate must be in [0, 1], got ", cr,
              " and ", ir);
  TORCH_CHECK(ir <= cr, kWhat, "::targets_rate: correct_rate (", cr,
              ") must be >= incorrect_rate (", ir, ")");
  check_pattern("targets_rate", o.firing_pattern());
  const bool timed = cr != 1 || ir != 0 || o.first_spike_time() != 0;
  TORCH_CHECK(!timed || o.num_steps() > 0, kWhat,
              "::targets_rate: num_steps must be > 0 with rates or first_spike_time, got ",
              o.num_steps());
  TORCH_CHECK(o.first_spike_time() >= 0, kWhat,
              "::targets_rate: first_spike_time cannot be negative, got ", o.first_spike_time());
  const auto one_hot = to_one_hot(targets, num_classes).to(targets.device());
  const double on = o.on_target(), off = o.off_target();
  if (!timed) {
    if (on > off) return at::clamp_min(one_hot * on, off);
    return one_hot * on + to_one_hot_inverse(one_hot) * off;
  }
  const int64_t T = o.num_steps();
  if (cr == 1 && ir == 0) {
    auto spikes = at::clamp_min(one_hot * on, off).unsqueeze(0).repeat({T, 1, 1});
    spikes.slice(0, 0, std::min(o.first_spike_time(), T)).fill_(off);
    return spikes;
  }
  const auto code = [&](double rate) {
    return target_rate_code(T, TargetRateCodeOptions()
                                   .first_spike_time(o.first_spike_time())
                                   .rate(rate)
                                   .firing_pattern(o.firing_pattern())
                                   .generator(o.generator()));
  };
  const auto [correct, correct_times] = code(cr);
  const auto [incorrect, incorrect_times] = code(ir);
  const auto inverse = to_one_hot_inverse(one_hot);
  const auto along_time = [&](const at::Tensor& x) { return x.to(one_hot.device()).view({-1, 1, 1}); };
  if (!o.interpolate()) {
    return at::clamp_min((one_hot * along_time(correct) + inverse * along_time(incorrect)) * on,
                         off);
  }
  return one_hot * along_time(rate_interpolate(correct_times, T, on, off, o.epsilon())) +
         inverse * along_time(rate_interpolate(incorrect_times, T, on, off, o.epsilon()));
}

at::Tensor targets_latency(const at::Tensor& targets, int64_t num_classes,
                           const LatencyOptions& options) {
  return latency(to_one_hot(targets, num_classes), options);
}

at::Tensor targets_convert(const at::Tensor& targets, int64_t num_classes,
                           const TargetsConvertOptions& o) {
  if (o.code() == "rate") return targets_rate(targets, num_classes, o.rate());
  TORCH_CHECK(o.code() == "latency", kWhat,
              "::targets_convert: code must be \"rate\" or \"latency\", got \"", o.code(), "\"");
  return targets_latency(targets, num_classes, o.latency());
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
        "bool normalize=False, bool linear=False, bool bypass=False, float epsilon=1e-7, "
        "bool interpolate=False) -> Tensor",
        [](const at::Tensor& data, int64_t num_steps, double threshold, double tau,
           int64_t first_spike_time, double on_target, double off_target, bool clip,
           bool normalize, bool linear, bool bypass, double epsilon, bool interpolate) {
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
                                   .epsilon(epsilon)
                                   .interpolate(interpolate));
        });
  m.def("spikegen_delta(Tensor data, float threshold=0.1, bool padding=False, "
        "bool off_spike=False) -> Tensor",
        [](const at::Tensor& data, double threshold, bool padding, bool off_spike) {
          return delta(data,
                       DeltaOptions().threshold(threshold).padding(padding).off_spike(off_spike));
        });
  m.def("spikegen_to_one_hot(Tensor targets, int num_classes) -> Tensor", &to_one_hot);
  m.def("spikegen_to_one_hot_inverse(Tensor one_hot) -> Tensor", &to_one_hot_inverse);
  m.def("spikegen_from_one_hot(Tensor one_hot) -> Tensor", &from_one_hot);
  m.def("spikegen_target_rate_code(int num_steps, int first_spike_time=0, float rate=1, "
        "str firing_pattern=\"regular\") -> (Tensor, Tensor)",
        [](int64_t num_steps, int64_t first_spike_time, double rate,
           const std::string& firing_pattern) {
          return target_rate_code(num_steps, TargetRateCodeOptions()
                                                 .first_spike_time(first_spike_time)
                                                 .rate(rate)
                                                 .firing_pattern(firing_pattern));
        });
  m.def("spikegen_rate_interpolate(Tensor spike_time, int num_steps, float on_target=1, "
        "float off_target=0, float epsilon=1e-7) -> Tensor",
        &rate_interpolate);
  m.def("spikegen_latency_interpolate(Tensor spike_time, int num_steps, float on_target=1, "
        "float off_target=0) -> Tensor",
        &latency_interpolate);
  m.def("spikegen_targets_rate(Tensor targets, int num_classes, int num_steps=0, "
        "int first_spike_time=0, float correct_rate=1, float incorrect_rate=0, "
        "float on_target=1, float off_target=0, str firing_pattern=\"regular\", "
        "bool interpolate=False, float epsilon=1e-7) -> Tensor",
        [](const at::Tensor& targets, int64_t num_classes, int64_t num_steps,
           int64_t first_spike_time, double correct_rate, double incorrect_rate,
           double on_target, double off_target, const std::string& firing_pattern,
           bool interpolate, double epsilon) {
          return targets_rate(targets, num_classes,
                              TargetsRateOptions()
                                  .num_steps(num_steps)
                                  .first_spike_time(first_spike_time)
                                  .correct_rate(correct_rate)
                                  .incorrect_rate(incorrect_rate)
                                  .on_target(on_target)
                                  .off_target(off_target)
                                  .firing_pattern(firing_pattern)
                                  .interpolate(interpolate)
                                  .epsilon(epsilon));
        });
  m.def("spikegen_targets_latency(Tensor targets, int num_classes, int num_steps=0, "
        "int first_spike_time=0, float on_target=1, float off_target=0, bool interpolate=False, "
        "float threshold=0.01, float tau=1, bool clip=False, bool normalize=False, "
        "bool linear=False, float epsilon=1e-7, bool bypass=False) -> Tensor",
        [](const at::Tensor& targets, int64_t num_classes, int64_t num_steps,
           int64_t first_spike_time, double on_target, double off_target, bool interpolate,
           double threshold, double tau, bool clip, bool normalize, bool linear, double epsilon,
           bool bypass) {
          return targets_latency(targets, num_classes,
                                 LatencyOptions()
                                     .num_steps(num_steps)
                                     .first_spike_time(first_spike_time)
                                     .on_target(on_target)
                                     .off_target(off_target)
                                     .interpolate(interpolate)
                                     .threshold(threshold)
                                     .tau(tau)
                                     .clip(clip)
                                     .normalize(normalize)
                                     .linear(linear)
                                     .epsilon(epsilon)
                                     .bypass(bypass));
        });
  m.def("spikegen_targets_convert(Tensor targets, int num_classes, str code=\"rate\", "
        "int num_steps=0, int first_spike_time=0, float correct_rate=1, float incorrect_rate=0, "
        "float on_target=1, float off_target=0, str firing_pattern=\"regular\", "
        "bool interpolate=False, float epsilon=1e-7, float threshold=0.01, float tau=1, "
        "bool clip=False, bool normalize=False, bool linear=False, bool bypass=False) -> Tensor",
        [](const at::Tensor& targets, int64_t num_classes, const std::string& code,
           int64_t num_steps, int64_t first_spike_time, double correct_rate,
           double incorrect_rate, double on_target, double off_target,
           const std::string& firing_pattern, bool interpolate, double epsilon,
           double threshold, double tau, bool clip, bool normalize, bool linear, bool bypass) {
          return targets_convert(targets, num_classes,
                                 TargetsConvertOptions()
                                     .code(code)
                                     .rate(TargetsRateOptions()
                                               .num_steps(num_steps)
                                               .first_spike_time(first_spike_time)
                                               .correct_rate(correct_rate)
                                               .incorrect_rate(incorrect_rate)
                                               .on_target(on_target)
                                               .off_target(off_target)
                                               .firing_pattern(firing_pattern)
                                               .interpolate(interpolate)
                                               .epsilon(epsilon))
                                     .latency(LatencyOptions()
                                                  .num_steps(num_steps)
                                                  .first_spike_time(first_spike_time)
                                                  .on_target(on_target)
                                                  .off_target(off_target)
                                                  .interpolate(interpolate)
                                                  .epsilon(epsilon)
                                                  .threshold(threshold)
                                                  .tau(tau)
                                                  .clip(clip)
                                                  .normalize(normalize)
                                                  .linear(linear)
                                                  .bypass(bypass)));
        });
}
