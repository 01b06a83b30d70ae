#pragma once
// Internal: the NIR node table — what each node type becomes when imported (per convention
// for the neurons) — shared by the graph executor (import.cpp) and the README's mapping.
#include <ATen/core/Tensor.h>
#include <torch/nn/module.h>

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "snn/nir/convert.h"

namespace snn::nir::detail {

/// A node as imported: its module (null for Input / Output) and how it runs over
/// batch-first [B, T, ...] input.
struct BuiltNode {
  std::shared_ptr<torch::nn::Module> module;
  std::function<at::Tensor(const at::Tensor&)> run;
};

/// Builds the module of node `name`; errors name the node, its type and the reason.
BuiltNode build_node(const std::string& name, const Node& node, const ImportOptions& options);

/// Whether nodes of this type keep a state from step to step (neurons, Delay).
bool is_stateful(const std::string& type);

/// The shape of one step's output of a neuron or Delay node, from its parameters (none
/// for other nodes, or when the parameters are scalars).
std::optional<std::vector<int64_t>> output_features(const Node& node);

/// The time step an import uses: ImportOptions::dt, or the convention's default.
double import_dt(const ImportOptions& options);


}  // namespace snn::nir::detail
