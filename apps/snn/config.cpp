// The one table of configuration fields (see config.h).
#include "config.h"

#include <algorithm>
#include <charconv>
#include <cstdio>
#include <cmath>
#include <functional>
#include <sstream>
#include <toml++/toml.h>
#include <regex>
#include <variant>

#include "snn/data/spoken_digits.h"
#include "snn/nn/neuron_options.h"
#include "snn/train/augment.h"
#include "snn/train/data_sources.h"
#include "snn/train/presets.h"

namespace snn_cli {
namespace {

using Member = std::variant<std::string RunConfig::*, int64_t RunConfig::*, double RunConfig::*,
                            bool RunConfig::*, std::vector<int64_t> RunConfig::*,
                            std::optional<double> RunConfig::*,
                            std::vector<std::string> RunConfig::*>;

// A check of a value in the context of the whole configuration: an error message (without
// the key) or empty.
using Check = std::function<std::string(const RunConfig&)>;

struct Field {
  const char* section;
  const char* key;
  Member member;
  const char* default_value;  // a TOML value
  // The presets that change it: preset name -> TOML value.
  std::vector<std::pair<const char*, const char*>> presets;
  const char* flag;  // e.g. "--epochs"; nullptr: none
  const char* help;
  Check check;       // may be empty
  bool train_only = false;  // a flag of `snn train` only (compare sets it itself)
  // The allowed values of a string, from the table that owns them (checked by validate and
  // listed in the help); nullptr: any value the check accepts.
  std::vector<std::string> (*choices)() = nullptr;
};

// The shortest text that reads back as the same double ("2" for 2.0: real fields accept
// TOML integers too).
std::string fmt(double v) {
  char buf[64];
  const auto r = std::to_chars(buf, buf + sizeof buf, v);
  return std::string(buf, r.ptr);
}

// Checks, each returning "" or what is wrong.
std::string one_of(const std::string& v, const std::vector<std::string>& allowed) {
  if (std::find(allowed.begin(), allowed.end(), v) != allowed.end()) return "";
  std::string list;
  for (const auto& a : allowed) list += (list.empty() ? "" : ", ") + a;
  return "must be one of " + list + "; got \"" + v + "\"";
}

template <typename T>
std::string positive(T v) {
  if (v > 0) return "";
  std::ostringstream os;
  os << "must be > 0; got " << v;
  return os.str();
}

std::string non_negative(int64_t v) {
  return v >= 0 ? "" : "must be >= 0; got " + std::to_string(v);
}

bool camera(const RunConfig& c) {
  try {
    return snn::train::data_source(c.source).camera;
  } catch (const c10::Error&) {
    return false;  // data.source's own check names it
  }
}

std::string delays_check(const std::vector<int64_t>& d, int64_t time_bins) {
  if (d.size() > 64) return "may hold at most 64 delays; got " + std::to_string(d.size());
  for (const int64_t k : d) {
    if (k < 0 || k >= time_bins) {
      return "must be in [0, data.time_bins - 1] = [0, " + std::to_string(time_bins - 1) +
             "]; got " + std::to_string(k);
    }
  }
  return "";
}

std::string regex_check(const std::string& pattern) {
  try {
    std::regex re(pattern, std::regex::ECMAScript);
  } catch (const std::regex_error& e) {
    return "is not a valid regular expression: \"" + pattern + "\" (" + e.what() + ")";
  }
  return "";
}

// A neuron option given as its specification text, e.g. "SingleSpike()": parsed by the
// library; its error, or "".
std::string spec_check(const std::function<void()>& parse) {
  try {
    parse();
  } catch (const c10::Error& e) {
    return std::string("is not valid: ") + e.what_without_backtrace();
  }
  return "";
}

// The presets (README, "The main job"); each field row says what a preset changes.
std::vector<std::string> preset_names() {
  return {"delay-mlp", "shd-mlp", "amld-tutorial", "dvs-conv"};
}

std::vector<std::string> lr_schedule_names() { return {"constant", "cosine"}; }

#define M(name) &RunConfig::name
const std::vector<Field>& table() {
  static const std::vector<Field> fields = {
      // [data]
      {"data", "source", M(source), "\"spoken-digits\"", {}, "--data",
       "Data source (spoken-digits: the embedded spoken digits)", nullptr, false,
       &snn::train::data_source_names},
      {"data", "path", M(data_path), "\"\"", {}, "--data-path",
       "Folder of the data files (spoken-digits: where they are made; default: the cache)",
       [](const RunConfig& c) {
         return c.source != "spoken-digits" && c.data_path.empty()
                    ? "must name the folder of the " + c.source + " files (--data-path)"
                    : "";
       }},
      {"data", "channels", M(channels), "140", {}, "--channels",
       "Audio: channels after Downsample (700 / channels neighbours summed)",
       [](const RunConfig& c) {
         return c.channels > 700 ? "must be <= 700; got " + std::to_string(c.channels)
                                 : positive(c.channels);
       }},
      {"data", "time_bins", M(time_bins), "35",
       {{"shd-mlp", "70"}, {"amld-tutorial", "70"}, {"dvs-conv", "20"}}, "--time-bins",
       "Time bins per sample", [](const RunConfig& c) { return positive(c.time_bins); }},
      {"data", "bin_ms", M(bin_ms), "0", {{"amld-tutorial", "10"}}, "--bin-ms",
       "Audio: 0 stretches time_bins bins over each sample; > 0: bins of this many ms from the "
       "first event over time_bins x bin_ms ms (the AMLD tutorial's CropTime, 1-ms ToFrame, "
       "padding and summing)",
       [](const RunConfig& c) { return non_negative(c.bin_ms); }},
      {"data", "spatial_factor", M(spatial_factor), "0", {}, "--spatial-factor",
       "Camera: Downsample factor in (0, 1]; 0: the source's own (dvs-gesture 0.25, else 1)",
       [](const RunConfig& c) {
         return c.spatial_factor >= 0 && c.spatial_factor <= 1
                    ? ""
                    : "must be in (0, 1] (0: the source's default); got " + fmt(c.spatial_factor);
       }},
      {"data", "voices", M(voices), "64", {}, "--voices",
       "spoken-digits: voices (the rest held out for testing)",
       [](const RunConfig& c) {
         const auto most = static_cast<int64_t>(snn::data::spoken_digit_voices().size());
         return c.voices >= 2 && c.voices <= most
                    ? ""
                    : "must be in [2, " + std::to_string(most) + "]; got " +
                          std::to_string(c.voices);
       }},
      {"data", "renditions", M(renditions), "3", {}, "--renditions",
       "spoken-digits: utterances per voice, digit and language",
       [](const RunConfig& c) { return positive(c.renditions); }},
      {"data", "flite_renditions", M(flite_renditions), "12", {}, "--flite-renditions",
       "spoken-digits: utterances per CMU Flite voice and English digit (training only; 0: none)",
       [](const RunConfig& c) { return non_negative(c.flite_renditions); }},
      {"data", "augment", M(augment), "true", {}, "--augment",
       "spoken-digits: augmentation towards real recordings (speed and vocal-tract length, "
       "microphone colouring, rooms, noises, 8-kHz recordings)", nullptr},
      {"data", "label_regex", M(label_regex), "\"\"", {}, "--label-regex",
       "audio: regular expression over each file name whose first group is the label (e.g. "
       "\"^([0-9]+)_\" for FSDD's 7_jackson_32.wav); \"\": the file's subfolder is its label",
       [](const RunConfig& c) { return regex_check(c.label_regex); }},
      {"data", "speaker_regex", M(speaker_regex), "\"\"", {}, "--speaker-regex",
       "audio: regular expression over each file name whose first group is the speaker (e.g. "
       "\"^[0-9]+_([a-z]+)_\"), for test_speakers",
       [](const RunConfig& c) { return regex_check(c.speaker_regex); }},
      {"data", "test_speakers", M(test_speakers), "[]", {}, "--test-speakers",
       "audio: the speakers whose files are the test split (needs speaker_regex)",
       [](const RunConfig& c) {
         return !c.test_speakers.empty() && c.speaker_regex.empty()
                    ? std::string("needs data.speaker_regex (which part of a file name names "
                                  "the speaker)")
                    : std::string();
       }},
      {"data", "test_list", M(test_list), "\"\"", {}, "--test-list",
       "audio: a file listing the test files (paths relative to data.path, one per line); "
       "before test_speakers", nullptr},
      {"data", "test_fraction", M(test_fraction), "0.2", {}, "--test-fraction",
       "audio: without test_list and test_speakers, this fraction of each class is the test "
       "split (chosen by a hash of the path)",
       [](const RunConfig& c) {
         return c.test_fraction > 0 && c.test_fraction < 1
                    ? ""
                    : "must be in (0, 1); got " + fmt(c.test_fraction);
       }},
      // [model]
      {"model", "preset", M(preset), "\"delay-mlp\"", {}, "--preset",
       "Network and its defaults",
       [](const RunConfig& c) {
         return c.preset == "dvs-conv" && !camera(c)
                    ? "dvs-conv needs camera events (data.source nmnist or dvs-gesture); got "
                      "data.source " + c.source
                    : std::string();
       },
       false, &preset_names},
      {"model", "neuron", M(neuron), "\"iaf\"", {}, "--neuron",
       "Neuron model (iaf, lif, alif: Sinabs'; the others snnTorch's, their decays "
       "exp(-1/tau): see snn::train::PresetNeurons)",
       [](const RunConfig& c) {
         snn::train::PresetNeurons n;
         try {
           n = preset_neurons(c);
         } catch (const c10::Error&) {
           return std::string();  // a spike_fn, reset_fn or surrogate its own row names
         }
         if (c.tau_mem <= 0 || c.tau_adapt <= 0 || c.tau_syn.value_or(1) <= 0) {
           return std::string();  // so is a time constant
         }
         return spec_check([&] { snn::train::check_neurons(n); });
       },
       true, &snn::train::neuron_kind_names},
      {"model", "hidden", M(hidden), "256",
       {{"shd-mlp", "64"}, {"amld-tutorial", "64"}}, "--hidden", "MLP: hidden neurons per layer",
       [](const RunConfig& c) { return positive(c.hidden); }},
      {"model", "delays", M(delays), "[0, 4, 8, 12, 16, 20, 24]",
       {{"shd-mlp", "[]"}, {"amld-tutorial", "[]"}, {"dvs-conv", "[]"}}, "--delays",
       "MLP: synaptic delays (steps) of the input synapses; [] none",
       [](const RunConfig& c) { return delays_check(c.delays, c.time_bins); }},
      {"model", "hidden_delays", M(hidden_delays), "[0, 4, 8, 12]",
       {{"shd-mlp", "[]"}, {"amld-tutorial", "[]"}, {"dvs-conv", "[]"}}, "--hidden-delays",
       "MLP: synaptic delays (steps) of the hidden synapses; [] none",
       [](const RunConfig& c) { return delays_check(c.hidden_delays, c.time_bins); }},
      {"model", "tau_mem", M(tau_mem), "5.0", {{"amld-tutorial", "2.0"}}, "--tau-mem",
       "LIF, ALIF: membrane time constant (steps)",
       [](const RunConfig& c) { return positive(c.tau_mem); }},
      {"model", "tau_adapt", M(tau_adapt), "100.0", {}, "--tau-adapt",
       "ALIF: threshold adaptation time constant (steps)",
       [](const RunConfig& c) { return positive(c.tau_adapt); }},
      {"model", "adapt_scale", M(adapt_scale), "1.8", {}, "--adapt-scale",
       "ALIF: threshold increase per spike", nullptr},
      {"model", "bias", M(bias), "true", {{"amld-tutorial", "false"}}, "--bias",
       "MLP: the Linear layers have biases", nullptr},
      {"model", "tau_syn", M(tau_syn), "\"none\"", {{"amld-tutorial", "1.0"}}, "--tau-syn",
       "Synaptic time constant (steps) of every neuron; \"none\": no synapse",
       [](const RunConfig& c) { return c.tau_syn ? positive(*c.tau_syn) : std::string(); }},
      {"model", "threshold", M(threshold), "1.0", {}, "--threshold",
       "Spike threshold (ALIF: its base)", [](const RunConfig& c) { return positive(c.threshold); }},
      {"model", "min_v_mem", M(min_v_mem), "\"none\"", {{"amld-tutorial", "0.0"}}, "--min-v-mem",
       "Lower bound of the membrane; \"none\": unbounded", nullptr},
      {"model", "spike_fn", M(spike_fn), "\"auto\"", {{"amld-tutorial", "\"SingleSpike()\""}},
       "--spike-fn",
       "Spike function: MultiSpike(), SingleSpike(), MaxSpike(max_num_spikes_per_bin=N), "
       "HeavisideSpike(); \"auto\": the neuron's own (MultiSpike, ALIF SingleSpike, snnTorch's "
       "HeavisideSpike)",
       [](const RunConfig& c) {
         return c.spike_fn == "auto" ? ""
                                     : spec_check([&] { snn::parse_spike_fn(c.spike_fn); });
       }},
      {"model", "reset_fn", M(reset_fn), "\"MembraneSubtract()\"", {}, "--reset-fn",
       "Reset: MembraneSubtract(subtract_value=X), MembraneReset(reset_value=X)",
       [](const RunConfig& c) { return spec_check([&] { snn::parse_reset_fn(c.reset_fn); }); }},
      {"model", "surrogate", M(surrogate), "\"auto\"", {}, "--surrogate",
       "Surrogate gradient; \"auto\": the neuron's own (Sinabs' SingleExponential(grad_width=0.5, "
       "grad_scale=1), snnTorch's ATan(alpha=2)); SingleExponential(grad_width, grad_scale), Heaviside(window), "
       "Gaussian(mu, sigma, grad_scale), MultiGaussian(...), PeriodicExponential(...), "
       "snnTorch's ATan(alpha), FastSigmoid(slope), Sigmoid(slope), SpikeRateEscape(beta, slope), "
       "Triangular(threshold), StraightThroughEstimator()",
       [](const RunConfig& c) {
         return c.surrogate == "auto" ? ""
                                      : spec_check([&] { snn::parse_surrogate(c.surrogate); });
       }},
      {"model", "norm_input", M(norm_input), "true",
       {{"amld-tutorial", "false"}, {"dvs-conv", "false"}}, "--norm-input",
       "LIF, ALIF: scale the input by (1 - exp(-1/tau_mem))", nullptr},
      // [train]
      {"train", "epochs", M(epochs), "20",
       {{"shd-mlp", "30"}, {"amld-tutorial", "10"}, {"dvs-conv", "15"}}, "--epochs", "Epochs",
       [](const RunConfig& c) { return positive(c.epochs); }},
      {"train", "batch_size", M(batch_size), "64", {{"amld-tutorial", "128"}}, "--batch-size",
       "Samples per batch", [](const RunConfig& c) { return positive(c.batch_size); }},
      {"train", "lr", M(lr), "2e-3", {{"amld-tutorial", "1e-3"}, {"dvs-conv", "1e-3"}}, "--lr",
       "Learning rate (Adam)", [](const RunConfig& c) { return positive(c.lr); }},
      {"train", "lr_schedule", M(lr_schedule), "\"cosine\"", {{"amld-tutorial", "\"constant\""}},
       "--lr-schedule", "Learning-rate schedule (cosine: to 0 over the epochs)", nullptr, false,
       &lr_schedule_names},
      {"train", "augment", M(frame_augment), "\"auto\"", {{"amld-tutorial", "\"none\""}},
       "--frame-augment",
       "Each training batch of audio frames perturbed afresh every epoch (seeded, resumable): "
       "FrameAugment(channel_shift=3, time_stretch=0.15, time_shift=2, frequency_masks=1, "
       "frequency_mask=10, time_masks=1, time_mask=3) (see snn/train/augment.h), \"none\", or "
       "\"auto\": FrameAugment() for audio, none for camera data (amld-tutorial: none, as the tutorial)",
       [](const RunConfig& c) {
         if (c.frame_augment == "auto") return std::string();
         if (c.frame_augment != "none" && camera(c)) {
           return std::string("applies to audio frames only; set \"none\" or \"auto\" for camera data");
         }
         return spec_check([&] { snn::train::parse_frame_augment(c.frame_augment); });
       }},
      {"train", "seed", M(seed), "0", {}, "--seed", "Seed of the weights and the shuffling",
       [](const RunConfig& c) { return non_negative(c.seed); }},
      {"train", "threads", M(threads), "0", {}, "--threads", "Threads; 0: every core",
       [](const RunConfig& c) { return non_negative(c.threads); }},
  };
  return fields;
}
#undef M

const char* const kSections[] = {"data", "model", "train"};

std::string name_of(const Field& f) { return std::string(f.section) + "." + f.key; }

const char* type_of(const Field& f) {
  return std::visit(
      [](auto m) -> const char* {
        using T = std::remove_cvref_t<decltype(std::declval<RunConfig>().*m)>;
        if constexpr (std::is_same_v<T, std::string>) return "string";
        else if constexpr (std::is_same_v<T, int64_t>) return "integer";
        else if constexpr (std::is_same_v<T, double>) return "number";
        else if constexpr (std::is_same_v<T, bool>) return "boolean";
        else if constexpr (std::is_same_v<T, std::vector<int64_t>>) return "array of integers";
        else if constexpr (std::is_same_v<T, std::vector<std::string>>) return "array of strings";
        else return "number or \"none\"";
      },
      f.member);
}

[[noreturn]] void bad(const std::string& where, const std::string& message) {
  throw CLI::ValidationError(where.empty() ? message : where + ": " + message);
}

// Assigns a TOML value to a field; `where` names the origin in errors ("config FILE").
void assign(const Field& f, const toml::node& v, RunConfig& c, const std::string& where) {
  const std::string name = name_of(f);
  std::visit(
      [&](auto m) {
        using T = std::remove_cvref_t<decltype(c.*m)>;
        if constexpr (std::is_same_v<T, std::string>) {
          if (!v.is_string()) bad(where, name + " must be a string");
          c.*m = v.as_string()->get();
        } else if constexpr (std::is_same_v<T, int64_t>) {
          if (!v.is_integer()) bad(where, name + " must be an integer");
          c.*m = v.as_integer()->get();
        } else if constexpr (std::is_same_v<T, double>) {
          if (v.is_integer()) c.*m = static_cast<double>(v.as_integer()->get());
          else if (v.is_floating_point()) c.*m = v.as_floating_point()->get();
          else bad(where, name + " must be a number");
        } else if constexpr (std::is_same_v<T, bool>) {
          if (!v.is_boolean()) bad(where, name + " must be true or false");
          c.*m = v.as_boolean()->get();
        } else if constexpr (std::is_same_v<T, std::vector<int64_t>>) {
          const auto* array = v.as_array();
          if (array == nullptr) bad(where, name + " must be an array of integers");
          std::vector<int64_t> out;
          for (const auto& e : *array) {
            if (!e.is_integer()) bad(where, name + " must be an array of integers");
            out.push_back(e.as_integer()->get());
          }
          c.*m = out;
        } else if constexpr (std::is_same_v<T, std::vector<std::string>>) {
          const auto* array = v.as_array();
          if (array == nullptr) bad(where, name + " must be an array of strings");
          std::vector<std::string> out;
          for (const auto& e : *array) {
            if (!e.is_string()) bad(where, name + " must be an array of strings");
            out.push_back(e.as_string()->get());
          }
          c.*m = out;
        } else {
          if (v.is_string() && v.as_string()->get() == "none") c.*m = std::nullopt;
          else if (v.is_integer()) c.*m = static_cast<double>(v.as_integer()->get());
          else if (v.is_floating_point()) c.*m = v.as_floating_point()->get();
          else bad(where, name + " must be a number or \"none\"");
        }
      },
      f.member);
}

// A TOML value written as text (the table's defaults and presets).
void assign_literal(const Field& f, const std::string& literal, RunConfig& c) {
  const auto t = toml::parse("v = " + literal);
  assign(f, *t.get("v"), c, "");
}

// A flag's text as the field's TOML value: strings as given, the rest as TOML
// (an array may be written without brackets: --delays 0,4,8).
void assign_flag(const Field& f, const std::string& text, RunConfig& c) {
  const std::string where = std::string(f.flag);
  toml::table t;
  const bool is_string = std::holds_alternative<std::string RunConfig::*>(f.member);
  const bool is_array = std::holds_alternative<std::vector<int64_t> RunConfig::*>(f.member);
  const bool is_optional = std::holds_alternative<std::optional<double> RunConfig::*>(f.member);
  const bool is_strings = std::holds_alternative<std::vector<std::string> RunConfig::*>(f.member);
  if (is_string || (is_optional && text == "none")) {
    t.insert("v", text);
  } else if (is_strings && (text.empty() || text.front() != '[')) {
    // --test-speakers a,b: the names as given, split at commas
    toml::array names;
    size_t start = 0;
    while (!text.empty()) {
      const size_t comma = text.find(',', start);
      names.push_back(text.substr(start, comma - start));
      if (comma == std::string::npos) break;
      start = comma + 1;
    }
    t.insert("v", names);
  } else {
    const std::string literal = is_array && (text.empty() || text.front() != '[')
                                    ? "[" + text + "]"
                                    : text;
    try {
      t = toml::parse("v = " + literal);
    } catch (const toml::parse_error&) {
      bad(where, std::string("expected ") + type_of(f) + ", got \"" + text + "\"");
    }
  }
  assign(f, *t.get("v"), c, where);
}

}  // namespace

std::string quoted(const std::string& s) {
  std::string out = "\"";
  for (const char ch : s) {
    const auto u = static_cast<unsigned char>(ch);
    if (ch == '"' || ch == '\\') {
      out += '\\';
      out += ch;
    } else if (ch == '\n') {
      out += "\\n";
    } else if (ch == '\t') {
      out += "\\t";
    } else if (u < 0x20 || u == 0x7f) {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\u%04X", u);
      out += buf;
    } else {
      out += ch;
    }
  }
  return out + "\"";
}

namespace {

std::string toml_value(const Field& f, const RunConfig& c) {
  return std::visit(
      [&](auto m) -> std::string {
        using T = std::remove_cvref_t<decltype(c.*m)>;
        std::ostringstream os;
        if constexpr (std::is_same_v<T, std::string>) {
          os << quoted(c.*m);
        } else if constexpr (std::is_same_v<T, int64_t>) {
          os << c.*m;
        } else if constexpr (std::is_same_v<T, double>) {
          os << fmt(c.*m);
        } else if constexpr (std::is_same_v<T, bool>) {
          os << (c.*m ? "true" : "false");
        } else if constexpr (std::is_same_v<T, std::vector<int64_t>>) {
          os << "[";
          for (size_t i = 0; i < (c.*m).size(); ++i) os << (i ? ", " : "") << (c.*m)[i];
          os << "]";
        } else if constexpr (std::is_same_v<T, std::vector<std::string>>) {
          os << "[";
          for (size_t i = 0; i < (c.*m).size(); ++i) {
            os << (i ? ", " : "") << quoted((c.*m)[i]);
          }
          os << "]";
        } else {
          if (c.*m) os << fmt(*(c.*m));
          else os << "\"none\"";
        }
        return os.str();
      },
      f.member);
}

// The help text, with the allowed values where the row names their table.
std::string help_of(const Field& f) {
  if (f.choices == nullptr) return f.help;
  std::string list;
  for (const auto& v : f.choices()) list += (list.empty() ? "" : ", ") + v;
  return std::string(f.help) + ": " + list;
}

// What a flag's value looks like in --help.
const char* flag_type(const Field& f) {
  const std::string t = type_of(f);
  if (t == "integer") return "INT";
  if (t == "number") return "NUMBER";
  if (t == "boolean") return "true|false";
  if (t == "array of integers") return "INT,INT,...";
  if (t == "array of strings") return "TEXT,TEXT,...";
  if (t == "string") return "TEXT";
  return "NUMBER|none";
}

}  // namespace

const std::string& default_preset() {
  static const std::string p = "delay-mlp";
  return p;
}

RunConfig defaults(const std::string& preset) {
  if (const auto e = one_of(preset, preset_names()); !e.empty()) bad("", "model.preset " + e);
  RunConfig c;
  for (const auto& f : table()) {
    assign_literal(f, f.default_value, c);
    for (const auto& [p, v] : f.presets) {
      if (p == preset) assign_literal(f, v, c);
    }
  }
  c.preset = preset;
  return c;
}

void read_config(const std::string& path, RunConfig& c) {
  toml::table t;
  const std::string where = "config " + path;
  try {
    t = toml::parse_file(path);
  } catch (const toml::parse_error& e) {
    std::ostringstream os;
    os << e.description() << " (line " << e.source().begin.line << ")";
    bad(where, os.str());
  }
  for (const auto& [section, node] : t) {
    const std::string s(section.str());
    const bool known = std::find(std::begin(kSections), std::end(kSections), s) != std::end(kSections);
    if (!known || !node.is_table()) {
      bad(where, "unknown section [" + s + "]; allowed: data, model, train");
    }
    for (const auto& [key, value] : *node.as_table()) {
      const std::string k(key.str());
      const auto& fields = table();
      const auto it = std::find_if(fields.begin(), fields.end(), [&](const Field& f) {
        return f.section == s && f.key == k;
      });
      if (it == fields.end()) {
        std::string allowed;
        for (const auto& f : fields) {
          if (f.section == s) allowed += (allowed.empty() ? "" : ", ") + std::string(f.key);
        }
        bad(where, "unknown key " + s + "." + k + "; allowed in [" + s + "]: " + allowed);
      }
      assign(*it, value, c, where);
    }
  }
}

std::string preset_of(const std::string& path, const std::string& otherwise) {
  if (path.empty()) return otherwise;
  try {
    const auto t = toml::parse_file(path);
    if (const auto p = t["model"]["preset"].value<std::string>()) return *p;
  } catch (const toml::parse_error&) {
  }
  return otherwise;  // read_config names what is wrong with the file
}

void validate(const RunConfig& c) {
  for (const auto& f : table()) {
    if (f.choices != nullptr) {
      const auto& value = c.*std::get<std::string RunConfig::*>(f.member);
      if (const auto e = one_of(value, f.choices()); !e.empty()) bad("", name_of(f) + " " + e);
    }
    if (!f.check) continue;
    if (const auto e = f.check(c); !e.empty()) bad("", name_of(f) + " " + e);
  }
}

snn::train::PresetNeurons preset_neurons(const RunConfig& c) {
  auto n = snn::train::PresetNeurons()
               .kind(snn::train::parse_neuron_kind(c.neuron))
               .tau_mem(c.tau_mem)
               .tau_adapt(c.tau_adapt)
               .adapt_scale(c.adapt_scale)
               .norm_input(c.norm_input)
               .tau_syn(c.tau_syn)
               .spike_threshold(c.threshold)
               .min_v_mem(c.min_v_mem)
               .reset_fn(snn::parse_reset_fn(c.reset_fn));
  if (c.spike_fn != "auto") n.spike_fn(snn::parse_spike_fn(c.spike_fn));
  if (c.surrogate != "auto") n.surrogate(snn::parse_surrogate(c.surrogate));
  return n;
}

std::string to_toml(const RunConfig& c) {
  std::ostringstream os;
  os << "# written by snn: the configuration this run used (snn config keys lists every key)\n";
  for (const char* section : kSections) {
    os << "\n[" << section << "]\n";
    for (const auto& f : table()) {
      if (std::string(f.section) == section) os << f.key << " = " << toml_value(f, c) << "\n";
    }
  }
  return os.str();
}

std::string keys_markdown() {
  std::ostringstream os;
  os << "| key | type | default | presets | flag | meaning |\n|---|---|---|---|---|---|\n";
  for (const auto& f : table()) {
    std::string p;
    for (const auto& [name, v] : f.presets) {
      p += (p.empty() ? "" : ", ") + std::string(name) + ": `" + v + "`";
    }
    os << "| `" << name_of(f) << "` | " << type_of(f) << " | `" << f.default_value << "` | "
       << p << " | " << (f.flag ? "`" + std::string(f.flag) + "`" : std::string()) << " | "
       << help_of(f) << " |\n";
  }
  return os.str();
}

void add_flags(CLI::App* command, FlagValues& values, bool with_train_only,
               const std::vector<std::string>& only) {
  const auto& fields = table();
  values.text.assign(fields.size(), "");
  values.options.assign(fields.size(), nullptr);
  for (size_t i = 0; i < fields.size(); ++i) {
    const auto& f = fields[i];
    if (f.flag == nullptr || (f.train_only && !with_train_only)) continue;
    if (!only.empty() && std::find(only.begin(), only.end(), name_of(f)) == only.end()) continue;
    values.options[i] =
        command->add_option(f.flag, values.text[i], help_of(f) + " [" + name_of(f) + "]");
    values.options[i]->type_name(flag_type(f));
  }
}

void apply_flags(const FlagValues& values, RunConfig& c) {
  const auto& fields = table();
  for (size_t i = 0; i < values.options.size(); ++i) {
    if (values.options[i] != nullptr && values.options[i]->count() > 0) {
      assign_flag(fields[i], values.text[i], c);
    }
  }
}

bool any_flag(const FlagValues& values) {
  return std::any_of(values.options.begin(), values.options.end(),
                     [](const CLI::Option* o) { return o != nullptr && o->count() > 0; });
}

namespace {

// The text of the flag of `key` ("model.preset"), when it was given.
std::optional<std::string> given_flag(const FlagValues& values, const std::string& key) {
  const auto& fields = table();
  for (size_t i = 0; i < values.options.size(); ++i) {
    if (values.options[i] != nullptr && values.options[i]->count() > 0 &&
        name_of(fields[i]) == key) {
      return values.text[i];
    }
  }
  return std::nullopt;
}

}  // namespace

bool flag_given(const FlagValues& values, const std::string& key) {
  return given_flag(values, key).has_value();
}

std::optional<std::string> preset_flag(const FlagValues& values) {
  return given_flag(values, "model.preset");
}

}  // namespace snn_cli
