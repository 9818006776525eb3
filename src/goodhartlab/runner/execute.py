"""Execute one experiment run into the store, and rebuild a run's report from stored results."""

from __future__ import annotations

import functools
import math
import platform
import signal
import socket
import subprocess
import sys
import traceback
from collections.abc import Callable
from contextlib import contextmanager
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path

from goodhartlab.core.config import ExperimentConfig
from goodhartlab.core.errors import one_line
from goodhartlab.core.files import write_json
from goodhartlab.core.records import Measurement
from goodhartlab.core.registry import Experiment, get
from goodhartlab.runner import results as stored
from goodhartlab.runner.context import ProgressSink, RunContext
from goodhartlab.runner.store import RunRecord, RunStore


def _git(*args: str) -> str | None:
    try:
        proc = subprocess.run(["git", *args], cwd=Path(__file__).parent, capture_output=True, text=True, timeout=5)
    except (OSError, subprocess.SubprocessError):
        return None
    return proc.stdout.strip() if proc.returncode == 0 else None


def environment_info(seed: int) -> dict:
    return {"seed": seed, **_static_environment()}


@functools.cache
def _static_environment() -> dict:
    """Python, platform, host, every installed distribution's version, and the git commit of the source tree
    with whether it had uncommitted changes (``git_dirty``); both ``None`` when goodhartlab is not run
    from a git checkout of itself (e.g. installed from a wheel).

    Once per process: a sweep worker runs many runs, and versions and the commit do not change meanwhile."""
    versions = {}
    for dist in metadata.distributions():
        name = dist.metadata["Name"]
        if name:
            versions.setdefault(name.lower().replace("_", "-"), dist.version)
    versions.setdefault("goodhartlab", _own_version())
    top = _git("rev-parse", "--show-toplevel")
    ours = top is not None and (Path(top) / "src" / "goodhartlab" / "__init__.py").exists()
    commit = _git("rev-parse", "HEAD") if ours else None
    status = _git("status", "--porcelain", "--untracked-files=no") if ours else None
    return {
        "python": sys.version.split()[0],
        "platform": platform.platform(),
        "host": socket.gethostname(),
        "packages": dict(sorted(versions.items())),
        "git_commit": commit,
        "git_dirty": None if status is None else bool(status),
    }


def _own_version() -> str:
    from goodhartlab import __version__

    return __version__


class _Terminated(KeyboardInterrupt):
    """SIGTERM, handled like Ctrl-C so the run is marked interrupted."""


def _on_sigterm(signum, frame):  # noqa: ARG001
    raise _Terminated()


class NonFiniteMeasurement(FloatingPointError):
    """A run recorded NaN or inf in a channel: its training diverged, so the run is failed, not reported."""


def check_finite(measurements: list[Measurement]) -> None:
    for i, m in enumerate(measurements):
        for name in ("pressure", "proxy", "gold", "rater", "kl"):
            value = getattr(m, name)
            if value is not None and not math.isfinite(float(value)):
                raise NonFiniteMeasurement(
                    f"measurement {i} (series '{m.series}', {m.pressure_name}={m.pressure}) has {name}={value}"
                )


LOG = "log.txt"


def _log(path: Path, text: str) -> None:
    """Append to the run's log.txt; best effort (on a full disk the status line matters more)."""
    try:
        with open(path, "a", encoding="utf-8") as fh:
            fh.write(f"{datetime.now(UTC):%Y-%m-%dT%H:%M:%SZ} {text.rstrip()}\n")
    except OSError:
        pass


@contextmanager
def _uninterrupted():
    """Recording how a run ended is not itself cut short by a second Ctrl-C."""
    if not _main_thread():
        yield
        return
    previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)


def execute(
    experiment: Experiment,
    config: ExperimentConfig,
    preset: str,
    store: RunStore,
    quiet: bool = False,
    progress_sink: ProgressSink | None = None,
    on_start: Callable[[str], None] | None = None,
    report: bool = True,
    processes: int | None = None,
    tracker: str | None = None,
) -> tuple[str, Path]:
    """Run ``experiment`` with ``config``; return (run id, report path). Status is 'complete' only at the end.

    A run that raises, or records a non-finite proxy, rater, gold, KL or pressure, ends ``failed``; its
    traceback goes to the run's log.txt and its one-line error to status.json. With ``report=False`` (sweeps)
    the run is complete once its results are stored; its report.html is built later by ``goodhartlab report
    RUN``, and the store's index page is left to the caller. ``processes``: the run's share for ``ctx.map``.
    The exception a failed run raises carries ``run_id`` and ``run_log`` attributes (for a one-line message).
    ``tracker`` ("tensorboard" | "mlflow") also sends measurements and histories there as they are recorded.
    """
    run_id, run_dir = store.create(experiment.name, preset, config.seed, config.hash())
    log = run_dir / LOG
    if on_start is not None:
        on_start(run_id)
    previous = signal.signal(signal.SIGTERM, _on_sigterm) if _main_thread() else None
    live = None
    try:
        _log(log, f"run {run_id}: {experiment.name} preset={preset} seed={config.seed}")
        meta = {
            "run_id": run_id,
            "experiment": experiment.name,
            "preset": preset,
            "config": config.model_dump(mode="json"),
        }
        write_json(run_dir / "config.json", meta)
        write_json(run_dir / "environment.json", environment_info(config.seed))
        if tracker is not None:
            from goodhartlab.runner.tracking import open_tracker

            live = open_tracker(tracker, store.root, run_id, experiment.name, meta["config"])
        ctx = RunContext(
            config.seed,
            run_dir,
            quiet=quiet,
            progress_sink=progress_sink,
            store_root=store.root,
            processes=processes,
            log_file=log,
            tracker=live,
        )
        try:
            experiment.run(config, ctx)
        finally:
            ctx.close()  # the run's map workers: not kept while the report is built, never outliving the run
        check_finite(ctx.measurements)
        stored.save(run_dir, ctx.measurements, ctx.tables, ctx.artifacts)
        if report:
            build_report(store, store.find(run_id))
        _log(log, "complete")
        final = store.set_status(run_id, "complete")  # publishes the directory: staging -> root
        return run_id, final / "report.html"
    except KeyboardInterrupt:
        with _uninterrupted():
            _log(log, "interrupted by the user or a signal")
            store.set_status(run_id, "interrupted", "interrupted by the user or a signal")
        raise
    except BaseException as exc:
        with _uninterrupted():
            error = one_line(f"{type(exc).__name__}: {exc}")
            _log(log, "failed: " + "".join(traceback.format_exception(exc)))
            final = store.set_status(run_id, "failed", error)
            try:
                exc.run_id, exc.run_log = run_id, final / LOG
            except AttributeError:
                pass
        raise
    finally:
        if live is not None:
            live.close()
        if previous is not None:
            signal.signal(signal.SIGTERM, previous)
        if report:
            from goodhartlab.report.html import render_index  # lazy: a sweep worker's runs draw no report

            try:
                render_index(store.root, store.list())
            except OSError:
                pass  # the index page is a convenience; the run's own record is what counts


def _main_thread() -> bool:
    import threading

    return threading.current_thread() is threading.main_thread()


def build_report(store: RunStore, rec: RunRecord) -> Path:
    """(Re)build a run's figures, findings and report.html from its stored results."""
    from goodhartlab.report.html import render_run  # lazy: matplotlib and scipy stay out of a sweep worker's path

    experiment = get(rec.experiment)
    run_dir = store.path(rec)
    results = stored.load(run_dir, experiment.config, run_id=rec.id)
    content = experiment.report(results)
    write_json(run_dir / "findings.json", [f.to_dict() for f in content.findings])
    meta = {
        "run_id": rec.id,
        "experiment": rec.experiment,
        "preset": rec.preset,
        "config": results.config.model_dump(mode="json"),
    }
    return render_run(run_dir, content, meta, results.environment)
