#pragma once
/// \file
/// Readers and writers of event files: N-MNIST `.bin`, Prophesee EVT 2.0 / EVT 3.0 `.raw`
/// and `.dat`, DVS Gesture AEDAT 3.1 (with its label CSV and trial lists), and the
/// Heidelberg spiking datasets (SHD / SSC) in HDF5.
///
/// Every reader keeps the order of the file, gives t in microseconds, and throws a
/// c10::Error naming the file and the byte offset when the file is truncated or corrupt
/// ("snn::events: <path>: truncated EVT3 word at byte 1234"); it never trusts a size field
/// of the file to allocate memory. An event outside the sensor is an error too (the sensor
/// comes from the header, or from ReadOptions::sensor, or from the format's default).
/// Writers write a temporary file next to the target and rename it over the target.
///
/// Differences to the peer decoders, deliberate (each is the file format's own rule):
/// - EVT 2.0 / 3.0: as Metavision's reference decoders, words before the first TIME_HIGH
///   carry no time and their events are dropped (state words — EVT3 y address, vector
///   base — are still applied), and a time-high decrease counts as a wrap (+2^34 µs for
///   EVT2, +2^24 µs for EVT3) only when it is close to the full range. expelliarmus
///   instead keeps events before the first TIME_HIGH (time-high 0), counts every decrease
///   of EVT3's time-low as a permanent 4096 µs carry (on its own EVT3 sample file its
///   timestamps drift ahead by up to 45 ms in 9 ms of recording), and rejects EVT3's
///   trigger word 0xA. Word types the format does not define are an error here.
/// - `%` headers end at a "% end" line or at the first byte that is not '%'.
/// - DAT: a timestamp that falls back by more than 2^31 µs is a 32-bit wrap (+2^32 µs);
///   expelliarmus counts every decrease as a wrap.
/// - AEDAT 3.1: t = tsOverflow·2^31 + ts, and events whose valid bit (bit 0) is clear are
///   dropped; Tonic's read_dvs_ibm ignores both.
#include <c10/util/Exception.h>
#include <snn/events/events.h>

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace snn::events {

/// The event file formats.
enum class FileFormat {
  Auto,    ///< detect_format() decides (read only)
  NMNIST,  ///< N-MNIST / N-Caltech101 `.bin`: 5-byte records; sensor (34, 34, 2)
  EVT2,    ///< Prophesee EVT 2.0 `.raw`: `%` header, 32-bit words
  EVT3,    ///< Prophesee EVT 3.0 `.raw`: `%` header, 16-bit words
  DAT,     ///< Prophesee `.dat`: `%` header, type and size bytes, 8-byte events
  AEDAT3,  ///< AEDAT 3.1 (DVS Gesture): `#` header, packets; polarity packets are read
  HDF5,    ///< SHD / SSC HDF5 (spikes/times, spikes/units): see HSDFile
};

/// "auto", "nmnist", "evt2", "evt3", "dat", "aedat3", "hdf5".
std::string format_name(FileFormat format);
/// The inverse of format_name (case-insensitive); throws on an unknown name.
FileFormat parse_format(const std::string& name);

/// The format of a file, from its header (HDF5 signature, `#!AER-DAT3`, `% evt 2.0` /
/// `% evt 3.0` / `% format EVT3...`, or a `%` header without an evt line: DAT) and its
/// extension (`.bin`: N-MNIST, which has no header; `.raw`, `.dat`, `.aedat`, `.h5`).
/// Throws when the file cannot be opened or its format cannot be told.
FileFormat detect_format(const std::string& path);

/// What the readers throw for an event that lies outside the sensor. When the sensor size
/// was assumed (the format's default, as the file gives none), sensor_assumed() is true:
/// the file may be fine and only need its size (ReadOptions::sensor; `--sensor` in the CLI).
class OutOfSensorError : public c10::Error {
 public:
  OutOfSensorError(const std::string& message, bool sensor_assumed)
      : c10::Error(message), sensor_assumed_(sensor_assumed) {}
  bool sensor_assumed() const { return sensor_assumed_; }

 private:
  bool sensor_assumed_;
};

/// The format a file's extension names (any case): .bin nmnist, .raw evt2, .dat dat,
/// .aedat aedat3, .h5 / .hdf5 hdf5 — how `snn data convert` picks the output format.
/// Throws naming the extensions when there is none of them.
FileFormat format_from_extension(const std::string& path);

/// Options of the readers.
struct ReadOptions {
  /// Sensor size to use instead of the one the header gives (or the format's default:
  /// N-MNIST (34, 34, 2); EVT2 and DAT (640, 480, 2), Prophesee Gen3; EVT3 (1280, 720, 2),
  /// Gen4; AEDAT 3.1 (128, 128, 2), DVS128 — or the camera its header names). Events
  /// outside the sensor are an error. Default: none (header, then default).
  std::optional<SensorSize> sensor;
};

/// Reads a whole event file (not HDF5, which holds many samples: use HSDFile).
Events read_events(const std::string& path, FileFormat format = FileFormat::Auto,
                   const ReadOptions& options = {});

/// Writes events to a file (not HDF5: use write_hsd), atomically (temp file + rename).
/// The header records the sensor size. What each format can hold, checked with an error
/// naming the event: N-MNIST: x < 256, y < 240, p ∈ {0, 1}, 0 ≤ t < 2^36, never falling
/// back across an overflow marker (2^13 µs steps); EVT2: x, y < 2048, p ∈ {0, 1},
/// 0 ≤ t < 2^34; EVT3: x, y < 2048, p ∈ {0, 1}, t ≥ 0 non-decreasing; DAT: x, y < 2^14,
/// p < 16, t ≥ 0 with no jump back of 2^31 µs or more; AEDAT 3.1: x, y < 2^15,
/// p ∈ {0, 1}, 0 ≤ t < 2^62.
void write_events(const Events& events, const std::string& path, FileFormat format);

namespace detail {
class Decoder;
}

/// Reads an event file a chunk at a time with fixed-size buffered reads, never holding the
/// whole file: the chunks, concatenated, are read_events() of the file. For N-MNIST,
/// EVT2, EVT3, DAT and AEDAT 3.1.
class EventFileReader {
 public:
  explicit EventFileReader(const std::string& path, FileFormat format = FileFormat::Auto,
                           const ReadOptions& options = {});
  ~EventFileReader();
  EventFileReader(EventFileReader&&) noexcept;
  EventFileReader& operator=(EventFileReader&&) noexcept;

  FileFormat format() const { return format_; }
  /// The sensor size (from the header, options or the format's default).
  const SensorSize& sensor() const;
  /// Where sensor() came from: "from the file header", "given in the read options", or
  /// "assumed: the <format> default, as the file gives none".
  const std::string& sensor_origin() const;

  /// The next `max_events` events (fewer at the end of the file); empty once every event
  /// has been returned. `max_events` ≥ 1.
  Events next(int64_t max_events);
  /// The events of the next time window [start, start + window_us): the first window
  /// starts at the first event's t, each next one where the last ended (a window may be
  /// empty). A window ends at the first event (in file order) at or after its end.
  /// Empty, with done() true, once every event has been returned. `window_us` ≥ 1.
  Events next_window(int64_t window_us);
  /// True once every event of the file has been returned.
  bool done();

 private:
  bool fill(int64_t min_pending);
  Events take(int64_t n);

  FileFormat format_;
  std::unique_ptr<detail::Decoder> decoder_;
  Events pending_;
  int64_t head_ = 0;  // first pending event not yet returned
  bool exhausted_ = false;
  std::optional<int64_t> window_start_;
};

// ---- DVS Gesture -----------------------------------------------------------------------

/// One gesture of a DVS Gesture recording: a row of userXX_<light>_labels.csv.
struct GestureSegment {
  int64_t label = 0;     ///< class as in the file, 1..11 (Tonic's DVSGesture target is label-1)
  int64_t start_us = 0;  ///< startTime_usec
  int64_t end_us = 0;    ///< endTime_usec (exclusive)
  bool operator==(const GestureSegment&) const = default;
};
/// Reads a labels CSV (header line `class,startTime_usec,endTime_usec`, then one row per
/// gesture). Throws naming the file and line on a malformed row.
std::vector<GestureSegment> read_gesture_labels(const std::string& path);
/// Writes a labels CSV, atomically.
void write_gesture_labels(const std::vector<GestureSegment>& segments, const std::string& path);
/// The events of each segment, start_us ≤ t < end_us, in file order.
std::vector<Events> cut_gestures(const Events& events, const std::vector<GestureSegment>& segments);
/// The recording names of trials_to_train.txt / trials_to_test.txt: one per non-empty line.
std::vector<std::string> read_trial_list(const std::string& path);

// ---- Heidelberg spiking datasets (SHD, SSC) -----------------------------------------------

/// How HSDFile opens a file.
struct HSDOptions {
  /// Read the whole file once in a child process before opening it here. The HDF5 library
  /// (1.10) has memory errors on crafted files that no check outside it can rule out
  /// (object headers it decodes past their end, copies from a failed allocation): in the
  /// child such a file is a crash, a hang or an error, and each becomes a c10::Error naming
  /// the file here, so that a corrupt download or an untrusted file cannot take the process
  /// down. Costs one extra read of the file, once per process while the file stays the same
  /// (device, inode, size, modification time). false: for files this program wrote itself.
  /// Default: true.
  bool isolate = true;
  /// With `isolate`: seconds the child may go without progress before it is taken to hang
  /// (it is killed and the file reported). snn.cpp's own HDF5 calls wait while the child is
  /// started; a program that calls HDF5 itself from another thread at that moment could
  /// leave HDF5's lock held in the child, which is then reported this way. Default: 60.
  double stall_seconds = 60;
};

/// An SHD / SSC HDF5 file: spikes/times[i] (seconds, float, one variable-length array per
/// sample), spikes/units[i] (channel, variable-length uint16), labels, and optionally
/// extra/speaker and extra/keys. Samples are read on demand; labels, speakers and keys
/// are read when the file is opened. Every failure, corrupt files included, is a c10::Error
/// naming the file (see HSDOptions::isolate). Calls from several threads are safe.
class HSDFile {
 public:
  /// Tonic's HSD sensor: 700 channels, one polarity.
  static constexpr SensorSize kSensor{700, 1, 1};

  explicit HSDFile(const std::string& path, const HSDOptions& options = {});
  ~HSDFile();
  HSDFile(const HSDFile&) = delete;
  HSDFile& operator=(const HSDFile&) = delete;

  int64_t size() const { return static_cast<int64_t>(labels_.size()); }
  /// The events of sample i, as Tonic's HSD: t = trunc(float64(times) · 1e6) µs, x = unit,
  /// p = 1, no y column; sensor kSensor.
  Events events(int64_t i) const;
  int64_t label(int64_t i) const;
  /// Whether the file has extra/speaker.
  bool has_speakers() const { return !speakers_.empty(); }
  /// extra/speaker[i]; throws when the file has no extra/speaker.
  int64_t speaker(int64_t i) const;
  /// extra/keys (class names); empty when the file has none.
  const std::vector<std::string>& keys() const { return keys_; }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
  int64_t file_ = -1;         // hid_t
  int64_t times_ = -1, units_ = -1;  // hid_t of spikes/times and spikes/units, kept open
  bool times_are_half_ = false;  // spikes/times holds little-endian IEEE float16
  std::vector<int64_t> labels_, speakers_;
  std::vector<std::string> keys_;
  struct Checks;  // what is known of spikes/times and spikes/units' heap references
  std::unique_ptr<Checks> checks_;
};

/// Writes samples in the SHD layout (times as float64 seconds chosen so that HSDFile and
/// Tonic read back exactly the same t; units as uint16), atomically. `speakers` may be
/// empty (no extra/speaker), as may `keys`. Events must lie in HSDFile::kSensor, t ≥ 0.
void write_hsd(const std::string& path, const std::vector<Events>& samples,
               const std::vector<int64_t>& labels, const std::vector<int64_t>& speakers = {},
               const std::vector<std::string>& keys = {});

}  // namespace snn::events
