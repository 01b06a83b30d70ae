#pragma once
/// \file
/// Training spiking networks with backpropagation through time: losses and decoders,
/// a trainer (BPTT and truncated BPTT, synops / firing-rate regularisers, gradient
/// clipping, learning-rate schedules, metrics per epoch) and exact resume from checkpoints.
///
/// Example (the SHD tutorial's loop):
///   auto model = torch::nn::Sequential(torch::nn::Linear(140, 64), snn::IAF(), ...);
///   auto adam = std::make_shared<torch::optim::Adam>(model->parameters(),
///                                                     torch::optim::AdamOptions(1e-3));
///   snn::train::Trainer trainer(model, adam, snn::train::TrainerOptions().epochs(5));
///   trainer.on_epoch = [](const snn::train::EpochMetrics& m) {
///     std::cout << m.epoch << " " << m.train_accuracy << "\n"; return true; };
///   trainer.fit({x_train, y_train}, snn::train::Dataset{x_test, y_test});
#include <ATen/core/Tensor.h>
#include <torch/arg.h>
#include <torch/nn/pimpl.h>
#include <torch/nn/modules/container/sequential.h>
#include <torch/optim/optimizer.h>

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "snn/train/distributed.h"

namespace snn::train {

/// How the network's output [B, T, C] becomes a loss (and a prediction).
enum class LossKind {
  /// cross_entropy(output summed over time, label): Sinabs' tutorials. Prediction: the
  /// class with the most spikes.
  SumCrossEntropy,
  /// The mean over time steps of cross_entropy(output_t, label): snnTorch's ce_rate_loss.
  /// Prediction: the most spikes.
  RateCrossEntropy,
  /// Mean squared error between each class's spike count and its target count
  /// (trunc(correct_rate·T) for the label, trunc(incorrect_rate·T) for the others: whole
  /// spikes), divided by T: snnTorch's mse_count_loss. Prediction: the most spikes.
  CountMSE,
  /// cross_entropy(output's maximum over time, label), for membrane read-outs (e.g. an
  /// ExpLeak or non-spiking last layer). Prediction: the largest maximum.
  MaxMembraneCrossEntropy,
  /// Mean squared error of the output at every time step against on_target for the label
  /// and off_target for the others: snnTorch's mse_membrane_loss. Prediction: the largest
  /// mean over time.
  MembraneMSE,
};

/// A loss and its decoder. Example: `LossOptions(LossKind::CountMSE).correct_rate(0.8)`.
struct LossOptions {
  /* implicit */ LossOptions(LossKind kind = LossKind::SumCrossEntropy) : kind_(kind) {}
  TORCH_ARG(LossKind, kind);
  /// CountMSE: target rate of the label's class (spikes per step). Default: 1.
  TORCH_ARG(double, correct_rate) = 1.0;
  /// CountMSE: target rate of the other classes. Default: 0.
  TORCH_ARG(double, incorrect_rate) = 0.0;
  /// MembraneMSE: target of the label's output. Default: 1.
  TORCH_ARG(double, on_target) = 1.0;
  /// MembraneMSE: target of the other outputs. Default: 0. (snnTorch builds its targets as
  /// clamp(one_hot·on_target, min = off_target), so that a negative off_target becomes 0
  /// there; here it is the target as given.)
  TORCH_ARG(double, off_target) = 0.0;
};

/// The loss of output [B, T, C] against labels [B] (int64 class indices).
at::Tensor loss(const LossOptions& options, const at::Tensor& output, const at::Tensor& labels);
/// The predicted class of every sample, [B].
at::Tensor predict(const LossOptions& options, const at::Tensor& output);

/// Learning rate by epoch e (from 0), from the optimizer's initial rate lr0. Stateless, so
/// a resumed run gets the same rates.
struct LrSchedule {
  enum class Kind { Constant, Step, Cosine };
  Kind kind = Kind::Constant;
  /// Step: lr0 · gamma^floor(e / step_size).
  int64_t step_size = 1;
  double gamma = 0.1;
  /// Cosine: min_lr + (lr0 - min_lr)·(1 + cos(π·e / epochs))/2.
  double min_lr = 0.0;
  static LrSchedule constant() { return {}; }
  static LrSchedule step(int64_t step_size, double gamma) {
    LrSchedule s;
    s.kind = Kind::Step;
    s.step_size = step_size;
    s.gamma = gamma;
    return s;
  }
  static LrSchedule cosine(double min_lr = 0.0) {
    LrSchedule s;
    s.kind = Kind::Cosine;
    s.min_lr = min_lr;
    return s;
  }
  double lr(double lr0, int64_t epoch, int64_t epochs) const;
};

struct TrainerOptions {
  /// Epochs to train (fit runs from the current epoch up to this one). Default: 10.
  TORCH_ARG(int64_t, epochs) = 10;
  /// Samples per batch. Default: 32.
  TORCH_ARG(int64_t, batch_size) = 32;
  /// Shuffle the training samples every epoch (the order depends on seed and epoch only).
  /// Default: true.
  TORCH_ARG(bool, shuffle) = true;
  /// Leave out the last, partial batch (for models whose Squeeze layers fix the batch
  /// size). Default: false.
  TORCH_ARG(bool, drop_last) = false;
  /// Seed of the shuffling and of the default generator at the start. Default: 0.
  TORCH_ARG(uint64_t, seed) = 0;
  TORCH_ARG(LossOptions, loss) = LossOptions();
  /// Truncated BPTT: time windows of this many steps; after each, backward of its loss and
  /// the states detached (their values kept); one optimizer step per batch. Default: none
  /// (full BPTT).
  TORCH_ARG(std::optional<int64_t>, truncation) = std::nullopt;
  /// Adds synops_weight · (the batch's synops per sample, snn::analysis). Default: 0.
  TORCH_ARG(double, synops_weight) = 0.0;
  /// Adds firing_rate_weight · (mean firing rate - firing_rate_target)². Default: 0.
  TORCH_ARG(double, firing_rate_weight) = 0.0;
  TORCH_ARG(double, firing_rate_target) = 0.0;
  /// Clips the gradients' total L2 norm to this value. Default: none.
  TORCH_ARG(std::optional<double>, clip_grad_norm) = std::nullopt;
  TORCH_ARG(LrSchedule, lr_schedule) = LrSchedule();
  /// The duration of a time step in ms (for synops per second). Default: 1.
  TORCH_ARG(double, dt) = 1.0;
  /// Measure synops per sample and the mean firing rate of every batch (EpochMetrics'
  /// synops and firing_rate; snn::analysis::Analyzer, which needs a Sequential). Off: they
  /// are NaN and the model runs on its own, unless a regulariser (synops_weight,
  /// firing_rate_weight) needs the analysis anyway. Default: true.
  TORCH_ARG(bool, activity_metrics) = true;
  /// Written after every epoch when not empty: a checkpoint to resume from.
  /// Perturbs each training batch [B, T, ...] (as float) before its forward, e.g. with
  /// snn::train::augment_frames (snn/train/augment.h). It is called with a generator seeded
  /// by the seed, the epoch and the batch's index, so that a resumed run draws exactly what
  /// the uninterrupted one drew. Empty: none. Default: empty.
  TORCH_ARG(std::function<at::Tensor(const at::Tensor&, at::Generator&)>, augment);
  TORCH_ARG(std::string, checkpoint_path) = "";
  /// Data-parallel training over the processes of `distributed` (see snn/train/distributed.h):
  /// batch_size is the global batch, dealt out over the ranks (rank r takes samples r, r + W,
  /// ... of each batch), the gradients summed with c10d's allreduce, weighted by each rank's
  /// share: the same steps as one process with the same batch_size. Rank 0 alone writes the
  /// checkpoint. The firing-rate regulariser is the square of each rank's own mean rate (so
  /// it differs slightly from one process's). Default: none (one process).
  TORCH_ARG(std::shared_ptr<Distributed>, distributed) = nullptr;
};

/// Inputs [N, T, ...] (float, or integer counts such as uint8 frames: each batch becomes
/// float) and labels [N] (int64).
struct Dataset {
  at::Tensor inputs;
  at::Tensor labels;
};

/// A model to train or evaluate: a module and its forward, inputs [B, T, ...] to outputs
/// [B, T, C]. Made from any module holder whose forward takes one tensor (a Sequential, a
/// TORCH_MODULE of one's own, ...), e.g. `snn::train::Model(my_net)`.
struct Model {
  template <typename M>
  /* implicit */ Model(const torch::nn::ModuleHolder<M>& holder)
      : module(holder.ptr()), forward([impl = holder.ptr()](const at::Tensor& x) -> at::Tensor {
          return impl->forward(x);
        }) {}
  std::shared_ptr<torch::nn::Module> module;
  std::function<at::Tensor(const at::Tensor&)> forward;
};

/// What evaluate() is asked for.
struct EvaluateOptions {
  /// Samples per forward. Default: 32.
  TORCH_ARG(int64_t, batch_size) = 32;
  /// Leave out the last, partial batch (models whose Squeeze layers fix the batch size).
  /// Default: false.
  TORCH_ARG(bool, drop_last) = false;
  /// The loss and decoder (prediction). Default: SumCrossEntropy.
  TORCH_ARG(LossOptions, loss) = LossOptions();
  /// Measure synops and firing rate (needs a Sequential); off: they are NaN. Default: true.
  TORCH_ARG(bool, activity_metrics) = true;
  /// The duration of a time step in ms (for synops per second). Default: 1.
  TORCH_ARG(double, dt) = 1.0;
  /// Each rank evaluates a contiguous part of the data; the sums are reduced over the ranks,
  /// so that every rank returns the metrics of the whole data. Default: none.
  TORCH_ARG(std::shared_ptr<Distributed>, distributed) = nullptr;
};

/// What one epoch gave. The test values are NaN without test data.
struct EpochMetrics {
  int64_t epoch = 0;
  double lr = 0;
  double train_loss = 0, train_accuracy = 0;
  double test_loss = 0, test_accuracy = 0;
  /// Synops per sample and mean firing rate, averaged over the training batches.
  double synops = 0, firing_rate = 0;
  double seconds = 0;
};

/// One optimizer step.
struct StepInfo {
  int64_t epoch = 0, step = 0;        // step: counted over the whole run
  int64_t batch = 0, batches = 0;     // within the epoch
  double loss = 0, accuracy = 0;      // of this batch
};

/// Loss, accuracy, and (activity_metrics) synops and firing rate of `model` on `data`,
/// without gradients, in eval mode, the states reset before every batch and after the last:
/// the test_* fields and synops / firing_rate of the result. `model` is any module whose
/// forward maps inputs [B, T, ...] to outputs [B, T, C] (a Sequential, or any other held by
/// any module holder). Example:
///   auto m = snn::train::evaluate(model, test, EvaluateOptions().batch_size(256));
EpochMetrics evaluate(const Model& model, const Dataset& data,
                      const EvaluateOptions& options = {});

/// The predicted class of every sample of `data` [N] (options.loss()'s decoder), without
/// gradients, in eval mode, the states reset before every batch and after the last.
at::Tensor predictions(const Model& model, const Dataset& data,
                       const EvaluateOptions& options = {});

/// counts[label][predicted] over the samples, [classes, classes] int64. Labels and
/// predictions must lie in [0, classes).
at::Tensor confusion_matrix(const at::Tensor& labels, const at::Tensor& predicted,
                            int64_t classes);

class Trainer {
 public:
  /// The model: any module whose forward maps [B, T, ...] to [B, T, C]; a Sequential with
  /// a spiking layer when activity metrics or a regulariser need the Analyzer (see
  /// snn::analysis::Analyzer). The optimizer must hold its parameters.
  Trainer(Model model, std::shared_ptr<torch::optim::Optimizer> optimizer,
          TrainerOptions options = {});
  ~Trainer();

  /// Trains from epoch() up to options.epochs(), evaluating `test` after each epoch when
  /// given, writing the checkpoint (when a path is set) after each. Returns the metrics of
  /// the epochs it ran. Stops early when on_epoch returns false.
  std::vector<EpochMetrics> fit(const Dataset& train, const std::optional<Dataset>& test = {});
  /// snn::train::evaluate of this model with this trainer's batch size, loss and analysis.
  EpochMetrics evaluate(const Dataset& data);

  /// Writes the model, the optimizer, epoch, step, the default generator's state and the
  /// metrics so far (atomically).
  void save_checkpoint(const std::string& path) const;
  /// Restores what save_checkpoint wrote; a following fit continues exactly where the
  /// saved run was (same thread count: same numbers, bit for bit). Data-parallel, rank 0
  /// reads the file and sends its bytes to every rank (the others need not see the file).
  void load_checkpoint(const std::string& path);

  /// Epochs completed.
  int64_t epoch() const { return epoch_; }
  /// Optimizer steps taken.
  int64_t step() const { return step_; }
  const std::vector<EpochMetrics>& history() const { return history_; }
  const TrainerOptions& options() const { return options_; }

  /// Called after every optimizer step (progress display).
  std::function<void(const StepInfo&)> on_step;
  /// Called after every epoch (and its checkpoint); return false to stop.
  std::function<bool(const EpochMetrics&)> on_epoch;

 private:
  // One optimizer step on this rank's part x, y of a batch (share: its fraction of the
  // batch, 1 for one process); returns [loss, correct, synops, firing rate] (detached,
  // double; zeros for an empty part).
  at::Tensor run_batch(const at::Tensor& x, const at::Tensor& y, double share);
  bool analysing() const;
  // Clips the gradients (clip_grad_norm) and steps the optimizer.
  void step_optimizer();

  Model model_;
  std::shared_ptr<torch::optim::Optimizer> optimizer_;
  TrainerOptions options_;
  struct Analysis;
  std::unique_ptr<Analysis> analysis_;
  std::vector<double> base_lr_;
  // Data-parallel: sums the gradients over the ranks (while the backward runs, for one
  // backward per step).
  std::unique_ptr<GradientReducer> reducer_;
  int64_t epoch_ = 0, step_ = 0;
  std::vector<EpochMetrics> history_;
};

}  // namespace snn::train
