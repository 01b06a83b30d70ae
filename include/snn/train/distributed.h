#pragma once
/// \file
/// Data-parallel training on PyTorch's distributed engine: a c10d store and a Gloo process
/// group, as `torchrun` sets them up (or any c10d process group one already has).
///
///   torchrun --no-python --nproc-per-node 2 build/snn train ...     (the CLI)
///
///   auto dist = snn::train::Distributed::from_environment();   // null: not launched so
///   snn::train::Trainer trainer(model, adam, TrainerOptions().distributed(dist));
///
/// What the Trainer does with it (see TrainerOptions::distributed):
/// - parameters and buffers are broadcast from rank 0 at the start of fit() (and a resumed
///   run's checkpoint is rank 0's, sent to every rank), so every replica starts alike;
/// - each epoch's order is drawn from the seed alone (one global order), and every global
///   batch of `batch_size` samples is dealt out: rank r takes the batch's samples r, r + W,
///   r + 2W, ... (W processes), so that the union of the ranks' pieces is the batch a single
///   process would take. Each rank's gradient is weighted by its share of the batch and the
///   gradients are summed with the process group's allreduce (in buckets, while the backward
///   runs: GradientReducer below): the step is the
///   single-process step, also for a last batch that does not divide evenly (a rank with no
///   sample in it contributes zeros);
/// - the epoch's metrics and the evaluation (each rank evaluates a contiguous part of the
///   test set) are summed over the ranks, so every rank reports the same numbers.
/// The collectives, the store and the launcher are c10d's, Gloo's and torchrun's.
#include <ATen/core/Tensor.h>
#include <c10/util/intrusive_ptr.h>

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace c10d {
class ProcessGroup;
class Store;
}  // namespace c10d

namespace torch::nn {
class Module;
}

namespace snn::train {

/// Where the processes meet and who this one is (torchrun's environment variables).
struct DistributedOptions {
  /// This process's rank in [0, world_size) (RANK).
  int64_t rank = 0;
  /// The number of processes (WORLD_SIZE).
  int64_t world_size = 1;
  /// The rank among the processes of this machine (LOCAL_RANK) and their number
  /// (LOCAL_WORLD_SIZE).
  int64_t local_rank = 0, local_world_size = 1;
  /// The c10d store's address (MASTER_ADDR, MASTER_PORT).
  std::string master_addr = "127.0.0.1";
  int64_t master_port = 29500;
  /// torchrun's agent hosts the store (TORCHELASTIC_USE_AGENT_STORE=True): every rank is a
  /// client; else rank 0 serves it. The keys live under /worker/attempt_<restart_count>
  /// (TORCHELASTIC_RESTART_COUNT), as torch's own processes keep them.
  bool agent_store = false;
  int64_t restart_count = 0;
  /// How long to wait for the store (connecting, the other ranks joining). Default: 60 s
  /// (SNN_DIST_CONNECT_TIMEOUT, in seconds).
  std::chrono::milliseconds connect_timeout{60000};
  /// How long a collective waits for the other ranks before failing (a rank that hangs);
  /// a rank that dies closes its connections, which fails the others' next collective at
  /// once. Default: 300 s (SNN_DIST_TIMEOUT, in seconds).
  std::chrono::milliseconds timeout{300000};
};

class Distributed {
 public:
  /// Joins the store and builds a Gloo process group. Throws naming the store's address
  /// when it cannot be reached in connect_timeout.
  explicit Distributed(const DistributedOptions& options);
  /// Uses a process group one has (any c10d backend that runs CPU collectives).
  Distributed(c10::intrusive_ptr<c10d::ProcessGroup> group, int64_t local_rank = 0,
              int64_t local_world_size = 1);
  ~Distributed();

  /// The options that torchrun's environment describes (RANK, WORLD_SIZE, LOCAL_RANK,
  /// LOCAL_WORLD_SIZE, MASTER_ADDR, MASTER_PORT, TORCHELASTIC_USE_AGENT_STORE,
  /// TORCHELASTIC_RESTART_COUNT, SNN_DIST_TIMEOUT, SNN_DIST_CONNECT_TIMEOUT), or none when
  /// WORLD_SIZE is unset. Throws naming a variable that is set but malformed or missing.
  static std::optional<DistributedOptions> options_from_environment();
  /// A Distributed from torchrun's environment; null when the process was not launched as
  /// one of several (no WORLD_SIZE, or WORLD_SIZE=1).
  static std::shared_ptr<Distributed> from_environment();

  int64_t rank() const { return rank_; }
  int64_t world_size() const { return world_size_; }
  int64_t local_rank() const { return local_rank_; }
  int64_t local_world_size() const { return local_world_size_; }
  /// Rank 0: the process that writes files and prints.
  bool is_main() const { return rank_ == 0; }
  const c10::intrusive_ptr<c10d::ProcessGroup>& process_group() const { return group_; }

  /// Rank 0's values of the module's parameters and buffers, on every rank.
  void broadcast_module(torch::nn::Module& module) const;
  /// Rank 0's tensor (same shape and dtype on every rank), in place.
  void broadcast(at::Tensor& tensor) const;
  /// Rank 0's bytes on every rank (of any length).
  std::string broadcast_bytes(const std::string& bytes) const;
  /// The sum over the ranks, in place (a CPU tensor).
  void allreduce_sum(at::Tensor& tensor) const;
  /// Every rank's `fingerprint` of each named thing (the data, the model, the seed ...):
  /// throws on every rank, naming the thing and the ranks, when they differ.
  void check_same(const std::vector<std::pair<std::string, std::string>>& named) const;
  void barrier() const;

 private:
  c10::intrusive_ptr<c10d::Store> store_;
  c10::intrusive_ptr<c10d::ProcessGroup> group_;
  int64_t rank_ = 0, world_size_ = 1, local_rank_ = 0, local_world_size_ = 1;
};

/// Sums gradients over the ranks while the backward still runs: the parameters are split
/// into buckets of about bucket_bytes, the first of 1 MiB (in reverse order, the order in
/// which the backward produces their gradients; a bucket grows by whole parameters), a hook on each parameter collects its gradient, and a bucket's
/// allreduce starts as soon as it and every bucket before it are complete (so that every rank
/// starts the same collectives in the same order). For one backward per step:
///   reducer.prepare(); loss.backward(); reducer.finish();   // .grad now holds the sums
/// A parameter the backward did not reach counts as zeros. finish() without prepare() sums
/// the gradients as they are (several backward passes per step, as truncated BPTT takes; or
/// none, on a rank with no sample in a batch: zeros).
class GradientReducer {
 public:
  GradientReducer(std::shared_ptr<Distributed> distributed, std::vector<at::Tensor> params,
                  int64_t bucket_bytes = 25 << 20);
  ~GradientReducer();
  GradientReducer(const GradientReducer&) = delete;
  GradientReducer& operator=(const GradientReducer&) = delete;
  /// Before the backward of a step.
  void prepare();
  /// After it: starts what has not started, waits, writes the sums into the gradients.
  /// Returns the bytes reduced.
  int64_t finish();

 private:
  struct State;
  std::unique_ptr<State> state_;
};

}  // namespace snn::train
