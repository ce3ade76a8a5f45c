"""Command line: `escapade run CONFIG.toml` (an experiment described in a TOML file), `escapade reproduce NAME`
(a registered reproduction), `escapade demo` (a first exit-time experiment against its exact answer), `escapade
info` (the build)."""

from __future__ import annotations

import argparse
import json
import math
import os
import sys
import tempfile
from pathlib import Path
from typing import Any, Callable, NoReturn

import numpy as np

from . import _core
from .accuracy import estimate
from ._settings import MAX_STEPS, RunSettings
from .analysis.estimates import point_mean
from .analysis.exact import langevin_mean_exit_time_1d
from .config import load_config
from .dynamics import Langevin
from .experiments.registry import REPRODUCTIONS, reproduce
from .experiments.report import format_table
from .landscapes import DoubleWell
from .regions import HalfSpace
from .results import regular_file
from .simulate import make_job, simulate
from .sweep import SweepResult

__all__ = ["main"]


# --- escapade run ----------------------------------------------------------------------------------------------


def _sweep_table(res: SweepResult) -> str:
    """One row per point: the mean exit time by the censoring policy (`analysis.estimates`; ">=" where paths did not
    stop by the cap: the restricted mean E[min(tau, cap)], a lower bound), and the paths stopped, counted at the cap
    (censored, converged or singular) and diverged (left out of the mean)."""
    header = [*res.grid, "paths", "mean exit time ± SE", "stopped", "censored", "diverged"]
    rows = []
    bounds = 0
    for point, r in zip(res.points, res.results):
        s, m = r.summary(), point_mean(r)
        mean = "-"
        if math.isfinite(m.value):
            mean = f"{m.value:.6g}" + (f" ± {m.stderr:.2g}" if math.isfinite(m.stderr) else "")
            if not m.identified:
                mean, bounds = ">= " + mean, bounds + 1
        rows.append([*(f"{v:g}" if isinstance(v, float) else str(v) for v in point.values()), str(s.n_paths), mean,
                     str(s.counts["EXITED"] + s.counts["HIT"]), str(m.censored), str(m.diverged)])
    table = format_table(header, rows)
    if bounds:
        table += ("\n>=: paths censored (or converged, singular) count at the cap: the restricted mean "
                  "E[min(tau, cap)], a lower bound of the mean exit time")
    return table


def _run(args: argparse.Namespace) -> int:
    experiment = load_config(args.config)
    out = Path(args.output) if args.output is not None else Path(args.config).with_suffix(".npz")
    # fail before the run, not after it
    if not out.parent.is_dir():
        raise ValueError(f"cannot write {out}: no directory {out.parent}")
    if out.is_dir():
        raise ValueError(f"cannot write {out}: it is a directory (give a file name, OUT.npz)")
    if out.exists() and os.path.samefile(out, args.config):
        raise ValueError(f"cannot write {out}: it is the configuration file {args.config} (give another file with -o)")
    if out.suffix.lower() != ".npz":
        raise ValueError(f"cannot write {out}: results are saved as .npz only, got the suffix "
                         f"{out.suffix or '(none)'!r} (give OUT.npz)")
    regular_file(out, "-o")
    _check_writable(out, out.parent)
    overrides: dict[str, Any] = {"progress": args.progress}
    if args.threads is not None:
        overrides["threads"] = args.threads
    if args.store is not None:  # the user's own choice: any directory, where a file's store stays in its directory
        overrides["store"] = args.store
    result = experiment.run(**overrides)
    result.save(out)
    if isinstance(result, SweepResult):
        print(_sweep_table(result))
        seeds = sorted({r.seed for r in result.results})
        seed_text = f"seed {seeds[0]}" if len(seeds) == 1 else f"seeds per point ({experiment.seeds})"
        elapsed = result.results[0].elapsed  # the whole sweep: its points run together
        print(f"{len(result)} points, {seed_text}, {elapsed:.2f} s; wrote {out}")
    else:
        print(result.summary())
        print(f"seed {result.seed}, {result.elapsed:.2f} s; wrote {out}")
    return 0


def _check_writable(out: Path, directory: Path) -> None:
    """A file can be created in `directory` (an existing one); ValueError naming `out` otherwise."""
    try:
        tempfile.TemporaryFile(dir=directory).close()
    except OSError as exc:
        raise ValueError(f"cannot write {out}: {exc.strerror or exc}") from None


def _check_out_directory(out: Path) -> None:
    """`out` is a directory that files can be written to, or one that can be made (its nearest existing
    ancestor is a writable directory)."""
    if out.exists() and not out.is_dir():
        raise ValueError(f"cannot write to --out {out}: it is not a directory")
    existing = out
    while not existing.exists() and existing != existing.parent:
        existing = existing.parent
    if not existing.is_dir():
        raise ValueError(f"cannot write to --out {out}: {existing} is not a directory")
    _check_writable(out, existing)


# --- escapade reproduce ----------------------------------------------------------------------------------------


def _reproduce(args: argparse.Namespace) -> int:
    if args.list:
        if args.name is not None:
            raise ValueError("give a reproduction's name or --list, not both")
        width = max(len(name) for name in REPRODUCTIONS)
        for name, reproduction in REPRODUCTIONS.items():
            print(f"{name:<{width}}  {reproduction.description}")
        return 0
    if args.name is None:
        raise ValueError("give the name of a reproduction, or --list to see them")
    if args.out is not None:  # fail before the run, not after it
        _check_out_directory(Path(args.out))
    report = reproduce(args.name, paths=args.paths, seed=args.seed, threads=args.threads, progress=args.progress)
    print(report.to_json() if args.json else report.text)
    if args.out is not None:
        out = report.save(args.out, args.name)
        if not args.json:
            if report.figures:
                print(f"\nwrote {args.name}.json, {args.name}.txt, the results (.npz) and {len(report.figures)} "
                      f"figures (.png) to {out}")
            else:
                print(f"\nwrote {args.name}.json, {args.name}.txt and the results (.npz) to {out}")
    return 0


# --- escapade demo, info ---------------------------------------------------------------------------------------


T_MAX = 1e6  # the demo's time cap: far beyond its paths' exits (mean 135)


def _demo(args: argparse.Namespace) -> int:
    T = 1 / 16
    exact = langevin_mean_exit_time_1d(
        lambda x: x**4 / 4 - x**2 / 2, T, -1.0, -np.inf, 0.0, lower_boundary="reflecting"
    )
    # every argument checked before the header is printed, the memory of each run included
    dynamics = [Langevin(temperature=T, dt=dt) for dt in args.dt]
    for dt, langevin in zip(args.dt, dynamics):
        if T_MAX / dt > MAX_STEPS:
            raise ValueError(f"--dt {dt:g} is too small: the demo runs its paths up to t = {T_MAX:g}, more than "
                             f"{MAX_STEPS} steps of it")
        make_job(DoubleWell(), langevin, x0=[-1.0], stop=HalfSpace(normal=[1.0], offset=0.0),
                 settings=RunSettings(n_paths=args.paths, t_max=T_MAX, seed=args.seed, threads=args.threads))
    print("Escape from the left well of f(x) = x^4/4 - x^2/2 over the barrier at x = 0")
    print(f"dX = -f'(X) dt + sqrt(2T) dW, T = 1/16, X0 = -1; {args.paths} paths, seed {args.seed}")
    print(f"exact mean exit time (quadrature): {exact:.4f}\n")
    print(f"{'dt':>7} {'exit test':>16} {'mean ± SE':>18} {'bias':>16} {'wall':>7} {'path-steps/s':>13}")
    censored = 0
    for dt, langevin in zip(args.dt, dynamics):
        for bridge in (True, False):
            res = simulate(
                DoubleWell(),
                langevin,
                x0=[-1.0],
                stop=HalfSpace(normal=[1.0], offset=0.0),
                n_paths=args.paths,
                t_max=T_MAX,
                seed=args.seed,
                threads=args.threads,
                bridge=bridge,
            )
            s = res.summary()
            censored += s.counts["CENSORED"]
            bias = 100 * (s.mean / exact - 1)
            print(
                f"{dt:>7g} {'Brownian bridge' if bridge else 'discrete only':>16} "
                f"{s.mean:>9.3f} ± {s.stderr:<6.3f} {bias:>+7.2f}% ± {100 * s.stderr / exact:.2f}% "
                f"{res.elapsed:>6.2f}s {res.total_steps / res.elapsed:>13.3g}"
            )
    print(f"\ntime cap t = {T_MAX:g} ({censored} paths censored in all); the two rows at one dt share their Brownian "
          f"paths (seed {args.seed}), so they differ by the exit test alone; rows at different dt draw other normals "
          "from it (correlated, not coupled).")
    print("The bridge test catches exits between steps; discrete monitoring alone overestimates exit times.")
    e = estimate(DoubleWell(), Langevin(temperature=T, dt=0.1, scheme="heun"), x0=[-1.0],
                 stop=HalfSpace(normal=[1.0], offset=0.0), t_max=T_MAX, rtol=0.01, seed=args.seed, threads=args.threads,
                 progress=False)
    low, high = e.interval
    print(f"\nTo 1% with a certified interval (estimate, Heun's scheme, dt from 0.1 down to {e.levels[-1].dt:g}):\n"
          f"{e.value:.3f}, 95% interval [{low:.3f}, {high:.3f}] (± {e.half_width_statistical:.3f} statistical, "
          f"± {e.half_width_bias:.3f} time-step bias; exact {exact:.3f}) in {e.elapsed:.2f}s, {e.path_steps:.3g} "
          f"path-steps, method {e.params['method']}")
    return 0


def _info(_: argparse.Namespace) -> int:
    info = {"version": _core.__version__, "threads": _core.default_threads(), **_core.build_info()}
    print(json.dumps(info, indent=2))
    return 0


# --- parser ----------------------------------------------------------------------------------------------------


def _integer(text: str) -> int:
    """An option's integer (a usage error otherwise, as for any bad option)."""
    try:
        return int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be an integer, got {text!r}") from None


def _at_least(minimum: int) -> Callable[[str], int]:
    """The type of --threads (minimum 1) and --paths (2: a standard error): an integer >= minimum."""
    def count(text: str) -> int:
        value = _integer(text)
        if value < minimum:
            raise argparse.ArgumentTypeError(f"must be at least {minimum}, got {value}")
        return value
    return count


def _seed(text: str) -> int:
    """The type of --seed: an integer 0 <= seed < 2**64."""
    value = _integer(text)
    if not 0 <= value < 2**64:
        raise argparse.ArgumentTypeError(f"must be a non-negative integer below 2**64, got {value}")
    return value


class _Parser(argparse.ArgumentParser):
    """Usage errors as one line on stderr, exit status 2."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


def _parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="escapade", description=__doc__)
    parser.add_argument("--version", action="version", version=f"escapade {_core.__version__}")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)

    run = sub.add_parser("run", help="run an experiment described in a TOML file and save its result",
                         description="Run the experiment described in CONFIG (see docs/configuration.md), print "
                                     "its summary and save the result (.npz; escapade.load reads it).")
    run.add_argument("config", metavar="CONFIG.toml")
    run.add_argument("-o", "--output", metavar="OUT.npz", help="result file (default: CONFIG with .npz)")
    run.add_argument("--store", metavar="DIR", default=None,
                     help="checkpoint directory, in place of the file's [run] store (which must stay in the file's "
                          "directory); a run resumes from it")
    run.add_argument("--progress", action=argparse.BooleanOptionalAction, default=None,
                     help="show a progress bar (default: when stderr is a terminal)")
    run.add_argument("--threads", type=_at_least(1), default=None,
                     help="engine threads (default: [run] threads, or all cores)")
    run.set_defaults(run=_run)

    rep = sub.add_parser("reproduce", help="run a registered reproduction and print its table",
                         description="Run a registered reproduction; --list shows them.")
    rep.add_argument("name", nargs="?", metavar="NAME")
    rep.add_argument("--list", action="store_true", help="list the reproductions")
    rep.add_argument("--json", action="store_true", help="print a JSON document instead of the table")
    rep.add_argument("--paths", type=_at_least(2), default=None,
                     help="paths per run (default: the reproduction's own)")
    rep.add_argument("--out", metavar="DIR",
                     help="also write NAME.json, NAME.txt, the results (.npz) and the pictures (.png) to DIR")
    rep.add_argument("--seed", type=_seed, default=0, help="default 0")
    rep.add_argument("--threads", type=_at_least(1), default=None, help="default: all cores")
    rep.add_argument("--progress", action=argparse.BooleanOptionalAction, default=None,
                     help="show a progress bar (default: when stderr is a terminal)")
    rep.set_defaults(run=_reproduce)

    demo = sub.add_parser("demo", help="double-well mean exit time against its exact value")
    demo.add_argument("--paths", type=_at_least(2), default=20_000, help="number of paths (default 20000)")
    demo.add_argument("--dt", type=float, nargs="+", default=[1e-2, 1e-3], help="time steps (default 0.01 0.001)")
    demo.add_argument("--seed", type=_seed, default=0, help="default 0")
    demo.add_argument("--threads", type=_at_least(1), default=None, help="default: all cores")
    demo.set_defaults(run=_demo)

    info = sub.add_parser("info", help="version, threads, compiler and build flags")
    info.set_defaults(run=_info)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        return int(args.run(args))
    except (ValueError, TypeError, OSError) as exc:  # a ConfigError from load_config names its file
        return _fail(str(exc))
    except RecursionError:  # input nested too deeply for a check that recurses: an error, not a traceback
        return _fail("input nested too deeply (Python's recursion limit)")
    except KeyboardInterrupt:
        return _fail("interrupted", status=130)


def _fail(message: str, status: int = 2) -> int:
    print(f"escapade: error: {' '.join(message.split())}", file=sys.stderr)
    return status


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
