"""The results cache: a run is read back bit for bit, anything that changes its numbers is another entry, an
interrupted run or study continues where it stopped, and a damaged entry or a bad folder is handled loudly."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest

import problems
import xtrap
from xtrap import results_cache


def _same_numbers(a: xtrap.Result, b: xtrap.Result) -> bool:
    return a.data.keys() == b.data.keys() and all(
        np.array_equal(a[k], b[k], equal_nan=a[k].dtype.kind == "f") for k in a.data)


def _entries(folder) -> list:
    return sorted(p for p in folder.rglob("*.npz") if not p.name.endswith(".tmp.npz"))


P = problems.make("noisy-quadratic", dim=4)
M = xtrap.extrap_sgd(lr=[0.1, 0.3], extrap_lr=0.1, batch=4)
RUN = dict(steps=60, seeds=6)


def test_a_second_run_is_read_back_bit_for_bit_and_says_so(tmp_path) -> None:
    fresh = xtrap.run(P, M, **RUN)
    first = xtrap.run(P, M, **RUN, cache=tmp_path)
    second = xtrap.run(P, M, **RUN, cache=xtrap.ResultsCache(tmp_path))
    assert (fresh.attrs["cached"], first.attrs["cached"], second.attrs["cached"]) == (False, False, True)
    assert _same_numbers(fresh, first) and _same_numbers(fresh, second)
    assert dict(second.attrs, cached=False) == first.attrs  # the seconds too: those of the run that computed it
    assert len(_entries(tmp_path)) == 1
    assert xtrap.run(P, M, **RUN, cache=False).attrs["cached"] is False  # False: the cache is not read


@pytest.mark.parametrize("change", [
    dict(problem=problems.make("noisy-quadratic", dim=4, scale=2.0)),
    dict(method=xtrap.extrap_sgd(lr=[0.1, 0.3], extrap_lr=0.2, batch=4)),
    dict(method=xtrap.sgd(lr=[0.1, 0.3], batch=4)),
    dict(steps=61), dict(seeds=7), dict(seed=1), dict(record_every=7), dict(x0=np.full(4, 0.5)),
    dict(dtype="float32"), dict(iterates=True), dict(averages=False), dict(batch_draw="per-sample"),
    dict(diverge_radius=1e3), dict(chunk=5),
], ids=lambda c: next(iter(c)))
def test_whatever_changes_the_numbers_is_another_entry(tmp_path, change) -> None:
    base = dict(problem=P, method=M, **RUN)
    xtrap.run(**base, cache=tmp_path)
    other = xtrap.run(**dict(base, **change), cache=tmp_path)
    assert other.attrs["cached"] is False
    assert len(_entries(tmp_path)) == 2
    assert _same_numbers(other, xtrap.run(**dict(base, **change)))


def test_the_key_covers_the_devices_and_the_code(monkeypatch) -> None:
    fp = "0" * 64
    k = results_cache.key(fp, "cpu x1")
    assert results_cache.key(fp, "cpu x2") != k
    assert results_cache.key("1" + fp[1:], "cpu x1") != k
    code = results_cache._code_identity()
    assert any(part.startswith("xtrap ") for part in code) and any(part.startswith("jax ") for part in code)
    monkeypatch.setattr(results_cache, "_code_identity", lambda: (*code[:-1], "an edited source"))
    assert results_cache.key(fp, "cpu x1") != k


class _Stop(Exception):
    pass


def test_an_interrupted_run_continues_from_its_partial_entry_bitwise(tmp_path) -> None:
    run = dict(problem=P, method=M, steps=60, seeds=6, chunk=3)  # 12 runs: 4 chunks
    calls = []

    def stop_after_two(done: int, total: int) -> None:
        calls.append(done)
        if len(calls) == 2:
            raise _Stop

    with pytest.raises(_Stop):
        xtrap.run(**run, cache=tmp_path, progress=stop_after_two)
    (entry,) = _entries(tmp_path)
    partial = xtrap.Result.load(entry)
    assert partial.attrs["complete"] is False and int(partial["done"].sum()) == 6
    seen = []
    resumed = xtrap.run(**run, cache=tmp_path, progress=lambda done, total: seen.append(done))
    assert seen == [6, 9, 12]  # the first update is what the partial entry had done; two chunks computed
    assert resumed.attrs["complete"] and resumed.attrs["cached"] is False
    assert _same_numbers(resumed, xtrap.run(**run))
    assert xtrap.run(**run, cache=tmp_path).attrs["cached"] is True


def test_a_damaged_entry_is_recomputed_and_replaced(tmp_path) -> None:
    xtrap.run(P, M, **RUN, cache=tmp_path)
    (entry,) = _entries(tmp_path)
    entry.write_bytes(b"not a result")
    again = xtrap.run(P, M, **RUN, cache=tmp_path)
    assert again.attrs["cached"] is False and _same_numbers(again, xtrap.run(P, M, **RUN))
    assert xtrap.run(P, M, **RUN, cache=tmp_path).attrs["cached"] is True


def test_a_bad_cache_is_refused_naming_it(tmp_path) -> None:
    with pytest.raises(problems.ParameterError, match=r"cache must be a folder, .*got 3"):
        xtrap.run(P, M, steps=5, cache=3)
    blocker = tmp_path / "file"
    blocker.write_text("")
    with pytest.raises(problems.ParameterError, match=r"cache must be a folder that can be created; .*file/sub"):
        xtrap.run(P, M, steps=5, cache=blocker / "sub")


def test_the_process_default_is_used_when_run_is_not_told(tmp_path) -> None:
    try:
        assert isinstance(xtrap.use_results_cache(tmp_path), xtrap.ResultsCache)
        xtrap.run(P, M, **RUN)
        assert xtrap.run(P, M, **RUN).attrs["cached"] is True
        assert xtrap.run(P, M, **RUN, cache=False).attrs["cached"] is False
    finally:
        xtrap.use_results_cache(None)
    assert xtrap.run(P, M, **RUN).attrs["cached"] is False


@pytest.mark.slow
def test_concurrent_writers_of_one_entry_leave_one_complete_file(tmp_path) -> None:
    code = ("import problems, xtrap\n"
            "p = problems.make('noisy-quadratic', dim=4)\n"
            "m = xtrap.extrap_sgd(lr=[0.1, 0.3], extrap_lr=0.1, batch=4)\n"
            f"r = xtrap.run(p, m, steps=400, seeds=64, chunk=16, cache={str(tmp_path)!r})\n"
            "print(r.attrs['complete'])\n")
    procs = [subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
             for _ in range(3)]
    outs = [p.communicate(timeout=600) for p in procs]
    assert all(p.returncode == 0 for p in procs), [o[1][-500:] for o in outs]
    assert all(o[0].strip() == "True" for o in outs)
    assert not list(tmp_path.rglob("*.tmp.npz"))
    (entry,) = _entries(tmp_path)
    stored = xtrap.Result.load(entry)
    m = xtrap.extrap_sgd(lr=[0.1, 0.3], extrap_lr=0.1, batch=4)
    assert stored.attrs["complete"] and _same_numbers(stored, xtrap.run(P, m, steps=400, seeds=64, chunk=16))


@pytest.mark.slow
def test_an_interrupted_verify_resumes_computing_only_the_runs_it_had_not_finished(tmp_path) -> None:
    import analysis

    checks = [c for c in analysis.CHECKS if "quick" in c.levels][:4]
    reference = analysis.verify("quick", checks=checks, rates=False)

    def stop_at_the_third_check(line: str) -> None:
        if line == f"checks 3 of {len(checks)}":
            raise _Stop

    try:
        xtrap.use_results_cache(tmp_path)
        with pytest.raises(_Stop):
            analysis.verify("quick", checks=checks, rates=False, progress=stop_at_the_third_check)
        finished = len(_entries(tmp_path))
        resumed = analysis.verify("quick", checks=checks, rates=False)
        again = analysis.verify("quick", checks=checks, rates=False)
    finally:
        xtrap.use_results_cache(None)
    assert 0 < finished < reference["runs"]
    assert (resumed["runs"], resumed["runs_cached"]) == (reference["runs"], finished)
    assert len(_entries(tmp_path)) == reference["runs"]
    assert (again["runs"], again["runs_cached"]) == (reference["runs"], reference["runs"])
    assert resumed["checks"] == reference["checks"] == again["checks"]
    # the proofs' statuses, stored by the interrupted call before its checks began
    assert (reference["proofs_cached"], resumed["proofs_cached"]) == (False, True)
    assert resumed["proofs"] == reference["proofs"] and resumed["failed_proofs"] == reference["failed_proofs"]


@pytest.mark.slow
def test_stored_proof_statuses_are_the_verified_ones_and_a_damaged_entry_is_redone(tmp_path) -> None:
    import proofs
    from analysis.verify.study import proof_statuses

    names = list(proofs.catalog())[:3]
    expected = {n: proofs.verify(proofs.catalog()[n]).status for n in names}
    cache = xtrap.ResultsCache(tmp_path)
    try:
        xtrap.use_results_cache(cache)
        first, first_cached = proof_statuses()
        (entry,) = tmp_path.rglob("*.json")
        second, second_cached = proof_statuses()
        entry.write_text("{")
        third, third_cached = proof_statuses()
    finally:
        xtrap.use_results_cache(None)
    assert (first_cached, second_cached, third_cached) == (False, True, False)
    assert first == second == third and list(first) == list(proofs.catalog())
    assert {n: first[n] for n in names} == expected
