import pytest
from hypothesis import given
from hypothesis import strategies as st

from goodhartlab.core import rng
from goodhartlab.core.config import parse_assignment, resolve
from goodhartlab.core.errors import UserError
from goodhartlab.experiments.tictactoe.config import Config


def test_resolution_order(tmp_path):
    f = tmp_path / "c.yaml"
    f.write_text("seeds: 3\nhorizon: 6\n")
    c = resolve(Config, "quick", f, ["horizon=7"], seed=5)
    assert (c.seeds, c.horizon, c.seed, c.q_episodes) == (3, 7, 5, Config.presets["quick"]["q_episodes"])


def test_hash_changes_with_seed():
    assert Config(seed=1).hash() != Config(seed=2).hash() and Config(seed=1).hash() == Config(seed=1).hash()


def test_frozen():
    with pytest.raises(Exception):
        Config().seeds = 3


def test_assignment_types():
    assert parse_assignment("a=1") == ("a", 1)
    assert parse_assignment("a=[0.1, 0.2]") == ("a", [0.1, 0.2])
    assert parse_assignment("a.b=random") == ("a.b", "random")
    with pytest.raises(UserError):
        parse_assignment("=3")


@given(st.integers(0, 2**32 - 1), st.text(max_size=8))
def test_streams_reproducible_and_distinct(seed, name):
    a = rng.generator(seed, name, 1).random(4)
    assert (a == rng.generator(seed, name, 1).random(4)).all()
    assert not (a == rng.generator(seed, name, 2).random(4)).all()
