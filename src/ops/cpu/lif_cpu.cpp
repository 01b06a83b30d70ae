// The CPU implementations of snn::lif and snn::lif_backward: checks, allocation, and
// the call of the fused kernel compiled for this CPU (lif_kernel_impl.h).
#include <ATen/ops/empty.h>
#include <ATen/ops/empty_like.h>
#include <c10/util/Exception.h>
#include <torch/library.h>

#include <cstdlib>
#include <string_view>
#include <tuple>

#include "ops/cpu/lif_kernel.h"
#include "ops/lif_params.h"

namespace snn::ops::detail {
namespace {

// The kernel build to run: AVX2 where the CPU has AVX2 and FMA, else the baseline.
// SNN_CPU_CAPABILITY=default forces the baseline (as ATEN_CPU_CAPABILITY does for ATen).
bool use_avx2() {
  static const bool cpu_has = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
  const char* forced = std::getenv("SNN_CPU_CAPABILITY");
  if (forced == nullptr || *forced == '\0') return cpu_has;
  const std::string_view f(forced);
  TORCH_CHECK(f == "default" || f == "avx2",
              "snn: SNN_CPU_CAPABILITY must be \"default\" or \"avx2\", got \"", f, "\"");
  TORCH_CHECK(f == "default" || cpu_has,
              "snn: SNN_CPU_CAPABILITY=avx2, but this CPU lacks AVX2/FMA");
  return f == "avx2";
}

LifTensors contiguous_inputs(const at::Tensor& input, const at::Tensor& v_mem,
                             const std::optional<at::Tensor>& i_syn, const at::Tensor& alpha_mem,
                             const std::optional<at::Tensor>& alpha_syn) {
  check_lif_inputs(input, v_mem, i_syn, alpha_mem, alpha_syn);
  LifTensors a;
  a.x = input.contiguous();
  a.v0 = v_mem.contiguous();
  a.am = alpha_mem.contiguous();
  if (i_syn) {
    a.i0 = i_syn->contiguous();
    a.as = alpha_syn->contiguous();
  }
  return a;
}

std::tuple<at::Tensor, at::Tensor, at::Tensor> lif_cpu(
    const at::Tensor& input, const at::Tensor& v_mem, const std::optional<at::Tensor>& i_syn,
    const at::Tensor& alpha_mem, const std::optional<at::Tensor>& alpha_syn, bool norm_input,
    double spike_threshold, c10::string_view spike_fn, c10::string_view reset_fn,
    std::optional<double> reset_value, std::optional<double> min_v_mem, c10::string_view surrogate,
    c10::ArrayRef<double> surrogate_args) {
  const LifParams p = parse_lif_params(norm_input, spike_threshold, spike_fn, reset_fn, reset_value,
                                       min_v_mem, surrogate, surrogate_args);
  LifTensors a = contiguous_inputs(input, v_mem, i_syn, alpha_mem, alpha_syn);
  a.spikes = at::empty_like(a.x);
  a.v_rec = at::empty_like(a.x);
  a.i_rec = i_syn ? at::empty_like(a.x) : at::Tensor();
  (use_avx2() ? lif_forward_avx2 : lif_forward_default)(a, p);
  return {a.spikes, a.v_rec, i_syn ? a.i_rec : at::empty({0}, a.x.options())};
}

std::tuple<at::Tensor, at::Tensor, at::Tensor, at::Tensor, at::Tensor> lif_backward_cpu(
    const at::Tensor& grad_spikes, const at::Tensor& grad_v_mem, const at::Tensor& grad_i_syn,
    const at::Tensor& input, const at::Tensor& v_mem0, const std::optional<at::Tensor>& i_syn0,
    const at::Tensor& alpha_mem, const std::optional<at::Tensor>& alpha_syn,
    const at::Tensor& spikes, const at::Tensor& v_mem, const at::Tensor& i_syn, bool norm_input,
    double spike_threshold, c10::string_view spike_fn, c10::string_view reset_fn,
    std::optional<double> reset_value, std::optional<double> min_v_mem, c10::string_view surrogate,
    c10::ArrayRef<double> surrogate_args) {
  const LifParams p = parse_lif_params(norm_input, spike_threshold, spike_fn, reset_fn, reset_value,
                                       min_v_mem, surrogate, surrogate_args);
  LifTensors a = contiguous_inputs(input, v_mem0, i_syn0, alpha_mem, alpha_syn);
  const bool syn = i_syn0.has_value();
  std::vector<const at::Tensor*> same_shape{&grad_spikes, &grad_v_mem, &spikes, &v_mem};
  if (syn) {
    same_shape.push_back(&grad_i_syn);
    same_shape.push_back(&i_syn);
  }
  for (const auto* t : same_shape) {
    TORCH_CHECK(t->sizes() == input.sizes(),
                "snn::lif_backward: expected [B, T, N] = ", input.sizes(), ", got ", t->sizes());
    TORCH_CHECK(t->scalar_type() == input.scalar_type(), "snn::lif_backward: expected dtype ",
                input.scalar_type(), ", got ", t->scalar_type());
  }
  a.spikes = spikes.contiguous();
  a.v_rec = v_mem.contiguous();
  const int64_t B = a.x.size(0), N = a.x.size(2);
  const auto row_opts = a.x.options();
  LifGradTensors g;
  g.grad_spikes = grad_spikes.contiguous();
  g.grad_v_rec = grad_v_mem.contiguous();
  g.grad_x = at::empty_like(a.x);
  g.grad_v0 = at::empty({B, N}, row_opts);
  g.grad_am_rows = at::empty({B, N}, row_opts);
  if (syn) {
    a.i_rec = i_syn.contiguous();
    g.grad_i_rec = grad_i_syn.contiguous();
    g.grad_i0 = at::empty({B, N}, row_opts);
    g.grad_as_rows = at::empty({B, N}, row_opts);
  }
  (use_avx2() ? lif_backward_avx2 : lif_backward_default)(a, g, p);
  return {g.grad_x, g.grad_v0, g.grad_i0, g.grad_am_rows.sum(0),
          syn ? g.grad_as_rows.sum(0) : at::Tensor()};
}

}  // namespace

TORCH_LIBRARY_IMPL(snn, CPU, m) {
  m.impl("lif", &lif_cpu);
  m.impl("lif_backward", &lif_backward_cpu);
}

}  // namespace snn::ops::detail
