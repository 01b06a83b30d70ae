#pragma once
/// \file
/// State that persists across forward calls, as Sinabs' StatefulLayer keeps it.
///
/// A stateful layer keeps its state (e.g. v_mem, i_syn) as tensors of shape
/// [B, *features]. They start undefined and become zeros on the first forward. After each
/// forward they hold the last time step *with its autograd graph*, so that
/// backpropagation through time spans calls until the graph is cut by
/// `reset_states()` (new values, detached) or `zero_grad()` (values kept, detached).
/// When the feature shape or the batch size of the input changes, the state is
/// re-initialised to zeros. (Sinabs resamples old states at random on a batch-size
/// change; snn.cpp does not.) A device or dtype change of the input also starts from zeros.
///
/// The states are not registered buffers — a registered buffer cannot hold a tensor with
/// its autograd graph in LibTorch — but they are saved and loaded with the module
/// (torch::save / torch::load) under their names, as Sinabs' state_dict holds them.
#include <torch/nn/module.h>

#include <map>
#include <string>
#include <utility>
#include <vector>

namespace snn {

/// Inclusive-exclusive range [low, high) for randomised state resets.
using StateRange = std::pair<double, double>;

/// Mixin of every stateful layer: owns the states of the torch::nn::Module it is mixed into.
class StatefulModule {
 public:
  virtual ~StatefulModule() = default;

  /// Sets every state to its initial value (zero, unless the layer says otherwise:
  /// initial_state), or, with `randomize`, draws it uniformly from the range given
  /// for that state in `ranges` ([0, 1) otherwise). The new state is detached.
  /// Does nothing before the state is initialised.
  void reset_states(bool randomize = false, const std::map<std::string, StateRange>& ranges = {});
  /// Cuts the autograd graph of every state; keeps the values.
  void detach_states();
  /// True once the states have a shape (after the first forward, or `shape` given).
  bool is_state_initialised() const;
  /// The names of the states, in registration order (e.g. {"v_mem", "i_syn"}).
  std::vector<std::string> state_names() const;
  /// The current value of a state (undefined before initialisation).
  const at::Tensor& state(const std::string& name) const;

 protected:
  /// Declares the states, in order; call from `reset()`. States that keep their name
  /// keep their value (so that a clone carries the state over).
  void define_states(const std::vector<std::string>& names);
  /// Sets every state to its initial value of `shape` with `options`.
  void init_states(at::IntArrayRef shape, const at::TensorOptions& options);
  /// The value a state starts from (at the first forward, on a change of shape, and after
  /// reset_states): zeros; a layer whose states start elsewhere (e.g. at a leak potential)
  /// overrides it.
  virtual at::Tensor initial_state(const std::string& name, at::IntArrayRef shape,
                                   const at::TensorOptions& options) const;
  /// Makes sure the states are [B, *features] for this input; a state that is not (or of
  /// another dtype or device) starts again from its initial value.
  void ensure_state_shape(at::IntArrayRef shape, const at::TensorOptions& options);
  /// Stores a new value (with its graph) of a state.
  void set_state(const std::string& name, at::Tensor value);
  /// Writes the initialised states into `archive` as buffers (detached).
  void save_states(torch::serialize::OutputArchive& archive) const;
  /// Reads the states that `archive` holds.
  void load_states(torch::serialize::InputArchive& archive);

 private:
  const at::Tensor& slot(const std::string& name) const;
  // Never modified in place: a new value replaces the old tensor, so a copy of the
  // module may share these tensors safely.
  std::vector<std::pair<std::string, at::Tensor>> states_;
};

/// Resets the state of every stateful layer in `model` (the model itself included).
void reset_states(torch::nn::Module& model, bool randomize = false);
/// Cuts the autograd graph of every stateful layer's state in `model`; keeps values.
void detach_states(torch::nn::Module& model);
/// Zeroes the gradients of all parameters of `model` and detaches every state (as
/// sinabs.zero_grad does).
void zero_grad(torch::nn::Module& model);

}  // namespace snn
