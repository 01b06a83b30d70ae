// Schemas of the snn ops (what Python sees as torch.ops.snn.*) and the typed C++ entry
// points that call them through the dispatcher.
#include <ATen/core/dispatch/Dispatcher.h>
#include <torch/library.h>

#include "snn/ops/lif.h"

TORCH_LIBRARY(snn, m) {
  m.def(
      "lif(Tensor input, Tensor v_mem, Tensor? i_syn, Tensor alpha_mem, Tensor? alpha_syn, "
      "bool norm_input, float spike_threshold, str spike_fn, str reset_fn, float? reset_value, "
      "float? min_v_mem, str surrogate, float[] surrogate_args) -> (Tensor, Tensor, Tensor)");
  m.def(
      "lif_backward(Tensor grad_spikes, Tensor grad_v_mem, Tensor grad_i_syn, Tensor input, "
      "Tensor v_mem0, Tensor? i_syn0, Tensor alpha_mem, Tensor? alpha_syn, Tensor spikes, "
      "Tensor v_mem, Tensor i_syn, bool norm_input, float spike_threshold, str spike_fn, "
      "str reset_fn, float? reset_value, float? min_v_mem, str surrogate, "
      "float[] surrogate_args) -> (Tensor, Tensor, Tensor, Tensor, Tensor)");
  m.def(
      "lif_reference(Tensor input, Tensor v_mem, Tensor? i_syn, Tensor alpha_mem, "
      "Tensor? alpha_syn, bool norm_input, float spike_threshold, str spike_fn, str reset_fn, "
      "float? reset_value, float? min_v_mem, str surrogate, float[] surrogate_args) "
      "-> (Tensor, Tensor, Tensor)");
}

namespace snn::ops {
namespace {

using LifSignature = std::tuple<at::Tensor, at::Tensor, at::Tensor>(
    const at::Tensor&, const at::Tensor&, const std::optional<at::Tensor>&, const at::Tensor&,
    const std::optional<at::Tensor>&, bool, double, c10::string_view, c10::string_view,
    std::optional<double>, std::optional<double>, c10::string_view, c10::ArrayRef<double>);

std::vector<at::Tensor> call_lif(const char* name, const at::Tensor& input, const at::Tensor& v_mem,
                                 const std::optional<at::Tensor>& i_syn,
                                 const at::Tensor& alpha_mem,
                                 const std::optional<at::Tensor>& alpha_syn, bool norm_input,
                                 double spike_threshold, const std::string& spike_fn,
                                 const std::string& reset_fn, std::optional<double> reset_value,
                                 std::optional<double> min_v_mem, const std::string& surrogate,
                                 const std::vector<double>& surrogate_args) {
  static const auto op =
      c10::Dispatcher::singleton().findSchemaOrThrow("snn::lif", "").typed<LifSignature>();
  static const auto ref = c10::Dispatcher::singleton()
                              .findSchemaOrThrow("snn::lif_reference", "")
                              .typed<LifSignature>();
  const auto& handle = std::string_view(name) == "lif" ? op : ref;
  auto [s, v, i] =
      handle.call(input, v_mem, i_syn, alpha_mem, alpha_syn, norm_input, spike_threshold, spike_fn,
                  reset_fn, reset_value, min_v_mem, surrogate, surrogate_args);
  return {s, v, i};
}

}  // namespace

std::vector<at::Tensor> lif(const at::Tensor& input, const at::Tensor& v_mem,
                            const std::optional<at::Tensor>& i_syn, const at::Tensor& alpha_mem,
                            const std::optional<at::Tensor>& alpha_syn, bool norm_input,
                            double spike_threshold, const std::string& spike_fn,
                            const std::string& reset_fn, std::optional<double> reset_value,
                            std::optional<double> min_v_mem, const std::string& surrogate,
                            const std::vector<double>& surrogate_args) {
  return call_lif("lif", input, v_mem, i_syn, alpha_mem, alpha_syn, norm_input, spike_threshold,
                  spike_fn, reset_fn, reset_value, min_v_mem, surrogate, surrogate_args);
}

std::vector<at::Tensor> lif_reference(
    const at::Tensor& input, const at::Tensor& v_mem, const std::optional<at::Tensor>& i_syn,
    const at::Tensor& alpha_mem, const std::optional<at::Tensor>& alpha_syn, bool norm_input,
    double spike_threshold, const std::string& spike_fn, const std::string& reset_fn,
    std::optional<double> reset_value, std::optional<double> min_v_mem,
    const std::string& surrogate, const std::vector<double>& surrogate_args) {
  return call_lif("lif_reference", input, v_mem, i_syn, alpha_mem, alpha_syn, norm_input,
                  spike_threshold, spike_fn, reset_fn, reset_value, min_v_mem, surrogate,
                  surrogate_args);
}

}  // namespace snn::ops
