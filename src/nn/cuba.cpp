#include "snn/nn/cuba.h"

#include <ATen/ATen.h>
#include <c10/util/Exception.h>

#include <ostream>

namespace snn::detail {
namespace {

at::Tensor register_value(torch::nn::Module& self, const char* name, const Value& value) {
  return self.register_parameter(name, value.tensor().detach().clone());
}

void print_value(std::ostream& os, const char* name, const at::Tensor& t) {
  os << ", " << name << "=";
  if (t.numel() == 1) {
    os << t.item<double>();
  } else {
    os << "tensor of shape " << t.sizes();
  }
}

}  // namespace

void CubaModel::reset_cuba(torch::nn::Module& self, const char* name, bool spikes) {
  spikes_ = spikes;
  TORCH_CHECK(options.dt() > 0 && std::isfinite(options.dt()), "snn::", name,
              ": dt must be a positive number, got ", options.dt());
  for (const auto* tau : {&options.tau_mem(), &options.tau_syn()}) {
    if (*tau) {
      const auto& t = (*tau)->tensor();
      TORCH_CHECK(t.numel() > 0 && (t > 0).all().item<bool>(), "snn::", name,
                  ": time constants must be > 0, got ", t);
    }
  }
  tau_mem = options.tau_mem() ? register_value(self, "tau_mem", *options.tau_mem()) : at::Tensor();
  tau_syn = options.tau_syn() ? register_value(self, "tau_syn", *options.tau_syn()) : at::Tensor();
  r = register_value(self, "r", options.r());
  v_leak = register_value(self, "v_leak", options.v_leak());
  if (spikes) {
    v_threshold = register_value(self, "v_threshold", options.v_threshold());
    v_reset = register_value(self, "v_reset", options.v_reset());
  }
  if (options.tau_syn()) w_in = register_value(self, "w_in", options.w_in());
  ops::NeuronSpec spec;
  spec.family = spikes ? ops::NeuronFamily::CubaLIF : ops::NeuronFamily::CubaLI;
  spec.synapse = options.tau_syn().has_value();
  spec.leak = options.tau_mem().has_value();
  spec.spike = ops::SpikeKind::Heaviside;
  if (spikes) set_choice(spec, options.surrogate());
  set_spec(spec, options.shape());
}

at::Tensor CubaModel::initial_state(const std::string& name, at::IntArrayRef shape,
                                    const at::TensorOptions& opts) const {
  at::Tensor start;
  if (name == "v" && !options.tau_mem()) {
    if (!spikes_) return at::zeros(shape, opts);
    start = v_reset;
  } else {
    start = v_leak;
  }
  try {
    return start.detach().to(opts).expand(shape).clone();
  } catch (const c10::Error&) {
    TORCH_CHECK(false, "snn::", spikes_ ? "CubaLIF" : "CubaLI", ": a parameter of shape ",
                start.sizes(), " does not fit the states' shape ", shape);
  }
}

at::Tensor CubaModel::model_input(const at::Tensor& input) const {
  return w_in.defined() ? w_in * input : input;
}

std::vector<at::Tensor> CubaModel::op_params(const at::Tensor& input) const {
  // k = dt·(1/τ), as Norse computes dt * tau_mem_inv.
  const auto k = [&](const at::Tensor& tau) { return at::reciprocal(tau) * options.dt(); };
  std::vector<at::Tensor> p{tau_mem.defined() ? k(tau_mem) : at::zeros({}, input.options()),
                            v_leak, r};
  if (spikes_) {
    p.push_back(v_threshold);
    p.push_back(v_reset);
  }
  if (tau_syn.defined()) p.push_back(k(tau_syn));
  return p;
}

void CubaModel::print_options(std::ostream& os) const {
  os << "dt=" << options.dt();
  if (tau_mem.defined()) print_value(os, "tau_mem", tau_mem);
  if (tau_syn.defined()) print_value(os, "tau_syn", tau_syn);
  print_value(os, "r", r);
  print_value(os, "v_leak", v_leak);
  if (spikes_) {
    print_value(os, "v_threshold", v_threshold);
    print_value(os, "v_reset", v_reset);
    os << ", surrogate=" << options.surrogate();
  }
  if (w_in.defined()) print_value(os, "w_in", w_in);
  print_tail(os, options.shape(), options.record_states());
}

}  // namespace snn::detail

namespace snn {
template class NeuronLayer<CubaLIFModel>;
template class NeuronLayer<CubaLIModel>;
}  // namespace snn
