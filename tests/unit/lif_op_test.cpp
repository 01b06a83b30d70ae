// The fused snn::lif op against its plain-ATen reference, and its argument checks.
#include <ATen/ATen.h>
#include <gtest/gtest.h>
#include <torch/csrc/autograd/autograd.h>

#include "snn/ops/lif.h"

namespace {

struct OpCase {
  bool syn;
  bool norm;
  std::string spike_fn;
  std::string reset_fn;
  std::optional<double> reset_value;
  std::optional<double> min_v_mem;
};

struct Grads {
  std::vector<at::Tensor> outputs, grads;
};

Grads run(bool fused, const OpCase& c, at::ScalarType dtype, bool strided) {
  at::manual_seed(7);
  const int64_t B = 3, T = 9, N = 37;  // N not a multiple of the vector width: tails
  auto opts = at::TensorOptions().dtype(dtype);
  auto x = strided ? (at::rand({B, N, T}, opts) * 3 - 1).transpose(1, 2)
                   : at::rand({B, T, N}, opts) * 3 - 1;
  x = x.detach().requires_grad_(true);
  auto v0 = (at::rand({B, N}, opts) - 0.5).requires_grad_(true);
  auto i0 = (at::rand({B, N}, opts) - 0.5).requires_grad_(true);
  auto am = (0.5 + 0.5 * at::rand({N}, opts)).requires_grad_(true);
  auto as = (0.3 + 0.6 * at::rand({N}, opts)).requires_grad_(true);
  auto gs = at::randn({B, T, N}, opts), gv = at::randn({B, T, N}, opts),
       gi = at::randn({B, T, N}, opts);
  const auto f = fused ? &snn::ops::lif : &snn::ops::lif_reference;
  auto out = f(x, v0, c.syn ? std::optional(i0) : std::nullopt, am,
               c.syn ? std::optional(as) : std::nullopt, c.norm, 1.0, c.spike_fn, c.reset_fn,
               c.reset_value, c.min_v_mem, "single_exponential", {0.5, 1.0});
  auto loss = (out[0] * gs).sum() + (out[1] * gv).sum();
  if (c.syn) loss = loss + (out[2] * gi).sum();
  std::vector<at::Tensor> inputs{x, v0, am};
  if (c.syn) {
    inputs.push_back(i0);
    inputs.push_back(as);
  }
  return {out, torch::autograd::grad({loss}, inputs)};
}

class LifOpTest : public ::testing::TestWithParam<OpCase> {};

TEST_P(LifOpTest, FusedMatchesReference) {
  // Both kernel builds: the baseline and, where the CPU has it, AVX2.
  std::vector<std::string> capabilities{"default"};
  if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma"))
    capabilities.push_back("avx2");
  for (const auto& capability : capabilities) {
    setenv("SNN_CPU_CAPABILITY", capability.c_str(), 1);
    for (auto dtype : {at::kFloat, at::kDouble}) {
      for (bool strided : {false, true}) {
        const auto ref = run(false, GetParam(), dtype, strided);
        const auto fused = run(true, GetParam(), dtype, strided);
        const double n_spikes = ref.outputs[0].sum().item<double>();
        ASSERT_GT(n_spikes, 0) << "the case must spike";
        EXPECT_TRUE(at::equal(fused.outputs[0], ref.outputs[0])) << "spikes differ";
        EXPECT_TRUE(at::allclose(fused.outputs[1], ref.outputs[1], 1e-6, 1e-6)) << "v_mem";
        if (GetParam().syn) {
          EXPECT_TRUE(at::allclose(fused.outputs[2], ref.outputs[2], 1e-6, 1e-6)) << "i_syn";
        }
        ASSERT_EQ(fused.grads.size(), ref.grads.size());
        for (size_t k = 0; k < ref.grads.size(); ++k) {
          EXPECT_TRUE(at::allclose(fused.grads[k], ref.grads[k], 1e-4, 1e-5))
              << "gradient " << k << " (" << capability << ", dtype " << dtype << ", strided "
              << strided << "): max abs diff "
              << (fused.grads[k] - ref.grads[k]).abs().max().item<double>();
        }
      }
    }
  }
  unsetenv("SNN_CPU_CAPABILITY");
}

INSTANTIATE_TEST_SUITE_P(Options, LifOpTest,
                         ::testing::Values(OpCase{false, true, "multi", "subtract", {}, {}},
                                           OpCase{true, true, "multi", "subtract", {}, {}},
                                           OpCase{false, false, "single", "subtract", 0.5, {}},
                                           OpCase{true, false, "single", "reset", {}, {}},
                                           OpCase{false, true, "multi", "reset", 0.2, -0.3},
                                           OpCase{true, true, "multi", "subtract", {}, -0.1}),
                         [](const ::testing::TestParamInfo<OpCase>& info) {
                           const auto& c = info.param;
                           return std::string(c.syn ? "Syn" : "NoSyn") + (c.norm ? "Norm" : "") +
                                  "_" + c.spike_fn + "_" + c.reset_fn +
                                  (c.reset_value ? "_value" : "") + (c.min_v_mem ? "_clamp" : "");
                         });

TEST(LifOpErrors, NamesTheProblem) {
  auto x = at::rand({2, 3, 4});
  auto v0 = at::zeros({2, 4}), am = at::full({4}, 0.9);
  auto call = [&](const at::Tensor& input, const at::Tensor& v, const at::Tensor& a,
                  const std::string& spike_fn, double threshold) {
    snn::ops::lif(input, v, std::nullopt, a, std::nullopt, true, threshold, spike_fn, "subtract",
                  std::nullopt, std::nullopt, "single_exponential", {0.5, 1.0});
  };
  auto message = [](auto&& f) {
    try {
      f();
    } catch (const c10::Error& e) {
      return std::string(e.what_without_backtrace());
    }
    return std::string("no error");
  };
  EXPECT_NE(message([&] {
              call(at::rand({2, 4}), v0, am, "multi", 1.0);
            }).find("expected input of shape [B, T, N], got [2, 4]"),
            std::string::npos);
  EXPECT_NE(message([&] {
              call(x, at::zeros({2, 5}), am, "multi", 1.0);
            }).find("expected v_mem of shape [2, 4], got [2, 5]"),
            std::string::npos);
  EXPECT_NE(message([&] {
              call(x, v0, am, "double", 1.0);
            }).find("spike_fn must be \"multi\" or \"single\", got \"double\""),
            std::string::npos);
  EXPECT_NE(
      message([&] { call(x, v0, am, "multi", -1.0); }).find("spike_threshold must be > 0, got -1"),
      std::string::npos);
  EXPECT_NE(message([&] {
              call(x, v0, am.to(at::kDouble), "multi", 1.0);
            }).find("expected alpha_mem of dtype Float"),
            std::string::npos);
}

}  // namespace
