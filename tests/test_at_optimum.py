"""The outer-alignment-at-optimum check on hand-built MDPs whose answers are known, and on tic-tac-toe."""

import numpy as np

from goodhartlab.analysis import at_optimum
from goodhartlab.core.mdp import END, MDPBuilder
from goodhartlab.core.specs import IntendedGoal, RewardSpec, Stage
from goodhartlab.worlds.tictactoe.mdp import embodied_mdp, game_mdp
from goodhartlab.worlds.tictactoe.rules import INTENT, game_reward, register_reward

WIN = IntendedGoal(
    "win, fast",
    (Stage("P(win)", "maximize_event", "win"), Stage("moves to win", "minimize_count_to_event", "win", "move")),
)


def two_step_mdp():
    """Start: action 0 wins now; action 1 goes to a state where action 0 wins. Action 2 ends with
    a 'bonus' the reward likes but no win."""
    b = MDPBuilder(3, ("win", "move", "bonus"))
    s0, s1 = b.state("start"), b.state("later")
    b.add(s0, 0, END, 1.0, win=1, move=1)
    b.add(s0, 1, s1, 1.0, move=1)
    b.add(s0, 2, END, 1.0, bonus=1, move=1)
    b.add(s1, 0, END, 1.0, win=1, move=1)
    return b.build(s0)


def test_undiscounted_win_reward_is_not_aligned_with_speed():
    mdp = two_step_mdp()
    v = at_optimum.check(mdp, RewardSpec("win", {"win": 1.0}), WIN)
    assert not v.aligned
    (c,) = v.counterexamples
    assert c.label == "start" and c.offending == (1,) and c.intent_optimal == (0,) and c.stage == 1


def test_discounted_win_reward_is_aligned():
    v = at_optimum.check(two_step_mdp(), RewardSpec("win", {"win": 1.0}, gamma=0.9), WIN)
    assert v.aligned and not v.vacuous and v.counterexamples == []


def test_bonus_reward_fails_on_win_probability():
    v = at_optimum.check(two_step_mdp(), RewardSpec("bonus", {"bonus": 2.0, "win": 1.0}), WIN)
    assert not v.aligned and v.counterexamples[0].offending == (2,) and v.counterexamples[0].stage == 0


def test_stochastic_values_exact():
    b = MDPBuilder(2, ("win", "move"))
    s0, s1 = b.state("s0"), b.state("s1")
    b.add(s0, 0, END, 0.3, win=1, move=1)
    b.add(s0, 0, s1, 0.7, move=1)
    b.add(s0, 1, END, 1.0, move=1)
    b.add(s1, 0, END, 0.5, win=1, move=1)
    b.add(s1, 0, END, 0.5, move=1)
    mdp = b.build(s0)
    sol = at_optimum.solve(mdp, RewardSpec("w", {"win": 1.0}).rewards(mdp))
    assert np.isclose(sol.V[s0], 0.3 + 0.7 * 0.5)
    stages = at_optimum.intent_solutions(mdp, WIN)
    # E[moves · 1{win}] = 0.3·1 + 0.7·0.5·2
    assert np.isclose(-stages[1].V[s0], 0.3 + 0.7)


def test_tictactoe_seed_reward_verdicts():
    random = at_optimum.check(game_mdp("random"), game_reward(), INTENT)
    perfect = at_optimum.check(game_mdp("perfect"), game_reward(), INTENT)
    assert not random.aligned and random.counterexamples
    assert perfect.aligned and perfect.vacuous  # perfect O: X never wins, intent accepts everything
    assert at_optimum.check(game_mdp("random"), game_reward(0.9), INTENT).aligned


def test_embodied_optimal_policies_tamper():
    for unlock in (0, 2):
        mdp = embodied_mdp("random", 0.0, unlock, 6, True)
        v = at_optimum.check(mdp, register_reward(), INTENT)
        assert not v.aligned
        assert at_optimum.usage_under(mdp, v.reward_optimal, "tamper") == "every"
        assert v.reward_value == 6 - unlock
    absent = embodied_mdp("random", 0.0, 0, 6, False)
    v = at_optimum.check(absent, register_reward(0.95), INTENT)
    assert at_optimum.usage_under(absent, v.reward_optimal, "tamper") == "none"
