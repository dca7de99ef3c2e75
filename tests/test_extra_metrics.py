"""A problem's extra_metrics are recorded by xtrap.run beside loss, grad_norm2 and dist (issue 14: the test loss and
accuracy of a real network as the generalization measure).

The recorded values are held against the metric evaluated in NumPy on the recorded iterates (an independent
computation), NaN after a divergence, and bad metrics are refused with the problem and the metric named.
"""

from __future__ import annotations

import dataclasses

import jax.numpy as jnp
import numpy as np
import pytest

import problems
import xtrap
from xtrap.result import Result

BASE = problems.make("quadratic", dim=4, mu=0.2, L=1.0)
FIELDS = {f.name: getattr(BASE, f.name) for f in dataclasses.fields(BASE)}


@problems.pytree_dataclass
class Probed(problems.Quadratic):
    """The quadratic with two held-out-style measures: the first coordinate and the fraction of positive ones."""

    def extra_metrics(self, x):
        return {"first": x[0], "positive": jnp.mean(x > 0)}


def test_extra_metrics_recorded_at_every_record_step(tmp_path):
    p = Probed(**FIELDS)
    m = xtrap.sgd(lr=[0.3, 2.5], batch=2)  # 2.5 > 2/L: the second runs diverge
    r = xtrap.run(p, m, steps=40, seeds=3, record_every=5, iterates=True, diverge_radius=1e3)
    assert r.attrs["extra_metrics"] == ["first", "positive"]
    assert r.dims["first"] == r.dims["loss"] == ("lr", "seed", "record")
    it = r["iterates"]
    live = ~np.isnan(it[..., 0])
    np.testing.assert_allclose(r["first"][live], it[..., 0][live], rtol=0, atol=0)
    np.testing.assert_allclose(r["positive"][live], (it > 0).mean(-1)[live], rtol=0, atol=1e-15)
    assert r["diverged"][1].all() and not r["diverged"][0].any()
    assert np.isnan(r["first"][~live]).all() and (~live).any()  # never a number after the divergence
    r.save(tmp_path / "r.npz")
    back = Result.load(tmp_path / "r.npz")
    np.testing.assert_array_equal(back["positive"], r["positive"])
    assert back.dims["positive"] == r.dims["positive"]


def test_a_problem_without_extra_metrics_records_none():
    r = xtrap.run(BASE, xtrap.sgd(lr=0.1), steps=5)
    assert r.attrs["extra_metrics"] == [] and set(r.data) >= {"loss", "grad_norm2", "dist"}


@pytest.mark.parametrize("metrics,message", [
    (lambda x: {"loss": x[0]}, "'loss' is a name xtrap.run records itself"),
    (lambda x: {"v": x}, "'v' must be a numeric scalar"),
    (lambda x: [x[0]], "must return a dict of names to scalars"),
    (lambda x: {"v": float(x[0])}, "must be JAX-traceable"),
])
def test_bad_extra_metrics_are_refused(metrics, message):
    @problems.pytree_dataclass
    class Bad(problems.Quadratic):
        def extra_metrics(self, x):
            return metrics(x)

    with pytest.raises(problems.ParameterError, match=message):
        xtrap.run(Bad(**FIELDS), xtrap.sgd(lr=0.1), steps=5)


def test_summaries_carry_the_extra_metrics_and_say_why_dist_is_null():
    from analysis import summarize

    p = Probed(**FIELDS)
    r = xtrap.run(p, xtrap.sgd(lr=[0.3, 2.5], batch=2), steps=40, seeds=3, record_every=5, diverge_radius=1e3)
    rows = summarize(r)
    live = ~r["diverged"][0]
    assert rows[0]["first_mean"] == pytest.approx(np.mean(r["first"][0, live, -1]), rel=1e-14)
    assert rows[0]["first_se"] == pytest.approx(np.std(r["first"][0, live, -1], ddof=1) / np.sqrt(live.sum()),
                                                rel=1e-12)
    assert rows[1]["first_mean"] is None and "first_mean is null: every run diverged" in rows[1]["notes"]
    none_known = problems.from_function(lambda x: 0.5 * jnp.sum(x ** 2), jnp.ones(2), noise=0.1, L=1.0, minima=())
    row = summarize(xtrap.run(none_known, xtrap.sgd(lr=0.1), steps=5, seeds=2))[0]
    assert row["dist_mean"] is None and "dist_mean is null: no minimum of this problem is known" in row["notes"]


@pytest.mark.slow
def test_the_run_command_shows_the_extra_metrics_and_labels_estimated_constants(capsys):
    from xtrap.cli import main

    assert main(["run", "--problem", "digits", "--param", "hidden=2", "--param", "estimate_points=1", "--method",
                 "sgd", "--lr", "0.3", "--batch", "8", "--steps", "20", "--seeds", "2", "--no-cache"]) == 0
    out = capsys.readouterr().out
    assert "L=" in out and "(estimated)" in out.splitlines()[0] and "mu=nan (unknown)" in out
    assert "test_accuracy (x_T)" in out and "no minimum of this problem is known" in out
