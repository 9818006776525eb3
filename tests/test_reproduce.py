"""Reproducing runs: `rerun` repeats a run from its record with identical measurements (and says when they
differ), `--config` takes a run's own config.json, `config` prints every field, `--version`, completion."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pandas as pd
import pytest
from conftest import ROOT, TINY_TICTACTOE, cli, cli_here, use_plugins

from goodhartlab.runner.store import RunStore

TINY = TINY_TICTACTOE


def gl(*args: str, store=None) -> subprocess.CompletedProcess:
    """The command in this process (with the test-only ``curve`` experiment): rerun's and --config's wiring is
    under test, not a process start."""
    return cli_here(*args, store=store)


@pytest.fixture
def curve(monkeypatch):
    use_plugins(monkeypatch, "curve_plugin")


def _sets(values):
    return [a for v in values for a in ("--set", v)]


def test_rerun_repeats_a_catalog_run_with_identical_measurements(store):
    first = cli(
        "run",
        "tictactoe",
        "--preset",
        "quick",
        "--quiet",
        "--seed",
        "3",
        *_sets(TINY),
        store=store,
    )
    assert first.returncode == 0, first.stderr
    # The first run in a subprocess, the rerun in this one: the measurements repeat across processes.
    proc = cli_here("rerun", "latest", "--quiet", store=store)
    assert proc.returncode == 0, proc.stderr
    assert "measurements identical" in proc.stdout
    a, b = RunStore(store).list()
    assert (a.experiment, a.preset, a.seed, a.config_hash) == (
        b.experiment,
        b.preset,
        b.seed,
        b.config_hash,
    )
    assert b.seed == 3
    pd.testing.assert_frame_equal(
        pd.read_csv(store / a.path / "measurements.csv"),
        pd.read_csv(store / b.path / "measurements.csv"),
    )


def test_rerun_says_what_differs_and_exits_1(store, curve):
    assert gl("run", "curve", "--quiet", "--set", "pool=8", store=store).returncode == 0
    (rec,) = RunStore(store).list()
    path = store / rec.path / "measurements.csv"
    frame = pd.read_csv(path)
    frame.loc[2, "gold"] += 0.25  # as if the code had changed since
    frame.to_csv(path, index=False)
    proc = gl("rerun", rec.id, "--quiet", store=store)
    assert proc.returncode == 1, proc.stderr
    assert "DIFFER" in proc.stdout and "gold: 1 of" in proc.stdout and "0.25" in proc.stdout


def test_config_accepts_a_runs_own_config_json(store, curve):
    assert (
        gl(
            "run",
            "curve",
            "--quiet",
            "--set",
            "pool=8",
            "--set",
            "noise=t",
            "--seed",
            "4",
            store=store,
        ).returncode
        == 0
    )
    (rec,) = RunStore(store).list()
    record = store / rec.path / "config.json"
    assert json.loads(record.read_text())["config"]["noise"] == "t"
    proc = gl("run", "curve", "--quiet", "--config", str(record), store=store)
    assert proc.returncode == 0, proc.stderr
    first, second = RunStore(store).list()
    assert second.config_hash == first.config_hash and second.seed == 4
    assert (store / first.path / "measurements.csv").read_bytes() == (
        store / second.path / "measurements.csv"
    ).read_bytes()
    wrong = gl("run", "tictactoe", "--config", str(record), store=store)
    assert wrong.returncode == 2 and wrong.stderr.strip().count("\n") == 0
    assert "record of a run of 'curve', not 'tictactoe'" in wrong.stderr


def test_config_prints_every_field_type_default_value_and_description():
    proc = cli_here("config", "rlhf", "--preset", "quick", "--set", "seeds=4")
    assert proc.returncode == 0, proc.stderr
    out = proc.stdout
    assert "* seeds = 4" in out and "(default 3)" in out and "Repeats of rater comparisons" in out
    assert "lm.block_size = 64" in out and "int (≥ 16, ≤ 1024)" in out
    from goodhartlab.experiments.rlhf.config import Config

    assert out.count("\n  ") + out.count("\n* ") >= len(Config.model_fields)
    as_yaml = cli_here("config", "tictactoe", "--preset", "quick", "--yaml")
    import yaml

    assert yaml.safe_load(as_yaml.stdout)["seeds"] == 10
    bad = cli_here("config", "rlhf", "--set", "seedz=1")
    assert bad.returncode == 2 and "unknown field 'seedz'" in bad.stderr and "did you mean" in bad.stderr


def test_version_and_shell_completion(store):
    import goodhartlab

    proc = cli_here("--version")
    assert proc.returncode == 0 and proc.stdout.startswith(f"goodhartlab {goodhartlab.__version__}")
    pytest.importorskip("argcomplete")
    script = cli_here("completion", "bash")
    assert script.returncode == 0 and "goodhartlab" in script.stdout and "complete" in script.stdout
    # what the shell asks when the user presses tab after `goodhartlab re` (argcomplete's protocol)
    line = "goodhartlab re"
    answer = store.parent / "completions.txt"
    env = {
        **os.environ,
        "_ARGCOMPLETE": "1",
        "COMP_LINE": line,
        "COMP_POINT": str(len(line)),
        "_ARGCOMPLETE_IFS": "\n",
        "_ARGCOMPLETE_STDOUT_FILENAME": str(answer),
        "PYTHONPATH": str(ROOT / "src"),
    }
    done = subprocess.run(
        [sys.executable, "-m", "goodhartlab"],
        env=env,
        cwd=ROOT,
        check=False,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert set(answer.read_text().split()) == {"report", "rerun"}
