// snnTorch's losses, metrics and regulariser on time-first outputs [T, B, C].
#include "snn/snntorch/functional.h"

#include <ATen/ATen.h>
#include <c10/util/Exception.h>
#include <torch/autograd.h>
#include <torch/library.h>

#include <sstream>

namespace snn::snntorch::functional {
namespace {

constexpr const char* kWhat = "snn::snntorch::functional::";

std::string join(const std::vector<double>& v) {
  std::ostringstream s;
  s << "[";
  for (size_t i = 0; i < v.size(); ++i) s << (i ? ", " : "") << v[i];
  s << "]";
  return s.str();
}

void check_output(const char* op, const at::Tensor& output) {
  TORCH_CHECK(output.dim() == 3, kWhat, op, ": expected output of shape [T, B, C], got ",
              output.sizes());
  TORCH_CHECK(output.size(0) >= 1, kWhat, op, ": expected at least one time step, got ",
              output.sizes());
}

// Labels (int64) of `classes` classes.
void check_label_values(const char* op, const at::Tensor& labels, int64_t classes) {
  TORCH_CHECK(labels.scalar_type() == at::kLong, kWhat, op, ": expected int64 labels, got ",
              labels.scalar_type());
  if (labels.numel() == 0) return;
  const auto lo = labels.min().item<int64_t>(), hi = labels.max().item<int64_t>();
  TORCH_CHECK(lo >= 0 && hi < classes, kWhat, op, ": label ", lo < 0 ? lo : hi,
              " is out of range for ", classes, " classes");
}

// Labels [B] (int64) of `classes` classes, for output [T, B, C].
void check_labels(const char* op, const at::Tensor& output, const at::Tensor& labels,
                  int64_t classes) {
  TORCH_CHECK(labels.dim() == 1 && labels.size(0) == output.size(1), kWhat, op,
              ": expected labels of shape [B] = [", output.size(1), "], got ", labels.sizes());
  check_label_values(op, labels, classes);
}

void check_weight(const char* op, const std::optional<at::Tensor>& weight, int64_t classes) {
  if (!weight) return;
  TORCH_CHECK(weight->dim() == 1 && weight->size(0) == classes, kWhat, op,
              ": expected a weight of shape [", classes, "] (one per class), got ",
              weight->sizes());
}

// The number of classes: C, or num_classes with population_code (which must divide C).
int64_t classes_of(const char* op, const at::Tensor& output, bool population_code,
                   int64_t num_classes) {
  if (!population_code) return output.size(2);
  TORCH_CHECK(num_classes >= 1, kWhat, op, ": population_code needs num_classes >= 1, got ",
              num_classes);
  TORCH_CHECK(output.size(2) % num_classes == 0, kWhat, op, ": num_classes (", num_classes,
              ") must divide the number of outputs (", output.size(2), ")");
  return num_classes;
}

// [T, B, C] → [T, B, K]: the sums of K groups of C / K consecutive outputs.
at::Tensor pool(const at::Tensor& output, int64_t groups) {
  const int64_t T = output.size(0), B = output.size(1), C = output.size(2);
  return output.reshape({T, B, groups, C / groups}).sum(-1);
}

at::Tensor reduce(const at::Tensor& loss, Reduction r) {
  switch (r) {
    case Reduction::Mean:
      return loss.mean();
    case Reduction::Sum:
      return loss.sum();
    case Reduction::None:
      return loss;
  }
  TORCH_INTERNAL_ASSERT(false, "unknown reduction");
}

// −w[y_b]·log softmax(logits[..., b, :])[y_b], per sample: logits [..., B, K], labels [B].
at::Tensor nll(const at::Tensor& logits, const at::Tensor& labels,
               const std::optional<at::Tensor>& weight) {
  const int64_t K = logits.size(-1);
  const auto flat = at::log_softmax(logits, -1).reshape({-1, K});
  const auto y = labels.repeat({flat.size(0) / std::max<int64_t>(labels.size(0), 1)});
  const auto w = weight ? weight->to(flat.scalar_type()) : at::Tensor();
  auto per = at::nll_loss(flat, y, w, at::Reduction::None);
  auto shape = logits.sizes().vec();
  shape.pop_back();
  return per.reshape(shape);
}

// Targets [B, K]: `on` for the label, `off` elsewhere.
at::Tensor one_hot_targets(const at::Tensor& labels, int64_t classes, double on, double off,
                           const at::TensorOptions& options) {
  return at::full({labels.size(0), classes}, off, options).scatter(1, labels.unsqueeze(1), on);
}

// Multiplies a loss [..., B, K] by weight[label] of each sample.
at::Tensor weigh(const at::Tensor& loss, const at::Tensor& labels,
                 const std::optional<at::Tensor>& weight) {
  if (!weight) return loss;
  return loss * weight->to(loss.scalar_type()).index_select(0, labels).unsqueeze(-1);
}

at::Tensor step_times(const at::Tensor& spikes) {
  const int64_t T = spikes.size(0);
  return at::arange(T, spikes.options().dtype(at::kLong)).view({T, 1, 1});
}

// The first remaining spike of every neuron: [B, N] step indices (T − 1 where none).
at::Tensor first_index(const at::Tensor& spiking) {
  const int64_t T = spiking.size(0);
  return at::where(spiking, step_times(spiking), T - 1).amin(0);
}

// snnTorch's SpikeTime.FirstSpike / MultiSpike: times [count, B, N] of each neuron's first
// `count` spikes, gradient −∂L/∂time at the spike's step (the last count's where repeated).
class SpikeTimes : public torch::autograd::Function<SpikeTimes> {
 public:
  static at::Tensor forward(torch::autograd::AutogradContext* ctx, const at::Tensor& spikes,
                            int64_t count) {
    auto remaining = spikes != 0;
    std::vector<at::Tensor> times;
    for (int64_t i = 0; i < count; ++i) {
      auto t = first_index(remaining);
      // Only this neuron's spike goes (snnTorch zeroes the step for the whole batch).
      remaining.scatter_(0, t.unsqueeze(0), false);
      times.push_back(t);
    }
    const auto index = at::stack(times);
    ctx->save_for_backward({index});
    ctx->saved_data["T"] = spikes.size(0);
    return index.to(spikes.scalar_type());
  }
  static torch::autograd::variable_list backward(torch::autograd::AutogradContext* ctx,
                                                 torch::autograd::variable_list grad) {
    const auto index = ctx->get_saved_variables()[0];
    const int64_t T = ctx->saved_data["T"].toInt();
    auto shape = index.sizes().vec();
    shape[0] = T;
    auto g = at::zeros(shape, grad[0].options());
    for (int64_t i = 0; i < index.size(0); ++i) {
      g.scatter_(0, index[i].unsqueeze(0), -grad[0][i].unsqueeze(0));
    }
    return {g, at::Tensor()};
  }
};

// snnTorch's SpikeTime.Tolerance: times within `tolerance` of their target become the
// target; the gradient passes unchanged.
class Tolerance : public torch::autograd::Function<Tolerance> {
 public:
  static at::Tensor forward(torch::autograd::AutogradContext*, const at::Tensor& times,
                            const at::Tensor& target, double tolerance) {
    return at::where(at::abs(times - target) < tolerance, target.to(times.scalar_type()), times);
  }
  static torch::autograd::variable_list backward(torch::autograd::AutogradContext*,
                                                 torch::autograd::variable_list grad) {
    return {grad[0], at::Tensor(), at::Tensor()};
  }
};

}  // namespace

Reduction parse_reduction(const std::string& name) {
  if (name == "mean") return Reduction::Mean;
  if (name == "sum") return Reduction::Sum;
  if (name == "none") return Reduction::None;
  TORCH_CHECK(false, kWhat, "reduction must be \"mean\", \"sum\" or \"none\", got \"", name, "\"");
}

at::Tensor ce_rate_loss(const at::Tensor& output, const at::Tensor& labels,
                        const CERateLossOptions& o) {
  constexpr const char* op = "ce_rate_loss";
  check_output(op, output);
  const int64_t K = classes_of(op, output, o.population_code(), o.num_classes());
  check_labels(op, output, labels, K);
  check_weight(op, o.weight(), K);
  const auto logits = o.population_code() ? pool(output, K) : output;
  const auto per_step = nll(logits, labels, o.weight());  // [T, B]
  return reduce(per_step.sum(0) / static_cast<double>(output.size(0)), o.reduction());
}

at::Tensor ce_count_loss(const at::Tensor& output, const at::Tensor& labels,
                         const CECountLossOptions& o) {
  constexpr const char* op = "ce_count_loss";
  check_output(op, output);
  const int64_t K = classes_of(op, output, o.population_code(), o.num_classes());
  check_labels(op, output, labels, K);
  check_weight(op, o.weight(), K);
  const auto counts = o.population_code() ? pool(output, K).sum(0) : output.sum(0);
  return reduce(nll(counts, labels, o.weight()), o.reduction());
}

at::Tensor ce_max_membrane_loss(const at::Tensor& output, const at::Tensor& labels,
                                const CEMaxMembraneLossOptions& o) {
  constexpr const char* op = "ce_max_membrane_loss";
  check_output(op, output);
  check_labels(op, output, labels, output.size(2));
  check_weight(op, o.weight(), output.size(2));
  return reduce(nll(std::get<0>(output.max(0)), labels, o.weight()), o.reduction());
}

at::Tensor mse_count_loss(const at::Tensor& output, const at::Tensor& labels,
                          const MSECountLossOptions& o) {
  constexpr const char* op = "mse_count_loss";
  check_output(op, output);
  const int64_t K = classes_of(op, output, o.population_code(), o.num_classes());
  check_labels(op, output, labels, K);
  check_weight(op, o.weight(), K);
  TORCH_CHECK(o.correct_rate() >= 0 && o.incorrect_rate() >= 0, kWhat, op,
              ": correct_rate and incorrect_rate cannot be negative, got ", o.correct_rate(),
              " and ", o.incorrect_rate());
  const double T = static_cast<double>(output.size(0));
  const double per_class = static_cast<double>(output.size(2)) / static_cast<double>(K);
  // Whole spikes, as snnTorch's int(num_steps * rate [* outputs per class]).
  const double on = std::trunc(T * o.correct_rate() * (o.population_code() ? per_class : 1));
  const double off = std::trunc(T * o.incorrect_rate() * (o.population_code() ? per_class : 1));
  const auto counts = o.population_code() ? pool(output, K).sum(0) : output.sum(0);
  const auto target = one_hot_targets(labels, K, on, off, counts.options());
  const auto loss = weigh(at::pow(counts - target, 2), labels, o.weight());
  return reduce(loss, o.reduction()) / T;
}

at::Tensor mse_membrane_loss(const at::Tensor& output, const at::Tensor& labels,
                             const MSEMembraneLossOptions& o) {
  constexpr const char* op = "mse_membrane_loss";
  check_output(op, output);
  const int64_t T = output.size(0), B = output.size(1), C = output.size(2);
  check_weight(op, o.weight(), C);
  at::Tensor target, sample_labels;
  if (o.time_var_targets()) {
    TORCH_CHECK(labels.dim() == 2 && labels.size(0) == T && labels.size(1) == B, kWhat, op,
                ": expected time-varying labels of shape [T, B] = [", T, ", ", B, "], got ",
                labels.sizes());
    check_label_values(op, labels, C);
    target =
        one_hot_targets(labels.reshape({-1}), C, o.on_target(), o.off_target(), output.options())
            .view({T, B, C});
    TORCH_CHECK(!o.weight(), kWhat, op,
                ": weight needs one label per sample, not time_var_targets");
  } else {
    check_labels(op, output, labels, C);
    target = one_hot_targets(labels, C, o.on_target(), o.off_target(), output.options());
  }
  auto loss = at::pow(output - target, 2).mean(0);  // [B, C]: (1/T) Σ_t
  if (!o.time_var_targets()) loss = weigh(loss, labels, o.weight());
  return reduce(loss, o.reduction());
}

at::Tensor first_spike_time(const at::Tensor& spikes) {
  check_output("first_spike_time", spikes);
  return SpikeTimes::apply(spikes, 1).squeeze(0);
}

at::Tensor multi_spike_times(const at::Tensor& spikes, int64_t count) {
  check_output("multi_spike_times", spikes);
  TORCH_CHECK(count >= 1, kWhat, "multi_spike_times: count must be >= 1, got ", count);
  return SpikeTimes::apply(spikes, count);
}

at::Tensor ce_temporal_loss(const at::Tensor& output, const at::Tensor& labels,
                            const CETemporalLossOptions& o) {
  constexpr const char* op = "ce_temporal_loss";
  TORCH_CHECK(o.inverse() == "negate" || o.inverse() == "reciprocal", kWhat, op,
              ": inverse must be \"negate\" or \"reciprocal\", got \"", o.inverse(), "\"");
  check_output(op, output);
  check_labels(op, output, labels, output.size(2));
  check_weight(op, o.weight(), output.size(2));
  const auto times = first_spike_time(output);
  const auto logits = o.inverse() == "negate" ? -times : 1 / (times + 1);
  const int64_t r = o.reduction() == Reduction::Mean  ? at::Reduction::Mean
                    : o.reduction() == Reduction::Sum ? at::Reduction::Sum
                                                      : at::Reduction::None;
  const auto w = o.weight() ? o.weight()->to(logits.scalar_type()) : at::Tensor();
  return at::nll_loss(at::log_softmax(logits, -1), labels, w, r);
}

at::Tensor mse_temporal_loss(const at::Tensor& output, const at::Tensor& targets,
                             const MSETemporalLossOptions& o) {
  constexpr const char* op = "mse_temporal_loss";
  check_output(op, output);
  const int64_t T = output.size(0), B = output.size(1), N = output.size(2);
  const auto& on = o.on_target();
  const auto& off = o.off_target();
  TORCH_CHECK(o.tolerance() >= 0, kWhat, op, ": tolerance cannot be negative, got ", o.tolerance());
  int64_t count = 1;
  at::Tensor target;
  if (o.target_is_time()) {
    TORCH_CHECK(!o.weight(), kWhat, op, ": weight needs class labels, not target_is_time");
    const auto expected = o.multi_spike() ? 3 : 2;
    TORCH_CHECK(targets.dim() == expected && targets.size(-2) == B && targets.size(-1) == N, kWhat,
                op, ": expected target times of shape ", o.multi_spike() ? "[F, B, N]" : "[B, N]",
                " with B = ", B, ", N = ", N, ", got ", targets.sizes());
    if (o.multi_spike()) count = targets.size(0);
    target = targets.to(output.scalar_type());
  } else {
    TORCH_CHECK(on.size() == off.size(), kWhat, op, ": on_target ", join(on), " and off_target ",
                join(off), " must have the same length");
    TORCH_CHECK(!on.empty() && (o.multi_spike() || on.size() == 1), kWhat, op,
                ": expected one on_target and one off_target",
                o.multi_spike() ? " or more" : " (several need multi_spike)", ", got ", join(on),
                " and ", join(off));
    check_labels(op, output, targets, N);
    check_weight(op, o.weight(), N);
    std::vector<at::Tensor> per_spike;
    for (size_t i = 0; i < on.size(); ++i) {
      per_spike.push_back(one_hot_targets(targets, N, on[i], off[i], output.options()));
    }
    count = static_cast<int64_t>(on.size());
    target = o.multi_spike() ? at::stack(per_spike) : per_spike[0];
  }
  // Negative target times count from the end: −1 is T − 1.
  target = at::where(target < 0, target + static_cast<double>(T), target);
  auto times = o.multi_spike() ? multi_spike_times(output, count) : first_spike_time(output);
  if (o.tolerance() > 0) times = Tolerance::apply(times, target, o.tolerance());
  const double steps = static_cast<double>(T);
  auto loss = at::pow(times / steps - target / steps, 2);
  if (!o.target_is_time()) loss = weigh(loss, targets, o.weight());
  return reduce(loss, o.reduction());
}

at::Tensor l1_rate_sparsity(const at::Tensor& spikes, double lambda) {
  return lambda * spikes.sum();
}

double accuracy_rate(const at::Tensor& output, const at::Tensor& labels,
                     const AccuracyRateOptions& o) {
  constexpr const char* op = "accuracy_rate";
  check_output(op, output);
  const int64_t K = classes_of(op, output, o.population_code(), o.num_classes());
  check_labels(op, output, labels, K);
  const auto counts = (o.population_code() ? pool(output, K) : output).sum(0);
  const auto predicted = std::get<1>(counts.max(1));
  return predicted.eq(labels).to(at::kDouble).mean().item<double>();
}

double accuracy_temporal(const at::Tensor& output, const at::Tensor& labels) {
  constexpr const char* op = "accuracy_temporal";
  check_output(op, output);
  check_labels(op, output, labels, output.size(2));
  const auto times = first_index(output != 0);
  const auto predicted = std::get<1>(times.min(1));
  return predicted.eq(labels).to(at::kDouble).mean().item<double>();
}

}  // namespace snn::snntorch::functional

// torch.ops.snn.functional_* (Python access, for the parity tests against snnTorch).
TORCH_LIBRARY_FRAGMENT(snn, m) {
  using namespace snn::snntorch::functional;
  m.def(
      "functional_ce_rate_loss(Tensor output, Tensor labels, bool population_code=False, "
      "int num_classes=0, str reduction=\"mean\", Tensor? weight=None) -> Tensor",
      [](const at::Tensor& output, const at::Tensor& labels, bool population_code,
         int64_t num_classes, const std::string& reduction,
         const std::optional<at::Tensor>& weight) {
        return ce_rate_loss(output, labels,
                            CERateLossOptions()
                                .population_code(population_code)
                                .num_classes(num_classes)
                                .reduction(parse_reduction(reduction))
                                .weight(weight));
      });
  m.def(
      "functional_ce_count_loss(Tensor output, Tensor labels, bool population_code=False, "
      "int num_classes=0, str reduction=\"mean\", Tensor? weight=None) -> Tensor",
      [](const at::Tensor& output, const at::Tensor& labels, bool population_code,
         int64_t num_classes, const std::string& reduction,
         const std::optional<at::Tensor>& weight) {
        return ce_count_loss(output, labels,
                             CECountLossOptions()
                                 .population_code(population_code)
                                 .num_classes(num_classes)
                                 .reduction(parse_reduction(reduction))
                                 .weight(weight));
      });
  m.def(
      "functional_ce_max_membrane_loss(Tensor output, Tensor labels, str reduction=\"mean\", "
      "Tensor? weight=None) -> Tensor",
      [](const at::Tensor& output, const at::Tensor& labels, const std::string& reduction,
         const std::optional<at::Tensor>& weight) {
        return ce_max_membrane_loss(
            output, labels,
            CEMaxMembraneLossOptions().reduction(parse_reduction(reduction)).weight(weight));
      });
  m.def(
      "functional_mse_count_loss(Tensor output, Tensor labels, float correct_rate=1, "
      "float incorrect_rate=0, bool population_code=False, int num_classes=0, "
      "str reduction=\"mean\", Tensor? weight=None) -> Tensor",
      [](const at::Tensor& output, const at::Tensor& labels, double correct_rate,
         double incorrect_rate, bool population_code, int64_t num_classes,
         const std::string& reduction, const std::optional<at::Tensor>& weight) {
        return mse_count_loss(output, labels,
                              MSECountLossOptions()
                                  .correct_rate(correct_rate)
                                  .incorrect_rate(incorrect_rate)
                                  .population_code(population_code)
                                  .num_classes(num_classes)
                                  .reduction(parse_reduction(reduction))
                                  .weight(weight));
      });
  m.def(
      "functional_mse_membrane_loss(Tensor output, Tensor labels, bool time_var_targets=False, "
      "float on_target=1, float off_target=0, str reduction=\"mean\", Tensor? weight=None) "
      "-> Tensor",
      [](const at::Tensor& output, const at::Tensor& labels, bool time_var_targets,
         double on_target, double off_target, const std::string& reduction,
         const std::optional<at::Tensor>& weight) {
        return mse_membrane_loss(output, labels,
                                 MSEMembraneLossOptions()
                                     .time_var_targets(time_var_targets)
                                     .on_target(on_target)
                                     .off_target(off_target)
                                     .reduction(parse_reduction(reduction))
                                     .weight(weight));
      });
  m.def("functional_first_spike_time(Tensor spikes) -> Tensor", &first_spike_time);
  m.def("functional_multi_spike_times(Tensor spikes, int count) -> Tensor", &multi_spike_times);
  m.def(
      "functional_ce_temporal_loss(Tensor output, Tensor labels, str inverse=\"negate\", "
      "str reduction=\"mean\", Tensor? weight=None) -> Tensor",
      [](const at::Tensor& output, const at::Tensor& labels, const std::string& inverse,
         const std::string& reduction, const std::optional<at::Tensor>& weight) {
        return ce_temporal_loss(output, labels,
                                CETemporalLossOptions()
                                    .inverse(inverse)
                                    .reduction(parse_reduction(reduction))
                                    .weight(weight));
      });
  m.def(
      "functional_mse_temporal_loss(Tensor output, Tensor targets, bool target_is_time=False, "
      "float[] on_target=[0], float[] off_target=[-1], float tolerance=0, "
      "bool multi_spike=False, str reduction=\"mean\", Tensor? weight=None) -> Tensor",
      [](const at::Tensor& output, const at::Tensor& targets, bool target_is_time,
         std::vector<double> on_target, std::vector<double> off_target, double tolerance,
         bool multi_spike, const std::string& reduction, const std::optional<at::Tensor>& weight) {
        return mse_temporal_loss(output, targets,
                                 MSETemporalLossOptions()
                                     .target_is_time(target_is_time)
                                     .on_target(std::move(on_target))
                                     .off_target(std::move(off_target))
                                     .tolerance(tolerance)
                                     .multi_spike(multi_spike)
                                     .reduction(parse_reduction(reduction))
                                     .weight(weight));
      });
  m.def("functional_l1_rate_sparsity(Tensor spikes, float Lambda=1e-5) -> Tensor",
        &l1_rate_sparsity);
  m.def(
      "functional_accuracy_rate(Tensor output, Tensor labels, bool population_code=False, "
      "int num_classes=0) -> float",
      [](const at::Tensor& output, const at::Tensor& labels, bool population_code,
         int64_t num_classes) {
        return accuracy_rate(
            output, labels,
            AccuracyRateOptions().population_code(population_code).num_classes(num_classes));
      });
  m.def("functional_accuracy_temporal(Tensor output, Tensor labels) -> float", &accuracy_temporal);
}
