// The audio-folder source (see audio_folder.h): a folder of sound files with labels from
// subfolders or file names, a test split by speaker, list or fraction, and a cache of the
// encoded spikes keyed by the files' content.
#include "audio_folder.h"

#include <ATen/ATen.h>
#include <c10/util/Exception.h>

#include <algorithm>
#include <atomic>
#include <cctype>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>
#include <mutex>
#include <regex>
#include <set>
#include <sstream>
#include <thread>

#include "snn/audio/cochlea.h"
#include "snn/data/cache.h"
#include "snn/events/io.h"
#include "snn/io/files.h"
#include "snn/train/presets.h"
#include "util/atomic_file.h"

namespace snn::train::detail {
namespace {

namespace fs = std::filesystem;

// Bump when the encoding of a file changes (the cochlea or this source's use of it).
constexpr int kEncodingVersion = 1;

struct SoundFile {
  std::string relative;  // to the folder, '/'-separated
  std::string label, speaker;
  bool test = false;
};

// Every sound file under `root`, by relative path.
std::vector<SoundFile> list_sound_files(const fs::path& root) {
  TORCH_CHECK(fs::is_directory(root), "data: the audio source needs a folder of sound files "
              "(data.path, --data-path); ", root.string(), " is not a folder");
  std::vector<SoundFile> files;
  try {
    for (auto& f : audio::list_sound_files(root.string())) files.push_back({f, "", "", false});
  } catch (const c10::Error& e) {
    TORCH_CHECK(false, "data: ", e.what_without_backtrace());
  }
  return files;
}

std::regex compile(const std::string& pattern, const char* key) {
  try {
    return std::regex(pattern, std::regex::ECMAScript);
  } catch (const std::regex_error& e) {
    TORCH_CHECK(false, "data.", key, " \"", pattern, "\" is not a valid regular expression: ",
                e.what());
  }
}

// The first group of `re` in the file's name (else the whole match).
std::string field(const std::regex& re, const std::string& relative, const std::string& pattern,
                  const char* key, const fs::path& root) {
  const std::string name = fs::path(relative).filename().string();
  std::smatch m;
  TORCH_CHECK(std::regex_search(name, m, re), "data.", key, " \"", pattern,
              "\" does not match the file name of ", (root / relative).string());
  const std::string v = m.size() > 1 && m[1].matched ? m[1].str() : m[0].str();
  TORCH_CHECK(!v.empty(), "data.", key, " \"", pattern, "\" gives an empty value for ",
              (root / relative).string());
  return v;
}

bool all_digits(const std::string& s) {
  return !s.empty() && s.size() <= 18 &&
         std::all_of(s.begin(), s.end(), [](unsigned char c) { return std::isdigit(c) != 0; });
}

// The class names in label order: numerically when every label is a number, else by text.
std::vector<std::string> class_names_of(const std::vector<SoundFile>& files) {
  std::set<std::string> unique;
  for (const auto& f : files) unique.insert(f.label);
  std::vector<std::string> names(unique.begin(), unique.end());
  if (std::all_of(names.begin(), names.end(), all_digits)) {
    std::sort(names.begin(), names.end(), [](const std::string& a, const std::string& b) {
      return std::stoll(a) < std::stoll(b) || (std::stoll(a) == std::stoll(b) && a < b);
    });
  }
  return names;
}

std::string trim(const std::string& s) {
  const auto b = s.find_first_not_of(" \t\r");
  if (b == std::string::npos) return "";
  return s.substr(b, s.find_last_not_of(" \t\r") - b + 1);
}

// Marks the test files: by list, by speaker or by fraction (see DataOptions).
void split(std::vector<SoundFile>& files, const DataOptions& o, const fs::path& root) {
  if (o.all_test()) {
    for (auto& f : files) f.test = true;
    return;
  }
  if (!o.test_list().empty()) {
    std::ifstream in(o.test_list());
    TORCH_CHECK(in.good(), "data.test_list: cannot read ", o.test_list());
    std::map<std::string, SoundFile*> by_path;
    for (auto& f : files) by_path[f.relative] = &f;
    int64_t line_number = 0;
    for (std::string line; std::getline(in, line);) {
      ++line_number;
      line = trim(line.substr(0, line.find('#')));
      if (line.empty()) continue;
      const std::string p = fs::path(line).lexically_normal().generic_string();
      const auto it = by_path.find(p);
      TORCH_CHECK(it != by_path.end(), "data.test_list ", o.test_list(), " line ", line_number,
                  ": \"", line, "\" is not a sound file in ", root.string());
      it->second->test = true;
    }
    return;
  }
  if (!o.test_speakers().empty()) {
    TORCH_CHECK(!o.speaker_regex().empty(),
                "data.test_speakers needs data.speaker_regex (which part of a file name names "
                "its speaker)");
    std::set<std::string> speakers;
    for (const auto& f : files) speakers.insert(f.speaker);
    for (const auto& s : o.test_speakers()) {
      if (speakers.count(s) == 0) {
        std::string known;
        for (const auto& k : speakers) known += (known.empty() ? "" : ", ") + k;
        TORCH_CHECK(false, "data.test_speakers names \"", s, "\", who speaks in none of the files; "
                    "the speakers are: ", known);
      }
    }
    const std::set<std::string> test(o.test_speakers().begin(), o.test_speakers().end());
    for (auto& f : files) f.test = test.count(f.speaker) > 0;
    return;
  }
  TORCH_CHECK(o.test_fraction() > 0 && o.test_fraction() < 1,
              "data.test_fraction must be in (0, 1); got ", o.test_fraction());
  std::map<std::string, std::vector<SoundFile*>> by_class;
  for (auto& f : files) by_class[f.label].push_back(&f);
  for (auto& [label, members] : by_class) {
    std::vector<std::pair<std::string, SoundFile*>> order;
    for (auto* f : members) order.emplace_back(data::detail::stable_hash_hex(f->relative), f);
    std::sort(order.begin(), order.end());
    const auto n = static_cast<int64_t>(order.size());
    const int64_t k = std::max<int64_t>(1, std::llround(o.test_fraction() * static_cast<double>(n)));
    for (int64_t i = 0; i < std::min(k, n); ++i) order[i].second->test = true;
  }
}

// The cache key of the folder's encoding: the cochlea and every file's content.
std::string content_key(const std::vector<SoundFile>& files, const fs::path& root) {
  std::ostringstream os;
  os << "audio-folder(version=" << kEncodingVersion << ", cochlea=default)\n";
  for (const auto& f : files) {
    const std::string bytes = snn::io::read_file((root / f.relative).string());
    os << f.relative << ' ' << bytes.size() << ' ' << data::detail::stable_hash_hex(bytes) << '\n';
  }
  return os.str();
}

// Every file's spikes, from the cache or encoded now (then cached).
std::vector<events::Events> encode_all(const std::vector<SoundFile>& files, const fs::path& root,
                                       const DataOptions& o) {
  const std::string key = content_key(files, root);
  const fs::path cache_dir = audio_cache_dir();
  const std::string stem = data::detail::stable_hash_hex(key);
  const fs::path cached = cache_dir / (stem + ".h5"), key_file = cache_dir / (stem + ".key");
  std::vector<events::Events> samples(files.size());
  if (fs::exists(cached) && fs::exists(key_file) && snn::io::read_file(key_file.string()) == key) {
    if (o.log()) o.log()(root.string() + ": " + std::to_string(files.size()) +
                         " sound files, encoded before (" + cached.string() + ")");
    events::HSDFile file(cached.string());
    TORCH_CHECK(file.size() == static_cast<int64_t>(files.size()), "data: the cache file ",
                cached.string(), " holds ", file.size(), " samples, not ", files.size(),
                "; delete it");
    for (size_t i = 0; i < files.size(); ++i) samples[i] = file.events(static_cast<int64_t>(i));
    return samples;
  }
  if (o.log()) o.log()(root.string() + ": encoding " + std::to_string(files.size()) +
                       " sound files with the cochlea (once; cached in " + cache_dir.string() + ")");
  std::atomic<size_t> next{0};
  std::mutex mutex;
  std::exception_ptr failure;
  auto work = [&] {
    for (size_t i = next++; i < files.size(); i = next++) {
      try {
        double rate = 0;
        const auto audio = audio::read_audio((root / files[i].relative).string(), rate);
        samples[i] = audio::encode_audio(audio, rate);
      } catch (...) {
        std::lock_guard<std::mutex> lock(mutex);
        if (!failure) failure = std::current_exception();
        next = files.size();
        return;
      }
    }
  };
  const unsigned threads = std::max(1u, std::thread::hardware_concurrency());
  std::vector<std::thread> pool;
  for (unsigned t = 1; t < threads; ++t) pool.emplace_back(work);
  work();
  for (auto& t : pool) t.join();
  if (failure) std::rethrow_exception(failure);
  fs::create_directories(cache_dir);
  events::write_hsd(cached.string(), samples, std::vector<int64_t>(files.size(), 0));
  snn::detail::write_file_atomically(key_file.string(), key);
  return samples;
}

}  // namespace

TrainingData audio_folder(const DataOptions& o) {
  TORCH_CHECK(!o.path().empty(), "data: the audio source needs the folder of its sound files "
              "(data.path, --data-path)");
  const fs::path root(o.path());
  auto files = list_sound_files(root);
  if (o.label_regex().empty()) {
    for (auto& f : files) {
      const auto slash = f.relative.find('/');
      TORCH_CHECK(slash != std::string::npos, "data: ", (root / f.relative).string(),
                  " is not in a class folder (labels come from the subfolders' names, one "
                  "folder per class; or set data.label_regex to take them from file names)");
      f.label = f.relative.substr(0, slash);
    }
  } else {
    const auto re = compile(o.label_regex(), "label_regex");
    for (auto& f : files) f.label = field(re, f.relative, o.label_regex(), "label_regex", root);
  }
  if (!o.speaker_regex().empty()) {
    const auto re = compile(o.speaker_regex(), "speaker_regex");
    for (auto& f : files) {
      f.speaker = field(re, f.relative, o.speaker_regex(), "speaker_regex", root);
    }
  }
  split(files, o, root);
  const auto names = class_names_of(files);
  std::map<std::string, int64_t> index;
  for (size_t i = 0; i < names.size(); ++i) index[names[i]] = static_cast<int64_t>(i);
  if (!o.all_test()) {
    std::vector<int64_t> train_count(names.size(), 0), test_count(names.size(), 0);
    for (const auto& f : files) ++(f.test ? test_count : train_count)[index[f.label]];
    for (size_t c = 0; c < names.size(); ++c) {
      TORCH_CHECK(train_count[c] > 0 && test_count[c] > 0, "data: class \"", names[c],
                  "\" has ", train_count[c], " training and ", test_count[c], " test files in ",
                  root.string(), "; every class needs both (see data.test_fraction, "
                  "data.test_speakers, data.test_list)");
    }
  }
  const auto samples = encode_all(files, root, o);
  std::vector<events::Events> part[2];
  std::vector<int64_t> labels[2];
  for (size_t i = 0; i < files.size(); ++i) {
    const int s = files[i].test ? 1 : 0;
    part[s].push_back(samples[i]);
    labels[s].push_back(index[files[i].label]);
  }
  TrainingData d;
  d.train = audio_frames(part[0], labels[0], o.channels(), o.time_bins(), o.bin_ms());
  d.test = audio_frames(part[1], labels[1], o.channels(), o.time_bins(), o.bin_ms());
  d.frame = {o.channels()};
  d.classes = static_cast<int64_t>(names.size());
  d.class_names = names;
  d.sample = part[1].front();
  d.sample_name = names[labels[1].front()];
  if (o.log()) {
    o.log()(std::to_string(names.size()) + " classes; " + std::to_string(part[0].size()) +
            " training and " + std::to_string(part[1].size()) + " test files");
  }
  return d;
}

}  // namespace snn::train::detail
