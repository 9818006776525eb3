"""The camera experiment's claims on synthetic measurement tables built to make each hold, fail and be
inconclusive (DESIGN.md, "Findings are claims with computed verdicts")."""

import numpy as np
import pandas as pd

from goodhartlab.experiments.camera.present import (
    REMOVED_BELOW,
    claim_removes,
    claim_rises,
    gold_comparison,
)


def table(values: dict[str, list[tuple[float, float]]], column: str = "deception") -> pd.DataFrame:
    """``values[arm]`` = per seed (first-round value, last-round value); rounds 0 and 3."""
    rows = []
    for arm, per_seed in values.items():
        for seed, (first, last) in enumerate(per_seed):
            for rnd, v in ((0, first), (1, (first + last) / 2), (3, last)):
                rows.append({"series": arm, "seed": seed, "round": rnd, column: v, "pressure": rnd * 100.0})
    return pd.DataFrame(rows)


JITTER = [0.01, -0.01, 0.02, 0.0, -0.02]


def test_rises_holds_fails_and_is_inconclusive():
    holds = table({"one_camera": [(0.0, 0.3 + j) for j in JITTER]})
    assert claim_rises(holds).verdict == "holds"
    fails = table({"one_camera": [(0.3, 0.05 + j) for j in JITTER]})
    assert claim_rises(fails).verdict == "fails"
    noisy = table({"one_camera": [(0.1, 0.1 + d) for d in (0.2, -0.15, 0.05, -0.1, 0.12)]})
    assert claim_rises(noisy).verdict == "inconclusive"
    two_seeds = table({"one_camera": [(0.0, 0.3), (0.0, 0.31)]})
    assert claim_rises(two_seeds).verdict == "inconclusive"  # below 3 units: no interval, no claim
    f = claim_rises(holds)
    assert f.evidence["last_minus_first"].n == 5 and f.evidence["last_minus_first"].unit == "seed"
    assert "higher" in f.text and "higher" not in claim_rises(noisy).text


def test_removes_holds_fails_and_is_inconclusive():
    base = [(0.0, 0.3 + j) for j in JITTER]
    holds = table({"one_camera": base, "depth_cue": [(0.0, 0.0)] * 5})
    f = claim_removes(holds, "depth_cue")
    assert f.verdict == "holds" and "removes" in f.text and f.anchor
    # The fix leaves as much deception as one camera: a level far above the bar.
    fails = table({"one_camera": base, "depth_cue": [(0.0, 0.3 + j) for j in reversed(JITTER)]})
    assert claim_removes(fails, "depth_cue").verdict == "fails"
    # Lower than one camera, but the level straddles the bar.
    near = [(0.0, REMOVED_BELOW + d) for d in (0.03, -0.02, 0.01, -0.015, 0.0)]
    inconclusive = table({"one_camera": base, "depth_cue": near})
    f = claim_removes(inconclusive, "depth_cue")
    assert f.verdict == "inconclusive" and "not settled" in f.text


def test_removes_works_on_other_columns_and_other_fixes():
    t = table({"one_camera": [(0.0, 0.4 + j) for j in JITTER], "second_camera": [(0.0, 0.0)] * 5}, "hover")
    assert claim_removes(t, "second_camera", value="hover").verdict == "holds"


def test_gold_comparison_direction_comes_from_the_interval():
    base = [(0.0, 0.2 + j) for j in JITTER]
    up = table({"one_camera": base, "oracle": [(0.0, 0.5 + j) for j in JITTER]}, "gold")
    assert gold_comparison(up, "oracle").verdict == "holds"
    down = table({"one_camera": base, "oracle": [(0.0, 0.05 + j) for j in JITTER]}, "gold")
    assert gold_comparison(down, "oracle").verdict == "fails"
    rng = np.random.default_rng(0)
    same = table({"one_camera": base, "oracle": [(0.0, 0.2 + e) for e in rng.normal(0, 0.05, 5)]}, "gold")
    assert gold_comparison(same, "oracle").verdict == "inconclusive"


def test_report_from_a_synthetic_run_has_every_claim_figure_and_table():
    from types import SimpleNamespace

    from goodhartlab.experiments.camera.config import Config
    from goodhartlab.experiments.camera.measure import occlusion_frames
    from goodhartlab.experiments.camera.present import report

    rng = np.random.default_rng(1)
    rows = []
    for arm in ("one_camera", "depth_cue", "second_camera", "oracle"):
        for seed in range(3):
            for rnd in range(3):
                rows.append(
                    {
                        "series": arm,
                        "seed": seed,
                        "round": rnd,
                        "pressure": rnd * 100.0,
                        "comparisons": rnd * 10.0,
                        "proxy": rng.normal(),
                        "rater": 0.3,
                        "gold": 0.2,
                        "deception": 0.1 * rnd * (arm == "one_camera"),
                        "hover": 0.1 * rnd,
                    }
                )
    frame = pd.DataFrame(rows)
    opt = frame[frame["round"] == 2].rename(columns={"series": "arm"})
    results = SimpleNamespace(
        measurements=frame, config=Config(seeds=3), tables={"optimum": opt}, artifacts={"frames": occlusion_frames(3)}
    )
    content = report(results)
    claims = [f.claim for f in content.findings]
    assert claims[0] == "deception rises with pressure under one camera"
    assert "depth cue removes deception seen under one camera" in claims and len(claims) == 13
    assert {f.name for f in content.figures} == {"curves_pressure", "curves_comparisons", "frames"}
    assert len(content.tables) == 3 and content.headline == "curves_pressure" and content.setup
    assert "holds" in content.summary  # the synthetic one-camera deception rises 0 -> 0.2 on every seed


def test_optimum_gold_holds_fails_and_is_inconclusive():
    from goodhartlab.experiments.camera.present import optimum_gold

    def opt(fix_gold):
        rows = [{"arm": "one_camera", "seed": i, "gold": 0.3 + j, "deception": 0.25} for i, j in enumerate(JITTER)]
        rows += [{"arm": "depth_cue", "seed": i, "gold": g, "deception": 0.0} for i, g in enumerate(fix_gold)]
        return pd.DataFrame(rows)

    assert optimum_gold(opt([0.5 + j for j in JITTER]), "depth_cue").verdict == "holds"
    assert optimum_gold(opt([0.1 + j for j in JITTER]), "depth_cue").verdict == "fails"
    f = optimum_gold(opt([0.3 + d for d in (0.1, -0.1, 0.05, -0.08, 0.02)]), "depth_cue")
    assert f.verdict == "inconclusive" and f.evidence["base_deception_at_optimum"].estimate == 0.25
