"""W2 in CPU time of one thread: escapade against the numpy-BLAS lockstep peer, alternating in one process.

On a shared machine wall-clock times mostly measure the load; the CPU time of a one-thread run (escapade with
threads=1, the numpy peer with its BLAS held to one thread) is what each implementation itself spent. Each repeat
runs escapade, then the numpy peer, on the same workload as bench_w2.py (lanes 64, seed 0) and prints ns of CPU
per path-step and the ratio (numpy / escapade, > 1 means escapade is faster); the summary gives the medians.

    OPENBLAS_NUM_THREADS=1 python bench/bench_w2_cpu.py --repeat 5
    python bench/bench_w2_cpu.py --skip-numpy        # escapade only (to compare two builds, one process each)
"""
from __future__ import annotations

import argparse
import os

for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")  # before numpy loads its BLAS

import sys
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import bench_w2 as W


def escapade_ns(n: int, seed: int) -> float:
    import escapade as esc

    H, _ = W.w2_matrices()
    dyn = esc.GaussianSGD(lr=W.ETA, batch_size=W.BATCH, C=H)
    t0 = time.process_time()
    r = esc.simulate(esc.Quadratic(H), dyn, x0=np.zeros(W.D), stop=esc.Ball(np.zeros(W.D), 1.0), n_paths=n,
                     max_steps=10**9, seed=seed, threads=1, lanes=64, progress=False)
    return (time.process_time() - t0) / int(r.exit_step.sum()) * 1e9


def numpy_ns(n: int, seed: int) -> float:
    from peers import w2_numpy

    H, R = W.w2_matrices()
    t0 = time.process_time()
    _, total = w2_numpy.run(H, R, W.ETA, W.ETA / np.sqrt(W.BATCH), n, seed=seed)
    return (time.process_time() - t0) / total * 1e9


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--paths", type=int, default=2000, help="escapade's paths (default 2000)")
    ap.add_argument("--numpy-paths", type=int, default=2000, help="the numpy peer's paths (default 2000)")
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--skip-numpy", action="store_true")
    args = ap.parse_args(argv)
    print(f"# load average {os.getloadavg()[0]:.1f}; BLAS threads {os.environ['OPENBLAS_NUM_THREADS']}")
    esc_ns, np_ns = [], []
    for i in range(args.repeat):
        esc_ns.append(escapade_ns(args.paths, args.seed))
        line = f"repeat {i}: escapade {esc_ns[-1]:.0f} ns"
        if not args.skip_numpy:
            np_ns.append(numpy_ns(args.numpy_paths, args.seed))
            line += f", numpy {np_ns[-1]:.0f} ns, ratio {np_ns[-1] / esc_ns[-1]:.3f}"
        print(line, flush=True)
    line = f"median: escapade {np.median(esc_ns):.0f} ns"
    if np_ns:
        ratios = np.array(np_ns) / np.array(esc_ns)
        line += (f", numpy {np.median(np_ns):.0f} ns, ratio of medians {np.median(np_ns) / np.median(esc_ns):.3f}, "
                 f"median ratio {np.median(ratios):.3f}")
    print(line)
    print(f"# load average {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
