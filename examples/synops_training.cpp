// Training an SNN towards a number of synaptic operations (Sinabs' tutorial "Training an SNN
// with fewer synops", in C++): the tutorial's conv SNN (snn::train::tutorial_conv_snn; built
// layer by layer in examples/conv_snn.cpp) on random input spikes, the target
// twice the synops of the untrained model, Adam, states (and their graphs) reset every
// epoch. The loss is the squared relative distance to the target, built from the analyzer's
// synops of this batch, which carry the gradient to every weight.
//
//   FlattenTime → Conv2d(1→16, k5) → IAFSqueeze → SumPool2d(2) → Conv2d(16→32, k5)
//   → IAFSqueeze → SumPool2d(2) → Conv2d(32→120, k4) → IAFSqueeze → Flatten
//   → Linear(120→10) → IAFSqueeze → UnflattenTime
//
// Usage: synops_training [--epochs N] [--seed S] [--lr X] [--out DIR]
// Writes DIR/curves.csv (epoch, synops, target, firing rate of the model and of each layer)
// and DIR/histograms.csv (per layer, the histogram of the neurons' firing rates before and
// after training); prints the final synops against the target and exits 0 when it is within
// 5% of it, 1 otherwise.
#include <torch/nn/modules/container/sequential.h>
#include <torch/optim/adam.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <iomanip>
#include <iostream>
#include <sstream>
#include <string>

#include "snn/snn.h"

namespace {

// Per layer, the counts of neurons whose firing rate falls in each of `bins` bins of
// [0, max_rate].
void histograms(std::ostringstream& os, const char* when,
                const std::vector<snn::analysis::SpikingLayerStatistics>& layers, int bins,
                double max_rate) {
  for (const auto& l : layers) {
    const auto rates = l.firing_rate_per_neuron.detach().reshape(-1);
    const auto counts = at::histc(rates.clamp_max(max_rate), bins, 0.0, max_rate);
    for (int b = 0; b < bins; ++b) {
      os << when << ',' << l.name << ',' << max_rate * b / bins << ','
         << max_rate * (b + 1) / bins << ',' << counts[b].item<double>() << '\n';
    }
  }
}

struct Args {
  int epochs = 100;
  int64_t seed = 0;
  double lr = 1e-3;
  std::string out = "synops_training_out";
};

Args parse(int argc, char** argv) {
  Args a;
  for (int i = 1; i < argc; ++i) {
    const std::string k = argv[i];
    if (i + 1 >= argc) throw std::invalid_argument("missing value after " + k);
    const std::string v = argv[++i];
    if (k == "--epochs") {
      a.epochs = std::stoi(v);
    } else if (k == "--seed") {
      a.seed = std::stoll(v);
    } else if (k == "--lr") {
      a.lr = std::stod(v);
    } else if (k == "--out") {
      a.out = v;
    } else {
      throw std::invalid_argument("unknown option " + k);
    }
  }
  if (a.epochs < 1) throw std::invalid_argument("--epochs must be >= 1");
  if (!(a.lr > 0)) throw std::invalid_argument("--lr must be > 0");
  return a;
}

}  // namespace

int main(int argc, char** argv) {
  Args args;
  try {
    args = parse(argc, argv);
  } catch (const std::exception& e) {
    std::cerr << "synops_training: " << e.what()
              << "\nusage: synops_training [--epochs N] [--seed S] [--lr X] [--out DIR]\n";
    return 2;
  }
  try {
    torch::manual_seed(args.seed);
    const int64_t B = 5, T = 10;
    auto model = snn::train::tutorial_conv_snn(B);
    snn::analysis::Analyzer analyzer(model);
    const auto input = (torch::rand({B, T, 1, 28, 28}) < 0.3).to(torch::kFloat);

    // The untrained model's synops set the target.
    {
      torch::NoGradGuard no_grad;
      analyzer.forward(input);
    }
    const double initial = analyzer.model_statistics().synops.item<double>();
    const double target = 2.0 * initial;
    const auto before = analyzer.spiking_layers();
    double max_rate = 0;
    for (const auto& l : before) max_rate = std::max(max_rate, l.firing_rate_per_neuron.max().item<double>());

    torch::optim::Adam optimizer(model->parameters(), torch::optim::AdamOptions(args.lr));
    std::ostringstream curves;
    curves << "epoch,synops,target,firing_rate";
    for (const auto& l : before) curves << ",firing_rate_" << l.name;
    curves << '\n';
    double synops = initial;
    for (int epoch = 0; epoch < args.epochs; ++epoch) {
      snn::reset_states(*model);
      snn::zero_grad(*model);
      optimizer.zero_grad();
      analyzer.reset();
      analyzer.forward(input);
      const auto stats = analyzer.model_statistics();
      const auto loss = (stats.synops / target - 1.0).square();
      loss.backward();
      optimizer.step();
      synops = stats.synops.item<double>();
      curves << epoch << ',' << synops << ',' << target << ','
             << stats.firing_rate.item<double>();
      for (const auto& l : analyzer.spiking_layers()) curves << ',' << l.firing_rate.item<double>();
      curves << '\n';
      if (epoch % 10 == 0 || epoch + 1 == args.epochs) {
        std::cout << "epoch " << std::setw(3) << epoch << "  synops " << std::setw(10)
                  << std::fixed << std::setprecision(1) << synops << "  target " << target
                  << "  firing rate " << std::setprecision(4) << stats.firing_rate.item<double>()
                  << '\n';
      }
    }
    // The trained model's synops, on the same input, after the last step.
    {
      torch::NoGradGuard no_grad;
      snn::reset_states(*model);
      analyzer.reset();
      analyzer.forward(input);
    }
    const double final_synops = analyzer.model_statistics().synops.item<double>();
    const auto after = analyzer.spiking_layers();
    for (const auto& l : after) max_rate = std::max(max_rate, l.firing_rate_per_neuron.max().item<double>());
    std::ostringstream hist;
    hist << "when,layer,rate_low,rate_high,neurons\n";
    histograms(hist, "before", before, 20, max_rate);
    histograms(hist, "after", after, 20, max_rate);

    const std::filesystem::path dir(args.out);
    std::filesystem::create_directories(dir);
    snn::io::write_file_atomically((dir / "curves.csv").string(), curves.str());
    snn::io::write_file_atomically((dir / "histograms.csv").string(), hist.str());

    const double error = std::abs(final_synops / target - 1.0);
    std::cout << std::setprecision(1) << "synops: untrained " << initial << ", target " << target
              << ", trained " << final_synops << " (" << std::setprecision(2) << 100 * error
              << "% from the target)\n"
              << "wrote " << (dir / "curves.csv").string() << " and "
              << (dir / "histograms.csv").string() << '\n';
    if (error <= 0.05) {
      std::cout << "within 5% of the target\n";
      return 0;
    }
    std::cout << "NOT within 5% of the target\n";
    return 1;
  } catch (const std::exception& e) {
    std::cerr << "synops_training: " << e.what() << '\n';
    return 1;
  }
}
