"""The statistics module: intervals carry method and n, no interval below 3 units, verdicts both ways."""

import math

import numpy as np
import pytest

from goodhartlab.analysis import stats
from goodhartlab.core.records import Estimate, Finding


def test_fewer_than_three_units_gives_values_and_no_interval():
    e = stats.mean([0.51, 0.53], "seed")
    assert not e.has_interval and e.values == (0.51, 0.53) and e.n == 2
    assert stats.verdict(e) == "inconclusive"
    assert "too few" in str(e)


def test_t_interval_for_few_seeds_matches_scipy():
    e = stats.mean([1.0, 2.0, 3.0], "seed")
    assert e.method == "Student t" and e.n == 3
    assert e.low == pytest.approx(2 - 4.302652729911275 * 1 / math.sqrt(3))


def test_bootstrap_for_many_units_and_dropped_nan_counted():
    e = stats.mean([float(i) for i in range(30)] + [math.nan], "image")
    assert e.method == "BCa bootstrap" and e.n == 30 and e.low < 14.5 < e.high


@pytest.mark.parametrize(
    "values,direction,expected",
    [
        ([0.20, 0.21, 0.22], ">", "holds"),
        ([-0.20, -0.21, -0.22], ">", "fails"),
        ([-1.0, 1.0, 0.5], ">", "inconclusive"),
        ([-0.20, -0.21, -0.22], "<", "holds"),
        ([0.20, 0.21, 0.22], "<", "fails"),
    ],
)
def test_verdict_both_ways(values, direction, expected):
    e = stats.mean(values, "seed")
    assert stats.verdict(e, direction) == expected


def test_wilson_and_clustered():
    p = stats.proportion(3, 10, "game")
    assert p.method == "Wilson" and 0.1 < p.low < 0.3 < p.high < 0.61
    c = stats.clustered_proportion([1, 2, 3, 4], [5, 5, 5, 5], "image")
    assert c.n == 4 and c.estimate == pytest.approx(0.5) and c.has_interval


def test_claim_finding_text_follows_verdict_and_round_trips():
    e = stats.mean([0.20, 0.21, 0.22], "seed")
    f = stats.claim_finding("t", "x > 0", e, holds="rises: {est}", fails="falls", inconclusive="unclear")
    assert f.verdict == "holds" and f.text.startswith("rises")
    d = f.to_dict()
    assert d["claim"] == "x > 0" and d["evidence"]["estimate"]["n"] == 3
    assert Estimate.from_dict(d["evidence"]["estimate"]) == e
    with pytest.raises(ValueError):
        Finding("t", "x", verdict="maybe")
    assert stats.all_of("holds", "holds") == "holds" and stats.all_of("holds", "fails") == "fails"
    assert stats.all_of("holds", "inconclusive") == "inconclusive"


def test_units_equal_up_to_float_rounding_say_so():
    """A paired difference equal in exact arithmetic but not in floats (0.3 − 0.1 − 0.2 ≠ 0 in binary) is
    reported as 'all values equal', not as a zero-width Student t interval; a real spread still gets one."""
    a = np.array([0.3, 0.7, 0.9, 0.15])
    b = a - 0.1 - 0.2  # a − b is 0.3 up to rounding, differently rounded per unit
    assert np.ptp(a - b) > 0
    e = stats.paired(a, b, "user")
    assert e.method == "all values equal" and e.low == e.high == pytest.approx(0.3)
    assert stats.mean([1.0, 1.0 + 1e-6, 1.0], "seed").method == "Student t"
    d = stats.difference([0.3 - 0.1 - 0.2 + 1, 1.0, 1.0], [0.0, 0.0, 0.0], "seed")
    assert d.method == "all values equal"


def test_a_paired_difference_within_rounding_of_zero_is_zero():
    a = np.array([0.3, 0.7, 0.9])
    b = (a - 0.1) + 0.1  # equal to a in exact arithmetic, not always in floats
    e = stats.paired(a, b, "seed")
    assert e.estimate == 0.0 and stats.verdict(e, ">") == "fails" and stats.verdict(e, "<") == "fails"


def test_an_estimate_without_spread_prints_no_confidence_level():
    assert str(stats.mean([0.0, 0.0, 0.0], "seed")) == "0 [0, 0] (all 3 seeds equal)"
