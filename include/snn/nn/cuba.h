#pragma once
/// \file
/// NIR's neurons as layers: snn::CubaLIF (NIR's LIF, IF and CubaLIF) and snn::CubaLI (NIR's
/// LI, I and CubaLI), discretised by forward Euler with step dt operation for operation as
/// Norse runs them (the parity suite holds them to Norse's LIFBoxCell, IAFCell and its
/// NIR CubaLIF). They are what a NIR graph's neurons become under snn::nir's Norse
/// convention, and they write back to the same NIR nodes.
///
/// Input [B, T, *features] (batch first); output spikes (CubaLIF) or the membrane (CubaLI)
/// of the same shape. NIR's equations, τ_mem·dv/dt = (v_leak - v) + r·I and, with a synapse,
/// τ_syn·dI/dt = (v_leak - I) + w_in·x (Norse's synapse, as its NIR import builds it,
/// leaks to v_leak too), per step t with k_m = dt/τ_mem, k_s = dt/τ_syn:
///   I_t = I_{t-1} + k_s·((v_leak - I_{t-1}) + w_in·x_t);  a_t = r·I_t   (tau_syn given)
///   a_t = r·x_t                                                        (no synapse)
///   CubaLIF: w = v_{t-1} + k_m·((a_t + v_leak) - v_{t-1})   (tau_mem given; else v + a_t: IF)
///            s_t = H(w - v_threshold) (strict >);  v_t = v_reset where s_t, else w
///   CubaLI:  v_t = v_{t-1} + k_m·((v_leak - v_{t-1}) + a_t)  (tau_mem given; else v + a_t: I)
/// The states start at v_leak (v, and I), as Norse starts them; an IF at v_reset, an I at 0.
/// Every parameter is trainable (a tensor parameter named as in NIR: tau_mem, tau_syn, r,
/// v_leak, v_threshold, v_reset, w_in); the spike's gradient is the surrogate (default
/// Norse's SuperSpike, FastSigmoid(slope=100)).
#include "snn/nn/neuron.h"

namespace snn {

/// Options of snn::CubaLIF and snn::CubaLI (CubaLI ignores v_threshold, v_reset and
/// surrogate). Example, NIR's LIF with τ = 20 ms at dt = 1 ms:
/// `snn::CubaLIF lif(snn::CubaLIFOptions().tau_mem(0.02).dt(1e-3).v_threshold(0.5));`
struct CubaLIFOptions {
  /// Membrane time constant τ_mem, in the unit of dt; none: no leak (NIR's IF / I).
  /// Default: none. Example: 0.02.
  TORCH_ARG(std::optional<Value>, tau_mem) = std::nullopt;
  /// Synaptic time constant τ_syn, in the unit of dt; none: no synapse (the input drives
  /// the membrane). Default: none.
  TORCH_ARG(std::optional<Value>, tau_syn) = std::nullopt;
  /// Input resistance r. Default: 1.
  TORCH_ARG(Value, r) = 1.0;
  /// Leak (resting) potential. Default: 0.
  TORCH_ARG(Value, v_leak) = 0.0;
  /// Firing threshold: a spike when the membrane exceeds it. Default: 1.
  TORCH_ARG(Value, v_threshold) = 1.0;
  /// The membrane after a spike. Default: 0.
  TORCH_ARG(Value, v_reset) = 0.0;
  /// Weight of the input into the synapse (with tau_syn). Default: 1.
  TORCH_ARG(Value, w_in) = 1.0;
  /// The time step, in the unit of the time constants. Must be > 0. Default: 1 (time
  /// constants in steps).
  TORCH_ARG(double, dt) = 1.0;
  /// Surrogate gradient of the spike. Default: FastSigmoid{100} (Norse's SuperSpike).
  TORCH_ARG(Surrogate, surrogate) = FastSigmoid{100.0};
  /// Create the states with this shape [B, *features] at construction. Default: none.
  TORCH_ARG(std::optional<std::vector<int64_t>>, shape) = std::nullopt;
  /// Keep every state of every step of a forward in recordings(). Default: false.
  TORCH_ARG(bool, record_states) = false;
};

namespace detail {

/// What CubaLIF and CubaLI share: the parameters, the states' start, the op's parameters.
class CubaModel : public NeuronCore {
 public:
  using Options = CubaLIFOptions;
  explicit CubaModel(CubaLIFOptions options) : options(std::move(options)) {}
  CubaLIFOptions options;
  /// The parameters (undefined where the option is none: tau_mem / tau_syn).
  at::Tensor tau_mem, tau_syn, r, v_leak, v_threshold, v_reset, w_in;

  /// The states start at v_leak (an IF at v_reset, an I at 0).
  at::Tensor initial_state(const std::string& name, at::IntArrayRef shape,
                           const at::TensorOptions& options) const override;
  /// The input as the op receives it: w_in·x with a synapse (Norse's order).
  at::Tensor model_input(const at::Tensor& input) const;

 protected:
  void reset_cuba(torch::nn::Module& self, const char* name, bool spikes);
  std::vector<at::Tensor> op_params(const at::Tensor& input) const;
  void print_options(std::ostream& os) const;

 private:
  bool spikes_ = true;
};

}  // namespace detail

/// NIR's LIF / IF / CubaLIF (see the file comment). States: v (and i).
class CubaLIFModel : public detail::CubaModel {
 public:
  static constexpr const char* kName = "CubaLIF";
  using CubaModel::CubaModel;

 protected:
  void reset_model(torch::nn::Module& self) { reset_cuba(self, kName, true); }
};

/// NIR's LI / I / CubaLI (see the file comment): the membrane, no spikes. States: v (and i).
class CubaLIModel : public detail::CubaModel {
 public:
  static constexpr const char* kName = "CubaLI";
  using CubaModel::CubaModel;

 protected:
  void reset_model(torch::nn::Module& self) { reset_cuba(self, kName, false); }
};

extern template class NeuronLayer<CubaLIFModel>;
extern template class NeuronLayer<CubaLIModel>;

/// NIR's (current-based) leaky integrate-and-fire neuron, input [B, T, *features].
using CubaLIFImpl = NeuronLayer<CubaLIFModel>;
TORCH_MODULE(CubaLIF);
/// NIR's (current-based) leaky integrator, input [B, T, *features]; outputs the membrane.
using CubaLIImpl = NeuronLayer<CubaLIModel>;
TORCH_MODULE(CubaLI);

}  // namespace snn
