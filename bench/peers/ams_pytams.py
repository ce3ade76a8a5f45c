"""Adaptive multilevel splitting peer through pyTAMS (https://github.com/nlesc-eTAOC/pyTAMS): the 1-D double well.

The problem of ams_numba.py: V(x) = x^4/4 - x^2/2, Euler-Maruyama x' = x - V'(x) dt + sqrt(2 T dt) G from x0,
p = P_x0(x >= b before x <= a), tested at the steps. pyTAMS (1.0.0) is trajectory-adaptive multilevel splitting:
each trajectory runs until its score reaches the target or its time reaches end_time. Here the score is
(x - a) / (b - a) (pyTAMS takes scores in [0, 1]: the maximum of a branched trajectory is recomputed from 0)
and the target 1, so convergence is arrival in B; arrival in A is expressed through the forward-model API by the
step that lands in A reporting an actual time step that carries the trajectory past end_time, which ends it
unconverged (end_time is set far beyond any path's duration, so no path is ended by time). pyTAMS kills the
nworker_iter lowest maxima and every trajectory tied with them; with one worker that is k = 1 with ties, as in
ams_numba.py, and a killed trajectory branches from a uniformly chosen other one at its first snapshot with
score above the level. Its estimator (Database.get_transition_probability) and its random survivor choice are
its own.

Each trajectory runs in a worker process of pyTAMS's asyncio runner (one worker: the ensemble and the
iterations run one trajectory at a time on one core), with the in-memory database (an SQLite pool file in a
scratch directory). The measure is seconds per Euler step: the wall time of TAMS(...).compute_probability()
divided by the model steps pyTAMS reports (Database.count_computed_steps(), discarded trajectories included).

pytams is an optional benchmark dependency (the `bench` extra), never a runtime one; it pulls in dask,
distributed, dask-jobqueue, SQLAlchemy and matplotlib.

Public entry point
------------------
run_pytams(temperature, dt, x0, a, b, n_replicas, n_iterations) -> dict
    One TAMS run with at most n_iterations splitting iterations. Returns {"p": pyTAMS's estimate (its value for
    an unfinished run when the cap stops it), "steps": model steps, "iterations": splitting iterations done,
    "finished": all trajectories ended and the estimate is final, "wall": seconds of TAMS construction and
    compute_probability, "s_per_step": wall / steps}.
"""
from __future__ import annotations

import math
import os
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np
import toml
from pytams.fmodel import ForwardModelBaseClass
from pytams.tams import TAMS

END_TIME = 1.0e9  # no path lasts this long; a step into A jumps past it


class DoubleWell1D(ForwardModelBaseClass):
    """Euler-Maruyama for dX = -V'(X) dt + sqrt(2T) dW, V = x^4/4 - x^2/2; score (x - a) / (b - a); x <= a ends it."""

    def _init_model(self, m_id: int, params: dict[Any, Any]) -> None:
        p = params["model"]
        self._temperature = float(p["temperature"])
        self._a = float(p["a"])
        self._b = float(p["b"])
        self._x = float(p["x0"])
        # Fresh OS entropy per model instance: pyTAMS builds a branched trajectory's model before it records the
        # branching, so m_id (trajectory index * 10000 + branch count) is the same for every incarnation of a
        # trajectory slot, and a stream seeded by it would give each branch the noise its slot used before.
        # pyTAMS's survivor choice is unseeded too, so runs are not reproducible either way.
        self._rng = np.random.default_rng()

    def _advance(self, step: int, time: float, dt: float, noise: Any, need_end_state: bool) -> float:
        x = self._x
        x = x - (x * x * x - x) * dt + math.sqrt(2.0 * self._temperature * dt) * noise
        self._x = x
        if x <= self._a:
            return 2.0 * END_TIME  # in A: the trajectory ends, not converged
        return dt

    def get_current_state(self) -> Any:
        return self._x

    def set_current_state(self, state: Any) -> None:
        self._x = float(state)

    def score(self) -> float:
        return (self._x - self._a) / (self._b - self._a)

    def make_noise(self) -> Any:
        return float(self._rng.standard_normal())

    @classmethod
    def name(cls) -> str:
        return "DoubleWell1D"


def run_pytams(temperature, dt, x0, a, b, n_replicas, n_iterations) -> dict:
    """One pyTAMS run of the double-well problem; see the module docstring."""
    if not (a < x0 < b):
        raise ValueError(f"need a < x0 < b, got a={a!r}, x0={x0!r}, b={b!r}")
    params = {
        "tams": {"ntrajectories": int(n_replicas), "nsplititer": int(n_iterations), "loglevel": os.environ.get("PYTAMS_LOGLEVEL", "WARNING"),
                 "walltime": 1.0e7},
        "runner": {"type": "asyncio", "nworker_init": 1, "nworker_iter": 1},
        "trajectory": {"end_time": END_TIME, "step_size": float(dt), "targetscore": 1.0},
        "model": {"temperature": float(temperature), "x0": float(x0), "a": float(a), "b": float(b)},
    }
    cwd = Path.cwd()
    with tempfile.TemporaryDirectory(prefix="pytams_") as tmp:
        os.chdir(tmp)  # pyTAMS writes its SQLite pool file into the working directory
        try:
            Path("input.toml").write_text(toml.dumps(params))
            t0 = time.perf_counter()
            tams = TAMS(fmodel_t=DoubleWell1D, a_args=["-i", "input.toml"])
            p = tams.compute_probability()
            wall = time.perf_counter() - t0
            db = tams.get_database()
            steps = int(db.count_computed_steps())
            iterations = int(db.k_split())
            finished = db.count_ended_traj() == db.n_traj() and all(t.has_ended() for t in db.traj_list())
            all_converged = all(t.is_converged() for t in db.traj_list())
            del tams, db
        finally:
            os.chdir(cwd)
    return {"p": float(p), "steps": steps, "iterations": iterations, "finished": bool(finished and all_converged),
            "wall": wall, "s_per_step": wall / steps}


if __name__ == "__main__":
    import argparse

    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--temperature", type=float, default=1 / 64)
    ap.add_argument("--dt", type=float, default=1e-3)
    ap.add_argument("--x0", type=float, default=-0.8)
    ap.add_argument("--a", type=float, default=-0.9)
    ap.add_argument("--b", type=float, default=0.0)
    ap.add_argument("--replicas", type=int, default=10)
    ap.add_argument("--iterations", type=int, default=20)
    ap.add_argument("--runs", type=int, default=1)
    ns = ap.parse_args()
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    for r in range(ns.runs):
        out = run_pytams(ns.temperature, ns.dt, ns.x0, ns.a, ns.b, ns.replicas, ns.iterations)
        print(f"run={r} p={out['p']:.6e} finished={out['finished']} iterations={out['iterations']} "
              f"steps={out['steps']} wall={out['wall']:.3f}s us/step={out['s_per_step'] * 1e6:.2f}", flush=True)
