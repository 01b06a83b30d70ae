#pragma once
/// \file
/// Pictures of event data: PNG images (libpng) and animated GIFs (giflib), written
/// atomically (temp + rename).
#include <ATen/core/Tensor.h>

#include <string>

namespace snn::io {

/// Writes an RGB image, a uint8 tensor [H, W, 3], as a PNG file.
void write_png(const std::string& path, const at::Tensor& rgb);

/// Writes an animated, looping GIF of RGB frames, a uint8 tensor [T, H, W, 3], showing each
/// frame for `delay_cs` hundredths of a second. Colours are quantised to 4 levels per
/// channel (64 colours), which keeps event pictures exact.
void write_gif(const std::string& path, const at::Tensor& frames, int delay_cs = 10);

/// Event frames [T, P, H, W] (counts, as ToFrame makes them) as RGB [T, H, W, 3] uint8,
/// coloured as Tonic's plot_animation shows them: polarity 0 in green, polarity 1 in blue
/// (one polarity: grey), a pixel at full intensity once it has an event.
at::Tensor frames_to_rgb(const at::Tensor& frames);

}  // namespace snn::io
