"""End to end: the quick preset through the CLI writes a complete run with a report."""

from __future__ import annotations

import subprocess
import sys

import pandas as pd
import pytest
from conftest import cli_here


@pytest.mark.slow
def test_quick_run_through_the_cli(tmp_path):
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "goodhartlab",
            "run",
            "amplification",
            "--preset",
            "quick",
            "--out",
            str(tmp_path),
            "--quiet",
        ],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr
    (run_dir,) = [p for p in tmp_path.iterdir() if p.is_dir() and p.name.startswith("amplification")]
    assert (run_dir / "report.html").exists()
    m = pd.read_csv(run_dir / "measurements.csv")
    assert set(m.series) == {"imitative", "approval"} and set(m.pressure_name) == {"round"}
    last = m[m.pressure == m.pressure.max()].groupby("series").gold.mean()
    # The effect the experiment exists to show, with a margin: imitation learns, approval does not.
    assert last["imitative"] > last["approval"] + 0.3
    optimum = pd.read_csv(run_dir / "tables" / "optimum.csv")
    assert optimum.imitative_aligned_hch.all() and not optimum.approval_aligned_truth.any()


def test_bad_field_is_one_line(tmp_path):
    proc = cli_here("run", "amplification", "--set", "blind_spot=last_digit", store=tmp_path)
    assert proc.returncode == 2 and "last_digit" in proc.stderr and "Traceback" not in proc.stderr
