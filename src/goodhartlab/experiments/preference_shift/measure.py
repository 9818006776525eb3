"""Run the ``preference-shift`` experiment: recommenders against simulated users whose preferences move.

Per setting (η, horizon) every agent meets the same users (initial preferences drawn once per run) with the
same click draws (the env is reset with the user's own seed), so comparisons between agents are paired by
user. Agents act on observations only (the user's current preferences and the step); gold comes from the
env's ``pop_gold()`` after each episode. Three pressure axes, each around the main setting:
- ``depth``: the engagement maximizer's planning depth (1 = myopic, up to the horizon);
- ``eta``: the pull η of one shown item, every agent;
- ``horizon``: recommendations per episode, every agent.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from goodhartlab.core.records import Measurement
from goodhartlab.experiments.preference_shift.config import Config
from goodhartlab.optim.recommenders import EngagementPlanner, Grid, Uniform
from goodhartlab.oversight.path_specific import PathSpecific, ShiftPenalty
from goodhartlab.worlds.preference.env import PreferenceShiftEnv
from goodhartlab.worlds.preference.user import UserModel, draw_users

# pull_to_clickbait: u_T − ū_T on the topic with the highest click bias; unlike the TV shift (equal for every
# policy that locks a user onto one topic) it says toward which topic the user was moved.
CHANNELS = ("proxy", "expected_clicks", "rater", "gold", "shift", "clickbait_share", "pull_to_clickbait")


@dataclass(frozen=True)
class AgentSpec:
    """One agent: ``kind`` engagement (with ``depth``; None = the horizon), path-specific, penalty (``lam``) or
    uniform (the natural recommender, a reference)."""

    kind: str
    depth: int | None = None
    lam: float = 0.0

    @property
    def series(self) -> str:
        if self.kind == "engagement":
            return "myopic" if self.depth == 1 else "engagement"
        if self.kind in ("path-specific", "uniform"):
            return self.kind
        return f"penalty λ={self.lam:g}"

    def build(self, model: UserModel, grid: Grid, rng: np.random.Generator):
        if self.kind == "uniform":
            return Uniform(model.topics, rng)
        if self.kind == "engagement":
            return EngagementPlanner(model, grid, self.depth)
        if self.kind == "path-specific":
            return PathSpecific(model, model.natural_step)
        return ShiftPenalty(model, grid, model.natural_step, self.lam)


def main_agents(config: Config) -> list[AgentSpec]:
    return [
        AgentSpec("engagement", 1),
        AgentSpec("engagement", None),
        AgentSpec("path-specific"),
        *(AgentSpec("penalty", lam=lam) for lam in config.lambdas),
        AgentSpec("uniform"),
    ]


def plan(config: Config) -> list[tuple[str, float, float, int, AgentSpec]]:
    """Every (axis, pressure, η, horizon, agent) measured; the main setting recurs on each axis."""
    out = []
    for d in [d for d in config.depths if d < config.horizon] + [config.horizon]:
        out.append(("depth", float(d), config.eta, config.horizon, AgentSpec("engagement", 1 if d == 1 else d)))
    for eta in config.etas:
        out += [("eta", eta, eta, config.horizon, a) for a in main_agents(config)]
    for h in config.horizons:
        out += [("horizon", float(h), config.eta, h, a) for a in main_agents(config)]
    return out


def episode(env: PreferenceShiftEnv, agent, u0: np.ndarray, seed: int) -> tuple[dict, np.ndarray]:
    """One episode; the agent sees observations only. Returns the env's gold record and u_0..u_T (T+1, K)."""
    obs, _ = env.reset(seed=seed, options={"preferences": u0})
    agent.begin(obs["preferences"].astype(float), env.horizon)
    path = [obs["preferences"].astype(float)]
    done = False
    while not done:
        obs, _, terminated, truncated, _ = env.step(agent.act(int(obs["step"]), obs["preferences"].astype(float)))
        path.append(obs["preferences"].astype(float))
        done = terminated or truncated
    (record,) = env.pop_gold()
    return record, np.stack(path)


def run(config: Config, ctx) -> None:
    k = len(config.bias)
    users = draw_users(config.users, k, config.concentration, ctx.rng("users"))
    click_seeds = ctx.rng("clicks").integers(0, 2**31 - 1, size=config.users)
    grid = Grid(k, config.resolution)
    clickbait = int(np.argmax(config.bias))
    settings = plan(config)
    # The main setting recurs on every axis: measure each (η, horizon, agent) once.
    unique = list(dict.fromkeys((eta, h, a) for _, _, eta, h, a in settings))
    results: dict[tuple, list[dict]] = {}
    trajectories = []
    shown = {
        AgentSpec("engagement", 1),
        AgentSpec("engagement", None),
        AgentSpec("path-specific"),
        AgentSpec("penalty", lam=max(config.lambdas)),
    }
    with ctx.progress("episodes", len(unique) * config.users) as advance:
        for eta, h, spec in unique:
            model = UserModel(float(eta), config.alpha, tuple(config.bias))
            env = PreferenceShiftEnv(eta, config.alpha, tuple(config.bias), h, config.concentration)
            agent = spec.build(model, grid, ctx.rng("uniform recommender", eta, h))
            rows = []
            for i, u0 in enumerate(users):
                record, path = episode(env, agent, u0, int(click_seeds[i]))
                rows.append(
                    {
                        "user": i,
                        "proxy": record["clicks"],
                        "expected_clicks": record["expected_clicks"],
                        "rater": record["rater"],
                        "gold": record["gold"],
                        "shift": record["shift"],
                        "clickbait_share": float(np.mean(np.asarray(record["actions"]) == clickbait)),
                        "pull_to_clickbait": record["final"][clickbait] - record["natural_final"][clickbait],
                    }
                )
                main = eta == config.eta and h == config.horizon
                if main and i < config.trajectories and spec in shown:
                    trajectories += [
                        {"user": i, "agent": spec.series, "t": t, **{f"u{j}": float(x[j]) for j in range(k)}}
                        for t, x in enumerate(path)
                    ]
                advance()
            results[(eta, h, spec)] = rows
    for i in range(min(config.trajectories, config.users)):
        natural = UserModel(config.eta, config.alpha, tuple(config.bias)).natural_path(users[i], config.horizon)
        trajectories += [
            {"user": i, "agent": "natural", "t": t, **{f"u{j}": float(x[j]) for j in range(k)}}
            for t, x in enumerate(natural)
        ]

    episodes = []
    for axis, pressure, eta, h, spec in settings:
        rows = results[(eta, h, spec)]
        # On the depth axis one series runs from depth 1 (the myopic agent) to the horizon.
        series = "engagement" if axis == "depth" else spec.series
        episodes += [
            {
                "axis": axis,
                "pressure": pressure,
                "agent": series,
                "eta": eta,
                "horizon": h,
                "depth": h if spec.depth is None else spec.depth,
                "lam": spec.lam,
                **r,
            }
            for r in rows
        ]
        mean = {c: float(np.mean([r[c] for r in rows])) for c in CHANNELS}
        # Measurement series are unique per axis, so a sweep report (one curve per series) never joins two axes.
        ctx.record(
            Measurement(
                series=series if axis == "eta" else f"{series} ({axis} axis)",
                pressure_name=axis,
                pressure=pressure,
                proxy=mean["proxy"],
                rater=mean["rater"],
                gold=mean["gold"],
                seed=config.seed,
                extra={
                    "shift": mean["shift"],
                    "expected_clicks": mean["expected_clicks"],
                    "clickbait_share": mean["clickbait_share"],
                    "pull_to_clickbait": mean["pull_to_clickbait"],
                    "eta": float(eta),
                    "horizon": float(h),
                    "users": float(len(rows)),
                },
            )
        )
    ctx.table("episodes", episodes)
    if trajectories:  # an empty table would be an empty CSV, which cannot be read back
        ctx.table("trajectories", trajectories)
    ctx.artifact("users", {"initial_preferences": users.tolist(), "clickbait_topic": clickbait})
