"""The ``goodhartlab`` command: list, run, sweep, runs, sweeps, show, report, demo, rerun, config, compare,
export, completion.

Bad input ends with one line on stderr and exit code 2; Ctrl-C or SIGTERM ends
with 130 and leaves the run marked ``interrupted`` (a second Ctrl-C changes
nothing); any other failure is one line and exit code 1, its traceback in the
run's log.txt (``GOODHARTLAB_DEBUG=1`` prints tracebacks).
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import sys
from pathlib import Path

from rich.console import Console
from rich.table import Table

from goodhartlab.core import config as configs
from goodhartlab.core.errors import UserError, did_you_mean
from goodhartlab.core.registry import catalog, get

out = Console(highlight=False, soft_wrap=True)
# The flagship experiment the demo runs; `demo --all` runs the quick preset of the whole catalog.
DEMO = ("rlhf",)
COMMANDS = (
    "list",
    "run",
    "sweep",
    "runs",
    "sweeps",
    "show",
    "report",
    "demo",
    "index",
    "verify",
    "rerun",
    "config",
    "compare",
    "export",
    "completion",
)


class _Parser(argparse.ArgumentParser):
    def error(self, message: str):
        raise UserError(message)


def _store(args) -> RunStore:  # noqa: F821
    from goodhartlab.runner.store import RunStore

    return RunStore(args.out)


def cmd_list(args) -> None:
    table = Table("experiment", "presets", "description", box=None)
    for name, entry in catalog().items():
        table.add_row(name, ", ".join(["default", *entry.presets]), entry.summary)
    out.print(table)


def cmd_run(args) -> None:
    from goodhartlab.runner.execute import NonFiniteMeasurement, execute
    from goodhartlab.runner.worker import limit_threads

    limit_threads(args.threads)
    experiment = get(args.name)
    _check_record(args.config, experiment.name)
    cfg = configs.resolve(experiment.config, args.preset, args.config, args.set, args.seed)
    if args.tracker:
        from goodhartlab.runner.tracking import require

        require(args.tracker)
    try:
        run_id, report = execute(experiment, cfg, args.preset, _store(args), quiet=args.quiet, tracker=args.tracker)
    except (NonFiniteMeasurement, FloatingPointError) as exc:  # training diverged: the run is recorded failed
        print(f"error: the run failed, its training diverged: {exc}", file=sys.stderr)
        sys.exit(1)
    out.print(f"run {run_id} complete")
    out.print(f"report: {report.resolve()}")


def _check_record(path: Path | None, experiment: str) -> None:
    """``--config RUN/config.json`` of another experiment: say so, rather than list its fields as unknown."""
    import yaml

    try:
        if path is None or not Path(path).is_file():
            return
    except OSError:  # a name too long for the file system: load_yaml says so in one line
        return
    try:  # bounded like every config read (a YAML bomb or a binary file must not get past here)
        data = configs.read_yaml(Path(path).read_bytes().decode("utf-8"), "--config")
    except (yaml.YAMLError, UserError, UnicodeDecodeError, OSError):
        return  # resolve() reports the bad file in one line
    if (
        isinstance(data, dict)
        and isinstance(data.get("config"), dict)
        and data.get("experiment") not in (None, experiment)
    ):
        raise UserError(f"--config: '{path}' is the record of a run of '{data['experiment']}', not '{experiment}'")


def cmd_demo(args) -> None:
    from goodhartlab.runner.execute import execute
    from goodhartlab.runner.worker import limit_threads

    limit_threads(args.threads)
    store = _store(args)
    experiments = catalog()
    chosen = experiments if args.all else {name: experiments[name] for name in DEMO if name in experiments}
    for name, entry in chosen.items():
        experiment = entry.load()
        preset = "quick" if "quick" in experiment.config.presets else "default"
        out.print(f"[bold]{name}[/bold] ({preset})")
        _, report = execute(experiment, configs.resolve(experiment.config, preset), preset, store)
        out.print(f"  report: {report.resolve()}")
    out.print(f"report index: {(store.root / 'index.html').resolve()}")
    if not args.all:
        out.print(
            f"{len(experiments) - len(chosen)} more experiments: `goodhartlab list`; "
            "`goodhartlab demo --all` runs the quick preset of every one"
        )


def _columns(rows: list[tuple[str, ...]]) -> None:
    """Plain aligned columns: an id is never truncated, and the output greps cleanly."""
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    for row in rows:
        print("  ".join(cell.ljust(w) for cell, w in zip(row, widths)).rstrip())


def cmd_runs(args) -> None:
    records = _store(args).list()
    if not records:
        out.print(f"no runs in {args.out}")
        return
    rows = [("status", "experiment", "preset", "seed", "created (UTC)", "run")]
    rows += [(r.status, r.experiment, r.preset, str(r.seed), r.created, r.id) for r in records]
    _columns(rows)


def cmd_sweep(args) -> None:
    from goodhartlab.runner.grid import SweepSpec, parse_grid
    from goodhartlab.runner.sweep import SweepOptions, run_sweep
    from goodhartlab.runner.sweep_store import SweepStore

    store = _store(args)
    resume = None
    if args.resume:
        rec = SweepStore(store).find(args.resume)
        if args.name and args.name != rec.experiment:
            raise UserError(f"--resume: sweep '{rec.id}' is of '{rec.experiment}', not '{args.name}'")
        if args.grid or args.seeds is not None or args.set or args.config or args.preset != "default":
            raise UserError(
                "--resume continues the sweep as planned; drop --grid, --seeds, --preset, --set and --config"
            )
        spec, resume = rec.spec, rec.id
    else:
        if not args.name:
            raise UserError("sweep needs an experiment NAME (see `goodhartlab list`), or --resume SWEEP")
        _check_record(args.config, args.name)
        spec = SweepSpec(
            args.name,
            args.preset,
            parse_grid(args.grid),
            1 if args.seeds is None else args.seeds,
            args.seed or 0,
            tuple(args.set),
            str(args.config) if args.config else None,
        )
    compare = args.compare or (next(iter(spec.grid)) if len(spec.grid) == 1 else None)
    options = SweepOptions(
        args.backend,
        args.workers,
        args.address,
        args.retries,
        args.force,
        args.cpus_per_run,
        compare,
        args.quiet,
        args.run_reports,
        args.tracker,
    )
    summary = run_sweep(spec, store, options, resume=resume)
    out.print(
        f"sweep {summary.sweep_id}: {summary.done} done ({summary.reused} already complete in the store), "
        f"{summary.failed} failed"
    )
    out.print(f"report: {summary.report.resolve()}")
    if summary.failed:
        print(f"error: {summary.failed} run(s) failed after retries; their errors are in the report", file=sys.stderr)
        sys.exit(1)


def cmd_sweeps(args) -> None:
    from goodhartlab.runner.sweep_store import SweepStore

    records = SweepStore(_store(args)).list()
    if not records:
        out.print(f"no sweeps in {args.out}")
        return
    rows = [("status", "experiment", "done", "failed", "running", "pending", "created (UTC)", "sweep")]
    rows += [
        (r.status, r.experiment, *(str(r.counts[k]) for k in ("done", "failed", "running", "pending")), r.created, r.id)
        for r in records
    ]
    _columns(rows)


def _run_file(path: Path, check) -> tuple[object, str | None]:
    """A run's JSON file and None, or None and why it cannot be used (missing, unreadable, wrong shape)."""
    if not path.exists():
        return None, "missing"
    try:
        data = json.loads(path.read_bytes().decode("utf-8"))
        check(data)
        return data, None
    except (OSError, ValueError, KeyError, TypeError, AttributeError) as exc:
        return None, f"unreadable ({type(exc).__name__})"


def _check_config(meta) -> None:
    if not isinstance(meta["config"], dict):
        raise TypeError("config is not a mapping")


def _check_findings(findings) -> None:
    for f in findings:
        str(f["title"]), str(f["text"])


def cmd_show(args) -> None:
    store = _store(args)
    rec = store.find(args.run)
    path = store.path(rec)
    out.print(
        f"[bold]{rec.id}[/bold]  status={rec.status}  experiment={rec.experiment}  preset={rec.preset}  "
        f"seed={rec.seed}",
        markup=False,
    )
    if rec.error:
        out.print(f"error: {rec.error}", markup=False)
    meta, why = _run_file(path / "config.json", _check_config)
    if why:
        out.print(f"config: config.json is {why}", markup=False)
    else:
        out.print("config: " + ", ".join(f"{k}={json.dumps(v)}" for k, v in meta["config"].items()), markup=False)
    findings, why = _run_file(path / "findings.json", _check_findings)
    if why and why != "missing":
        out.print(f"findings: findings.json is {why}; `goodhartlab report {rec.id}` rebuilds it", markup=False)
    for f in findings or []:
        out.print(f"- {f['title']}", markup=False, style="bold")
        if f.get("claim"):
            out.print(f"  [{f.get('verdict', '?')}] {f['claim']}", markup=False)
        out.print(f"  {f['text']}", markup=False)
    if (path / "log.txt").exists() and rec.status == "failed":
        out.print(f"log: {(path / 'log.txt').resolve()}")
    if (path / "report.html").exists():
        out.print(f"report: {(path / 'report.html').resolve()}")


def cmd_report(args) -> None:
    from goodhartlab.report.html import render_index
    from goodhartlab.runner.execute import build_report

    store = _store(args)
    rec = store.find(args.run)
    if store.read_only:
        raise UserError(
            f"store '{store.root}' is read-only: a report cannot be rebuilt there "
            f"(its report: {store.path(rec) / 'report.html'})"
        )
    # A run that failed while drawing its report has all its results stored: rebuilding completes it.
    recoverable = rec.status == "failed" and (store.path(rec) / "measurements.csv").exists()
    if rec.status != "complete" and not recoverable:
        raise UserError(f"run '{rec.id}' is {rec.status}; only complete runs have stored results to report")
    try:
        path = build_report(store, rec)
    except UserError:
        raise
    except (OSError, ValueError, KeyError, TypeError, AttributeError) as exc:
        raise UserError(
            f"could not rebuild the report of run '{rec.id}' from its stored results: {type(exc).__name__}: {exc}"
        ) from None
    if recoverable:
        store.set_status(rec.id, "complete")
        out.print(f"run {rec.id} had failed while drawing its report; its report is rebuilt and it is complete")
    render_index(store.root, store.list())
    out.print(f"report: {path.resolve()}")


def cmd_index(args) -> None:
    store = _store(args)
    if args.rebuild:
        n = store.rebuild()
        out.print(f"index of '{store.root}' rebuilt from {n} run directories")
    else:
        runs = store.list()  # adds back run directories the index lacks, and says so
        out.print(f"index of '{store.root}': {len(runs)} runs")


def cmd_verify(args) -> None:
    from goodhartlab.runner import verify

    store = _store(args)
    for run in args.run:
        rec = store.find(run)
        run_dir = store.path(rec)
        if args.record:
            path = verify.record(run_dir)
            out.print(f"recorded the verdicts of run {rec.id} ({rec.experiment}, preset {rec.preset}) in {path}")
            continue
        c = verify.compare(run_dir)
        for field in c.config_differences:
            print(f"note: field '{field}' differs from the run the verdicts were recorded from", file=sys.stderr)
        for claim, want, got in c.mismatches:
            print(f"MISMATCH {rec.experiment} [{rec.preset}]: {claim!r}: recorded {want}, this run {got}")
        if c.mismatches:
            sys.exit(1)
        out.print(
            f"run {rec.id}: all {c.matched} verdicts match the ones recorded for {rec.experiment} "
            f"at preset {rec.preset}"
        )


def cmd_rerun(args) -> None:
    from goodhartlab.runner.rerun import rerun

    result = rerun(_store(args), args.run, quiet=args.quiet)
    out.print(f"run {result.repeat} repeats {result.original}")
    if result.identical:
        out.print(f"measurements identical: {result.rows} rows")
    else:
        out.print("measurements DIFFER:", markup=False)
        for line in result.differences:
            out.print(f"  {line}", markup=False)
    if result.environment:
        out.print("environment changed since the original run:", markup=False)
        for line in result.environment[:20]:
            out.print(f"  {line}", markup=False)
        if len(result.environment) > 20:
            out.print(f"  ... and {len(result.environment) - 20} more")
    if result.report:
        out.print(f"report: {result.report.resolve()}")
    if not result.identical:
        sys.exit(1)


def cmd_config(args) -> None:
    from goodhartlab.api import config_fields

    experiment = get(args.name)
    _check_record(args.config, experiment.name)
    cfg = configs.resolve(experiment.config, args.preset, args.config, args.set, args.seed)
    if args.yaml:
        import yaml

        print(yaml.safe_dump(cfg.model_dump(mode="json"), sort_keys=False, allow_unicode=True), end="")
        return
    try:
        default = experiment.config()
    except Exception:  # a config with required fields has no all-defaults instance
        default = None
    rows = config_fields(experiment.config, cfg, default)
    changed = sum(r["changed"] for r in rows)
    out.print(
        f"[bold]{experiment.name}[/bold] (preset {args.preset}): {len(rows)} fields, {changed} changed from "
        "the defaults (marked *). Set one with --set FIELD=VALUE; `--yaml` prints a file for --config."
    )
    for r in rows:
        value = json.dumps(r["value"], ensure_ascii=False)
        default_text = "" if not r["changed"] else f"   (default {json.dumps(r['default'], ensure_ascii=False)})"
        out.print(
            f"{'*' if r['changed'] else ' '} [bold]{r['field']}[/bold] = {value}  [dim]{r['type']}[/dim]{default_text}",
            markup=True,
            highlight=False,
        )
        if r["description"]:
            out.print(f"      {r['description']}", markup=False)


def cmd_compare(args) -> None:
    from goodhartlab.report.compare import compare

    path = compare(args.refs, _store(args), labels=args.label or None, series=args.series or None, out=args.to)
    for f in json.loads((path.parent / "findings.json").read_text()):
        verdict = f" ({f['verdict']})" if f.get("claim") else ""
        out.print(f"- {f['title']}{verdict}", style="bold", markup=False)
        out.print(f"  {f['text']}", markup=False)
    out.print(f"report: {path.resolve()}")


def cmd_export(args) -> None:
    from goodhartlab.runner.exports import export

    where, n = export(_store(args), args.run, args.to, args.dest)
    out.print(f"{n} rows exported to {args.to}: {where}", markup=False)


def cmd_completion(args) -> None:
    try:
        import argcomplete
    except ImportError:
        raise UserError("shell completion needs argcomplete: pip install 'goodhartlab[completion]'") from None
    print(argcomplete.shellcode(["goodhartlab"], shell=args.shell))


def _experiment_names(**_) -> list[str]:
    return list(catalog())


def _run_ids(parsed_args, **_) -> list[str]:
    from goodhartlab.runner.store import RunStore

    runs = RunStore(getattr(parsed_args, "out", None) or "runs").list()
    return ["latest", *(r.id for r in runs)]


def _refs(parsed_args, **_) -> list[str]:
    from goodhartlab.runner.store import RunStore
    from goodhartlab.runner.sweep_store import SweepStore

    store = RunStore(getattr(parsed_args, "out", None) or "runs")
    return [*(r.id for r in store.list()), *(s.id for s in SweepStore(store).list())]


def _threads(sp: argparse.ArgumentParser) -> None:
    # The runner owns threads (experiments never set them). One run defaults to 1 thread: the catalog's models
    # are small, so more threads mostly add contention, and float results are reproducible only at one thread
    # count. A sweep gives each of its W workers cores/W threads instead.
    sp.add_argument("--threads", type=_positive, default=1, help="torch/OpenMP threads for the run (default 1)")


def _tracker(sp: argparse.ArgumentParser, which: str = "") -> None:
    sp.add_argument(
        "--tracker",
        choices=("tensorboard", "mlflow"),
        help="also log measurements and training histories live to TensorBoard (STORE/tensorboard/RUN) or MLflow "
        f"(needs the extra){which}",
    )


def _positive(text: str) -> int:
    if not text.isdigit() or int(text) < 1:
        raise UserError(f"--threads: expected a whole number >= 1, got '{text}'")
    return int(text)


def parser() -> argparse.ArgumentParser:
    p = _Parser(
        prog="goodhartlab",
        description="A laboratory for measuring how far a model trained on a signal "
        "ends up from what was intended: proxy, rater and gold side by side.",
    )
    p.add_argument("--version", action="version", version=_version())
    sub = p.add_subparsers(dest="command", parser_class=_Parser, metavar="COMMAND")
    default_store = Path(os.environ.get("GOODHARTLAB_STORE", "runs"))

    def add(name, func, help_):
        sp = sub.add_parser(name, help=help_, description=help_)
        sp.set_defaults(func=func)
        if name != "list":
            sp.add_argument(
                "--out",
                type=Path,
                default=default_store,
                help="run store directory (env GOODHARTLAB_STORE; default ./runs)",
            )
        return sp

    add("list", cmd_list, "the experiments in the catalog, each with a one-line description")
    sp = add("run", cmd_run, "run one experiment and print where its report is")
    sp.add_argument("name", help="experiment name (see `goodhartlab list`)").completer = _experiment_names
    sp.add_argument("--preset", default="default", help="named preset, e.g. quick or full")
    sp.add_argument("--set", action="append", default=[], metavar="FIELD=VALUE", help="override one config field")
    sp.add_argument("--config", type=Path, help="YAML file of field: value")
    sp.add_argument("--seed", type=int, help="run seed")
    sp.add_argument("--quiet", action="store_true", help="no progress bars")
    _threads(sp)
    _tracker(sp)
    sp = add("sweep", cmd_sweep, "run an experiment over a grid of fields and seeds, locally or on Ray")
    sp.add_argument("name", nargs="?", help="experiment name (see `goodhartlab list`)")
    sp.add_argument("--preset", default="default", help="named preset, e.g. quick or full")
    sp.add_argument(
        "--grid",
        action="append",
        default=[],
        metavar="FIELD=V1,V2,...",
        help="a field and its values; repeat for a product grid",
    )
    sp.add_argument("--seeds", type=int, help="seeds per grid point (seed, seed+1, ...; default 1)")
    sp.add_argument("--seed", type=int, help="first seed (default 0)")
    sp.add_argument(
        "--set", action="append", default=[], metavar="FIELD=VALUE", help="fix one config field for every run"
    )
    sp.add_argument("--config", type=Path, help="YAML file of field: value for every run")
    sp.add_argument("--backend", default="local", help="local (default: worker processes here) or ray")
    sp.add_argument("--workers", type=int, default=2, help="worker processes (local) or CPUs of the local Ray instance")
    sp.add_argument(
        "--address", help="Ray cluster address, e.g. ray://head:10001 or auto (default: start a local instance)"
    )
    sp.add_argument("--cpus-per-run", type=float, default=1.0, help="CPUs each Ray task asks for")
    sp.add_argument("--retries", type=int, default=1, help="retries of a failed run before it is reported failed")
    sp.add_argument(
        "--force", action="store_true", help="run again even when the store has a complete run with the same identity"
    )
    sp.add_argument("--resume", metavar="SWEEP", help="continue a sweep whose launcher was stopped or killed")
    sp.add_argument(
        "--compare", metavar="FIELD", help="grid field to compare over in the report (default: the only grid field)"
    )
    sp.add_argument(
        "--run-reports",
        action="store_true",
        help="also build each run's own report.html "
        "(default: only the sweep report; `goodhartlab report RUN` builds a run's report later)",
    )
    sp.add_argument("--quiet", action="store_true", help="no progress bars")
    _tracker(sp, " (each run of the sweep; local backend)")
    add("sweeps", cmd_sweeps, "the sweeps in the store, with counts of done, failed, running and pending runs")
    sp = add("demo", cmd_demo, "run the flagship experiment (rlhf) at its quick preset and print where the report is")
    sp.add_argument("--all", action="store_true", help="run the quick preset of every experiment instead")
    _threads(sp)
    add("runs", cmd_runs, "the stored runs, with status, experiment, seed and time")
    for name, func, help_ in (
        ("show", cmd_show, "a run's config and headline findings"),
        ("report", cmd_report, "rebuild a run's HTML report from stored measurements"),
    ):
        sp = add(name, func, help_)
        sp.add_argument("run", help="run id, unique prefix, 'latest' or the run's directory").completer = _run_ids
    sp = add("index", cmd_index, "check the store's index against its run directories, or rebuild it from them")
    sp.add_argument(
        "--rebuild",
        action="store_true",
        help="a fresh index from the run directories (the old file is kept as index.sqlite.old-STAMP)",
    )
    sp = add(
        "verify", cmd_verify, "check a run's verdicts against those recorded for its preset (exit 1 on a mismatch)"
    )
    sp.add_argument("run", nargs="+", help="run id(s), unique prefix, 'latest' or the run's directory")
    sp.add_argument("--record", action="store_true", help="record these runs' verdicts as the package's expected ones")
    sp = add(
        "rerun",
        cmd_rerun,
        "repeat a stored run from its own record and check its measurements are identical (exit 1 if they differ)",
    )
    sp.add_argument("run", help="run id, unique prefix, 'latest' or the run's directory").completer = _run_ids
    sp.add_argument("--quiet", action="store_true", help="no progress bars")
    sp = add(
        "config",
        cmd_config,
        "every field of an experiment's config: type, default, description and the "
        "value resolved from --preset, --config, --set and --seed",
    )
    sp.add_argument("name", help="experiment name (see `goodhartlab list`)").completer = _experiment_names
    sp.add_argument("--preset", default="default", help="named preset, e.g. quick or full")
    sp.add_argument("--set", action="append", default=[], metavar="FIELD=VALUE", help="override one config field")
    sp.add_argument("--config", type=Path, help="YAML file of field: value, or a run's config.json")
    sp.add_argument("--seed", type=int, help="run seed")
    sp.add_argument("--yaml", action="store_true", help="print the resolved config as YAML (a file for --config)")
    sp = add(
        "compare",
        cmd_compare,
        "overlay runs and sweeps (proxy, rater, gold against pressure or √KL) in one "
        "HTML report with a verdict table: which gives the most gold at matched KL",
    )
    sp.add_argument(
        "refs",
        nargs="+",
        metavar="RUN|SWEEP",
        help="runs (id, prefix, 'latest') and sweeps (id, prefix); "
        "the first is the reference the others are tested against",
    ).completer = _refs
    sp.add_argument("--label", action="append", default=[], help="a name per RUN|SWEEP, in order (default: the ids)")
    sp.add_argument("--series", action="append", default=[], help="compare only this series (repeatable)")
    sp.add_argument("--to", type=Path, help="directory of the report (default: STORE/compare/compare-...)")
    sp = add(
        "export",
        cmd_export,
        "export a stored run: rater comparisons as prompt/chosen/rejected JSON lines "
        "(jsonl), or its measurements and training histories to TensorBoard or MLflow",
    )
    sp.add_argument("run", help="run id, unique prefix, 'latest' or the run's directory").completer = _run_ids
    sp.add_argument("--to", required=True, choices=("jsonl", "tensorboard", "mlflow"), help="format")
    sp.add_argument(
        "--dest",
        type=Path,
        help="directory to write (default: RUN/exports for jsonl, STORE/tensorboard/RUN for tensorboard)",
    )
    sp = sub.add_parser(
        "completion",
        help='print a shell completion script (needs argcomplete): eval "$(goodhartlab completion bash)"',
        description="print a shell completion script",
    )
    sp.set_defaults(func=cmd_completion)
    sp.add_argument(
        "shell", nargs="?", default="bash", choices=("bash", "zsh", "fish", "tcsh"), help="shell (default bash)"
    )
    return p


class _Stop(KeyboardInterrupt):
    """SIGTERM, handled as Ctrl-C: the run or sweep is recorded interrupted."""


def _on_sigterm(signum, frame):  # noqa: ARG001
    raise _Stop()


def _failure_line(exc: BaseException) -> str:
    from goodhartlab.core.errors import one_line

    text = one_line(f"{type(exc).__name__}: {exc}")
    run_id, log = getattr(exc, "run_id", None), getattr(exc, "run_log", None)
    if run_id:
        where = f"; traceback in {log}" if log is not None and Path(log).exists() else ""
        return f"error: run {run_id} failed: {text} (recorded failed{where})"
    return f"error: {text}"


def _version() -> str:
    from goodhartlab import __version__

    return f"goodhartlab {__version__} (python {sys.version.split()[0]})"


def _autocomplete(p: argparse.ArgumentParser) -> None:
    """Answer a shell's completion request (argcomplete sets _ARGCOMPLETE) and exit; otherwise do nothing."""
    if "_ARGCOMPLETE" not in os.environ:
        return
    try:
        import argcomplete
    except ImportError:
        return
    argcomplete.autocomplete(p)


def main(argv: list[str] | None = None) -> None:
    argv = sys.argv[1:] if argv is None else argv
    p = parser()
    in_main = _in_main_thread()
    previous = signal.signal(signal.SIGTERM, _on_sigterm) if in_main else None
    _autocomplete(p)
    try:
        if argv and not argv[0].startswith("-") and argv[0] not in COMMANDS:
            raise UserError(
                f"unknown command '{argv[0]}'{did_you_mean(argv[0], COMMANDS)}; commands are: {', '.join(COMMANDS)}"
            )
        args = p.parse_args(argv)
        if not getattr(args, "func", None):
            p.print_help()
            sys.exit(2)
        args.func(args)
    except UserError as exc:
        print(f"error: {exc}", file=sys.stderr)
        sys.exit(2)
    except KeyboardInterrupt:
        if in_main:  # one line, once: a second Ctrl-C while exiting changes nothing
            signal.signal(signal.SIGINT, signal.SIG_IGN)
        print("interrupted: the run is marked interrupted, not complete", file=sys.stderr)
        sys.exit(130)
    except Exception as exc:  # noqa: BLE001  (a failed run, a full disk, a broken store: one line, exit 1)
        if os.environ.get("GOODHARTLAB_DEBUG"):
            raise
        print(_failure_line(exc), file=sys.stderr)
        sys.exit(1)
    finally:
        if previous is not None:
            signal.signal(signal.SIGTERM, previous)


def _in_main_thread() -> bool:
    import threading

    return threading.current_thread() is threading.main_thread()
