// Data-parallel training from C++: the Trainer on a c10d + Gloo process group that torchrun
// sets up (snn/train/distributed.h). The same program runs alone or as several processes:
//
//   build/distributed_training                                   (one process)
//   torchrun --standalone --nproc-per-node 2 --no-python build/distributed_training
//
// The task: which of 4 input channel groups fires fastest (random spike trains, 64 channels
// over 50 steps); the network: Linear(64 -> 32) -> LIF -> Linear(32 -> 4) -> LIF, the class
// with the most output spikes; Adam, 8 epochs, global batch 32. Every rank builds the same
// data from the seed; the Trainer deals each batch out over the ranks and sums their
// gradients with Gloo's allreduce. Rank 0 prints. Exits 0 when the loss fell and the test
// accuracy beats chance (1 otherwise).
#include <torch/nn/modules/container/sequential.h>
#include <torch/nn/modules/linear.h>
#include <torch/optim/adam.h>

#include <iostream>

#include "snn/snn.h"
#include "snn/train/distributed.h"
#include "snn/train/trainer.h"

namespace {

// N samples [N, 50, 64]: the channels of group `label` fire with probability 0.3, the others
// with 0.1.
snn::train::Dataset make_data(int64_t n, uint64_t seed) {
  auto gen = at::make_generator<at::CPUGeneratorImpl>(seed);
  const auto labels = at::randint(4, {n}, gen, at::kLong);
  auto p = at::full({n, 1, 64}, 0.1);
  for (int64_t i = 0; i < n; ++i) {
    const int64_t g = labels[i].item<int64_t>();
    p[i].slice(1, 16 * g, 16 * (g + 1)).fill_(0.3);
  }
  return {(at::rand({n, 50, 64}, gen) < p).to(at::kFloat), labels};
}

}  // namespace

int main() {
  // Null when the process was not started by torchrun (or with one process).
  const auto dist = snn::train::Distributed::from_environment();
  const bool main_rank = dist == nullptr || dist->is_main();
  torch::manual_seed(0);  // every rank the same model; rank 0's weights are broadcast anyway
  torch::nn::Sequential model(torch::nn::Linear(64, 32), snn::LIF(snn::LIFOptions(10.0)),
                              torch::nn::Linear(32, 4), snn::LIF(snn::LIFOptions(10.0)));
  auto adam = std::make_shared<torch::optim::Adam>(model->parameters(),
                                                   torch::optim::AdamOptions(5e-3));
  snn::train::Trainer trainer(
      model, adam,
      snn::train::TrainerOptions().epochs(8).batch_size(32).seed(1).distributed(dist));
  trainer.on_epoch = [&](const snn::train::EpochMetrics& m) {
    if (main_rank) {
      std::cout << "epoch " << m.epoch + 1 << ": loss " << m.train_loss << ", test accuracy "
                << m.test_accuracy << "\n";
    }
    return true;
  };
  const auto history = trainer.fit(make_data(512, 1), make_data(128, 2));
  const bool fell = history.back().train_loss < history.front().train_loss;
  const bool learned = history.back().test_accuracy > 0.5;
  if (main_rank) {
    std::cout << (dist ? dist->world_size() : 1) << " process(es): the loss "
              << (fell ? "fell" : "did NOT fall") << " from " << history.front().train_loss
              << " to " << history.back().train_loss << ", test accuracy "
              << history.back().test_accuracy << "\n";
  }
  return fell && learned ? 0 : 1;
}
