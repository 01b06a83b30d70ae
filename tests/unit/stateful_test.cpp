// Model-wide state helpers over a torch::nn::Sequential.
#include <ATen/ATen.h>
#include <gtest/gtest.h>
#include <torch/nn/modules/container/sequential.h>
#include <torch/nn/modules/linear.h>

#include "snn/nn/lif.h"

namespace {

TEST(StatefulTest, ModelHelpersVisitEveryStatefulLayer) {
  torch::nn::Sequential body(torch::nn::Linear(3, 4), snn::LIF(snn::LIFOptions(4.0)),
                             torch::nn::Linear(4, 4), snn::IAF());
  // The helpers recurse: the stateful layers sit two levels below the model.
  torch::nn::Module model;
  model.register_module("body", body);
  const auto out = body->forward((at::rand({2, 6, 3}) * 5).requires_grad_(true));
  out.sum().backward();
  auto lif = body[1]->as<snn::LIFImpl>();
  auto iaf = body[3]->as<snn::IAFImpl>();
  ASSERT_TRUE(lif->state("v_mem").requires_grad() && iaf->state("v_mem").requires_grad());

  snn::zero_grad(model);
  EXPECT_FALSE(lif->state("v_mem").requires_grad());
  EXPECT_FALSE(iaf->state("v_mem").requires_grad());
  for (const auto& p : model.parameters()) {
    EXPECT_EQ(p.grad().abs().sum().item<double>(), 0);
  }

  body->forward(at::rand({2, 6, 3}) * 5);
  snn::reset_states(model);
  EXPECT_EQ(lif->state("v_mem").abs().sum().item<double>(), 0);
  EXPECT_EQ(iaf->state("v_mem").abs().sum().item<double>(), 0);

  snn::reset_states(model, /*randomize=*/true);
  EXPECT_GT(iaf->state("v_mem").abs().sum().item<double>(), 0);
}

}  // namespace
