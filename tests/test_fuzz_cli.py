"""Fuzz: generated command lines and API calls, valid and invalid, run in-process.

Every outcome must be one of: exit 0 (or 1 for a failed check) with, under ``--json``, exactly one strict JSON
object on stdout; or exit 2 with exactly one line on stderr, ``xtrap: error: ...``, and no traceback. The API
must raise ``problems.ParameterError`` (or ``proofs.AssumptionError``) for bad input, never an AttributeError,
TypeError, OverflowError or a bare ValueError from deep inside. Valid runs are kept small (a few steps and
seeds) so that the time bound holds; ``HYPOTHESIS_PROFILE=thorough`` runs many more examples.
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import analysis
import problems
import proofs
import xtrap
from xtrap.cli import main

THOROUGH = os.environ.get("HYPOTHESIS_PROFILE") == "thorough"
CLI_EXAMPLES = 2500 if THOROUGH else 60
API_EXAMPLES = 600 if THOROUGH else 40

WEIRD_INTS = ["0", "-1", "2147483648", "4294967296", "9223372036854775808", "1e400", "1.5", "nan", "", " ", "٣",
              "0x10", "true"]
WEIRD_FLOATS = ["nan", "inf", "-inf", "1e300", "-0.1", "0", "true", "abc", "0.1,,0.2", "0.1,", ",", "1e-50", "٠.٥"]
SMALL = {"--steps": ["1", "5", "12"], "--seeds": ["1", "2", "3"], "--seed": ["0", "7", "9223372036854775807"],
         "--batch": ["1", "2", "1,2"], "--workers": ["1", "2"], "--lr": ["0.1", "0.05,0.2", "2.5"],
         "--extrap-lr": ["0.1", "lr", "0"], "--rho": ["0.05", "0"], "--momentum": ["0", "0.5"],
         "--record-every": ["1", "3"], "--x0": ["1,1", "0.5"], "--warmup": ["0", "3"], "--inverse-t0": ["1", "10"]}
FLAGS = ["--nesterov", "--same-batch", "--fresh-batch", "--exact", "--json", "--force", "--resume"]
PARAMS = ["dim=2", "dim=0", "L=4", "L=nan", "rotate=maybe", "rotate=false", "nonsense=1", "dim", "=3", "L=1,,2",
          "sigma2=1e300", "noise=1e300", "n=3", "mu=2"]


def _strict_json(text: str) -> object:
    def no_constant(name: str) -> None:
        raise ValueError(f"not strict JSON: {name}")
    return json.loads(text, parse_constant=no_constant)


@st.composite
def run_argv(draw: st.DrawFn, tmp: Path) -> list[str]:
    argv = ["run", "--problem", draw(st.sampled_from(["quadratic", "cosine", "two-basin", "huber", "nope", ""])),
            "--method", draw(st.sampled_from(list(xtrap.METHODS) + ["adam", "SGD"]))]
    argv += ["--steps", draw(st.sampled_from(SMALL["--steps"] + WEIRD_INTS[:4]))]
    argv += ["--seeds", draw(st.sampled_from(SMALL["--seeds"] + WEIRD_INTS[1:6]))]
    for option, values in SMALL.items():
        if option in ("--steps", "--seeds") or not draw(st.booleans()):
            continue
        weird = WEIRD_INTS if option in ("--seed", "--batch", "--workers", "--record-every") else WEIRD_FLOATS
        argv += [option, draw(st.sampled_from(values + weird))]
    for flag in FLAGS:
        if draw(st.integers(0, 5)) == 0:
            argv.append(flag)
    for _ in range(draw(st.integers(0, 2))):
        argv += ["--param", draw(st.sampled_from(PARAMS))]
    if draw(st.booleans()):
        argv += ["--check", draw(st.sampled_from(["C2", "D1", "B1", "A2.EG", "D1.floor", "Z9", "C3", "H4"]))]
    if draw(st.integers(0, 3)) == 0:
        argv += ["--quantity", draw(st.sampled_from(["dist", "avg_grad_norm2", "nope"]))]
    if draw(st.integers(0, 2)) == 0:
        target = draw(st.sampled_from(["new.npz", "dir", "link", "", "/", ".", "/proc/xtrap.npz", "/dev/null",
                                       "x" * 300, "sub/deeper/r.npz", "plain.txt"]))
        argv += ["--out", target if target in ("", "/", ".", "/proc/xtrap.npz", "/dev/null") or target.startswith("x")
                 else str(tmp / target)]
        if draw(st.integers(0, 4)) == 0:
            argv += ["--out", str(tmp / "twice.npz")]
    if draw(st.integers(0, 5)) == 0:
        argv.append(draw(st.sampled_from(["--bogus", "extra", "--lr"])))
    return argv


@st.composite
def other_argv(draw: st.DrawFn) -> list[str]:
    cmd = draw(st.sampled_from(["problems", "methods", "proofs", "frobnicate", "verify", "sharp-flat", ""]))
    argv = [cmd] if cmd else []
    if cmd == "proofs":
        argv += draw(st.lists(st.sampled_from(["A1.GD", "A2", "NOPE", "D1"]), max_size=2))
    if cmd in ("verify", "sharp-flat"):  # only the cheap, refused forms: a bad --out or a bad flag
        argv += draw(st.sampled_from([["--out", ""], ["--out", "/dev/null"], ["--quick", "--full"], ["--bogus"],
                                      ["--out", "/proc/x"], ["--out", "a", "--out", "b"]]))
    if draw(st.booleans()):
        argv.append("--json")
    return argv


def _outcome(argv: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    t0 = time.perf_counter()
    code = main(argv)
    out, err = capsys.readouterr()
    assert time.perf_counter() - t0 < 120, f"took too long: {argv}"
    assert "Traceback" not in err and "Traceback" not in out, (argv, err)
    if code == 2:
        assert err.count("\n") == 1 and err.startswith("xtrap: error: "), (argv, err)
        return
    assert code in (0, 1), (argv, code, err)
    if "--json" in argv:
        value = _strict_json(out)
        assert isinstance(value, dict), (argv, out[:200])


@pytest.fixture(scope="module")
def playground(tmp_path_factory: pytest.TempPathFactory) -> Path:
    tmp = tmp_path_factory.mktemp("fuzz")
    (tmp / "dir").mkdir()
    (tmp / "plain.txt").write_text("not a result")
    (tmp / "link").symlink_to(tmp / "plain.txt")
    return tmp


@pytest.mark.slow
def test_fuzzed_command_lines(playground: Path, capsys: pytest.CaptureFixture[str]) -> None:
    @settings(max_examples=CLI_EXAMPLES, deadline=None, derandomize=True,
              suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture,
                                     HealthCheck.data_too_large])
    @given(argv=st.one_of(run_argv(playground), other_argv()))
    def one(argv: list[str]) -> None:
        _outcome(argv, capsys)
        assert (playground / "plain.txt").read_text() == "not a result"  # never replaced without --force
    one()


API_BAD = [
    lambda: xtrap.run(None, xtrap.sgd()),
    lambda: xtrap.run(problems.make("quadratic"), "sgd"),
    lambda: xtrap.run(problems.make("quadratic"), xtrap.sgd(), seed=2**64),
    lambda: xtrap.run(problems.make("quadratic"), xtrap.sgd(), steps=2**40),
    lambda: xtrap.run(problems.make("quadratic"), xtrap.sgd(), x0=[np.nan] * 10),
    lambda: xtrap.run(problems.make("quadratic"), xtrap.sgd(), resume=True),
    lambda: xtrap.run(problems.make("quadratic"), xtrap.sgd(lr=1e-50), dtype="float32"),  # would round to 0
    lambda: xtrap.sgd(lr=True),
    lambda: xtrap.sgd(nesterov="no"),
    lambda: xtrap.sgd(batch=2**40),
    lambda: xtrap.make_method(3),
    lambda: problems.make_quadratic("abc"),
    lambda: problems.make_quadratic([1.0], f_star=np.inf),
    lambda: problems.make("quadratic", rotate="maybe"),
    lambda: problems.make("cosine", noise=1e300),
    lambda: analysis.check(None, proofs.catalog()["C2"].bound),
    lambda: xtrap.Result.load("/nonexistent/file.npz"),
]


@pytest.mark.parametrize("call", API_BAD, ids=range(len(API_BAD)))
def test_bad_api_calls_raise_named_errors(call) -> None:
    with pytest.raises((problems.ParameterError, proofs.AssumptionError)) as info:
        call()
    assert str(info.value)


VALUES = st.one_of(st.none(), st.booleans(), st.text(max_size=4), st.integers(-2**70, 2**70),
                   st.floats(allow_nan=True, allow_infinity=True), st.lists(st.floats(-1, 1), max_size=3))


@settings(max_examples=API_EXAMPLES, deadline=None, derandomize=True)
@given(family=st.sampled_from(problems.names()), key=st.sampled_from(["dim", "L", "mu", "noise", "seed", "rotate",
                                                                     "n", "T", "sigma2", "spread", "omega"]),
       value=VALUES, method=st.sampled_from(list(xtrap.METHODS)),
       option=st.sampled_from(["lr", "batch", "workers", "momentum", "rho", "extrap_lr", "same_batch", "nesterov"]),
       option_value=VALUES)
def test_fuzzed_api_arguments_are_accepted_or_named(family: str, key: str, value: object, method: str, option: str,
                                                   option_value: object) -> None:
    for call in (lambda: problems.make(family, **{key: value}), lambda: xtrap.make_method(method, **{option: option_value})):
        try:
            call()
        except (problems.ParameterError, proofs.AssumptionError) as err:
            assert str(err)
