#include "snn/nn/alif.h"

#include <ATen/ATen.h>
#include <c10/util/Exception.h>

#include <ostream>

namespace snn {

void ALIFModel::reset_model(torch::nn::Module& self) {
  check_positive(kName, "spike_threshold", options.spike_threshold());
  check_tau(kName, "tau_mem", options.tau_mem());
  check_tau(kName, "tau_adapt", options.tau_adapt());
  check_tau(kName, "tau_syn", options.tau_syn());
  const bool alphas = options.train_alphas();
  (alphas ? alpha_mem : tau_mem) = register_decay(self, "mem", options.tau_mem(), alphas);
  (alphas ? alpha_adapt : tau_adapt) = register_decay(self, "adapt", options.tau_adapt(), alphas);
  if (options.tau_syn()) {
    (alphas ? alpha_syn : tau_syn) = register_decay(self, "syn", *options.tau_syn(), alphas);
  }
  set_spec(spiking_spec(ops::NeuronFamily::ALIF, options.norm_input(), options), options.shape());
}

at::Tensor ALIFModel::alpha_mem_calculated() const {
  return decay(tau_mem, alpha_mem, options.train_alphas());
}

at::Tensor ALIFModel::alpha_adapt_calculated() const {
  return decay(tau_adapt, alpha_adapt, options.train_alphas());
}

std::optional<at::Tensor> ALIFModel::alpha_syn_calculated() const {
  if (!options.tau_syn()) return std::nullopt;
  return decay(tau_syn, alpha_syn, options.train_alphas());
}

at::Tensor ALIFModel::spike_threshold_calculated() const {
  const auto& b = state("b");
  TORCH_CHECK(b.defined(), "snn::ALIF: the state is not initialised yet (run forward first)");
  return options.spike_threshold() + options.adapt_scale() * b;
}

std::vector<at::Tensor> ALIFModel::op_params(const at::Tensor& input) const {
  std::vector<at::Tensor> params{alpha_mem_calculated(), alpha_adapt_calculated(),
                                 at::scalar_tensor(options.spike_threshold(), input.options()),
                                 at::scalar_tensor(options.adapt_scale(), input.options())};
  if (const auto as = alpha_syn_calculated()) params.push_back(*as);
  return params;
}

void ALIFModel::add_derived_recordings(std::map<std::string, at::Tensor>& recordings) const {
  recordings["spike_threshold"] = options.spike_threshold() + options.adapt_scale() * recordings.at("b");
}

void ALIFModel::print_options(std::ostream& os) const {
  os << "tau_mem=" << options.tau_mem() << ", tau_adapt=" << options.tau_adapt()
     << ", adapt_scale=" << options.adapt_scale();
  print_spiking(os, options);
  os << ", train_alphas=" << (options.train_alphas() ? "true" : "false")
     << ", norm_input=" << (options.norm_input() ? "true" : "false");
  print_tail(os, options);
}

template class NeuronLayer<ALIFModel>;
template class SqueezeLayer<ALIFModel>;
template class RecurrentLayer<ALIFModel>;

}  // namespace snn
