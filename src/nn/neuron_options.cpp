#include "snn/nn/neuron_options.h"

#include <ATen/ops/scalar_tensor.h>
#include <c10/util/Exception.h>
#include <c10/util/overloaded.h>

#include <ostream>

namespace snn {

TimeConstant::TimeConstant(double tau)
    : tau_(at::scalar_tensor(tau, at::TensorOptions().dtype(at::kFloat))) {}

TimeConstant::TimeConstant(at::Tensor tau) : tau_(std::move(tau)) {
  TORCH_CHECK(tau_.defined(), "snn: a time constant tensor must be defined");
  TORCH_CHECK(at::isFloatingType(tau_.scalar_type()),
              "snn: a time constant must be a floating-point tensor, got ", tau_.scalar_type());
}

namespace detail {
std::string spike_fn_name(const SpikeFn& fn) {
  return std::visit(c10::overloaded([](const MultiSpike&) { return "multi"; },
                                    [](const SingleSpike&) { return "single"; }),
                    fn);
}
std::string reset_fn_name(const ResetFn& fn) {
  return std::visit(c10::overloaded([](const MembraneSubtract&) { return "subtract"; },
                                    [](const MembraneReset&) { return "reset"; }),
                    fn);
}
std::optional<double> reset_fn_value(const ResetFn& fn) {
  return std::visit(
      c10::overloaded([](const MembraneSubtract& r) { return r.subtract_value; },
                      [](const MembraneReset& r) { return std::optional<double>(r.reset_value); }),
      fn);
}
std::string surrogate_name(const Surrogate&) {
  return "single_exponential";
}
std::vector<double> surrogate_args(const Surrogate& fn) {
  const auto& s = std::get<SingleExponential>(fn);
  return {s.grad_width, s.grad_scale};
}
}  // namespace detail

std::ostream& operator<<(std::ostream& os, const SpikeFn& fn) {
  return os << (std::holds_alternative<MultiSpike>(fn) ? "MultiSpike" : "SingleSpike");
}
std::ostream& operator<<(std::ostream& os, const ResetFn& fn) {
  std::visit(c10::overloaded(
                 [&](const MembraneSubtract& r) {
                   os << "MembraneSubtract(";
                   if (r.subtract_value) os << "subtract_value=" << *r.subtract_value;
                   os << ")";
                 },
                 [&](const MembraneReset& r) {
                   os << "MembraneReset(reset_value=" << r.reset_value << ")";
                 }),
             fn);
  return os;
}
std::ostream& operator<<(std::ostream& os, const Surrogate& fn) {
  const auto& s = std::get<SingleExponential>(fn);
  return os << "SingleExponential(grad_width=" << s.grad_width << ", grad_scale=" << s.grad_scale
            << ")";
}
std::ostream& operator<<(std::ostream& os, const TimeConstant& tau) {
  const auto& t = tau.tensor();
  if (t.numel() == 1) return os << t.item<double>();
  return os << "tensor of shape " << t.sizes();
}

}  // namespace snn
