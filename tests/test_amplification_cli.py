"""End to end: the quick preset, cut to a small config, through the CLI (in process) writes a complete run with a
report."""

from __future__ import annotations

import pandas as pd
import pytest
from conftest import cli_here

from goodhartlab.core.config import resolve
from goodhartlab.experiments.amplification.config import Config

# The quick preset with M narrower, 80 steps a round (of 100) and the supervised and debate baselines cut: every
# stage and report section still runs, and the effect checked below keeps a wide margin (imitative minus approval
# gold at the last round 0.61-0.66 over seeds 0-2; at 60 steps it falls to 0.33).
SMALL = [
    "steps=80",
    "hidden=64",
    "supervised_fractions=[0.5,1.0]",
    "supervised_steps=50",
    "debate_questions=8",
    "transcripts=1",
]


def test_quick_preset_values():
    # The quick preset itself is run by `goodhartlab verify` (its recorded verdicts); here, its values.
    cfg = resolve(Config, "quick")
    assert (cfg.rounds, cfg.steps, cfg.seeds, cfg.hidden, cfg.supervised_steps) == (6, 100, 3, 96, 400)
    assert (cfg.supervised_fractions, cfg.debate_questions, cfg.transcripts) == ([0.25, 0.5, 0.75, 1.0], 40, 3)


@pytest.mark.slow
def test_small_run_through_the_cli(tmp_path):
    sets = [a for s in SMALL for a in ("--set", s)]
    proc = cli_here("run", "amplification", "--preset", "quick", "--quiet", *sets, store=tmp_path)
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
