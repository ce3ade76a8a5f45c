"""The progress bar reports without changing results."""

from __future__ import annotations

import numpy as np

import escapade as esc

W1 = dict(x0=[-1.0], stop=esc.HalfSpace([1.0], 0.0), t_max=1e5, seed=2)


def run(**kwargs):
    return esc.simulate(esc.DoubleWell(), esc.Langevin(temperature=1 / 16, dt=1e-3), n_paths=4000, **W1, **kwargs)


def test_progress_on_and_off_give_identical_results(capsys):
    quiet = run(progress=False)
    assert capsys.readouterr().err == ""
    shown = run(progress=True)  # about a second: long enough for the bar's 0.5 s delay
    err = capsys.readouterr().err
    assert "escapade" in err and "4000/4000" in err
    for name in ("status", "exit_time", "exit_step", "exit_position"):
        np.testing.assert_array_equal(getattr(quiet, name), getattr(shown, name))


def test_chunked_progress_counts_every_path(capsys):
    shown = run(progress=True, chunk_size=1000)
    assert "4000/4000" in capsys.readouterr().err
    np.testing.assert_array_equal(shown.exit_time, run(progress=False).exit_time)
