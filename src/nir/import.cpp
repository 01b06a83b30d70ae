// NIR graphs as modules: the graph executor and the node table (see snn/nir/convert.h).
#include <ATen/ATen.h>
#include <c10/util/Exception.h>
#include <torch/nn/modules/conv.h>
#include <torch/nn/modules/linear.h>
#include <torch/nn/modules/pooling.h>

#include <algorithm>
#include <cmath>
#include <functional>
#include <ostream>
#include <set>

#include "nir/nodes.h"
#include "snn/nir/convert.h"

namespace snn::nir {
namespace {

// The module name of a node: torch::nn names may not hold '.'.
std::string module_name(const std::string& node) {
  std::string out = node;
  std::replace(out.begin(), out.end(), '.', '_');
  return out;
}

// Sums the tensors of `parts` (the inputs of a node, as NIR defines them).
at::Tensor sum_of(const std::vector<at::Tensor>& parts, const std::string& node) {
  at::Tensor out;
  for (const auto& p : parts) {
    if (!p.defined()) continue;
    if (!out.defined()) {
      out = p;
      continue;
    }
    TORCH_CHECK(out.sizes() == p.sizes(), "snn::nir: node '", node, "' receives inputs of shapes ",
                out.sizes(), " and ", p.sizes(), ", which NIR sums: they must be equal");
    out = out + p;
  }
  return out;
}

// Runs one node; an error inside it (a shape a convolution does not take, ...) names the node.
at::Tensor run_step(const GraphModuleImpl::Step& s, const at::Tensor& x) {
  try {
    return s.run(x);
  } catch (const c10::Error& e) {
    const std::string msg = e.what_without_backtrace();
    if (msg.find("node '" + s.name + "'") != std::string::npos) throw;
    TORCH_CHECK(false, "snn::nir: node '", s.name, "' (", s.type, ") on input ", x.sizes(), ": ",
                msg);
  }
}

}  // namespace

Convention parse_convention(const std::string& text) {
  if (text == "norse") return Convention::Norse;
  if (text == "snntorch") return Convention::SnnTorch;
  if (text == "sinabs") return Convention::Sinabs;
  TORCH_CHECK(false, "snn::nir: unknown convention '", text,
              "' (expected norse, snntorch or sinabs)");
}

std::string convention_name(Convention convention) {
  switch (convention) {
    case Convention::Norse: return "norse";
    case Convention::SnnTorch: return "snntorch";
    case Convention::Sinabs: return "sinabs";
  }
  return "?";
}

GraphModuleImpl::GraphModuleImpl(Graph graph, ImportOptions options)
    : graph_(std::move(graph)), options_(std::move(options)) {
  reset();
}

void GraphModuleImpl::reset() {
  const double dt = detail::import_dt(options_);
  TORCH_CHECK(dt > 0 && std::isfinite(dt), "snn::nir: ImportOptions::dt must be a positive "
              "number, got ", dt);
  steps_.clear();
  order_names_.clear();
  input_steps_.clear();
  output_steps_.clear();
  const auto& nodes = graph_.nodes;
  TORCH_CHECK(!nodes.empty(), "snn::nir: the graph has no nodes");
  for (const auto& e : graph_.edges) {
    TORCH_CHECK(nodes.count(e.source) != 0, "snn::nir: edge ", e.source, " -> ", e.target,
                " comes from a node that does not exist ('", e.source, "')");
    TORCH_CHECK(nodes.count(e.target) != 0, "snn::nir: edge ", e.source, " -> ", e.target,
                " goes to a node that does not exist ('", e.target, "')");
    TORCH_CHECK(nodes.at(e.source).type != "Output", "snn::nir: edge ", e.source, " -> ",
                e.target, " leaves an Output node");
    TORCH_CHECK(nodes.at(e.target).type != "Input", "snn::nir: edge ", e.source, " -> ",
                e.target, " enters an Input node");
  }
  std::map<std::string, std::vector<size_t>> out_edges, in_edges;
  for (size_t k = 0; k < graph_.edges.size(); ++k) {
    out_edges[graph_.edges[k].source].push_back(k);
    in_edges[graph_.edges[k].target].push_back(k);
  }
  std::vector<std::string> inputs;
  for (const auto& [name, node] : nodes) {
    if (node.type == "Input") inputs.push_back(name);
  }
  TORCH_CHECK(!inputs.empty(), "snn::nir: the graph has no Input node");

  // Depth-first from the inputs: an edge into a node still on the path closes a cycle.
  // Where a cycle is cut: Norse's executor (nirtorch's) delays the edge that closes it in
  // this order; the other conventions delay the output of the cycle's last neuron before
  // that edge (moved below), so that a stateless node after it (a recurrent Affine) runs
  // on the previous step's spikes in every step, its bias from the first.
  std::map<std::string, int> colour;  // 0 unseen, 1 on the path, 2 done
  std::vector<bool> back(graph_.edges.size(), false);
  std::vector<bool> dfs_back = back;
  std::vector<size_t> path_edges;  // the edges of the current path
  std::vector<std::pair<size_t, size_t>> moves;  // (closing edge, edge to delay instead)
  std::function<void(const std::string&, int)> visit = [&](const std::string& n, int depth) {
    TORCH_CHECK(depth < 100000, "snn::nir: the graph is too deep");
    colour[n] = 1;
    for (size_t k : out_edges[n]) {
      const auto& t = graph_.edges[k].target;
      if (colour[t] == 1) {
        back[k] = dfs_back[k] = true;
        // The cycle: t → ... → n → t along the path; the last neuron on it before the
        // closing edge, and the edge leaving it.
        for (size_t j = path_edges.size(); j-- > 0;) {
          const auto& e = graph_.edges[path_edges[j]];
          if (detail::is_stateful(nodes.at(e.source).type)) {
            moves.emplace_back(k, path_edges[j]);
            break;
          }
          if (e.source == t) break;
        }
      } else if (colour[t] == 0) {
        path_edges.push_back(k);
        visit(t, depth + 1);
        path_edges.pop_back();
      }
    }
    colour[n] = 2;
  };
  for (const auto& n : inputs) {
    if (colour[n] == 0) visit(n, 0);
  }
  for (const auto& [name, node] : nodes) {
    TORCH_CHECK(colour[name] == 2, "snn::nir: node '", name, "' (", node.type,
                ") is not reachable from an Input node");
  }
  recurrent_ = std::find(back.begin(), back.end(), true) != back.end();
  if (options_.convention() != Convention::Norse) {
    for (const auto& [closing, moved] : moves) {
      back[closing] = false;
      back[moved] = true;
    }
  }

  // Kahn's order over the edges that close no cycle; ties in the order nodes were listed.
  // Should the moved cuts leave a cycle uncut, the edges that closed them are cut instead.
  std::map<std::string, size_t> index;
  const auto order = [&] {
    order_names_.clear();
    index.clear();
    std::map<std::string, int> pending;
    for (const auto& [name, node] : nodes) pending[name] = 0;
    for (size_t k = 0; k < graph_.edges.size(); ++k) {
      if (!back[k]) ++pending[graph_.edges[k].target];
    }
    std::vector<std::string> ready;
    for (const auto& [name, count] : pending) {
      if (count == 0) ready.push_back(name);
    }
    while (!ready.empty()) {
      const std::string n = ready.front();
      ready.erase(ready.begin());
      index[n] = order_names_.size();
      order_names_.push_back(n);
      for (size_t k : out_edges[n]) {
        if (!back[k] && --pending[graph_.edges[k].target] == 0) {
          ready.push_back(graph_.edges[k].target);
        }
      }
    }
    return order_names_.size() == nodes.size();
  };
  if (!order()) {
    back = dfs_back;
    TORCH_INTERNAL_ASSERT(order(), "snn::nir: cutting the cycles failed");
  }

  for (const auto& name : order_names_) {
    const Node& node = nodes.at(name);
    Step step;
    step.name = name;
    step.type = node.type;
    for (size_t k : in_edges[name]) {
      step.inputs.push_back(index.at(graph_.edges[k].source));
      step.delayed.push_back(back[k]);
    }
    TORCH_CHECK(node.type == "Input" || !step.inputs.empty(), "snn::nir: node '", name, "' (",
                node.type, ") has no incoming edge");
    if (node.type == "Input") input_steps_.push_back(steps_.size());
    if (node.type == "Output") output_steps_.push_back(steps_.size());
    auto built = detail::build_node(name, node, options_);
    step.module = built.module;
    step.run = std::move(built.run);
    if (step.module) register_module(module_name(name), step.module);
    step.features = detail::output_features(node);
    steps_.push_back(std::move(step));
  }
  TORCH_CHECK(!output_steps_.empty(), "snn::nir: the graph has no Output node");
  std::vector<std::string> states;
  for (size_t i = 0; i < steps_.size(); ++i) {
    for (size_t k = 0; k < steps_[i].inputs.size(); ++k) {
      if (steps_[i].delayed[k]) states.push_back(steps_[steps_[i].inputs[k]].name);
    }
  }
  std::sort(states.begin(), states.end());
  states.erase(std::unique(states.begin(), states.end()), states.end());
  define_states(states);
}

std::shared_ptr<torch::nn::Module> GraphModuleImpl::node_module(const std::string& name) const {
  for (const auto& s : steps_) {
    if (s.name == name) return s.module;
  }
  TORCH_CHECK(false, "snn::nir: the graph has no node '", name, "'");
}

at::Tensor GraphModuleImpl::forward(const at::Tensor& input) {
  TORCH_CHECK(input_steps_.size() == 1 && output_steps_.size() == 1,
              "snn::nir: forward(Tensor) needs one Input and one Output node; this graph has ",
              input_steps_.size(), " and ", output_steps_.size(), ": use forward_all");
  auto out = forward_all({{steps_[input_steps_[0]].name, input}});
  return out.begin()->second;
}

std::map<std::string, at::Tensor> GraphModuleImpl::forward_all(
    const std::map<std::string, at::Tensor>& inputs) {
  int64_t B = -1, T = -1;
  for (size_t i : input_steps_) {
    const auto& name = steps_[i].name;
    const auto it = inputs.find(name);
    TORCH_CHECK(it != inputs.end(), "snn::nir: no tensor for the Input node '", name, "'");
    const auto& x = it->second;
    TORCH_CHECK(x.dim() >= 2, "snn::nir: expected the input of '", name,
                "' as [B, T, ...], got ", x.sizes());
    TORCH_CHECK(B < 0 || (x.size(0) == B && x.size(1) == T), "snn::nir: the inputs differ in "
                "batch size or time steps: ", x.sizes(), " against [", B, ", ", T, ", ...]");
    B = x.size(0), T = x.size(1);
  }
  for (const auto& [name, x] : inputs) {
    const auto it = graph_.nodes.find(name);
    TORCH_CHECK(it != graph_.nodes.end() && it->second.type == "Input", "snn::nir: '", name,
                "' is not an Input node of the graph");
  }
  std::vector<at::Tensor> values(steps_.size());
  auto gather = [&](const Step& s, const std::vector<at::Tensor>& now,
                    const std::vector<at::Tensor>* before) {
    std::vector<at::Tensor> parts;
    for (size_t k = 0; k < s.inputs.size(); ++k) {
      if (!s.delayed[k]) {
        parts.push_back(now[s.inputs[k]]);
      } else if (before != nullptr) {
        parts.push_back((*before)[s.inputs[k]]);
      }
    }
    return sum_of(parts, s.name);
  };
  if (!recurrent_) {
    for (size_t i = 0; i < steps_.size(); ++i) {
      const Step& s = steps_[i];
      const at::Tensor x = s.type == "Input" ? inputs.at(s.name) : gather(s, values, nullptr);
      if (recording_ != nullptr) (*recording_)[s.name] = x;
      values[i] = run_step(s, x);
    }
  } else {
    // Step by step: a delayed edge carries its source's output of the previous step, kept
    // across calls as a state (zero at first, and after reset_states).
    std::vector<at::Tensor> previous(steps_.size());
    const auto kept_names = state_names();
    for (size_t i = 0; i < steps_.size(); ++i) {
      const auto& name = steps_[i].name;
      if (std::find(kept_names.begin(), kept_names.end(), name) == kept_names.end()) continue;
      const auto& kept = state(name);
      if (kept.defined() && kept.size(0) == B) {
        previous[i] = kept;
      } else if (steps_[i].features) {
        // Before the first step a neuron has not spiked: zeros of its output's shape.
        std::vector<int64_t> shape{B, 1};
        shape.insert(shape.end(), steps_[i].features->begin(), steps_[i].features->end());
        const auto& x = inputs.begin()->second;
        previous[i] = at::zeros(shape, x.options());
      }
    }
    std::vector<std::vector<at::Tensor>> per_step(steps_.size());
    for (int64_t t = 0; t < T; ++t) {
      std::vector<at::Tensor> now(steps_.size());
      for (size_t i = 0; i < steps_.size(); ++i) {
        const Step& s = steps_[i];
        const at::Tensor x = s.type == "Input" ? inputs.at(s.name).narrow(1, t, 1)
                                               : gather(s, now, &previous);
        if (recording_ != nullptr) (*recording_)[s.name] = x;
        now[i] = run_step(s, x);
        if (s.type == "Output") per_step[i].push_back(now[i]);
      }
      previous = std::move(now);
    }
    for (const auto& name : kept_names) {
      for (size_t i = 0; i < steps_.size(); ++i) {
        if (steps_[i].name == name && previous[i].defined()) set_state(name, previous[i]);
      }
    }
    for (size_t i : output_steps_) {
      if (!per_step[i].empty()) values[i] = at::cat(per_step[i], 1);
    }
  }
  std::map<std::string, at::Tensor> out;
  for (size_t i : output_steps_) out[steps_[i].name] = values[i];
  return out;
}

std::map<std::string, at::Tensor> GraphModuleImpl::node_inputs(const at::Tensor& input) {
  std::map<std::string, at::Tensor> out;
  recording_ = &out;
  try {
    forward(input);
  } catch (...) {
    recording_ = nullptr;
    throw;
  }
  recording_ = nullptr;
  return out;
}

void GraphModuleImpl::pretty_print(std::ostream& os) const {
  os << "snn::nir::GraphModule(nodes=" << steps_.size() << ", edges=" << graph_.edges.size()
     << ", recurrent=" << (recurrent_ ? "true" : "false") << ", dt=" << detail::import_dt(options_)
     << ", convention=" << convention_name(options_.convention()) << ")";
}

GraphModule load(const std::string& path, const ImportOptions& options,
                 const ReadOptions& read_options) {
  auto file = read(path, read_options);
  try {
    return GraphModule(std::move(file.graph), options);
  } catch (const c10::Error& e) {
    TORCH_CHECK(false, "snn::nir: ", path, ": ", e.what_without_backtrace());
  }
}

}  // namespace snn::nir
