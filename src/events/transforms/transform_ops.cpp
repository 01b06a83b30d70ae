// torch.ops.snn entry points to transforms, representations and slicers (for Python, tests and
// tools). Events travel as int64 [N, 4] tensors (t, x, y, p) with the sensor size (W, H, P),
// or (the *_columns ops, cheaper) as columns t (int64), x, y, p (int16).
#include <ATen/ops/empty.h>
#include <c10/util/Exception.h>
#include <torch/library.h>

#include <cstring>
#include <mutex>
#include <string>
#include <tuple>
#include <unordered_map>
#include <vector>

#include "snn/events/slicers.h"
#include "snn/events/transforms.h"

namespace snn::events {
namespace {

SensorSize sensor_from(c10::IntArrayRef s, const char* op) {
  TORCH_CHECK(s.size() == 3, "snn::", op, ": expected sensor_size (W, H, P), got ", s);
  return {s[0], s[1], s[2]};
}

Events events_in(const at::Tensor& events, SensorSize sensor, bool has_y, const char* op) {
  return Events::from_tensor(events, sensor, has_y, op);
}

// Parsed specs, by text: the ops are called once per sample with the same few specs.
template <typename Ptr, typename Parse>
Ptr cached(const std::string& spec, Parse parse) {
  static std::mutex mutex;
  static std::unordered_map<std::string, Ptr> cache;
  {
    std::lock_guard<std::mutex> lock(mutex);
    auto it = cache.find(spec);
    if (it != cache.end()) return it->second;
  }
  Ptr p = parse(spec);  // throws on a bad spec, which is then not cached
  std::lock_guard<std::mutex> lock(mutex);
  if (cache.size() > 256) cache.clear();
  cache.emplace(spec, p);
  return p;
}

std::tuple<at::Tensor, std::vector<int64_t>> events_transform(const at::Tensor& events,
                                                              c10::IntArrayRef sensor_size,
                                                              bool has_y, c10::string_view spec,
                                                              int64_t seed) {
  const auto t = cached<TransformPtr>(std::string(spec), parse_transform);
  const auto in =
      events_in(events, sensor_from(sensor_size, "events_transform"), has_y, "events_transform");
  const auto out = t->apply(in, static_cast<uint64_t>(seed));
  const auto& s = out.sensor();
  return {out.to_tensor(), {s.width, s.height, s.polarities}};
}

// The same on events as columns t (int64), x, y, p (int16): the input is copied once, the
// output columns are handed over without a copy.
std::tuple<at::Tensor, at::Tensor, at::Tensor, at::Tensor, std::vector<int64_t>>
events_transform_columns(const at::Tensor& t, const at::Tensor& x, const at::Tensor& y,
                         const at::Tensor& p, c10::IntArrayRef sensor_size, bool has_y,
                         c10::string_view spec, int64_t seed) {
  const auto transform = cached<TransformPtr>(std::string(spec), parse_transform);
  const auto in = Events::from_columns(t, x, y, p, sensor_from(sensor_size, "events_transform_columns"),
                                       has_y, "events_transform_columns");
  auto out = transform->apply(in, static_cast<uint64_t>(seed));
  const auto s = out.sensor();
  auto c = out.release_columns();
  return {c[0], c[1], c[2], c[3], {s.width, s.height, s.polarities}};
}

at::Tensor events_to_dense_columns(const at::Tensor& t, const at::Tensor& x, const at::Tensor& y,
                                   const at::Tensor& p, c10::IntArrayRef sensor_size, bool has_y,
                                   c10::string_view spec) {
  const auto r = cached<RepresentationPtr>(std::string(spec), parse_representation);
  return r->apply(Events::from_columns(t, x, y, p,
                                       sensor_from(sensor_size, "events_to_dense_columns"), has_y,
                                       "events_to_dense_columns"));
}

at::Tensor events_to_dense(const at::Tensor& events, c10::IntArrayRef sensor_size, bool has_y,
                           c10::string_view spec) {
  const auto r = cached<RepresentationPtr>(std::string(spec), parse_representation);
  return r->apply(
      events_in(events, sensor_from(sensor_size, "events_to_dense"), has_y, "events_to_dense"));
}

at::Tensor events_slice(const at::Tensor& events, c10::IntArrayRef sensor_size, bool has_y,
                        c10::string_view spec) {
  const auto s = cached<SlicerPtr>(std::string(spec), parse_slicer);
  const auto ranges = s->slice_indices(
      events_in(events, sensor_from(sensor_size, "events_slice"), has_y, "events_slice"));
  auto out =
      at::empty({static_cast<int64_t>(ranges.size()), 2}, at::TensorOptions().dtype(at::kLong));
  auto a = out.accessor<int64_t, 2>();
  for (size_t i = 0; i < ranges.size(); ++i) {
    a[i][0] = ranges[i].start;
    a[i][1] = ranges[i].stop;
  }
  return out;
}

// The slices themselves (SliceByTime's reset_time applied), each an int64 [N_k, 4] tensor.
std::vector<at::Tensor> events_slice_pieces(const at::Tensor& events, c10::IntArrayRef sensor_size,
                                            bool has_y, c10::string_view spec) {
  const auto s = cached<SlicerPtr>(std::string(spec), parse_slicer);
  const auto pieces = s->slice(events_in(events, sensor_from(sensor_size, "events_slice_pieces"),
                                         has_y, "events_slice_pieces"));
  std::vector<at::Tensor> out;
  out.reserve(pieces.size());
  for (const auto& piece : pieces) out.push_back(piece.to_tensor());
  return out;
}

// The canonical text of a spec; kind: "transform", "representation" or "slicer".
std::string events_spec_repr(c10::string_view kind, c10::string_view spec) {
  const std::string k(kind), s(spec);
  if (k == "transform") return parse_transform(s)->repr();
  if (k == "representation") return parse_representation(s)->repr();
  if (k == "slicer") return parse_slicer(s)->repr();
  TORCH_CHECK(false,
              "snn::events_spec_repr: kind must be transform, representation or slicer, got '", k,
              "'");
}

}  // namespace
}  // namespace snn::events

TORCH_LIBRARY_FRAGMENT(snn, m) {
  m.def(
      "events_transform(Tensor events, int[] sensor_size, bool has_y, str transform, int seed) "
      "-> (Tensor, int[])",
      &snn::events::events_transform);
  m.def(
      "events_to_dense(Tensor events, int[] sensor_size, bool has_y, str representation) -> Tensor",
      &snn::events::events_to_dense);
  m.def(
      "events_transform_columns(Tensor t, Tensor x, Tensor y, Tensor p, int[] sensor_size, "
      "bool has_y, str transform, int seed) -> (Tensor, Tensor, Tensor, Tensor, int[])",
      &snn::events::events_transform_columns);
  m.def(
      "events_to_dense_columns(Tensor t, Tensor x, Tensor y, Tensor p, int[] sensor_size, "
      "bool has_y, str representation) -> Tensor",
      &snn::events::events_to_dense_columns);
  m.def("events_slice(Tensor events, int[] sensor_size, bool has_y, str slicer) -> Tensor",
        &snn::events::events_slice);
  m.def("events_slice_pieces(Tensor events, int[] sensor_size, bool has_y, str slicer) -> Tensor[]",
        &snn::events::events_slice_pieces);
  m.def("events_spec_repr(str kind, str spec) -> str", &snn::events::events_spec_repr);
}
