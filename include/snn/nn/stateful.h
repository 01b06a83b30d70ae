#pragma once
/// \file
/// State that persists across forward calls, as Sinabs' StatefulLayer keeps it.
///
/// A stateful layer keeps its state (e.g. v_mem, i_syn) in buffers of shape
/// [B, *features]. They start empty and become zeros on the first forward. After each
/// forward they hold the last time step *with its autograd graph*, so that
/// backpropagation through time spans calls until the graph is cut by
/// `reset_states()` (new values, detached) or `zero_grad()` (values kept, detached).
/// When the feature shape or the batch size of the input changes, the state is
/// re-initialised to zeros. (Sinabs resamples old states at random on a batch-size
/// change; snn.cpp does not.)
#include <torch/nn/module.h>

#include <map>
#include <string>
#include <utility>
#include <vector>

namespace snn {

/// Inclusive-exclusive range [low, high) for randomised state resets.
using StateRange = std::pair<double, double>;

/// Mixin of every stateful layer: owns the state buffers of the torch::nn::Module it
/// is mixed into.
class StatefulModule {
 public:
  virtual ~StatefulModule() = default;

  /// Zeroes every state, or, with `randomize`, draws it uniformly from the range given
  /// for that state in `ranges` ([0, 1) otherwise). The new state is detached.
  /// Does nothing before the state is initialised.
  void reset_states(bool randomize = false, const std::map<std::string, StateRange>& ranges = {});
  /// Cuts the autograd graph of every state; keeps the values.
  void detach_states();
  /// True once the states have a shape (after the first forward, or `shape` given).
  bool is_state_initialised() const;
  /// The names of the states, in registration order (e.g. {"v_mem", "i_syn"}).
  std::vector<std::string> state_names() const;
  /// The current value of a state (empty before initialisation).
  const at::Tensor& state(const std::string& name) const;

 protected:
  /// Registers a state buffer named `name` on `module`; call from `reset()`, after all
  /// other parameters and buffers, once per state.
  void register_state(torch::nn::Module& module, const std::string& name);
  /// Forgets the registered states; call first thing in `reset()`.
  void clear_state_registry();
  /// Sets every state to zeros of `shape` with `options`.
  void init_states(at::IntArrayRef shape, const at::TensorOptions& options);
  /// Makes sure the states are [B, *features] for this input; zeros them if not.
  void ensure_state_shape(at::IntArrayRef shape, const at::TensorOptions& options);
  /// Stores a new value (with its graph) of a state.
  void set_state(const std::string& name, at::Tensor value);

 private:
  at::Tensor* slot(const std::string& name) const;
  // Pointers into the module's buffer dictionary: stable, since no buffer is added
  // after the states are registered.
  std::vector<std::pair<std::string, at::Tensor*>> slots_;
};

/// Resets the state of every stateful layer in `model` (the model itself included).
void reset_states(torch::nn::Module& model, bool randomize = false);
/// Cuts the autograd graph of every stateful layer's state in `model`; keeps values.
void detach_states(torch::nn::Module& model);
/// Zeroes the gradients of all parameters of `model` and detaches every state (as
/// sinabs.zero_grad does).
void zero_grad(torch::nn::Module& model);

}  // namespace snn
