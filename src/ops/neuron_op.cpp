// The schemas of the snn ops (what Python sees as torch.ops.snn.*), their typed C++ entry
// points, autograd (one function for every neuron family), and the kernels that are not
// CPU kernels: shape-only (Meta) kernels for tracing, and the reference for other devices.
#include <ATen/core/dispatch/Dispatcher.h>
#include <ATen/ops/empty.h>
#include <ATen/ops/empty_like.h>
#include <torch/csrc/autograd/custom_function.h>
#include <torch/library.h>

#include "ops/neuron_args.h"
#include "ops/reference/neuron_reference.h"
#include "snn/ops/neuron.h"

TORCH_LIBRARY(snn, m) {
  m.def("neuron(Tensor input, Tensor[] state, Tensor[] params, str spec) -> Tensor[]");
  // Gradients of [output, state records] (none: unused), the forward's input, initial
  // states, parameters, state records and output; returns the gradients of the inputs
  // flagged in needs_grad ([input, states..., params...]), in that order.
  m.def(
      "neuron_backward(Tensor?[] grads, Tensor input, Tensor[] state, Tensor[] params, "
      "Tensor[] records, Tensor output, str spec, bool[] needs_grad) -> Tensor[]");
  m.def("neuron_reference(Tensor input, Tensor[] state, Tensor[] params, str spec) -> Tensor[]");
}

namespace snn::ops {
namespace {

using NeuronSignature = std::vector<at::Tensor>(const at::Tensor&, at::TensorList, at::TensorList,
                                                c10::string_view);
using BackwardSignature = std::vector<at::Tensor>(const c10::List<std::optional<at::Tensor>>&,
                                                  const at::Tensor&, at::TensorList,
                                                  at::TensorList, at::TensorList,
                                                  const at::Tensor&, c10::string_view,
                                                  const c10::List<bool>&);

const c10::TypedOperatorHandle<NeuronSignature>& neuron_handle() {
  static const auto op =
      c10::Dispatcher::singleton().findSchemaOrThrow("snn::neuron", "").typed<NeuronSignature>();
  return op;
}

}  // namespace

std::vector<at::Tensor> neuron(const at::Tensor& input, at::TensorList state,
                               at::TensorList params, const std::string& spec) {
  return neuron_handle().call(input, state, params, spec);
}

std::vector<at::Tensor> neuron_reference(const at::Tensor& input, at::TensorList state,
                                         at::TensorList params, const std::string& spec) {
  static const auto op = c10::Dispatcher::singleton()
                             .findSchemaOrThrow("snn::neuron_reference", "")
                             .typed<NeuronSignature>();
  return op.call(input, state, params, spec);
}

namespace detail {
namespace {

using torch::autograd::AutogradContext;
using torch::autograd::variable_list;

// The autograd function of every family: the op below autograd, neuron_backward as its
// backward. Gradients of unused outputs arrive undefined and are passed on as none.
class NeuronFunction : public torch::autograd::Function<NeuronFunction> {
 public:
  static variable_list forward(AutogradContext* ctx, const at::Tensor& input, at::TensorList state,
                               at::TensorList params, const std::string& spec) {
    std::vector<at::Tensor> out;
    {
      at::AutoDispatchBelowADInplaceOrView guard;
      out = neuron_handle().call(input, state, params, spec);
    }
    std::vector<at::Tensor> saved{input};
    saved.insert(saved.end(), state.begin(), state.end());
    saved.insert(saved.end(), params.begin(), params.end());
    // The records and the output (the spikes, which the backward loads instead of
    // recomputing them; in a network the next layer keeps them anyway).
    saved.insert(saved.end(), out.begin() + 1, out.end());
    saved.push_back(out[0]);
    ctx->save_for_backward(saved);
    ctx->saved_data["spec"] = spec;
    ctx->saved_data["num_states"] = static_cast<int64_t>(state.size());
    ctx->set_materialize_grads(false);
    return out;
  }

  static variable_list backward(AutogradContext* ctx, variable_list grads) {
    static const auto op = c10::Dispatcher::singleton()
                               .findSchemaOrThrow("snn::neuron_backward", "")
                               .typed<BackwardSignature>();
    const auto saved = ctx->get_saved_variables();
    const auto ns = static_cast<size_t>(ctx->saved_data["num_states"].toInt());
    const size_t np = saved.size() - 2 - 2 * ns;
    const at::TensorList all(saved);
    const size_t n_inputs = 1 + ns + np;
    c10::List<bool> needs;
    bool any = false;
    for (size_t k = 0; k < n_inputs; ++k) {
      needs.push_back(ctx->needs_input_grad(k));
      any = any || ctx->needs_input_grad(k);
    }
    variable_list result(n_inputs + 1);  // + the spec, which has no gradient
    if (!any) return result;
    c10::List<std::optional<at::Tensor>> g;
    for (const auto& t : grads) {
      g.push_back(t.defined() ? std::optional<at::Tensor>(t) : std::nullopt);
    }
    const auto computed = op.call(g, saved[0], all.slice(1, ns), all.slice(1 + ns, np),
                                  all.slice(1 + ns + np, ns), saved.back(),
                                  ctx->saved_data["spec"].toStringRef(), needs);
    size_t next = 0;
    for (size_t k = 0; k < n_inputs; ++k) {
      if (needs[k]) result[k] = computed[next++];
    }
    return result;
  }
};

// The fused kernel with autograd on the CPU (and shapes only on Meta); elsewhere the
// reference, whose ATen ops autograd records.
std::vector<at::Tensor> neuron_autograd(const at::Tensor& input, at::TensorList state,
                                        at::TensorList params, c10::string_view spec) {
  const auto& parsed = neuron_spec(std::string_view(spec.data(), spec.size()));
  if ((input.is_cpu() || input.is_meta()) && fused(parsed)) {
    return NeuronFunction::apply(input, state, params, std::string(spec));
  }
  return neuron_reference_impl(input, state, params, spec);
}

std::vector<at::Tensor> neuron_meta(const at::Tensor& input, at::TensorList state,
                                    at::TensorList params, c10::string_view spec_text) {
  const NeuronSpec& spec = neuron_spec(std::string_view(spec_text.data(), spec_text.size()));
  check_neuron_args(input, state, params, spec);
  std::vector<at::Tensor> out;
  for (size_t k = 0; k < 1 + state.size(); ++k) {
    out.push_back(at::empty(input.sizes(), input.options()));
  }
  return out;
}

std::vector<at::Tensor> neuron_backward_meta(const c10::List<std::optional<at::Tensor>>& /*grads*/,
                                             const at::Tensor& input, at::TensorList state,
                                             at::TensorList params, at::TensorList /*records*/,
                                             const at::Tensor& /*output*/,
                                             c10::string_view spec_text,
                                             const c10::List<bool>& needs_grad) {
  const NeuronSpec& spec = neuron_spec(std::string_view(spec_text.data(), spec_text.size()));
  check_neuron_args(input, state, params, spec);
  TORCH_CHECK(needs_grad.size() == 1 + state.size() + params.size(),
              "snn::neuron_backward: expected ", 1 + state.size() + params.size(),
              " needs_grad flags, got ", needs_grad.size());
  std::vector<at::Tensor> out;
  auto add = [&](size_t k, const at::Tensor& like) {
    if (needs_grad[k]) out.push_back(at::empty(like.sizes(), like.options()));
  };
  add(0, input);
  for (size_t k = 0; k < state.size(); ++k) add(1 + k, state[k]);
  for (size_t k = 0; k < params.size(); ++k) add(1 + state.size() + k, params[k]);
  return out;
}

}  // namespace

TORCH_LIBRARY_IMPL(snn, Autograd, m) {
  m.impl("neuron", &neuron_autograd);
}

TORCH_LIBRARY_IMPL(snn, Meta, m) {
  m.impl("neuron", &neuron_meta);
  m.impl("neuron_backward", &neuron_backward_meta);
}

// Below autograd on devices without a fused kernel (e.g. CUDA under inference mode).
TORCH_LIBRARY_IMPL(snn, CompositeExplicitAutograd, m) {
  m.impl("neuron", &neuron_reference_impl);
}

}  // namespace detail
}  // namespace snn::ops
