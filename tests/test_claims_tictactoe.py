"""tictactoe's claims on synthetic tables built so each claim holds, fails and is inconclusive."""

import pandas as pd
import pytest

from goodhartlab.experiments.tictactoe.present import claims


def plain(seed_bad=0, other_bad=0, checked=True) -> pd.DataFrame:
    rows = []
    for opp, vacuous in (("random", False), ("perfect", True)):
        for gamma, cost in ((1.0, 0.0), (0.9, 0.0), (1.0, 0.2)):
            bad = (seed_bad if (gamma, cost) == (1.0, 0.0) else other_bad) if not vacuous else 0
            if not checked and not vacuous:
                continue
            rows.append(
                {
                    "opponent": opp,
                    "reward": f"g{gamma} c{cost}",
                    "gamma": gamma,
                    "step_cost": cost,
                    "aligned": bad == 0,
                    "vacuous": vacuous,
                    "states_reachable": 500,
                    "counterexamples": bad,
                }
            )
    return pd.DataFrame(rows)


def machine(tamper="every", available=True) -> pd.DataFrame:
    rows = [
        {
            "discoverability": "deployment",
            "phase": "train",
            "gamma": 1.0,
            "states": 100,
            "optimal_policies_tamper": "none",
            "optimal_observed_return": 1.0,
            "an_optimal_path": "cell0",
        }
    ]
    if available:
        rows += [
            {
                "discoverability": d,
                "phase": "train" if d != "deployment" else "deploy",
                "gamma": 1.0,
                "states": 100,
                "optimal_policies_tamper": tamper if d == "sequence" else "every",
                "optimal_observed_return": 8.0,
                "an_optimal_path": "tamper ×8",
            }
            for d in ("always", "sequence", "deployment")
        ]
    return pd.DataFrame(rows)


def learners(tamper_count: dict, n=10, reinforced_gap=(5.0, -0.8), noise=True) -> pd.DataFrame:
    """tamper_count: {(learner, discoverability): tamperers out of n per exploration setting}."""
    rows = []
    for (learner, disc), k in tamper_count.items():
        for explore in (0.0, 0.5):
            for i in range(n):
                t = i < k
                jitter = (i % 3) * 0.05 if noise else 0.0
                rows.append(
                    {
                        "learner": learner,
                        "discoverability": disc,
                        "explore": explore,
                        "seed": i,
                        "tampers": t,
                        "tamper_rate": float(t),
                        "proxy_return": (1.0 + reinforced_gap[0] if t else 1.0) + jitter,
                        "gold_return": (0.5 + reinforced_gap[1] if t else 0.5) + jitter,
                        "win_vs_random": 0.5,
                        "win_vs_perfect": 0.0,
                        "win_vs_mixture": 0.3,
                        "moves_to_win": 3.0,
                    }
                )
    return pd.DataFrame(rows)


BASE = {
    ("q-learning", "always"): 10,
    ("q-learning", "deployment"): 0,
    ("policy-gradient", "always"): 10,
    ("policy-gradient", "deployment"): 0,
}


def verdict_of(findings, claim_start: str) -> str:
    (f,) = [f for f in findings if f.claim.startswith(claim_start)]
    return f.verdict


@pytest.mark.parametrize(
    "table,expected",
    [(plain(seed_bad=0), "holds"), (plain(seed_bad=12), "fails"), (plain(checked=False), "inconclusive")],
)
def test_seed_reward_alignment(table, expected):
    f = [f for f in claims(table, machine(), learners(BASE)) if f.claim.startswith("The win/lose reward")][0]
    assert f.verdict == expected
    if expected == "fails":
        assert "random (12 of 500 states)" in f.text


@pytest.mark.parametrize(
    "table,expected",
    [(plain(other_bad=0), "holds"), (plain(other_bad=3), "fails"), (plain(checked=False), "inconclusive")],
)
def test_discount_or_cost_alignment(table, expected):
    assert verdict_of(claims(table, machine(), learners(BASE)), "Every discount") == expected


@pytest.mark.parametrize(
    "table,expected",
    [(machine("every"), "holds"), (machine("none"), "fails"), (machine(available=False), "inconclusive")],
)
def test_optimal_policies_tamper(table, expected):
    f = [f for f in claims(plain(), table, learners(BASE)) if f.claim.startswith("Wherever tampering")][0]
    assert f.verdict == expected
    if expected == "fails":  # tampering exists but is not taken: never called "absent"
        assert "sequence: none optimal policy tampers although tampering exists" in f.text


@pytest.mark.parametrize("count,expected", [(10, "holds"), (0, "fails"), (5, "inconclusive")])
def test_most_learners_tamper(count, expected):
    table = learners({**BASE, ("q-learning", "always"): count})
    assert verdict_of(claims(plain(), machine(), table), "Most q-learning learners") == expected


@pytest.mark.parametrize("count,n,expected", [(6, 10, "holds"), (0, 40, "fails"), (1, 10, "inconclusive")])
def test_never_trained_actions_in_deployment(count, n, expected):
    table = pd.concat(
        [learners({("policy-gradient", "deployment"): count}, n=n), learners({("policy-gradient", "always"): 10})]
    )
    assert verdict_of(claims(plain(), machine(), table), "Over 10% of policy-gradient") == expected


@pytest.mark.parametrize(
    "gap,expected", [((5.0, -0.8), "holds"), ((-5.0, -0.8), "fails"), ((5.0, 0.0), "inconclusive")]
)
def test_register_ranks_tamperers_first_gold_last(gap, expected):
    table = learners({("q-learning", "always"): 5, ("policy-gradient", "deployment"): 0}, reinforced_gap=gap)
    f = [f for f in claims(plain(), machine(), table) if f.claim.startswith("Learners that tamper")][0]
    assert f.verdict == expected
    if expected != "holds":
        assert "ranks them first" not in f.text


def test_every_finding_is_a_claim_with_evidence():
    for f in claims(plain(), machine(), learners(BASE)):
        assert f.claim and f.verdict in ("holds", "fails", "inconclusive") and f.evidence
        assert all(e.method and e.unit for e in f.evidence.values())
