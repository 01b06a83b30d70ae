// The convolutional SNN of Sinabs' tutorials in C++ (the network of "Training an SNN with
// fewer synops"): frames [B, T, 1, 28, 28] in, spike counts of 10 classes [B, T, 10] out.
//
//   FlattenTime → Conv2d(1→16, k5) → IAFSqueeze → SumPool2d(2) → Conv2d(16→32, k5)
//   → IAFSqueeze → SumPool2d(2) → Conv2d(32→120, k4) → IAFSqueeze → Flatten
//   → Linear(120→10) → IAFSqueeze → UnflattenTime
//
// Usage:
//   conv_snn                    random input spikes; prints the network and its output spikes
//   conv_snn CASE.pt RESULT.pt  the weights ("weights": name → tensor, as the Python
//                               nn.Sequential names them) and the input ("input") from CASE;
//                               writes the output and the gradients of output.sum() with
//                               respect to every weight (the parity test runs this).
#include <torch/nn/modules/container/sequential.h>
#include <torch/nn/modules/conv.h>
#include <torch/nn/modules/linear.h>
#include <torch/serialize.h>

#include <fstream>
#include <iostream>
#include <iterator>

#include "snn/snn.h"

namespace {

torch::nn::Sequential conv_snn(int64_t batch_size) {
  // Every spiking layer: IAF over squeezed input [B·T, ...], membrane bounded below at -1.
  auto iaf = [&] {
    return snn::IAFSqueeze(snn::IAFOptions().min_v_mem(-1.0),
                           snn::SqueezeOptions().batch_size(batch_size));
  };
  using torch::nn::Conv2dOptions;
  return torch::nn::Sequential(
      snn::FlattenTime(), torch::nn::Conv2d(Conv2dOptions(1, 16, 5).bias(false)), iaf(),
      snn::SumPool2d(2), torch::nn::Conv2d(Conv2dOptions(16, 32, 5).bias(false)), iaf(),
      snn::SumPool2d(2), torch::nn::Conv2d(Conv2dOptions(32, 120, 4).bias(false)), iaf(),
      torch::nn::Flatten(), torch::nn::Linear(torch::nn::LinearOptions(120, 10).bias(false)),
      iaf(), snn::UnflattenTime(batch_size));
}

c10::Dict<c10::IValue, c10::IValue> load(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  TORCH_CHECK(in, "conv_snn: cannot open ", path);
  std::vector<char> bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  return torch::pickle_load(bytes).toGenericDict();
}

}  // namespace

int main(int argc, char** argv) {
  try {
    if (argc == 1) {
      torch::manual_seed(0);
      const int64_t B = 2, T = 20;
      auto model = conv_snn(B);
      const auto input = (torch::rand({B, T, 1, 28, 28}) < 0.2).to(torch::kFloat) * 2;
      const auto output = model->forward(input);
      std::cout << model << "\noutput " << output.sizes() << ", " << output.sum().item<double>()
                << " spikes\n";
      return 0;
    }
    if (argc != 3) {
      std::cerr << "usage: conv_snn [CASE.pt RESULT.pt]\n";
      return 2;
    }
    const auto c = load(argv[1]);
    const auto input = c.at("input").toTensor();
    auto model = conv_snn(input.size(0));
    const auto weights = c.at("weights").toGenericDict();
    {
      torch::NoGradGuard no_grad;
      for (auto& p : model->named_parameters()) {
        TORCH_CHECK(weights.contains(p.key()), "conv_snn: the case has no weight ", p.key());
        p.value().copy_(weights.at(p.key()).toTensor());
      }
    }
    const auto output = model->forward(input);
    output.sum().backward();
    c10::impl::GenericDict out(c10::StringType::get(), c10::AnyType::get());
    out.insert("output", output.detach());
    for (const auto& p : model->named_parameters()) out.insert("grad_" + p.key(), p.value().grad());
    const auto bytes = torch::pickle_save(out);
    const std::string tmp = std::string(argv[2]) + ".tmp";
    std::ofstream(tmp, std::ios::binary).write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
    std::rename(tmp.c_str(), argv[2]);
  } catch (const std::exception& e) {
    std::cerr << "conv_snn: " << e.what() << "\n";
    return 1;
  }
  return 0;
}
