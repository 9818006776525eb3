"""The Python API: goodhartlab.run returns the stored results, load_runs joins measurements with config values
(two experiments and a sweep in one store), describe lists fields, and `import goodhartlab` stays light."""

from __future__ import annotations

import os
import re
import subprocess
import sys

import pandas as pd
import pytest
import yaml
from conftest import ROOT, TINY_TICTACTOE

import goodhartlab
from goodhartlab.core.errors import UserError

# The shared tiny tictactoe config (tests/conftest.py), as keyword overrides.
TINY = {k: yaml.safe_load(v) for k, v in (a.split("=", 1) for a in TINY_TICTACTOE)}


@pytest.fixture
def plugin(monkeypatch):
    monkeypatch.setenv("GOODHARTLAB_PLUGINS", "curve_plugin")
    monkeypatch.syspath_prepend(str(ROOT / "tests"))


def test_import_is_light_and_exports_are_lazy():
    code = (
        "import sys, goodhartlab; heavy = [m for m in ('torch', 'matplotlib', 'pandas', 'transformers') "
        "if m in sys.modules]; assert not heavy, heavy; assert callable(goodhartlab.load_runs); "
        "assert 'pandas' in sys.modules and 'torch' not in sys.modules; print(goodhartlab.__version__)"
    )
    proc = subprocess.run(
        [sys.executable, "-c", code],
        check=False,
        capture_output=True,
        text=True,
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT / "src")},
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == goodhartlab.__version__
    with pytest.raises(AttributeError):
        goodhartlab.no_such_thing  # noqa: B018


def test_run_returns_the_results_the_report_is_built_from(tmp_path, plugin):
    results = goodhartlab.run("curve", store=tmp_path, seeds=2, pool=16, sigma=0.5)
    assert results.experiment == "curve" and results.config.sigma == 0.5 and results.config.seeds == 2
    stored = pd.read_csv(tmp_path / results.run_id / "measurements.csv")
    pd.testing.assert_frame_equal(results.measurements, stored)
    assert list(results.tables) == ["history"]
    again = goodhartlab.load_run(results.run_id[:12], store=tmp_path)
    pd.testing.assert_frame_equal(again.measurements, results.measurements)
    with pytest.raises(UserError, match="field 'sigma'"):
        goodhartlab.run("curve", store=tmp_path, sigma=-1)


def test_nested_overrides_change_one_field_of_the_preset():
    from goodhartlab.api import assignments
    from goodhartlab.core.config import resolve
    from goodhartlab.experiments.rlhf.config import Config

    cfg = resolve(Config, "quick", None, assignments({"lm": {"block_size": 32}, "betas": [0.5]}))
    assert cfg.lm.block_size == 32 and cfg.lm.pretrain_steps == Config.presets["quick"]["lm"]["pretrain_steps"]
    assert cfg.betas == [0.5]


def test_load_runs_two_experiments_and_a_sweep(tmp_path, plugin):
    from goodhartlab.runner.grid import SweepSpec, parse_grid
    from goodhartlab.runner.sweep import SweepOptions, run_sweep

    a = goodhartlab.run("curve", store=tmp_path, seeds=2, pool=8, report=False)
    b = goodhartlab.run("tictactoe", "quick", store=tmp_path, report=False, **TINY)
    spec = SweepSpec(
        "curve",
        "default",
        parse_grid(["noise=gaussian,t"]),
        seeds=2,
        base_seed=5,
        assignments=("pool=8",),
    )
    summary = run_sweep(spec, goodhartlab.api._store(tmp_path), SweepOptions(workers=1, quiet=True))
    assert summary.done == 4

    everything = goodhartlab.load_runs(tmp_path)
    assert set(everything.experiment) == {"curve", "tictactoe"}
    assert everything.run_id.nunique() == 6 and set(everything.status) == {"complete"}
    curve = goodhartlab.load_runs(tmp_path, experiment="curve")
    assert curve.run_id.nunique() == 5
    assert {
        "noise",
        "sigma",
        "pool",
        "config.seed",
        "proxy",
        "gold",
        "kl",
        "seed",
    } <= set(curve.columns)
    one = curve[curve.run_id == a.run_id].reset_index(drop=True)
    pd.testing.assert_frame_equal(one[a.measurements.columns], a.measurements)  # the stored rows, unchanged
    ttt = everything[everything.run_id == b.run_id]
    assert (ttt["q_episodes"] == 60).all() and (ttt["discoverabilities"] == ("always",)).all()

    swept = goodhartlab.load_runs(tmp_path, sweep=summary.sweep_id[:20])
    assert swept.run_id.nunique() == 4 and set(swept["grid.noise"]) == {"gaussian", "t"}
    assert set(swept["config.seed"]) == {5, 6} and (swept["noise"] == swept["grid.noise"]).all()
    # the config values are columns one can group on: heavy-tailed noise gives less gold at the largest n
    top = swept[swept.pressure == swept.pressure.max()].groupby("noise")["gold"].mean()
    assert top["gaussian"] > top["t"]

    with pytest.raises(UserError, match="no runs of experiment 'nope'"):
        goodhartlab.load_runs(tmp_path, experiment="nope")


def test_describe_lists_every_field_with_type_default_value_and_description():
    frame = goodhartlab.api.describe("rlhf", "quick", seeds=4)
    assert list(frame.columns) == [
        "field",
        "type",
        "default",
        "value",
        "changed",
        "description",
    ]
    row = frame.set_index("field").loc["seeds"]
    assert row.value == 4 and row.changed and "≥ 1" in row.type and row.description
    block = frame.set_index("field").loc["lm.block_size"]
    assert block.value == 64 and block.default == 96  # the preset's value, beside the field default
    assert (frame.description.str.len() > 0).all()  # nested models documented in docstrings count too


def test_readme_python_example_runs(tmp_path, monkeypatch, capsys):
    """The README's example, run as written in this process (its API calls are under test, not a process start),
    except that tictactoe's learner grid is the tiny one (one machine, one setting per learner): the example's own
    arguments still pass through goodhartlab.run and must be valid."""
    text = (ROOT / "README.md").read_text()
    block = re.search(r"<!-- api-example -->\s*```python\n(.*?)```", text, re.DOTALL)
    assert block, "README.md lost its Python API example"
    real_run = goodhartlab.run
    grid = {k: TINY[k] for k in ("discoverabilities", "q_epsilons", "pg_entropies", "workers")}
    calls = []

    def tiny_run(name, *args, **overrides):
        calls.append((name, overrides))
        return real_run(name, *args, **({**grid, **overrides} if name == "tictactoe" else overrides))

    monkeypatch.setattr(goodhartlab, "run", tiny_run)
    monkeypatch.chdir(tmp_path)
    exec(compile(block.group(1), "README.md:api-example", "exec"), {"__name__": "readme_example"})
    assert calls  # the example went through goodhartlab.run
    assert (tmp_path / "runs" / "index.sqlite").exists()
    assert "proxy" in capsys.readouterr().out
