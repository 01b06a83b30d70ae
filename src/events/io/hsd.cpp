// Heidelberg spiking datasets (SHD / SSC) in HDF5, through the HDF5 C API.
#include <c10/util/Exception.h>
#include <hdf5.h>

#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <cstring>
#include <functional>
#include <limits>
#include <mutex>
#include <optional>
#include <unordered_map>
#include <vector>

#include "events/io/decoder.h"
#include "util/hdf5_lock.h"
#include "util/hdf5_util.h"

namespace snn::events {
namespace {

// How the shared HDF5 checks name this reader and the file.
std::string where(const std::string& path) { return "snn::events: " + path; }
using snn::detail::h5::Handle;
using snn::detail::h5::QuietErrors;
using snn::detail::h5::VlenChecks;


int64_t dataset_length(const std::string& path, hid_t dataset, const char* name) {
  Handle space(H5Dget_space(dataset), H5Sclose);
  TORCH_CHECK(space.ok() && H5Sget_simple_extent_ndims(space.get()) == 1, "snn::events: ", path,
              ": expected ", name, " to be a 1-D dataset");
  hsize_t n = 0;
  H5Sget_simple_extent_dims(space.get(), &n, nullptr);
  // A bound on what the file may claim, before anything is allocated for it (SSC, the
  // largest of these datasets, has 75,466 samples; a chunked dataset's claim cannot be
  // checked against stored bytes, which fill values may stand for).
  TORCH_CHECK(n <= (hsize_t{1} << 24), "snn::events: ", path, ": ", name, " claims ", n,
              " samples (more than 2^24 = 16777216)");
  return static_cast<int64_t>(n);
}

std::vector<int64_t> read_int_column(const std::string& path, hid_t file, const char* name) {
  Handle dataset(H5Dopen2(file, name, H5P_DEFAULT), H5Dclose);
  TORCH_CHECK(dataset.ok(), "snn::events: ", path, ": cannot open dataset ", name);
  // The length is the file's claim: checked against the stored bytes before anything is
  // allocated for it (a corrupt one asked for 2 GB: fuzz/findings).
  const int64_t n = dataset_length(path, dataset.get(), name);
  snn::detail::h5::check_fixed_storage(where(path), dataset.get(), name);
  std::vector<int64_t> values(n);
  TORCH_CHECK(
      H5Dread(dataset.get(), H5T_NATIVE_INT64, H5S_ALL, H5S_ALL, H5P_DEFAULT, values.data()) >= 0,
      "snn::events: ", path, ": cannot read ", name, " as integers");
  return values;
}

std::vector<std::string> read_strings(const std::string& path, hid_t file, const char* name) {
  Handle dataset(H5Dopen2(file, name, H5P_DEFAULT), H5Dclose);
  TORCH_CHECK(dataset.ok(), "snn::events: ", path, ": cannot open dataset ", name);
  const int64_t n = dataset_length(path, dataset.get(), name);
  Handle type(H5Dget_type(dataset.get()), H5Tclose);
  TORCH_CHECK(H5Tget_class(type.get()) == H5T_STRING, "snn::events: ", path, ": expected ", name,
              " to hold strings");
  std::vector<std::string> out;
  if (H5Tis_variable_str(type.get()) > 0) {
    snn::detail::h5::check_vlen_elements(where(path), dataset.get(), name, n, 1);
    Handle mem(H5Tcopy(H5T_C_S1), H5Tclose);
    H5Tset_size(mem.get(), H5T_VARIABLE);
    std::vector<char*> raw(n, nullptr);
    TORCH_CHECK(H5Dread(dataset.get(), mem.get(), H5S_ALL, H5S_ALL, H5P_DEFAULT, raw.data()) >= 0,
                "snn::events: ", path, ": cannot read ", name);
    for (char* s : raw) out.emplace_back(s != nullptr ? s : "");
    Handle space(H5Dget_space(dataset.get()), H5Sclose);
    H5Dvlen_reclaim(mem.get(), space.get(), H5P_DEFAULT, raw.data());
  } else {
    snn::detail::h5::check_fixed_storage(where(path), dataset.get(), name);
    const size_t size = H5Tget_size(type.get());
    std::vector<char> raw(size * n);
    TORCH_CHECK(H5Dread(dataset.get(), type.get(), H5S_ALL, H5S_ALL, H5P_DEFAULT, raw.data()) >= 0,
                "snn::events: ", path, ": cannot read ", name);
    for (int64_t i = 0; i < n; ++i) {
      const char* s = raw.data() + i * size;
      out.emplace_back(s, strnlen(s, size));
    }
  }
  return out;
}

// Transfer properties with a small type-conversion buffer: HDF5's default (1 MiB) is
// allocated and cleared on every read, which dominates reading one sample's spikes.
hid_t small_transfer() {
  static const hid_t dxpl = [] {
    const hid_t p = H5Pcreate(H5P_DATASET_XFER);
    H5Pset_buffer(p, size_t{1} << 16, nullptr, nullptr);
    return p;
  }();
  return dxpl;
}

// The size in the file of one element of a variable-length dataset's sequences.
size_t vlen_base_size(hid_t dataset) {
  Handle type(H5Dget_type(dataset), H5Tclose);
  Handle base(H5Tget_super(type.get()), H5Tclose);
  return base.ok() ? H5Tget_size(base.get()) : 0;
}

// Reads element i of a variable-length dataset as `base` values.
template <typename T>
std::vector<T> read_vlen_element(const std::string& path, hid_t dataset, const char* name,
                                 int64_t i, hid_t base, VlenChecks& checks) {
  snn::detail::h5::check_vlen_element(where(path), name, i, checks);
  Handle space(H5Dget_space(dataset), H5Sclose);
  const hsize_t start = static_cast<hsize_t>(i), count = 1;
  H5Sselect_hyperslab(space.get(), H5S_SELECT_SET, &start, nullptr, &count, nullptr);
  Handle mem_space(H5Screate_simple(1, &count, nullptr), H5Sclose);
  Handle mem_type(H5Tvlen_create(base), H5Tclose);
  hvl_t value{0, nullptr};
  TORCH_CHECK(H5Dread(dataset, mem_type.get(), mem_space.get(), space.get(), small_transfer(),
                      &value) >= 0,
              "snn::events: ", path, ": cannot read ", name, "[", i, "]");
  std::vector<T> out(static_cast<const T*>(value.p), static_cast<const T*>(value.p) + value.len);
  H5Dvlen_reclaim(mem_type.get(), mem_space.get(), H5P_DEFAULT, &value);
  return out;
}

// Whether a dataset's variable-length elements are little-endian IEEE binary16 (the SHD
// files' times): HDF5 converts those to double bit by bit (slowly); they are read raw and
// widened exactly by half_to_double instead.
bool vlen_of_half(hid_t file, const char* name) {
  Handle dataset(H5Dopen2(file, name, H5P_DEFAULT), H5Dclose);
  if (!dataset.ok()) return false;
  Handle type(H5Dget_type(dataset.get()), H5Tclose);
  if (!type.ok() || H5Tget_class(type.get()) != H5T_VLEN) return false;
  Handle base(H5Tget_super(type.get()), H5Tclose);
  if (!base.ok() || H5Tget_class(base.get()) != H5T_FLOAT || H5Tget_size(base.get()) != 2 ||
      H5Tget_order(base.get()) != H5T_ORDER_LE) {
    return false;
  }
  size_t spos = 0, epos = 0, esize = 0, mpos = 0, msize = 0;
  H5Tget_fields(base.get(), &spos, &epos, &esize, &mpos, &msize);
  return spos == 15 && epos == 10 && esize == 5 && mpos == 0 && msize == 10 &&
         H5Tget_ebias(base.get()) == 15 && H5Tget_norm(base.get()) == H5T_NORM_IMPLIED;
}

// An IEEE binary16 value as a double (exact: every half is a double).
double half_to_double(uint16_t h) {
  // 2^(e - 25) for each exponent field e (2^-24 for subnormals, e = 0); products with the
  // 11-bit significand are exact.
  static const auto scale = [] {
    std::array<double, 32> s{};
    for (int e = 0; e < 32; ++e) s[e] = std::ldexp(1.0, (e == 0 ? 1 : e) - 25);
    return s;
  }();
  const int exponent = (h >> 10) & 0x1F;
  const double mantissa = static_cast<double>(h & 0x3FF);
  double v;
  if (exponent == 31) {
    v = mantissa != 0 ? std::numeric_limits<double>::quiet_NaN()
                      : std::numeric_limits<double>::infinity();
  } else {
    v = (exponent == 0 ? mantissa : mantissa + 1024.0) * scale[exponent];
  }
  return (h & 0x8000) != 0 ? -v : v;
}

// Element i of a variable-length float16 dataset, widened to double.
std::vector<double> read_half_vlen_element(const std::string& path, hid_t dataset,
                                           const char* name, int64_t i, VlenChecks& checks) {
  snn::detail::h5::check_vlen_element(where(path), name, i, checks);
  // Raw 16-bit patterns: read through the file's own half type, so HDF5 converts nothing.
  Handle file_type(H5Dget_type(dataset), H5Tclose);
  Handle base(H5Tget_super(file_type.get()), H5Tclose);
  Handle space(H5Dget_space(dataset), H5Sclose);
  const hsize_t start = static_cast<hsize_t>(i), count = 1;
  H5Sselect_hyperslab(space.get(), H5S_SELECT_SET, &start, nullptr, &count, nullptr);
  Handle mem_space(H5Screate_simple(1, &count, nullptr), H5Sclose);
  Handle mem_type(H5Tvlen_create(base.get()), H5Tclose);
  hvl_t value{0, nullptr};
  TORCH_CHECK(H5Dread(dataset, mem_type.get(), mem_space.get(), space.get(), small_transfer(),
                      &value) >= 0,
              "snn::events: ", path, ": cannot read ", name, "[", i, "]");
  std::vector<double> out(value.len);
  const auto* raw = static_cast<const uint8_t*>(value.p);
  for (size_t k = 0; k < value.len; ++k) {
    out[k] = half_to_double(static_cast<uint16_t>(raw[2 * k] | (raw[2 * k + 1] << 8)));
  }
  H5Dvlen_reclaim(mem_type.get(), mem_space.get(), H5P_DEFAULT, &value);
  return out;
}

// In the child process of HSDOptions::isolate: reads everything HSDFile can read. An error
// in one sample does not fail the file (the parent reports it when that sample is asked
// for); the samples after it are still read.
void read_whole_file(const std::string& path, const std::function<void()>& progress) {
  const HSDFile file(path, HSDOptions{/*isolate=*/false});
  for (int64_t i = 0; i < file.size(); ++i) {
    try {
      file.events(i);
    } catch (const c10::Error&) {
    }
    if (i % 64 == 0) progress();
  }
}

}  // namespace

// Filled as samples are read (under the HDF5 lock); a failure to fill is raised again by
// the next read, as the per-sample check did.
struct HSDFile::Checks {
  std::optional<VlenChecks> times, units;
};

HSDFile::HSDFile(const std::string& path, const HSDOptions& options)
    : path_(path), checks_(std::make_unique<Checks>()) {
  TORCH_CHECK(options.stall_seconds > 0, "snn::events: HSDOptions::stall_seconds must be > 0, "
              "got ", options.stall_seconds);
  if (options.isolate) {
    snn::detail::h5::check_in_child_once(
        path, where(path),
        [&path](const std::function<void()>& progress) { read_whole_file(path, progress); },
        options.stall_seconds, "an SHD / SSC file");
  }
  auto lock = snn::detail::hdf5_lock();
  QuietErrors quiet;
  file_ = H5Fopen(path.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT);
  TORCH_CHECK(file_ >= 0, "snn::events: cannot open ", path, " as an HDF5 file");
  try {
    for (const char* name : {"spikes/times", "spikes/units", "labels"}) {
      TORCH_CHECK(snn::detail::h5::has_link(file_, name), "snn::events: ", path, ": no dataset ", name,
                  " (expected the SHD / SSC layout)");
    }
    labels_ = read_int_column(path, file_, "labels");
    for (const char* name : {"spikes/times", "spikes/units"}) {
      Handle dataset(H5Dopen2(file_, name, H5P_DEFAULT), H5Dclose);
      const int64_t n = dataset_length(path, dataset.get(), name);
      TORCH_CHECK(n == size(), "snn::events: ", path, ": ", name, " has ", n, " samples, labels ",
                  size());
    }
    times_are_half_ = vlen_of_half(file_, "spikes/times");
    times_ = H5Dopen2(file_, "spikes/times", H5P_DEFAULT);
    units_ = H5Dopen2(file_, "spikes/units", H5P_DEFAULT);
    TORCH_CHECK(times_ >= 0 && units_ >= 0, "snn::events: ", path, ": cannot open spikes/times "
                "and spikes/units");
    if (snn::detail::h5::has_link(file_, "extra/speaker")) speakers_ = read_int_column(path, file_, "extra/speaker");
    if (snn::detail::h5::has_link(file_, "extra/keys")) keys_ = read_strings(path, file_, "extra/keys");
  } catch (...) {
    if (times_ >= 0) H5Dclose(times_);
    if (units_ >= 0) H5Dclose(units_);
    H5Fclose(file_);
    throw;
  }
}

HSDFile::~HSDFile() {
  auto lock = snn::detail::hdf5_lock();
  if (times_ >= 0) H5Dclose(times_);
  if (units_ >= 0) H5Dclose(units_);
  if (file_ >= 0) H5Fclose(file_);
}

Events HSDFile::events(int64_t i) const {
  TORCH_CHECK(i >= 0 && i < size(), "snn::events: ", path_, ": sample ", i, " out of range for ",
              size(), " samples");
  auto lock = snn::detail::hdf5_lock();
  QuietErrors quiet;
  Checks& c = *checks_;
  if (!c.times) {
    c.times = snn::detail::h5::vlen_checks(where(path_), times_, "spikes/times", times_are_half_ ? 2 : vlen_base_size(times_));
  }
  if (!c.units) c.units = snn::detail::h5::vlen_checks(where(path_), units_, "spikes/units", vlen_base_size(units_));
  const auto times =
      times_are_half_
          ? read_half_vlen_element(path_, times_, "spikes/times", i, *c.times)
          : read_vlen_element<double>(path_, times_, "spikes/times", i, H5T_NATIVE_DOUBLE, *c.times);
  const auto units =
      read_vlen_element<int64_t>(path_, units_, "spikes/units", i, H5T_NATIVE_INT64, *c.units);
  if (lock.owns_lock()) lock.unlock();
  TORCH_CHECK(times.size() == units.size(), "snn::events: ", path_, ": sample ", i, " has ",
              times.size(), " times and ", units.size(), " units");
  Events out(kSensor, /*has_y=*/false);
  out.resize(static_cast<int64_t>(times.size()));
  for (size_t k = 0; k < times.size(); ++k) {
    // Tonic: times.astype(float64) * 1e6 stored into an int field (truncation toward zero).
    const double t = times[k] * 1e6;
    if (!(std::abs(t) < 9.2e18 && units[k] >= 0 && units[k] < kSensor.width)) [[unlikely]] {
      TORCH_CHECK(false, "snn::events: ", path_, ": sample ", i, " spike ", k, " (time ",
                  times[k], " s, unit ", units[k],
                  ") is not a finite time on one of 700 units");
    }
    out.t[k] = static_cast<int64_t>(t);
    out.x[k] = static_cast<int16_t>(units[k]);
    out.y[k] = 0;
    out.p[k] = 1;
  }
  return out;
}

int64_t HSDFile::label(int64_t i) const {
  TORCH_CHECK(i >= 0 && i < size(), "snn::events: ", path_, ": sample ", i, " out of range for ",
              size(), " samples");
  return labels_[i];
}

int64_t HSDFile::speaker(int64_t i) const {
  TORCH_CHECK(has_speakers(), "snn::events: ", path_, ": no extra/speaker");
  TORCH_CHECK(i >= 0 && i < static_cast<int64_t>(speakers_.size()), "snn::events: ", path_,
              ": sample ", i, " out of range for ", speakers_.size(), " speakers");
  return speakers_[i];
}

namespace {


void write_int_column(hid_t file, const char* name, const std::vector<int64_t>& values) {
  const hsize_t n = values.size();
  Handle space(H5Screate_simple(1, &n, nullptr), H5Sclose);
  const Handle dcpl = snn::detail::h5::untimed(H5P_DATASET_CREATE);
  Handle dataset(
      H5Dcreate2(file, name, H5T_STD_I64LE, space.get(), H5P_DEFAULT, dcpl.get(), H5P_DEFAULT),
      H5Dclose);
  TORCH_CHECK(dataset.ok() && H5Dwrite(dataset.get(), H5T_NATIVE_INT64, H5S_ALL, H5S_ALL,
                                       H5P_DEFAULT, values.data()) >= 0,
              "snn::events: write HDF5: cannot write ", name);
}

// Seconds whose float64 product with 1e6, truncated, is t again (as Tonic and HSDFile read).
double seconds_for(int64_t t) {
  double s = static_cast<double>(t) / 1e6;
  for (int k = 0; k < 4 && static_cast<int64_t>(s * 1e6) < t; ++k) s = std::nextafter(s, 1e300);
  for (int k = 0; k < 4 && static_cast<int64_t>(s * 1e6) > t; ++k) s = std::nextafter(s, -1e300);
  return s;
}

}  // namespace

void write_hsd(const std::string& path, const std::vector<Events>& samples,
               const std::vector<int64_t>& labels, const std::vector<int64_t>& speakers,
               const std::vector<std::string>& keys) {
  TORCH_CHECK(
      labels.size() == samples.size() && (speakers.empty() || speakers.size() == samples.size()),
      "snn::events: write HDF5 ", path, ": expected one label (and speaker) per sample, got ",
      samples.size(), " samples, ", labels.size(), " labels, ", speakers.size(), " speakers");
  const hsize_t n = samples.size();
  std::vector<std::vector<double>> times(n);
  std::vector<std::vector<uint16_t>> units(n);
  for (size_t i = 0; i < n; ++i) {
    const auto& e = samples[i];
    for (int64_t k = 0; k < e.size(); ++k) {
      TORCH_CHECK(e.t[k] >= 0 && e.x[k] >= 0 && e.x[k] < HSDFile::kSensor.width,
                  "snn::events: write HDF5 ", path, ": expected t >= 0 and 0 <= x < 700, got ",
                  "sample ", i, " event ", k, " (t=", e.t[k], ", x=", e.x[k], ")");
      times[i].push_back(seconds_for(e.t[k]));
      units[i].push_back(static_cast<uint16_t>(e.x[k]));
    }
  }
  detail::AtomicFile target(path, /*open=*/false);
  {
    auto lock = snn::detail::hdf5_lock();
    QuietErrors quiet;
    Handle file(H5Fcreate(target.temp_path().c_str(), H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT),
                H5Fclose);
    TORCH_CHECK(file.ok(), "snn::events: cannot create ", target.temp_path());
    const Handle gcpl = snn::detail::h5::untimed(H5P_GROUP_CREATE), dcpl = snn::detail::h5::untimed(H5P_DATASET_CREATE);
    for (const char* group : {"spikes", "extra"}) {
      Handle g(H5Gcreate2(file.get(), group, H5P_DEFAULT, gcpl.get(), H5P_DEFAULT), H5Gclose);
      TORCH_CHECK(g.ok(), "snn::events: write HDF5 ", path, ": cannot create group ", group);
    }
    Handle space(H5Screate_simple(1, &n, nullptr), H5Sclose);
    auto write_vlen = [&](const char* name, hid_t file_base, hid_t mem_base, auto& columns) {
      std::vector<hvl_t> rows(n);
      for (size_t i = 0; i < n; ++i) rows[i] = hvl_t{columns[i].size(), columns[i].data()};
      Handle file_type(H5Tvlen_create(file_base), H5Tclose);
      Handle mem_type(H5Tvlen_create(mem_base), H5Tclose);
      Handle dataset(H5Dcreate2(file.get(), name, file_type.get(), space.get(), H5P_DEFAULT,
                                dcpl.get(), H5P_DEFAULT),
                     H5Dclose);
      TORCH_CHECK(dataset.ok() && H5Dwrite(dataset.get(), mem_type.get(), H5S_ALL, H5S_ALL,
                                           H5P_DEFAULT, rows.data()) >= 0,
                  "snn::events: write HDF5 ", path, ": cannot write ", name);
    };
    write_vlen("spikes/times", H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, times);
    write_vlen("spikes/units", H5T_STD_U16LE, H5T_NATIVE_UINT16, units);
    write_int_column(file.get(), "labels", labels);
    if (!speakers.empty()) write_int_column(file.get(), "extra/speaker", speakers);
    if (!keys.empty()) {
      const hsize_t k = keys.size();
      Handle key_space(H5Screate_simple(1, &k, nullptr), H5Sclose);
      Handle type(H5Tcopy(H5T_C_S1), H5Tclose);
      H5Tset_size(type.get(), H5T_VARIABLE);
      std::vector<const char*> raw;
      for (const auto& s : keys) raw.push_back(s.c_str());
      Handle dataset(H5Dcreate2(file.get(), "extra/keys", type.get(), key_space.get(), H5P_DEFAULT,
                                dcpl.get(), H5P_DEFAULT),
                     H5Dclose);
      TORCH_CHECK(dataset.ok() && H5Dwrite(dataset.get(), type.get(), H5S_ALL, H5S_ALL, H5P_DEFAULT,
                                           raw.data()) >= 0,
                  "snn::events: write HDF5 ", path, ": cannot write extra/keys");
    }
  }
  target.commit();
}

}  // namespace snn::events
