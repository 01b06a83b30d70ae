#include "snn/nn/conversion.h"

#include <ATen/ATen.h>
#include <c10/util/Exception.h>
#include <torch/nn/modules/activation.h>
#include <torch/nn/modules/conv.h>
#include <torch/nn/modules/linear.h>

#include <cmath>

#include "snn/nn/lif.h"

namespace snn {
namespace {

torch::nn::AnyModule spiking_layer(const FromModelOptions& o) {
  return torch::nn::AnyModule(IAFSqueeze(IAFOptions()
                                             .spike_threshold(o.spike_threshold())
                                             .spike_fn(o.spike_fn())
                                             .reset_fn(o.reset_fn())
                                             .surrogate(o.surrogate())
                                             .min_v_mem(o.min_v_mem()),
                                         SqueezeOptions()
                                             .batch_size(o.batch_size())
                                             .num_timesteps(o.num_timesteps())));
}

bool is_relu(const torch::nn::Module& m) {
  return m.as<torch::nn::ReLUImpl>() != nullptr;
}

torch::nn::Sequential convert(const torch::nn::SequentialImpl& seq, const FromModelOptions& o) {
  torch::nn::Sequential out;
  const auto names = seq.named_children().keys();
  size_t k = 0;
  for (const auto& any : seq) {
    const auto& name = names[k++];
    const auto ptr = any.ptr();
    if (is_relu(*ptr)) {
      out->push_back(std::string(name), spiking_layer(o));
    } else {
      out->push_back(std::string(name), any.clone());
    }
  }
  return out;
}

// numpy.percentile's default: linear interpolation between the order statistics.
double percentile_of(const at::Tensor& values, double percentile) {
  const auto sorted = std::get<0>(values.detach().flatten().to(at::kDouble).sort());
  const int64_t n = sorted.numel();
  TORCH_CHECK(n > 0, "snn::normalize_weights: the output layer produced no values");
  const double pos = percentile / 100.0 * static_cast<double>(n - 1);
  const auto lo = static_cast<int64_t>(std::floor(pos));
  const int64_t hi = std::min(lo + 1, n - 1);
  const double a = sorted[lo].item<double>(), b = sorted[hi].item<double>();
  return a + (b - a) * (pos - static_cast<double>(lo));
}

}  // namespace

torch::nn::Sequential from_model(const torch::nn::Sequential& ann, const FromModelOptions& o) {
  TORCH_CHECK(o.spike_threshold() > 0, "snn::from_model: spike_threshold must be > 0, got ",
              o.spike_threshold());
  TORCH_CHECK(o.bias_rescaling() != 0, "snn::from_model: bias_rescaling must not be 0");
  TORCH_CHECK(o.batch_size() || o.num_timesteps(),
              "snn::from_model: give batch_size or num_timesteps (the converted network takes "
              "squeezed input [B*T, ...])");
  for (const auto& item : ann->named_modules()) {
    TORCH_CHECK(!is_relu(*item.value()) || item.key().find('.') == std::string::npos,
                "snn::from_model: cannot replace the ReLU '", item.key(),
                "': it sits inside another module, not directly in the Sequential");
  }
  torch::NoGradGuard no_grad;
  auto snn = convert(*ann, o);
  if (o.add_spiking_output() && (snn->is_empty() || !is_relu(*ann->ptr(ann->size() - 1)))) {
    snn->push_back(std::string("spike_output"), spiking_layer(o));
  }
  if (o.bias_rescaling() != 1.0) {
    for (const auto& m : snn->modules()) {
      at::Tensor bias;
      if (auto* lin = m->as<torch::nn::LinearImpl>()) bias = lin->bias;
      if (auto* conv = m->as<torch::nn::Conv2dImpl>()) bias = conv->bias;
      if (bias.defined()) bias.div_(o.bias_rescaling());
    }
  }
  return snn;
}

void normalize_weights(torch::nn::Sequential& ann, const at::Tensor& sample_data,
                       const std::vector<std::string>& output_layers,
                       const std::vector<std::string>& param_layers, double percentile) {
  TORCH_CHECK(output_layers.size() == param_layers.size(),
              "snn::normalize_weights: output_layers and param_layers must have the same length, "
              "got ", output_layers.size(), " and ", param_layers.size());
  TORCH_CHECK(percentile > 0 && percentile <= 100,
              "snn::normalize_weights: percentile must be in (0, 100], got ", percentile);
  const auto children = ann->named_children();
  for (const auto& name : param_layers) {
    TORCH_CHECK(children.contains(name), "snn::normalize_weights: no layer named '", name,
                "' (layers: ", children.keys(), ")");
  }
  torch::NoGradGuard no_grad;
  for (size_t i = 0; i < output_layers.size(); ++i) {
    at::Tensor x = sample_data, captured;
    size_t k = 0;
    for (auto& any : *ann) {
      x = any.forward<at::Tensor>(x);
      if (children.keys()[k++] == output_layers[i]) captured = x;
    }
    TORCH_CHECK(captured.defined(), "snn::normalize_weights: no layer named '", output_layers[i],
                "' (layers: ", children.keys(), ")");
    const double scale = percentile_of(captured, percentile);
    TORCH_CHECK(scale != 0, "snn::normalize_weights: the ", percentile, "th percentile of '",
                output_layers[i], "' is 0: no activity to normalise by");
    for (auto& p : children[param_layers[i]]->parameters()) p.mul_(1.0 / scale);
  }
}

}  // namespace snn
