#pragma once
/// \file
/// NIR (the Neuromorphic Intermediate Representation) graphs and their HDF5 files, as the
/// `nir` Python package reads and writes them (pinned: nir 1.0.8; files of every 0.x and
/// 1.x version it reads are read here too).
///
/// A file holds a string dataset `version` and a group `node`: the top-level graph, whose
/// `type` is "NIRGraph", with a group `nodes` (one group per node: a string dataset `type`
/// and one dataset per parameter, e.g. "LIF" with tau, r, v_leak, v_threshold, v_reset),
/// a string dataset `edges` of shape [E, 2] (source, target node names) and an optional
/// group `metadata`. A node of type "NIRGraph" is a subgraph with the same layout.
///
/// This header reads and writes that layout without interpreting it; snn/nir/convert.h
/// turns a graph into a runnable module and a module into a graph.
#include <ATen/core/Tensor.h>

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

namespace snn::nir {

/// The nir package version whose layout write() follows; written as the file's version.
inline constexpr const char* kVersion = "1.0.8";

/// A value stored in a file: numbers (a tensor, as stored: float32, float64, int64 or
/// bool; 0-d for a scalar) or text (one string, or an array of strings).
struct Value {
  at::Tensor tensor;
  /// Text: the strings in row-major order, and the array's shape ([] for one string).
  std::vector<std::string> strings;
  std::vector<int64_t> string_shape;
  bool is_text() const { return !tensor.defined(); }

  static Value number(at::Tensor t);
  static Value text(std::string s);
};

struct Graph;

/// One node: its type ("Affine", "LIF", "NIRGraph", ...), its parameters by name, and, for a
/// "NIRGraph" node, the subgraph.
struct Node {
  std::string type;
  std::map<std::string, Value> params;
  /// The node's metadata, nested groups flattened to "a/b" names (a subgraph's is its
  /// Graph::metadata).
  std::map<std::string, Value> metadata;
  std::shared_ptr<Graph> graph;

  /// The parameter `name` as numbers; throws naming the node (`node_name`), the parameter
  /// and what was found when it is missing or text.
  const at::Tensor& tensor(const std::string& node_name, const std::string& name) const;
  /// Whether the node has the parameter `name`.
  bool has(const std::string& name) const { return params.count(name) != 0; }
};

/// An edge from the output of `source` to the input of `target` (node names).
struct Edge {
  std::string source, target;
  bool operator==(const Edge&) const = default;
};

/// A graph: nodes by name (in name order, as h5py lists them), edges, metadata.
struct Graph {
  std::map<std::string, Node> nodes;
  std::vector<Edge> edges;
  std::map<std::string, Value> metadata;

  /// Adds a node (throws when the name is taken, empty, or holds '/' or is ".").
  Node& add(const std::string& name, Node node);
  /// The node `name`; throws naming it when absent.
  const Node& at(const std::string& name) const;
};

/// A graph as a file holds it: the version string that wrote it, and the graph.
struct File {
  std::string version;
  Graph graph;
};

/// How read() opens a file.
struct ReadOptions {
  /// Read the whole file once in a child process first, as HSDFile does (see
  /// snn::events::HSDOptions::isolate): a file that crashes or hangs the HDF5 library there
  /// becomes an error here. false: for files this program wrote itself. Default: true.
  bool isolate = true;
  /// With `isolate`: seconds the child may go without progress before it is stopped.
  /// Default: 60.
  double stall_seconds = 60;
  /// The most bytes of numbers and text the file may ask to be read, in all: a bound on
  /// what a corrupt or hostile file can make this process allocate. Default: 4 GiB.
  int64_t max_bytes = int64_t{4} << 30;
};

/// Reads a NIR file. Errors (a c10::Error) name the file and, where there is one, the
/// object: not HDF5, no `node` group, a node without `type`, edges that are not [E, 2]
/// strings, a dataset of a type NIR does not use, nesting deeper than 32 levels, more than
/// max_bytes, or a corrupt file (caught in the child with `isolate`).
File read(const std::string& path, const ReadOptions& options = {});

/// Writes a graph as nir.write does (numbers gzip-compressed, text as UTF-8 strings), with
/// version kVersion, atomically (temporary file, renamed). Throws naming the node or
/// parameter it cannot write.
void write(const std::string& path, const Graph& graph);

/// A listing of the graph for people: every node with its type and its parameters' shapes
/// (and values, for small ones), the edges, the input and output shapes; subgraphs
/// indented.
std::string describe(const Graph& graph);

}  // namespace snn::nir
