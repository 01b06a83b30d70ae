// Autograd for snn::lif: the forward op below autograd, and snn::lif_backward as the
// backward, so that the fused op is differentiable from C++ and from Python.
#include <ATen/core/dispatch/Dispatcher.h>
#include <torch/csrc/autograd/custom_function.h>
#include <torch/library.h>

namespace snn::ops::detail {
namespace {

using torch::autograd::AutogradContext;
using torch::autograd::variable_list;

struct LifArgs {
  bool norm_input;
  double spike_threshold;
  std::string spike_fn, reset_fn, surrogate;
  std::optional<double> reset_value, min_v_mem;
  std::vector<double> surrogate_args;
};

class LifFunction : public torch::autograd::Function<LifFunction> {
 public:
  static variable_list forward(AutogradContext* ctx, const at::Tensor& input,
                               const at::Tensor& v_mem, const std::optional<at::Tensor>& i_syn,
                               const at::Tensor& alpha_mem,
                               const std::optional<at::Tensor>& alpha_syn, LifArgs args) {
    static const auto op =
        c10::Dispatcher::singleton()
            .findSchemaOrThrow("snn::lif", "")
            .typed<std::tuple<at::Tensor, at::Tensor, at::Tensor>(
                const at::Tensor&, const at::Tensor&, const std::optional<at::Tensor>&,
                const at::Tensor&, const std::optional<at::Tensor>&, bool, double, c10::string_view,
                c10::string_view, std::optional<double>, std::optional<double>, c10::string_view,
                c10::ArrayRef<double>)>();
    at::AutoDispatchBelowADInplaceOrView guard;
    auto [s, v, i] = op.call(input, v_mem, i_syn, alpha_mem, alpha_syn, args.norm_input,
                             args.spike_threshold, args.spike_fn, args.reset_fn, args.reset_value,
                             args.min_v_mem, args.surrogate, args.surrogate_args);
    const bool syn = i_syn.has_value();
    ctx->save_for_backward({input, v_mem, syn ? *i_syn : at::Tensor(), alpha_mem,
                            syn ? *alpha_syn : at::Tensor(), s, v, i});
    ctx->saved_data["syn"] = syn;
    ctx->saved_data["norm_input"] = args.norm_input;
    ctx->saved_data["spike_threshold"] = args.spike_threshold;
    ctx->saved_data["spike_fn"] = args.spike_fn;
    ctx->saved_data["reset_fn"] = args.reset_fn;
    ctx->saved_data["reset_value"] = args.reset_value;
    ctx->saved_data["min_v_mem"] = args.min_v_mem;
    ctx->saved_data["surrogate"] = args.surrogate;
    ctx->saved_data["surrogate_args"] = args.surrogate_args;
    if (!syn) ctx->mark_non_differentiable({i});
    return {s, v, i};
  }

  static variable_list backward(AutogradContext* ctx, variable_list grads) {
    static const auto op =
        c10::Dispatcher::singleton()
            .findSchemaOrThrow("snn::lif_backward", "")
            .typed<std::tuple<at::Tensor, at::Tensor, at::Tensor, at::Tensor, at::Tensor>(
                const at::Tensor&, const at::Tensor&, const at::Tensor&, const at::Tensor&,
                const at::Tensor&, const std::optional<at::Tensor>&, const at::Tensor&,
                const std::optional<at::Tensor>&, const at::Tensor&, const at::Tensor&,
                const at::Tensor&, bool, double, c10::string_view, c10::string_view,
                std::optional<double>, std::optional<double>, c10::string_view,
                c10::ArrayRef<double>)>();
    const auto saved = ctx->get_saved_variables();
    const bool syn = ctx->saved_data["syn"].toBool();
    auto opt = [syn](const at::Tensor& t) {
      return syn ? std::optional<at::Tensor>(t) : std::nullopt;
    };
    auto& d = ctx->saved_data;
    const auto surrogate_args = d["surrogate_args"].toDoubleVector();
    auto [gx, gv0, gi0, gam, gas] = op.call(
        grads[0], grads[1], syn ? grads[2] : at::Tensor(), saved[0], saved[1], opt(saved[2]),
        saved[3], opt(saved[4]), saved[5], saved[6], saved[7], d["norm_input"].toBool(),
        d["spike_threshold"].toDouble(), d["spike_fn"].toStringRef(), d["reset_fn"].toStringRef(),
        d["reset_value"].toOptional<double>(), d["min_v_mem"].toOptional<double>(),
        d["surrogate"].toStringRef(), surrogate_args);
    return {gx, gv0, gi0, gam, gas, at::Tensor()};
  }
};

std::tuple<at::Tensor, at::Tensor, at::Tensor> lif_autograd(
    const at::Tensor& input, const at::Tensor& v_mem, const std::optional<at::Tensor>& i_syn,
    const at::Tensor& alpha_mem, const std::optional<at::Tensor>& alpha_syn, bool norm_input,
    double spike_threshold, c10::string_view spike_fn, c10::string_view reset_fn,
    std::optional<double> reset_value, std::optional<double> min_v_mem, c10::string_view surrogate,
    c10::ArrayRef<double> surrogate_args) {
  auto out = LifFunction::apply(
      input, v_mem, i_syn, alpha_mem, alpha_syn,
      LifArgs{norm_input, spike_threshold, std::string(spike_fn), std::string(reset_fn),
              std::string(surrogate), reset_value, min_v_mem, surrogate_args.vec()});
  return {out[0], out[1], out[2]};
}

}  // namespace

TORCH_LIBRARY_IMPL(snn, Autograd, m) {
  m.impl("lif", &lif_autograd);
}

}  // namespace snn::ops::detail
