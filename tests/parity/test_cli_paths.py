"""Paths are data: run directories and data paths holding spaces, quotes of both kinds,
$(...), backticks, a newline, a leading '-' and non-ASCII letters work end to end (train
with its report, eval, compare), and nothing in them is ever executed."""
import subprocess

import pytest

# Each name, were it handed to a shell, would run `touch pwned` or break the command.
HOSTILE = [
    "a b 'c' \"d\" $(touch pwned) `touch pwned` ü∑",
    "line\nbreak'; touch pwned; echo '",
    "-leading dash",
]


def run(cli, *args, cwd):
    return subprocess.run([str(cli), *map(str, args)], capture_output=True, text=True,
                          timeout=900, cwd=cwd)


@pytest.mark.parametrize("name", HOSTILE, ids=["quotes-substitutions", "newline", "dash"])
def test_hostile_paths_work_end_to_end(cli, tmp_path, name):
    home = tmp_path / name
    home.mkdir()
    data = home / "data"
    config = home / "small.toml"
    # The data path goes through the TOML file as well as through a flag below.
    config.write_text("[data]\nvoices = 4\nrenditions = 1\nflite_renditions = 1\n\n[model]\nhidden = 16\n\n"
                      "[train]\nbatch_size = 16\n")
    # Relative names starting with '-' are given as --flag=VALUE, and after '--' for eval.
    proc = run(cli, "train", "--config", config, "--data-path=" + str(data), "--epochs", 1,
               "--run-dir=" + name, cwd=home)
    assert proc.returncode == 0, proc.stderr
    run_dir = home / name
    assert (run_dir / "report.html").stat().st_size > 10000
    assert "<svg" in (run_dir / "report.html").read_text()
    proc = run(cli, "eval", "--", name, cwd=home)
    assert proc.returncode == 0, proc.stderr
    assert "test accuracy" in proc.stdout
    # The configuration written keeps the path exactly (TOML-escaped).
    import tomllib
    written = tomllib.loads((run_dir / "config.toml").read_text())
    assert written["data"]["path"] == str(data)
    proc = run(cli, "compare", "--config", config, "--data-path=" + str(data), "--epochs", 1,
               "--run-dir=" + name + " cmp", cwd=home)
    assert proc.returncode == 0, proc.stderr
    assert (home / (name + " cmp") / "report.html").exists()
    assert not list(tmp_path.rglob("pwned")), "a path was executed"
