// Internal: the fused LIF kernels, compiled once per CPU capability (see
// lif_kernel_default.cpp, lif_kernel_avx2.cpp). Include only from those files: the
// at::vec::Vectorized type differs with the capability they are compiled for.
#pragma once
#include <ATen/Dispatch.h>
#include <ATen/Parallel.h>
#include <ATen/core/Tensor.h>
#include <ATen/cpu/vec/functional.h>
#include <ATen/cpu/vec/vec.h>

#include <algorithm>
#include <type_traits>

#include "ops/cpu/lif_kernel.h"

namespace snn::ops::detail {
namespace {

using at::vec::Vectorized;

// Neurons per parallel task: enough to amortise the task, small enough to stay in L1.
constexpr int64_t kChunk = 256;

template <typename scalar_t>
struct LifConstants {
  using Vec = Vectorized<scalar_t>;
  explicit LifConstants(const LifParams& p)
      : zero(scalar_t(0)),
        one(scalar_t(1)),
        threshold(static_cast<scalar_t>(p.threshold)),
        reset_value(static_cast<scalar_t>(p.reset_value)),
        min_v_mem(static_cast<scalar_t>(p.min_v_mem)),
        abs_width(static_cast<scalar_t>(p.threshold) * static_cast<scalar_t>(p.grad_width)),
        sg_factor(static_cast<scalar_t>(p.grad_scale) /
                  (static_cast<scalar_t>(p.threshold) * static_cast<scalar_t>(p.grad_width))) {}
  Vec zero, one, threshold, reset_value, min_v_mem, abs_width, sg_factor;
};

// Everything below mirrors, operation for operation, the step loop of the reference
// (and of Sinabs), so that float results are bitwise the same.
template <typename scalar_t>
inline Vectorized<scalar_t> spike(const Vectorized<scalar_t>& w, const LifParams& p,
                                  const LifConstants<scalar_t>& c) {
  using Vec = Vectorized<scalar_t>;
  if (p.spike == SpikeKind::Multi) {
    return Vec::blendv(c.zero, (w / c.threshold).trunc(), w > c.zero);
  }
  return (w - c.threshold).ge(c.zero);
}

template <typename scalar_t>
inline Vectorized<scalar_t> reset(const Vectorized<scalar_t>& w, const Vectorized<scalar_t>& s,
                                  const LifParams& p, const LifConstants<scalar_t>& c) {
  if (p.reset == ResetKind::Subtract) {
    return w - s * c.reset_value;
  }
  return w * s.eq(c.zero) + c.reset_value;
}

template <typename scalar_t>
inline Vectorized<scalar_t> surrogate(const Vectorized<scalar_t>& w,
                                      const LifConstants<scalar_t>& c) {
  return c.sg_factor * (((w - c.threshold).abs() / c.abs_width).neg()).exp();
}

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

template <typename scalar_t, bool kSyn>
void lif_forward_impl(const scalar_t* x, const scalar_t* v0, const scalar_t* i0, const scalar_t* am,
                      const scalar_t* as, scalar_t* s_out, scalar_t* v_out, scalar_t* i_out,
                      int64_t B, int64_t T, int64_t N, const LifParams& p) {
  using Vec = Vectorized<scalar_t>;
  const LifConstants<scalar_t> c(p);
  for_each_neuron_chunk(B, N, [&](int64_t b, int64_t n0, int64_t n1) {
    for (int64_t t = 0; t < T; ++t) {
      const int64_t row = (b * T + t) * N;
      const scalar_t* v_prev = t == 0 ? v0 + b * N : v_out + row - N;
      const scalar_t* i_prev = kSyn ? (t == 0 ? i0 + b * N : i_out + row - N) : nullptr;
      for (int64_t n = n0; n < n1; n += Vec::size()) {
        const int64_t k = std::min<int64_t>(Vec::size(), n1 - n);
        const Vec xv = Vec::loadu(x + row + n, k);
        const Vec a_m = Vec::loadu(am + n, k);
        Vec i = xv;
        if constexpr (kSyn) {
          i = Vec::loadu(as + n, k) * (Vec::loadu(i_prev + n, k) + xv);
          i.store(i_out + row + n, k);
        }
        const Vec u = p.norm_input ? (c.one - a_m) * i : i;
        const Vec w = a_m * Vec::loadu(v_prev + n, k) + u;
        const Vec s = spike(w, p, c);
        Vec v = reset(w, s, p, c);
        if (p.clamp) {
          v = at::vec::maximum(v - c.min_v_mem, c.zero) + c.min_v_mem;
        }
        s.store(s_out + row + n, k);
        v.store(v_out + row + n, k);
      }
    }
  });
}

// Reverse pass. The carries d(loss)/d(v_{t}) and d(loss)/d(i_{t}) live in grad_v0 /
// grad_i0, which hold the gradients of the initial state when the pass is done.
// Alpha gradients are accumulated per batch row ([B, N]) and reduced by the caller.
template <typename scalar_t, bool kSyn>
void lif_backward_impl(const scalar_t* gs, const scalar_t* gv, const scalar_t* gi,
                       const scalar_t* x, const scalar_t* v0, const scalar_t* i0,
                       const scalar_t* am, const scalar_t* as, const scalar_t* s_rec,
                       const scalar_t* v_rec, const scalar_t* i_rec, scalar_t* gx, scalar_t* gv0,
                       scalar_t* gi0, scalar_t* gam, scalar_t* gas, int64_t B, int64_t T, int64_t N,
                       const LifParams& p) {
  using Vec = Vectorized<scalar_t>;
  const LifConstants<scalar_t> c(p);
  for_each_neuron_chunk(B, N, [&](int64_t b, int64_t n0, int64_t n1) {
    scalar_t* carry_v = gv0 + b * N;
    scalar_t* carry_i = kSyn ? gi0 + b * N : nullptr;
    for (int64_t n = n0; n < n1; ++n) {
      carry_v[n] = 0;
      gam[b * N + n] = 0;
      if constexpr (kSyn) {
        carry_i[n] = 0;
        gas[b * N + n] = 0;
      }
    }
    for (int64_t t = T - 1; t >= 0; --t) {
      const int64_t row = (b * T + t) * N;
      const scalar_t* v_prev = t == 0 ? v0 + b * N : v_rec + row - N;
      const scalar_t* i_prev = kSyn ? (t == 0 ? i0 + b * N : i_rec + row - N) : nullptr;
      for (int64_t n = n0; n < n1; n += Vec::size()) {
        const int64_t k = std::min<int64_t>(Vec::size(), n1 - n);
        const Vec a_m = Vec::loadu(am + n, k);
        const Vec vp = Vec::loadu(v_prev + n, k);
        const Vec xv = Vec::loadu(x + row + n, k);
        const Vec i = kSyn ? Vec::loadu(i_rec + row + n, k) : xv;
        const Vec w = a_m * vp + (p.norm_input ? (c.one - a_m) * i : i);
        const Vec s = Vec::loadu(s_rec + row + n, k);
        const Vec g_s = Vec::loadu(gs + row + n, k);
        Vec g_r = Vec::loadu(gv + row + n, k) + Vec::loadu(carry_v + n, k);
        if (p.clamp) {
          g_r = Vec::blendv(c.zero, g_r, (reset(w, s, p, c) - c.min_v_mem) > c.zero);
        }
        Vec g_w;
        if (p.reset == ResetKind::Subtract) {
          g_w = g_r + (g_s - g_r * c.reset_value) * surrogate(w, c);
        } else {
          g_w = g_r * s.eq(c.zero) + g_s * surrogate(w, c);
        }
        (g_w * a_m).store(carry_v + n, k);
        Vec g_am = Vec::loadu(gam + b * N + n, k) + g_w * vp;
        Vec g_i = g_w;
        if (p.norm_input) {
          g_am = g_am - g_w * i;
          g_i = (c.one - a_m) * g_w;
        }
        g_am.store(gam + b * N + n, k);
        if constexpr (kSyn) {
          g_i = g_i + Vec::loadu(gi + row + n, k) + Vec::loadu(carry_i + n, k);
          const Vec a_s = Vec::loadu(as + n, k);
          (a_s * g_i).store(gx + row + n, k);
          (a_s * g_i).store(carry_i + n, k);
          (Vec::loadu(gas + b * N + n, k) + g_i * (Vec::loadu(i_prev + n, k) + xv))
              .store(gas + b * N + n, k);
        } else {
          g_i.store(gx + row + n, k);
        }
      }
    }
  });
}

}  // namespace

void SNN_LIF_KERNEL(forward)(const LifTensors& a, const LifParams& p) {
  const bool syn = a.i0.defined();
  const int64_t B = a.x.size(0), T = a.x.size(1), N = a.x.size(2);
  AT_DISPATCH_FLOATING_TYPES(a.x.scalar_type(), "snn::lif", [&] {
    auto run = [&](auto syn_tag) {
      lif_forward_impl<scalar_t, decltype(syn_tag)::value>(
          ptr<scalar_t>(a.x), ptr<scalar_t>(a.v0), ptr<scalar_t>(a.i0), ptr<scalar_t>(a.am),
          ptr<scalar_t>(a.as), mut<scalar_t>(a.spikes), mut<scalar_t>(a.v_rec),
          mut<scalar_t>(a.i_rec), B, T, N, p);
    };
    syn ? run(std::true_type{}) : run(std::false_type{});
  });
}

void SNN_LIF_KERNEL(backward)(const LifTensors& a, const LifGradTensors& g, const LifParams& p) {
  const bool syn = a.i0.defined();
  const int64_t B = a.x.size(0), T = a.x.size(1), N = a.x.size(2);
  AT_DISPATCH_FLOATING_TYPES(a.x.scalar_type(), "snn::lif_backward", [&] {
    auto run = [&](auto syn_tag) {
      lif_backward_impl<scalar_t, decltype(syn_tag)::value>(
          ptr<scalar_t>(g.grad_spikes), ptr<scalar_t>(g.grad_v_rec), ptr<scalar_t>(g.grad_i_rec),
          ptr<scalar_t>(a.x), ptr<scalar_t>(a.v0), ptr<scalar_t>(a.i0), ptr<scalar_t>(a.am),
          ptr<scalar_t>(a.as), ptr<scalar_t>(a.spikes), ptr<scalar_t>(a.v_rec),
          ptr<scalar_t>(a.i_rec), mut<scalar_t>(g.grad_x), mut<scalar_t>(g.grad_v0),
          mut<scalar_t>(g.grad_i0), mut<scalar_t>(g.grad_am_rows), mut<scalar_t>(g.grad_as_rows), B,
          T, N, p);
    };
    syn ? run(std::true_type{}) : run(std::false_type{});
  });
}

}  // namespace snn::ops::detail
