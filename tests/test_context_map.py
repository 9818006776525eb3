"""``RunContext.map``: one set of workers for all of a run's calls, at most n tasks at once, none left after an
error or the run's end. One test, so its few worker processes (each imports goodhartlab) serve every check."""

import os

import pytest

from goodhartlab.runner.context import RunContext


def pid_of(_item) -> int:
    return os.getpid()


def fail_on_two(item: int) -> int:
    if item == 2:
        raise ValueError("two")
    return item


def square(x: int) -> int:
    return x * x


def pairs_ready(done: dict[int, int]) -> list:
    """Second-stage items of the first results 2k and 2k+1, once both are in."""
    return [((k,), (done[2 * k], done[2 * k + 1])) for k in range(3) if 2 * k in done and 2 * k + 1 in done]


def add(pair: tuple[int, int]) -> int:
    return pair[0] + pair[1]


def test_workers_serve_every_call_of_a_run_and_die_with_an_error_or_its_end():
    ctx = RunContext(0, quiet=True, processes=2)
    first = set(ctx.map(pid_of, range(6)))
    assert os.getpid() not in first and len(first) <= 2
    assert set(ctx.map(pid_of, range(6))) <= first  # no new worker process: each imported the modules once
    assert set(ctx.map(pid_of, range(4), processes=1)) == {os.getpid()}  # one process: serial, here

    released: set = set()

    def follow(done):
        out = [(k, item) for k, item in pairs_ready(done) if k not in released]
        released.update(k for k, _ in out)
        return out

    firsts, seconds = ctx.map_chain(square, range(6), add, follow)
    assert firsts == [0, 1, 4, 9, 16, 25] and seconds == {(0,): 1, (1,): 13, (2,): 41}
    released.clear()
    assert RunContext(0, quiet=True, processes=1).map_chain(square, range(6), add, follow) == (firsts, seconds)

    pool = ctx._pool
    with pytest.raises(ValueError, match="two"):
        ctx.map(fail_on_two, range(4))
    assert ctx._pool is None and not pool._workers  # killed at once, with what they were running
    assert all(not w.process.is_alive() for w in pool._workers)

    again = set(ctx.map(pid_of, range(2)))  # a later call starts workers again
    assert os.getpid() not in again and not again & first
    pool = ctx._pool
    workers = list(pool._workers)
    ctx.close()
    assert ctx._pool is None and all(not w.process.is_alive() for w in workers)
