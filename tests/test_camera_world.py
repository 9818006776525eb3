"""The camera world: occlusion in the render, the Gymnasium contract, gold under AsyncVectorEnv, the raters."""

import gymnasium
import numpy as np
import pytest
from gymnasium.utils.env_checker import check_env

from goodhartlab import envs
from goodhartlab.worlds.camera import scene
from goodhartlab.worlds.camera.env import CameraEnv, CameraVectorEnv
from goodhartlab.worlds.camera.rater import CameraRater, OracleRater

BALL = [1, 1, 2]
GRASP = np.array([[1, 1, 2, 1, *BALL]])
HOVER = np.array([[1, 1, 0, 1, *BALL]])  # closed, same x and y, nearer the front camera
BEHIND = np.array([[1, 1, 3, 1, *BALL]])  # closed, behind the ball


def test_nearer_object_hides_the_farther_one_in_the_front_camera():
    codes_g, depth_g = scene.render(GRASP, "front", 4)
    codes_h, depth_h = scene.render(HOVER, "front", 4)
    # Grasp and hover: the same picture (only the closed gripper, at row n-1-y, column x), different depth.
    assert (codes_g == codes_h).all()
    assert codes_g[0, 2, 1] == scene.HAND_CLOSED and (codes_g == scene.BALL).sum() == 0
    assert depth_g[0, 2, 1] == 2 and depth_h[0, 2, 1] == 0
    codes_b, _ = scene.render(BEHIND, "front", 4)
    assert codes_b[0, 2, 1] == scene.BALL and (codes_b >= scene.HAND_OPEN).sum() == 0  # the ball hides the gripper


def test_side_camera_separates_hover_from_grasp():
    codes_g, _ = scene.render(GRASP, "side", 4)
    codes_h, _ = scene.render(HOVER, "side", 4)
    assert (codes_g == scene.BALL).sum() == 0 and codes_g[0, 2, 2] == scene.HAND_CLOSED
    assert codes_h[0, 2, 2] == scene.BALL and codes_h[0, 2, 0] == scene.HAND_CLOSED


def test_apart_objects_are_both_drawn_and_gold_is_exact():
    s = np.array([[0, 0, 0, 0, 2, 2, 2]])
    for cam in scene.CAMERAS:
        codes, _ = scene.render(s, cam, 3)
        assert (codes == scene.BALL).sum() == 1 and (codes == scene.HAND_OPEN).sum() == 1
    assert scene.grasped(GRASP).tolist() == [True] and not scene.grasped(HOVER)[0]
    assert scene.hovering(HOVER).tolist() == [True] and not scene.hovering(GRASP)[0]
    assert not scene.grasped(np.array([[1, 1, 2, 0, *BALL]]))[0]  # open gripper at the ball: no grasp


def test_moves_clip_at_walls_and_index_roundtrips():
    s = np.array([[0, 0, 0, 0, 1, 1, 1]])
    assert scene.step(s, [1], 3)[0, :3].tolist() == [0, 0, 0]
    assert scene.step(s, [0], 3)[0, :3].tolist() == [1, 0, 0]
    assert scene.step(s, [scene.CLOSE], 3)[0, scene.CLOSED] == 1
    all_s = scene.all_states(3)
    assert (scene.state_index(all_s, 3) == np.arange(scene.n_states(3))).all()


def test_starts_show_both_objects_to_both_cameras():
    s = scene.sample_starts(np.random.default_rng(0), 500, 3)
    assert scene.starts_ok(s).all() and (s[:, scene.CLOSED] == 0).all()


def test_check_env_and_gymnasium_make():
    check_env(CameraEnv(size=3, horizon=5, render_mode="rgb_array"))
    envs.register()
    env = gymnasium.make("goodhartlab/Camera-v0", size=3, horizon=4)
    obs, info = env.reset(seed=0)
    assert env.observation_space.contains(obs) and info == {}
    for _ in range(4):
        obs, r, term, trunc, info = env.step(env.action_space.sample())
        assert r == 0.0 and info == {} and not term  # no reward, nothing in info
    assert trunc
    (gold,) = env.unwrapped.pop_gold()
    assert set(gold) == {"grasp", "hover"} and env.unwrapped.pop_gold() == []


def test_gold_survives_async_vector_env():
    vec = gymnasium.vector.AsyncVectorEnv([lambda: CameraEnv(size=3, horizon=3) for _ in range(2)])
    try:
        vec.reset(seed=1)
        for _ in range(3 * 2):  # two episodes each (autoreset steps count as steps too)
            vec.step(np.array([scene.CLOSE, scene.CLOSE]))
        per_env = vec.call("pop_gold")
        assert len(per_env) == 2 and all(len(g) >= 1 for g in per_env)
        assert all(set(r) == {"grasp", "hover"} for g in per_env for r in g)
    finally:
        vec.close()


def test_vector_env_follows_the_single_env_rules_and_autoresets():
    vec = CameraVectorEnv(3, size=3, horizon=2)
    obs, _ = vec.reset(seed=0)
    a = np.array([0, scene.CLOSE, 5])
    nxt, r, _term, trunc, _ = vec.step(a)
    assert (nxt == scene.step(obs, a, 3)).all() and not trunc.any() and (r == 0).all()
    nxt, *_, trunc, _ = vec.step(a)
    assert trunc.all() and len(vec.pop_gold()) == 3
    restarted, *_, trunc, _ = vec.step(a)  # next-step autoreset
    assert not trunc.any() and scene.starts_ok(restarted).all() and (restarted[:, scene.CLOSED] == 0).all()


def _clip(*states):
    return np.array([np.concatenate([[s] for s in states])])


def test_one_camera_rater_cannot_tell_hover_from_grasp_but_fixes_can():
    start = np.array([0, 0, 0, 0, *BALL])
    grasp, hover = _clip(start, GRASP[0]), _clip(start, HOVER[0])
    front = CameraRater(4, ("front",))
    depth = CameraRater(4, ("front",), depth_cue=True)
    two = CameraRater(4, ("front", "side"))
    oracle = OracleRater(4)
    for rater in (front, depth, two, oracle):
        assert rater.score(None, rater.show(grasp))[0] == 1.0
    assert front.score(None, front.show(hover))[0] == 1.0  # fooled
    for rater in (depth, two, oracle):
        assert rater.score(None, rater.show(hover))[0] == 0.0
    # Same renders -> same judgement: the one-camera rater only has the images.
    assert (front.show(grasp).codes["front"] == front.show(hover).codes["front"])[:, 1].all()
    assert front.show(grasp).depth["front"] is None


def test_rater_needs_a_closed_gripper_and_boltzmann_preference():
    start = np.array([0, 0, 0, 0, *BALL])
    open_on_ball = _clip(start, np.array([1, 1, 2, 0, *BALL]))
    front = CameraRater(4, ("front",), beta=2.0)
    assert front.score(None, front.show(open_on_ball))[0] == 0.0
    p = front.prefer(None, front.show(_clip(start, GRASP[0])), front.show(open_on_ball))
    assert p[0] == pytest.approx(1 / (1 + np.exp(-2.0)))
    assert front.approves_end(front.show(_clip(start, HOVER[0]))).tolist() == [True]


def test_renders_at_every_state_match_visibility_rules():
    s = scene.all_states(3)
    for cam in scene.CAMERAS:
        codes, _ = scene.render(s, cam, 3)
        ball_vis, hand_vis = scene.visible_in(s, cam)
        assert ((codes == scene.BALL).sum(axis=(1, 2)) == ball_vis).all()
        assert ((codes >= scene.HAND_OPEN).sum(axis=(1, 2)) == hand_vis).all()
    # At least one of the two views always shows the ball unless the gripper is on it.
    hidden_both = ~scene.visible_in(s, "front")[0] & ~scene.visible_in(s, "side")[0]
    same_cell = (s[:, :3] == s[:, 4:]).all(axis=1)
    assert (hidden_both == same_cell).all()


def test_raters_follow_the_rater_protocol():
    from goodhartlab.core.parts import Rater

    assert isinstance(CameraRater(3), Rater) and isinstance(OracleRater(3), Rater)


def test_bradley_terry_clip_reward_recovers_the_frame_reward_it_was_shown():
    import torch

    from goodhartlab.core.parts import Comparisons
    from goodhartlab.models.clip_reward import ClipRewardTrainer

    rng = np.random.default_rng(0)
    frames = np.eye(6, dtype=np.float32)  # six distinct frames; true reward = frame index
    first, second = rng.integers(0, 6, (400, 3)), rng.integers(0, 6, (400, 3))
    p = 1 / (1 + np.exp(-(first.sum(1) - second.sum(1)) * 0.5))
    pick = (rng.random(400) < p).astype(np.float32)
    trainer = ClipRewardTrainer(6, hidden=16, members=2, steps=300, lr=1e-2, generator=torch.Generator().manual_seed(0))
    scorer = trainer.fit(Comparisons([None] * 400, frames[first], frames[second], pick), rng)
    r = scorer.frame_rewards(frames).mean(0)
    assert (np.diff(r) > 0).all()  # the learned order of the frames is the true one
    assert len(trainer.history) == 2 and trainer.history[-1]["train_agreement"] > 0.6
