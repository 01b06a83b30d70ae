// Shared by snn.cpp's HDF5 readers and writers: see hdf5_util.h.
#include "util/hdf5_util.h"

#include <c10/util/Exception.h>

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
#include <cstring>
#include <mutex>
#include <set>
#include <vector>

#include "util/hdf5_lock.h"

namespace snn::detail::h5 {
namespace {

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



// Writes all of `text` to a pipe (a child's report to its parent).
void write_all(int fd, const std::string& text) {
  for (size_t done = 0; done < text.size();) {
    const ssize_t n = ::write(fd, text.data() + done, text.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return;
    done += static_cast<size_t>(n);
  }
}

// In the child: runs `read_all`, reporting progress ('.') and the outcome ("K", or "E" and
// the error it threw) on `fd`.
[[noreturn]] void read_all_in_child(const std::string& where, const ChildReader& read_all,
                                    int fd) {
  std::string outcome = "K";
  try {
    read_all([fd] { write_all(fd, "."); });
  } catch (const c10::Error& e) {
    outcome = std::string("E") + e.what_without_backtrace();
  } catch (const std::exception& e) {
    outcome = std::string("E") + where + ": " + e.what();
  } catch (...) {
    outcome = "E" + where + ": unknown error";
  }
  write_all(fd, outcome);
  ::_exit(0);
}

}  // namespace

// Where a contiguous dataset's bytes lie in the file; `ok` is false when the dataset is not
// contiguous, holds nothing yet (HDF5 reads fill values), or the file is not read through
// HDF5's POSIX driver (nothing to check with).


Storage contiguous_storage(const std::string& where, hid_t dataset) {
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
  TORCH_CHECK(::fstat(s.fd, &st) == 0, where, ": cannot stat the file");
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
void check_storage(const std::string& where, hid_t dataset, const char* name, uint64_t element,
                   const Storage& s) {
  Handle space(H5Dget_space(dataset), H5Sclose);
  const hssize_t n = H5Sget_simple_extent_npoints(space.get());
  TORCH_CHECK(n >= 0 && element > 0, where, ": ", name, " has no valid shape");
  const auto needed = static_cast<uint64_t>(n);
  TORCH_CHECK(needed <= s.size / element && s.offset <= s.eof && s.size <= s.eof - s.offset,
              where, ": ", name, " is corrupt (its ", n, " elements of ", element,
              " bytes do not fit its ", s.size, " stored bytes at ", s.offset, " in a file of ",
              s.eof, " bytes)");
}

// A compact dataset keeps its elements in its object header, and HDF5 trusts the size stored
// there too: one claiming elements it does not hold made HDF5 copy from a null pointer
// (fuzz/findings). `element`: the bytes of one element in the file.
void check_compact(const std::string& where, hid_t dataset, const char* name, uint64_t element) {
  Handle dcpl(H5Dget_create_plist(dataset), H5Pclose);
  if (!dcpl.ok() || H5Pget_layout(dcpl.get()) != H5D_COMPACT) return;
  Handle space(H5Dget_space(dataset), H5Sclose);
  const hssize_t n = H5Sget_simple_extent_npoints(space.get());
  const uint64_t size = H5Dget_storage_size(dataset);
  TORCH_CHECK(n >= 0 && element > 0 && static_cast<uint64_t>(n) <= size / element,
              where, ": ", name, " is corrupt (its ", n, " elements of ", element,
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
void check_fixed_storage(const std::string& where, hid_t dataset, const char* name) {
  Handle type(H5Dget_type(dataset), H5Tclose);
  const uint64_t element = type.ok() ? H5Tget_size(type.get()) : 0;
  check_compact(where, dataset, name, element);
  const Storage s = contiguous_storage(where, dataset);
  if (s.ok) check_storage(where, dataset, name, element, s);
}



VlenChecks vlen_checks(const std::string& where, hid_t dataset, const char* name,
                       uint64_t base_size) {
  check_compact(where, dataset, name, vlen_element_bytes(dataset));
  VlenChecks c;
  c.storage = contiguous_storage(where, dataset);
  c.base_size = base_size;
  if (c.storage.ok) check_storage(where, dataset, name, 4 + c.storage.sizeof_addr + 4, c.storage);
  return c;
}

void check_vlen_element(const std::string& where, const char* name, int64_t i, VlenChecks& c) {
  const Storage& s = c.storage;
  if (!s.ok) return;
  const uint64_t eof = s.eof;
  const size_t sizeof_addr = s.sizeof_addr, sizeof_size = s.sizeof_size;
  const uint64_t element = 4 + sizeof_addr + 4;
  auto bad = [&](const char* what) {
    TORCH_CHECK(false, where, ": ", name, "[", i, "] is corrupt (", what, ")");
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
void check_vlen_elements(const std::string& where, hid_t dataset, const char* name, int64_t n,
                         size_t base_size) {
  VlenChecks c = vlen_checks(where, dataset, name, base_size);
  for (int64_t i = 0; i < n; ++i) check_vlen_element(where, name, i, c);
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
// Creation properties without modification times (HDF5 stamps every object with the clock
// by default), so that the same samples always give the same bytes.
Handle untimed(hid_t list_class) {
  Handle p(H5Pcreate(list_class), H5Pclose);
  TORCH_CHECK(p.ok() && H5Pset_obj_track_times(p.get(), false) >= 0,
              "snn: write HDF5: cannot create a property list");
  return p;
}

namespace {

std::string describe_status(int status) {
  if (WIFSIGNALED(status)) {
    const char* name = ::strsignal(WTERMSIG(status));
    return "it was killed by signal " + std::to_string(WTERMSIG(status)) +
           (name != nullptr ? std::string(" (") + name + ")" : std::string());
  }
  if (WIFEXITED(status)) return "it exited with code " + std::to_string(WEXITSTATUS(status));
  return "it stopped";
}

// Runs `read_all` in a forked child and turns whatever happens there into a c10::Error naming
// the file; returns when the child read it all.
void read_in_child(const std::string& where, const ChildReader& read_all, double stall_seconds,
                   const std::string& kind) {
  int fds[2];
  TORCH_CHECK(::pipe2(fds, O_CLOEXEC) == 0, where,
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
      read_all_in_child(where, read_all, fds[1]);
    }
  }
  ::close(fds[1]);
  if (pid < 0) {
    ::close(fds[0]);
    TORCH_CHECK(false, where, ": cannot start a process to check the file (",
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
  TORCH_CHECK(!stalled, where, ": the HDF5 library made no progress reading "
              "the file for ", stall_seconds, " s (the file is corrupt, or on storage that "
              "stopped answering); the process reading it was stopped");
  const size_t end = report.find_first_not_of('.');
  if (end != std::string::npos && report[end] == 'K') return;
  if (end != std::string::npos && report[end] == 'E') TORCH_CHECK(false, report.substr(end + 1));
  TORCH_CHECK(false, where, ": the HDF5 library failed on the file (",
              waited == pid ? describe_status(status) : std::string("it ended unseen"),
              " while a child process read it): the file is corrupt or not ", kind);
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

}  // namespace

void check_in_child_once(const std::string& path, const std::string& where,
                         const ChildReader& read_all, double stall_seconds,
                         const std::string& kind) {
  FileVersion before{}, after{};
  const bool regular = file_version(path, before);
  if (regular) {
    std::lock_guard<std::mutex> lock(checked_mutex);
    if (checked_files.count(before) != 0) return;
  }
  read_in_child(where, read_all, stall_seconds, kind);
  if (regular && file_version(path, after) && after == before) {
    std::lock_guard<std::mutex> lock(checked_mutex);
    checked_files.insert(before);
  }
}

}  // namespace snn::detail::h5
