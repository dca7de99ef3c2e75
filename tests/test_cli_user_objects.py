"""The command line on a user's own objects: --problem/--method/--bound MODULE:NAME, and `xtrap check` on sweeps."""

from __future__ import annotations

import json
import re
import textwrap

import pytest

from xtrap.cli import main

MODULE = textwrap.dedent('''
    import jax.numpy as jnp
    import problems, proofs, xtrap

    MY_SGD = proofs.make_bound("my-sgd", "2*Delta/(eta*T) + L*eta*sigma2/b", measures="avg_grad_norm2",
                               conditions={"step condition": "eta <= 1/L"})
    HALF_C2 = proofs.make_bound("half-c2", "(2*Delta/(eta*T) + L*eta*sigma2/b) / 50", measures="avg_grad_norm2",
                                conditions={"step condition": "eta <= 1/L"})
    NEEDS_R = proofs.make_bound("needs-R", "R**2/(eta*T)", measures="loss_gap")
    EG_ONLY = proofs.make_bound("eg-only", "4*Delta/(eta*T) + 4*L*eta*sigma2/b", measures="avg_grad_norm2",
                                directions=("local",))  # loose, for the scope test

    def bowl(scale=1.0):
        return problems.from_function(lambda w: 0.5 * scale * jnp.sum(w["a"] ** 2), {"a": jnp.ones(3)},
                                      noise=0.5, L=scale, f_star=0.0)

    ESTIMATED = problems.from_function(lambda x: 0.5 * jnp.sum(x ** 2), jnp.ones(2), noise=0.5)

    def lookahead(lr=0.1, **kw):
        return xtrap.method("local", name="my-eg", lr=lr, **kw)

    BROKEN = 1
''')


@pytest.fixture()
def user_module(tmp_path, monkeypatch):
    (tmp_path / "mine.py").write_text(MODULE)
    (tmp_path / "broken.py").write_text("raise RuntimeError('boom at import')\n")
    monkeypatch.chdir(tmp_path)
    yield tmp_path


def _cli(capsys, *argv):
    code = main(list(argv))
    out = capsys.readouterr()
    return code, out.out, out.err


@pytest.mark.slow
def test_check_holds_a_sweep_against_a_users_bound_row_by_row(user_module, capsys) -> None:
    code, out, err = _cli(capsys, "check", "--bound", "mine:MY_SGD", "--problem", "mine:bowl", "--param", "scale=2",
                          "--method", "sgd", "--lr", "0.1,0.25,0.6", "--steps", "100", "--seeds", "64",
                          "--figure", "fig.png", "--fit-rate", "grad_norm2")
    assert code == 0, err
    lines = out.splitlines()
    assert lines[0] == "bound my-sgd (user): avg_grad_norm2 <= 2*Delta/(T*eta) + L*eta*sigma2/b"
    rows = [ln.split() for ln in lines if ln.strip().split(" ")[0] in ("0.1", "0.25", "0.6")]
    assert [r[0] for r in rows] == ["0.1", "0.25", "0.6"] and [r[-1] for r in rows] == ["pass", "pass", "refused"]
    assert any("step condition eta <= 1/L violated: eta=0.6 > 1/L=0.5" in ln for ln in lines)
    assert any(ln.startswith("bound evaluated at Delta=3 (from the given f_star), L=2 (given), T=100, b=1, "
                             "sigma2=0.75; per point: eta") for ln in lines)
    assert sum("rate of grad_norm2: t^" in ln for ln in lines) == 3
    assert (user_module / "fig.png").stat().st_size > 10_000


@pytest.mark.slow
def test_check_json_fails_a_false_bound_and_says_so(user_module, capsys) -> None:
    code, out, _ = _cli(capsys, "check", "--bound", "mine:HALF_C2", "--problem", "quadratic", "--param", "dim=3",
                        "--method", "sgd", "--lr", "0.5", "--steps", "100", "--seeds", "64", "--json")
    payload = json.loads(out)
    assert code == 1 and payload["rows"][0]["check"]["verdict"] == "fail"
    assert payload["bound"] == {"name": "half-c2", "status": "user",
                                "statement": "avg_grad_norm2 <= Delta/(25*T*eta) + L*eta*sigma2/(50*b)"}


@pytest.mark.slow
def test_estimated_constants_hold_for_the_estimates_and_are_labelled(user_module, capsys) -> None:
    code, out, _ = _cli(capsys, "check", "--bound", "mine:MY_SGD", "--problem", "mine:ESTIMATED", "--method", "sgd",
                        "--lr", "0.5", "--steps", "100", "--seeds", "64")
    assert code == 0 and "holds-estimated" in out
    assert "L=1 (estimated)" in out and "Delta=1 (from the estimated f_star)" in out
    code, out, _ = _cli(capsys, "run", "--check", "mine:MY_SGD", "--problem", "mine:ESTIMATED", "--method", "sgd",
                        "--lr", "0.5", "--steps", "50", "--seeds", "40", "--json")
    payload = json.loads(out)
    assert code == 0 and payload["check"]["verdict"] == "holds-estimated"
    assert payload["sources"]["L"] == "estimated" and any("lower bound on the true L" in n for n in payload["notes"])


@pytest.mark.slow
def test_a_users_method_factory_and_catalog_bounds_in_run(user_module, capsys) -> None:
    code, out, err = _cli(capsys, "run", "--problem", "quadratic", "--method", "mine:lookahead", "--lr", "0.2",
                          "--steps", "50", "--seeds", "40", "--check", "mine:EG_ONLY", "--json")
    assert code == 0, err
    payload = json.loads(out)
    assert payload["method"] == "my-eg" and payload["check"]["theorem"] == "eg-only"
    # a catalog bound swept: one verdict per grid point
    code, out, _ = _cli(capsys, "run", "--problem", "quadratic", "--method", "sgd", "--lr", "0.2,0.4", "--steps",
                        "50", "--seeds", "40", "--check", "C2", "--json")
    assert code == 0 and [pt["check"]["verdict"] for pt in json.loads(out)["final"]] == ["pass", "pass"]


@pytest.mark.parametrize("argv, message", [
    (["check", "--bound", "mine:NEEDS_R", "--problem", "mine:bowl", "--method", "sgd"],
     "bound needs-R needs R, which the run does not determine; pass it in params (on the command line: "
     "--bound-param NAME=VALUE)"),
    (["check", "--bound", "mine:EG_ONLY", "--method", "sgd"], "bound eg-only does not cover this run: it is proved "
     "for the direction rules local (local extrapolation (EXTRAP-SGD)); the run uses none"),
    (["check", "--bound", "nope:X", "--method", "sgd"], "--bound: no module named 'nope'"),
    (["check", "--bound", "mine:nothing", "--method", "sgd"], "--bound: mine has no attribute 'nothing'"),
    (["check", "--bound", "mine:bowl", "--method", "sgd"], "--bound mine:bowl must be a proofs.Bound"),
    (["check", "--bound", "broken:X", "--method", "sgd"], "--bound: importing 'broken' failed: RuntimeError: boom"),
    (["check", "--bound", "C2", "--problem", "mine:BROKEN"], "--problem mine:BROKEN must be a problems.Problem or a "
     "function returning one; got int"),
    (["check", "--bound", "C2", "--problem", "mine:bowl", "--param", "width=3"], "--problem mine:bowl: calling it "
     "with ['width'] failed"),
    (["check", "--bound", "C2", "--problem", "mine:ESTIMATED", "--param", "scale=2"], "is a problem instance, not a "
     "factory"),
    (["check", "--bound", "D99", "--method", "sgd"], "--bound must name a catalog theorem with a bound"),
    (["check", "--bound", "C2", "--method", "sgd", "--figure", "f.txt"], "--figure must end in .png or .svg"),
    (["run", "--check", "C2", "--method", "mine:lookahead", "--law", "ball"], "--method mine:lookahead: calling it "
     "with ['law'] failed"),
])
def test_misuse_is_one_line_and_exit_2(user_module, capsys, argv, message) -> None:
    code, out, err = _cli(capsys, *argv)
    assert code == 2 and out == "" and err.count("\n") == 1, err
    assert message in err, err


@pytest.mark.slow
def test_sharpness_at_the_minima_matches_their_hessians_and_writes_the_density(user_module, capsys) -> None:
    code, out, err = _cli(capsys, "sharpness", "--problem", "quadratic", "--param", "dim=6", "--param", "L=3.0",
                          "--json", "--figure", "sd.png")
    assert code == 0, err
    (pt,) = json.loads(out)["points"]
    assert pt["point"] == "global" and pt["estimated"] is True
    assert abs(pt["lambda_max"] - 3.0) <= 1e-8 * 3.0 and pt["exact"]["lambda_max"] == pytest.approx(3.0, rel=1e-12)
    lo, hi = pt["trace_ci"]
    assert lo <= pt["exact"]["trace"] <= hi and (user_module / "sd.png").stat().st_size > 5_000
    (user_module / "pt.txt").write_text("0.5, -0.5, 2.0")
    code, out, _ = _cli(capsys, "sharpness", "--problem", "mine:bowl", "--param", "scale=2", "--at", "pt.txt", "--json")
    assert code == 0 and json.loads(out)["points"][0]["lambda_max"] == pytest.approx(2.0, rel=1e-10)


@pytest.mark.slow
def test_problems_describes_an_instance_with_its_effective_constants(user_module, capsys) -> None:
    code, out, _ = _cli(capsys, "problems", "two-basin", "--param", "sharp_curvature=30", "--json")
    info = json.loads(out)
    sharp = next(m for m in info["minima"] if m["label"] == "sharp")
    assert code == 0 and info["sources"]["L"] == "exact" and info["constants"]["L"] >= sharp["lambda_max"]
    assert sharp["lambda_max"] == pytest.approx(30.0, rel=1e-12)  # a parameter named after a constant gives it
    code, out, _ = _cli(capsys, "problems", "two-basin", "--param", "sharp_well_curvature=40", "--json")
    sharp = next(m for m in json.loads(out)["minima"] if m["label"] == "sharp")
    assert code == 0 and 1.0 < sharp["lambda_max"] < 40.0  # the well's curvature, before smoothing
    code, _, err = _cli(capsys, "problems", "two-basin", "--param", "sharp_curvature=40")
    assert code == 2 and re.search(r"sharp_curvature must be at most 3\d\.\d+ here", err)  # spread 0.1 caps it
    code, out, _ = _cli(capsys, "problems", "mine:ESTIMATED")
    assert code == 0 and "L = 1  (estimated)" in out and "lower bound on the true L" in out


@pytest.mark.parametrize("argv, message", [
    (["sharpness", "--problem", "two-basin", "--at", "middle"], "--at must be a minimum's label (sharp, flat)"),
    (["sharpness", "--problem", "two-basin", "--at", "7"], "--at 7: the problem has 2 known minima"),
    (["sharpness", "--problem", "quadratic", "--at", "pt3.txt"], "--at pt3.txt: the point must have 10 finite"),
    (["problems", "--param", "dim=3"], "--param describes one instance: give the problem NAME too"),
])
def test_sharpness_and_problems_misuse_is_one_line(user_module, capsys, argv, message) -> None:
    (user_module / "pt3.txt").write_text("1 2 3")
    code, out, err = _cli(capsys, *argv)
    assert code == 2 and out == "" and message in err, err


@pytest.mark.slow
def test_a_file_named_twice_is_loaded_once_and_a_failing_factory_is_one_line(user_module, capsys) -> None:
    (user_module / "rules.py").write_text(textwrap.dedent('''
        import dataclasses, typing
        import jax.numpy as jnp, problems, xtrap

        @xtrap.register_direction("test-file-rule")
        def rule(x, state, grads, noise, hyper):
            return -hyper.gamma * state.buf

        @dataclasses.dataclass
        class Options:
            registry: typing.ClassVar[dict] = {}

        PROBLEM = problems.make("quadratic", dim=3)

        def method(lr=0.1, **kw):
            return xtrap.method("test-file-rule", lr=lr, momentum=0.5, **kw)

        def failing(**kw):
            raise ValueError("no data here")
    '''))
    code, out, err = _cli(capsys, "run", "--problem", "rules.py:PROBLEM", "--method", "rules.py:method", "--steps",
                          "10", "--seeds", "2", "--json", "--out", "r.npz")
    assert code == 0, err
    assert json.loads(out)["config"]["direction"] == "test-file-rule" and (user_module / "r.npz").is_file()
    code, out, err = _cli(capsys, "check", "--bound", "mine:MY_SGD", "--problem", "rules.py:failing")
    assert code == 2 and "--problem rules.py:failing: calling it with no parameters failed: ValueError: no data " \
                          "here" in err and err.count("\n") == 1
    code, _, err = _cli(capsys, "check", "--bound", "C2", "--problem", "quadratic", "--method", "sgd", "--steps", "20",
                        "--seeds", "40", "--out", "c.npz")
    assert code == 0 and (user_module / "c.npz").is_file(), err
