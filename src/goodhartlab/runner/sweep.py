"""Run a sweep: plan it, skip what the store already holds, dispatch the rest, retry failures, report.

A run's identity is the hash of its resolved config (seed included). A planned
run whose identity already has a complete run in the store reuses it (unless
``force``), which is also how ``--resume`` never repeats finished work: the
runs of a killed sweep that completed are found, the partial ones (left in
staging, marked interrupted) are restarted from scratch.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from rich.console import Console
from rich.text import Text
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from goodhartlab.core.errors import UserError
from goodhartlab.core.registry import get
from goodhartlab.report import sweep as sweep_report
from goodhartlab.report.html import render_index
from goodhartlab.runner.backends import BACKENDS, LocalBackend, RayBackend
from goodhartlab.runner.grid import SweepItem, SweepSpec, expand
from goodhartlab.runner.store import RunStore
from goodhartlab.runner.sweep_store import SweepStore
from goodhartlab.runner.worker import Task


@dataclass(frozen=True)
class SweepOptions:
    backend: str = "local"
    workers: int = 2
    address: str | None = None
    retries: int = 1
    force: bool = False
    cpus_per_run: float = 1.0
    compare: str | None = None
    quiet: bool = False
    run_reports: bool = False


@dataclass(frozen=True)
class SweepSummary:
    sweep_id: str
    done: int
    failed: int
    reused: int  # planned runs not run now: already complete in the store (this sweep's or another's)
    report: Path


def check_options(options: SweepOptions) -> None:
    if options.backend not in BACKENDS:
        raise UserError(f"--backend must be one of {', '.join(BACKENDS)}, got '{options.backend}'")
    if options.workers < 1:
        raise UserError(f"--workers must be at least 1, got {options.workers}")
    if options.retries < 0:
        raise UserError(f"--retries must be 0 or more, got {options.retries}")
    if options.cpus_per_run <= 0:
        raise UserError(f"--cpus-per-run must be positive, got {options.cpus_per_run}")
    if options.address and options.backend != "ray":
        raise UserError("--address is for --backend ray")


def plan(spec: SweepSpec) -> list[SweepItem]:
    """Validate and expand before anything runs; every error is one line."""
    return expand(get(spec.experiment), spec)


def run_sweep(spec: SweepSpec, store: RunStore, options: SweepOptions, resume: str | None = None,
              console: Console | None = None) -> SweepSummary:
    console = console or Console(stderr=True)
    check_options(options)
    items = plan(spec)
    if options.compare and options.compare not in spec.grid:
        raise UserError(f"--compare must be one of the grid fields ({', '.join(spec.grid) or 'none given'}), "
                        f"got '{options.compare}'")
    sweeps = SweepStore(store)
    if resume:
        sweep_id = resume
        sweeps.claim(sweep_id, options.backend)
    else:
        sweep_id = sweeps.create(spec, items, options.backend)
    by_index = {it.index: it for it in items}
    todo = _settle_known(sweeps, store, sweep_id, spec.experiment, items, force=options.force and not resume)
    status = "complete"
    try:
        if todo:
            _dispatch(sweeps, store, sweep_id, spec, [by_index[i] for i in todo], options, console, len(items))
    except KeyboardInterrupt:
        status = "interrupted"
        raise
    finally:
        sweeps.finish(sweep_id, status)
        render_index(store.root, store.list())
    report = build_sweep_report(sweeps, sweep_id, options.compare)
    final = sweeps.items(sweep_id)
    return SweepSummary(sweep_id, sum(i.status == "done" for i in final), sum(i.status == "failed" for i in final),
                        len(items) - len(todo), report)


def _settle_known(sweeps: SweepStore, store: RunStore, sweep_id: str, experiment: str, items: list[SweepItem],
                  force: bool) -> list[int]:
    """Mark items whose run already exists as done; return the indexes still to run."""
    rows = {r.index: r for r in sweeps.items(sweep_id)}
    complete = {r.id for r in store.list() if r.status == "complete"}
    todo = []
    for item in items:
        row = rows[item.index]
        if row.status == "done" and row.run_id in complete:
            continue  # finished earlier in this sweep
        existing = None if force else store.find_complete(experiment, item.identity)
        if existing is not None:
            sweeps.update_item(sweep_id, item.index, status="done", run_id=existing.id, reused=1, error=None)
            continue
        sweeps.update_item(sweep_id, item.index, status="pending")
        todo.append(item.index)
    return todo


def _dispatch(sweeps: SweepStore, store: RunStore, sweep_id: str, spec: SweepSpec, todo: list[SweepItem],
              options: SweepOptions, console: Console, total: int) -> None:
    backend = (LocalBackend(store, options.workers) if options.backend == "local"
               else RayBackend(store, options.workers, options.address, options.cpus_per_run))
    by_index = {it.index: it for it in todo}
    attempts = {it.index: 0 for it in todo}

    def submit(item: SweepItem) -> None:
        attempts[item.index] += 1
        sweeps.update_item(sweep_id, item.index, status="running", attempts=attempts[item.index])
        backend.submit(Task(item.index, attempts[item.index], spec.experiment, spec.preset,
                            item.config.model_dump(mode="json"), options.run_reports))

    progress = Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                        console=console, disable=options.quiet)
    live: dict[int, int] = {}
    finished = total - len(todo)
    failed = 0
    cancel = True
    try:
        with progress:
            overall = progress.add_task(f"[bold]sweep {spec.experiment}", total=total, completed=finished)
            for item in todo:
                submit(item)
            while backend.pending:
                for index, description, done, n in backend.progress_events():
                    if index not in live:
                        item = by_index[index]
                        label = ", ".join(f"{k}={v}" for k, v in item.point.items())
                        live[index] = progress.add_task(f"  run {index} ({label + ', ' if label else ''}seed "
                                                        f"{item.seed}): {description}", total=n)
                    progress.update(live[index], completed=done, total=n)
                for outcome in backend.next_outcomes(timeout=0.25):
                    if outcome.index in live:
                        progress.remove_task(live.pop(outcome.index))
                    item = by_index[outcome.index]
                    if outcome.status == "complete":
                        sweeps.update_item(sweep_id, item.index, status="done", run_id=outcome.run_id, error=None)
                        finished += 1
                    elif attempts[item.index] <= options.retries:
                        sweeps.update_item(sweep_id, item.index, run_id=outcome.run_id, error=outcome.error)
                        submit(item)
                    else:
                        sweeps.update_item(sweep_id, item.index, status="failed", run_id=outcome.run_id,
                                           error=outcome.error)
                        finished += 1
                        failed += 1
                        progress.console.print(Text(f"run {item.index} failed after {attempts[item.index]} "
                                                    f"attempt(s): {outcome.error}", style="red"))
                    progress.update(overall, completed=finished,
                                    description=f"[bold]sweep {spec.experiment}" + (f" ({failed} failed)" if failed else ""))
        cancel = False
    finally:
        backend.close(cancel=cancel)


def build_sweep_report(sweeps: SweepStore, sweep_id: str, compare: str | None = None) -> Path:
    """(Re)build ``<store>/sweeps/<id>/report.html`` from the stored runs of the sweep."""
    rec = sweeps.find(sweep_id)
    runs_by_id = {r.id: r for r in sweeps.runs.list()}
    runs = []
    for item in sweeps.items(rec.id):
        run = runs_by_id.get(item.run_id) if item.run_id else None
        runs.append(sweep_report.SweepRun(item.index, item.point, item.seed, item.status, item.run_id, item.error,
                                          sweeps.runs.path(run) if run else None))
    return sweep_report.render(sweeps.directory(rec.id), rec.id, rec.experiment, rec.spec.to_json(), runs, compare)
