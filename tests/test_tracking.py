"""Tracking: `run --tracker tensorboard` writes event files while the run goes, readable with TensorBoard's
EventAccumulator (step = pressure); `export RUN --to tensorboard|mlflow` replays a stored run the same way."""

from __future__ import annotations

import subprocess

import pandas as pd
import pytest
from conftest import cli_here, use_plugins

from goodhartlab.runner.store import RunStore


@pytest.fixture(autouse=True)
def _curve(monkeypatch):
    use_plugins(monkeypatch, "curve_plugin")
    monkeypatch.setenv("COLUMNS", "200")


def gl(*args: str, store, env=None) -> subprocess.CompletedProcess:
    """The command in this process: the trackers' wiring is under test, not a process start (a sweep's workers
    are real processes all the same)."""
    with pytest.MonkeyPatch.context() as mp:
        for key, value in (env or {}).items():
            mp.setenv(key, value)
        return cli_here(*args, store=store)


def scalars(logdir) -> dict[str, list[tuple[int, float]]]:
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    acc = EventAccumulator(str(logdir))
    acc.Reload()
    return {tag: [(e.step, e.value) for e in acc.Scalars(tag)] for tag in acc.Tags()["scalars"]}


def test_tensorboard_live_and_exported(store):
    pytest.importorskip("tensorboard")
    proc = gl(
        "run",
        "curve",
        "--quiet",
        "--set",
        "pool=16",
        "--set",
        "seeds=2",
        "--tracker",
        "tensorboard",
        store=store,
    )
    assert proc.returncode == 0, proc.stderr
    (rec,) = RunStore(store).list()
    m = pd.read_csv(store / rec.path / "measurements.csv")
    live = scalars(store / "tensorboard" / rec.id)
    for seed in (0, 1):
        for channel in ("proxy", "gold", "kl"):
            got = live[f"best-of-n · seed {seed}/{channel}"]
            want = m[m.seed == seed]
            assert [s for s, _ in got] == want.pressure.astype(int).tolist() == [1, 2, 4, 8, 16]
            assert [v for _, v in got] == pytest.approx(want[channel].tolist(), rel=1e-6)
        assert "best-of-n · seed 0/rater" not in live  # no rater in this experiment: nothing invented
        history = live[f"history · best-of-n · seed {seed}/gap"]
        assert [s for s, _ in history] == [1, 2, 4, 8, 16]

    dest = store.parent / "tb-export"
    exported = gl("export", rec.id, "--to", "tensorboard", "--dest", str(dest), store=store)
    assert exported.returncode == 0, exported.stderr
    assert "20 rows exported" in exported.stdout  # 10 measurements + 10 history rows
    assert scalars(dest) == live


def test_mlflow_export(store):
    pytest.importorskip("mlflow")
    pytest.importorskip("sqlalchemy")
    assert (
        gl(
            "run",
            "curve",
            "--quiet",
            "--set",
            "pool=4",
            "--set",
            "seeds=1",
            store=store,
        ).returncode
        == 0
    )
    (rec,) = RunStore(store).list()
    uri = f"sqlite:///{store.parent / 'mlflow.db'}"
    proc = gl(
        "export",
        rec.id,
        "--to",
        "mlflow",
        store=store,
        env={"MLFLOW_TRACKING_URI": uri},
    )
    assert proc.returncode == 0, proc.stderr
    from mlflow.tracking import MlflowClient

    client = MlflowClient(tracking_uri=uri)
    (run,) = client.search_runs([client.get_experiment_by_name("goodhartlab/curve").experiment_id])
    assert run.data.params["pool"] == "4" and run.data.tags["goodhartlab.run_id"] == rec.id
    gold = sorted((g.step, g.value) for g in client.get_metric_history(run.info.run_id, "best-of-n - seed 0/gold"))
    m = pd.read_csv(store / rec.path / "measurements.csv")
    assert [s for s, _ in gold] == m.pressure.astype(int).tolist() and [v for _, v in gold] == pytest.approx(m.gold)
    from goodhartlab.runner.tracking import mlflow_key

    assert mlflow_key("RL β=0.1 · seed 0/gold") == "RL beta:0.1 - seed 0/gold"


def test_a_tracker_that_is_not_installed_is_one_line_before_the_run(store, monkeypatch):
    from goodhartlab.core.errors import UserError
    from goodhartlab.runner import tracking

    monkeypatch.setattr("importlib.util.find_spec", lambda name: None)
    with pytest.raises(UserError, match=r"pip install 'goodhartlab\[mlflow\]'"):
        tracking.require("mlflow")
    with pytest.raises(UserError, match="unknown tracker"):
        tracking.require("wandb")


def test_a_sweep_tracks_each_run_live(store):
    pytest.importorskip("tensorboard")
    proc = gl(
        "sweep", "curve", "--grid", "pool=4,8", "--quiet", "--workers", "1", "--tracker", "tensorboard", store=store
    )
    assert proc.returncode == 0, proc.stderr
    runs = RunStore(store).list()
    assert len(runs) == 2
    for rec in runs:
        m = pd.read_csv(store / rec.path / "measurements.csv")
        got = scalars(store / "tensorboard" / rec.id)["best-of-n · seed 0/gold"]
        assert [v for _, v in got] == pytest.approx(m[m.seed == 0].gold.tolist(), rel=1e-6)


def test_live_tracking_of_a_ray_sweep_is_one_line(store):
    proc = gl("sweep", "curve", "--grid", "pool=4,8", "--backend", "ray", "--tracker", "tensorboard", store=store)
    assert proc.returncode == 2 and "--tracker" in proc.stderr and "Traceback" not in proc.stderr
    assert not RunStore(store).list()
