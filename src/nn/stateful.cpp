#include "snn/nn/stateful.h"

#include <ATen/ops/empty_like.h>
#include <ATen/ops/zeros.h>
#include <c10/util/Exception.h>
#include <torch/serialize/archive.h>

namespace snn {

void StatefulModule::define_states(const std::vector<std::string>& names) {
  if (state_names() == names) return;
  states_.clear();
  for (const auto& name : names) states_.emplace_back(name, at::Tensor());
}

const at::Tensor& StatefulModule::slot(const std::string& name) const {
  for (const auto& [key, value] : states_) {
    if (key == name) return value;
  }
  TORCH_CHECK(false, "snn: no state named '", name, "' (states: ", state_names(), ")");
}

bool StatefulModule::is_state_initialised() const {
  for (const auto& [name, value] : states_) {
    if (!value.defined()) return false;
  }
  return !states_.empty();
}

std::vector<std::string> StatefulModule::state_names() const {
  std::vector<std::string> names;
  for (const auto& [name, value] : states_) names.push_back(name);
  return names;
}

const at::Tensor& StatefulModule::state(const std::string& name) const {
  return slot(name);
}

void StatefulModule::set_state(const std::string& name, at::Tensor value) {
  const_cast<at::Tensor&>(slot(name)) = std::move(value);
}

void StatefulModule::init_states(at::IntArrayRef shape, const at::TensorOptions& options) {
  for (auto& [name, value] : states_) value = initial_state(name, shape, options);
}

at::Tensor StatefulModule::initial_state(const std::string& /*name*/, at::IntArrayRef shape,
                                         const at::TensorOptions& options) const {
  return at::zeros(shape, options);
}

void StatefulModule::ensure_state_shape(at::IntArrayRef shape, const at::TensorOptions& options) {
  // Each state that does not fit starts from zeros (snnTorch's rule per state; where all
  // states share one shape, as a layer keeps them, this is all or none).
  for (auto& [name, value] : states_) {
    if (!value.defined() || value.sizes() != shape || value.scalar_type() != options.dtype() ||
        value.device() != options.device()) {
      value = initial_state(name, shape, options);
    }
  }
}

void StatefulModule::reset_states(bool randomize, const std::map<std::string, StateRange>& ranges) {
  if (!is_state_initialised()) return;
  for (auto& [name, value] : states_) {
    if (!randomize) {
      value = initial_state(name, value.sizes(), value.options()).detach();
      continue;
    }
    auto fresh = at::empty_like(value.detach());
    {
      const auto it = ranges.find(name);
      const auto [low, high] = it == ranges.end() ? StateRange{0.0, 1.0} : it->second;
      TORCH_CHECK(low <= high, "snn: reset range of state '", name,
                  "' must have low <= high, got [", low, ", ", high, ")");
      fresh.uniform_(low, high);
    }
    value = fresh;
  }
}

void StatefulModule::detach_states() {
  for (auto& [name, value] : states_) {
    if (value.defined()) value = value.detach();
  }
}

void StatefulModule::save_states(torch::serialize::OutputArchive& archive) const {
  for (const auto& [name, value] : states_) {
    if (value.defined()) archive.write(name, value.detach(), /*is_buffer=*/true);
  }
}

void StatefulModule::load_states(torch::serialize::InputArchive& archive) {
  for (auto& [name, value] : states_) {
    at::Tensor loaded;
    if (archive.try_read(name, loaded, /*is_buffer=*/true)) value = loaded;
  }
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
