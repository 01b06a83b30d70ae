// The embedded spoken-digits dataset (see snn/data/spoken_digits.h): eSpeak NG in forked
// processes, noise and gain, the cochlea, SHD's HDF5 layout.
#include "snn/data/spoken_digits.h"
#include "snn/io/files.h"

#include <c10/util/Exception.h>
#include <dlfcn.h>
#include <espeak-ng/speak_lib.h>
#include <fcntl.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <memory>
#include <mutex>
#include <sstream>
#include <thread>

#include "snn/events/io.h"
#include "util/atomic_file.h"

namespace snn::data {
namespace {

constexpr const char* kWhat = "snn::data::make_spoken_digits";
// Bump when anything that decides the files' bytes changes.
constexpr int kGeneratorVersion = 3;

const char* const kEnglish[10] = {"zero", "one", "two",   "three", "four",
                                  "five", "six", "seven", "eight", "nine"};
const char* const kGerman[10] = {"null", "eins", "zwei",   "drei", "vier",
                                 "f\xc3\xbc" "nf", "sechs", "sieben", "acht", "neun"};

// eSpeak NG's voice variants, ordered so that any prefix mixes male, female and other
// voices (the robotic and whispering variants are left out: no speaker sounds like them).
const std::vector<std::string>& voices() {
  static const std::vector<std::string> v = {
      "m1",      "f1",      "m2",     "f2",       "m3",      "f3",      "m4",      "f4",
      "m5",      "f5",      "m6",     "klatt",    "m7",      "klatt2",  "m8",      "klatt3",
      "Andy",    "Annie",   "Alex",   "Alicia",   "Denis",   "Andrea",  "Gene",    "aunty",
      "Hugo",    "belinda", "Jacky",  "linda",    "Lee",     "anika",   "Marco",   "grandma",
      "Mario",   "steph",   "Michael", "steph2",  "Mike",    "steph3",  "adam",    "shelby",
      "antonio", "Storm",   "benjamin", "klatt4", "boris",   "caleb",   "david",   "ed",
      "edward",  "john",    "max",    "norbert",  "paul",    "pedro",   "quincy",  "rob",
      "robert",  "travis",  "victor", "zac",      "Gene2",   "Henrique", "Diogo",  "announcer",
  };
  return v;
}

// CMU Flite's English voices (speaker indices after eSpeak's 64 variants).
const std::vector<std::string>& flite_voices() {
  static const std::vector<std::string> v = {"kal", "kal16", "awb", "rms", "slt"};
  return v;
}

uint64_t splitmix64(uint64_t& s) {
  uint64_t z = (s += 0x9e3779b97f4a7c15ULL);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

// A small deterministic generator: uniform doubles and normals.
struct Rng {
  explicit Rng(uint64_t seed) : s(seed) {}
  double uniform() { return static_cast<double>(splitmix64(s) >> 11) * 0x1.0p-53; }
  double uniform(double lo, double hi) { return lo + (hi - lo) * uniform(); }
  double normal() {
    const double u1 = std::max(uniform(), 1e-300), u2 = uniform();
    return std::sqrt(-2.0 * std::log(u1)) * std::cos(2 * M_PI * u2);
  }
  uint64_t s;
};

struct Utterance {
  int64_t voice = 0, label = 0;
  bool test = false;
  uint64_t seed = 0;
};

// The directory of the file this function is in (libsnn.so).
std::string library_directory() {
  Dl_info info{};
  if (::dladdr(reinterpret_cast<void*>(&library_directory), &info) == 0 || info.dli_fname == nullptr) {
    return ".";
  }
  return std::filesystem::path(info.dli_fname).parent_path().string();
}

// The speech helper: $SNN_SPEAK, or snn-speak beside libsnn.so (build tree), or in
// libexec/snn, found from libsnn.so's directory by SNN_SPEAK_RELATIVE (installed).
std::string speak_helper() {
  if (const char* env = std::getenv("SNN_SPEAK"); env != nullptr && *env != '\0') {
    TORCH_CHECK(::access(env, X_OK) == 0, kWhat, ": SNN_SPEAK=", env, " is not an executable");
    return env;
  }
  const std::filesystem::path dir = library_directory();
  const std::vector<std::filesystem::path> candidates = {
      dir / "snn-speak", (dir / SNN_SPEAK_RELATIVE / "snn-speak").lexically_normal()};
  for (const auto& c : candidates) {
    if (::access(c.c_str(), X_OK) == 0) return c.string();
  }
  TORCH_CHECK(false, kWhat, ": the speech helper snn-speak was not found (looked for ",
              candidates[0].string(), " and ", candidates[1].string(),
              "); build and install snn.cpp whole, or set SNN_SPEAK to its path");
}

bool write_all(int fd, const void* data, size_t n) {
  const char* p = static_cast<const char*>(data);
  while (n > 0) {
    const ssize_t k = ::write(fd, p, n);
    if (k <= 0) return false;
    p += k;
    n -= static_cast<size_t>(k);
  }
  return true;
}

bool read_all(int fd, void* data, size_t n) {
  char* p = static_cast<char*>(data);
  while (n > 0) {
    const ssize_t k = ::read(fd, p, n);
    if (k <= 0) return false;
    p += k;
    n -= static_cast<size_t>(k);
  }
  return true;
}

// One snn-speak process (see apps/snn-speak): requests in, samples out. Each utterance is
// spoken in a fresh fork of the helper, from the synthesiser's pristine state.
class Speaker {
 public:
  Speaker() {
    const std::string helper = speak_helper();
    int in[2], out[2];
    TORCH_CHECK(::pipe2(in, O_CLOEXEC) == 0 && ::pipe2(out, O_CLOEXEC) == 0, kWhat,
                ": pipe failed: ", std::strerror(errno));
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_adddup2(&actions, in[0], STDIN_FILENO);
    posix_spawn_file_actions_adddup2(&actions, out[1], STDOUT_FILENO);
    char* argv[] = {const_cast<char*>(helper.c_str()), nullptr};
    const int rc = ::posix_spawn(&pid_, helper.c_str(), &actions, nullptr, argv, environ);
    posix_spawn_file_actions_destroy(&actions);
    ::close(in[0]);
    ::close(out[1]);
    to_ = in[1];
    from_ = out[0];
    TORCH_CHECK(rc == 0, kWhat, ": cannot start ", helper, ": ", std::strerror(rc));
    int64_t rate = -1;
    TORCH_CHECK(read_all(from_, &rate, sizeof rate) && rate > 0, kWhat,
                ": eSpeak NG could not be initialised in ", helper,
                " (is the espeak-ng-data package installed?)");
  }
  ~Speaker() {
    if (to_ >= 0) ::close(to_);
    if (from_ >= 0) ::close(from_);
    if (pid_ > 0) {
      int status = 0;
      ::waitpid(pid_, &status, 0);
    }
  }
  Speaker(const Speaker&) = delete;
  Speaker& operator=(const Speaker&) = delete;

  // The samples; `sample_rate` is set to theirs (eSpeak's, or the Flite voice's own).
  std::vector<short> speak(const std::string& voice, const std::string& text, int rate, int pitch,
                           int range, unsigned seed, double& sample_rate) {
    std::ostringstream request;
    request << seed << ' ' << rate << ' ' << pitch << ' ' << range << ' ' << voice << ' ' << text
            << '\n';
    const std::string r = request.str();
    int64_t n = -1;
    std::vector<short> samples;
    bool ok = write_all(to_, r.data(), r.size()) && read_all(from_, &n, sizeof n);
    int64_t got_rate = 0;
    if (ok && n > 0) {
      samples.resize(static_cast<size_t>(n));
      ok = read_all(from_, &got_rate, sizeof got_rate) && got_rate > 0 &&
           read_all(from_, samples.data(), samples.size() * sizeof(short));
      sample_rate = static_cast<double>(got_rate);
    }
    const bool flite = voice.rfind("flite:", 0) == 0;
    TORCH_CHECK(ok && n > 0, kWhat, ": ", flite ? "Flite" : "eSpeak NG", " could not speak '", text,
                "' in voice ", voice,
                !ok    ? " (the speech helper stopped)"
                : flite ? " (is the voice one of Flite's kal, kal16, awb, rms, slt?)"
                        : " (is the voice in espeak-ng-data?)");
    return samples;
  }

 private:
  pid_t pid_ = -1;
  int to_ = -1, from_ = -1;
};

std::vector<Utterance> plan(const SpokenDigitsOptions& o) {
  std::vector<Utterance> out;
  uint64_t s = o.seed() ^ 0x5eed5eed5eed5eedULL;
  for (int64_t v = 0; v < o.voices(); ++v) {
    for (int64_t label = 0; label < 20; ++label) {
      for (int64_t r = 0; r < o.renditions(); ++r) {
        Utterance u;
        u.voice = v;
        u.label = label;
        // The held-out position rotates from group to group: a fixed one would hold out
        // only one kind of voice (the list alternates male and female ones).
        u.test = v % o.test_every() == (v / o.test_every()) % o.test_every();
        u.seed = splitmix64(s);
        out.push_back(u);
      }
    }
  }
  // Flite's voices: English only, training only.
  for (size_t f = 0; f < flite_voices().size() && o.flite_renditions() > 0; ++f) {
    for (int64_t label = 0; label < 10; ++label) {
      for (int64_t r = 0; r < o.flite_renditions(); ++r) {
        Utterance u;
        u.voice = static_cast<int64_t>(voices().size() + f);
        u.label = label;
        u.seed = splitmix64(s);
        out.push_back(u);
      }
    }
  }
  return out;
}

// A biquad (RBJ's audio-EQ cookbook), run in place over `x`.
struct Biquad {
  double b0 = 1, b1 = 0, b2 = 0, a1 = 0, a2 = 0;
  void run(std::vector<float>& x) const {
    double x1 = 0, x2 = 0, y1 = 0, y2 = 0;
    for (auto& v : x) {
      const double in = v, out = b0 * in + b1 * x1 + b2 * x2 - a1 * y1 - a2 * y2;
      x2 = x1;
      x1 = in;
      y2 = y1;
      y1 = out;
      v = static_cast<float>(out);
    }
  }
  static Biquad make(double b0, double b1, double b2, double a0, double a1, double a2) {
    return {b0 / a0, b1 / a0, b2 / a0, a1 / a0, a2 / a0};
  }
  static Biquad peaking(double f, double q, double gain_db, double rate) {
    const double a = std::pow(10.0, gain_db / 40.0), w = 2 * M_PI * f / rate;
    const double alpha = std::sin(w) / (2 * q), c = std::cos(w);
    return make(1 + alpha * a, -2 * c, 1 - alpha * a, 1 + alpha / a, -2 * c, 1 - alpha / a);
  }
  static Biquad highpass(double f, double rate) {
    const double w = 2 * M_PI * f / rate, alpha = std::sin(w) / (2 * M_SQRT1_2), c = std::cos(w);
    return make((1 + c) / 2, -(1 + c), (1 + c) / 2, 1 + alpha, -2 * c, 1 - alpha);
  }
};

double rms_of(const std::vector<float>& x) {
  double e = 0;
  for (const float v : x) e += static_cast<double>(v) * v;
  return std::sqrt(e / static_cast<double>(std::max<size_t>(x.size(), 1)));
}

// A small room: Schroeder's reverberator (four parallel feedback combs, two all-passes),
// the comb gains set by the reverberation time rt60 (s); `wet` of it added to the dry sound.
void reverberate(std::vector<float>& x, double rate, double rt60, double size, double wet) {
  const double comb_ms[4] = {29.7, 37.1, 41.1, 43.7};
  std::vector<float> sum(x.size(), 0.0f);
  for (const double ms : comb_ms) {
    const auto d = std::max<size_t>(1, static_cast<size_t>(ms * size * rate / 1000));
    const double g = std::pow(10.0, -3.0 * static_cast<double>(d) / rate / rt60);
    std::vector<float> y(x.size(), 0.0f);
    for (size_t i = 0; i < x.size(); ++i) {
      y[i] = static_cast<float>(x[i] + (i >= d ? g * y[i - d] : 0.0));
      sum[i] += 0.25f * y[i];
    }
  }
  for (const double ms : {5.0, 1.7}) {
    const auto d = std::max<size_t>(1, static_cast<size_t>(ms * rate / 1000));
    const double g = 0.7;
    std::vector<float> y(sum.size(), 0.0f);
    for (size_t i = 0; i < sum.size(); ++i) {
      const double delayed_in = i >= d ? sum[i - d] : 0.0, delayed_out = i >= d ? y[i - d] : 0.0;
      y[i] = static_cast<float>(-g * sum[i] + delayed_in + g * delayed_out);
    }
    sum.swap(y);
  }
  const double scale = wet * rms_of(x) / std::max(rms_of(sum), 1e-12);
  for (size_t i = 0; i < x.size(); ++i) x[i] = static_cast<float>(x[i] + scale * sum[i]);
}

// Background noise of unit RMS, one of five kinds: white, pink, brown, babble (the
// utterance itself reversed and shifted three times: speech-like, unintelligible), mains
// hum (50 or 60 Hz and its harmonics, with a little white noise).
std::vector<float> background(const std::vector<float>& speech, double rate, Rng& rng) {
  const size_t n = speech.size();
  std::vector<float> noise(n, 0.0f);
  const int kind = static_cast<int>(rng.uniform() * 5);
  if (kind == 3 && n > 0) {
    for (int k = 0; k < 3; ++k) {
      const auto shift = static_cast<size_t>(rng.uniform() * static_cast<double>(n));
      for (size_t i = 0; i < n; ++i) noise[i] += speech[n - 1 - (i + shift) % n];
    }
  } else if (kind == 4) {
    const double f0 = rng.uniform() < 0.5 ? 50.0 : 60.0;
    const double phase = rng.uniform(0, 2 * M_PI);
    for (size_t i = 0; i < n; ++i) {
      const double t = static_cast<double>(i) / rate;
      double v = 0.1 * rng.normal();
      for (int h = 1; h <= 5; ++h) v += std::sin(2 * M_PI * f0 * h * t + phase * h) / h;
      noise[i] = static_cast<float>(v);
    }
  } else {
    double b0 = 0, b1 = 0, b2 = 0, brown = 0;
    for (size_t i = 0; i < n; ++i) {
      const double w = rng.normal();
      if (kind == 0) {
        noise[i] = static_cast<float>(w);
      } else if (kind == 1) {  // pink: Paul Kellet's economy filter
        b0 = 0.99765 * b0 + w * 0.0990460;
        b1 = 0.96300 * b1 + w * 0.2965164;
        b2 = 0.57000 * b2 + w * 1.0526913;
        noise[i] = static_cast<float>(b0 + b1 + b2 + w * 0.1848);
      } else {  // brown: leaky integration
        brown = 0.98 * brown + w;
        noise[i] = static_cast<float>(brown);
      }
    }
  }
  const double r = rms_of(noise);
  if (r > 0) {
    for (auto& v : noise) v = static_cast<float>(v / r);
  }
  return noise;
}

// The augmentation of SpokenDigitsOptions::augment, in place; returns the new sample rate.
double augment(std::vector<float>& audio, double rate, double snr_db, Rng& rng) {
  rate *= rng.uniform(0.88, 1.12);  // speed and vocal-tract length
  Biquad::highpass(rng.uniform(50, 300), rate).run(audio);
  const int bands = static_cast<int>(rng.uniform() * 4);
  for (int b = 0; b < bands; ++b) {
    const double f = std::exp(rng.uniform(std::log(150.0), std::log(4500.0)));
    Biquad::peaking(f, rng.uniform(0.7, 3.0), rng.uniform(-10, 10), rate).run(audio);
  }
  if (rng.uniform() < 0.5) {
    reverberate(audio, rate, rng.uniform(0.15, 0.7), rng.uniform(0.6, 1.4), rng.uniform(0.1, 0.5));
  }
  const auto noise = background(audio, rate, rng);
  const double scale = rms_of(audio) * std::pow(10.0, -snr_db / 20.0);
  for (size_t i = 0; i < audio.size(); ++i) audio[i] = static_cast<float>(audio[i] + scale * noise[i]);
  if (rng.uniform() < 0.5) {  // an 8-kHz recording: nothing above 4 kHz
    audio = audio::resample(audio, rate, 8000.0);
    rate = 8000.0;
  }
  return rate;
}

// Synthesises, perturbs and encodes one utterance.
events::Events make_sample(const Utterance& u, const SpokenDigitsOptions& o, Speaker& speaker) {
  Rng rng(u.seed);
  const int rate = static_cast<int>(std::lround(rng.uniform(130, 210)));
  const int pitch = static_cast<int>(std::lround(rng.uniform(25, 75)));
  const int range = static_cast<int>(std::lround(rng.uniform(20, 80)));
  const double gain_db = rng.uniform(-6, 6);
  const double snr_db = rng.uniform(o.min_snr_db(), o.max_snr_db());
  const bool german = u.label >= 10;
  const auto espeak_voices = static_cast<int64_t>(voices().size());
  const std::string voice =
      u.voice >= espeak_voices ? "flite:" + flite_voices()[u.voice - espeak_voices]
                               : std::string(german ? "de" : "en") + "+" + voices()[u.voice];
  const std::string text = german ? kGerman[u.label - 10] : kEnglish[u.label];
  double sample_rate = 0;
  const auto speech = speaker.speak(voice, text, rate, pitch, range,
                                    static_cast<unsigned>(u.seed >> 32), sample_rate);
  std::vector<float> audio(speech.size());
  for (size_t i = 0; i < speech.size(); ++i) audio[i] = static_cast<float>(speech[i]) / 32768.0f;
  const double gain = std::pow(10.0, gain_db / 20.0);
  if (o.augment()) {
    const double rate = augment(audio, sample_rate, snr_db, rng);
    for (auto& a : audio) a = static_cast<float>(gain * a);
    return audio::encode_audio(audio, rate, o.cochlea());
  }
  const double noise = rms_of(audio) * std::pow(10.0, -snr_db / 20.0);
  for (auto& a : audio) {
    a = static_cast<float>(gain * (a + noise * rng.normal()));
  }
  return audio::encode_audio(audio, sample_rate, o.cochlea());
}

}  // namespace

std::vector<std::string> spoken_digit_voices() { return voices(); }

std::vector<std::string> spoken_digit_flite_voices() { return flite_voices(); }

std::vector<std::string> spoken_digit_keys() {
  std::vector<std::string> keys;
  for (const char* w : kEnglish) keys.push_back(std::string("english ") + w);
  for (const char* w : kGerman) keys.push_back(std::string("german ") + w);
  return keys;
}

std::string spoken_digits_key(const SpokenDigitsOptions& o) {
  std::ostringstream os;
  const auto& c = o.cochlea();
  os.precision(17);
  os << "SpokenDigits(version=" << kGeneratorVersion << ", espeak-ng=" << espeak_Info(nullptr)
     << ", seed=" << o.seed() << ", voices=" << o.voices() << ", renditions=" << o.renditions()
     << ", test_every=" << o.test_every() << ", augment=" << o.augment() << ", flite_renditions=" << o.flite_renditions() << ", snr_db=[" << o.min_snr_db() << ", "
     << o.max_snr_db() << "], cochlea=(channels=" << c.channels() << ", min_frequency="
     << c.min_frequency() << ", max_frequency=" << c.max_frequency()
     << ", bandwidth_scale=" << c.bandwidth_scale() << ", sample_rate=" << c.sample_rate()
     << ", spike_gain=" << c.spike_gain() << ", floor=" << c.floor() << ", leak=" << c.leak()
     << "))";
  return os.str();
}

SpokenDigitsFiles make_spoken_digits(const std::string& directory, const SpokenDigitsOptions& o,
                                     const std::function<void(int64_t, int64_t)>& progress) {
  const auto max_voices = static_cast<int64_t>(voices().size());
  TORCH_CHECK(o.voices() >= 2 && o.voices() <= max_voices, kWhat, ": voices must be in [2, ",
              max_voices, "], got ", o.voices());
  TORCH_CHECK(o.renditions() >= 1, kWhat, ": renditions must be >= 1, got ", o.renditions());
  TORCH_CHECK(o.flite_renditions() >= 0, kWhat, ": flite_renditions must be >= 0, got ",
              o.flite_renditions());
  TORCH_CHECK(o.test_every() >= 2 && o.test_every() <= o.voices(), kWhat,
              ": test_every must be in [2, voices], got ", o.test_every());
  TORCH_CHECK(o.min_snr_db() <= o.max_snr_db(), kWhat, ": min_snr_db ", o.min_snr_db(),
              " exceeds max_snr_db ", o.max_snr_db());
  TORCH_CHECK(o.cochlea().channels() <= events::HSDFile::kSensor.width, kWhat,
              ": SHD's layout has at most ", events::HSDFile::kSensor.width, " channels, got ",
              o.cochlea().channels());
  const std::filesystem::path dir(directory);
  std::filesystem::create_directories(dir);
  SpokenDigitsFiles files{(dir / "spoken_digits_train.h5").string(),
                          (dir / "spoken_digits_test.h5").string()};
  const auto key_path = dir / "spoken_digits.key";
  const std::string key = spoken_digits_key(o);
  if (std::filesystem::exists(files.train) && std::filesystem::exists(files.test) &&
      std::filesystem::exists(key_path) && snn::io::read_file(key_path.string()) == key + "\n") {
    return files;
  }

  const auto utterances = plan(o);
  const auto total = static_cast<int64_t>(utterances.size());
  std::vector<events::Events> samples(utterances.size());
  std::atomic<int64_t> next{0}, done{0};
  std::mutex mutex;
  std::exception_ptr failure;
  const int64_t threads =
      o.threads() > 0 ? o.threads()
                      : std::max<int64_t>(1, static_cast<int64_t>(std::thread::hardware_concurrency()));
  auto work = [&] {
    std::unique_ptr<Speaker> speaker;
    for (int64_t i = next++; i < total; i = next++) {
      try {
        if (!speaker) speaker = std::make_unique<Speaker>();
        samples[i] = make_sample(utterances[i], o, *speaker);
      } catch (...) {
        std::lock_guard<std::mutex> lock(mutex);
        if (!failure) failure = std::current_exception();
        next = total;
        return;
      }
      const int64_t d = ++done;
      if (progress) {
        std::lock_guard<std::mutex> lock(mutex);
        progress(d, total);
      }
    }
  };
  std::vector<std::thread> pool;
  for (int64_t t = 1; t < threads; ++t) pool.emplace_back(work);
  work();
  for (auto& t : pool) t.join();
  if (failure) std::rethrow_exception(failure);

  for (const bool test : {false, true}) {
    std::vector<events::Events> part;
    std::vector<int64_t> labels, speakers;
    for (size_t i = 0; i < utterances.size(); ++i) {
      if (utterances[i].test != test) continue;
      part.push_back(std::move(samples[i]));
      labels.push_back(utterances[i].label);
      speakers.push_back(utterances[i].voice);
    }
    events::write_hsd(test ? files.test : files.train, part, labels, speakers,
                      spoken_digit_keys());
  }
  snn::detail::write_file_atomically(key_path.string(), key + "\n");
  return files;
}

}  // namespace snn::data
