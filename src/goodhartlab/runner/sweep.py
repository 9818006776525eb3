"""Run a sweep: plan it, skip what the store already holds, dispatch the rest, retry failures, report.

A run's identity is the hash of its resolved config (seed included). A planned
run whose identity already has a complete run in the store reuses it (unless
``force``), which is also how ``--resume`` never repeats finished work: the
runs of a killed sweep that completed are found, the partial ones (left in
staging, marked interrupted) are restarted from scratch.
"""

from __future__ import annotations

import os
import threading
from dataclasses import dataclass
from pathlib import Path

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.text import Text

from goodhartlab.core.errors import UserError
from goodhartlab.core.registry import get
from goodhartlab.runner.backends import BACKENDS, LocalBackend, RayBackend, check_ray_address
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
    tracker: str | None = None  # "tensorboard" | "mlflow": each run logs live there (local backend only)


@dataclass(frozen=True)
class SweepSummary:
    sweep_id: str
    done: int
    failed: int
    reused: int  # planned runs not run now: already complete in the store (this sweep's or another's)
    report: Path


# Upper bounds (README, "Bounds"): each local worker is a Python process holding torch (~0.3-1 GB), so more
# than 4 per core only thrashes; a Ray cluster's CPUs are counted by Ray, so its bound is loose.
MAX_LOCAL_WORKERS_PER_CORE = 4
MAX_RAY_WORKERS = 1024
MAX_RETRIES = 10


def max_workers(backend: str) -> int:
    return MAX_RAY_WORKERS if backend == "ray" else MAX_LOCAL_WORKERS_PER_CORE * (os.cpu_count() or 1)


def check_options(options: SweepOptions) -> None:
    if options.backend not in BACKENDS:
        raise UserError(f"--backend must be one of {', '.join(BACKENDS)}, got '{options.backend}'")
    if not 1 <= options.workers <= max_workers(options.backend):
        raise UserError(
            f"--workers must be at least 1 and at most {max_workers(options.backend)} "
            f"({'Ray' if options.backend == 'ray' else f'{MAX_LOCAL_WORKERS_PER_CORE} per core'}), "
            f"got {options.workers}"
        )
    if not 0 <= options.retries <= MAX_RETRIES:
        raise UserError(f"--retries must be from 0 to {MAX_RETRIES}, got {options.retries}")
    if not 0 < options.cpus_per_run <= MAX_RAY_WORKERS:
        raise UserError(f"--cpus-per-run must be positive and at most {MAX_RAY_WORKERS}, got {options.cpus_per_run}")
    if options.address and options.backend != "ray":
        raise UserError("--address is for --backend ray")


def plan(spec: SweepSpec) -> list[SweepItem]:
    """Validate and expand before anything runs; every error is one line."""
    return expand(get(spec.experiment), spec)


def stored_plan(sweeps: SweepStore, sweep_id: str, spec: SweepSpec) -> list[SweepItem]:
    """The plan a sweep was started with (its resolved configs), not a re-reading of its --config file."""
    saved = sweeps.load_plan(sweep_id)
    if saved is None:  # a sweep recorded before plans were stored: re-plan from its spec
        return plan(spec)
    experiment = get(spec.experiment)
    items = []
    for it in saved["items"]:
        try:
            config = experiment.config.model_validate(it["config"])
        except Exception as exc:  # noqa: BLE001  (the experiment's fields changed since the sweep was planned)
            raise UserError(
                f"--resume: the stored plan of sweep '{sweep_id}' no longer validates against "
                f"'{spec.experiment}' ({type(exc).__name__}: {str(exc).splitlines()[0]})"
            ) from None
        items.append(SweepItem(int(it["index"]), dict(it["point"]), int(it["seed"]), config))
    return items


def run_sweep(
    spec: SweepSpec, store: RunStore, options: SweepOptions, resume: str | None = None, console: Console | None = None
) -> SweepSummary:
    console = console or Console(stderr=True)
    check_options(options)
    if options.tracker is not None:
        if options.backend != "local":
            # A Ray task runs into a private store on its node, which would hold the event files: only the run
            # directory comes back. `goodhartlab export RUN --to ...` sends a finished run's records instead.
            raise UserError(
                "--tracker: live tracking needs --backend local; after a Ray sweep use `goodhartlab export RUN --to`"
            )
        from goodhartlab.runner.tracking import require

        require(options.tracker)
    if options.backend == "ray" and options.address:
        check_ray_address(options.address)  # first: an unreachable cluster is one line, before anything is recorded
    # A local worker starts first: it spends seconds importing torch and the experiment, which then overlaps the
    # planning here instead of following it (benchmarks/results/sweeps.json).
    local = LocalBackend(store, options.workers, warm=spec.experiment) if options.backend == "local" else None
    interrupted = True  # until dispatch returns: a crash or a signal leaves the sweep resumable, never "complete"
    sweep_id = None
    try:
        sweeps = SweepStore(store)
        items = stored_plan(sweeps, resume, spec) if resume else plan(spec)
        if options.compare and options.compare not in spec.grid:
            raise UserError(
                f"--compare must be one of the grid fields ({', '.join(spec.grid) or 'none given'}), "
                f"got '{options.compare}'"
            )
        if resume:
            sweeps.claim(resume, options.backend)
            sweep_id = resume
        else:
            sweep_id = sweeps.create(spec, items, options.backend)
            sweeps.save_plan(sweep_id, spec, items, options.backend)
        by_index = {it.index: it for it in items}
        todo = _settle_known(sweeps, store, sweep_id, spec.experiment, items, force=options.force and not resume)
        if todo:
            backend = local or RayBackend(store, options.workers, options.address, options.cpus_per_run)
            local = None  # _dispatch closes it
            _dispatch(sweeps, sweep_id, spec, [by_index[i] for i in todo], options, console, len(items), backend)
        interrupted = False
    finally:
        if local is not None:  # not used (nothing to run, or planning failed): its idle workers exit now
            local.close(cancel=True)
        if sweep_id is not None:
            sweeps.finish(sweep_id, interrupted=interrupted)
            from goodhartlab.report.html import render_index

            render_index(store.root, store.list())
    report = build_sweep_report(sweeps, sweep_id, options.compare)
    final = sweeps.items(sweep_id)
    return SweepSummary(
        sweep_id,
        sum(i.status == "done" for i in final),
        sum(i.status == "failed" for i in final),
        len(items) - len(todo),
        report,
    )


def _settle_known(
    sweeps: SweepStore, store: RunStore, sweep_id: str, experiment: str, items: list[SweepItem], force: bool
) -> list[int]:
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


def _warm_report_imports() -> None:
    """Import the report's modules (pandas, scipy, matplotlib: ~2 s) while the first runs are in flight."""
    try:
        import goodhartlab.report.sweep  # noqa: F401
    except Exception:  # noqa: BLE001  (build_sweep_report imports it again and reports any error there)
        pass


def _dispatch(
    sweeps: SweepStore,
    sweep_id: str,
    spec: SweepSpec,
    todo: list[SweepItem],
    options: SweepOptions,
    console: Console,
    total: int,
    backend: LocalBackend | RayBackend,
) -> None:
    by_index = {it.index: it for it in todo}
    attempts = {it.index: 0 for it in todo}

    def submit(item: SweepItem) -> None:
        attempts[item.index] += 1
        sweeps.update_item(sweep_id, item.index, status="running", attempts=attempts[item.index])
        backend.submit(
            Task(
                item.index,
                attempts[item.index],
                spec.experiment,
                spec.preset,
                item.config.model_dump(mode="json"),
                options.run_reports,
                tracker=options.tracker,
            )
        )

    progress = Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console,
        disable=options.quiet,
    )
    live: dict[int, int] = {}
    finished = total - len(todo)
    failed = 0
    cancel = True
    try:
        with progress:
            overall = progress.add_task(f"[bold]sweep {spec.experiment}", total=total, completed=finished)
            for item in todo:
                submit(item)
            threading.Thread(target=_warm_report_imports, name="report-imports", daemon=True).start()
            while backend.pending:
                for index, description, done, n in backend.progress_events():
                    if index not in live:
                        item = by_index[index]
                        label = ", ".join(f"{k}={v}" for k, v in item.point.items())
                        live[index] = progress.add_task(
                            f"  run {index} ({label + ', ' if label else ''}seed {item.seed}): {description}", total=n
                        )
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
                        sweeps.update_item(
                            sweep_id, item.index, status="failed", run_id=outcome.run_id, error=outcome.error
                        )
                        finished += 1
                        failed += 1
                        progress.console.print(
                            Text(
                                f"run {item.index} failed after {attempts[item.index]} attempt(s): {outcome.error}",
                                style="red",
                            )
                        )
                    progress.update(
                        overall,
                        completed=finished,
                        description=f"[bold]sweep {spec.experiment}" + (f" ({failed} failed)" if failed else ""),
                    )
        cancel = False
    finally:
        backend.close(cancel=cancel)


def build_sweep_report(sweeps: SweepStore, sweep_id: str, compare: str | None = None) -> Path:
    """(Re)build ``<store>/sweeps/<id>/report.html`` from the stored runs of the sweep."""
    from goodhartlab.report import sweep as sweep_report  # lazy: a sweep's workers start before this loads

    rec = sweeps.find(sweep_id)
    runs_by_id = {r.id: r for r in sweeps.runs.list()}
    runs = []
    for item in sweeps.items(rec.id):
        run = runs_by_id.get(item.run_id) if item.run_id else None
        runs.append(
            sweep_report.SweepRun(
                item.index,
                item.point,
                item.seed,
                item.status,
                item.run_id,
                item.error,
                sweeps.runs.path(run) if run else None,
            )
        )
    return sweep_report.render(sweeps.directory(rec.id), rec.id, rec.experiment, rec.spec.to_json(), runs, compare)
