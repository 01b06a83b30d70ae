// The neuron op: specification texts, the fused kernel against the plain-ATen reference for
// every family and option (shapes beyond one parallel chunk, 1 and 2 threads, both kernel
// builds, float and double, strided input), unused gradients, Meta shapes, errors.
#include <ATen/ATen.h>
#include <ATen/Parallel.h>
#include <gtest/gtest.h>
#include <ATen/core/dispatch/Dispatcher.h>
#include <torch/csrc/autograd/autograd.h>

#include <cstdio>
#include <cstdlib>
#include <optional>
#include <string>

#include "snn/nn/lif.h"
#include "snn/nn/neuron_options.h"
#include "snn/ops/neuron.h"
#include "snn/snntorch/neurons.h"
#include "test_util.h"

namespace {

using snn::ops::neuron_spec;
using snn::ops::NeuronSpec;

TEST(NeuronSpecTest, CanonicalTextRoundTrips) {
  const auto s = NeuronSpec::parse("LIF()");
  EXPECT_EQ(s.str(),
            "LIF(synapse=false, norm_input=true, spike=MultiSpike(), "
            "reset=MembraneSubtract(subtract_value=none), "
            "surrogate=SingleExponential(grad_width=0.5, grad_scale=1), min_v_mem=none)");
  EXPECT_EQ(NeuronSpec::parse(s.str()).str(), s.str());
  const auto a = NeuronSpec::parse(
      "ALIF(synapse=true, spike=MaxSpike(max_num_spikes_per_bin=3), "
      "reset=MembraneReset(reset_value=0.25), surrogate=MultiGaussian(h=0.2), min_v_mem=-1.5)");
  EXPECT_EQ(a.str(),
            "ALIF(synapse=true, norm_input=true, spike=MaxSpike(max_num_spikes_per_bin=3), "
            "reset=MembraneReset(reset_value=0.25), "
            "surrogate=MultiGaussian(mu=0, sigma=0.5, h=0.2, s=6, grad_scale=1), min_v_mem=-1.5)");
  EXPECT_EQ(NeuronSpec::parse(a.str()).str(), a.str());
  EXPECT_EQ(NeuronSpec::parse("ALIF()").spike, snn::ops::SpikeKind::Single);
  EXPECT_EQ(NeuronSpec::parse("ExpLeak()").str(), "ExpLeak(norm_input=false, min_v_mem=none)");
  EXPECT_EQ(a.state_names(), (std::vector<std::string>{"v_mem", "b", "i_syn"}));
  EXPECT_EQ(a.param_names(), (std::vector<std::string>{"alpha_mem", "alpha_adapt",
                                                       "spike_threshold", "adapt_scale",
                                                       "alpha_syn"}));
  // Parsed once: the same text gives the same cached object.
  EXPECT_EQ(&neuron_spec("LIF()"), &neuron_spec("LIF()"));
}

TEST(NeuronSpecTest, ErrorsNameTheFieldAndTheChoices) {
  EXPECT_THROW_WITH(NeuronSpec::parse("LIF(spike=DoubleSpike())"),
                    "spike must be one of MultiSpike(), SingleSpike(), "
                    "MaxSpike(max_num_spikes_per_bin=...), HeavisideSpike(), SignSpike(), got DoubleSpike(...)");
  EXPECT_THROW_WITH(NeuronSpec::parse("LIF(reset=Zero())"),
                    "reset must be one of MembraneSubtract(subtract_value=...), "
                    "MembraneReset(reset_value=...), NoReset(), got Zero(...)");
  EXPECT_THROW_WITH(NeuronSpec::parse("LIF(surrogate=Logistic())"),
                    "surrogate must be one of SingleExponential(...), Heaviside(...), "
                    "Gaussian(...), MultiGaussian(...), PeriodicExponential(...), ATan(...), "
                    "FastSigmoid(...), Sigmoid(...), SpikeRateEscape(...), Triangular(...), "
                    "StraightThroughEstimator(...), HeavisideMask(...), SparseFastSigmoid(...), "
                    "LeakySpikeOperator(...), NoGradient(...), SSO(...), Custom(...), got Logistic(...)");
  EXPECT_THROW_WITH(NeuronSpec::parse("LIF(surrogate=Gaussian(sigma=0))"),
                    "Gaussian(sigma=...) must be > 0, got 0");
  EXPECT_THROW_WITH(NeuronSpec::parse("LIF(tau=3)"), "LIF has no parameter 'tau'");
  EXPECT_THROW_WITH(NeuronSpec::parse("ExpLeak(spike=MultiSpike())"),
                    "ExpLeak has no parameter 'spike'");
  EXPECT_THROW_WITH(NeuronSpec::parse("Izhikevich()"),
                    "the family must be one of LIF(...), ALIF(...), ExpLeak(...), Leaky(...), Alpha(...), "
                    "CubaLIF(...), CubaLI(...), got "
                    "Izhikevich(...)");
  EXPECT_THROW_WITH(NeuronSpec::parse("LIF(spike=MaxSpike(max_num_spikes_per_bin=0))"),
                    "max_num_spikes_per_bin=...) must be >= 1 or none, got 0");
  EXPECT_THROW_WITH(NeuronSpec::parse("LIF(norm_input=1)"), "LIF(norm_input=...) expects");
  EXPECT_THROW_WITH(NeuronSpec::parse("Leaky(reset=MembraneReset(reset_value=0.5))"),
                    "Leaky resets to zero: reset=MembraneReset(reset_value=0), got "
                    "MembraneReset(reset_value=0.5)");
  EXPECT_THROW_WITH(NeuronSpec::parse("Leaky(reset=MembraneSubtract(subtract_value=2))"),
                    "Leaky subtracts the threshold");
  EXPECT_THROW_WITH(NeuronSpec::parse("Leaky(norm_input=true)"), "Leaky has no parameter 'norm_input'");
  EXPECT_THROW_WITH(NeuronSpec::parse("LIF(spike=SignSpike())"), "LIF does not take spike=SignSpike()");
  EXPECT_THROW_WITH(NeuronSpec::parse("Leaky(spike=MultiSpike())"),
                    "Leaky does not take spike=MultiSpike()");
  EXPECT_THROW_WITH(NeuronSpec::parse("Leaky(reset_grad=true, reset_delay=false)"),
                    "reset_grad=true needs reset_delay=true and reset=MembraneSubtract() or "
                    "MembraneReset() with zero_keeps_input=true, got reset_delay=false");
  EXPECT_THROW_WITH(
      NeuronSpec::parse("Leaky(reset_grad=true, reset=MembraneReset(), zero_keeps_input=false)"),
      "zero_keeps_input=false");
  EXPECT_THROW_WITH(NeuronSpec::parse("Leaky(reset_grad=true, reset=NoReset())"),
                    "reset=NoReset()");
}

TEST(NeuronSpecTest, LeakyIsSnnTorchs) {
  const auto s = NeuronSpec::parse("Leaky()");
  EXPECT_EQ(s.str(),
            "Leaky(synapse=false, recurrent=false, spike=HeavisideSpike(), "
            "reset=MembraneSubtract(subtract_value=none), reset_delay=true, reset_grad=false, "
            "zero_keeps_input=true, surrogate=ATan(alpha=2), state_quant=0)");
  EXPECT_EQ(NeuronSpec::parse(s.str()).str(), s.str());
  EXPECT_EQ(s.spike, snn::ops::SpikeKind::Heaviside);
  EXPECT_FALSE(s.norm_input);
  const auto syn = NeuronSpec::parse("Leaky(synapse=true, reset=NoReset(), reset_delay=false)");
  EXPECT_EQ(syn.state_names(), (std::vector<std::string>{"mem", "syn"}));
  EXPECT_EQ(syn.param_names(),
            (std::vector<std::string>{"beta", "threshold", "graded_spikes_factor", "alpha"}));
  EXPECT_EQ(syn.reset, snn::ops::ResetKind::None);
}

// ---- fused kernel against the reference ----------------------------------------------------

// Specifications that together take every value of every field several times, in varied
// combinations (the lengths of the option lists are co-prime).
std::vector<std::string> grid() {
  const std::vector<std::string> families{"LIF", "ALIF"};
  const std::vector<std::string> synapse{"false", "true", "true"};
  const std::vector<std::string> norm{"true", "false", "true", "false", "true"};
  const std::vector<std::string> spikes{"MultiSpike()", "SingleSpike()",
                                        "MaxSpike(max_num_spikes_per_bin=2)", "MultiSpike()",
                                        "MaxSpike(max_num_spikes_per_bin=none)", "SingleSpike()",
                                        "MultiSpike()"};
  const std::vector<std::string> resets{"MembraneSubtract()", "MembraneReset()",
                                        "MembraneSubtract(subtract_value=0.5)",
                                        "MembraneReset(reset_value=0.2)"};
  const std::vector<std::string> surrogates{
      "SingleExponential()",         "Heaviside(window=0.5)",
      "Gaussian(mu=0.1, sigma=0.4)", "MultiGaussian()",
      "PeriodicExponential()",       "SingleExponential(grad_width=0.3, grad_scale=2)",
      "Heaviside()",                 "Gaussian()",
      "MultiGaussian(h=0.3, s=4)",   "PeriodicExponential(grad_width=0.8, grad_scale=0.5)",
      "SingleExponential()"};
  // snnTorch's surrogates, with every spike function, reset and clamp.
  const std::vector<std::string> snntorch_surrogates{
      "ATan()",           "ATan(alpha=3.5)",          "FastSigmoid()",
      "FastSigmoid(slope=5)", "Sigmoid(slope=4)",     "SpikeRateEscape(beta=2, slope=3)",
      "Triangular()",     "StraightThroughEstimator()"};
  const std::vector<std::string> clamps{"none", "-0.3", "none"};
  std::vector<std::string> specs;
  for (size_t i = 0; i < 2 * 3 * 5 * 7 * 11; i += 37) {  // 63 combinations
    specs.push_back(families[i % 2] + "(synapse=" + synapse[i % 3] + ", norm_input=" +
                    norm[i % 5] + ", spike=" + spikes[i % 7] + ", reset=" + resets[i % 4] +
                    ", surrogate=" + surrogates[i % 11] + ", min_v_mem=" + clamps[i % 3] + ")");
  }
  for (size_t i = 0; i < 16; ++i) {
    specs.push_back(families[i % 2] + "(synapse=" + synapse[i % 3] + ", norm_input=" +
                    norm[i % 5] + ", spike=" + spikes[i % 7] + ", reset=" + resets[i % 4] +
                    ", surrogate=" + snntorch_surrogates[i % 8] + ", min_v_mem=" +
                    clamps[i % 3] + ")");
  }
  // snnTorch's Leaky and Synaptic: every reset, both timings, every snnTorch surrogate.
  const std::vector<std::string> leaky_resets{"MembraneSubtract()", "MembraneReset()", "NoReset()"};
  const std::vector<std::string> leaky_surrogates{
      "ATan()", "FastSigmoid(slope=5)", "Sigmoid(slope=4)", "SpikeRateEscape(beta=2, slope=3)",
      "Triangular(threshold=0.5)", "StraightThroughEstimator()", "HeavisideMask()",
      "SparseFastSigmoid(slope=10, B=0.1)", "LeakySpikeOperator(slope=0.2)", "NoGradient()",
      "SingleExponential()"};
  for (size_t i = 0; i < 12; ++i) {
    specs.push_back("Leaky(synapse=" + std::string(i % 2 ? "true" : "false") + ", reset=" +
                    leaky_resets[i % 3] + ", reset_delay=" + ((i / 6) % 2 ? "false" : "true") +
                    ", surrogate=" + leaky_surrogates[i % 11] + ")");
  }
  // spikingtorch's IF / LIF: the sign step, the reset with its gradient.
  specs.emplace_back(
      "Leaky(spike=SignSpike(), reset=MembraneReset(), reset_grad=true, surrogate=Sigmoid(slope=5))");
  specs.emplace_back("Leaky(spike=SignSpike(), reset=MembraneSubtract(), reset_grad=true)");
  specs.emplace_back(
      "Leaky(synapse=true, spike=SignSpike(), reset=MembraneReset(), reset_grad=true, "
      "surrogate=FastSigmoid(slope=3))");
  // snnTorch's Alpha with every reset.
  specs.emplace_back("Alpha()");
  specs.emplace_back("Alpha(reset=MembraneReset(), surrogate=FastSigmoid(slope=5))");
  specs.emplace_back("Alpha(reset=NoReset(), surrogate=Sigmoid(slope=4))");
  // The strict spike and no reset in Sinabs' families too.
  specs.emplace_back("LIF(spike=HeavisideSpike(), reset=NoReset(), surrogate=HeavisideMask())");
  specs.emplace_back("ALIF(synapse=true, spike=HeavisideSpike(), surrogate=LeakySpikeOperator())");
  for (const char* s : {"ExpLeak()", "ExpLeak(norm_input=true)", "ExpLeak(min_v_mem=-0.2)",
                        "ExpLeak(norm_input=true, min_v_mem=0.1)"}) {
    specs.emplace_back(s);
  }
  // NIR's neurons as Norse runs them: with and without synapse and leak, both outputs.
  for (const char* s : {"CubaLIF()", "CubaLIF(synapse=true)", "CubaLIF(leak=false)",
                        "CubaLIF(synapse=true, surrogate=SingleExponential())", "CubaLI()",
                        "CubaLI(synapse=true)", "CubaLI(leak=false)"}) {
    specs.emplace_back(s);
  }
  return specs;
}

struct Result {
  std::vector<at::Tensor> outputs, grads;
};

// Inputs drawn so that neurons spike (and some not), parameters per neuron or shared.
Result run(bool fused, const NeuronSpec& spec, const std::string& text, at::ScalarType dtype,
           int64_t B, int64_t T, int64_t N, bool strided, bool per_neuron) {
  at::manual_seed(11);
  const auto opts = at::TensorOptions().dtype(dtype);
  auto x = strided ? (at::rand({B, N, T}, opts) * 2.5 - 0.6).transpose(1, 2)
                   : at::rand({B, T, N}, opts) * 2.5 - 0.6;
  if (spec.norm_input) x = x * 4;
  x = x.detach().requires_grad_(true);
  std::vector<at::Tensor> state, params;
  for (const auto& name : spec.state_names()) {
    auto s = name == "b" ? at::rand({B, N}, opts) * 0.3 : at::rand({B, N}, opts) - 0.5;
    state.push_back(s.requires_grad_(true));
  }
  auto param = [&](double lo, double hi) {
    auto p = per_neuron ? lo + (hi - lo) * at::rand({N}, opts) : at::full({}, (lo + hi) / 2, opts);
    return p.requires_grad_(true);
  };
  for (const auto& name : spec.param_names()) {
    if (name == "alpha_mem") params.push_back(param(0.6, 0.95));
    if (name == "alpha_syn") params.push_back(param(0.3, 0.9));
    if (name == "alpha_adapt") params.push_back(param(0.5, 0.9));
    if (name == "spike_threshold") params.push_back(param(0.8, 1.2));
    if (name == "adapt_scale") params.push_back(param(0.5, 1.8));
    const bool alpha_family = spec.family == snn::ops::NeuronFamily::Alpha;  // alpha > beta
    if (name == "beta") params.push_back(alpha_family ? param(0.3, 0.6) : param(0.6, 0.95));
    if (name == "threshold") params.push_back(param(0.8, 1.2));
    if (name == "graded_spikes_factor") params.push_back(param(0.5, 1.5));
    if (name == "alpha") params.push_back(alpha_family ? param(0.85, 0.95) : param(0.3, 0.9));
    if (name == "tau_alpha") params.push_back(param(1.0, 1.6));
    if (name == "dt_tau_mem" || name == "dt_tau_syn") params.push_back(param(0.05, 0.5));
    if (name == "v_leak" || name == "v_reset") params.push_back(param(-0.2, 0.2));
    if (name == "r") params.push_back(param(0.5, 1.5));
    if (name == "v_threshold") params.push_back(param(0.3, 0.6));
  }
  const auto f = fused ? &snn::ops::neuron : &snn::ops::neuron_reference;
  const auto out = f(x, state, params, text);
  at::Tensor loss = at::zeros({}, opts);
  for (const auto& o : out) loss = loss + (o * at::randn(o.sizes(), opts)).sum();
  std::vector<at::Tensor> inputs{x};
  inputs.insert(inputs.end(), state.begin(), state.end());
  inputs.insert(inputs.end(), params.begin(), params.end());
  // A parameter the output does not depend on (e.g. the threshold under MembraneReset) has
  // no gradient in the reference and a zero one from the fused kernel.
  auto grads = torch::autograd::grad({loss}, inputs, {}, std::nullopt, false, /*allow_unused=*/true);
  for (size_t k = 0; k < grads.size(); ++k) {
    if (!grads[k].defined()) grads[k] = at::zeros_like(inputs[k]);
  }
  return {out, grads};
}

class NeuronOpTest : public ::testing::TestWithParam<std::string> {};

// Sets SNN_CPU_CAPABILITY while it lives, and leaves the variable and the thread count as
// they were when it goes (also when an assertion ends the test early).
class CapabilityScope {
 public:
  CapabilityScope() : threads_(at::get_num_threads()) {
    if (const char* v = std::getenv("SNN_CPU_CAPABILITY")) saved_ = v;
  }
  ~CapabilityScope() {
    if (saved_) {
      setenv("SNN_CPU_CAPABILITY", saved_->c_str(), 1);
    } else {
      unsetenv("SNN_CPU_CAPABILITY");
    }
    at::set_num_threads(threads_);
  }
  void set(const std::string& capability) { setenv("SNN_CPU_CAPABILITY", capability.c_str(), 1); }

 private:
  int threads_;
  std::optional<std::string> saved_;
};

TEST_P(NeuronOpTest, FusedMatchesReference) {
  const std::string text = GetParam();
  const NeuronSpec& spec = neuron_spec(text);
  std::vector<std::string> capabilities{"default"};
  if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) {
    capabilities.push_back("avx2");
  } else {
    static bool said = false;  // once per process, not once per case
    if (!said) {
      std::printf("[   NOTE   ] this CPU has no AVX2 + FMA: only the default kernels are held "
                  "to the reference here\n");
      said = true;
    }
  }
  CapabilityScope scope;
  struct Shape {
    int64_t B, T, N;
  };
  // N = 37: tails of the vector width; N = 300: more than one parallel chunk (256), not a
  // multiple of it.
  const std::vector<Shape> shapes{{3, 9, 37}, {2, 6, 300}};
  for (const auto& capability : capabilities) {
    scope.set(capability);
    for (int threads : {1, 2}) {
      at::set_num_threads(threads);
      for (auto dtype : {at::kFloat, at::kDouble}) {
        for (size_t k = 0; k < shapes.size(); ++k) {
          const auto [B, T, N] = shapes[k];
          const bool strided = k == 0, per_neuron = (k + threads) % 2 == 0;
          const auto ref = run(false, spec, text, dtype, B, T, N, strided, per_neuron);
          const auto fused = run(true, spec, text, dtype, B, T, N, strided, per_neuron);
          const auto where = " (" + capability + ", " + std::to_string(threads) + " threads, " +
                             std::string(c10::toString(dtype)) + ", N=" + std::to_string(N) + ")";
          if (spec.has_spikes()) {
            const double n = ref.outputs[0].sum().item<double>();
            ASSERT_GT(n, 0) << "the case must spike" << where;
            ASSERT_TRUE((ref.outputs[0] == 0).any().item<bool>())
                << "the case must not spike everywhere" << where;
            EXPECT_TRUE(at::equal(fused.outputs[0], ref.outputs[0])) << "spikes differ" << where;
          }
          ASSERT_EQ(fused.outputs.size(), ref.outputs.size());
          for (size_t o = 0; o < ref.outputs.size(); ++o) {
            EXPECT_TRUE(at::allclose(fused.outputs[o], ref.outputs[o], 1e-5, 1e-6))
                << "output " << o << where;
          }
          ASSERT_EQ(fused.grads.size(), ref.grads.size());
          for (size_t g = 0; g < ref.grads.size(); ++g) {
            EXPECT_TRUE(at::allclose(fused.grads[g], ref.grads[g], 1e-4, 1e-5))
                << "gradient " << g << where << ": max abs diff "
                << (fused.grads[g] - ref.grads[g]).abs().max().item<double>();
          }
        }
      }
    }
  }
}

INSTANTIATE_TEST_SUITE_P(Specs, NeuronOpTest, ::testing::ValuesIn(grid()),
                         [](const ::testing::TestParamInfo<std::string>& info) {
                           return std::to_string(info.index) + "_" +
                                  info.param.substr(0, info.param.find('('));
                         });

// ---- unused gradients, Meta, errors ---------------------------------------------------------

TEST(NeuronOpTest, UnusedOutputsNeedNoGradient) {
  // Only the spikes are used: the backward gets no gradient for the state records, and must
  // give what it gives with zero gradients for them.
  at::manual_seed(3);
  const std::string text = "LIF(synapse=true)";
  const auto x = (at::rand({2, 8, 5}) * 3).requires_grad_(true);
  const auto v0 = at::zeros({2, 5}), i0 = at::zeros({2, 5});
  const auto am = at::full({5}, 0.9).requires_grad_(true);
  const auto th = at::ones({}), as = at::full({}, 0.7);
  const auto out = snn::ops::neuron(x, {v0, i0}, {am, th, as}, text);
  const auto w = at::randn(out[0].sizes());
  const auto only_spikes = torch::autograd::grad({(out[0] * w).sum()}, {x, am});
  const auto out2 = snn::ops::neuron(x, {v0, i0}, {am, th, as}, text);
  const auto with_zeros = torch::autograd::grad(
      {(out2[0] * w).sum() + (out2[1] * 0).sum() + (out2[2] * 0).sum()}, {x, am});
  EXPECT_TRUE(at::allclose(only_spikes[0], with_zeros[0]));
  EXPECT_TRUE(at::allclose(only_spikes[1], with_zeros[1]));
  EXPECT_GT(only_spikes[0].abs().sum().item<double>(), 0);
}

TEST(NeuronOpTest, MetaGivesShapes) {
  const auto meta = at::TensorOptions().device(at::kMeta);
  const auto out = snn::ops::neuron(at::empty({4, 7, 3}, meta),
                                    {at::empty({4, 3}, meta), at::empty({4, 3}, meta)},
                                    {at::empty({3}, meta), at::empty({}, meta),
                                     at::empty({}, meta), at::empty({}, meta)},
                                    "ALIF()");
  ASSERT_EQ(out.size(), 3u);
  for (const auto& o : out) {
    EXPECT_TRUE(o.is_meta());
    EXPECT_EQ(o.sizes(), at::IntArrayRef({4, 7, 3}));
  }
}

TEST(NeuronOpTest, ErrorsNameTheProblem) {
  const auto x = at::rand({2, 3, 4}), v0 = at::zeros({2, 4}), am = at::full({4}, 0.9),
             th = at::ones({});
  EXPECT_THROW_WITH(snn::ops::neuron(at::rand({2, 4}), {v0}, {am, th}, "LIF()"),
                    "snn::neuron: expected input of shape [B, T, N], got [2, 4]");
  EXPECT_THROW_WITH(snn::ops::neuron(x, {at::zeros({2, 5})}, {am, th}, "LIF()"),
                    "snn::neuron: expected v_mem of shape [2, 4], got [2, 5]");
  EXPECT_THROW_WITH(snn::ops::neuron(x, {v0}, {am}, "LIF()"),
                    "takes 2 parameters [alpha_mem, spike_threshold], got 1");
  EXPECT_THROW_WITH(snn::ops::neuron(x, {v0, v0}, {am, th}, "LIF()"),
                    "takes 1 states [v_mem], got 2");
  EXPECT_THROW_WITH(snn::ops::neuron(x, {v0}, {at::full({3}, 0.9), th}, "LIF()"),
                    "expected alpha_mem of shape [], [1] or [4] (one value, or one per neuron), "
                    "got [3]");
  EXPECT_THROW_WITH(snn::ops::neuron(x, {v0}, {am.to(at::kDouble), th}, "LIF()"),
                    "expected alpha_mem of dtype Float (the input's), got Double");
  EXPECT_THROW_WITH(snn::ops::neuron(x, {v0}, {am, th}, "LIF(spike=Multi())"),
                    "spike must be one of MultiSpike()");
}

}  // namespace

// ---- surrogates outside the fused kernel -----------------------------------------------------

TEST(NeuronOpTest, ACustomSurrogateIsTheBuiltInOneItWrites) {
  // snnTorch's fast_sigmoid written as a function: the same spikes, and the gradients of
  // the input and of beta as FastSigmoid(slope=5), on the Leaky family and Sinabs' LIF.
  const auto custom = snn::custom_surrogate(
      [](const at::Tensor& x) { return 1 / at::pow(5 * at::abs(x) + 1, 2); });
  torch::manual_seed(2);
  const auto x = at::rand({3, 12, 40}) * 1.5;
  auto grads = [&](const snn::Surrogate& s, bool sinabs) {
    std::shared_ptr<torch::nn::Module> m;
    at::Tensor out;
    auto xi = x.clone().requires_grad_(true);
    if (sinabs) {
      snn::LIF lif(snn::LIFOptions(8.0).surrogate(s));
      out = lif(xi);
      m = lif.ptr();
    } else {
      snn::snntorch::Leaky leaky(snn::snntorch::LeakyOptions(0.85).learn_beta(true).spike_grad(s));
      out = leaky(xi);
      m = leaky.ptr();
    }
    (out * at::linspace(-1, 1, 40)).sum().backward();
    std::vector<at::Tensor> g{out.detach(), xi.grad()};
    for (const auto& p : m->parameters()) g.push_back(p.grad());
    return g;
  };
  for (const bool sinabs : {false, true}) {
    const auto ours = grads(custom, sinabs), builtin = grads(snn::FastSigmoid{5.0}, sinabs);
    ASSERT_EQ(ours.size(), builtin.size());
    EXPECT_TRUE(at::equal(ours[0], builtin[0]));
    EXPECT_GT(ours[1].abs().sum().item<double>(), 0);
    for (size_t k = 1; k < ours.size(); ++k) {
      EXPECT_TRUE(at::allclose(ours[k], builtin[k], 1e-4, 1e-5)) << "gradient " << k;
    }
  }
  EXPECT_EQ(snn::to_string(snn::Surrogate(custom)), "Custom(id=" + std::to_string(custom.id) + ")");
  EXPECT_THROW_WITH(NeuronSpec::parse("Leaky(surrogate=Custom(id=100000))"),
                    "Custom(id=100000) / state_quant=100000 names no registered function");
  EXPECT_THROW_WITH(NeuronSpec::parse("Leaky(surrogate=Custom(id=1.5))"),
                    "Custom(id=...) must be an integer, got 1.5");
}

TEST(NeuronOpTest, StateQuantRunsOnTheReferenceInEveryMode) {
  // A quantiser to multiples of 0.25: the forward (inference too, below autograd) and the
  // backward take the reference; the states are quantised, the gradient goes straight.
  const auto q = snn::snntorch::state_quant(
      [](const at::Tensor& v) { return at::round(v * 4) / 4; });
  const std::string spec = "Leaky(state_quant=" + std::to_string(q.id) + ")";
  torch::manual_seed(1);
  const auto x = at::rand({2, 6, 9});
  const auto mem = at::zeros({2, 9});
  const std::vector<at::Tensor> p{at::scalar_tensor(0.9), at::scalar_tensor(1.0),
                                  at::scalar_tensor(1.0)};
  const auto ref = snn::ops::neuron_reference(x, {mem}, p, spec);
  {
    at::NoGradGuard no_grad;
    const auto fused_path = snn::ops::neuron(x, {mem}, p, spec);
    EXPECT_TRUE(at::equal(fused_path[1], ref[1]));
  }
  EXPECT_TRUE(at::equal(ref[1], at::round(ref[1] * 4) / 4));
  auto xg = x.clone().requires_grad_(true);
  snn::ops::neuron(xg, {mem}, p, spec)[1].sum().backward();
  EXPECT_GT(xg.grad().abs().sum().item<double>(), 0);
  EXPECT_THROW_WITH(NeuronSpec::parse("Leaky(state_quant=0.5)"),
                    "state_quant must be 0 (none) or a registered quantiser's id, got 0.5");
  EXPECT_THROW_WITH(snn::snntorch::state_quant(at::zeros({2, 2})),
                    "expected levels of shape [n] (floating point), got [2, 2]");
}

TEST(NeuronOpTest, TheFusedBackwardRefusesTheReferencesSurrogates) {
  const auto x = at::rand({1, 3, 4});
  const auto mem = at::zeros({1, 4});
  const auto p = std::vector<at::Tensor>{at::scalar_tensor(0.9), at::scalar_tensor(1.0),
                                         at::scalar_tensor(1.0)};
  const std::string spec = "Leaky(surrogate=SSO(mean=0, variance=0.2))";
  const auto out = snn::ops::neuron(x, {mem}, p, spec);  // forward: the fused kernel serves
  c10::List<std::optional<at::Tensor>> g({at::ones_like(x), std::nullopt});
  static auto op = c10::Dispatcher::singleton()
                       .findSchemaOrThrow("snn::neuron_backward", "")
                       .typed<std::vector<at::Tensor>(
                           const c10::List<std::optional<at::Tensor>>&, const at::Tensor&,
                           at::TensorList, at::TensorList, at::TensorList, const at::Tensor&,
                           c10::string_view, const c10::List<bool>&)>();
  EXPECT_THROW_WITH(op.call(g, x, {mem}, p, {out[1]}, out[0], spec,
                            c10::List<bool>({true, false, false, false, false})),
                    "the fused kernel does not compute Leaky(");
}
