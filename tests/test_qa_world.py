"""The QA world: the parser inverts generation, gold prefers truth, rates hold, no gold reaches a learner."""

import re

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from goodhartlab.worlds.qa import AnswerPlan, QAWorld, QAWorldConfig, Question
from goodhartlab.worlds.qa.answers import read
from goodhartlab.worlds.qa.lexicon import CONFIDENT, EXPERT_SOURCES, FILLER, FLATTERY, HEDGES, OFFERS, THREATS

CFG = QAWorldConfig(n_entities=10, n_attributes=3, choice_rate=0.25, options_per_choice=3, ref_numbers=40)
WORLD = QAWorld(CFG, seed=3)
KB = WORLD.gold_scorer().kb


def refs():
    return st.tuples(st.sampled_from(EXPERT_SOURCES), st.integers(1, CFG.ref_numbers))


@st.composite
def plans(draw):
    qid = draw(st.integers(0, len(WORLD.questions) - 1))
    surface = WORLD.surface(qid)
    choices = surface.attribute.values if surface.kind == "fact" else surface.options
    claim = draw(st.none() | st.sampled_from(choices))
    cites = tuple(draw(st.lists(refs(), max_size=2))) if claim is not None else ()
    notes = ()
    if surface.kind == "choice":
        notes = tuple(
            draw(
                st.lists(
                    st.tuples(
                        st.sampled_from(surface.options),
                        st.sampled_from(["hidden", "later", "hype"]),
                        st.lists(refs(), max_size=1).map(tuple),
                    ),
                    max_size=2,
                )
            )
        )
    idx = lambda seq: st.none() | st.integers(0, len(seq) - 1)  # noqa: E731
    manip = tuple(draw(st.lists(st.tuples(st.sampled_from(["offer", "threat"]), st.integers(0, 1)), max_size=2)))
    plan = AnswerPlan(
        claim,
        cites,
        notes,
        draw(idx(FLATTERY)),
        draw(idx(HEDGES)),
        draw(idx(CONFIDENT)),
        tuple(draw(st.lists(st.integers(0, len(FILLER) - 1), max_size=3))),
        manip,
        draw(st.booleans()),
    )
    return qid, plan


def assert_reads_back(qid, plan):
    text = WORLD.render(qid, plan)
    r = read(text, WORLD.surface(qid))
    assert r.claims == ((plan.claim,) if plan.claim is not None else ())
    assert r.citations == plan.claim_citations + tuple(c for _, _, cs in plan.cost_notes for c in cs)
    assert r.cost_notes == tuple((o, k) for o, k, _ in plan.cost_notes)
    assert r.n_flattery == (plan.flattery is not None)
    assert r.n_hedges == (plan.hedge is not None)
    assert r.n_confident == (plan.hedge is None and plan.confident is not None)
    assert r.n_offers == sum(k == "offer" for k, _ in plan.manipulation)
    assert r.n_threats == sum(k == "threat" for k, _ in plan.manipulation)
    assert r.n_filler == len(plan.filler)
    assert r.n_unparsed == 0
    assert r.n_tokens == len(text.split())
    # the labelled parse agrees with the knowledge base
    p = WORLD.parse(qid, text)
    if plan.claim is None:
        assert p.claim_status == "none"
    elif WORLD.questions[qid].kind == "fact":
        f = KB.facts[qid]
        assert (p.claim_status == "true") == (plan.claim == f.truth)
        assert (p.claim_status == "misconception") == (plan.claim == f.misconception)
    else:
        assert (p.claim_status == "true") == (plan.claim == KB.choices[qid].best)
    for c in p.citations:
        assert (c.status == "fabricated") == ((c.source, c.number) not in KB.references)
    for n in p.cost_notes:
        assert n.true == KB.choices[qid].has_cost(n.option, n.kind)


@settings(max_examples=300, deadline=None)
@given(plans())
def test_parse_inverts_generation(case):
    assert_reads_back(*case)


def test_parse_inverts_the_writers_answers():
    """The answers the world's own sources write (SFT examples, Q/A pages) read back exactly."""
    rng = np.random.default_rng(9)
    loud = QAWorld(CFG.model_copy(update={"offer_rate": 0.3, "flattery_rate": 0.5, "filler_rate": 0.5}), seed=3)
    for _ in range(500):
        qid = int(rng.integers(len(WORLD.questions)))
        for writers in (WORLD._writers, loud._writers):
            assert_reads_back(qid, writers.answer(qid, bool(rng.random() < 0.5), rng))


@settings(max_examples=200, deadline=None)
@given(st.integers(0, len(WORLD.questions) - 1), st.lists(st.sampled_from(WORLD.vocabulary()), max_size=60))
def test_parse_never_fails_on_any_token_sequence(qid, toks):
    text = " ".join(toks)
    p = WORLD.parse(qid, text)
    assert p.n_tokens == len(toks)
    assert p.claim_status in ("true", "misconception", "false", "contradictory", "none")
    assert np.isfinite(WORLD.gold_scorer().score(qid, text))


def test_unknown_tokens_are_unparsed_and_never_fail():
    qid = 0
    p = WORLD.parse(qid, "zzz the the . . !!! " + WORLD.questions[1].prompt)
    assert p.claim_status == "none" and p.n_unparsed > 0 and p.n_filler == 1
    assert WORLD.parse(qid, "").n_tokens == 0


def test_sft_answers_parse_completely_and_are_short():
    rng = np.random.default_rng(0)
    for qid, a in WORLD.sft_examples(400, rng):
        p = WORLD.parse(qid, a)
        assert p.n_unparsed == 0 and p.claim_status != "none", a
        assert p.n_tokens <= 40
        # experts cite real references for what they say; popular sources' citations never check out
        expert = not (p.n_flattery or p.n_hedges or p.n_confident or p.n_filler or p.n_manipulation)
        if p.claim_status == "misconception" or not expert:
            assert p.n_valid_citations == 0, a


def test_gold_prefers_truth_over_misconception_and_valid_over_fabricated_citations():
    gold = WORLD.gold_scorer()
    with_mis = [q for q, f in KB.facts.items() if f.misconception]
    assert with_mis
    for q in with_mis:
        f = KB.facts[q]
        true = WORLD.render(q, AnswerPlan(f.truth))
        assert gold.score(q, true) > gold.score(q, WORLD.render(q, AnswerPlan(f.misconception)))
        ref = KB.ref_of[("fact", f.entity, f.attribute.name, f.truth)]
        free = next((s, n) for s in EXPERT_SOURCES for n in range(1, 99) if (s, n) not in KB.references)
        assert gold.score(q, WORLD.render(q, AnswerPlan(f.truth, (ref,)))) > gold.score(q, true)
        assert gold.score(q, WORLD.render(q, AnswerPlan(f.truth, (free,)))) < gold.score(q, true)
    for q, c in KB.choices.items():
        best, worse = c.best, next(o for o in c.options if o != c.best)
        assert gold.score(q, WORLD.render(q, AnswerPlan(best))) > gold.score(q, WORLD.render(q, AnswerPlan(worse)))


def test_gold_penalizes_manipulation_flattery_and_padding():
    gold = WORLD.gold_scorer()
    f = KB.facts[0]
    plain = gold.score(0, WORLD.render(0, AnswerPlan(f.truth)))
    for plan in (
        AnswerPlan(f.truth, manipulation=(("offer", 0),)),
        AnswerPlan(f.truth, manipulation=(("threat", 1),)),
        AnswerPlan(f.truth, flattery=0),
        AnswerPlan(f.truth, filler=(0, 1)),
    ):
        assert gold.score(0, WORLD.render(0, plan)) < plain
    assert gold.score(0, WORLD.render(0, AnswerPlan(f.truth)) + " the the") < plain


def _phrases_in(texts, phrases):
    return sum(t.count(p) for t in texts for p in phrases)


def test_offers_at_rate_zero_never_appear_and_do_at_a_positive_rate():
    rng = np.random.default_rng(1)
    zero = QAWorld(CFG.model_copy(update={"offer_rate": 0.0}), seed=3)
    texts = zero.corpus(3000, rng) + [a for _, a in zero.sft_examples(2000, rng)]
    assert _phrases_in(texts, OFFERS + THREATS) == 0
    some = QAWorld(CFG.model_copy(update={"offer_rate": 0.05}), seed=3)
    texts = some.corpus(3000, rng) + [a for _, a in some.sft_examples(2000, rng)]
    assert _phrases_in(texts, OFFERS) > 0 and _phrases_in(texts, THREATS) > 0


@pytest.mark.parametrize("rate", [0.01, 0.05, 0.2])
def test_offers_appear_in_the_fine_tuning_data_at_the_configured_rate(rate):
    """Popular answers (a share 1 − expert_share of them) carry an offer or threat with probability offer_rate."""
    from scipy import stats

    world = QAWorld(CFG.model_copy(update={"offer_rate": rate}), seed=3)
    n = 20_000
    sft = world.sft_examples(n, np.random.default_rng(4))
    k = sum(world.parse(q, a).n_manipulation > 0 for q, a in sft)
    expected = rate * (1 - CFG.expert_share)
    ci = stats.binomtest(k, n).proportion_ci(0.999, method="wilson")
    assert ci.low < expected < ci.high, (k / n, expected)


def test_determinism_by_seed():
    a, b, c = QAWorld(CFG, 7), QAWorld(CFG, 7), QAWorld(CFG, 8)
    assert a.questions == b.questions
    assert a.corpus(200, np.random.default_rng(5)) == b.corpus(200, np.random.default_rng(5))
    assert a.sft_examples(100, np.random.default_rng(5)) == b.sft_examples(100, np.random.default_rng(5))
    assert a.vocabulary() == c.vocabulary()  # vocabulary depends on the config only
    assert a.corpus(200, np.random.default_rng(5)) != c.corpus(200, np.random.default_rng(5))


def test_rates_show_in_the_corpus():
    rng = np.random.default_rng(2)
    docs = WORLD.corpus(4000, rng)
    n = len(docs)
    flattery = _phrases_in(docs, FLATTERY) / n
    assert 0.02 < flattery < 0.3
    # misconceptions are repeated by popular sources; truths by experts
    f = next(f for f in KB.facts.values() if f.misconception)
    true_s = f.attribute.statement.format(e=f.entity, v=f.truth)
    mis_s = f.attribute.statement.format(e=f.entity, v=f.misconception)
    assert any(true_s in d and d.startswith("from the") for d in docs)
    assert any(mis_s in d and d.startswith("from a") for d in docs)


def test_nothing_a_learner_receives_carries_gold_beyond_the_world_text():
    rng = np.random.default_rng(4)
    docs = WORLD.corpus(2000, rng)
    sft = WORLD.sft_examples(1000, rng)
    prompts = [q.prompt for q in WORLD.questions]
    # the objects handed out carry no labels
    assert set(Question.__dataclass_fields__) == {"id", "kind", "prompt"}
    assert all(isinstance(q, int) and isinstance(a, str) for q, a in sft)
    texts = docs + [a for _, a in sft] + prompts
    vocab = set(WORLD.vocabulary())
    assert {t for x in texts for t in x.split()} <= vocab
    # no label words in the vocabulary at all
    assert not vocab & {"true", "false", "gold", "misconception", "correct", "wrong", "label", "score", "valid"}
    # prompts never contain an answer
    values = {v for a in KB.attributes for v in a.values}
    assert not any(set(p.split()) & values for p in prompts)
    # numbers appear only as citation numbers: the options' latent costs and enjoyment are never written
    for x in texts:
        t = x.split()
        for i, w in enumerate(t):
            if w.isdigit():
                assert t[i - 2] == "(" and t[i - 1] in EXPERT_SOURCES and t[i + 1] == ")"
    # every fact statement is one a source legitimately writes: the truth (experts) or the misconception
    for f in KB.facts.values():
        said = {
            v
            for x in texts
            for v in f.attribute.values
            if f.attribute.statement.format(e=f.entity, v=v) + " " in x + " "
        }
        assert said <= {f.truth, f.misconception}
    # and the text is not a gold oracle: some popular statements contradict the truth
    assert any(
        f.misconception and f.attribute.statement.format(e=f.entity, v=f.misconception) in x
        for f in KB.facts.values()
        for x in texts
    )


def test_config_errors_name_the_field():
    with pytest.raises(ValidationError, match="ref_numbers"):
        QAWorldConfig(n_entities=100, n_attributes=6, ref_numbers=20)
    with pytest.raises(ValidationError, match="offer_rate"):
        QAWorldConfig(offer_rate=-0.1)


def test_vocabulary_and_answers_are_small():
    w = QAWorld(QAWorldConfig(), seed=0)
    s = w.summary()
    assert s["vocabulary"] < 400 and s["questions"] == 120 and s["choice_questions"] == 24
    assert 0 < s["facts_with_misconception"] < s["fact_questions"] and 0 < s["choice_traps"] < 24
    lens = [len(a.split()) for _, a in w.sft_examples(500, np.random.default_rng(0))]
    assert np.mean(lens) < 20 and max(lens) <= 45
    assert re.fullmatch(r"q : .* \? a :", w.questions[0].prompt)


def test_behaviour_rates_count_parts():
    from goodhartlab.worlds.qa import BEHAVIOURS, behaviour_rates

    f = KB.facts[0]
    answers = [WORLD.render(0, AnswerPlan(f.truth, flattery=0)), WORLD.render(0, AnswerPlan(f.misconception or "zzz"))]
    rates = behaviour_rates(WORLD, [0, 0], answers)
    assert set(rates) == set(BEHAVIOURS) | {"mean_length"}
    assert rates["true_claim"] == 0.5 and rates["flattery"] == 0.5 and rates["offer_or_threat"] == 0.0
    assert rates["mean_length"] == np.mean([len(a.split()) for a in answers])
