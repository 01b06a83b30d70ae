// spikingtorch's neurons on the neuron op, SpikingNet, its encoders and decoders.
#include "snn/spikingtorch/spikingtorch.h"

#include <ATen/ATen.h>
#include <c10/util/Exception.h>

#include <cmath>
#include <ostream>

#include "snn/ops/neuron.h"

namespace snn::spikingtorch {

namespace detail {

void SpikingTorchNeuron::set_neuron(const char* layer, double v0, double beta,
                                    const std::optional<std::vector<int64_t>>& shape) {
  TORCH_CHECK(v0 > 0, "snn::", layer, ": v0 must be > 0 (a threshold <= 0 fires at rest), got ",
              v0);
  TORCH_CHECK(beta > 0, "snn::", layer, ": beta must be > 0, got ", beta);
  v0_ = v0;
  ops::NeuronSpec spec;
  spec.family = ops::NeuronFamily::Leaky;
  spec.spike = ops::SpikeKind::HalfStep;
  spec.reset = ops::ResetKind::ToValue;
  spec.reset_value = 0.0;
  spec.zero_keeps_input = true;  // (1 - s)·a·v + b·x: the reset before the leak
  spec.reset_delay = true;
  spec.reset_grad = true;
  spec.norm_input = false;
  spec.surrogate = ops::SurrogateSpec{ops::SurrogateKind::Sigmoid, {beta}};
  set_spec(spec, shape);
}

std::vector<at::Tensor> SpikingTorchNeuron::params(at::ScalarType dtype) const {
  const auto f = at::TensorOptions().dtype(dtype);
  return {at::scalar_tensor(a, f), at::scalar_tensor(v0_, f), at::scalar_tensor(1.0, f)};
}

at::Tensor SpikingTorchNeuron::step_state(const char* layer, const at::Tensor& input, bool init) {
  TORCH_CHECK(input.dim() >= 1, "snn::", layer, ": expected input of shape [B, ...], got ",
              input.sizes());
  if (init) reset_states();
  return run_op(layer, input.unsqueeze(1) * b, params(input.scalar_type()))[0].squeeze(1);
}

}  // namespace detail

namespace {
const char* boolean(bool b) { return b ? "true" : "false"; }
void print_shape(std::ostream& os, const std::optional<std::vector<int64_t>>& shape,
                 bool record) {
  if (shape) os << ", shape=" << at::IntArrayRef(*shape);
  os << ", record_states=" << boolean(record);
}
}  // namespace

void IFModel::reset_model(torch::nn::Module& /*self*/) {
  a = 1.0;
  b = 1.0;
  set_neuron(kName, options.v0(), options.beta(), options.shape());
}

void IFModel::print_options(std::ostream& os) const {
  os << "v0=" << options.v0() << ", beta=" << options.beta();
  print_shape(os, options.shape(), options.record_states());
}

void LIFModel::reset_model(torch::nn::Module& /*self*/) {
  if (options.decay()) {
    TORCH_CHECK(*options.decay() >= 0 && *options.decay() <= 1,
                "snn::spikingtorch::LIF: decay must be in [0, 1], got ", *options.decay());
    a = *options.decay();
    b = 1.0;
  } else {
    TORCH_CHECK(options.tau() > 0, "snn::spikingtorch::LIF: tau must be > 0, got ", options.tau());
    a = std::exp(-1.0 / options.tau());
    b = options.tau() * (1 - a);
  }
  set_neuron(kName, options.v0(), options.beta(), options.shape());
}

at::Tensor LIFModel::model_input(const at::Tensor& input) const { return input * b; }

void LIFModel::print_options(std::ostream& os) const {
  os << "tau=" << options.tau() << ", v0=" << options.v0() << ", beta=" << options.beta();
  if (options.decay()) os << ", decay=" << *options.decay();
  print_shape(os, options.shape(), options.record_states());
}

// ---- McPitts -------------------------------------------------------------------

McPittsImpl::McPittsImpl(double thr, double beta) : thr(thr), beta(beta) {
  TORCH_CHECK(beta > 0, "snn::spikingtorch::McPitts: beta must be > 0, got ", beta);
  // No leak (beta 0), no reset: one step of the op from a zero state is step(x - thr).
  ops::NeuronSpec s;
  s.family = ops::NeuronFamily::Leaky;
  s.spike = ops::SpikeKind::HalfStep;
  s.reset = ops::ResetKind::None;
  s.reset_delay = true;
  s.norm_input = false;
  s.surrogate = ops::SurrogateSpec{ops::SurrogateKind::Sigmoid, {beta}};
  spec_ = s.str();
}

at::Tensor McPittsImpl::forward(const at::Tensor& input) {
  TORCH_CHECK(input.dim() >= 1, "snn::spikingtorch::McPitts: expected input [B, ...], got ",
              input.sizes());
  const auto o = input.options();
  const auto mem = at::zeros(input.sizes(), o);
  const auto out = ops::neuron(input.unsqueeze(1), {mem},
                               {at::scalar_tensor(0.0, o), at::scalar_tensor(thr, o),
                                at::scalar_tensor(1.0, o)},
                               spec_);
  return out[0].squeeze(1);
}

void McPittsImpl::pretty_print(std::ostream& os) const {
  os << "snn::spikingtorch::McPitts(thr=" << thr << ", beta=" << beta << ")";
}

// ---- SpikingNet ------------------------------------------------------------------

SpikingNetImpl::SpikingNetImpl(std::shared_ptr<torch::nn::Module> net,
                               std::function<at::Tensor(const at::Tensor&, bool)> single_pass,
                               std::vector<int64_t> out_shape)
    : pass_(std::move(single_pass)), out_shape_(std::move(out_shape)) {
  TORCH_CHECK(net != nullptr, "snn::spikingtorch::SpikingNet: net is empty");
  for (const auto n : out_shape_) {
    TORCH_CHECK(n >= 1, "snn::spikingtorch::SpikingNet: out_shape must hold sizes >= 1, got ",
                at::IntArrayRef(out_shape_));
  }
  register_module("net", std::move(net));
}

at::Tensor SpikingNetImpl::forward(const at::Tensor& x) {
  TORCH_CHECK(x.dim() >= 2 && x.size(1) >= 1,
              "snn::spikingtorch::SpikingNet: expected input [B, T, ...] with T >= 1, got ",
              x.sizes());
  std::vector<int64_t> expected = {x.size(0)};
  expected.insert(expected.end(), out_shape_.begin(), out_shape_.end());
  std::vector<at::Tensor> out;
  for (int64_t t = 0; t < x.size(1); ++t) {
    auto y = pass_(x.narrow(1, t, 1), t == 0);
    int64_t numel = 1;
    for (const auto n : expected) numel *= n;
    TORCH_CHECK(y.numel() == numel,
                "snn::spikingtorch::SpikingNet: net's output at step ", t, " has shape ",
                y.sizes(), ", expected ", at::IntArrayRef(expected), " (B and out_shape)");
    out.push_back(y.reshape(expected));
  }
  return at::stack(out, 1);
}

void SpikingNetImpl::pretty_print(std::ostream& os) const {
  os << "snn::spikingtorch::SpikingNet(out_shape=" << at::IntArrayRef(out_shape_) << ")";
}

// ---- encoders and decoders -------------------------------------------------------------

PoissonEncoder::PoissonEncoder(int64_t nsteps, double scale) : nsteps(nsteps), scale(scale) {
  TORCH_CHECK(nsteps >= 1, "snn::spikingtorch::PoissonEncoder: nsteps must be >= 1, got ", nsteps);
}

at::Tensor PoissonEncoder::operator()(const at::Tensor& x,
                                      std::optional<at::Generator> generator) const {
  TORCH_CHECK(x.dim() >= 2, "snn::spikingtorch::PoissonEncoder: expected input [B, C, ...], got ",
              x.sizes());
  const auto data = x.detach();
  std::vector<at::Tensor> steps;
  for (int64_t t = 0; t < nsteps; ++t) {
    const auto u = at::rand(data.sizes(), generator, data.options());
    steps.push_back(((u <= data * scale) & (u > 0)).to(data.scalar_type()));
  }
  return at::cat(steps, 1);
}

PeriodicEncoder::PeriodicEncoder(int64_t nsteps, double scale) : nsteps(nsteps), scale(scale) {
  TORCH_CHECK(nsteps >= 1, "snn::spikingtorch::PeriodicEncoder: nsteps must be >= 1, got ",
              nsteps);
}

at::Tensor PeriodicEncoder::operator()(const at::Tensor& x) const {
  TORCH_CHECK(x.dim() >= 2, "snn::spikingtorch::PeriodicEncoder: expected input [B, C, ...], got ",
              x.sizes());
  const auto data = x.detach();
  auto memory = at::zeros_like(data);
  std::vector<at::Tensor> steps;
  for (int64_t t = 0; t < nsteps; ++t) {
    memory.add_(data * scale);
    const auto spike = memory >= 1;
    memory.masked_fill_(spike, 0);
    steps.push_back(spike.to(data.scalar_type()));
  }
  return at::cat(steps, 1);
}

SumDecoder::SumDecoder(int64_t nsteps, double scale, bool offset)
    : nsteps(nsteps), scale(scale), offset(offset) {}

at::Tensor SumDecoder::operator()(const at::Tensor& x) const {
  TORCH_CHECK(x.dim() >= 2, "snn::spikingtorch::SumDecoder: expected input [B, T, ...], got ",
              x.sizes());
  const auto sum = x.sum(1);
  return offset ? (sum - 0.5 * static_cast<double>(nsteps)) * scale : sum * scale;
}

at::Tensor RateDecoder::operator()(const at::Tensor& x) const {
  TORCH_CHECK(x.dim() >= 2, "snn::spikingtorch::RateDecoder: expected input [B, T, ...], got ",
              x.sizes());
  return x.mean(1);
}

}  // namespace snn::spikingtorch

namespace snn {
template class NeuronLayer<spikingtorch::IFModel>;
template class NeuronLayer<spikingtorch::LIFModel>;
}  // namespace snn
