"""The ``goodhartlab`` command: list, run, runs, show, report, demo.

Bad input ends with one line on stderr and exit code 2; Ctrl-C ends with 130
and leaves the run marked ``interrupted``.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Annotated, Optional

import click
import typer
from rich.console import Console
from rich.table import Table

from goodhartlab.core import config as configs
from goodhartlab.core.errors import UserError
from goodhartlab.core.registry import catalog, get
from goodhartlab.report.html import render_index
from goodhartlab.runner.execute import build_report, execute
from goodhartlab.runner.store import RunStore

app = typer.Typer(
    add_completion=False,
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    help="A laboratory for measuring how far a model trained on a signal ends up from what was intended.",
)
out = Console()
err = Console(stderr=True)

DEFAULT_STORE = os.environ.get("GOODHARTLAB_STORE", "runs")
StoreOpt = Annotated[Path, typer.Option("--out", help="Run store directory (env GOODHARTLAB_STORE).")]


@app.command("list")
def list_() -> None:
    """The experiments in the catalog, each with a one-line description."""
    table = Table("experiment", "presets", "description", box=None)
    for name, exp in catalog().items():
        table.add_row(name, ", ".join(["default", *exp.config.presets]), exp.summary)
    out.print(table)


@app.command()
def run(
    name: Annotated[str, typer.Argument(help="Experiment name (see `goodhartlab list`).")],
    preset: Annotated[str, typer.Option(help="Named preset, e.g. quick or full.")] = "default",
    set_: Annotated[Optional[list[str]], typer.Option("--set", help="Override one field: field=value.")] = None,
    config: Annotated[Optional[Path], typer.Option("--config", help="YAML file of field: value.")] = None,
    seed: Annotated[Optional[int], typer.Option(help="Run seed.")] = None,
    store: StoreOpt = Path(DEFAULT_STORE),
    quiet: Annotated[bool, typer.Option(help="No progress bars.")] = False,
) -> None:
    """Run one experiment and print where its report is."""
    experiment = get(name)
    cfg = configs.resolve(experiment.config, preset, config, set_ or [], seed)
    run_id, report = execute(experiment, cfg, preset, RunStore(store), quiet=quiet)
    out.print(f"run {run_id} complete")
    out.print(f"report: {report.resolve()}")


@app.command()
def demo(store: StoreOpt = Path(DEFAULT_STORE)) -> None:
    """Run the quick preset of every experiment in the catalog; print the report index."""
    runs = RunStore(store)
    for name, experiment in catalog().items():
        preset = "quick" if "quick" in experiment.config.presets else "default"
        out.print(f"[bold]{name}[/bold] ({preset})")
        cfg = configs.resolve(experiment.config, preset)
        _, report = execute(experiment, cfg, preset, runs)
        out.print(f"  report: {report.resolve()}")
    out.print(f"report index: {(runs.root / 'index.html').resolve()}")


@app.command()
def runs(store: StoreOpt = Path(DEFAULT_STORE)) -> None:
    """The stored runs, with status, experiment, seed and time."""
    records = RunStore(store).list()
    if not records:
        out.print(f"no runs in {store}")
        return
    table = Table("run", "status", "experiment", "preset", "seed", "created (UTC)", box=None)
    for r in records:
        table.add_row(r.id, r.status, r.experiment, r.preset, str(r.seed), r.created)
    out.print(table)


@app.command()
def show(
    ref: Annotated[str, typer.Argument(help="Run id, unique prefix, 'latest' or directory.")],
    store: StoreOpt = Path(DEFAULT_STORE),
) -> None:
    """A run's config and headline findings."""
    runs_ = RunStore(store)
    rec = runs_.find(ref)
    path = runs_.path(rec)
    out.print(f"[bold]{rec.id}[/bold]  status={rec.status}  experiment={rec.experiment}  preset={rec.preset}  seed={rec.seed}")
    if rec.error:
        out.print(f"error: {rec.error}")
    meta = json.loads((path / "config.json").read_text())
    out.print_json(json.dumps(meta["config"]))
    findings = path / "findings.json"
    if findings.exists():
        for f in json.loads(findings.read_text()):
            out.print(f"[bold]- {f['title']}[/bold]\n  {f['text']}")
    if (path / "report.html").exists():
        out.print(f"report: {(path / 'report.html').resolve()}")


@app.command()
def report(
    ref: Annotated[str, typer.Argument(help="Run id, unique prefix, 'latest' or directory.")],
    store: StoreOpt = Path(DEFAULT_STORE),
) -> None:
    """Rebuild a run's HTML report from its stored measurements, without re-running."""
    runs_ = RunStore(store)
    rec = runs_.find(ref)
    if rec.status != "complete":
        raise UserError(f"run '{rec.id}' is {rec.status}; only complete runs have stored results to report")
    path = build_report(runs_, rec)
    render_index(runs_.root, runs_.list())
    out.print(f"report: {path.resolve()}")


def main(argv: list[str] | None = None) -> None:
    command = typer.main.get_command(app)
    try:
        command.main(args=argv, prog_name="goodhartlab", standalone_mode=False)
    except UserError as exc:
        err.print(f"error: {exc}", markup=False, highlight=False)
        sys.exit(2)
    except click.exceptions.NoArgsIsHelpError as exc:
        err.print(exc.ctx.get_help() if exc.ctx else str(exc), markup=False, highlight=False)
        sys.exit(2)
    except click.ClickException as exc:
        err.print(f"error: {exc.format_message()}", markup=False, highlight=False)
        sys.exit(exc.exit_code)
    except (KeyboardInterrupt, click.exceptions.Abort):
        err.print("interrupted: the run is marked interrupted, not complete", markup=False, highlight=False)
        sys.exit(130)
