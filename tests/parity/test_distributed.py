"""snn train data-parallel on PyTorch's distributed engine (c10d + Gloo, launched by torchrun)
on this machine's loopback: the steps of one process, resumes across process counts, and the
faults (a rank killed, a store out of reach, ranks started differently).

Tolerance, stated: the same seed and global batch give the weights of one process, every weight
within 1e-4 (2% of the learning rate 0.005) and all but 0.1% within the suite's atol 1e-5 +
rtol 1e-4. The gradients of a batch's two halves are summed by Gloo instead of inside one
matrix product, which rounds differently in the last bits; Adam divides each gradient by its
running magnitude, so for a gradient near zero that rounding moves the weight by a visibly
different fraction of the learning rate (8 of 36,180 weights in the shortcut's case here). The
metrics (losses, accuracies) agree to 1e-4 relative and the accuracies exactly."""
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch

from test_amld_tutorial import checkpoint

TORCHRUN = Path(sys.executable).with_name("torchrun")
RTOL, ATOL = 1e-4, 1e-5


@pytest.fixture(scope="module")
def small(tmp_path_factory):
    """The small spoken-digits set (110 training samples) as a configuration."""
    d = tmp_path_factory.mktemp("dist")
    config = d / "small.toml"
    config.write_text(f'[data]\npath = "{d / "data"}"\nvoices = 4\nrenditions = 1\nflite_renditions = 1\n\n'
                      "[model]\nhidden = 32\n\n[train]\nlr = 0.005\nthreads = 1\n")
    return config


def snn(cli, *args, timeout=600, env=None):
    return subprocess.run([str(cli), *map(str, args)], capture_output=True, text=True,
                          timeout=timeout, env=env)


def torchrun(cli, nproc, *args, timeout=600):
    return subprocess.run([str(TORCHRUN), "--standalone", "--nproc-per-node", str(nproc),
                           "--no-python", str(cli), *map(str, args)], capture_output=True,
                          text=True, timeout=timeout)


def assert_close_weights(a, b):
    assert a.keys() == b.keys()
    for name in a:
        diff = (a[name] - b[name]).abs()
        assert diff.max() <= 1e-4, f"{name}: a weight differs by {diff.max():.3g}"
        outside = (diff > ATOL + RTOL * a[name].abs()).float().mean().item()
        assert outside <= 1e-3, f"{name}: {outside:.2%} of the weights differ beyond atol/rtol"


def metrics(run_dir):
    import json
    return [json.loads(line) for line in (run_dir / "metrics.jsonl").read_text().splitlines()]


# 110 samples: batch 36 leaves a last batch of 2 (one sample per rank), batch 109 a last batch
# of 1 (rank 1 has none: it adds zeros to the gradients' sum).
@pytest.mark.parametrize("batch", [36, 109])
def test_two_processes_take_the_steps_of_one(cli, small, tmp_path, batch):
    args = ["train", "--config", small, "--epochs", 2, "--batch-size", batch, "--neuron", "lif"]
    one = snn(cli, *args, "--run-dir", tmp_path / "one")
    assert one.returncode == 0, one.stderr
    two = torchrun(cli, 2, *args, "--run-dir", tmp_path / "two")
    assert two.returncode == 0, two.stderr
    # Rank 0 alone wrote and printed.
    assert two.stdout.count("epoch 2/2") == 1 and two.stdout.count("report:") == 1
    w1, w2 = checkpoint(tmp_path / "one" / "checkpoint.snn"), checkpoint(tmp_path / "two" / "checkpoint.snn")
    assert_close_weights(w1, w2)
    m1, m2 = metrics(tmp_path / "one"), metrics(tmp_path / "two")
    for a, b in zip(m1, m2):
        assert a["test_accuracy"] == b["test_accuracy"]
        assert a["train_accuracy"] == b["train_accuracy"]
        assert b["train_loss"] == pytest.approx(a["train_loss"], rel=1e-4)


def test_the_nproc_shortcut_starts_torchrun(cli, small, tmp_path):
    args = ["train", "--config", small, "--epochs", 1, "--batch-size", 30]
    one = snn(cli, *args, "--run-dir", tmp_path / "one")
    assert one.returncode == 0, one.stderr
    two = snn(cli, *args, "--nproc", 2, "--run-dir", tmp_path / "two",
              env={**os.environ, "SNN_TORCHRUN": str(TORCHRUN)})
    assert two.returncode == 0, two.stderr
    assert_close_weights(checkpoint(tmp_path / "one" / "checkpoint.snn"),
                         checkpoint(tmp_path / "two" / "checkpoint.snn"))


def parent(pid):
    return int((Path("/proc") / str(pid) / "stat").read_text().rsplit(")", 1)[1].split()[1])


def worker_pids(launcher_pid):
    """The ranks torchrun started (its descendants with a RANK): {rank: pid}."""
    out = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            pid, ancestors = int(entry.name), []
            p = pid
            for _ in range(6):
                p = parent(p)
                ancestors.append(p)
                if p <= 1:
                    break
            if launcher_pid not in ancestors:
                continue
            env = dict(kv.split("=", 1) for kv in (entry / "environ").read_text().split("\0") if "=" in kv)
        except (OSError, ValueError):
            continue
        if "RANK" in env and (entry / "exe").resolve().name == "snn":
            out[int(env["RANK"])] = pid
    return out


def test_a_killed_rank_ends_the_job_and_the_checkpoint_resumes_on_one_and_on_two(cli, small, tmp_path):
    # Epochs of four steps, long enough (a wider layer) to kill a rank inside one; few steps
    # after the resume, so that one process stays within the tolerance of two.
    args = ["--config", small, "--epochs", 5, "--batch-size", 36, "--hidden", 512, "--neuron", "lif"]
    straight = torchrun(cli, 2, "train", *args, "--run-dir", tmp_path / "straight")
    assert straight.returncode == 0, straight.stderr
    # The same run, rank 1 killed (SIGKILL) in the fourth epoch.
    proc = subprocess.Popen([str(TORCHRUN), "--standalone", "--nproc-per-node", "2", "--no-python",
                             str(cli), "train", *map(str, args), "--run-dir", str(tmp_path / "cut")],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    seen, ranks = 0, {}
    for line in proc.stdout:
        seen += " epoch " in line
        if seen == 1:
            ranks = worker_pids(proc.pid)
        if seen == 3:
            break
    assert set(ranks) == {0, 1}, ranks
    os.kill(ranks[1], signal.SIGKILL)
    killed = time.monotonic()
    _, err = proc.communicate(timeout=120)
    ended = time.monotonic() - killed
    assert proc.returncode != 0
    assert ended < 60, f"the job took {ended:.0f} s to end after a rank died"
    assert "rank: 1" in err and "SIGKILL" in err, err[-3000:]
    # The checkpoint of the last finished epoch is whole; it resumes on 2 and on 1 process.
    done = len(metrics(tmp_path / "cut"))
    assert 3 <= done < 5
    for nproc in (2, 1):
        run_dir = tmp_path / f"resumed-{nproc}"
        subprocess.run(["cp", "-r", str(tmp_path / "cut"), str(run_dir)], check=True)
        resumed = torchrun(cli, 2, "train", "--resume", run_dir) if nproc == 2 else \
            snn(cli, "train", "--resume", run_dir)
        assert resumed.returncode == 0, resumed.stderr
        want, got = checkpoint(tmp_path / "straight" / "checkpoint.snn"), checkpoint(run_dir / "checkpoint.snn")
        if nproc == 2:  # the same processes, the same sums: bit for bit
            assert all(torch.equal(want[n], got[n]) for n in want)
        else:
            assert_close_weights(want, got)
        assert [m["test_accuracy"] for m in metrics(run_dir)] == \
            [m["test_accuracy"] for m in metrics(tmp_path / "straight")]


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_a_store_out_of_reach_is_named(cli, small, tmp_path):
    port = free_port()
    env = {**os.environ, "RANK": "1", "WORLD_SIZE": "2", "LOCAL_RANK": "1", "MASTER_ADDR": "127.0.0.1",
           "MASTER_PORT": str(port), "SNN_DIST_CONNECT_TIMEOUT": "3"}
    start = time.monotonic()
    proc = snn(cli, "train", "--config", small, "--epochs", 1, "--run-dir", tmp_path / "r", env=env,
               timeout=120)
    assert proc.returncode != 0
    assert time.monotonic() - start < 60
    assert f"rank 1 cannot reach the c10d store at 127.0.0.1:{port}" in proc.stderr, proc.stderr
    assert not (tmp_path / "r").exists()


@pytest.mark.parametrize("flag,value,what", [("--seed", 7, "the seed of rank 1"),
                                             ("--hidden", 16, "the model of rank 1"),
                                             ("--voices", 5, "the training data of rank 1")])
def test_ranks_started_differently_are_named(cli, small, tmp_path, flag, value, what):
    port = free_port()
    procs = []
    for rank in (0, 1):
        env = {**os.environ, "RANK": str(rank), "WORLD_SIZE": "2", "LOCAL_RANK": str(rank),
               "LOCAL_WORLD_SIZE": "2", "MASTER_ADDR": "127.0.0.1", "MASTER_PORT": str(port)}
        extra = [flag, str(value)] if rank == 1 else []
        if rank == 1 and flag == "--voices":  # other data, made in a folder of its own
            extra += ["--data-path", str(tmp_path / "other")]
        procs.append(subprocess.Popen([str(cli), "train", "--config", str(small), "--epochs", "1",
                                       "--run-dir", str(tmp_path / "r"), *extra], env=env,
                                      stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True))
    for p in procs:
        _, err = p.communicate(timeout=300)
        assert p.returncode != 0
        assert what in err and "differs from rank 0's" in err, err


def test_two_launchers_meet_as_two_machines_do(cli, small, tmp_path):
    """Two torchrun agents (--nnodes 2, one process each) meet through the c10d rendezvous, as
    on two machines, and train as one launcher with two processes does."""
    port = free_port()
    args = ["train", "--config", str(small), "--epochs", "2", "--batch-size", "36"]
    nodes = [subprocess.Popen([str(TORCHRUN), "--nnodes", "2", "--nproc-per-node", "1",
                               "--rdzv-backend", "c10d", "--rdzv-endpoint", f"127.0.0.1:{port}",
                               "--rdzv-id", "two-machines", "--no-python", str(cli), *args,
                               "--run-dir", str(tmp_path / "nodes")],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
             for _ in range(2)]
    outs = [n.communicate(timeout=300) for n in nodes]
    assert all(n.returncode == 0 for n in nodes), [o[1][-2000:] for o in outs]
    one = torchrun(cli, 2, *args, "--run-dir", tmp_path / "one")
    assert one.returncode == 0, one.stderr
    a, b = checkpoint(tmp_path / "nodes" / "checkpoint.snn"), checkpoint(tmp_path / "one" / "checkpoint.snn")
    assert all(torch.equal(a[n], b[n]) for n in a)


def test_compare_with_nproc(cli, small, tmp_path):
    proc = snn(cli, "compare", "--config", small, "--epochs", 1, "--neurons", "iaf,lif",
               "--nproc", 2, "--run-dir", tmp_path / "cmp",
               env={**os.environ, "SNN_TORCHRUN": str(TORCHRUN)})
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.count("| model | test accuracy") == 1  # rank 0 alone prints
    table = (tmp_path / "cmp" / "compare.md").read_text()
    assert "| iaf |" in table and "| lif |" in table
    assert (tmp_path / "cmp" / "report.html").exists()
