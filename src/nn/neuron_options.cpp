#include "snn/nn/neuron_options.h"

#include <ATen/ops/scalar_tensor.h>
#include <c10/util/Exception.h>
#include <c10/util/overloaded.h>

#include <ostream>

#include "snn/ops/neuron.h"

namespace snn {

Value::Value(double value)
    : value_(at::scalar_tensor(value, at::TensorOptions().dtype(at::kFloat))) {}

Value::Value(at::Tensor value) : value_(std::move(value)) {
  TORCH_CHECK(value_.defined(), "snn: a parameter tensor must be defined");
  TORCH_CHECK(at::isFloatingType(value_.scalar_type()),
              "snn: a parameter must be a floating-point tensor, got ",
              value_.scalar_type());
}

std::ostream& operator<<(std::ostream& os, const Value& value) {
  const auto& t = value.tensor();
  if (t.numel() == 1) return os << t.item<double>();
  return os << "tensor of shape " << t.sizes();
}


TimeConstant::TimeConstant(double tau)
    : tau_(at::scalar_tensor(tau, at::TensorOptions().dtype(at::kFloat))) {}

TimeConstant::TimeConstant(at::Tensor tau) : tau_(std::move(tau)) {
  TORCH_CHECK(tau_.defined(), "snn: a time constant tensor must be defined");
  TORCH_CHECK(at::isFloatingType(tau_.scalar_type()),
              "snn: a time constant must be a floating-point tensor, got ", tau_.scalar_type());
}

void set_choice(ops::NeuronSpec& spec, const SpikeFn& fn) {
  std::visit(c10::overloaded([&](const MultiSpike&) { spec.spike = ops::SpikeKind::Multi; },
                             [&](const SingleSpike&) { spec.spike = ops::SpikeKind::Single; },
                             [&](const MaxSpike& m) {
                               spec.spike = ops::SpikeKind::Max;
                               spec.max_spikes = m.max_num_spikes_per_bin;
                             },
                             [&](const HeavisideSpike&) { spec.spike = ops::SpikeKind::Heaviside; }),
             fn);
}

void set_choice(ops::NeuronSpec& spec, const ResetFn& fn) {
  std::visit(c10::overloaded(
                 [&](const MembraneSubtract& r) {
                   spec.reset = ops::ResetKind::Subtract;
                   spec.reset_value = r.subtract_value;
                 },
                 [&](const MembraneReset& r) {
                   spec.reset = ops::ResetKind::ToValue;
                   spec.reset_value = r.reset_value;
                 },
                 [&](const NoReset&) {
                   spec.reset = ops::ResetKind::None;
                   spec.reset_value.reset();
                 }),
             fn);
}

void set_choice(ops::NeuronSpec& spec, const Surrogate& fn) {
  using K = ops::SurrogateKind;
  spec.surrogate = std::visit(
      c10::overloaded(
          [](const SingleExponential& f) {
            return ops::SurrogateSpec{K::SingleExponential, {f.grad_width, f.grad_scale}};
          },
          [](const Heaviside& f) { return ops::SurrogateSpec{K::Heaviside, {f.window}}; },
          [](const Gaussian& f) {
            return ops::SurrogateSpec{K::Gaussian, {f.mu, f.sigma, f.grad_scale}};
          },
          [](const MultiGaussian& f) {
            return ops::SurrogateSpec{K::MultiGaussian, {f.mu, f.sigma, f.h, f.s, f.grad_scale}};
          },
          [](const PeriodicExponential& f) {
            return ops::SurrogateSpec{K::PeriodicExponential, {f.grad_width, f.grad_scale}};
          },
          [](const ATan& f) { return ops::SurrogateSpec{K::ATan, {f.alpha}}; },
          [](const FastSigmoid& f) { return ops::SurrogateSpec{K::FastSigmoid, {f.slope}}; },
          [](const Sigmoid& f) { return ops::SurrogateSpec{K::Sigmoid, {f.slope}}; },
          [](const SpikeRateEscape& f) {
            return ops::SurrogateSpec{K::SpikeRateEscape, {f.beta, f.slope}};
          },
          [](const Triangular& f) { return ops::SurrogateSpec{K::Triangular, {f.threshold}}; },
          [](const StraightThroughEstimator&) {
            return ops::SurrogateSpec{K::StraightThroughEstimator, {}};
          },
          [](const HeavisideMask&) { return ops::SurrogateSpec{K::HeavisideMask, {}}; },
          [](const SparseFastSigmoid& f) {
            return ops::SurrogateSpec{K::SparseFastSigmoid, {f.slope, f.B}};
          },
          [](const LeakySpikeOperator& f) {
            return ops::SurrogateSpec{K::LeakySpikeOperator, {f.slope}};
          },
          [](const NoGradient&) { return ops::SurrogateSpec{K::NoGradient, {}}; },
          [](const SSO& f) {
            return ops::SurrogateSpec{K::StochasticSpikeOperator, {f.mean, f.variance}};
          },
          [](const CustomSurrogate& f) {
            return ops::SurrogateSpec{K::Custom, {static_cast<double>(f.id)}};
          }),
      fn);
}

CustomSurrogate custom_surrogate(std::function<at::Tensor(const at::Tensor& x)> sigma) {
  return CustomSurrogate{ops::register_surrogate(std::move(sigma))};
}

// The op's printer is the only one: a choice prints as it does in a specification.
std::string to_string(const SpikeFn& fn) {
  ops::NeuronSpec spec;
  set_choice(spec, fn);
  return spec.spike_str();
}

std::string to_string(const ResetFn& fn) {
  ops::NeuronSpec spec;
  set_choice(spec, fn);
  return spec.reset_str();
}

std::string to_string(const Surrogate& fn) {
  ops::NeuronSpec spec;
  set_choice(spec, fn);
  return spec.surrogate_str();
}

namespace {

// The specification of a LIF layer with `key` set to `text`, parsed by the op's parser.
// `text` must be one value: a comma outside parentheses would set other keys.
ops::NeuronSpec parse_one(const char* key, const std::string& text) {
  int depth = 0;
  for (const char c : text) {
    depth += c == '(' ? 1 : c == ')' ? -1 : 0;
    TORCH_CHECK(depth >= 0 && !(depth == 0 && c == ','), "snn: expected one ", key,
                " value such as ", key == std::string("spike") ? "SingleSpike()" : "...()",
                ", got \"", text, "\"");
  }
  return ops::NeuronSpec::parse(std::string("LIF(") + key + "=" + text + ")");
}

}  // namespace

SpikeFn parse_spike_fn(const std::string& text) {
  const auto spec = parse_one("spike", text);
  switch (spec.spike) {
    case ops::SpikeKind::Multi:
      return MultiSpike{};
    case ops::SpikeKind::Single:
      return SingleSpike{};
    case ops::SpikeKind::Max:
      return MaxSpike{spec.max_spikes};
    case ops::SpikeKind::Heaviside:
      return HeavisideSpike{};
    case ops::SpikeKind::HalfStep:
      break;  // the Leaky family's only (snn::spikingtorch): LIF(spike=...) rejects it
  }
  TORCH_INTERNAL_ASSERT(false, "unknown spike kind");
}

ResetFn parse_reset_fn(const std::string& text) {
  const auto spec = parse_one("reset", text);
  if (spec.reset == ops::ResetKind::ToValue) return MembraneReset{spec.reset_value.value_or(0.0)};
  if (spec.reset == ops::ResetKind::None) return NoReset{};
  return MembraneSubtract{spec.reset_value};
}

Surrogate parse_surrogate(const std::string& text) {
  const auto spec = parse_one("surrogate", text);
  const auto& a = spec.surrogate.args;
  switch (spec.surrogate.kind) {
    case ops::SurrogateKind::SingleExponential:
      return SingleExponential{a.at(0), a.at(1)};
    case ops::SurrogateKind::Heaviside:
      return Heaviside{a.at(0)};
    case ops::SurrogateKind::Gaussian:
      return Gaussian{a.at(0), a.at(1), a.at(2)};
    case ops::SurrogateKind::MultiGaussian:
      return MultiGaussian{a.at(0), a.at(1), a.at(2), a.at(3), a.at(4)};
    case ops::SurrogateKind::PeriodicExponential:
      return PeriodicExponential{a.at(0), a.at(1)};
    case ops::SurrogateKind::ATan:
      return ATan{a.at(0)};
    case ops::SurrogateKind::FastSigmoid:
      return FastSigmoid{a.at(0)};
    case ops::SurrogateKind::Sigmoid:
      return Sigmoid{a.at(0)};
    case ops::SurrogateKind::SpikeRateEscape:
      return SpikeRateEscape{a.at(0), a.at(1)};
    case ops::SurrogateKind::Triangular:
      return Triangular{a.at(0)};
    case ops::SurrogateKind::StraightThroughEstimator:
      return StraightThroughEstimator{};
    case ops::SurrogateKind::HeavisideMask:
      return HeavisideMask{};
    case ops::SurrogateKind::SparseFastSigmoid:
      return SparseFastSigmoid{a.at(0), a.at(1)};
    case ops::SurrogateKind::LeakySpikeOperator:
      return LeakySpikeOperator{a.at(0)};
    case ops::SurrogateKind::NoGradient:
      return NoGradient{};
    case ops::SurrogateKind::StochasticSpikeOperator:
      return SSO{a.at(0), a.at(1)};
    case ops::SurrogateKind::Custom:
      return CustomSurrogate{static_cast<int64_t>(a.at(0))};
  }
  TORCH_INTERNAL_ASSERT(false, "unknown surrogate kind");
}

std::ostream& operator<<(std::ostream& os, const SpikeFn& fn) {
  return os << to_string(fn);
}
std::ostream& operator<<(std::ostream& os, const ResetFn& fn) {
  return os << to_string(fn);
}
std::ostream& operator<<(std::ostream& os, const Surrogate& fn) {
  return os << to_string(fn);
}
std::ostream& operator<<(std::ostream& os, const TimeConstant& tau) {
  const auto& t = tau.tensor();
  if (t.numel() == 1) return os << t.item<double>();
  return os << "tensor of shape " << t.sizes();
}

}  // namespace snn
