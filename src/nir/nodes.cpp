// The NIR node table: what each node type becomes when imported (see nodes.h).
#include "nir/nodes.h"

#include <ATen/ATen.h>
#include <c10/util/Exception.h>
#include <torch/nn/modules/conv.h>
#include <torch/nn/modules/linear.h>
#include <torch/nn/modules/pooling.h>

#include <cmath>
#include <type_traits>
#include <sstream>

#include "snn/nn/cuba.h"
#include "snn/nn/delay.h"
#include "snn/nn/exp_leak.h"
#include "snn/nn/lif.h"
#include "snn/nn/structural.h"
#include "snn/ops/neuron.h"
#include "snn/snntorch/neurons.h"

namespace snn::nir::detail {
namespace {

// A node being imported: its parameters, read with checks that name the node.
struct Ctx {
  const std::string& name;
  const Node& node;
  double dt;

  template <typename... Args>
  [[noreturn]] void fail(const Args&... args) const {
    TORCH_CHECK(false, "snn::nir: node '", name, "' (", node.type, "): ", args...);
  }
  // A numeric parameter as float32 (as the three importers convert them).
  at::Tensor f32(const std::string& p) const {
    const auto& t = node.tensor(name, p);
    if (!at::isFloatingType(t.scalar_type()) && !at::isIntegralType(t.scalar_type(), false)) {
      fail("parameter '", p, "' must be numbers, got ", t.scalar_type());
    }
    const auto out = t.to(at::kFloat).contiguous();
    if (!at::isfinite(out).all().item<bool>()) fail("parameter '", p, "' is not finite");
    return out;
  }
  // A parameter that may be missing (older files): `fallback` in the shape of `like`.
  at::Tensor f32_or(const std::string& p, double fallback, const at::Tensor& like) const {
    return node.has(p) ? f32(p) : at::full_like(like, fallback);
  }
  // n integers (a scalar stands for all n), e.g. a stride.
  std::vector<int64_t> ints(const std::string& p, size_t n) const {
    const auto& t = node.tensor(name, p);
    if (at::isFloatingType(t.scalar_type())) {
      if (!(t == t.round()).all().item<bool>()) fail("parameter '", p, "' must be integers, got ", t);
    }
    const auto flat = t.to(at::kLong).flatten();
    std::vector<int64_t> out(flat.data_ptr<int64_t>(), flat.data_ptr<int64_t>() + flat.numel());
    if (out.size() == 1 && n > 1) out.assign(n, out[0]);
    if (out.size() != n) fail("parameter '", p, "' must hold ", n, " integers, got ", t.sizes());
    return out;
  }
  int64_t integer(const std::string& p) const { return ints(p, 1)[0]; }
  // The parameters of a neuron, which must share one shape (the neurons').
  void same_shape(const std::vector<std::pair<std::string, at::Tensor>>& params) const {
    for (const auto& [p, t] : params) {
      if (t.sizes() != params[0].second.sizes()) {
        fail("parameters '", params[0].first, "' ", params[0].second.sizes(), " and '", p, "' ",
             t.sizes(), " must have the same shape (one value per neuron)");
      }
    }
  }
  // A value every neuron shares (a convention whose layer takes one), or an error.
  double uniform(const std::string& p, const at::Tensor& t, const char* why) const {
    if (t.numel() == 0) fail("parameter '", p, "' is empty");
    const double v = t.flatten()[0].item<double>();
    if (!(t == t.flatten()[0]).all().item<bool>()) {
      fail("parameter '", p, "' differs across neurons, which ", why, " cannot express");
    }
    return v;
  }
  void require(const std::string& p, const at::Tensor& t, double value, const char* why) const {
    if (!at::allclose(t, at::full_like(t, value), 1e-5, 1e-8)) {
      fail("parameter '", p, "' must be ", value, " ", why, ", got values in [",
           t.min().item<double>(), ", ", t.max().item<double>(), "]");
    }
  }
};

std::vector<int64_t> int_vector(const at::Tensor& t) {
  const auto flat = t.to(at::kLong).contiguous().flatten();
  return std::vector<int64_t>(flat.data_ptr<int64_t>(), flat.data_ptr<int64_t>() + flat.numel());
}

// Applies a module made for [N, ...] to every step of [B, T, ...].
template <typename F>
std::function<at::Tensor(const at::Tensor&)> per_step(F f) {
  return [f](const at::Tensor& x) {
    const auto y = f(x.flatten(0, 1));
    return y.unflatten(0, {x.size(0), x.size(1)});
  };
}

template <typename M>
BuiltNode sequence_module(M module) {
  auto ptr = module.ptr();
  return {ptr, [ptr](const at::Tensor& x) { return ptr->forward(x); }};
}

// ---- nodes that are the same in every convention ---------------------------------------------

BuiltNode input_node(const Ctx& c) {
  std::vector<int64_t> shape;
  if (c.node.has("shape")) shape = int_vector(c.node.tensor(c.name, "shape"));
  const std::string name = c.name;
  return {nullptr, [shape, name](const at::Tensor& x) {
            TORCH_CHECK(shape.empty() || x.sizes().slice(2) == at::IntArrayRef(shape),
                        "snn::nir: Input node '", name, "' expects [B, T, ",
                        at::IntArrayRef(shape), "], got ", x.sizes());
            return x;
          }};
}

BuiltNode identity_node(const Ctx&) {
  return {nullptr, [](const at::Tensor& x) { return x; }};
}

BuiltNode affine_node(const Ctx& c, bool bias) {
  const auto w = c.f32("weight");
  if (w.dim() != 2) c.fail("expected a weight of shape [out, in], got ", w.sizes());
  torch::nn::Linear linear(torch::nn::LinearOptions(w.size(1), w.size(0)).bias(bias));
  linear->weight.set_data(w);
  if (bias) {
    const auto b = c.f32("bias");
    if (b.sizes() != at::IntArrayRef{w.size(0)}) {
      c.fail("expected a bias of shape [", w.size(0), "], got ", b.sizes());
    }
    linear->bias.set_data(b);
  }
  auto ptr = linear.ptr();
  const std::string name = c.name;
  const int64_t in = w.size(1);
  return {ptr, [ptr, name, in](const at::Tensor& x) {
            TORCH_CHECK(x.dim() >= 3 && x.size(-1) == in, "snn::nir: node '", name,
                        "' expects [B, T, ", in, "], got ", x.sizes());
            return ptr->forward(x);
          }};
}

// A parameter-only module: Scale's factor, Threshold's θ.
struct ParamHolderImpl : torch::nn::Cloneable<ParamHolderImpl> {
  ParamHolderImpl(std::string name, at::Tensor value) : name_(std::move(name)), value_(value) {
    reset();
  }
  void reset() override { param = register_parameter(name_, value_.clone()); }
  void pretty_print(std::ostream& os) const override {
    os << "snn::nir::" << name_ << "(shape=" << value_.sizes() << ")";
  }
  std::string name_;
  at::Tensor value_, param;
};
TORCH_MODULE(ParamHolder);

BuiltNode scale_node(const Ctx& c) {
  ParamHolder holder("scale", c.f32("scale"));
  auto ptr = holder.ptr();
  return {ptr, [ptr](const at::Tensor& x) { return x * ptr->param; }};
}

BuiltNode threshold_node(const Ctx& c) {
  ParamHolder holder("threshold", c.f32("threshold"));
  auto ptr = holder.ptr();
  // NIR's Threshold: 1 where the input exceeds θ (no gradient: a step).
  return {ptr, [ptr](const at::Tensor& x) { return (x > ptr->param).to(x.scalar_type()); }};
}

template <size_t D>
BuiltNode conv_node(const Ctx& c) {
  const auto w = c.f32("weight");
  if (w.dim() != static_cast<int64_t>(D) + 2) {
    c.fail("expected a weight of shape [out, in / groups, kernel...] (", D + 2,
           " dimensions), got ", w.sizes());
  }
  const int64_t groups = c.node.has("groups") ? c.integer("groups") : 1;
  if (groups < 1 || w.size(0) % groups != 0) c.fail("groups must divide the output channels");
  std::vector<int64_t> kernel(w.sizes().begin() + 2, w.sizes().end());
  using Options = torch::nn::ConvOptions<D>;
  Options o(w.size(1) * groups, w.size(0), torch::ExpandingArray<D>(kernel));
  o.stride(torch::ExpandingArray<D>(c.ints("stride", D)))
      .dilation(torch::ExpandingArray<D>(c.ints("dilation", D)))
      .groups(groups)
      .bias(true);
  const auto pad = c.node.params.find("padding");
  if (pad == c.node.params.end()) c.fail("has no parameter 'padding'");
  if (pad->second.is_text()) {
    const auto& text = pad->second.strings.at(0);
    if (text == "same") {
      o.padding(torch::kSame);
    } else if (text == "valid") {
      o.padding(torch::kValid);
    } else {
      c.fail("padding must be 'same', 'valid' or integers, got '", text, "'");
    }
  } else {
    o.padding(torch::ExpandingArray<D>(c.ints("padding", D)));
  }
  auto bias = c.node.has("bias") ? c.f32("bias") : at::zeros({w.size(0)});
  if (bias.numel() == 1 && w.size(0) > 1) bias = bias.expand({w.size(0)}).clone();
  if (bias.sizes() != at::IntArrayRef{w.size(0)}) {
    c.fail("expected a bias of shape [", w.size(0), "], got ", bias.sizes());
  }
  using Conv = std::conditional_t<D == 1, torch::nn::Conv1d, torch::nn::Conv2d>;
  Conv conv(o);
  conv->weight.set_data(w);
  conv->bias.set_data(bias);
  auto m = conv.ptr();
  return {m, per_step([m](const at::Tensor& x) { return m->forward(x); })};
}

BuiltNode sum_pool_node(const Ctx& c) {
  const auto k = c.ints("kernel_size", 2), s = c.ints("stride", 2);
  const auto p = c.node.has("padding") ? c.ints("padding", 2) : std::vector<int64_t>{0, 0};
  if (p[0] == 0 && p[1] == 0) {
    // Sinabs' SumPool2d (average pooling times the window), which its importer builds.
    SumPool2d pool(SumPool2dOptions({k[0], k[1]}).stride({s[0], s[1]}));
    auto ptr = pool.ptr();
    return {ptr, per_step([ptr](const at::Tensor& x) { return ptr->forward(x); })};
  }
  const double area = static_cast<double>(k[0] * k[1]);
  return {nullptr, per_step([k, s, p, area](const at::Tensor& x) {
            return at::avg_pool2d(x, k, s, p, false, true) * area;
          })};
}

BuiltNode avg_pool_node(const Ctx& c) {
  const auto k = c.ints("kernel_size", 2), s = c.ints("stride", 2);
  const auto p = c.node.has("padding") ? c.ints("padding", 2) : std::vector<int64_t>{0, 0};
  torch::nn::AvgPool2d pool(torch::nn::AvgPool2dOptions({k[0], k[1]}).stride({s[0], s[1]}).padding({p[0], p[1]}));
  auto ptr = pool.ptr();
  return {ptr, per_step([ptr](const at::Tensor& x) { return ptr->forward(x); })};
}

// NIR's Flatten: start_dim and end_dim count the dimensions of one sample (as Sinabs
// writes and reads them, and snnTorch writes them).
BuiltNode flatten_node(const Ctx& c) {
  const int64_t start = c.node.has("start_dim") ? c.integer("start_dim") : 0;
  const int64_t end = c.node.has("end_dim") ? c.integer("end_dim") : -1;
  std::vector<int64_t> in;
  if (c.node.has("input_type")) {
    in = int_vector(c.node.tensor(c.name, "input_type"));
  }
  const std::string name = c.name;
  return {nullptr, [start, end, in, name](const at::Tensor& x) {
            const int64_t rank = x.dim() - 2;
            TORCH_CHECK(in.empty() || x.sizes().slice(2) == at::IntArrayRef(in),
                        "snn::nir: Flatten node '", name, "' expects [B, T, ", at::IntArrayRef(in),
                        "], got ", x.sizes());
            const int64_t s = start < 0 ? start + rank : start, e = end < 0 ? end + rank : end;
            TORCH_CHECK(rank >= 1 && s >= 0 && e < rank && s <= e, "snn::nir: Flatten node '",
                        name, "': dimensions ", start, "..", end, " do not fit a sample of shape ",
                        x.sizes().slice(2));
            return x.flatten(s + 2, e + 2);
          }};
}

BuiltNode delay_node(const Ctx& c) {
  const auto d = c.f32("delay");
  const auto steps = at::round(d.to(at::kDouble) / c.dt);
  if ((steps < 0).any().item<bool>()) c.fail("delays must be >= 0, got ", d);
  if (!at::allclose(steps * c.dt, d.to(at::kDouble), 1e-4, 1e-9)) {
    c.fail("delays ", d, " are not whole multiples of dt = ", c.dt);
  }
  return sequence_module(Delay(DelayOptions(steps.to(at::kLong))));
}

// ---- neurons: NIR's definitions as Norse runs them (snn::CubaLIF / CubaLI) -------------------

BuiltNode nir_neuron(const Ctx& c, bool spikes, bool leak, bool synapse) {
  const auto r = c.f32("r");
  CubaLIFOptions o;
  o.dt(c.dt).r(r);
  std::vector<std::pair<std::string, at::Tensor>> shapes{{"r", r}};
  if (leak) {
    const auto tau = c.f32(synapse ? "tau_mem" : "tau");
    o.tau_mem(tau);
    shapes.emplace_back(synapse ? "tau_mem" : "tau", tau);
    const auto v_leak = c.f32_or("v_leak", 0.0, r);
    o.v_leak(v_leak);
    shapes.emplace_back("v_leak", v_leak);
  }
  if (synapse) {
    const auto tau_syn = c.f32("tau_syn");
    o.tau_syn(tau_syn).w_in(c.f32_or("w_in", 1.0, tau_syn));
    shapes.emplace_back("tau_syn", tau_syn);
  }
  if (spikes) {
    const auto th = c.f32("v_threshold");
    o.v_threshold(th).v_reset(c.f32_or("v_reset", 0.0, th));
    shapes.emplace_back("v_threshold", th);
  }
  c.same_shape(shapes);
  for (const auto& [p, t] : shapes) {
    if (p.rfind("tau", 0) == 0 && !(t > 0).all().item<bool>()) c.fail("'", p, "' must be > 0");
  }
  if (spikes) return sequence_module(CubaLIF(o));
  return sequence_module(CubaLI(o));
}

BuiltNode norse_lif(const Ctx& c) { return nir_neuron(c, true, true, false); }
BuiltNode norse_if(const Ctx& c) { return nir_neuron(c, true, false, false); }
BuiltNode norse_cuba_lif(const Ctx& c) { return nir_neuron(c, true, true, true); }
BuiltNode norse_li(const Ctx& c) { return nir_neuron(c, false, true, false); }
BuiltNode norse_i(const Ctx& c) { return nir_neuron(c, false, false, false); }
BuiltNode norse_cuba_li(const Ctx& c) { return nir_neuron(c, false, true, true); }

// ---- neurons as snnTorch's importer builds them ----------------------------------------------

constexpr const char* kSnnTorchWhy = "(snnTorch's importer requires it)";

// dt / τ in float32, as numpy computes it from float32 arrays.
at::Tensor dt_over(const Ctx& c, const at::Tensor& tau) {
  return at::div(at::full_like(tau, c.dt), tau);
}

BuiltNode snntorch_lif(const Ctx& c) {
  const auto tau = c.f32("tau"), r = c.f32("r"), th = c.f32("v_threshold");
  c.same_shape({{"tau", tau}, {"r", r}, {"v_threshold", th}});
  c.require("v_leak", c.f32_or("v_leak", 0.0, tau), 0.0, kSnnTorchWhy);
  c.require("v_reset", c.f32_or("v_reset", 0.0, th), 0.0, "(snnTorch's Leaky resets to zero)");
  const auto beta = at::rsub(dt_over(c, tau), 1.0);
  // The input scale r·dt/τ folded into the threshold (snnTorch's "hack_w_scale").
  const auto w_scale = at::div(at::mul(r, c.dt), tau);
  snntorch::LeakyOptions o(beta);
  o.threshold(at::div(th, w_scale)).reset_mechanism("zero").reset_delay(false);
  return sequence_module(snntorch::Leaky(o));
}

BuiltNode snntorch_cuba_lif(const Ctx& c) {
  const auto tau_mem = c.f32("tau_mem"), tau_syn = c.f32("tau_syn"), r = c.f32("r");
  const auto th = c.f32("v_threshold");
  const auto w_in = c.f32_or("w_in", 1.0, tau_syn);
  c.same_shape({{"tau_mem", tau_mem}, {"tau_syn", tau_syn}, {"r", r}, {"v_threshold", th},
                {"w_in", w_in}});
  c.require("v_leak", c.f32_or("v_leak", 0.0, tau_mem), 0.0, kSnnTorchWhy);
  c.require("v_reset", c.f32_or("v_reset", 0.0, th), 0.0, "(snnTorch's Synaptic resets to zero)");
  if (!at::allclose(r, at::div(tau_mem, c.dt))) {
    c.fail("r must equal tau_mem / dt ", kSnnTorchWhy, ", got r in [", r.min().item<double>(),
           ", ", r.max().item<double>(), "] for dt = ", c.dt);
  }
  const auto alpha = at::rsub(dt_over(c, tau_syn), 1.0);
  const auto beta = at::rsub(dt_over(c, tau_mem), 1.0);
  const auto w_scale = at::div(at::mul(w_in, c.dt), tau_syn);
  snntorch::SynapticOptions o(alpha, beta);
  o.threshold(at::div(th, w_scale)).reset_mechanism("zero").reset_delay(false);
  return sequence_module(snntorch::Synaptic(o));
}

BuiltNode snntorch_if(const Ctx& c) {
  const auto r = c.f32("r"), th = c.f32("v_threshold");
  c.same_shape({{"r", r}, {"v_threshold", th}});
  c.require("v_reset", c.f32_or("v_reset", 0.0, th), 0.0, "(a subtractive reset)");
  // snnTorch's importer builds Leaky(beta=0.9) here, which leaks; an integrator is β = 1.
  snntorch::LeakyOptions o(1.0);
  o.threshold(at::mul(th, r)).reset_mechanism("subtract").reset_delay(false);
  return sequence_module(snntorch::Leaky(o));
}

// ---- neurons as Sinabs' importer builds them -------------------------------------------------

constexpr const char* kSinabsWhy = "(Sinabs' layers have no such term)";

BuiltNode sinabs_if(const Ctx& c) {
  const auto r = c.f32("r"), th = c.f32("v_threshold");
  c.same_shape({{"r", r}, {"v_threshold", th}});
  c.require("r", r, 1.0, kSinabsWhy);
  c.require("v_reset", c.f32_or("v_reset", 0.0, th), 0.0, "(Sinabs' IAF subtracts the threshold)");
  const double theta = c.uniform("v_threshold", th, "Sinabs' IAF");
  // Sinabs' importer floors the membrane at -v_threshold.
  return sequence_module(IAF(IAFOptions().spike_threshold(theta).min_v_mem(-theta)));
}

BuiltNode sinabs_lif(const Ctx& c) {
  const auto tau = c.f32("tau"), r = c.f32("r"), th = c.f32("v_threshold");
  c.same_shape({{"tau", tau}, {"r", r}, {"v_threshold", th}});
  c.require("r", r, 1.0, kSinabsWhy);
  c.require("v_leak", c.f32_or("v_leak", 0.0, tau), 0.0, kSinabsWhy);
  c.require("v_reset", c.f32_or("v_reset", 0.0, th), 0.0, "(Sinabs' LIF subtracts the threshold)");
  const double theta = c.uniform("v_threshold", th, "Sinabs' LIF");
  return sequence_module(LIF(LIFOptions(tau / c.dt).spike_threshold(theta).norm_input(false)));
}

BuiltNode sinabs_li(const Ctx& c) {
  const auto tau = c.f32("tau"), r = c.f32("r");
  c.same_shape({{"tau", tau}, {"r", r}});
  c.require("r", r, 1.0, kSinabsWhy);
  c.require("v_leak", c.f32_or("v_leak", 0.0, tau), 0.0, kSinabsWhy);
  return sequence_module(ExpLeak(ExpLeakOptions(tau / c.dt).norm_input(false)));
}

// ---- snn.cpp's own layers, as its exporter described them in the node's metadata -----------

// A NIR node written by snn.cpp for one of its layers whose dynamics NIR cannot state
// exactly (Sinabs' multi-spikes and subtractive reset, snnTorch's reset variants): the
// metadata names the layer and its neuron specification and holds every parameter and
// buffer, so that the very layer comes back whatever the convention.
struct Own {
  const Ctx& c;
  ops::NeuronSpec spec;
  std::map<std::string, at::Tensor> params, buffers;

  explicit Own(const Ctx& ctx) : c(ctx) {
    const auto& m = c.node.metadata;
    const auto text = m.find("snn_spec");
    if (text == m.end() || !text->second.is_text()) c.fail("metadata snn_layer without snn_spec");
    spec = ops::NeuronSpec::parse(text->second.strings.at(0));
    for (const auto& [k, v] : m) {
      if (v.is_text()) continue;
      if (k.rfind("snn_param_", 0) == 0) params[k.substr(10)] = v.tensor;
      if (k.rfind("snn_buffer_", 0) == 0) buffers[k.substr(11)] = v.tensor;
    }
  }
  at::Tensor get(const std::string& name) const {
    if (params.count(name) != 0) return params.at(name);
    if (buffers.count(name) != 0) return buffers.at(name);
    c.fail("metadata holds no value of '", name, "' for its layer");
  }
  std::optional<TimeConstant> tau_syn() const {
    if (!spec.synapse) return std::nullopt;
    return TimeConstant(params.count("tau_syn") ? get("tau_syn") : -1.0 / at::log(get("alpha_syn")));
  }
  double threshold() const { return c.uniform("v_threshold", c.f32("v_threshold"), "snn.cpp's layer"); }
  template <typename O>
  O spiking(O o) const {
    o.tau_syn(tau_syn())
        .spike_threshold(threshold())
        .spike_fn(parse_spike_fn(spec.spike_str()))
        .reset_fn(parse_reset_fn(spec.reset_str()))
        .surrogate(parse_surrogate(spec.surrogate_str()))
        .min_v_mem(spec.min_v_mem);
    return o;
  }
  template <typename O>
  O snntorch(O o) const {
    const char* reset = spec.reset == ops::ResetKind::Subtract  ? "subtract"
                        : spec.reset == ops::ResetKind::ToValue ? "zero"
                                                                : "none";
    o.reset_mechanism(reset).reset_delay(spec.reset_delay).spike_grad(
        parse_surrogate(spec.surrogate_str()));
    o.threshold(get("threshold")).learn_threshold(params.count("threshold") != 0);
    return o;
  }
  // Every parameter and buffer back, by name.
  BuiltNode finish(BuiltNode built) const {
    for (auto& p : built.module->named_parameters(false)) {
      if (params.count(p.key()) != 0) p.value().set_data(params.at(p.key()).to(p.value().dtype()));
    }
    for (auto& b : built.module->named_buffers(false)) {
      if (buffers.count(b.key()) != 0) b.value().set_data(buffers.at(b.key()).to(b.value().dtype()));
    }
    return built;
  }
};

BuiltNode own_layer(const Ctx& c, const std::string& layer) {
  const Own o(c);
  const auto tau_mem = [&] {
    return TimeConstant(o.params.count("tau_mem") ? o.get("tau_mem")
                                                  : -1.0 / at::log(o.get("alpha_mem")));
  };
  if (layer == "IAF" || layer == "IAFSqueeze") {
    return o.finish(sequence_module(IAF(o.spiking(IAFOptions()))));
  }
  if (layer == "LIF" || layer == "LIFSqueeze") {
    auto opts = o.spiking(LIFOptions(tau_mem()));
    opts.norm_input(o.spec.norm_input).train_alphas(o.params.count("alpha_mem") != 0);
    return o.finish(sequence_module(LIF(opts)));
  }
  if (layer == "ExpLeak" || layer == "ExpLeakSqueeze") {
    ExpLeakOptions opts(tau_mem());
    opts.norm_input(o.spec.norm_input).min_v_mem(o.spec.min_v_mem);
    opts.train_alphas(o.params.count("alpha_mem") != 0);
    return o.finish(sequence_module(ExpLeak(opts)));
  }
  if (layer == "Leaky") {
    auto opts = o.snntorch(snntorch::LeakyOptions(o.get("beta")));
    opts.learn_beta(o.params.count("beta") != 0);
    opts.graded_spikes_factor(o.get("graded_spikes_factor"));
    return o.finish(sequence_module(snntorch::Leaky(opts)));
  }
  if (layer == "Synaptic") {
    auto opts = o.snntorch(snntorch::SynapticOptions(o.get("alpha"), o.get("beta")));
    opts.learn_beta(o.params.count("beta") != 0).learn_alpha(o.params.count("alpha") != 0);
    return o.finish(sequence_module(snntorch::Synaptic(opts)));
  }
  c.fail("metadata names the snn.cpp layer '", layer, "', which this version does not know");
}

// ---- the table -----------------------------------------------------------------------------

using Builder = BuiltNode (*)(const Ctx&);

// One row per node type: the builder of each convention (null: as Norse's, the NIR
// definition) and what each becomes, for the documentation.
struct Row {
  const char* type;
  Builder norse, snntorch, sinabs;
  const char* doc_norse;
  const char* doc_snntorch;
  const char* doc_sinabs;
};

BuiltNode affine(const Ctx& c) { return affine_node(c, true); }
BuiltNode linear(const Ctx& c) { return affine_node(c, false); }

const std::vector<Row>& rows() {
  static const std::vector<Row> table = {
      {"Input", &input_node, nullptr, nullptr, "identity (checks the shape)", "", ""},
      {"Output", &identity_node, nullptr, nullptr, "identity", "", ""},
      {"Affine", &affine, nullptr, nullptr, "torch::nn::Linear (weight [out, in], bias)", "", ""},
      {"Linear", &linear, nullptr, nullptr, "torch::nn::Linear without bias", "", ""},
      {"Scale", &scale_node, nullptr, nullptr, "x ⊙ scale (a parameter)", "", ""},
      {"Conv1d", &conv_node<1>, nullptr, nullptr, "torch::nn::Conv1d per step", "", ""},
      {"Conv2d", &conv_node<2>, nullptr, nullptr,
       "torch::nn::Conv2d per step (padding integers, 'same' or 'valid')", "", ""},
      {"SumPool2d", &sum_pool_node, nullptr, nullptr,
       "snn::SumPool2d per step (padding: average pooling × window)", "", ""},
      {"AvgPool2d", &avg_pool_node, nullptr, nullptr,
       "torch::nn::AvgPool2d per step (count_include_pad)", "", ""},
      {"Flatten", &flatten_node, nullptr, nullptr,
       "flatten of the sample's dimensions start_dim..end_dim", "", ""},
      {"Threshold", &threshold_node, nullptr, nullptr, "H(x - threshold), strict", "", ""},
      {"Delay", &delay_node, nullptr, nullptr, "snn::Delay, round(delay / dt) steps per neuron",
       "", ""},
      {"IF", &norse_if, &snntorch_if, &sinabs_if,
       "snn::CubaLIF without leak: v += r·x; v > v_threshold spikes, v = v_reset (starts at v_reset)",
       "snnTorch Leaky(beta=1, threshold=v_threshold·r, subtract, no reset delay)",
       "snn::IAF(threshold, min_v_mem=-threshold), MultiSpike, subtract; r = 1, v_reset = 0"},
      {"LIF", &norse_lif, &snntorch_lif, &sinabs_lif,
       "snn::CubaLIF: v += dt/τ·((r·x + v_leak) - v); spike v > v_threshold, v = v_reset",
       "snnTorch Leaky(beta=1-dt/τ, threshold=v_threshold/(r·dt/τ), zero reset, no delay); "
       "v_leak = v_reset = 0",
       "snn::LIF(tau_mem=τ/dt, norm_input=false), MultiSpike, subtract; r = 1, v_leak = v_reset = 0"},
      {"CubaLIF", &norse_cuba_lif, &snntorch_cuba_lif, nullptr,
       "snn::CubaLIF with synapse: I += dt/τ_syn·((v_leak - I) + w_in·x), then LIF on r·I",
       "snnTorch Synaptic(alpha=1-dt/τ_syn, beta=1-dt/τ_mem, threshold=v_threshold/(w_in·dt/τ_syn), "
       "zero reset); r = τ_mem/dt, v_leak = v_reset = 0",
       ""},
      {"LI", &norse_li, nullptr, &sinabs_li,
       "snn::CubaLI: v += dt/τ·((v_leak - v) + r·x); outputs v", "",
       "snn::ExpLeak(tau_mem=τ/dt, norm_input=false); r = 1, v_leak = 0"},
      {"I", &norse_i, nullptr, nullptr, "snn::CubaLI without leak: v += r·x", "", ""},
      {"CubaLI", &norse_cuba_li, nullptr, nullptr, "snn::CubaLI with synapse", "", ""},
  };
  return table;
}

std::string node_types() {
  std::string out;
  for (const auto& r : rows()) out += (out.empty() ? "" : ", ") + std::string(r.type);
  return out + ", NIRGraph";
}

}  // namespace

bool is_stateful(const std::string& type) {
  for (const char* t : {"IF", "LIF", "CubaLIF", "LI", "I", "CubaLI", "Delay", "NIRGraph"}) {
    if (type == t) return true;
  }
  return false;
}

std::optional<std::vector<int64_t>> output_features(const Node& node) {
  if (!is_stateful(node.type)) return std::nullopt;
  for (const char* p : {"v_threshold", "tau", "tau_mem", "r", "delay"}) {
    const auto it = node.params.find(p);
    if (it != node.params.end() && !it->second.is_text() && it->second.tensor.dim() > 0) {
      return it->second.tensor.sizes().vec();
    }
  }
  return std::nullopt;
}

double import_dt(const ImportOptions& options) {
  if (options.dt()) return *options.dt();
  switch (options.convention()) {
    case Convention::Norse: return 1e-3;
    case Convention::SnnTorch: return 1e-4;
    case Convention::Sinabs: return 1.0;
  }
  return 1.0;
}

BuiltNode build_node(const std::string& name, const Node& node, const ImportOptions& options) {
  const Ctx c{name, node, import_dt(options)};
  if (node.type == "NIRGraph") {
    TORCH_CHECK(node.graph != nullptr, "snn::nir: node '", name, "' (NIRGraph) has no graph");
    GraphModule sub(*node.graph, options);
    auto ptr = sub.ptr();
    return {ptr, [ptr](const at::Tensor& x) { return ptr->forward(x); }};
  }
  const auto own = node.metadata.find("snn_layer");
  if (own != node.metadata.end() && own->second.is_text() && own->second.strings.size() == 1) {
    return own_layer(c, own->second.strings[0]);
  }
  for (const auto& row : rows()) {
    if (node.type != row.type) continue;
    Builder b = row.norse;
    if (options.convention() == Convention::SnnTorch && row.snntorch != nullptr) b = row.snntorch;
    if (options.convention() == Convention::Sinabs && row.sinabs != nullptr) b = row.sinabs;
    return b(c);
  }
  TORCH_CHECK(false, "snn::nir: node '", name, "' has type '", node.type,
              "', which snn.cpp does not import (it imports ", node_types(), ")");
}

}  // namespace snn::nir::detail

namespace snn::nir {

const std::vector<NodeMapping>& node_mappings() {
  static const std::vector<NodeMapping> docs = [] {
    std::vector<NodeMapping> out;
    for (const auto& r : detail::rows()) {
      out.push_back({r.type, r.doc_norse, *r.doc_snntorch ? r.doc_snntorch : "as norse",
                     *r.doc_sinabs ? r.doc_sinabs : "as norse"});
    }
    return out;
  }();
  return docs;
}

}  // namespace snn::nir
