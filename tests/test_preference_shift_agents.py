"""Each recommender's defining property, the planner against exhaustive search, and gold isolation."""

import itertools
from dataclasses import dataclass

import numpy as np
import pytest

from goodhartlab.experiments.preference_shift import measure
from goodhartlab.experiments.preference_shift.config import Config
from goodhartlab.optim.recommenders import EngagementPlanner, Grid
from goodhartlab.oversight.path_specific import (
    PathSpecific,
    ShiftPenalty,
    total_variation,
)
from goodhartlab.runner.context import RunContext
from goodhartlab.worlds.preference import env as env_module
from goodhartlab.worlds.preference import user as user_module
from goodhartlab.worlds.preference.user import UserModel

MODEL = UserModel(0.3, 4.0, (-2.0, -2.0, -0.5))
GRID = Grid(3, 40)
USERS = [np.array([0.6, 0.3, 0.1]), np.array([0.5, 0.45, 0.05]), np.array([0.8, 0.1, 0.1])]


def rollout(agent, model, u0, horizon):
    """Actions and the preference path u_0..u_T when ``agent`` meets ``model``'s user."""
    agent.begin(u0, horizon)
    u, actions, path = u0, [], [u0]
    for t in range(horizon):
        a = agent.act(t, u)
        actions.append(a)
        u = model.respond(u, a)
        path.append(u)
    return actions, np.stack(path)


def expected_clicks(model, u0, actions):
    u, total = u0, 0.0
    for a in actions:
        total += float(model.click_prob(u, a))
        u = model.respond(u, a)
    return total


@pytest.mark.parametrize("u0", USERS)
def test_full_horizon_planner_matches_exhaustive_search(u0):
    horizon = 8
    best = max(expected_clicks(MODEL, u0, s) for s in itertools.product(range(3), repeat=horizon))
    actions, _ = rollout(EngagementPlanner(MODEL, GRID, None), MODEL, u0, horizon)
    assert expected_clicks(MODEL, u0, actions) == pytest.approx(best, abs=1e-6)


def test_myopic_is_the_per_step_argmax_and_the_planner_manipulates_where_it_pays():
    u0 = USERS[0]
    myopic, _ = rollout(EngagementPlanner(MODEL, GRID, 1), MODEL, u0, 8)
    u = u0
    for a in myopic:
        assert a == int(np.argmax([float(MODEL.click_prob(u, b)) for b in range(3)]))
        u = MODEL.respond(u, a)
    planned, path = rollout(EngagementPlanner(MODEL, GRID, None), MODEL, u0, 8)
    # This user prefers topic 0; the planner gives up clicks now to pull them to the clickbait topic 2.
    assert myopic[0] == 0 and planned[0] == 2 and path[-1][2] > 0.8
    assert float(MODEL.click_prob(u0, 2)) < float(MODEL.click_prob(u0, 0))


@dataclass(frozen=True)
class OtherResponse(UserModel):
    """The same user, except for the response to a shown item: pull η' toward it and (η − η')/K toward
    uniform, so the mean under the uniform recommender, the natural shift, is unchanged."""

    own: float = 0.0

    def respond(self, u, a):
        out = np.array(u, dtype=float, copy=True) + (self.eta - self.own) / self.topics
        out[..., a] += self.own
        return out / (1.0 + self.eta)


@pytest.mark.parametrize("own", [0.0, 0.1, 1.0])
def test_path_specific_plan_is_unchanged_when_the_response_to_its_actions_changes(own):
    other = OtherResponse(MODEL.eta, MODEL.alpha, MODEL.bias, own=own)
    u0 = USERS[0]
    np.testing.assert_allclose(other.natural_step(u0), np.mean([other.respond(u0, a) for a in range(3)], axis=0))
    base, _ = rollout(PathSpecific(MODEL, MODEL.natural_step), MODEL, u0, 12)
    changed, _ = rollout(PathSpecific(other, other.natural_step), other, u0, 12)
    assert changed == base
    # The engagement maximizer's plan does depend on that response: with no pull of its own it stays myopic.
    engaged, _ = rollout(EngagementPlanner(MODEL, GRID, None), MODEL, u0, 12)
    engaged_other, _ = rollout(EngagementPlanner(other, GRID, None), other, u0, 12)
    if own == 0.0:
        assert engaged_other != engaged


def test_path_specific_agent_never_consults_the_response(monkeypatch):
    agent = PathSpecific(MODEL, MODEL.natural_step)
    expected, _ = rollout(agent, MODEL, USERS[1], 10)

    def forbidden(*a, **k):
        raise AssertionError("the path-specific agent used the response to its own actions")

    monkeypatch.setattr(UserModel, "respond", forbidden)
    agent.begin(USERS[1], 10)
    assert [agent.act(t, np.full(3, 1 / 3)) for t in range(10)] == expected  # nor the observed u


def test_shift_penalty_zero_is_the_maximizer_and_large_lambda_stays_near_the_natural_path():
    u0, horizon = USERS[0], 12
    engaged, _ = rollout(EngagementPlanner(MODEL, GRID, None), MODEL, u0, horizon)
    zero, _ = rollout(ShiftPenalty(MODEL, GRID, MODEL.natural_step, 0.0), MODEL, u0, horizon)
    assert zero == engaged
    natural = MODEL.natural_path(u0, horizon)
    shifts = []
    for lam in (0.0, 1.0, 10.0):
        _, path = rollout(ShiftPenalty(MODEL, GRID, MODEL.natural_step, lam), MODEL, u0, horizon)
        shifts.append(float(total_variation(path, natural).sum()))
    assert shifts[0] >= shifts[1] >= shifts[2] and shifts[2] < 0.25 * shifts[0]
    with pytest.raises(ValueError):
        ShiftPenalty(MODEL, GRID, MODEL.natural_step, -1.0)


def test_gold_isolation_agents_never_read_gold(monkeypatch):
    """Gold readers raise while any agent plans or acts; the experiment still runs and gold is measured."""
    planning = [False]

    def guard(fn):
        def wrapped(*a, **k):
            planning[0] = True
            try:
                return fn(*a, **k)
            finally:
                planning[0] = False

        return wrapped

    def tripwire(fn):
        def wrapped(*a, **k):
            if planning[0]:
                raise AssertionError(f"gold read during planning: {fn.__name__}")
            return fn(*a, **k)

        return wrapped

    for cls in (EngagementPlanner, PathSpecific, ShiftPenalty):
        monkeypatch.setattr(cls, "begin", guard(cls.begin))
        monkeypatch.setattr(cls, "act", guard(cls.act))
    monkeypatch.setattr(env_module.PreferenceShiftEnv, "pop_gold", tripwire(env_module.PreferenceShiftEnv.pop_gold))
    for mod in (env_module, user_module):
        monkeypatch.setattr(mod, "satisfaction", tripwire(user_module.satisfaction))
        monkeypatch.setattr(mod, "shift", tripwire(user_module.shift))
    cfg = Config(
        users=3, depths=[1, 3], etas=[0.1], horizons=[6], horizon=6, lambdas=[1.0], resolution=12, trajectories=1
    )
    ctx = RunContext(0, quiet=True)
    measure.run(cfg, ctx)
    assert ctx.measurements and all(np.isfinite(m.gold) for m in ctx.measurements)
    assert {m.series for m in ctx.measurements} >= {"myopic", "engagement", "path-specific", "penalty λ=1"}


@pytest.mark.parametrize("topics,resolution", [(2, 7), (3, 9), (4, 5)])
def test_grid_interpolation_matches_scipy(topics, resolution):
    from scipy.interpolate import RegularGridInterpolator

    grid = Grid(topics, resolution)
    rng = np.random.default_rng(topics)
    values = rng.normal(size=len(grid.points))
    u = rng.dirichlet(np.ones(topics), size=50)
    ref = RegularGridInterpolator(grid.axes, values.reshape(grid.shape))(u[:, :-1])
    np.testing.assert_allclose(grid.interpolator(values)(u), ref, atol=1e-12)
    np.testing.assert_allclose(grid.interpolator(values)(grid.points), values, atol=1e-12)


def test_depth_at_least_the_horizon_is_the_full_planner_and_runs_are_deterministic():
    u0 = USERS[1]
    full, _ = rollout(EngagementPlanner(MODEL, GRID, None), MODEL, u0, 9)
    assert rollout(EngagementPlanner(MODEL, GRID, 9), MODEL, u0, 9)[0] == full
    assert rollout(EngagementPlanner(MODEL, GRID, 50), MODEL, u0, 9)[0] == full
    cfg = Config(users=3, depths=[1], etas=[0.1], horizons=[5], horizon=5, lambdas=[1.0], resolution=8, trajectories=1)
    runs = []
    for _ in range(2):
        ctx = RunContext(7, quiet=True)
        measure.run(cfg.model_copy(update={"seed": 7}), ctx)
        runs.append((ctx.tables["episodes"], [m.row() for m in ctx.measurements]))
    assert runs[0] == runs[1]
