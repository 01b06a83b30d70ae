// Modules as NIR graphs (see snn/nir/convert.h): a trace of the model on a sample input.
#include <ATen/ATen.h>
#include <c10/util/Exception.h>
#include <torch/nn/modules/container/sequential.h>
#include <torch/nn/modules/conv.h>
#include <torch/nn/modules/linear.h>
#include <torch/nn/modules/pooling.h>
#include <torch/nn/modules/linear.h>

#include <cmath>
#include <sstream>

#include "nir/nodes.h"
#include "snn/nir/convert.h"
#include "snn/nn/cuba.h"
#include "snn/nn/delay.h"
#include "snn/nn/exp_leak.h"
#include "snn/nn/lif.h"
#include "snn/nn/structural.h"
#include "snn/snntorch/neurons.h"

namespace snn::nir {
namespace {

at::Tensor f32(const at::Tensor& t) { return t.detach().to(at::kFloat).contiguous().clone(); }
at::Tensor ints(std::vector<int64_t> v) { return at::tensor(v, at::kLong); }
at::Tensor ints(at::IntArrayRef v) { return ints(v.vec()); }

// The parameters of a neuron layer, broadcast to its neurons' shape.
at::Tensor per_neuron(const at::Tensor& value, at::IntArrayRef features) {
  return f32(value.detach().to(at::kFloat).expand(features));
}
at::Tensor full(at::IntArrayRef features, double v) { return at::full(features, v, at::kFloat); }

// What the trace carries between modules: the node names whose outputs (summed) are the
// current value, the value itself, and how many leading dimensions it has ([B, T]: 2,
// [B·T]: 1).
struct Flow {
  std::vector<std::string> from;
  at::Tensor x;
  int64_t lead = 2;
  at::IntArrayRef sample() const { return x.sizes().slice(lead); }
};

struct Tracer {
  ExportOptions options;
  Graph graph;

  std::string fresh(const std::string& want) {
    std::string name = want.empty() ? "node" : want;
    for (int k = 2; graph.nodes.count(name) != 0; ++k) name = want + "_" + std::to_string(k);
    return name;
  }
  // Adds `node` fed by the flow's sources; the flow continues from it.
  void add(Flow& flow, const std::string& want, Node node, at::Tensor next) {
    const std::string name = fresh(want);
    graph.add(name, std::move(node));
    for (const auto& s : flow.from) graph.edges.push_back({s, name});
    flow.from = {name};
    flow.x = std::move(next);
  }
  // The file's time step (ExportOptions::dt, or what the model's layers imply).
  double step = 1.0;

  static Node node(const char* type, std::map<std::string, at::Tensor> params) {
    Node n;
    n.type = type;
    for (auto& [k, v] : params) n.params[k] = Value::number(std::move(v));
    return n;
  }
  // The exact layer behind a lossy mapping, for snn.cpp's own import (see own_layer).
  static void remember(Node& n, const char* layer, const std::string& spec,
                       const torch::nn::Module& m, double dt) {
    n.metadata["snn_layer"] = Value::text(layer);
    n.metadata["snn_spec"] = Value::text(spec);
    n.metadata["snn_dt"] = Value::number(at::scalar_tensor(dt, at::kDouble));
    for (const auto& p : m.named_parameters(false)) {
      n.metadata["snn_param_" + p.key()] = Value::number(p.value().detach().clone());
    }
    for (const auto& b : m.named_buffers(false)) {
      n.metadata["snn_buffer_" + b.key()] = Value::number(b.value().detach().clone());
    }
  }

  // Runs `m` on the flow (for the next shapes) and returns its output.
  template <typename M>
  static at::Tensor run(M& m, const at::Tensor& x) { return m.forward(x); }

  // One module (path: its name in the model). Returns false when it is not a leaf this
  // exporter knows.
  bool leaf(const std::string& path, torch::nn::Module& m, Flow& flow);
  // A neuron node `n` with a recurrent connection `rec` (run on its spikes `y`) whose output
  // returns into it: NIR's cycle.
  void recurrent(const std::string& path, Node n, torch::nn::Module& rec, Flow& flow,
                 const at::Tensor& y) {
    add(flow, path, std::move(n), y);
    const std::string neuron = flow.from[0];
    Flow back;
    back.from = {neuron};
    back.x = y;
    module(path + ".rec", rec, back);
    for (const auto& s : back.from) graph.edges.push_back({s, neuron});
  }
  void sequential(const std::string& prefix, torch::nn::SequentialImpl& seq, Flow& flow);
  void module(const std::string& path, torch::nn::Module& m, Flow& flow);
  void graph_module(const std::string& prefix, GraphModuleImpl& g, Flow& flow);
};

std::string join(const std::string& prefix, const std::string& name) {
  return prefix.empty() ? name : prefix + "." + name;
}

bool Tracer::leaf(const std::string& path, torch::nn::Module& m, Flow& flow) {
  const auto features = [&](const at::Tensor& y) { return y.sizes().slice(flow.lead).vec(); };
  if (auto* l = dynamic_cast<torch::nn::LinearImpl*>(&m)) {
    const auto y = l->forward(flow.x);
    if (l->bias.defined()) {
      add(flow, path, node("Affine", {{"weight", f32(l->weight)}, {"bias", f32(l->bias)}}), y);
    } else {
      add(flow, path, node("Linear", {{"weight", f32(l->weight)}}), y);
    }
    return true;
  }
  auto conv_params = [&](auto* c, auto dims_constant) {
    constexpr size_t D = decltype(dims_constant)::value;
    const int64_t dims = static_cast<int64_t>(D);
    const auto& o = c->options;
    std::map<std::string, at::Tensor> p{
        {"weight", f32(c->weight)},
        {"bias", c->bias.defined() ? f32(c->bias) : at::zeros({o.out_channels()})},
        {"stride", ints(at::IntArrayRef(*o.stride()))},
        {"dilation", ints(at::IntArrayRef(*o.dilation()))},
        {"groups", at::scalar_tensor(o.groups(), at::kLong)},
        {"input_shape", ints(flow.sample().slice(1).vec())}};
    TORCH_CHECK(flow.sample().size() == static_cast<size_t>(dims) + 1, "snn::nir: export: ", path,
                " sees a sample of shape ", flow.sample(), " (expected channels and ", dims,
                " spatial dimensions)");
    TORCH_CHECK(std::holds_alternative<torch::enumtype::kZeros>(o.padding_mode()),
                "snn::nir: export: ", path, ": NIR's convolutions pad with zeros only");
    Node n = node(dims == 1 ? "Conv1d" : "Conv2d", std::move(p));
    if (const auto* arr = std::get_if<torch::ExpandingArray<D>>(&o.padding())) {
      n.params["padding"] = Value::number(ints(at::IntArrayRef(**arr)));
    } else {
      n.params["padding"] = Value::text(
          std::holds_alternative<torch::enumtype::kSame>(o.padding()) ? "same" : "valid");
    }
    return n;
  };
  if (auto* c = dynamic_cast<torch::nn::Conv1dImpl*>(&m)) {
    Node n = conv_params(c, std::integral_constant<size_t, 1>{});
    const auto y = c->forward(flow.x.flatten(0, flow.lead - 1));
    add(flow, path, std::move(n), y.unflatten(0, flow.x.sizes().slice(0, flow.lead)));
    return true;
  }
  if (auto* c = dynamic_cast<torch::nn::Conv2dImpl*>(&m)) {
    Node n = conv_params(c, std::integral_constant<size_t, 2>{});
    const auto y = c->forward(flow.x.flatten(0, flow.lead - 1));
    add(flow, path, std::move(n), y.unflatten(0, flow.x.sizes().slice(0, flow.lead)));
    return true;
  }
  if (auto* p = dynamic_cast<torch::nn::AvgPool2dImpl*>(&m)) {
    const auto& o = p->options;
    TORCH_CHECK(!o.ceil_mode() && o.count_include_pad() && !o.divisor_override(),
                "snn::nir: export: ", path, ": NIR's AvgPool2d has no ceil_mode, "
                "count_include_pad=false or divisor_override");
    const auto y = p->forward(flow.x.flatten(0, flow.lead - 1));
    add(flow, path,
        node("AvgPool2d", {{"kernel_size", ints(at::IntArrayRef(*o.kernel_size()))},
                           {"stride", ints(at::IntArrayRef(*o.stride()))},
                           {"padding", ints(at::IntArrayRef(*o.padding()))}}),
        y.unflatten(0, flow.x.sizes().slice(0, flow.lead)));
    return true;
  }
  if (auto* p = dynamic_cast<SumPool2dImpl*>(&m)) {
    const auto& o = p->options;
    TORCH_CHECK(!o.ceil_mode(), "snn::nir: export: ", path, ": NIR's SumPool2d has no ceil_mode");
    const auto y = p->forward(flow.x.flatten(0, flow.lead - 1));
    add(flow, path,
        node("SumPool2d", {{"kernel_size", ints(at::IntArrayRef(*o.kernel_size()))},
                           {"stride", ints(at::IntArrayRef(*o.stride()))},
                           {"padding", ints(std::vector<int64_t>{0, 0})}}),
        y.unflatten(0, flow.x.sizes().slice(0, flow.lead)));
    return true;
  }
  if (auto* f = dynamic_cast<torch::nn::FlattenImpl*>(&m)) {
    const int64_t rank = flow.x.dim();
    int64_t s = f->options.start_dim(), e = f->options.end_dim();
    s = s < 0 ? s + rank : s;
    e = e < 0 ? e + rank : e;
    TORCH_CHECK(s >= flow.lead, "snn::nir: export: ", path, ": a Flatten from dimension ",
                f->options.start_dim(), " merges the batch or time dimensions of ",
                flow.x.sizes(), ", which NIR cannot express");
    const auto y = f->forward(flow.x);
    add(flow, path,
        node("Flatten", {{"start_dim", at::scalar_tensor(s - flow.lead, at::kLong)},
                         {"end_dim", at::scalar_tensor(e - flow.lead, at::kLong)},
                         {"input_type", ints(flow.sample().vec())}}),
        y);
    return true;
  }
  if (auto* d = dynamic_cast<DelayImpl*>(&m)) {
    const auto y = d->forward(flow.x);
    const auto steps = d->options.delays().to(at::kDouble).expand(flow.sample());
    add(flow, path, node("Delay", {{"delay", (steps * step).to(at::kFloat).contiguous()}}), y);
    return true;
  }
  // ---- neurons ----
  // NIR's own neurons: IF / LIF / CubaLIF (spikes) and I / LI / CubaLI, τ rescaled from the
  // layer's dt to the file's.
  auto cuba = [&](auto* l, bool spikes) {
    const auto y = l->forward(flow.x);
    const auto fs = features(y);
    const double scale = step / l->options.dt();
    std::map<std::string, at::Tensor> p{{"r", per_neuron(l->r, fs)}};
    if (spikes) {
      p["v_threshold"] = per_neuron(l->v_threshold, fs);
      p["v_reset"] = per_neuron(l->v_reset, fs);
    }
    const char* type = spikes ? "IF" : "I";
    if (l->tau_mem.defined()) {
      p["v_leak"] = per_neuron(l->v_leak, fs);
      if (l->tau_syn.defined()) {
        type = spikes ? "CubaLIF" : "CubaLI";
        p["tau_mem"] = per_neuron(l->tau_mem * scale, fs);
        p["tau_syn"] = per_neuron(l->tau_syn * scale, fs);
        p["w_in"] = per_neuron(l->w_in, fs);
      } else {
        type = spikes ? "LIF" : "LI";
        p["tau"] = per_neuron(l->tau_mem * scale, fs);
      }
    }
    TORCH_CHECK(l->tau_mem.defined() || !l->tau_syn.defined(), "snn::nir: export: ", path,
                ": a neuron with a synapse and no leak has no NIR node");
    add(flow, path, node(type, std::move(p)), y);
    return true;
  };
  if (auto* l = dynamic_cast<CubaLIFImpl*>(&m)) return cuba(l, true);
  if (auto* l = dynamic_cast<CubaLIImpl*>(&m)) return cuba(l, false);
  // Sinabs' family, as Sinabs writes it (τ in steps · dt; r = 1, v_leak = v_reset = 0);
  // what NIR cannot say (multi-spikes, the subtractive reset, min_v_mem, norm_input, a
  // synapse) is kept in the node's metadata for snn.cpp's own import.
  auto sinabs = [&](auto* l, const char* layer, const char* type, bool leak, bool spikes) {
    const auto y = l->forward(flow.x);
    const auto fs = features(y);
    std::map<std::string, at::Tensor> p{{"r", full(fs, 1.0)}};
    if (leak) {
      at::Tensor tau;
      if constexpr (requires { l->alpha_mem_calculated(); }) {
        tau = -1.0 / at::log(l->alpha_mem_calculated().detach().to(at::kDouble));
      }
      p["tau"] = per_neuron(tau * step, fs);
      p["v_leak"] = full(fs, 0.0);
    }
    if (spikes) {
      if constexpr (requires { l->options.spike_threshold(); }) {
        p["v_threshold"] = full(fs, l->options.spike_threshold());
      }
      p["v_reset"] = full(fs, 0.0);
    }
    Node n = node(type, std::move(p));
    remember(n, layer, l->spec(), *l, step);
    if constexpr (requires { l->rec_connect; }) {
      // A recurrent form: the connection on the spikes, back into the neurons.
      recurrent(path, std::move(n), *l->rec_connect.ptr(), flow, y);
    } else {
      add(flow, path, std::move(n), y);
    }
    return true;
  };
  if (auto* l = dynamic_cast<IAFImpl*>(&m)) return sinabs(l, "IAF", "IF", false, true);
  if (auto* l = dynamic_cast<IAFSqueezeImpl*>(&m)) return sinabs(l, "IAFSqueeze", "IF", false, true);
  if (auto* l = dynamic_cast<IAFRecurrentImpl*>(&m)) return sinabs(l, "IAF", "IF", false, true);
  if (auto* l = dynamic_cast<LIFImpl*>(&m)) return sinabs(l, "LIF", "LIF", true, true);
  if (auto* l = dynamic_cast<LIFSqueezeImpl*>(&m)) return sinabs(l, "LIFSqueeze", "LIF", true, true);
  if (auto* l = dynamic_cast<LIFRecurrentImpl*>(&m)) return sinabs(l, "LIF", "LIF", true, true);
  if (auto* l = dynamic_cast<ExpLeakImpl*>(&m)) return sinabs(l, "ExpLeak", "LI", true, false);
  if (auto* l = dynamic_cast<ExpLeakSqueezeImpl*>(&m)) {
    return sinabs(l, "ExpLeakSqueeze", "LI", true, false);
  }
  // snnTorch's family, as snnTorch writes it (dt 1e-4 unless given): τ = dt/(1 - decay),
  // r = τ_mem/dt, w_in = τ_syn/dt; the reset mechanism and delay in the metadata.
  const auto tau_of = [&](const at::Tensor& decay, at::IntArrayRef fs) {
    const auto d = per_neuron(decay.clamp(0, 1), fs);
    return at::div(at::full_like(d, step), at::rsub(d, 1.0));
  };
  const auto leaky_node = [&](auto* l, at::IntArrayRef fs) {
    const auto tau = tau_of(l->beta, fs);
    return node("LIF", {{"tau", tau},
                        {"r", at::div(tau, step)},
                        {"v_leak", full(fs, 0.0)},
                        {"v_threshold", per_neuron(l->threshold, fs)},
                        {"v_reset", full(fs, 0.0)}});
  };
  const auto synaptic_node = [&](auto* l, at::IntArrayRef fs) {
    const auto tau_syn = tau_of(l->alpha, fs), tau_mem = tau_of(l->beta, fs);
    return node("CubaLIF", {{"tau_syn", tau_syn},
                            {"tau_mem", tau_mem},
                            {"r", at::div(tau_mem, step)},
                            {"v_leak", full(fs, 0.0)},
                            {"w_in", at::div(tau_syn, step)},
                            {"v_threshold", per_neuron(l->threshold, fs)},
                            {"v_reset", full(fs, 0.0)}});
  };
  // Leaky / Synaptic: the node, and the layer in the metadata.
  const auto snntorch_layer = [&](auto* l, const char* layer, const auto& make) {
    const auto y = l->forward(flow.x);
    Node n = make(l, features(y));
    remember(n, layer, l->spec(), *l, step);
    add(flow, path, std::move(n), y);
    return true;
  };
  // RLeaky / RSynaptic: the neuron as Leaky / Synaptic writes it and the connection
  // (w_rec: Affine of the Linear, Conv2d, or Linear(diag(V)) one-to-one), as snnTorch writes
  // them; the reset variants stay snnTorch's importer's (zero, in the spiking step).
  const auto snntorch_recurrent = [&](auto* l, const auto& make) {
    const auto y = l->forward(flow.x);
    const auto fs = features(y);
    torch::nn::Sequential rec;
    if (!l->recurrent_linear.is_empty()) {
      rec->push_back(l->recurrent_linear);
    } else if (!l->recurrent_conv.is_empty()) {
      rec->push_back(l->recurrent_conv);
    } else {
      const int64_t count = c10::multiply_integers(fs);
      TORCH_CHECK(fs.size() == 1, "snn::nir: export: ", path, ": a one-to-one recurrence over "
                  "features of shape ", at::IntArrayRef(fs), " (NIR's Linear takes vectors)");
      torch::nn::Linear diag(torch::nn::LinearOptions(count, count).bias(false));
      diag->weight.set_data(at::diag(per_neuron(l->V, fs)));
      rec->push_back(diag);
    }
    recurrent(path, make(l, fs), *rec.ptr(), flow, y);
    return true;
  };
  if (auto* l = dynamic_cast<snntorch::LeakyImpl*>(&m)) return snntorch_layer(l, "Leaky", leaky_node);
  if (auto* l = dynamic_cast<snntorch::SynapticImpl*>(&m)) {
    return snntorch_layer(l, "Synaptic", synaptic_node);
  }
  if (auto* l = dynamic_cast<snntorch::RLeakyImpl*>(&m)) return snntorch_recurrent(l, leaky_node);
  if (auto* l = dynamic_cast<snntorch::RSynapticImpl*>(&m)) {
    return snntorch_recurrent(l, synaptic_node);
  }
  return false;
}

void Tracer::sequential(const std::string& prefix, torch::nn::SequentialImpl& seq, Flow& flow) {
  const auto children = seq.named_children();
  for (size_t i = 0; i < children.size(); ++i) {
    const std::string path = join(prefix, children[i].key());
    auto& m = *children[i].value();
    // A delay line and the Linear that reads it: one Delay and one Affine (Linear) per tap,
    // summed by the node that follows (NIR sums a node's inputs).
    if (auto* d = dynamic_cast<DelayLineImpl*>(&m)) {
      auto* lin = i + 1 < children.size()
                      ? dynamic_cast<torch::nn::LinearImpl*>(children[i + 1].value().get())
                      : nullptr;
      TORCH_CHECK(lin != nullptr && flow.lead == 2 && flow.x.dim() == 3, "snn::nir: export: ",
                  path, ": a DelayLine exports only before a Linear, on [B, T, features]");
      const int64_t C = flow.x.size(2);
      const auto taps = d->forward(flow.x);
      const auto y = lin->forward(taps);
      const auto& delays = d->options.delays();
      std::vector<std::string> outs;
      for (size_t k = 0; k < delays.size(); ++k) {
        Flow branch = flow;
        const auto steps = at::full({C}, static_cast<double>(delays[k]) * step, at::kFloat);
        add(branch, path + ".tap" + std::to_string(k), node("Delay", {{"delay", steps}}), flow.x);
        const auto w = f32(lin->weight.narrow(1, static_cast<int64_t>(k) * C, C));
        const std::string name = join(prefix, children[i + 1].key()) + ".tap" + std::to_string(k);
        if (k == 0 && lin->bias.defined()) {
          add(branch, name, node("Affine", {{"weight", w}, {"bias", f32(lin->bias)}}), y);
        } else {
          add(branch, name, node("Linear", {{"weight", w}}), y);
        }
        outs.push_back(branch.from[0]);
      }
      flow.from = outs;
      flow.x = y;
      ++i;
      continue;
    }
    module(path, m, flow);
  }
}

void Tracer::module(const std::string& path, torch::nn::Module& m, Flow& flow) {
  if (auto* seq = dynamic_cast<torch::nn::SequentialImpl*>(&m)) return sequential(path, *seq, flow);
  if (auto* g = dynamic_cast<GraphModuleImpl*>(&m)) return graph_module(path, *g, flow);
  if (dynamic_cast<FlattenTimeImpl*>(&m) != nullptr) {
    TORCH_CHECK(flow.lead == 2, "snn::nir: export: ", path, ": FlattenTime on ", flow.x.sizes());
    flow.x = flow.x.flatten(0, 1);
    flow.lead = 1;
    return;
  }
  if (auto* u = dynamic_cast<UnflattenTimeImpl*>(&m)) {
    TORCH_CHECK(flow.lead == 1, "snn::nir: export: ", path, ": UnflattenTime on ", flow.x.sizes());
    flow.x = u->forward(flow.x);
    flow.lead = 2;
    return;
  }
  if (auto* r = dynamic_cast<RepeatImpl*>(&m)) {
    auto inner = r->module.ptr();
    const auto lead_dims = flow.x.sizes().slice(0, 2).vec();
    Flow f = flow;
    f.x = flow.x.flatten(0, 1);
    f.lead = 1;
    module(path + ".module", *inner, f);
    flow.from = f.from;
    flow.x = f.x.unflatten(0, lead_dims);
    return;
  }
  if (leaf(path, m, flow)) return;
  std::ostringstream what;
  m.pretty_print(what);
  std::string printed = what.str();
  if (printed.size() > 60) printed = printed.substr(0, 57) + "...";
  TORCH_CHECK(false, "snn::nir: export: module '", path.empty() ? "(model)" : path, "' (",
              printed, ") has no NIR form (supported: Linear, Conv1d, Conv2d, AvgPool2d, "
              "Flatten, SumPool2d, Delay, DelayLine before a Linear, FlattenTime, "
              "UnflattenTime, Repeat, Sequential, IAF, LIF, ExpLeak and their Squeeze and "
              "Recurrent forms, CubaLIF, CubaLI, snnTorch's Leaky, Synaptic, RLeaky, RSynaptic, "
              "nir::GraphModule)");
}

// A GraphModule exports its own graph, its parameters as they are now (what each node's
// module holds), with the edges as imported.
void Tracer::graph_module(const std::string& prefix, GraphModuleImpl& g, Flow& flow) {
  const auto& src = g.graph();
  const auto received = g.node_inputs(flow.x);
  reset_states(g);
  const auto y = g.forward(flow.x);
  std::map<std::string, std::string> renamed;
  std::string input, output;
  for (const auto& name : g.order()) {
    const Node& original = src.at(name);
    if (original.type == "Input") {
      input = name;
      continue;
    }
    if (original.type == "Output") {
      output = name;
      continue;
    }
    Node n = original;
    if (auto module = g.node_module(name)) {
      // Re-trace the node's module alone for its parameters: a Tracer of its own.
      Tracer sub{options, {}, step};
      Flow f;
      f.from = {"in"};
      f.x = received.at(name);
      if (sub.leaf("n", *module, f) && sub.graph.nodes.count("n") != 0) {
        n.params = sub.graph.nodes.at("n").params;
        n.metadata = sub.graph.nodes.at("n").metadata;
      } else {
        for (const auto& p : module->named_parameters(false)) {
          if (n.params.count(p.key()) != 0) n.params[p.key()] = Value::number(f32(p.value()));
        }
      }
    }
    const std::string out_name = fresh(join(prefix, name));
    renamed[name] = out_name;
    graph.add(out_name, std::move(n));
  }
  for (const auto& e : src.edges) {
    if (e.source == input) {
      for (const auto& s : flow.from) graph.edges.push_back({s, renamed.at(e.target)});
    } else if (e.target != output) {
      graph.edges.push_back({renamed.at(e.source), renamed.at(e.target)});
    }
  }
  std::vector<std::string> into_output;
  for (const auto& e : src.edges) {
    if (e.target == output) into_output.push_back(renamed.at(e.source));
  }
  flow.from = into_output;
  flow.x = y;
}

bool is_snntorch(const torch::nn::Module& m) {
  return dynamic_cast<const snntorch::LeakyImpl*>(&m) != nullptr ||
         dynamic_cast<const snntorch::SynapticImpl*>(&m) != nullptr ||
         dynamic_cast<const snntorch::RLeakyImpl*>(&m) != nullptr ||
         dynamic_cast<const snntorch::RSynapticImpl*>(&m) != nullptr;
}

// The file's time step where ExportOptions::dt is not given (see its comment).
double default_step(torch::nn::Module& model, const ExportOptions& options) {
  if (options.dt()) return *options.dt();
  for (const auto& m : model.modules()) {
    if (is_snntorch(*m)) {
      return 1e-4;
    }
    if (auto* l = dynamic_cast<CubaLIFImpl*>(m.get())) return l->options.dt();
    if (auto* l = dynamic_cast<CubaLIImpl*>(m.get())) return l->options.dt();
    if (auto* g = dynamic_cast<GraphModuleImpl*>(m.get())) {
      return detail::import_dt(g->options());
    }
  }
  return 1.0;
}

// Whose discretisation the model's neurons follow (for snn_convention).
Convention default_convention(torch::nn::Module& model) {
  for (const auto& m : model.modules()) {
    if (is_snntorch(*m)) {
      return Convention::SnnTorch;
    }
    if (dynamic_cast<CubaLIFImpl*>(m.get()) != nullptr ||
        dynamic_cast<CubaLIImpl*>(m.get()) != nullptr) {
      return Convention::Norse;
    }
    if (auto* g = dynamic_cast<GraphModuleImpl*>(m.get())) return g->options().convention();
  }
  return Convention::Sinabs;
}

}  // namespace

Graph export_module(torch::nn::Module& model, const at::Tensor& sample,
                    const ExportOptions& options) {
  TORCH_CHECK(sample.dim() >= 3, "snn::nir: export: expected a sample input [B, T, ...], got ",
              sample.sizes());
  TORCH_CHECK(!options.dt() || (*options.dt() > 0 && std::isfinite(*options.dt())),
              "snn::nir: export: dt must be a positive number, got ", options.dt().value_or(0));
  at::NoGradGuard no_grad;
  reset_states(model);
  Tracer t{options, {}, default_step(model, options)};
  Flow flow;
  flow.x = sample;
  Node input;
  input.type = "Input";
  input.params["shape"] = Value::number(ints(sample.sizes().slice(2).vec()));
  t.graph.add("input", std::move(input));
  flow.from = {"input"};
  t.module("", model, flow);
  TORCH_CHECK(flow.lead == 2, "snn::nir: export: the model ends on squeezed [B·T, ...] data; "
              "end it with snn::UnflattenTime");
  Node output;
  output.type = "Output";
  output.params["shape"] = Value::number(ints(flow.sample().vec()));
  const std::string out = t.fresh("output");
  t.graph.add(out, std::move(output));
  for (const auto& s : flow.from) t.graph.edges.push_back({s, out});
  reset_states(model);
  // How snn.cpp imports the file as it was: the convention of the layers, the time step.
  t.graph.metadata["snn_convention"] = Value::text(convention_name(default_convention(model)));
  t.graph.metadata["snn_dt"] = Value::number(at::scalar_tensor(t.step, at::kDouble));
  return std::move(t.graph);
}

}  // namespace snn::nir
