// The neuron layers beyond LIF/IAF (ALIF, ExpLeak), the Squeeze and recurrent forms, the
// structural layers and the conversion, as modules: printing, names, forms against each
// other, cloning, errors. (Their numbers are held to Sinabs by tests/parity.)
#include <ATen/ATen.h>
#include <gtest/gtest.h>
#include <torch/nn/modules/activation.h>
#include <torch/nn/modules/container/sequential.h>
#include <torch/nn/modules/conv.h>
#include <torch/nn/modules/linear.h>
#include <torch/serialize.h>

#include <sstream>

#include "snn/snn.h"
#include "test_util.h"

namespace {

std::string printed(const torch::nn::Module& m) {
  std::ostringstream os;
  m.pretty_print(os);
  return os.str();
}

TEST(NeuronLayersTest, PrettyPrintListsEveryOption) {
  EXPECT_EQ(printed(*snn::ALIF(snn::ALIFOptions(20.0, 100.0))),
            "snn::ALIF(tau_mem=20, tau_adapt=100, adapt_scale=1.8, spike_threshold=1, "
            "spike_fn=SingleSpike(), reset_fn=MembraneSubtract(subtract_value=none), "
            "surrogate=SingleExponential(grad_width=0.5, grad_scale=1), train_alphas=false, "
            "norm_input=true, record_states=false)");
  EXPECT_EQ(printed(*snn::ExpLeak(snn::ExpLeakOptions(5.0).min_v_mem(-1.0).record_states(true))),
            "snn::ExpLeak(tau_mem=5, min_v_mem=-1, train_alphas=false, norm_input=false, "
            "record_states=true)");
  EXPECT_EQ(printed(*snn::IAFSqueeze(snn::IAFOptions().surrogate(snn::Gaussian{}),
                                     snn::SqueezeOptions().batch_size(4))),
            "snn::IAFSqueeze(spike_threshold=1, spike_fn=MultiSpike(), "
            "reset_fn=MembraneSubtract(subtract_value=none), "
            "surrogate=Gaussian(mu=0, sigma=0.5, grad_scale=1), record_states=false, "
            "batch_size=4)");
  EXPECT_EQ(printed(*snn::LIFRecurrent(snn::LIFOptions(8.0).spike_fn(snn::MaxSpike{3}),
                                       torch::nn::Linear(3, 3))),
            "snn::LIFRecurrent(tau_mem=8, spike_threshold=1, "
            "spike_fn=MaxSpike(max_num_spikes_per_bin=3), "
            "reset_fn=MembraneSubtract(subtract_value=none), "
            "surrogate=SingleExponential(grad_width=0.5, grad_scale=1), train_alphas=false, "
            "norm_input=true, record_states=false)");
  EXPECT_EQ(printed(*snn::SumPool2d(snn::SumPool2dOptions(2).stride(1))),
            "snn::SumPool2d(kernel_size=[2, 2], stride=[1, 1], ceil_mode=false)");
  EXPECT_EQ(printed(*snn::UnflattenTime(3)), "snn::UnflattenTime(batch_size=3)");
}

TEST(NeuronLayersTest, ALIFNamesAndRecordings) {
  snn::ALIF alif(snn::ALIFOptions(20.0, 50.0).tau_syn(5.0).record_states(true));
  EXPECT_EQ(alif->named_parameters().keys(),
            (std::vector<std::string>{"tau_mem", "tau_adapt", "tau_syn"}));
  EXPECT_EQ(alif->state_names(), (std::vector<std::string>{"v_mem", "b", "i_syn"}));
  snn::ALIF alphas(snn::ALIFOptions(20.0, 50.0).train_alphas(true));
  EXPECT_EQ(alphas->named_parameters().keys(),
            (std::vector<std::string>{"alpha_mem", "alpha_adapt"}));
  alif->forward(at::rand({2, 30, 4}) * 8);
  const auto& rec = alif->recordings();
  ASSERT_EQ(rec.size(), 4u);
  EXPECT_TRUE(at::allclose(rec.at("spike_threshold"), 1.0 + 1.8 * rec.at("b")));
  EXPECT_GT(rec.at("b").abs().sum().item<double>(), 0) << "the threshold adapts";
  EXPECT_TRUE(at::allclose(alif->spike_threshold_calculated(), 1.0 + 1.8 * alif->state("b")));
}

TEST(NeuronLayersTest, ExpLeakOutputsTheMembraneBeforeTheClamp) {
  snn::ExpLeak leak(snn::ExpLeakOptions(4.0).min_v_mem(0.0));
  const auto x = at::randn({2, 10, 3});
  const auto out = leak->forward(x);
  EXPECT_TRUE((out < 0).any().item<bool>()) << "output is not clamped";
  EXPECT_TRUE((leak->state("v_mem") >= 0).all().item<bool>()) << "the state is";
}

TEST(NeuronLayersTest, SqueezeFormEqualsTheBatchFirstLayer) {
  at::manual_seed(1);
  const auto x = at::rand({3, 7, 2, 5}) * 6;
  snn::ALIF plain(snn::ALIFOptions(10.0, 30.0).tau_syn(3.0));
  snn::ALIFSqueeze by_batch(snn::ALIFOptions(10.0, 30.0).tau_syn(3.0),
                            snn::SqueezeOptions().batch_size(3));
  snn::ALIFSqueeze by_time(snn::ALIFOptions(10.0, 30.0).tau_syn(3.0),
                           snn::SqueezeOptions().num_timesteps(7));
  const auto expected = plain->forward(x).flatten(0, 1);
  EXPECT_TRUE(at::equal(by_batch->forward(x.flatten(0, 1)), expected));
  EXPECT_TRUE(at::equal(by_time->forward(x.flatten(0, 1)), expected));
  EXPECT_TRUE(at::equal(by_batch->state("v_mem"), plain->state("v_mem")));
  EXPECT_THROW_WITH(snn::IAFSqueeze(snn::IAFOptions(), snn::SqueezeOptions()),
                    "snn::IAFSqueeze: give batch_size or num_timesteps (SqueezeOptions)");
  EXPECT_THROW_WITH(by_batch->forward(at::rand({10, 2, 5})),
                    "snn::ALIFSqueeze: the first dimension 10 of input [10, 2, 5] does not split "
                    "into batch_size 3");
}

TEST(NeuronLayersTest, RecurrentFormWithoutRecurrentInputEqualsThePlainLayer) {
  at::manual_seed(2);
  torch::nn::Linear zero(4, 4);
  {
    torch::NoGradGuard no_grad;
    zero->weight.zero_();
    zero->bias.zero_();
  }
  snn::IAFRecurrent rec(snn::IAFOptions().tau_syn(2.0), zero);
  snn::IAF plain(snn::IAFOptions().tau_syn(2.0));
  const auto x = at::rand({2, 9, 4}) * 2;
  EXPECT_TRUE(at::equal(rec->forward(x), plain->forward(x)));
  EXPECT_EQ(rec->named_parameters().keys(),
            (std::vector<std::string>{"tau_syn", "rec_connect.weight", "rec_connect.bias"}));
  EXPECT_THROW_WITH(
      snn::LIFRecurrent(snn::LIFOptions(5.0), torch::nn::Linear(4, 3))->forward(x),
      "snn::LIFRecurrent: rec_connect must map spikes [2, 4] to the same number of values, got "
      "[2, 3]");
}

TEST(NeuronLayersTest, RecurrentConnectionMayBeASequential) {
  at::manual_seed(4);
  torch::nn::Linear lin(4, 4);
  snn::LIFRecurrent plain(snn::LIFOptions(5.0), lin);
  snn::LIFRecurrent seq(snn::LIFOptions(5.0), torch::nn::Sequential(lin));
  const auto x = at::rand({2, 9, 4}) * 20;
  EXPECT_TRUE(at::equal(seq->forward(x), plain->forward(x)));
  EXPECT_EQ(seq->named_parameters().keys(),
            (std::vector<std::string>{"tau_mem", "rec_connect.0.weight", "rec_connect.0.bias"}));
  auto copy = std::dynamic_pointer_cast<snn::LIFRecurrentImpl>(seq->clone());
  EXPECT_FALSE(copy->named_parameters()["rec_connect.0.weight"].is_same(lin->weight));
  EXPECT_TRUE(seq->named_parameters()["rec_connect.0.weight"].is_same(lin->weight));
}

TEST(NeuronLayersTest, RecurrentCloneOwnsItsConnectionAndLeavesTheOriginalAlone) {
  snn::LIFRecurrent rec(snn::LIFOptions(5.0), torch::nn::Linear(3, 3));
  const auto before = rec->named_parameters()["rec_connect.weight"];
  const auto value = before.clone();
  auto copy = std::dynamic_pointer_cast<snn::LIFRecurrentImpl>(rec->clone());
  ASSERT_TRUE(copy);
  // The original keeps the very tensors an optimizer may hold.
  EXPECT_TRUE(rec->named_parameters()["rec_connect.weight"].is_same(before));
  EXPECT_TRUE(at::equal(before, value));
  const auto copied = copy->named_parameters()["rec_connect.weight"];
  EXPECT_TRUE(at::equal(copied, value));
  {
    torch::NoGradGuard no_grad;
    copied.add_(1.0);
  }
  EXPECT_TRUE(at::equal(before, value)) << "the clone's connection is its own";
}

TEST(NeuronLayersTest, RecurrentCopiesOwnTheirConnectionAndRegisterIt) {
  const snn::LIFRecurrentImpl a(snn::LIFOptions(5.0), torch::nn::Linear(3, 3));
  // Copy construction and copy assignment alike: the copy's registered connection is the
  // copy's own, and changing it leaves the original alone.
  snn::LIFRecurrentImpl constructed(a);
  snn::LIFRecurrentImpl assigned(snn::LIFOptions(2.0), torch::nn::Linear(3, 3));
  assigned = a;
  const auto original = a.named_parameters()["rec_connect.weight"];
  const auto value = original.clone();
  for (auto* copy : {&constructed, &assigned}) {
    const auto w = copy->named_parameters()["rec_connect.weight"];
    EXPECT_TRUE(at::equal(w, value));
    EXPECT_FALSE(w.is_same(original));
    EXPECT_EQ(copy->rec_connect.ptr().get(), copy->named_children()["rec_connect"].get())
        << "the registered module is the one forward uses";
    torch::NoGradGuard no_grad;
    w.add_(1.0);
  }
  EXPECT_TRUE(at::equal(original, value)) << "a copy's connection is its own";
}

TEST(NeuronLayersTest, RecordedStatesArePublic) {
  torch::nn::Sequential model(torch::nn::Linear(4, 6),
                              snn::LIF(snn::LIFOptions(5.0).record_states(true)),
                              torch::nn::Linear(6, 2), snn::IAF());
  model->forward(at::rand({2, 7, 4}) * 3);
  const auto layers = snn::recorded_states(*model);
  ASSERT_EQ(layers.size(), 2u);
  EXPECT_EQ(layers[0].name, "1");
  EXPECT_EQ(layers[0].states.at("v_mem").sizes(), (std::vector<int64_t>{2, 7, 6}));
  EXPECT_EQ(layers[1].name, "3");
  EXPECT_TRUE(layers[1].states.empty()) << "IAF was built without record_states";
  EXPECT_EQ(snn::recordings(*model[0]), nullptr) << "a Linear is no neuron layer";
  const auto* direct = snn::recordings(*model[1]);
  ASSERT_NE(direct, nullptr);
  EXPECT_TRUE(at::equal(direct->at("v_mem"), layers[0].states.at("v_mem")));
}

TEST(NeuronLayersTest, ChoicesParseFromTheirText) {
  const std::vector<snn::SpikeFn> spikes = {snn::MultiSpike{}, snn::SingleSpike{},
                                            snn::MaxSpike{3}};
  for (const auto& f : spikes) {
    EXPECT_EQ(snn::to_string(snn::parse_spike_fn(snn::to_string(f))), snn::to_string(f));
  }
  const std::vector<snn::ResetFn> resets = {snn::MembraneSubtract{}, snn::MembraneSubtract{0.5},
                                            snn::MembraneReset{-0.25}};
  for (const auto& f : resets) {
    EXPECT_EQ(snn::to_string(snn::parse_reset_fn(snn::to_string(f))), snn::to_string(f));
  }
  const std::vector<snn::Surrogate> surrogates = {
      snn::SingleExponential{0.3, 2.0}, snn::Heaviside{0.5}, snn::Gaussian{0.1, 0.2, 3.0},
      snn::MultiGaussian{0.0, 0.4, 0.2, 5.0, 1.5}, snn::PeriodicExponential{0.7, 0.9},
      snn::ATan{3.0}, snn::FastSigmoid{10.0}, snn::Sigmoid{4.0}, snn::SpikeRateEscape{2.0, 3.0},
      snn::Triangular{0.5}, snn::StraightThroughEstimator{}};
  for (const auto& f : surrogates) {
    EXPECT_EQ(snn::to_string(snn::parse_surrogate(snn::to_string(f))), snn::to_string(f));
  }
  // The options' defaults are the op's: a choice built with none of its arguments prints
  // as the op's parser fills it in.
  const std::vector<snn::Surrogate> defaults = {snn::SingleExponential{}, snn::Heaviside{},
                                                snn::Gaussian{}, snn::MultiGaussian{},
                                                snn::PeriodicExponential{}, snn::ATan{},
                                                snn::FastSigmoid{}, snn::Sigmoid{},
                                                snn::SpikeRateEscape{}, snn::Triangular{},
                                                snn::StraightThroughEstimator{}};
  for (const auto& f : defaults) {
    const auto text = snn::to_string(f);
    const auto bare = text.substr(0, text.find('(')) + "()";
    EXPECT_EQ(snn::to_string(snn::parse_surrogate(bare)), text);
  }
  EXPECT_EQ(snn::to_string(snn::parse_reset_fn("MembraneReset()")),
            snn::to_string(snn::ResetFn(snn::MembraneReset{})));
  EXPECT_EQ(snn::to_string(snn::parse_reset_fn("MembraneSubtract()")),
            snn::to_string(snn::ResetFn(snn::MembraneSubtract{})));
  // Arguments left out take their defaults.
  EXPECT_EQ(snn::to_string(snn::parse_surrogate("Gaussian(sigma=0.3)")),
            snn::to_string(snn::Surrogate(snn::Gaussian{0.0, 0.3, 1.0})));
  EXPECT_NE(snn::test::error_of([] { snn::parse_spike_fn("OneSpike()"); }).find("OneSpike"),
            std::string::npos);
  EXPECT_NE(snn::test::error_of([] { snn::parse_spike_fn("SingleSpike(), min_v_mem=1"); })
                .find("expected one spike value"),
            std::string::npos);
}

TEST(NeuronLayersTest, SaveAndLoadKeepALIFStates) {
  snn::ALIF a(snn::ALIFOptions(10.0, 40.0).tau_syn(2.0));
  a->forward(at::rand({2, 6, 3}) * 8);
  std::stringstream stream;
  torch::save(a, stream);
  snn::ALIF b(snn::ALIFOptions(3.0, 5.0).tau_syn(4.0));
  torch::load(b, stream);
  EXPECT_EQ(b->tau_adapt.item<double>(), 40.0);
  for (const auto& name : {"v_mem", "b", "i_syn"}) {
    EXPECT_TRUE(at::equal(b->state(name), a->state(name))) << name;
  }
}

TEST(NeuronLayersTest, BadOptionsAreNamed) {
  EXPECT_THROW_WITH(snn::ALIF(snn::ALIFOptions(10.0, -2.0)), "snn::ALIF: tau_adapt must be > 0, got -2");
  EXPECT_THROW_WITH(snn::ExpLeak(snn::ExpLeakOptions(0.0)), "snn::ExpLeak: tau_mem must be > 0, got 0");
  EXPECT_THROW_WITH(snn::UnflattenTime(0), "snn::UnflattenTime: batch_size must be >= 1, got 0");
  EXPECT_THROW_WITH(snn::UnflattenTime(4)->forward(at::rand({6, 2})),
                    "must be a multiple of batch_size 4");
  EXPECT_THROW_WITH(snn::SumPool2d(0), "snn::SumPool2d: kernel_size must be >= 1");
}

struct Wrapper : torch::nn::Module {
  Wrapper() { relu = register_module("relu", torch::nn::ReLU()); }
  at::Tensor forward(const at::Tensor& x) { return relu(x); }
  torch::nn::ReLU relu{nullptr};
};

TEST(ConversionTest, ReplacesEveryReLUAndKeepsWeights) {
  torch::nn::Sequential ann(torch::nn::Linear(4, 6), torch::nn::ReLU(), torch::nn::Linear(6, 2),
                            torch::nn::ReLU());
  auto snn_model = snn::from_model(ann, snn::FromModelOptions().batch_size(2).bias_rescaling(2.0));
  ASSERT_EQ(snn_model->size(), 4u);
  EXPECT_NE(snn_model->ptr(1)->as<snn::IAFSqueezeImpl>(), nullptr);
  EXPECT_NE(snn_model->ptr(3)->as<snn::IAFSqueezeImpl>(), nullptr);
  const auto& a = *ann->ptr(0)->as<torch::nn::LinearImpl>();
  const auto& s = *snn_model->ptr(0)->as<torch::nn::LinearImpl>();
  EXPECT_TRUE(at::equal(a.weight, s.weight));
  EXPECT_FALSE(a.weight.is_same(s.weight)) << "a deep copy";
  EXPECT_TRUE(at::allclose(s.bias, a.bias / 2));
  const auto out = snn_model->forward(at::rand({2 * 5, 4}) * 3);
  EXPECT_EQ(out.sizes(), at::IntArrayRef({10, 2}));

  EXPECT_THROW_WITH(snn::from_model(ann), "snn::from_model: give batch_size or num_timesteps");
  torch::nn::Sequential wrapped(torch::nn::Linear(4, 4), Wrapper());
  EXPECT_THROW_WITH(snn::from_model(wrapped, snn::FromModelOptions().batch_size(1)),
                    "snn::from_model: cannot replace the ReLU '1.relu'");
  EXPECT_THROW_WITH(snn::normalize_weights(ann, at::rand({3, 4}), {"1"}, {"9"}),
                    "snn::normalize_weights: no layer named '9'");
}

}  // namespace
