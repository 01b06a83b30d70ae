// NIR graphs in HDF5 files, through the HDF5 C API (see snn/nir/graph.h).
#include "snn/nir/graph.h"

#include <ATen/ATen.h>
#include <c10/util/Exception.h>
#include <hdf5.h>

#include <functional>
#include <sstream>

#include "util/atomic_file.h"
#include "util/hdf5_lock.h"
#include "util/hdf5_util.h"

namespace snn::nir {
namespace {

using snn::detail::h5::Handle;
using snn::detail::h5::QuietErrors;

constexpr int kMaxDepth = 32;

std::string where(const std::string& path) { return "snn::nir: " + path; }

// ---- reading -----------------------------------------------------------------------------

struct Reader {
  std::string path;
  int64_t max_bytes;
  int64_t bytes = 0;

  std::string at(const std::string& object) const { return where(path) + ": " + object; }

  void spend(const std::string& object, int64_t n) {
    TORCH_CHECK(n >= 0 && n <= max_bytes - bytes, at(object), ": the file asks for more than ",
                max_bytes, " bytes in all (ReadOptions::max_bytes)");
    bytes += n;
  }

  // The names of a group's links, in name order.
  std::vector<std::string> links(hid_t group, const std::string& object) {
    H5G_info_t info{};
    TORCH_CHECK(H5Gget_info(group, &info) >= 0, at(object), ": cannot list the group");
    TORCH_CHECK(info.nlinks <= (hsize_t{1} << 20), at(object), ": the group claims ",
                info.nlinks, " members");
    std::vector<std::string> names;
    for (hsize_t i = 0; i < info.nlinks; ++i) {
      const ssize_t n = H5Lget_name_by_idx(group, ".", H5_INDEX_NAME, H5_ITER_INC, i, nullptr, 0,
                                           H5P_DEFAULT);
      TORCH_CHECK(n > 0 && n < 4096, at(object), ": cannot read the name of member ", i);
      std::string name(static_cast<size_t>(n) + 1, '\0');
      H5Lget_name_by_idx(group, ".", H5_INDEX_NAME, H5_ITER_INC, i, name.data(), name.size(),
                         H5P_DEFAULT);
      name.resize(static_cast<size_t>(n));
      names.push_back(std::move(name));
    }
    return names;
  }

  H5O_type_t object_type(hid_t group, const std::string& name, const std::string& object) {
    H5O_info_t info{};
    TORCH_CHECK(H5Oget_info_by_name2(group, name.c_str(), &info, H5O_INFO_BASIC, H5P_DEFAULT) >= 0,
                at(object), ": cannot open it (a broken or external link?)");
    return info.type;
  }

  Value dataset(hid_t group, const std::string& name, const std::string& object) {
    Handle d(H5Dopen2(group, name.c_str(), H5P_DEFAULT), H5Dclose);
    TORCH_CHECK(d.ok(), at(object), ": cannot open the dataset");
    Handle space(H5Dget_space(d.get()), H5Sclose);
    const int rank = space.ok() ? H5Sget_simple_extent_ndims(space.get()) : -1;
    TORCH_CHECK(rank >= 0 && rank <= 8, at(object), ": expected a dataset of at most 8 "
                "dimensions, got rank ", rank);
    std::vector<hsize_t> dims(static_cast<size_t>(rank));
    if (rank > 0) H5Sget_simple_extent_dims(space.get(), dims.data(), nullptr);
    std::vector<int64_t> shape;
    int64_t n = 1;
    for (hsize_t v : dims) {
      TORCH_CHECK(v <= (hsize_t{1} << 40), at(object), ": a dimension of ", v);
      shape.push_back(static_cast<int64_t>(v));
      n = v == 0 || n <= (int64_t{1} << 40) / static_cast<int64_t>(v)
              ? n * static_cast<int64_t>(v)
              : int64_t{1} << 41;
    }
    Handle type(H5Dget_type(d.get()), H5Tclose);
    TORCH_CHECK(type.ok(), at(object), ": cannot read the datatype");
    const H5T_class_t cls = H5Tget_class(type.get());
    const size_t size = H5Tget_size(type.get());
    if (cls == H5T_STRING) return strings(d.get(), type.get(), shape, n, object);
    at::ScalarType dtype;
    hid_t memory;
    if (cls == H5T_FLOAT && (size == 2 || size == 4)) {
      dtype = at::kFloat, memory = H5T_NATIVE_FLOAT;
    } else if (cls == H5T_FLOAT && size == 8) {
      dtype = at::kDouble, memory = H5T_NATIVE_DOUBLE;
    } else if (cls == H5T_INTEGER && size <= 8) {
      dtype = at::kLong, memory = H5T_NATIVE_INT64;
    } else if (cls == H5T_ENUM && size == 1) {
      dtype = at::kBool, memory = H5T_NATIVE_INT8;  // h5py's bool: an enum of int8
    } else {
      TORCH_CHECK(false, at(object), ": a dataset of HDF5 type class ", static_cast<int>(cls),
                  " and ", size, " bytes (NIR stores floats, integers, booleans and strings)");
    }
    spend(object, n * static_cast<int64_t>(at::elementSize(dtype)));
    snn::detail::h5::check_fixed_storage(at(object), d.get(), "the dataset");
    auto t = at::empty(shape, at::TensorOptions().dtype(dtype == at::kBool ? at::kChar : dtype));
    if (n > 0) {
      if (cls == H5T_ENUM) {
        // Enums convert to nothing else: read through the native form of the file's type.
        Handle native(H5Tget_native_type(type.get(), H5T_DIR_ASCEND), H5Tclose);
        TORCH_CHECK(native.ok() && H5Tget_size(native.get()) == 1 &&
                        H5Dread(d.get(), native.get(), H5S_ALL, H5S_ALL, H5P_DEFAULT,
                                t.data_ptr()) >= 0,
                    at(object), ": cannot read the dataset");
      } else {
        TORCH_CHECK(H5Dread(d.get(), memory, H5S_ALL, H5S_ALL, H5P_DEFAULT, t.data_ptr()) >= 0,
                    at(object), ": cannot read the dataset");
      }
    }
    return Value::number(dtype == at::kBool ? t.ne(0) : t);
  }

  Value strings(hid_t d, hid_t type, const std::vector<int64_t>& shape, int64_t n,
                const std::string& object) {
    Value v;
    v.string_shape = shape;
    spend(object, n * 16);
    if (H5Tis_variable_str(type) > 0) {
      snn::detail::h5::check_vlen_elements(at(object), d, "the dataset", n, 1);
      Handle memory(H5Tcopy(H5T_C_S1), H5Tclose);
      H5Tset_size(memory.get(), H5T_VARIABLE);
      H5Tset_cset(memory.get(), H5Tget_cset(type));
      std::vector<char*> raw(static_cast<size_t>(n), nullptr);
      if (n > 0) {
        TORCH_CHECK(H5Dread(d, memory.get(), H5S_ALL, H5S_ALL, H5P_DEFAULT, raw.data()) >= 0,
                    at(object), ": cannot read the strings");
      }
      for (char* s : raw) {
        v.strings.emplace_back(s != nullptr ? s : "");
        spend(object, static_cast<int64_t>(v.strings.back().size()));
      }
      if (n > 0) {
        Handle space(H5Dget_space(d), H5Sclose);
        H5Dvlen_reclaim(memory.get(), space.get(), H5P_DEFAULT, raw.data());
      }
    } else {
      const size_t size = H5Tget_size(type);
      TORCH_CHECK(size > 0 && size <= (size_t{1} << 20), at(object), ": strings of ", size,
                  " bytes");
      spend(object, n * static_cast<int64_t>(size));
      snn::detail::h5::check_fixed_storage(at(object), d, "the dataset");
      std::vector<char> raw(size * static_cast<size_t>(n));
      if (n > 0) {
        TORCH_CHECK(H5Dread(d, type, H5S_ALL, H5S_ALL, H5P_DEFAULT, raw.data()) >= 0, at(object),
                    ": cannot read the strings");
      }
      for (int64_t i = 0; i < n; ++i) {
        const char* s = raw.data() + static_cast<size_t>(i) * size;
        v.strings.emplace_back(s, strnlen(s, size));
      }
    }
    return v;
  }

  // Every dataset under a group, nested groups flattened to "a/b" names (metadata).
  void flat(hid_t group, const std::string& prefix, const std::string& object, int depth,
            std::map<std::string, Value>& out) {
    TORCH_CHECK(depth <= kMaxDepth, at(object), ": nested deeper than ", kMaxDepth, " levels");
    for (const auto& name : links(group, object)) {
      const std::string child = object + "/" + name;
      if (object_type(group, name, child) == H5O_TYPE_GROUP) {
        Handle g(H5Gopen2(group, name.c_str(), H5P_DEFAULT), H5Gclose);
        TORCH_CHECK(g.ok(), at(child), ": cannot open the group");
        flat(g.get(), prefix + name + "/", child, depth + 1, out);
      } else {
        out[prefix + name] = dataset(group, name, child);
      }
    }
  }

  std::string text(hid_t group, const std::string& name, const std::string& object) {
    const std::string child = object + "/" + name;
    TORCH_CHECK(H5Lexists(group, name.c_str(), H5P_DEFAULT) > 0, at(object), ": no ", name);
    TORCH_CHECK(object_type(group, name, child) == H5O_TYPE_DATASET, at(child),
                ": expected a string dataset");
    Value v = dataset(group, name, child);
    TORCH_CHECK(v.is_text() && v.strings.size() == 1, at(child), ": expected one string");
    return v.strings[0];
  }

  // A node's group (`object` names it in messages).
  Node node(hid_t group, const std::string& object, int depth) {
    TORCH_CHECK(depth <= kMaxDepth, at(object), ": graphs nested deeper than ", kMaxDepth,
                " levels");
    Node out;
    out.type = text(group, "type", object);
    for (const auto& name : links(group, object)) {
      if (name == "type") continue;
      const std::string child = object + "/" + name;
      const H5O_type_t kind = object_type(group, name, child);
      // A subgraph's metadata is its graph's (Graph::metadata).
      if (out.type == "NIRGraph" && (name == "nodes" || name == "edges" || name == "metadata")) {
        continue;
      }
      if (kind == H5O_TYPE_GROUP) {
        Handle g(H5Gopen2(group, name.c_str(), H5P_DEFAULT), H5Gclose);
        TORCH_CHECK(g.ok(), at(child), ": cannot open the group");
        // Metadata, or a parameter written as a group (nested dictionaries): flattened.
        flat(g.get(), name == "metadata" ? "" : name + "/", child, depth + 1,
             name == "metadata" ? out.metadata : out.params);
      } else {
        TORCH_CHECK(kind == H5O_TYPE_DATASET, at(child), ": neither a group nor a dataset");
        out.params[name] = dataset(group, name, child);
      }
    }
    if (out.type == "NIRGraph") out.graph = std::make_shared<Graph>(graph(group, object, depth));
    return out;
  }

  Graph graph(hid_t group, const std::string& object, int depth) {
    Graph g;
    TORCH_CHECK(H5Lexists(group, "nodes", H5P_DEFAULT) > 0 &&
                    object_type(group, "nodes", object + "/nodes") == H5O_TYPE_GROUP,
                at(object), ": a NIRGraph without a group 'nodes'");
    Handle nodes(H5Gopen2(group, "nodes", H5P_DEFAULT), H5Gclose);
    TORCH_CHECK(nodes.ok(), at(object + "/nodes"), ": cannot open the group");
    for (const auto& name : links(nodes.get(), object + "/nodes")) {
      const std::string child = object + "/nodes/" + name;
      TORCH_CHECK(object_type(nodes.get(), name, child) == H5O_TYPE_GROUP, at(child),
                  ": expected a node's group");
      Handle n(H5Gopen2(nodes.get(), name.c_str(), H5P_DEFAULT), H5Gclose);
      TORCH_CHECK(n.ok(), at(child), ": cannot open the group");
      g.nodes[name] = node(n.get(), child, depth + 1);
    }
    TORCH_CHECK(H5Lexists(group, "edges", H5P_DEFAULT) > 0, at(object),
                ": a NIRGraph without edges");
    const std::string edges_name = object + "/edges";
    TORCH_CHECK(object_type(group, "edges", edges_name) == H5O_TYPE_DATASET, at(edges_name),
                ": expected a dataset");
    const Value edges = dataset(group, "edges", edges_name);
    if (edges.is_text()) {
      TORCH_CHECK(edges.string_shape.size() == 2 && edges.string_shape[1] == 2, at(edges_name),
                  ": expected [E, 2] strings (source, target), got shape ",
                  c10::IntArrayRef(edges.string_shape));
      for (size_t i = 0; i + 1 < edges.strings.size(); i += 2) {
        g.edges.push_back(Edge{edges.strings[i], edges.strings[i + 1]});
      }
    } else {
      // An empty edge list, as h5py writes np.array([]).
      TORCH_CHECK(edges.tensor.numel() == 0, at(edges_name),
                  ": expected [E, 2] strings (source, target), got numbers of shape ",
                  edges.tensor.sizes());
    }
    if (H5Lexists(group, "metadata", H5P_DEFAULT) > 0) {
      Handle m(H5Gopen2(group, "metadata", H5P_DEFAULT), H5Gclose);
      if (m.ok()) flat(m.get(), "", object + "/metadata", depth + 1, g.metadata);
    }
    return g;
  }
};

File read_direct(const std::string& path, const ReadOptions& options) {
  auto lock = snn::detail::hdf5_lock();
  QuietErrors quiet;
  Handle file(H5Fopen(path.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT), H5Fclose);
  TORCH_CHECK(file.ok(), where(path), ": cannot open the file as HDF5 (missing, unreadable, or "
              "not an HDF5 file)");
  Reader r{path, options.max_bytes};
  File out;
  if (H5Lexists(file.get(), "version", H5P_DEFAULT) > 0) {
    out.version = r.text(file.get(), "version", "");
  }
  TORCH_CHECK(H5Lexists(file.get(), "node", H5P_DEFAULT) > 0 &&
                  r.object_type(file.get(), "node", "/node") == H5O_TYPE_GROUP,
              where(path), ": no group 'node' (not a NIR file)");
  Handle node(H5Gopen2(file.get(), "node", H5P_DEFAULT), H5Gclose);
  TORCH_CHECK(node.ok(), where(path), ": cannot open the group 'node'");
  const std::string type = r.text(node.get(), "type", "/node");
  TORCH_CHECK(type == "NIRGraph", where(path), ": /node has type '", type,
              "', expected 'NIRGraph'");
  out.graph = r.graph(node.get(), "/node", 0);
  return out;
}

// ---- writing -----------------------------------------------------------------------------

struct Writer {
  std::string path;
  std::string at(const std::string& object) const { return where(path) + ": " + object; }

  hid_t file_type(at::ScalarType t, const std::string& object) const {
    switch (t) {
      case at::kFloat: return H5T_IEEE_F32LE;
      case at::kDouble: return H5T_IEEE_F64LE;
      case at::kLong: return H5T_STD_I64LE;
      case at::kInt: return H5T_STD_I32LE;
      default: break;
    }
    TORCH_CHECK(false, at(object), ": cannot write a tensor of dtype ", t,
                " (NIR stores float32, float64, int32, int64, text)");
  }

  void value(hid_t group, const std::string& name, const Value& v, const std::string& object) {
    const auto dcpl = snn::detail::h5::untimed(H5P_DATASET_CREATE);
    if (v.is_text()) {
      std::vector<hsize_t> dims(v.string_shape.begin(), v.string_shape.end());
      int64_t n = 1;
      for (auto d : v.string_shape) n *= d;
      TORCH_CHECK(n == static_cast<int64_t>(v.strings.size()), at(object), ": ",
                  v.strings.size(), " strings for shape ", c10::IntArrayRef(v.string_shape));
      Handle space(dims.empty() ? H5Screate(H5S_SCALAR)
                                : H5Screate_simple(static_cast<int>(dims.size()), dims.data(),
                                                   nullptr),
                   H5Sclose);
      Handle type(H5Tcopy(H5T_C_S1), H5Tclose);
      H5Tset_size(type.get(), H5T_VARIABLE);
      H5Tset_cset(type.get(), H5T_CSET_UTF8);
      std::vector<const char*> raw;
      for (const auto& s : v.strings) raw.push_back(s.c_str());
      Handle d(H5Dcreate2(group, name.c_str(), type.get(), space.get(), H5P_DEFAULT, dcpl.get(),
                          H5P_DEFAULT),
               H5Dclose);
      TORCH_CHECK(d.ok() && (raw.empty() || H5Dwrite(d.get(), type.get(), H5S_ALL, H5S_ALL,
                                                     H5P_DEFAULT, raw.data()) >= 0),
                  at(object), ": cannot write the strings");
      return;
    }
    at::Tensor t = v.tensor.to(at::kCPU).contiguous();
    if (t.scalar_type() == at::kBool) t = t.to(at::kLong);
    const hid_t type = file_type(t.scalar_type(), object);
    std::vector<hsize_t> dims(t.sizes().begin(), t.sizes().end());
    Handle space(dims.empty() ? H5Screate(H5S_SCALAR)
                              : H5Screate_simple(static_cast<int>(dims.size()), dims.data(),
                                                 nullptr),
                 H5Sclose);
    if (!dims.empty() && t.numel() > 0) {
      // As nir.write: gzip, one chunk holding the whole array (h5py's choice for these sizes
      // is close; any chunking reads the same).
      H5Pset_chunk(dcpl.get(), static_cast<int>(dims.size()), dims.data());
      H5Pset_deflate(dcpl.get(), 4);
    }
    Handle d(H5Dcreate2(group, name.c_str(), type, space.get(), H5P_DEFAULT, dcpl.get(),
                        H5P_DEFAULT),
             H5Dclose);
    const hid_t memory = t.scalar_type() == at::kFloat    ? H5T_NATIVE_FLOAT
                         : t.scalar_type() == at::kDouble ? H5T_NATIVE_DOUBLE
                         : t.scalar_type() == at::kInt    ? H5T_NATIVE_INT32
                                                          : H5T_NATIVE_INT64;
    TORCH_CHECK(d.ok() && (t.numel() == 0 || H5Dwrite(d.get(), memory, H5S_ALL, H5S_ALL,
                                                      H5P_DEFAULT, t.data_ptr()) >= 0),
                at(object), ": cannot write the dataset");
  }

  Handle group(hid_t parent, const std::string& name, const std::string& object) {
    const auto gcpl = snn::detail::h5::untimed(H5P_GROUP_CREATE);
    Handle g(H5Gcreate2(parent, name.c_str(), H5P_DEFAULT, gcpl.get(), H5P_DEFAULT), H5Gclose);
    TORCH_CHECK(g.ok(), at(object), ": cannot create the group");
    return g;
  }

  // Flattened "a/b" names back into nested groups.
  void flat(hid_t parent, const std::map<std::string, Value>& values, const std::string& object) {
    for (const auto& [name, v] : values) {
      hid_t at_group = parent;
      std::vector<Handle> opened;
      size_t start = 0;
      for (size_t slash = name.find('/'); slash != std::string::npos;
           start = slash + 1, slash = name.find('/', start)) {
        const std::string part = name.substr(start, slash - start);
        if (H5Lexists(at_group, part.c_str(), H5P_DEFAULT) > 0) {
          opened.emplace_back(H5Gopen2(at_group, part.c_str(), H5P_DEFAULT), H5Gclose);
        } else {
          opened.push_back(group(at_group, part, object + "/" + name));
        }
        at_group = opened.back().get();
      }
      value(at_group, name.substr(start), v, object + "/" + name);
    }
  }

  void node(hid_t parent, const std::string& name, const Node& n, const std::string& object) {
    Handle g = group(parent, name, object);
    value(g.get(), "type", Value::text(n.type), object + "/type");
    std::map<std::string, Value> params;
    for (const auto& [k, v] : n.params) {
      TORCH_CHECK(k != "type" && k != "metadata" && !(n.graph && (k == "nodes" || k == "edges")),
                  at(object), ": a parameter may not be named '", k, "'");
      params[k] = v;
    }
    flat(g.get(), params, object);
    if (!n.metadata.empty() && n.type != "NIRGraph") {
      Handle m = group(g.get(), "metadata", object + "/metadata");
      flat(m.get(), n.metadata, object + "/metadata");
    }
    if (n.type == "NIRGraph") {
      TORCH_CHECK(n.graph != nullptr, at(object), ": a NIRGraph node without its graph");
      graph(g.get(), *n.graph, object);
    }
  }

  void graph(hid_t g, const Graph& graph, const std::string& object) {
    Handle nodes = group(g, "nodes", object + "/nodes");
    for (const auto& [name, n] : graph.nodes) {
      node(nodes.get(), name, n, object + "/nodes/" + name);
    }
    Value edges;
    edges.string_shape = {static_cast<int64_t>(graph.edges.size()), 2};
    for (const auto& e : graph.edges) {
      edges.strings.push_back(e.source);
      edges.strings.push_back(e.target);
    }
    value(g, "edges", edges, object + "/edges");
    if (!graph.metadata.empty()) {
      Handle m = group(g, "metadata", object + "/metadata");
      flat(m.get(), graph.metadata, object + "/metadata");
    }
  }
};

void check_name(const std::string& name) {
  TORCH_CHECK(!name.empty() && name != "." && name.find('/') == std::string::npos,
              "snn::nir: a node name must be non-empty, not '.', without '/', got '", name, "'");
}

void describe_value(std::ostream& os, const Value& v) {
  if (v.is_text()) {
    if (v.string_shape.empty()) {
      os << "\"" << v.strings[0] << "\"";
    } else {
      os << "text" << c10::IntArrayRef(v.string_shape);
    }
    return;
  }
  const auto& t = v.tensor;
  os << t.scalar_type() << t.sizes();
  if (t.numel() == 0) return;
  const auto flat = t.to(at::kDouble).flatten();
  const double lo = flat.min().item<double>(), hi = flat.max().item<double>();
  if (t.dim() == 0) {
    os << " = " << flat[0].item<double>();
  } else if (t.numel() <= 4) {
    os << " = [";
    for (int64_t i = 0; i < t.numel(); ++i) os << (i ? ", " : "") << flat[i].item<double>();
    os << "]";
  } else if (lo == hi) {
    os << " all " << lo;
  } else {
    os << " in [" << lo << ", " << hi << "]";
  }
}

void describe_graph(std::ostream& os, const Graph& g, const std::string& indent) {
  for (const auto& [name, n] : g.nodes) {
    os << indent << name << ": " << n.type << "\n";
    for (const auto& [k, v] : n.params) {
      os << indent << "    " << k << ": ";
      describe_value(os, v);
      os << "\n";
    }
    if (n.graph) describe_graph(os, *n.graph, indent + "    ");
  }
  for (const auto& [k, v] : g.metadata) {
    os << indent << "metadata " << k << ": ";
    describe_value(os, v);
    os << "\n";
  }
  os << indent << "edges (" << g.edges.size() << "):\n";
  for (const auto& e : g.edges) os << indent << "    " << e.source << " -> " << e.target << "\n";
}

}  // namespace

Value Value::number(at::Tensor t) {
  Value v;
  v.tensor = std::move(t);
  return v;
}

Value Value::text(std::string s) {
  Value v;
  v.strings.push_back(std::move(s));
  return v;
}

const at::Tensor& Node::tensor(const std::string& node_name, const std::string& name) const {
  const auto it = params.find(name);
  TORCH_CHECK(it != params.end(), "snn::nir: node '", node_name, "' (", type,
              ") has no parameter '", name, "'");
  TORCH_CHECK(!it->second.is_text(), "snn::nir: node '", node_name, "' (", type, "): parameter '",
              name, "' is text, expected numbers");
  return it->second.tensor;
}

Node& Graph::add(const std::string& name, Node node) {
  check_name(name);
  TORCH_CHECK(nodes.count(name) == 0, "snn::nir: the graph has a node '", name, "' already");
  return nodes[name] = std::move(node);
}

const Node& Graph::at(const std::string& name) const {
  const auto it = nodes.find(name);
  TORCH_CHECK(it != nodes.end(), "snn::nir: the graph has no node '", name, "'");
  return it->second;
}

File read(const std::string& path, const ReadOptions& options) {
  TORCH_CHECK(options.stall_seconds > 0, "snn::nir: ReadOptions::stall_seconds must be > 0, got ",
              options.stall_seconds);
  TORCH_CHECK(options.max_bytes > 0, "snn::nir: ReadOptions::max_bytes must be > 0, got ",
              options.max_bytes);
  if (options.isolate) {
    snn::detail::h5::check_in_child_once(
        path, where(path),
        [&](const std::function<void()>& progress) {
          ReadOptions direct = options;
          direct.isolate = false;
          read_direct(path, direct);
          progress();
        },
        options.stall_seconds, "a NIR file");
  }
  return read_direct(path, options);
}

void write(const std::string& path, const Graph& graph) {
  std::function<void(const Graph&)> check = [&](const Graph& g) {
    for (const auto& [name, n] : g.nodes) {
      check_name(name);
      if (n.graph) check(*n.graph);
    }
  };
  check(graph);
  snn::detail::AtomicFile target(path, /*open=*/false);
  {
    auto lock = snn::detail::hdf5_lock();
    QuietErrors quiet;
    Writer w{path};
    Handle file(H5Fcreate(target.temp_path().c_str(), H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT),
                H5Fclose);
    TORCH_CHECK(file.ok(), where(path), ": cannot create ", target.temp_path());
    w.value(file.get(), "version", Value::text(kVersion), "/version");
    Handle node = w.group(file.get(), "node", "/node");
    w.value(node.get(), "type", Value::text("NIRGraph"), "/node/type");
    w.graph(node.get(), graph, "/node");
  }
  target.commit();
}

std::string describe(const Graph& graph) {
  std::ostringstream os;
  describe_graph(os, graph, "");
  return os.str();
}

}  // namespace snn::nir
