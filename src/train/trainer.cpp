// snn::train: losses, decoders, learning-rate schedules and the BPTT trainer.
#include "snn/train/trainer.h"

#include <ATen/ATen.h>
#include <ATen/CPUGeneratorImpl.h>
#include <c10/util/Exception.h>
#include <torch/nn/utils/clip_grad.h>
#include <torch/serialize/input-archive.h>
#include <torch/serialize/output-archive.h>
#include <torch/utils.h>

#include <chrono>
#include <cmath>
#include <sstream>
#include <limits>
#include <mutex>

#include "snn/analysis/analyzer.h"
#include "snn/nn/stateful.h"
#include "snn/snntorch/functional.h"
#include "snn/io/files.h"
#include "snn/train/checkpoint.h"

namespace snn::train {
namespace {

// Inputs stored as integer counts (uint8 frames, to save memory) become float per batch.
at::Tensor as_float(const at::Tensor& x) {
  return x.is_floating_point() ? x : x.to(at::kFloat);
}

constexpr const char* kWhat = "snn::train";

void check_output(const at::Tensor& output, const at::Tensor& labels) {
  TORCH_CHECK(output.dim() == 3, kWhat, ": expected the network's output of shape [B, T, C], got ",
              output.sizes());
  TORCH_CHECK(labels.dim() == 1 && labels.size(0) == output.size(0), kWhat,
              ": expected labels of shape [", output.size(0), "], got ", labels.sizes());
  TORCH_CHECK(labels.scalar_type() == at::kLong, kWhat, ": expected int64 labels, got ",
              labels.scalar_type());
}

void check_dataset(const Dataset& d, const char* which) {
  TORCH_CHECK(d.inputs.defined() && d.labels.defined(), kWhat, ": the ", which,
              " data has no inputs or labels");
  TORCH_CHECK(d.inputs.dim() >= 3, kWhat, ": expected ", which,
              " inputs of shape [N, T, ...], got ", d.inputs.sizes());
  TORCH_CHECK(d.labels.dim() == 1 && d.labels.size(0) == d.inputs.size(0), kWhat,
              ": expected ", which, " labels of shape [", d.inputs.size(0), "], got ",
              d.labels.sizes());
  TORCH_CHECK(d.labels.scalar_type() == at::kLong, kWhat, ": expected int64 ", which,
              " labels, got ", d.labels.scalar_type());
  TORCH_CHECK(d.inputs.size(0) > 0, kWhat, ": the ", which, " data is empty");
}

std::vector<std::pair<int64_t, int64_t>> batches(int64_t n, int64_t batch_size, bool drop_last) {
  std::vector<std::pair<int64_t, int64_t>> out;
  for (int64_t b0 = 0; b0 < n; b0 += batch_size) {
    const int64_t b1 = std::min(n, b0 + batch_size);
    if (drop_last && b1 - b0 < batch_size) break;
    out.emplace_back(b0, b1);
  }
  return out;
}

constexpr int kMetricFields = 10;

std::vector<double> to_row(const EpochMetrics& m) {
  return {static_cast<double>(m.epoch), m.lr, m.train_loss, m.train_accuracy, m.test_loss,
          m.test_accuracy, m.synops, m.firing_rate, m.seconds, 0.0};
}

EpochMetrics from_row(const double* r) {
  EpochMetrics m;
  m.epoch = static_cast<int64_t>(r[0]);
  m.lr = r[1];
  m.train_loss = r[2];
  m.train_accuracy = r[3];
  m.test_loss = r[4];
  m.test_accuracy = r[5];
  m.synops = r[6];
  m.firing_rate = r[7];
  m.seconds = r[8];
  return m;
}

}  // namespace

at::Tensor loss(const LossOptions& o, const at::Tensor& output, const at::Tensor& labels) {
  check_output(output, labels);
  // snnTorch's losses (snn::snntorch::functional) on the time-first view of the output.
  namespace F = snn::snntorch::functional;
  const auto tbc = output.transpose(0, 1);
  switch (o.kind()) {
    case LossKind::SumCrossEntropy:
      return F::ce_count_loss(tbc, labels);
    case LossKind::RateCrossEntropy:
      return F::ce_rate_loss(tbc, labels);
    case LossKind::CountMSE:
      return F::mse_count_loss(
          tbc, labels,
          F::MSECountLossOptions().correct_rate(o.correct_rate()).incorrect_rate(o.incorrect_rate()));
    case LossKind::MaxMembraneCrossEntropy:
      return F::ce_max_membrane_loss(tbc, labels);
    case LossKind::MembraneMSE:
      return F::mse_membrane_loss(
          tbc, labels, F::MSEMembraneLossOptions().on_target(o.on_target()).off_target(o.off_target()));
  }
  TORCH_INTERNAL_ASSERT(false, "unknown loss kind");
}

at::Tensor predict(const LossOptions& o, const at::Tensor& output) {
  TORCH_CHECK(output.dim() == 3, kWhat, ": expected the network's output of shape [B, T, C], got ",
              output.sizes());
  switch (o.kind()) {
    case LossKind::MaxMembraneCrossEntropy:
      return std::get<0>(output.max(1)).argmax(1);
    case LossKind::MembraneMSE:
      return output.mean(1).argmax(1);
    default:
      return output.sum(1).argmax(1);
  }
}

double LrSchedule::lr(double lr0, int64_t epoch, int64_t epochs) const {
  switch (kind) {
    case Kind::Constant:
      return lr0;
    case Kind::Step:
      return lr0 * std::pow(gamma, static_cast<double>(epoch / std::max<int64_t>(step_size, 1)));
    case Kind::Cosine:
      return min_lr + (lr0 - min_lr) *
                          (1 + std::cos(M_PI * static_cast<double>(epoch) /
                                        static_cast<double>(std::max<int64_t>(epochs, 1)))) /
                          2;
  }
  return lr0;
}

namespace {

// The Analyzer over a model, when it is a Sequential; an error naming `why` otherwise.
std::unique_ptr<snn::analysis::Analyzer> make_analyzer(const Model& model, double dt,
                                                       const char* why) {
  auto sequential = std::dynamic_pointer_cast<torch::nn::SequentialImpl>(model.module);
  TORCH_CHECK(sequential != nullptr, kWhat, ": ", why, " needs the model to be a Sequential "
              "(snn::analysis::Analyzer); turn it off for other modules");
  return std::make_unique<snn::analysis::Analyzer>(torch::nn::Sequential(sequential), dt);
}

// Sums over the batches of a run, as one double tensor [loss·n, correct, synops·n, rate·n]:
// nothing is read on the host until the totals are.
struct MetricSums {
  at::Tensor sums = at::zeros({4}, at::kDouble);
  int64_t seen = 0;
  // `batch`: [loss, correct, synops, rate] of n samples.
  void add(const at::Tensor& batch, int64_t n) {
    const double w = static_cast<double>(n);
    sums += batch * at::tensor({w, 1.0, w, w}, at::kDouble);
    seen += n;
  }
  // Sums over the ranks (data-parallel): every rank then holds the totals.
  void reduce(const Distributed* d) {
    if (d == nullptr) return;
    auto all = at::cat({sums, at::tensor({static_cast<double>(seen)}, at::kDouble)});
    d->allreduce_sum(all);
    sums = all.slice(0, 0, 4).clone();
    seen = static_cast<int64_t>(all[4].item<double>());
  }
  // Fills loss, accuracy, synops and rate (synops and rate NaN without analysis).
  void finish(double& loss, double& accuracy, double& synops, double& rate, bool analysed) const {
    const auto t = (sums / static_cast<double>(seen)).contiguous();
    const double* v = t.data_ptr<double>();
    loss = v[0];
    accuracy = v[1];
    const double nan = std::numeric_limits<double>::quiet_NaN();
    synops = analysed ? v[2] : nan;
    rate = analysed ? v[3] : nan;
  }
};

// [loss, correct, synops, rate] of one batch as a detached double tensor.
at::Tensor batch_row(const at::Tensor& loss, const at::Tensor& correct, const at::Tensor& synops,
                     const at::Tensor& rate) {
  return at::stack({loss.detach().to(at::kDouble).reshape({}), correct.to(at::kDouble).reshape({}),
                    synops.detach().to(at::kDouble).reshape({}),
                    rate.detach().to(at::kDouble).reshape({})});
}

// What the ranks of a data-parallel run compare at the start (Distributed::check_same).
std::string data_fingerprint(const Dataset& d) {
  std::ostringstream os;
  os.precision(17);
  const auto labels = d.labels.to(at::kLong);
  os << d.inputs.sizes() << d.inputs.scalar_type() << ' ' << d.inputs.sum(at::kDouble).item<double>()
     << ' ' << (labels * at::arange(labels.size(0), at::kLong)).sum().item<int64_t>();
  return os.str();
}

std::string model_fingerprint(const torch::nn::Module& m) {
  std::ostringstream os;
  os << m.name();
  for (const auto& p : m.named_parameters()) os << ' ' << p.key() << p.value().sizes();
  for (const auto& b : m.named_buffers()) os << ' ' << b.key() << b.value().sizes();
  return os.str();
}

std::string options_fingerprint(const TrainerOptions& o) {
  std::ostringstream os;
  os.precision(17);
  const auto& l = o.loss();
  const auto& lr = o.lr_schedule();
  os << "epochs=" << o.epochs() << " batch_size=" << o.batch_size() << " shuffle=" << o.shuffle()
     << " drop_last=" << o.drop_last() << " seed=" << o.seed()
     << " truncation=" << o.truncation().value_or(0) << " loss=" << static_cast<int>(l.kind())
     << ',' << l.correct_rate() << ',' << l.incorrect_rate() << ',' << l.on_target() << ','
     << l.off_target() << " synops_weight=" << o.synops_weight()
     << " firing_rate=" << o.firing_rate_weight() << ',' << o.firing_rate_target()
     << " clip=" << o.clip_grad_norm().value_or(0) << " lr=" << static_cast<int>(lr.kind) << ','
     << lr.step_size << ',' << lr.gamma << ',' << lr.min_lr << " dt=" << o.dt()
     << " augment=" << static_cast<bool>(o.augment());
  return os.str();
}

}  // namespace

struct Trainer::Analysis {
  std::unique_ptr<snn::analysis::Analyzer> analyzer;  // null: not analysing
};

Trainer::Trainer(Model model, std::shared_ptr<torch::optim::Optimizer> optimizer,
                 TrainerOptions options)
    : model_(std::move(model)), optimizer_(std::move(optimizer)), options_(std::move(options)) {
  TORCH_CHECK(model_.module != nullptr && model_.forward, kWhat, ": the model is empty (a null module)");
  TORCH_CHECK(optimizer_ != nullptr, kWhat, ": no optimizer given");
  TORCH_CHECK(options_.epochs() >= 1, kWhat, ": epochs must be >= 1, got ", options_.epochs());
  TORCH_CHECK(options_.batch_size() >= 1, kWhat, ": batch_size must be >= 1, got ",
              options_.batch_size());
  TORCH_CHECK(!options_.truncation() || *options_.truncation() >= 1, kWhat,
              ": truncation must be >= 1 time step, got ", options_.truncation().value_or(0));
  TORCH_CHECK(!options_.clip_grad_norm() || *options_.clip_grad_norm() > 0, kWhat,
              ": clip_grad_norm must be > 0, got ", options_.clip_grad_norm().value_or(0));
  TORCH_CHECK(options_.synops_weight() >= 0 && options_.firing_rate_weight() >= 0, kWhat,
              ": regulariser weights must be >= 0, got synops_weight ", options_.synops_weight(),
              " and firing_rate_weight ", options_.firing_rate_weight());
  analysis_ = std::make_unique<Analysis>();
  if (options_.activity_metrics() || options_.synops_weight() > 0 ||
      options_.firing_rate_weight() > 0) {
    analysis_->analyzer = make_analyzer(
        model_, options_.dt(),
        options_.activity_metrics() ? "TrainerOptions::activity_metrics" : "a regulariser");
  }
  for (const auto& group : optimizer_->param_groups()) {
    base_lr_.push_back(group.options().get_lr());
  }
  if (options_.distributed()) {
    reducer_ = std::make_unique<GradientReducer>(options_.distributed(),
                                                 model_.module->parameters());
  }
}

Trainer::~Trainer() = default;

bool Trainer::analysing() const { return analysis_->analyzer != nullptr; }

at::Tensor Trainer::run_batch(const at::Tensor& x, const at::Tensor& y, double share) {
  auto* analyzer = analysis_->analyzer.get();
  snn::reset_states(*model_.module);
  optimizer_->zero_grad();
  if (x.size(0) == 0 && reducer_) {  // no sample of the batch here: zeros to the allreduce
    reducer_->finish();
    step_optimizer();
    return at::zeros({4}, at::kDouble);
  }
  const int64_t T = x.size(1);
  const int64_t window = options_.truncation().value_or(T);
  // One backward per step: its gradients are summed over the ranks while it runs.
  if (reducer_ && window >= T) reducer_->prepare();
  const auto zero = at::zeros({}, at::kDouble);
  at::Tensor total = zero, synops = zero, rate = zero;
  std::vector<at::Tensor> outputs;
  for (int64_t t0 = 0; t0 < T; t0 += window) {
    const int64_t t1 = std::min(T, t0 + window);
    const auto xw = window == T ? x : x.slice(1, t0, t1);
    const auto out = analyzer != nullptr ? analyzer->forward(xw) : model_.forward(xw);
    auto l = loss(options_.loss(), out, y);
    if (window != T) l = l * (static_cast<double>(t1 - t0) / static_cast<double>(T));
    if (analyzer != nullptr) {
      const auto stats = analyzer->model_statistics();
      if (options_.synops_weight() > 0) l = l + options_.synops_weight() * stats.synops;
      if (options_.firing_rate_weight() > 0) {
        l = l + options_.firing_rate_weight() *
                    (stats.firing_rate - options_.firing_rate_target()).square();
      }
      synops = synops + stats.synops.detach().to(at::kDouble);
      rate = rate + stats.firing_rate.detach().to(at::kDouble) *
                        (static_cast<double>(t1 - t0) / static_cast<double>(T));
    }
    // Data-parallel: this rank's loss weighted by its share of the batch, so that the summed
    // gradients are those of the whole batch's mean (share 1 for one process).
    (share == 1.0 ? l : l * share).backward();
    total = total + l.detach().to(at::kDouble);
    outputs.push_back(out.detach());
    if (window != T) snn::detach_states(*model_.module);
  }
  if (reducer_) reducer_->finish();
  step_optimizer();
  const auto output = outputs.size() == 1 ? outputs[0] : at::cat(outputs, 1);
  const auto correct = predict(options_.loss(), output).eq(y).sum();
  return batch_row(total, correct, synops, rate);
}

void Trainer::step_optimizer() {
  if (options_.clip_grad_norm()) {
    torch::nn::utils::clip_grad_norm_(model_.module->parameters(), *options_.clip_grad_norm());
  }
  optimizer_->step();
}

std::vector<EpochMetrics> Trainer::fit(const Dataset& train, const std::optional<Dataset>& test) {
  check_dataset(train, "training");
  if (test) check_dataset(*test, "test");
  const int64_t N = train.inputs.size(0);
  const auto ranges = batches(N, options_.batch_size(), options_.drop_last());
  TORCH_CHECK(!ranges.empty(), kWhat, ": no full batch of ", options_.batch_size(), " in ", N,
              " training samples (drop_last is set)");
  if (epoch_ == 0 && step_ == 0) torch::manual_seed(options_.seed());
  const auto* dist = options_.distributed().get();
  const int64_t rank = dist != nullptr ? dist->rank() : 0;
  const int64_t world = dist != nullptr ? dist->world_size() : 1;
  if (dist != nullptr) {
    dist->check_same({{"training data", data_fingerprint(train)},
                      {"test data", test ? data_fingerprint(*test) : std::string("none")},
                      {"model", model_fingerprint(*model_.module)},
                      {"seed", std::to_string(options_.seed())},
                      {"training options", options_fingerprint(options_)},
                      {"epoch reached", std::to_string(epoch_) + "/" + std::to_string(step_)}});
    // Every replica starts from rank 0's weights.
    dist->broadcast_module(*model_.module);
  }
  std::vector<EpochMetrics> ran;
  for (int64_t e = epoch_; e < options_.epochs(); ++e) {
    const auto start = std::chrono::steady_clock::now();
    EpochMetrics m;
    m.epoch = e;
    for (size_t g = 0; g < base_lr_.size(); ++g) {
      const double lr = options_.lr_schedule().lr(base_lr_[g], e, options_.epochs());
      optimizer_->param_groups()[g].options().set_lr(lr);
      if (g == 0) m.lr = lr;
    }
    model_.module->train();
    at::Tensor order;
    if (options_.shuffle()) {
      // The order depends on the seed and the epoch only: a resumed run draws the same.
      auto gen = at::make_generator<at::CPUGeneratorImpl>(options_.seed() * 1000003ULL +
                                                          static_cast<uint64_t>(e));
      order = at::randperm(N, gen, at::kLong);
    } else {
      order = at::arange(N, at::kLong);
    }
    MetricSums sums;
    int64_t b = 0;
    for (const auto& [b0, b1] : ranges) {
      // Rank r's part of the batch: its samples r, r + W, ... (all of it for one process).
      const auto part = b0 + rank < b1 ? at::arange(rank, b1 - b0, world, at::kLong)
                                       : at::empty({0}, at::kLong);
      const auto idx = order.slice(0, b0, b1).index_select(0, part);
      at::Tensor x;
      if (options_.augment()) {
        // Seeded by (seed, epoch, batch) only: a resumed run draws the same perturbations.
        // The whole batch is perturbed (on every rank alike) and then dealt out, so that
        // every sample gets the perturbation it gets in one process.
        auto gen = at::make_generator<at::CPUGeneratorImpl>(
            (options_.seed() * 1000003ULL + static_cast<uint64_t>(e)) * 1000003ULL +
            static_cast<uint64_t>(b) + 0x9e3779b9ULL);
        x = options_.augment()(as_float(train.inputs.index_select(0, order.slice(0, b0, b1))), gen);
        if (world > 1) x = x.index_select(0, part);
      } else {
        x = as_float(train.inputs.index_select(0, idx));
      }
      const auto y = train.labels.index_select(0, idx);
      const int64_t n = idx.size(0);
      const auto row = run_batch(x, y, static_cast<double>(n) / static_cast<double>(b1 - b0));
      sums.add(row, n);
      ++step_;
      if (on_step) {  // the one read of this batch's values, for the caller's display
        const auto r = row.contiguous();
        StepInfo s;
        s.epoch = e;
        s.step = step_;
        s.batch = b;
        s.batches = static_cast<int64_t>(ranges.size());
        s.loss = r.data_ptr<double>()[0];
        s.accuracy = r.data_ptr<double>()[1] / static_cast<double>(std::max<int64_t>(n, 1));
        on_step(s);
      }
      ++b;
    }
    sums.reduce(dist);
    sums.finish(m.train_loss, m.train_accuracy, m.synops, m.firing_rate, analysing());
    m.test_loss = m.test_accuracy = std::numeric_limits<double>::quiet_NaN();
    if (test) {
      const auto t = evaluate(*test);
      m.test_loss = t.test_loss;
      m.test_accuracy = t.test_accuracy;
    }
    m.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    epoch_ = e + 1;
    history_.push_back(m);
    ran.push_back(m);
    if (!options_.checkpoint_path().empty() && rank == 0) {
      save_checkpoint(options_.checkpoint_path());
    }
    if (on_epoch && !on_epoch(m)) break;
  }
  return ran;
}

EpochMetrics evaluate(const Model& model, const Dataset& data, const EvaluateOptions& options) {
  check_dataset(data, "evaluation");
  TORCH_CHECK(model.module != nullptr && model.forward, kWhat, ": the model is empty (a null module)");
  TORCH_CHECK(options.batch_size() >= 1, kWhat, ": batch_size must be >= 1, got ",
              options.batch_size());
  const auto analyzer = options.activity_metrics()
                            ? make_analyzer(model, options.dt(), "EvaluateOptions::activity_metrics")
                            : nullptr;
  torch::NoGradGuard no_grad;
  model.module->eval();
  const auto* dist = options.distributed().get();
  const int64_t N = data.inputs.size(0);
  // Data-parallel: this rank's contiguous part [lo, hi) of the data.
  const int64_t world = dist != nullptr ? dist->world_size() : 1;
  const int64_t rank = dist != nullptr ? dist->rank() : 0;
  const int64_t lo = N * rank / world, hi = N * (rank + 1) / world;
  MetricSums sums;
  const auto zero = at::zeros({}, at::kDouble);
  const auto ranges = batches(hi - lo, options.batch_size(), options.drop_last());
  TORCH_CHECK(!ranges.empty() || dist != nullptr, kWhat, ": no full batch of ",
              options.batch_size(), " in ", N, " evaluation samples (drop_last is set)");
  for (const auto& [b0, b1] : ranges) {
    const auto x = as_float(data.inputs.slice(0, lo + b0, lo + b1));
    const auto y = data.labels.slice(0, lo + b0, lo + b1);
    snn::reset_states(*model.module);
    const auto out = analyzer != nullptr ? analyzer->forward(x) : model.forward(x);
    at::Tensor synops = zero, rate = zero;
    if (analyzer != nullptr) {
      const auto stats = analyzer->model_statistics();
      synops = stats.synops;
      rate = stats.firing_rate;
    }
    sums.add(batch_row(loss(options.loss(), out, y), predict(options.loss(), out).eq(y).sum(),
                       synops, rate),
             b1 - b0);
  }
  snn::reset_states(*model.module);
  sums.reduce(dist);
  TORCH_CHECK(sums.seen > 0, kWhat, ": no full batch of ", options.batch_size(), " in ", N,
              " evaluation samples (drop_last is set)");
  EpochMetrics m;
  sums.finish(m.test_loss, m.test_accuracy, m.synops, m.firing_rate, analyzer != nullptr);
  return m;
}

at::Tensor predictions(const Model& model, const Dataset& data, const EvaluateOptions& options) {
  check_dataset(data, "prediction");
  TORCH_CHECK(model.module != nullptr && model.forward, kWhat, ": the model is empty (a null module)");
  TORCH_CHECK(options.batch_size() >= 1, kWhat, ": batch_size must be >= 1, got ",
              options.batch_size());
  torch::NoGradGuard no_grad;
  model.module->eval();
  const int64_t N = data.inputs.size(0);
  std::vector<at::Tensor> parts;
  for (int64_t b0 = 0; b0 < N; b0 += options.batch_size()) {
    const int64_t b1 = std::min(N, b0 + options.batch_size());
    snn::reset_states(*model.module);
    parts.push_back(predict(options.loss(), model.forward(as_float(data.inputs.slice(0, b0, b1)))));
  }
  snn::reset_states(*model.module);
  return parts.empty() ? at::zeros({0}, at::kLong) : at::cat(parts).to(at::kLong);
}

at::Tensor confusion_matrix(const at::Tensor& labels, const at::Tensor& predicted,
                            int64_t classes) {
  TORCH_CHECK(classes >= 1, "snn::train::confusion_matrix: classes must be >= 1, got ", classes);
  TORCH_CHECK(labels.dim() == 1 && predicted.dim() == 1 && labels.size(0) == predicted.size(0),
              "snn::train::confusion_matrix: expected labels and predictions of one equal length, "
              "got ", labels.sizes(), " and ", predicted.sizes());
  const auto l = labels.to(at::kLong), p = predicted.to(at::kLong);
  if (l.numel() > 0) {
    TORCH_CHECK(l.min().item<int64_t>() >= 0 && l.max().item<int64_t>() < classes &&
                    p.min().item<int64_t>() >= 0 && p.max().item<int64_t>() < classes,
                "snn::train::confusion_matrix: labels and predictions must lie in [0, ", classes,
                ")");
  }
  return at::bincount(l * classes + p, {}, classes * classes).reshape({classes, classes});
}

EpochMetrics Trainer::evaluate(const Dataset& data) {
  auto m = snn::train::evaluate(model_, data,
                                EvaluateOptions()
                                    .batch_size(options_.batch_size())
                                    .drop_last(options_.drop_last())
                                    .loss(options_.loss())
                                    .activity_metrics(analysing())
                                    .dt(options_.dt())
                                    .distributed(options_.distributed()));
  m.epoch = epoch_;
  return m;
}

void Trainer::save_checkpoint(const std::string& path) const {
  snn::train::save_checkpoint(path, *model_.module, [&](torch::serialize::OutputArchive& a) {
    torch::serialize::OutputArchive opt;
    optimizer_->save(opt);
    a.write("optimizer", opt);
    a.write("trainer_epoch", c10::IValue(epoch_));
    a.write("trainer_step", c10::IValue(step_));
    a.write("trainer_threads", c10::IValue(static_cast<int64_t>(at::get_num_threads())));
    {
      auto gen = at::detail::getDefaultCPUGenerator();
      std::lock_guard<std::mutex> lock(gen.mutex());
      a.write("rng_default", gen.get_state());
    }
    std::vector<double> rows;
    for (const auto& m : history_) {
      const auto r = to_row(m);
      rows.insert(rows.end(), r.begin(), r.end());
    }
    a.write("history", at::tensor(rows, at::kDouble)
                           .reshape({static_cast<int64_t>(history_.size()), kMetricFields}));
  });
}

void Trainer::load_checkpoint(const std::string& path) {
  int64_t epoch = 0, step = 0;
  std::vector<EpochMetrics> history;
  const auto extra = [&](torch::serialize::InputArchive& a) {
    torch::serialize::InputArchive opt;
    TORCH_CHECK(a.try_read("optimizer", opt), kWhat, ": checkpoint ", path,
                " holds a model only (no optimizer, epoch or generator state): load it with "
                "snn::train::load_model");
    optimizer_->load(opt);
    c10::IValue v;
    TORCH_CHECK(a.try_read("trainer_epoch", v), kWhat, ": checkpoint ", path, " has no epoch");
    epoch = v.toInt();
    TORCH_CHECK(a.try_read("trainer_step", v), kWhat, ": checkpoint ", path, " has no step");
    step = v.toInt();
    if (a.try_read("trainer_threads", v) && v.toInt() != at::get_num_threads()) {
      TORCH_WARN(kWhat, ": checkpoint ", path, " was written with ", v.toInt(),
                 " threads, this run has ", at::get_num_threads(),
                 "; the continuation may differ in the last bits");
    }
    at::Tensor state, rows;
    TORCH_CHECK(a.try_read("rng_default", state), kWhat, ": checkpoint ", path,
                " has no generator state");
    {
      auto gen = at::detail::getDefaultCPUGenerator();
      std::lock_guard<std::mutex> lock(gen.mutex());
      gen.set_state(state);
    }
    TORCH_CHECK(a.try_read("history", rows), kWhat, ": checkpoint ", path, " has no metrics");
    rows = rows.contiguous();
    for (int64_t i = 0; i < rows.size(0); ++i) {
      history.push_back(from_row(rows[i].data_ptr<double>()));
    }
  };
  if (const auto* dist = options_.distributed().get()) {
    // Rank 0 reads the file; every rank loads its bytes (an empty message: rank 0 failed).
    std::string bytes, error;
    if (dist->is_main()) {
      try {
        bytes = snn::io::read_file(path);
        if (bytes.empty()) error = "the file is empty";
      } catch (const std::exception& e) {
        error = e.what();
      }
    }
    bytes = dist->broadcast_bytes(bytes);
    TORCH_CHECK(!bytes.empty(), kWhat, ": rank ", dist->rank(), ": rank 0 could not read checkpoint ",
                path, error.empty() ? std::string() : ": " + error);
    snn::train::load_checkpoint_bytes(bytes, path, *model_.module, extra);
  } else {
    snn::train::load_checkpoint(path, *model_.module, extra);
  }
  epoch_ = epoch;
  step_ = step;
  history_ = std::move(history);
}

}  // namespace snn::train
