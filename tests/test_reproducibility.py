"""Bitwise reproducibility through the public API: a seed gives the same bits for any number of threads and lanes,
another seed other paths."""

from __future__ import annotations

import numpy as np
import pytest

from escapade import Status, simulate

from conftest import BASELINE, PROBLEMS, assert_same_arrays, run_problem

CONFIGS = [(2, 64), (1, 1), (1, 7), (2, 7), (1, 256), (2, 256)]


@pytest.mark.parametrize("config", CONFIGS, ids=lambda c: f"threads{c[0]}-lanes{c[1]}")
@pytest.mark.parametrize("problem", sorted(PROBLEMS))
def test_bitwise_identical_for_any_threads_and_lanes(problem, config):
    base = run_problem(problem, *BASELINE)
    other = run_problem(problem, *config)
    assert np.all(np.isin(other.status, [int(s) for s in Status])), "paths left without a final status"
    assert_same_arrays(base, other)
    assert other.total_steps == base.total_steps


@pytest.mark.parametrize("problem", sorted(PROBLEMS))
def test_same_seed_same_result_different_seed_different_result(problem):
    a = run_problem(problem, *BASELINE)
    spec = dict(PROBLEMS[problem])
    again = simulate(spec.pop("landscape"), spec.pop("dynamics"), seed=11, threads=1, lanes=64, **spec)
    assert_same_arrays(a, again)
    c = run_problem(problem, *BASELINE, seed=12)
    assert np.mean(a.exit_step != c.exit_step) > 0.9
