// spikingtorch's tutorial flow in C++: encoder → SpikingNet → decoder → cross-entropy, with
// its tutorial's network (conv → IF → conv → IF → Linear → IF, each layer told by the
// `init` flag to start from rest at the first step), on data that exists offline: the
// embedded spoken digits, each sample's cochleagram (time × channels) resized to a 28×28
// image with values in [0, 1].
//
//   images [B, 1, 28, 28] --PoissonEncoder(8)--> spikes [B, 8, 28, 28]
//   --SpikingNet(net, {classes})--> [B, 8, classes] --SumDecoder(8, 1)--> logits
//   loss: cross_entropy(logits, labels); Adam(lr 1e-3)
//
// Usage: spikingtorch_tutorial [--data DIR] [--epochs N] [--seed N]. Prints the loss per
// epoch; exits 0 when the last epoch's loss is below the first's (1 otherwise).
#include <ATen/ATen.h>
#include <torch/nn/modules/conv.h>
#include <torch/nn/modules/linear.h>
#include <torch/optim/adam.h>

#include <cstdlib>
#include <cstring>
#include <iomanip>
#include <iostream>
#include <string>

#include "snn/snn.h"

namespace st = snn::spikingtorch;

// The tutorial's MySNN: forward(x, init) is one step; x is [B, 1, 28, 28].
struct MySNNImpl : torch::nn::Module {
  explicit MySNNImpl(int64_t nout) {
    using torch::nn::Conv2dOptions;
    conv1 = register_module("conv1", torch::nn::Conv2d(Conv2dOptions(1, 4, 4).stride(2)));  // 13×13
    conv2 = register_module("conv2", torch::nn::Conv2d(Conv2dOptions(4, 6, 4)));            // 10×10
    l1 = register_module("l1", torch::nn::Linear(torch::nn::LinearOptions(600, nout).bias(false)));
    sl1 = register_module("sl1", st::IF());
    sl2 = register_module("sl2", st::IF());
    sl3 = register_module("sl3", st::IF());
  }
  at::Tensor forward(const at::Tensor& x, bool init) {
    const auto s1 = sl1(conv1(x), init);
    const auto s2 = sl2(conv2(s1), init);
    return sl3(l1(s2.reshape({s2.size(0), -1})), init);
  }
  torch::nn::Conv2d conv1{nullptr}, conv2{nullptr};
  torch::nn::Linear l1{nullptr};
  st::IF sl1{nullptr}, sl2{nullptr}, sl3{nullptr};
};
TORCH_MODULE(MySNN);

// Cochleagrams [N, T, channels] → images [N, 1, 28, 28] in [0, 1] (per sample).
at::Tensor images(const at::Tensor& frames) {
  auto x = at::adaptive_avg_pool2d(frames.to(at::kFloat).unsqueeze(1), {28, 28});
  return x / x.amax({1, 2, 3}, true).clamp_min(1e-6);
}

int main(int argc, char** argv) {
  std::string data_dir = "spikingtorch_tutorial_data";
  int64_t epochs = 12, seed = 0;
  for (int a = 1; a + 1 < argc; a += 2) {
    if (std::strcmp(argv[a], "--data") == 0) data_dir = argv[a + 1];
    else if (std::strcmp(argv[a], "--epochs") == 0) epochs = std::atoll(argv[a + 1]);
    else if (std::strcmp(argv[a], "--seed") == 0) seed = std::atoll(argv[a + 1]);
  }
  torch::manual_seed(seed);
  const auto data = snn::train::load_data(
      snn::train::DataOptions().path(data_dir).voices(8).renditions(1));
  const auto train_x = images(data.train.inputs), test_x = images(data.test.inputs);
  const int64_t nsteps = 8, batch = 32;

  st::SpikingNet model(MySNN(data.classes), {data.classes});
  const st::PoissonEncoder encoder(nsteps, 1.0);
  const st::SumDecoder decoder(nsteps, 1.0);
  torch::optim::Adam optimizer(model->parameters(), torch::optim::AdamOptions(1e-3));

  double first = 0, last = 0;
  for (int64_t epoch = 0; epoch < epochs; ++epoch) {
    const auto order = torch::randperm(train_x.size(0));
    double total = 0;
    int64_t batches = 0;
    for (int64_t i = 0; i < order.size(0); i += batch) {
      const auto idx = order.slice(0, i, std::min<int64_t>(i + batch, order.size(0)));
      const auto output = decoder(model(encoder(train_x.index_select(0, idx))));
      const auto loss = at::cross_entropy_loss(output, data.train.labels.index_select(0, idx));
      optimizer.zero_grad();
      loss.backward();
      optimizer.step();
      total += loss.item<double>();
      ++batches;
    }
    torch::NoGradGuard no_grad;
    const auto predicted = decoder(model(encoder(test_x))).argmax(1);
    const double accuracy = predicted.eq(data.test.labels).to(at::kDouble).mean().item<double>();
    const double mean = total / static_cast<double>(batches);
    if (epoch == 0) first = mean;
    last = mean;
    std::cout << "epoch " << epoch << ": loss " << std::fixed << std::setprecision(4) << mean
              << ", test accuracy " << accuracy << "\n";
  }
  if (last < first) {
    std::cout << "the loss fell from " << first << " to " << last << "\n";
    return 0;
  }
  std::cout << "the loss did NOT fall: " << first << " -> " << last << "\n";
  return 1;
}
