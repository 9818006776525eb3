"""`compare`: gold at matched KL with paired intervals over seeds, on synthetic entries built so the claim
holds, fails and is inconclusive; then two runs and a sweep compared from the store, as a user would."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from conftest import cli_here, use_plugins

from goodhartlab.report.compare import (
    Entry,
    content,
    matched_gold,
    paired_gain,
    verdict_table,
)
from goodhartlab.runner.store import RunStore


def entry(
    label: str,
    gold_slope: float,
    seeds: int = 5,
    noise: float = 0.05,
    kl_scale: float = 1.0,
    seed: int = 0,
) -> Entry:
    """gold = slope·√KL + seed effect + noise, at 5 pressures; the seed effect is shared across entries (paired)."""
    rng = np.random.default_rng(seed)
    rows = []
    for s in range(seeds):
        shared = 0.3 * np.sin(s + 1)  # the same per-seed offset in every entry: pairing removes it
        for p in range(5):
            kl = kl_scale * p**2 / 4
            rows.append(
                {
                    "series": "RL",
                    "pressure_name": "step",
                    "pressure": float(p),
                    "kl": kl,
                    "proxy": p + rng.normal(0, noise),
                    "rater": 0.5,
                    "unit": f"0:{s}",
                    "gold": gold_slope * np.sqrt(kl) + shared + rng.normal(0, noise),
                }
            )
    return Entry(label, "run", "synthetic", pd.DataFrame(rows))


def lead_verdict(entries):
    report, _, matched = content(entries)
    (f,) = [f for f in report.findings if f.title.startswith("Most gold")]
    return f, matched


def test_the_better_entry_holds_at_matched_kl():
    f, matched = lead_verdict([entry("base", 0.0, seed=1), entry("proposal", 0.5, seed=2)])
    assert f.verdict == "holds" and f.text.startswith("proposal gives the most gold")
    assert f.evidence["lead"].method == "Student t" and f.evidence["lead"].n == 5
    assert set(matched["level"]) == {1 / 3, 2 / 3, 1.0}


def test_equal_entries_are_inconclusive_and_identical_ones_fail():
    f, _ = lead_verdict([entry("a", 0.2, seed=1), entry("b", 0.2, seed=2)])
    assert f.verdict == "inconclusive" and f.text.startswith("Not established")
    same = entry("a", 0.2, seed=1)
    f, _ = lead_verdict([same, Entry("b", "run", "synthetic", same.frame)])
    assert f.verdict == "fails" and f.text.startswith("No entry gives more gold")


def test_fewer_than_three_seeds_give_values_not_intervals():
    f, _ = lead_verdict([entry("base", 0.0, seeds=2, seed=1), entry("proposal", 0.5, seeds=2, seed=2)])
    assert f.verdict == "inconclusive" and not f.evidence["lead"].has_interval
    assert len(f.evidence["lead"].values) == 2


def test_matched_kl_interpolates_each_seed_inside_the_common_range():
    a = entry("a", 1.0, seeds=3, noise=0.0)
    b = entry("b", 1.0, seeds=3, noise=0.0, kl_scale=4.0)  # reaches 2x the √KL of a
    m = matched_gold([a, b], "RL")
    top = m[m.level == 1.0]
    assert np.allclose(top["x"], 2.0)  # a's largest √KL: √(4²/4) = 2, inside b's (up to 4)
    assert np.allclose(
        top.groupby("entry")["gold"].mean()["a"],
        top.groupby("entry")["gold"].mean()["b"],
    )
    gain = paired_gain(top, "b", "a")
    assert abs(gain.estimate) < 1e-9
    table = verdict_table(m, ["a", "b"], "√KL")
    assert list(table.columns[:3]) == ["series", "at", "entry"] and len(table) == 6


def test_no_shared_seeds_is_inconclusive():
    a = entry("a", 0.0, seed=1)
    b = entry("b", 0.5, seed=2)
    b = Entry(
        "b",
        "run",
        "synthetic",
        b.frame.assign(unit=b.frame["unit"].str.replace("0:", "9:")),
    )
    f, _ = lead_verdict([a, b])
    assert f.verdict == "inconclusive"


def gl(*args: str, store) -> subprocess.CompletedProcess:
    """The command in this process: compare's wiring over the store is under test, not a process."""
    return cli_here(*args, store=store)


def test_compare_two_runs_and_a_sweep_from_the_store(store, monkeypatch):
    use_plugins(monkeypatch, "curve_plugin")
    monkeypatch.setenv("COLUMNS", "200")
    for noise in ("gaussian", "t"):
        proc = gl(
            "run",
            "curve",
            "--quiet",
            "--set",
            f"noise={noise}",
            "--set",
            "seeds=5",
            store=store,
        )
        assert proc.returncode == 0, proc.stderr
    gaussian, heavy = RunStore(store).list()
    proc = gl(
        "compare",
        heavy.id,
        gaussian.id,
        "--label",
        "t noise",
        "--label",
        "gaussian noise",
        store=store,
    )
    assert proc.returncode == 0, proc.stderr
    report = proc.stdout.strip().splitlines()[-1].removeprefix("report: ")
    out_dir = os.path.dirname(report)
    findings = json.loads(Path(out_dir, "findings.json").read_text())
    most = [f for f in findings if f["title"].startswith("Most gold at matched KL")]
    assert most and most[0]["verdict"] == "holds" and most[0]["text"].startswith("gaussian noise gives the most gold")
    versus = [f for f in findings if f["title"].startswith("gaussian noise vs t noise")]
    assert versus[0]["verdict"] == "holds"
    html = Path(report).read_text()
    assert "Gold at matched KL" in html and html.count("data:image/png;base64,") == 1 and "√KL" in html
    matched = pd.read_csv(os.path.join(out_dir, "matched.csv"))
    assert matched.unit.nunique() == 5 and set(matched.entry) == {
        "t noise",
        "gaussian noise",
    }

    sweep = gl(
        "sweep",
        "curve",
        "--grid",
        "sigma=0.5,2",
        "--seeds",
        "3",
        "--workers",
        "1",
        "--quiet",
        store=store,
    )
    assert sweep.returncode == 0, sweep.stderr
    both = gl("compare", gaussian.id, "sweep-curve", store=store)
    assert both.returncode == 0, both.stderr
    assert "sweep-curve" in both.stdout and "sigma=0.5" in both.stdout and "sigma=2" in both.stdout

    bad = gl("compare", "nope", store=store)
    assert bad.returncode == 2 and "no run 'nope'" in bad.stderr
    pytest.importorskip("goodhartlab.report.compare")
