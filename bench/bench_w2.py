"""W2: Gaussian SGD with Hessian-shaped noise on a 100-dimensional quadratic, escapade against its peers.

Workload W2: f(x) = x^T H x / 2 with H = Q diag(lam) Q^T, lam log-spaced in [0.05, 5], Q a fixed random
orthogonal matrix (numpy default_rng(SEED_Q), QR of a Gaussian matrix); Gaussian SGD (003, eq. 2)
    x' = x - eta H x + (eta / sqrt(B)) C^{1/2} z,   C = H (fixed, C^{1/2} precomputed),  eta = 0.05, B = 3.6,
from x0 = 0, each path stopped at the first step with |x| >= 1 (exit from the unit ball).

Rows (path-steps per second, same work, each implementation counting the path-steps it executed):
escapade (`esc.simulate`, threads 1 and 2), numba prange with per-path mat-vecs (explicit fastmath loops, and
np.dot = BLAS dgemv), numpy lockstep with BLAS matrix-matrix products (in a subprocess whose BLAS uses 1 or 2
threads; fewer paths by default, see --numpy-paths). Ratios are (peer ns per path-step) / (escapade's, same
thread count), from the same run. The escapade rows at 1 and 2 threads must give bitwise the same exit steps
(checked).

    python bench/bench_w2.py                     # 10,000 paths, best of 1 (several minutes on 2 cores)
    python bench/bench_w2.py --paths 2000 --numpy-paths 1000
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import _common as C  # noqa: E402

D, ETA, BATCH, SEED_Q = 100, 0.05, 3.6, 20261129
REFERENCE = "escapade (Python API)"


def w2_matrices() -> tuple[np.ndarray, np.ndarray]:
    """(H, R = H^{1/2}) of W2."""
    rng = np.random.default_rng(SEED_Q)
    Q, _ = np.linalg.qr(rng.standard_normal((D, D)))
    lam = np.logspace(np.log10(0.05), np.log10(5.0), D)
    H = (Q * lam) @ Q.T
    H = (H + H.T) / 2
    R = (Q * np.sqrt(lam)) @ Q.T
    return H, (R + R.T) / 2


def run_escapade(n, threads, seed, lanes=64):
    import escapade as esc

    H, _ = w2_matrices()
    dyn = esc.GaussianSGD(lr=ETA, batch_size=BATCH, C=H)
    t0 = time.perf_counter()
    r = esc.simulate(esc.Quadratic(H), dyn, x0=np.zeros(D), stop=esc.Ball(np.zeros(D), 1.0), n_paths=n,
                     max_steps=10**9, seed=seed, threads=threads, lanes=lanes, progress=False)
    wall = time.perf_counter() - t0
    return dict(wall=wall, steps=int(r.exit_step.sum()), exit_steps=r.exit_step)


def run_numba(kind, n, threads, seed):
    from peers import w2_numba

    H, R = w2_matrices()
    fn = w2_numba.run_loops if kind == "loops" else w2_numba.run_blas
    t0 = time.perf_counter()
    steps, total = fn(H, R, ETA, ETA / np.sqrt(BATCH), n, threads=threads, seed=seed)
    return dict(wall=time.perf_counter() - t0, steps=total, exit_steps=steps)


def run_numpy(n, threads, seed):
    out = C.run_worker(Path(__file__).resolve(), ["--numpy-worker", str(n), str(seed)], threads)
    d = json.loads(out.strip().splitlines()[-1])
    return dict(wall=d["wall"], steps=d["steps"], exit_steps=np.array(d["exit_steps"]))


def numpy_worker(n, seed):
    from peers import w2_numpy

    H, R = w2_matrices()
    t0 = time.perf_counter()
    steps, total = w2_numpy.run(H, R, ETA, ETA / np.sqrt(BATCH), n, seed=seed)
    print(json.dumps(dict(wall=time.perf_counter() - t0, steps=total, exit_steps=steps.tolist())))


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--paths", type=int, default=10_000)
    ap.add_argument("--numpy-paths", type=int, default=2_000, help="paths for the numpy peer (default 2000)")
    ap.add_argument("--threads", type=int, nargs="+", default=[1, 2])
    ap.add_argument("--repeat", type=int, default=1, help="best of this many runs (default 1)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--skip", nargs="*", default=[], help="skip configurations whose key contains any of these")
    ap.add_argument("--json", type=Path, default=C.OUT / "w2.json")
    ap.add_argument("--numpy-worker", nargs=2, type=int, help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.numpy_worker:
        numpy_worker(*args.numpy_worker)
        return
    n, seed = args.paths, args.seed
    machine = C.machine_info()
    from peers import w2_numba

    H, R = w2_matrices()
    w2_numba.warmup(H, R, ETA, ETA / np.sqrt(BATCH))

    configs = []
    for th in args.threads:
        configs += [
            (f"esc_t{th}", REFERENCE, th, n, lambda th=th: run_escapade(n, th, seed)),
            (f"numba_loops_t{th}", "numba prange, per-path mat-vec loops (fastmath)", th, n,
             lambda th=th: run_numba("loops", n, th, seed)),
            (f"numba_blas_t{th}", "numba prange, per-path np.dot (BLAS dgemv)", th, n,
             lambda th=th: run_numba("blas", n, th, seed)),
            (f"numpy_t{th}", f"numpy lockstep, BLAS GEMM ({args.numpy_paths} paths)", th, args.numpy_paths,
             lambda th=th: run_numpy(args.numpy_paths, th, seed)),
        ]
    configs = [c for c in configs if not any(s in c[0] for s in args.skip)]
    best: dict[str, dict] = {}
    walls: dict[str, list] = {}
    for _ in range(args.repeat):
        for key, label, th, npaths, thunk in configs:
            r = thunk()
            walls.setdefault(key, []).append(r["wall"])
            if key not in best or r["wall"] < best[key]["wall"]:
                best[key] = dict(r, label=label, threads=th, paths=npaths)
            print(f"# {key}: {r['wall']:.2f} s, {r['steps'] / r['wall']:.3g} path-steps/s, load {os.getloadavg()[0]:.1f}",
                  file=sys.stderr, flush=True)
    if "esc_t1" in best and "esc_t2" in best:
        same = np.array_equal(best["esc_t1"]["exit_steps"], best["esc_t2"]["exit_steps"])
        print(f"# escapade threads=1 and threads=2 exit steps bitwise equal: {same}", file=sys.stderr)
    rows = []
    for key, r in best.items():
        ns = r["wall"] * r["threads"] / r["steps"] * 1e9
        ref = best.get(f"esc_t{r['threads']}")
        ratio = ns / (ref["wall"] * ref["threads"] / ref["steps"] * 1e9) if ref else float("nan")
        es = np.asarray(r["exit_steps"])
        es = es[es > 0]
        rows.append(dict(key=key, label=r["label"], threads=r["threads"], paths=r["paths"], wall=r["wall"],
                         steps=r["steps"], rate=r["steps"] / r["wall"], ns=ns, ratio=ratio,
                         mean_exit=float(es.mean()), se_exit=float(es.std(ddof=1) / np.sqrt(es.size)),
                         walls=walls[key]))
    print("| implementation | threads | paths | wall s | path-steps/s | ns/step/thread | mean exit step ± SE | ratio vs escapade |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|")
    for r in rows:
        print(f"| {r['label']} | {r['threads']} | {r['paths']} | {r['wall']:.2f} | {r['rate']:.3g} | {r['ns']:.0f} | "
              f"{r['mean_exit']:.1f} ± {r['se_exit']:.1f} | {r['ratio']:.2f} |")
    C.OUT.mkdir(parents=True, exist_ok=True)
    machine["loadavg_at_end"] = os.getloadavg()
    args.json.write_text(json.dumps(dict(machine=machine, rows=rows, args={k: str(v) for k, v in vars(args).items()}),
                                    indent=1))


if __name__ == "__main__":
    main()
