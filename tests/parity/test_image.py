"""PNG and GIF files written by snn.cpp, decoded by Pillow (an independent decoder)."""
import numpy as np
import pytest
import torch
from PIL import Image, ImageSequence


def test_png_decodes_to_the_same_pixels(snn_ops, tmp_path):
    g = torch.Generator().manual_seed(0)
    rgb = torch.randint(0, 256, (37, 53, 3), generator=g, dtype=torch.uint8)
    path = tmp_path / "a.png"
    snn_ops.write_png(str(path), rgb)
    assert np.array_equal(np.asarray(Image.open(path).convert("RGB")), rgb.numpy())


@pytest.mark.parametrize("size", [(3, 8, 8), (4, 64, 90), (2, 128, 128)])
def test_gif_decodes_to_the_same_frames(snn_ops, tmp_path, size):
    T, H, W = size
    g = torch.Generator().manual_seed(1)
    # Colours on the 4-level grid are exact; large random frames exercise LZW table resets.
    rgb = (torch.randint(0, 4, (T, H, W, 3), generator=g) * 85).to(torch.uint8)
    path = tmp_path / "a.gif"
    snn_ops.write_gif(str(path), rgb, 7)
    frames = [np.asarray(f.convert("RGB")) for f in ImageSequence.Iterator(Image.open(path))]
    assert len(frames) == T
    for t in range(T):
        assert np.array_equal(frames[t], rgb[t].numpy()), f"frame {t}"


def test_frames_are_coloured_as_tonic_plots_them(snn_ops):
    frames = torch.zeros(1, 2, 2, 2)
    frames[0, 0, 0, 0] = 3  # polarity 0 -> green
    frames[0, 1, 1, 1] = 1  # polarity 1 -> blue
    rgb = snn_ops.frames_to_rgb(frames)
    assert rgb[0, 0, 0].tolist() == [0, 255, 0]
    assert rgb[0, 1, 1].tolist() == [0, 0, 255]
    assert rgb[0, 0, 1].tolist() == [0, 0, 0]


def test_bad_image_is_named(snn_ops, tmp_path):
    with pytest.raises(RuntimeError, match=r"expected a uint8 tensor \[H, W, 3\], got Float"):
        snn_ops.write_png(str(tmp_path / "a.png"), torch.zeros(2, 2, 3))
