// snn::analysis::Analyzer: what the parity suite (tests/parity/test_analysis.py) cannot
// hold against Sinabs: errors, detached averages, repeated backward, the fan-out of
// convolutions Sinabs' tutorials never use (stride, padding, dilation, groups), Repeat.
#include <gtest/gtest.h>
#include <torch/nn/modules/container/sequential.h>
#include <torch/nn/modules/conv.h>
#include <torch/nn/modules/linear.h>

#include "snn/analysis/analyzer.h"
#include "snn/nn/exp_leak.h"
#include "snn/nn/lif.h"
#include "snn/nn/stateful.h"
#include "snn/nn/structural.h"
#include "test_util.h"

namespace {

using snn::analysis::Analyzer;

torch::nn::Sequential mlp() {
  return torch::nn::Sequential(torch::nn::Linear(12, 16), snn::IAF(), torch::nn::Linear(16, 4),
                               snn::IAF());
}

at::Tensor spikes(std::vector<int64_t> shape, double p = 0.3) {
  return (at::rand(shape) < p).to(at::kFloat) * 2;
}

using snn::test::error_of;

TEST(AnalyzerTest, RejectsAModelWithoutSpikingLayers) {
  torch::nn::Sequential m(torch::nn::Linear(4, 4), snn::ExpLeak(snn::ExpLeakOptions(5.0)));
  const auto msg = error_of([&] { Analyzer a(m); });
  EXPECT_NE(msg.find("the model has no spiking layer"), std::string::npos) << msg;
}

struct HiddenBlockImpl : torch::nn::Module {
  HiddenBlockImpl() { fc = register_module("fc", torch::nn::Linear(12, 12)); }
  at::Tensor forward(const at::Tensor& x) { return fc(x); }
  torch::nn::Linear fc{nullptr};
};
TORCH_MODULE(HiddenBlock);

TEST(AnalyzerTest, RejectsAModuleThatHidesCountedLayers) {
  torch::nn::Sequential m{HiddenBlock(), snn::IAF()};
  const auto msg = error_of([&] { Analyzer a(m); });
  EXPECT_NE(msg.find("module '0'"), std::string::npos) << msg;
  EXPECT_NE(msg.find("'fc'"), std::string::npos) << msg;
  EXPECT_NE(msg.find("torch::nn::Sequential"), std::string::npos) << msg;
}

TEST(AnalyzerTest, StatisticsBeforeTheFirstBatchAreAnError) {
  Analyzer a(mlp());
  const auto msg = error_of([&] { a.model_statistics(); });
  EXPECT_NE(msg.find("run forward(input) first"), std::string::npos) << msg;
  EXPECT_NE(error_of([] { Analyzer(mlp(), 0.0); }).find("dt"), std::string::npos);
}

TEST(AnalyzerTest, LastBatchCarriesTheGraphAveragesAreDetached) {
  torch::manual_seed(0);
  auto model = mlp();
  Analyzer a(model);
  a.forward(spikes({3, 8, 12}));
  EXPECT_TRUE(a.model_statistics().synops.requires_grad());
  EXPECT_TRUE(a.model_statistics().firing_rate.requires_grad());
  EXPECT_FALSE(a.model_statistics(true).synops.requires_grad());
  EXPECT_FALSE(a.model_statistics(true).firing_rate.requires_grad());
  EXPECT_EQ(a.n_batches(), 1);
  a.reset();
  EXPECT_EQ(a.n_batches(), 0);
  EXPECT_THROW(a.model_statistics(), c10::Error);
}

TEST(AnalyzerTest, AveragesAreTheMeanOverBatches) {
  torch::manual_seed(1);
  auto model = mlp();
  Analyzer a(model);
  std::vector<double> synops, rates;
  for (int k = 0; k < 3; ++k) {
    snn::reset_states(*model);
    a.forward(spikes({2, 5, 12}, 0.1 + 0.2 * k));
    synops.push_back(a.model_statistics().synops.item<double>());
    rates.push_back(a.spiking_layers()[0].firing_rate.item<double>());
  }
  EXPECT_NEAR(a.model_statistics(true).synops.item<double>(),
              (synops[0] + synops[1] + synops[2]) / 3, 1e-4);
  EXPECT_NEAR(a.spiking_layers(true)[0].firing_rate.item<double>(),
              (rates[0] + rates[1] + rates[2]) / 3, 1e-6);
}

// The failure Sinabs' synops tutorial hit: a loss built from the analysis, backward on
// every batch. With the states reset per batch, no backward may reach an earlier graph.
TEST(AnalyzerTest, BackwardOnEveryBatchSucceeds) {
  torch::manual_seed(2);
  auto model = mlp();
  Analyzer a(model);
  for (int k = 0; k < 3; ++k) {
    snn::reset_states(*model);
    model->zero_grad();
    const auto out = a.forward(spikes({2, 6, 12}));
    const auto loss = out.sum() + 1e-3 * a.model_statistics().synops +
                      a.model_statistics(true).synops;  // the detached average too
    ASSERT_NO_THROW(loss.backward()) << "batch " << k;
  }
  EXPECT_TRUE(model->parameters()[0].grad().defined());
}

// Conv2d synops: Σ input · fan-out must equal the sum of a convolution of the input with
// an all-ones kernel (every tap of every output value is one synaptic operation).
TEST(AnalyzerTest, ConvFanOutCountsEveryTap) {
  torch::manual_seed(3);
  struct Case {
    int64_t in, out, k, stride, pad, dil, groups;
  };
  for (const auto& c : std::vector<Case>{{2, 4, 3, 1, 0, 1, 1},
                                         {2, 6, 3, 2, 1, 1, 2},
                                         {4, 4, 3, 1, 2, 2, 4},
                                         {3, 5, 4, 3, 1, 1, 1}}) {
    const int64_t B = 2, T = 4;
    auto conv = torch::nn::Conv2d(torch::nn::Conv2dOptions(c.in, c.out, c.k)
                                      .stride(c.stride)
                                      .padding(c.pad)
                                      .dilation(c.dil)
                                      .groups(c.groups));
    torch::nn::Sequential m(
        snn::FlattenTime(), conv,
        snn::IAFSqueeze(snn::IAFOptions(), snn::SqueezeOptions().batch_size(B)));
    Analyzer a(m);
    const auto x = spikes({B, T, c.in, 11, 9});
    a.forward(x);
    const auto summed = x.sum(1);
    const auto ones = at::ones_like(conv->weight);
    const auto expected = at::conv2d(summed, ones, {}, c.stride, c.pad, c.dil, c.groups)
                              .sum({1, 2, 3})
                              .mean()
                              .item<double>();
    const auto layers = a.parameter_layers();
    ASSERT_EQ(layers.size(), 1u);
    EXPECT_EQ(layers[0].name, "1");
    EXPECT_EQ(layers[0].num_timesteps, T);
    EXPECT_NEAR(layers[0].synops.item<double>(), expected, 1e-3 * expected)
        << "stride " << c.stride << " padding " << c.pad << " dilation " << c.dil << " groups "
        << c.groups;
  }
}

// Repeat(Conv2d) in a batch-first model: time is dimension 1 of the Repeat's input.
TEST(AnalyzerTest, RepeatedConvCountsPerSampleOverTheSequence) {
  torch::manual_seed(4);
  auto conv = torch::nn::Conv2d(torch::nn::Conv2dOptions(2, 3, 3));
  torch::nn::Sequential m{snn::Repeat(torch::nn::AnyModule(conv)), snn::IAF()};
  Analyzer a(m);
  const auto x = spikes({2, 5, 2, 8, 8});
  a.forward(x);
  const auto expected =
      at::conv2d(x.sum(1), at::ones_like(conv->weight)).sum({1, 2, 3}).mean().item<double>();
  const auto layers = a.parameter_layers();
  ASSERT_EQ(layers.size(), 1u);
  EXPECT_EQ(layers[0].name, "0.module");
  EXPECT_EQ(layers[0].num_timesteps, 5);
  EXPECT_NEAR(layers[0].synops.item<double>(), expected, 1e-3 * expected);
  EXPECT_EQ(a.spiking_layers()[0].n_neurons, 3 * 6 * 6);
}

}  // namespace
