#pragma once
/// \file
/// Augmentation of audio frames in the Trainer (TrainerOptions::augment): each training
/// batch [B, T, channels] is perturbed afresh every epoch, from a generator seeded by the
/// run's seed, the epoch and the batch, so that a resumed run draws exactly what the
/// uninterrupted one drew. Per sample:
///   - a frequency shift: the channels moved by an integer drawn from
///     [-channel_shift, channel_shift] (the cochlea's channels are log-spaced, so a shift is
///     a change of vocal-tract length), zeros shifted in;
///   - a time stretch by a factor from [1 - time_stretch, 1 + time_stretch] about the centre
///     and a shift by an integer from [-time_shift, time_shift] bins (nearest bin; zeros
///     where the source lies outside);
///   - SpecAugment's masks: frequency_masks bands of up to frequency_mask channels and
///     time_masks spans of up to time_mask bins set to 0.
/// Written as text: `FrameAugment(channel_shift=4, time_stretch=0.15, ...)`, or `none`.
#include <ATen/core/Generator.h>
#include <ATen/core/Tensor.h>
#include <torch/arg.h>

#include <cstdint>
#include <string>

namespace snn::train {

struct FrameAugmentOptions {
  TORCH_ARG(int64_t, channel_shift) = 3;
  TORCH_ARG(double, time_stretch) = 0.15;
  TORCH_ARG(int64_t, time_shift) = 2;
  TORCH_ARG(int64_t, frequency_masks) = 1;
  TORCH_ARG(int64_t, frequency_mask) = 10;
  TORCH_ARG(int64_t, time_masks) = 1;
  TORCH_ARG(int64_t, time_mask) = 3;
};

/// The augmented batch (a new tensor); x is [B, T, C] float.
at::Tensor augment_frames(const at::Tensor& x, const FrameAugmentOptions& options,
                          at::Generator& generator);

/// Parses `FrameAugment(...)` (keys as FrameAugmentOptions; every one optional); "none"
/// gives std::nullopt. Errors name the key and the allowed values.
std::optional<FrameAugmentOptions> parse_frame_augment(const std::string& text);
/// The canonical text of `options` (every key), or "none".
std::string frame_augment_repr(const std::optional<FrameAugmentOptions>& options);

}  // namespace snn::train
