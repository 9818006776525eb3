"""The amplification world: H's decompositions, HCH, the blind spot, and the exact optimum on a hand-worked case."""

from __future__ import annotations

import numpy as np
import pytest

from goodhartlab.core import rng
from goodhartlab.oversight.amplification import HCH, amplify, hch_unmemoized
from goodhartlab.oversight.amplification_debate import debate, lie
from goodhartlab.oversight.optimum import closure, exact_optimum
from goodhartlab.worlds.amplification import TASKS, Human, TaskSizes, World, build_world
from goodhartlab.worlds.amplification.tasks import WildcardSearch


@pytest.fixture(scope="module")
def world() -> World:
    return build_world(list(TASKS), TaskSizes(), 10, rng.generator(3, "world"))


def test_every_task_is_present_and_sized(world):
    sizes = {name: len(t.questions()) for name, t in world.tasks.items()}
    assert sizes["perm"] == 8 * 9 and sizes["wild"] == 3**4 and sizes["path"] == 5 * 5 * 4
    assert sizes["arith"] >= 12


def test_decompositions_compose_to_truth_when_h_makes_no_errors(world):
    # One level: H answers each question with the TRUE answers to its subquestions; this must be the truth.
    human = Human(world)
    compound = 0
    for q in world.questions():
        answer, asked = amplify(human, q, world.truth)
        assert answer == world.truth(q), (q, asked)
        compound += bool(asked)
    assert compound > 100


def test_hch_equals_truth_when_h_makes_no_errors(world):
    hch = HCH(Human(world))
    for q in world.questions():
        assert hch.answer(q, 64) == world.truth(q), q


def test_hch_accuracy_grows_with_depth_and_h_errors_cost_accuracy(world):
    qs = world.questions()
    exact = HCH(Human(world))
    acc = [np.mean([exact.answer(q, d) == world.truth(q) for q in qs]) for d in range(5)]
    assert acc[0] < acc[2] < acc[4] == 1.0
    noisy = HCH(Human(world, error_rate=0.05, salt=1))
    assert 0.5 < np.mean([noisy.answer(q, 64) == world.truth(q) for q in qs]) < 1.0


def test_memoized_hch_matches_unmemoized_recursion(world):
    human = Human(world, error_rate=0.05, error_kind="random", salt=7)
    hch = HCH(human)
    for q in world.questions()[::7]:
        answer, calls = hch_unmemoized(human, q, 4)
        assert (hch.answer(q, 4), hch.tree_calls(q, 4)) == (answer, calls)


def test_blind_spot_admits_a_known_wrong_answer():
    w = build_world(["wild"], TaskSizes(wildcard_length=1), 10, rng.generator(0, "w"))
    task = w.tasks["wild"]
    task.values.update({"a": 3, "b": 4})
    q = ("wild", "*")
    assert w.truth(q) == 7
    for spot, wrong, caught in (("parity", 5, 6), ("half", 9, 2)):
        human = Human(w, blind_spot=spot)
        reference, _ = amplify(human, q, w.truth)
        assert reference == 7
        assert human.approve(wrong, reference) and wrong != w.truth(q)
        assert not human.approve(caught, reference)


def test_bandwidth_limits_bite(world):
    narrow = Human(world, max_read=4)
    q = next(q for q in world.questions() if len(world.render(q)) > 4 and world.truth(q) != 0)
    assert amplify(narrow, q, world.truth)[0] == 0


def test_exact_optimum_on_a_hand_worked_case():
    # Wildcard search over one letter: questions 'a', 'b', '*' with values a=1, b=2 and answers mod 4.
    # Imitative: M(a)=1, M(b)=2 are H's atomic answers and M(*)=M(a)+M(b)=3 → exactly one optimal model.
    # Approval (parity check): M(a) ∈ {1,3}, M(b) ∈ {0,2}, M(*) must share the parity of M(a)+M(b), which is
    # odd → {1,3}: 2·2·2 = 8 optimal models with approval 3, of which one is the truth.
    task = WildcardSearch({"a": 1, "b": 2}, length=1, answers=4)
    w = World({"wild": task}, 4)
    human = Human(w, blind_spot="parity")
    qs = closure(human, [("wild", "*")])
    assert sorted(qs) == [("wild", "*"), ("wild", "a"), ("wild", "b")]
    truth = np.array([w.truth(q) for q in qs])
    r = exact_optimum(human, qs, truth, truth)
    assert r["models"] == 64
    assert (r["imitative_optimal"], r["imitative_min_loss"], r["imitative_aligned_hch"]) == (1, 0, True)
    assert (r["approval_optimal"], r["approval_max"], r["approval_optimal_true"]) == (8, 3, 1)
    assert not r["approval_aligned_truth"]
    star = next(e for e in r["examples"] if e["question"] == ("wild", "*"))
    assert star["optimal_wrong_answers"] == [1]


def test_debate_with_an_error_free_judge_always_finds_the_truth(world):
    human = Human(world)
    for q in [q for q in world.questions() if not world.atomic(q)][::9]:
        won, _ = debate(human, q, lie(human, world.truth(q)), world.truth)
        assert won, q
