// HDF5 storage of cached samples, and the key-addressed cache folders.
#include "snn/data/cache.h"

#include <ATen/ATen.h>
#include <c10/util/Exception.h>
#include <hdf5.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "util/atomic_file.h"
#include "util/hdf5_lock.h"
#include "util/hdf5_util.h"

namespace snn::data::detail {
namespace {

namespace fs = std::filesystem;

using snn::detail::h5::Handle;
using snn::detail::h5::QuietErrors;

hid_t h5_type(at::ScalarType t, const std::string& path) {
  switch (t) {
    case at::kFloat:
      return H5T_NATIVE_FLOAT;
    case at::kDouble:
      return H5T_NATIVE_DOUBLE;
    case at::kLong:
      return H5T_NATIVE_INT64;
    case at::kInt:
      return H5T_NATIVE_INT32;
    case at::kShort:
      return H5T_NATIVE_INT16;
    case at::kChar:
      return H5T_NATIVE_INT8;
    case at::kByte:
    case at::kBool:
      return H5T_NATIVE_UINT8;
    default:
      TORCH_CHECK(false, "snn::data: cannot cache a tensor of dtype ", t, " in ", path,
                  " (supported: float32/64, int8/16/32/64, uint8, bool)");
  }
}

void write_tensor(hid_t file, const char* name, const at::Tensor& tensor, bool compress,
                  const std::string& path) {
  const auto t = tensor.detach().cpu().contiguous();
  std::vector<hsize_t> dims(t.sizes().begin(), t.sizes().end());
  Handle space(t.dim() == 0 ? H5Screate(H5S_SCALAR)
                            : H5Screate_simple(static_cast<int>(dims.size()), dims.data(), nullptr),
               H5Sclose);
  Handle props(H5Pcreate(H5P_DATASET_CREATE), H5Pclose);
  if (compress && t.dim() > 0 && t.numel() > 0) {
    H5Pset_chunk(props.get(), static_cast<int>(dims.size()), dims.data());
    H5Pset_deflate(props.get(), 1);
  }
  const hid_t type = h5_type(t.scalar_type(), path);
  Handle dset(H5Dcreate2(file, name, type, space.get(), H5P_DEFAULT, props.get(), H5P_DEFAULT), H5Dclose);
  TORCH_CHECK(dset.get() >= 0, "snn::data: cannot create dataset '", name, "' in ", path);
  TORCH_CHECK(
      t.numel() == 0 || H5Dwrite(dset.get(), type, H5S_ALL, H5S_ALL, H5P_DEFAULT, t.data_ptr()) >= 0,
      "snn::data: cannot write dataset '", name, "' to ", path);
  // The exact dtype, so that bool and uint8 (both stored as uint8) come back as they were.
  const std::string dtype = c10::toString(t.scalar_type());
  Handle str(H5Tcopy(H5T_C_S1), H5Tclose);
  H5Tset_size(str.get(), dtype.size());
  Handle attr_space(H5Screate(H5S_SCALAR), H5Sclose);
  Handle attr(H5Acreate2(dset.get(), "dtype", str.get(), attr_space.get(), H5P_DEFAULT, H5P_DEFAULT),
              H5Aclose);
  TORCH_CHECK(attr.get() >= 0 && H5Awrite(attr.get(), str.get(), dtype.data()) >= 0,
              "snn::data: cannot write the dtype of '", name, "' to ", path);
}

at::ScalarType dtype_from_name(const std::string& name, const std::string& path) {
  for (auto t : {at::kFloat, at::kDouble, at::kLong, at::kInt, at::kShort, at::kChar, at::kByte,
                 at::kBool}) {
    if (name == c10::toString(t)) return t;
  }
  TORCH_CHECK(false, "snn::data: ", path, " holds an unknown dtype '", name, "'");
}

at::Tensor read_tensor(hid_t file, const char* name, const std::string& path) {
  Handle dset(H5Dopen2(file, name, H5P_DEFAULT), H5Dclose);
  TORCH_CHECK(dset.get() >= 0, "snn::data: ", path, " has no dataset '", name, "'");
  Handle attr(H5Aopen(dset.get(), "dtype", H5P_DEFAULT), H5Aclose);
  TORCH_CHECK(attr.get() >= 0, "snn::data: dataset '", name, "' in ", path, " has no dtype");
  Handle atype(H5Aget_type(attr.get()), H5Tclose);
  const size_t len = H5Tget_size(atype.get());
  TORCH_CHECK(len > 0 && len < 64, "snn::data: bad dtype attribute in ", path);
  std::string dtype_name(len, '\0');
  TORCH_CHECK(H5Aread(attr.get(), atype.get(), dtype_name.data()) >= 0,
              "snn::data: cannot read the dtype of '", name, "' in ", path);
  const auto dtype = dtype_from_name(dtype_name, path);
  Handle space(H5Dget_space(dset.get()), H5Sclose);
  const int rank = H5Sget_simple_extent_ndims(space.get());
  TORCH_CHECK(rank >= 0 && rank <= 16, "snn::data: bad rank of '", name, "' in ", path);
  std::vector<hsize_t> dims(rank);
  H5Sget_simple_extent_dims(space.get(), dims.data(), nullptr);
  auto t =
      at::empty(std::vector<int64_t>(dims.begin(), dims.end()), at::TensorOptions().dtype(dtype));
  TORCH_CHECK(t.numel() == 0 || H5Dread(dset.get(), h5_type(dtype, path), H5S_ALL, H5S_ALL,
                                        H5P_DEFAULT, t.data_ptr()) >= 0,
              "snn::data: cannot read dataset '", name, "' from ", path);
  return t;
}

}  // namespace

// FNV-1a: stable across compilers and runs (std::hash is not).
std::string stable_hash_hex(const std::string& s) {
  uint64_t h = 1469598103934665603ull;
  for (unsigned char c : s) {
    h ^= c;
    h *= 1099511628211ull;
  }
  std::ostringstream os;
  os << std::hex;
  os.width(16);
  os.fill('0');
  os << h;
  return os.str();
}

void save_example(const std::string& path, const at::Tensor& data, const at::Tensor& target,
                  bool compress) {
  auto lock = snn::detail::hdf5_lock();
  QuietErrors quiet;
  // HDF5 creates the temporary file; AtomicFile names it, renames it on commit and removes
  // it on an error.
  snn::detail::AtomicFile target_file(path, /*open=*/false);
  const std::string& tmp = target_file.temp_path();
  {
    Handle file(H5Fcreate(tmp.c_str(), H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT), H5Fclose);
    TORCH_CHECK(file.get() >= 0, "snn::data: cannot create cache file ", tmp);
    write_tensor(file.get(), "data", data, compress, path);
    write_tensor(file.get(), "target", target, compress, path);
  }
  target_file.commit();
}

std::optional<torch::data::Example<>> load_example(const std::string& path) {
  std::error_code ec;
  if (!fs::exists(path, ec)) return std::nullopt;
  auto lock = snn::detail::hdf5_lock();
  QuietErrors quiet;
  Handle file(H5Fopen(path.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT), H5Fclose);
  TORCH_CHECK(file.get() >= 0, "snn::data: cannot open cache file ", path,
              " (not HDF5, or damaged: delete it to have it rebuilt)");
  return torch::data::Example<>{read_tensor(file.get(), "data", path),
                                read_tensor(file.get(), "target", path)};
}

std::string cache_folder(const std::string& root, const std::string& key, bool reset) {
  TORCH_CHECK(!key.empty(),
              "snn::data: a disk cache needs a non-empty key (the dataset and "
              "transform description)");
  const fs::path folder = fs::path(root) / stable_hash_hex(key);
  std::error_code ec;
  fs::create_directories(folder, ec);
  TORCH_CHECK(!ec, "snn::data: cannot create cache folder ", folder.string(), ": ", ec.message());
  const fs::path key_file = folder / "key.txt";
  if (fs::exists(key_file)) {
    std::ifstream in(key_file, std::ios::binary);
    const std::string stored((std::istreambuf_iterator<char>(in)),
                             std::istreambuf_iterator<char>());
    TORCH_CHECK(stored == key, "snn::data: cache folder ", folder.string(), " holds key \"", stored,
                "\", not \"", key, "\" (hash collision): use another cache root");
  } else {
    snn::detail::write_file_atomically(key_file.string(), key);
  }
  if (reset) {
    for (const auto& entry : fs::directory_iterator(folder)) {
      if (entry.path().extension() == ".h5") fs::remove(entry.path(), ec);
    }
  }
  return folder.string();
}

}  // namespace snn::data::detail
