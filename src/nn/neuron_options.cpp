#include "snn/nn/neuron_options.h"

#include <ATen/ops/scalar_tensor.h>
#include <c10/util/Exception.h>
#include <c10/util/overloaded.h>

#include <ostream>

#include "util/text_spec.h"

namespace snn {

TimeConstant::TimeConstant(double tau)
    : tau_(at::scalar_tensor(tau, at::TensorOptions().dtype(at::kFloat))) {}

TimeConstant::TimeConstant(at::Tensor tau) : tau_(std::move(tau)) {
  TORCH_CHECK(tau_.defined(), "snn: a time constant tensor must be defined");
  TORCH_CHECK(at::isFloatingType(tau_.scalar_type()),
              "snn: a time constant must be a floating-point tensor, got ", tau_.scalar_type());
}

std::string to_string(const SpikeFn& fn) {
  return std::visit(
      c10::overloaded([](const MultiSpike&) { return std::string("MultiSpike()"); },
                      [](const SingleSpike&) { return std::string("SingleSpike()"); },
                      [](const MaxSpike& m) {
                        return spec::Repr("MaxSpike")
                            .arg("max_num_spikes_per_bin", m.max_num_spikes_per_bin)
                            .str();
                      }),
      fn);
}

std::string to_string(const ResetFn& fn) {
  return std::visit(c10::overloaded(
                        [](const MembraneSubtract& r) {
                          return spec::Repr("MembraneSubtract")
                              .arg("subtract_value", r.subtract_value)
                              .str();
                        },
                        [](const MembraneReset& r) {
                          return spec::Repr("MembraneReset").arg("reset_value", r.reset_value).str();
                        }),
                    fn);
}

std::string to_string(const Surrogate& fn) {
  return std::visit(
      c10::overloaded(
          [](const SingleExponential& s) {
            return spec::Repr("SingleExponential")
                .arg("grad_width", s.grad_width)
                .arg("grad_scale", s.grad_scale)
                .str();
          },
          [](const Heaviside& s) { return spec::Repr("Heaviside").arg("window", s.window).str(); },
          [](const Gaussian& s) {
            return spec::Repr("Gaussian")
                .arg("mu", s.mu)
                .arg("sigma", s.sigma)
                .arg("grad_scale", s.grad_scale)
                .str();
          },
          [](const MultiGaussian& s) {
            return spec::Repr("MultiGaussian")
                .arg("mu", s.mu)
                .arg("sigma", s.sigma)
                .arg("h", s.h)
                .arg("s", s.s)
                .arg("grad_scale", s.grad_scale)
                .str();
          },
          [](const PeriodicExponential& s) {
            return spec::Repr("PeriodicExponential")
                .arg("grad_width", s.grad_width)
                .arg("grad_scale", s.grad_scale)
                .str();
          }),
      fn);
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
