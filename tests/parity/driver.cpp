// Parity driver: runs snn.cpp's neuron layers on a case written by tests/parity (torch.save
// of a dict), and writes what they computed (torch.load-able) for pytest to hold against the
// Python library.
//
// Usage: snn_parity_driver CASE.pt RESULT.pt
// The case: layer ("LIF" | "IAF" | "ALIF" | "ExpLeak"), form ("" | "Squeeze" | "Recurrent"),
// the layer's options (Sinabs' names), inputs (one tensor per chained forward call), and
// loss weights: grad_spikes (per call, for the output), grad_rec (state name → per call,
// for the recordings) and grad_final (state name → tensor, for the final state).
// Loss = Σ_k <out_k, grad_spikes_k> + Σ_k Σ_name <rec_k[name], grad_rec[name][k]>
//        + Σ_name <state[name], grad_final[name]>.
// Other modules (layer "SumPool2d", "Repeat", "from_model"): one call on "input"; the
// result holds the output and the gradients of <output, grad_output> (input, parameters).
// Layer "analyzer": snn::analysis::Analyzer on a model (see run_analyzer_case); layer
// "loss": snn::train::loss and predict (see run_loss_case).
#include <torch/nn/modules/activation.h>
#include <torch/nn/modules/container/sequential.h>
#include <torch/nn/modules/conv.h>
#include <torch/nn/modules/linear.h>
#include <torch/nn/modules/pooling.h>
#include <torch/serialize.h>
#include <ATen/CPUGeneratorImpl.h>

#include <fstream>
#include <functional>
#include <sstream>
#include <iostream>
#include <iterator>

#include "snn/snn.h"

namespace {

using Dict = c10::Dict<c10::IValue, c10::IValue>;

Dict load_case(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  TORCH_CHECK(in, "cannot open ", path);
  std::vector<char> bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  return torch::pickle_load(bytes).toGenericDict();
}

bool has(const Dict& c, const char* key) {
  return c.contains(key) && !c.at(key).isNone();
}

std::optional<snn::TimeConstant> tau(const Dict& c, const char* key) {
  if (!has(c, key)) return std::nullopt;
  return snn::TimeConstant(c.at(key).toTensor());
}

snn::SpikeFn spike_fn(const Dict& c) {
  const auto& name = c.at("spike_fn").toStringRef();
  if (name == "single") return snn::SingleSpike{};
  if (name == "max") {
    return snn::MaxSpike{has(c, "max_spikes") ? std::optional(c.at("max_spikes").toInt())
                                              : std::nullopt};
  }
  return snn::MultiSpike{};
}

snn::ResetFn reset_fn(const Dict& c) {
  const bool value = has(c, "reset_value");
  if (c.at("reset_fn").toStringRef() == "reset") {
    return snn::MembraneReset{value ? c.at("reset_value").toDouble() : 0.0};
  }
  return snn::MembraneSubtract{value ? std::optional(c.at("reset_value").toDouble()) : std::nullopt};
}

snn::Surrogate surrogate(const Dict& c) {
  const auto& name = c.at("surrogate").toStringRef();
  const auto args = c.at("surrogate_args").toGenericDict();
  auto arg = [&](const char* key, double fallback) {
    return args.contains(key) ? args.at(key).toDouble() : fallback;
  };
  if (name == "Heaviside") return snn::Heaviside{arg("window", 1.0)};
  if (name == "Gaussian") return snn::Gaussian{arg("mu", 0.0), arg("sigma", 0.5), arg("grad_scale", 1.0)};
  if (name == "MultiGaussian") {
    return snn::MultiGaussian{arg("mu", 0.0), arg("sigma", 0.5), arg("h", 0.15), arg("s", 6.0),
                              arg("grad_scale", 1.0)};
  }
  if (name == "PeriodicExponential") {
    return snn::PeriodicExponential{arg("grad_width", 0.5), arg("grad_scale", 1.0)};
  }
  return snn::SingleExponential{arg("grad_width", 0.5), arg("grad_scale", 1.0)};
}

// Options every spiking layer has.
template <typename Options>
Options spiking(Options o, const Dict& c) {
  o.spike_threshold(c.at("spike_threshold").toDouble())
      .spike_fn(spike_fn(c))
      .reset_fn(reset_fn(c))
      .surrogate(surrogate(c))
      .record_states(c.at("record_states").toBool());
  if (has(c, "min_v_mem")) o.min_v_mem(c.at("min_v_mem").toDouble());
  return o;
}

snn::LIFOptions lif_options(const Dict& c) {
  auto o = spiking(snn::LIFOptions(*tau(c, "tau_mem")), c);
  o.tau_syn(tau(c, "tau_syn")).train_alphas(c.at("train_alphas").toBool());
  o.norm_input(c.at("norm_input").toBool());
  return o;
}
snn::IAFOptions iaf_options(const Dict& c) {
  return spiking(snn::IAFOptions().tau_syn(tau(c, "tau_syn")), c);
}
snn::ALIFOptions alif_options(const Dict& c) {
  auto o = spiking(snn::ALIFOptions(*tau(c, "tau_mem"), *tau(c, "tau_adapt")), c);
  o.tau_syn(tau(c, "tau_syn")).train_alphas(c.at("train_alphas").toBool());
  o.adapt_scale(c.at("adapt_scale").toDouble()).norm_input(c.at("norm_input").toBool());
  return o;
}
snn::ExpLeakOptions exp_leak_options(const Dict& c) {
  snn::ExpLeakOptions o(*tau(c, "tau_mem"));
  o.train_alphas(c.at("train_alphas").toBool()).norm_input(c.at("norm_input").toBool());
  o.record_states(c.at("record_states").toBool());
  if (has(c, "min_v_mem")) o.min_v_mem(c.at("min_v_mem").toDouble());
  return o;
}

// rec_connect: a Linear (weight [N, N], bias; inside a Sequential with rec_sequential) or
// a Conv2d (weight [C, C, k, k], bias, padding) holding the case's weights.
snn::RecurrentConnection rec_connect(const Dict& c) {
  const auto w = c.at("rec_weight").toTensor(), b = c.at("rec_bias").toTensor();
  torch::NoGradGuard no_grad;
  if (w.dim() == 2) {
    torch::nn::Linear lin(w.size(1), w.size(0));
    lin->weight.copy_(w);
    lin->bias.copy_(b);
    if (has(c, "rec_sequential") && c.at("rec_sequential").toBool()) {
      return torch::nn::Sequential(lin);
    }
    return lin;
  }
  torch::nn::Conv2d conv(torch::nn::Conv2dOptions(w.size(1), w.size(0), w.size(2))
                             .padding(c.at("rec_padding").toInt()));
  conv->weight.copy_(w);
  conv->bias.copy_(b);
  return conv;
}

struct Layer {
  std::shared_ptr<torch::nn::Module> module;
  snn::detail::NeuronCore* neuron = nullptr;
  std::function<at::Tensor(const at::Tensor&)> forward;
};

template <typename Impl>
Layer wrap(std::shared_ptr<Impl> impl) {
  return {impl, impl.get(), [impl](const at::Tensor& x) { return impl->forward(x); }};
}

template <typename Model>
Layer make_form(const typename Model::Options& options, const Dict& c) {
  const auto& form = c.at("form").toStringRef();
  if (form == "Squeeze") {
    snn::SqueezeOptions sq;
    if (has(c, "batch_size")) sq.batch_size(c.at("batch_size").toInt());
    if (has(c, "num_timesteps")) sq.num_timesteps(c.at("num_timesteps").toInt());
    return wrap(std::make_shared<snn::SqueezeLayer<Model>>(options, sq));
  }
  if (form == "Recurrent") {
    return wrap(std::make_shared<snn::RecurrentLayer<Model>>(options, rec_connect(c)));
  }
  return wrap(std::make_shared<snn::NeuronLayer<Model>>(options));
}

Layer make_layer(const Dict& c) {
  const auto& name = c.at("layer").toStringRef();
  if (name == "LIF") return make_form<snn::LIFModel>(lif_options(c), c);
  if (name == "IAF") return make_form<snn::IAFModel>(iaf_options(c), c);
  if (name == "ALIF") return make_form<snn::ALIFModel>(alif_options(c), c);
  TORCH_CHECK(name == "ExpLeak", "unknown layer ", name);
  TORCH_CHECK(c.at("form").toStringRef() != "Recurrent", "ExpLeak has no recurrent form");
  return make_form<snn::ExpLeakModel>(exp_leak_options(c), c);
}

void copy_weights(torch::nn::Module& m, const c10::impl::GenericDict& weights) {
  torch::NoGradGuard no_grad;
  for (auto& p : m.named_parameters()) {
    TORCH_CHECK(weights.contains(p.key()), "the case has no weight ", p.key());
    p.value().copy_(weights.at(p.key()).toTensor());
  }
}

// The small ANN of the conversion test (its Python twin is in test_sinabs_structure.py).
torch::nn::Sequential conversion_ann(bool last_relu) {
  using torch::nn::Conv2dOptions;
  torch::nn::Sequential ann(torch::nn::Conv2d(Conv2dOptions(2, 4, 3).padding(1)),
                            torch::nn::ReLU(), torch::nn::AvgPool2d(2),
                            torch::nn::Conv2d(Conv2dOptions(4, 8, 3)), torch::nn::ReLU(),
                            torch::nn::Flatten(), torch::nn::Linear(32, 10));
  if (last_relu) ann->push_back(torch::nn::ReLU());
  return ann;
}

std::vector<std::string> strings(const c10::IValue& list) {
  std::vector<std::string> out;
  for (const auto& v : list.toListRef()) out.push_back(v.toStringRef());
  return out;
}

c10::impl::GenericDict run_module_case(const Dict& c) {
  const auto& name = c.at("layer").toStringRef();
  const auto input = c.at("input").toTensor().clone().requires_grad_(true);
  std::shared_ptr<torch::nn::Module> module;
  at::Tensor output;
  if (name == "SumPool2d") {
    const auto k = c.at("kernel_size").toInt(), st = c.at("stride").toInt();
    snn::SumPool2d pool(snn::SumPool2dOptions(k).stride(st).ceil_mode(c.at("ceil_mode").toBool()));
    module = pool.ptr();
    output = pool->forward(input);
  } else if (name == "Repeat") {
    const auto w = c.at("weights").toGenericDict().at("module.weight").toTensor();
    snn::Repeat repeat(torch::nn::AnyModule(
        torch::nn::Conv2d(torch::nn::Conv2dOptions(w.size(1), w.size(0), w.size(2)))));
    copy_weights(*repeat, c.at("weights").toGenericDict());
    module = repeat.ptr();
    output = repeat->forward(input);
  } else {
    TORCH_CHECK(name == "from_model", "unknown module case ", name);
    auto ann = conversion_ann(c.at("last_relu").toBool());
    copy_weights(*ann, c.at("weights").toGenericDict());
    snn::normalize_weights(ann, c.at("sample").toTensor(), strings(c.at("output_layers")),
                           strings(c.at("param_layers")), c.at("percentile").toDouble());
    auto options = snn::FromModelOptions()
                       .batch_size(c.at("batch_size").toInt())
                       .spike_threshold(c.at("spike_threshold").toDouble())
                       .bias_rescaling(c.at("bias_rescaling").toDouble())
                       .add_spiking_output(c.at("add_spiking_output").toBool());
    if (has(c, "min_v_mem")) {
      options.min_v_mem(c.at("min_v_mem").toDouble());
    } else {
      options.min_v_mem(std::nullopt);
    }
    auto snn_model = snn::from_model(ann, options);
    module = snn_model.ptr();
    output = snn_model->forward(input);
  }
  (output * c.at("grad_output").toTensor()).sum().backward();
  c10::impl::GenericDict out(c10::StringType::get(), c10::AnyType::get());
  out.insert("output", output.detach());
  out.insert("grad_input", input.grad());
  c10::impl::GenericDict grads(c10::StringType::get(), c10::AnyType::get());
  c10::impl::GenericDict params(c10::StringType::get(), c10::AnyType::get());
  for (const auto& p : module->named_parameters()) {
    params.insert(p.key(), p.value().detach());
    if (p.value().grad().defined()) grads.insert(p.key(), p.value().grad());
  }
  out.insert("grad_params", grads);
  out.insert("params", params);
  std::vector<std::string> children;
  for (const auto& item : module->named_children()) {
    std::ostringstream os;
    item.value()->pretty_print(os);
    children.push_back(item.key() + " " + os.str().substr(0, os.str().find('(')));
  }
  out.insert("children", c10::List<std::string>(children));
  return out;
}

// The models of the analyzer's parity test (their Python twins are in test_analysis.py):
//   conv      the synops tutorial's conv SNN (FlattenTime ... IAFSqueeze, UnflattenTime)
//   conv_avg  the same with AvgPool2d(2) in place of SumPool2d(2)
//   shd       the SHD MLP 140→64→64→20 with IAF, batch-first
//   nested    the SHD MLP split into nested Sequentials
torch::nn::Sequential analysis_model(const std::string& name, int64_t batch_size) {
  if (name == "conv" || name == "conv_avg") {
    return snn::train::tutorial_conv_snn(batch_size, /*average_pool=*/name == "conv_avg");
  }
  if (name == "shd") return snn::train::shd_mlp(snn::train::MLPOptions());
  TORCH_CHECK(name == "nested", "unknown analysis model ", name);
  return torch::nn::Sequential(
      snn::NestedSequential(torch::nn::Linear(140, 64), snn::IAF()),
      snn::NestedSequential(torch::nn::Linear(64, 64), snn::IAF(), torch::nn::Linear(64, 20)),
      snn::IAF());
}

// The analyzer on a model: per batch (states reset first), a forward and the backward of
// loss = the model's synops (a fresh graph per batch, as a synops-regularised training
// step has); then every statistic of the last batch and the averages, and the gradients of
// the last batch's loss.
c10::impl::GenericDict run_analyzer_case(const Dict& c) {
  const auto inputs = c.at("inputs").toListRef();
  auto model = analysis_model(c.at("model").toStringRef(), c.at("batch_size").toInt());
  copy_weights(*model, c.at("weights").toGenericDict());
  snn::analysis::Analyzer analyzer(model, c.at("dt").toDouble());
  for (const auto& x : inputs) {
    snn::reset_states(*model);
    model->zero_grad();
    analyzer.forward(x.toTensor());
    analyzer.model_statistics().synops.backward();
  }
  using Generic = c10::impl::GenericDict;
  auto dict = [] { return Generic(c10::StringType::get(), c10::AnyType::get()); };
  Generic out = dict();
  for (const bool average : {false, true}) {
    Generic spiking = dict(), parameter = dict();
    for (const auto& s : analyzer.spiking_layers(average)) {
      Generic d = dict();
      d.insert("n_neurons", s.n_neurons);
      d.insert("firing_rate", s.firing_rate.detach());
      d.insert("firing_rate_per_neuron", s.firing_rate_per_neuron.detach());
      spiking.insert(s.name, d);
    }
    for (const auto& p : analyzer.parameter_layers(average)) {
      Generic d = dict();
      d.insert("synops", p.synops.detach());
      d.insert("num_timesteps", p.num_timesteps);
      d.insert("time_window", p.time_window);
      d.insert("synops_per_second", p.synops_per_second.detach());
      parameter.insert(p.name, d);
    }
    const auto m = analyzer.model_statistics(average);
    Generic model_stats = dict();
    model_stats.insert("firing_rate", m.firing_rate.detach());
    model_stats.insert("synops", m.synops.detach());
    model_stats.insert("n_spiking_neurons", m.n_spiking_neurons);
    const std::string key = average ? "average" : "last";
    Generic all = dict();
    all.insert("spiking", spiking);
    all.insert("parameter", parameter);
    all.insert("model", model_stats);
    out.insert(key, all);
  }
  Generic grads = dict();
  for (const auto& p : model->named_parameters()) {
    if (p.value().grad().defined()) grads.insert(p.key(), p.value().grad());
  }
  out.insert("grad_params", grads);
  out.insert("n_batches", analyzer.n_batches());
  return out;
}

// snn::train::loss on "output" [B, T, C] and "labels": the value and its gradient with
// respect to the output ("kind": sum_ce, rate_ce, count_mse, max_membrane_ce, membrane_mse).
c10::impl::GenericDict run_loss_case(const Dict& c) {
  const auto& kind = c.at("kind").toStringRef();
  snn::train::LossOptions o;
  if (kind == "sum_ce") o.kind(snn::train::LossKind::SumCrossEntropy);
  else if (kind == "rate_ce") o.kind(snn::train::LossKind::RateCrossEntropy);
  else if (kind == "count_mse") o.kind(snn::train::LossKind::CountMSE);
  else if (kind == "max_membrane_ce") o.kind(snn::train::LossKind::MaxMembraneCrossEntropy);
  else if (kind == "membrane_mse") o.kind(snn::train::LossKind::MembraneMSE);
  else TORCH_CHECK(false, "unknown loss kind ", kind);
  if (has(c, "correct_rate")) o.correct_rate(c.at("correct_rate").toDouble());
  if (has(c, "incorrect_rate")) o.incorrect_rate(c.at("incorrect_rate").toDouble());
  if (has(c, "on_target")) o.on_target(c.at("on_target").toDouble());
  if (has(c, "off_target")) o.off_target(c.at("off_target").toDouble());
  const auto output = c.at("output").toTensor().clone().requires_grad_(true);
  const auto value = snn::train::loss(o, output, c.at("labels").toTensor());
  value.backward();
  c10::impl::GenericDict out(c10::StringType::get(), c10::AnyType::get());
  out.insert("loss", value.detach());
  out.insert("grad_output", output.grad());
  out.insert("prediction", snn::train::predict(o, output.detach()));
  return out;
}

void write_result(const c10::impl::GenericDict& out, const std::string& path) {
  const auto bytes = torch::pickle_save(out);
  const std::string tmp = path + ".tmp";
  std::ofstream(tmp, std::ios::binary)
      .write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  std::rename(tmp.c_str(), path.c_str());
}

std::vector<at::Tensor> tensors(const c10::IValue& list) {
  std::vector<at::Tensor> out;
  for (const auto& v : list.toListRef()) out.push_back(v.toTensor());
  return out;
}

// snnTorch's neurons (layer "snntorch"): model "Leaky" | "Synaptic" | "Lapicque" |
// "Alpha", options (snnTorch's
// names; spike_grad_text: the surrogate's text), mode "sequence" (one forward per input
// [B, T, N], the hidden state carried), "step" (a loop of leaky(x_t, mem) with the states
// passed in and out, starting from "mem0" / "syn0") or "hidden_step" (a loop of
// step(x_t)). Loss = Σ_k <spk_k, grad_spikes_k> + <mem_k, grad_mem_k> (+ <syn_k, grad_syn_k>),
// over every step's values (Alpha: syn_exc and syn_inh instead of syn).
c10::impl::GenericDict run_snntorch_case(const Dict& c) {
  const auto& model = c.at("model").toStringRef();
  const auto o = c.at("options").toGenericDict();
  const auto value = [&](const char* key) { return snn::snntorch::Value(o.at(key).toTensor()); };
  const auto flag = [&](const char* key) { return o.at(key).toBool(); };
  const auto common = [&](auto opts) {
    opts.threshold(value("threshold"))
        .spike_grad(snn::parse_surrogate(o.at("spike_grad_text").toStringRef()))
        .surrogate_disable(flag("surrogate_disable"))
        .learn_beta(flag("learn_beta"))
        .learn_threshold(flag("learn_threshold"))
        .reset_mechanism(o.at("reset_mechanism").toStringRef())
        .reset_delay(flag("reset_delay"))
        .inhibition(has(o, "inhibition") && flag("inhibition"))
        .record_states(true);
    if (has(o, "state_quant_bits")) {
      opts.state_quant(snn::snntorch::state_quant_uniform(
          o.at("state_quant_bits").toInt(), o.at("state_quant_threshold").toDouble(),
          o.at("state_quant_lower").toDouble(), o.at("state_quant_upper").toDouble()));
    } else if (has(o, "state_quant_levels")) {
      opts.state_quant(snn::snntorch::state_quant(o.at("state_quant_levels").toTensor()));
    }
    return opts;
  };
  std::shared_ptr<torch::nn::Module> module;
  std::function<std::vector<at::Tensor>(const at::Tensor&)> sequence;
  std::function<std::vector<at::Tensor>(const at::Tensor&, std::vector<at::Tensor>&)> step;
  std::function<std::vector<at::Tensor>(const at::Tensor&)> hidden_step;
  if (model == "Leaky") {
    auto opts = common(snn::snntorch::LeakyOptions(value("beta")));
    opts.graded_spikes_factor(value("graded_spikes_factor"))
        .learn_graded_spikes_factor(flag("learn_graded_spikes_factor"));
    snn::snntorch::Leaky layer(opts);
    module = layer.ptr();
    sequence = [layer](const at::Tensor& x) mutable {
      const auto spk = layer(x);
      return std::vector<at::Tensor>{spk, layer->recordings().at("mem")};
    };
    step = [layer](const at::Tensor& x, std::vector<at::Tensor>& st) mutable {
      auto [spk, mem] = layer(x, st[0]);
      st[0] = mem;
      return std::vector<at::Tensor>{spk, mem};
    };
    hidden_step = [layer](const at::Tensor& x) mutable {
      const auto spk = layer->step(x);
      return std::vector<at::Tensor>{spk, layer->mem()};
    };
  } else if (model == "Lapicque") {
    auto opts = common(snn::snntorch::LapicqueOptions());
    const auto optional = [&](const char* key) {
      return has(o, key) ? std::optional<double>(o.at(key).toDouble()) : std::nullopt;
    };
    opts.beta(optional("beta")).R(optional("R")).C(optional("C"));
    opts.time_step(o.at("time_step").toDouble());
    snn::snntorch::Lapicque layer(opts);
    module = layer.ptr();
    sequence = [layer](const at::Tensor& x) mutable {
      const auto spk = layer(x);
      return std::vector<at::Tensor>{spk, layer->recordings().at("mem")};
    };
    step = [layer](const at::Tensor& x, std::vector<at::Tensor>& st) mutable {
      auto [spk, mem] = layer(x, st[0]);
      st[0] = mem;
      return std::vector<at::Tensor>{spk, mem};
    };
    hidden_step = [layer](const at::Tensor& x) mutable {
      const auto spk = layer->step(x);
      return std::vector<at::Tensor>{spk, layer->mem()};
    };
  } else if (model == "Alpha") {
    auto opts = common(snn::snntorch::AlphaOptions(value("alpha"), value("beta")));
    opts.learn_alpha(flag("learn_alpha"));
    snn::snntorch::Alpha layer(opts);
    module = layer.ptr();
    sequence = [layer](const at::Tensor& x) mutable {
      const auto spk = layer(x);
      const auto& r = layer->recordings();
      return std::vector<at::Tensor>{spk, r.at("mem"), r.at("syn_exc"), r.at("syn_inh")};
    };
    step = [layer](const at::Tensor& x, std::vector<at::Tensor>& st) mutable {
      auto [spk, exc, inh, mem] = layer(x, st[1], st[2], st[0]);
      st = {mem, exc, inh};
      return std::vector<at::Tensor>{spk, mem, exc, inh};
    };
    hidden_step = [layer](const at::Tensor& x) mutable {
      const auto spk = layer->step(x);
      return std::vector<at::Tensor>{spk, layer->mem(), layer->state("syn_exc"),
                                     layer->state("syn_inh")};
    };
  } else if (model == "RLeaky" || model == "RSynaptic") {
    const auto recurrent = [&](auto opts) {
      opts.all_to_all(flag("all_to_all")).learn_recurrent(flag("learn_recurrent"));
      if (has(o, "V")) opts.V(value("V"));
      if (has(o, "linear_features")) opts.linear_features(o.at("linear_features").toInt());
      if (has(o, "conv2d_channels")) opts.conv2d_channels(o.at("conv2d_channels").toInt());
      if (has(o, "kernel_size")) opts.kernel_size(o.at("kernel_size").toInt());
      return opts;
    };
    if (model == "RLeaky") {
      snn::snntorch::RLeaky layer(recurrent(common(snn::snntorch::RLeakyOptions(value("beta")))));
      module = layer.ptr();
      sequence = [layer](const at::Tensor& x) mutable {
        const auto spk = layer(x);
        return std::vector<at::Tensor>{spk, layer->recordings().at("mem")};
      };
      step = [layer](const at::Tensor& x, std::vector<at::Tensor>& st) mutable {
        auto [spk, mem] = layer(x, st[1], st[0]);
        st = {mem, spk};
        return std::vector<at::Tensor>{spk, mem};
      };
      hidden_step = [layer](const at::Tensor& x) mutable {
        const auto spk = layer->step(x);
        return std::vector<at::Tensor>{spk, layer->mem()};
      };
    } else {
      auto opts = recurrent(common(snn::snntorch::RSynapticOptions(value("alpha"), value("beta"))));
      opts.learn_alpha(flag("learn_alpha"));
      snn::snntorch::RSynaptic layer(opts);
      module = layer.ptr();
      sequence = [layer](const at::Tensor& x) mutable {
        const auto spk = layer(x);
        return std::vector<at::Tensor>{spk, layer->recordings().at("mem"),
                                       layer->recordings().at("syn")};
      };
      step = [layer](const at::Tensor& x, std::vector<at::Tensor>& st) mutable {
        auto [spk, syn, mem] = layer(x, st[2], st[1], st[0]);
        st = {mem, syn, spk};
        return std::vector<at::Tensor>{spk, mem, syn};
      };
      hidden_step = [layer](const at::Tensor& x) mutable {
        const auto spk = layer->step(x);
        return std::vector<at::Tensor>{spk, layer->mem(), layer->syn()};
      };
    }
    // The connection's weights, as snnTorch drew them.
    if (has(o, "weights")) copy_weights(*module, o.at("weights").toGenericDict());
  } else {
    TORCH_CHECK(model == "Synaptic", "unknown snntorch model ", model);
    auto opts = common(snn::snntorch::SynapticOptions(value("alpha"), value("beta")));
    opts.learn_alpha(flag("learn_alpha"));
    snn::snntorch::Synaptic layer(opts);
    module = layer.ptr();
    sequence = [layer](const at::Tensor& x) mutable {
      const auto spk = layer(x);
      return std::vector<at::Tensor>{spk, layer->recordings().at("mem"),
                                     layer->recordings().at("syn")};
    };
    step = [layer](const at::Tensor& x, std::vector<at::Tensor>& st) mutable {
      auto [spk, syn, mem] = layer(x, st[1], st[0]);
      st = {mem, syn};
      return std::vector<at::Tensor>{spk, mem, syn};
    };
    hidden_step = [layer](const at::Tensor& x) mutable {
      const auto spk = layer->step(x);
      return std::vector<at::Tensor>{spk, layer->mem(), layer->syn()};
    };
  }
  const auto& mode = c.at("mode").toStringRef();
  const auto inputs = tensors(c.at("inputs"));
  const std::vector<std::string> names =
      model == "Alpha" ? std::vector<std::string>{"spikes", "mem", "syn_exc", "syn_inh"}
                       : std::vector<std::string>{"spikes", "mem", "syn"};
  std::vector<at::Tensor> leaves;
  std::vector<at::Tensor> st;
  if (mode == "step") {
    st.push_back(c.at("mem0").toTensor().clone().requires_grad_(true));
    if (model == "Synaptic" || model == "RSynaptic") {
      st.push_back(c.at("syn0").toTensor().clone().requires_grad_(true));
    }
    if (model == "Alpha") {
      st.push_back(c.at("exc0").toTensor().clone().requires_grad_(true));
      st.push_back(c.at("inh0").toTensor().clone().requires_grad_(true));
    }
    if (model[0] == 'R') st.push_back(c.at("spk0").toTensor().clone().requires_grad_(true));
    leaves = st;
  }
  c10::impl::GenericDict out(c10::StringType::get(), c10::AnyType::get());
  std::vector<c10::List<at::Tensor>> results(names.size());
  at::Tensor loss = at::zeros({}, inputs[0].options());
  std::vector<at::Tensor> xs;
  for (size_t k = 0; k < inputs.size(); ++k) {
    auto x = inputs[k].clone().requires_grad_(true);
    xs.push_back(x);
    std::vector<at::Tensor> got;
    if (mode == "sequence") {
      got = sequence(x);
    } else {
      std::vector<std::vector<at::Tensor>> steps;
      for (int64_t t = 0; t < x.size(1); ++t) {
        steps.push_back(mode == "step" ? step(x.select(1, t), st) : hidden_step(x.select(1, t)));
      }
      for (size_t j = 0; j < steps[0].size(); ++j) {
        std::vector<at::Tensor> seq;
        for (const auto& s : steps) seq.push_back(s[j]);
        got.push_back(at::stack(seq, 1));
      }
    }
    for (size_t j = 0; j < got.size(); ++j) {
      results[j].push_back(got[j].detach());
      loss = loss + (got[j] * tensors(c.at("grad_" + names[j]))[k]).sum();
    }
  }
  loss.backward();
  for (size_t j = 0; j < names.size(); ++j) {
    if (!results[j].empty()) out.insert(names[j], results[j]);
  }
  c10::List<at::Tensor> grad_inputs;
  for (const auto& x : xs) grad_inputs.push_back(x.grad());
  out.insert("grad_inputs", grad_inputs);
  c10::List<at::Tensor> grad_states;
  for (const auto& l : leaves) {  // a state no gradient reached: zero (as the fused kernel's)
    grad_states.push_back(l.grad().defined() ? l.grad() : at::zeros_like(l));
  }
  out.insert("grad_states", grad_states);
  c10::impl::GenericDict grads(c10::StringType::get(), c10::AnyType::get());
  for (const auto& p : module->named_parameters()) {
    if (p.value().grad().defined()) grads.insert(p.key(), p.value().grad());
  }
  out.insert("grad_params", grads);
  std::ostringstream printed;
  module->pretty_print(printed);
  out.insert("printed", printed.str());
  return out;
}

// spikingtorch's tutorial network (its docs' MySNN): conv → IF → conv → IF → Linear → IF,
// each step's input [B, 1, 28, 28] (the time axis kept, as SpikingNet hands it).
struct StTutorialNetImpl : torch::nn::Module {
  explicit StTutorialNetImpl(int64_t nout) {
    using torch::nn::Conv2dOptions;
    conv1 = register_module("conv1", torch::nn::Conv2d(Conv2dOptions(1, 4, 4).stride(2)));
    conv2 = register_module("conv2", torch::nn::Conv2d(Conv2dOptions(4, 6, 4)));
    l1 = register_module("l1", torch::nn::Linear(torch::nn::LinearOptions(600, nout).bias(false)));
    sl1 = register_module("sl1", snn::spikingtorch::IF());
    sl2 = register_module("sl2", snn::spikingtorch::IF());
    sl3 = register_module("sl3", snn::spikingtorch::IF());
  }
  at::Tensor forward(const at::Tensor& x, bool init) {
    const auto s1 = sl1(conv1(x), init);
    const auto s2 = sl2(conv2(s1), init);
    return sl3(l1(s2.reshape({s2.size(0), -1})), init);
  }
  torch::nn::Conv2d conv1{nullptr}, conv2{nullptr};
  torch::nn::Linear l1{nullptr};
  snn::spikingtorch::IF sl1{nullptr}, sl2{nullptr}, sl3{nullptr};
};
TORCH_MODULE(StTutorialNet);

// Layer "nir": snn::nir::load(path) with convention (and dt), run on "input" [B, T, ...] in
// "calls" consecutive chunks of time; the result holds the output and the state of every
// stateful node after the last call. With "export_path": the imported module is exported
// there again (snn::nir::export_module with the input as sample) after the run.
c10::impl::GenericDict run_nir_case(const Dict& c) {
  snn::nir::ImportOptions options;
  options.convention(snn::nir::parse_convention(c.at("convention").toStringRef()));
  if (has(c, "dt")) options.dt(c.at("dt").toDouble());
  auto model = snn::nir::load(c.at("path").toStringRef(), options);
  const auto input = c.at("input").toTensor();
  const int64_t calls = has(c, "calls") ? c.at("calls").toInt() : 1;
  std::vector<at::Tensor> outs;
  for (const auto& chunk : input.tensor_split(calls, 1)) outs.push_back(model->forward(chunk));
  c10::impl::GenericDict out(c10::StringType::get(), c10::AnyType::get());
  out.insert("output", at::cat(outs, 1).detach());
  c10::impl::GenericDict states(c10::StringType::get(), c10::AnyType::get());
  for (const auto& name : model->order()) {
    const auto module = model->node_module(name);
    const auto* stateful = dynamic_cast<const snn::StatefulModule*>(module.get());
    if (stateful == nullptr || !stateful->is_state_initialised()) continue;
    c10::impl::GenericDict s(c10::StringType::get(), c10::AnyType::get());
    for (const auto& state : stateful->state_names()) s.insert(state, stateful->state(state).detach());
    states.insert(name, s);
  }
  out.insert("states", states);
  out.insert("recurrent", model->recurrent());
  if (has(c, "export_path")) {
    snn::reset_states(*model);
    snn::nir::write(c.at("export_path").toStringRef(),
                    snn::nir::export_module(*model, input, snn::nir::ExportOptions()));
  }
  return out;
}

// Layer "nir_export": a small recurrent model of snn.cpp's layers ("model": lif_recurrent,
// iaf_recurrent, rleaky, rsynaptic; Linear(4, 6) in front, the recurrent connection a Linear
// with or without "bias"), seeded; run on "input", then exported to "export_path". The
// result holds the output.
c10::impl::GenericDict run_nir_export_case(const Dict& c) {
  torch::manual_seed(c.at("seed").toInt());
  const auto& kind = c.at("model").toStringRef();
  const bool bias = c.at("bias").toBool();
  torch::nn::Sequential model(torch::nn::Linear(4, 6));
  torch::nn::Linear rec(torch::nn::LinearOptions(6, 6).bias(bias));
  if (kind == "lif_recurrent") {
    model->push_back(snn::LIFRecurrent(snn::LIFOptions(8.0).spike_threshold(0.5), rec));
  } else if (kind == "iaf_recurrent") {
    model->push_back(snn::IAFRecurrent(snn::IAFOptions().spike_threshold(0.8), rec));
  } else if (kind == "rleaky") {
    snn::snntorch::RLeakyOptions o(0.9);
    o.linear_features(6).reset_mechanism("zero").reset_delay(false);
    model->push_back(snn::snntorch::RLeaky(o));
  } else {
    snn::snntorch::RSynapticOptions o(0.8, 0.9);
    o.linear_features(6).reset_mechanism("zero").reset_delay(false);
    model->push_back(snn::snntorch::RSynaptic(o));
  }
  const auto input = c.at("input").toTensor();
  torch::NoGradGuard no_grad;
  const auto out = model->forward(input);
  snn::nir::write(c.at("export_path").toStringRef(),
                  snn::nir::export_module(*model, input, snn::nir::ExportOptions()));
  c10::impl::GenericDict result(c10::StringType::get(), c10::AnyType::get());
  result.insert("output", out.detach());
  return result;
}

c10::impl::GenericDict run_spikingtorch_case(const Dict& c) {
  namespace st = snn::spikingtorch;
  c10::impl::GenericDict out(c10::StringType::get(), c10::AnyType::get());
  const auto& kind = c.at("kind").toStringRef();
  if (kind == "tutorial") {
    StTutorialNet net(10);
    {
      torch::NoGradGuard no_grad;
      const auto w = c.at("weights").toGenericDict();
      for (auto& p : net->named_parameters()) p.value().copy_(w.at(p.key()).toTensor());
    }
    st::SpikingNet model(net, {10});
    const int64_t steps = c.at("nsteps").toInt();
    auto x = c.at("input").toTensor().clone().requires_grad_(true);
    const auto spikes = model(x);
    const auto logits = st::SumDecoder(steps, 1.0)(spikes);
    const auto loss = at::cross_entropy_loss(logits, c.at("labels").toTensor());
    loss.backward();
    out.insert("spikes", spikes.detach());
    out.insert("loss", loss.detach());
    out.insert("grad_input", x.grad());
    c10::impl::GenericDict grads(c10::StringType::get(), c10::AnyType::get());
    for (const auto& p : model->named_parameters()) grads.insert(p.key(), p.value().grad());
    out.insert("grad_params", grads);
    return out;
  }
  if (kind == "io") {
    const auto x = c.at("input").toTensor();
    const int64_t n = c.at("nsteps").toInt();
    const double scale = c.at("scale").toDouble();
    out.insert("periodic", st::PeriodicEncoder(n, scale)(x));
    at::Generator gen = at::detail::createCPUGenerator(c.at("seed").toInt());
    std::vector<int64_t> reps(x.dim(), 1);
    reps[0] = c.at("repeats").toInt();
    out.insert("poisson", st::PoissonEncoder(n, scale)(x.repeat(reps), gen));
    const auto spikes = c.at("spikes").toTensor();
    out.insert("sum", st::SumDecoder(n, scale)(spikes));
    out.insert("sum_no_offset", st::SumDecoder(n, scale, false)(spikes));
    out.insert("rate", st::RateDecoder()(spikes));
    return out;
  }
  // A neuron over chunks [B, T, ...]: "step" loops step(x_t, init at the very first step);
  // "sequence" runs each chunk through forward (the fused op) after a reset.
  const auto o = c.at("options").toGenericDict();
  const auto& model = c.at("model").toStringRef();
  std::function<at::Tensor(const at::Tensor&, bool)> step;
  std::function<at::Tensor(const at::Tensor&)> sequence;
  std::function<at::Tensor()> v;
  std::shared_ptr<torch::nn::Module> module;
  if (model == "IF") {
    st::IF layer(st::IFOptions().v0(o.at("v0").toDouble()).beta(o.at("beta").toDouble()));
    step = [layer](const at::Tensor& x, bool init) mutable { return layer(x, init); };
    sequence = [layer](const at::Tensor& x) mutable { return layer(x); };
    v = [layer] { return layer->v(); };
  } else if (model == "LIF") {
    auto opts = st::LIFOptions().tau(o.at("tau").toDouble()).v0(o.at("v0").toDouble())
                    .beta(o.at("beta").toDouble());
    if (has(o, "decay")) opts.decay(o.at("decay").toDouble());
    st::LIF layer(opts);
    step = [layer](const at::Tensor& x, bool init) mutable { return layer(x, init); };
    sequence = [layer](const at::Tensor& x) mutable { return layer(x); };
    v = [layer] { return layer->v(); };
  } else {
    TORCH_CHECK(model == "McPitts", "unknown spikingtorch model ", model);
    st::McPitts layer(o.at("thr").toDouble(), o.at("beta").toDouble());
    step = [layer](const at::Tensor& x, bool) mutable { return layer(x); };
    sequence = [layer](const at::Tensor& x) mutable {
      return layer(x.flatten(0, 1)).reshape(x.sizes());
    };
    v = [] { return at::Tensor(); };
  }
  const bool fused = c.at("mode").toStringRef() == "sequence";
  const auto inputs = tensors(c.at("inputs"));
  const auto grads = tensors(c.at("grad_spikes"));
  c10::List<at::Tensor> spikes, vs;
  std::vector<at::Tensor> xs;
  at::Tensor loss = at::zeros({});
  for (size_t k = 0; k < inputs.size(); ++k) {
    auto x = inputs[k].clone().requires_grad_(true);
    xs.push_back(x);
    at::Tensor s;
    if (fused) {
      s = sequence(x);
      if (v().defined()) vs.push_back(v().detach());  // the last step's
    } else {
      std::vector<at::Tensor> steps;
      for (int64_t t = 0; t < x.size(1); ++t) {
        steps.push_back(step(x.select(1, t), k == 0 && t == 0));
        if (v().defined()) vs.push_back(v().detach());
      }
      s = at::stack(steps, 1);
    }
    spikes.push_back(s.detach());
    loss = loss + (s * grads[k]).sum();
  }
  if (v().defined()) loss = loss + (v() * c.at("grad_v").toTensor()).sum();
  loss.backward();
  out.insert("spikes", spikes);
  out.insert("v", vs);
  c10::List<at::Tensor> grad_inputs;
  for (const auto& x : xs) grad_inputs.push_back(x.grad());
  out.insert("grad_inputs", grad_inputs);
  return out;
}

// snnTorch's sequence-at-once neurons (snn/snntorch/parallel.h): the module built from the
// options, its parameters copied from "weights" by name; the outputs and the gradients of
// the input and of every parameter for the loss Σ output·grad.
c10::impl::GenericDict run_snntorch_parallel_case(const Dict& c) {
  namespace st = snn::snntorch;
  const auto& model = c.at("model").toStringRef();
  const auto o = c.at("options").toGenericDict();
  const auto num = [&](const char* k) { return o.at(k).toDouble(); };
  const auto flag = [&](const char* k) { return o.at(k).toBool(); };
  const auto value = [&](const char* k) { return st::Value(o.at(k).toTensor()); };
  const auto surrogate = [&] { return snn::parse_surrogate(o.at("spike_grad_text").toStringRef()); };
  std::shared_ptr<torch::nn::Module> module;
  std::function<std::vector<at::Tensor>(const at::Tensor&)> run;
  if (model == "StateLeaky" || model == "LinearLeaky") {
    const std::optional<int64_t> trunc =
        has(o, "kernel_truncation_steps") ? std::optional(o.at("kernel_truncation_steps").toInt())
                                          : std::nullopt;
    auto unpack = [](std::tuple<at::Tensor, at::Tensor> r) {
      auto [spk, mem] = r;
      return spk.defined() ? std::vector<at::Tensor>{spk, mem} : std::vector<at::Tensor>{mem};
    };
    if (model == "StateLeaky") {
      st::StateLeaky l(st::StateLeakyOptions(value("beta"), o.at("channels").toInt())
                           .threshold(value("threshold")).spike_grad(surrogate())
                           .surrogate_disable(flag("surrogate_disable")).learn_beta(flag("learn_beta"))
                           .learn_threshold(flag("learn_threshold")).output(flag("output"))
                           .graded_spikes_factor(value("graded_spikes_factor"))
                           .learn_graded_spikes_factor(flag("learn_graded_spikes_factor"))
                           .kernel_truncation_steps(trunc));
      module = l.ptr();
      run = [l, unpack](const at::Tensor& x) mutable { return unpack(l(x)); };
    } else {
      st::LinearLeaky l(st::LinearLeakyOptions(value("beta"), o.at("in_features").toInt(),
                                               o.at("out_features").toInt())
                            .bias(flag("bias")).threshold(value("threshold")).spike_grad(surrogate())
                            .surrogate_disable(flag("surrogate_disable")).output(flag("output"))
                            .learn_beta(flag("learn_beta")).learn_threshold(flag("learn_threshold"))
                            .graded_spikes_factor(value("graded_spikes_factor"))
                            .learn_graded_spikes_factor(flag("learn_graded_spikes_factor"))
                            .kernel_truncation_steps(trunc));
      module = l.ptr();
      run = [l, unpack](const at::Tensor& x) mutable { return unpack(l(x)); };
    }
  } else if (model == "AssociativeLeaky") {
    st::AssociativeLeaky l(st::AssociativeLeakyOptions(o.at("in_dim").toInt(),
                                                       o.at("d_value").toInt(), o.at("d_key").toInt())
                               .use_q_projection(flag("use_q_projection")));
    module = l.ptr();
    run = [l](const at::Tensor& x) mutable { return std::vector<at::Tensor>{l(x)}; };
  } else if (model == "DeltaLeaky") {
    const auto mode = c.at("mode").toStringRef();
    st::DeltaLeaky l(st::DeltaLeakyOptions(value("beta")).delta_threshold(num("delta_threshold"))
                         .spike_grad(surrogate()).learn_beta(flag("learn_beta"))
                         .init_hidden(mode == "hidden"));
    module = l.ptr();
    const bool sequence = mode == "sequence", hidden = mode == "hidden";
    run = [l, sequence, hidden](const at::Tensor& x) mutable {  // x [T, B, N] (snnTorch's loop)
      if (sequence) return std::vector<at::Tensor>{l->sequence(x.transpose(0, 1)).transpose(0, 1)};
      if (hidden) {
        std::vector<at::Tensor> spikes;
        for (int64_t t = 0; t < x.size(0); ++t) spikes.push_back(l->step(x[t]));
        return std::vector<at::Tensor>{at::stack(spikes)};
      }
      std::pair<at::Tensor, at::Tensor> state;
      std::vector<at::Tensor> spikes, mems;
      for (int64_t t = 0; t < x.size(0); ++t) {
        auto [spk, next] = l(x[t], state);
        state = next;
        spikes.push_back(spk);
        mems.push_back(next.first);
      }
      return std::vector<at::Tensor>{at::stack(spikes), at::stack(mems)};
    };
  } else if (model == "LeakyParallel") {
    st::LeakyParallelOptions lo(o.at("input_size").toInt(), o.at("hidden_size").toInt());
    if (has(o, "beta")) lo.beta(value("beta"));
    lo.bias(flag("bias")).threshold(value("threshold")).spike_grad(surrogate())
        .surrogate_disable(flag("surrogate_disable")).learn_beta(flag("learn_beta"))
        .learn_threshold(flag("learn_threshold")).graded_spikes_factor(value("graded_spikes_factor"))
        .learn_graded_spikes_factor(flag("learn_graded_spikes_factor"))
        .weight_hh_enable(flag("weight_hh_enable"));
    st::LeakyParallel l(lo);
    module = l.ptr();
    run = [l](const at::Tensor& x) mutable { return std::vector<at::Tensor>{l(x)}; };
  } else if (model == "SLSTM") {
    st::SLSTM l(st::SLSTMOptions(o.at("input_size").toInt(), o.at("hidden_size").toInt())
                    .bias(flag("bias")).threshold(value("threshold")).spike_grad(surrogate())
                    .surrogate_disable(flag("surrogate_disable"))
                    .learn_threshold(flag("learn_threshold"))
                    .reset_mechanism(o.at("reset_mechanism").toStringRef()));
    module = l.ptr();
    const auto mode = c.at("mode").toStringRef();
    run = [l, mode](const at::Tensor& x) mutable {  // x [T, B, I]; chained twice
      std::vector<at::Tensor> spikes, syns, mems;
      for (int call = 0; call < 2; ++call) {
        if (mode == "sequence") {
          spikes.push_back(l->sequence(x.transpose(0, 1)).transpose(0, 1));
          syns.push_back(l->syn().unsqueeze(0));
          mems.push_back(l->mem().unsqueeze(0));
          continue;
        }
        for (int64_t t = 0; t < x.size(0); ++t) {
          if (mode == "hidden") {
            spikes.push_back(l->step(x[t]).unsqueeze(0));
          } else {
            auto [spk, syn, mem] = call == 0 && t == 0 ? l(x[t]) : l(x[t], l->syn(), l->mem());
            spikes.push_back(spk.unsqueeze(0));
          }
        }
        syns.push_back(l->syn().unsqueeze(0));
        mems.push_back(l->mem().unsqueeze(0));
      }
      return std::vector<at::Tensor>{at::cat(spikes), at::cat(syns), at::cat(mems)};
    };
  } else if (model == "SConv2dLSTM") {
    std::vector<int64_t> ks;  // [k] or [kh, kw]
    for (const auto& k : o.at("kernel_size").toList()) ks.push_back(k.get().toInt());
    st::SConv2dLSTM l(st::SConv2dLSTMOptions(o.at("in_channels").toInt(), o.at("out_channels").toInt(),
                                             ks.size() == 1 ? torch::ExpandingArray<2>(ks[0])
                                                            : torch::ExpandingArray<2>({ks[0], ks[1]}))
                          .bias(flag("bias")).max_pool(o.at("max_pool").toInt())
                          .avg_pool(o.at("avg_pool").toInt()).threshold(value("threshold"))
                          .spike_grad(surrogate()).learn_threshold(flag("learn_threshold"))
                          .reset_mechanism(o.at("reset_mechanism").toStringRef()));
    module = l.ptr();
    const auto mode = c.at("mode").toStringRef();
    run = [l, mode](const at::Tensor& x) mutable {  // x [T, B, C, H, W]
      std::vector<at::Tensor> spikes;
      if (mode == "sequence") {
        spikes.push_back(l->sequence(x.transpose(0, 1)).transpose(0, 1));
      } else {
        for (int64_t t = 0; t < x.size(0); ++t) {
          auto [spk, syn, mem] = t == 0 ? l(x[t]) : l(x[t], l->syn(), l->mem());
          spikes.push_back(spk.unsqueeze(0));
        }
      }
      return std::vector<at::Tensor>{at::cat(spikes), l->syn(), l->mem()};
    };
  } else if (model == "BatchNormTT1d" || model == "BatchNormTT2d") {
    const auto args = std::make_tuple(
        o.at("features").toInt(), o.at("time_steps").toInt(), num("eps"),
        has(o, "momentum") ? std::optional<double>(num("momentum")) : std::nullopt, flag("affine"));
    auto list = model == "BatchNormTT1d" ? std::apply(st::BatchNormTT1d, args)
                                         : std::apply(st::BatchNormTT2d, args);
    module = list.ptr();
    run = [list](const at::Tensor& x) mutable {  // x [T, B, C, ...]: training, then eval
      std::vector<at::Tensor> train, eval, stats;
      list->train();
      (*list)[0]->as<st::BatchNormTTStep>()->forward(x[0] * 2);  // as the test's first batch
      for (int64_t t = 0; t < x.size(0); ++t) train.push_back((*list)[t]->as<st::BatchNormTTStep>()->forward(x[t]));
      list->eval();
      for (int64_t t = 0; t < x.size(0); ++t) {
        auto* bn = (*list)[t]->as<st::BatchNormTTStep>();
        eval.push_back(bn->forward(x[t]));
        stats.push_back(at::stack({bn->running_mean, bn->running_var}));
      }
      return std::vector<at::Tensor>{at::stack(train), at::stack(eval), at::stack(stats)};
    };
  } else {
    TORCH_CHECK(model == "GradedSpikes", "unknown model ", model);
    st::GradedSpikes l(o.at("size").toInt(), num("constant_factor"));
    module = l.ptr();
    run = [l](const at::Tensor& x) mutable { return std::vector<at::Tensor>{l(x)}; };
  }
  {
    torch::NoGradGuard no_grad;
    const auto w = c.at("weights").toGenericDict();
    for (auto& p : module->named_parameters()) p.value().copy_(w.at(p.key()).toTensor());
    for (auto& b : module->named_buffers()) {
      if (w.contains(b.key())) b.value().copy_(w.at(b.key()).toTensor());
    }
  }
  auto x = c.at("input").toTensor().clone().requires_grad_(true);
  const auto outs = run(x);
  const auto grads = tensors(c.at("grad_outputs"));
  at::Tensor loss = at::zeros({});
  c10::List<at::Tensor> outputs;
  for (size_t k = 0; k < outs.size(); ++k) {
    outputs.push_back(outs[k].detach());
    loss = loss + (outs[k] * grads.at(k)).sum();
  }
  loss.backward();
  c10::impl::GenericDict out(c10::StringType::get(), c10::AnyType::get());
  out.insert("outputs", outputs);
  out.insert("grad_input", x.grad());
  c10::impl::GenericDict gp(c10::StringType::get(), c10::AnyType::get());
  for (const auto& p : module->named_parameters()) {
    if (p.value().grad().defined()) gp.insert(p.key(), p.value().grad());
  }
  out.insert("grad_params", gp);
  return out;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 3) {
    std::cerr << "usage: snn_parity_driver CASE.pt RESULT.pt\n";
    return 2;
  }
  try {
    const auto c = load_case(argv[1]);
    if (c.contains("layer") && c.at("layer").toStringRef() == "loss") {
      write_result(run_loss_case(c), argv[2]);
      return 0;
    }
    if (c.contains("layer") && c.at("layer").toStringRef() == "snntorch_parallel") {
      write_result(run_snntorch_parallel_case(c), argv[2]);
      return 0;
    }
    if (c.contains("layer") && c.at("layer").toStringRef() == "spikingtorch") {
      write_result(run_spikingtorch_case(c), argv[2]);
      return 0;
    }
    if (c.contains("layer") && c.at("layer").toStringRef() == "snntorch") {
      write_result(run_snntorch_case(c), argv[2]);
      return 0;
    }
    if (c.contains("layer") && c.at("layer").toStringRef() == "nir_export") {
      write_result(run_nir_export_case(c), argv[2]);
      return 0;
    }
    if (c.contains("layer") && c.at("layer").toStringRef() == "nir") {
      write_result(run_nir_case(c), argv[2]);
      return 0;
    }
    if (c.contains("layer") && c.at("layer").toStringRef() == "analyzer") {
      write_result(run_analyzer_case(c), argv[2]);
      return 0;
    }
    if (!c.contains("form")) {
      write_result(run_module_case(c), argv[2]);
      return 0;
    }
    auto layer = make_layer(c);
    const auto inputs = tensors(c.at("inputs"));
    const auto grad_spikes = tensors(c.at("grad_spikes"));
    const auto grad_rec = c.at("grad_rec").toGenericDict();
    const auto grad_final = c.at("grad_final").toGenericDict();
    std::vector<at::Tensor> xs;
    c10::List<at::Tensor> spikes;
    c10::impl::GenericDict recs(c10::StringType::get(), c10::AnyType::get());
    at::Tensor loss = at::zeros({}, inputs[0].options());
    for (size_t k = 0; k < inputs.size(); ++k) {
      auto x = inputs[k].clone().requires_grad_(true);
      xs.push_back(x);
      const auto s = layer.forward(x);
      spikes.push_back(s.detach());
      loss = loss + (s * grad_spikes[k]).sum();
      for (const auto& [name, value] : layer.neuron->recordings()) {
        if (!recs.contains(name)) recs.insert(name, c10::List<at::Tensor>());
        recs.at(name).toTensorList().push_back(value.detach());
        if (grad_rec.contains(name)) {
          loss = loss + (value * tensors(grad_rec.at(name))[k]).sum();
        }
      }
    }
    c10::impl::GenericDict finals(c10::StringType::get(), c10::AnyType::get());
    for (const auto& name : layer.neuron->state_names()) {
      const auto& v = layer.neuron->state(name);
      finals.insert(name, v.detach());
      if (grad_final.contains(name)) loss = loss + (v * grad_final.at(name).toTensor()).sum();
    }
    loss.backward();

    c10::impl::GenericDict out(c10::StringType::get(), c10::AnyType::get());
    out.insert("spikes", spikes);
    out.insert("recordings", recs);
    out.insert("final", finals);
    c10::List<at::Tensor> grad_inputs;
    for (const auto& x : xs) grad_inputs.push_back(x.grad());
    out.insert("grad_inputs", grad_inputs);
    c10::impl::GenericDict grads(c10::StringType::get(), c10::AnyType::get());
    for (const auto& p : layer.module->named_parameters()) {
      if (p.value().grad().defined()) grads.insert(p.key(), p.value().grad());
    }
    out.insert("grad_params", grads);
    write_result(out, argv[2]);
  } catch (const std::exception& e) {
    std::cerr << "snn_parity_driver: " << e.what() << "\n";
    return 1;
  }
  return 0;
}
