// The embedded spoken-digits dataset and the cochlea: determinism (byte-identical files),
// the cache, class balance, the voice split, SHD's reader, a pure tone's place on the
// cochlea, bad options.
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>
#include <set>

#include "snn/audio/cochlea.h"
#include "snn/data/event_datasets.h"
#include "snn/data/spoken_digits.h"
#include "snn/events/io.h"
#include "test_util.h"

namespace {

namespace fs = std::filesystem;
using snn::data::SpokenDigitsOptions;

// A scratch directory of this test binary (removed at exit).
fs::path scratch(const std::string& name) {
  static const snn::test::TempDir dir("snn_digits_test");
  fs::create_directories(dir / name);
  return dir / name;
}

std::string bytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

SpokenDigitsOptions small() {
  return SpokenDigitsOptions().voices(4).renditions(1).test_every(2).flite_renditions(0);
}

TEST(SpokenDigitsTest, SameOptionsGiveByteIdenticalFiles) {
  const auto a = snn::data::make_spoken_digits(scratch("a").string(), small());
  const auto b = snn::data::make_spoken_digits(scratch("b").string(), small().threads(1));
  EXPECT_EQ(bytes(a.train), bytes(b.train));
  EXPECT_EQ(bytes(a.test), bytes(b.test));
  const auto c = snn::data::make_spoken_digits(scratch("c").string(), small().seed(1));
  EXPECT_NE(bytes(a.train), bytes(c.train)) << "another seed must give other utterances";
}

TEST(SpokenDigitsTest, ASecondCallReusesTheFiles) {
  const auto dir = scratch("cache");
  const auto first = snn::data::make_spoken_digits(dir.string(), small());
  const auto stamp = fs::last_write_time(first.train);
  int calls = 0;
  snn::data::make_spoken_digits(dir.string(), small(), [&](int64_t, int64_t) { ++calls; });
  EXPECT_EQ(calls, 0) << "nothing may be synthesised again";
  EXPECT_EQ(fs::last_write_time(first.train), stamp);
  snn::data::make_spoken_digits(dir.string(), small().renditions(2),
                                [&](int64_t, int64_t) { ++calls; });
  EXPECT_EQ(calls, 4 * 20 * 2) << "other options make the files anew";
}

TEST(SpokenDigitsTest, BalancedClassesAndAVoiceSplit) {
  const auto files = snn::data::make_spoken_digits(scratch("split").string(),
                                                   small().voices(6).test_every(3));
  snn::events::HSDFile train(files.train), test(files.test);
  ASSERT_EQ(train.size() + test.size(), 6 * 20);
  std::set<int64_t> train_voices, test_voices;
  for (const auto* f : {&train, &test}) {
    std::map<int64_t, int> per_label;
    for (int64_t i = 0; i < f->size(); ++i) {
      ++per_label[f->label(i)];
      (f == &train ? train_voices : test_voices).insert(f->speaker(i));
      const auto e = f->events(i);
      EXPECT_GT(e.size(), 500) << "sample " << i << " must have spikes";
      EXPECT_TRUE(std::is_sorted(e.t.begin(), e.t.end()));
    }
    ASSERT_EQ(per_label.size(), 20u);
    for (const auto& [label, n] : per_label) EXPECT_EQ(n, per_label.begin()->second) << label;
  }
  EXPECT_EQ(test_voices, (std::set<int64_t>{0, 4}));
  EXPECT_EQ(train_voices, (std::set<int64_t>{1, 2, 3, 5}));
  EXPECT_EQ(train.keys(), snn::data::spoken_digit_keys());
  EXPECT_EQ(train.keys().size(), 20u);
  // The SHD dataset class serves the files unchanged.
  const auto root = scratch("as_shd");
  fs::copy_file(files.train, root / "shd_train.h5", fs::copy_options::overwrite_existing);
  snn::data::SHD shd(root.string(), /*train=*/true);
  EXPECT_EQ(shd.size(), train.size());
  EXPECT_EQ(shd.events(3).size(), train.events(3).size());
}

TEST(SpokenDigitsTest, FliteVoicesSpeakEnglishInTrainingOnly) {
  const auto files =
      snn::data::make_spoken_digits(scratch("flite").string(), small().flite_renditions(2));
  snn::events::HSDFile train(files.train), test(files.test);
  const auto voices = static_cast<int64_t>(snn::data::spoken_digit_voices().size());
  ASSERT_EQ(train.size(), 2 * 20 + 5 * 10 * 2);
  ASSERT_EQ(test.size(), 2 * 20);
  std::map<int64_t, int> per_voice;
  for (int64_t i = 0; i < train.size(); ++i) {
    if (train.speaker(i) < voices) continue;
    ++per_voice[train.speaker(i)];
    EXPECT_LT(train.label(i), 10) << "Flite speaks English digits only";
    EXPECT_GT(train.events(i).size(), 500) << "sample " << i << " must have spikes";
  }
  EXPECT_EQ(per_voice.size(), snn::data::spoken_digit_flite_voices().size());
  for (const auto& [v, n] : per_voice) EXPECT_EQ(n, 20) << v;
  for (int64_t i = 0; i < test.size(); ++i) EXPECT_LT(test.speaker(i), voices);
}

TEST(SpokenDigitsTest, AugmentationIsSeededAndCanBeTurnedOff) {
  const auto on = snn::data::make_spoken_digits(scratch("aug_on").string(), small().voices(2));
  const auto again =
      snn::data::make_spoken_digits(scratch("aug_again").string(), small().voices(2).threads(1));
  const auto off = snn::data::make_spoken_digits(scratch("aug_off").string(),
                                                 small().voices(2).augment(false));
  EXPECT_EQ(bytes(on.train), bytes(again.train)) << "the same seed draws the same perturbations";
  EXPECT_NE(bytes(on.train), bytes(off.train));
  EXPECT_NE(snn::data::spoken_digits_key(small()),
            snn::data::spoken_digits_key(small().augment(false)));
}

TEST(SpokenDigitsTest, BadOptionsAreNamed) {
  auto message = [](const SpokenDigitsOptions& o) {
    return snn::test::error_of([&] { snn::data::make_spoken_digits(scratch("bad").string(), o); });
  };
  EXPECT_NE(message(small().voices(1)).find("voices must be in [2, "), std::string::npos);
  EXPECT_NE(message(small().renditions(0)).find("renditions must be >= 1"), std::string::npos);
  EXPECT_NE(message(small().test_every(9)).find("test_every"), std::string::npos);
  EXPECT_NE(message(small().flite_renditions(-1)).find("flite_renditions must be >= 0"),
            std::string::npos);
}

// A pure tone excites the channels around its frequency and few others.
TEST(CochleaTest, APureToneFiresAtItsPlace) {
  const double rate = 16000, f0 = 1000;
  std::vector<float> tone(8000);
  for (size_t i = 0; i < tone.size(); ++i) tone[i] = 0.3f * std::sin(2 * M_PI * f0 * i / rate);
  const snn::audio::CochleaOptions o;
  const auto e = snn::audio::encode_audio(tone, rate, o);
  ASSERT_GT(e.size(), 100);
  EXPECT_FALSE(e.has_y());
  EXPECT_EQ(e.sensor(), (snn::events::SensorSize{700, 1, 1}));
  const auto fc = snn::audio::centre_frequencies(o);
  int64_t near = 0;
  for (int64_t k = 0; k < e.size(); ++k) {
    if (std::abs(std::log2(fc[e.x[k]] / f0)) < 0.25) ++near;  // within a quarter octave
  }
  EXPECT_GT(near, e.size() * 9 / 10) << near << " of " << e.size() << " spikes near 1 kHz";
  // Silence gives nothing; the same input gives the same spikes.
  EXPECT_EQ(snn::audio::encode_audio(std::vector<float>(4000, 0.0f), rate, o).size(), 0);
  const auto again = snn::audio::encode_audio(tone, rate, o);
  EXPECT_TRUE(std::equal(e.t.begin(), e.t.end(), again.t.begin()));
  EXPECT_TRUE(std::equal(e.x.begin(), e.x.end(), again.x.begin()));
}

TEST(CochleaTest, ResamplingKeepsATone) {
  const double from = 22050, to = 11025, f0 = 440;
  std::vector<float> x(22050);
  for (size_t i = 0; i < x.size(); ++i) x[i] = std::sin(2 * M_PI * f0 * i / from);
  const auto y = snn::audio::resample(x, from, to);
  ASSERT_EQ(y.size(), 11025u);
  double err = 0;
  for (size_t n = 100; n + 100 < y.size(); ++n) {
    err = std::max(err, std::abs(y[n] - std::sin(2 * M_PI * f0 * n / to)));
  }
  EXPECT_LT(err, 1e-3);
}

}  // namespace
