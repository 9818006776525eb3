"""``RunContext.map``: one set of workers for all of a run's calls, at most n tasks at once, none left after."""

import os

import pytest

from goodhartlab.runner.context import RunContext


def pid_of(_item) -> int:
    return os.getpid()


def fail_on_two(item: int) -> int:
    if item == 2:
        raise ValueError("two")
    return item


def test_the_workers_of_the_first_call_serve_the_next_and_close_with_the_run():
    ctx = RunContext(0, quiet=True, processes=2)
    first = set(ctx.map(pid_of, range(6)))
    second = set(ctx.map(pid_of, range(6)))
    assert os.getpid() not in first and len(first) <= 2
    assert second <= first  # no new worker process: each imported the experiment's modules once
    pool = ctx._pool
    ctx.close()
    assert ctx._pool is None and all(not w.process.is_alive() for w in pool._workers) and not pool._workers
    assert os.getpid() not in set(ctx.map(pid_of, range(2)))  # a later call starts workers again
    ctx.close()


def test_a_call_given_fewer_processes_runs_fewer_tasks_at_once():
    ctx = RunContext(0, quiet=True, processes=2)
    ctx.map(pid_of, range(4))
    assert set(ctx.map(pid_of, range(4), processes=1)) == {os.getpid()}  # one process: serial, here
    ctx.close()


def test_a_failing_task_kills_the_workers_and_the_error_reaches_the_caller():
    ctx = RunContext(0, quiet=True, processes=2)
    ctx.map(pid_of, range(2))
    pool = ctx._pool
    with pytest.raises(ValueError, match="two"):
        ctx.map(fail_on_two, range(4))
    assert ctx._pool is None and not pool._workers
    assert ctx.map(fail_on_two, [0, 1]) == [0, 1]
    ctx.close()
