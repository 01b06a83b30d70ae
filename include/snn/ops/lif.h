#pragma once
/// \file
/// The fused leaky integrate-and-fire op, `torch.ops.snn.lif`, shared by snn::LIF and
/// snn::IAF (Sinabs semantics). One call runs a whole sequence.
///
/// Shapes: input [B, T, N]; v_mem, i_syn (initial state) [B, N]; alpha_mem, alpha_syn [N].
/// Per time step t, per neuron (α_m = alpha_mem, α_s = alpha_syn, θ = spike_threshold):
///   i_t = α_s·(i_{t-1} + x_t)                  with a synapse (alpha_syn given), else i_t = x_t
///   u_t = (1 - α_m)·i_t                        if norm_input, else u_t = i_t
///   w_t = α_m·v_{t-1} + u_t                    membrane before the spike
///   s_t = (w_t > 0)·trunc(w_t / θ)             spike_fn "multi"  (MultiSpike)
///       = (w_t - θ ≥ 0)                        spike_fn "single" (SingleSpike)
///   r_t = w_t - s_t·c,  c = reset_value or θ   reset_fn "subtract" (MembraneSubtract)
///       = w_t·(s_t == 0) + c,  c = reset_value or 0   reset_fn "reset" (MembraneReset;
///         as in Sinabs, c is added to every neuron, spiking or not)
///   v_t = relu(r_t - v_min) + v_min            if min_v_mem is given, else v_t = r_t
/// Gradients: ds_t/dw_t is the surrogate σ(w_t) ("single_exponential", args
/// [grad_width, grad_scale]: σ(w) = scale/(θ·width)·exp(-|w - θ|/(θ·width))); the
/// subtract reset carries gradient through s_t, the reset-to-value path does not;
/// the clamp passes gradient where r_t - v_min > 0.
///
/// Returns (spikes [B,T,N], v_mem [B,T,N] = v_t, i_syn [B,T,N] = i_t, or an empty tensor
/// without a synapse). The final state is the last time step of v_mem / i_syn.
///
/// Differentiable with respect to input, v_mem, i_syn, alpha_mem and alpha_syn. For the
/// backward the op saves input, the initial state, the alphas and its three outputs;
/// nothing else.
#include <ATen/core/Tensor.h>

#include <optional>
#include <string>
#include <vector>

namespace snn::ops {

/// Fused op (CPU kernel; other devices use the reference). See the file comment.
std::vector<at::Tensor> lif(const at::Tensor& input, const at::Tensor& v_mem,
                            const std::optional<at::Tensor>& i_syn, const at::Tensor& alpha_mem,
                            const std::optional<at::Tensor>& alpha_syn, bool norm_input,
                            double spike_threshold, const std::string& spike_fn,
                            const std::string& reset_fn, std::optional<double> reset_value,
                            std::optional<double> min_v_mem, const std::string& surrogate,
                            const std::vector<double>& surrogate_args);

/// The same computation as a plain-ATen step loop, differentiated by autograd:
/// the reference the fused kernel is tested against.
std::vector<at::Tensor> lif_reference(
    const at::Tensor& input, const at::Tensor& v_mem, const std::optional<at::Tensor>& i_syn,
    const at::Tensor& alpha_mem, const std::optional<at::Tensor>& alpha_syn, bool norm_input,
    double spike_threshold, const std::string& spike_fn, const std::string& reset_fn,
    std::optional<double> reset_value, std::optional<double> min_v_mem,
    const std::string& surrogate, const std::vector<double>& surrogate_args);

}  // namespace snn::ops
