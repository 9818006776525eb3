"""Worker start and stop: what a sweep's launcher and a pool's close rely on (issue 16)."""

import multiprocessing
import queue

from goodhartlab.runner import backends
from goodhartlab.runner.backends import LocalBackend
from goodhartlab.runner.pool import WorkerPool
from goodhartlab.runner.store import RunStore

EVENTS = 200


def keep_queue(q) -> None:
    backends._progress_queue = q


def put_events(n: int) -> int:
    for i in range(n):
        backends._progress_queue.put((0, "events", i, n))
    return n


def test_an_idle_worker_told_to_stop_delivers_what_it_queued_and_exits_cleanly():
    # the worker leaves with os._exit after multiprocessing's exit hook: nothing it put on a queue is lost
    q = multiprocessing.get_context("spawn").Queue()
    pool = WorkerPool(1, initializer=keep_queue, initargs=(q,))
    pool.submit("k", put_events, EVENTS)
    results = []
    while not results:
        results = pool.results(timeout=30)
    assert results == [("k", True, EVENTS)]
    process = pool._workers[0].process
    pool.close()
    assert process.exitcode == 0  # it left on its own, not killed
    received = 0
    while True:
        try:
            q.get(timeout=1)
        except queue.Empty:
            break
        received += 1
    assert received == EVENTS


def test_a_sweep_backend_starts_one_worker_before_any_run_and_the_rest_as_runs_arrive(tmp_path):
    backend = LocalBackend(RunStore(tmp_path), 2, warm="tictactoe")
    try:
        assert len(backend._pool.pids) == 1  # importing while the launcher plans; a one-run sweep starts no second
    finally:
        backend.close(cancel=True)
    lazy = LocalBackend(RunStore(tmp_path), 2)
    assert lazy._pool.pids == []  # without warm: none until a run is submitted
    lazy.close()
