// The Sinabs quickstart in C++: train a two-layer spiking network with BPTT until its
// output emits the target number of spikes.
//
//   Linear(16 -> 64) -> LIF(tau_mem 10) -> Linear(64 -> 4) -> LIF(tau_mem 10)
//   input: random spikes [1, 100, 16]; loss: (total output spikes - 10)^2; RMSprop.
//
// Usage: quickstart [--seed N] [--max-epochs N]. Prints the spike count per epoch and
// exits 0 once the output has exactly 10 spikes (1 if it never gets there).
#include <torch/nn/modules/container/sequential.h>
#include <torch/nn/modules/linear.h>
#include <torch/optim/rmsprop.h>

#include <cstdlib>
#include <cstring>
#include <iostream>

#include "snn/snn.h"

int main(int argc, char** argv) {
  int64_t seed = 0, max_epochs = 500;
  for (int a = 1; a + 1 < argc; a += 2) {
    if (std::strcmp(argv[a], "--seed") == 0)
      seed = std::atoll(argv[a + 1]);
    else if (std::strcmp(argv[a], "--max-epochs") == 0)
      max_epochs = std::atoll(argv[a + 1]);
  }
  torch::manual_seed(seed);
  const double target = 10;

  torch::nn::Sequential model(torch::nn::Linear(16, 64), snn::LIF(snn::LIFOptions(10.0)),
                              torch::nn::Linear(64, 4), snn::LIF(snn::LIFOptions(10.0)));
  // Random input spikes: each input fires at each step with probability 0.1.
  const auto input = (torch::rand({1, 100, 16}) < 0.1).to(torch::kFloat);
  torch::optim::RMSprop optimizer(model->parameters(), torch::optim::RMSpropOptions(1e-3));

  std::cout << model << "\n";
  for (int64_t epoch = 0; epoch < max_epochs; ++epoch) {
    // Each epoch is a new sequence: fresh state, and no gradient kept from the last one.
    snn::reset_states(*model);
    snn::zero_grad(*model);
    optimizer.zero_grad();
    const auto output = model->forward(input);
    const double spikes = output.sum().item<double>();
    std::cout << "epoch " << epoch << ": " << spikes << " output spikes\n";
    if (spikes == target) {
      std::cout << "reached " << target << " output spikes after " << epoch << " epochs\n";
      return 0;
    }
    const auto loss = (output.sum() - target).pow(2);
    loss.backward();
    optimizer.step();
  }
  std::cout << "did not reach " << target << " output spikes in " << max_epochs << " epochs\n";
  return 1;
}
