// snn::analysis::Analyzer: walks a Sequential model, noting the spiking layers' outputs and
// the parameter layers' inputs, and derives Sinabs' synops and firing-rate statistics.
#include "snn/analysis/analyzer.h"

#include <ATen/ATen.h>
#include <c10/util/Exception.h>
#include <torch/autograd.h>
#include <torch/nn/modules/conv.h>
#include <torch/nn/modules/linear.h>
#include <torch/nn/modules/pooling.h>

#include <typeinfo>
#include <unordered_map>

#include "snn/nn/neuron.h"
#include "snn/nn/structural.h"
#include "snn/ops/neuron.h"

namespace snn::analysis {
namespace {

constexpr const char* kWhat = "snn::analysis::Analyzer";

enum class Kind { Spiking, Linear, Conv2d, AvgPool };

// One layer the analyzer notes, in model order.
struct Entry {
  std::string name;
  Kind kind = Kind::Spiking;
  torch::nn::Module* module = nullptr;
  // Spiking layers: the neuron layer (for its Squeeze split).
  const detail::NeuronCore* core = nullptr;
  // Parameter layers inside snn::Repeat: the input is [B, T, ...] and time is dimension 1.
  bool repeated = false;
  // AvgPool2d: the kernel area.
  int64_t area = 1;

  // The last batch.
  at::Tensor output;  // spiking: [B, T, *features]
  at::Tensor synops;  // parameter: scalar, AvgPool-corrected
  int64_t n_neurons = 0;
  int64_t num_timesteps = 0;
  // Detached sums over the batches since the last reset.
  at::Tensor sum_rate, sum_rate_per_neuron, sum_synops;
  int64_t batches = 0;
  // Conv2d: the fan-out map for one input shape [1, C, H, W].
  std::vector<int64_t> fan_out_shape;
  at::Tensor fan_out;
};

bool is_spiking(const detail::NeuronCore* core) {
  return core != nullptr && ops::neuron_spec(core->spec()).has_spikes();
}

// The number of output values each input pixel of `conv` reaches, for input [1, C, H, W]
// (edges, stride, padding, dilation and groups included): the gradient of the sum of a
// convolution with an all-ones kernel, on an all-ones input.
at::Tensor conv_fan_out(torch::nn::Conv2dImpl& conv, at::IntArrayRef shape,
                        const at::TensorOptions& options) {
  TORCH_CHECK(std::holds_alternative<torch::enumtype::kZeros>(conv.options.padding_mode()), kWhat, ": Conv2d '",
              conv.name(), "' pads with a mode other than zeros, which the synops count does not "
              "model");
  torch::NoGradGuard no_grad_outside;
  at::Tensor ones = at::ones(shape, options.dtype(at::kDouble));
  at::Tensor fan;
  {
    torch::AutoGradMode enable(true);
    const auto x = ones.clone().requires_grad_(true);
    const auto w = at::ones(conv.weight.sizes(), ones.options());
    const auto& o = conv.options;
    at::Tensor y;
    if (const auto* pad = std::get_if<torch::ExpandingArray<2>>(&o.padding())) {
      y = at::conv2d(x, w, {}, *o.stride(), **pad, *o.dilation(), o.groups());
    } else {
      const bool same = std::holds_alternative<torch::enumtype::kSame>(o.padding());
      y = at::conv2d(x, w, {}, *o.stride(), same ? "same" : "valid", *o.dilation(), o.groups());
    }
    fan = torch::autograd::grad({y.sum()}, {x})[0];
  }
  return fan.to(options.dtype());
}

}  // namespace

struct Analyzer::Impl {
  torch::nn::Sequential model;
  double dt = 1.0;
  std::vector<Entry> entries;
  std::unordered_map<const torch::nn::Module*, size_t> index;
  // The last Squeeze layer's split of [B·T, ...] (Sinabs' unflattened_shape).
  const SqueezeOptions* squeeze = nullptr;
  int64_t batches = 0;

  void add(Entry e) {
    index[e.module] = entries.size();
    entries.push_back(std::move(e));
  }

  // Finds the layers to note, in model order, and refuses modules that hide some.
  void collect(torch::nn::SequentialImpl& seq, const std::string& prefix) {
    const auto children = seq.named_children();
    for (const auto& child : children) {
      const std::string name = prefix + child.key();
      torch::nn::Module* m = child.value().get();
      if (auto* inner = dynamic_cast<torch::nn::SequentialImpl*>(m)) {
        collect(*inner, name + ".");
        continue;
      }
      if (const auto* core = dynamic_cast<const detail::NeuronCore*>(m)) {
        if (core->squeeze_options() != nullptr) squeeze = core->squeeze_options();
        if (is_spiking(core)) {
          Entry e;
          e.name = name;
          e.kind = Kind::Spiking;
          e.module = m;
          e.core = core;
          add(std::move(e));
        }
        continue;  // a Recurrent layer's connection is part of the neuron layer
      }
      if (auto* repeat = dynamic_cast<RepeatImpl*>(m)) {
        torch::nn::Module* inner = repeat->module.ptr().get();
        if (dynamic_cast<torch::nn::LinearImpl*>(inner) != nullptr ||
            dynamic_cast<torch::nn::Conv2dImpl*>(inner) != nullptr) {
          Entry e;
          e.name = name + ".module";
          e.kind = dynamic_cast<torch::nn::LinearImpl*>(inner) != nullptr ? Kind::Linear
                                                                           : Kind::Conv2d;
          e.module = m;  // noted where the Repeat runs
          e.repeated = true;
          add(std::move(e));
          continue;
        }
      }
      if (dynamic_cast<torch::nn::LinearImpl*>(m) != nullptr) {
        add(Entry{name, Kind::Linear, m});
        continue;
      }
      if (dynamic_cast<torch::nn::Conv2dImpl*>(m) != nullptr) {
        add(Entry{name, Kind::Conv2d, m});
        continue;
      }
      if (auto* pool = dynamic_cast<torch::nn::AvgPool2dImpl*>(m)) {
        const auto& ks = *pool->options.kernel_size();
        const auto& st = *pool->options.stride();
        if (ks[0] != st[0] || ks[1] != st[1]) {
          TORCH_WARN(kWhat, ": AvgPool2d '", name, "' has kernel_size (", ks[0], ", ", ks[1],
                     ") and stride (", st[0], ", ", st[1],
                     "); the synops correction assumes they are equal");
        }
        Entry e;
        e.name = name;
        e.kind = Kind::AvgPool;
        e.module = m;
        e.area = ks[0] * ks[1];
        add(std::move(e));
        continue;
      }
      // Any other module runs as it is; it must not hide layers that the analysis counts.
      for (const auto& sub : m->named_modules()) {
        torch::nn::Module* s = sub.value().get();
        const auto* core = dynamic_cast<const detail::NeuronCore*>(s);
        const bool counted = is_spiking(core) ||
                             dynamic_cast<torch::nn::LinearImpl*>(s) != nullptr ||
                             dynamic_cast<torch::nn::Conv2dImpl*>(s) != nullptr;
        TORCH_CHECK(!counted, kWhat, ": module '", name, "' (", m->name(), ") holds ",
                    s->name(), sub.key().empty() ? "" : " '" + sub.key() + "'",
                    " inside a forward of its own, which the analyzer cannot look into; build "
                    "the model of torch::nn::Sequential containers (nested ones are walked)");
      }
    }
  }

  // [B·T, ...] → [B, T, ...] by the model's Squeeze split.
  at::Tensor unsqueeze(const at::Tensor& x, const SqueezeOptions& s) const {
    return detail::unsqueeze_time("analysis", x, s);
  }

  void note_spiking(Entry& e, const at::Tensor& out) {
    const at::Tensor o = e.core->squeeze_options() != nullptr
                             ? unsqueeze(out, *e.core->squeeze_options())
                             : out;
    TORCH_CHECK(o.dim() >= 3, kWhat, ": spiking layer '", e.name,
                "' gave output of shape ", o.sizes(), ", expected [B, T, *features]");
    e.output = o;
    e.n_neurons = o[0][0].numel();
    const auto rate = o.mean();
    const auto per_neuron = o.mean({0, 1});
    if (e.sum_rate_per_neuron.defined() &&
        e.sum_rate_per_neuron.sizes() != per_neuron.sizes()) {
      TORCH_CHECK(false, kWhat, ": spiking layer '", e.name, "' changed its feature shape from ",
                  e.sum_rate_per_neuron.sizes(), " to ", per_neuron.sizes(),
                  " between batches; call reset() first");
    }
    e.sum_rate = e.sum_rate.defined() ? e.sum_rate + rate.detach() : rate.detach();
    e.sum_rate_per_neuron = e.sum_rate_per_neuron.defined()
                                ? e.sum_rate_per_neuron + per_neuron.detach()
                                : per_neuron.detach();
    ++e.batches;
  }

  void note_parameter(Entry& e, const at::Tensor& x, torch::nn::Module& layer) {
    at::Tensor in = x;
    e.num_timesteps = 0;
    if (e.repeated) {
      TORCH_CHECK(x.dim() >= 3, kWhat, ": '", e.name, "' got input of shape ", x.sizes(),
                  ", expected [B, T, ...]");
      e.num_timesteps = x.size(1);
      in = x.sum(1);
    } else if (squeeze != nullptr) {
      const auto u = unsqueeze(x, *squeeze);
      e.num_timesteps = u.size(1);
      in = u.sum(1);
    } else if (e.kind == Kind::Linear && x.dim() >= 3) {
      e.num_timesteps = x.size(1);
      in = x.sum(1);
    }
    if (e.kind == Kind::Conv2d) {
      auto& conv = dynamic_cast<torch::nn::Conv2dImpl&>(layer);
      TORCH_CHECK(in.dim() == 4, kWhat, ": Conv2d '", e.name, "' got input of shape ", x.sizes(),
                  ", expected [N, C, H, W]");
      std::vector<int64_t> shape{1, in.size(1), in.size(2), in.size(3)};
      if (!e.fan_out.defined() || e.fan_out_shape != shape ||
          e.fan_out.scalar_type() != in.scalar_type() || e.fan_out.device() != in.device()) {
        e.fan_out = conv_fan_out(conv, shape, in.options());
        e.fan_out_shape = shape;
      }
      e.synops = (in * e.fan_out).mean(0).sum();
    } else {
      const auto& linear = dynamic_cast<torch::nn::LinearImpl&>(layer);
      e.synops = in.mean(0).sum() * static_cast<double>(linear.options.out_features());
    }
  }

  at::Tensor run(torch::nn::SequentialImpl& seq, at::Tensor x) {
    for (auto& any : seq) {
      torch::nn::Module* m = any.ptr().get();
      if (auto* inner = dynamic_cast<torch::nn::SequentialImpl*>(m)) {
        x = run(*inner, x);
        continue;
      }
      const auto it = index.find(m);
      Entry* e = it == index.end() ? nullptr : &entries[it->second];
      if (e != nullptr && (e->kind == Kind::Linear || e->kind == Kind::Conv2d)) {
        torch::nn::Module& layer =
            e->repeated ? *dynamic_cast<RepeatImpl&>(*m).module.ptr() : *m;
        note_parameter(*e, x, layer);
      }
      x = any.forward(x);
      if (e != nullptr && e->kind == Kind::Spiking) note_spiking(*e, x);
    }
    return x;
  }

  // Applies the AvgPool2d corrections (each parameter layer: the areas of the pools since
  // the previous one) and accumulates the synops of this batch.
  void finish_batch() {
    int64_t scale = 1;
    for (auto& e : entries) {
      if (e.kind == Kind::AvgPool) {
        scale *= e.area;
      } else if (e.kind == Kind::Linear || e.kind == Kind::Conv2d) {
        if (!e.synops.defined()) continue;  // not reached by this input
        if (scale != 1) e.synops = e.synops * static_cast<double>(scale);
        scale = 1;
        e.sum_synops = e.sum_synops.defined() ? e.sum_synops + e.synops.detach()
                                              : e.synops.detach();
        ++e.batches;
      }
    }
    ++batches;
  }

  void check_ran() const {
    TORCH_CHECK(batches > 0, kWhat, ": no batch yet; run forward(input) first");
  }
};

Analyzer::Analyzer(torch::nn::Sequential model, double dt) : impl_(std::make_unique<Impl>()) {
  TORCH_CHECK(!model.is_empty(), kWhat, ": the model is empty (a null Sequential)");
  TORCH_CHECK(dt > 0, kWhat, ": dt (the time step in ms) must be > 0, got ", dt);
  impl_->model = model;
  impl_->dt = dt;
  impl_->collect(*model, "");
  bool any_spiking = false;
  for (const auto& e : impl_->entries) any_spiking = any_spiking || e.kind == Kind::Spiking;
  TORCH_CHECK(any_spiking, kWhat,
              ": the model has no spiking layer (IAF, LIF, ALIF or their Squeeze / Recurrent "
              "forms), so there are no firing rates or synops to analyse");
}

Analyzer::~Analyzer() = default;
Analyzer::Analyzer(Analyzer&&) noexcept = default;
Analyzer& Analyzer::operator=(Analyzer&&) noexcept = default;

at::Tensor Analyzer::forward(const at::Tensor& input) {
  for (auto& e : impl_->entries) e.synops = at::Tensor();
  auto out = impl_->run(*impl_->model, input);
  impl_->finish_batch();
  return out;
}

std::vector<SpikingLayerStatistics> Analyzer::spiking_layers(bool average) const {
  impl_->check_ran();
  std::vector<SpikingLayerStatistics> out;
  for (const auto& e : impl_->entries) {
    if (e.kind != Kind::Spiking || e.batches == 0) continue;
    SpikingLayerStatistics s;
    s.name = e.name;
    s.n_neurons = e.n_neurons;
    s.output = e.output;
    if (average) {
      s.firing_rate = e.sum_rate / static_cast<double>(e.batches);
      s.firing_rate_per_neuron = e.sum_rate_per_neuron / static_cast<double>(e.batches);
    } else {
      s.firing_rate = e.output.mean();
      s.firing_rate_per_neuron = e.output.mean({0, 1});
    }
    out.push_back(std::move(s));
  }
  return out;
}

std::vector<ParameterLayerStatistics> Analyzer::parameter_layers(bool average) const {
  impl_->check_ran();
  std::vector<ParameterLayerStatistics> out;
  for (const auto& e : impl_->entries) {
    if ((e.kind != Kind::Linear && e.kind != Kind::Conv2d) || e.batches == 0) continue;
    ParameterLayerStatistics p;
    p.name = e.name;
    p.synops = average ? e.sum_synops / static_cast<double>(e.batches) : e.synops;
    if (!p.synops.defined()) p.synops = e.sum_synops / static_cast<double>(e.batches);
    p.num_timesteps = e.num_timesteps;
    p.time_window = static_cast<double>(e.num_timesteps) * impl_->dt;
    p.synops_per_second = p.synops / static_cast<double>(e.num_timesteps) / impl_->dt * 1000.0;
    out.push_back(std::move(p));
  }
  return out;
}

ModelStatistics Analyzer::model_statistics(bool average) const {
  ModelStatistics m;
  std::vector<at::Tensor> rates;
  for (const auto& s : spiking_layers(average)) {
    rates.push_back(s.firing_rate_per_neuron.reshape(-1));
    m.n_spiking_neurons += s.n_neurons;
  }
  m.firing_rate = at::cat(rates).mean();
  at::Tensor synops;
  for (const auto& p : parameter_layers(average)) {
    synops = synops.defined() ? synops + p.synops : p.synops;
  }
  m.synops = synops.defined() ? synops : at::zeros({}, m.firing_rate.options());
  return m;
}

void Analyzer::reset() {
  for (auto& e : impl_->entries) {
    e.output = at::Tensor();
    e.synops = at::Tensor();
    e.sum_rate = at::Tensor();
    e.sum_rate_per_neuron = at::Tensor();
    e.sum_synops = at::Tensor();
    e.batches = 0;
  }
  impl_->batches = 0;
}

int64_t Analyzer::n_batches() const { return impl_->batches; }

double Analyzer::dt() const { return impl_->dt; }

}  // namespace snn::analysis
