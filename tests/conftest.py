"""What several test files share: the repository's paths, the W1 double well, the reference problems of the
reproducibility tests, bit-for-bit comparisons of results, the fixtures of chunked runs, and a small experiment file.

Test files import the plain helpers (`from conftest import w1`); the fixtures need no import.
"""

from __future__ import annotations

import functools
import math
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

import escapade._execute as execute_module
from escapade import Ball, Box, DoubleWell, HalfSpace, Langevin, Quadratic, UniformBall, simulate, sweep

ROOT = Path(__file__).resolve().parent.parent  # the repository
N_SIGMA = 5.0
RESULT_ARRAYS = ("status", "exit_time", "exit_step", "exit_position", "final_position")


def double_well(x):
    return x**4 / 4 - x**2 / 2


# ---------------------------------------------------------------------------------------------------------------
# W1: escape from x = -1 over the barrier at 0 of the double well, at temperature 1/16


W1_EXIT = dict(x0=[-1.0], stop=HalfSpace([1.0], 0.0), t_max=1e4)  # the start, the region left and the time cap
W1 = dict(landscape=DoubleWell(), dynamics=Langevin(temperature=1 / 16, dt=1e-2), **W1_EXIT)
N_PATHS = 3000
SEED = 2024


def w1(**overrides):
    """The W1 double well (escape from x = -1 over the barrier at 0), with some arguments replaced."""
    args = dict(W1, n_paths=N_PATHS, seed=SEED, progress=False)
    args.update(overrides)
    return simulate(args.pop("landscape"), args.pop("dynamics"), **args)


SWEEP_GRID = {"dynamics.temperature": [1 / 16, 1 / 10], "bridge": [True, False]}


def run_sweep(**kw):
    args = dict(W1, grid=SWEEP_GRID, n_paths=1000, seed=SEED, record_paths=2, record_every=1000, progress=False)
    args.update(kw)
    return sweep(args.pop("landscape"), args.pop("dynamics"), **args)


@pytest.fixture(scope="session")
def w1_local():
    """The reference: one unchunked local run of W1, recording trajectories that span several chunks."""
    return w1(threads=2, record_paths=1100, record_every=2000)


# ---------------------------------------------------------------------------------------------------------------
# Reference problems of the reproducibility tests, each run once per configuration for the whole session


PROBLEMS = {
    "w1": dict(W1, n_paths=2000),
    "quadratic3d": dict(
        landscape=Quadratic([[2.0, 0.3, 0.0], [0.3, 1.0, 0.1], [0.0, 0.1, 0.5]]),
        dynamics=Langevin(temperature=0.2, dt=1e-2),
        x0=UniformBall([0.0, 0.0, 0.0], 0.5),
        stop=Ball([0.0, 0.0, 0.0], 1.5),
        target=Box([0.8, -np.inf, -np.inf], [np.inf, np.inf, np.inf]),
        n_paths=1000,
        t_max=100.0,
    ),
    "quadratic3d_anisotropic": dict(
        landscape=Quadratic([[2.0, 0.3, 0.0], [0.3, 1.0, 0.1], [0.0, 0.1, 0.5]], center=[0.1, 0.0, -0.1]),
        dynamics=Langevin(eps=0.6, S=[[1.0, 0.2], [0.0, 0.8], [0.5, -0.3]], dt=1e-2),
        x0=UniformBall([0.0, 0.0, 0.0], 0.5),
        stop=Ball([0.0, 0.0, 0.0], 1.5),
        target=Box([0.8, -np.inf, -np.inf], [np.inf, np.inf, np.inf]),
        n_paths=1000,
        t_max=100.0,
    ),
}
BASELINE = (1, 64)


@functools.lru_cache(maxsize=None)
def run_problem(name, threads, lanes, seed=11):
    spec = dict(PROBLEMS[name])
    return simulate(spec.pop("landscape"), spec.pop("dynamics"), seed=seed, threads=threads, lanes=lanes, **spec)


# ---------------------------------------------------------------------------------------------------------------
# Comparing results


def assert_same_arrays(a, b):
    """The per-path arrays are equal, NaN where the other has NaN."""
    for name in RESULT_ARRAYS:
        x, y = getattr(a, name), getattr(b, name)
        assert x.dtype == y.dtype, name
        assert x.shape == y.shape, name
        if x.dtype.kind == "f":
            bad = np.nonzero(~((x == y) | (np.isnan(x) & np.isnan(y))))[0]
        else:
            bad = np.nonzero(x != y)[0]
        assert bad.size == 0, f"{name} differs for {bad.size} paths, first rows {bad[:10].tolist()}"


def same_bits(x, y):
    return x.dtype == y.dtype and x.shape == y.shape and np.ascontiguousarray(x).tobytes() == np.ascontiguousarray(
        y
    ).tobytes()


def assert_same_trajectories(a, b):
    assert len(a.trajectories) == len(b.trajectories)
    for i, ((t, x), (tb, xb)) in enumerate(zip(a.trajectories, b.trajectories)):
        assert same_bits(t, tb), f"trajectory {i}: times differ"
        assert same_bits(x, xb), f"trajectory {i}: states differ"


def assert_same_result(a, b):
    """Bit for bit the same run: per-path arrays, trajectories, step count and provenance."""
    assert type(a) is type(b)
    for name in RESULT_ARRAYS:
        x, y = getattr(a, name), getattr(b, name)
        assert x.dtype == y.dtype and x.shape == y.shape, name
        if not same_bits(x, y):
            if x.dtype.kind == "f":
                bad = np.nonzero(~((x == y) | (np.isnan(x) & np.isnan(y))))[0]
            else:
                bad = np.nonzero(x != y)[0]
            pytest.fail(f"{name} differs for {bad.size} paths, first rows {bad[:10].tolist()}")
    assert_same_trajectories(a, b)
    assert a.total_steps == b.total_steps
    assert without_lanes(a.params) == without_lanes(b.params)
    assert (a.seed, a.version) == (b.seed, b.version)


def without_lanes(params):
    """The recorded parameters but `lanes`, which changes how the engine runs, not the numbers."""
    return {k: v for k, v in params.items() if k != "lanes"}


def assert_same_summary(s, ref, rel=1e-12):
    """Counts exactly equal, the statistics to rounding (NaN and inf where the reference has them)."""
    assert s.n_paths == ref.n_paths
    assert s.counts == ref.counts
    assert s.censored_fraction == ref.censored_fraction
    for name in ("mean", "stderr", "mean_lower_bound", "exponential_mean"):
        got, want = getattr(s, name), getattr(ref, name)
        if math.isfinite(want):
            assert got == pytest.approx(want, rel=rel, abs=0), name
        else:
            assert (math.isnan(got) and math.isnan(want)) or got == want, f"{name}: {got} != {want}"


# ---------------------------------------------------------------------------------------------------------------
# Chunks and the checkpoint store


def chunk_files(store):
    return sorted(p.name for p in store.glob("chunk-*.npz"))


def file_ids(store):
    """(inode, mtime) of every chunk file: a chunk written again (atomically, by rename) changes both."""
    return {p.name: (p.stat().st_ino, p.stat().st_mtime_ns) for p in store.glob("chunk-*.npz")}


@pytest.fixture
def count_chunks(monkeypatch):
    """Counts the chunks run in this process (the local path calls escapade._execute.run_chunk per chunk)."""
    calls = []
    original = execute_module.run_chunk

    def counting(job, first, n, *args, **kwargs):
        calls.append((first, n))
        return original(job, first, n, *args, **kwargs)

    monkeypatch.setattr(execute_module, "run_chunk", counting)
    return calls


# ---------------------------------------------------------------------------------------------------------------
# Experiment files


BASE_CONFIG = """\
[landscape]
type = "DoubleWell"

[dynamics]
type = "Langevin"
temperature = 0.25
dt = 0.01

[stop]
type = "HalfSpace"
normal = [1.0]
offset = 0.0

[start]
x0 = [-1.0]

[run]
n_paths = 200
t_max = 100.0
seed = 3
"""


def write_config(tmp_path: Path, text: str, name: str = "exp.toml") -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def edited_config(edits: str | tuple) -> str:
    """BASE_CONFIG with (old, new) replaced, or with new appended when old is empty (or edits is a string); one
    edit or a tuple of them."""
    if isinstance(edits, str):
        edits = ("", edits)
    text = BASE_CONFIG
    for old, new in edits if isinstance(edits[0], tuple) else (edits,):
        assert old in text
        text = text.replace(old, new, 1) if old else text + new
    return text


def interrupt_child(script: str, mode: str, cwd: Path, env: dict | None = None,
                    signals: int = 1) -> tuple[str, str, int]:
    """Run `python -c script mode`, wait for it to print "started" and run on for 1.5 s, send it SIGINT (`signals`
    times, 2 ms apart: an impatient user), and return its (stdout, stderr, return code); fails the test if it ends by
    itself first or hangs 30 s after the signal."""
    proc = subprocess.Popen([sys.executable, "-c", script, mode], cwd=cwd, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, env=env)
    try:
        assert proc.stdout.readline().strip() == "started"
        try:
            proc.wait(timeout=1.5)  # let the run get going; it must not end by itself
        except subprocess.TimeoutExpired:
            pass
        assert proc.poll() is None, proc.stderr.read()
        for k in range(signals):
            if k:
                time.sleep(0.002)
            proc.send_signal(signal.SIGINT)
        try:
            out, err = proc.communicate(timeout=30)  # a hang check, not a timing requirement
        except subprocess.TimeoutExpired:
            proc.kill()
            out, err = proc.communicate()
            pytest.fail(f"still running 30 s after SIGINT; stdout: {out!r}; stderr: {err[-3000:]!r}")
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
        proc.stdout.close()
        proc.stderr.close()
    return out, err, proc.returncode
