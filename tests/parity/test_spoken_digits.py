"""The embedded spoken-digits files, as Python's readers see them: the SHD layout read by
h5py (datasets, dtypes, shapes) and by Tonic's HSD reader (every sample, the same events
as snn.cpp's own reader prints), labels balanced, voices split; and `snn data
encode-audio` on WAV files written by Python's wave module (a tone lands at its place)."""
import re
import subprocess
import wave

import h5py
import numpy as np
import pytest

from test_events_io import tonic_hsd_sample


@pytest.fixture(scope="module")
def digits(small_digits):
    return small_digits / "spoken_digits_train.h5", small_digits / "spoken_digits_test.h5"


def test_layout_is_shds(digits):
    for path in digits:
        with h5py.File(path, "r") as f:
            n = len(f["labels"])
            assert f["spikes/times"].shape == (n,) and f["spikes/units"].shape == (n,)
            assert h5py.check_vlen_dtype(f["spikes/times"].dtype) == np.float64
            assert h5py.check_vlen_dtype(f["spikes/units"].dtype) == np.uint16
            assert f["extra/speaker"].shape == (n,)
            keys = [k.decode() if isinstance(k, bytes) else k for k in f["extra/keys"][:]]
            assert keys[0] == "english zero" and keys[19] == "german neun" and len(keys) == 20
            labels = f["labels"][:]
            speakers = f["extra/speaker"][:]
            assert sorted(np.unique(labels)) == list(range(20))
            # eSpeak's voices (0-63) speak every class equally often; Flite's (64-68, the
            # training file only) English digits only, each equally often.
            espeak = speakers < 64
            assert len(set(np.bincount(labels[espeak]))) == 1, "every class equally often"
            if "test" in path.name:
                assert espeak.all(), "Flite's voices train only"
            else:
                assert set(speakers[~espeak]) == set(range(64, 69))
                assert labels[~espeak].max() < 10, "Flite speaks English only"
                assert len(set(np.bincount(labels[~espeak]))) == 1
            for i in range(n):
                units = f["spikes/units"][i]
                times = f["spikes/times"][i]
                assert len(units) == len(times) > 500
                assert units.max() < 700 and np.all(np.diff(times) >= 0)
    with h5py.File(digits[0], "r") as a, h5py.File(digits[1], "r") as b:
        train_voices, test_voices = set(a["extra/speaker"][:]), set(b["extra/speaker"][:])
    assert train_voices and test_voices and not train_voices & test_voices


def test_tonic_reads_what_snn_reads(digits, cli):
    path = digits[1]
    with h5py.File(path, "r") as f:
        n = len(f["labels"])
    for i in range(n):
        events, label = tonic_hsd_sample(str(path), i)
        assert len(events) > 500 and events["x"].max() < 700
        proc = subprocess.run([str(cli), "data", "inspect", str(path), "--sample", str(i)],
                              capture_output=True, text=True, timeout=60)
        assert proc.returncode == 0, proc.stderr
        assert re.search(rf"events:\s+{len(events)}\n", proc.stdout), proc.stdout
        span = f"time:      {events['t'].min()} .. {events['t'].max()} us"
        assert span in proc.stdout, (span, proc.stdout)
        assert f"(label {label})" in proc.stdout


def write_wav(path, samples, rate):
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes((np.clip(samples, -1, 1) * 32767).astype("<i2").tobytes())


def test_encode_audio_places_tones(cli, tmp_path):
    rate = 16000
    t = np.arange(rate // 2) / rate
    files = []
    for k, f0 in enumerate((300.0, 2000.0)):
        path = tmp_path / f"tone{k}.wav"
        write_wav(path, 0.4 * np.sin(2 * np.pi * f0 * t), rate)
        files.append(str(path))
    out = tmp_path / "tones.h5"
    proc = subprocess.run([str(cli), "data", "encode-audio", *files, "-o", str(out), "--labels",
                           "3", "7"], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    centres = np.exp(np.linspace(np.log(100), np.log(5000), 700))
    with h5py.File(out, "r") as f:
        assert list(f["labels"][:]) == [3, 7]
        for i, f0 in enumerate((300.0, 2000.0)):
            units = f["spikes/units"][i]
            assert len(units) > 100
            peak = np.bincount(units, minlength=700).argmax()
            assert abs(np.log2(centres[peak] / f0)) < 0.2, (f0, centres[peak])
    bad = subprocess.run([str(cli), "data", "encode-audio", files[0], "-o", str(out), "--labels",
                          "1", "2"], capture_output=True, text=True, timeout=60)
    assert bad.returncode == 2 and "one label per sound file" in bad.stderr
