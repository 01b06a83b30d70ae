// Plain-ATen reference of snn::neuron: the step loop of Sinabs' layers, differentiated by
// autograd. It runs on any device; the fused kernel is tested against it.
#include "ops/reference/neuron_reference.h"

#include <ATen/ATen.h>
#include <torch/library.h>

#include <cmath>

#include "ops/neuron_args.h"

namespace snn::ops::detail {
namespace {

at::Tensor spike_values(const at::Tensor& w, const at::Tensor& th, const NeuronSpec& s) {
  if (s.spike == SpikeKind::Single) return (w - th >= 0).to(w.scalar_type());
  if (s.spike == SpikeKind::Heaviside) return (w - th > 0).to(w.scalar_type());
  auto n = (w > 0) * at::div(w, th, "trunc");
  if (s.spike == SpikeKind::Max && s.max_spikes) n = at::clamp_max(n, *s.max_spikes);
  return n;
}

at::Tensor gaussian(const at::Tensor& x, double mu, double sigma) {
  return at::exp(-at::pow(x - mu, 2) / (2 * sigma * sigma)) / (sigma * std::sqrt(2 * M_PI));
}

// σ(w, θ), the surrogate of ds/dw (see snn/ops/neuron.h).
at::Tensor surrogate(const at::Tensor& w, const at::Tensor& th, const SurrogateSpec& sg) {
  const auto& a = sg.args;
  switch (sg.kind) {
    case SurrogateKind::SingleExponential: {
      const auto abs_width = th * a[0];
      return a[1] / abs_width * at::exp(-at::abs(w - th) / abs_width);
    }
    case SurrogateKind::Heaviside:
      return (w >= th - a[0]).to(w.scalar_type()) / th;
    case SurrogateKind::Gaussian:
      return gaussian(w - th, a[0], a[1]) * a[2];
    case SurrogateKind::MultiGaussian: {
      const auto x = w - th;
      return ((1 + a[2]) * gaussian(x, a[0], a[1]) - a[2] * gaussian(x, a[1], a[3] * a[1]) -
              a[2] * gaussian(x, -a[1], a[3] * a[1])) *
             a[4];
    }
    case SurrogateKind::PeriodicExponential: {
      const auto norm = w / th - 0.5;
      const auto periodic = th * (2 * (norm - at::floor(norm)) - 1);
      const auto y = periodic * (w >= th) + (w - th) * (w < th);
      return a[1] * at::exp(-at::abs(y) / a[0]);
    }
    case SurrogateKind::ATan:
      return a[0] / 2 / (1 + at::pow(M_PI / 2 * a[0] * (w - th), 2));
    case SurrogateKind::FastSigmoid:
      return 1 / at::pow(a[0] * at::abs(w - th) + 1, 2);
    case SurrogateKind::Sigmoid: {
      const auto e = at::exp(-a[0] * at::abs(w - th));
      return a[0] * e / at::pow(1 + e, 2);
    }
    case SurrogateKind::SpikeRateEscape:
      return a[1] * at::exp(-a[0] * at::abs(w - th - 1));
    case SurrogateKind::Triangular:
      return at::where(w - th >= 0, -a[0], a[0]).to(w.scalar_type());
    case SurrogateKind::StraightThroughEstimator:
      return at::ones_like(w);
    case SurrogateKind::HeavisideMask:
      return (w - th > 0).to(w.scalar_type());
    case SurrogateKind::SparseFastSigmoid: {
      const auto x = w - th;
      return (x > a[1]).to(w.scalar_type()) / at::pow(a[0] * at::abs(x) + 1, 2);
    }
    case SurrogateKind::LeakySpikeOperator: {
      const auto above = (w - th > 0).to(w.scalar_type());
      return above + (1 - above) * a[0];
    }
    case SurrogateKind::StochasticSpikeOperator:
      return at::where(w - th > 0, at::ones_like(w), (at::rand_like(w) - 0.5 + a[0]) * a[1]);
    case SurrogateKind::Custom:
      return registered_surrogate(static_cast<int64_t>(a[0]))(w - th).to(w.scalar_type());
    case SurrogateKind::NoGradient:
      return at::zeros_like(w);
  }
  TORCH_INTERNAL_ASSERT(false, "unknown surrogate");
}

// Spikes whose value is the spike function's and whose gradient with respect to w is the
// surrogate (w·σ - detach(w·σ) is zero); no gradient flows into θ, as in Sinabs.
at::Tensor spike(const at::Tensor& w, const at::Tensor& th, const NeuronSpec& s) {
  const auto wd = w.detach(), thd = th.detach();
  const auto w_sg = w * surrogate(wd, thd, s.surrogate);
  return spike_values(wd, thd, s) + (w_sg - w_sg.detach());
}

at::Tensor reset(const at::Tensor& w, const at::Tensor& spikes, const at::Tensor& th,
                 const NeuronSpec& s) {
  if (s.reset == ResetKind::ToValue) return w * (spikes.detach() == 0) + *s.reset_value;
  if (s.reset == ResetKind::None) return w;
  return s.reset_value ? w - spikes * *s.reset_value : w - spikes * th;
}

at::Tensor clamp(const at::Tensor& r, const NeuronSpec& s) {
  return s.min_v_mem ? at::relu(r - *s.min_v_mem) + *s.min_v_mem : r;
}

// One step of a family, written from its equations (not from the kernel): st holds the
// states at t-1 and receives those at t; returns the output at t.
using Step = at::Tensor (*)(const NeuronSpec& s, const at::Tensor& x, std::vector<at::Tensor>& st,
                            const std::vector<at::Tensor>& p);

at::Tensor norm(const NeuronSpec& s, const std::vector<at::Tensor>& p, const at::Tensor& i) {
  return s.norm_input ? (1 - p[0]) * i : i;
}

// states [v, i]; params [α_mem, θ, α_syn]
at::Tensor lif_step(const NeuronSpec& s, const at::Tensor& x, std::vector<at::Tensor>& st,
                    const std::vector<at::Tensor>& p) {
  const auto i = s.synapse ? p[2] * (st[1] + x) : x;
  const auto w = p[0] * st[0] + norm(s, p, i);
  const auto spikes = spike(w, p[1], s);
  st[0] = clamp(reset(w, spikes, p[1], s), s);
  if (s.synapse) st[1] = i;
  return spikes;
}

// states [v, b, i]; params [α_mem, α_adapt, b0, adapt_scale, α_syn]
at::Tensor alif_step(const NeuronSpec& s, const at::Tensor& x, std::vector<at::Tensor>& st,
                     const std::vector<at::Tensor>& p) {
  const auto i = s.synapse ? p[4] * (st[2] + x) : x;
  const auto w = p[0] * st[0] + norm(s, p, i);
  const auto th = p[2] + p[3] * st[1];
  const auto spikes = spike(w, th, s);
  st[0] = clamp(reset(w, spikes, th, s), s);
  st[1] = p[1] * st[1] + (1 - p[1]) * spikes;
  if (s.synapse) st[2] = i;
  return spikes;
}

// states [v]; params [α_mem]; output: the membrane before the clamp.
at::Tensor exp_leak_step(const NeuronSpec& s, const at::Tensor& x, std::vector<at::Tensor>& st,
                         const std::vector<at::Tensor>& p) {
  const auto w = p[0] * st[0] + norm(s, p, x);
  st[0] = clamp(w, s);
  return w;
}

// snnTorch's state_quant: the registered quantiser's value, the identity's gradient.
at::Tensor quantised(const NeuronSpec& s, const at::Tensor& v) {
  const auto q = registered_surrogate(s.state_quant)(v.detach()).to(v.scalar_type());
  return q + (v - v.detach());
}

// snnTorch's Leaky / Synaptic: states [mem, syn]; params [β, θ, graded_spikes_factor, α].
// The spike H(m - θ) carries the surrogate's gradient to m and to θ (snnTorch's
// spike_grad(mem - threshold)); the delayed reset r carries none (snnTorch detaches it).
at::Tensor leaky_step(const NeuronSpec& s, const at::Tensor& x, std::vector<at::Tensor>& st,
                      const std::vector<at::Tensor>& p) {
  const auto& beta = p[0];
  const auto& th = p[1];
  // H(v) (SignSpike: 1/2 at 0) with dH/dv = σ.
  const auto spike = [&](const at::Tensor& w) {
    const auto v = w - th;
    auto h = (v.detach() > 0).to(x.scalar_type());
    if (s.spike == SpikeKind::HalfStep) h = (h + (v.detach() >= 0).to(x.scalar_type())) * 0.5;
    const auto sg = surrogate(w.detach(), th.detach(), s.surrogate);
    return h + (v * sg - (v * sg).detach());
  };
  const auto r = s.reset_grad ? spike(st[0]) : spike(st[0]).detach();
  at::Tensor in = x;
  if (s.synapse) {
    st[1] = p[3] * st[1] + x;
    if (s.recurrent) st[1] = st[1] + st.back();
    in = st[1];
  }
  const bool zero_before = s.reset == ResetKind::ToValue && s.zero_keeps_input;
  at::Tensor m = beta * (zero_before ? (1 - r) * st[0] : st[0]) + in;
  if (s.recurrent && !s.synapse) m = m + st.back();
  if (s.reset == ResetKind::Subtract) m = m - r * th;
  if (s.reset == ResetKind::ToValue && !zero_before) m = m - m * r;
  if (s.state_quant != 0) {  // snnTorch's state_quant: both states, before the spike
    if (s.synapse) st[1] = quantised(s, st[1]);
    m = quantised(s, m);
  }
  const auto h = spike(m);
  if (!s.reset_delay) {
    const auto d = h - r;
    if (s.reset == ResetKind::Subtract) m = m - d * th;
    if (s.reset == ResetKind::ToValue) m = m - d * m;
  }
  st[0] = m;
  return h * p[2];
}

// snnTorch's Alpha: states [mem, exc, inh]; params [α, β, θ, τ_α].
at::Tensor alpha_step(const NeuronSpec& s, const at::Tensor& x, std::vector<at::Tensor>& st,
                      const std::vector<at::Tensor>& p) {
  const auto& th = p[2];
  const auto r = (st[0] - th > 0).to(x.scalar_type()).detach();
  auto e = p[0] * st[1] + x;
  auto i = p[1] * st[2] - x;
  auto m = p[3] * (e + i);
  if (s.reset == ResetKind::Subtract) {
    e = e - th * r;
    m = m + st[2] * r;
    i = i - i * r;
  } else if (s.reset == ResetKind::ToValue) {
    e = e - e * r;
    i = i - i * r;
    m = m - m * r;
  }
  if (s.state_quant != 0) {  // snnTorch's state_quant: every state, before the spike
    e = quantised(s, e);
    i = quantised(s, i);
    m = quantised(s, m);
  }
  const auto shift = m - th;
  const auto sg = surrogate(m.detach(), th.detach(), s.surrogate);
  const auto h = (shift.detach() > 0).to(x.scalar_type()) + (shift * sg - (shift * sg).detach());
  st = {m, e, i};
  return h;
}

// NIR's neurons as Norse computes them (CubaLIF, CubaLI): the input current a_t.
// params [k_m, v_leak, r, (θ, v_reset,) k_s]; states [v, i].
at::Tensor cuba_current(const NeuronSpec& s, const at::Tensor& x, std::vector<at::Tensor>& st,
                        const std::vector<at::Tensor>& p) {
  const auto& v_leak = p[1];
  const auto& r = p[2];
  if (!s.synapse) return r * x;
  st[1] = st[1] + p.back() * ((v_leak - st[1]) + x);
  return r * st[1];
}

at::Tensor cuba_lif_step(const NeuronSpec& s, const at::Tensor& x, std::vector<at::Tensor>& st,
                         const std::vector<at::Tensor>& p) {
  const auto a = cuba_current(s, x, st, p);
  const auto& th = p[3];
  const auto w = s.leak ? st[0] + p[0] * ((a + p[1]) - st[0]) : st[0] + a;
  const auto shift = w - th;
  const auto sg = surrogate(w.detach(), th.detach(), s.surrogate);
  const auto z = (shift.detach() > 0).to(x.scalar_type()) + (shift * sg - (shift * sg).detach());
  st[0] = (1 - z) * w + z * p[4];
  return z;
}

at::Tensor cuba_li_step(const NeuronSpec& s, const at::Tensor& x, std::vector<at::Tensor>& st,
                        const std::vector<at::Tensor>& p) {
  const auto a = cuba_current(s, x, st, p);
  st[0] = s.leak ? st[0] + p[0] * ((p[1] - st[0]) + a) : st[0] + a;
  return st[0];
}

// Adding a family: its step function and its row here.
Step step_of(NeuronFamily family) {
  static const std::vector<std::pair<NeuronFamily, Step>> table = {
      {NeuronFamily::LIF, &lif_step},
      {NeuronFamily::ALIF, &alif_step},
      {NeuronFamily::ExpLeak, &exp_leak_step},
      {NeuronFamily::Leaky, &leaky_step},
      {NeuronFamily::Alpha, &alpha_step},
      {NeuronFamily::CubaLIF, &cuba_lif_step},
      {NeuronFamily::CubaLI, &cuba_li_step},
  };
  for (const auto& [f, step] : table) {
    if (f == family) return step;
  }
  TORCH_INTERNAL_ASSERT(false, "snn::neuron_reference: no step for this family");
}

}  // namespace

std::vector<at::Tensor> neuron_reference_impl(const at::Tensor& input, at::TensorList state,
                                              at::TensorList params, c10::string_view spec_text) {
  const NeuronSpec& s = neuron_spec(std::string_view(spec_text.data(), spec_text.size()));
  check_neuron_args(input, state, params, s);
  // Parameters of one value broadcast as 0-dim tensors, per-neuron ones as [N].
  std::vector<at::Tensor> p;
  for (const auto& q : params) p.push_back(q.numel() == 1 ? q.reshape({}) : q);
  std::vector<at::Tensor> st(state.begin(), state.end());
  const size_t ns = st.size();
  std::vector<std::vector<at::Tensor>> out(1 + ns);
  const Step step = step_of(s.family);
  for (int64_t t = 0; t < input.size(1); ++t) {
    out[0].push_back(step(s, input.select(1, t), st, p));
    for (size_t k = 0; k < ns; ++k) out[1 + k].push_back(st[k]);
  }
  std::vector<at::Tensor> result;
  for (const auto& steps : out) result.push_back(at::stack(steps, 1));
  return result;
}

TORCH_LIBRARY_IMPL(snn, CompositeImplicitAutograd, m) {
  m.impl("neuron_reference", &neuron_reference_impl);
}

}  // namespace snn::ops::detail
