#pragma once
/// \file
/// NIR graphs as runnable modules (import) and modules as NIR graphs (export).
///
/// Import: snn::nir::GraphModule runs any NIR graph — chains, branches that merge (the
/// inputs of a node are summed, as NIR defines), subgraphs, and recurrent edges — on
/// batch-first input [B, T, *input shape] → [B, T, *output shape]. A feed-forward graph
/// runs whole sequences: each node once per call, neuron nodes through the fused neuron
/// op. A graph with a cycle runs step by step in time order: each edge that closes a cycle
/// carries its source's output of the previous step (zero at the first), as NIR's
/// recurrent examples and snnTorch's importer run them. States persist across calls and
/// reset with snn::reset_states, as for every stateful layer (snn/nn/stateful.h).
///
/// NIR's neurons are continuous-time systems (τ·dv/dt = (v_leak - v) + R·I, ...); each
/// library discretises them its own way, and a file written by one runs as it does there
/// when it is imported with that library's convention (Convention). The node mapping table
/// of each convention is in the README ("NIR") and in convert.cpp's table.
///
/// Export: snn::nir::export_module turns a model of snn.cpp layers (torch::nn::Sequential,
/// NestedSequential, GraphModule, and the layers they hold) into a Graph that nir.read
/// loads and that Sinabs', snnTorch's and Norse's importers turn into models.
#include <torch/arg.h>
#include <torch/nn/cloneable.h>
#include <torch/nn/module.h>
#include <torch/nn/pimpl.h>

#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "snn/nir/graph.h"
#include "snn/nn/stateful.h"

namespace snn::nir {

/// Whose discretisation of NIR's continuous-time neurons an import follows.
enum class Convention {
  /// Norse (norse.torch.from_nir): forward Euler with step dt, v_leak, r and v_reset as
  /// given, the spike when v > v_threshold, then v = v_reset. The NIR reference semantics.
  Norse,
  /// snnTorch (snntorch.import_from_nir): Leaky / Synaptic (RLeaky / RSynaptic for a
  /// recurrent Affine or Linear around a neuron) with β = 1 - dt/τ_mem, α = 1 - dt/τ_syn,
  /// subtractive reset, as snnTorch builds them.
  SnnTorch,
  /// Sinabs (sinabs.from_nir): IAF / LIF / ExpLeak with Sinabs' multi-spike and
  /// subtractive reset, τ in steps = τ / dt.
  Sinabs,
};
/// "norse", "snntorch", "sinabs" (and back); throws naming the text and the choices.
Convention parse_convention(const std::string& text);
std::string convention_name(Convention convention);

/// Options of an import. Example: `snn::nir::ImportOptions().dt(1e-3)`.
struct ImportOptions {
  /// The length of one time step, in the unit of the graph's time constants (NIR's files
  /// use seconds). Default: the convention's — Norse 1e-3 (from_nir's default), snnTorch
  /// 1e-4 (fixed in its importer and exporter), Sinabs 1 (its importer reads τ in steps).
  TORCH_ARG(std::optional<double>, dt) = std::nullopt;
  /// Whose discretisation the neurons follow. Default: Norse (the NIR reference).
  TORCH_ARG(Convention, convention) = Convention::Norse;
};

/// A NIR graph as a module (see the file comment).
class GraphModuleImpl : public torch::nn::Cloneable<GraphModuleImpl>, public StatefulModule {
 public:
  GraphModuleImpl(Graph graph, ImportOptions options = {});
  /// Rebuilds every node's module from the graph (the parameters' values as imported).
  void reset() override;
  /// input [B, T, *shape of the Input node] → [B, T, *shape of the Output node]; the graph
  /// must have one Input and one Output node.
  at::Tensor forward(const at::Tensor& input);
  /// Several inputs and outputs, by node name: every Input node needs a tensor; returns
  /// every Output node's.
  std::map<std::string, at::Tensor> forward_all(const std::map<std::string, at::Tensor>& inputs);
  /// Runs forward on `input` and returns what each node received (its inputs summed; for a
  /// graph that runs step by step, the last step's), by node name: for export and
  /// inspection.
  std::map<std::string, at::Tensor> node_inputs(const at::Tensor& input);
  /// Whether the graph has a cycle (and so runs step by step).
  bool recurrent() const { return recurrent_; }
  /// The nodes in the order they run.
  const std::vector<std::string>& order() const { return order_names_; }
  /// The module a node became (nullptr for Input and Output nodes), e.g. a snn::LIF.
  std::shared_ptr<torch::nn::Module> node_module(const std::string& name) const;
  /// The graph and the options it was imported with.
  const Graph& graph() const { return graph_; }
  const ImportOptions& options() const { return options_; }
  void pretty_print(std::ostream& os) const override;

  /// What a node became when imported: its module (registered under the node's name, '.'
  /// replaced by '_'), and how it runs over [B, T, ...] input.
  struct Step {
    std::string name, type;
    std::shared_ptr<torch::nn::Module> module;
    std::function<at::Tensor(const at::Tensor&)> run;
    std::vector<size_t> inputs;   // indices into the step list
    std::vector<bool> delayed;    // per input: an edge that closes a cycle
    /// The shape of one step's output where the node's parameters tell it (neurons,
    /// Delay): the zeros a delayed edge from it carries before the first step.
    std::optional<std::vector<int64_t>> features;
  };

 private:
  Graph graph_;
  ImportOptions options_;
  std::vector<Step> steps_;
  std::vector<std::string> order_names_;
  std::vector<size_t> input_steps_, output_steps_;
  bool recurrent_ = false;
  std::map<std::string, at::Tensor>* recording_ = nullptr;
};
TORCH_MODULE(GraphModule);

/// What a node type becomes on import, per convention: the importer's own table (the
/// README's "NIR" table is this). "as norse": the library has no mapping of its own, and
/// the node runs as NIR defines it.
struct NodeMapping {
  std::string type, norse, snntorch, sinabs;
};
const std::vector<NodeMapping>& node_mappings();

/// Reads a NIR file (snn::nir::read, isolated) and imports it.
GraphModule load(const std::string& path, const ImportOptions& options = {},
                 const ReadOptions& read_options = {});

/// Options of an export. Example: `snn::nir::ExportOptions().dt(1e-3)`.
struct ExportOptions {
  /// The length of one time step in the unit the file's time constants (and delays) are
  /// written in: τ in the file = τ in steps · dt. Default: what the model's layers imply,
  /// so that their library's importer reads the file as it writes it — 1e-4 with snnTorch
  /// layers (fixed in snnTorch's importer), the layers' own dt with CubaLIF / CubaLI, else
  /// 1 (Sinabs writes and reads τ in steps).
  TORCH_ARG(std::optional<double>, dt) = std::nullopt;
};

/// The graph of a model, traced with a sample input [B, T, *features] (its shapes fill the
/// Input, Output, Conv and Flatten nodes). Supported: torch::nn Linear, Conv1d, Conv2d,
/// AvgPool2d, Flatten, Sequential; snn::SumPool2d, NestedSequential, FlattenTime /
/// UnflattenTime / Repeat (structure only), the Sinabs family (IAF, LIF, ExpLeak, their
/// Squeeze and Recurrent forms), snnTorch's Leaky, Synaptic, RLeaky, RSynaptic, and
/// GraphModule. Anything else is an error naming the module's path and type.
Graph export_module(torch::nn::Module& model, const at::Tensor& sample,
                    const ExportOptions& options = {});

}  // namespace snn::nir
