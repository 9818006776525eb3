"""The catalog is lazy and the layers point one way (issue 14)."""

import ast
import subprocess
import sys
from pathlib import Path

import pytest

from goodhartlab.core import registry

SRC = Path(__file__).resolve().parents[1] / "src" / "goodhartlab"
EXPERIMENTS = SRC / "experiments"


def _imports(path: Path) -> set[str]:
    """Every module a file imports (absolute names; relative imports resolved against its package)."""
    package = ".".join(path.relative_to(SRC.parent).with_suffix("").parts[:-1])
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parent = package.rsplit(".", node.level - 1)[0] if node.level > 1 else package
                base = f"{parent}.{base}" if base else parent
            found.add(base)
            found.update(f"{base}.{alias.name}" for alias in node.names)
    return found


def test_catalog_imports_no_heavy_library():
    code = (
        "import sys, goodhartlab.core.registry as r; names = r.catalog(); "
        "heavy = [m for m in ('torch', 'matplotlib', 'transformers', 'sklearn') if m in sys.modules]; "
        "assert not heavy, heavy; assert 'tictactoe' in names and 'rlhf' in names"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def test_list_and_help_import_no_heavy_library():
    code = (
        "import sys, contextlib, io; from goodhartlab import cli\n"
        "with contextlib.redirect_stdout(io.StringIO()):\n"
        "    cli.main(['list'])\n"
        "    try:\n        cli.main(['run', '--help'])\n    except SystemExit:\n        pass\n"
        "heavy = [m for m in ('torch', 'matplotlib', 'transformers') if m in sys.modules]; assert not heavy, heavy"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def test_loading_an_experiment_for_its_config_imports_neither_its_run_nor_its_report():
    # what a sweep's launcher does to plan: validate configs. torch and matplotlib load only when run/report are called
    code = (
        "import sys; from goodhartlab.core.registry import get\n"
        "for name in ('tictactoe', 'amplification', 'camera', 'rlhf', 'preference-shift', 'goal-misgeneralization'):\n"
        "    e = get(name); e.config()\n"
        "heavy = [m for m in ('torch', 'matplotlib', 'transformers') if m in sys.modules]; assert not heavy, heavy"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def test_a_deferred_function_is_looked_up_at_each_call(monkeypatch):
    from goodhartlab.experiments.tictactoe import present

    deferred = registry.get("tictactoe").report
    assert isinstance(deferred, registry.Deferred) and deferred.__module__ == present.__name__
    monkeypatch.setattr(present, "report", lambda results: ("patched", results))
    assert deferred(1) == ("patched", 1)


def test_core_never_imports_experiments():
    for path in (SRC / "core").rglob("*.py"):
        bad = {m for m in _imports(path) if m.startswith("goodhartlab.experiments")}
        assert not bad, f"{path.name} imports {bad}"


def test_no_experiment_imports_another():
    pending: set[tuple[str, str]] = set()  # (importer, imported) pairs allowed: none
    for path in EXPERIMENTS.rglob("*.py"):
        rel = path.relative_to(EXPERIMENTS).parts
        if len(rel) == 1:
            continue
        own = rel[0]
        for module in _imports(path):
            parts = module.split(".")
            if parts[:2] == ["goodhartlab", "experiments"] and len(parts) > 2 and parts[2] != own:
                assert (own, parts[2]) in pending, f"experiments/{'/'.join(rel)} imports {module}"


def test_every_experiment_package_has_a_catalog_row():
    packages = {p.parent.name for p in EXPERIMENTS.glob("*/__init__.py")}
    listed = {entry.entry_point.split(":")[0].split(".")[2] for entry in registry.CATALOG.values()}
    assert packages <= listed, f"add a row to core.registry.CATALOG for {sorted(packages - listed)}"


@pytest.mark.parametrize("name", sorted(registry.CATALOG))
def test_catalog_row_matches_the_experiment(name):
    entry = registry.CATALOG[name]
    experiment = registry.get(name)
    assert experiment.name == name
    assert experiment.summary == entry.summary
    assert tuple(experiment.config.presets) == entry.presets


def test_unknown_name_suggests():
    with pytest.raises(registry.UserError, match="did you mean 'tictactoe'"):
        registry.get("tictactoo")


# Packages each layer may not import (ARCHITECTURE.md, "Layers and the direction of imports").
TOP = {"experiments", "runner", "cli", "report"}
FORBIDDEN = {
    "core": TOP | {"worlds", "raters", "models", "optim", "oversight", "analysis", "envs"},
    "worlds": TOP | {"raters", "models", "optim", "oversight"},  # a world never imports a learner
    "analysis": TOP | {"raters", "models", "optim", "oversight"},
    "models": TOP | {"raters", "optim", "oversight"},
    "raters": TOP | {"models", "optim", "oversight"},
    "optim": TOP | {"raters", "oversight"},
    "oversight": TOP,
}


@pytest.mark.parametrize("layer", sorted(FORBIDDEN))
def test_layers_point_one_way(layer):
    for path in (SRC / layer).rglob("*.py"):
        for module in _imports(path):
            parts = module.split(".")
            if parts[0] == "goodhartlab" and len(parts) > 1:
                assert parts[1] not in FORBIDDEN[layer], f"{path.relative_to(SRC)} imports {module}"
