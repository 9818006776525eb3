"""The run store: end-to-end quick run, the commands over stored runs, interruption, reproducibility."""

import json
import os
import signal
import sqlite3
import sys
import time

import pandas as pd
import pytest
from conftest import ROOT, TINY_TICTACTOE, cli_here, interruptible, sets

from goodhartlab.core.config import resolve
from goodhartlab.core.registry import get
from goodhartlab.runner.execute import execute
from goodhartlab.runner.store import RunStore

TINY = TINY_TICTACTOE  # imported by other test files under this name


def test_quick_preset_has_ten_seeds_per_learner_setting():
    """The quick preset's size, checked on its resolved config (the end-to-end run below is a tiny one)."""
    exp = get("tictactoe")
    cfg = resolve(exp.config, "quick")
    assert cfg.seeds >= 10 and cfg.discoverabilities == ["always", "sequence", "deployment"]


@pytest.mark.slow
def test_quick_run_end_to_end(store):
    # In this process: the command's wiring is under test, not its start-up (tests/test_faults.py and the
    # signal tests below run real processes); the quick preset, shrunk to two learners per setting.
    proc = cli_here("run", "tictactoe", "--preset", "quick", "--quiet", *sets(TINY), store=store)
    assert proc.returncode == 0, proc.stderr
    (rec,) = RunStore(store).list()
    assert rec.status == "complete" and rec.preset == "quick"
    run_dir = store / rec.path
    for name in ("config.json", "environment.json", "measurements.csv", "findings.json", "report.html", "status.json"):
        assert (run_dir / name).exists(), name
    m = pd.read_csv(run_dir / "measurements.csv")
    assert {"proxy", "gold", "rater", "pressure", "series", "seed"} <= set(m.columns)
    learners = pd.read_csv(run_dir / "tables" / "learners.csv")
    seeds = json.loads((run_dir / "config.json").read_text())["config"]["seeds"]
    sizes = learners.groupby(["learner", "discoverability", "explore"])["seed"].nunique()
    assert seeds == 2 and (sizes == seeds).all()  # every setting has its configured seeds
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
        execute(exp, cfg, "quick", store, quiet=True, report=False)
        frames.append(pd.read_csv(store.path(store.list()[0]) / "measurements.csv"))
    pd.testing.assert_frame_equal(frames[0], frames[1])


def _start_long_run(store):
    """A real process (signals are under test) running the test-only ``probe`` experiment, which sleeps between
    its steps: the runner's handling of a signal is what is checked, not any experiment's work."""
    cmd = [sys.executable, "-m", "goodhartlab", "run", "probe", "--quiet", "--out", str(store)]
    cmd += ["--set", "steps=100", "--set", "sleep=2"]
    paths = [str(ROOT / "src"), str(ROOT / "examples"), os.environ.get("PYTHONPATH", "")]
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, paths)), "GOODHARTLAB_PLUGINS": "probe_experiment"}
    proc = interruptible(cmd, env)
    deadline = time.time() + 180  # a hang detector: the cores may be busy with other tests
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
