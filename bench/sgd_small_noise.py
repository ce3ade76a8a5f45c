"""The small-noise section of `escapade reproduce sgd-exit-time` on its own, and its points against exact means.

    python bench/sgd_small_noise.py                  # the section as the reproduction prints it (default paths and
                                                     # seed; the two Monte Carlo rows it starts from, then the series)
    python bench/sgd_small_noise.py --exact-from bench/out/sgd_small_noise.json
                                                     # each point against linear_mean_exit_time

Every row of the reproduction has its own seed (`_row_seed`), so the section's numbers are those of the whole
reproduction with the same paths and seed (the other 22 Monte Carlo rows do not enter them). The first command
writes bench/out/sgd_small_noise.json. The second solves L u = -1 on the disk for each point by collocation at two
resolutions, (48, 96) and (56, 112) (radial nodes, angles), and takes their relative difference as the exact mean's
error (the refinement of `linear_mean_exit_time` stops converging to 1e-10 beyond B / eta of about 15 for these
models); points where the two differ by more than 1% are marked unresolved.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import machine_info  # noqa: E402

OUT = Path(__file__).resolve().parent / "out"
RESOLUTIONS = ((48, 96), (56, 112))


def section(paths: int, seed: int, threads: int | None) -> dict:
    from escapade.experiments import sgd_exit_time as m

    base = m._sgd_hessians()
    t0 = time.perf_counter()
    c0 = time.process_time()
    rows = {(d, a, r, noise, "continuous"): m._run_row(base, d, a, r, noise, "continuous", paths, seed, threads, False)
            for d, a, r, noise in m.SMALL_NOISE_MODELS}
    t1, c1 = time.perf_counter(), time.process_time()
    small = m._small_noise(rows, base, paths, seed, threads, False)
    t2, c2 = time.perf_counter(), time.process_time()
    print(small["text"].rsplit("\n\nDesign of the Monte Carlo table:", 1)[0])
    print(f"\nMonte Carlo rows: {t1 - t0:.1f} s wall, {c1 - c0:.1f} s CPU; splitting series: {t2 - t1:.1f} s wall, "
          f"{c2 - c1:.1f} s CPU")
    return {"paths": paths, "seed": seed, "threads": threads, "small_noise": small["data"],
            "wall": {"monte_carlo": t1 - t0, "splitting": t2 - t1},
            "cpu": {"monte_carlo": c1 - c0, "splitting": c2 - c1}, "machine": machine_info()}


def exact(path: Path) -> None:
    import escapade as esc
    from escapade.analysis import linear_mean_exit_time

    doc = json.loads(path.read_text())
    print("| noise | α | B/η | splitting ± SE | exact (56, 112) | exact's relative change from (48, 96) | "
          "splitting / exact | z |")
    print("|---|---|---:|---:|---:|---:|---:|---:|")
    for row in doc["small_noise"]["series"]:
        H, C = np.array(row["params"]["H"]), np.array(row["params"]["C"])
        disk = esc.Ball(center=np.zeros(2), radius=row["radius"])
        for p in row["points"]:
            x = p["inverse_noise"]
            coarse, fine = (float(linear_mean_exit_time(H, C / x, disk, resolution=res)) for res in RESOLUTIONS)
            change = fine / coarse - 1
            label = "C = I" if row["noise"] == "isotropic" else "C = H"
            head = f"| {label} | {row['alpha']:g} | {x:.3f} | {p['mean']:.4g} ± {p['stderr']:.2g} |"
            if abs(change) <= 0.01:
                print(f"{head} {fine:.5g} | {change:+.1e} | {p['mean'] / fine:.3f} ± {p['stderr'] / fine:.3f} | "
                      f"{(p['mean'] - fine) / p['stderr']:+.2f} |", flush=True)
            else:
                print(f"{head} unresolved | {change:+.1e} | – | – |", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--paths", type=int, default=200)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--threads", type=int, default=None)
    parser.add_argument("--out", type=Path, default=OUT / "sgd_small_noise.json")
    parser.add_argument("--exact-from", type=Path, default=None)
    args = parser.parse_args()
    if args.exact_from is not None:
        exact(args.exact_from)
        return
    doc = section(args.paths, args.seed, args.threads)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(doc, indent=1, allow_nan=False) + "\n")
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
