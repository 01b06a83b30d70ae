// torch.ops.snn access to the event file readers and writers (for Python and the tests).
#include <ATen/core/Tensor.h>
#include <torch/library.h>

#include <snn/events/io.h>

namespace snn::events {
namespace {

SensorSize sensor_from(const std::vector<int64_t>& s) {
  TORCH_CHECK(s.size() == 3, "snn::events: expected sensor_size [width, height, polarities], got ",
              s.size(), " values");
  return SensorSize{s[0], s[1], s[2]};
}

std::vector<int64_t> sensor_list(const SensorSize& s) {
  return {s.width, s.height, s.polarities};
}

std::tuple<at::Tensor, std::vector<int64_t>> events_read(const std::string& path,
                                                         const std::string& format) {
  const Events e = read_events(path, parse_format(format));
  return {e.to_tensor(), sensor_list(e.sensor())};
}

// The file's events as columns t (int64), x, y, p (int16), handed over without a copy.
std::tuple<at::Tensor, at::Tensor, at::Tensor, at::Tensor, std::vector<int64_t>> events_read_columns(
    const std::string& path, const std::string& format) {
  Events e = read_events(path, parse_format(format));
  const auto sensor = sensor_list(e.sensor());
  auto c = e.release_columns();
  return {c[0], c[1], c[2], c[3], sensor};
}

void events_write(const at::Tensor& events, const std::vector<int64_t>& sensor_size,
                  const std::string& path, const std::string& format) {
  write_events(Events::from_tensor(events, sensor_from(sensor_size)), path, parse_format(format));
}

std::string events_detect_format(const std::string& path) {
  return format_name(detect_format(path));
}

std::vector<at::Tensor> events_read_chunks(const std::string& path, const std::string& format,
                                           int64_t max_events, int64_t window_us) {
  TORCH_CHECK((max_events > 0) != (window_us > 0),
              "snn::events_read_chunks: expected exactly one of max_events, window_us > 0, got ",
              max_events, " and ", window_us);
  EventFileReader reader(path, parse_format(format));
  std::vector<at::Tensor> chunks;
  while (!reader.done()) {
    chunks.push_back(
        (max_events > 0 ? reader.next(max_events) : reader.next_window(window_us)).to_tensor());
  }
  return chunks;
}

std::tuple<at::Tensor, int64_t> shd_read(const std::string& path, int64_t index) {
  HSDFile file(path);
  return {file.events(index).to_tensor(), file.label(index)};
}

std::tuple<std::vector<int64_t>, std::vector<int64_t>, std::vector<std::string>> shd_info(
    const std::string& path) {
  HSDFile file(path);
  std::vector<int64_t> labels, speakers;
  for (int64_t i = 0; i < file.size(); ++i) labels.push_back(file.label(i));
  // extra/speaker is optional: an empty list when the file has none.
  for (int64_t i = 0; file.has_speakers() && i < file.size(); ++i) {
    speakers.push_back(file.speaker(i));
  }
  return {labels, speakers, file.keys()};
}

void shd_write(const std::vector<at::Tensor>& samples, const std::vector<int64_t>& labels,
               const std::vector<int64_t>& speakers, const std::vector<std::string>& keys,
               const std::string& path) {
  std::vector<Events> events;
  for (const auto& s : samples) events.push_back(Events::from_tensor(s, HSDFile::kSensor, false));
  write_hsd(path, events, labels, speakers, keys);
}

std::tuple<std::vector<at::Tensor>, std::vector<int64_t>> dvs_gesture_read(
    const std::string& aedat_path, const std::string& labels_path) {
  const auto segments = read_gesture_labels(labels_path);
  const auto cuts = cut_gestures(read_events(aedat_path, FileFormat::AEDAT3), segments);
  std::vector<at::Tensor> tensors;
  std::vector<int64_t> labels;
  for (size_t i = 0; i < cuts.size(); ++i) {
    tensors.push_back(cuts[i].to_tensor());
    labels.push_back(segments[i].label);
  }
  return {tensors, labels};
}

}  // namespace

TORCH_LIBRARY_FRAGMENT(snn, m) {
  m.def("events_read(str path, str format='auto') -> (Tensor, int[])", &events_read);
  m.def("events_read_columns(str path, str format='auto') -> (Tensor, Tensor, Tensor, Tensor, int[])",
        &events_read_columns);
  m.def("events_write(Tensor events, int[] sensor_size, str path, str format) -> ()",
        &events_write);
  m.def("events_detect_format(str path) -> str", &events_detect_format);
  m.def("events_read_chunks(str path, str format, int max_events, int window_us) -> Tensor[]",
        &events_read_chunks);
  m.def("shd_read(str path, int index) -> (Tensor, int)", &shd_read);
  m.def("shd_info(str path) -> (int[], int[], str[])", &shd_info);
  m.def("shd_write(Tensor[] samples, int[] labels, int[] speakers, str[] keys, str path) -> ()",
        &shd_write);
  m.def("dvs_gesture_read(str aedat_path, str labels_path) -> (Tensor[], int[])",
        &dvs_gesture_read);
}

}  // namespace snn::events
