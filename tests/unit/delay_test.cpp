// snn::DelayLine: the tapped delay line's output, its state across calls, and its use in a
// network (the delay MLP preset, synops of the delayed synapses).
#include <ATen/ATen.h>
#include <gtest/gtest.h>
#include <torch/nn/modules/container/sequential.h>
#include <torch/nn/modules/linear.h>
#include <torch/serialize.h>

#include <sstream>

#include "snn/analysis/analyzer.h"
#include "snn/nn/delay.h"
#include "snn/nn/lif.h"
#include "snn/train/presets.h"
#include "test_util.h"

namespace {

// y[b, t, k·C + c, ...] = x[b, t - d_k, c, ...], zeros before the start: written out step
// by step, independently of the layer's slicing.
at::Tensor delayed(const at::Tensor& x, const std::vector<int64_t>& delays) {
  const int64_t T = x.size(1), C = x.size(2);
  auto shape = x.sizes().vec();
  shape[2] = C * static_cast<int64_t>(delays.size());
  auto y = at::zeros(shape, x.options());
  for (size_t k = 0; k < delays.size(); ++k) {
    for (int64_t t = delays[k]; t < T; ++t) {
      y.select(1, t).narrow(1, static_cast<int64_t>(k) * C, C).copy_(x.select(1, t - delays[k]));
    }
  }
  return y;
}

TEST(DelayLineTest, EachBlockIsTheInputThatManyStepsAgo) {
  const std::vector<int64_t> delays = {0, 2, 5, 2};
  snn::DelayLine line(delays);
  const auto x = at::randn({3, 9, 4});
  const auto y = line->forward(x);
  ASSERT_EQ(y.sizes(), (std::vector<int64_t>{3, 9, 16}));
  EXPECT_TRUE(at::equal(y, delayed(x, delays)));
  EXPECT_EQ(line->max_delay(), 5);

  // Feature maps: the blocks stack along the channels, [B, T, K·C, H, W].
  snn::DelayLine maps(std::vector<int64_t>{1, 0});
  const auto frames = at::randn({2, 4, 3, 5, 6});
  const auto out = maps->forward(frames);
  ASSERT_EQ(out.sizes(), (std::vector<int64_t>{2, 4, 6, 5, 6}));
  EXPECT_TRUE(at::equal(out, delayed(frames, {1, 0})));

  // Only zero delays: copies, no state.
  snn::DelayLine copies(std::vector<int64_t>{0, 0});
  EXPECT_TRUE(at::equal(copies->forward(x), at::cat({x, x}, 2)));
  EXPECT_TRUE(copies->state_names().empty());
}

TEST(DelayLineTest, ASequenceInPiecesGivesTheSameOutputAndGradient) {
  const std::vector<int64_t> delays = {0, 3, 6};
  const auto x = at::randn({2, 11, 5});
  snn::DelayLine whole(delays), pieces(delays);
  const auto xa = x.clone().requires_grad_(true);
  const auto xb = x.clone().requires_grad_(true);
  const auto expected = whole->forward(xa);
  // Pieces shorter than the longest delay: the history spans more than one call.
  std::vector<at::Tensor> outs;
  for (const auto& [start, length] : std::vector<std::pair<int64_t, int64_t>>{{0, 2}, {2, 4}, {6, 5}}) {
    outs.push_back(pieces->forward(xb.narrow(1, start, length)));
  }
  const auto got = at::cat(outs, 1);
  EXPECT_TRUE(at::equal(got, expected));
  const auto w = at::randn(expected.sizes());
  (expected * w).sum().backward();
  (got * w).sum().backward();
  EXPECT_TRUE(at::allclose(xb.grad(), xa.grad())) << "gradients flow back across calls";

  // A reset starts from silence; a detach keeps the values.
  pieces->detach_states();
  EXPECT_FALSE(pieces->state("history").requires_grad());
  EXPECT_TRUE(at::equal(pieces->state("history"), x.narrow(1, 5, 6)));
  pieces->reset_states();
  EXPECT_TRUE(at::equal(pieces->forward(x), delayed(x, delays)));

  // A new batch size starts from silence too.
  const auto other = at::randn({4, 3, 5});
  EXPECT_TRUE(at::equal(pieces->forward(other), delayed(other, delays)));
}

TEST(DelayLineTest, StateIsSavedAndLoaded) {
  snn::DelayLine a(std::vector<int64_t>{0, 2}), b(std::vector<int64_t>{0, 2});
  const auto x = at::randn({2, 5, 3});
  a->forward(x);
  b->forward(at::randn({2, 5, 3}));
  std::stringstream buffer;
  torch::save(a, buffer);
  torch::load(b, buffer);
  EXPECT_TRUE(at::equal(b->state("history"), x.narrow(1, 3, 2)));
  const auto next = at::randn({2, 4, 3});
  EXPECT_TRUE(at::equal(b->forward(next), a->forward(next)));
}

TEST(DelayLineTest, BadOptionsAndInputsAreNamed) {
  EXPECT_THROW_WITH((snn::DelayLine(std::vector<int64_t>{})), "at least one delay");
  EXPECT_THROW_WITH((snn::DelayLine(std::vector<int64_t>{0, -1})), "delays must be >= 0");
  snn::DelayLine line(std::vector<int64_t>{1});
  EXPECT_THROW_WITH(line->forward(at::zeros({4, 3})), "expected input of shape [B, T, C, ...]");
}

TEST(DelayLineTest, DelayMlpPresetAndSynopsOfDelayedSynapses) {
  auto model = snn::train::shd_mlp(snn::train::MLPOptions()
                                       .neurons(snn::train::PresetNeurons()
                                                    .kind(snn::train::NeuronKind::LIF)
                                                    .tau_mem(5.0))
                                       .inputs(6)
                                       .hidden(8)
                                       .outputs(3)
                                       .delays({0, 2, 4})
                                       .hidden_delays({0, 1}));
  ASSERT_EQ(model->size(), 8u);
  EXPECT_EQ(model[1]->as<torch::nn::LinearImpl>()->weight.sizes(), (std::vector<int64_t>{8, 18}));
  EXPECT_EQ(model[4]->as<torch::nn::LinearImpl>()->weight.sizes(), (std::vector<int64_t>{8, 16}));
  const auto input = (at::rand({2, 10, 6}) < 0.4).to(at::kFloat);
  EXPECT_EQ(model->forward(input).sizes(), (std::vector<int64_t>{2, 10, 3}));

  // Every delayed copy of a spike is a synaptic event to each of the 8 hidden neurons.
  snn::reset_states(*model);
  snn::analysis::Analyzer analyzer(model);
  analyzer.forward(input);
  const auto layers = analyzer.parameter_layers();
  ASSERT_EQ(layers.size(), 3u);
  const double delivered = delayed(input, {0, 2, 4}).sum().item<double>() / 2;  // per sample
  EXPECT_NEAR(layers[0].synops.item<double>(), delivered * 8, 1e-6);
}

}  // namespace
