#pragma once
/// \file
/// Checkpoint files: a model's parameters and states (and, for training, whatever else a
/// caller adds) in one file that is written atomically and verified when read.
///
/// Layout: the 8 bytes "SNNCKPT1", the payload's length (uint64, little-endian), its
/// FNV-1a 64-bit hash, then the payload: a torch::serialize archive holding
///   "model"           the module's own save() (parameters, buffers, neuron states)
///   "manifest/names"  the parameter names, "manifest/shapes" their shapes (to name the
///                     first mismatch when a checkpoint of another model is loaded)
/// and any entries the writer adds (the trainer: optimizer, epoch, step, RNG states,
/// metrics). A truncated or corrupted file is refused with an error naming the file and
/// what is wrong with it, before anything is loaded; a file is written to a temporary
/// name and renamed, so the previous checkpoint stays whole until the new one is.
#include <torch/nn/module.h>
#include <torch/serialize/input-archive.h>
#include <torch/serialize/output-archive.h>

#include <functional>
#include <string>

namespace snn::train {

/// Writes `model` (and whatever `extra` adds to the archive) to `path`, atomically.
void save_checkpoint(const std::string& path, const torch::nn::Module& model,
                     const std::function<void(torch::serialize::OutputArchive&)>& extra = {});

/// Reads `path` into `model` (and passes the archive to `extra`). Throws, naming the file,
/// when it is not a checkpoint, is truncated or corrupted, or holds another architecture
/// (the first parameter whose name or shape differs, with both shapes).
void load_checkpoint(const std::string& path, torch::nn::Module& model,
                     const std::function<void(torch::serialize::InputArchive&)>& extra = {});

/// The same from the bytes of a checkpoint file (`name` names it in errors): how every rank
/// of a data-parallel run loads the file rank 0 read.
void load_checkpoint_bytes(const std::string& bytes, const std::string& name,
                           torch::nn::Module& model,
                           const std::function<void(torch::serialize::InputArchive&)>& extra = {});

/// A model alone: save_checkpoint / load_checkpoint without extras. The loaded model gives
/// the same outputs as the saved one, in this or another process.
inline void save_model(const std::string& path, const torch::nn::Module& model) {
  save_checkpoint(path, model);
}
inline void load_model(const std::string& path, torch::nn::Module& model) {
  load_checkpoint(path, model);
}

}  // namespace snn::train
