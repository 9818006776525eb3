"""`goodhartlab verify`: a run's verdicts against the recorded ones; reversing a claim in the stored results makes
verify exit 1 naming that claim."""

import json
import shutil

import pandas as pd
import pytest
from test_runs import TINY

from goodhartlab import cli
from goodhartlab.core.config import resolve
from goodhartlab.core.registry import get
from goodhartlab.runner import verify
from goodhartlab.runner.execute import build_report, execute
from goodhartlab.runner.store import RunStore

SEED_CLAIM = "The win/lose reward at γ=1 is intent-optimal at optimum against every opponent X can beat"


@pytest.fixture(scope="module")
def one_run(tmp_path_factory):
    """One tiny tictactoe run for the module; each test works on its own copy of the store."""
    root = tmp_path_factory.mktemp("verify") / "runs"
    exp = get("tictactoe")
    run_id, _ = execute(exp, resolve(exp.config, "quick", None, TINY), "quick", RunStore(root), quiet=True)
    return root, run_id


@pytest.fixture
def fresh_run(one_run, tmp_path):
    root, run_id = one_run
    return RunStore(shutil.copytree(root, tmp_path / "runs", symlinks=True)), run_id


@pytest.fixture
def recorded_run(fresh_run, tmp_path, monkeypatch):
    monkeypatch.setattr(verify, "VERDICTS_DIR", tmp_path / "verdicts")
    store, run_id = fresh_run
    assert cli.main(["verify", run_id, "--record", "--out", str(store.root)]) is None
    return store, run_id


def test_verify_passes_on_the_recorded_run(recorded_run, capsys):
    store, run_id = recorded_run
    rec = json.loads((verify.VERDICTS_DIR / "tictactoe.json").read_text())["quick"]
    assert rec["verdicts"][SEED_CLAIM] == "fails" and rec["seed"] == 0
    cli.main(["verify", run_id, "--out", str(store.root)])
    assert "verdicts match" in capsys.readouterr().out


def test_verify_fails_naming_a_reversed_claim(recorded_run, capsys):
    store, run_id = recorded_run
    run_dir = store.path(store.find(run_id))
    v = pd.read_csv(run_dir / "tables" / "verdicts.csv")
    v["counterexamples"] = 0  # as if the seed reward were aligned at optimum against every opponent
    v["aligned"] = True
    v.to_csv(run_dir / "tables" / "verdicts.csv", index=False)
    build_report(store, store.find(run_id))
    with pytest.raises(SystemExit) as exit_:
        cli.main(["verify", run_id, "--out", str(store.root)])
    assert exit_.value.code == 1
    out = capsys.readouterr().out
    assert f"{SEED_CLAIM!r}: recorded fails, this run holds" in out
    assert out.count("MISMATCH") == 1


def test_verify_without_a_record_is_one_line(fresh_run, tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(verify, "VERDICTS_DIR", tmp_path / "none")
    store, run_id = fresh_run
    with pytest.raises(SystemExit) as exit_:
        cli.main(["verify", run_id, "--out", str(store.root)])
    assert exit_.value.code == 2 and "no verdicts are recorded" in capsys.readouterr().err
