"""Each claim of the preference-shift report on synthetic episode tables built so it holds, fails and is
inconclusive (unit: user, paired across agents)."""

import numpy as np
import pandas as pd
import pytest

from goodhartlab.experiments.preference_shift import present

MAIN = {"eta": 0.1, "horizon": 20}
USERS = 6
COLUMNS = ("proxy", "rater", "gold", "shift", "pull_to_clickbait")
# Alternating ±1 per user: a mean-zero pattern, so "noise" of scale s gives an interval of half-width ~s.
WIGGLE = np.array([1.0, -1.0] * (USERS // 2))


def table(cells: dict) -> pd.DataFrame:
    """cells: (axis, pressure, agent) -> {column: per-user values}; unspecified columns are 0.5."""
    rows = []
    for (axis, pressure, agent), values in cells.items():
        lam = float(agent.split("=")[1]) if agent.startswith("penalty") else 0.0
        for u in range(USERS):
            row = {"axis": axis, "pressure": pressure, "agent": agent, "user": u, "lam": lam}
            row.update({c: float(np.broadcast_to(values.get(c, 0.5), USERS)[u]) for c in COLUMNS})
            rows.append(row)
    return pd.DataFrame(rows)


def shifted(diff: dict, noise: float = 0.01) -> dict:
    """Per-user values 0.5 + diff[c] + a small user-level wiggle (so intervals exist)."""
    return {c: 0.5 + diff.get(c, 0.0) + noise * WIGGLE * (i + 1) / 4 for i, c in enumerate(COLUMNS)}


def base() -> dict:
    return shifted({}, 0.0)


@pytest.mark.parametrize(
    "diff,noise,expected",
    [
        ({"proxy": 0.1, "rater": 0.1, "gold": -0.1, "shift": 0.2}, 0.01, "holds"),
        ({"proxy": 0.1, "rater": 0.1, "gold": 0.1, "shift": 0.2}, 0.01, "fails"),
        ({"proxy": 0.1, "rater": 0.1, "gold": -0.01, "shift": 0.2}, 0.2, "inconclusive"),
    ],
)
def test_maximizer_claim(diff, noise, expected):
    t = table({("eta", 0.1, "myopic"): base(), ("eta", 0.1, "engagement"): shifted(diff, noise)})
    f = present.maximizer_finding(t, MAIN)
    assert f.verdict == expected
    assert f.text.startswith(expected.capitalize())
    assert set(f.evidence) == {f"{c}_difference" for c in ("proxy", "rater", "gold", "shift")}
    assert f.evidence["gold_difference"].n == USERS and f.evidence["gold_difference"].unit == "user"


@pytest.mark.parametrize(
    "shift,gold,noise,expected",
    [
        (-0.2, 0.1, 0.01, ("holds", "holds")),
        (0.2, -0.1, 0.01, ("fails", "fails")),
        (-0.01, 0.01, 0.3, ("inconclusive", "inconclusive")),
    ],
)
def test_path_specific_claims(shift, gold, noise, expected):
    t = table(
        {
            ("eta", 0.1, "engagement"): base(),
            ("eta", 0.1, "path-specific"): shifted({"shift": shift, "gold": gold}, noise),
        }
    )
    found = present.path_specific_findings(t, MAIN)
    assert tuple(f.verdict for f in found) == expected
    assert all(f.text.startswith(v.capitalize()) for f, v in zip(found, expected))


@pytest.mark.parametrize(
    "shift,noise,expected", [(-0.3, 0.01, "holds"), (0.1, 0.01, "fails"), (0.0, 0.3, "inconclusive")]
)
def test_penalty_claim_uses_the_largest_lambda(shift, noise, expected):
    t = table(
        {
            ("eta", 0.1, "engagement"): base(),
            ("eta", 0.1, "penalty λ=0.3"): shifted({"shift": 0.5}, 0.01),  # the wrong λ would fail
            ("eta", 0.1, "penalty λ=3"): shifted({"shift": shift}, noise),
        }
    )
    f = present.penalty_finding(t, MAIN)
    assert f.verdict == expected and "λ=3" in f.title and {"proxy_difference", "gold_difference"} <= set(f.evidence)
    assert present.penalty_finding(table({("eta", 0.1, "engagement"): base()}), MAIN) is None


@pytest.mark.parametrize(
    "gap_hi,noise,expected", [(-0.2, 0.01, "holds"), (0.2, 0.01, "fails"), (-0.01, 0.3, "inconclusive")]
)
def test_pressure_claim(gap_hi, noise, expected):
    t = table(
        {
            ("horizon", 5.0, "myopic"): base(),
            ("horizon", 5.0, "engagement"): base(),
            ("horizon", 10.0, "myopic"): base(),
            ("horizon", 10.0, "engagement"): shifted({"gold": -0.5}, 0.01),
            ("horizon", 40.0, "myopic"): base(),
            ("horizon", 40.0, "engagement"): shifted({"gold": gap_hi}, noise),
        }
    )
    f = present.pressure_finding(t, "horizon")
    assert f.verdict == expected and "5 to 40" in f.claim  # compares the extremes only
    assert present.pressure_finding(t[t.pressure == 5.0], "horizon") is None


def test_fewer_than_three_users_is_inconclusive():
    t = table({("eta", 0.1, "myopic"): base(), ("eta", 0.1, "engagement"): shifted({"proxy": 0.3, "gold": -0.3})})
    f = present.maximizer_finding(t[t.user < 2], MAIN)
    assert f.verdict == "inconclusive" and not f.evidence["proxy_difference"].has_interval


@pytest.mark.parametrize(
    "gap,noise,expected", [(0.2, 0.01, "holds"), (-0.2, 0.01, "fails"), (0.01, 0.3, "inconclusive")]
)
def test_rater_endorsement_claim(gap, noise, expected):
    engaged = shifted({"gold": 0.0}, 0.0)
    engaged["rater"] = engaged["gold"] + gap + noise * WIGGLE
    t = table({("eta", 0.1, "myopic"): base(), ("eta", 0.1, "engagement"): engaged})
    f = present.rater_finding(t, MAIN)
    assert f.verdict == expected and "myopic_gap" in f.evidence and f.evidence["myopic_gap"].estimate == 0.0


@pytest.mark.parametrize(
    "pull,noise,expected", [(0.3, 0.01, "holds"), (-0.3, 0.01, "fails"), (0.01, 0.4, "inconclusive")]
)
def test_steering_claim(pull, noise, expected):
    t = table(
        {
            ("eta", 0.1, "myopic"): base(),
            ("eta", 0.1, "engagement"): shifted({"pull_to_clickbait": pull}, noise),
            ("eta", 0.1, "path-specific"): base(),
        }
    )
    f = present.steering_finding(t, MAIN)
    assert f.verdict == expected and "path_specific_minus_engagement" in f.evidence
