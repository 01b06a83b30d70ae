// The cochlear front end (see snn/audio/cochlea.h): resampling, a complex one-pole cascade
// filterbank, half-wave rectification and compression, integrate-and-fire units.
#include "snn/audio/cochlea.h"

#include "util/target_clones.h"

#include <c10/util/Exception.h>
#include <sndfile.h>

#include <algorithm>
#include <filesystem>
#include <set>
#include <cctype>
#include <cmath>
#include <cstdint>
#include <cstring>

namespace snn::audio {
namespace {

constexpr const char* kWhat = "snn::audio";
// One-pole stages of each channel's band-pass.
constexpr int kStages = 4;

double bessel_i0(double x) {
  double sum = 1, term = 1;
  for (int k = 1; k < 50; ++k) {
    term *= (x / (2 * k)) * (x / (2 * k));
    sum += term;
    if (term < 1e-17 * sum) break;
  }
  return sum;
}

void check_options(const CochleaOptions& o) {
  TORCH_CHECK(o.channels() >= 1 && o.channels() <= 32767, kWhat,
              ": channels must be in [1, 32767], got ", o.channels());
  TORCH_CHECK(o.min_frequency() > 0 && o.max_frequency() > o.min_frequency(), kWhat,
              ": expected 0 < min_frequency < max_frequency, got ", o.min_frequency(), " and ",
              o.max_frequency());
  TORCH_CHECK(o.sample_rate() > 2 * o.max_frequency(), kWhat, ": sample_rate ", o.sample_rate(),
              " Hz must exceed twice max_frequency (", o.max_frequency(), " Hz)");
  TORCH_CHECK(o.bandwidth_scale() > 0 && o.spike_gain() > 0 && o.leak() > 0 && o.leak() <= 1,
              kWhat, ": expected bandwidth_scale > 0, spike_gain > 0 and 0 < leak <= 1, got ",
              o.bandwidth_scale(), ", ", o.spike_gain(), ", ", o.leak());
}

}  // namespace

std::vector<double> centre_frequencies(const CochleaOptions& o) {
  check_options(o);
  std::vector<double> f(o.channels());
  const double lo = std::log(o.min_frequency()), hi = std::log(o.max_frequency());
  for (int64_t c = 0; c < o.channels(); ++c) {
    const double u = o.channels() == 1 ? 0.0 : static_cast<double>(c) / (o.channels() - 1);
    f[c] = std::exp(lo + (hi - lo) * u);
  }
  return f;
}

std::vector<float> resample(const std::vector<float>& x, double from, double to) {
  TORCH_CHECK(from > 0 && to > 0, kWhat, ": sample rates must be > 0, got ", from, " and ", to);
  if (from == to || x.empty()) return x;
  const double ratio = to / from;
  const double cutoff = 0.5 * std::min(1.0, ratio) * 0.97;  // cycles per input sample
  const double half_width = 16.0 / std::min(1.0, ratio);    // input samples
  // The kernel h(d) = 2·cutoff·sinc(2·cutoff·d)·kaiser(d / half_width), tabulated at
  // kSteps points per input sample and interpolated linearly.
  constexpr int kSteps = 512;
  const double beta = 8.0, norm = bessel_i0(beta);
  const auto table_size = static_cast<int64_t>(std::ceil(half_width * kSteps)) + 2;
  std::vector<double> table(table_size);
  for (int64_t i = 0; i < table_size; ++i) {
    const double d = static_cast<double>(i) / kSteps, u = d / half_width;
    const double window = u < 1 ? bessel_i0(beta * std::sqrt(1 - u * u)) / norm : 0.0;
    const double arg = 2 * cutoff * d;
    const double sinc = arg == 0 ? 1.0 : std::sin(M_PI * arg) / (M_PI * arg);
    table[i] = 2 * cutoff * sinc * window;
  }
  const auto n_out = static_cast<int64_t>(std::floor(static_cast<double>(x.size()) * ratio));
  std::vector<float> y(std::max<int64_t>(n_out, 0));
  const auto n_in = static_cast<int64_t>(x.size());
  for (int64_t n = 0; n < n_out; ++n) {
    const double t = static_cast<double>(n) / ratio;
    const auto k0 = std::max<int64_t>(0, static_cast<int64_t>(std::ceil(t - half_width)));
    const auto k1 = std::min<int64_t>(n_in - 1, static_cast<int64_t>(std::floor(t + half_width)));
    double acc = 0;
    for (int64_t k = k0; k <= k1; ++k) {
      const double pos = std::abs(t - static_cast<double>(k)) * kSteps;
      const auto i = static_cast<int64_t>(pos);
      if (i + 1 >= table_size) continue;
      const double f = pos - static_cast<double>(i);
      acc += x[k] * (table[i] + f * (table[i + 1] - table[i]));
    }
    y[n] = static_cast<float>(acc);
  }
  return y;
}

// One step of every channel's filter cascade and spiking unit for input sample `in`; the
// channel loops are plain arrays, vectorised and cloned per instruction set.
SNN_TARGET_CLONES static void cochlea_step(float in, int64_t C, const float* __restrict g,
                                    const float* __restrict pr, const float* __restrict pi,
                                    float* __restrict yr, float* __restrict yi,
                                    float* __restrict v, float* __restrict spikes,
                                    float floor_level, float gain, float leak,
                                    uint8_t* __restrict fired) {
  // Stage 1 takes the real input; stages 2-4 the previous stage's complex output.
  for (int64_t c = 0; c < C; ++c) {
    const float re = g[c] * in + (pr[c] * yr[c] - pi[c] * yi[c]);
    const float im = pr[c] * yi[c] + pi[c] * yr[c];
    yr[c] = re;
    yi[c] = im;
  }
  for (int s = 1; s < kStages; ++s) {
    const float* __restrict r_in = yr + (s - 1) * C;
    const float* __restrict i_in = yi + (s - 1) * C;
    float* __restrict rs = yr + s * C;
    float* __restrict is = yi + s * C;
    for (int64_t c = 0; c < C; ++c) {
      const float re = g[c] * r_in[c] + (pr[c] * rs[c] - pi[c] * is[c]);
      const float im = g[c] * i_in[c] + (pr[c] * is[c] + pi[c] * rs[c]);
      rs[c] = re;
      is[c] = im;
    }
  }
  const float* __restrict out = yr + (kStages - 1) * C;
  // Branch-free, so that it vectorises: max(a, 0) as (a + |a|)/2, which is exact.
  for (int64_t c = 0; c < C; ++c) {
    const float y = 0.5f * (out[c] + __builtin_fabsf(out[c]));
    const float r = __builtin_sqrtf(__builtin_sqrtf(y));
    const float d = r - floor_level;
    const float drive = 0.5f * (d + __builtin_fabsf(d));
    const float vc = leak * v[c] + gain * drive;
    const float spike = vc >= 1.0f ? 1.0f : 0.0f;
    v[c] = vc - spike;
    spikes[c] = spike;
  }
  for (int64_t c = 0; c < C; ++c) fired[c] = spikes[c] != 0.0f;
}

events::Events encode_audio(const std::vector<float>& samples, double sample_rate,
                            const CochleaOptions& o) {
  check_options(o);
  TORCH_CHECK(sample_rate > 0, kWhat, ": the sample rate must be > 0, got ", sample_rate);
  std::vector<float> x = resample(samples, sample_rate, o.sample_rate());
  // Unit RMS.
  double energy = 0;
  for (float v : x) energy += static_cast<double>(v) * v;
  const double rms = x.empty() ? 0.0 : std::sqrt(energy / static_cast<double>(x.size()));
  events::Events out(events::SensorSize{o.channels(), 1, 1}, /*has_y=*/false);
  if (rms == 0) return out;
  const float scale = static_cast<float>(1.0 / rms);

  const int64_t C = o.channels();
  const auto fc = centre_frequencies(o);
  const double fs = o.sample_rate();
  std::vector<float> pr(C), pi(C), g(C);
  for (int64_t c = 0; c < C; ++c) {
    const double erb = 24.7 * (4.37 * fc[c] / 1000.0 + 1.0);
    const double a = std::exp(-2 * M_PI * o.bandwidth_scale() * erb / fs);
    const double w = 2 * M_PI * fc[c] / fs;
    pr[c] = static_cast<float>(a * std::cos(w));
    pi[c] = static_cast<float>(a * std::sin(w));
    g[c] = static_cast<float>(1 - a);
  }
  std::vector<float> yr(kStages * C, 0.0f), yi(kStages * C, 0.0f), v(C, 0.0f), spikes(C);
  const float floor_level = static_cast<float>(o.floor()), gain = static_cast<float>(o.spike_gain());
  const float leak = static_cast<float>(o.leak());
  const int64_t N = static_cast<int64_t>(x.size());
  std::vector<uint8_t> fired(static_cast<size_t>(N * C));
  for (int64_t n = 0; n < N; ++n) {
    cochlea_step(x[n] * scale, C, g.data(), pr.data(), pi.data(), yr.data(), yi.data(), v.data(),
                 spikes.data(), floor_level, gain, leak, fired.data() + n * C);
  }
  int64_t count = 0;
  for (uint8_t f : fired) count += f;
  out.resize(count);
  int64_t k = 0;
  for (int64_t n = 0; n < N; ++n) {
    const uint8_t* row = fired.data() + n * C;
    const auto t_us = static_cast<int64_t>(std::floor(static_cast<double>(n) * 1e6 / fs));
    for (int64_t c = 0; c < C; ++c) {
      if (c + 8 <= C) {  // skip eight silent channels at a time
        uint64_t word;
        std::memcpy(&word, row + c, 8);
        if (word == 0) {
          c += 7;
          continue;
        }
      }
      if (row[c] == 0) continue;
      out.t[k] = t_us;
      out.x[k] = static_cast<int16_t>(c);
      out.y[k] = 0;
      out.p[k] = 1;
      ++k;
    }
  }
  return out;
}

std::vector<float> read_audio(const std::string& path, double& sample_rate) {
  SF_INFO info{};
  SNDFILE* f = sf_open(path.c_str(), SFM_READ, &info);
  TORCH_CHECK(f != nullptr, kWhat, ": cannot read audio file ", path, ": ", sf_strerror(nullptr));
  std::vector<float> interleaved(static_cast<size_t>(info.frames) * info.channels);
  const sf_count_t got = sf_readf_float(f, interleaved.data(), info.frames);
  sf_close(f);
  TORCH_CHECK(got == info.frames, kWhat, ": ", path, ": read ", got, " of ", info.frames,
              " frames (truncated file?)");
  TORCH_CHECK(info.samplerate > 0 && info.channels > 0, kWhat, ": ", path,
              ": no sample rate or channels in the header");
  std::vector<float> mono(static_cast<size_t>(info.frames));
  for (sf_count_t i = 0; i < info.frames; ++i) {
    float s = 0;
    for (int ch = 0; ch < info.channels; ++ch) s += interleaved[i * info.channels + ch];
    mono[i] = s / static_cast<float>(info.channels);
  }
  sample_rate = info.samplerate;
  return mono;
}

bool is_sound_file(const std::string& path) {
  static const std::set<std::string> kExtensions = {".wav", ".flac", ".ogg", ".oga", ".aif",
                                                     ".aiff", ".aifc", ".au", ".snd", ".caf",
                                                     ".w64", ".mp3", ".opus"};
  std::string ext = std::filesystem::path(path).extension().string();
  std::transform(ext.begin(), ext.end(), ext.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return kExtensions.count(ext) > 0;
}

std::vector<std::string> list_sound_files(const std::string& folder) {
  namespace fs = std::filesystem;
  const fs::path root(folder);
  TORCH_CHECK(fs::is_directory(root), folder, " is not a folder (of sound files)");
  std::vector<std::string> files;
  for (auto it = fs::recursive_directory_iterator(root); it != fs::recursive_directory_iterator();
       ++it) {
    const auto name = it->path().filename().string();
    if (!name.empty() && name.front() == '.') {
      if (it->is_directory()) it.disable_recursion_pending();
      continue;
    }
    if (it->is_regular_file() && is_sound_file(it->path().string())) {
      files.push_back(fs::relative(it->path(), root).generic_string());
    }
  }
  TORCH_CHECK(!files.empty(), "no sound files (.wav, .flac, .ogg, .aiff, .au, .mp3, ...) in ",
              folder);
  std::sort(files.begin(), files.end());
  return files;
}

}  // namespace snn::audio
