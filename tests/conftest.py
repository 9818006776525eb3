import contextlib
import io
import os
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import settings

ROOT = Path(__file__).resolve().parents[1]

# `make test` is the gate a submission lands through, so its property tests draw the same examples every time
# (derandomize: the examples come from a hash of the test, not from the clock). `make fuzz` explores afresh.
settings.register_profile("gate", derandomize=True, print_blob=True)
settings.register_profile("explore", derandomize=False, max_examples=300, print_blob=True)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "gate"))


def cli(*args: str, store: Path | None = None, timeout: float = 600) -> subprocess.CompletedProcess:
    """Run the goodhartlab command in a subprocess, as a user would."""
    cmd = [sys.executable, "-m", "goodhartlab", *args]
    if store is not None:
        cmd += ["--out", str(store)]
    env = {**os.environ, "COLUMNS": "200"}
    return subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, env=env, cwd=ROOT)


def cli_here(*args: str, store: Path | None = None) -> subprocess.CompletedProcess:
    """Run the goodhartlab command in this process (``cli.main``), for checks of argument validation: the same
    exit code and output as :func:`cli`, without a subprocess that imports torch for each bad input."""
    from goodhartlab import cli as command

    argv = [*args, *(["--out", str(store)] if store is not None else [])]
    out, err = io.StringIO(), io.StringIO()
    code = 0
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            command.main(argv)
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else 1
    return subprocess.CompletedProcess(["goodhartlab", *argv], code, out.getvalue(), err.getvalue())


@pytest.fixture
def store(tmp_path: Path) -> Path:
    return tmp_path / "runs"


# Tests that call an experiment's run() in-process get the runner's default of one thread (set before torch is
# imported); CLI runs in subprocesses set it themselves (`--threads`).
os.environ.setdefault("OMP_NUM_THREADS", "1")


# The one tiny tictactoe config of the tests that check wiring (runner, store, CLI, reports, verify), not
# tictactoe's science at a preset's size: the exact at-optimum checks run in full, two learners train for a few
# dozen episodes, and only the 'always' machine is built (the 'deployment' and 'sequence' ones cost seconds each).
TINY_TICTACTOE = [
    "q_episodes=60",
    "pg_episodes=32",
    "seeds=2",
    "eval_episodes=10",
    "checkpoints=2",
    "discoverabilities=[always]",
    "q_epsilons=[0.1]",
    "pg_entropies=[0.0]",
    "workers=1",
]


def sets(assignments: list[str]) -> list[str]:
    """``--set`` options for the command line, one per assignment."""
    return [a for v in assignments for a in ("--set", v)]


def use_plugins(monkeypatch, *modules: str) -> None:
    """Load test-only experiments (examples/probe_experiment.py, tests/plugins, tests/curve_plugin.py) in this
    process, for in-process commands; the workers a sweep spawns inherit both sys.path and the environment."""
    monkeypatch.setenv("GOODHARTLAB_PLUGINS", ",".join(modules))
    for folder in (ROOT / "tests", ROOT / "tests" / "plugins", ROOT / "examples"):
        monkeypatch.syspath_prepend(str(folder))


def as_from_a_terminal() -> None:
    """``preexec_fn`` for a child that a test sends Ctrl-C: SIGINT back to its default disposition, as a terminal
    gives it. A shell's background job (``make test &``, nohup) inherits SIGINT *ignored*, which survives exec, and
    Python then never raises KeyboardInterrupt, so the child would sleep through the test's Ctrl-C."""
    import signal

    signal.signal(signal.SIGINT, signal.SIG_DFL)


def interruptible(cmd: list[str], env: dict, new_session: bool = False) -> subprocess.Popen:
    """A command-line child that a test may send Ctrl-C or SIGTERM: from the project root, output captured as text,
    SIGINT as from a terminal; ``new_session`` puts it in its own process group (a terminal's Ctrl-C goes to all)."""
    return subprocess.Popen(
        cmd,
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=new_session,
        preexec_fn=as_from_a_terminal,
    )
