#pragma once
// Internal: the non-tensor arguments of the snn::lif op, parsed and validated once.
#include <ATen/core/Tensor.h>
#include <c10/util/ArrayRef.h>
#include <c10/util/Exception.h>

#include <optional>
#include <string>
#include <string_view>

namespace snn::ops::detail {

enum class SpikeKind { Multi, Single };
enum class ResetKind { Subtract, ToValue };

struct LifParams {
  bool norm_input = true;
  double threshold = 1.0;
  SpikeKind spike = SpikeKind::Multi;
  ResetKind reset = ResetKind::Subtract;
  double reset_value = 1.0;  // subtracted value (Subtract) or value added (ToValue)
  bool clamp = false;
  double min_v_mem = 0.0;
  double grad_width = 0.5;  // SingleExponential
  double grad_scale = 1.0;
};

inline LifParams parse_lif_params(bool norm_input, double spike_threshold,
                                  std::string_view spike_fn, std::string_view reset_fn,
                                  std::optional<double> reset_value,
                                  std::optional<double> min_v_mem, std::string_view surrogate,
                                  c10::ArrayRef<double> surrogate_args) {
  LifParams p;
  p.norm_input = norm_input;
  TORCH_CHECK(spike_threshold > 0, "snn::lif: spike_threshold must be > 0, got ", spike_threshold);
  p.threshold = spike_threshold;
  if (spike_fn == "multi") {
    p.spike = SpikeKind::Multi;
  } else if (spike_fn == "single") {
    p.spike = SpikeKind::Single;
  } else {
    TORCH_CHECK(false, "snn::lif: spike_fn must be \"multi\" or \"single\", got \"", spike_fn,
                "\"");
  }
  if (reset_fn == "subtract") {
    p.reset = ResetKind::Subtract;
    p.reset_value = reset_value.value_or(spike_threshold);
  } else if (reset_fn == "reset") {
    p.reset = ResetKind::ToValue;
    p.reset_value = reset_value.value_or(0.0);
  } else {
    TORCH_CHECK(false, "snn::lif: reset_fn must be \"subtract\" or \"reset\", got \"", reset_fn,
                "\"");
  }
  p.clamp = min_v_mem.has_value();
  p.min_v_mem = min_v_mem.value_or(0.0);
  TORCH_CHECK(surrogate == "single_exponential",
              "snn::lif: surrogate must be \"single_exponential\", got \"", surrogate, "\"");
  TORCH_CHECK(surrogate_args.size() == 2,
              "snn::lif: single_exponential takes [grad_width, grad_scale], got ",
              surrogate_args.size(), " values");
  p.grad_width = surrogate_args[0];
  p.grad_scale = surrogate_args[1];
  TORCH_CHECK(p.grad_width > 0, "snn::lif: surrogate grad_width must be > 0, got ", p.grad_width);
  return p;
}

// Shapes: input [B, T, N]; v0, i0 [B, N]; alphas [N]; dtypes and devices all equal.
inline void check_lif_inputs(const at::Tensor& input, const at::Tensor& v0,
                             const std::optional<at::Tensor>& i0, const at::Tensor& alpha_mem,
                             const std::optional<at::Tensor>& alpha_syn) {
  TORCH_CHECK(input.dim() == 3, "snn::lif: expected input of shape [B, T, N], got ", input.sizes());
  TORCH_CHECK(input.size(1) >= 1, "snn::lif: expected at least one time step, got input ",
              input.sizes());
  TORCH_CHECK(at::isFloatingType(input.scalar_type()),
              "snn::lif: expected a floating-point input, got ", input.scalar_type());
  const auto B = input.size(0), N = input.size(2);
  auto check_same = [&](const at::Tensor& t, const char* name, at::IntArrayRef shape) {
    TORCH_CHECK(t.sizes() == shape, "snn::lif: expected ", name, " of shape ", shape, ", got ",
                t.sizes());
    TORCH_CHECK(t.scalar_type() == input.scalar_type(), "snn::lif: expected ", name, " of dtype ",
                input.scalar_type(), " (the input's), got ", t.scalar_type());
    TORCH_CHECK(t.device() == input.device(), "snn::lif: expected ", name, " on ", input.device(),
                " (the input's device), got ", t.device());
  };
  check_same(v0, "v_mem", {B, N});
  check_same(alpha_mem, "alpha_mem", {N});
  TORCH_CHECK(i0.has_value() == alpha_syn.has_value(),
              "snn::lif: i_syn and alpha_syn must be given together (a synapse) or not at all");
  if (i0.has_value()) {
    check_same(*i0, "i_syn", {B, N});
    check_same(*alpha_syn, "alpha_syn", {N});
  }
}

}  // namespace snn::ops::detail
