"""escapade.plot: every function draws on a new or a given Axes and saves; the Arrhenius fit; missing matplotlib."""

from __future__ import annotations

import sys

import numpy as np
import pytest

matplotlib = pytest.importorskip("matplotlib")
matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

import escapade as esc  # noqa: E402
from escapade import Status, plot  # noqa: E402

DYN = dict(dt=1e-2)


@pytest.fixture(autouse=True)
def close_figures():
    yield
    plt.close("all")


@pytest.fixture(scope="module")
def run_2d():
    """A 2-D double well: exits from a ball around the left-bottom minimum, a target box, trajectories."""
    return esc.simulate(esc.DoubleWell(dim=2), esc.Langevin(temperature=0.15, **DYN), x0=[-1.0, -1.0],
                        stop=esc.Ball([-1.0, -1.0], 1.0), target=esc.Box([0.5, -2.0], [2.0, 2.0]), n_paths=300,
                        t_max=30.0, seed=3, record_paths=6, record_every=5)


@pytest.fixture(scope="module")
def run_1d():
    """A 1-D double well with a short cap: exited and censored paths."""
    return esc.simulate(esc.DoubleWell(), esc.Langevin(temperature=0.1, **DYN), x0=[-1.0],
                        stop=esc.HalfSpace([1.0], 0.0), n_paths=300, t_max=20.0, seed=1)


@pytest.fixture(scope="module")
def temperature_sweep():
    return esc.sweep(esc.DoubleWell(), esc.Langevin(temperature=0.1, **DYN),
                     grid={"dynamics.temperature": [0.1, 0.125, 0.15, 0.2]}, x0=[-1.0],
                     stop=esc.HalfSpace([1.0], 0.0), n_paths=200, t_max=500.0, seed=2)


@pytest.fixture(scope="module")
def grid_sweep():
    """HIT the box x > 0.5 or EXIT below -offset, over temperature x offset."""
    return esc.sweep(esc.DoubleWell(), esc.Langevin(temperature=0.1, **DYN),
                     grid={"dynamics.temperature": [0.1, 0.2, 0.3], "stop.offset": [1.3, 2.0]}, x0=[-1.0],
                     stop=esc.HalfSpace([-1.0], 1.5), target=esc.Box([0.5], [np.inf]), n_paths=100, t_max=30.0,
                     seed=2)


def saved(out, tmp_path, name):
    """Save the figure of a PlotResult to a PNG and check that the file is there and not empty."""
    assert isinstance(out, plot.PlotResult)
    ax, artists, info = out
    assert isinstance(ax, matplotlib.axes.Axes) and isinstance(artists, dict) and isinstance(info, dict)
    path = tmp_path / f"{name}.png"
    ax.figure.savefig(path, dpi=50)
    assert path.stat().st_size > 1000
    return out


@pytest.fixture(params=[False, True], ids=["new-axes", "given-axes"])
def axes(request):
    """None (the function makes a figure) or an Axes of an existing figure, which must be the one drawn on."""
    if not request.param:
        return None
    _, ax = plt.subplots()
    return ax


def check_axes(out, given):
    if given is not None:
        assert out.ax is given


def test_landscape(run_2d, tmp_path, axes):
    regions = [esc.Ball([-1.0, -1.0], 1.0), esc.Box([0.5, -2.0], [2.0, 2.0]), esc.HalfSpace([1.0, 1.0], 0.5)]
    out = saved(plot.landscape(esc.DoubleWell(dim=2), (-2, 2), (-2, 2), ax=axes, result=run_2d, regions=regions,
                               resolution=60), tmp_path, "landscape")
    check_axes(out, axes)
    assert out.ax.get_xlim() == (-2, 2) and out.ax.get_ylim() == (-2, 2)
    assert out.info["values"].shape == (60, 60)
    circle, rect, line = out.artists["regions"]
    assert isinstance(circle, matplotlib.patches.Circle) and isinstance(rect, matplotlib.patches.Rectangle)
    assert isinstance(line, matplotlib.lines.Line2D)
    assert circle.get_radius() == 1.0 and rect.get_xy() == (0.5, -2.0)


def test_landscape_draws_one_line_per_trajectory(run_2d):
    out = plot.landscape(esc.DoubleWell(dim=2), (-2, 2), (-2, 2), result=run_2d, resolution=30)
    assert len(run_2d.trajectories) == 6
    assert len(out.ax.lines) == len(out.artists["trajectories"]) == len(run_2d.trajectories)
    for line, (_, x) in zip(out.artists["trajectories"], run_2d.trajectories):
        np.testing.assert_array_equal(line.get_xdata(), x[:, 0])
        np.testing.assert_array_equal(line.get_ydata(), x[:, 1])
    assert out.artists["starts"].get_offsets().shape == (6, 2)
    np.testing.assert_array_equal(out.artists["ends"].get_offsets(), [x[-1] for _, x in run_2d.trajectories])


def test_landscape_slice_of_a_3d_landscape(tmp_path):
    f = esc.DoubleWell(dim=3)
    out = saved(plot.landscape(f, (-2, 2), (-1.5, 1.5), point=[0.0, 0.7, 0.0], dims=(2, 0), resolution=25,
                               regions=[esc.Ball([0.0, 0.0, 0.0], 1.0), esc.Ball([0.0, 2.0, 0.0], 1.0),
                                        esc.Box([-1, 0.8, -1], [1, 1, 1]), esc.HalfSpace([0.0, 1.0, 0.0], 1.0)]),
                tmp_path, "slice")
    x, y, z = out.info["x"], out.info["y"], out.info["values"]
    # horizontal axis is x2, vertical x0, and x1 is held at 0.7
    assert z[3, 5] == pytest.approx(f.value([y[3], 0.7, x[5]]))
    circle, missed_ball, missed_box, missed_plane = out.artists["regions"]
    assert circle.get_radius() == pytest.approx(np.sqrt(1 - 0.7**2))
    assert missed_ball is None and missed_box is None and missed_plane is None
    assert "0.7" in out.ax.get_title()


def test_landscape_bad_input():
    with pytest.raises(ValueError, match="dimension >= 2"):
        plot.landscape(esc.DoubleWell(), (-2, 2), (-2, 2))
    with pytest.raises(ValueError, match="dims"):
        plot.landscape(esc.DoubleWell(dim=2), (-2, 2), (-2, 2), dims=(0, 2))
    with pytest.raises(ValueError, match="xlim"):
        plot.landscape(esc.DoubleWell(dim=2), (2, -2), (-2, 2))
    with pytest.raises(ValueError, match="point"):
        plot.landscape(esc.DoubleWell(dim=3), (-2, 2), (-2, 2), point=[0.0, 0.0])
    with pytest.raises(ValueError, match="regions"):
        plot.landscape(esc.DoubleWell(dim=2), (-2, 2), (-2, 2), regions=[esc.Ball([0.0], 1.0)])


@pytest.mark.parametrize("log", [False, True])
def test_exit_times(run_1d, tmp_path, axes, log):
    out = saved(plot.exit_times(run_1d, ax=axes, log=log), tmp_path, "exit_times")
    check_axes(out, axes)
    assert out.ax.get_yscale() == ("log" if log else "linear")
    assert out.info["mean"] == pytest.approx(run_1d.summary().mean)
    assert np.sum(out.info["density"] * np.diff(out.info["edges"])) == pytest.approx(1.0)
    title = out.ax.get_legend().get_title().get_text()
    assert f"{run_1d.count(Status.CENSORED)} censored" in title and "0 diverged" in title


def test_exit_times_needs_paths():
    res = esc.simulate(esc.DoubleWell(), esc.Langevin(temperature=0.1, **DYN), x0=[-1.0],
                       stop=esc.HalfSpace([1.0], 0.0), n_paths=10, t_max=1.0, seed=1, keep="summary")
    with pytest.raises(TypeError, match="keep='paths'"):
        plot.exit_times(res)


def test_survival(run_1d, temperature_sweep, tmp_path, axes):
    out = saved(plot.survival([run_1d, temperature_sweep[0]], ax=axes, labels=["a", "b"]), tmp_path, "survival")
    check_axes(out, axes)
    assert out.ax.get_yscale() == "log"
    assert len(out.artists["curves"]) == len(out.artists["bands"]) == 2
    km = out.info["kaplan_meier"][0]
    x, y = out.artists["curves"][0].get_data()
    assert x[0] == 0 and y[0] == 1 and x[-1] == pytest.approx(20.0)  # runs to the cap
    np.testing.assert_array_equal(y[1:-1], km.survival)
    labels = [t.get_text() for t in out.ax.get_legend().get_texts()]
    assert labels[:2] == ["a", "b"] and "Greenwood" in labels[2]


def test_survival_options(run_1d, temperature_sweep, tmp_path):
    out = saved(plot.survival(run_1d, logy=False, confidence=False), tmp_path, "survival_linear")
    assert out.ax.get_yscale() == "linear" and out.artists["bands"] == [] and out.ax.get_legend() is None
    out = saved(plot.survival(temperature_sweep, confidence=0.68), tmp_path, "survival_sweep")
    labels = [t.get_text() for t in out.ax.get_legend().get_texts()]
    assert labels[0] == "dynamics.temperature=0.1" and "68% band" in labels[-1]
    with pytest.raises(ValueError, match="labels"):
        plot.survival([run_1d, run_1d], labels=["only one"])
    with pytest.raises(ValueError, match="confidence"):
        plot.survival(run_1d, confidence=1.5)


def test_arrhenius_recovers_a_known_barrier(tmp_path, axes):
    T = np.array([0.05, 0.08, 0.1, 0.15, 0.2, 0.3])
    mean = 2.0 * np.exp(0.25 / T)
    out = saved(plot.arrhenius(T, mean, ax=axes), tmp_path, "arrhenius")
    check_axes(out, axes)
    assert abs(out.info["barrier"] - 0.25) < 1e-10
    assert abs(out.info["prefactor"] - 2.0) < 1e-9
    assert out.info["barrier_stderr"] < 1e-10
    assert out.ax.get_yscale() == "log" and out.ax.get_xlabel() == "1 / T"
    # the same with error bars as weights, and a theory line
    out = plot.arrhenius(T, mean, 0.05 * mean, barrier=0.25, prefactor=2.0)
    assert abs(out.info["barrier"] - 0.25) < 1e-10
    np.testing.assert_allclose(out.artists["theory"].get_ydata(), out.artists["fit"].get_ydata(), rtol=1e-9)


def test_arrhenius_weighted_fit_and_theory_prefactor():
    T = np.array([0.1, 0.2, 0.4])
    x = 1 / T
    mean = np.array([10.0, 3.0, 2.0])
    stderr = np.array([1.0, 0.03, 0.2])
    out = plot.arrhenius(T, mean, stderr, barrier=0.3)
    # weighted least squares on log(mean) with sigma = stderr / mean, solved independently
    w = (mean / stderr) ** 2
    A = np.column_stack([np.ones(3), x])
    cov = np.linalg.inv(A.T @ (w[:, None] * A))
    log_a, b = cov @ (A.T @ (w * np.log(mean)))
    assert out.info["barrier"] == pytest.approx(b, rel=1e-12)
    assert out.info["prefactor"] == pytest.approx(np.exp(log_a), rel=1e-12)
    assert out.info["barrier_stderr"] == pytest.approx(np.sqrt(cov[1, 1]), rel=1e-10)
    assert out.info["theory_prefactor"] == pytest.approx(np.exp(np.sum(w * (np.log(mean) - 0.3 * x)) / w.sum()))


def test_arrhenius_bad_input():
    with pytest.raises(ValueError, match="same length"):
        plot.arrhenius([0.1, 0.2], [1.0])
    with pytest.raises(ValueError, match="positive"):
        plot.arrhenius([0.1, 0.2], [1.0, -1.0])
    with pytest.raises(ValueError, match="two distinct"):
        plot.arrhenius([0.1, 0.1], [1.0, 2.0])
    out = plot.arrhenius([0.1], [5.0], fit=False, barrier=0.25)
    assert out.artists["fit"] is None and "barrier" not in out.info


def test_plot_arrhenius_reports_intervals():
    x = np.array([2.0, 3.0, 4.0])
    mean = 2.0 * np.exp(0.5 * x)
    fig, ax = plt.subplots()
    info = esc.plot.arrhenius(1 / x, mean, 0.05 * mean, ax=ax).info
    plt.close(fig)
    lo, hi = info["barrier_ci"]
    assert lo < 0.5 < hi and info["barrier"] == pytest.approx(0.5)


def test_arrhenius_sweep(temperature_sweep, tmp_path, axes):
    out = saved(plot.arrhenius_sweep(temperature_sweep, "dynamics.temperature", ax=axes, barrier=0.25),
                tmp_path, "arrhenius_sweep")
    check_axes(out, axes)
    frame = temperature_sweep.to_pandas()
    direct = plot.arrhenius(frame["dynamics.temperature"], frame["mean"], frame["stderr"])
    assert out.info["barrier"] == pytest.approx(direct.info["barrier"], rel=1e-12)
    assert out.info["excluded"] == []
    assert 0.15 < out.info["barrier"] < 0.35  # barrier 1/4, with a finite-temperature correction
    with pytest.raises(ValueError, match="grid"):
        plot.arrhenius_sweep(temperature_sweep, "dynamics.eps")


@pytest.mark.parametrize("key, x, values", [
    ("dynamics.eps", "eps", [np.sqrt(0.2), np.sqrt(0.25), np.sqrt(0.3), np.sqrt(0.4)]),  # eps = sqrt(2 T)
    ("dynamics.temperature", "temperature", [0.1, 0.125, 0.15, 0.2]),
])
def test_arrhenius_sweep_fits_what_arrhenius_fit_sweep_fits(key, x, values, axes):
    """The plot's abscissa and fit are arrhenius_fit_sweep's for the key (before, 1 / key always: an eps sweep
    got a barrier of 2.2 for V0 = 0.5)."""
    dyn = esc.Langevin(eps=values[0], **DYN) if x == "eps" else esc.Langevin(temperature=values[0], **DYN)
    sw = esc.sweep(esc.DoubleWell(), dyn, grid={key: values}, x0=[-1.0], stop=esc.HalfSpace([1.0], 0.0),
                   n_paths=200, t_max=500.0, seed=2)
    out = plot.arrhenius_sweep(sw, key, ax=axes, estimator="exponential")
    fit = esc.analysis.arrhenius_fit_sweep(sw, key, estimator="exponential")
    assert out.info["barrier"] == pytest.approx(fit.barrier, rel=1e-12)
    assert out.ax.get_xlabel() == ("1 / T" if x == "temperature" else f"1 / {key}²")
    low, high = fit.barrier_ci  # V0 = 2 dU = 0.5 in eps, dU = 1/4 in T, with finite-noise corrections
    assert low < (0.5 if x == "eps" else 0.25) * 1.4 and high > (0.5 if x == "eps" else 0.25) * 0.6


def test_arrhenius_keys_say_what_they_hold():
    """A learning rate is a temperature-like level (SGD's temperature is lr C / (2 B)), a batch size an inverse
    one; a key whose name does not say needs x= (it was read as an inverse level: lr gave a negative barrier)."""
    from escapade.analysis.arrhenius import noise_kind

    assert noise_kind("dynamics.lr") == "temperature" and noise_kind("dynamics.batch_size") == "inverse"
    assert noise_kind("dynamics.eps") == "eps" and noise_kind("dynamics.temperature") == "temperature"
    with pytest.raises(ValueError, match="x="):
        noise_kind("landscape.height")


def test_success_rate(grid_sweep, tmp_path, axes):
    out = saved(plot.success_rate(grid_sweep, "dynamics.temperature", "stop.offset", ax=axes), tmp_path,
                "success_rate")
    check_axes(out, axes)
    frac = out.info["fraction"]
    assert frac.shape == (2, 3)
    for point, res in zip(grid_sweep.points, grid_sweep.results):
        i = grid_sweep.grid["stop.offset"].index(point["stop.offset"])
        j = grid_sweep.grid["dynamics.temperature"].index(point["dynamics.temperature"])
        assert frac[i, j] == res.summary().counts["HIT"] / res.n_paths
    assert len(out.artists["texts"]) == 6
    assert out.ax.get_xlabel() == "dynamics.temperature" and out.ax.get_ylabel() == "stop.offset"
    exited = plot.success_rate(grid_sweep, "dynamics.temperature", "stop.offset", status="exited", annotate=False)
    assert exited.artists["texts"] == []
    assert np.all(exited.info["fraction"] + frac <= 1.0 + 1e-12)


def test_success_rate_bad_input(grid_sweep, temperature_sweep):
    with pytest.raises(ValueError, match="not a key"):
        plot.success_rate(grid_sweep, "dynamics.temperature", "n_paths")
    with pytest.raises(ValueError, match="different"):
        plot.success_rate(grid_sweep, "stop.offset", "stop.offset")
    with pytest.raises(ValueError, match="also varies"):
        plot.arrhenius_sweep(grid_sweep, "dynamics.temperature")
    with pytest.raises(ValueError, match="status"):
        plot.success_rate(grid_sweep, "dynamics.temperature", "stop.offset", status="LOST")
    with pytest.raises(TypeError, match="SweepResult"):
        plot.success_rate(temperature_sweep[0], "a", "b")


def test_distance(tmp_path, axes):
    # from the saddle of a quadratic: the distance grows like exp(t) along the unstable direction
    res = esc.simulate(esc.Quadratic(np.diag([1.0, -1.0])), esc.Langevin(temperature=1e-4, **DYN), x0=[0.0, 0.0],
                       stop=esc.Ball([0.0, 0.0], 1.0), n_paths=30, t_max=40.0, seed=1, record_paths=8)
    out = saved(plot.distance(res, [0.0, 0.0], ax=axes, max_paths=5), tmp_path, "distance")
    check_axes(out, axes)
    assert out.ax.get_yscale() == "log" and len(out.artists["lines"]) == 5 and out.info["n_recorded"] == 8
    t, x = res.trajectories[2]
    np.testing.assert_array_equal(out.artists["lines"][2].get_ydata(), np.linalg.norm(x, axis=1))
    by_step = plot.distance(res, [0.0, 0.0], step=True)
    assert len(by_step.artists["lines"]) == 8 and by_step.ax.get_xlabel() == "step"
    np.testing.assert_array_equal(by_step.artists["lines"][0].get_xdata(), np.rint(res.trajectories[0][0] / 1e-2))
    with pytest.raises(ValueError, match="record_paths"):
        plot.distance(esc.simulate(esc.Quadratic(np.eye(2)), esc.Langevin(temperature=0.1, **DYN), x0=[0.0, 0.0],
                                   n_paths=2, t_max=0.1, seed=0), [0.0, 0.0])
    with pytest.raises(ValueError, match="reference"):
        plot.distance(res, [0.0])


def test_missing_matplotlib_says_how_to_install(monkeypatch, run_1d):
    for name in [m for m in sys.modules if m == "matplotlib" or m.startswith("matplotlib.")]:
        monkeypatch.setitem(sys.modules, name, None)  # makes `import matplotlib...` raise ImportError
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    with pytest.raises(ImportError, match=r'pip install "escapade\[plot\]"'):
        plot.exit_times(run_1d)
    with pytest.raises(ImportError, match=r"escapade\[plot\]"):
        plot.arrhenius([0.1, 0.2], [3.0, 2.0])


def test_landscape_draws_an_ellipsoid_slice():
    # the 3-D ellipsoid x^2/4 + y^2 + z^2/0.25 < 1 cut at z = 0.3: the ellipse x^2/4 + y^2 < 0.64
    region = esc.Ellipsoid.from_axes([0.0, 0.0, 0.0], [2.0, 1.0, 0.5])
    out = plot.landscape(esc.DoubleWell(dim=3), (-2, 2), (-2, 2), point=[0.0, 0.0, 0.3], regions=[region],
                         resolution=20)
    (patch,) = out.artists["regions"]
    assert isinstance(patch, matplotlib.patches.Ellipse)
    np.testing.assert_allclose(sorted([patch.width, patch.height]), [2 * 0.8, 4 * 0.8])
    out = plot.landscape(esc.DoubleWell(dim=3), (-2, 2), (-2, 2), point=[0.0, 0.0, 0.6], regions=[region],
                         resolution=20)
    assert out.artists["regions"] == [None]


def test_landscape_draws_the_boundary_of_a_complement():
    out = plot.landscape(esc.DoubleWell(dim=2), (-2, 2), (-2, 2), regions=[~esc.Ball([0.5, 0.0], 0.75)],
                         resolution=20)
    (circle,) = out.artists["regions"]
    assert isinstance(circle, matplotlib.patches.Circle) and circle.get_radius() == 0.75
    assert circle.center == (0.5, 0.0) and circle.get_label() == "~Ball"


def test_distance_by_step_needs_a_fixed_step():
    """Adaptive steps (DP54) have no step number t / dt: the first step's dt gave 0, 1, 4, 6, 9, ... for 0, 1, 2, ..."""
    res = esc.simulate(esc.DoubleWell(dim=2), esc.ConstrainedFlow(dt=0.1, method="dp54"), x0=[0.05, 0.3],
                       stop=esc.Ball([0.0, 0.0], 5.0), n_paths=2, t_max=3.0, seed=0, record_paths=1, threads=1)
    with pytest.raises(ValueError, match="fixed time step"):
        plot.distance(res, [0.0, 0.0], step=True)
    fig, ax = plt.subplots()
    assert plot.distance(res, [0.0, 0.0], ax=ax).artists["lines"]  # against time it draws
    plt.close(fig)


def test_survival_of_a_run_whose_paths_all_diverged_says_it_has_no_curve(run_1d):
    # A drift that throws every path past divergence_bound in its first step: nothing to draw, and a warning says
    # so (it drew an empty axis silently); the other curves are drawn.
    gone = esc.simulate(esc.Linear([-1e6]), esc.Langevin(0.5, dt=0.1), x0=[0.0], stop=esc.Box([-1.0], [1e300]),
                        n_paths=10, t_max=10, seed=1, divergence_bound=10)
    assert gone.count(Status.DIVERGED) == 10
    with pytest.warns(RuntimeWarning, match="result 'gone' has no curve.*all 10 DIVERGED"):
        out = plot.survival([run_1d, gone], labels=["fine", "gone"])
    assert len(out.artists["curves"]) == 2 and out.info["kaplan_meier"][1].time.size == 0
    with pytest.warns(RuntimeWarning, match="the result has no curve"):
        plot.survival(gone)


def test_survival_labels_are_not_split_into_letters(run_1d):
    with pytest.raises(TypeError, match="labels"):
        plot.survival([run_1d, run_1d], labels="ab")


def test_plots_name_a_wrong_result_or_confidence(run_1d):
    with pytest.raises(TypeError, match="result must be"):
        plot.distance(None, [0.0])
    with pytest.raises(TypeError, match="result must be"):
        plot.landscape(esc.DoubleWell(dim=2), (-2, 2), (-2, 2), result=[1, 2])
    with pytest.raises(TypeError, match="results must be"):
        plot.survival(None)
    with pytest.raises(TypeError, match="confidence"):
        plot.survival(run_1d, confidence="x")
