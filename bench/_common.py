"""Shared pieces of the W1 benchmarks: the workload, machine description, binaries."""
from __future__ import annotations

import datetime as _dt
import os
import platform
import re
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
OUT = HERE / "out"

TEMPERATURE = 1.0 / 16.0
X0 = -1.0
EXACT_MEAN = 135.78297715071926  # refreshed by exact_mean() when escapade.analysis is importable

# escapade's release flags (CMakeLists.txt: escapade_core) and the plain-C peer builds
ESCAPADE_FLAGS = ["-O3", "-march=native", "-mprefer-vector-width=512", "-ffp-contract=off", "-fno-math-errno"]
PLAIN_BUILDS = {
    "fastmath": ["-O3", "-march=native", "-ffast-math"],
    "strict": ["-O3", "-march=native", "-ffp-contract=off"],
    "escflags": ESCAPADE_FLAGS,
}


def exact_mean() -> float:
    """Mean W1 exit time from the quadrature in escapade.analysis."""
    from escapade.analysis import langevin_mean_exit_time_1d

    return float(
        langevin_mean_exit_time_1d(
            lambda x: x**4 / 4 - x**2 / 2, TEMPERATURE, X0, -np.inf, 0.0, lower_boundary="reflecting"
        )
    )


def w1_problem(dt: float):
    """(landscape, dynamics, stop) of W1 in escapade's Python API."""
    import escapade as esc

    return esc.DoubleWell(), esc.Langevin(temperature=TEMPERATURE, dt=dt), esc.HalfSpace(normal=[1.0], offset=0.0)


def _run(cmd: list[str]) -> str:
    try:
        return subprocess.run(cmd, capture_output=True, text=True, check=True).stdout
    except (OSError, subprocess.CalledProcessError):
        return ""


def run_worker(script: Path, args: list[str], blas_threads: int) -> str:
    """stdout of `python script args...` in a child whose BLAS (OpenBLAS, MKL, BLIS, OpenMP) uses blas_threads."""
    env = dict(os.environ)
    for var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS", "BLIS_NUM_THREADS"):
        env[var] = str(blas_threads)
    return subprocess.run([sys.executable, str(script), *args], capture_output=True, text=True, check=True,
                          env=env).stdout


def machine_info() -> dict:
    info: dict = {
        "date": _dt.datetime.now().astimezone().isoformat(timespec="seconds"),
        "platform": platform.platform(),
        "python": sys.version.split()[0],
        "logical_cpus": os.cpu_count(),
    }
    cpu = {}
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if ":" not in line:
                continue
            k, v = (s.strip() for s in line.split(":", 1))
            if k in ("model name", "cpu family", "model", "flags") and k not in cpu:
                cpu[k] = v
    except OSError:
        pass
    info["cpu_model"] = cpu.get("model name", platform.processor())
    info["cpu_family_model"] = f"{cpu.get('cpu family', '?')}/{cpu.get('model', '?')}"
    flags = cpu.get("flags", "").split()
    info["avx512"] = sorted(f for f in flags if f.startswith("avx512"))
    info["avx2"] = "avx2" in flags
    info["fma"] = "fma" in flags
    info["hypervisor"] = "hypervisor" in flags
    lscpu = _run(["lscpu"])
    m = re.search(r"^Core\(s\) per socket:\s*(\d+)", lscpu, re.M)
    s = re.search(r"^Socket\(s\):\s*(\d+)", lscpu, re.M)
    if m and s:
        info["physical_cores"] = int(m.group(1)) * int(s.group(1))
    for key, pat in (("l2", r"^L2 cache:\s*(.+)$"), ("l3", r"^L3 cache:\s*(.+)$")):
        mm = re.search(pat, lscpu, re.M)
        if mm:
            info[key] = mm.group(1).strip()
    info["cc"] = _run([os.environ.get("CC", "gcc"), "--version"]).splitlines()[:1]
    info["cxx"] = _run([os.environ.get("CXX", "g++"), "--version"]).splitlines()[:1]
    info["numpy"] = np.__version__
    try:
        import numba

        info["numba"] = numba.__version__
    except ImportError:
        info["numba"] = None
    try:
        import escapade

        info["escapade"] = escapade.__version__
    except ImportError:
        info["escapade"] = None
    try:
        info["loadavg_at_start"] = os.getloadavg()
    except OSError:
        pass
    return info


def build_plain(outdir: Path = OUT) -> dict[str, Path]:
    """Compile bench/peers/w1_plain.c once per entry of PLAIN_BUILDS; returns name -> binary."""
    outdir.mkdir(parents=True, exist_ok=True)
    cc = os.environ.get("CC", "gcc")
    src = HERE / "peers" / "w1_plain.c"
    bins = {}
    for name, flags in PLAIN_BUILDS.items():
        exe = outdir / f"w1_plain_{name}"
        if not exe.exists() or exe.stat().st_mtime < src.stat().st_mtime:
            subprocess.run([cc, "-std=c11", *flags, "-fopenmp", "-o", str(exe), str(src), "-lm"], check=True)
        bins[name] = exe
    return bins


def engine_binary(rebuild: bool = False) -> Path | None:
    """The C++ engine benchmark (bench/w1_engine.cpp), configured and built under build/bench if needed."""
    exe = ROOT / "build" / "bench" / "bench" / "escapade_bench_w1"
    if exe.exists() and not rebuild:
        return exe
    if shutil.which("cmake") is None:
        return exe if exe.exists() else None
    bdir = ROOT / "build" / "bench"
    cfg = ["cmake", "-S", str(ROOT), "-B", str(bdir), "-DESCAPADE_BUILD_BENCH=ON", f"-DPython_EXECUTABLE={sys.executable}"]
    try:
        subprocess.run(cfg, check=True, capture_output=True)
        subprocess.run(["cmake", "--build", str(bdir), "--target", "escapade_bench_w1"], check=True, capture_output=True)
    except subprocess.CalledProcessError as exc:
        print(f"# engine benchmark build failed: {exc.stderr.decode(errors='replace')[-2000:]}", file=sys.stderr)
        return exe if exe.exists() else None
    return exe


def mean_se(exit_times: np.ndarray) -> tuple[float, float, float, int]:
    """Mean, standard error, standard deviation and count of the finite exit times."""
    t = exit_times[np.isfinite(exit_times)]
    n = t.size
    if n < 2:
        return float("nan"), float("nan"), float("nan"), n
    sd = float(t.std(ddof=1))
    return float(t.mean()), sd / np.sqrt(n), sd, n


def simulate_w1(n: int, dt: float, threads: int, seed: int, bridge: bool):
    """W1 through escapade's Python API: (result, wall seconds of the simulate call)."""
    import time

    import escapade as esc

    landscape, dyn, stop = w1_problem(dt)
    t0 = time.perf_counter()
    r = esc.simulate(landscape, dyn, x0=[X0], stop=stop, n_paths=n, t_max=1e6, seed=seed,
                     threads=threads, bridge=bridge, progress=False)
    return r, time.perf_counter() - t0
