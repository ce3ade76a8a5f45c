"""Property-based tests (hypothesis): generated landscapes, dynamics, regions, starts and run options, with odd
shapes, NaN and inf, extreme magnitudes and empty arrays. Whatever the input, simulate either refuses it with a
TypeError/ValueError, or returns a result in which every path's status agrees with its position and time.

The default run tries a bounded number of examples; the `slow` tests try many more (`python -m pytest -m slow`).
"""

from __future__ import annotations

import math
from functools import partial

import numpy as np
import pytest

hypothesis = pytest.importorskip("hypothesis")
from hypothesis import HealthCheck, event, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

import escapade as esc  # noqa: E402
from escapade import Status  # noqa: E402

QUICK = settings(max_examples=50, deadline=None, derandomize=True, database=None,
                 suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
LONG = settings(max_examples=2000, deadline=None, database=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])

# Numbers: mostly ordinary, sometimes extreme or not finite.
ORDINARY = st.floats(min_value=-3.0, max_value=3.0, allow_nan=False)
EXTREME = st.sampled_from([1e-20, 1e20, 1e-160, 1e200, 1e-300, 5e-324, 1e308, -1e-300, -1e200, 0.0, -0.0,
                           float("nan"), float("inf"), float("-inf")])


def mostly(ordinary, odd, weight=8):
    """ordinary values, and odd ones about once in `weight` draws."""
    return st.integers(min_value=1, max_value=weight).flatmap(lambda i: odd if i == weight else ordinary)


NUMBER = mostly(ORDINARY, EXTREME)
POSITIVE = mostly(st.floats(min_value=0.01, max_value=2.0), EXTREME)
EPS = POSITIVE
DT = POSITIVE


def vector(d, elements=NUMBER):
    """A 1-D array of length d, sometimes of a wrong length (0 or d + 1)."""
    return mostly(st.just(d), st.sampled_from([0, d + 1]), 12).flatmap(
        lambda n: st.lists(elements, min_size=n, max_size=n).map(lambda v: np.array(v, dtype=float)))


def landscapes(d):
    return st.one_of(
        st.just(esc.DoubleWell(d)),
        vector(d, st.one_of(st.floats(min_value=0.1, max_value=3.0), EXTREME)).map(lambda v: ("Quadratic", v)),
        vector(d, st.one_of(st.sampled_from([1.0, -1.0, 0.5, -0.5, 2.0]), EXTREME)).map(
            lambda v: ("StrictSaddle", v)),
    )


def build_landscape(spec):
    if not isinstance(spec, tuple):
        return spec
    kind, v = spec
    return esc.Quadratic(np.diag(v)) if kind == "Quadratic" else esc.StrictSaddle(v)


DYNAMICS = st.one_of(  # constructors with their arguments, called inside the test (they may refuse them)
    st.builds(lambda T, dt: partial(esc.Langevin, T, dt=dt), POSITIVE, DT),
    st.builds(lambda e, dt: partial(esc.Langevin, eps=e, dt=dt), EPS, DT),
    st.builds(lambda e, dt: partial(esc.Langevin, eps=e, S="hessian", dt=dt), EPS, DT),
    st.builds(partial, st.just(esc.GD), POSITIVE),
    st.builds(partial, st.just(esc.NoisyGD), POSITIVE, POSITIVE),
    st.builds(lambda lr, b: partial(esc.GaussianSGD, lr, b, "hessian"), POSITIVE, POSITIVE),
    st.builds(partial, st.just(esc.HeavyBall), POSITIVE, st.floats(min_value=0.0, max_value=0.99)),
    st.builds(lambda a, dt: partial(esc.LevyLangevin, a, dt=dt), st.floats(min_value=0.5, max_value=2.0), DT),
)


def regions(d):
    plain = st.one_of(
        st.builds(lambda n, o: ("HalfSpace", n, o), vector(d), NUMBER),
        st.builds(lambda c, r: ("Ball", c, r), vector(d), POSITIVE),
        st.builds(lambda lo, w: ("Box", lo, w), vector(d), vector(d, POSITIVE)),
        st.builds(lambda c, a: ("Ellipsoid", c, a), vector(d), vector(d, POSITIVE)),
    )
    return st.one_of(plain, plain.map(lambda spec: ("Outside", spec, None)))  # and their complements


def build_region(spec):
    kind, a, b = spec
    if kind == "Outside":
        return ~build_region(a)
    if kind == "HalfSpace":
        return esc.HalfSpace(a, b)
    if kind == "Ball":
        return esc.Ball(a, b)
    if kind == "Ellipsoid":  # semi-axes b along directions turned by 30 degrees in the first two coordinates
        rotation = np.eye(len(b))
        if len(b) >= 2:
            rotation[:2, :2] = [[np.sqrt(3) / 2, -0.5], [0.5, np.sqrt(3) / 2]]
        return esc.Ellipsoid.from_axes(a, b, rotation)
    with np.errstate(over="ignore"):  # an infinite corner is the constructor's to refuse
        high = a + b if a.shape == b.shape else b
    return esc.Box(a, high)


def starts(d):
    return st.one_of(
        vector(d),
        vector(d, ORDINARY),
        st.integers(min_value=0, max_value=4).flatmap(
            lambda n: st.lists(vector(d, ORDINARY), min_size=n, max_size=n)).map(
            lambda rows: np.array(rows) if rows and len({len(r) for r in rows}) == 1 else np.zeros((0, d))),
        st.builds(lambda c, r: ("UniformBall", c, r), vector(d, ORDINARY), POSITIVE),
        st.builds(lambda c: ("Gaussian", c), vector(d, ORDINARY)),
    )


def build_start(spec, d):
    if isinstance(spec, np.ndarray):
        return spec
    if spec[0] == "UniformBall":
        return esc.UniformBall(spec[1], spec[2])
    return esc.Gaussian(spec[1], np.eye(d))


RUN = st.fixed_dictionaries({
    "n_paths": mostly(st.integers(min_value=1, max_value=6), st.sampled_from([0, -1, None])),
    "max_steps": st.integers(min_value=1, max_value=60),
    "t_max": mostly(st.one_of(st.none(), st.floats(min_value=0.01, max_value=5.0)),
                    st.sampled_from([0.0, -1.0, 1e-300, 1e300, float("nan"), float("inf")])),
    "seed": st.integers(min_value=0, max_value=2**64 - 1),
    "bridge": st.booleans(),
    "divergence_bound": st.one_of(st.just(1e8), POSITIVE),
    "lanes": st.sampled_from([None, 1, 3, 64]),
    "threads": st.sampled_from([None, 1, 2]),
    "keep": st.sampled_from(["paths", "paths", "summary"]),
    "record_paths": st.sampled_from([0, 0, 2]),
})

PROBLEM = st.integers(min_value=1, max_value=3).flatmap(lambda d: st.fixed_dictionaries({
    "d": st.just(d),
    "landscape": landscapes(d),
    "dynamics": DYNAMICS,
    "stop": st.one_of(st.none(), regions(d)),
    "target": st.one_of(st.none(), st.none(), regions(d)),
    "x0": starts(d),
    "run": RUN,
}))


def bridged(dynamics, bridge):
    """Whether exits between steps (Brownian bridge) can end a path: then its last position may lie in `stop`
    (or outside `target`) although the path counts as EXITED (or HIT)."""
    return bridge and isinstance(dynamics, esc.Langevin)


def attempt(problem):
    """Build and run the problem; None when a constructor or simulate refused it cleanly."""
    d, run = problem["d"], dict(problem["run"])
    try:
        landscape = build_landscape(problem["landscape"])
        dynamics = problem["dynamics"]()
        stop = None if problem["stop"] is None else build_region(problem["stop"])
        target = None if problem["target"] is None else build_region(problem["target"])
        x0 = build_start(problem["x0"], d)
        if isinstance(x0, np.ndarray) and x0.ndim == 2 and run["n_paths"] is not None and run["n_paths"] > 0:
            run["n_paths"] = min(run["n_paths"], max(len(x0), 1))
        res = esc.simulate(landscape, dynamics, x0=x0, stop=stop, target=target, **run)
    except (TypeError, ValueError) as exc:
        assert str(exc), "an empty error message"
        event(f"refused: {type(exc).__name__}")
        return None
    event("ran")
    return res, landscape, dynamics, stop, target, run


def check_consistent(problem):
    out = attempt(problem)
    if out is None:
        return
    res, landscape, dynamics, stop, target, run = out
    n = run["n_paths"] if run["n_paths"] is not None else len(problem["x0"])
    assert res.n_paths == n
    counts = res.stats().counts
    assert sum(counts) == n and all(c >= 0 for c in counts)
    if run["keep"] == "summary":
        return
    status, t, step, x = res.status, res.exit_time, res.exit_step, res.exit_position
    d = landscape.dim
    assert status.shape == (n,) and t.shape == (n,) and step.shape == (n,) and x.shape == (n, d)
    assert set(np.unique(status)) <= {int(s) for s in Status}
    cap = res.params["max_steps"]
    assert np.all((step >= 0) & (step <= cap))
    discrete = isinstance(dynamics, esc.DiscreteMap)
    dt = 1.0 if discrete else dynamics.dt
    t_cap = cap * dt  # t_max rounded up to whole steps (simulate's rule); equal to t_max when t_max = k * dt
    stopped = (status == Status.EXITED) | (status == Status.HIT)
    assert np.all(np.isfinite(t[stopped])) and np.all(t[stopped] >= 0)
    assert np.all(t[stopped] <= t_cap * (1 + 1e-12)), (t[stopped], t_cap)
    assert np.all(np.isfinite(x[stopped]))
    for s in (Status.CENSORED, Status.DIVERGED):
        assert np.all(np.isnan(t[status == s])), s
        assert np.all(np.isnan(x[status == s])), s
    assert np.all(step[status == Status.CENSORED] == cap)
    assert not np.any(status == Status.CONVERGED) and not np.any(status == Status.SINGULAR)
    between_steps = bridged(dynamics, run["bridge"])
    final = res.final_position
    assert final.shape == (n, d)
    if between_steps:  # an exit may be located inside its last step
        assert np.all(t[stopped] >= (step[stopped] - 1) * dt) and np.all(t[stopped] <= step[stopped] * dt * (1 + 1e-12))
    else:  # at the end of the step, where the path is
        np.testing.assert_array_equal(t[stopped], step[stopped] * dt)
        np.testing.assert_array_equal(x[stopped], final[stopped])
    exited = status == Status.EXITED
    if stop is None:
        assert not exited.any()
    elif exited.any() and not between_steps:
        assert not np.any(stop.contains(x[exited])), "an EXITED path ended inside `stop`"
    hit = status == Status.HIT
    if target is None:
        assert not hit.any()
    elif hit.any() and not between_steps:
        assert np.all(target.contains(x[hit])), "a HIT path ended outside `target`"
    if stop is None and target is None:
        assert np.all((status == Status.CENSORED) | (status == Status.DIVERGED))


@QUICK
@given(PROBLEM)
def test_generated_problems_end_consistently(problem):
    check_consistent(problem)


@pytest.mark.slow
@LONG
@given(PROBLEM)
def test_generated_problems_end_consistently_long(problem):
    check_consistent(problem)


@QUICK
@given(st.integers(min_value=1, max_value=3).flatmap(lambda d: st.tuples(st.just(d), regions(d), vector(d))))
def test_region_constructors_refuse_or_contain(args):
    # A region is refused cleanly or answers contains() with booleans, for any numbers.
    d, spec, point = args
    try:
        region = build_region(spec)
    except (TypeError, ValueError) as exc:
        assert str(exc)
        return
    try:
        inside = region.contains(point)
    except (TypeError, ValueError) as exc:
        assert str(exc)
        return
    assert isinstance(inside, bool)
    if spec[0] == "Outside":  # the complement answers the opposite, whatever the point
        assert inside == (not (~region).contains(point))


FINITE = mostly(ORDINARY, EXTREME.filter(lambda v: math.isfinite(v)))


@QUICK
@given(st.integers(min_value=1, max_value=3).flatmap(
    lambda d: st.tuples(st.lists(FINITE, min_size=d, max_size=d), mostly(st.floats(0.01, 1e3), EXTREME))))
def test_ball_contains_its_centre(args):
    center, radius = args
    try:
        ball = esc.Ball(center, radius)
    except ValueError as exc:
        assert "radius" in str(exc)
        return
    assert ball.contains(center) is True
