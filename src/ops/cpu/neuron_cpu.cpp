// The CPU implementations of snn::neuron and snn::neuron_backward: checks, allocation,
// and the call of the fused kernel compiled for this CPU (neuron_kernel_impl.h).
#include <ATen/Dispatch.h>
#include <ATen/ops/empty.h>
#include <ATen/ops/empty_like.h>
#include <c10/util/Exception.h>
#include <torch/library.h>

#include <cstdlib>
#include <string_view>

#include "ops/cpu/neuron_kernel.h"
#include "ops/neuron_args.h"
#include "ops/reference/neuron_reference.h"

namespace snn::ops::detail {
namespace {

// Contiguous tensors of one dtype, as the kernels take them (see neuron_kernel.h).
struct NeuronTensors {
  at::Tensor x, out;
  std::vector<at::Tensor> s0, p, rec;
};
struct NeuronGradTensors {
  at::Tensor grad_out;
  std::vector<at::Tensor> grad_rec;
  at::Tensor grad_x;
  std::vector<at::Tensor> grad_s0, grad_p_rows;
};

// The kernel build to run: AVX2 where it was built (x86-64, SNN_ENABLE_AVX2) and the CPU has
// AVX2 and FMA, else the baseline. SNN_CPU_CAPABILITY=default forces the baseline (as
// ATEN_CPU_CAPABILITY does for ATen).
bool use_avx2() {
#if defined(SNN_HAVE_AVX2_KERNELS)
  static const bool cpu_has = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
#else
  constexpr bool cpu_has = false;
#endif
  const char* forced = std::getenv("SNN_CPU_CAPABILITY");
  if (forced == nullptr || *forced == '\0') return cpu_has;
  const std::string_view f(forced);
  TORCH_CHECK(f == "default" || f == "avx2",
              "snn: SNN_CPU_CAPABILITY must be \"default\" or \"avx2\", got \"", f, "\"");
#if !defined(SNN_HAVE_AVX2_KERNELS)
  TORCH_CHECK(f == "default",
              "snn: SNN_CPU_CAPABILITY=avx2, but this build has no AVX2 kernels (not x86-64, or "
              "built with -DSNN_ENABLE_AVX2=OFF)");
#endif
  TORCH_CHECK(f == "default" || cpu_has,
              "snn: SNN_CPU_CAPABILITY=avx2, but this CPU lacks AVX2/FMA");
  return f == "avx2";
}

template <typename T>
const T* ptr(const at::Tensor& t) {
  return t.defined() ? t.const_data_ptr<T>() : nullptr;
}
template <typename T>
T* mut(const at::Tensor& t) {
  return t.defined() ? const_cast<at::Tensor&>(t).mutable_data_ptr<T>() : nullptr;
}

template <typename scalar_t>
NeuronPointers<scalar_t> pointers(const NeuronTensors& a, const NeuronGradTensors* g) {
  NeuronPointers<scalar_t> q;
  q.B = a.x.size(0);
  q.T = a.x.size(1);
  q.N = a.x.size(2);
  q.x = ptr<scalar_t>(a.x);
  q.out = mut<scalar_t>(a.out);
  for (size_t k = 0; k < a.s0.size(); ++k) {
    q.s0[k] = ptr<scalar_t>(a.s0[k]);
    q.rec[k] = mut<scalar_t>(a.rec[k]);
  }
  for (size_t k = 0; k < a.p.size(); ++k) {
    q.p[k] = ptr<scalar_t>(a.p[k]);
    q.p_stride[k] = a.p[k].numel() == 1 ? 0 : 1;
  }
  if (g != nullptr) {
    q.g_out = ptr<scalar_t>(g->grad_out);
    if (g->grad_out.defined()) {
      q.g_out_stride_b = g->grad_out.stride(0);
      q.g_out_stride_t = g->grad_out.stride(1);
      q.g_out_broadcast = g->grad_out.stride(2) == 0;
    }
    q.g_x = mut<scalar_t>(g->grad_x);
    for (size_t k = 0; k < g->grad_rec.size(); ++k) {
      q.g_rec[k] = ptr<scalar_t>(g->grad_rec[k]);
      q.g_s0[k] = mut<scalar_t>(g->grad_s0[k]);
    }
    for (size_t k = 0; k < g->grad_p_rows.size(); ++k) q.g_p[k] = mut<scalar_t>(g->grad_p_rows[k]);
  }
  return q;
}

// Runs the forward (g == nullptr) or the backward kernel of this CPU on the tensors.
void run_kernel(const NeuronSpec& spec, const NeuronTensors& a, const NeuronGradTensors* g) {
  const bool avx2 = use_avx2();
  bool ran = false;
  AT_DISPATCH_FLOATING_TYPES(a.x.scalar_type(), "snn::neuron", [&] {
    const auto q = pointers<scalar_t>(a, g);
#if defined(SNN_HAVE_AVX2_KERNELS)
    if (avx2) {
      ran = g == nullptr ? neuron_forward_avx2(spec, q) : neuron_backward_avx2(spec, q);
      return;
    }
#endif
    (void)avx2;
    ran = g == nullptr ? neuron_forward_default(spec, q) : neuron_backward_default(spec, q);
  });
  TORCH_INTERNAL_ASSERT(ran, "snn::neuron: no fused kernel for ", spec.str(),
                        " (its dynamics are missing from AllDynamics, neuron_kernel_impl.h)");
}

// Contiguous input, initial states and parameters (one value, or [N]).
NeuronTensors contiguous_inputs(const at::Tensor& input, at::TensorList state,
                                at::TensorList params) {
  NeuronTensors a;
  a.x = input.contiguous();
  for (const auto& s : state) a.s0.push_back(s.contiguous());
  for (const auto& p : params) a.p.push_back(p.contiguous());
  return a;
}

std::vector<at::Tensor> neuron_cpu(const at::Tensor& input, at::TensorList state,
                                   at::TensorList params, c10::string_view spec_text) {
  const NeuronSpec& spec = neuron_spec(std::string_view(spec_text.data(), spec_text.size()));
  check_neuron_args(input, state, params, spec);
  // state_quant changes the forward too: the reference computes it.
  if (spec.state_quant != 0) return neuron_reference_impl(input, state, params, spec_text);
  NeuronTensors a = contiguous_inputs(input, state, params);
  a.out = at::empty_like(a.x);
  for (size_t k = 0; k < state.size(); ++k) a.rec.push_back(at::empty_like(a.x));
  run_kernel(spec, a, nullptr);
  std::vector<at::Tensor> out{a.out};
  out.insert(out.end(), a.rec.begin(), a.rec.end());
  return out;
}

std::vector<at::Tensor> neuron_backward_cpu(const c10::List<std::optional<at::Tensor>>& grads,
                                            const at::Tensor& input, at::TensorList state,
                                            at::TensorList params, at::TensorList records,
                                            const at::Tensor& output, c10::string_view spec_text,
                                            const c10::List<bool>& needs_grad) {
  const NeuronSpec& spec = neuron_spec(std::string_view(spec_text.data(), spec_text.size()));
  check_neuron_args(input, state, params, spec);
  TORCH_CHECK(fused(spec), "snn::neuron_backward: the fused kernel does not compute ",
              spec.str(), " (its surrogate or state_quant: snn::neuron differentiates it "
              "through the reference)");
  const size_t ns = state.size(), np = params.size();
  TORCH_CHECK(grads.size() == 1 + ns, "snn::neuron_backward: expected ", 1 + ns,
              " output gradients (output and states), got ", grads.size());
  TORCH_CHECK(records.size() == ns, "snn::neuron_backward: expected ", ns, " state records, got ",
              records.size());
  TORCH_CHECK(needs_grad.size() == 1 + ns + np, "snn::neuron_backward: expected ", 1 + ns + np,
              " needs_grad flags (input, states, parameters), got ", needs_grad.size());
  auto check_full = [&](const at::Tensor& t, const char* what) {
    TORCH_CHECK(t.sizes() == input.sizes(), "snn::neuron_backward: expected ", what, " of shape ",
                input.sizes(), ", got ", t.sizes());
    TORCH_CHECK(t.scalar_type() == input.scalar_type(), "snn::neuron_backward: expected ", what,
                " of dtype ", input.scalar_type(), ", got ", t.scalar_type());
  };
  NeuronTensors a = contiguous_inputs(input, state, params);
  for (const auto& r : records) {
    check_full(r, "a state record");
    a.rec.push_back(r.contiguous());
  }
  check_full(output, "the forward's output");
  a.out = output.contiguous();
  const int64_t B = input.size(0), N = input.size(2);
  NeuronGradTensors g;
  // A gradient as the kernel reads it: contiguous, or, for the output's (rows = true), as it
  // is where its rows of N are dense or one broadcast value (the gradient of a sum, an
  // expanded scalar), without a copy.
  auto grad = [&](size_t k, const char* what, bool rows) {
    const std::optional<at::Tensor> gk = grads[k];
    if (!gk || !gk->defined()) return at::Tensor();
    check_full(*gk, what);
    return rows && (gk->stride(2) == 0 || gk->stride(2) == 1) ? *gk : gk->contiguous();
  };
  g.grad_out = grad(0, "the output's gradient", /*rows=*/true);
  for (size_t k = 0; k < ns; ++k) {
    const at::Tensor gk = grad(1 + k, "a state record's gradient", /*rows=*/false);
    g.grad_rec.push_back(gk);
    g.grad_s0.push_back(at::empty({B, N}, a.x.options()));
  }
  if (needs_grad[0]) g.grad_x = at::empty_like(a.x);
  for (size_t k = 0; k < np; ++k) {
    g.grad_p_rows.push_back(needs_grad[1 + ns + k] ? at::empty({B, N}, a.x.options())
                                                   : at::Tensor());
  }
  run_kernel(spec, a, &g);

  std::vector<at::Tensor> out;
  if (needs_grad[0]) out.push_back(g.grad_x);
  for (size_t k = 0; k < ns; ++k) {
    if (needs_grad[1 + k]) out.push_back(g.grad_s0[k]);
  }
  for (size_t k = 0; k < np; ++k) {
    if (!needs_grad[1 + ns + k]) continue;
    const auto per_neuron = g.grad_p_rows[k].sum(0);
    // A shared (scalar) parameter receives the sum over its neurons.
    out.push_back(params[k].numel() == 1 ? per_neuron.sum().reshape(params[k].sizes())
                                         : per_neuron);
  }
  return out;
}

}  // namespace

TORCH_LIBRARY_IMPL(snn, CPU, m) {
  m.impl("neuron", &neuron_cpu);
  m.impl("neuron_backward", &neuron_backward_cpu);
}

}  // namespace snn::ops::detail
