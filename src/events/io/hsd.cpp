// Heidelberg spiking datasets (SHD / SSC) in HDF5, through the HDF5 C API.
#include <c10/util/Exception.h>
#include <hdf5.h>

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#ifdef __linux__
#include <sys/prctl.h>
#endif
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <chrono>
#include <cmath>
#include <cstring>
#include <limits>
#include <mutex>
#include <optional>
#include <set>
#include <unordered_map>
#include <vector>

#include "events/io/decoder.h"
#include "util/hdf5_lock.h"

namespace snn::events {
namespace {

// Closes an HDF5 identifier with the matching H5*close.
class Handle {
 public:
  Handle(hid_t id, herr_t (*close)(hid_t)) : id_(id), close_(close) {}
  ~Handle() {
    if (id_ >= 0) close_(id_);
  }
  Handle(const Handle&) = delete;
  Handle& operator=(const Handle&) = delete;
  Handle(Handle&& other) noexcept : id_(other.id_), close_(other.close_) { other.id_ = -1; }
  hid_t get() const { return id_; }
  bool ok() const { return id_ >= 0; }

 private:
  hid_t id_;
  herr_t (*close_)(hid_t);
};

// HDF5 prints its error stack by default; errors here become c10::Errors instead.
struct QuietErrors {
  QuietErrors() {
    H5Eget_auto2(H5E_DEFAULT, &func, &data);
    H5Eset_auto2(H5E_DEFAULT, nullptr, nullptr);
  }
  ~QuietErrors() { H5Eset_auto2(H5E_DEFAULT, func, data); }
  H5E_auto2_t func = nullptr;
  void* data = nullptr;
};

// HDF5 follows a variable-length element's global-heap reference, and the heap collection
// it names, without checking either against the file: a corrupt one makes it spin forever
// or copy out of bounds (fuzz/findings). So before HDF5 reads elements of a variable-length
// dataset, their references and the heap objects they name are checked here from the file's
// own bytes, as HDF5's file format lays them out:
//   element:    sequence length (4 bytes), collection address (sizeof_addr), object index (4)
//   collection: "GCOL", version 1, 3 reserved, collection size (sizeof_size), then objects
//   object:     index (2), reference count (2), reserved (4), size (sizeof_size), data
//               padded to 8 bytes; index 0 is the free space.
// Each object must lie inside its collection, the collection inside the file, and the named
// object must exist and hold `base_size` bytes per element of the sequence. Contiguous
// datasets are checked (what h5py, Tonic's and SHD's files and write_hsd use); chunked or
// compact ones are read as HDF5 reads them.
uint64_t little_endian(const uint8_t* p, size_t n) {
  uint64_t v = 0;
  for (size_t k = n; k-- > 0;) v = (v << 8) | p[k];
  return v;
}

bool read_at(int fd, uint64_t offset, uint64_t size, uint8_t* out) {
  while (size > 0) {
    const ssize_t got = ::pread(fd, out, size, static_cast<off_t>(offset));
    if (got <= 0) return false;
    out += got;
    offset += static_cast<uint64_t>(got);
    size -= static_cast<uint64_t>(got);
  }
  return true;
}

// The bytes the heap object at p takes (header, data, padding), or 0 when it does not fit in
// the collection or would not advance the walk.
uint64_t object_extent(const std::vector<uint8_t>& collection, uint64_t p, size_t sizeof_size,
                       uint64_t object_header) {
  const uint64_t id = little_endian(collection.data() + p, 2);
  const uint64_t bytes = little_endian(collection.data() + p + 8, sizeof_size);
  const uint64_t left = collection.size() - p;
  if (id == 0) return bytes >= object_header && bytes <= left ? bytes : 0;
  // The padding of the last object may be cut off by the collection's end.
  return bytes <= left - object_header ? std::min(left, object_header + (bytes + 7) / 8 * 8) : 0;
}

// Where a contiguous dataset's bytes lie in the file; `ok` is false when the dataset is not
// contiguous, holds nothing yet (HDF5 reads fill values), or the file is not read through
// HDF5's POSIX driver (nothing to check with).
struct Storage {
  bool ok = false;
  int fd = -1;
  uint64_t eof = 0, offset = 0, size = 0, userblock = 0;
  size_t sizeof_addr = 0, sizeof_size = 0;
};

Storage contiguous_storage(const std::string& path, hid_t dataset) {
  Storage s;
  Handle dcpl(H5Dget_create_plist(dataset), H5Pclose);
  if (!dcpl.ok() || H5Pget_layout(dcpl.get()) != H5D_CONTIGUOUS) return s;
  Handle file(H5Iget_file_id(dataset), H5Fclose);
  Handle fapl(H5Fget_access_plist(file.get()), H5Pclose);
  Handle fcpl(H5Fget_create_plist(file.get()), H5Pclose);
  void* handle = nullptr;
  hsize_t userblock = 0;
  if (!fapl.ok() || !fcpl.ok() || H5Pget_driver(fapl.get()) != H5FD_SEC2 ||
      H5Fget_vfd_handle(file.get(), fapl.get(), &handle) < 0 || handle == nullptr ||
      H5Pget_sizes(fcpl.get(), &s.sizeof_addr, &s.sizeof_size) < 0 ||
      H5Pget_userblock(fcpl.get(), &userblock) < 0 || s.sizeof_addr > 8 || s.sizeof_size > 8) {
    return s;
  }
  s.fd = *static_cast<int*>(handle);
  struct stat st {};
  TORCH_CHECK(::fstat(s.fd, &st) == 0, "snn::events: ", path, ": cannot stat the file");
  s.eof = static_cast<uint64_t>(st.st_size);
  const haddr_t offset = H5Dget_offset(dataset);
  if (offset == HADDR_UNDEF) return s;
  s.offset = offset;
  s.size = H5Dget_storage_size(dataset);
  s.userblock = userblock;
  s.ok = true;
  return s;
}

// HDF5 trusts a contiguous dataset's layout message: a corrupt size or address made it copy
// from a wild address (fuzz/findings). The stored bytes must hold every element (`element`
// bytes each in the file) and lie inside the file.
void check_storage(const std::string& path, hid_t dataset, const char* name, uint64_t element,
                   const Storage& s) {
  Handle space(H5Dget_space(dataset), H5Sclose);
  const hssize_t n = H5Sget_simple_extent_npoints(space.get());
  TORCH_CHECK(n >= 0 && element > 0, "snn::events: ", path, ": ", name, " has no valid shape");
  const auto needed = static_cast<uint64_t>(n);
  TORCH_CHECK(needed <= s.size / element && s.offset <= s.eof && s.size <= s.eof - s.offset,
              "snn::events: ", path, ": ", name, " is corrupt (its ", n, " elements of ", element,
              " bytes do not fit its ", s.size, " stored bytes at ", s.offset, " in a file of ",
              s.eof, " bytes)");
}

// A compact dataset keeps its elements in its object header, and HDF5 trusts the size stored
// there too: one claiming elements it does not hold made HDF5 copy from a null pointer
// (fuzz/findings). `element`: the bytes of one element in the file.
void check_compact(const std::string& path, hid_t dataset, const char* name, uint64_t element) {
  Handle dcpl(H5Dget_create_plist(dataset), H5Pclose);
  if (!dcpl.ok() || H5Pget_layout(dcpl.get()) != H5D_COMPACT) return;
  Handle space(H5Dget_space(dataset), H5Sclose);
  const hssize_t n = H5Sget_simple_extent_npoints(space.get());
  const uint64_t size = H5Dget_storage_size(dataset);
  TORCH_CHECK(n >= 0 && element > 0 && static_cast<uint64_t>(n) <= size / element,
              "snn::events: ", path, ": ", name, " is corrupt (its ", n, " elements of ", element,
              " bytes do not fit its ", size, " stored bytes)");
}

// The bytes of one element of a variable-length dataset in the file: a sequence length (4),
// a heap collection's address and an object index (4).
uint64_t vlen_element_bytes(hid_t dataset) {
  Handle file(H5Iget_file_id(dataset), H5Fclose);
  Handle fcpl(H5Fget_create_plist(file.get()), H5Pclose);
  size_t sizeof_addr = 0, sizeof_size = 0;
  if (!fcpl.ok() || H5Pget_sizes(fcpl.get(), &sizeof_addr, &sizeof_size) < 0) return 0;
  return 4 + sizeof_addr + 4;
}

// The same checks for a dataset read whole through its own type (fixed-size elements).
void check_fixed_storage(const std::string& path, hid_t dataset, const char* name) {
  Handle type(H5Dget_type(dataset), H5Tclose);
  const uint64_t element = type.ok() ? H5Tget_size(type.get()) : 0;
  check_compact(path, dataset, name, element);
  const Storage s = contiguous_storage(path, dataset);
  if (s.ok) check_storage(path, dataset, name, element, s);
}

// The checks of one variable-length dataset's elements: where its references lie (found
// once), and every heap collection walked so far, by address: its objects' sizes by index.
// Reading a sample then costs one 16-byte read and a lookup, not a walk of its collection.
struct VlenChecks {
  Storage storage;  // storage.ok false: nothing to check with (not contiguous, not POSIX)
  uint64_t base_size = 0;
  std::unordered_map<uint64_t, std::unordered_map<uint64_t, uint64_t>> collections;
};

VlenChecks vlen_checks(const std::string& path, hid_t dataset, const char* name,
                       uint64_t base_size) {
  check_compact(path, dataset, name, vlen_element_bytes(dataset));
  VlenChecks c;
  c.storage = contiguous_storage(path, dataset);
  c.base_size = base_size;
  if (c.storage.ok) check_storage(path, dataset, name, 4 + c.storage.sizeof_addr + 4, c.storage);
  return c;
}

void check_vlen_element(const std::string& path, const char* name, int64_t i, VlenChecks& c) {
  const Storage& s = c.storage;
  if (!s.ok) return;
  const uint64_t eof = s.eof;
  const size_t sizeof_addr = s.sizeof_addr, sizeof_size = s.sizeof_size;
  const uint64_t element = 4 + sizeof_addr + 4;
  auto bad = [&](const char* what) {
    TORCH_CHECK(false, "snn::events: ", path, ": ", name, "[", i, "] is corrupt (", what, ")");
  };
  std::array<uint8_t, 24> ref{};
  const uint64_t at = s.offset + static_cast<uint64_t>(i) * element;
  if (at > eof || element > eof - at || !read_at(s.fd, at, element, ref.data())) {
    bad("its reference lies past the end of the file");
  }
  const uint64_t length = little_endian(ref.data(), 4);
  const uint64_t address = little_endian(ref.data() + 4, sizeof_addr);
  const uint64_t index = little_endian(ref.data() + 4 + sizeof_addr, 4);
  if (address == 0) {
    if (length != 0) bad("a sequence without a heap object");
    return;
  }
  const uint64_t start = s.userblock + address;
  auto known = c.collections.find(start);
  if (known == c.collections.end()) {
    std::array<uint8_t, 16> head{};
    if (start > eof || eof - start < 8 + sizeof_size ||
        !read_at(s.fd, start, 8 + sizeof_size, head.data()) ||
        std::memcmp(head.data(), "GCOL", 4) != 0 || head[4] != 1) {
      bad("its reference names no heap collection");
    }
    const uint64_t size = little_endian(head.data() + 8, sizeof_size);
    // HDF5 makes every collection at least 4096 bytes (H5HG_MINSIZE) and loads that first.
    if (size < 4096 || size > eof - start) bad("its heap collection's size does not fit the file");
    std::vector<uint8_t> collection(size);
    if (!read_at(s.fd, start, size, collection.data())) bad("its heap collection cannot be read");
    // Every object of the collection must lie inside it, as HDF5 walks them all (a
    // free-space object's size includes its header; a zero one would never end the walk).
    // The collection's header and each object's header are padded to 8 bytes.
    const uint64_t header = (8 + sizeof_size + 7) / 8 * 8, object_header = header;
    std::unordered_map<uint64_t, uint64_t> objects;
    for (uint64_t p = header; collection.size() - p >= object_header;) {
      const uint64_t need = object_extent(collection, p, sizeof_size, object_header);
      if (need == 0) bad("an object of its heap collection extends past the collection");
      const uint64_t id = little_endian(collection.data() + p, 2);
      // The first object of an index is the one HDF5 finds.
      if (id != 0) objects.emplace(id, little_endian(collection.data() + p + 8, sizeof_size));
      p += need;
    }
    known = c.collections.emplace(start, std::move(objects)).first;
  }
  const auto object = known->second.find(index);
  if (object == known->second.end()) bad("its heap object does not exist");
  if (object->second != length * c.base_size) bad("its heap object's size does not match its length");
}

// Every element of a variable-length dataset read whole (extra/keys).
void check_vlen_elements(const std::string& path, hid_t dataset, const char* name, int64_t n,
                         size_t base_size) {
  VlenChecks c = vlen_checks(path, dataset, name, base_size);
  for (int64_t i = 0; i < n; ++i) check_vlen_element(path, name, i, c);
}

bool has_link(hid_t file, const char* path) {
  // Each level must exist before the next is asked (H5Lexists fails on a missing group).
  std::string p(path);
  for (size_t slash = p.find('/');; slash = p.find('/', slash + 1)) {
    const std::string part = p.substr(0, slash);
    if (H5Lexists(file, part.c_str(), H5P_DEFAULT) <= 0) return false;
    if (slash == std::string::npos) return true;
  }
}

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
  check_fixed_storage(path, dataset.get(), name);
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
    check_vlen_elements(path, dataset.get(), name, n, 1);
    Handle mem(H5Tcopy(H5T_C_S1), H5Tclose);
    H5Tset_size(mem.get(), H5T_VARIABLE);
    std::vector<char*> raw(n, nullptr);
    TORCH_CHECK(H5Dread(dataset.get(), mem.get(), H5S_ALL, H5S_ALL, H5P_DEFAULT, raw.data()) >= 0,
                "snn::events: ", path, ": cannot read ", name);
    for (char* s : raw) out.emplace_back(s != nullptr ? s : "");
    Handle space(H5Dget_space(dataset.get()), H5Sclose);
    H5Dvlen_reclaim(mem.get(), space.get(), H5P_DEFAULT, raw.data());
  } else {
    check_fixed_storage(path, dataset.get(), name);
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
  check_vlen_element(path, name, i, checks);
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
  check_vlen_element(path, name, i, checks);
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

}  // namespace

namespace {

// Writes all of `text` to a pipe (a child's report to its parent).
void write_all(int fd, const std::string& text) {
  for (size_t done = 0; done < text.size();) {
    const ssize_t n = ::write(fd, text.data() + done, text.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return;
    done += static_cast<size_t>(n);
  }
}

// In the child: opens the file without isolation and reads everything HSDFile can read
// from it, reporting progress ('.') and the outcome ("K", or "E" and the error of opening
// the file) on `fd`. An error in one sample does not fail the file (the parent reports it
// when that sample is asked for); the samples after it are still read.
[[noreturn]] void read_all_in_child(const std::string& path, int fd) {
  std::string outcome = "K";
  try {
    const HSDFile file(path, HSDOptions{/*isolate=*/false});
    for (int64_t i = 0; i < file.size(); ++i) {
      try {
        file.events(i);
      } catch (const c10::Error&) {
      }
      if (i % 64 == 0) write_all(fd, ".");
    }
  } catch (const c10::Error& e) {
    outcome = std::string("E") + e.what_without_backtrace();
  } catch (const std::exception& e) {
    outcome = std::string("E") + "snn::events: " + path + ": " + e.what();
  } catch (...) {
    outcome = "Esnn::events: " + path + ": unknown error";
  }
  write_all(fd, outcome);
  ::_exit(0);
}

std::string describe_status(int status) {
  if (WIFSIGNALED(status)) {
    const char* name = ::strsignal(WTERMSIG(status));
    return "it was killed by signal " + std::to_string(WTERMSIG(status)) +
           (name != nullptr ? std::string(" (") + name + ")" : std::string());
  }
  if (WIFEXITED(status)) return "it exited with code " + std::to_string(WEXITSTATUS(status));
  return "it stopped";
}

// Reads the whole file in a forked child (HSDOptions::isolate) and turns whatever happens
// there into a c10::Error naming the file; returns when the child read it all.
void read_in_child(const std::string& path, double stall_seconds) {
  int fds[2];
  TORCH_CHECK(::pipe2(fds, O_CLOEXEC) == 0, "snn::events: ", path,
              ": cannot create a pipe to check the file in a child process (",
              std::strerror(errno), ")");
  pid_t pid;
  int fork_errno = 0;
  {
    // No thread of snn.cpp is inside HDF5 while the process forks.
    auto lock = snn::detail::hdf5_lock();
    const pid_t parent = ::getpid();
    pid = ::fork();
    fork_errno = errno;
    if (pid == 0) {
      snn::detail::hdf5_lock_in_child();
      ::close(fds[0]);
      // Ctrl-C is the parent's to handle: the child ignores it, and ends when its parent
      // ends.
      ::signal(SIGINT, SIG_IGN);
#ifdef __linux__
      ::prctl(PR_SET_PDEATHSIG, SIGKILL);
      if (::getppid() != parent) ::_exit(1);
#endif
      read_all_in_child(path, fds[1]);
    }
  }
  ::close(fds[1]);
  if (pid < 0) {
    ::close(fds[0]);
    TORCH_CHECK(false, "snn::events: ", path, ": cannot start a process to check the file (",
                std::strerror(fork_errno), "); a file this program wrote itself can be opened "
                "with HSDOptions::isolate = false");
  }
  std::string report;
  bool stalled = false;
  const auto stall = std::chrono::duration<double>(stall_seconds);
  auto last = std::chrono::steady_clock::now();
  for (;;) {
    pollfd p{fds[0], POLLIN, 0};
    const int ready = ::poll(&p, 1, 1000);
    if (ready < 0 && errno != EINTR) break;
    if (ready > 0) {
      char buffer[4096];
      const ssize_t n = ::read(fds[0], buffer, sizeof buffer);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) break;  // the child is gone
      report.append(buffer, static_cast<size_t>(n));
      last = std::chrono::steady_clock::now();
    } else if (std::chrono::steady_clock::now() - last > stall) {
      stalled = true;
      ::kill(pid, SIGKILL);
      break;
    }
  }
  ::close(fds[0]);
  int status = 0;
  pid_t waited;
  do {
    waited = ::waitpid(pid, &status, 0);
  } while (waited < 0 && errno == EINTR);
  TORCH_CHECK(!stalled, "snn::events: ", path, ": the HDF5 library made no progress reading "
              "the file for ", stall_seconds, " s (the file is corrupt, or on storage that "
              "stopped answering); the process reading it was stopped");
  const size_t end = report.find_first_not_of('.');
  if (end != std::string::npos && report[end] == 'K') return;
  if (end != std::string::npos && report[end] == 'E') TORCH_CHECK(false, report.substr(end + 1));
  TORCH_CHECK(false, "snn::events: ", path, ": the HDF5 library failed on the file (",
              waited == pid ? describe_status(status) : std::string("it ended unseen"),
              " while a child process read it): the file is corrupt or not an SHD / SSC file");
}

// A file as it stands on disk: a file read whole once in a child is not read again while
// it stays the same (the same device, inode, size and modification time).
using FileVersion = std::array<int64_t, 5>;

bool file_version(const std::string& path, FileVersion& out) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0 || !S_ISREG(st.st_mode)) return false;
  out = {static_cast<int64_t>(st.st_dev), static_cast<int64_t>(st.st_ino),
         static_cast<int64_t>(st.st_size), static_cast<int64_t>(st.st_mtim.tv_sec),
         static_cast<int64_t>(st.st_mtim.tv_nsec)};
  return true;
}

std::mutex checked_mutex;
std::set<FileVersion> checked_files;

void check_in_child_once(const std::string& path, double stall_seconds) {
  FileVersion before{}, after{};
  const bool regular = file_version(path, before);
  if (regular) {
    std::lock_guard<std::mutex> lock(checked_mutex);
    if (checked_files.count(before) != 0) return;
  }
  read_in_child(path, stall_seconds);
  if (regular && file_version(path, after) && after == before) {
    std::lock_guard<std::mutex> lock(checked_mutex);
    checked_files.insert(before);
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
  if (options.isolate) check_in_child_once(path, options.stall_seconds);
  auto lock = snn::detail::hdf5_lock();
  QuietErrors quiet;
  file_ = H5Fopen(path.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT);
  TORCH_CHECK(file_ >= 0, "snn::events: cannot open ", path, " as an HDF5 file");
  try {
    for (const char* name : {"spikes/times", "spikes/units", "labels"}) {
      TORCH_CHECK(has_link(file_, name), "snn::events: ", path, ": no dataset ", name,
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
    if (has_link(file_, "extra/speaker")) speakers_ = read_int_column(path, file_, "extra/speaker");
    if (has_link(file_, "extra/keys")) keys_ = read_strings(path, file_, "extra/keys");
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
    c.times = vlen_checks(path_, times_, "spikes/times", times_are_half_ ? 2 : vlen_base_size(times_));
  }
  if (!c.units) c.units = vlen_checks(path_, units_, "spikes/units", vlen_base_size(units_));
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

// Creation properties without modification times (HDF5 stamps every object with the clock
// by default), so that the same samples always give the same bytes.
Handle untimed(hid_t list_class) {
  Handle p(H5Pcreate(list_class), H5Pclose);
  TORCH_CHECK(p.ok() && H5Pset_obj_track_times(p.get(), false) >= 0,
              "snn::events: write HDF5: cannot create a property list");
  return p;
}

void write_int_column(hid_t file, const char* name, const std::vector<int64_t>& values) {
  const hsize_t n = values.size();
  Handle space(H5Screate_simple(1, &n, nullptr), H5Sclose);
  const Handle dcpl = untimed(H5P_DATASET_CREATE);
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
    const Handle gcpl = untimed(H5P_GROUP_CREATE), dcpl = untimed(H5P_DATASET_CREATE);
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
