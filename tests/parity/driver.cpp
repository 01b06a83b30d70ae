// Parity driver: runs snn.cpp's layers on a case written by tests/parity (torch.save of a
// dict), and writes what they computed (torch.load-able) for pytest to hold against the
// Python library.
//
// Usage: snn_parity_driver CASE.pt RESULT.pt
// The case: layer ("LIF" | "IAF"), options, inputs (list of [B, T, ...] tensors, one per
// chained forward call), loss weights for the spikes (grad_spikes), the recorded v_mem
// (grad_v_rec, with record_states) and the final states (grad_v_final, grad_i_final).
// Loss = Σ_k <spikes_k, grad_spikes_k> + Σ_k <v_rec_k, grad_v_rec_k> + <v_final, ..> + ...
#include <torch/serialize.h>

#include <fstream>
#include <iostream>
#include <iterator>

#include "snn/snn.h"

namespace {

c10::Dict<c10::IValue, c10::IValue> load_case(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  TORCH_CHECK(in, "cannot open ", path);
  std::vector<char> bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  return torch::pickle_load(bytes).toGenericDict();
}

template <typename Options>
void common_options(Options& o, const c10::Dict<c10::IValue, c10::IValue>& c) {
  if (!c.at("tau_syn").isNone()) o.tau_syn(snn::TimeConstant(c.at("tau_syn").toTensor()));
  o.spike_threshold(c.at("spike_threshold").toDouble());
  if (c.at("spike_fn").toStringRef() == "single") o.spike_fn(snn::SingleSpike{});
  const auto reset_value = c.at("reset_value");
  if (c.at("reset_fn").toStringRef() == "reset") {
    o.reset_fn(snn::MembraneReset{reset_value.isNone() ? 0.0 : reset_value.toDouble()});
  } else {
    o.reset_fn(snn::MembraneSubtract{reset_value.isNone() ? std::nullopt
                                                          : std::optional(reset_value.toDouble())});
  }
  o.surrogate(snn::SingleExponential{c.at("grad_width").toDouble(), c.at("grad_scale").toDouble()});
  if (!c.at("min_v_mem").isNone()) o.min_v_mem(c.at("min_v_mem").toDouble());
  o.record_states(c.at("record_states").toBool());
}

std::vector<at::Tensor> tensors(const c10::IValue& list) {
  std::vector<at::Tensor> out;
  for (const auto& v : list.toListRef()) out.push_back(v.toTensor());
  return out;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 3) {
    std::cerr << "usage: snn_parity_driver CASE.pt RESULT.pt\n";
    return 2;
  }
  try {
    const auto c = load_case(argv[1]);
    const auto layer_name = c.at("layer").toStringRef();
    std::shared_ptr<torch::nn::Module> module;
    std::function<at::Tensor(const at::Tensor&)> forward;
    snn::detail::NeuronCore* neuron = nullptr;
    if (layer_name == "LIF") {
      snn::LIFOptions o(snn::TimeConstant(c.at("tau_mem").toTensor()));
      common_options(o, c);
      o.train_alphas(c.at("train_alphas").toBool()).norm_input(c.at("norm_input").toBool());
      snn::LIF lif(o);
      module = lif.ptr();
      neuron = lif.get();
      forward = [lif](const at::Tensor& x) mutable { return lif->forward(x); };
    } else {
      snn::IAFOptions o;
      common_options(o, c);
      snn::IAF iaf(o);
      module = iaf.ptr();
      neuron = iaf.get();
      forward = [iaf](const at::Tensor& x) mutable { return iaf->forward(x); };
    }
    const auto inputs = tensors(c.at("inputs"));
    const auto grad_spikes = tensors(c.at("grad_spikes"));
    const auto grad_v_rec = tensors(c.at("grad_v_rec"));
    std::vector<at::Tensor> xs;
    c10::List<at::Tensor> spikes, v_recs, i_recs;
    at::Tensor loss = at::zeros({});
    for (size_t k = 0; k < inputs.size(); ++k) {
      auto x = inputs[k].clone().requires_grad_(true);
      xs.push_back(x);
      const auto s = forward(x);
      spikes.push_back(s.detach());
      loss = loss + (s * grad_spikes[k]).sum();
      if (c.at("record_states").toBool()) {
        const auto& rec = neuron->recordings();
        v_recs.push_back(rec.at("v_mem").detach());
        loss = loss + (rec.at("v_mem") * grad_v_rec[k]).sum();
        if (rec.count("i_syn")) i_recs.push_back(rec.at("i_syn").detach());
      }
    }
    loss = loss + (neuron->state("v_mem") * c.at("grad_v_final").toTensor()).sum();
    const bool syn = !c.at("tau_syn").isNone();
    if (syn) loss = loss + (neuron->state("i_syn") * c.at("grad_i_final").toTensor()).sum();
    loss.backward();

    c10::impl::GenericDict out(c10::StringType::get(), c10::AnyType::get());
    out.insert("spikes", spikes);
    out.insert("v_rec", v_recs);
    out.insert("i_rec", i_recs);
    out.insert("v_final", neuron->state("v_mem").detach());
    if (syn) out.insert("i_final", neuron->state("i_syn").detach());
    c10::List<at::Tensor> grad_inputs;
    for (const auto& x : xs) grad_inputs.push_back(x.grad());
    out.insert("grad_inputs", grad_inputs);
    for (const auto& p : module->named_parameters()) {
      if (p.value().grad().defined()) out.insert("grad_" + p.key(), p.value().grad());
    }
    const auto bytes = torch::pickle_save(out);
    const std::string tmp = std::string(argv[2]) + ".tmp";
    std::ofstream(tmp, std::ios::binary)
        .write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
    std::rename(tmp.c_str(), argv[2]);
  } catch (const std::exception& e) {
    std::cerr << "snn_parity_driver: " << e.what() << "\n";
    return 1;
  }
  return 0;
}
