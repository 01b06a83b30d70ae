// Internal: the fused neuron kernels' entry points, one set per CPU capability.
//
// The capability files (neuron_kernel_default.cpp, neuron_kernel_avx2.cpp) see raw pointers
// and sizes only, no at::Tensor, no dtype dispatch and no error paths: nothing but the
// kernels themselves is compiled with the capability's instruction set, so that no inline
// function shared with the rest of the library (which the linker keeps one copy of) can be
// an AVX2 copy that the baseline path would call. CTest checks this on the AVX2 object.
#pragma once
#include <cstdint>

#include "snn/ops/neuron.h"

namespace snn::ops::detail {

constexpr int kMaxStates = 3;
constexpr int kMaxParams = 6;

// Contiguous arrays: x, out, rec, g_rec, g_x [B, T, N]; s0, g_s0, g_p [B, N]; p [N], or
// one value where p_stride is 0. g_out: element (b, t, n) at b·g_out_stride_b +
// t·g_out_stride_t + n, or + 0 where g_out_broadcast (one value per row, as the gradient of a
// sum is). The forward writes out and rec. The backward reads out (the forward's output),
// rec and g_out / g_rec (null: the output was not used) and writes g_x (null: not needed),
// g_s0 (always: the carries) and g_p (per batch row, summed by the caller; null: not
// needed).
template <typename scalar_t>
struct NeuronPointers {
  int64_t B = 0, T = 0, N = 0;
  const scalar_t* x = nullptr;
  const scalar_t* s0[kMaxStates] = {};
  const scalar_t* p[kMaxParams] = {};
  int64_t p_stride[kMaxParams] = {};
  scalar_t* out = nullptr;
  scalar_t* rec[kMaxStates] = {};
  const scalar_t* g_out = nullptr;
  int64_t g_out_stride_b = 0, g_out_stride_t = 0;
  bool g_out_broadcast = false;
  const scalar_t* g_rec[kMaxStates] = {};
  scalar_t* g_x = nullptr;
  scalar_t* g_s0[kMaxStates] = {};
  scalar_t* g_p[kMaxParams] = {};
};

// Each returns false when it has no dynamics for the specification's family.
#define SNN_DECLARE_NEURON_KERNELS(suffix)                                             \
  bool neuron_forward_##suffix(const NeuronSpec& spec, const NeuronPointers<float>& q);  \
  bool neuron_forward_##suffix(const NeuronSpec& spec, const NeuronPointers<double>& q); \
  bool neuron_backward_##suffix(const NeuronSpec& spec, const NeuronPointers<float>& q); \
  bool neuron_backward_##suffix(const NeuronSpec& spec, const NeuronPointers<double>& q);
SNN_DECLARE_NEURON_KERNELS(default)
#if defined(SNN_HAVE_AVX2_KERNELS)
SNN_DECLARE_NEURON_KERNELS(avx2)
#endif
#undef SNN_DECLARE_NEURON_KERNELS

}  // namespace snn::ops::detail
