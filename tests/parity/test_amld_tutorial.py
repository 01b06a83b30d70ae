"""The preset amld-tutorial is the AMLD SHD tutorial's Python pipeline, step for step:
its frames are Tonic's CropTime(0.7 s) + ToFrame(1 ms) + padding + 10-bin x 5-channel sums,
and one training step of `snn train --preset amld-tutorial` (IAF and LIF) equals one step
of the tutorial's Sinabs network (Linear layers without bias, IAFSqueeze / LIFSqueeze with
tau_syn=1, min_v_mem=0, SingleSpike; LIF tau_mem=2, norm_input=False; the loss of the
spikes summed over time, Adam with lr 1e-3) from the same initial weights on the same
batch: the same loss, the same weights after the step, the same test loss after it."""
import io
import json
import subprocess

import numpy as np
import pytest
import torch

from conftest import ATOL, RTOL
from test_events_io import tonic_hsd_sample

CROP_US, WINDOW_US, BINS, BIN_MS, CHANNELS = 700_000, 1000, 70, 10, 140


def tutorial_frames(path, index):
    """The tutorial's transform chain on Tonic's events of one sample: [70, 140] float."""
    import tonic.transforms as T
    events, label = tonic_hsd_sample(str(path), index)
    events = T.CropTime(max=CROP_US)(events)
    frames = T.ToFrame(sensor_size=(700, 1, 1), time_window=WINDOW_US)(events)  # [n, 1, 700]
    frames = torch.as_tensor(frames.astype(np.float32)).reshape(-1, 700)[: BINS * BIN_MS]
    padded = torch.zeros(BINS * BIN_MS, 700)
    padded[: len(frames)] = frames
    return padded.reshape(BINS, BIN_MS, CHANNELS, 5).sum((1, 3)), label


def tutorial_set(path):
    import h5py
    with h5py.File(path, "r") as f:
        n = len(f["labels"])
    pairs = [tutorial_frames(path, i) for i in range(n)]
    return torch.stack([p[0] for p in pairs]), torch.tensor([p[1] for p in pairs])


@pytest.fixture(scope="module")
def digits(small_digits):
    return small_digits


def test_frames_are_the_tutorials(snn_ops, digits):
    for name in ("spoken_digits_train.h5", "spoken_digits_test.h5"):
        x, y = tutorial_set(digits / name)
        ours, labels = snn_ops.hsd_frames(str(digits / name), CHANNELS, BINS, BIN_MS)
        assert ours.shape == x.shape and x.sum() > 1000
        assert torch.equal(labels, y)
        assert torch.equal(ours, x), f"frames differ in {(ours != x).sum()} places"


def checkpoint(path):
    """The parameters a checkpoint file holds (its torch::serialize payload), by name."""
    data = path.read_bytes()
    assert data[:8] == b"SNNCKPT1"
    archive = torch.jit.load(io.BytesIO(data[24:]))
    return {n[len("model."):]: p.detach().clone() for n, p in archive.named_parameters()
            if n.startswith("model.")}


def train_one_step(cli, digits, run_dir, neuron, lr):
    proc = subprocess.run([str(cli), "train", "--preset", "amld-tutorial", "--neuron", neuron,
                           "--data-path", str(digits), "--voices", "4", "--renditions", "1",
                           "--flite-renditions", "1",
                           "--epochs", "1", "--lr", str(lr), "--threads", "1",
                           "--run-dir", str(run_dir)], capture_output=True, text=True,
                          timeout=600)
    assert proc.returncode == 0, proc.stderr
    metrics = json.loads((run_dir / "metrics.jsonl").read_text().splitlines()[0])
    return checkpoint(run_dir / "checkpoint.snn"), metrics


def sinabs_network(neuron, batch_size):
    import sinabs.activation as sa
    import sinabs.layers as sl
    common = dict(tau_syn=1.0, min_v_mem=0.0, spike_fn=sa.SingleSpike, batch_size=batch_size)
    if neuron == "iaf":
        make = lambda: sl.IAFSqueeze(**common)
    else:
        make = lambda: sl.LIFSqueeze(tau_mem=2.0, norm_input=False, **common)
    return torch.nn.Sequential(torch.nn.Linear(140, 64, bias=False), make(),
                               torch.nn.Linear(64, 64, bias=False), make(),
                               torch.nn.Linear(64, 20, bias=False), make())


def run(net, x):
    B, T = x.shape[:2]
    for m in net:
        if hasattr(m, "reset_states"):
            m.reset_states()
    return net(x.reshape(B * T, -1)).reshape(B, T, -1)


@pytest.mark.parametrize("neuron", ["iaf", "lif"])
def test_one_training_step_is_the_tutorials(cli, digits, tmp_path, neuron):
    torch.set_num_threads(1)
    # The initial weights: a step with lr 1e-30 leaves every float32 weight as it was.
    initial, _ = train_one_step(cli, digits, tmp_path / "initial", neuron, 1e-30)
    stepped, metrics = train_one_step(cli, digits, tmp_path / "step", neuron, 1e-3)
    x, y = tutorial_set(digits / "spoken_digits_train.h5")
    assert len(x) <= 128, "the whole training set is one batch of 128"
    # The Trainer's order of the epoch (seed 0, epoch 0).
    order = torch.randperm(len(x), generator=torch.Generator().manual_seed(0))
    x, y = x[order], y[order]
    net = sinabs_network(neuron, len(x))
    params = dict(net.named_parameters())
    with torch.no_grad():
        for name, value in initial.items():
            assert name in params, f"{name} of snn.cpp has no counterpart in Sinabs"
            params[name].copy_(value.reshape(params[name].shape))
    adam = torch.optim.Adam(net.parameters(), lr=1e-3)
    out = run(net, x)
    loss = torch.nn.functional.cross_entropy(out.sum(1), y)
    adam.zero_grad()
    loss.backward()
    for i in (0, 2, 4):  # every weight learns (through the surrogate, spikes or not)
        assert net[i].weight.grad.abs().max() > 1e-6, f"no gradient reaches layer {i}"
    adam.step()
    np.testing.assert_allclose(metrics["train_loss"], loss.item(), atol=ATOL, rtol=RTOL)
    for name, value in stepped.items():
        assert not torch.equal(value, initial[name]) or params[name].grad.abs().max() < 1e-7, name
        torch.testing.assert_close(value.reshape(params[name].shape), params[name].detach(),
                                   atol=ATOL, rtol=RTOL, msg=f"{name} after the step")
    # The stepped network on the test set: the same loss.
    xt, yt = tutorial_set(digits / "spoken_digits_test.h5")
    test_net = sinabs_network(neuron, len(xt))
    with torch.no_grad():
        for name, p in test_net.named_parameters():
            p.copy_(params[name])
        test_loss = torch.nn.functional.cross_entropy(run(test_net, xt).sum(1), yt).item()
    np.testing.assert_allclose(metrics["test_loss"], test_loss, atol=ATOL, rtol=RTOL)
