"""The RLHF pipeline's units: a unit's records reach the run in the order made, whichever process made them."""

import pickle

import numpy as np

from goodhartlab.core.records import Measurement
from goodhartlab.experiments.rlhf.units import UnitContext
from goodhartlab.runner.context import RunContext
from goodhartlab.worlds.qa import QAWorld, QAWorldConfig


def _work(ctx) -> float:
    ctx.log("start")
    ctx.table("t", [{"a": 1}])
    ctx.record(Measurement(series="s", pressure_name="n", pressure=1.0, kl=0.0, proxy=0.0, rater=0.5, gold=0.1))
    ctx.table("t", [{"a": 2}])
    with ctx.progress("work", 1) as advance:
        advance()
    return float(ctx.rng("x", 3).random())


def test_a_unit_replays_what_the_run_would_have_recorded(tmp_path):
    direct, replayed = (
        RunContext(seed=7, run_dir=tmp_path, quiet=True),
        RunContext(seed=7, run_dir=tmp_path, quiet=True),
    )
    x = _work(direct)
    unit = pickle.loads(pickle.dumps(UnitContext(replayed)))  # as a worker process receives it: no live context
    assert unit.live is None and _work(unit) == x  # the run's own named streams
    assert replayed.tables == {} and replayed.measurements == []  # nothing reaches the run before the replay
    unit.replay(replayed)
    assert replayed.tables == direct.tables == {"t": [{"a": 1}, {"a": 2}]}
    assert [m.row() for m in replayed.measurements] == [m.row() for m in direct.measurements]


def test_a_world_survives_pickling_with_its_parse_cache():
    world = QAWorld(QAWorldConfig(n_entities=6, n_attributes=2), seed=0)
    q = world.questions[0]
    copy = pickle.loads(pickle.dumps(world))
    answer = "the answer is unknown"
    assert copy.parse(q.id, answer) == world.parse(q.id, answer)
    assert np.isclose(copy.gold_scorer().score(q.id, answer), world.gold_scorer().score(q.id, answer))
