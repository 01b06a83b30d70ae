#include "snn/nn/lif.h"

#include <ATen/ATen.h>
#include <c10/util/Exception.h>

#include <ostream>
#include <sstream>

namespace snn {


// ---- LIF ---------------------------------------------------------------------

void LIFModel::reset_model(torch::nn::Module& self) {
  check_positive(kName, "spike_threshold", options.spike_threshold());
  check_tau(kName, "tau_mem", options.tau_mem());
  check_tau(kName, "tau_syn", options.tau_syn());
  const bool alphas = options.train_alphas();
  (alphas ? alpha_mem : tau_mem) = register_decay(self, "mem", options.tau_mem(), alphas);
  if (options.tau_syn()) {
    (alphas ? alpha_syn : tau_syn) = register_decay(self, "syn", *options.tau_syn(), alphas);
  }
  set_spec(spiking_spec(ops::NeuronFamily::LIF, options.norm_input(), options), options.shape());
}

at::Tensor LIFModel::alpha_mem_calculated() const {
  return decay(tau_mem, alpha_mem, options.train_alphas());
}

std::optional<at::Tensor> LIFModel::alpha_syn_calculated() const {
  if (!options.tau_syn()) return std::nullopt;
  return decay(tau_syn, alpha_syn, options.train_alphas());
}

std::vector<at::Tensor> LIFModel::op_params(const at::Tensor& input) const {
  std::vector<at::Tensor> params{alpha_mem_calculated(),
                                 at::scalar_tensor(options.spike_threshold(), input.options())};
  if (const auto as = alpha_syn_calculated()) params.push_back(*as);
  return params;
}

void LIFModel::print_options(std::ostream& os) const {
  os << "tau_mem=" << options.tau_mem();
  print_spiking(os, options);
  os << ", train_alphas=" << (options.train_alphas() ? "true" : "false")
     << ", norm_input=" << (options.norm_input() ? "true" : "false");
  print_tail(os, options);
}

// ---- IAF ---------------------------------------------------------------------

void IAFModel::reset_model(torch::nn::Module& self) {
  check_positive(kName, "spike_threshold", options.spike_threshold());
  check_tau(kName, "tau_syn", options.tau_syn());
  if (options.tau_syn()) {
    tau_syn = register_decay(self, "syn", *options.tau_syn(), false);
  }
  set_spec(spiking_spec(ops::NeuronFamily::LIF, /*norm_input=*/false, options), options.shape());
}

std::optional<at::Tensor> IAFModel::alpha_syn_calculated() const {
  if (!options.tau_syn()) return std::nullopt;
  return decay(tau_syn, {}, false);
}

std::vector<at::Tensor> IAFModel::op_params(const at::Tensor& input) const {
  // α_mem = 1: no leak.
  std::vector<at::Tensor> params{at::ones({}, input.options()),
                                 at::scalar_tensor(options.spike_threshold(), input.options())};
  if (const auto as = alpha_syn_calculated()) params.push_back(*as);
  return params;
}

void IAFModel::print_options(std::ostream& os) const {
  std::ostringstream rest;
  print_spiking(rest, options);
  print_tail(rest, options);
  os << rest.str().substr(2);  // no leading ", "

}

template class NeuronLayer<LIFModel>;
template class SqueezeLayer<LIFModel>;
template class RecurrentLayer<LIFModel>;
template class NeuronLayer<IAFModel>;
template class SqueezeLayer<IAFModel>;
template class RecurrentLayer<IAFModel>;

}  // namespace snn
