// snn::nir: the file layer (write and read back), the graph executor (branches, subgraphs,
// cycles, several inputs, calls in pieces), the node table's errors, export of
// Sequentials, and the NIR neuron layers (snn::CubaLIF, CubaLI) and snn::Delay they use.
#include <gtest/gtest.h>
#include <torch/nn/modules/activation.h>
#include <torch/nn/modules/container/sequential.h>
#include <torch/nn/modules/conv.h>
#include <torch/nn/modules/linear.h>
#include <torch/nn/modules/pooling.h>

#include <fstream>
#include <sstream>

#include "snn/nir/convert.h"
#include "snn/nir/graph.h"
#include "snn/nn/cuba.h"
#include "snn/nn/delay.h"
#include "snn/nn/lif.h"
#include "snn/nn/structural.h"
#include "snn/snntorch/neurons.h"
#include "test_util.h"

namespace {

using snn::nir::Edge;
using snn::nir::Graph;
using snn::nir::Node;
using snn::nir::Value;

Node node(const std::string& type, std::map<std::string, at::Tensor> params = {}) {
  Node n;
  n.type = type;
  for (auto& [k, v] : params) n.params[k] = Value::number(v);
  return n;
}

Node io(const char* type, std::vector<int64_t> shape) {
  return node(type, {{"shape", at::tensor(shape, at::kLong)}});
}

// input [n] → Affine → LIF → output
Graph chain(int64_t in = 3, int64_t n = 4) {
  Graph g;
  g.add("input", io("Input", {in}));
  g.add("fc", node("Affine", {{"weight", at::rand({n, in}) * 2}, {"bias", at::zeros({n})}}));
  g.add("lif", node("LIF", {{"tau", at::full({n}, 5e-3)},
                            {"r", at::ones({n})},
                            {"v_leak", at::zeros({n})},
                            {"v_threshold", at::full({n}, 0.2)},
                            {"v_reset", at::zeros({n})}}));
  g.add("output", io("Output", {n}));
  g.edges = {{"input", "fc"}, {"fc", "lif"}, {"lif", "output"}};
  return g;
}

TEST(NIRFileTest, WritesAndReadsBackEveryKindOfValue) {
  snn::test::TempDir dir("snn_nir_file");
  torch::manual_seed(0);
  Graph g = chain();
  Node conv = node("Conv2d", {{"weight", at::rand({2, 1, 3, 3})},
                              {"stride", at::tensor({1, 1}, at::kLong)},
                              {"groups", at::scalar_tensor(1, at::kLong)},
                              {"scale", at::rand({2}, at::kDouble)}});
  conv.params["padding"] = Value::text("same");
  conv.metadata["note/who"] = Value::text("test");
  g.add("conv", conv);
  Graph sub = chain(2, 2);
  Node inner;
  inner.type = "NIRGraph";
  inner.graph = std::make_shared<Graph>(sub);
  g.add("sub", inner);
  g.metadata["classes"] = Value::text("a");
  const auto path = (dir / "g.nir").string();
  snn::nir::write(path, g);
  const auto file = snn::nir::read(path);
  EXPECT_EQ(file.version, snn::nir::kVersion);
  const auto& r = file.graph;
  EXPECT_EQ(r.edges, g.edges);
  ASSERT_EQ(r.nodes.size(), g.nodes.size());
  EXPECT_TRUE(at::equal(r.at("fc").tensor("fc", "weight"), g.at("fc").tensor("fc", "weight")));
  EXPECT_EQ(r.at("conv").params.at("padding").strings, std::vector<std::string>{"same"});
  EXPECT_EQ(r.at("conv").tensor("conv", "groups").dim(), 0);
  EXPECT_EQ(r.at("conv").tensor("conv", "scale").scalar_type(), at::kDouble);
  EXPECT_EQ(r.at("conv").metadata.at("note/who").strings[0], "test");
  ASSERT_NE(r.at("sub").graph, nullptr);
  EXPECT_EQ(r.at("sub").graph->edges, sub.edges);
  EXPECT_EQ(r.metadata.at("classes").strings[0], "a");
  // Isolated (the default) and direct reads agree.
  const auto direct = snn::nir::read(path, snn::nir::ReadOptions{false});
  EXPECT_EQ(direct.graph.nodes.size(), r.nodes.size());
  const auto listing = snn::nir::describe(r);
  EXPECT_NE(listing.find("fc: Affine"), std::string::npos) << listing;
  EXPECT_NE(listing.find("    input -> fc"), std::string::npos) << listing;
}

TEST(NIRFileTest, BadFilesAndNamesAreNamed) {
  snn::test::TempDir dir("snn_nir_bad");
  const auto text = (dir / "text.nir").string();
  std::ofstream(text) << "not HDF5";
  EXPECT_THROW_WITH(snn::nir::read(text), "cannot open the file as HDF5");
  EXPECT_THROW_WITH(snn::nir::read((dir / "missing.nir").string()), "missing.nir");
  Graph g;
  EXPECT_THROW_WITH(g.add("a/b", node("Input")), "without '/'");
  g.add("x", node("Input"));
  EXPECT_THROW_WITH(g.add("x", node("Input")), "has a node 'x' already");
  // A file that is HDF5 but not NIR.
  Graph empty;
  const auto path = (dir / "g.nir").string();
  snn::nir::write(path, empty);
  EXPECT_NO_THROW(snn::nir::read(path));
  EXPECT_THROW_WITH(snn::nir::GraphModule(empty), "the graph has no nodes");
  snn::nir::ReadOptions tiny;
  tiny.max_bytes = 8;
  snn::nir::write(path, chain());
  EXPECT_THROW_WITH(snn::nir::read(path, tiny), "more than 8 bytes");
}

TEST(NIRFileTest, FuzzFindingsAreErrorsNamingTheFile) {
  // Files that broke the HDF5 library (crashes, hangs, huge allocations): read as users
  // read files (in a child first), each is an error naming it.
  int count = 0;
  for (const auto& entry : std::filesystem::directory_iterator(SNN_SOURCE_DIR "/fuzz/findings")) {
    const auto path = entry.path().string();
    if (entry.path().extension() == ".md") continue;
    ++count;
    const auto msg = snn::test::error_of([&] { snn::nir::read(path); });
    EXPECT_NE(msg.find(path), std::string::npos) << path << ": " << msg;
  }
  EXPECT_GE(count, 5);
}

TEST(NIRImportTest, GraphErrorsNameTheNodeAndTheReason) {
  auto with = [](const std::function<void(Graph&)>& edit) {
    Graph g = chain();
    edit(g);
    return [g] { snn::nir::GraphModule m(g); };
  };
  EXPECT_THROW_WITH(with([](Graph& g) { g.edges.push_back({"lif", "nowhere"}); })(),
                    "edge lif -> nowhere goes to a node that does not exist ('nowhere')");
  EXPECT_THROW_WITH(with([](Graph& g) { g.nodes["fc"].type = "Softmax"; })(),
                    "node 'fc' has type 'Softmax', which snn.cpp does not import");
  EXPECT_THROW_WITH(with([](Graph& g) { g.nodes["lif"].params.erase("tau"); })(),
                    "node 'lif' (LIF) has no parameter 'tau'");
  EXPECT_THROW_WITH(with([](Graph& g) {
                      g.nodes["lif"].params["r"] = Value::number(at::ones({5}));
                    })(),
                    "node 'lif' (LIF): parameters 'r' [5] and 'tau' [4] must have the same shape");
  EXPECT_THROW_WITH(with([](Graph& g) { g.add("lone", node("Scale", {{"scale", at::ones({4})}})); })(),
                    "node 'lone' (Scale) is not reachable from an Input node");
  EXPECT_THROW_WITH(with([](Graph& g) { g.nodes["fc"].params["bias"] = Value::number(at::ones({3})); })(),
                    "node 'fc' (Affine): expected a bias of shape [4], got [3]");
  EXPECT_THROW_WITH(with([](Graph& g) { g.nodes["lif"].params["tau"] = Value::number(at::zeros({4})); })(),
                    "'tau' must be > 0");
  // The conventions' own requirements.
  Graph leaky = chain();
  leaky.nodes["lif"].params["v_leak"] = Value::number(at::full({4}, 0.1));
  EXPECT_THROW_WITH(snn::nir::GraphModule(leaky, snn::nir::ImportOptions().convention(
                                                     snn::nir::Convention::SnnTorch)),
                    "parameter 'v_leak' must be 0 (snnTorch's importer requires it)");
  Graph sinabs = chain();
  sinabs.nodes["lif"].params["v_threshold"] = Value::number(at::rand({4}));
  EXPECT_THROW_WITH(snn::nir::GraphModule(sinabs, snn::nir::ImportOptions().convention(
                                                      snn::nir::Convention::Sinabs)),
                    "parameter 'v_threshold' differs across neurons, which Sinabs' LIF cannot express");
  EXPECT_THROW_WITH(snn::nir::parse_convention("lava"), "unknown convention 'lava'");
  // Shapes that do not fit, at run time.
  snn::nir::GraphModule m(chain());
  EXPECT_THROW_WITH(m->forward(at::rand({2, 5, 7})), "Input node 'input' expects [B, T, [3]]");
}

TEST(NIRImportTest, BranchesAreSummedAndPiecesGiveTheWhole) {
  torch::manual_seed(1);
  Graph g = chain();
  // A second path input → Linear → lif: the neuron receives the sum.
  g.add("skip", node("Linear", {{"weight", at::rand({4, 3})}}));
  g.edges.push_back({"input", "skip"});
  g.edges.push_back({"skip", "lif"});
  snn::nir::GraphModule m(g);
  EXPECT_FALSE(m->recurrent());
  const auto x = at::rand({2, 30, 3});
  const auto whole = m->forward(x);
  snn::reset_states(*m);
  const auto a = m->forward(x.narrow(1, 0, 11));
  const auto b = m->forward(x.narrow(1, 11, 19));
  EXPECT_TRUE(at::equal(at::cat({a, b}, 1), whole));
  // The same with the branch's modules by hand.
  auto fc = std::dynamic_pointer_cast<torch::nn::LinearImpl>(m->node_module("fc"));
  auto skip = std::dynamic_pointer_cast<torch::nn::LinearImpl>(m->node_module("skip"));
  auto lif = std::dynamic_pointer_cast<snn::CubaLIFImpl>(m->node_module("lif"));
  ASSERT_TRUE(fc && skip && lif);
  snn::reset_states(*m);
  EXPECT_TRUE(at::equal(lif->forward(fc->forward(x) + skip->forward(x)), whole));
  EXPECT_GT(whole.sum().item<double>(), 0);
}

TEST(NIRImportTest, CyclesRunStepByStepAndCarryAcrossCalls) {
  torch::manual_seed(2);
  Graph g = chain(3, 5);
  g.add("rec", node("Affine", {{"weight", at::rand({5, 5}) - 0.5}, {"bias", at::full({5}, 0.05)}}));
  g.edges.push_back({"lif", "rec"});
  g.edges.push_back({"rec", "lif"});
  for (const auto convention : {snn::nir::Convention::Norse, snn::nir::Convention::SnnTorch}) {
    snn::nir::GraphModule m(g, snn::nir::ImportOptions().convention(convention));
    EXPECT_TRUE(m->recurrent());
    const auto x = at::rand({2, 24, 3});
    const auto whole = m->forward(x);
    snn::reset_states(*m);
    const auto a = m->forward(x.narrow(1, 0, 7));
    const auto b = m->forward(x.narrow(1, 7, 17));
    EXPECT_TRUE(at::equal(at::cat({a, b}, 1), whole));
    EXPECT_GT(whole.sum().item<double>(), 0);
  }
}

TEST(NIRImportTest, SeveralInputsSubgraphsDelaysAndStatelessNodes) {
  torch::manual_seed(3);
  Graph g;
  g.add("a", io("Input", {4}));
  g.add("b", io("Input", {4}));
  g.add("scale", node("Scale", {{"scale", at::full({4}, 2.0)}}));
  g.add("delay", node("Delay", {{"delay", at::tensor({0.0, 1e-3, 2e-3, 3e-3})}}));
  Node sub;
  sub.type = "NIRGraph";
  sub.graph = std::make_shared<Graph>(chain(4, 4));
  g.add("sub", sub);
  g.add("th", node("Threshold", {{"threshold", at::full({4}, 0.5)}}));
  g.add("out", io("Output", {4}));
  g.add("raw", io("Output", {4}));
  g.edges = {{"a", "scale"}, {"scale", "delay"}, {"b", "delay"}, {"delay", "sub"},
             {"delay", "th"}, {"th", "out"}, {"sub", "raw"}};
  snn::nir::GraphModule m(g);  // Norse's dt: 1e-3, so the delays are 0..3 steps
  const auto xa = at::rand({2, 10, 4}), xb = at::rand({2, 10, 4});
  const auto out = m->forward_all({{"a", xa}, {"b", xb}});
  ASSERT_EQ(out.size(), 2u);
  const auto summed = xa * 2 + xb;
  for (int64_t n = 0; n < 4; ++n) {
    const auto delayed = at::cat({at::zeros({2, n}), summed.select(2, n).narrow(1, 0, 10 - n)}, 1);
    EXPECT_TRUE(at::equal(out.at("out").select(2, n), (delayed > 0.5).to(at::kFloat))) << n;
  }
  EXPECT_EQ(out.at("raw").sizes(), (at::IntArrayRef{2, 10, 4}));
  EXPECT_THROW_WITH(m->forward(xa), "needs one Input and one Output node");
  EXPECT_THROW_WITH(m->forward_all({{"a", xa}}), "no tensor for the Input node 'b'");
}

TEST(NIRImportTest, IntegratorsAndCurrentBasedLeakyIntegrators) {
  // I: v += r·x (a cumulative sum); CubaLI: the synapse's current into a leaky membrane,
  // against the definition step by step (Norse's order of operations, dt 1e-3).
  Graph g;
  g.add("input", io("Input", {3}));
  g.add("i", node("I", {{"r", at::full({3}, 0.5)}}));
  g.add("cuba", node("CubaLI", {{"tau_mem", at::full({3}, 4e-3)},
                                {"tau_syn", at::full({3}, 2e-3)},
                                {"r", at::full({3}, 2.0)},
                                {"v_leak", at::full({3}, 0.1)},
                                {"w_in", at::full({3}, 1.5)}}));
  g.add("sum", io("Output", {3}));
  g.add("membrane", io("Output", {3}));
  g.edges = {{"input", "i"}, {"i", "sum"}, {"input", "cuba"}, {"cuba", "membrane"}};
  snn::nir::GraphModule m(g);
  const auto x = at::rand({2, 15, 3});
  const auto out = m->forward_all({{"input", x}});
  EXPECT_TRUE(at::allclose(out.at("sum"), at::cumsum(x * 0.5, 1)));
  const float km = 1e-3f * (1.0f / 4e-3f), ks = 1e-3f * (1.0f / 2e-3f);
  auto v = at::full({2, 3}, 0.1), i = at::full({2, 3}, 0.1);
  for (int64_t t = 0; t < 15; ++t) {
    i = i + ks * ((0.1 - i) + x.select(1, t) * 1.5);
    v = v + km * ((0.1 - v) + i * 2.0);
    EXPECT_TRUE(at::allclose(out.at("membrane").select(1, t), v)) << t;
  }
}

TEST(NIRExportTest, ASequentialRoundTripsToTheSameOutputs) {
  torch::manual_seed(4);
  torch::nn::Sequential model(
      snn::FlattenTime(), torch::nn::Conv2d(torch::nn::Conv2dOptions(2, 4, 3).padding(1)),
      snn::IAFSqueeze(snn::IAFOptions().spike_threshold(0.7), snn::SqueezeOptions().batch_size(2)),
      snn::SumPool2d(2), torch::nn::AvgPool2d(torch::nn::AvgPool2dOptions(2)),
      torch::nn::Flatten(), snn::UnflattenTime(2), torch::nn::Linear(16, 5),
      snn::LIF(snn::LIFOptions(6.0).spike_threshold(0.4)));
  const auto x = (at::rand({2, 12, 2, 8, 8}) < 0.4).to(at::kFloat);
  const auto expected = model->forward(x);
  EXPECT_GT(expected.sum().item<double>(), 0);
  const auto graph = snn::nir::export_module(*model, x);
  EXPECT_EQ(graph.at("1").type, "Conv2d");
  EXPECT_EQ(graph.at("2").type, "IF");
  EXPECT_EQ(graph.at("5").type, "Flatten");
  EXPECT_EQ(graph.metadata.at("snn_convention").strings[0], "sinabs");
  snn::test::TempDir dir("snn_nir_export");
  snn::nir::write((dir / "m.nir").string(), graph);
  for (const auto convention : {snn::nir::Convention::Sinabs, snn::nir::Convention::Norse}) {
    // snn.cpp's own layers come back whatever the convention (the node's metadata).
    auto m = snn::nir::load((dir / "m.nir").string(),
                            snn::nir::ImportOptions().convention(convention).dt(1.0));
    EXPECT_TRUE(at::equal(m->forward(x), expected));
  }
  torch::nn::Sequential bad(torch::nn::Linear(3, 3), torch::nn::ReLU());
  EXPECT_THROW_WITH(snn::nir::export_module(*bad, at::rand({1, 2, 3})),
                    "module '1' (torch::nn::ReLU()) has no NIR form");
}

TEST(NIRExportTest, CubaLayersWriteNIRNodesWithTheirTimeStep) {
  torch::manual_seed(5);
  torch::nn::Sequential model(
      torch::nn::Linear(3, 4),
      snn::CubaLIF(snn::CubaLIFOptions().tau_mem(0.02).tau_syn(0.005).dt(1e-3).v_leak(0.1)),
      torch::nn::Linear(4, 2), snn::CubaLI(snn::CubaLIFOptions().tau_mem(0.01).dt(1e-3)));
  const auto x = at::rand({2, 20, 3}) * 3;
  const auto expected = model->forward(x);
  const auto g = snn::nir::export_module(*model, x);
  EXPECT_EQ(g.at("1").type, "CubaLIF");
  EXPECT_EQ(g.at("3").type, "LI");
  EXPECT_NEAR(g.at("1").tensor("1", "tau_mem")[0].item<double>(), 0.02, 1e-9);
  EXPECT_EQ(g.metadata.at("snn_convention").strings[0], "norse");
  snn::nir::GraphModule m(g, snn::nir::ImportOptions().dt(1e-3));
  EXPECT_TRUE(at::allclose(m->forward(x), expected));
  // Another time step rescales the time constants: the same dynamics.
  const auto g2 = snn::nir::export_module(*model, x, snn::nir::ExportOptions().dt(1e-4));
  EXPECT_NEAR(g2.at("1").tensor("1", "tau_mem")[0].item<double>(), 0.002, 1e-9);
}

TEST(CubaLIFTest, StatesStartAtTheLeakAndResetThere) {
  snn::CubaLIF lif(snn::CubaLIFOptions().tau_mem(10.0).v_leak(-0.5).v_threshold(1.0));
  lif->forward(at::zeros({2, 3, 4}));
  // With no input the membrane stays at v_leak.
  EXPECT_TRUE(at::allclose(lif->state("v"), at::full({2, 4}, -0.5)));
  lif->forward(at::full({2, 3, 4}, 5.0));
  snn::reset_states(*lif);
  EXPECT_TRUE(at::allclose(lif->state("v"), at::full({2, 4}, -0.5)));
  snn::CubaLIF integrate(snn::CubaLIFOptions().v_reset(0.25).v_threshold(1.0));
  const auto s = integrate->forward(at::full({1, 4, 1}, 0.4));
  // v: 0.25 (start) → 0.65 → 1.05 spikes, v_reset → 0.65
  EXPECT_TRUE(at::equal(s.flatten(), at::tensor({0.0f, 1.0f, 0.0f, 1.0f})));
  std::ostringstream os;
  os << *integrate;
  EXPECT_EQ(os.str(), "snn::CubaLIF(dt=1, r=1, v_leak=0, v_threshold=1, v_reset=0.25, "
                      "surrogate=FastSigmoid(slope=100), record_states=false)");
  EXPECT_THROW_WITH(snn::CubaLIF(snn::CubaLIFOptions().tau_mem(-1.0)), "time constants must be > 0");
  EXPECT_THROW_WITH(snn::CubaLIF(snn::CubaLIFOptions().dt(0)), "dt must be a positive number");
}

TEST(DelayTest, EachFeatureIsDelayedByItsOwnSteps) {
  snn::Delay delay(snn::DelayOptions(at::tensor({0, 2, 1}, at::kLong)));
  const auto x = at::arange(1, 13, at::kFloat).reshape({1, 4, 3});
  const auto y = delay->forward(x);
  const auto expected = at::tensor({1.f, 0.f, 0.f, 4.f, 0.f, 3.f, 7.f, 2.f, 6.f, 10.f, 5.f, 9.f})
                            .reshape({1, 4, 3});
  EXPECT_TRUE(at::equal(y, expected)) << y;
  // Across calls: the history carries over.
  snn::reset_states(*delay);
  const auto a = delay->forward(x.narrow(1, 0, 1));
  const auto b = delay->forward(x.narrow(1, 1, 3));
  EXPECT_TRUE(at::equal(at::cat({a, b}, 1), expected));
  EXPECT_THROW_WITH(snn::Delay(snn::DelayOptions(at::tensor({-1}, at::kLong))), "must be >= 0");
  EXPECT_THROW_WITH(snn::Delay(snn::DelayOptions(at::tensor({0.5}))), "integer tensor");
}

}  // namespace

namespace {

TEST(NIRImportTest, TheReadmeTableIsTheImportersTable) {
  std::ifstream in(SNN_SOURCE_DIR "/README.md");
  std::stringstream readme;
  readme << in.rdbuf();
  ASSERT_FALSE(readme.str().empty());
  for (const auto& m : snn::nir::node_mappings()) {
    const std::string row =
        "| `" + m.type + "` | " + m.norse + " | " + m.snntorch + " | " + m.sinabs + " |";
    EXPECT_NE(readme.str().find(row + "\n"), std::string::npos) << "README.md lacks the row\n" << row;
  }
}

}  // namespace
