#pragma once
// Internal: the checks every implementation of snn::neuron runs on its arguments.
#include <ATen/core/Tensor.h>
#include <c10/util/Exception.h>

#include "snn/ops/neuron.h"

namespace snn::ops::detail {

// Input [B, T, N]; state [B, N] each, as many as the spec names; params [] / [1] / [N],
// as many as the spec names; one dtype and one device.
inline void check_neuron_args(const at::Tensor& input, at::TensorList state, at::TensorList params,
                              const NeuronSpec& spec) {
  TORCH_CHECK(input.dim() == 3, "snn::neuron: expected input of shape [B, T, N], got ",
              input.sizes());
  TORCH_CHECK(input.size(1) >= 1, "snn::neuron: expected at least one time step, got input ",
              input.sizes());
  TORCH_CHECK(at::isFloatingType(input.scalar_type()),
              "snn::neuron: expected a floating-point input, got ", input.scalar_type());
  const auto list = [](const std::vector<std::string>& names) {
    std::string out = "[";
    for (const auto& n : names) out += (out.size() > 1 ? ", " : "") + n;
    return out + "]";
  };
  const auto& state_names = spec.state_names();
  const auto& param_names = spec.param_names();
  TORCH_CHECK(state.size() == state_names.size(), "snn::neuron: ", spec.str(), " takes ",
              state_names.size(), " states ", list(state_names), ", got ", state.size());
  TORCH_CHECK(params.size() == param_names.size(), "snn::neuron: ", spec.str(), " takes ",
              param_names.size(), " parameters ", list(param_names), ", got ", params.size());
  const int64_t B = input.size(0), N = input.size(2);
  auto check_kind = [&](const at::Tensor& t, const std::string& name) {
    TORCH_CHECK(t.defined(), "snn::neuron: ", name, " is undefined");
    TORCH_CHECK(t.scalar_type() == input.scalar_type(), "snn::neuron: expected ", name,
                " of dtype ", input.scalar_type(), " (the input's), got ", t.scalar_type());
    TORCH_CHECK(t.device() == input.device(), "snn::neuron: expected ", name, " on ",
                input.device(), " (the input's device), got ", t.device());
  };
  for (size_t k = 0; k < state.size(); ++k) {
    check_kind(state[k], state_names[k]);
    TORCH_CHECK(state[k].dim() == 2 && state[k].size(0) == B && state[k].size(1) == N,
                "snn::neuron: expected ", state_names[k], " of shape [", B, ", ", N, "], got ",
                state[k].sizes());
  }
  for (size_t k = 0; k < params.size(); ++k) {
    check_kind(params[k], param_names[k]);
    const auto& p = params[k];
    TORCH_CHECK(p.numel() == 1 ? p.dim() <= 1 : (p.dim() == 1 && p.size(0) == N),
                "snn::neuron: expected ", param_names[k], " of shape [], [1] or [", N,
                "] (one value, or one per neuron), got ", p.sizes());
  }
}

}  // namespace snn::ops::detail
