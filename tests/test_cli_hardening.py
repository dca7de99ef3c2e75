"""The CLI refuses before working, never replaces what it did not write, and resumes to identical numbers."""

from __future__ import annotations

import importlib
import json

import numpy as np
import pytest

import xtrap
from xtrap.cli import main

run_module = importlib.import_module("xtrap.run")


def _err(capsys: pytest.CaptureFixture[str], argv: list[str]) -> str:
    capsys.readouterr()  # what earlier commands printed
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("xtrap: error:"), err
    return err


@pytest.mark.parametrize("argv, needle", [
    (["run", "--lr", "0.1,,0.2"], "empty item"),
    (["run", "--batch", "1,"], "empty item"),
    (["run", "--same-batch", "--fresh-batch"], "not allowed with argument"),
    (["run", "--out", "a.npz", "--out", "b.npz"], "--out given twice"),
    (["run", "--steps", "4294967296"], "--steps must be an integer in [1, 2147483647]"),
    (["run", "--seeds", "9223372036854775808"], "--seeds must be an integer in [1, 2147483647]"),
    (["run", "--seed", "18446744073709551616"], "--seed must be an integer in [0, 9223372036854775807]"),
    (["run", "--lr", "true"], "--lr expects a number"),
    (["run", "--lr", "nan"], "--lr must be finite"),
    (["run", "--param", "rotate=maybe"], "rotate must be True or False"),
    (["run", "--param", "rotate=nan"], "rotate must be True or False"),
    (["run", "--param", "L=4", "--param", "L=5"], "--param L given twice"),
    (["run", "--param", "noise=1e300", "--problem", "cosine"], "noise must be in [0, 1e+150]"),
    (["run", "--quantity", "nope", "--check", "C2", "--method", "sgd"], "--quantity must be the one bound C2 bounds"),
    (["run", "--check", "A2.EG"], "A2.EG is a stability threshold"),
    (["run", "--method", "sam", "--check", "D1"], "does not cover this run"),
    (["run", "--seeds", "2000000000", "--steps", "1000"], "more than half of this machine"),
    (["run", "--resume"], "--resume needs --out"),
    (["run", "--decay-factor", "0.5"], "--decay-factor and --decay-every go together"),
])
def test_bad_command_lines_are_refused_before_any_work(capsys, argv: list[str], needle: str) -> None:
    assert needle in _err(capsys, argv)


@pytest.mark.parametrize("target, needle", [
    ("", "needs a path"), ("/", "is a folder"), (".", "is a folder"), ("/dev/null", "device or special file"),
    ("/proc/xtrap.npz", "cannot write"), ("x" * 300 + ".npz", "name too long"),
])
def test_bad_out_paths_are_refused_before_running(capsys, target: str, needle: str) -> None:
    assert needle in _err(capsys, ["run", "--steps", "3", "--seeds", "1", "--out", target])


@pytest.mark.slow
def test_out_never_replaces_what_xtrap_did_not_write(capsys, tmp_path) -> None:
    other = tmp_path / "notes.txt"
    other.write_text("mine")
    assert "did not write" in _err(capsys, ["run", "--steps", "3", "--seeds", "1", "--out", str(other)])
    link = tmp_path / "link.npz"
    link.symlink_to(other)
    assert "symbolic link" in _err(capsys, ["run", "--steps", "3", "--seeds", "1", "--out", str(link)])
    assert other.read_text() == "mine"
    good = tmp_path / "r.npz"
    assert main(["run", "--steps", "3", "--seeds", "1", "--out", str(good)]) == 0
    assert "earlier xtrap result" in _err(capsys, ["run", "--steps", "3", "--seeds", "1", "--out", str(good)])
    assert main(["run", "--steps", "3", "--seeds", "2", "--out", str(good), "--force"]) == 0
    assert xtrap.Result.load(good)["loss"].shape[0] == 2 and (good.stat().st_mode & 0o777) != 0o600
    folder = tmp_path / "mine"
    folder.mkdir()
    (folder / "thesis.tex").write_text("x")
    assert "non-empty folder that xtrap did not write" in _err(capsys, ["sharp-flat", "--out", str(folder)])


def test_a_study_folder_from_an_earlier_run_loses_its_old_report_before_new_work(tmp_path) -> None:
    # an interrupted study must not leave the earlier report and figures beside its partial basins.json;
    # only the names the study writes are removed, a user's own file in the folder stays
    from xtrap.cli._paths import output_folder
    from xtrap.cli.studies import SHARP_FLAT_FILES

    folder = tmp_path / "study"
    folder.mkdir()
    (folder / "report.md").write_text("# xtrap sharp-flat study (quick)\n")
    (folder / "basins.json").write_text("{}")
    (folder / "sharp_flat_fraction.png").write_bytes(b"png")
    (folder / "notes.txt").write_text("mine")
    assert output_folder("--out", str(folder), force=False, owned=SHARP_FLAT_FILES, marker="# xtrap sharp-flat") == folder
    assert sorted(p.name for p in folder.iterdir()) == ["notes.txt"]


@pytest.mark.slow
def test_an_interrupted_run_resumes_to_bitwise_identical_numbers(capsys, tmp_path, monkeypatch) -> None:
    monkeypatch.setattr(run_module, "CHUNK_WORK", 2e3)  # small chunks: 12 of 5 runs each
    argv = ["run", "--method", "extrap_sgd", "--lr", "0.1,0.3", "--steps", "40", "--seeds", "30", "--param", "dim=3"]
    full = tmp_path / "full.npz"
    assert main(argv + ["--out", str(full)]) == 0
    part = tmp_path / "part.npz"
    real, calls = run_module.Result.save, []

    def save_then_stop(self, path):  # Ctrl-C arrives right after the third chunk is saved
        out = real(self, path)
        calls.append(path)
        if len(calls) == 3:
            raise KeyboardInterrupt
        return out
    monkeypatch.setattr(run_module.Result, "save", save_then_stop)
    capsys.readouterr()
    assert main(argv + ["--out", str(part)]) == 130
    lines = capsys.readouterr().err.splitlines()  # progress lines (stderr is not a terminal here), then one line
    assert lines[-1].startswith("xtrap: interrupted; the finished chunks are saved in") and "--resume" in lines[-1]
    assert all(line.startswith("xtrap run: ") for line in lines[:-1])
    monkeypatch.setattr(run_module.Result, "save", real)
    saved = xtrap.Result.load(part)
    assert not saved.attrs["complete"] and 0 < saved["done"].sum() < saved["done"].size
    assert main(argv + ["--out", str(part), "--resume"]) == 0
    a, b = xtrap.Result.load(full), xtrap.Result.load(part)
    assert a.data.keys() == b.data.keys() and b.attrs["complete"]
    for k in a.data:
        assert np.array_equal(a[k], b[k], equal_nan=True), k
    capsys.readouterr()
    other = [("31" if a == "30" else a) for a in argv]  # one more seed: another run
    assert "different run" in _err(capsys, other + ["--out", str(part), "--resume"])


@pytest.mark.slow
def test_json_is_one_strict_object_even_when_runs_blow_up(capsys) -> None:
    assert main(["run", "--method", "sgd", "--lr", "1.9,2.5", "--steps", "300", "--seeds", "3", "--json"]) == 0
    out = capsys.readouterr().out
    d = json.loads(out, parse_constant=lambda c: (_ for _ in ()).throw(ValueError(c)))
    assert isinstance(d, dict) and d["final"][1]["loss_mean"] is None and d["final"][1]["notes"]


@pytest.mark.slow
def test_a_failed_check_exits_1_in_json_mode_too(capsys, monkeypatch) -> None:
    import dataclasses

    import proofs

    b = proofs.catalog()["C2"].bound  # a deliberately wrong C2 (100x too small) must fail, and exit 1

    wrong = dataclasses.replace(b, expr=b.expr * 0.01, _fn=None)
    cat = dict(proofs.catalog())
    cat["C2"] = dataclasses.replace(cat["C2"], bound=wrong)
    monkeypatch.setattr(proofs, "catalog", lambda: cat)
    code = main(["run", "--method", "sgd", "--lr", "0.5", "--steps", "100", "--seeds", "40", "--check", "C2",
                 "--json"])
    d = json.loads(capsys.readouterr().out)
    assert d["check"]["verdict"] == "fail" and code == 1


def test_off_a_terminal_a_study_prints_plain_phase_lines_on_stderr_only(capsys) -> None:
    # capsys's stderr is not a terminal, as under CI, a redirect or nohup: no bar, one flushed line per step,
    # and nothing on stdout even with --json
    from analysis.output import progress
    from xtrap.cli.studies import _progress

    capsys.readouterr()
    assert list(progress(["a", "b"], _progress(as_json=True), "checks")) == ["a", "b"]
    out, err = capsys.readouterr()
    assert out == "" and err == "xtrap: checks 1 of 2\nxtrap: checks 2 of 2\n"
