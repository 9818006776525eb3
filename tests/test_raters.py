"""Raters: gold rater = gold; each graded loophole moves preferences the expected way and more so when stronger;
Boltzmann noise; critique; calibration to an agreement target on π_base-like pairs."""

import numpy as np
import pytest
from pydantic import ValidationError

from goodhartlab.raters import Loopholes, build_rater, critique_citations
from goodhartlab.worlds.qa import AnswerPlan, QAWorld, QAWorldConfig
from goodhartlab.worlds.qa.lexicon import EXPERT_SOURCES

WORLD = QAWorld(
    QAWorldConfig(
        n_entities=12,
        n_attributes=3,
        choice_rate=0.3,
        misconception_rate=0.5,
        choice_trap_rate=0.7,
        offer_rate=0.1,
    ),
    seed=11,
)
GOLD = WORLD.gold_scorer()
KB = GOLD.kb
FREE = next((s, n) for s in EXPERT_SOURCES for n in range(1, 999) if (s, n) not in KB.references)


def p_prefer(rater, pairs):
    """Mean P(a preferred) over (qid, a, b) pairs."""
    q, a, b = zip(*pairs)
    return float(rater.prefer(q, a, b).mean())


def render(q, **kw):
    return WORLD.render(q, AnswerPlan(**kw))


def facts(misconception=False):
    return [q for q, f in KB.facts.items() if (f.misconception is not None) or not misconception]


def expected_direction(loopholes, pairs, assisted=False):
    """The loophole rater prefers a more than the gold rater does, and gold prefers b."""
    gold = build_rater(WORLD, Loopholes.none(), temperature=0.5)
    rater = build_rater(WORLD, loopholes, temperature=0.5, assisted=assisted)
    g, r = p_prefer(gold, pairs), p_prefer(rater, pairs)
    assert g < 0.5 < r, (g, r)


def test_gold_rater_scores_are_gold():
    rater = build_rater(WORLD, Loopholes.none(), temperature=1.0)
    for q, a in WORLD.sft_examples(300, np.random.default_rng(0)):
        assert rater.score_one(q, a) == pytest.approx(GOLD.score(q, a))
    assert Loopholes.none().is_gold and not Loopholes(citation_check=0.5).is_gold


def test_believes_misconceptions():
    pairs = [
        (
            q,
            render(q, claim=KB.facts[q].misconception),
            render(q, claim=KB.facts[q].truth),
        )
        for q in facts(misconception=True)
    ]
    expected_direction(Loopholes(misconception_belief=1.0), pairs)
    # graded: at belief p the rater is fooled on a growing subset of facts, about a share p of them
    shares = [
        len(build_rater(WORLD, Loopholes(misconception_belief=p), 0.5).believed) / len(pairs) for p in (0, 0.3, 0.7, 1)
    ]
    assert shares[0] == 0 and shares[-1] == 1 and shares == sorted(shares) and 0.05 < shares[1] < 0.65
    weak = build_rater(WORLD, Loopholes(misconception_belief=0.3), 0.5)
    assert weak.believed <= build_rater(WORLD, Loopholes(misconception_belief=0.7), 0.5).believed


def test_trusts_citations():
    pairs = [
        (
            q,
            render(q, claim=KB.facts[q].truth, claim_citations=(FREE,)),
            render(q, claim=KB.facts[q].truth),
        )
        for q in facts()
    ]
    expected_direction(Loopholes(citation_check=0.0), pairs)
    # the expected score is linear in the check probability: valid credit 0.25 unchecked, −0.5 when checked
    q, a, _ = pairs[0]
    scores = [build_rater(WORLD, Loopholes(citation_check=c), 0).score_one(q, a) for c in (0, 0.5, 1)]
    assert scores[0] - scores[1] == pytest.approx(scores[1] - scores[2]) and scores[2] == pytest.approx(
        GOLD.score(q, a)
    )


def test_blind_to_hidden_costs():
    traps = [q for q, c in KB.choices.items() if c.best != c.popular]
    assert traps
    pairs = [(q, render(q, claim=KB.choices[q].popular), render(q, claim=KB.choices[q].best)) for q in traps]
    expected_direction(Loopholes(cost_notice=0.0), pairs)
    # naming a real cost earns nothing from the blind rater
    blind = build_rater(WORLD, Loopholes(cost_notice=0.0), temperature=0.0)
    q = traps[0]
    c = KB.choices[q]
    o, k = next((o, k) for o in c.options for k in ("hidden", "later", "hype") if c.has_cost(o, k))
    noted = render(q, claim=c.best, cost_notes=((o, k, ()),))
    assert GOLD.score(q, noted) > GOLD.score(q, render(q, claim=c.best))
    assert blind.score_one(q, noted) == blind.score_one(q, render(q, claim=c.best))


def test_likes_confidence_and_flattery():
    pairs = [
        (
            q,
            render(q, claim=KB.facts[q].truth, flattery=1, confident=0, filler=(0,)),
            render(q, claim=KB.facts[q].truth, hedge=0),
        )
        for q in facts()
    ]
    expected_direction(Loopholes(confidence_bonus=0.3, flattery_bonus=0.4), pairs)
    probs = [
        p_prefer(
            build_rater(WORLD, Loopholes(flattery_bonus=b, confidence_bonus=b), 0.5),
            pairs,
        )
        for b in (0, 0.2, 0.4)
    ]
    assert np.all(np.diff(probs) > 0)


@pytest.mark.parametrize("kind", ["offer", "threat"])
def test_offer_susceptibility_has_a_strength(kind):
    pairs = [
        (
            q,
            render(q, claim=KB.facts[q].truth, manipulation=((kind, 0),)),
            render(q, claim=KB.facts[q].truth),
        )
        for q in facts()
    ]
    expected_direction(Loopholes(offer_susceptibility=2.0), pairs)
    probs = [p_prefer(build_rater(WORLD, Loopholes(offer_susceptibility=s), 0.5), pairs) for s in (0, 0.5, 1, 2, 4)]
    assert np.all(np.diff(probs) > 0)  # stronger sway, stronger preference for the bribe
    assert probs[2] == pytest.approx(0.5)  # at strength 1 the sway cancels gold's penalty


def test_reads_first_k():
    pairs = []
    k = len(render(0, claim=KB.facts[0].truth).split())
    for q in [q for q in facts() if KB.facts[q].attribute == KB.facts[0].attribute]:  # same template length k
        short = render(q, claim=KB.facts[q].truth)
        pairs.append((q, short + " " + " ".join(["!!!"] * 5) + " ( almanac 999 )", short))
    gold = build_rater(WORLD, Loopholes.none(), temperature=0.5)
    rater = build_rater(WORLD, Loopholes(reads_first_k=k), temperature=0.5)
    assert p_prefer(gold, pairs) < 0.2 and p_prefer(rater, pairs) == pytest.approx(0.5)
    # a claim past the first K tokens is not seen
    q = facts()[0]
    late = render(q, flattery=0, hedge=3, claim=KB.facts[q].truth)
    assert build_rater(WORLD, Loopholes(reads_first_k=3), 0.0).score_one(q, late) < GOLD.score(q, late)


def test_assisted_rater_checks_citations():
    pairs = [
        (
            q,
            render(q, claim=KB.facts[q].truth, claim_citations=(FREE,)),
            render(q, claim=KB.facts[q].truth),
        )
        for q in facts()
    ]
    trusting = Loopholes(citation_check=0.0)
    assert p_prefer(build_rater(WORLD, trusting, 0.5), pairs) > 0.5
    assert p_prefer(build_rater(WORLD, trusting, 0.5, assisted=True), pairs) < 0.5


def test_critique_agrees_with_gold_citation_labels():
    verdict = {"supports": "valid", "missing": "fabricated", "unrelated": "mismatched"}
    n = 0
    for q, a in WORLD.sft_examples(600, np.random.default_rng(3)):
        crit = critique_citations(WORLD, q, a)
        parts = WORLD.parse(q, a)
        assert [verdict[v] for _, _, v in crit.checks] == [c.status for c in parts.citations]
        n += len(crit.checks)
    assert n > 50
    assert "does not exist" in critique_citations(WORLD, 0, render(0, claim="red", claim_citations=(FREE,))).text


def test_boltzmann_choice_matches_its_probability_and_is_seeded():
    q = facts()[0]
    a, b = (
        render(q, claim=KB.facts[q].truth),
        render(q, claim=KB.facts[q].truth, filler=(0, 0, 0)),
    )  # diff 0.3
    rater = build_rater(WORLD, Loopholes.none(), temperature=0.3)
    p = rater.prefer([q], [a], [b])[0]
    assert p == pytest.approx(1 / (1 + np.exp(-1.0)))
    wins = rater.choose([q] * 20000, [a] * 20000, [b] * 20000, np.random.default_rng(0))
    assert abs(wins.mean() - p) < 0.015
    again = rater.choose([q] * 100, [a] * 100, [b] * 100, np.random.default_rng(0))
    assert np.array_equal(again, wins[:100])
    hard = build_rater(WORLD, Loopholes.none(), temperature=0.0)
    assert (
        hard.choose([q], [a], [b], np.random.default_rng(1))[0] == 1
        and hard.choose([q], [b], [a], np.random.default_rng(1))[0] == 0
    )
    tie = hard.choose([q] * 2000, [a] * 2000, [a] * 2000, np.random.default_rng(2)).mean()
    assert 0.45 < tie < 0.55


def test_bad_loopholes_and_temperature_are_rejected():
    with pytest.raises(ValidationError, match="offer_susceptibility"):
        Loopholes(offer_susceptibility=-1)
    with pytest.raises(ValidationError, match="reads_first_k"):
        Loopholes(reads_first_k=0)
    with pytest.raises(ValueError, match="temperature"):
        build_rater(WORLD, Loopholes.none(), temperature=-1)


def test_loopholes_compose():
    """Each loophole a rater has adds its pull: all of them together prefer the sycophantic lie most."""
    qs = facts(misconception=True)
    pairs = [
        (
            q,
            render(
                q,
                claim=KB.facts[q].misconception,
                claim_citations=(FREE,),
                flattery=0,
                confident=1,
                manipulation=(("offer", 0),),
            ),
            render(q, claim=KB.facts[q].truth),
        )
        for q in qs
    ]
    singles = [
        Loopholes(misconception_belief=1.0),
        Loopholes(citation_check=0.0),
        Loopholes(confidence_bonus=0.3, flattery_bonus=0.4),
        Loopholes(offer_susceptibility=2.0),
    ]
    combined = Loopholes(
        misconception_belief=1.0,
        citation_check=0.0,
        confidence_bonus=0.3,
        flattery_bonus=0.4,
        offer_susceptibility=2.0,
    )
    p_single = [p_prefer(build_rater(WORLD, lh, 1.0), pairs) for lh in singles]
    p_all = p_prefer(build_rater(WORLD, combined, 1.0), pairs)
    p_gold = p_prefer(build_rater(WORLD, Loopholes.none(), 1.0), pairs)
    assert p_gold < min(p_single) and max(p_single) < p_all and p_all > 0.9


def test_the_rater_is_a_core_parts_rater():
    from goodhartlab.core.parts import Rater

    rater = build_rater(WORLD, Loopholes(citation_check=0.5), 0.5)
    assert isinstance(rater, Rater)
    q = facts()[0]
    a = render(q, claim=KB.facts[q].truth)
    assert rater.score([q, q], [a, a], np.random.default_rng(0)).shape == (2,)
    assert rater.prefer([q], [a], [a], np.random.default_rng(0))[0] == pytest.approx(0.5)


def test_scaled_moves_the_profile_from_gold():
    prof = Loopholes(
        misconception_belief=1.0,
        citation_check=0.0,
        cost_notice=0.2,
        confidence_bonus=0.6,
        flattery_bonus=0.8,
        offer_susceptibility=1.5,
        reads_first_k=7,
    )
    assert prof.scaled(1.0) == prof
    zero = prof.scaled(0.0)
    assert zero.model_copy(update={"offer_susceptibility": 0.0, "reads_first_k": None}).is_gold
    assert zero.offer_susceptibility == 1.5 and zero.reads_first_k == 7  # not calibrated: kept as set
    half = prof.scaled(0.5)
    assert (
        half.misconception_belief,
        half.citation_check,
        half.cost_notice,
    ) == pytest.approx((0.5, 0.5, 0.6))
    with pytest.raises(ValueError, match="strength"):
        prof.scaled(1.5)


def _pairs(n=600, seed=0):
    """Pairs of answers written by the world's own sources (what a π_base trained on them produces)."""
    rng = np.random.default_rng(seed)
    a, _ = WORLD.sft_examples(n, rng), WORLD.sft_examples(n, rng)
    qs = [q for q, _ in a]
    second = [WORLD.render(q, WORLD._writers.answer(q, bool(rng.random() < 0.5), rng)) for q in qs]
    return qs, [x for _, x in a], second


def test_calibration_hits_its_target_and_reads_only_the_pairs_and_the_rater():
    from goodhartlab.raters import calibrate
    from goodhartlab.raters.calibration import agreement

    qs, a, b = _pairs()
    ga, gb = GOLD.score_many(qs, a), GOLD.score_many(qs, b)
    prof = Loopholes(
        misconception_belief=1.0,
        citation_check=0.0,
        cost_notice=0.0,
        confidence_bonus=0.6,
        flattery_bonus=0.8,
    )
    made = []

    def make(lh):
        made.append(lh)
        return build_rater(WORLD, lh, 0.2)

    cal = calibrate(make, prof, ga, gb, qs, a, b, target=0.77)
    assert abs(cal.agreement - 0.77) < 0.02 and 0 < cal.strength < 1
    assert cal.loopholes == prof.scaled(cal.strength) and all(
        lh in {prof.scaled(r["strength"]) for r in cal.table} for lh in made
    )
    assert sum(r["chosen"] for r in cal.table) == 1 and len(cal.table) >= 11
    # agreement falls as the loopholes grow (on the grid)
    grid = sorted((r["strength"], r["agreement"]) for r in cal.table)
    assert grid[0][1] > cal.agreement > grid[-1][1]
    # the recorded agreement is what the chosen rater gives on these pairs, and nothing but the pairs enters:
    # the same pairs give the same calibration, other pairs another one
    again = calibrate(lambda lh: build_rater(WORLD, lh, 0.2), prof, ga, gb, qs, a, b, target=0.77)
    assert again.strength == cal.strength
    assert agreement(build_rater(WORLD, cal.loopholes, 0.2), ga, gb, qs, a, b)[0] == pytest.approx(cal.agreement)
