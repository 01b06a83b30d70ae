// The example of docs/adding_a_neuron_model.md, compiled and run: the code between the
// markers is the document's code block, character for character (the parity suite's
// test_docs_example_is_the_compiled_one compares them).
#include <gtest/gtest.h>
#include <torch/nn/module.h>

#include <ostream>

#include "snn/nn/neuron.h"
#include "snn/snntorch/neurons.h"

// [doc-example begin]
// A model on an existing family: a leaky neuron that fires on the sign step (1/2 at the
// threshold), with a learnable decay β per neuron and a threshold of 1.
struct SoftLeakyOptions {
  TORCH_ARG(int64_t, features) = 1;  // neurons per sample
  TORCH_ARG(double, beta) = 0.9;     // initial decay of every neuron
  TORCH_ARG(bool, record_states) = false;
};

class SoftLeakyModel : public snn::detail::NeuronCore {
 public:
  using Options = SoftLeakyOptions;
  static constexpr const char* kName = "SoftLeaky";
  explicit SoftLeakyModel(SoftLeakyOptions options) : options(options) {}
  SoftLeakyOptions options;
  at::Tensor beta;  // [features], trained

 protected:
  // Checks the options, registers the parameters, and hands the op its specification
  // (parsed and checked here, once; never per call).
  void reset_model(torch::nn::Module& self) {
    TORCH_CHECK(options.features() >= 1, "snn::SoftLeaky: features must be >= 1, got ",
                options.features());
    beta = self.register_parameter("beta", at::full({options.features()}, options.beta()));
    snn::ops::NeuronSpec spec;  // the Leaky family: states [mem]
    spec.family = snn::ops::NeuronFamily::Leaky;
    spec.spike = snn::ops::SpikeKind::HalfStep;
    spec.reset_delay = true;
    spec.surrogate = {snn::ops::SurrogateKind::FastSigmoid, {10.0}};
    set_spec(spec, std::nullopt);
  }
  // The op's parameters in the family's order: beta, threshold, graded_spikes_factor.
  std::vector<at::Tensor> op_params(const at::Tensor& input) const {
    const auto one = at::ones({}, input.options());
    return {beta.clamp(0, 1), one, one};
  }
  void print_options(std::ostream& os) const {
    os << "features=" << options.features() << ", beta=" << options.beta();
  }
};
using SoftLeaky = snn::NeuronLayer<SoftLeakyModel>;  // input [B, T, features]
// [doc-example end]

TEST(DocsExampleTest, SoftLeakyRunsTrainsAndIsTheLeakyFamily) {
  torch::manual_seed(0);
  auto layer = std::make_shared<SoftLeaky>(SoftLeakyOptions().features(5).beta(0.8));
  const auto x = at::rand({3, 20, 5}) * 1.5;
  const auto out = layer->forward(x);
  ASSERT_EQ(out.sizes(), x.sizes());
  EXPECT_GT(out.sum().item<double>(), 0);
  out.sum().backward();
  ASSERT_TRUE(layer->beta.grad().defined());
  EXPECT_GT(layer->beta.grad().abs().sum().item<double>(), 0);
  // Away from the threshold the sign step is snnTorch's Heaviside: the same spikes as
  // snn::snntorch::Leaky with the same β.
  snn::snntorch::Leaky leaky(snn::snntorch::LeakyOptions(0.8));
  EXPECT_TRUE(at::equal(out, leaky(x)));
  std::ostringstream printed;
  layer->pretty_print(printed);
  EXPECT_EQ(printed.str(), "snn::SoftLeaky(features=5, beta=0.8)");
  EXPECT_THROW(SoftLeaky(SoftLeakyOptions().features(0)), c10::Error);
}
