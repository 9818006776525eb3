"""The preference-shift experiment end to end: the quick preset in-process, and bad input at the CLI."""

import json

import pandas as pd
import pytest
from conftest import cli_here

from goodhartlab.core.config import resolve
from goodhartlab.core.errors import UserError
from goodhartlab.core.records import VERDICTS
from goodhartlab.core.registry import get
from goodhartlab.runner.execute import execute
from goodhartlab.runner.store import RunStore


def test_bad_config_is_one_line_exit_2(store):
    proc = cli_here("run", "preference-shift", "--set", "bias=[1.0]", "--quiet", store=store)
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
    assert "bias" in proc.stderr and len(proc.stderr.strip().splitlines()) == 1
    exp = get("preference-shift")
    with pytest.raises(UserError, match="resolution"):
        resolve(exp.config, None, None, ["bias=[0, 0, 0, 0]", "resolution=100"])
    with pytest.raises(UserError, match="quick"):
        resolve(exp.config, "quik")


@pytest.mark.slow
def test_quick_preset_end_to_end_in_process(store):
    exp = get("preference-shift")
    cfg = resolve(exp.config, "quick")
    assert cfg.users >= 3
    run_id, report = execute(exp, cfg, "quick", RunStore(store), quiet=True)
    run_dir = report.parent
    assert json.loads((run_dir / "status.json").read_text())["status"] == "complete"
    m = pd.read_csv(run_dir / "measurements.csv")
    assert set(m.pressure_name) == {"depth", "eta", "horizon"}
    assert m[["proxy", "rater", "gold"]].notna().all().all() and (m["shift"] >= 0).all()
    # At η = 0 nothing moves: every agent induces no shift and rater equals gold.
    still = m[(m.pressure_name == "eta") & (m.pressure == 0.0)]
    assert (still["shift"].abs() < 1e-9).all() and ((still.rater - still.gold).abs() < 1e-9).all()
    episodes = pd.read_csv(run_dir / "tables" / "episodes.csv")
    assert episodes.user.nunique() == cfg.users
    findings = json.loads((run_dir / "findings.json").read_text())
    assert len(findings) >= 5 and all(f["verdict"] in VERDICTS for f in findings)
    assert all(e["unit"] == "user" for f in findings for e in f["evidence"].values())
    # The strongest effect of the quick preset: the largest penalty cuts the shift (a margin, not a tuned value).
    penalty = next(f for f in findings if f["title"].startswith("Shift penalty"))
    assert penalty["verdict"] == "holds"
    for name in ("pressure", "trajectories"):
        assert (run_dir / "figures" / f"{name}.png").exists()
    assert (run_dir / "report.html").exists() and run_id


def test_tiny_run_without_trajectories_or_pressure_sweeps_reports(store):
    exp = get("preference-shift")
    cfg = resolve(
        exp.config,
        None,
        None,
        [
            "users=3",
            "trajectories=0",
            "etas=[0.1]",
            "horizons=[6]",
            "horizon=6",
            "depths=[1]",
            "resolution=8",
            "lambdas=[1.0]",
        ],
    )
    _, report = execute(exp, cfg, "default", RunStore(store), quiet=True)
    findings = json.loads((report.parent / "findings.json").read_text())
    assert not any(f["title"].startswith("Pressure") for f in findings)  # one value per axis: no trend claimed
    assert not (report.parent / "figures" / "trajectories.png").exists()
