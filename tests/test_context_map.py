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


def test_workers_serve_every_call_of_a_run_and_die_with_an_error_or_its_end():
    ctx = RunContext(0, quiet=True, processes=2)
    first = set(ctx.map(pid_of, range(6)))
    assert os.getpid() not in first and len(first) <= 2
    assert set(ctx.map(pid_of, range(6))) <= first  # no new worker process: each imported the modules once
    assert set(ctx.map(pid_of, range(4), processes=1)) == {os.getpid()}  # one process: serial, here

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
