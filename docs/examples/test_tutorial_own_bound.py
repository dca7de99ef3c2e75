"""Tutorial: is my bound right? (docs/own-objects.md). Run by the README's test command.

I state a bound for mini-batch SGD in one line, hold a sweep against it point by point, see it pass where its
condition holds and be refused where it does not, catch a bound that is too good to be true, and plot measured
against bound over the horizon T. The same bound works from the command line:
``xtrap check --bound mybounds:MY_SGD --problem quadratic --method sgd --lr 0.2,0.5,1.5``.
"""

import pytest

import problems
import proofs
import xtrap
from analysis.checks import check_each, horizon_series
from xtrap.testing import ClaimFailed, assert_obeys

MY_SGD = proofs.make_bound("my-sgd", "2*Delta/(eta*T) + L*eta*sigma2/b", measures="avg_grad_norm2",
                           conditions={"step condition": "eta <= 1/L"})
TOO_GOOD = proofs.make_bound("too-good", "2*Delta/(eta*T) + L*eta*sigma2/(10*b)", measures="avg_grad_norm2")

quad = problems.make("quadratic", dim=5, L=1.0, mu=0.1, sigma2=1.0)


@pytest.mark.slow
def test_a_sweep_held_against_my_bound_point_by_point():
    r = xtrap.run(quad, xtrap.sgd(lr=[0.2, 0.5, 1.5], batch=4), steps=200, seeds=64)
    verdicts = {point["lr"]: res.verdict for point, res in check_each(r, MY_SGD)}
    assert verdicts == {0.2: "pass", 0.5: "pass", 1.5: "refused"}  # eta = 1.5 > 1/L: outside the statement


def test_a_bound_too_good_to_be_true_is_caught():
    with pytest.raises(ClaimFailed, match="too-good"):
        assert_obeys((xtrap.sgd(lr=0.5, batch=1), quad), TOO_GOOD, steps=200, seeds=256)


def test_measured_against_bound_over_the_horizon(figure_dir):
    r = xtrap.run(quad, xtrap.sgd(lr=0.5, batch=4), steps=200, seeds=64, record_every=1)
    s = horizon_series(r, MY_SGD)
    assert s.steps[0] == 1 and s.steps[-1] == 200
    assert (s.mean - 4 * s.se <= s.bound).all()  # below the bound at every horizon, within 4 SE

    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(5.5, 3.8))
    ax.plot(s.steps, s.mean, label=f"measured {s.quantity} (mean of 64 runs)")
    ax.fill_between(s.steps, s.mean - 4 * s.se, s.mean + 4 * s.se, alpha=0.3, label="± 4 SE")
    ax.plot(s.steps, s.bound, "k--", label="my bound 2Δ/(ηT) + Lησ²/b")
    ax.set(xscale="log", yscale="log", xlabel="horizon T", title="SGD, η = 0.5, b = 4, on a quadratic")
    ax.legend(fontsize=8)
    fig.savefig(figure_dir / "tutorial_bound_horizon.png", dpi=110, bbox_inches="tight")
    plt.close(fig)
    assert (figure_dir / "tutorial_bound_horizon.png").stat().st_size > 10_000
