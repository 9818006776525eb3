import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def cli(*args: str, store: Path | None = None, timeout: float = 600) -> subprocess.CompletedProcess:
    """Run the goodhartlab command in a subprocess, as a user would."""
    cmd = [sys.executable, "-m", "goodhartlab", *args]
    if store is not None:
        cmd += ["--out", str(store)]
    env = {**os.environ, "COLUMNS": "200"}
    return subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, env=env, cwd=ROOT)


@pytest.fixture
def store(tmp_path: Path) -> Path:
    return tmp_path / "runs"


# Tests that call an experiment's run() in-process get the runner's default of one thread (set before torch is
# imported); CLI runs in subprocesses set it themselves (`--threads`).
os.environ.setdefault("OMP_NUM_THREADS", "1")
