"""Bad input, checked in-process: ``cli.main([...])`` with captured output and exit code, no subprocess each.

Every case must end with one line on stderr naming what was wrong, exit code 2, no traceback, and nothing
written to the store.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from conftest import ROOT

from goodhartlab import cli


def run_cli(capsys, *args: str) -> tuple[int, str, str]:
    try:
        cli.main(list(args))
        code = 0
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else 1
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def one_line_error(capsys, *args: str, needles: tuple[str, ...] = (), code: int = 2) -> str:
    got, _, err = run_cli(capsys, *args)
    assert got == code, err
    lines = [line for line in err.strip().splitlines() if line.strip()]
    assert len(lines) == 1 and "Traceback" not in err, err
    assert len(lines[0]) <= 500, len(lines[0])
    for n in needles:
        assert n in lines[0], lines[0]
    return lines[0]


@pytest.fixture(autouse=True)
def _plugins(monkeypatch):
    monkeypatch.syspath_prepend(str(ROOT / "tests" / "plugins"))
    monkeypatch.syspath_prepend(str(ROOT / "examples"))
    monkeypatch.setenv("GOODHARTLAB_PLUGINS", "probe_experiment")
    monkeypatch.setenv("COLUMNS", "200")


# -- converted from test_cli_errors.py (one subprocess each before) ---------------------------------------------


def test_unknown_experiment_did_you_mean(capsys, store):
    one_line_error(
        capsys,
        "run",
        "tictactoo",
        "--out",
        str(store),
        needles=("unknown experiment 'tictactoo'", "did you mean 'tictactoe'"),
    )
    assert not store.exists()


def test_unknown_field_did_you_mean(capsys, store):
    one_line_error(
        capsys,
        "run",
        "tictactoe",
        "--set",
        "q_episode=10",
        "--out",
        str(store),
        needles=("q_episode", "did you mean 'q_episodes'"),
    )


@pytest.mark.parametrize(
    "assignment, needles",
    [
        ("q_episodes=-3", ["q_episodes", "greater than or equal to 10"]),
        ("mixture_epsilon=1.5", ["mixture_epsilon", "less than or equal to 1"]),
        ("train_opponent=genius", ["train_opponent", "'random', 'perfect' or 'mixture'"]),
        ("seeds=many", ["seeds", "valid integer"]),
        ("gammas=[1.5]", ["gammas", "(0, 1)"]),
        ("discoverabilities=[sometimes]", ["discoverabilities.0", "'always', 'sequence' or 'deployment'"]),
        # strict numbers: a boolean is not a count, NaN and inf are not numbers a check can trust
        ("seeds=true", ["seeds", "a number is required", "boolean"]),
        ("q_epsilons=[0.1, .nan]", ["q_epsilons.1", "finite"]),
        ("pg_entropies=[.inf]", ["pg_entropies.0", "finite"]),
        ("learner_gamma=nan", ["learner_gamma"]),
        ("q_episodes=10000000000", ["q_episodes", "less than or equal to"]),
    ],
)
def test_bad_values(capsys, store, assignment, needles):
    one_line_error(capsys, "run", "tictactoe", "--set", assignment, "--out", str(store), needles=tuple(needles))
    assert not store.exists()


def test_unknown_preset_and_bad_set_syntax(capsys, store):
    one_line_error(
        capsys,
        "run",
        "tictactoe",
        "--preset",
        "quik",
        "--out",
        str(store),
        needles=("unknown preset 'quik'", "did you mean 'quick'"),
    )
    one_line_error(
        capsys, "run", "tictactoe", "--set", "seeds", "--out", str(store), needles=("--set expects field=value",)
    )


def test_missing_and_malformed_config(capsys, store, tmp_path):
    def bad(name: str, content: bytes | str, *needles: str) -> None:
        path = tmp_path / name
        path.write_bytes(content if isinstance(content, bytes) else content.encode())
        one_line_error(capsys, "run", "tictactoe", "--config", str(path), "--out", str(store), needles=needles)

    one_line_error(
        capsys,
        "run",
        "tictactoe",
        "--config",
        str(tmp_path / "nope.yaml"),
        "--out",
        str(store),
        needles=("no such file",),
    )
    bad("bad.yaml", "seeds: [1, 2\n", "not valid YAML")
    bad("list.yaml", "- 1\n- 2\n", "must hold a mapping")
    bad("wrong.yaml", "horizon: 40\n", "horizon", "less than or equal to 12")
    bad("binary.yaml", b"\x89PNG\r\n\x1a\n\x00\x00\xff\xfe", "not UTF-8")
    bad("latin1.yaml", "seeds: 3 # caf\xe9\n".encode("latin-1"), "not UTF-8")
    bad("nul.yaml", b"seeds: 3\x00\n", "not valid YAML")
    levels = ["a: &a [lol, lol, lol, lol, lol, lol, lol, lol, lol]"]
    levels += [f"{c}: &{c} [{', '.join([f'*{p}'] * 9)}]" for p, c in zip("abcdefgh", "bcdefghi")]
    bad("laughs.yaml", "\n".join(levels) + "\nq_epsilons: *i\n", "aliases are expanded")  # 9⁹ values
    bad("huge.yaml", "q_epsilons: [" + ", ".join(["0.1"] * 400_000) + "]\n", "more than the 1000000 allowed")
    bad("deep.yaml", "q_epsilons: " + "[" * 5000 + "]" * 5000 + "\n", "brackets deep")
    bad("recursive.yaml", "q_epsilons: &r [*r]\n", "refers to itself")
    bad("bigint.yaml", "seeds: " + "9" * 5000 + "\n", "4300 digits")
    assert not store.exists()


def test_echoed_input_is_bounded(capsys, store):
    line = one_line_error(
        capsys, "run", "tictactoe", "--set", "x" * 100_000 + "=1", "--out", str(store), needles=("unknown field",)
    )
    assert len(line) < 500
    line = one_line_error(
        capsys,
        "run",
        "tictactoe",
        "--set",
        "train_opponent=" + "y" * 100_000,
        "--out",
        str(store),
        needles=("train_opponent",),
    )
    assert len(line) < 500


def test_unknown_command_and_option(capsys, store):
    one_line_error(capsys, "rn", "tictactoe", needles=("unknown command 'rn'", "did you mean 'run'"))
    one_line_error(capsys, "run", "tictactoe", "--sed", "3", "--out", str(store), needles=("unrecognized arguments",))
    one_line_error(capsys, "sweep", "probe", "--seeds", "1e8", "--out", str(store), needles=("--seeds", "invalid int"))


def test_show_unknown_run(capsys, store):
    one_line_error(capsys, "show", "nope", "--out", str(store), needles=("no runs",))


# -- --out that cannot be a store -------------------------------------------------------------------------------


def test_out_that_is_a_file_or_under_a_file(capsys, tmp_path):
    a_file = tmp_path / "file"
    a_file.write_text("x")
    for out in (a_file, a_file / "runs"):
        for args in (("run", "probe"), ("runs",), ("sweep", "probe", "--grid", "x=1")):
            one_line_error(capsys, *args, "--out", str(out), needles=(str(a_file),))


def test_paths_too_long_for_the_file_system(capsys, tmp_path):
    """ENAMETOOLONG (a 300-character name) is one line naming the option, for the store and for --config."""
    long = str(tmp_path / ("é" * 300))
    for args in (("run", "probe"), ("runs",), ("sweeps",), ("index",)):
        one_line_error(capsys, *args, "--out", long, needles=("store", "not a usable path"))
    one_line_error(capsys, "run", "probe", "--config", long, needles=("--config", "not a usable path"))


# -- sweeps: bounds and options (converted from test_sweeps.py) -----------------------------------------------


@pytest.mark.parametrize(
    "args, message",
    [
        (["--grid", "nosuch=1,2"], "unknown field 'nosuch'"),
        (["--grid", "x=a,b"], "field 'x'"),
        (["--grid", "steps=0"], "field 'steps'"),
        (["--grid", "x="], "field 'x' has no values"),
        (["--grid", "seed=1,2"], "set by --seeds"),
        (["--grid", "x=1", "--backend", "slurm"], "--backend must be one of local, ray"),
        (["--grid", "x=1", "--workers", "0"], "--workers must be at least 1"),
        (["--grid", "x=1", "--workers", "100000"], "at most"),
        (["--grid", "x=1", "--retries", "1000"], "--retries must be from 0 to 10"),
        (["--grid", "x=1", "--compare", "steps"], "--compare must be one of the grid fields"),
        (["--grid", "x=1", "--seeds", "100000000"], "--seeds must be from 1 to 10000"),
        (
            [
                "--grid",
                "x=" + ",".join(str(i) for i in range(200)),
                "--grid",
                "steps=" + ",".join(map(str, range(1, 101))),
            ],
            "the plan has 20000 runs",
        ),
        (["--grid", "x=1", "--address", "h:1"], "--address is for --backend ray"),
        (["--grid", "x=1", "--backend", "ray", "--address", "nonsense"], "--address must be HOST:PORT"),
    ],
)
def test_bad_sweeps_are_one_line_and_run_nothing(capsys, store, args, message):
    one_line_error(capsys, "sweep", "probe", *args, "--out", str(store), needles=(message,))
    assert not (store / "index.sqlite").exists()


def test_resume_of_an_unknown_sweep(capsys, store):
    one_line_error(capsys, "sweep", "--resume", "nope", "--out", str(store), needles=("no sweeps",))


# -- plugins: user code that fails to load is one line --------------------------------------------------------

PLUGINS = {
    "plugin_raises": "raise RuntimeError('the plugin could not find its data')\n",
    "plugin_syntax": "def broken(:\n    pass\n",
    "plugin_duplicate": """
        from goodhartlab.core.registry import Experiment, register
        from probe_experiment import Config, run, report
        register(Experiment(name="probe", summary="again", config=Config, run=run, report=report))
    """,
    "plugin_bad_name": """
        from goodhartlab.core.registry import Experiment, register
        from probe_experiment import Config, run, report
        register(Experiment(name="../escape", summary="x", config=Config, run=run, report=report))
    """,
}


@pytest.mark.parametrize(
    "module, needle",
    [
        ("plugin_raises", "RuntimeError: the plugin could not find its data"),
        ("plugin_syntax", "SyntaxError"),
        ("plugin_duplicate", "registered twice"),
        ("plugin_bad_name", "is not allowed"),
        ("plugin_missing", "cannot import plugin module 'plugin_missing'"),
    ],
)
def test_plugins_that_fail_to_load(capsys, store, tmp_path, monkeypatch, module, needle):
    for name, source in PLUGINS.items():
        (tmp_path / f"{name}.py").write_text(textwrap.dedent(source))
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.setenv("GOODHARTLAB_PLUGINS", f"probe_experiment,{module}")
    monkeypatch.delitem(sys.modules, module, raising=False)
    one_line_error(capsys, "run", "probe", "--out", str(store), needles=("GOODHARTLAB_PLUGINS", needle))
    assert not (store / ".." / "escape").exists()


def test_presets_are_not_changed_by_a_dotted_set():
    from pydantic import BaseModel

    from goodhartlab.core.config import ExperimentConfig, resolve

    class Inner(BaseModel):
        a: int = 1

    class Nested(ExperimentConfig):
        inner: Inner = Inner()
        presets = {"p": {"inner": {"a": 2}}}

    assert resolve(Nested, "p", None, ["inner.a=5"]).inner.a == 5
    assert Nested.presets == {"p": {"inner": {"a": 2}}}
    assert resolve(Nested, "p").inner.a == 2


def test_runs_files_are_readable_by_the_group_under_umask_002(tmp_path):
    """Run files follow the umask like any file (mkstemp alone would make them 0600)."""
    code = (
        "import os, stat; os.umask(0o002); from pathlib import Path; from goodhartlab.core.files import write_json;"
        f"p = Path({str(tmp_path)!r}) / 'a.json'; write_json(p, {{}}); print(oct(stat.S_IMODE(p.stat().st_mode)))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONPATH": str(ROOT / "src")},
        check=True,
    ).stdout.strip()
    assert out == "0o664"


def test_an_experiment_name_cannot_leave_the_store(tmp_path):
    from goodhartlab.core.errors import UserError
    from goodhartlab.runner.store import RunStore

    with pytest.raises(UserError):
        RunStore(tmp_path / "runs").create("../outside", "default", 0, "0" * 16)
    assert not (tmp_path / "outside").exists() and not list(Path(tmp_path).glob("outside*"))


def test_list_names_experiments(capsys):
    code, out, _ = run_cli(capsys, "list")
    assert code == 0 and "tictactoe" in out
