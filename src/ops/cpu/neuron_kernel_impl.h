// Internal: the fused neuron kernels, compiled once per CPU capability (see
// neuron_kernel_default.cpp, neuron_kernel_avx2.cpp). Include only from those files: the
// at::vec::Vectorized type differs with the capability they are compiled for.
//
// One engine runs every family: it walks batch rows and chunks of neurons in parallel and
// time in order inside each chunk, loading each step's states and parameters as vectors
// and handing them to the family's dynamics (its states, forward step and reverse step).
// Spike function, reset and surrogate are small policies (Policy below) chosen by the
// specification at run time; the branches on them are loop-invariant.
#pragma once
#include <ATen/Parallel.h>
#include <ATen/cpu/vec/functional.h>
#include <ATen/cpu/vec/vec.h>

#include <algorithm>
#include <cmath>
#include <tuple>
#include <type_traits>

#include "ops/cpu/neuron_kernel.h"

namespace snn::ops::detail {
namespace {

using at::vec::Vectorized;

// Neurons per parallel task: enough to amortise the task, small enough to stay in L1.
constexpr int64_t kChunk = 256;
// How many time steps ahead the backward prefetches its rows.
constexpr int64_t kAhead = 4;

// ---- policies ----------------------------------------------------------------------------
// The forward mirrors, operation for operation, the step loop of Sinabs (and of the
// reference), so that float spikes and states are bitwise the same. The surrogates use a
// fast exp (at::vec's exp_u20: within 20 ulp, about 1e-6 relative) and one reciprocal
// instead of two divisions: surrogate gradients agree with Sinabs' to about 1e-6 relative.
//
// Options: RuntimeOptions reads every option of the specification at run time (a
// loop-invariant branch per option and step); FixedOptions fixes them at compile time for
// the common models (Sinabs' defaults: MembraneSubtract by θ, SingleExponential surrogate,
// no clamp; MultiSpike or SingleSpike; norm_input as given), so that their inner loops carry
// no option branches at all.
struct RuntimeOptions {
  static constexpr bool kFixed = false;
  static constexpr SpikeKind kSpike = SpikeKind::Multi;
  static constexpr bool kNormInput = false;
};
template <SpikeKind S, bool kNorm>
struct FixedOptions {
  static constexpr bool kFixed = true;
  static constexpr SpikeKind kSpike = S;
  static constexpr bool kNormInput = kNorm;
};

template <typename scalar_t, typename Opt = RuntimeOptions>
struct Policy {
  using Vec = Vectorized<scalar_t>;
  // Whether a specification is one these options run.
  static bool runs(const NeuronSpec& s) {
    if constexpr (!Opt::kFixed) {
      return true;
    } else {
      return s.spike == Opt::kSpike && s.norm_input == Opt::kNormInput &&
             s.reset == ResetKind::Subtract && !s.reset_value.has_value() &&
             s.surrogate.kind == SurrogateKind::SingleExponential && !s.min_v_mem.has_value() &&
             !s.max_spikes.has_value();
    }
  }
  SpikeKind spike_kind() const {
    if constexpr (Opt::kFixed) return Opt::kSpike;
    return spike;
  }
  ResetKind reset_kind() const {
    if constexpr (Opt::kFixed) return ResetKind::Subtract;
    return reset;
  }
  SurrogateKind surrogate_kind() const {
    if constexpr (Opt::kFixed) return SurrogateKind::SingleExponential;
    return surrogate;
  }
  bool normalised() const {
    if constexpr (Opt::kFixed) return Opt::kNormInput;
    return norm_input;
  }
  bool clamped() const {
    if constexpr (Opt::kFixed) return false;
    return clamp;
  }
  bool limited() const {
    if constexpr (Opt::kFixed) return false;
    return has_max;
  }
  bool delayed_reset() const { return reset_delay; }
  bool subtracts_threshold() const {
    if constexpr (Opt::kFixed) return true;
    return subtract_threshold;
  }

  explicit Policy(const NeuronSpec& s)
      : spike(s.spike),
        reset(s.reset),
        surrogate(s.surrogate.kind),
        norm_input(s.norm_input),
        clamp(s.min_v_mem.has_value()),
        has_max(s.max_spikes.has_value()),
        subtract_threshold(s.reset == ResetKind::Subtract && !s.reset_value.has_value()),
        reset_delay(s.reset_delay),
        zero_keeps_input(s.zero_keeps_input),
        reset_grad(s.reset_grad),
        leak(s.leak),
        zero(scalar_t(0)),
        one(scalar_t(1)),
        max_spikes(static_cast<scalar_t>(s.max_spikes.value_or(0))),
        reset_value(static_cast<scalar_t>(s.reset_value.value_or(0.0))),
        min_v_mem(static_cast<scalar_t>(s.min_v_mem.value_or(0.0))) {
    for (size_t k = 0; k < s.surrogate.args.size() && k < 5; ++k) {
      arg[k] = Vec(static_cast<scalar_t>(s.surrogate.args[k]));
    }
    if (!s.surrogate.args.empty()) {
      inv_arg0 = Vec(scalar_t(1) / static_cast<scalar_t>(s.surrogate.args[0]));
      // snnTorch's atan: alpha / 2 and π / 2 · alpha, as Python computes them (in double).
      half_arg0 = Vec(static_cast<scalar_t>(s.surrogate.args[0] / 2));
      atan_scale = Vec(static_cast<scalar_t>(M_PI / 2 * s.surrogate.args[0]));
    }
    if (surrogate == SurrogateKind::Gaussian || surrogate == SurrogateKind::MultiGaussian) {
      // Sinabs: exp(-(x - mu)^2 / (2 sigma^2)) / (sigma * sqrt(2 pi)).
      const double sigma = s.surrogate.args[1];
      const double pi2 = std::sqrt(2.0 * M_PI);
      gauss_den = Vec(static_cast<scalar_t>(sigma * static_cast<scalar_t>(pi2)));
      gauss_two_var = Vec(static_cast<scalar_t>(2.0 * sigma * sigma));
      if (surrogate == SurrogateKind::MultiGaussian) {
        const double wide = s.surrogate.args[3] * sigma;
        gauss_wide_den = Vec(static_cast<scalar_t>(wide * static_cast<scalar_t>(pi2)));
        gauss_wide_two_var = Vec(static_cast<scalar_t>(2.0 * wide * wide));
        one_plus_h = Vec(static_cast<scalar_t>(1.0 + s.surrogate.args[2]));
      }
    }
  }

  Vec spike_fn(const Vec& w, const Vec& th) const {
    if (spike_kind() == SpikeKind::Single) return (w - th).ge(zero);
    if (spike_kind() == SpikeKind::Heaviside) return (w - th).gt(zero);
    const Vec n = Vec::blendv(zero, (w / th).trunc(), w > zero);
    return limited() ? at::vec::minimum(n, max_spikes) : n;
  }
  // The membrane after the reset, before the clamp.
  Vec reset_fn(const Vec& w, const Vec& s, const Vec& th) const {
    if (reset_kind() == ResetKind::ToValue) return w * s.eq(zero) + reset_value;
    if (reset_kind() == ResetKind::None) return w;
    return w - s * (subtracts_threshold() ? th : reset_value);
  }
  Vec clamp_fn(const Vec& r) const {
    return clamped() ? at::vec::maximum(r - min_v_mem, zero) + min_v_mem : r;
  }
  // d clamp(r)/dr applied to g: zero where the clamp holds.
  Vec clamp_grad(const Vec& r, const Vec& g) const {
    return clamped() ? Vec::blendv(zero, g, (r - min_v_mem) > zero) : g;
  }
  Vec gauss(const Vec& x, const Vec& mu, const Vec& two_var, const Vec& den) const {
    const Vec d = x - mu;
    return ((d * d).neg() / two_var).exp_u20() / den;
  }
  // σ(w, θ): the surrogate of ds/dw; inv_th = 1/θ.
  Vec surrogate_fn(const Vec& w, const Vec& th, const Vec& inv_th) const {
    switch (surrogate_kind()) {
      case SurrogateKind::SingleExponential: {
        const Vec inv_width = inv_th * inv_arg0;
        return arg[1] * inv_width * ((w - th).abs().neg() * inv_width).exp_u20();
      }
      case SurrogateKind::Heaviside:
        return Vec::blendv(zero, inv_th, w >= th - arg[0]);
      case SurrogateKind::Gaussian:
        return gauss(w - th, arg[0], gauss_two_var, gauss_den) * arg[2];
      case SurrogateKind::MultiGaussian: {
        const Vec x = w - th;
        return (one_plus_h * gauss(x, arg[0], gauss_two_var, gauss_den) -
                arg[2] * gauss(x, arg[1], gauss_wide_two_var, gauss_wide_den) -
                arg[2] * gauss(x, arg[1].neg(), gauss_wide_two_var, gauss_wide_den)) *
               arg[4];
      }
      case SurrogateKind::PeriodicExponential: {
        const Vec half(scalar_t(0.5)), two(scalar_t(2));
        const Vec norm = w / th - half;
        const Vec periodic = th * (two * (norm - norm.floor()) - one);
        const Vec y = periodic * w.ge(th) + (w - th) * w.lt(th);
        return arg[1] * (y.abs().neg() / arg[0]).exp_u20();
      }
      case SurrogateKind::ATan: {
        const Vec y = atan_scale * (w - th);
        return half_arg0 / (one + y * y);
      }
      case SurrogateKind::FastSigmoid: {
        const Vec d = arg[0] * (w - th).abs() + one;
        return one / (d * d);
      }
      case SurrogateKind::Sigmoid: {
        const Vec e = (arg[0] * (w - th).abs()).neg().exp_u20();
        const Vec d = one + e;
        return arg[0] * e / (d * d);
      }
      case SurrogateKind::SpikeRateEscape:
        return arg[1] * (arg[0] * (w - th - one).abs()).neg().exp_u20();
      case SurrogateKind::Triangular:
        return Vec::blendv(arg[0], arg[0].neg(), (w - th) >= zero);
      case SurrogateKind::StraightThroughEstimator:
        return one;
      case SurrogateKind::HeavisideMask:
        return (w - th).gt(zero);
      case SurrogateKind::SparseFastSigmoid: {
        const Vec x = w - th;
        const Vec d = arg[0] * x.abs() + one;
        return x.gt(arg[1]) / (d * d);
      }
      case SurrogateKind::LeakySpikeOperator: {
        const Vec above = (w - th).gt(zero);
        return above + (one - above) * arg[0];
      }
      case SurrogateKind::NoGradient:
      case SurrogateKind::StochasticSpikeOperator:  // the reference's (fused_surrogate)
      case SurrogateKind::Custom:
        return zero;
    }
    return zero;
  }
  // The reverse of spike + reset: from G_r = dL/dr and the spike's other gradient g_s,
  // dL/dw (through the reset and the surrogate) and dL/dθ (through the subtraction).
  void spike_reset_backward(const Vec& w, const Vec& s, const Vec& th, const Vec& inv_th,
                            const Vec& g_r, const Vec& g_s, Vec& g_w, Vec& g_th) const {
    if (reset_kind() == ResetKind::ToValue) {
      g_w = g_r * s.eq(zero) + g_s * surrogate_fn(w, th, inv_th);
      g_th = zero;
      return;
    }
    if (reset_kind() == ResetKind::None) {
      g_w = g_r + g_s * surrogate_fn(w, th, inv_th);
      g_th = zero;
      return;
    }
    const Vec c = subtracts_threshold() ? th : reset_value;
    g_w = g_r + (g_s - g_r * c) * surrogate_fn(w, th, inv_th);
    g_th = subtracts_threshold() ? (g_r * s).neg() : zero;
  }

  SpikeKind spike;
  ResetKind reset;
  SurrogateKind surrogate;
  bool norm_input, clamp, has_max, subtract_threshold, reset_delay, zero_keeps_input, reset_grad;
  bool leak;
  Vec zero, one, max_spikes, reset_value, min_v_mem;
  Vec arg[5], inv_arg0, half_arg0, atan_scale;
  Vec gauss_den, gauss_two_var, gauss_wide_den, gauss_wide_two_var, one_plus_h;
};

// ---- dynamics of the families ---------------------------------------------------------------
// forward(P, x, s, p): s holds the states at t-1 and receives those at t; returns the output.
// backward(P, x, out, prev, p, inv_th, g_out, g, gp): out = the forward's output at t (the
// spikes: the backward loads them instead of recomputing them); prev = states at t-1;
// inv_th = 1/θ where the threshold is a parameter (kThreshold, its index; -1: none, or θ
// varies in time); g holds dL/d(state_t) and receives dL/d(state_{t-1}); gp accumulates
// dL/dp; returns dL/dx_t.

// The input stage of LIF, ALIF and ExpLeak: the synapse i_t = α_s·(i_{t-1} + x_t) (with
// kSyn; else i_t = x_t) and the leaky membrane before the spike
// w_t = α_m·v_{t-1} + (1 - α_m)·i_t (norm_input; else + i_t).
template <typename scalar_t, bool kSyn>
struct LeakyInput {
  using Vec = Vectorized<scalar_t>;
  static Vec current(const Vec& x, const Vec& i_prev, const Vec& a_s) {
    if constexpr (kSyn) return a_s * (i_prev + x);
    return x;
  }
  template <typename Pol>
  static Vec membrane(const Pol& P, const Vec& v_prev, const Vec& i, const Vec& a_m) {
    return a_m * v_prev + (P.normalised() ? (P.one - a_m) * i : i);
  }
  // The reverse, from g_w = dL/dw_t: g_v receives dL/dv_{t-1}; g_i holds dL/di_t (its
  // record's gradient and the carry) and receives dL/di_{t-1}; g_am, g_as accumulate.
  // Returns dL/dx_t.
  template <typename Pol>
  static Vec backward(const Pol& P, const Vec& g_w, const Vec& x, const Vec& v_prev,
                      const Vec& i_prev, const Vec& i, const Vec& a_m, const Vec& a_s, Vec& g_v,
                      Vec& g_i, Vec& g_am, Vec& g_as) {
    g_v = g_w * a_m;
    g_am = g_am + g_w * v_prev;
    Vec g = g_w;
    if (P.normalised()) {
      g_am = g_am - g_w * i;
      g = (P.one - a_m) * g_w;
    }
    if constexpr (kSyn) {
      g = g + g_i;
      g_as = g_as + g * (i_prev + x);
      g = a_s * g;
      g_i = g;
    }
    return g;
  }
};

// states [v, i]; params [α_mem, θ, α_syn]
template <typename scalar_t, bool kSyn>
struct LIFDynamics {
  using Vec = Vectorized<scalar_t>;
  using In = LeakyInput<scalar_t, kSyn>;
  static constexpr NeuronFamily kFamily = NeuronFamily::LIF;
  static constexpr bool kSynapse = kSyn, kSpikes = true;
  static constexpr int kStates = kSyn ? 2 : 1;
  static constexpr int kParams = kSyn ? 3 : 2;
  static constexpr int kI = kSyn ? 1 : 0, kAs = kSyn ? 2 : 0;  // i_syn and α_syn, if any
  static constexpr int kThreshold = 1;

  template <typename Pol>
  static Vec forward(const Pol& P, const Vec& x, Vec* s, const Vec* p) {
    const Vec i = In::current(x, s[kI], p[kAs]);
    const Vec w = In::membrane(P, s[0], i, p[0]);
    const Vec spikes = P.spike_fn(w, p[1]);
    s[0] = P.clamp_fn(P.reset_fn(w, spikes, p[1]));
    if constexpr (kSyn) s[1] = i;
    return spikes;
  }
  template <typename Pol>
  static Vec backward(const Pol& P, const Vec& x, const Vec& spikes, const Vec* prev,
                      const Vec* p, const Vec& inv_th, const Vec& g_out, Vec* g, Vec* gp) {
    const Vec i = In::current(x, prev[kI], p[kAs]);
    const Vec w = In::membrane(P, prev[0], i, p[0]);
    const Vec g_r = P.clamp_grad(P.reset_fn(w, spikes, p[1]), g[0]);
    Vec g_w, g_th;
    P.spike_reset_backward(w, spikes, p[1], inv_th, g_r, g_out, g_w, g_th);
    gp[1] = gp[1] + g_th;
    return In::backward(P, g_w, x, prev[0], prev[kI], i, p[0], p[kAs], g[0], g[kI], gp[0],
                        gp[kAs]);
  }
};

// states [v, b, i]; params [α_mem, α_adapt, b0, adapt_scale, α_syn]
template <typename scalar_t, bool kSyn>
struct ALIFDynamics {
  using Vec = Vectorized<scalar_t>;
  using In = LeakyInput<scalar_t, kSyn>;
  static constexpr NeuronFamily kFamily = NeuronFamily::ALIF;
  static constexpr bool kSynapse = kSyn, kSpikes = true;
  static constexpr int kStates = kSyn ? 3 : 2;
  static constexpr int kParams = kSyn ? 5 : 4;
  static constexpr int kI = kSyn ? 2 : 0, kAs = kSyn ? 4 : 0;  // i_syn and α_syn, if any
  static constexpr int kThreshold = -1;  // θ_t = b0 + adapt_scale·b_{t-1}

  template <typename Pol>
  static Vec forward(const Pol& P, const Vec& x, Vec* s, const Vec* p) {
    const Vec i = In::current(x, s[kI], p[kAs]);
    const Vec w = In::membrane(P, s[0], i, p[0]);
    const Vec th = p[2] + p[3] * s[1];
    const Vec spikes = P.spike_fn(w, th);
    s[0] = P.clamp_fn(P.reset_fn(w, spikes, th));
    s[1] = p[1] * s[1] + (P.one - p[1]) * spikes;
    if constexpr (kSyn) s[2] = i;
    return spikes;
  }
  template <typename Pol>
  static Vec backward(const Pol& P, const Vec& x, const Vec& spikes, const Vec* prev,
                      const Vec* p, const Vec& /*inv_th*/, const Vec& g_out, Vec* g, Vec* gp) {
    const Vec i = In::current(x, prev[kI], p[kAs]);
    const Vec w = In::membrane(P, prev[0], i, p[0]);
    const Vec th = p[2] + p[3] * prev[1];
    const Vec g_r = P.clamp_grad(P.reset_fn(w, spikes, th), g[0]);
    // b_t = α_a·b_{t-1} + (1 - α_a)·s_t: the spike also receives gradient through b_t.
    const Vec g_b = g[1];
    Vec g_w, g_th;
    P.spike_reset_backward(w, spikes, th, P.one / th, g_r, g_out + (P.one - p[1]) * g_b, g_w,
                           g_th);
    g[1] = p[1] * g_b + p[3] * g_th;
    gp[1] = gp[1] + g_b * (prev[1] - spikes);
    gp[2] = gp[2] + g_th;
    gp[3] = gp[3] + g_th * prev[1];
    return In::backward(P, g_w, x, prev[0], prev[kI], i, p[0], p[kAs], g[0], g[kI], gp[0],
                        gp[kAs]);
  }
};

// states [v]; params [α_mem]; output: the membrane before the clamp.
template <typename scalar_t, bool kSyn>
struct ExpLeakDynamics {
  static_assert(!kSyn, "ExpLeak has no synapse");
  using Vec = Vectorized<scalar_t>;
  using In = LeakyInput<scalar_t, false>;
  static constexpr NeuronFamily kFamily = NeuronFamily::ExpLeak;
  static constexpr bool kSynapse = false, kSpikes = false;
  static constexpr int kStates = 1;
  static constexpr int kParams = 1;
  static constexpr int kThreshold = -1;

  template <typename Pol>
  static Vec forward(const Pol& P, const Vec& x, Vec* s, const Vec* p) {
    const Vec w = In::membrane(P, s[0], x, p[0]);
    s[0] = P.clamp_fn(w);
    return w;
  }
  template <typename Pol>
  static Vec backward(const Pol& P, const Vec& x, const Vec& /*out*/,
                      const Vec* prev, const Vec* p, const Vec& /*inv_th*/, const Vec& g_out,
                      Vec* g, Vec* gp) {
    const Vec w = In::membrane(P, prev[0], x, p[0]);
    const Vec g_w = g_out + P.clamp_grad(w, g[0]);
    Vec unused_i, unused_as;
    return In::backward(P, g_w, x, prev[0], P.zero, x, p[0], P.zero, g[0], unused_i, gp[0],
                        unused_as);
  }
};

// snnTorch's Leaky (kSyn = false) and Synaptic (kSyn = true), see snn/ops/neuron.h.
// states [mem, syn]; params [β, θ, graded_spikes_factor, α]. The operations and their
// order are snnTorch's, so that float spikes and states are bitwise the same.
// kRec: a recurrent input, the last state, carried unchanged and added last.
template <typename scalar_t, bool kSyn, bool kRec = false>
struct LeakyDynamics {
  using Vec = Vectorized<scalar_t>;
  static constexpr NeuronFamily kFamily = NeuronFamily::Leaky;
  static constexpr bool kSynapse = kSyn, kSpikes = true, kRecurrent = kRec;
  static constexpr int kStates = 1 + (kSyn ? 1 : 0) + (kRec ? 1 : 0);
  static constexpr int kR = kStates - 1;  // the recurrent input, with kRec
  static constexpr int kParams = kSyn ? 4 : 3;
  static constexpr int kThreshold = 1;

  // The membrane before the spike, m, from the previous states; r = the delayed reset,
  // m0 = Leaky's membrane after a zero reset (what β multiplies), syn = the new synapse.
  // H(v): the strict Heaviside, or with SignSpike 1/2 at v = 0.
  template <typename Pol>
  static Vec step(const Pol& P, const Vec& v) {
    const Vec h = v.gt(P.zero);
    if (P.spike_kind() != SpikeKind::HalfStep) return h;
    return (h + v.ge(P.zero)) * Vec(scalar_t(0.5));
  }
  template <typename Pol>
  static Vec integrate(const Pol& P, const Vec& x, const Vec* prev, const Vec* p, Vec& r,
                       Vec& m0, Vec& syn) {
    r = step(P, prev[0] - p[1]);
    const ResetKind reset = P.reset_kind();
    if constexpr (kSyn) {
      syn = p[3] * prev[1] + x;
      if constexpr (kRec) syn = syn + prev[kR];
    } else {
      syn = x;
    }
    const bool zero_before = reset == ResetKind::ToValue && P.zero_keeps_input;
    m0 = zero_before ? (P.one - r) * prev[0] : prev[0];
    Vec m = p[0] * m0 + syn;
    if constexpr (kRec && !kSyn) m = m + prev[kR];
    if (reset == ResetKind::Subtract) return m - r * p[1];
    if (reset == ResetKind::ToValue && !zero_before) return m - m * r;
    return m;
  }
  template <typename Pol>
  static Vec forward(const Pol& P, const Vec& x, Vec* s, const Vec* p) {
    Vec r, m0, syn;
    Vec m = integrate(P, x, s, p, r, m0, syn);
    const Vec h = step(P, m - p[1]);
    if (!P.delayed_reset()) {
      const Vec d = h - r;
      if (P.reset_kind() == ResetKind::Subtract) m = m - d * p[1];
      if (P.reset_kind() == ResetKind::ToValue) m = m - d * m;
    }
    s[0] = m;
    if constexpr (kSyn) s[1] = syn;
    return h * p[2];  // (s[kR] keeps the recurrent input)
  }
  template <typename Pol>
  static Vec backward(const Pol& P, const Vec& x, const Vec& /*out*/, const Vec* prev,
                      const Vec* p, const Vec& inv_th, const Vec& g_out, Vec* g, Vec* gp) {
    Vec r, m0, syn;
    const Vec m = integrate(P, x, prev, p, r, m0, syn);
    const Vec h = step(P, m - p[1]);
    const Vec sg = P.surrogate_fn(m, p[1], inv_th);
    const ResetKind reset = P.reset_kind();
    // Through the spike: spk = h·g, dh/dm = σ, dh/dθ = -σ.
    Vec g_h = g_out * p[2];
    gp[2] = gp[2] + g_out * h;
    Vec g_m = g[0], g_th = P.zero;
    if (!P.delayed_reset()) {
      const Vec d = h - r;
      if (reset == ResetKind::Subtract) {
        g_th = (g[0] * d).neg();
        g_h = g_h - g[0] * p[1];
      } else if (reset == ResetKind::ToValue) {
        g_m = g[0] * (P.one - d);
        g_h = g_h - g[0] * m;
      }
    }
    const Vec g_hs = g_h * sg;
    g_m = g_m + g_hs;
    g_th = g_th - g_hs;
    // Through the integration.
    if (reset == ResetKind::Subtract) g_th = g_th - g_m * r;
    gp[1] = gp[1] + g_th;
    const bool zero_before = reset == ResetKind::ToValue && P.zero_keeps_input;
    const Vec g_base = reset == ResetKind::ToValue && !zero_before ? g_m * (P.one - r) : g_m;
    gp[0] = gp[0] + g_base * m0;
    const Vec g_m0 = g_base * p[0];
    g[0] = zero_before ? g_m0 * (P.one - r) : g_m0;
    if (P.reset_grad) {
      // r = H(mem_{t-1} - θ) with its surrogate: subtract m - r·θ, zero (1 - r)·mem_{t-1}.
      const Vec g_r = reset == ResetKind::Subtract ? (g_m * p[1]).neg() : (g_m0 * prev[0]).neg();
      const Vec g_rs = g_r * P.surrogate_fn(prev[0], p[1], inv_th);
      g[0] = g[0] + g_rs;
      gp[1] = gp[1] - g_rs;
    }
    if constexpr (kSyn) {
      const Vec g_syn = g_base + g[1];
      if constexpr (kRec) g[kR] = g[kR] + g_syn;
      gp[3] = gp[3] + g_syn * prev[1];
      g[1] = g_syn * p[3];
      return g_syn;
    } else {
      if constexpr (kRec) g[kR] = g[kR] + g_base;
      return g_base;
    }
  }
};

// snnTorch's Alpha, see snn/ops/neuron.h. states [mem, exc, inh]; params [α, β, θ, τ_α].
template <typename scalar_t, bool kSyn>
struct AlphaDynamics {
  static_assert(!kSyn, "Alpha has no optional synapse");
  using Vec = Vectorized<scalar_t>;
  static constexpr NeuronFamily kFamily = NeuronFamily::Alpha;
  static constexpr bool kSynapse = false, kSpikes = true;
  static constexpr int kStates = 3;
  static constexpr int kParams = 4;
  static constexpr int kThreshold = 2;

  template <typename Pol>
  static Vec forward(const Pol& P, const Vec& x, Vec* s, const Vec* p) {
    const Vec r = (s[0] - p[2]).gt(P.zero);
    Vec e = p[0] * s[1] + x;
    Vec i = p[1] * s[2] - x;
    Vec m = p[3] * (e + i);
    if (P.reset_kind() == ResetKind::Subtract) {
      e = e - p[2] * r;
      m = m - s[2].neg() * r;
      i = i - i * r;
    } else if (P.reset_kind() == ResetKind::ToValue) {
      e = e - e * r;
      i = i - i * r;
      m = m - m * r;
    }
    s[0] = m;
    s[1] = e;
    s[2] = i;
    return (m - p[2]).gt(P.zero);
  }
  template <typename Pol>
  static Vec backward(const Pol& P, const Vec& x, const Vec& /*out*/, const Vec* prev,
                      const Vec* p, const Vec& inv_th, const Vec& g_out, Vec* g, Vec* gp) {
    const Vec r = (prev[0] - p[2]).gt(P.zero);
    const Vec e0 = p[0] * prev[1] + x;
    const Vec i0 = p[1] * prev[2] - x;
    Vec m = p[3] * (e0 + i0);
    const ResetKind reset = P.reset_kind();
    if (reset == ResetKind::Subtract) m = m - prev[2].neg() * r;
    if (reset == ResetKind::ToValue) m = m - m * r;
    const Vec sg = P.surrogate_fn(m, p[2], inv_th);
    const Vec g_m = g[0] + g_out * sg;
    Vec g_th = (g_out * sg).neg();
    Vec g_m0 = g_m, g_e0 = g[1], g_i0 = g[2], g_inh = P.zero;
    if (reset == ResetKind::Subtract) {
      g_th = g_th - g[1] * r;
      g_i0 = g[2] * (P.one - r);
      g_inh = g_m * r;
    } else if (reset == ResetKind::ToValue) {
      const Vec keep = P.one - r;
      g_m0 = g_m * keep;
      g_e0 = g[1] * keep;
      g_i0 = g[2] * keep;
    }
    gp[2] = gp[2] + g_th;
    gp[3] = gp[3] + g_m0 * (e0 + i0);
    g_e0 = g_e0 + g_m0 * p[3];
    g_i0 = g_i0 + g_m0 * p[3];
    gp[0] = gp[0] + g_e0 * prev[1];
    gp[1] = gp[1] + g_i0 * prev[2];
    g[0] = P.zero;  // mem_{t-1} reaches mem_t only through the detached reset
    g[1] = g_e0 * p[0];
    g[2] = g_i0 * p[1] + g_inh;
    return g_e0 - g_i0;
  }
};

// NIR's neurons as Norse computes them, see snn/ops/neuron.h: CubaLIF (kSpikes) and CubaLI.
// states [v, i]; params [k_m, v_leak, r, θ, v_reset, k_s] (CubaLIF) or [k_m, v_leak, r, k_s].
template <typename scalar_t, bool kSyn, bool kSpk>
struct CubaDynamics {
  using Vec = Vectorized<scalar_t>;
  static constexpr NeuronFamily kFamily = kSpk ? NeuronFamily::CubaLIF : NeuronFamily::CubaLI;
  static constexpr bool kSynapse = kSyn, kSpikes = kSpk;
  static constexpr int kStates = kSyn ? 2 : 1;
  static constexpr int kParams = (kSpk ? 5 : 3) + (kSyn ? 1 : 0);
  static constexpr int kKs = kParams - 1;  // k_s, with a synapse
  static constexpr int kThreshold = kSpk ? 3 : -1;

  // The input current a_t (and, with a synapse, the new i_t into i).
  static Vec current(const Vec& x, const Vec& i_prev, const Vec* p, Vec& i) {
    if constexpr (kSyn) {
      i = i_prev + p[kKs] * ((p[1] - i_prev) + x);
      return p[2] * i;
    } else {
      i = x;
      return p[2] * x;
    }
  }
  // The membrane before the spike: LIF's order (a + v_leak) - v, LI's (v_leak - v) + a.
  template <typename Pol>
  static Vec membrane(const Pol& P, const Vec& v, const Vec& a, const Vec* p) {
    if (!P.leak) return v + a;
    if constexpr (kSpk) return v + p[0] * ((a + p[1]) - v);
    return v + p[0] * ((p[1] - v) + a);
  }
  template <typename Pol>
  static Vec forward(const Pol& P, const Vec& x, Vec* s, const Vec* p) {
    Vec i;
    const Vec a = current(x, s[kSyn ? 1 : 0], p, i);
    const Vec w = membrane(P, s[0], a, p);
    if constexpr (kSyn) s[1] = i;
    if constexpr (kSpk) {
      const Vec z = (w - p[3]).gt(P.zero);
      s[0] = (P.one - z) * w + z * p[4];
      return z;
    } else {
      s[0] = w;
      return w;
    }
  }
  template <typename Pol>
  static Vec backward(const Pol& P, const Vec& x, const Vec& out, const Vec* prev, const Vec* p,
                      const Vec& inv_th, const Vec& g_out, Vec* g, Vec* gp) {
    Vec i;
    const Vec a = current(x, prev[kSyn ? 1 : 0], p, i);
    const Vec w = membrane(P, prev[0], a, p);
    Vec g_w;
    if constexpr (kSpk) {
      // v_t = (1 - z)·w + z·v_reset, z = H(w - θ) with dz/dw = σ, dz/dθ = -σ.
      const Vec z = out;
      const Vec g_z = (g_out + g[0] * (p[4] - w)) * P.surrogate_fn(w, p[3], inv_th);
      g_w = g[0] * (P.one - z) + g_z;
      gp[3] = gp[3] - g_z;
      gp[4] = gp[4] + g[0] * z;
    } else {
      g_w = g[0] + g_out;
    }
    Vec g_a;
    if (P.leak) {
      gp[0] = gp[0] + g_w * (kSpk ? (a + p[1]) - prev[0] : (p[1] - prev[0]) + a);
      gp[1] = gp[1] + g_w * p[0];
      g[0] = g_w * (P.one - p[0]);
      g_a = g_w * p[0];
    } else {
      g[0] = g_w;
      g_a = g_w;
    }
    gp[2] = gp[2] + g_a * i;
    const Vec g_i = g_a * p[2];
    if constexpr (kSyn) {
      const Vec g_it = g_i + g[1];
      gp[kKs] = gp[kKs] + g_it * ((p[1] - prev[1]) + x);
      gp[1] = gp[1] + g_it * p[kKs];
      g[1] = g_it * (P.one - p[kKs]);
      return g_it * p[kKs];
    } else {
      return g_i;
    }
  }
};

// ---- the engine ------------------------------------------------------------------------------
// Runs f(b, n0, n1) for every batch row b and chunk [n0, n1) of neurons, in parallel.
// Chunks are independent neurons; time stays inside each call of f.
template <typename F>
void for_each_neuron_chunk(int64_t B, int64_t N, const F& f) {
  const int64_t chunks = (N + kChunk - 1) / kChunk;
  at::parallel_for(0, B * chunks, 1, [&](int64_t begin, int64_t end) {
    for (int64_t task = begin; task < end; ++task) {
      const int64_t n0 = (task % chunks) * kChunk;
      f(task / chunks, n0, std::min(N, n0 + kChunk));
    }
  });
}

// Calls step(n, k, c) for the vectors of [n0, n1): full vectors (k = Vec::size(), known at
// compile time: plain loads and stores) and then one partial tail. c = n - n0.
template <typename scalar_t, typename F>
inline void for_each_vector(int64_t n0, int64_t n1, const F& step) {
  constexpr int64_t W = Vectorized<scalar_t>::size();
  int64_t n = n0;
  for (; n + W <= n1; n += W) step(n, std::integral_constant<int64_t, W>{}, n - n0);
  if (n < n1) step(n, n1 - n, n - n0);
}

template <typename scalar_t, typename K>
inline Vectorized<scalar_t> load(const scalar_t* p, K k) {
  if constexpr (std::is_integral_v<K>) {
    return Vectorized<scalar_t>::loadu(p, k);
  } else {
    return Vectorized<scalar_t>::loadu(p);
  }
}
template <typename scalar_t, typename K>
inline void store(const Vectorized<scalar_t>& v, scalar_t* p, K k) {
  if constexpr (std::is_integral_v<K>) {
    v.store(p, k);
  } else {
    v.store(p);
  }
}

// Per chunk: the parameters, one value per neuron (a shared value repeated), in L1.
// With inverse = true, also 1/θ where the threshold is a parameter (Dyn::kThreshold).
template <typename Dyn, typename scalar_t>
struct ChunkParams {
  scalar_t v[Dyn::kParams][kChunk];
  scalar_t inv_th[Dyn::kThreshold >= 0 ? kChunk : 1];
  ChunkParams(const NeuronPointers<scalar_t>& q, int64_t n0, int64_t len, bool inverse = false) {
    for (int j = 0; j < Dyn::kParams; ++j) {
      if (q.p_stride[j] == 0) {
        std::fill_n(v[j], len, q.p[j][0]);
      } else {
        std::copy_n(q.p[j] + n0, len, v[j]);
      }
    }
    if constexpr (Dyn::kThreshold >= 0) {
      if (inverse) {
        for (int64_t c = 0; c < len; ++c) inv_th[c] = scalar_t(1) / v[Dyn::kThreshold][c];
      }
    }
  }
};

// The engine copies the policy into each task: a local object that no store through the
// data pointers can alias, so that its vectors stay in registers across the loop.
template <typename Dyn, typename Pol, typename scalar_t>
void run_forward(const Pol& policy, const NeuronPointers<scalar_t>& q) {
  using Vec = Vectorized<scalar_t>;
  const int64_t T = q.T, N = q.N;
  for_each_neuron_chunk(q.B, N, [&](int64_t b, int64_t n0, int64_t n1) {
    const Pol P = policy;
    const ChunkParams<Dyn, scalar_t> params(q, n0, n1 - n0);
    // The states carried from step to step, in L1.
    scalar_t state[Dyn::kStates][kChunk];
    for (int j = 0; j < Dyn::kStates; ++j) std::copy_n(q.s0[j] + b * N + n0, n1 - n0, state[j]);
    for (int64_t t = 0; t < T; ++t) {
      const int64_t row = (b * T + t) * N;
      for_each_vector<scalar_t>(n0, n1, [&](int64_t n, auto k, int64_t c) {
        Vec s[Dyn::kStates], p[Dyn::kParams];
        for (int j = 0; j < Dyn::kStates; ++j) s[j] = load(state[j] + c, k);
        for (int j = 0; j < Dyn::kParams; ++j) p[j] = load(params.v[j] + c, k);
        store(Dyn::forward(P, load(q.x + row + n, k), s, p), q.out + row + n, k);
        for (int j = 0; j < Dyn::kStates; ++j) {
          store(s[j], state[j] + c, k);
          store(s[j], q.rec[j] + row + n, k);
        }
      });
    }
  });
}

// Reverse pass. Per chunk, the carries dL/d(state_t) and the parameter gradients live in
// small local buffers; the carries end as the gradients of the initial state. What varies
// by row (where the previous states are, how the output's gradient is read) is settled
// before the row's vector loop.
// kParamGrads: whether any parameter's gradient is wanted; without, the accumulations
// (and what feeds only them) are left out of the loop.
template <typename Dyn, bool kParamGrads, typename Pol, typename scalar_t>
void run_backward(const Pol& policy, const NeuronPointers<scalar_t>& q) {
  using Vec = Vectorized<scalar_t>;
  const int64_t T = q.T, N = q.N;
  for_each_neuron_chunk(q.B, N, [&](int64_t b, int64_t n0, int64_t n1) {
    const Pol P = policy;
    const ChunkParams<Dyn, scalar_t> params(q, n0, n1 - n0, /*inverse=*/true);
    scalar_t carry[Dyn::kStates][kChunk];
    scalar_t acc[Dyn::kParams][kChunk];
    const int64_t len = n1 - n0;
    for (int j = 0; j < Dyn::kStates; ++j) std::fill_n(carry[j], len, scalar_t(0));
    for (int j = 0; j < Dyn::kParams; ++j) std::fill_n(acc[j], len, scalar_t(0));
    bool any_g_rec = false;
    for (int j = 0; j < Dyn::kStates; ++j) any_g_rec = any_g_rec || q.g_rec[j] != nullptr;
    for (int64_t t = T - 1; t >= 0; --t) {
      const int64_t row = (b * T + t) * N;
      const scalar_t* prev_row[Dyn::kStates];
      for (int j = 0; j < Dyn::kStates; ++j) {
        prev_row[j] = t == 0 ? q.s0[j] + b * N : q.rec[j] + row - N;
      }
      // The output's gradient: a row of a tensor (g_rows), or one value broadcast over the
      // neurons, or none (zero).
      const scalar_t* g_out_row =
          q.g_out != nullptr ? q.g_out + b * q.g_out_stride_b + t * q.g_out_stride_t : nullptr;
      const bool g_rows = g_out_row != nullptr && !q.g_out_broadcast;
      const Vec g_out_value = g_out_row != nullptr && q.g_out_broadcast ? Vec(*g_out_row) : P.zero;
      // Time runs backwards here, which the hardware prefetchers follow poorly: fetch the
      // rows kAhead steps earlier while this one is computed.
      const int64_t ahead = t > kAhead ? row - kAhead * N : -1;  // (rec: one row earlier)
      for_each_vector<scalar_t>(n0, n1, [&](int64_t n, auto k, int64_t c) {
        if (ahead >= 0) {
          __builtin_prefetch(q.x + ahead + n);
          __builtin_prefetch(q.out + ahead + n);
          for (int j = 0; j < Dyn::kStates; ++j) __builtin_prefetch(q.rec[j] + ahead - N + n);
        }
        Vec prev[Dyn::kStates], p[Dyn::kParams], g[Dyn::kStates], gp[Dyn::kParams];
        for (int j = 0; j < Dyn::kStates; ++j) {
          prev[j] = load(prev_row[j] + n, k);
          g[j] = load(carry[j] + c, k);
          if (any_g_rec && q.g_rec[j] != nullptr) g[j] = g[j] + load(q.g_rec[j] + row + n, k);
        }
        for (int j = 0; j < Dyn::kParams; ++j) {
          p[j] = load(params.v[j] + c, k);
          gp[j] = kParamGrads ? load(acc[j] + c, k) : P.zero;
        }
        const Vec g_out = g_rows ? load(g_out_row + n, k) : g_out_value;
        Vec inv_th = P.zero;
        if constexpr (Dyn::kThreshold >= 0) inv_th = load(params.inv_th + c, k);
        const Vec g_x = Dyn::backward(P, load(q.x + row + n, k), load(q.out + row + n, k), prev,
                                      p, inv_th, g_out, g, gp);
        if (q.g_x != nullptr) store(g_x, q.g_x + row + n, k);
        for (int j = 0; j < Dyn::kStates; ++j) store(g[j], carry[j] + c, k);
        if constexpr (kParamGrads) {
          for (int j = 0; j < Dyn::kParams; ++j) store(gp[j], acc[j] + c, k);
        }
      });
    }
    for (int j = 0; j < Dyn::kStates; ++j) std::copy_n(carry[j], len, q.g_s0[j] + b * N + n0);
    for (int j = 0; j < Dyn::kParams; ++j) {
      if (q.g_p[j] != nullptr) std::copy_n(acc[j], len, q.g_p[j] + b * N + n0);
    }
  });
}

// Every dynamics the kernels are built for: one entry per family and synapse form. Adding
// a family: its dynamics struct (kFamily, kSynapse, kSpikes, kStates, kParams, kThreshold,
// forward, backward) and its entries here; with_kernel finds it by the specification.
template <typename scalar_t>
using AllDynamics =
    std::tuple<LIFDynamics<scalar_t, false>, LIFDynamics<scalar_t, true>,
               ALIFDynamics<scalar_t, false>, ALIFDynamics<scalar_t, true>,
               ExpLeakDynamics<scalar_t, false>, LeakyDynamics<scalar_t, false>,
               LeakyDynamics<scalar_t, true>, LeakyDynamics<scalar_t, false, true>,
               LeakyDynamics<scalar_t, true, true>, AlphaDynamics<scalar_t, false>,
               CubaDynamics<scalar_t, false, true>, CubaDynamics<scalar_t, true, true>,
               CubaDynamics<scalar_t, false, false>, CubaDynamics<scalar_t, true, false>>;

// Whether a dynamics has the recurrent input (kRecurrent; false where it does not say).
template <typename Dyn>
constexpr bool recurrent_of() {
  if constexpr (requires { Dyn::kRecurrent; }) {
    return Dyn::kRecurrent;
  } else {
    return false;
  }
}

template <typename Dyn>
constexpr bool fits_pointers() {
  return Dyn::kStates <= kMaxStates && Dyn::kParams <= kMaxParams;
}

// Calls f(dynamics, policy) with the dynamics type of the specification and its policy:
// for float spiking families, compile-time options where the specification is a common one
// (FixedOptions), else options read at run time. Returns false when no dynamics matches the
// specification (the caller names the error: this file has no error paths).
template <typename scalar_t, typename F>
bool with_kernel(const NeuronSpec& spec, const F& f) {
  const auto with_policy = [&](auto dyn) {
    using Dyn = decltype(dyn);
    static_assert(fits_pointers<Dyn>(), "raise kMaxStates / kMaxParams (neuron_kernel.h)");
    if constexpr (std::is_same_v<scalar_t, float> && Dyn::kSpikes) {
      using MultiNorm = Policy<scalar_t, FixedOptions<SpikeKind::Multi, true>>;
      using Multi = Policy<scalar_t, FixedOptions<SpikeKind::Multi, false>>;
      using SingleNorm = Policy<scalar_t, FixedOptions<SpikeKind::Single, true>>;
      using Single = Policy<scalar_t, FixedOptions<SpikeKind::Single, false>>;
      if (MultiNorm::runs(spec)) return f(dyn, MultiNorm(spec));
      if (Multi::runs(spec)) return f(dyn, Multi(spec));
      if (SingleNorm::runs(spec)) return f(dyn, SingleNorm(spec));
      if (Single::runs(spec)) return f(dyn, Single(spec));
    }
    return f(dyn, Policy<scalar_t>(spec));
  };
  return std::apply(
      [&](auto... dyn) {
        return (... || (decltype(dyn)::kFamily == spec.family &&
                                decltype(dyn)::kSynapse == spec.synapse &&
                                recurrent_of<decltype(dyn)>() == spec.recurrent
                            ? (with_policy(dyn), true)
                            : false));
      },
      AllDynamics<scalar_t>{});
}

template <typename scalar_t>
bool forward(const NeuronSpec& spec, const NeuronPointers<scalar_t>& q) {
  return with_kernel<scalar_t>(spec,
                               [&](auto dyn, const auto& P) { run_forward<decltype(dyn)>(P, q); });
}

template <typename scalar_t>
bool backward(const NeuronSpec& spec, const NeuronPointers<scalar_t>& q) {
  bool param_grads = false;
  for (const auto* g : q.g_p) param_grads = param_grads || g != nullptr;
  return with_kernel<scalar_t>(spec, [&](auto dyn, const auto& P) {
    param_grads ? run_backward<decltype(dyn), true>(P, q) : run_backward<decltype(dyn), false>(P, q);
  });
}

}  // namespace

bool SNN_NEURON_KERNEL(forward)(const NeuronSpec& spec, const NeuronPointers<float>& q) {
  return forward(spec, q);
}
bool SNN_NEURON_KERNEL(forward)(const NeuronSpec& spec, const NeuronPointers<double>& q) {
  return forward(spec, q);
}
bool SNN_NEURON_KERNEL(backward)(const NeuronSpec& spec, const NeuronPointers<float>& q) {
  return backward(spec, q);
}
bool SNN_NEURON_KERNEL(backward)(const NeuronSpec& spec, const NeuronPointers<double>& q) {
  return backward(spec, q);
}

}  // namespace snn::ops::detail
