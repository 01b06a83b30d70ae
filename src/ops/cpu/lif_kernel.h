// Internal: the fused LIF kernels' entry points, one pair per CPU capability, and
// the choice among them at run time.
#pragma once
#include <ATen/core/Tensor.h>

#include "ops/lif_params.h"

namespace snn::ops::detail {

// Contiguous [B, T, N] / [B, N] / [N] tensors of one dtype; i0, as, i_rec undefined
// without a synapse. Forward writes spikes, v_rec (and i_rec).
struct LifTensors {
  at::Tensor x, v0, i0, am, as, spikes, v_rec, i_rec;
};
// Backward inputs (gradients of the outputs) and outputs (gradients of the inputs; the
// alpha gradients per batch row, [B, N], to be summed by the caller).
struct LifGradTensors {
  at::Tensor grad_spikes, grad_v_rec, grad_i_rec;
  at::Tensor grad_x, grad_v0, grad_i0, grad_am_rows, grad_as_rows;
};

template <typename T>
const T* ptr(const at::Tensor& t) {
  return t.defined() ? t.const_data_ptr<T>() : nullptr;
}
template <typename T>
T* mut(const at::Tensor& t) {
  return t.defined() ? const_cast<at::Tensor&>(t).mutable_data_ptr<T>() : nullptr;
}

void lif_forward_default(const LifTensors& a, const LifParams& p);
void lif_backward_default(const LifTensors& a, const LifGradTensors& g, const LifParams& p);
void lif_forward_avx2(const LifTensors& a, const LifParams& p);
void lif_backward_avx2(const LifTensors& a, const LifGradTensors& g, const LifParams& p);

}  // namespace snn::ops::detail
