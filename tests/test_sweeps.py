"""Sweeps: grid expansion and run identity, the local and Ray backends, and the failure modes.

The swept experiment is ``probe`` (examples/probe_experiment.py), loaded through
GOODHARTLAB_PLUGINS, whose runs can be told to raise, record NaN, fail on early attempts or sleep.
"""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest
from conftest import ROOT, cli_here, use_plugins

# This checkout's src first (the subprocesses must run the code under test, not an installed copy), then the
# example plugin (examples/probe_experiment.py) and the test-only plugins (tests/plugins).
PLUGIN_ENV = {
    "PYTHONPATH": os.pathsep.join(
        filter(
            None,
            [str(ROOT / "src"), str(ROOT / "examples"), str(ROOT / "tests" / "plugins"), os.environ.get("PYTHONPATH")],
        )
    ),
    "GOODHARTLAB_PLUGINS": "probe_experiment",
}


def gl(*args: str, store: Path, timeout: float = 300) -> subprocess.CompletedProcess:
    env = {**os.environ, "COLUMNS": "200", **PLUGIN_ENV}
    return subprocess.run(
        [sys.executable, "-m", "goodhartlab", *args, "--out", str(store)],
        capture_output=True,
        text=True,
        timeout=timeout,
        env=env,
        cwd=ROOT,
    )


def index(store: Path, sql: str) -> list[tuple]:
    con = sqlite3.connect(store / "index.sqlite")
    try:
        return con.execute(sql).fetchall()
    finally:
        con.close()


@pytest.fixture(autouse=True)
def _plugin(monkeypatch):
    use_plugins(monkeypatch, "probe_experiment")


def here(*args: str, store: Path) -> subprocess.CompletedProcess:
    """The command in this process (its wiring is under test, not its start-up); the workers a sweep starts are
    real processes all the same. `gl` runs it in a subprocess where the process itself is under test."""
    return cli_here(*args, store=store)


# -- grid expansion and identity ------------------------------------------------------------------


def test_grid_expands_product_times_seeds_with_stable_identities():
    from goodhartlab.core.registry import get
    from goodhartlab.runner.grid import SweepSpec, expand, parse_grid

    grid = parse_grid(["x=1,2.5,4", "steps=3,5"])
    assert grid == {"x": [1, 2.5, 4], "steps": [3, 5]}
    spec = SweepSpec("probe", "default", grid, seeds=2, base_seed=10)
    items = expand(get("probe"), spec)
    assert len(items) == 3 * 2 * 2
    assert [it.seed for it in items[:4]] == [10, 11, 10, 11]
    assert items[0].config.x == 1 and items[0].config.steps == 3
    identities = [it.identity for it in items]
    assert len(set(identities)) == len(items)  # seed and every field enter the identity
    again = expand(get("probe"), spec)
    assert identities == [it.identity for it in again]  # same request, same identities


def test_grid_splits_values_outside_brackets_only():
    from goodhartlab.runner.grid import parse_grid

    assert parse_grid(["a=[1,2],[3]"]) == {"a": [[1, 2], [3]]}


# Bad grids and sweep options: tests/test_cli_validation.py (in-process, one subprocess each before).


# -- the local backend ---------------------------------------------------------------------------


def test_local_backend_two_workers_then_reuse_then_force(tmp_path):
    store = tmp_path / "runs"
    res = here("sweep", "probe", "--grid", "x=1,2", "--seeds", "2", "--workers", "2", store=store)
    assert res.returncode == 0, res.stderr
    assert "4 done (0 already complete" in res.stdout
    runs = index(store, "SELECT id, status, pid FROM runs")
    assert len(runs) == 4 and {r[1] for r in runs} == {"complete"}
    assert len({r[2] for r in runs}) == 2  # two worker processes shared the runs
    for run_id, _, _ in runs:  # results stored; a run's own report is built on request
        assert (store / run_id / "measurements.csv").exists() and not (store / run_id / "report.html").exists()
    rebuilt = here("report", runs[0][0], store=store)
    assert rebuilt.returncode == 0 and (store / runs[0][0] / "report.html").exists(), rebuilt.stderr
    sweep_dirs = list((store / "sweeps").iterdir())
    assert len(sweep_dirs) == 1
    report = (sweep_dirs[0] / "report.html").read_text()
    assert "x=1" in report and "x=2" in report and "intervals over seeds" in report
    assert (sweep_dirs[0] / "figures" / "sweep-probe.png").exists()

    again = here("sweep", "probe", "--grid", "x=1,2", "--seeds", "2", store=store)
    assert again.returncode == 0 and "4 done (4 already complete" in again.stdout
    assert len(index(store, "SELECT id FROM runs")) == 4  # nothing ran twice

    forced = here("sweep", "probe", "--grid", "x=1", "--seeds", "1", "--force", "--workers", "1", store=store)
    assert forced.returncode == 0 and "1 done (0 already complete" in forced.stdout
    assert len(index(store, "SELECT id FROM runs")) == 5

    listing = here("sweeps", store=store).stdout
    assert listing.count("complete") == 3 and "probe" in listing


def test_seed_aggregated_report_numbers_match_the_runs(tmp_path):
    import pandas as pd

    from goodhartlab.runner.grid import SweepSpec
    from goodhartlab.runner.store import RunStore
    from goodhartlab.runner.sweep import SweepOptions, run_sweep

    store = RunStore(tmp_path / "runs")
    spec = SweepSpec("probe", "default", {"x": [3]}, seeds=3, base_seed=0)
    summary = run_sweep(spec, store, SweepOptions(workers=1, compare="x", quiet=True))
    assert summary.done == 3
    finals = [pd.read_csv(store.path(r) / "measurements.csv")["proxy"].iloc[-1] for r in store.list()]
    html = summary.report.read_text()
    assert f"{sum(finals) / 3:.3g}" in html  # the table's mean at the highest pressure


# -- failure modes -------------------------------------------------------------------------------


def test_raising_and_nan_runs_are_failed_and_the_sweep_goes_on(tmp_path):
    store = tmp_path / "runs"
    res = here("sweep", "probe", "--grid", "mode=ok,raise,nan", "--retries", "1", "--workers", "1", store=store)
    assert res.returncode == 1, res.stderr
    assert "1 done" in res.stdout and "2 failed" in res.stdout
    assert "2 run(s) failed" in res.stderr and "Traceback" not in res.stderr
    items = dict(index(store, "SELECT point, error FROM sweep_items"))
    assert "ValueError: the probe was told to raise" in items['{"mode": "raise"}']
    assert "NonFiniteMeasurement" in items['{"mode": "nan"}'] and "gold=nan" in items['{"mode": "nan"}']
    attempts = dict(index(store, "SELECT point, attempts FROM sweep_items"))
    assert attempts == {'{"mode": "ok"}': 1, '{"mode": "raise"}': 2, '{"mode": "nan"}': 2}
    statuses = [s for (s,) in index(store, "SELECT status FROM runs")]
    assert sorted(statuses) == ["complete"] + ["failed"] * 4  # every attempt is an ordinary, recorded run
    report = next((store / "sweeps").iterdir()) / "report.html"
    assert "told to raise" in report.read_text()


def test_a_run_that_fails_once_is_retried(tmp_path):
    store = tmp_path / "runs"
    res = here(
        "sweep",
        "probe",
        "--set",
        "fail_first=1",
        "--set",
        f"marker_dir={tmp_path / 'marks'}",
        "--seeds",
        "2",
        "--retries",
        "1",
        "--workers",
        "1",
        store=store,
    )
    assert res.returncode == 0, res.stderr
    assert index(store, "SELECT status, attempts FROM sweep_items") == [("done", 2), ("done", 2)]


def test_nan_in_a_single_run_is_one_line_and_recorded_failed(tmp_path):
    store = tmp_path / "runs"
    res = here("run", "probe", "--set", "mode=nan", store=store)
    assert res.returncode == 1 and "Traceback" not in res.stderr
    assert "gold=nan" in res.stderr
    assert [s for (s,) in index(store, "SELECT status FROM runs")] == ["failed"]


def test_resume_after_the_launcher_is_killed(tmp_path):
    """SIGKILL the launcher mid-sweep; resume; every planned run ends complete exactly once."""
    store = tmp_path / "runs"
    env = {**os.environ, **PLUGIN_ENV}
    cmd = [
        sys.executable,
        "-m",
        "goodhartlab",
        "sweep",
        "probe",
        "--grid",
        "x=1,2,3",
        "--seeds",
        "2",
        "--set",
        "sleep=0.4",
        "--workers",
        "2",
        "--quiet",
        "--out",
        str(store),
    ]
    launcher = subprocess.Popen(cmd, env=env, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.time() + 240
    while time.time() < deadline:  # wait until some runs are complete and others are mid-run
        time.sleep(0.3)
        if (store / "index.sqlite").exists():
            try:
                rows = index(store, "SELECT status FROM runs")
            except sqlite3.OperationalError:
                continue
            if sum(s == "complete" for (s,) in rows) >= 1 and any(s == "running" for (s,) in rows):
                break
    else:
        launcher.kill()
        pytest.fail("the sweep never got going")
    launcher.send_signal(signal.SIGKILL)
    launcher.wait(timeout=30)
    time.sleep(1.0)  # the workers die with the launcher (PR_SET_PDEATHSIG)
    completed_before = {r for (r,) in index(store, "SELECT id FROM runs WHERE status='complete'")}

    listing = here("sweeps", store=store).stdout
    assert "interrupted" in listing
    (sweep_id,) = [line.split()[-1] for line in listing.splitlines()[1:]]
    resumed = here("sweep", "--resume", sweep_id, "--workers", "1", store=store)
    assert resumed.returncode == 0, resumed.stderr
    assert f"6 done ({len(completed_before)} already complete" in resumed.stdout

    items = index(store, "SELECT status, run_id, identity FROM sweep_items")
    assert all(status == "done" for status, _, _ in items)
    assert len({run_id for _, run_id, _ in items}) == 6  # six distinct runs, none counted twice
    complete = index(store, "SELECT config_hash FROM runs WHERE status='complete'")
    assert sorted(h for (h,) in complete) == sorted(identity for _, _, identity in items)  # none ran twice
    assert completed_before <= {run_id for _, run_id, _ in items}  # finished runs were kept, not repeated
    for (status,) in index(store, "SELECT status FROM runs WHERE status != 'complete'"):
        assert status == "interrupted"  # the partial runs, restarted from scratch


def test_two_concurrent_sweeps_on_one_store_lose_nothing(tmp_path):
    """Two launchers on one store at once: one in a subprocess, one in this process (each with its own worker);
    the runs sleep a little between steps so that the two sweeps overlap."""
    store = tmp_path / "runs"
    env = {**os.environ, **PLUGIN_ENV}
    common = ["--seeds", "2", "--set", "sleep=0.2", "--workers", "1", "--quiet", "--run-reports"]
    other = subprocess.Popen(
        [sys.executable, "-m", "goodhartlab", "sweep", "probe", "--grid", "x=1,2", *common, "--out", str(store)],
        env=env,
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        mine = here("sweep", "probe", "--grid", "x=3,4", *common, store=store)
    finally:
        _, err = other.communicate(timeout=300)  # a hang detector, not a timing
    assert mine.returncode == 0, mine.stderr
    assert other.returncode == 0, err
    runs = index(store, "SELECT id, status FROM runs")
    assert len(runs) == 8 and all(s == "complete" for _, s in runs)
    assert all((store / r / "report.html").exists() for r, _ in runs)
    assert index(store, "SELECT COUNT(*), SUM(status='done') FROM sweep_items") == [(8, 8)]
    assert not list((store / ".staging").iterdir())  # every run directory was published whole


# -- the Ray backend -----------------------------------------------------------------------------


def test_ray_backend_on_a_local_instance(tmp_path):
    """One sweep on a local Ray instance (starting one costs seconds): a run that completes comes home with its
    artifacts, a run that raises is recorded failed with its error, and the launcher exits 1."""
    pytest.importorskip("ray", reason="Ray is an optional extra; `make test` installs it")
    store = tmp_path / "runs"
    res = gl(
        "sweep",
        "probe",
        "--grid",
        "mode=ok,raise",
        "--seeds",
        "1",
        "--backend",
        "ray",
        "--workers",
        "2",
        "--retries",
        "0",
        "--run-reports",
        store=store,
        timeout=400,
    )
    assert res.returncode == 1, res.stderr[-2000:]
    assert "1 done (0 already complete" in res.stdout and "1 failed" in res.stdout, res.stdout
    runs = index(store, "SELECT id, status, path FROM runs WHERE status='complete'")
    assert len(runs) == 1 and all(p == r for r, _, p in runs)
    for run_id, _, _ in runs:  # results and artifacts came back to this store
        assert (store / run_id / "measurements.csv").exists() and (store / run_id / "report.html").exists()
    (error,) = index(store, "SELECT error FROM runs WHERE status='failed'")
    assert "told to raise" in error[0]


def test_a_published_run_reports_where_its_report_is(tmp_path):
    store = tmp_path / "runs"
    res = here("run", "probe", store=store)
    assert res.returncode == 0, res.stderr
    report = Path(res.stdout.split("report:")[1].strip())
    assert report.exists() and report.parent.parent == store.resolve()  # published, not left in staging
    assert not list((store / ".staging").iterdir())
