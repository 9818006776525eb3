"""The run store: end-to-end quick run, the commands over stored runs, interruption, reproducibility."""

import json
import signal
import sqlite3
import subprocess
import sys
import time

import pandas as pd
import pytest
from conftest import ROOT, cli, cli_here

from goodhartlab.core.config import resolve
from goodhartlab.core.registry import get
from goodhartlab.runner.execute import execute
from goodhartlab.runner.store import RunStore

TINY = [
    "q_episodes=60",
    "pg_episodes=32",
    "seeds=2",
    "eval_episodes=10",
    "checkpoints=2",
    "discoverabilities=[always, deployment]",
    "q_epsilons=[0.1]",
    "pg_entropies=[0.0]",
    "workers=1",
]


@pytest.mark.slow
def test_quick_run_end_to_end(store):
    proc = cli("run", "tictactoe", "--preset", "quick", "--quiet", store=store)
    assert proc.returncode == 0, proc.stderr
    (rec,) = RunStore(store).list()
    assert rec.status == "complete" and rec.preset == "quick"
    run_dir = store / rec.path
    for name in ("config.json", "environment.json", "measurements.csv", "findings.json", "report.html", "status.json"):
        assert (run_dir / name).exists(), name
    m = pd.read_csv(run_dir / "measurements.csv")
    assert {"proxy", "gold", "rater", "pressure", "series", "seed"} <= set(m.columns)
    learners = pd.read_csv(run_dir / "tables" / "learners.csv")
    assert learners.groupby(["learner", "discoverability", "explore"]).size().min() >= 10  # ≥10 seeds per setting
    html = (run_dir / "report.html").read_text()
    assert html.count("data:image/png;base64,") >= 4
    # the verdict table leads: the seed reward's exact check fails (Everitt-style counterexamples exist), every
    # reward-optimal register policy tampers; learner shares carry Wilson intervals over seeds
    findings = {f["claim"]: f["verdict"] for f in json.loads((run_dir / "findings.json").read_text()) if f["claim"]}
    assert (
        findings["The win/lose reward at γ=1 is intent-optimal at optimum against every opponent X can beat"] == "fails"
    )
    assert (
        findings["Wherever tampering is available on the machine, every reward-optimal policy of the register tampers"]
        == "holds"
    )
    assert "v-fails" in html and "Wilson" in html
    assert (store / "index.html").exists() and rec.id in (store / "index.html").read_text()

    listing = cli_here("runs", store=store)
    assert listing.returncode == 0 and rec.id in listing.stdout and "complete" in listing.stdout
    shown = cli_here("show", rec.id[:14], store=store)
    assert shown.returncode == 0 and "seed" in shown.stdout and "The seed reward" in shown.stdout
    before = (run_dir / "measurements.csv").read_bytes()
    (run_dir / "report.html").unlink()
    rebuilt = cli_here("report", "latest", store=store)
    assert rebuilt.returncode == 0 and (run_dir / "report.html").exists()
    assert (run_dir / "measurements.csv").read_bytes() == before  # rebuilt from stored data, not re-run


def test_same_config_same_measurements(tmp_path):
    exp = get("tictactoe")
    cfg = resolve(exp.config, "quick", None, TINY, seed=7)
    frames = []
    for i in range(2):
        store = RunStore(tmp_path / f"s{i}")
        execute(exp, cfg, "quick", store, quiet=True)
        frames.append(pd.read_csv(store.path(store.list()[0]) / "measurements.csv"))
    pd.testing.assert_frame_equal(frames[0], frames[1])


def _start_long_run(store):
    cmd = [
        sys.executable,
        "-m",
        "goodhartlab",
        "run",
        "tictactoe",
        "--quiet",
        "--out",
        str(store),
        "--set",
        "q_episodes=200000",
        "--set",
        "workers=1",
    ]
    proc = subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.time() + 60
    while time.time() < deadline:
        runs = RunStore(store).list() if (store / "index.sqlite").exists() else []
        if runs and (store / runs[0].path / "config.json").exists():
            time.sleep(1.0)
            return proc
        time.sleep(0.2)
    proc.kill()
    raise AssertionError("run did not start")


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGKILL])
def test_interrupted_run_is_never_complete(store, sig):
    proc = _start_long_run(store)
    proc.send_signal(sig)
    _, err = proc.communicate(timeout=180)  # a hang detector, not a timing: the cores may be busy with other tests
    (rec,) = RunStore(store).list()
    assert rec.status == "interrupted"
    if sig == signal.SIGINT:
        assert proc.returncode == 130 and "Traceback" not in err
        assert json.loads((store / rec.path / "status.json").read_text())["status"] == "interrupted"
    assert not (store / rec.path / "report.html").exists()
    with sqlite3.connect(store / "index.sqlite") as con:  # the index stays readable
        assert con.execute("SELECT count(*) FROM runs").fetchone() == (1,)
    listing = cli_here("runs", store=store)
    assert listing.returncode == 0 and "interrupted" in listing.stdout
    refused = cli_here("report", rec.id, store=store)
    assert refused.returncode == 2 and "interrupted" in refused.stderr
