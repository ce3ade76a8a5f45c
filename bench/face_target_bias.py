"""Where the coarse-step bias of P(hit) near a target on stop's face comes from: one step, taken apart by where it
ends, against an independent reference.

Brownian motion (`Langevin(temperature=0.5)` on a flat landscape: dX = dW) from x0 = (0.97, 0.15), stop = the box
(-1, 1)^2, bridge test on. Five targets at the face x = 1; A and B (C and D) are the same set as far as any path
inside the box can tell, so the exact answers agree:

  A  Box((0.9, -0.1), (1.1, 0.1))                straddling the face
  B  Box((0.9, -0.1), (1.0, 0.1))                A cut at the face: its face x = 1 is stop's
  C  Ball((1.05, 0), 0.1)                        straddling the face (a cap 0.05 deep inside the box)
  D  Ball((1.05, 0), 0.1) & Box((0.9, -0.2), (1.0, 0.2))   C cut at the face
  E  Ball((0.85, 0), 0.1)                        inside the box, 0.05 from the face

One step of dt (escapade: `max_steps=1`) is compared with the reference, which runs each step as --substeps
Brownian increments in numpy (discrete monitoring: first point outside the box, EXITED; first point inside the target
and the box, HIT, whichever comes first). Both are grouped by where the step ends (the same Gaussian law in both):
0 inside the box and outside the target, 1 inside both, 2 outside the box inside the target, 3 outside both. The
reference misses excursions shorter than a substep: with the default 2000 substeps of dt = 0.005 (sd 0.0016 each),
its probabilities are low by about 0.58 sd / 0.03 of a crossing's share (Broadie-Glasserman-Kou), a few 1e-3.

Then the whole run (t_max = 50, no path censored) at each dt against escapade at --ref-dt (converged: the rows at
dt = 5e-4 and 5e-5 agree within their SE), and the right-angle wedge stop = {x < 1}, target = {y < 0} from (0.9, 0.1),
where P(hit | ended) = 1/2 exactly by symmetry. Last, the 1-D gap: from 0.97, target [0.8, 0.95], stop {x < 1},
P(hit) = 0.6 exactly, without a wall and behind a reflecting wall at -50, 0.5 or 0.79 (each behind the target, so
the exact answer stays 0.6): semantics 21 refines steps near both boundaries behind walls too, a midpoint beyond a
wall mirrored back (--paths paths, seed 3, t_max 200, no path censored). And a target that touches a wall: stop
{x < 1} behind a reflecting wall at y = 0, the target Ball((0.9, 0), 0.05) cut by it, from (0.92, 0.06) and
(0.97, 0.02); the wall's mirror makes the half-ball a ball, so the exact P(hit | ended) is the harmonic measure of
the ball against the line x = 1 (Apollonian coordinates), and the run without the wall is the same problem
(--paths paths, seed 5, t_max 2000; the few censored paths are left out of the fraction). And two targets between
the path and a wall, which every path meets before the wall: the band x > 0.99 in (0, 1) with the face at 1 a wall,
from 0.5 (exact 0.5 / 0.99), and the slot: stop {x < 0.01}, a wall at -0.01, the target [-0.01, 0], from 0.005
(exact 0.5) (--paths paths, seed 11, t_max 100). --walls-only runs these wall tables alone.
Seeds: --seed for escapade's runs (one seed for every row; each row is its own experiment), numpy's generator seeded
with --seed + 1000.

    python bench/face_target_bias.py [--paths 200000] [--dt 0.005] [--substeps 2000] [--ref-paths 50000]
                                     [--walls-only]
"""
from __future__ import annotations

import argparse
import time

import numpy as np

import escapade as esc

X0 = np.array([0.97, 0.15])


def targets():
    inside_ball = lambda p: np.hypot(p[..., 0] - 1.05, p[..., 1]) <= 0.1  # noqa: E731
    return {
        "A": (esc.Box([0.9, -0.1], [1.1, 0.1]),
              lambda p: (p[..., 0] >= 0.9) & (p[..., 0] <= 1.1) & (np.abs(p[..., 1]) <= 0.1)),
        "B": (esc.Box([0.9, -0.1], [1.0, 0.1]),
              lambda p: (p[..., 0] >= 0.9) & (p[..., 0] <= 1.0) & (np.abs(p[..., 1]) <= 0.1)),
        "C": (esc.Ball([1.05, 0.0], 0.1), inside_ball),
        "D": (esc.Ball([1.05, 0.0], 0.1) & esc.Box([0.9, -0.2], [1.0, 0.2]),
              lambda p: inside_ball(p) & (p[..., 0] <= 1.0)),
        "E": (esc.Ball([0.85, 0.0], 0.1), lambda p: np.hypot(p[..., 0] - 0.85, p[..., 1]) <= 0.1),
    }


def end_category(p, in_target):
    in_box = (np.abs(p) <= 1).all(-1)
    t = in_target(p)
    return np.select([in_box & ~t, in_box & t, ~in_box & t], [0, 1, 2], 3)


def one_step_escapade(region, in_target, dt, n, seed):
    res = esc.simulate(esc.Linear([0.0, 0.0]), esc.Langevin(0.5, dt=dt), x0=X0, stop=esc.Box([-1, -1], [1, 1]),
                       target=region, n_paths=n, max_steps=1, seed=seed)
    c = end_category(res.final_position, in_target)
    hit, ex = res.status == esc.Status.HIT, res.status == esc.Status.EXITED
    return np.array([[np.mean(c == k), np.mean(hit & (c == k)), np.mean(ex & (c == k))] for k in range(4)])


def one_step_reference(in_target, dt, n, substeps, rng, chunk=2500):
    s = np.zeros((4, 3))
    for done in range(0, n, chunk):
        m = min(chunk, n - done)
        path = X0 + np.cumsum(rng.normal(0.0, np.sqrt(dt / substeps), size=(m, substeps, 2)), axis=1)
        out = (np.abs(path) > 1).any(2)
        first_out = np.where(out.any(1), out.argmax(1), substeps)
        inside = in_target(path) & ~out
        first_in = np.where(inside.any(1), inside.argmax(1), substeps)
        c = end_category(path[:, -1], in_target)
        for k in range(4):
            s[k] += [(c == k).sum(), ((first_in < first_out) & (c == k)).sum(), ((first_out < first_in) & (c == k)).sum()]
    return s / n


def whole_run(region, dt, n, seed):
    res = esc.simulate(esc.Linear([0.0, 0.0]), esc.Langevin(0.5, dt=dt), x0=X0, stop=esc.Box([-1, -1], [1, 1]),
                       target=region, n_paths=n, t_max=50, seed=seed)
    return float(np.mean(res.status == esc.Status.HIT))


def wedge(dt, n, seed):
    res = esc.simulate(esc.Linear([0.0, 0.0]), esc.Langevin(0.5, dt=dt), x0=[0.9, 0.1],
                       stop=esc.HalfSpace(normal=[1.0, 0.0], offset=1.0),
                       target=esc.HalfSpace(normal=[0.0, 1.0], offset=0.0), n_paths=n, t_max=50, seed=seed)
    h, e = np.sum(res.status == esc.Status.HIT), np.sum(res.status == esc.Status.EXITED)
    return h / (h + e), h + e


def gap(dt, n, wall):
    stop = esc.HalfSpace([1.0], 1.0)
    if wall is not None:
        stop = stop & esc.HalfSpace([-1.0], -wall, reflecting=True)
    res = esc.simulate(esc.Linear([0.0]), esc.Langevin(0.5, dt=dt), x0=[0.97], stop=stop,
                       target=esc.Box([0.8], [0.95]), n_paths=n, t_max=200, seed=3)
    return float(np.mean(res.status == esc.Status.HIT)), res.count(esc.Status.CENSORED)


def wall_ball(x0, dt, n, wall):
    """P(hit | ended) of the target Ball((0.9, 0), 0.05) from x0, stop {x < 1}, behind a wall at y = 0 or not, and
    the exact value: log(|z - p2| / |z - p1|) / K with p1, p2 the ball's and the line's common inverse points."""
    d, r = 0.1, 0.05
    a = np.sqrt(d * d - r * r)
    u = lambda z: np.log(np.linalg.norm(z - [1 + a, 0.0]) / np.linalg.norm(z - [1 - a, 0.0]))  # noqa: E731
    stop = esc.HalfSpace([1.0, 0.0], 1.0)
    if wall:
        stop = stop & esc.HalfSpace([0.0, -1.0], 0.0, reflecting=True)
    res = esc.simulate(esc.Linear([0.0, 0.0]), esc.Langevin(0.5, dt=dt), x0=x0, stop=stop,
                       target=esc.Ball([1 - d, 0.0], r), n_paths=n, t_max=2000, seed=5)
    h, e = np.sum(res.status == esc.Status.HIT), np.sum(res.status == esc.Status.EXITED)
    return h / (h + e), u(np.array(x0)) / u(np.array([1 - d + r, 0.0])), res.count(esc.Status.CENSORED)


def band(dt, n, wall):
    """P(hit) of the band x > 0.99 from 0.5 in (0, 1), the face at 1 a reflecting wall or not."""
    stop = esc.Box([0.0], [1.0], reflecting=["x0+"] if wall else [])
    res = esc.simulate(esc.Linear([0.0]), esc.Langevin(0.5, dt=dt), x0=[0.5], stop=stop,
                       target=esc.HalfSpace([-1.0], -0.99), n_paths=n, t_max=100, seed=11)
    return float(np.mean(res.status == esc.Status.HIT)), res.count(esc.Status.CENSORED)


def slot(dt, n):
    """P(hit) of the target [-0.01, 0] against a wall at -0.01, stop {x < 0.01}, from 0.005."""
    stop = esc.HalfSpace([1.0], 0.01) & esc.HalfSpace([-1.0], 0.01, reflecting=True)
    res = esc.simulate(esc.Linear([0.0]), esc.Langevin(0.5, dt=dt), x0=[0.005], stop=stop,
                       target=esc.Box([-0.01], [0.0]), n_paths=n, t_max=100, seed=11)
    return float(np.mean(res.status == esc.Status.HIT)), res.count(esc.Status.CENSORED)


def wall_tables(a):
    print(f"\n1-D gap behind a reflecting wall, P(hit) (exact 0.6; binomial SE about {np.sqrt(0.24 / a.paths):.4f}):\n")
    print("| wall | " + " | ".join(f"dt {dt:g}" for dt in a.run_dts[:2]) + " | censored |")
    print("|---|" + "---:|" * 3)
    for wall in (None, -50.0, 0.5, 0.79):
        runs = [gap(dt, a.paths, wall) for dt in a.run_dts[:2]]
        print(f"| {'none' if wall is None else wall} | " + " | ".join(f"{p:.4f}" for p, _ in runs) +
              f" | {sum(c for _, c in runs)} |", flush=True)
    print("\nA target cut by a wall at y = 0, P(hit | ended):\n")
    print("| start | wall | " + " | ".join(f"dt {dt:g}" for dt in a.run_dts[:2]) + " | exact | censored |")
    print("|---|---|" + "---:|" * 4)
    for x0 in ([0.92, 0.06], [0.97, 0.02]):
        for wall in (True, False):
            runs = [wall_ball(x0, dt, a.paths, wall) for dt in a.run_dts[:2]]
            print(f"| {x0} | {'y = 0' if wall else 'none'} | " + " | ".join(f"{p:.4f}" for p, _, _ in runs) +
                  f" | {runs[0][1]:.4f} | {sum(c for _, _, c in runs)} |", flush=True)
    print("\nTargets between the path and a wall, P(hit):\n")
    print("| case | " + " | ".join(f"dt {dt:g}" for dt in a.run_dts[:2]) + " | exact | censored |")
    print("|---|" + "---:|" * 4)
    for name, run, exact in (("band x > 0.99, wall at 1", lambda dt: band(dt, a.paths, True), 0.5 / 0.99),
                             ("band x > 0.99, no wall", lambda dt: band(dt, a.paths, False), 0.5 / 0.99),
                             ("slot [-0.01, 0], wall at -0.01", lambda dt: slot(dt, a.paths), 0.5)):
        runs = [run(dt) for dt in a.run_dts[:2]]
        print(f"| {name} | " + " | ".join(f"{p:.4f}" for p, _ in runs) + f" | {exact:.4f} | "
              f"{sum(c for _, c in runs)} |", flush=True)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--paths", type=int, default=200_000)
    ap.add_argument("--dt", type=float, default=0.005, help="the one step's length")
    ap.add_argument("--substeps", type=int, default=2000)
    ap.add_argument("--ref-paths", type=int, default=50_000)
    ap.add_argument("--run-dts", type=float, nargs="+", default=[0.05, 0.005, 0.0005])
    ap.add_argument("--ref-dt", type=float, default=5e-5)
    ap.add_argument("--seed", type=int, default=5)
    ap.add_argument("--walls-only", action="store_true", help="only the tables behind reflecting walls")
    a = ap.parse_args()
    if a.walls_only:
        print(f"escapade {esc.__version__}; {a.paths:,} paths per cell")
        wall_tables(a)
        return
    rng = np.random.default_rng(a.seed + 1000)
    print(f"escapade {esc.__version__}; one step of dt = {a.dt}: {a.paths:,} paths (seed {a.seed}); reference "
          f"{a.ref_paths:,} paths of {a.substeps} substeps\n")
    print("| target | ends | P(end there) | P(hit), escapade | P(hit), reference | P(exit), escapade | P(exit), reference |")
    print("|---|---|---:|---:|---:|---:|---:|")
    names = ["in the box, outside the target", "in both", "outside the box, in the target", "outside both"]
    for name, (region, in_target) in targets().items():
        t0 = time.time()
        e = one_step_escapade(region, in_target, a.dt, a.paths, a.seed)
        r = one_step_reference(in_target, a.dt, a.ref_paths, a.substeps, rng)
        for k in range(4):
            if e[k, 0] == 0 and r[k, 0] == 0:
                continue
            print(f"| {name} | {names[k]} | {e[k, 0]:.4f} | {e[k, 1]:.4f} | {r[k, 1]:.4f} | {e[k, 2]:.4f} | {r[k, 2]:.4f} |")
        print(f"| {name} | all | 1 | **{e[:, 1].sum():.4f}** | **{r[:, 1].sum():.4f}** | {e[:, 2].sum():.4f} | "
              f"{r[:, 2].sum():.4f} |  ({time.time() - t0:.0f} s)", flush=True)
    print(f"\nWhole runs, P(hit) (binomial SE about {np.sqrt(0.25 / a.paths):.4f}; reference: dt = {a.ref_dt}):\n")
    print("| target | " + " | ".join(f"dt {dt:g}" for dt in a.run_dts) + " | reference |")
    print("|---|" + "---:|" * (len(a.run_dts) + 1))
    for name, (region, _) in targets().items():
        row = [whole_run(region, dt, a.paths, a.seed) for dt in a.run_dts + [a.ref_dt]]
        print(f"| {name} | " + " | ".join(f"{p:.4f}" for p in row) + " |", flush=True)
    print("\nWedge, P(hit | ended) (exact 0.5):\n")
    for dt in a.run_dts:
        p, m = wedge(dt, a.paths, a.seed)
        print(f"- dt {dt:g}: {p:.4f} ± {np.sqrt(p * (1 - p) / m):.4f}", flush=True)
    wall_tables(a)

if __name__ == "__main__":
    main()
