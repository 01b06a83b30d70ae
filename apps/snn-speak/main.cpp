// snn-speak: the speech helper of snn::data::make_spoken_digits. It initialises eSpeak NG
// once and then, for every request, forks a child that speaks it: each utterance starts from
// the same pristine synthesiser state (eSpeak carries state from one utterance to the next),
// so the same request always gives the same samples. A small process of its own, so that
// the forks are cheap (a fork of a process with LibTorch loaded copies large page tables).
//
// Voices named "flite:NAME" (kal, kal16, awb, rms, slt) are CMU Flite's English voices, made
// from recordings of people (diphones, or statistical models trained on them); there RATE
// (words per minute, 175 normal) sets the duration and PITCH (0-99, 50 normal) the mean F0.
//
// Protocol (stdin / stdout): on start it writes eSpeak's sample rate (int64, -1: eSpeak NG
// could not be initialised). Then per request line "SEED RATE PITCH RANGE VOICE TEXT" it
// writes the number of samples (int64, -1: the voice or text could not be spoken), then the
// samples' rate (int64) and the samples (int16). It ends at the end of its input.
#include <espeak-ng/speak_lib.h>
#include <flite/flite.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdint>
#include <cstdlib>
#include <iostream>
#include <sstream>
#include <string>
#include <vector>

extern "C" {
cst_voice* register_cmu_us_kal(const char*);
cst_voice* register_cmu_us_kal16(const char*);
cst_voice* register_cmu_us_awb(const char*);
cst_voice* register_cmu_us_rms(const char*);
cst_voice* register_cmu_us_slt(const char*);
}

namespace {

std::vector<short>* g_samples = nullptr;
int64_t g_espeak_rate = 0;

cst_voice* flite_voice(const std::string& name) {
  static const std::pair<const char*, cst_voice* (*)(const char*)> kVoices[] = {
      {"kal", register_cmu_us_kal}, {"kal16", register_cmu_us_kal16}, {"awb", register_cmu_us_awb},
      {"rms", register_cmu_us_rms}, {"slt", register_cmu_us_slt}};
  for (const auto& [n, reg] : kVoices) {
    if (name == n) return reg(nullptr);
  }
  return nullptr;
}

int collect(short* wav, int n, espeak_EVENT* /*events*/) {
  if (wav != nullptr && n > 0) g_samples->insert(g_samples->end(), wav, wav + n);
  return 0;
}

bool write_all(const void* data, size_t n) {
  const char* p = static_cast<const char*>(data);
  while (n > 0) {
    const ssize_t k = ::write(STDOUT_FILENO, p, n);
    if (k <= 0) return false;
    p += k;
    n -= static_cast<size_t>(k);
  }
  return true;
}

void speak(unsigned seed, int rate, int pitch, int range, const std::string& voice,
           const std::string& text) {
  std::vector<short> samples;
  g_samples = &samples;
  espeak_SetSynthCallback(collect);
  std::srand(seed);
  int64_t n = -1, sample_rate = g_espeak_rate;
  if (voice.rfind("flite:", 0) == 0) {
    flite_init();
    if (cst_voice* v = flite_voice(voice.substr(6))) {
      feat_set_float(v->features, "duration_stretch", 175.0f / static_cast<float>(rate));
      feat_set_float(v->features, "int_f0_target_mean", 70.0f + 1.4f * static_cast<float>(pitch));
      if (cst_wave* w = flite_text_to_wave(text.c_str(), v); w != nullptr && w->num_samples > 0) {
        samples.assign(w->samples, w->samples + w->num_samples);
        sample_rate = w->sample_rate;
        n = static_cast<int64_t>(samples.size());
      }
    }
  } else if (espeak_SetVoiceByName(voice.c_str()) == EE_OK) {
    espeak_SetParameter(espeakRATE, rate, 0);
    espeak_SetParameter(espeakPITCH, pitch, 0);
    espeak_SetParameter(espeakRANGE, range, 0);
    if (espeak_Synth(text.c_str(), text.size() + 1, 0, POS_CHARACTER, 0, espeakCHARS_UTF8,
                     nullptr, nullptr) == EE_OK &&
        espeak_Synchronize() == EE_OK && !samples.empty()) {
      n = static_cast<int64_t>(samples.size());
    }
  }
  const bool ok = write_all(&n, sizeof n) &&
                  (n <= 0 || (write_all(&sample_rate, sizeof sample_rate) &&
                              write_all(samples.data(), samples.size() * sizeof(short))));
  ::_exit(ok ? 0 : 3);
}

}  // namespace

int main() {
  const int64_t sample_rate =
      espeak_Initialize(AUDIO_OUTPUT_SYNCHRONOUS, 0, nullptr, espeakINITIALIZE_DONT_EXIT);
  if (!write_all(&sample_rate, sizeof sample_rate) || sample_rate <= 0) return 1;
  g_espeak_rate = sample_rate;
  std::string line;
  while (std::getline(std::cin, line)) {
    std::istringstream in(line);
    unsigned seed = 0;
    int rate = 0, pitch = 0, range = 0;
    std::string voice, text;
    in >> seed >> rate >> pitch >> range >> voice;
    std::getline(in >> std::ws, text);
    const pid_t pid = ::fork();
    if (pid < 0) {
      const int64_t failed = -1;
      if (!write_all(&failed, sizeof failed)) return 1;
      continue;
    }
    if (pid == 0) speak(seed, rate, pitch, range, voice, text);
    int status = 0;
    ::waitpid(pid, &status, 0);
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) return 1;
  }
  return 0;
}
