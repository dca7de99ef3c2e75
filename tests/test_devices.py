"""Sharded sweeps (xtrap/_devices.py): the runs spread over devices give bitwise the numbers of one device.

The checks run in a subprocess with 4 host CPU devices (``XLA_FLAGS=--xla_force_host_platform_device_count=4``),
so the rest of the suite keeps its one device: every array of a 4-device result is compared with ``array_equal``
to one device running the same chunks (``chunk=``; the last bits depend on the chunk's shape), on an additive-noise
sweep (lr x batch x workers), a finite sum with SAM and momentum (the case XLA's own partitioner moved by an ulp), a
noise law with Nesterov, and past extrapolation, each split so that every device computes runs of its own and the
last device's chunk is padded; an interrupted 4-device run resumes to the one-device numbers; the metadata says
what each ran on; the CLI's ``--devices`` reaches the runs and is range-checked.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap

import pytest

import problems
import xtrap

SCRIPT = textwrap.dedent("""
    import jax, numpy as np, problems, xtrap
    assert len(jax.devices()) == 4
    cases = [(problems.make("quadratic", dim=7), xtrap.extrap_sgd(lr=[0.1, 0.3, 0.5], batch=[1, 4], workers=[1, 2])),
             (problems.make("two-basin"), xtrap.sam(lr=0.05, rho=0.05, batch=[2, 8], momentum=0.9)),
             (problems.make("cosine", dim=5), xtrap.noise_extrap(lr=0.05, law="ball", nesterov=True, momentum=0.5)),
             (problems.make("noisy-quadratic", dim=33), xtrap.past_extrap(lr=[0.2, 0.4], workers=3, batch=5))]
    for prob, m in cases:
        many = xtrap.run(prob, m, steps=31, seeds=13, devices=4, iterates=True)
        assert many.attrs["ran_on"] == "4 cpu devices (cpu) on 1 host"
        chunk, total = many.attrs["chunk"], many["done"].size
        assert 3 * chunk < total <= 4 * chunk, (chunk, total)  # every device computed runs of its own
        one = xtrap.run(prob, m, steps=31, seeds=13, devices=1, iterates=True, chunk=chunk)
        assert one.attrs["ran_on"] == "1 cpu device (cpu) on 1 host"
        for k in one.data:
            assert np.array_equal(one[k], many[k], equal_nan=True), (prob.name, k)
    # the default is every device; use_devices sets the process default
    assert xtrap.run(*cases[0], steps=5).attrs["ran_on"].startswith("4 ")
    xtrap.use_devices(2)
    assert xtrap.run(*cases[0], steps=5).attrs["ran_on"].startswith("2 ")
    xtrap.use_devices(None)
    # an interrupted run on 4 devices resumes (on 4 devices) to the one-device numbers
    prob, m = cases[1]
    calls = []
    def stop_after_one(done, total):
        calls.append(done)
        if len(calls) == 1:
            raise KeyboardInterrupt
    try:
        xtrap.run(prob, m, steps=31, seeds=40, devices=4, out="part.npz", progress=stop_after_one, max_memory_mb=0.01)
    except KeyboardInterrupt:
        pass
    part = xtrap.Result.load("part.npz")
    assert not part.attrs["complete"] and 0 < part["done"].sum() < part["done"].size
    done = xtrap.run(prob, m, steps=31, seeds=40, devices=4, out="part.npz", resume=True, max_memory_mb=0.01)
    assert 4 * done.attrs["chunk"] < done["done"].size  # several rounds of 4 chunks, so one was cut off
    one = xtrap.run(prob, m, steps=31, seeds=40, devices=1, chunk=done.attrs["chunk"])
    for k in one.data:
        assert np.array_equal(one[k], done[k], equal_nan=True), k
    print("ok")
""")


def four_devices(code: str, tmp_path, args=None) -> subprocess.CompletedProcess:
    env = dict(os.environ, XLA_FLAGS="--xla_force_host_platform_device_count=4")
    cmd = [sys.executable, "-c", code] if args is None else [sys.executable, "-m", "xtrap.cli", *args]
    return subprocess.run(cmd, capture_output=True, text=True, env=env, cwd=tmp_path, timeout=900)


@pytest.mark.slow
def test_sharded_runs_are_bitwise_the_one_device_runs(tmp_path):
    proc = four_devices(SCRIPT, tmp_path)
    assert proc.returncode == 0 and proc.stdout.strip().endswith("ok"), proc.stderr[-3000:]


@pytest.mark.slow
def test_the_cli_devices_option(tmp_path):
    run = ["run", "--problem", "quadratic", "--param", "dim=3", "--method", "sgd", "--lr", "0.1", "--steps", "20",
           "--seeds", "5", "--json"]
    outs = {}
    for n in ("1", "4"):
        proc = four_devices("", tmp_path, [*run, "--devices", n])
        assert proc.returncode == 0, proc.stderr
        outs[n] = json.loads(proc.stdout)
    assert outs["1"]["ran_on"].startswith("1 cpu device ") and outs["4"]["ran_on"].startswith("4 cpu devices ")
    for key in ("loss_mean", "dist_mean"):  # 5 runs: one chunk of 5 on one device, chunks of 2 on four
        assert abs(outs["1"]["final"][key] - outs["4"]["final"][key]) <= 1e-12 * abs(outs["1"]["final"][key])
    bad = four_devices("", tmp_path, [*run, "--devices", "5"])
    assert bad.returncode == 2 and bad.stderr.strip() == (
        "xtrap: error: --devices must be in [1, 4] (the cpu devices JAX sees); got 5")


@pytest.mark.slow
def test_devices_is_validated_in_process():
    p = problems.make("quadratic", dim=2)
    for bad in (0, 2, 1.5, True):
        with pytest.raises(problems.ParameterError, match=r"devices must be an integer in \[1, 1\]"):
            xtrap.run(p, xtrap.sgd(lr=0.1), steps=3, devices=bad)
    assert xtrap.run(p, xtrap.sgd(lr=0.1), steps=3).attrs["ran_on"] == "1 cpu device (cpu) on 1 host"
