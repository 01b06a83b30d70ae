// NeuronSpec: parsing, validation, canonical text and the per-text cache.
#include <c10/util/Exception.h>

#include <algorithm>
#include <cmath>
#include <deque>
#include <memory>
#include <mutex>
#include <optional>
#include <string_view>
#include <unordered_map>

#include "snn/ops/neuron.h"
#include "util/text_spec.h"

namespace snn::ops {
namespace {

constexpr const char* kWhat = "snn::neuron";

struct SurrogateInfo {
  SurrogateKind kind;
  const char* name;
  std::vector<std::string> arg_names;
  std::vector<double> defaults;
  std::vector<size_t> positive;  // the arguments that must be > 0
};

// Adding a surrogate: one row here and one function in the kernel and the reference.
const std::vector<SurrogateInfo>& surrogates() {
  static const std::vector<SurrogateInfo> table = {
      {SurrogateKind::SingleExponential, "SingleExponential", {"grad_width", "grad_scale"}, {0.5, 1.0},
       {0}},
      {SurrogateKind::Heaviside, "Heaviside", {"window"}, {1.0}, {}},
      {SurrogateKind::Gaussian, "Gaussian", {"mu", "sigma", "grad_scale"}, {0.0, 0.5, 1.0}, {1}},
      {SurrogateKind::MultiGaussian, "MultiGaussian", {"mu", "sigma", "h", "s", "grad_scale"},
       {0.0, 0.5, 0.15, 6.0, 1.0}, {1, 3}},
      {SurrogateKind::PeriodicExponential, "PeriodicExponential", {"grad_width", "grad_scale"},
       {0.5, 1.0}, {0}},
      // snnTorch's surrogate.atan(alpha) and surrogate.fast_sigmoid(slope).
      {SurrogateKind::ATan, "ATan", {"alpha"}, {2.0}, {0}},
      {SurrogateKind::FastSigmoid, "FastSigmoid", {"slope"}, {25.0}, {0}},
      {SurrogateKind::Sigmoid, "Sigmoid", {"slope"}, {25.0}, {0}},
      {SurrogateKind::SpikeRateEscape, "SpikeRateEscape", {"beta", "slope"}, {1.0, 25.0}, {}},
      {SurrogateKind::Triangular, "Triangular", {"threshold"}, {1.0}, {}},
      {SurrogateKind::StraightThroughEstimator, "StraightThroughEstimator", {}, {}, {}},
      // snnTorch's heaviside, SFS and LSO (as it means it); surrogate_disable.
      {SurrogateKind::HeavisideMask, "HeavisideMask", {}, {}, {}},
      {SurrogateKind::SparseFastSigmoid, "SparseFastSigmoid", {"slope", "B"}, {25.0, 1.0}, {0}},
      {SurrogateKind::LeakySpikeOperator, "LeakySpikeOperator", {"slope"}, {0.1}, {}},
      {SurrogateKind::NoGradient, "NoGradient", {}, {}, {}},
      // snnTorch's SSO and custom_surrogate: the reference computes them (fused_surrogate).
      {SurrogateKind::StochasticSpikeOperator, "SSO", {"mean", "variance"}, {0.0, 0.2}, {}},
      {SurrogateKind::Custom, "Custom", {"id"}, {0.0}, {}},
  };
  return table;
}

const SurrogateInfo& info(SurrogateKind kind) {
  for (const auto& s : surrogates()) {
    if (s.kind == kind) return s;
  }
  TORCH_INTERNAL_ASSERT(false, "unknown surrogate kind");
}

std::string surrogate_choices() {
  std::string out;
  for (const auto& s : surrogates()) out += (out.empty() ? "" : ", ") + std::string(s.name) + "(...)";
  return out;
}

// A family: one row. The parser, the printer, the state and parameter names and the
// checks read it; the dynamics live in the kernel (neuron_kernel_impl.h) and the reference.
// The keys a family's specification takes, in the order str() prints them.
enum class Key {
  Synapse, Recurrent, NormInput, Spike, Reset, ResetDelay, ResetGrad, ZeroKeepsInput, Surrogate,
  MinVMem, StateQuant, Leak
};

struct FamilyInfo {
  NeuronFamily family;
  const char* name;
  bool spikes;                 // output 0 is spikes (else the membrane)
  std::vector<Key> keys;       // the options it takes
  bool norm_input_default;     // norm_input= when left out
  bool reset_delay_default;    // reset_delay= when left out
  SpikeKind default_spike;
  SurrogateSpec default_surrogate;
  std::vector<std::string> states, params;  // without a synapse
  // With a synapse (Key::Synapse): the synapse's state and parameter appended; with a
  // recurrent input (Key::Recurrent): its state "rec" appended last. [synapse][recurrent].
  std::vector<std::string> synapse_states, synapse_params;
  std::vector<std::string> state_sets[2][2];
  // The resets it allows (all when empty), with their only allowed value, if any.
  std::vector<ResetKind> resets;
  // The spike functions it allows.
  std::vector<SpikeKind> spike_kinds;
};

struct FamilyRow {
  NeuronFamily family;
  const char* name;
  bool spikes;
  std::vector<Key> keys;
  bool norm_input_default = false;
  bool reset_delay_default = false;
  SpikeKind default_spike = SpikeKind::Multi;
  SurrogateSpec default_surrogate = SurrogateSpec{};
  std::vector<std::string> states, params;
  const char* synapse_state = nullptr;
  const char* synapse_param = nullptr;
  std::vector<ResetKind> resets = {};
  std::vector<SpikeKind> spike_kinds = {SpikeKind::Multi, SpikeKind::Single, SpikeKind::Max,
                                        SpikeKind::Heaviside};
};

FamilyInfo family_row(FamilyRow r) {
  FamilyInfo f{r.family, r.name, r.spikes, std::move(r.keys), r.norm_input_default,
               r.reset_delay_default, r.default_spike, std::move(r.default_surrogate),
               std::move(r.states), std::move(r.params), {}, {}, {}, std::move(r.resets),
               std::move(r.spike_kinds)};
  if (r.synapse_state != nullptr) {
    f.synapse_states = f.states;
    f.synapse_states.emplace_back(r.synapse_state);
    f.synapse_params = f.params;
    f.synapse_params.emplace_back(r.synapse_param);
  }
  for (int syn = 0; syn < 2; ++syn) {
    for (int rec = 0; rec < 2; ++rec) {
      auto& names = f.state_sets[syn][rec];
      names = syn ? f.synapse_states : f.states;
      if (rec) names.emplace_back("rec");
    }
  }
  return f;
}

// Adding a family: one row here, its dynamics in the kernel and the reference, its module.
const std::vector<FamilyInfo>& families() {
  using K = Key;
  static const std::vector<Key> sinabs = {K::Synapse, K::NormInput, K::Spike, K::Reset,
                                          K::Surrogate, K::MinVMem};
  static const std::vector<FamilyInfo> table = {
      family_row({NeuronFamily::LIF, "LIF", true, sinabs, true, false, SpikeKind::Multi, SurrogateSpec{},
                  {"v_mem"}, {"alpha_mem", "spike_threshold"}, "i_syn", "alpha_syn"}),
      family_row({NeuronFamily::ALIF, "ALIF", true, sinabs, true, false, SpikeKind::Single, SurrogateSpec{},
                  {"v_mem", "b"}, {"alpha_mem", "alpha_adapt", "spike_threshold", "adapt_scale"},
                  "i_syn", "alpha_syn"}),
      family_row({NeuronFamily::ExpLeak, "ExpLeak", false, {K::NormInput, K::MinVMem}, false,
                  false, SpikeKind::Multi, SurrogateSpec{}, {"v_mem"}, {"alpha_mem"}}),
      // snnTorch's Leaky and (with a synapse) Synaptic.
      family_row({NeuronFamily::Leaky, "Leaky", true,
                  {K::Synapse, K::Recurrent, K::Spike, K::Reset, K::ResetDelay, K::ResetGrad,
                   K::ZeroKeepsInput, K::Surrogate, K::StateQuant},
                  false, true,
                  SpikeKind::Heaviside, SurrogateSpec{SurrogateKind::ATan, {2.0}}, {"mem"},
                  {"beta", "threshold", "graded_spikes_factor"}, "syn", "alpha",
                  {ResetKind::Subtract, ResetKind::ToValue, ResetKind::None},
                  {SpikeKind::Heaviside, SpikeKind::HalfStep}}),
      // snnTorch's Alpha.
      family_row({NeuronFamily::Alpha, "Alpha", true, {K::Reset, K::Surrogate, K::StateQuant},
                  false, true,
                  SpikeKind::Heaviside, SurrogateSpec{SurrogateKind::ATan, {2.0}},
                  {"mem", "syn_exc", "syn_inh"}, {"alpha", "beta", "threshold", "tau_alpha"},
                  nullptr, nullptr, {ResetKind::Subtract, ResetKind::ToValue, ResetKind::None},
                  {SpikeKind::Heaviside}}),
      // NIR's neurons as Norse runs them (forward Euler): LIF, IF (leak=false) and, with a
      // synapse, CubaLIF; Norse's SuperSpike surrogate, FastSigmoid(slope=100).
      family_row({NeuronFamily::CubaLIF, "CubaLIF", true, {K::Synapse, K::Leak, K::Surrogate},
                  false, false, SpikeKind::Heaviside,
                  SurrogateSpec{SurrogateKind::FastSigmoid, {100.0}}, {"v"},
                  {"dt_tau_mem", "v_leak", "r", "v_threshold", "v_reset"}, "i", "dt_tau_syn",
                  {ResetKind::Subtract}, {SpikeKind::Heaviside}}),
      // NIR's LI, I (leak=false) and CubaLI: the membrane, no spikes.
      family_row({NeuronFamily::CubaLI, "CubaLI", false, {K::Synapse, K::Leak}, false, false,
                  SpikeKind::Heaviside, SurrogateSpec{}, {"v"}, {"dt_tau_mem", "v_leak", "r"},
                  "i", "dt_tau_syn", {ResetKind::Subtract}, {SpikeKind::Heaviside}}),
  };
  return table;
}

const FamilyInfo& family_info(NeuronFamily f) {
  for (const auto& row : families()) {
    if (row.family == f) return row;
  }
  TORCH_INTERNAL_ASSERT(false, "unknown neuron family");
}

// Spike functions and resets: one row each; `arg` is the one argument a choice takes.
struct SpikeInfo {
  SpikeKind kind;
  const char* name;
  const char* arg;  // an optional integer >= 1 (MaxSpike), or nullptr
};
const std::vector<SpikeInfo>& spikes() {
  static const std::vector<SpikeInfo> table = {
      {SpikeKind::Multi, "MultiSpike", nullptr},
      {SpikeKind::Single, "SingleSpike", nullptr},
      {SpikeKind::Max, "MaxSpike", "max_num_spikes_per_bin"},
      {SpikeKind::Heaviside, "HeavisideSpike", nullptr},
      {SpikeKind::HalfStep, "SignSpike", nullptr},
  };
  return table;
}

struct ResetInfo {
  ResetKind kind;
  const char* name;
  const char* arg;
  std::optional<double> arg_default;  // none: the argument may be none (MembraneSubtract)
};
const std::vector<ResetInfo>& resets() {
  static const std::vector<ResetInfo> table = {
      {ResetKind::Subtract, "MembraneSubtract", "subtract_value", std::nullopt},
      {ResetKind::ToValue, "MembraneReset", "reset_value", 0.0},
      {ResetKind::None, "NoReset", nullptr, std::nullopt},
  };
  return table;
}

template <typename Row>
std::string choices(const std::vector<Row>& rows) {
  std::string out;
  for (const auto& r : rows) {
    if (!out.empty()) out.append(", ");
    out.append(r.name);
    if (r.arg != nullptr) {
      out.append("(").append(r.arg).append("=...)");
    } else {
      out.append("()");
    }
  }
  return out;
}

template <typename Row>
const Row& row_named(const std::vector<Row>& rows, const spec::Args& a, const char* key) {
  for (const auto& r : rows) {
    if (a.name() == r.name) return r;
  }
  TORCH_CHECK(false, kWhat, ": ", key, " must be one of ", choices(rows), ", got ", a.name(),
              "(...)");
}

void parse_spike(const spec::Value* call, NeuronSpec& s) {
  if (call == nullptr) return;
  spec::Args a(*call, kWhat);
  const auto& row = row_named(spikes(), a, "spike");
  s.spike = row.kind;
  if (row.arg != nullptr) {
    s.max_spikes = a.optional_integer(row.arg);
    TORCH_CHECK(!s.max_spikes || *s.max_spikes >= 1, kWhat, ": ", row.name, "(", row.arg,
                "=...) must be >= 1 or none, got ", *s.max_spikes);
  }
  a.finish();
}

void parse_reset(const spec::Value* call, NeuronSpec& s) {
  if (call == nullptr) return;
  spec::Args a(*call, kWhat);
  const auto& row = row_named(resets(), a, "reset");
  s.reset = row.kind;
  if (row.arg == nullptr) {
    s.reset_value.reset();
  } else {
    s.reset_value = row.arg_default ? std::optional<double>(a.real(row.arg, *row.arg_default))
                                    : a.optional_real(row.arg);
  }
  a.finish();
}

void parse_surrogate(const spec::Value* call, NeuronSpec& s) {
  if (call == nullptr) return;
  spec::Args a(*call, kWhat);
  const SurrogateInfo* found = nullptr;
  for (const auto& row : surrogates()) {
    if (a.name() == row.name) found = &row;
  }
  TORCH_CHECK(found != nullptr, kWhat, ": surrogate must be one of ", surrogate_choices(),
              ", got ", a.name(), "(...)");
  s.surrogate.kind = found->kind;
  s.surrogate.args.clear();
  for (size_t k = 0; k < found->arg_names.size(); ++k) {
    s.surrogate.args.push_back(a.real(found->arg_names[k], found->defaults[k]));
  }
  a.finish();
  for (const size_t k : found->positive) {
    TORCH_CHECK(s.surrogate.args[k] > 0, kWhat, ": ", found->name, "(", found->arg_names[k],
                "=...) must be > 0, got ", s.surrogate.args[k]);
  }
  if (found->kind == SurrogateKind::Custom) {
    const double id = s.surrogate.args[0];
    TORCH_CHECK(id == std::floor(id), kWhat, ": Custom(id=...) must be an integer, got ", id);
    registered_surrogate(static_cast<int64_t>(id));  // throws naming an unknown id
  }
}

// The functions of Custom(id=n), n = 1, 2, ...; never shrinks (a spec may name any).
std::mutex& registry_mutex() {
  static std::mutex m;
  return m;
}
std::deque<SurrogateFunction>& registry() {
  static std::deque<SurrogateFunction> functions;
  return functions;
}

std::string spike_text(const NeuronSpec& s) {
  for (const auto& row : spikes()) {
    if (row.kind != s.spike) continue;
    spec::Repr r(row.name);
    if (row.arg != nullptr) r.arg(row.arg, s.max_spikes);
    return r.str();
  }
  TORCH_INTERNAL_ASSERT(false, "unknown spike kind");
}

std::string reset_text(const NeuronSpec& s) {
  for (const auto& row : resets()) {
    if (row.kind != s.reset) continue;
    spec::Repr r(row.name);
    if (row.arg == nullptr) return r.str();
    if (row.arg_default) {
      r.arg(row.arg, s.reset_value.value_or(*row.arg_default));
    } else {
      r.arg(row.arg, s.reset_value);
    }
    return r.str();
  }
  TORCH_INTERNAL_ASSERT(false, "unknown reset kind");
}

std::string surrogate_text(const SurrogateSpec& sg) {
  const auto& row = info(sg.kind);
  spec::Repr r(row.name);
  for (size_t k = 0; k < row.arg_names.size(); ++k) r.arg(row.arg_names[k].c_str(), sg.args[k]);
  return r.str();
}

std::string family_choices() {
  std::string out;
  for (const auto& f : families()) {
    out += (out.empty() ? "" : ", ") + std::string(f.name) + "(...)";
  }
  return out;
}

}  // namespace

int64_t register_surrogate(SurrogateFunction sigma) {
  TORCH_CHECK(sigma != nullptr, kWhat, ": register_surrogate needs a function");
  std::lock_guard<std::mutex> lock(registry_mutex());
  registry().push_back(std::move(sigma));
  return static_cast<int64_t>(registry().size());
}

const SurrogateFunction& registered_surrogate(int64_t id) {
  std::lock_guard<std::mutex> lock(registry_mutex());
  TORCH_CHECK(id >= 1 && id <= static_cast<int64_t>(registry().size()), kWhat,
              ": Custom(id=", id, ") / state_quant=", id, " names no registered function (",
              registry().size(), " registered; snn::ops::register_surrogate and "
              "register_state_quant give the ids)");
  return registry()[static_cast<size_t>(id - 1)];  // a deque's elements never move
}

int64_t register_state_quant(SurrogateFunction quantise) {
  return register_surrogate(std::move(quantise));  // one registry of functions
}

bool fused(const NeuronSpec& spec) {
  return fused_surrogate(spec.surrogate.kind) && spec.state_quant == 0;
}

bool fused_surrogate(SurrogateKind kind) {
  return kind != SurrogateKind::StochasticSpikeOperator && kind != SurrogateKind::Custom;
}

const std::vector<std::string>& surrogate_arg_names(SurrogateKind kind) {
  return info(kind).arg_names;
}

NeuronSpec NeuronSpec::parse(const std::string& text) {
  const spec::Value root = spec::parse(text, kWhat);
  spec::Args a(root, kWhat);
  const FamilyInfo* row = nullptr;
  for (const auto& f : families()) {
    if (a.name() == f.name) row = &f;
  }
  TORCH_CHECK(row != nullptr, kWhat, ": the family must be one of ", family_choices(), ", got ",
              a.name(), "(...) in '", text, "'");
  NeuronSpec s;
  s.family = row->family;
  s.spike = row->default_spike;
  s.surrogate = row->default_surrogate;
  s.norm_input = row->norm_input_default;
  s.reset_delay = row->reset_delay_default;
  for (const Key k : row->keys) {
    switch (k) {
      case Key::Synapse: s.synapse = a.boolean("synapse", false); break;
      case Key::Recurrent: s.recurrent = a.boolean("recurrent", false); break;
      case Key::NormInput: s.norm_input = a.boolean("norm_input", row->norm_input_default); break;
      case Key::Spike: parse_spike(a.optional_call("spike"), s); break;
      case Key::Reset: parse_reset(a.optional_call("reset"), s); break;
      case Key::ResetDelay:
        s.reset_delay = a.boolean("reset_delay", row->reset_delay_default);
        break;
      case Key::ResetGrad: s.reset_grad = a.boolean("reset_grad", false); break;
      case Key::ZeroKeepsInput: s.zero_keeps_input = a.boolean("zero_keeps_input", true); break;
      case Key::Surrogate: parse_surrogate(a.optional_call("surrogate"), s); break;
      case Key::MinVMem: s.min_v_mem = a.optional_real("min_v_mem"); break;
      case Key::StateQuant: {
        const double id = a.real("state_quant", 0.0);
        TORCH_CHECK(id == std::floor(id) && id >= 0, kWhat,
                    ": state_quant must be 0 (none) or a registered quantiser's id, got ", id);
        s.state_quant = static_cast<int64_t>(id);
        if (s.state_quant != 0) registered_surrogate(s.state_quant);  // names an unknown id
        break;
      }
      case Key::Leak: s.leak = a.boolean("leak", true); break;
    }
  }
  a.finish();
  TORCH_CHECK(std::find(row->spike_kinds.begin(), row->spike_kinds.end(), s.spike) !=
                  row->spike_kinds.end(),
              kWhat, ": ", row->name, " does not take spike=", s.spike_str());
  TORCH_CHECK(!s.reset_grad || (s.reset_delay && (s.reset == ResetKind::Subtract ||
                                                  (s.reset == ResetKind::ToValue &&
                                                   s.zero_keeps_input))),
              kWhat, ": reset_grad=true needs reset_delay=true and reset=MembraneSubtract() or "
              "MembraneReset() with zero_keeps_input=true, got reset_delay=",
              spec::format(s.reset_delay), ", reset=", s.reset_str(), ", zero_keeps_input=",
              spec::format(s.zero_keeps_input));
  if (!row->resets.empty()) {
    TORCH_CHECK(std::find(row->resets.begin(), row->resets.end(), s.reset) != row->resets.end(),
                kWhat, ": ", row->name, " does not take reset=", s.reset_str());
    // snnTorch's resets: by the threshold, to zero, or none.
    TORCH_CHECK(!(s.reset == ResetKind::Subtract && s.reset_value.has_value()), kWhat, ": ",
                row->name, " subtracts the threshold: reset=MembraneSubtract(subtract_value=none), got ",
                s.reset_str());
    TORCH_CHECK(!(s.reset == ResetKind::ToValue && s.reset_value.value_or(0.0) != 0.0), kWhat,
                ": ", row->name, " resets to zero: reset=MembraneReset(reset_value=0), got ",
                s.reset_str());
  }
  return s;
}

std::string NeuronSpec::str() const {
  const auto& row = family_info(family);
  // Calls are printed verbatim (Repr formats values): the pieces are joined by hand.
  std::string out = std::string(row.name) + "(";
  const auto add = [&](const char* key, const std::string& value) {
    out += (out.back() == '(' ? "" : ", ") + std::string(key) + "=" + value;
  };
  for (const Key k : row.keys) {
    switch (k) {
      case Key::Synapse: add("synapse", spec::format(synapse)); break;
      case Key::Recurrent: add("recurrent", spec::format(recurrent)); break;
      case Key::NormInput: add("norm_input", spec::format(norm_input)); break;
      case Key::Spike: add("spike", spike_str()); break;
      case Key::Reset: add("reset", reset_str()); break;
      case Key::ResetDelay: add("reset_delay", spec::format(reset_delay)); break;
      case Key::ResetGrad: add("reset_grad", spec::format(reset_grad)); break;
      case Key::ZeroKeepsInput: add("zero_keeps_input", spec::format(zero_keeps_input)); break;
      case Key::Surrogate: add("surrogate", surrogate_str()); break;
      case Key::MinVMem: add("min_v_mem", spec::format(min_v_mem)); break;
      case Key::StateQuant: add("state_quant", std::to_string(state_quant)); break;
      case Key::Leak: add("leak", spec::format(leak)); break;
    }
  }
  return out + ")";
}

std::string NeuronSpec::spike_str() const { return spike_text(*this); }
std::string NeuronSpec::reset_str() const { return reset_text(*this); }
std::string NeuronSpec::surrogate_str() const { return surrogate_text(surrogate); }

bool NeuronSpec::has_spikes() const { return family_info(family).spikes; }

const std::vector<std::string>& NeuronSpec::state_names() const {
  const auto& row = family_info(family);
  return row.state_sets[synapse ? 1 : 0][recurrent ? 1 : 0];
}

const std::vector<std::string>& NeuronSpec::param_names() const {
  const auto& row = family_info(family);
  return synapse ? row.synapse_params : row.params;
}

const NeuronSpec& neuron_spec(std::string_view text) {
  // Specifications are few (one per layer configuration) and entries are never dropped,
  // so that the references handed out stay valid. A layer calls with the same text step
  // after step: each thread remembers its last one, without the lock or a copy.
  thread_local const std::string* last_text = nullptr;
  thread_local const NeuronSpec* last_spec = nullptr;
  if (last_text != nullptr && *last_text == text) return *last_spec;
  static std::mutex mutex;
  static std::unordered_map<std::string, std::unique_ptr<const NeuronSpec>> cache;
  const std::string key(text);
  {
    std::lock_guard<std::mutex> lock(mutex);
    const auto it = cache.find(key);
    if (it != cache.end()) {
      last_text = &it->first;
      last_spec = it->second.get();
      return *last_spec;
    }
  }
  auto parsed = std::make_unique<const NeuronSpec>(NeuronSpec::parse(key));
  std::lock_guard<std::mutex> lock(mutex);
  const auto it = cache.emplace(key, std::move(parsed)).first;
  last_text = &it->first;
  last_spec = it->second.get();
  return *last_spec;
}

}  // namespace snn::ops
