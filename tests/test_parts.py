"""The parts behind core.parts interfaces (issue 14): each rater is a core.parts.Rater, with its old behaviour."""

import numpy as np
import pytest

from goodhartlab.core import rng
from goodhartlab.core.parts import Rater
from goodhartlab.worlds.amplification import TASKS, Human, TaskSizes, build_world
from goodhartlab.worlds.digits import LABEL_X, DigitsWorld, DigitsWorldConfig, NoisyRater


@pytest.fixture(scope="module")
def batch():
    return DigitsWorld(DigitsWorldConfig(x_fraction=0.0, ambiguous_fraction=1.0)).sample(
        50, "train", np.random.default_rng(6)
    )


def test_digits_rater_is_a_rater_and_scores_what_it_would_label(batch):
    rater = NoisyRater(flip_rate=0.3, ambiguity_blind=True, offer_sway=0.5)
    assert isinstance(rater, Rater)
    said = rater.label(batch, np.random.default_rng(0))
    assert rater.score(batch, said, np.random.default_rng(0)).tolist() == [1.0] * len(batch)
    wrong = (said + 1) % (LABEL_X + 1)
    assert rater.score(batch, wrong, np.random.default_rng(0)).sum() == 0.0
    p = rater.prefer(batch, said, wrong, np.random.default_rng(0))
    assert p.shape == (len(batch),) and (p == 1.0).all()
    assert (rater.prefer(batch, wrong, said, np.random.default_rng(0)) == 0.0).all()
    assert (rater.prefer(batch, said, said, np.random.default_rng(0)) == 0.5).all()
    with pytest.raises(ValueError, match="expected 50 labels"):
        rater.score(batch, said[:3], np.random.default_rng(0))


def test_amplification_human_as_a_rater_approves_by_its_blind_spot():
    world = build_world(list(TASKS), TaskSizes(), 10, rng.generator(3, "world"))
    human = Human(world, blind_spot="parity")
    rater = human.rater(world.truth)
    assert isinstance(rater, Rater)
    qs = world.questions()[:40]
    truth = [world.truth(q) for q in qs]
    same_parity = [(a + 2) % world.answers for a in truth]  # wrong, but H's parity check passes it
    other_parity = [(a + 1) % world.answers for a in truth]
    g = np.random.default_rng(0)
    assert rater.score(qs, truth, g).tolist() == [1.0] * 40
    assert rater.score(qs, same_parity, g).tolist() == [
        float(world.answers % 2 == 0 or a + 2 < world.answers) for a in truth
    ]
    assert rater.score(qs, other_parity, g).sum() < 40
    p = rater.prefer(qs, truth, other_parity, g)
    assert set(p.tolist()) <= {0.5, 1.0} and p.shape == (40,)


def test_the_runner_implements_the_types_experiments_see():
    from goodhartlab.core.context import Context, Results
    from goodhartlab.runner.context import RunContext
    from goodhartlab.runner.results import RunResults

    assert isinstance(RunContext(0, quiet=True), Context)
    missing = set(Results.__annotations__) - set(RunResults.__dataclass_fields__)
    assert not missing, f"RunResults lacks {missing}"
