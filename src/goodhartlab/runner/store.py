"""The run store: one directory per run under a root, indexed in an embedded SQLite database.

Layout of a run directory::

    config.json        experiment, preset and the resolved config
    environment.json   package versions, git commit, python, host, seed
    measurements.csv   the tidy measurement table
    tables/NAME.csv    further tables an experiment records
    artifacts/NAME.json
    figures/NAME.png
    findings.json
    report.html
    status.json        running | complete | failed | interrupted (written last, by rename)

A run is written in ``.staging/RUN`` and the whole directory is renamed into
the root when it ends (complete, failed or interrupted), so a directory in the
root is never half-written; a run killed outright stays in ``.staging``.
The status file is the truth; the index mirrors it. A run whose status says
``running`` but whose process is gone is shown as ``interrupted``.
"""

from __future__ import annotations

import os
import socket
import sqlite3
from contextlib import closing
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

from goodhartlab.core.errors import UserError
from goodhartlab.core.files import read_json, write_json

INDEX = "index.sqlite"
STAGING = ".staging"
STATUSES = ("running", "complete", "failed", "interrupted")

_SCHEMA = """
CREATE TABLE IF NOT EXISTS runs (
    id TEXT PRIMARY KEY,
    experiment TEXT NOT NULL,
    preset TEXT NOT NULL,
    seed INTEGER NOT NULL,
    config_hash TEXT NOT NULL,
    status TEXT NOT NULL,
    created TEXT NOT NULL,
    finished TEXT,
    path TEXT NOT NULL,
    host TEXT,
    pid INTEGER,
    error TEXT
)
"""


def now() -> str:
    return datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass(frozen=True)
class RunRecord:
    id: str
    experiment: str
    preset: str
    seed: int
    config_hash: str
    status: str
    created: str
    finished: str | None
    path: str
    host: str | None
    pid: int | None
    error: str | None


def _pid_alive(pid: int | None) -> bool:
    if not pid:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


class RunStore:
    """Run directories under ``root`` plus ``root/index.sqlite``."""

    def __init__(self, root: Path | str):
        self.root = Path(root)

    def _connect(self) -> sqlite3.Connection:
        self.root.mkdir(parents=True, exist_ok=True)
        con = sqlite3.connect(self.root / INDEX, timeout=30.0, isolation_level=None)
        con.execute("PRAGMA busy_timeout = 30000")
        con.execute("PRAGMA journal_mode = WAL")
        con.execute(_SCHEMA)
        return con

    # -- writing -------------------------------------------------------------
    def create(self, experiment: str, preset: str, seed: int, config_hash: str) -> tuple[str, Path]:
        stamp = datetime.now(timezone.utc).strftime("%Y%m%d-%H%M%S")
        base = f"{experiment}-{stamp}-{config_hash[:6]}"
        host, pid = socket.gethostname(), os.getpid()
        with closing(self._connect()) as con:
            for n in range(1000):
                run_id = base if n == 0 else f"{base}-{n}"
                path = self.root / STAGING / run_id
                if (self.root / run_id).exists():
                    continue
                try:
                    path.mkdir(parents=True)
                except FileExistsError:
                    continue
                write_json(path / "status.json", {"status": "running", "host": host, "pid": pid, "started": now()})
                con.execute(
                    "INSERT INTO runs (id, experiment, preset, seed, config_hash, status, created, path, host, pid)"
                    " VALUES (?,?,?,?,?,?,?,?,?,?)",
                    (run_id, experiment, preset, seed, config_hash, "running", now(), f"{STAGING}/{run_id}", host, pid),
                )
                return run_id, path
        raise RuntimeError(f"could not allocate a run directory for {base}")

    def set_status(self, run_id: str, status: str, error: str | None = None, publish: bool = True) -> None:
        """Record a final status; with ``publish``, move the run out of staging into the root."""
        assert status in STATUSES
        with closing(self._connect()) as con:
            (rel,) = con.execute("SELECT path FROM runs WHERE id=?", (run_id,)).fetchone()
            path = self.root / rel
            previous = read_json(path / "status.json") if (path / "status.json").exists() else {}
            write_json(path / "status.json", {**previous, "status": status, "finished": now(), "error": error})
            if publish and rel != run_id and path.exists():
                os.replace(path, self.root / run_id)
                rel = run_id
            con.execute(
                "UPDATE runs SET status=?, finished=?, error=?, path=? WHERE id=?", (status, now(), error, rel, run_id)
            )

    def adopt(self, record: "RunRecord", source: Path) -> "RunRecord":
        """Index a finished run directory made elsewhere (e.g. on a Ray worker) and move it into the root."""
        with closing(self._connect()) as con:
            for n in range(1000):
                run_id = record.id if n == 0 else f"{record.id}-{n}"
                if (self.root / run_id).exists() or con.execute("SELECT 1 FROM runs WHERE id=?", (run_id,)).fetchone():
                    continue
                os.replace(source, self.root / run_id)
                con.execute(
                    "INSERT INTO runs (id, experiment, preset, seed, config_hash, status, created, finished, path, host, pid, error)"
                    " VALUES (?,?,?,?,?,?,?,?,?,?,?,?)",
                    (run_id, record.experiment, record.preset, record.seed, record.config_hash, record.status,
                     record.created, record.finished, run_id, record.host, None, record.error),
                )
                return RunRecord(**{**record.__dict__, "id": run_id, "path": run_id, "pid": None})
        raise RuntimeError(f"could not adopt run {record.id}")

    def find_complete(self, experiment: str, config_hash: str) -> RunRecord | None:
        """The newest complete run with this identity (experiment + resolved config incl. seed), if any."""
        if not (self.root / INDEX).exists():
            return None
        with closing(self._connect()) as con:
            row = con.execute(
                "SELECT id, experiment, preset, seed, config_hash, status, created, finished, path, host, pid, error"
                " FROM runs WHERE experiment=? AND config_hash=? AND status='complete' ORDER BY finished DESC LIMIT 1",
                (experiment, config_hash),
            ).fetchone()
        return RunRecord(*row) if row else None

    # -- reading -------------------------------------------------------------
    def list(self) -> list[RunRecord]:
        if not (self.root / INDEX).exists():
            return []
        with closing(self._connect()) as con:
            rows = con.execute(
                "SELECT id, experiment, preset, seed, config_hash, status, created, finished, path, host, pid, error"
                " FROM runs ORDER BY created, id"
            ).fetchall()
        return [self._settle(RunRecord(*row)) for row in rows]

    def _settle(self, rec: RunRecord) -> RunRecord:
        """A 'running' run whose process on this host is gone was interrupted (killed)."""
        if rec.status == "running" and rec.host == socket.gethostname() and not _pid_alive(rec.pid):
            try:
                self.set_status(rec.id, "interrupted", "process ended before the run completed")
            except (OSError, sqlite3.Error):
                pass
            return RunRecord(**{**rec.__dict__, "status": "interrupted"})
        return rec

    def find(self, ref: str) -> RunRecord:
        """A run by id, unique id prefix, 'latest', or directory path."""
        runs = self.list()
        if not runs:
            raise UserError(f"no runs in store '{self.root}'")
        if ref == "latest":
            return runs[-1]
        exact = [r for r in runs if r.id == ref or str(self.root / r.path) == ref.rstrip("/")]
        if exact:
            return exact[0]
        pref = [r for r in runs if r.id.startswith(ref)]
        if len(pref) == 1:
            return pref[0]
        if len(pref) > 1:
            raise UserError(f"run '{ref}' is ambiguous: {len(pref)} runs start with it; give more of the id")
        raise UserError(f"no run '{ref}' in store '{self.root}'; `goodhartlab runs` lists them")

    def path(self, rec: RunRecord) -> Path:
        return self.root / rec.path
