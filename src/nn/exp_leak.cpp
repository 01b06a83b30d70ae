#include "snn/nn/exp_leak.h"

#include <ATen/ATen.h>

#include <ostream>


namespace snn {

void ExpLeakModel::reset_model(torch::nn::Module& self) {
  check_tau(kName, "tau_mem", options.tau_mem());
  const bool alphas = options.train_alphas();
  (alphas ? alpha_mem : tau_mem) = register_decay(self, "mem", options.tau_mem(), alphas);
  ops::NeuronSpec spec;
  spec.family = ops::NeuronFamily::ExpLeak;
  spec.norm_input = options.norm_input();
  spec.min_v_mem = options.min_v_mem();
  set_spec(spec, options.shape());
}

at::Tensor ExpLeakModel::alpha_mem_calculated() const {
  return decay(tau_mem, alpha_mem, options.train_alphas());
}

std::vector<at::Tensor> ExpLeakModel::op_params(const at::Tensor& /*input*/) const {
  return {alpha_mem_calculated()};
}

void ExpLeakModel::print_options(std::ostream& os) const {
  os << "tau_mem=" << options.tau_mem();
  if (options.min_v_mem()) os << ", min_v_mem=" << *options.min_v_mem();
  os << ", train_alphas=" << (options.train_alphas() ? "true" : "false")
     << ", norm_input=" << (options.norm_input() ? "true" : "false");
  print_tail(os, options);
}

template class NeuronLayer<ExpLeakModel>;
template class SqueezeLayer<ExpLeakModel>;

}  // namespace snn
