"""The checkpoint store: a rerun skips the chunks it finds and runs the missing ones, a killed run resumes to the
uninterrupted result, the store of another run is refused, leftovers of a killed write do no harm, and a run without
a seed resumes with the seed it started with."""

from __future__ import annotations

import signal
import subprocess
import sys
import textwrap
import time
import types
from pathlib import Path

import numpy as np
import pytest

from escapade import DoubleWell, Langevin, simulate

from conftest import N_PATHS, SEED, W1_EXIT, assert_same_result, assert_same_trajectories, chunk_files, file_ids, w1


@pytest.mark.parametrize("keep", ["paths", "summary"])
def test_store_rerun_skips_finished_chunks(tmp_path, count_chunks, keep):
    store = tmp_path / "store"
    kw = dict(chunk_size=500, record_paths=700, record_every=2000, keep=keep)
    first = w1(store=store, **kw)
    assert len(count_chunks) == 6
    assert chunk_files(store) == [f"chunk-{i:015d}.npz" for i in range(0, N_PATHS, 500)]
    assert sorted(p.name for p in store.iterdir()) == sorted(["run.json", *chunk_files(store)])  # nothing else
    before = file_ids(store)
    count_chunks.clear()
    # threads and lanes do not change the numbers, so the store serves a run with other ones
    again = w1(store=store, threads=1, lanes=8, **kw)
    assert count_chunks == []
    assert file_ids(store) == before
    plain = w1(**kw)
    for res in (first, again):
        if keep == "paths":
            assert_same_result(plain, res)
        else:
            assert res.exit_stats == plain.exit_stats
            assert_same_trajectories(plain, res)
            assert res.total_steps == plain.total_steps


def test_store_resumes_missing_chunks(tmp_path, count_chunks, w1_local):
    store = tmp_path / "store"
    kw = dict(chunk_size=1000, record_paths=1100, record_every=2000, store=store)
    w1(**kw)
    (store / "chunk-000000000001000.npz").unlink()
    count_chunks.clear()
    res = w1(**kw)
    assert count_chunks == [(1000, 1000)]
    assert_same_result(w1_local, res)


KILLED_CHILD = textwrap.dedent(
    """
    import sys
    import escapade as e

    # one thread, one lane: slow on purpose, so that the parent can kill it halfway
    e.simulate(e.DoubleWell(), e.Langevin(temperature=1 / 16, dt=1e-2), x0=[-1.0], stop=e.HalfSpace([1.0], 0.0),
               n_paths=int(sys.argv[2]), t_max=1e4, seed=int(sys.argv[3]), chunk_size=int(sys.argv[4]),
               record_paths=3, record_every=500, threads=1, lanes=1, store=sys.argv[1], progress=False)
    print("finished", flush=True)
    """
)


def test_killed_run_resumes_to_the_uninterrupted_result(tmp_path, count_chunks):
    store = tmp_path / "store"
    n_paths, chunk_size, seed = 8000, 400, 77
    n_chunks = n_paths // chunk_size
    proc = subprocess.Popen(
        [sys.executable, "-c", KILLED_CHILD, str(store), str(n_paths), str(seed), str(chunk_size)],
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 120  # a hang check, not a timing requirement
        while len(chunk_files(store) if store.exists() else []) < 2:
            assert proc.poll() is None, f"the run ended before it could be killed: {proc.communicate()}"
            assert time.monotonic() < deadline, "no chunk was written"
            time.sleep(0.05)
        proc.send_signal(signal.SIGKILL)
        out, _ = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    assert proc.returncode == -signal.SIGKILL
    assert "finished" not in out
    done = chunk_files(store)
    assert 2 <= len(done) < n_chunks, f"{len(done)} of {n_chunks} chunks finished: kill the run earlier"
    before = file_ids(store)

    kw = dict(n_paths=n_paths, seed=seed, chunk_size=chunk_size, record_paths=3, record_every=500)
    resumed = w1(store=store, threads=2, **kw)
    done_first = {int(name[6:-4]) for name in done}
    assert sorted(count_chunks) == [(f, chunk_size) for f in range(0, n_paths, chunk_size) if f not in done_first]
    after = file_ids(store)
    assert {k: after[k] for k in before} == before
    assert len(after) == n_chunks
    uninterrupted = w1(n_paths=n_paths, seed=seed, record_paths=3, record_every=500, threads=2)
    assert_same_result(uninterrupted, resumed)


@pytest.mark.parametrize(
    ("change", "differs_in"),
    [
        (dict(seed=SEED + 1), "seed"),
        (dict(t_max=5e3), "params"),
        (dict(n_paths=N_PATHS - 1), "params"),
        (dict(dynamics=Langevin(temperature=0.07, dt=1e-2)), "params"),
        (dict(bridge=False), "params"),
        (dict(chunk_size=600), "chunks"),
        (dict(keep="summary"), "keep"),
    ],
    ids=["seed", "t_max", "n_paths", "temperature", "bridge", "chunk_size", "keep"],
)
def test_store_of_a_different_run_is_refused(tmp_path, count_chunks, change, differs_in):
    store = tmp_path / "store"
    kw = dict(chunk_size=1000, store=store)
    w1(**kw)
    before = file_ids(store)
    meta = (store / "run.json").read_bytes()
    count_chunks.clear()
    with pytest.raises(ValueError, match="store") as info:
        w1(**{**kw, **change})
    assert str(store) in str(info.value) and differs_in in str(info.value)
    assert count_chunks == []  # refused before anything ran
    assert file_ids(store) == before and (store / "run.json").read_bytes() == meta


def test_leftover_temporary_files_do_not_break_resume(tmp_path, w1_local):
    store = tmp_path / "store"
    kw = dict(chunk_size=1000, record_paths=1100, record_every=2000, store=store)
    w1(**kw)
    chunk = store / "chunk-000000000002000.npz"
    data = chunk.read_bytes()
    chunk.unlink()
    # what a write killed before its rename leaves: a truncated and an empty temporary file
    (store / ".tmp-k1ll3d").write_bytes(data[: len(data) // 2])
    (store / ".tmp-empty0").write_bytes(b"")
    res = w1(**kw)
    assert_same_result(w1_local, res)
    assert len(chunk_files(store)) == 3
    again = w1(**kw)
    assert_same_result(w1_local, again)


def test_store_resumes_without_a_seed(tmp_path):
    first = simulate(DoubleWell(), Langevin(temperature=1 / 16, dt=1e-2), n_paths=300, chunk_size=100,
                         store=tmp_path / "run", **W1_EXIT)
    again = simulate(DoubleWell(), Langevin(temperature=1 / 16, dt=1e-2), n_paths=300, chunk_size=100,
                         store=tmp_path / "run", **W1_EXIT)
    assert again.seed == first.seed
    np.testing.assert_array_equal(again.exit_time, first.exit_time)


# --- each chunk carries the run's fingerprint; a damaged or foreign chunk is named ----------------------------------


def _damage(path, how):
    data = path.read_bytes()
    if how == "truncated":
        path.write_bytes(data[: len(data) // 2])
    elif how == "empty":
        path.write_bytes(b"")
    elif how == "garbage":
        path.write_bytes(b"not a zip file at all" * 10)
    elif how == "flipped":  # a byte flipped in the middle: the zip's CRC or the array's contents no longer read
        i = len(data) // 2
        path.write_bytes(data[:i] + bytes([data[i] ^ 0xFF]) + data[i + 1:])


@pytest.mark.parametrize("how", ["truncated", "empty", "garbage", "flipped"])
def test_damaged_chunk_is_named_and_recomputed_once_deleted(tmp_path, count_chunks, w1_local, how):
    store = tmp_path / "store"
    kw = dict(chunk_size=1000, record_paths=1100, record_every=2000, store=store)
    w1(**kw)
    bad = store / "chunk-000000000001000.npz"
    _damage(bad, how)
    try:
        res = w1(**kw)
    except ValueError as exc:
        assert str(exc).startswith(f"store chunk {str(bad)!r} is damaged") and "delete it" in str(exc)
    else:  # a flipped byte may land where nothing checks it (zip padding): then the chunk must still be right
        assert how == "flipped"
        assert_same_result(w1_local, res)
    bad.unlink()
    count_chunks.clear()
    assert_same_result(w1_local, w1(**kw))
    assert count_chunks == [(1000, 1000)]


def test_chunk_of_another_run_is_refused(tmp_path, count_chunks, w1_local):
    kw = dict(chunk_size=1000, record_paths=1100, record_every=2000)
    store, other = tmp_path / "store", tmp_path / "other"
    w1(store=store, **kw)
    w1(store=other, **{**kw, "seed": SEED + 1})
    foreign = store / "chunk-000000000002000.npz"
    foreign.write_bytes((other / foreign.name).read_bytes())  # copied over from the other run's store
    with pytest.raises(ValueError, match="belongs to a different run") as info:
        w1(store=store, **kw)
    assert str(info.value).startswith(f"store chunk {str(foreign)!r}") and "delete it" in str(info.value)
    foreign.unlink()
    count_chunks.clear()
    assert_same_result(w1_local, w1(store=store, **kw))
    assert count_chunks == [(2000, 1000)]


def test_chunk_under_another_name_is_refused(tmp_path, w1_local):
    kw = dict(chunk_size=1000, record_paths=1100, record_every=2000)
    store = tmp_path / "store"
    w1(store=store, **kw)
    moved = store / "chunk-000000000002000.npz"
    moved.write_bytes((store / "chunk-000000000000000.npz").read_bytes())
    with pytest.raises(ValueError, match=r"holds 1000 paths from 0, this run's chunk is 1000 paths from 2000"):
        w1(store=store, **kw)


def test_chunks_without_a_fingerprint_still_load(tmp_path, count_chunks, w1_local):
    """Chunks written before chunks carried the run's fingerprint are trusted on run.json's word."""
    import json
    import zipfile

    kw = dict(chunk_size=1000, record_paths=1100, record_every=2000)
    store = tmp_path / "store"
    w1(store=store, **kw)
    for path in store.glob("chunk-*.npz"):
        with np.load(path) as data:
            arrays = {k: data[k] for k in data.files}
        header = json.loads(str(arrays["header"]))
        assert len(header.pop("run")) == 16
        arrays["header"] = np.array(json.dumps(header))
        with open(path, "wb") as fh:
            np.savez(fh, **arrays)
        assert zipfile.is_zipfile(path)
    count_chunks.clear()
    assert_same_result(w1_local, w1(store=store, **kw))
    assert count_chunks == []


@pytest.mark.parametrize("text", ["", "{not json", "[1, 2]"])
def test_damaged_run_json_is_named(tmp_path, text):
    store = tmp_path / "store"
    w1(store=store, chunk_size=1000)
    (store / "run.json").write_text(text)
    with pytest.raises(ValueError, match=f"store file {str(store / 'run.json')!r} is damaged"):
        w1(store=store, chunk_size=1000)
    with pytest.raises(ValueError, match="run.json' is damaged"):
        w1(store=store, seed=None)  # resuming without a seed reads the stored one


@pytest.mark.parametrize("chunks", [[[0, 1000]], [[0, 3000], [0, 3000]], [[5, 1000]], [[0, 10**9]], "x", [[0, 0.5]]])
def test_run_json_whose_chunks_do_not_cut_the_run_is_refused(tmp_path, chunks):
    """A resume takes the store's cut of the paths only if it cuts exactly this run's paths in order: else the store
    is a different run's (never fewer, more or absurdly many paths)."""
    import json

    store = tmp_path / "store"
    w1(store=store, chunk_size=1000)
    meta = json.loads((store / "run.json").read_text())
    meta["chunks"] = chunks
    (store / "run.json").write_text(json.dumps(meta))
    for path in store.glob("chunk-*.npz"):
        path.unlink()
    with pytest.raises(ValueError, match="holds chunks of a different run .*chunks"):
        w1(store=store)


def test_chunk_without_its_paths_arrays_is_damaged(tmp_path, count_chunks, w1_local):
    """A chunk of a run that keeps paths must hold them: one reduced to its header is named, not merged as no
    paths."""
    store = tmp_path / "store"
    kw = dict(chunk_size=1000, record_paths=1100, record_every=2000, store=store)
    w1(**kw)
    bad = store / "chunk-000000000001000.npz"
    with np.load(bad) as data:
        header = data["header"]
    np.savez(bad, header=header)
    with pytest.raises(ValueError, match="is damaged \\(its paths' arrays are missing\\)"):
        w1(**kw)
    bad.unlink()
    assert_same_result(w1_local, w1(**kw))


@pytest.mark.parametrize("text", ["{}", '{"seed": "x"}', '{"seed": 1.5}', '{"seed": -1}', '{"seed": true}'])
def test_run_json_without_a_valid_seed_is_named_when_resuming_without_one(tmp_path, text):
    store = tmp_path / "store"
    w1(store=store, chunk_size=1000)
    (store / "run.json").write_text(text)
    with pytest.raises(ValueError, match="run.json' is damaged .*seed"):
        w1(store=store, seed=None)


@pytest.mark.parametrize("text", ["{broken", "[]", "{}", '{"seed": "x"}', '{"seed": 1.5}'])
def test_damaged_sweep_json_is_named_when_resuming_without_a_seed(tmp_path, text):
    from conftest import run_sweep

    store = tmp_path / "sweep"
    run_sweep(store=store)
    (store / "sweep.json").write_text(text)
    with pytest.raises(ValueError, match="sweep.json' is damaged"):
        run_sweep(store=store, seed=None)


def test_store_of_a_callback_with_another_body_is_refused(tmp_path):
    """A result records a callback by name only; the store also compares a digest of its code and of the numbers
    it closes over, so that chunks of another body under the same name are not reused."""
    import escapade as esc

    def landscape(a):
        return esc.BatchedLandscape(1, lambda x: a * (x**3 - x))

    kw = dict(x0=[-1.0], stop=esc.HalfSpace(normal=[1.0], offset=0.0), n_paths=200, t_max=5.0, seed=0, threads=1,
              chunk_size=100, progress=False, store=tmp_path / "store")
    first = simulate(landscape(1.0), Langevin(0.1, dt=0.01), **kw)
    again = simulate(landscape(1.0), Langevin(0.1, dt=0.01), **kw)  # the same code resumes
    np.testing.assert_array_equal(again.exit_time, first.exit_time)
    with pytest.raises(ValueError, match="holds chunks of a different run .*differs in code"):
        simulate(landscape(2.0), Langevin(0.1, dt=0.01), **kw)


def _coefficient(a):
    return a["k"] if isinstance(a, dict) else getattr(a, "k", a)


@pytest.mark.parametrize("before, after", [
    (np.float32(1.0), np.float32(3.0)),                    # a numpy scalar is no float
    (np.int64(1), np.int64(3)),
    ({"k": 1.0}, {"k": 3.0}),                              # a container's items
    (types.SimpleNamespace(k=1.0), types.SimpleNamespace(k=3.0)),  # an object's attributes
])
def test_store_compares_the_values_a_callback_closes_over(tmp_path, before, after):
    import escapade as esc

    def landscape(a):  # the callback closes over `a` alone
        return esc.BatchedLandscape(1, lambda x: _coefficient(a) * (x**3 - x), name="dw")

    kw = dict(x0=[-1.0], stop=esc.HalfSpace(normal=[1.0], offset=0.0), n_paths=200, t_max=5.0, seed=0, threads=1,
              chunk_size=100, progress=False, store=tmp_path / "store")
    first = simulate(landscape(before), Langevin(0.25, dt=0.01), **kw)
    again = simulate(landscape(type(before)(**vars(before)) if isinstance(before, types.SimpleNamespace)
                               else before), Langevin(0.25, dt=0.01), **kw)  # equal values resume
    np.testing.assert_array_equal(again.exit_time, first.exit_time)
    with pytest.raises(ValueError, match="differs in code"):
        simulate(landscape(after), Langevin(0.25, dt=0.01), **kw)


@pytest.mark.parametrize("edit", [
    dict(exit_time=lambda a: a.astype(np.float32)),
    dict(status=lambda a: a.astype(np.float64)),
    dict(status=lambda a: np.full_like(a, 9)),
    dict(exit_position=lambda a: np.zeros((a.shape[0], 3))),
    dict(header=lambda h: {**h, "total_steps": 1.5}),
    dict(header=lambda h: {**h, "total_steps": "lots"}),
    dict(header=lambda h: {**h, "total_steps": -10**30}),
])
def test_an_edited_chunk_is_refused_not_merged(tmp_path, edit):
    """A stored chunk is read with the checks of a result file: an array of another dtype or shape, status codes
    that do not exist, or a header that is not whole numbers, is a damaged chunk, named."""
    import json

    store = tmp_path / "store"
    kw = dict(chunk_size=1000, store=store)
    w1(**kw)
    bad = store / "chunk-000000000001000.npz"
    with np.load(bad) as data:
        arrays = {k: data[k] for k in data.files}
    header = json.loads(str(arrays["header"]))
    for name, change in edit.items():
        if name == "header":
            arrays["header"] = np.array(json.dumps(change(header)))
        else:
            arrays[name] = change(arrays[name])
    with open(bad, "wb") as fh:
        np.savez(fh, **arrays)
    with pytest.raises(ValueError, match=f"store chunk {str(bad)!r} is damaged"):
        w1(**kw)


@pytest.mark.skipif(not hasattr(__import__("os"), "mkfifo"), reason="no FIFOs here")
@pytest.mark.parametrize("name", ["chunk-000000000001000.npz", "run.json"])
def test_a_fifo_in_a_store_is_refused_not_opened(tmp_path, name):
    import os

    store = tmp_path / "store"
    code = textwrap.dedent(f"""
        import sys
        sys.path.insert(0, {str(Path(__file__).parent)!r})
        from conftest import w1
        try:
            w1(chunk_size=1000, store={str(store)!r})
        except ValueError as e:
            print(e)
    """)
    subprocess.run([sys.executable, "-c", code], check=True, timeout=120)
    (store / name).unlink()
    os.mkfifo(store / name)
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert "is not a regular file" in out.stdout, out.stderr


def test_a_callback_reading_a_list_that_holds_itself_has_a_digest():
    from escapade.custom import code_digest
    import escapade as esc

    cyclic = [1.0]
    cyclic.append(cyclic)
    assert code_digest(esc.BatchedLandscape(1, lambda x: cyclic[0] * x))  # not a RecursionError


SMALL = dict(x0=[-1.0], stop=W1_EXIT["stop"], t_max=10.0, n_paths=20, keep="summary", chunk_size=1000)


def _small(**kw):
    return simulate(DoubleWell(), Langevin(temperature=0.25, dt=1e-2), **{**SMALL, **kw})


@pytest.mark.parametrize("entry", ["run.json", "chunk", "dangling chunk"])
def test_a_link_inside_a_store_is_refused_not_followed(tmp_path, entry):
    """A store someone else prepared cannot make a run read files elsewhere (run.json or a chunk linked to them) or
    write through a link: every entry that is a symbolic link is refused by name, and the file it names is left
    as it was."""
    import os

    store, elsewhere = tmp_path / "store", tmp_path / "elsewhere"
    _small(store=store, seed=1)
    name = "run.json" if entry == "run.json" else chunk_files(store)[0]
    if entry == "dangling chunk":
        (store / name).unlink()
    else:
        (store / name).rename(elsewhere)
    try:
        (store / name).symlink_to(elsewhere)
    except (OSError, NotImplementedError):
        pytest.skip("no symbolic links here")
    before = elsewhere.read_bytes() if elsewhere.exists() else None
    for seed in (1, None):  # a rerun, and a resume that takes the stored seed
        with pytest.raises(ValueError, match=rf"store entry .*{name}' is a symbolic link"):
            _small(store=store, seed=seed)
    assert (store / name).is_symlink() and (elsewhere.read_bytes() if elsewhere.exists() else None) == before
    os.unlink(store / name)
    if entry != "dangling chunk":
        elsewhere.rename(store / name)
    assert _small(store=store).seed == 1


def test_a_store_given_as_a_link_is_the_users_choice(tmp_path):
    (tmp_path / "scratch").mkdir()
    try:
        (tmp_path / "link").symlink_to(tmp_path / "scratch", target_is_directory=True)
    except (OSError, NotImplementedError):
        pytest.skip("no symbolic links here")
    first = _small(store=tmp_path / "link", seed=5)
    assert (tmp_path / "scratch" / "run.json").is_file()
    assert _small(store=tmp_path / "link").seed == first.seed == 5


def test_a_run_whose_params_hold_a_tuple_resumes_and_loads_back(tmp_path):
    """Periodic's plane is a tuple, which JSON gives back as a list: the record keeps it as a list, so a store's
    run.json and a saved result compare equal to the run (a rerun was refused as another run)."""
    from escapade import Ackley, Ball, Periodic, load

    dyn = Langevin(temperature=0.05, dt=1e-2, forcing=Periodic(1.0, 1.0))
    kw = dict(x0=[2.2, -1.3], target=Ball([0.0, 0.0], 1.0), n_paths=8, t_max=1.0, seed=2, chunk_size=4)
    first = simulate(Ackley(), dyn, store=tmp_path / "s", **kw)
    again = simulate(Ackley(), dyn, store=tmp_path / "s", **kw)
    assert_same_result(first, again)
    assert first.params["dynamics"]["forcing"]["plane"] == [0, 1]
    first.save(tmp_path / "r.npz")
    assert load(tmp_path / "r.npz").params == first.params
