"""Figures of the sharp/flat study: every file written, PNG, captions naming their theory; NaN-safe."""

import dataclasses
import warnings
from pathlib import Path

import numpy as np
import pytest

from analysis.sharp_flat.basins import METHODS, BasinSweep, basin_rows, basin_sweep
from analysis.sharp_flat.landscapes import landscapes
from analysis.sharp_flat.figures import METHOD_COLORS, _quartiles, write_figures

PNG = b"\x89PNG\r\n\x1a\n"
GRIDS = {"two-basin": [0.05, 0.2], "cosine": [0.05, 0.25]}


@pytest.fixture(scope="module")
def study() -> tuple[list[BasinSweep], list[dict]]:
    """Two methods × both landscapes, 2 step sizes × 2 batches × 8 seeds × 40 steps."""
    sweeps = [basin_sweep(ls, METHODS[m], GRIDS[ls.name], [1, 16], seeds=8, steps=40)
              for ls in landscapes() for m in ("SGD", "EXTRAP-SGD")]
    return sweeps, [r for sw in sweeps for r in basin_rows(sw)]


@pytest.fixture(scope="module")
def diverging() -> BasinSweep:
    """SGD at η = 3 on two-basin: beyond 2/η of even the walls (curvature 1), so every run diverges."""
    return basin_sweep(landscapes()[0], METHODS["SGD"], [0.2, 3.0], [1, 4], seeds=8, steps=40)


def _check(figs: list[tuple[list[str], str]], out: Path, svg: bool = False) -> None:
    assert len(figs) == 5
    for names, caption in figs:
        assert names and names[0].endswith(".png") and (len(names) == 2) == svg
        data = (out / names[0]).read_bytes()
        assert data.startswith(PNG) and len(data) > 1000
        if svg:
            assert (out / names[1]).read_text().lstrip().startswith("<?xml")
        # every caption names the theory it draws: the G2 filters, A4's B_crit, or E5's smoothing term
        assert len(caption) > 100 and "THEORY.md" in caption and any(s in caption for s in ("G2", "A4", "E5")), caption


def _strict(fn, *args, **kwargs):  # noqa: ANN001, ANN202 - pytest runs with filterwarnings=error anyway
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        return fn(*args, **kwargs)


@pytest.mark.slow
def test_every_figure_is_written_with_a_caption_naming_its_theory(study, tmp_path: Path) -> None:
    sweeps, rows = study
    figs = _strict(write_figures, sweeps, rows, tmp_path)
    _check(figs, tmp_path)
    captions = dict(zip(["landscape", "fraction", "final", "trace", "generalization"], (c for _, c in figs)))
    assert "Clopper–Pearson 95%" in captions["fraction"]
    assert all(s in captions["fraction"] for s in ("A4.Bcrit", "G4", "A2.EG"))
    assert "quartiles" in captions["final"] and "A2.GD" in captions["final"]
    assert "η=0.2, B=1" in captions["landscape"] and "η=0.25, B=1" in captions["landscape"]  # largest lr, smallest B
    assert "η = 0.2, B = 1" in captions["trace"] and "η = 0.25, B = 1" in captions["trace"]  # middle of [0.05, x]
    assert "½ tr(H M)" in captions["generalization"] and "antithetic" in captions["generalization"]


@pytest.mark.slow
def test_diverged_runs_are_masked_without_warnings(diverging, study, tmp_path: Path) -> None:
    assert diverging.diverged[1].all() and not diverging.diverged[0].any()
    assert np.isnan(diverging.final_sharpness[1]).all() and np.isnan(diverging.sharpness_trace[1]).all()
    rows = _strict(basin_rows, diverging)
    assert all(np.isnan(r["flat_fraction"]) for r in rows if r["lr"] == 3.0)
    # and runs of which only some diverged: NaN in a few seeds of one cell, a NaN record in another
    sw = study[0][3]  # cosine, EXTRAP-SGD
    div = sw.diverged.copy()
    div[0, 0, :3] = True
    nan = np.where(div, np.nan, 1.0)
    trace = sw.sharpness_trace * nan[..., None]
    trace[1, 1, :, 5] = np.nan
    partial = dataclasses.replace(sw, diverged=div, final_sharpness=sw.final_sharpness * nan,
                                  final_trace=sw.final_trace * nan, shift_gap=sw.shift_gap * nan,
                                  sharpness_trace=trace)
    sweeps = [diverging, partial]
    _check(_strict(write_figures, sweeps, rows + _strict(basin_rows, partial), tmp_path), tmp_path)


@pytest.mark.slow
def test_single_step_size_and_batch_with_svg(study, tmp_path: Path) -> None:
    cut = lambda a: a[:1, :1]  # noqa: E731
    one = [dataclasses.replace(sw, lrs=sw.lrs[:1], batches=sw.batches[:1],
                               **{f: cut(getattr(sw, f)) for f in ("basin", "diverged", "final_sharpness",
                                                                   "final_trace", "shift_gap", "trajectory",
                                                                   "sharpness_trace")})
           for sw in study[0]]
    rows = [r for sw in one for r in basin_rows(sw)]
    assert len(rows) == len(one)
    _check(_strict(write_figures, one, rows, tmp_path, svg=True), tmp_path, svg=True)


def test_quartiles_of_all_nan_columns_are_nan_without_warnings() -> None:
    a = np.array([[1.0, np.nan], [3.0, np.nan], [np.nan, np.nan]])
    q = _strict(_quartiles, a)
    assert np.allclose(q[:, 0], [1.5, 2.0, 2.5]) and np.isnan(q[:, 1]).all()
    assert np.isnan(_strict(_quartiles, np.zeros((0, 4)))).all()


def test_every_method_has_its_own_colour() -> None:
    assert set(METHOD_COLORS) == set(METHODS) and len(set(METHOD_COLORS.values())) == len(METHODS)
