#include "snn/nn/stateful.h"

#include <ATen/ops/zeros.h>
#include <c10/util/Exception.h>
#include <torch/csrc/autograd/generated/variable_factories.h>

namespace snn {

void StatefulModule::clear_state_registry() { slots_.clear(); }

void StatefulModule::register_state(torch::nn::Module& module, const std::string& name) {
  slots_.emplace_back(name, &module.register_buffer(name, at::zeros({0})));
}

at::Tensor* StatefulModule::slot(const std::string& name) const {
  for (const auto& [key, ptr] : slots_) {
    if (key == name) return ptr;
  }
  TORCH_CHECK(false, "snn: no state named '", name, "' (states: ", state_names(), ")");
}

bool StatefulModule::is_state_initialised() const {
  for (const auto& [name, ptr] : slots_) {
    if (ptr->dim() == 1 && ptr->size(0) == 0) return false;
  }
  return !slots_.empty();
}

std::vector<std::string> StatefulModule::state_names() const {
  std::vector<std::string> names;
  for (const auto& [name, ptr] : slots_) names.push_back(name);
  return names;
}

const at::Tensor& StatefulModule::state(const std::string& name) const { return *slot(name); }

void StatefulModule::set_state(const std::string& name, at::Tensor value) {
  *slot(name) = std::move(value);
}

void StatefulModule::init_states(at::IntArrayRef shape, const at::TensorOptions& options) {
  for (auto& [name, ptr] : slots_) *ptr = at::zeros(shape, options);
}

void StatefulModule::ensure_state_shape(at::IntArrayRef shape, const at::TensorOptions& options) {
  for (const auto& [name, ptr] : slots_) {
    if (ptr->sizes() != shape || ptr->scalar_type() != options.dtype() ||
        ptr->device() != options.device()) {
      init_states(shape, options);
      return;
    }
  }
}

void StatefulModule::reset_states(bool randomize, const std::map<std::string, StateRange>& ranges) {
  if (!is_state_initialised()) return;
  for (auto& [name, ptr] : slots_) {
    auto fresh = at::empty_like(*ptr, at::TensorOptions().requires_grad(false));
    if (randomize) {
      const auto it = ranges.find(name);
      const auto [low, high] = it == ranges.end() ? StateRange{0.0, 1.0} : it->second;
      TORCH_CHECK(low <= high, "snn: reset range for state '", name, "' must have low <= high, got [",
                  low, ", ", high, ")");
      fresh.uniform_(low, high);
    } else {
      fresh.zero_();
    }
    *ptr = fresh;
  }
}

void StatefulModule::detach_states() {
  for (auto& [name, ptr] : slots_) *ptr = ptr->detach();
}

namespace {
template <typename F>
void for_each_stateful(torch::nn::Module& model, F&& f) {
  model.apply([&](torch::nn::Module& m) {
    if (auto* s = dynamic_cast<StatefulModule*>(&m)) f(*s);
  });
}
}  // namespace

void reset_states(torch::nn::Module& model, bool randomize) {
  for_each_stateful(model, [&](StatefulModule& s) { s.reset_states(randomize); });
}

void detach_states(torch::nn::Module& model) {
  for_each_stateful(model, [](StatefulModule& s) { s.detach_states(); });
}

void zero_grad(torch::nn::Module& model) {
  model.zero_grad(/*set_to_none=*/false);
  detach_states(model);
}

}  // namespace snn
