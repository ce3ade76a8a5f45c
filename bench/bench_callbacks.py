"""User landscapes: path-steps per second of escapade with a built-in landscape, a numba-compiled callback and a
batched numpy callback, against a hand-written numba prange loop and a hand-written numpy lockstep loop that call
the same gradient functions, on identical work in the same run.

Workloads (overdamped Langevin, Euler-Maruyama, discrete monitoring, one thread unless --threads):
  W1      f = x^4/4 - x^2/2, T = 1/16, x0 = -1, exit at x >= 0, dt = 1e-3 (mean exit time 135.78)
  ackley  2-D Ackley variant of 000 eq. (12), escapade's built-in `Ackley()`:
          f = a e^-delta - a exp(-sqrt(|x|^2 / n + delta^2)) + e - exp(sum cos(c x_i) / n), a = 20, delta = 0.05, c = 2 pi,
          T = 0.8, x0 = 0 (the global minimum), exit from the ball of radius 0.5 around it, dt = 1e-3
          (mean exit time about 7)

Then the overhead of one batched call: W1 with the numpy gradient x^3 - x at `lanes` = 8, 64, 256, 1024 (every
path censored after 20,000 steps, one thread), the run's wall time per call minus the built-in landscape's on the
same work, minus the gradient function's own time on a block of that size called from Python in a loop: what
escapade spends around each call (taking the GIL, the array views, the call, checking and copying the result).

    python bench/bench_callbacks.py [--paths 2000] [--threads 1] [--json out.json] [--overhead-only]
"""
from __future__ import annotations

import argparse
import json
import math
import sys
import time
from pathlib import Path

import numba
import numpy as np
from numba import njit, prange

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import machine_info  # noqa: E402

import escapade as esc  # noqa: E402

A, DELTA, C = 20.0, 0.05, 2.0 * math.pi

# --- the gradients, per point (numba) and per block (numpy) ---------------------------------------------------


@njit
def w1_gradient(x, out):
    out[0] = (x[0] * x[0]) * x[0] - x[0]


def w1_gradient_numpy(x):
    return x * x * x - x


@njit
def w1_gradient_rows(x, out):
    for lane in range(x.shape[0]):
        out[lane, 0] = (x[lane, 0] * x[lane, 0]) * x[lane, 0] - x[lane, 0]


@njit
def ackley_gradient(x, out):
    n = x.size
    sq = 0.0
    cs = 0.0
    for i in range(n):
        sq += x[i] * x[i]
        cs += math.cos(C * x[i])
    r = math.sqrt(sq / n + DELTA * DELTA)
    radial = A * math.exp(-r) / (n * r)
    wave = math.exp(cs / n) * C / n
    for i in range(n):
        out[i] = radial * x[i] + wave * math.sin(C * x[i])


def ackley_gradient_numpy(x):
    n = x.shape[1]
    r = np.sqrt((x * x).sum(axis=1, keepdims=True) / n + DELTA * DELTA)
    wave = np.exp(np.cos(C * x).sum(axis=1, keepdims=True) / n) * C / n
    return A * np.exp(-r) / (n * r) * x + wave * np.sin(C * x)


# --- hand-written peers ----------------------------------------------------------------------------------------


def numba_prange_loop(gradient):
    """A prange loop over paths, one path at a time, polar-method normals from an inlined xoshiro256**."""

    @njit(parallel=True)
    def kernel(x0, center, radius2, halfspace, dt, temperature, seed, max_steps, out_steps):
        d = x0.size
        s = math.sqrt(2.0 * temperature * dt)
        for p in prange(out_steps.size):
            # splitmix64 -> xoshiro256** state per path
            z = np.uint64(seed * 0x9E3779B97F4A7C15 + p + 1)
            st = np.empty(4, np.uint64)
            for j in range(4):
                z += np.uint64(0x9E3779B97F4A7C15)
                t = z
                t = (t ^ (t >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
                t = (t ^ (t >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
                st[j] = t ^ (t >> np.uint64(31))
            x = x0.copy()
            g = np.empty(d)
            spare = 0.0
            has_spare = False
            k = 0
            done = -1
            while k < max_steps:
                gradient(x, g)
                for i in range(d):
                    if has_spare:
                        n = spare
                        has_spare = False
                    else:
                        while True:
                            u = np.empty(2)
                            for h in range(2):
                                r = ((st[1] * np.uint64(5)) << np.uint64(7) | (st[1] * np.uint64(5)) >> np.uint64(57)) * np.uint64(9)
                                t = st[1] << np.uint64(17)
                                st[2] ^= st[0]
                                st[3] ^= st[1]
                                st[1] ^= st[2]
                                st[0] ^= st[3]
                                st[2] ^= t
                                st[3] = (st[3] << np.uint64(45)) | (st[3] >> np.uint64(19))
                                u[h] = float(r >> np.uint64(11)) * (2.0 / 9007199254740992.0) - 1.0
                            q = u[0] * u[0] + u[1] * u[1]
                            if 0.0 < q < 1.0:
                                break
                        f = math.sqrt(-2.0 * math.log(q) / q)
                        n = u[0] * f
                        spare = u[1] * f
                        has_spare = True
                    x[i] = (x[i] - dt * g[i]) + s * n
                k += 1
                if halfspace:
                    out = x[0] >= 0.0
                else:
                    r2 = 0.0
                    for i in range(d):
                        r2 += (x[i] - center[i]) ** 2
                    out = r2 >= radius2
                if out:
                    done = k
                    break
            out_steps[p] = done

    return kernel


def timed(gradient, spent):
    """gradient, adding the seconds spent inside it to spent[0]."""

    def inner(x):
        t0 = time.perf_counter()
        g = gradient(x)
        spent[0] += time.perf_counter() - t0
        return g

    return inner


def numpy_lockstep(gradient, x0, center, radius2, halfspace, dt, temperature, n_paths, seed, max_steps,
                   gradient_time=None):
    """All live paths advance together, one call of the gradient per step; exits are removed as they happen.
    gradient_time: a one-element list that receives the seconds spent inside the gradient calls."""
    if gradient_time is not None:
        gradient = timed(gradient, gradient_time)
    rng = np.random.default_rng(seed)
    s = math.sqrt(2.0 * temperature * dt)
    x = np.tile(np.asarray(x0, float), (n_paths, 1))
    ids = np.arange(n_paths)
    steps = np.full(n_paths, -1)
    for k in range(1, max_steps + 1):
        x = x - dt * gradient(x) + s * rng.standard_normal(x.shape)
        out = x[:, 0] >= 0 if halfspace else ((x - center) ** 2).sum(axis=1) >= radius2
        if out.any():
            steps[ids[out]] = k
            keep = ~out
            x, ids = x[keep], ids[keep]
            if ids.size == 0:
                break
    return steps


# --- the runs --------------------------------------------------------------------------------------------------


WORKLOADS = {
    "W1": dict(dim=1, x0=[-1.0], temperature=1 / 16, dt=1e-3, halfspace=True, center=[0.0], radius=0.0,
               gradient=w1_gradient, gradient_rows=w1_gradient_rows, numpy_gradient=w1_gradient_numpy,
               builtin=lambda: esc.DoubleWell()),
    "ackley": dict(dim=2, x0=[0.0, 0.0], temperature=0.8, dt=1e-3, halfspace=False, center=[0.0, 0.0], radius=0.5,
                   gradient=ackley_gradient, numpy_gradient=ackley_gradient_numpy, builtin=lambda: esc.Ackley()),
}
MAX_STEPS = 10_000_000


def run_escapade(landscape, w, n_paths, threads, lanes):
    stop = (esc.HalfSpace(normal=[1.0], offset=0.0) if w["halfspace"]
            else esc.Ball(center=w["center"], radius=w["radius"]))
    t0 = time.perf_counter()
    res = esc.simulate(landscape, esc.Langevin(temperature=w["temperature"], dt=w["dt"]), x0=w["x0"], stop=stop,
                       n_paths=n_paths, max_steps=MAX_STEPS, seed=1, threads=threads, lanes=lanes, bridge=False,
                       progress=False)
    return time.perf_counter() - t0, res.exit_step, res.exit_time


def measure(name, w, n_paths, threads):
    rows = []

    def add(impl, wall, steps, dt):
        ok = steps[steps > 0]
        total = int(ok.sum())
        t = ok * dt
        rows.append(dict(workload=name, implementation=impl, threads=threads, paths=n_paths, wall_s=wall,
                         path_steps=total, steps_per_s=total / wall, ns_per_step_thread=wall * threads / total * 1e9,
                         mean_exit_time=float(t.mean()), se=float(t.std(ddof=1) / math.sqrt(t.size))))

    if w["builtin"] is not None:
        wall, steps, _ = run_escapade(w["builtin"](), w, n_paths, threads, 64)
        add("escapade built-in", wall, steps, w["dt"])
    compiled = esc.CompiledLandscape(w["dim"], w["gradient"])
    run_escapade(compiled, w, 8, 1, 8)  # compile the wrapper outside the timing
    wall, steps, _ = run_escapade(compiled, w, n_paths, threads, 64)
    add("escapade numba callback", wall, steps, w["dt"])
    if w.get("gradient_rows") is not None:
        rows_form = esc.CompiledLandscape(w["dim"], w["gradient_rows"], vectorized=True)
        run_escapade(rows_form, w, 8, 1, 8)
        wall, steps, _ = run_escapade(rows_form, w, n_paths, threads, 64)
        add("escapade numba callback, vectorized=True", wall, steps, w["dt"])
    for lanes in (1024, 4096):
        wall, steps, _ = run_escapade(esc.BatchedLandscape(w["dim"], w["numpy_gradient"]), w, n_paths, threads, lanes)
        add(f"escapade batched numpy callback, lanes={lanes}", wall, steps, w["dt"])
    # Again with the gradient calls timed (one thread: the calls hold the GIL), for the cost outside them.
    spent = [0.0]
    wall, steps, _ = run_escapade(esc.BatchedLandscape(w["dim"], timed(w["numpy_gradient"], spent)), w, n_paths, 1,
                                  1024)
    rows[-2].update(gradient_share=spent[0] / wall, ns_outside_gradient=(wall - spent[0]) / steps[steps > 0].sum() * 1e9)

    numba.set_num_threads(threads)
    kernel = numba_prange_loop(w["gradient"])
    args = (np.array(w["x0"]), np.array(w["center"]), w["radius"] ** 2, w["halfspace"], w["dt"], w["temperature"], 1)
    kernel(*args, MAX_STEPS, np.empty(4, np.int64))  # compile
    out = np.empty(n_paths, np.int64)
    t0 = time.perf_counter()
    kernel(*args, MAX_STEPS, out)
    add("numba prange loop by hand", time.perf_counter() - t0, out, w["dt"])

    t0 = time.perf_counter()
    steps = numpy_lockstep(w["numpy_gradient"], w["x0"], np.array(w["center"]), w["radius"] ** 2, w["halfspace"],
                           w["dt"], w["temperature"], n_paths, 1, MAX_STEPS)
    add("numpy lockstep by hand (1 thread)", (time.perf_counter() - t0) * threads, steps, w["dt"])
    rows[-1]["note"] = "single-threaded; wall scaled by threads for the per-thread comparison"
    # The same loop again, timing its gradient calls: an engine that takes over the noise, update and stop test
    # still calls the same gradient on as many points, so lockstep wall / gradient time bounds its speed-up.
    spent = [0.0]
    t0 = time.perf_counter()
    numpy_lockstep(w["numpy_gradient"], w["x0"], np.array(w["center"]), w["radius"] ** 2, w["halfspace"], w["dt"],
                   w["temperature"], n_paths, 1, MAX_STEPS, gradient_time=spent)
    wall = time.perf_counter() - t0
    rows[-1].update(gradient_share=spent[0] / wall, speedup_ceiling=wall / spent[0],
                    ns_outside_gradient=(wall - spent[0]) / steps[steps > 0].sum() * 1e9)
    return rows


def call_overhead(lanes: int, steps: int = 20_000, repeat: int = 3) -> dict:
    """Microseconds per batched call outside the user's function and outside the engine's own work."""
    n_paths = max(2 * lanes, 1024)
    calls = (n_paths // lanes) * steps

    def wall(landscape):
        best = math.inf
        for _ in range(repeat):
            t0 = time.perf_counter()
            esc.simulate(landscape, esc.Langevin(temperature=1 / 16, dt=1e-3), x0=[-1.0],
                         stop=esc.HalfSpace(normal=[1.0], offset=0.0), n_paths=n_paths, max_steps=steps, seed=1,
                         threads=1, lanes=lanes, bridge=False, progress=False)
            best = min(best, time.perf_counter() - t0)
        return best

    batched = wall(esc.BatchedLandscape(1, w1_gradient_numpy))
    builtin = wall(esc.DoubleWell())
    x = np.random.default_rng(0).uniform(-1.5, 0.0, (lanes, 1))
    x.flags.writeable = False
    t0 = time.perf_counter()
    for _ in range(steps):
        w1_gradient_numpy(x)
    fn = (time.perf_counter() - t0) / steps
    us = 1e6 / calls
    return dict(lanes=lanes, calls=calls, us_per_call=batched * us, us_builtin_per_call=builtin * us,
                us_function=fn * 1e6, us_overhead=(batched - builtin) * us - fn * 1e6)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--paths", type=int, default=2000)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--workloads", default="W1,ackley")
    ap.add_argument("--json", type=Path)
    ap.add_argument("--overhead-only", action="store_true", help="only the per-call overhead table")
    args = ap.parse_args()
    overhead = [call_overhead(lanes) for lanes in (8, 64, 256, 1024)]
    print(f"{'batched call, W1':18} {'us/call':>8} {'built-in':>9} {'function':>9} {'overhead':>9}")
    for o in overhead:
        print(f"{'lanes=' + str(o['lanes']):18} {o['us_per_call']:8.2f} "
              f"{o['us_builtin_per_call']:9.2f} {o['us_function']:9.2f} {o['us_overhead']:9.2f}")
    if args.overhead_only:
        if args.json:
            args.json.write_text(json.dumps({"machine": machine_info(), "overhead": overhead}, indent=1))
        return
    rows = []
    for name in args.workloads.split(","):
        rows += measure(name, WORKLOADS[name], args.paths, args.threads)
    base = {r["workload"]: r["ns_per_step_thread"] for r in rows if r["implementation"] == "escapade numba callback"}
    print(f"{'workload':8} {'implementation':45} {'ns/step/thread':>14} {'vs numba callback':>18} {'mean exit':>10}")
    for r in rows:
        r["ratio_vs_numba_callback"] = r["ns_per_step_thread"] / base[r["workload"]]
        print(f"{r['workload']:8} {r['implementation']:45} {r['ns_per_step_thread']:14.2f} "
              f"{r['ratio_vs_numba_callback']:18.2f} {r['mean_exit_time']:7.2f}±{r['se']:.2f}")
        if "ns_outside_gradient" in r:
            print(f"{'':8} {'  outside its gradient calls (timed run)':45} {r['ns_outside_gradient']:14.2f}")
        if "speedup_ceiling" in r:
            print(f"{'':8} {'  its gradient calls take':45} {100 * r['gradient_share']:13.0f}% of its wall time: "
                  f"no engine calling them can be more than {r['speedup_ceiling']:.2f}x faster")
    if args.json:
        args.json.write_text(json.dumps({"machine": machine_info(), "rows": rows, "overhead": overhead}, indent=1))


if __name__ == "__main__":
    main()
