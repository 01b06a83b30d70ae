#pragma once
/// \file
/// The neuron op, `torch.ops.snn.neuron`: one schema for every neuron family. One call
/// runs a whole sequence; the family and its options travel as a specification text.
///
///   neuron(Tensor input, Tensor[] state, Tensor[] params, str spec) -> Tensor[]
///
/// Shapes: input [B, T, N]; each state [B, N] (the state before the first step); each
/// parameter a scalar (shape [] or [1], shared by all neurons) or [N] (per neuron). All of
/// one floating dtype and one device. Returns [output, record of every state]: the output
/// [B, T, N] (spikes, or the membrane for families without spikes) and, per state, its value
/// after every step [B, T, N]; the final state is the last step of each record.
///
/// The specification is canonical text, e.g.
///   LIF(synapse=false, norm_input=true, spike=MultiSpike(),
///       reset=MembraneSubtract(subtract_value=none),
///       surrogate=SingleExponential(grad_width=0.5, grad_scale=1), min_v_mem=none)
/// Keys left out take their defaults; NeuronSpec::str() prints every key. It is parsed
/// and validated once per distinct text.
///
/// Families (θ: threshold, σ: surrogate; per step t, per neuron; x_t = input[:, t]):
///   LIF   states [v_mem, i_syn if synapse]; params [alpha_mem, spike_threshold,
///         alpha_syn if synapse]. Sinabs' LIF (and IAF with alpha_mem = 1, norm_input=false):
///           i_t = α_syn·(i_{t-1} + x_t)  with a synapse, else i_t = x_t (no state)
///           w_t = α_mem·v_{t-1} + (1 - α_mem)·i_t   (norm_input; else + i_t)
///           s_t = spike(w_t, θ);  r_t = reset(w_t, s_t, θ)
///           v_t = relu(r_t - v_min) + v_min          (min_v_mem; else v_t = r_t)
///         output s_t.
///   ALIF  states [v_mem, b, i_syn if synapse]; params [alpha_mem, alpha_adapt,
///         spike_threshold (b0), adapt_scale, alpha_syn if synapse]. Sinabs' ALIF:
///           i_t, w_t as LIF;  θ_t = b0 + adapt_scale·b_{t-1}
///           s_t = spike(w_t, θ_t);  r_t = reset(w_t, s_t, θ_t)
///           b_t = α_adapt·b_{t-1} + (1 - α_adapt)·s_t;  v_t = clamp(r_t) as LIF
///         output s_t. (Sinabs stores the input-normalised i_t as its i_syn state, so
///         that normalisation compounds over steps; the synaptic state here is i_t as
///         LIF keeps it.)
///   ExpLeak states [v_mem]; params [alpha_mem]. Sinabs' ExpLeak (no spikes):
///           w_t = α_mem·v_{t-1} + (1 - α_mem)·x_t    (norm_input; else + x_t)
///           v_t = clamp(w_t);  output w_t (before the clamp).
///   Leaky states [mem, syn if synapse, rec if recurrent]; params [beta, threshold, graded_spikes_factor,
///         alpha if synapse]. snnTorch's Leaky (synapse=false) and Synaptic (synapse=true),
///         reset_delay and reset as snnTorch's reset_delay and reset_mechanism; beta and
///         alpha arrive clamped to [0, 1] (the layer clamps them, as snnTorch does):
///           r_t = H(mem_{t-1} - θ)  (strict >, no gradient: snnTorch's detached reset)
///           in_t = x_t, or with a synapse syn_t = α·syn_{t-1} + x_t (Synaptic)
///           m = β·mem_{t-1} + in_t - r_t·θ                   (MembraneSubtract)
///           m = β·((1 - r_t)·mem_{t-1}) + in_t               (MembraneReset(0),
///                                                             zero_keeps_input=true)
///           m = (β·mem_{t-1} + in_t), then m - m·r_t         (zero_keeps_input=false)
///           h_t = H(m - θ) (strict >);  spk_t = h_t·graded_spikes_factor
///           mem_t = m with reset_delay; else m - (h_t - r_t)·θ (MembraneSubtract) or
///                   m - (h_t - r_t)·m (MembraneReset(0)), snnTorch's "avoid double reset"
///         output spk_t. Unlike Sinabs, the spike's gradient reaches θ: dh/dm = σ,
///         dh/dθ = -σ (snnTorch's spike_grad(mem - θ)); NoReset() integrates only.
///   Alpha states [mem, syn_exc, syn_inh]; params [alpha, beta, threshold, tau_alpha].
///         snnTorch's Alpha (alpha, beta clamped to [0, 1] and tau_alpha =
///         log(α)/(log(β) - log(α)) + 1 computed by the layer, as snnTorch computes them);
///         the reset is always delayed, r_t = H(mem_{t-1} - θ), no gradient:
///           e = α·exc_{t-1} + x_t;  i = β·inh_{t-1} - x_t;  m = tau_alpha·(e + i)
///           MembraneSubtract: e - θ·r_t, i - i·r_t, m + inh_{t-1}·r_t (snnTorch's terms)
///           MembraneReset(0): e, i and m each times (1 - r_t)
///           spk_t = H(m - θ), its gradient σ into m and -σ into θ; output spk_t.
///         The membrane does not carry over from step to step (snnTorch's update has no
///         mem_{t-1} term beside the reset).
///   CubaLIF states [v, i if synapse]; params [dt_tau_mem (Δt/τ_mem), v_leak, r, v_threshold,
///         v_reset, dt_tau_syn if synapse]. NIR's LIF (IF with leak=false; CubaLIF with a
///         synapse), discretised by forward Euler as Norse computes it, operation for
///         operation (k_m = dt_tau_mem, k_s = dt_tau_syn; the layer scales x by w_in first):
///           i_t = i_{t-1} + k_s·((v_leak - i_{t-1}) + x_t);  a_t = r·i_t   (synapse)
///           a_t = r·x_t                                                    (no synapse)
///           w_t = v_{t-1} + k_m·((a_t + v_leak) - v_{t-1})   (leak; else v_{t-1} + a_t)
///           s_t = H(w_t - θ) (strict >);  v_t = v_reset where s_t, else w_t
///         output s_t. The spike's gradient is the surrogate (default Norse's SuperSpike,
///         FastSigmoid(slope=100)) into w_t and, negated, into θ; the reset passes gradient
///         through s_t (v_t = (1 - s_t)·w_t + s_t·v_reset, as Norse's reset_value).
///   CubaLI states [v, i if synapse]; params [dt_tau_mem, v_leak, r, dt_tau_syn if
///         synapse]. NIR's LI (I with leak=false; CubaLI with a synapse), no spikes:
///           i_t, a_t as CubaLIF;  v_t = v_{t-1} + k_m·((v_leak - v_{t-1}) + a_t)
///           (leak; else v_{t-1} + a_t); output v_t.
/// Spike functions (Sinabs' names): MultiSpike (w > 0)·trunc(w/θ); SingleSpike
/// (w - θ ≥ 0); MaxSpike(max_num_spikes_per_bin=n) MultiSpike clamped to n;
/// HeavisideSpike (w - θ > 0), snnTorch's (the Leaky family's default); SignSpike
/// (sign(w - θ) + 1)/2: 1 above θ, 1/2 at θ, 0 below, spikingtorch's (Leaky only).
/// Resets: MembraneSubtract(subtract_value=c) r = w - s·c (c = θ when none; gradient
/// flows through s); MembraneReset(reset_value=c) r = w·(s == 0) + c (c is added to
/// every neuron, as in Sinabs; no gradient through s); NoReset() r = w.
/// Surrogates σ(w, θ) stand for ds/dw in the backward (x = w - θ):
///   SingleExponential(grad_width=0.5, grad_scale=1)  scale/(θ·width)·exp(-|x|/(θ·width))
///   Heaviside(window=1)                               (w ≥ θ - window)/θ
///   Gaussian(mu=0, sigma=0.5, grad_scale=1)           scale·N(x; mu, sigma)
///   MultiGaussian(mu=0, sigma=0.5, h=0.15, s=6, grad_scale=1)
///       scale·[(1+h)·N(x; mu, sigma) - h·N(x; sigma, s·sigma) - h·N(x; -sigma, s·sigma)]
///   PeriodicExponential(grad_width=0.5, grad_scale=1) scale·exp(-|y|/width), y = w - θ
///       below θ, else θ·(2·frac(w/θ - 1/2) - 1)
///   ATan(alpha=2)          snnTorch's atan: alpha/2 / (1 + (π/2·alpha·x)²)
///   FastSigmoid(slope=25)  snnTorch's fast_sigmoid: 1 / (slope·|x| + 1)²
///   Sigmoid(slope=25)      snnTorch's sigmoid: slope·e / (1 + e)², e = exp(-slope·|x|)
///                          (snnTorch writes exp(-slope·x), which overflows to NaN below
///                          x = -88.7/slope in float32; the same function, without the NaN)
///   SpikeRateEscape(beta=1, slope=25)  snnTorch's spike_rate_escape:
///                          slope·exp(-beta·|x - 1|)
///   Triangular(threshold=1)  snnTorch's triangular, as it computes it: threshold below
///                          x = 0, -threshold from x = 0 up
///   StraightThroughEstimator()  snnTorch's straight_through_estimator: 1
///   HeavisideMask()        snnTorch's heaviside: (x > 0), the spike itself
///   SparseFastSigmoid(slope=25, B=1)  snnTorch's SFS: (x > B) / (slope·|x| + 1)²
///   LeakySpikeOperator(slope=0.1)  (x > 0) + slope·(x ≤ 0): the operator snnTorch's LSO
///                          means to apply (its LSO() passes one argument to a function of
///                          two and cannot run)
///   NoGradient()           0: snnTorch's surrogate_disable
///   SSO(mean=0, variance=0.2)  snnTorch's SSO: 1 for x > 0, else (u - 1/2 + mean)·variance
///                          with u uniform in [0, 1), drawn afresh at every call (torch's
///                          default generator)
///   Custom(id=n)           a function σ(x) registered with register_surrogate (snnTorch's
///                          custom_surrogate)
/// SSO and Custom run on the reference (plain ATen, autograd), on every device: the op's
/// autograd picks it for them (fused_surrogate() is false); the fused kernel's forward
/// still serves inference.
/// As in Sinabs, no gradient flows into θ through the spike function or the surrogate;
/// it flows through the subtractive reset (and, for ALIF, from θ_t into b, b0 and
/// adapt_scale).
///
/// Differentiable (once) with respect to the input, every state and every parameter. The
/// backward is its own op (neuron_backward); gradients of outputs that were not used are
/// skipped, not materialised, and only the gradients autograd asks for are computed.
/// Saved for the backward: the input, the initial states, the parameters, the state records
/// and the output (the spikes are loaded, not recomputed; the layer that follows keeps them
/// anyway).
///
/// Devices: a fused kernel on the CPU; on other devices the plain-ATen reference
/// (neuron_reference), differentiated by autograd; shape-only (Meta) kernels for tracing.
#include <ATen/core/Tensor.h>
#include <c10/util/ArrayRef.h>

#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace snn::ops {

/// The neuron model: which states, parameters and update a specification describes.
enum class NeuronFamily { LIF, ALIF, ExpLeak, Leaky, Alpha, CubaLIF, CubaLI };
/// Spike functions (Sinabs' MultiSpike, SingleSpike, MaxSpike; snnTorch's strict
/// Heaviside; spikingtorch's sign step, 1/2 at the threshold).
enum class SpikeKind { Multi, Single, Max, Heaviside, HalfStep };
/// Reset mechanisms (Sinabs' MembraneSubtract, MembraneReset; no reset).
enum class ResetKind { Subtract, ToValue, None };
/// Surrogate gradients of the spike function (Sinabs' names, and snnTorch's atan and
/// fast_sigmoid).
enum class SurrogateKind {
  SingleExponential, Heaviside, Gaussian, MultiGaussian, PeriodicExponential,
  ATan, FastSigmoid, Sigmoid, SpikeRateEscape, Triangular, StraightThroughEstimator,
  HeavisideMask, SparseFastSigmoid, LeakySpikeOperator, NoGradient, StochasticSpikeOperator,
  Custom
};

/// A surrogate and its arguments, in the order of surrogate_arg_names(kind).
struct SurrogateSpec {
  SurrogateKind kind = SurrogateKind::SingleExponential;
  std::vector<double> args = {0.5, 1.0};
};
/// The argument names of a surrogate, e.g. {"grad_width", "grad_scale"}.
const std::vector<std::string>& surrogate_arg_names(SurrogateKind kind);

/// A parsed neuron specification. Fields a family does not use keep their defaults.
struct NeuronSpec {
  NeuronFamily family = NeuronFamily::LIF;
  /// An exponential synapse (state i_syn, parameter alpha_syn). LIF and ALIF only.
  bool synapse = false;
  /// Scale the input current by (1 - alpha_mem).
  bool norm_input = true;
  SpikeKind spike = SpikeKind::Multi;
  /// MaxSpike's max_num_spikes_per_bin; none: no limit.
  std::optional<int64_t> max_spikes;
  ResetKind reset = ResetKind::Subtract;
  /// MembraneSubtract: the subtracted value (none: the threshold). MembraneReset: the
  /// reset value (never none).
  std::optional<double> reset_value;
  SurrogateSpec surrogate;
  /// Lower bound of the membrane after the reset; none: unbounded.
  std::optional<double> min_v_mem;
  /// Leaky: the reset of a spike happens at the next step (snnTorch's reset_delay=True)
  /// instead of in the step that spikes.
  bool reset_delay = false;
  /// Leaky: a reset to zero zeroes the previous membrane before the leak and the input
  /// (snnTorch's Leaky: mem = β·(1 - r)·mem + x), or the whole new membrane after them
  /// (false: Synaptic, Lapicque, RLeaky: mem = (β·mem + x)·(1 - r)).
  bool zero_keeps_input = true;
  /// Leaky: a recurrent input, the state "rec" (appended last; carried unchanged from step
  /// to step), added last: m = (β·mem + x) + rec, or syn = (α·syn + x) + rec with a synapse
  /// (snnTorch's RLeaky / RSynaptic, whose layers set rec before each step).
  bool recurrent = false;
  /// Leaky, with reset_delay: the delayed reset r_t is the previous step's spike with its
  /// surrogate gradient, σ(mem_{t-1} - θ) into mem_{t-1} (and -σ into θ), as spikingtorch
  /// computes it; false: a constant (snnTorch's). Takes MembraneSubtract or
  /// MembraneReset with zero_keeps_input.
  bool reset_grad = false;
  /// Leaky, Alpha: snnTorch's state_quant, a function registered with
  /// register_state_quant (its id; 0: none), applied to the states after each step's
  /// update and before the spike (syn and mem; Alpha: syn_exc, syn_inh, mem), with the
  /// identity as its gradient (a straight-through estimator). Runs on the reference.
  int64_t state_quant = 0;
  /// CubaLIF, CubaLI: the membrane leaks (LIF, LI, CubaLIF, CubaLI); false: it integrates
  /// (NIR's IF and I), and dt_tau_mem is not used.
  bool leak = true;

  /// Parses and validates a specification; errors name the field and the allowed values.
  static NeuronSpec parse(const std::string& text);
  /// The canonical text: every key of the family, in a fixed order.
  std::string str() const;
  /// The canonical text of the spike function, the reset and the surrogate, e.g.
  /// "MaxSpike(max_num_spikes_per_bin=3)" (what str() prints after spike=, reset=, ...).
  std::string spike_str() const;
  std::string reset_str() const;
  std::string surrogate_str() const;
  /// Whether the family emits spikes (output 0 is spikes) or not (output 0 is v_mem).
  bool has_spikes() const;
  /// The names of the states, in the op's order (e.g. {"v_mem", "i_syn"}).
  const std::vector<std::string>& state_names() const;
  /// The names of the parameters, in the op's order (e.g. {"alpha_mem", "spike_threshold"}).
  const std::vector<std::string>& param_names() const;
};

/// A surrogate given as a function of x = w - θ (elementwise on tensors), registered for
/// the life of the process; returns its id n, for `Custom(id=n)`. Thread-safe.
using SurrogateFunction = std::function<at::Tensor(const at::Tensor& x)>;
int64_t register_surrogate(SurrogateFunction sigma);
/// The function of Custom(id=n); throws naming n when none was registered with it.
const SurrogateFunction& registered_surrogate(int64_t id);
/// Whether the fused kernel's backward computes this surrogate (all but SSO and Custom).
bool fused_surrogate(SurrogateKind kind);
/// A state quantiser q(v) (elementwise), registered for the life of the process; returns its
/// id for NeuronSpec::state_quant. Thread-safe.
int64_t register_state_quant(SurrogateFunction quantise);
/// Whether the fused kernel computes this specification (forward and backward); the others
/// (SSO, Custom surrogates, state_quant) run on the reference, which the op picks itself.
bool fused(const struct NeuronSpec& spec);

/// The parsed specification of `text`, cached by text (parsing happens once per text; a
/// thread's repeated calls with the same text take no lock). The reference stays valid.
const NeuronSpec& neuron_spec(std::string_view text);

/// torch.ops.snn.neuron: see the file comment. Differentiable.
std::vector<at::Tensor> neuron(const at::Tensor& input, at::TensorList state,
                               at::TensorList params, const std::string& spec);

/// The same computation as a plain-ATen step loop, differentiated by autograd: the
/// reference the fused kernel is tested against (torch.ops.snn.neuron_reference).
std::vector<at::Tensor> neuron_reference(const at::Tensor& input, at::TensorList state,
                                         at::TensorList params, const std::string& spec);

}  // namespace snn::ops
