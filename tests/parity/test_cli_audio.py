"""Training on one's own recordings (`[data] source = "audio"`), `snn predict` and
`snn eval --data`: small folders of WAV files written here (tones, no downloads)."""
import json
import subprocess
import wave

import numpy as np
import pytest

RATE = 8000
TONES = {"low": 300.0, "high": 2000.0}
SPEAKERS = ("ann", "bob", "cid")


def run(cli, *args, timeout=600):
    return subprocess.run([str(cli), *map(str, args)], capture_output=True, text=True,
                          timeout=timeout)


def write_wav(path, f0, rng):
    t = np.arange(int(RATE * rng.uniform(0.3, 0.5))) / RATE
    x = 0.4 * np.sin(2 * np.pi * f0 * rng.uniform(0.95, 1.05) * t) + 0.01 * rng.normal(size=len(t))
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(RATE)
        w.writeframes((np.clip(x, -1, 1) * 32767).astype("<i2").tobytes())


@pytest.fixture(scope="module")
def folders(tmp_path_factory):
    """flat/: FSDD-like names LABEL_SPEAKER_I.wav; classes/: one folder per class."""
    root = tmp_path_factory.mktemp("audio")
    rng = np.random.default_rng(0)
    for label, f0 in TONES.items():
        for speaker in SPEAKERS:
            for i in range(4):
                (root / "flat").mkdir(exist_ok=True)
                write_wav(root / "flat" / f"{label}_{speaker}_{i}.wav", f0, rng)
                (root / "classes" / label).mkdir(parents=True, exist_ok=True)
                write_wav(root / "classes" / label / f"{speaker}{i}.wav", f0, rng)
    return root


@pytest.fixture(scope="module")
def env(tmp_path_factory):
    import os
    cache = tmp_path_factory.mktemp("cache")
    return dict(os.environ, SNN_CACHE_DIR=str(cache))


FLAT = ["--data", "audio", "--label-regex", "^([a-z]+)_", "--speaker-regex", "^[a-z]+_([a-z]+)_"]
SMALL = ["--hidden", 16, "--epochs", 4, "--batch-size", 8, "--lr", 0.01, "--delays", "0",
         "--hidden-delays", "0", "--time-bins", 10]


def train(cli, env, *args):
    return subprocess.run([str(cli), "train", *map(str, args), *map(str, SMALL)],
                          capture_output=True, text=True, timeout=600, env=env)


@pytest.fixture(scope="module")
def trained(cli, folders, env, tmp_path_factory):
    run_dir = tmp_path_factory.mktemp("runs") / "tones"
    proc = train(cli, env, *FLAT, "--data-path", folders / "flat", "--test-speakers", "cid",
                 "--run-dir", run_dir)
    assert proc.returncode == 0, proc.stderr
    assert "2 classes; 16 training and 8 test files" in proc.stderr
    assert (run_dir / "classes.txt").read_text() == "high\nlow\n"
    return run_dir


def test_folder_labels_and_splits(cli, folders, env, tmp_path, trained):
    rows = [json.loads(x) for x in (trained / "metrics.jsonl").read_text().splitlines()]
    assert rows[-1]["test_accuracy"] == 1.0, rows
    # Class folders, a fraction of each class held out; encoded once, then from the cache.
    for k in range(2):
        proc = train(cli, env, "--data", "audio", "--data-path", folders / "classes",
                     "--test-fraction", 0.25, "--run-dir", tmp_path / f"c{k}")
        assert proc.returncode == 0, proc.stderr
        assert "2 classes; 18 training and 6 test files" in proc.stderr
        assert ("encoded before" in proc.stderr) == (k == 1), proc.stderr
    # A list of test files.
    listing = tmp_path / "test.txt"
    listing.write_text("# held out\nlow_ann_0.wav\nhigh_bob_1.wav\n")
    proc = train(cli, env, *FLAT, "--data-path", folders / "flat", "--test-list", listing,
                 "--run-dir", tmp_path / "listed")
    assert proc.returncode == 0, proc.stderr
    assert "22 training and 2 test files" in proc.stderr


def test_folder_problems_are_named(cli, folders, env, tmp_path):
    empty = tmp_path / "empty"
    empty.mkdir()
    cases = [
        (["--data", "audio", "--data-path", empty], "no sound files"),
        (["--data", "audio", "--data-path", folders / "flat"], "is not in a class folder"),
        (FLAT[:2] + ["--label-regex", "^([0-9]+)_", "--data-path", folders / "flat"],
         'data.label_regex "^([0-9]+)_" does not match the file name of'),
        (FLAT + ["--data-path", folders / "flat", "--test-speakers", "dan"],
         'data.test_speakers names "dan", who speaks in none of the files'),
        (FLAT[:4] + ["--data-path", folders / "flat", "--test-speakers", "ann"],
         "data.test_speakers needs data.speaker_regex"),
        (["--data", "audio", "--data-path", folders / "flat", "--label-regex", "("],
         "data.label_regex is not a valid regular expression"),
    ]
    for args, message in cases:
        proc = train(cli, env, *args, "--run-dir", tmp_path / "r")
        assert proc.returncode == 2, (args, proc.stderr)
        assert message in proc.stderr, (message, proc.stderr)
    # A class with no test file; an unreadable file, named.
    lopsided = tmp_path / "lopsided"
    for label in TONES:
        (lopsided / label).mkdir(parents=True)
    rng = np.random.default_rng(1)
    write_wav(lopsided / "low" / "a.wav", 300, rng)
    write_wav(lopsided / "low" / "b.wav", 300, rng)
    write_wav(lopsided / "high" / "a.wav", 2000, rng)
    proc = train(cli, env, "--data", "audio", "--data-path", lopsided, "--run-dir", tmp_path / "r")
    assert proc.returncode == 2
    assert 'class "high" has 0 training and 1 test files' in proc.stderr, proc.stderr
    (lopsided / "high" / "c.wav").write_bytes(b"RIFF not a sound")
    proc = train(cli, env, "--data", "audio", "--data-path", lopsided, "--run-dir", tmp_path / "r")
    assert proc.returncode == 2
    assert str(lopsided / "high" / "c.wav") in proc.stderr, proc.stderr


def test_predict_names_the_classes(cli, folders, trained):
    low, high = folders / "flat" / "low_cid_0.wav", folders / "flat" / "high_cid_1.wav"
    proc = run(cli, "predict", trained, low, high, "--top", 2)
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    assert lines[0].startswith(f"{low}: low ") and ", high " in lines[0], lines
    assert lines[1].startswith(f"{high}: high "), lines
    proc = run(cli, "predict", trained / "checkpoint.snn", low, high, "--json")
    assert proc.returncode == 0, proc.stderr
    out = json.loads(proc.stdout)
    assert [o["file"] for o in out] == [str(low), str(high)]
    assert [o["top"][0]["class"] for o in out] == ["low", "high"]
    for o in out:
        p = [t["probability"] for t in o["top"]]
        assert len(p) == 2 and p == sorted(p, reverse=True) and abs(sum(p) - 1) < 1e-5
    proc = run(cli, "predict", trained, folders / "missing.wav")
    assert proc.returncode == 2


def test_eval_on_other_data(cli, folders, env, trained, tmp_path):
    # Every file of the class folders (labels by name), then one speaker of the flat folder.
    proc = subprocess.run([str(cli), "eval", trained, "--data", "audio", "--data-path",
                           folders / "classes", "--per-class"], capture_output=True, text=True,
                          timeout=600, env=env)
    assert proc.returncode == 0, proc.stderr
    assert "test accuracy 1.0000 (24 samples)" in proc.stdout, proc.stdout
    assert "high" in proc.stdout and "most often predicted instead" in proc.stdout
    proc = subprocess.run([str(cli), "eval", trained, *FLAT, "--data-path", folders / "flat",
                           "--test-speakers", "ann"], capture_output=True, text=True, timeout=600,
                          env=env)
    assert proc.returncode == 0, proc.stderr
    assert "(8 samples)" in proc.stdout
    # A label the model does not know.
    other = tmp_path / "other"
    (other / "middle").mkdir(parents=True)
    write_wav(other / "middle" / "a.wav", 800, np.random.default_rng(2))
    proc = subprocess.run([str(cli), "eval", trained, "--data", "audio", "--data-path", other],
                          capture_output=True, text=True, timeout=600, env=env)
    assert proc.returncode == 2
    assert 'the data\'s label "middle" is not a class of the model' in proc.stderr, proc.stderr
    assert "its classes: high, low" in proc.stderr


def test_encode_audio_takes_folders(cli, folders, tmp_path):
    import h5py
    out = tmp_path / "all.h5"
    proc = run(cli, "data", "encode-audio", folders / "classes", "-o", out)
    assert proc.returncode == 0, proc.stderr
    names = sorted(str(p) for p in (folders / "classes").rglob("*.wav"))
    assert [line.split(":")[0] for line in proc.stdout.splitlines()[:-1]] == names
    with h5py.File(out, "r") as f:
        assert len(f["labels"]) == len(names) == 24
    proc = run(cli, "data", "encode-audio", folders / "classes", "-o", out, "--labels", 1, 2)
    assert proc.returncode == 2 and "give one label per sound file" in proc.stderr, proc.stderr
    empty = tmp_path / "empty"
    empty.mkdir()
    proc = run(cli, "data", "encode-audio", empty, "-o", out)
    assert proc.returncode == 2 and f"no sound files" in proc.stderr and str(empty) in proc.stderr
