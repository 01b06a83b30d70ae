// snn::train::Distributed: a c10d TCPStore and a Gloo process group from torchrun's
// environment, and the few collectives the Trainer needs (all of them c10d's).
#include "snn/train/distributed.h"

#include <ATen/ATen.h>
#include <c10/util/Exception.h>
#include <torch/csrc/distributed/c10d/PrefixStore.hpp>
#include <torch/csrc/distributed/c10d/ProcessGroup.hpp>
#include <torch/csrc/distributed/c10d/ProcessGroupGloo.hpp>
#include <torch/csrc/distributed/c10d/TCPStore.hpp>
#include <torch/nn/module.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <sstream>

namespace snn::train {
namespace {

constexpr const char* kWhat = "snn::train::Distributed";

std::optional<std::string> env(const char* name) {
  const char* v = std::getenv(name);
  if (v == nullptr || *v == '\0') return std::nullopt;
  return std::string(v);
}

int64_t env_int(const char* name, int64_t fallback, int64_t lo, int64_t hi) {
  const auto v = env(name);
  if (!v) return fallback;
  char* end = nullptr;
  errno = 0;
  const long long x = std::strtoll(v->c_str(), &end, 10);
  TORCH_CHECK(errno == 0 && end != v->c_str() && *end == '\0' && x >= lo && x <= hi, kWhat,
              ": environment variable ", name, "='", *v, "' is not an integer in [", lo, ", ", hi,
              "]");
  return x;
}

std::chrono::milliseconds env_seconds(const char* name, std::chrono::milliseconds fallback) {
  const auto v = env(name);
  if (!v) return fallback;
  char* end = nullptr;
  const double s = std::strtod(v->c_str(), &end);
  TORCH_CHECK(end != v->c_str() && *end == '\0' && s > 0 && s < 1e7, kWhat,
              ": environment variable ", name, "='", *v, "' is not a number of seconds > 0");
  return std::chrono::milliseconds(static_cast<int64_t>(s * 1000));
}

// FNV-1a: a hash that is the same in every process and on every machine.
int64_t fingerprint(const std::string& s) {
  uint64_t h = 1469598103934665603ULL;
  for (const unsigned char c : s) h = (h ^ c) * 1099511628211ULL;
  return static_cast<int64_t>(h);
}

void wait(const c10::intrusive_ptr<c10d::Work>& work, const char* what, int64_t rank) {
  try {
    work->wait();
  } catch (const std::exception& e) {
    TORCH_CHECK(false, kWhat, ": rank ", rank, ": ", what,
                " failed: another rank stopped or cannot be reached (", e.what(), ")");
  }
}

}  // namespace

std::optional<DistributedOptions> Distributed::options_from_environment() {
  if (!env("WORLD_SIZE")) return std::nullopt;
  DistributedOptions o;
  o.world_size = env_int("WORLD_SIZE", 1, 1, 1 << 20);
  TORCH_CHECK(env("RANK"), kWhat, ": WORLD_SIZE is set (", o.world_size,
              ") but RANK is not: launch with torchrun, or set RANK too");
  o.rank = env_int("RANK", 0, 0, o.world_size - 1);
  o.local_world_size = env_int("LOCAL_WORLD_SIZE", o.world_size, 1, o.world_size);
  o.local_rank = env_int("LOCAL_RANK", o.rank % o.local_world_size, 0, o.local_world_size - 1);
  if (o.world_size > 1) {
    TORCH_CHECK(env("MASTER_ADDR") && env("MASTER_PORT"), kWhat, ": WORLD_SIZE is ",
                o.world_size, " but MASTER_ADDR or MASTER_PORT is not set: launch with torchrun, "
                "or set both to the address of rank 0's store");
  }
  o.master_addr = env("MASTER_ADDR").value_or(o.master_addr);
  o.master_port = env_int("MASTER_PORT", o.master_port, 1, 65535);
  const auto agent = env("TORCHELASTIC_USE_AGENT_STORE");
  o.agent_store = agent && (*agent == "True" || *agent == "true" || *agent == "1");
  o.restart_count = env_int("TORCHELASTIC_RESTART_COUNT", 0, 0, 1 << 30);
  o.timeout = env_seconds("SNN_DIST_TIMEOUT", o.timeout);
  o.connect_timeout = env_seconds("SNN_DIST_CONNECT_TIMEOUT", o.connect_timeout);
  return o;
}

std::shared_ptr<Distributed> Distributed::from_environment() {
  const auto o = options_from_environment();
  if (!o || o->world_size == 1) return nullptr;
  return std::make_shared<Distributed>(*o);
}

Distributed::Distributed(const DistributedOptions& o)
    : rank_(o.rank),
      world_size_(o.world_size),
      local_rank_(o.local_rank),
      local_world_size_(o.local_world_size) {
  TORCH_CHECK(o.world_size >= 1 && o.rank >= 0 && o.rank < o.world_size, kWhat,
              ": expected 0 <= rank < world_size, got rank ", o.rank, " of ", o.world_size);
  c10d::TCPStoreOptions so;
  so.port = static_cast<uint16_t>(o.master_port);
  so.isServer = !o.agent_store && o.rank == 0;
  if (so.isServer) so.numWorkers = static_cast<size_t>(o.world_size);
  so.waitWorkers = false;
  so.timeout = o.connect_timeout;
  const std::string where = o.master_addr + ":" + std::to_string(o.master_port);
  c10::intrusive_ptr<c10d::Store> tcp;
  try {
    tcp = c10::make_intrusive<c10d::TCPStore>(o.master_addr, so);
  } catch (const std::exception& e) {
    TORCH_CHECK(false, kWhat, ": rank ", o.rank, " cannot ",
                so.isServer ? "serve" : "reach", " the c10d store at ", where, " (waited up to ",
                o.connect_timeout.count() / 1000.0, " s): ", e.what());
  }
  store_ = c10::make_intrusive<c10d::PrefixStore>(
      "/worker/attempt_" + std::to_string(o.restart_count), tcp);
  auto gloo_options = c10d::ProcessGroupGloo::Options::create(o.timeout);
  gloo_options->devices.push_back(c10d::ProcessGroupGloo::createDefaultDevice());
  c10::intrusive_ptr<c10d::ProcessGroupGloo> gloo;
  try {
    gloo = c10::make_intrusive<c10d::ProcessGroupGloo>(store_, static_cast<int>(o.rank),
                                                       static_cast<int>(o.world_size), gloo_options);
  } catch (const std::exception& e) {
    TORCH_CHECK(false, kWhat, ": rank ", o.rank, " could not form the Gloo group of ",
                o.world_size, " processes through the store at ", where, ": ", e.what());
  }
  group_ = c10::make_intrusive<c10d::ProcessGroup>(store_, static_cast<int>(o.rank),
                                                   static_cast<int>(o.world_size));
  group_->setDefaultBackend(c10d::ProcessGroup::BackendType::GLOO);
  group_->setBackend(c10::DeviceType::CPU, c10d::ProcessGroup::BackendType::GLOO, gloo);
}

Distributed::Distributed(c10::intrusive_ptr<c10d::ProcessGroup> group, int64_t local_rank,
                         int64_t local_world_size)
    : group_(std::move(group)), local_rank_(local_rank), local_world_size_(local_world_size) {
  TORCH_CHECK(group_, kWhat, ": no process group given");
  rank_ = group_->getRank();
  world_size_ = group_->getSize();
}

Distributed::~Distributed() = default;

void Distributed::broadcast(at::Tensor& tensor) const {
  std::vector<at::Tensor> t{tensor};
  wait(group_->broadcast(t), "broadcast", rank_);
}

void Distributed::broadcast_module(torch::nn::Module& module) const {
  at::NoGradGuard no_grad;
  for (auto& p : module.parameters()) broadcast(p);
  for (auto& b : module.buffers()) broadcast(b);
}

std::string Distributed::broadcast_bytes(const std::string& bytes) const {
  auto size = at::tensor({static_cast<int64_t>(bytes.size())}, at::kLong);
  broadcast(size);
  auto data = at::empty({size.item<int64_t>()}, at::kByte);
  if (rank_ == 0 && !bytes.empty()) std::memcpy(data.data_ptr(), bytes.data(), bytes.size());
  if (data.numel() > 0) broadcast(data);
  return std::string(static_cast<const char*>(data.data_ptr()), static_cast<size_t>(data.numel()));
}

void Distributed::allreduce_sum(at::Tensor& tensor) const {
  TORCH_CHECK(tensor.is_contiguous(), kWhat, ": allreduce_sum of a non-contiguous tensor");
  std::vector<at::Tensor> t{tensor};
  wait(group_->allreduce(t), "allreduce", rank_);
}

// ---- GradientReducer ---------------------------------------------------------------------

struct GradientReducer::State {
  std::shared_ptr<Distributed> dist;
  std::vector<at::Tensor> params;
  struct Bucket {
    std::vector<size_t> members;          // indices into params
    std::vector<at::Tensor> grads;        // collected this step (undefined: not yet)
    size_t ready = 0;
    at::Tensor flat;
    c10::intrusive_ptr<c10d::Work> work;
  };
  std::vector<Bucket> buckets;
  std::vector<std::pair<size_t, size_t>> where;  // param -> (bucket, slot)
  std::vector<unsigned> hooks;                   // each param's hook, removed at the end
  size_t next = 0;                               // the next bucket to start
  bool active = false;
  int64_t bytes = 0;

  // Forgets the last step's buckets.
  void reset() {
    for (auto& b : buckets) {
      b.grads.assign(b.members.size(), at::Tensor());
      b.ready = 0;
      b.work.reset();
      b.flat = at::Tensor();
    }
    next = 0;
  }
  // A member's gradient: the one its hook collected, else the accumulated one (several
  // backward passes, not watched), else zeros (none).
  void start(Bucket& b) {
    std::vector<at::Tensor> parts;
    for (size_t k = 0; k < b.members.size(); ++k) {
      const auto& p = params[b.members[k]];
      const auto& g = b.grads[k].defined() ? b.grads[k] : p.grad();
      parts.push_back(g.defined() ? g.reshape({-1}) : at::zeros({p.numel()}, p.options()));
    }
    b.flat = at::cat(parts);
    std::vector<at::Tensor> t{b.flat};
    b.work = dist->process_group()->allreduce(t);
  }
  // Starts every complete bucket from `next` on, in order.
  void start_ready() {
    while (next < buckets.size() && buckets[next].ready == buckets[next].members.size()) {
      start(buckets[next++]);
    }
  }
};

GradientReducer::GradientReducer(std::shared_ptr<Distributed> distributed,
                                 std::vector<at::Tensor> params, int64_t bucket_bytes)
    : state_(std::make_unique<State>()) {
  auto& st = *state_;
  TORCH_CHECK(distributed, kWhat, ": GradientReducer needs a process group");
  st.dist = std::move(distributed);
  for (auto& p : params) {
    if (p.requires_grad()) st.params.push_back(p);
  }
  st.where.resize(st.params.size());
  int64_t in_bucket = 0;
  for (size_t i = st.params.size(); i-- > 0;) {
    const auto& p = st.params[i];
    const int64_t n = p.numel() * static_cast<int64_t>(p.element_size());
    // The first bucket small (1 MiB, as PyTorch's DDP does): its allreduce starts early.
    const int64_t cap = st.buckets.size() == 1 ? std::min<int64_t>(bucket_bytes, 1 << 20)
                                               : bucket_bytes;
    if (st.buckets.empty() || in_bucket + n > cap ||
        st.params[st.buckets.back().members.front()].scalar_type() != p.scalar_type()) {
      st.buckets.emplace_back();
      in_bucket = 0;
    }
    st.where[i] = {st.buckets.size() - 1, st.buckets.back().members.size()};
    st.buckets.back().members.push_back(i);
    in_bucket += n;
    st.bytes += n;
  }
  for (size_t i = 0; i < st.params.size(); ++i) {
    State* raw = state_.get();  // the hooks are removed before the state goes
    st.hooks.push_back(st.params[i].register_hook([raw, i](const at::Tensor& grad) {
      if (!raw->active) return;
      const auto [b, slot] = raw->where[i];
      auto& bucket = raw->buckets[b];
      if (!bucket.grads[slot].defined()) ++bucket.ready;
      bucket.grads[slot] = bucket.grads[slot].defined() ? bucket.grads[slot] + grad : grad;
      raw->start_ready();
    }));
  }
}

GradientReducer::~GradientReducer() {
  auto& st = *state_;
  for (size_t i = 0; i < st.params.size(); ++i) st.params[i].remove_hook(st.hooks[i]);
}

void GradientReducer::prepare() {
  state_->reset();
  state_->active = true;
}

int64_t GradientReducer::finish() {
  auto& st = *state_;
  if (!st.active) st.reset();  // nothing watched: every bucket from the gradients as they are
  st.active = false;
  for (; st.next < st.buckets.size(); ++st.next) st.start(st.buckets[st.next]);
  for (auto& b : st.buckets) {
    wait(b.work, "the gradients' allreduce", st.dist->rank());
    int64_t offset = 0;
    for (const size_t i : b.members) {
      auto& p = st.params[i];
      auto& g = p.mutable_grad();
      const auto sum = b.flat.slice(0, offset, offset + p.numel()).view_as(p);
      if (g.defined()) {
        g.copy_(sum);
      } else {
        g = sum.clone();
      }
      offset += p.numel();
    }
  }
  return st.bytes;
}

void Distributed::check_same(const std::vector<std::pair<std::string, std::string>>& named) const {
  // Each fingerprint as a 64-bit hash; every rank gathers every rank's.
  const auto k = static_cast<int64_t>(named.size());
  if (k == 0) return;
  auto mine = at::empty({k}, at::kLong);
  for (int64_t i = 0; i < k; ++i) {
    mine[i] = fingerprint(named[static_cast<size_t>(i)].second);
  }
  std::vector<std::vector<at::Tensor>> out(1);
  for (int64_t r = 0; r < world_size_; ++r) out[0].push_back(at::empty({k}, at::kLong));
  std::vector<at::Tensor> in{mine};
  wait(group_->allgather(out, in), "the configuration check", rank_);
  std::ostringstream differ;
  for (int64_t i = 0; i < k; ++i) {
    std::vector<int64_t> odd;
    for (int64_t r = 0; r < world_size_; ++r) {
      if (out[0][static_cast<size_t>(r)][i].item<int64_t>() !=
          out[0][0][i].item<int64_t>()) {
        odd.push_back(r);
      }
    }
    if (!odd.empty()) {
      differ << (differ.tellp() > 0 ? "; " : "") << "the " << named[static_cast<size_t>(i)].first
             << " of rank" << (odd.size() > 1 ? "s " : " ");
      for (size_t j = 0; j < odd.size(); ++j) differ << (j ? ", " : "") << odd[j];
      differ << " differs from rank 0's";
    }
  }
  TORCH_CHECK(differ.tellp() == 0, kWhat, ": the ", world_size_,
              " processes were not started alike: ", differ.str(),
              " (every rank must train the same configuration on the same data)");
}

void Distributed::barrier() const { wait(group_->barrier(), "barrier", rank_); }

}  // namespace snn::train
