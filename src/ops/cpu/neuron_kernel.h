// Internal: the fused neuron kernels' entry points, one pair per CPU capability.
#pragma once
#include <ATen/core/Tensor.h>

#include <vector>

#include "snn/ops/neuron.h"

namespace snn::ops::detail {

// Contiguous tensors of one dtype. x, out, rec: [B, T, N]; s0: [B, N]; p: [N] (scalars
// expanded). The forward writes out and rec.
struct NeuronTensors {
  at::Tensor x, out;
  std::vector<at::Tensor> s0, p, rec;
};
// The backward's inputs (gradients of the outputs; undefined: not used, skipped) and
// outputs: grad_x (undefined: not needed), grad_s0 [B, N] (always written: they carry the
// recurrence), grad_p_rows [B, N] per parameter (undefined: not needed; summed over the
// batch by the caller).
struct NeuronGradTensors {
  at::Tensor grad_out;
  std::vector<at::Tensor> grad_rec;
  at::Tensor grad_x;
  std::vector<at::Tensor> grad_s0, grad_p_rows;
};

void neuron_forward_default(const NeuronSpec& spec, const NeuronTensors& a);
void neuron_backward_default(const NeuronSpec& spec, const NeuronTensors& a,
                             const NeuronGradTensors& g);
void neuron_forward_avx2(const NeuronSpec& spec, const NeuronTensors& a);
void neuron_backward_avx2(const NeuronSpec& spec, const NeuronTensors& a,
                          const NeuronGradTensors& g);

}  // namespace snn::ops::detail
