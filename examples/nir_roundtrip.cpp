// A model that moves: a network of snn.cpp layers written as a NIR graph, read back and run
// again — the same spikes — and the same file's neurons run as Norse would run them.
//
//   Linear(16 -> 32) -> LIF(τ 10 steps, no input normalisation) -> Linear(32 -> 4) -> LIF
//   export: snn::nir::export_module with a sample input (its shapes), snn::nir::write
//   import:  snn::nir::load (the file's own layers: Sinabs' LIF comes back exactly), and
//            with the Norse convention, discarding what snn.cpp keeps in the metadata,
//            NIR's LIF as Norse discretises it (a different neuron: other spikes)
//
// Usage: nir_roundtrip [FILE] (default: model.nir in the working directory). Prints what it
// wrote and whether the re-imported model gives the original's spikes; exits 0 when it does.
#include <torch/nn/modules/container/sequential.h>
#include <torch/nn/modules/linear.h>

#include <iostream>
#include <string>

#include "snn/snn.h"

int main(int argc, char** argv) {
  const std::string path = argc > 1 ? argv[1] : "model.nir";
  torch::manual_seed(0);
  torch::nn::Sequential model(torch::nn::Linear(16, 32),
                              snn::LIF(snn::LIFOptions(10.0).spike_threshold(0.5).norm_input(false)),
                              torch::nn::Linear(32, 4),
                              snn::LIF(snn::LIFOptions(10.0).spike_threshold(0.5).norm_input(false)));
  const auto input = (torch::rand({2, 50, 16}) < 0.3).to(torch::kFloat);  // [B, T, features]

  snn::reset_states(*model);
  const auto spikes = model->forward(input);
  const auto graph = snn::nir::export_module(*model, input);
  snn::nir::write(path, graph);
  std::cout << "wrote " << path << ": " << graph.nodes.size() << " nodes, "
            << graph.edges.size() << " edges\n"
            << snn::nir::describe(graph);

  auto again = snn::nir::load(path);
  const bool same = torch::equal(again->forward(input), spikes);
  std::cout << "re-imported: " << (same ? "the same spikes" : "other spikes") << " ("
            << spikes.sum().item<double>() << " in all)\n";

  // NIR's LIF as Norse runs it (forward Euler, reset to v_reset), τ read in steps (dt = 1):
  // what the file's nodes say without snn.cpp's metadata.
  auto bare = graph;
  for (auto& [name, node] : bare.nodes) node.metadata.clear();
  snn::nir::GraphModule norse(bare, snn::nir::ImportOptions().dt(1.0));
  std::cout << "as Norse runs the nodes: " << norse->forward(input).sum().item<double>()
            << " spikes\n";
  return same ? 0 : 1;
}
