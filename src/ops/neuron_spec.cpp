// NeuronSpec: parsing, validation, canonical text and the per-text cache.
#include <c10/util/Exception.h>

#include <memory>
#include <mutex>
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
};

// Adding a surrogate: one row here and one function in the kernel and the reference.
const std::vector<SurrogateInfo>& surrogates() {
  static const std::vector<SurrogateInfo> table = {
      {SurrogateKind::SingleExponential, "SingleExponential", {"grad_width", "grad_scale"}, {0.5, 1.0}},
      {SurrogateKind::Heaviside, "Heaviside", {"window"}, {1.0}},
      {SurrogateKind::Gaussian, "Gaussian", {"mu", "sigma", "grad_scale"}, {0.0, 0.5, 1.0}},
      {SurrogateKind::MultiGaussian, "MultiGaussian", {"mu", "sigma", "h", "s", "grad_scale"},
       {0.0, 0.5, 0.15, 6.0, 1.0}},
      {SurrogateKind::PeriodicExponential, "PeriodicExponential", {"grad_width", "grad_scale"},
       {0.5, 1.0}},
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

const char* family_name(NeuronFamily f) {
  switch (f) {
    case NeuronFamily::LIF:
      return "LIF";
    case NeuronFamily::ALIF:
      return "ALIF";
    case NeuronFamily::ExpLeak:
      return "ExpLeak";
  }
  return "?";
}

void parse_spike(const spec::Value* call, NeuronSpec& s) {
  if (call == nullptr) return;
  spec::Args a(*call, kWhat);
  if (a.name() == "MultiSpike") {
    s.spike = SpikeKind::Multi;
  } else if (a.name() == "SingleSpike") {
    s.spike = SpikeKind::Single;
  } else if (a.name() == "MaxSpike") {
    s.spike = SpikeKind::Max;
    s.max_spikes = a.optional_integer("max_num_spikes_per_bin");
    TORCH_CHECK(!s.max_spikes || *s.max_spikes >= 1, kWhat,
                ": MaxSpike(max_num_spikes_per_bin=...) must be >= 1 or none, got ",
                *s.max_spikes);
  } else {
    TORCH_CHECK(false, kWhat,
                ": spike must be MultiSpike(), SingleSpike() or "
                "MaxSpike(max_num_spikes_per_bin=n), got ",
                a.name(), "(...)");
  }
  a.finish();
}

void parse_reset(const spec::Value* call, NeuronSpec& s) {
  if (call == nullptr) return;
  spec::Args a(*call, kWhat);
  if (a.name() == "MembraneSubtract") {
    s.reset = ResetKind::Subtract;
    s.reset_value = a.optional_real("subtract_value");
  } else if (a.name() == "MembraneReset") {
    s.reset = ResetKind::ToValue;
    s.reset_value = a.real("reset_value", 0.0);
  } else {
    TORCH_CHECK(false, kWhat,
                ": reset must be MembraneSubtract(subtract_value=...) or "
                "MembraneReset(reset_value=...), got ",
                a.name(), "(...)");
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
  auto positive = [&](const char* arg, double v) {
    TORCH_CHECK(v > 0, kWhat, ": ", found->name, "(", arg, "=...) must be > 0, got ", v);
  };
  switch (found->kind) {
    case SurrogateKind::SingleExponential:
    case SurrogateKind::PeriodicExponential:
      positive("grad_width", s.surrogate.args[0]);
      break;
    case SurrogateKind::Gaussian:
      positive("sigma", s.surrogate.args[1]);
      break;
    case SurrogateKind::MultiGaussian:
      positive("sigma", s.surrogate.args[1]);
      positive("s", s.surrogate.args[3]);
      break;
    case SurrogateKind::Heaviside:
      break;
  }
}

std::string spike_text(const NeuronSpec& s) {
  switch (s.spike) {
    case SpikeKind::Multi:
      return "MultiSpike()";
    case SpikeKind::Single:
      return "SingleSpike()";
    case SpikeKind::Max:
      return spec::Repr("MaxSpike").arg("max_num_spikes_per_bin", s.max_spikes).str();
  }
  return "?";
}

std::string reset_text(const NeuronSpec& s) {
  if (s.reset == ResetKind::Subtract) {
    return spec::Repr("MembraneSubtract").arg("subtract_value", s.reset_value).str();
  }
  return spec::Repr("MembraneReset").arg("reset_value", s.reset_value.value_or(0.0)).str();
}

std::string surrogate_text(const SurrogateSpec& sg) {
  const auto& row = info(sg.kind);
  spec::Repr r(row.name);
  for (size_t k = 0; k < row.arg_names.size(); ++k) r.arg(row.arg_names[k].c_str(), sg.args[k]);
  return r.str();
}

}  // namespace

const std::vector<std::string>& surrogate_arg_names(SurrogateKind kind) {
  return info(kind).arg_names;
}

NeuronSpec NeuronSpec::parse(const std::string& text) {
  const spec::Value root = spec::parse(text, kWhat);
  spec::Args a(root, kWhat);
  NeuronSpec s;
  if (a.name() == "LIF" || a.name() == "ALIF") {
    s.family = a.name() == "LIF" ? NeuronFamily::LIF : NeuronFamily::ALIF;
    s.spike = s.family == NeuronFamily::ALIF ? SpikeKind::Single : SpikeKind::Multi;
    s.synapse = a.boolean("synapse", false);
    s.norm_input = a.boolean("norm_input", true);
    parse_spike(a.optional_call("spike"), s);
    parse_reset(a.optional_call("reset"), s);
    parse_surrogate(a.optional_call("surrogate"), s);
  } else if (a.name() == "ExpLeak") {
    s.family = NeuronFamily::ExpLeak;
    s.norm_input = a.boolean("norm_input", false);
  } else {
    TORCH_CHECK(false, kWhat, ": the family must be LIF(...), ALIF(...) or ExpLeak(...), got ",
                a.name(), "(...) in '", text, "'");
  }
  s.min_v_mem = a.optional_real("min_v_mem");
  a.finish();
  return s;
}

std::string NeuronSpec::str() const {
  spec::Repr r(family_name(family));
  if (family == NeuronFamily::ExpLeak) {
    return r.arg("norm_input", norm_input).arg("min_v_mem", min_v_mem).str();
  }
  // Calls are printed verbatim: Repr formats values, so the pieces are joined by hand.
  std::string out = r.arg("synapse", synapse).arg("norm_input", norm_input).str();
  out.pop_back();
  out += ", spike=" + spike_text(*this) + ", reset=" + reset_text(*this) +
         ", surrogate=" + surrogate_text(surrogate) + ", min_v_mem=" + spec::format(min_v_mem) +
         ")";
  return out;
}

bool NeuronSpec::has_spikes() const {
  return family != NeuronFamily::ExpLeak;
}

std::vector<std::string> NeuronSpec::state_names() const {
  std::vector<std::string> names{"v_mem"};
  if (family == NeuronFamily::ALIF) names.emplace_back("b");
  if (synapse) names.emplace_back("i_syn");
  return names;
}

std::vector<std::string> NeuronSpec::param_names() const {
  switch (family) {
    case NeuronFamily::LIF:
      return synapse ? std::vector<std::string>{"alpha_mem", "spike_threshold", "alpha_syn"}
                     : std::vector<std::string>{"alpha_mem", "spike_threshold"};
    case NeuronFamily::ALIF: {
      std::vector<std::string> names{"alpha_mem", "alpha_adapt", "spike_threshold", "adapt_scale"};
      if (synapse) names.emplace_back("alpha_syn");
      return names;
    }
    case NeuronFamily::ExpLeak:
      return {"alpha_mem"};
  }
  return {};
}

const NeuronSpec& neuron_spec(const std::string& text) {
  // Specifications are few (one per layer configuration) and entries are never dropped,
  // so that the references handed out stay valid.
  static std::mutex mutex;
  static std::unordered_map<std::string, std::unique_ptr<const NeuronSpec>> cache;
  {
    std::lock_guard<std::mutex> lock(mutex);
    const auto it = cache.find(text);
    if (it != cache.end()) return *it->second;
  }
  auto parsed = std::make_unique<const NeuronSpec>(NeuronSpec::parse(text));
  std::lock_guard<std::mutex> lock(mutex);
  return *cache.emplace(text, std::move(parsed)).first->second;
}

}  // namespace snn::ops
