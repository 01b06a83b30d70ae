// snn::LIF / snn::IAF as modules: options, state across calls, resets, errors.
#include <ATen/ATen.h>
#include <gtest/gtest.h>
#include <torch/nn/modules/container/sequential.h>
#include <torch/nn/modules/linear.h>
#include <torch/serialize.h>

#include <sstream>

#include "snn/nn/lif.h"
#include "test_util.h"

namespace {

std::string printed(const torch::nn::Module& m) {
  std::ostringstream os;
  m.pretty_print(os);
  return os.str();
}

using snn::test::error_of;

TEST(LIFTest, PrettyPrintListsEveryOption) {
  EXPECT_EQ(printed(*snn::LIF(snn::LIFOptions(10.0))),
            "snn::LIF(tau_mem=10, spike_threshold=1, spike_fn=MultiSpike(), "
            "reset_fn=MembraneSubtract(subtract_value=none), "
            "surrogate=SingleExponential(grad_width=0.5, "
            "grad_scale=1), train_alphas=false, norm_input=true, record_states=false)");
  EXPECT_EQ(printed(*snn::IAF(snn::IAFOptions()
                                  .tau_syn(5.0)
                                  .spike_threshold(2.0)
                                  .spike_fn(snn::SingleSpike{})
                                  .reset_fn(snn::MembraneReset{0.5})
                                  .surrogate(snn::SingleExponential{0.3, 2.0})
                                  .min_v_mem(-1.0)
                                  .shape(std::vector<int64_t>{2, 3})
                                  .record_states(true))),
            "snn::IAF(tau_syn=5, spike_threshold=2, spike_fn=SingleSpike(), "
            "reset_fn=MembraneReset(reset_value=0.5), surrogate=SingleExponential(grad_width=0.3, "
            "grad_scale=2), min_v_mem=-1, shape=[2, 3], record_states=true)");
}

TEST(LIFTest, ParametersAreNamedAsInSinabs) {
  snn::LIF lif(snn::LIFOptions(10.0).tau_syn(5.0));
  EXPECT_EQ(lif->named_parameters().keys(), (std::vector<std::string>{"tau_mem", "tau_syn"}));
  snn::LIF alphas(snn::LIFOptions(10.0).tau_syn(5.0).train_alphas(true));
  EXPECT_EQ(alphas->named_parameters().keys(),
            (std::vector<std::string>{"alpha_mem", "alpha_syn"}));
  EXPECT_NEAR(alphas->alpha_mem.item<double>(), std::exp(-0.1), 1e-7);
  EXPECT_EQ(lif->state_names(), (std::vector<std::string>{"v_mem", "i_syn"}));
}

TEST(LIFTest, ChainedCallsEqualOneLongCall) {
  at::manual_seed(0);
  const auto x = at::rand({2, 20, 5}) * 4;
  snn::LIF whole(snn::LIFOptions(8.0).tau_syn(3.0));
  snn::LIF parts(snn::LIFOptions(8.0).tau_syn(3.0));
  const auto expected = whole->forward(x);
  const auto got = at::cat({parts->forward(x.slice(1, 0, 7)), parts->forward(x.slice(1, 7))}, 1);
  ASSERT_GT(expected.sum().item<double>(), 0);
  EXPECT_TRUE(at::equal(got, expected));
  EXPECT_TRUE(at::allclose(parts->state("v_mem"), whole->state("v_mem")));
}

TEST(LIFTest, StateKeepsItsGraphAcrossCalls) {
  snn::LIF lif(snn::LIFOptions(5.0));
  const auto x1 = (at::rand({1, 4, 3}) * 4).requires_grad_(true);
  lif->forward(x1);
  EXPECT_TRUE(lif->state("v_mem").requires_grad());
  const auto out2 = lif->forward(at::rand({1, 4, 3}) * 4);
  (out2.sum() + lif->state("v_mem").sum()).backward();
  ASSERT_TRUE(x1.grad().defined());
  EXPECT_GT(x1.grad().abs().sum().item<double>(), 0) << "BPTT must reach the first call";
}

TEST(LIFTest, ResetStatesZeroesOrRandomisesAndDetaches) {
  snn::LIF lif(snn::LIFOptions(5.0).tau_syn(2.0));
  EXPECT_FALSE(lif->is_state_initialised());
  lif->forward((at::rand({2, 3, 4}) * 4).requires_grad_(true));
  ASSERT_TRUE(lif->is_state_initialised());
  lif->reset_states();
  for (const auto& name : lif->state_names()) {
    EXPECT_EQ(lif->state(name).sizes(), (at::IntArrayRef{2, 4}));
    EXPECT_TRUE(at::equal(lif->state(name), at::zeros({2, 4})));
    EXPECT_FALSE(lif->state(name).requires_grad());
  }
  lif->reset_states(/*randomize=*/true, {{"v_mem", {-2.0, -1.0}}});
  const auto v = lif->state("v_mem"), i = lif->state("i_syn");
  EXPECT_TRUE((v >= -2).all().item<bool>() && (v < -1).all().item<bool>());
  EXPECT_TRUE((i >= 0).all().item<bool>() && (i < 1).all().item<bool>());
  EXPECT_GT(v.std().item<double>(), 0);
}

TEST(LIFTest, ZeroGradDetachesButKeepsValues) {
  snn::LIF lif(snn::LIFOptions(5.0));
  lif->forward((at::rand({2, 3, 4}) * 4).requires_grad_(true)).sum().backward();
  ASSERT_TRUE(lif->tau_mem.grad().defined());
  const auto before = lif->state("v_mem").detach().clone();
  ASSERT_TRUE(lif->state("v_mem").requires_grad());
  lif->zero_grad(/*set_to_none=*/false);
  EXPECT_FALSE(lif->state("v_mem").requires_grad());
  EXPECT_TRUE(at::equal(lif->state("v_mem"), before));
  EXPECT_EQ(lif->tau_mem.grad().item<double>(), 0.0);
}

TEST(LIFTest, NewBatchSizeOrFeatureShapeStartsFromZero) {
  snn::IAF iaf;
  iaf->forward(at::full({2, 3, 4}, 0.4));
  EXPECT_GT(iaf->state("v_mem").abs().sum().item<double>(), 0);
  const auto out = iaf->forward(at::full({5, 1, 4}, 0.4));
  EXPECT_EQ(iaf->state("v_mem").sizes(), (at::IntArrayRef{5, 4}));
  EXPECT_TRUE(at::allclose(iaf->state("v_mem"), at::full({5, 4}, 0.4)));
  EXPECT_EQ(out.sum().item<double>(), 0);
}

TEST(LIFTest, ShapeOptionCreatesTheState) {
  snn::LIF lif(snn::LIFOptions(5.0).shape(std::vector<int64_t>{3, 2}));
  EXPECT_TRUE(lif->is_state_initialised());
  EXPECT_EQ(lif->state("v_mem").sizes(), (at::IntArrayRef{3, 2}));
}

TEST(LIFTest, PerNeuronTimeConstantsBroadcastOverFeatures) {
  snn::LIF lif(snn::LIFOptions(at::tensor({2.0f, 4.0f, 8.0f}).reshape({3, 1})));
  EXPECT_EQ(lif->forward(at::rand({2, 5, 3, 6})).sizes(), (at::IntArrayRef{2, 5, 3, 6}));
  snn::LIF bad(snn::LIFOptions(at::tensor({2.0f, 4.0f, 8.0f})));
  EXPECT_NE(error_of([&] {
              bad->forward(at::rand({2, 5, 4}));
            }).find("snn::LIF: alpha_mem of shape [3] does not broadcast to the feature shape [4]"),
            std::string::npos);
}

TEST(LIFTest, RejectsBadOptionsAndInputs) {
  EXPECT_NE(error_of([] { snn::LIF(snn::LIFOptions(-1.0)); }).find("tau_mem must be > 0, got -1"),
            std::string::npos);
  EXPECT_NE(error_of([] {
              snn::IAF(snn::IAFOptions().spike_threshold(0));
            }).find("snn::IAF: spike_threshold must be > 0, got 0"),
            std::string::npos);
  snn::LIF lif(snn::LIFOptions(5.0));
  EXPECT_NE(error_of([&] {
              lif->forward(at::rand({4}));
            }).find("snn::LIF: expected input of shape [B, T, ...], got [4]"),
            std::string::npos);
  EXPECT_NE(error_of([&] {
              lif->forward(at::rand({2, 0, 3}));
            }).find("expected at least one time step"),
            std::string::npos);
}

TEST(LIFTest, CloneCopiesParametersAndState) {
  snn::LIF lif(snn::LIFOptions(5.0).tau_syn(2.0));
  lif->forward(at::rand({2, 3, 4}));
  auto copy = std::dynamic_pointer_cast<snn::LIFImpl>(lif->clone());
  ASSERT_TRUE(copy);
  for (const auto& name : {"v_mem", "i_syn"}) {
    EXPECT_TRUE(at::equal(copy->state(name), lif->state(name))) << name;
  }
  copy->reset_states();
  EXPECT_GT(lif->state("v_mem").abs().sum().item<double>(), 0) << "clone shares no state";
}

TEST(LIFTest, CloneIsIndependentOfTheOriginalsGraph) {
  // The original's state carries a graph back to its tau_mem and its input; a backward
  // through the clone's output must reach neither.
  snn::LIF lif(snn::LIFOptions(5.0).tau_syn(2.0));
  const auto x = (at::rand({2, 6, 4}) * 3).requires_grad_(true);
  lif->forward(x);
  auto copy = std::dynamic_pointer_cast<snn::LIFImpl>(lif->clone());
  const auto out = copy->forward(at::rand({2, 3, 4}) * 3);
  (out.sum() + copy->state("v_mem").sum()).backward();
  EXPECT_FALSE(x.grad().defined()) << "gradient reached the original's input";
  EXPECT_FALSE(lif->tau_mem.grad().defined()) << "gradient reached the original's tau_mem";
  EXPECT_TRUE(copy->tau_mem.grad().defined());
  EXPECT_NE(copy->tau_mem.data_ptr(), lif->tau_mem.data_ptr());
}

TEST(LIFTest, SaveAndLoadKeepParametersAndState) {
  snn::LIF a(snn::LIFOptions(5.0).tau_syn(2.0));
  a->forward(at::rand({2, 3, 4}) * 3);
  std::stringstream stream;
  torch::save(a, stream);
  snn::LIF b(snn::LIFOptions(7.0).tau_syn(3.0));
  torch::load(b, stream);
  EXPECT_EQ(b->tau_mem.item<double>(), 5.0);
  EXPECT_EQ(b->tau_syn.item<double>(), 2.0);
  for (const auto& name : {"v_mem", "i_syn"}) {
    EXPECT_TRUE(at::equal(b->state(name), a->state(name))) << name;
  }
}

}  // namespace
