"""The configuration is one table: `snn config keys` prints it, and the README's key list,
`--help` of train and compare, the TOML a run writes and `snn config show` all agree with it;
a preset changes exactly the keys the table says; flags set the keys they name."""
import re
import subprocess
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def run(cli, *args):
    return subprocess.run([str(cli), *map(str, args)], capture_output=True, text=True,
                          timeout=600)


def table(cli):
    """Rows of `snn config keys`: key -> (type, default, presets, flag, meaning)."""
    proc = run(cli, "config", "keys")
    assert proc.returncode == 0, proc.stderr
    rows = {}
    for line in proc.stdout.splitlines()[2:]:
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        assert len(cells) == 6, line
        key, typ, default, presets, flag, meaning = cells
        rows[key.strip("`")] = dict(type=typ, default=default.strip("`"), presets=presets,
                                    flag=flag.strip("`"), meaning=meaning)
    assert len(rows) >= 25
    return proc.stdout, rows


def test_readme_lists_exactly_the_table(cli):
    text, _ = table(cli)
    readme = (ROOT / "README.md").read_text()
    m = re.search(r"<!-- config-keys:begin[^\n]*-->\n(.*?)<!-- config-keys:end -->", readme, re.S)
    assert m, "the README has no generated key list"
    assert m.group(1) == text, "README's key list differs from `snn config keys`: regenerate it"


@pytest.mark.parametrize("command", ["train", "compare", "config show"])
def test_help_offers_every_flag_of_the_table(cli, command):
    _, rows = table(cli)
    proc = run(cli, *command.split(), "--help")
    assert proc.returncode == 0
    for key, row in rows.items():
        if not row["flag"]:
            continue
        if command == "compare" and key == "model.neuron":
            # compare trains several neurons itself (--neurons), never one --neuron
            assert not re.search(r"--neuron\b(?!s)", proc.stdout)
            continue
        assert row["flag"] in proc.stdout, (command, row["flag"])
        assert f"[{key}]" in proc.stdout, (command, key)


def show(cli, *args):
    proc = run(cli, "config", "show", *args)
    assert proc.returncode == 0, proc.stderr
    return tomllib.loads(proc.stdout)


def flat(config):
    return {f"{s}.{k}": v for s, section in config.items() for k, v in section.items()}


def parse_value(text):
    return tomllib.loads("v = " + text)["v"]


def test_defaults_and_presets_are_the_tables(cli):
    _, rows = table(cli)
    base = flat(show(cli))
    assert set(base) == set(rows), "config.toml must hold every key of the table, nothing else"
    # spatial_factor 0 ("the source's own") is written as the factor the source uses.
    assert parse_value(rows["data.spatial_factor"]["default"]) == 0
    assert base["data.spatial_factor"] == 1
    assert flat(show(cli, "--data", "dvs-gesture", "--data-path", "x"))["data.spatial_factor"] == 0.25
    for key, row in rows.items():
        if key != "data.spatial_factor":
            assert base[key] == parse_value(row["default"]), key
    for preset in ["shd-mlp", "amld-tutorial", "dvs-conv"]:
        extra = ["--data", "nmnist", "--data-path", "x"] if preset == "dvs-conv" else []
        got = flat(show(cli, "--preset", preset, *extra))
        for key, row in rows.items():
            changed = dict(re.findall(r"([a-z-]+): `([^`]*)`", row["presets"]))
            if key in ("model.preset", "data.source", "data.path", "data.spatial_factor"):
                continue
            expected = parse_value(changed[preset]) if preset in changed else parse_value(row["default"])
            assert got[key] == expected, (preset, key)


def test_flags_set_their_keys_and_strings_are_escaped(cli, tmp_path):
    weird = "a \"quoted\" 'path'\nwith a newline \\ and $(x)"
    got = show(cli, "--data-path", weird, "--delays", "0,2", "--tau-syn", "3", "--min-v-mem",
               "none", "--bias", "false", "--spike-fn", "MaxSpike(max_num_spikes_per_bin=2)",
               "--lr", "0.01", "--neuron", "lif")
    assert got["data"]["path"] == weird
    assert got["model"]["delays"] == [0, 2]
    assert got["model"]["tau_syn"] == 3 and got["model"]["min_v_mem"] == "none"
    assert got["model"]["bias"] is False and got["model"]["neuron"] == "lif"
    assert got["model"]["spike_fn"] == "MaxSpike(max_num_spikes_per_bin=2)"
    assert got["train"]["lr"] == 0.01
    # A file under the flags.
    config = tmp_path / "c.toml"
    config.write_text('[model]\nhidden = 12\ntau_syn = 2.5\n[train]\nlr = 0.5\n')
    got = show(cli, "--config", config, "--lr", "0.25")
    assert got["model"]["hidden"] == 12 and got["model"]["tau_syn"] == 2.5
    assert got["train"]["lr"] == 0.25


@pytest.mark.parametrize("args,message", [
    (["--epochs", "ten"], "--epochs: expected integer, got \"ten\""),
    (["--bias", "maybe"], "--bias: expected boolean"),
    (["--spike-fn", "SingleSpike(), min_v_mem=3"], "model.spike_fn is not valid"),
    (["--surrogate", "Logistic()"], "model.surrogate is not valid"),
    (["--preset", "cnn"], "model.preset must be one of"),
    (["--tau-syn", "-1"], "model.tau_syn must be > 0"),
])
def test_bad_flags_are_named(cli, args, message):
    proc = run(cli, "config", "show", *args)
    assert proc.returncode == 2
    assert message in proc.stderr, proc.stderr
