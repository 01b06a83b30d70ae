// Checkpoint files (see snn/train/checkpoint.h): a verified container around a
// torch::serialize archive, written through snn::detail::AtomicFile.
#include "snn/train/checkpoint.h"

#include <c10/util/Exception.h>

#include <cstring>
#include <fstream>
#include <iterator>
#include <map>
#include <set>
#include <sstream>

#include "util/atomic_file.h"

namespace snn::train {
namespace {

constexpr char kMagic[8] = {'S', 'N', 'N', 'C', 'K', 'P', 'T', '1'};
constexpr size_t kHeader = 24;  // magic, payload length, payload hash

uint64_t fnv1a(const char* data, size_t n) {
  uint64_t h = 0xcbf29ce484222325ULL;
  for (size_t i = 0; i < n; ++i) {
    h ^= static_cast<unsigned char>(data[i]);
    h *= 0x100000001b3ULL;
  }
  return h;
}

void put_u64(std::string& out, uint64_t v) {
  for (int i = 0; i < 8; ++i) out.push_back(static_cast<char>((v >> (8 * i)) & 0xff));
}

uint64_t get_u64(const char* p) {
  uint64_t v = 0;
  for (int i = 7; i >= 0; --i) v = (v << 8) | static_cast<unsigned char>(p[i]);
  return v;
}

std::string shape_text(at::IntArrayRef s) {
  std::ostringstream os;
  os << s;
  return os.str();
}

// name → shape of every parameter, in model order.
std::vector<std::pair<std::string, std::string>> manifest(const torch::nn::Module& model) {
  std::vector<std::pair<std::string, std::string>> out;
  for (const auto& p : model.named_parameters(/*recurse=*/true)) {
    out.emplace_back(p.key(), shape_text(p.value().sizes()));
  }
  return out;
}

std::vector<std::string> strings(const c10::IValue& v) {
  std::vector<std::string> out;
  if (!v.isList()) return out;
  for (const auto& e : v.toListRef()) out.push_back(e.isString() ? e.toStringRef() : "?");
  return out;
}

void check_architecture(const std::string& path, const torch::nn::Module& model,
                        const std::vector<std::string>& names,
                        const std::vector<std::string>& shapes) {
  TORCH_CHECK(names.size() == shapes.size(), "snn::train: checkpoint ", path,
              " is corrupted: its manifest lists ", names.size(), " parameters and ",
              shapes.size(), " shapes");
  std::map<std::string, std::string> saved;
  for (size_t i = 0; i < names.size(); ++i) saved[names[i]] = shapes[i];
  const auto mine = manifest(model);
  for (const auto& [name, shape] : mine) {
    const auto it = saved.find(name);
    TORCH_CHECK(it != saved.end(), "snn::train: checkpoint ", path,
                " is of another architecture: the model's parameter '", name, "' ", shape,
                " is not in it");
    TORCH_CHECK(it->second == shape, "snn::train: checkpoint ", path,
                " is of another architecture: parameter '", name, "' has shape ", it->second,
                " in the checkpoint and ", shape, " in the model");
  }
  // Every parameter of the model is in the checkpoint; name the first one beyond them.
  std::set<std::string> model_names;
  for (const auto& m : mine) model_names.insert(m.first);
  for (size_t i = 0; i < names.size(); ++i) {
    TORCH_CHECK(model_names.count(names[i]) == 1, "snn::train: checkpoint ", path,
                " is of another architecture: its parameter '", names[i], "' ", shapes[i],
                " is not in the model");
  }
}

}  // namespace

void save_checkpoint(const std::string& path, const torch::nn::Module& model,
                     const std::function<void(torch::serialize::OutputArchive&)>& extra) {
  torch::serialize::OutputArchive archive;
  torch::serialize::OutputArchive model_archive;
  model.save(model_archive);
  archive.write("model", model_archive);
  c10::List<std::string> names, shapes;
  for (const auto& [name, shape] : manifest(model)) {
    names.push_back(name);
    shapes.push_back(shape);
  }
  archive.write("manifest_names", c10::IValue(names));
  archive.write("manifest_shapes", c10::IValue(shapes));
  if (extra) extra(archive);
  std::ostringstream payload_stream;
  archive.save_to(payload_stream);
  const std::string payload = payload_stream.str();
  std::string bytes(kMagic, sizeof(kMagic));
  put_u64(bytes, payload.size());
  put_u64(bytes, fnv1a(payload.data(), payload.size()));
  bytes += payload;
  snn::detail::write_file_atomically(path, bytes);
}

void load_checkpoint(const std::string& path, torch::nn::Module& model,
                     const std::function<void(torch::serialize::InputArchive&)>& extra) {
  std::ifstream in(path, std::ios::binary);
  TORCH_CHECK(in, "snn::train: cannot open checkpoint ", path);
  const std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  load_checkpoint_bytes(bytes, path, model, extra);
}

void load_checkpoint_bytes(const std::string& bytes, const std::string& path,
                           torch::nn::Module& model,
                           const std::function<void(torch::serialize::InputArchive&)>& extra) {
  TORCH_CHECK(bytes.size() >= kHeader && std::memcmp(bytes.data(), kMagic, sizeof(kMagic)) == 0,
              "snn::train: ", path, " is not an snn.cpp checkpoint (",
              bytes.size() < kHeader ? "too short: " + std::to_string(bytes.size()) + " bytes"
                                     : std::string("no SNNCKPT1 header"),
              ")");
  const uint64_t length = get_u64(bytes.data() + 8);
  const uint64_t hash = get_u64(bytes.data() + 16);
  TORCH_CHECK(bytes.size() - kHeader == length, "snn::train: checkpoint ", path,
              " is truncated or padded: its header announces ", length, " bytes of data, the file holds ",
              bytes.size() - kHeader);
  TORCH_CHECK(fnv1a(bytes.data() + kHeader, length) == hash, "snn::train: checkpoint ", path,
              " is corrupted: its data does not match its checksum");
  std::istringstream payload(bytes.substr(kHeader));
  torch::serialize::InputArchive archive;
  archive.load_from(payload);
  c10::IValue names, shapes;
  TORCH_CHECK(archive.try_read("manifest_names", names) && archive.try_read("manifest_shapes", shapes),
              "snn::train: checkpoint ", path, " has no parameter manifest");
  check_architecture(path, model, strings(names), strings(shapes));
  torch::serialize::InputArchive model_archive;
  TORCH_CHECK(archive.try_read("model", model_archive), "snn::train: checkpoint ", path,
              " holds no model");
  model.load(model_archive);
  if (extra) extra(archive);
}

}  // namespace snn::train
