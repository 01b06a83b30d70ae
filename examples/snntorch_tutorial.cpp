// snnTorch's tutorial network in C++ (its tutorial 5 with the learnable decays of tutorial
// 6's follow-up), on data that exists offline: the embedded spoken digits.
//
//   Linear(140 -> 128) -> Leaky -> Linear(128 -> classes) -> Leaky
//   every neuron its own learnable beta (a tensor of 0.95s, learn_beta);
//   input: each sample's cochleagram summed over time, scaled to [0, 1], rate-coded by
//   spikegen::rate over 25 steps (time-first, as snnTorch gives it; the layers take
//   batch-first); loss: snnTorch's ce_rate_loss (cross-entropy at every step, averaged);
//   Adam(lr 5e-3, betas 0.9 / 0.999).
//
// Usage: snntorch_tutorial [--data DIR] [--epochs N] [--seed N]. DIR caches the generated
// spoken digits (default: a folder in the working directory). Prints the loss per epoch and
// exits 0 when the last epoch's loss is below the first's (1 otherwise).
#include <torch/nn/modules/linear.h>
#include <torch/optim/adam.h>

#include <cstdlib>
#include <cstring>
#include <iomanip>
#include <iostream>
#include <string>

#include "snn/snn.h"

namespace st = snn::snntorch;

struct NetImpl : torch::nn::Module {
  NetImpl(int64_t inputs, int64_t hidden, int64_t outputs) {
    fc1 = register_module("fc1", torch::nn::Linear(inputs, hidden));
    lif1 = register_module(
        "lif1", st::Leaky(st::LeakyOptions(torch::full({hidden}, 0.95)).learn_beta(true)));
    fc2 = register_module("fc2", torch::nn::Linear(hidden, outputs));
    lif2 = register_module(
        "lif2", st::Leaky(st::LeakyOptions(torch::full({outputs}, 0.95)).learn_beta(true)));
  }
  // x [B, T, inputs] → output spikes [B, T, outputs]; each call starts from zero states.
  at::Tensor forward(const at::Tensor& x) {
    lif1->reset_mem();
    lif2->reset_mem();
    return lif2(fc2(lif1(fc1(x))));
  }
  torch::nn::Linear fc1{nullptr}, fc2{nullptr};
  st::Leaky lif1{nullptr}, lif2{nullptr};
};
TORCH_MODULE(Net);

// A sample's cochleagram [T, channels] summed over time and scaled to [0, 1] per sample.
at::Tensor intensities(const at::Tensor& frames) {
  const auto summed = frames.to(at::kFloat).sum(1);
  return summed / summed.amax(1, true).clamp_min(1e-6);
}

int main(int argc, char** argv) {
  std::string data_dir = "snntorch_tutorial_data";
  int64_t epochs = 15, seed = 0;
  for (int a = 1; a + 1 < argc; a += 2) {
    if (std::strcmp(argv[a], "--data") == 0) data_dir = argv[a + 1];
    else if (std::strcmp(argv[a], "--epochs") == 0) epochs = std::atoll(argv[a + 1]);
    else if (std::strcmp(argv[a], "--seed") == 0) seed = std::atoll(argv[a + 1]);
  }
  torch::manual_seed(seed);
  const auto data = snn::train::load_data(
      snn::train::DataOptions().path(data_dir).voices(8).renditions(1));
  const auto train_x = intensities(data.train.inputs), test_x = intensities(data.test.inputs);
  const int64_t num_steps = 25, batch = 32;

  Net net(train_x.size(1), 128, data.classes);
  torch::optim::Adam optimizer(net->parameters(),
                               torch::optim::AdamOptions(5e-3).betas({0.9, 0.999}));
  auto rate_coded = [&](const at::Tensor& x) {
    // spikegen.rate: [num_steps, B, inputs] → batch-first for the layers.
    return st::spikegen::rate(x, st::spikegen::RateOptions().num_steps(num_steps)).transpose(0, 1);
  };

  double first = 0, last = 0;
  for (int64_t epoch = 0; epoch < epochs; ++epoch) {
    const auto order = torch::randperm(train_x.size(0));
    double total = 0;
    int64_t batches = 0;
    for (int64_t i = 0; i < order.size(0); i += batch) {
      const auto idx = order.slice(0, i, std::min<int64_t>(i + batch, order.size(0)));
      const auto spikes = net(rate_coded(train_x.index_select(0, idx)));
      // snnTorch's ce_rate_loss takes time-first spikes [T, B, classes].
      const auto loss = st::functional::ce_rate_loss(spikes.transpose(0, 1),
                                                     data.train.labels.index_select(0, idx));
      optimizer.zero_grad();
      loss.backward();
      optimizer.step();
      total += loss.item<double>();
      ++batches;
    }
    torch::NoGradGuard no_grad;
    const auto out = net(rate_coded(test_x));
    const double accuracy = st::functional::accuracy_rate(out.transpose(0, 1), data.test.labels);
    const double mean = total / static_cast<double>(batches);
    if (epoch == 0) first = mean;
    last = mean;
    std::cout << "epoch " << epoch << ": loss " << std::fixed << std::setprecision(4) << mean
              << ", test accuracy " << accuracy << "\n";
  }
  const auto beta = net->lif1->beta;
  std::cout << "hidden beta: mean " << beta.mean().item<double>() << ", range ["
            << beta.min().item<double>() << ", " << beta.max().item<double>() << "]\n";
  if (last < first) {
    std::cout << "the loss fell from " << first << " to " << last << "\n";
    return 0;
  }
  std::cout << "the loss did NOT fall: " << first << " -> " << last << "\n";
  return 1;
}
