// The tutorial presets: the SHD MLP and SHD-layout files binned into frames.
#include "snn/train/presets.h"

#include <ATen/ATen.h>
#include <c10/util/Exception.h>
#include <torch/nn/modules/conv.h>
#include <torch/nn/modules/linear.h>
#include <torch/nn/modules/container/any.h>
#include <torch/nn/modules/pooling.h>

#include <algorithm>
#include <cctype>
#include <cmath>
#include <optional>
#include <variant>

#include "snn/events/io.h"
#include "snn/events/transforms.h"
#include "snn/nn/alif.h"
#include "snn/nn/delay.h"
#include "snn/nn/lif.h"
#include "snn/nn/structural.h"
#include "snn/snntorch/neurons.h"

namespace snn::train {

namespace {

// Adding a kind: one row here and one case in make_neuron.
struct KindRow {
  NeuronKind kind;
  const char* name;   // the configuration's
  const char* title;  // its library's
};
const std::vector<KindRow>& kinds() {
  static const std::vector<KindRow> table = {
      {NeuronKind::IAF, "iaf", "IAF"},
      {NeuronKind::LIF, "lif", "LIF"},
      {NeuronKind::ALIF, "alif", "ALIF"},
      {NeuronKind::Leaky, "leaky", "Leaky"},
      {NeuronKind::Synaptic, "synaptic", "Synaptic"},
      {NeuronKind::Lapicque, "lapicque", "Lapicque"},
      {NeuronKind::Alpha, "alpha", "Alpha"},
      {NeuronKind::RLeaky, "rleaky", "RLeaky"},
      {NeuronKind::RSynaptic, "rsynaptic", "RSynaptic"}};
  return table;
}

const KindRow& row(NeuronKind kind) {
  for (const auto& r : kinds()) {
    if (r.kind == kind) return r;
  }
  TORCH_INTERNAL_ASSERT(false, "unknown neuron kind");
}

}  // namespace

NeuronKind parse_neuron_kind(const std::string& name) {
  std::string n = name;
  std::transform(n.begin(), n.end(), n.begin(), [](unsigned char c) { return std::tolower(c); });
  std::string known;
  for (const auto& r : kinds()) {
    if (r.name == n) return r.kind;
    known += (known.empty() ? "" : ", ") + std::string(r.name);
  }
  TORCH_CHECK(false, "snn::train: neuron must be one of ", known, ", got \"", name, "\"");
}

std::string neuron_kind_name(NeuronKind kind) { return row(kind).name; }

std::string neuron_kind_title(NeuronKind kind) { return row(kind).title; }

std::vector<std::string> neuron_kind_names() {
  std::vector<std::string> names;
  for (const auto& r : kinds()) names.emplace_back(r.name);
  return names;
}

std::vector<std::string> default_comparison() { return {"iaf", "lif", "alif"}; }

bool is_snntorch_kind(NeuronKind kind) {
  return kind != NeuronKind::IAF && kind != NeuronKind::LIF && kind != NeuronKind::ALIF;
}

namespace {

}  // namespace

void check_neurons(const PresetNeurons& n) {
  const char* what = "neurons";
  TORCH_CHECK(n.tau_mem() > 0 && n.tau_adapt() > 0 && n.tau_syn().value_or(1.0) > 0,
              "snn::train::", what, ": time constants must be > 0, got tau_mem ", n.tau_mem(),
              ", tau_adapt ", n.tau_adapt(), " and tau_syn ", n.tau_syn().value_or(1.0));
  if (!is_snntorch_kind(n.kind())) return;
  const std::string kind = neuron_kind_name(n.kind());
  TORCH_CHECK(!n.spike_fn() || std::holds_alternative<HeavisideSpike>(*n.spike_fn()),
              "snn::train::", what, ": ", kind,
              " (snnTorch) spikes with HeavisideSpike(); got spike_fn ", to_string(*n.spike_fn()));
  TORCH_CHECK(!n.min_v_mem(), "snn::train::", what, ": ", kind,
              " (snnTorch) has no lower bound of the membrane; got min_v_mem ", *n.min_v_mem());
  const auto* subtract = std::get_if<MembraneSubtract>(&n.reset_fn());
  const auto* zero = std::get_if<MembraneReset>(&n.reset_fn());
  TORCH_CHECK((subtract && !subtract->subtract_value) || (zero && zero->reset_value == 0) ||
                  std::holds_alternative<NoReset>(n.reset_fn()),
              "snn::train::", what, ": ", kind, " (snnTorch) resets by MembraneSubtract() (the "
              "threshold), MembraneReset(reset_value=0) or NoReset(); got ", to_string(n.reset_fn()));
  const bool synapse = n.kind() == NeuronKind::Synaptic || n.kind() == NeuronKind::RSynaptic ||
                       n.kind() == NeuronKind::Alpha;
  TORCH_CHECK(synapse || !n.tau_syn(), "snn::train::", what, ": ", kind,
              " (snnTorch) has no synapse; got tau_syn ", n.tau_syn().value_or(0),
              " (synaptic, rsynaptic and alpha have one)");
  TORCH_CHECK(n.kind() != NeuronKind::Alpha || n.tau_syn().value_or(0) < n.tau_mem(),
              "snn::train::", what, ": alpha needs tau_syn < tau_mem (snnTorch's alpha > beta); "
              "got tau_syn ", n.tau_syn().value_or(0), " and tau_mem ", n.tau_mem());
}

namespace {

// snnTorch's options from the preset's: the decays, threshold, reset and surrogate.
template <typename Options>
Options snntorch_common(Options o, const PresetNeurons& n) {
  const char* reset = std::holds_alternative<MembraneSubtract>(n.reset_fn()) ? "subtract"
                      : std::holds_alternative<MembraneReset>(n.reset_fn())  ? "zero"
                                                                             : "none";
  o.threshold(n.spike_threshold()).reset_mechanism(reset).record_states(n.record_states());
  if (n.surrogate()) o.spike_grad(*n.surrogate());
  return o;
}

// A recurrent snnTorch layer's connection: a Linear over `features` or a Conv2d 3×3 over
// the channels `features` of a convolutional network.
template <typename Options>
Options snntorch_recurrent(Options o, int64_t features, bool conv) {
  if (conv) return o.conv2d_channels(features).kernel_size(3);
  return o.linear_features(features);
}

torch::nn::AnyModule make_snntorch_neuron(const PresetNeurons& n, int64_t features, bool conv) {
  namespace st = snn::snntorch;
  const double beta = std::exp(-1.0 / n.tau_mem());
  const double syn = std::exp(-1.0 / n.tau_syn().value_or(n.tau_mem() / 2));
  switch (n.kind()) {
    case NeuronKind::Leaky:
      return torch::nn::AnyModule(st::Leaky(snntorch_common(st::LeakyOptions(beta), n)));
    case NeuronKind::Synaptic:
      return torch::nn::AnyModule(st::Synaptic(snntorch_common(st::SynapticOptions(syn, beta), n)));
    case NeuronKind::Lapicque:
      return torch::nn::AnyModule(st::Lapicque(snntorch_common(st::LapicqueOptions().beta(beta), n)));
    case NeuronKind::Alpha:
      return torch::nn::AnyModule(st::Alpha(snntorch_common(st::AlphaOptions(beta, syn), n)));
    case NeuronKind::RLeaky:
      return torch::nn::AnyModule(st::RLeaky(
          snntorch_recurrent(snntorch_common(st::RLeakyOptions(beta), n), features, conv)));
    case NeuronKind::RSynaptic:
      return torch::nn::AnyModule(st::RSynaptic(snntorch_recurrent(
          snntorch_common(st::RSynapticOptions(syn, beta), n), features, conv)));
    default:
      TORCH_INTERNAL_ASSERT(false, "not an snnTorch kind: ", neuron_kind_name(n.kind()));
  }
}

// The options every kind shares, set on a layer's options.
template <typename Options>
Options with_common(Options o, const PresetNeurons& n) {
  if (n.tau_syn()) o.tau_syn(snn::TimeConstant(*n.tau_syn()));
  o.spike_threshold(n.spike_threshold())
      .reset_fn(n.reset_fn())
      .surrogate(n.surrogate().value_or(SingleExponential{}))
      .min_v_mem(n.min_v_mem())
      .record_states(n.record_states());
  if (n.spike_fn()) o.spike_fn(*n.spike_fn());
  return o;
}

// A neuron layer of `features` neurons (a convolutional network's: channels).
torch::nn::AnyModule make_neuron(const PresetNeurons& n, int64_t features, bool conv = false) {
  if (is_snntorch_kind(n.kind())) return make_snntorch_neuron(n, features, conv);
  switch (n.kind()) {
    case NeuronKind::LIF:
      return torch::nn::AnyModule(
          snn::LIF(with_common(snn::LIFOptions(n.tau_mem()).norm_input(n.norm_input()), n)));
    case NeuronKind::ALIF:
      return torch::nn::AnyModule(snn::ALIF(with_common(snn::ALIFOptions(n.tau_mem(), n.tau_adapt())
                                                            .adapt_scale(n.adapt_scale())
                                                            .norm_input(n.norm_input()),
                                                        n)));
    default:
      break;
  }
  return torch::nn::AnyModule(snn::IAF(with_common(snn::IAFOptions(), n)));
}

}  // namespace

torch::nn::Sequential shd_mlp(const MLPOptions& o) {
  TORCH_CHECK(o.inputs() >= 1 && o.hidden() >= 1 && o.outputs() >= 1,
              "snn::train::shd_mlp: layer sizes must be >= 1, got ", o.inputs(), ", ", o.hidden(),
              ", ", o.outputs());
  check_neurons(o.neurons());
  auto neuron = [&](int64_t features) { return make_neuron(o.neurons(), features); };
  // A delay line (if any) and the Linear behind it, which sees every delayed copy.
  torch::nn::Sequential model;
  auto synapses = [&](int64_t in, int64_t out, const std::vector<int64_t>& delays) {
    if (!delays.empty()) model->push_back(snn::DelayLine(delays));
    model->push_back(torch::nn::Linear(
        torch::nn::LinearOptions(in * std::max<int64_t>(1, delays.size()), out).bias(o.bias())));
  };
  synapses(o.inputs(), o.hidden(), o.delays());
  model->push_back(neuron(o.hidden()));
  synapses(o.hidden(), o.hidden(), o.hidden_delays());
  model->push_back(neuron(o.hidden()));
  model->push_back(torch::nn::Linear(torch::nn::LinearOptions(o.hidden(), o.outputs()).bias(o.bias())));
  model->push_back(neuron(o.outputs()));
  return model;
}

torch::nn::Sequential tutorial_conv_snn(int64_t batch_size, bool average_pool) {
  TORCH_CHECK(batch_size >= 1, "snn::train::tutorial_conv_snn: batch_size must be >= 1, got ",
              batch_size);
  auto iaf = [&] {
    return snn::IAFSqueeze(snn::IAFOptions().min_v_mem(-1.0),
                           snn::SqueezeOptions().batch_size(batch_size));
  };
  auto pool = [&]() -> torch::nn::AnyModule {
    if (average_pool) return torch::nn::AnyModule(torch::nn::AvgPool2d(2));
    return torch::nn::AnyModule(snn::SumPool2d(2));
  };
  using torch::nn::Conv2dOptions;
  torch::nn::Sequential m;
  m->push_back(snn::FlattenTime());
  m->push_back(torch::nn::Conv2d(Conv2dOptions(1, 16, 5).bias(false)));
  m->push_back(iaf());
  m->push_back(pool());
  m->push_back(torch::nn::Conv2d(Conv2dOptions(16, 32, 5).bias(false)));
  m->push_back(iaf());
  m->push_back(pool());
  m->push_back(torch::nn::Conv2d(Conv2dOptions(32, 120, 4).bias(false)));
  m->push_back(iaf());
  m->push_back(torch::nn::Flatten());
  m->push_back(torch::nn::Linear(torch::nn::LinearOptions(120, 10).bias(false)));
  m->push_back(iaf());
  m->push_back(snn::UnflattenTime(batch_size));
  return m;
}

torch::nn::Sequential dvs_conv(const ConvOptions& o) {
  TORCH_CHECK(o.channels() >= 1 && o.height() >= 8 && o.width() >= 8 && o.outputs() >= 1,
              "snn::train::dvs_conv: expected channels >= 1, height and width >= 8 and outputs "
              ">= 1, got ", o.channels(), ", ", o.height(), "x", o.width(), ", ", o.outputs());
  check_neurons(o.neurons());
  using torch::nn::AnyModule;
  torch::nn::Sequential m;
  int64_t in = o.channels(), h = o.height(), w = o.width();
  for (const int64_t out : {16, 32, 64}) {
    m->push_back(snn::Repeat(AnyModule(
        torch::nn::Conv2d(torch::nn::Conv2dOptions(in, out, 3).padding(1).bias(false)))));
    m->push_back(make_neuron(o.neurons(), out, /*conv=*/true));
    m->push_back(snn::Repeat(AnyModule(snn::SumPool2d(2))));
    in = out;
    h /= 2;
    w /= 2;
  }
  m->push_back(snn::Repeat(AnyModule(torch::nn::Flatten())));
  m->push_back(torch::nn::Linear(in * h * w, o.outputs()));
  m->push_back(make_neuron(o.neurons(), o.outputs()));
  return m;
}

Dataset event_frames(const data::EventDataset& dataset, int64_t time_bins, double spatial_factor) {
  TORCH_CHECK(time_bins >= 1 && spatial_factor > 0 && spatial_factor <= 1,
              "snn::train::event_frames: expected time_bins >= 1 and 0 < spatial_factor <= 1, got ",
              time_bins, " and ", spatial_factor);
  const int64_t n = dataset.size();
  TORCH_CHECK(n > 0, "snn::train::event_frames: ", dataset.repr(), " holds no samples");
  std::optional<events::Downsample> down;
  if (spatial_factor != 1.0) {
    down.emplace(events::DownsampleOptions().spatial_factor(
        events::RealPair{spatial_factor, spatial_factor}));
  }
  const events::ToFrame frame(events::ToFrameOptions().n_time_bins(time_bins));
  at::Tensor inputs;
  std::vector<int64_t> labels(n);
  events::Rng rng(0);
  for (int64_t i = 0; i < n; ++i) {
    auto e = dataset.events(i);
    if (down) e = down->apply(e, rng);
    const auto f = frame.apply(e);  // [time_bins, polarities, H, W]
    if (!inputs.defined()) {
      auto shape = f.sizes().vec();
      shape.insert(shape.begin(), n);
      inputs = at::zeros(shape, at::kByte);
    }
    TORCH_CHECK(f.sizes() == inputs.sizes().slice(1), "snn::train::event_frames: sample ", i,
                " of ", dataset.repr(), " has frames ", f.sizes(), ", sample 0 ",
                inputs.sizes().slice(1));
    inputs[i].copy_(f.clamp(0, 255));
    labels[i] = dataset.label(i);
  }
  return {inputs, at::tensor(labels, at::kLong)};
}

namespace {

// One audio sample's frames [time_bins, channels] (see hsd_frames).
at::Tensor audio_sample_frames(const events::Events& events, int64_t channels, int64_t time_bins,
                               int64_t bin_ms) {
  const events::Downsample down(
      events::DownsampleOptions().target_size(events::IntPair{channels, 1}));
  events::Rng rng(0);
  auto e = down.apply(events, rng);
  if (e.empty()) return at::zeros({time_bins, channels});  // silence: no spikes
  if (bin_ms > 0) {
    const int64_t ms_frames = time_bins * bin_ms;  // 1-ms frames before the summing
    const events::CropTime crop(events::CropTimeOptions().max(ms_frames * 1000));
    const events::ToFrame frame(events::ToFrameOptions().time_window(1000.0));
    const auto f = frame.apply(crop.apply(e, rng)).reshape({-1, channels});  // [frames, C]
    const int64_t k = std::min<int64_t>(f.size(0), ms_frames);
    auto padded = at::zeros({ms_frames, channels}, f.options());
    padded.slice(0, 0, k).copy_(f.slice(0, 0, k));
    return padded.reshape({time_bins, bin_ms, channels}).sum(1);
  }
  const events::ToFrame frame(events::ToFrameOptions().n_time_bins(time_bins));
  return frame.apply(e).reshape({time_bins, channels});  // [time_bins, 1, C]
}

void check_frame_shape(const char* what, int64_t channels, int64_t time_bins, int64_t bin_ms) {
  TORCH_CHECK(channels >= 1 && channels <= 700 && time_bins >= 1 && bin_ms >= 0, what,
              ": expected 1 <= channels <= 700, time_bins >= 1 and bin_ms >= 0, got ", channels,
              ", ", time_bins, " and ", bin_ms);
}

}  // namespace

Dataset hsd_frames(const std::string& path, int64_t channels, int64_t time_bins, int64_t bin_ms) {
  check_frame_shape("snn::train::hsd_frames", channels, time_bins, bin_ms);
  events::HSDFile file(path);
  const int64_t n = file.size();
  auto inputs = at::zeros({n, time_bins, channels});
  std::vector<int64_t> labels(n);
  for (int64_t i = 0; i < n; ++i) {
    inputs[i].copy_(audio_sample_frames(file.events(i), channels, time_bins, bin_ms));
    labels[i] = file.label(i);
  }
  return {inputs, at::tensor(labels, at::kLong)};
}

Dataset audio_frames(const std::vector<events::Events>& samples,
                     const std::vector<int64_t>& labels, int64_t channels, int64_t time_bins,
                     int64_t bin_ms) {
  check_frame_shape("snn::train::audio_frames", channels, time_bins, bin_ms);
  TORCH_CHECK(samples.size() == labels.size(), "snn::train::audio_frames: ", samples.size(),
              " samples but ", labels.size(), " labels");
  const auto n = static_cast<int64_t>(samples.size());
  auto inputs = at::zeros({n, time_bins, channels});
  for (int64_t i = 0; i < n; ++i) {
    inputs[i].copy_(audio_sample_frames(samples[i], channels, time_bins, bin_ms));
  }
  return {inputs, at::tensor(labels, at::kLong)};
}

}  // namespace snn::train
