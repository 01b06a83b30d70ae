#pragma once
// Internal: what snn.cpp's HDF5 readers and writers share (SHD / SSC, NIR, the data cache):
// handles that close themselves, HDF5's error printing silenced, checks of a file's bytes
// that the HDF5 library (1.10) does not make and crashes or hangs without, and reading an
// untrusted file whole in a child process before this process opens it.
// `where` in the messages is the reader's name and the file, e.g. "snn::events: a.h5".
#include <hdf5.h>

#include <cstdint>
#include <functional>
#include <string>
#include <unordered_map>

namespace snn::detail::h5 {

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

// Where a contiguous dataset's bytes lie in the file; `ok` is false when the dataset is not
// contiguous, holds nothing yet (HDF5 reads fill values), or the file is not read through
// HDF5's POSIX driver (nothing to check with).
struct Storage {
  bool ok = false;
  int fd = -1;
  uint64_t eof = 0, offset = 0, size = 0, userblock = 0;
  size_t sizeof_addr = 0, sizeof_size = 0;
};

Storage contiguous_storage(const std::string& where, hid_t dataset);
// A contiguous dataset's stored bytes must hold every element (`element` bytes each in the
// file) and lie inside the file.
void check_storage(const std::string& where, hid_t dataset, const char* name, uint64_t element,
                   const Storage& s);
// A compact dataset's elements must fit the bytes its object header holds.
void check_compact(const std::string& where, hid_t dataset, const char* name, uint64_t element);
// The bytes of one element of a variable-length dataset in the file.
uint64_t vlen_element_bytes(hid_t dataset);
// The storage checks of a dataset read whole through its own type (fixed-size elements).
void check_fixed_storage(const std::string& where, hid_t dataset, const char* name);

// The checks of one variable-length dataset's elements: where its references lie (found
// once), and every heap collection walked so far, by address: its objects' sizes by index.
// Reading a sample then costs one 16-byte read and a lookup, not a walk of its collection.
struct VlenChecks {
  Storage storage;  // storage.ok false: nothing to check with (not contiguous, not POSIX)
  uint64_t base_size = 0;
  std::unordered_map<uint64_t, std::unordered_map<uint64_t, uint64_t>> collections;
};

VlenChecks vlen_checks(const std::string& where, hid_t dataset, const char* name,
                       uint64_t base_size);
// Element i's reference and the heap object it names (see hdf5_util.cpp).
void check_vlen_element(const std::string& where, const char* name, int64_t i, VlenChecks& c);
// Every element of a variable-length dataset read whole (`base_size` bytes per item).
void check_vlen_elements(const std::string& where, hid_t dataset, const char* name, int64_t n,
                         size_t base_size);
// Whether the link `path` exists, each level checked before the next.
bool has_link(hid_t file, const char* path);

// Creation properties without modification times (HDF5 stamps every object with the clock
// by default), so that the same content always gives the same bytes.
Handle untimed(hid_t list_class);

// Reads a file whole in the child: throws (a c10::Error naming the file) on a corrupt file,
// and calls progress() now and then, so that the parent can tell slow from stuck.
using ChildReader = std::function<void(const std::function<void()>& progress)>;

// Runs `read_all` once in a forked child before the file is opened here (the readers'
// `isolate` option): what happens there — a crash, a hang (no progress for stall_seconds),
// an error — becomes a c10::Error here, naming the file; `kind` completes "the file is
// corrupt or not ..." (e.g. "an SHD / SSC file"). A file read whole once is not read again
// while it stays the same (device, inode, size, modification time). Thread-safe.
void check_in_child_once(const std::string& path, const std::string& where,
                         const ChildReader& read_all, double stall_seconds,
                         const std::string& kind);

}  // namespace snn::detail::h5
