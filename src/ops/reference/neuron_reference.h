#pragma once
// Internal: the plain-ATen step loop of snn::neuron (differentiable by autograd on any
// device). Registered as snn::neuron_reference, and as snn::neuron on devices without a
// fused kernel.
#include <ATen/core/Tensor.h>

#include <string>
#include <vector>

namespace snn::ops::detail {

std::vector<at::Tensor> neuron_reference_impl(const at::Tensor& input, at::TensorList state,
                                              at::TensorList params, c10::string_view spec);

}  // namespace snn::ops::detail
