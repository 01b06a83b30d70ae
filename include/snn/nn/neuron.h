#pragma once
/// \file
/// What every neuron layer shares, and the forms a neuron model comes in.
///
/// A neuron *model* (LIFModel, IAFModel, ALIFModel, ExpLeakModel) knows its options, its
/// parameters and its specification text for the neuron op (snn/ops/neuron.h). The
/// *forms* turn a model into a torch::nn module:
///   NeuronLayer<Model>    input [B, T, *features] (batch first), e.g. snn::LIF;
///   SqueezeLayer<Model>   input [B·T, *features] (batch-major), e.g. snn::LIFSqueeze;
///   RecurrentLayer<Model> input [B, T, *features] plus recurrent input, e.g. snn::LIFRecurrent.
/// Their common base (NeuronModule) owns the states, the recordings, reset / detach,
/// save / load, printing and cloning, so that a new model adds its options, parameters
/// and specification only (see docs/adding_a_neuron_model.md).
#include <torch/arg.h>
#include <torch/nn/cloneable.h>
#include <torch/nn/modules/container/any.h>
#include <torch/nn/modules/container/sequential.h>
#include <torch/nn/pimpl.h>

#include <functional>
#include <map>
#include <optional>
#include <ostream>
#include <string>
#include <type_traits>
#include <vector>

#include "snn/nn/neuron_options.h"
#include "snn/ops/neuron.h"
#include "snn/nn/stateful.h"

namespace snn {

/// Options of the Squeeze forms: how to split the first dimension B·T (batch-major).
/// One of the two is required. Example: `snn::SqueezeOptions().batch_size(8)`.
struct SqueezeOptions {
  /// Batch size B; T = (B·T) / B. Default: none.
  TORCH_ARG(std::optional<int64_t>, batch_size) = std::nullopt;
  /// Number of time steps T; B = (B·T) / T. Default: none.
  TORCH_ARG(std::optional<int64_t>, num_timesteps) = std::nullopt;
};

namespace detail {

/// The state, recordings and op call of a neuron model (the part that is not a template).
class NeuronCore : public StatefulModule {
 public:
  /// The state of every step of the last forward, [B, T, *features] (Squeeze layers
  /// too), by state name, when record_states is set; empty otherwise.
  const std::map<std::string, at::Tensor>& recordings() const { return recordings_; }
  /// The specification text the layer hands to the neuron op.
  const std::string& spec() const { return spec_; }
  /// How a Squeeze form splits its input's first dimension; null for the other forms.
  virtual const SqueezeOptions* squeeze_options() const { return nullptr; }
  /// The input as the neuron op receives it (a model may transform it, e.g. snnTorch's
  /// Lapicque scales it by R/(R·C)·Δt); the identity by default.
  at::Tensor model_input(const at::Tensor& input) const { return input; }

 protected:
  /// Validates `spec` (parsed once per distinct specification) and declares the states it
  /// names; creates them with `shape` ([B, *features]) if given.
  void set_spec(const ops::NeuronSpec& spec, const std::optional<std::vector<int64_t>>& shape);
  /// Runs the neuron op over input [B, T, *features] with the given parameters (each
  /// broadcast, right-aligned, against the feature shape; names as the spec lists them),
  /// updates the states, keeps the recordings if `record`; returns the output.
  at::Tensor run(const char* layer, const at::Tensor& input, const std::vector<at::Tensor>& params,
                 bool record);
  /// As run, without recordings: the output followed by every state's record, each shaped
  /// as the input.
  std::vector<at::Tensor> run_op(const char* layer, const at::Tensor& input,
                                 const std::vector<at::Tensor>& params);
  /// The recurrent loop (Sinabs' *Recurrent layers): step t gets x_t + rec(s_{t-1}) with
  /// rec(s_{-1}) = 0 at every call; each step is one call of the neuron op.
  at::Tensor run_recurrent(const char* layer, const at::Tensor& input,
                           const std::vector<at::Tensor>& params, bool record,
                           const std::function<at::Tensor(const at::Tensor&)>& rec);
  /// Replaces the recordings (states by name, [B, T, *features]); adds the derived ones.
  void set_recordings(std::map<std::string, at::Tensor> recordings);
  /// The layer's output from the op's outputs (output, then every state's record); the
  /// op's output by default (snnTorch's inhibition masks it).
  virtual at::Tensor model_output(const std::vector<at::Tensor>& op_outputs) const {
    return op_outputs[0];
  }
  /// Recordings of states derived from the recorded ones (e.g. ALIF's spike_threshold).
  virtual void add_derived_recordings(std::map<std::string, at::Tensor>& /*recordings*/) const {}
  /// The specification of a spiking family (LIF, ALIF) from the layer options.
  static ops::NeuronSpec spiking_spec(ops::NeuronFamily family, bool synapse, bool norm_input,
                                      const SpikeFn& spike_fn, const ResetFn& reset_fn,
                                      const Surrogate& surrogate,
                                      std::optional<double> min_v_mem);
  /// Prints the options every spiking layer has: ", spike_threshold=..., ..., min_v_mem=...".
  static void print_spiking(std::ostream& os, double spike_threshold, const SpikeFn& spike_fn,
                            const ResetFn& reset_fn, const Surrogate& surrogate,
                            std::optional<double> min_v_mem);
  /// Prints ", shape=..., record_states=...".
  static void print_tail(std::ostream& os, const std::optional<std::vector<int64_t>>& shape,
                         bool record_states);
  /// The specification of a spiking family from the options every spiking layer has.
  template <typename D>
  static ops::NeuronSpec spiking_spec(ops::NeuronFamily family, bool norm_input,
                                      const SpikingOptions<D>& o) {
    return spiking_spec(family, o.tau_syn().has_value(), norm_input, o.spike_fn(), o.reset_fn(),
                        o.surrogate(), o.min_v_mem());
  }
  /// Prints ", tau_syn=..., spike_threshold=..., ..., min_v_mem=..." (unset ones left out).
  template <typename D>
  static void print_spiking(std::ostream& os, const SpikingOptions<D>& o) {
    if (o.tau_syn()) os << ", tau_syn=" << *o.tau_syn();
    print_spiking(os, o.spike_threshold(), o.spike_fn(), o.reset_fn(), o.surrogate(),
                  o.min_v_mem());
  }
  template <typename D>
  static void print_tail(std::ostream& os, const NeuronOptions<D>& o) {
    print_tail(os, o.shape(), o.record_states());
  }
  /// Rejects a value <= 0 with a message naming the layer and the option.
  static void check_positive(const char* layer, const char* name, double value);
  /// Rejects a time constant with an element <= 0.
  static void check_tau(const char* layer, const char* name, const std::optional<TimeConstant>& tau);
  /// Registers the trainable time constant "tau_<name>" (τ), or "alpha_<name>" (α = exp(-1/τ))
  /// with `as_alpha`, and returns it.
  static at::Tensor register_decay(torch::nn::Module& self, const std::string& name,
                                   const TimeConstant& tau, bool as_alpha);
  /// The decay factor as forward uses it: the trained α, or exp(-1/τ).
  static at::Tensor decay(const at::Tensor& tau, const at::Tensor& alpha, bool as_alpha);
  /// For clone(): independent copies of `other`'s states (values only, no graph).
  void copy_states_from(const NeuronCore& other, const std::optional<at::Device>& device);
  void clear_recordings() { recordings_.clear(); }

 private:
  std::string spec_;
  const ops::NeuronSpec* parsed_ = nullptr;  // in neuron_spec's cache, which never drops it
  std::map<std::string, at::Tensor> recordings_;
};

/// The module shell of a neuron layer: Derived is the layer, Model its neuron model.
/// Overrides what torch::nn::Module does not know about states.
template <typename Derived, typename Model>
class NeuronModule : public torch::nn::Cloneable<Derived>, public Model {
 public:
  explicit NeuronModule(typename Model::Options options) : Model(std::move(options)) {}

  void reset() override { this->reset_model(*this); }
  /// Zeroes the parameters' gradients and detaches the states (keeps their values).
  void zero_grad(bool set_to_none = true) override {
    torch::nn::Module::zero_grad(set_to_none);
    this->detach_states();
  }
  /// Saves the parameters and the states (as buffers, under their names).
  void save(torch::serialize::OutputArchive& archive) const override {
    torch::nn::Module::save(archive);
    this->save_states(archive);
  }
  void load(torch::serialize::InputArchive& archive) override {
    torch::nn::Module::load(archive);
    this->load_states(archive);
  }
  /// An independent copy: parameters, and states copied without their autograd graph.
  std::shared_ptr<torch::nn::Module> clone(
      const std::optional<torch::Device>& device = std::nullopt) const override {
    auto copy = torch::nn::Cloneable<Derived>::clone(device);
    auto& layer = dynamic_cast<Derived&>(*copy);
    layer.copy_states_from(*this, device);
    layer.clear_recordings();
    return copy;
  }
};

}  // namespace detail

/// A neuron model as a layer over batch-first input [B, T, *features].
template <typename Model>
class NeuronLayer : public detail::NeuronModule<NeuronLayer<Model>, Model> {
 public:
  explicit NeuronLayer(typename Model::Options options = {})
      : detail::NeuronModule<NeuronLayer<Model>, Model>(std::move(options)) {
    this->reset();
  }
  /// input [B, T, *features] → output of the same shape (spikes, or the membrane).
  at::Tensor forward(const at::Tensor& input) {
    if constexpr (requires(Model& m) { m.run_sequence(input); }) {
      return this->run_sequence(input);  // a model that steps itself (e.g. snnTorch's RLeaky)
    } else {
      return this->run(Model::kName, this->model_input(input), this->op_params(input),
                       this->options.record_states());
    }
  }
  void pretty_print(std::ostream& os) const override {
    os << "snn::" << Model::kName << "(";
    this->print_options(os);
    os << ")";
  }
};

/// A neuron model as a layer over squeezed input [B·T, *features] (batch-major, as
/// FlattenTime makes it), for convolutional networks (Sinabs' *Squeeze layers).
template <typename Model>
class SqueezeLayer : public detail::NeuronModule<SqueezeLayer<Model>, Model> {
 public:
  SqueezeLayer(typename Model::Options options, SqueezeOptions squeeze)
      : detail::NeuronModule<SqueezeLayer<Model>, Model>(std::move(options)),
        squeeze(std::move(squeeze)) {
    this->reset();
  }
  void reset() override;
  /// input [B·T, *features] → output of the same shape.
  at::Tensor forward(const at::Tensor& input);
  const SqueezeOptions* squeeze_options() const override { return &squeeze; }
  void pretty_print(std::ostream& os) const override;

  SqueezeOptions squeeze;
};

/// The recurrent connection of a RecurrentLayer: any module with forward(Tensor) -> Tensor
/// (Linear, Conv2d, ..., held as an AnyModule) or a torch::nn::Sequential (which an
/// AnyModule cannot hold). Example: `torch::nn::Linear(64, 64)`.
class RecurrentConnection {
 public:
  RecurrentConnection(torch::nn::AnyModule module);
  RecurrentConnection(torch::nn::Sequential sequential);
  template <typename M>
  /* implicit */ RecurrentConnection(const torch::nn::ModuleHolder<M>& module) {
    if constexpr (std::is_same_v<M, torch::nn::SequentialImpl>) {
      *this = RecurrentConnection(torch::nn::Sequential(module));
    } else {
      *this = RecurrentConnection(torch::nn::AnyModule(module));
    }
  }
  at::Tensor operator()(const at::Tensor& spikes);
  /// The module, as registered under "rec_connect".
  std::shared_ptr<torch::nn::Module> ptr() const;
  /// A deep copy (its own parameters).
  RecurrentConnection clone() const;

 private:
  RecurrentConnection() = default;
  torch::nn::AnyModule any_;
  torch::nn::Sequential sequential_{nullptr};
};

/// A neuron model with recurrent connections (Sinabs' *Recurrent layers), input
/// [B, T, *features]: per step t the neurons receive x_t + rec_connect(s_{t-1}), where
/// rec_connect is any module mapping spikes [B, *features] to [B, *features] (Linear,
/// Conv2d, Sequential, ...; see RecurrentConnection) and the recurrent input starts at zero at every forward call,
/// as in Sinabs. The steps run in time order, each one call of the neuron op.
/// Recordings (record_states) hold the state after every step. (Sinabs' recurrent layers
/// record, for every step but the last, the next step's membrane before its reset, through
/// an aliased dictionary; snn.cpp records each step's own state.)
template <typename Model>
class RecurrentLayer : public detail::NeuronModule<RecurrentLayer<Model>, Model> {
 public:
  RecurrentLayer(typename Model::Options options, RecurrentConnection rec_connect)
      : detail::NeuronModule<RecurrentLayer<Model>, Model>(std::move(options)),
        rec_connect(std::move(rec_connect)) {
    this->reset();
  }
  /// A copy owns a copy of rec_connect (so that clone() never touches the original's).
  RecurrentLayer(const RecurrentLayer& other)
      : detail::NeuronModule<RecurrentLayer<Model>, Model>(other),
        rec_connect(other.rec_connect.clone()) {
    this->replace_module("rec_connect", rec_connect.ptr());
  }
  /// Assignment copies rec_connect too (as the copy constructor does: no two layers share it).
  RecurrentLayer& operator=(const RecurrentLayer& other) {
    if (this != &other) {
      detail::NeuronModule<RecurrentLayer<Model>, Model>::operator=(other);
      rec_connect = other.rec_connect.clone();
      this->replace_module("rec_connect", rec_connect.ptr());
    }
    return *this;
  }

  void reset() override {
    TORCH_CHECK(rec_connect.ptr() != nullptr, "snn::", Model::kName,
                "Recurrent: rec_connect must be a module");
    this->register_module("rec_connect", rec_connect.ptr());
    this->reset_model(*this);
  }
  /// input [B, T, *features] → spikes of the same shape.
  at::Tensor forward(const at::Tensor& input) {
    return this->run_recurrent(Model::kName, input, this->op_params(input),
                               this->options.record_states(), [this](const at::Tensor& s) {
                                 return rec_connect(s);
                               });
  }
  void pretty_print(std::ostream& os) const override {
    os << "snn::" << Model::kName << "Recurrent(";
    this->print_options(os);
    os << ")";
  }

  /// The recurrent connection, registered as the submodule "rec_connect".
  RecurrentConnection rec_connect;
};

namespace detail {
void check_squeeze(const char* layer, const SqueezeOptions& squeeze);
/// [B·T, *features] → [B, T, *features].
at::Tensor unsqueeze_time(const char* layer, const at::Tensor& input, const SqueezeOptions& squeeze);
void print_squeeze(std::ostream& os, const SqueezeOptions& squeeze);
}  // namespace detail

template <typename Model>
void SqueezeLayer<Model>::reset() {
  detail::check_squeeze(Model::kName, squeeze);
  this->reset_model(*this);
}

template <typename Model>
at::Tensor SqueezeLayer<Model>::forward(const at::Tensor& input) {
  const auto x = detail::unsqueeze_time(Model::kName, input, squeeze);
  return this->run(Model::kName, x, this->op_params(x), this->options.record_states()).flatten(0, 1);
}

template <typename Model>
void SqueezeLayer<Model>::pretty_print(std::ostream& os) const {
  os << "snn::" << Model::kName << "Squeeze(";
  this->print_options(os);
  detail::print_squeeze(os, squeeze);
  os << ")";
}

/// The states a neuron layer built with record_states kept in its last forward: every
/// step's value [B, T, *features] by state name (e.g. "v_mem"); empty when it records
/// nothing. nullptr when `module` is not a neuron layer.
const std::map<std::string, at::Tensor>* recordings(const torch::nn::Module& module);

/// Every neuron layer of `model` (itself included), in the order of named_modules(), with
/// its path there (e.g. "1", "block.2") and its recordings.
struct LayerRecordings {
  std::string name;
  std::map<std::string, at::Tensor> states;
};
std::vector<LayerRecordings> recorded_states(const torch::nn::Module& model);

}  // namespace snn
