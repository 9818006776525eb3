"""The preference-shift world: the preference dynamics, the click model, the natural shift, the env contract
(check_env, gymnasium.make, gold only through pop_gold, also under AsyncVectorEnv)."""

import gymnasium
import numpy as np
import pytest
from gymnasium.utils.env_checker import check_env
from hypothesis import given, settings
from hypothesis import strategies as st

from goodhartlab import envs
from goodhartlab.worlds.preference.env import PreferenceShiftEnv
from goodhartlab.worlds.preference.user import (
    UserModel,
    draw_users,
    satisfaction,
    shift,
)

MODEL = UserModel(0.1, 4.0, (-2.0, -2.0, -0.5))


def test_showing_a_topic_pulls_preferences_toward_it_and_stays_on_the_simplex():
    u = np.array([0.6, 0.3, 0.1])
    v = MODEL.respond(u, 2)
    np.testing.assert_allclose(v, (u + 0.1 * np.eye(3)[2]) / 1.1)  # u' ∝ u + η e_a
    assert v.sum() == pytest.approx(1.0) and v[2] > u[2] and v[0] < u[0] and v[1] < u[1]
    # Repeated showing converges to the topic's vertex, geometrically at rate 1/(1 + η).
    w = u
    for _ in range(200):
        w = MODEL.respond(w, 2)
    np.testing.assert_allclose(w, [0, 0, 1], atol=1e-7)
    assert np.array_equal(UserModel(0.0, 4.0, (0.0, 0.0)).respond(np.array([0.3, 0.7]), 0), [0.3, 0.7])


@settings(max_examples=200, deadline=None)
@given(
    st.lists(st.floats(0.0, 1.0), min_size=3, max_size=3).filter(lambda x: sum(x) > 1e-3),
    st.integers(0, 2),
    st.floats(0.0, 5.0),
)
def test_dynamics_properties(raw, a, eta):
    u = np.array(raw) / sum(raw)
    model = UserModel(eta, 4.0, (-2.0, -2.0, -0.5))
    v = model.respond(u, a)
    # Stays on the simplex; the shown topic gains exactly η(1 − u[a])/(1 + η), every other topic shrinks by 1/(1 + η).
    assert v.min() >= 0 and v.sum() == pytest.approx(1.0)
    assert v[a] - u[a] == pytest.approx(eta * (1 - u[a]) / (1 + eta), abs=1e-12)
    others = [b for b in range(3) if b != a]
    np.testing.assert_allclose(v[others], u[others] / (1 + eta), atol=1e-12)
    # The natural step moves toward uniform: TV to uniform shrinks by the factor 1/(1 + η).
    w = model.natural_step(u)
    assert shift(w, np.full(3, 1 / 3)) == pytest.approx(shift(u, np.full(3, 1 / 3)) / (1 + eta), abs=1e-12)


def test_natural_shift_is_the_exact_mean_under_a_uniform_recommender():
    u = np.array([0.7, 0.2, 0.1])
    mean = np.mean([MODEL.respond(u, a) for a in range(3)], axis=0)
    np.testing.assert_allclose(MODEL.natural_step(u), mean)
    # Monte Carlo over random recommendations agrees with the deterministic natural path at t = 5.
    rng = np.random.default_rng(0)
    ends = []
    for _ in range(4000):
        w = u
        for a in rng.integers(0, 3, size=5):
            w = MODEL.respond(w, int(a))
        ends.append(w)
    np.testing.assert_allclose(np.mean(ends, axis=0), MODEL.natural_path(u, 5)[-1], atol=0.01)
    assert MODEL.natural_path(u, 300)[-1] == pytest.approx(np.full(3, 1 / 3))


def test_clicks_rise_with_preference_and_one_topic_has_the_higher_ceiling():
    u = np.array([[0.1, 0.0, 0.9], [0.5, 0.0, 0.5], [0.9, 0.0, 0.1]])
    p = MODEL.click_prob(u, 0)
    assert np.all(np.diff(p) > 0)
    ceilings = [float(MODEL.click_prob(np.eye(3)[a], a)) for a in range(3)]
    assert ceilings[2] > ceilings[0] == pytest.approx(ceilings[1])
    assert ceilings[2] == pytest.approx(1 / (1 + np.exp(-3.5)))


def test_signals_satisfaction_and_shift():
    u, v = np.array([0.5, 0.5, 0.0]), np.array([0.0, 0.5, 0.5])
    assert satisfaction(u, 0) == 0.5 and shift(u, v) == pytest.approx(0.5) and shift(u, u) == 0.0
    users = draw_users(50, 3, 1.0, np.random.default_rng(1))
    assert users.shape == (50, 3) and np.allclose(users.sum(axis=1), 1.0)
    with pytest.raises(ValueError):
        UserModel(-0.1, 1.0, (0.0, 0.0))


def test_check_env_and_gymnasium_make():
    check_env(PreferenceShiftEnv(horizon=5), skip_render_check=True)
    envs.register()
    env = gymnasium.make("goodhartlab/PreferenceShift-v0", horizon=4, eta=0.2)
    obs, info = env.reset(seed=3)
    assert set(obs) == {"preferences", "step", "action_mask"} and info == {}
    check_env(env.unwrapped, skip_render_check=True)


def test_gold_only_through_pop_gold():
    env = PreferenceShiftEnv(horizon=3)
    obs, info = env.reset(seed=0, options={"preferences": [0.6, 0.3, 0.1]})
    rewards = []
    for a in (2, 2, 2):
        obs, r, term, trunc, info = env.step(a)
        rewards.append(r)
        assert info == {} and set(obs) == {"preferences", "step", "action_mask"} and r in (0.0, 1.0)
    assert trunc and not term
    (rec,) = env.pop_gold()
    assert env.pop_gold() == []
    u0 = np.array([0.6, 0.3, 0.1])
    nat = MODEL.natural_path(u0, 3)
    assert rec["gold"] == pytest.approx(np.mean(nat[:3, 2]))
    path = [u0, MODEL.respond(u0, 2), MODEL.respond(MODEL.respond(u0, 2), 2)]
    assert rec["rater"] == pytest.approx(np.mean([p[2] for p in path]))
    assert rec["clicks"] == pytest.approx(np.mean(rewards)) and rec["actions"] == [2, 2, 2]
    assert rec["shift"] == pytest.approx(shift(MODEL.respond(path[-1], 2), nat[3]))
    with pytest.raises(ValueError, match="preferences"):
        env.reset(options={"preferences": [0.5, 0.6, 0.1]})


def test_gold_survives_async_vector_env():
    envs.register()
    vec = gymnasium.vector.AsyncVectorEnv([lambda: gymnasium.make("goodhartlab/PreferenceShift-v0", horizon=3)] * 2)
    try:
        vec.reset(seed=0)
        for _ in range(3):
            vec.step(np.array([2, 0]))
        records = vec.call("pop_gold")
        assert len(records) == 2 and all(len(r) == 1 for r in records)
        assert records[0][0]["actions"] == [2, 2, 2] and records[1][0]["actions"] == [0, 0, 0]
        assert all(len(r) == 0 for r in vec.call("pop_gold"))
    finally:
        vec.close()
