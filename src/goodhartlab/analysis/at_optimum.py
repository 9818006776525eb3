"""Outer alignment at optimum, by exact dynamic programming on a finite MDP.

A reward is *outer aligned at optimum* for an intended goal when every policy
that is optimal under the reward (from the initial state) is also optimal
under the intended goal. For an MDP whose states can't recur (acyclic, as any
finite game or horizon-bounded episode), a policy is optimal iff it picks an
optimal action at every state it reaches with positive probability. So:

    aligned  ⇔  for every state s reachable by reward-optimal play,
                R*(s) ⊆ I*(s)

where R*(s) and I*(s) are the reward- and intent-optimal action sets. Any
state where R*(s) ⊄ I*(s) is a counterexample: a reward-optimal policy can take
an action there that the intended goal rejects, and that state is reached with
positive probability.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from goodhartlab.core.mdp import END, FiniteMDP
from goodhartlab.core.specs import IntendedGoal, RewardSpec

TOL = 1e-9


@dataclass(frozen=True)
class Solution:
    """V: float[S]; Q: float[S, A] (-inf where illegal or excluded); optimal: bool[S, A]."""

    V: np.ndarray
    Q: np.ndarray
    optimal: np.ndarray


def solve(
    mdp: FiniteMDP, reward: np.ndarray, gamma: float = 1.0, allowed: np.ndarray | None = None, max_iter: int = 100_000
) -> Solution:
    """Optimal values and action sets for per-transition ``reward`` (float[T]) over ``allowed`` actions."""
    allowed = mdp.legal if allowed is None else allowed
    S, A = mdp.legal.shape
    sa = mdp.t_state * A + mdp.t_action
    keep = allowed.reshape(-1)[sa]
    sa, nxt, p, r = sa[keep], mdp.t_next[keep], mdp.t_prob[keep], reward[keep]
    has_action = allowed.any(axis=1)
    V = np.zeros(S)
    for _ in range(max_iter):
        Q = np.bincount(sa, weights=p * (r + gamma * V[nxt]), minlength=S * A).reshape(S, A)
        Q = np.where(allowed, Q, -np.inf)
        V_new = np.where(has_action, Q.max(axis=1, initial=-np.inf), 0.0)
        V_new[END] = 0.0
        if np.allclose(V_new, V, rtol=0.0, atol=1e-13):
            V = V_new
            break
        V = V_new
    else:
        raise RuntimeError("value iteration did not converge; is the MDP cyclic with gamma=1?")
    optimal = allowed & (Q >= V[:, None] - TOL * np.maximum(1.0, np.abs(V[:, None])))
    return Solution(V=V, Q=Q, optimal=optimal)


def intent_solutions(mdp: FiniteMDP, goal: IntendedGoal) -> list[Solution]:
    """One solution per lexicographic stage; each stage optimizes among the previous stage's optimal actions."""
    solutions: list[Solution] = []
    allowed = mdp.legal
    for i, stage in enumerate(goal.stages):
        event = mdp.feature(stage.event)
        if stage.kind == "maximize_event":
            reward = event
        elif stage.kind == "minimize_count_to_event":
            prev = goal.stages[i - 1] if i else None
            if prev is None or prev.kind != "maximize_event" or prev.event != stage.event:
                raise ValueError("minimize_count_to_event must follow maximize_event on the same event")
            # E[count · 1{event}] = Σ_t count_t · P(event | after t); under event-optimal play that
            # probability is event_t + V_prev(next_t).
            win_after = event + solutions[-1].V[mdp.t_next]
            reward = -mdp.feature(stage.count) * win_after
        else:
            raise ValueError(f"unknown stage kind {stage.kind!r}")
        sol = solve(mdp, reward, 1.0, allowed)
        solutions.append(sol)
        allowed = sol.optimal
    return solutions


def reachable(mdp: FiniteMDP, allowed: np.ndarray) -> np.ndarray:
    """bool[S]: states reached with positive probability by some policy using only ``allowed`` actions."""
    seen = np.zeros(mdp.n_states, dtype=bool)
    frontier = np.zeros(mdp.n_states, dtype=bool)
    frontier[mdp.initial] = True
    use = allowed[mdp.t_state, mdp.t_action] & (mdp.t_prob > 0)
    while frontier.any():
        seen |= frontier
        step = use & frontier[mdp.t_state]
        frontier = np.zeros_like(seen)
        frontier[mdp.t_next[step]] = True
        frontier &= ~seen
    return seen


def usage_under(mdp: FiniteMDP, allowed: np.ndarray, feature: str) -> str:
    """Do policies restricted to ``allowed`` use transitions with ``feature`` > 0: 'every', 'some' or 'none'?"""
    flagged = np.zeros(mdp.legal.shape, dtype=bool)
    hit = mdp.feature(feature) > 0
    flagged[mdp.t_state[hit], mdp.t_action[hit]] = True
    reach = reachable(mdp, allowed)
    if not (flagged & allowed & reach[:, None]).any():
        return "none"
    # avoid[s]: some allowed policy from s never uses a flagged action (fixpoint, acyclic MDP).
    clean = allowed & ~flagged
    avoid = np.ones(mdp.n_states, dtype=bool)
    has_action = allowed.any(axis=1)
    S, A = mdp.legal.shape
    sa = mdp.t_state * A + mdp.t_action
    for _ in range(mdp.n_states):
        bad_next = np.bincount(sa, weights=(~avoid[mdp.t_next]) & (mdp.t_prob > 0), minlength=S * A).reshape(S, A)
        ok = clean & (bad_next == 0)
        new = np.where(has_action, ok.any(axis=1), True)
        new[END] = True
        if (new == avoid).all():
            break
        avoid = new
    return "some" if avoid[mdp.initial] else "every"


@dataclass(frozen=True)
class Counterexample:
    """A reachable state where a reward-optimal action is not intent-optimal."""

    state: int
    label: Any
    reward_optimal: tuple[int, ...]
    intent_optimal: tuple[int, ...]
    offending: tuple[int, ...]
    reason: str
    stage: int  # the first intended-goal stage the offending actions fail


@dataclass(frozen=True)
class Verdict:
    aligned: bool
    vacuous: bool  # the intended goal is indifferent between all actions at every reachable state
    n_reachable: int
    counterexamples: list[Counterexample]
    reward_value: float
    intent_values: tuple[float, ...]
    reward_optimal: np.ndarray = field(repr=False)
    intent_optimal: np.ndarray = field(repr=False)


def check(mdp: FiniteMDP, spec: RewardSpec, goal: IntendedGoal) -> Verdict:
    """Is every reward-optimal policy intent-optimal? With counterexample states if not."""
    rew = solve(mdp, spec.rewards(mdp), spec.gamma)
    stages = intent_solutions(mdp, goal)
    intent = stages[-1].optimal
    reach = reachable(mdp, rew.optimal)
    bad = reach[:, None] & rew.optimal & ~intent
    examples = []
    for s in np.flatnonzero(bad.any(axis=1)):
        offending = tuple(int(a) for a in np.flatnonzero(bad[s]))
        stage = next(i for i, sol in enumerate(stages) if not sol.optimal[s, offending[0]])
        best = np.flatnonzero(stages[stage].optimal[s])[0]
        sign = -1.0 if goal.stages[stage].kind.startswith("minimize") else 1.0
        reason = (
            f"{goal.stages[stage].description}: {sign * stages[stage].Q[s, offending[0]]:.4g} "
            f"(reward-optimal {mdp.action_name(offending[0])}) vs {sign * stages[stage].V[s]:.4g} "
            f"(intended {mdp.action_name(int(best))})"
        )
        examples.append(
            Counterexample(
                state=int(s),
                label=mdp.labels[s],
                reward_optimal=tuple(int(a) for a in np.flatnonzero(rew.optimal[s])),
                intent_optimal=tuple(int(a) for a in np.flatnonzero(intent[s])),
                offending=offending,
                reason=reason,
                stage=stage,
            )
        )
    vacuous = bool((intent[reach] == mdp.legal[reach]).all())
    return Verdict(
        aligned=not examples,
        vacuous=vacuous,
        n_reachable=int(reach.sum()),
        counterexamples=examples,
        reward_value=float(rew.V[mdp.initial]),
        intent_values=tuple(float(s.V[mdp.initial]) for s in stages),
        reward_optimal=rew.optimal,
        intent_optimal=intent,
    )
