// Plain-ATen reference of snn::lif: the step loop of Sinabs' LIF, differentiated by
// autograd. It runs on any device; the fused kernel is tested against it.
#include <ATen/ATen.h>
#include <torch/library.h>

#include "ops/lif_params.h"

namespace snn::ops::detail {
namespace {

at::Tensor spike_values(const at::Tensor& w, const LifParams& p) {
  if (p.spike == SpikeKind::Multi) {
    return (w > 0) * at::div(w, p.threshold, "trunc");
  }
  return (w - p.threshold >= 0).to(w.scalar_type());
}

// SingleExponential surrogate of the spike's derivative with respect to w.
at::Tensor surrogate_grad(const at::Tensor& w, const LifParams& p) {
  const auto abs_width = w.new_full({}, p.threshold) * p.grad_width;
  return p.grad_scale / abs_width * at::exp(-at::abs(w - p.threshold) / abs_width);
}

std::tuple<at::Tensor, at::Tensor, at::Tensor> lif_reference(
    const at::Tensor& input, const at::Tensor& v_mem, const std::optional<at::Tensor>& i_syn,
    const at::Tensor& alpha_mem, const std::optional<at::Tensor>& alpha_syn, bool norm_input,
    double spike_threshold, c10::string_view spike_fn, c10::string_view reset_fn,
    std::optional<double> reset_value, std::optional<double> min_v_mem, c10::string_view surrogate,
    c10::ArrayRef<double> surrogate_args) {
  const LifParams p = parse_lif_params(norm_input, spike_threshold, spike_fn, reset_fn, reset_value,
                                       min_v_mem, surrogate, surrogate_args);
  check_lif_inputs(input, v_mem, i_syn, alpha_mem, alpha_syn);
  const bool syn = i_syn.has_value();
  at::Tensor v = v_mem, i = syn ? *i_syn : at::Tensor();
  std::vector<at::Tensor> spikes, vs, is;
  for (int64_t t = 0; t < input.size(1); ++t) {
    const auto x = input.select(1, t);
    i = syn ? *alpha_syn * (i + x) : x;
    const auto u = p.norm_input ? (1 - alpha_mem) * i : i;
    const auto w = alpha_mem * v + u;
    // Forward value: the spike count; gradient: the surrogate (w·σ - detach(w·σ) is 0).
    const auto s_val = spike_values(w.detach(), p);
    const auto w_sg = w * surrogate_grad(w.detach(), p);
    const auto s = s_val + (w_sg - w_sg.detach());
    v = p.reset == ResetKind::Subtract ? w - s * p.reset_value : w * (s_val == 0) + p.reset_value;
    if (p.clamp) {
      v = at::relu(v - p.min_v_mem) + p.min_v_mem;
    }
    spikes.push_back(s);
    vs.push_back(v);
    if (syn) is.push_back(i);
  }
  return {at::stack(spikes, 1), at::stack(vs, 1),
          syn ? at::stack(is, 1) : at::empty({0}, input.options())};
}

}  // namespace

TORCH_LIBRARY_IMPL(snn, CompositeImplicitAutograd, m) {
  m.impl("lif_reference", &lif_reference);
}

}  // namespace snn::ops::detail
