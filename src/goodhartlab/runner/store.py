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

The index can always be rebuilt from the run directories (README, "The index"):
an index that is not a database, or is malformed, is kept aside as
``index.sqlite.corrupt-STAMP`` and rebuilt; a deleted or truncated one, or run
directories it does not list, are added back when the store is listed
(``goodhartlab index --rebuild`` does it on demand). Each says so in one line.
A store on a read-only filesystem is opened read-only: it can be listed and
shown, not written.
"""

from __future__ import annotations

import errno
import fcntl
import hashlib
import json
import os
import re
import socket
import sqlite3
import sys
from collections.abc import Callable
from contextlib import closing
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import quote

from goodhartlab.core.errors import UserError, shown
from goodhartlab.core.files import read_json_or, write_json

INDEX = "index.sqlite"
STAGING = ".staging"
STATUSES = ("running", "complete", "failed", "interrupted")
_NOT_RUNS = {"sweeps", "cache", STAGING}
_RUN_ID = re.compile(r"(?P<experiment>.+)-(?P<stamp>\d{8}-\d{6})-(?P<hash>[0-9a-f]{6})(-\d+)?")

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
_COLUMNS = "id, experiment, preset, seed, config_hash, status, created, finished, path, host, pid, error"


def now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _stderr_notice(message: str) -> None:
    print(f"note: {message}", file=sys.stderr)


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


class StoreError(OSError):
    """A run's end could be recorded neither in its status file nor in the index (e.g. the disk is full)."""


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


def _corrupt(exc: sqlite3.DatabaseError) -> bool:
    """Not a database, or a malformed one (as opposed to locked, read-only or full)."""
    text = str(exc).lower()
    return not isinstance(exc, sqlite3.OperationalError) or "malformed" in text or "not a database" in text


def _config_hash(config: dict) -> str:
    # The same as ExperimentConfig.hash() over a stored config.json, without importing the experiment.
    return hashlib.sha256(json.dumps(config, sort_keys=True).encode()).hexdigest()[:16]


class RunStore:
    """Run directories under ``root`` plus ``root/index.sqlite``."""

    def __init__(self, root: Path | str, notice: Callable[[str], None] | None = None):
        self.root = Path(root)
        self.notice = notice or _stderr_notice

    # -- the store directory and its index ---------------------------------------
    def _check_root(self, create: bool) -> bool:
        """Whether the store exists (creating it if asked); a file or an unusable path is one error line."""
        try:
            os.stat(self.root)
        except (FileNotFoundError, NotADirectoryError):
            pass
        except OSError as exc:  # e.g. ENAMETOOLONG, ELOOP: exists()/is_dir() would raise it later
            raise UserError(
                f"store '{shown(str(self.root))[1:-1]}' is not a usable path: {exc.strerror} (--out or GOODHARTLAB_STORE)"
            ) from None
        if self.root.exists() and not self.root.is_dir():
            raise UserError(f"store '{self.root}' is a file, not a directory (--out or GOODHARTLAB_STORE)")
        for parent in self.root.parents:
            if parent.exists():
                if not parent.is_dir():
                    raise UserError(
                        f"store '{self.root}' lies under '{parent}', which is a file, not a directory "
                        "(--out or GOODHARTLAB_STORE)"
                    )
                break
        if not create:
            return self.root.is_dir()
        try:
            self.root.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            why = "a part of it is a file" if exc.errno in (errno.ENOTDIR, errno.EEXIST) else exc.strerror
            raise UserError(
                f"cannot create the store directory '{self.root}': {why} (--out or GOODHARTLAB_STORE)"
            ) from None
        return True

    @property
    def read_only(self) -> bool:
        index = self.root / INDEX
        return not os.access(self.root, os.W_OK) or (index.exists() and not os.access(index, os.W_OK))

    def _open(self) -> sqlite3.Connection:
        con = sqlite3.connect(self.root / INDEX, timeout=30.0, isolation_level=None)
        try:
            con.execute("PRAGMA busy_timeout = 30000")
            con.execute("PRAGMA journal_mode = WAL")
            con.execute(_SCHEMA)
            con.execute("SELECT count(*) FROM runs").fetchone()
        except BaseException:
            con.close()
            raise
        return con

    def _connect(self) -> sqlite3.Connection:
        """A writable connection; a corrupt index is set aside and rebuilt first."""
        self._check_root(create=True)
        if self.read_only:
            raise UserError(
                f"store '{self.root}' is read-only: runs can be listed and shown, not recorded "
                "(--out a writable directory)"
            )
        try:
            return self._open()
        except sqlite3.DatabaseError as exc:
            if not _corrupt(exc):
                raise
            self._recover(f"{type(exc).__name__}: {exc}")
            return self._open()

    def _connect_read(self) -> sqlite3.Connection | None:
        """A connection for reading: read-only (immutable) on a read-only store; None if there is no index."""
        if not self._check_root(create=False) or not (self.root / INDEX).exists():
            return None
        if not self.read_only:
            return self._connect()
        # WAL needs its -shm file even to read; on a read-only filesystem only an immutable open works.
        uri = f"file:{quote(str((self.root / INDEX).resolve()))}?mode=ro&immutable=1"
        con = sqlite3.connect(uri, uri=True, isolation_level=None)
        try:
            con.execute("SELECT count(*) FROM runs").fetchone()
        except sqlite3.DatabaseError:
            con.close()
            return None  # unreadable and not repairable here: the runs are read from their directories
        return con

    def _recover(self, reason: str) -> None:
        """Set a corrupt index aside and rebuild it from the run directories (one process at a time)."""
        with open(self.root / ".index.lock", "a") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            try:
                with closing(self._open()):
                    return  # another process rebuilt it meanwhile
            except sqlite3.DatabaseError as exc:
                if not _corrupt(exc):
                    raise
            kept = f"{INDEX}.corrupt-{datetime.now(UTC):%Y%m%d-%H%M%S}"
            os.replace(self.root / INDEX, self.root / kept)
            for suffix in ("-wal", "-shm"):
                (self.root / f"{INDEX}{suffix}").unlink(missing_ok=True)
            with closing(self._open()) as con:
                added = self._add_missing(con, set())
            self.notice(
                f"the index of store '{self.root}' was unreadable ({reason}); rebuilt it from {added} run "
                f"directories (the old file is kept as {kept})"
            )
            try:
                from goodhartlab.runner.sweep_store import SweepStore

                SweepStore(self).rebuild()
            except Exception as exc:  # noqa: BLE001  (sweeps are bookkeeping; their runs are safe)
                self.notice(f"could not rebuild the sweeps of store '{self.root}': {type(exc).__name__}: {exc}")

    def rebuild(self) -> int:
        """``goodhartlab index --rebuild``: a fresh index from the run directories; returns the runs indexed."""
        self._check_root(create=True)
        if self.read_only:
            raise UserError(f"store '{self.root}' is read-only: its index cannot be rebuilt")
        with open(self.root / ".index.lock", "a") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            if (self.root / INDEX).exists():
                kept = f"{INDEX}.old-{datetime.now(UTC):%Y%m%d-%H%M%S}"
                os.replace(self.root / INDEX, self.root / kept)
                for suffix in ("-wal", "-shm"):
                    (self.root / f"{INDEX}{suffix}").unlink(missing_ok=True)
            with closing(self._open()) as con:
                added = self._add_missing(con, set())
        from goodhartlab.runner.sweep_store import SweepStore

        SweepStore(self).rebuild()
        return added

    # -- run directories as the source of truth -----------------------------------
    def _run_dirs(self) -> dict[str, str]:
        """Every run directory in the store: id -> path relative to the root (staged ones included)."""
        found: dict[str, str] = {}
        for base, prefix in ((self.root / STAGING, f"{STAGING}/"), (self.root, "")):
            try:
                entries = list(os.scandir(base))
            except OSError:
                continue
            for entry in entries:
                if entry.name.startswith(".") or entry.name in _NOT_RUNS or not entry.is_dir():
                    continue
                if (Path(entry.path) / "status.json").exists() or (Path(entry.path) / "config.json").exists():
                    found[entry.name] = f"{prefix}{entry.name}"
        return found

    def _record_from_dir(self, run_id: str, rel: str) -> RunRecord:
        path = self.root / rel
        status = read_json_or(path / "status.json", None)
        meta = read_json_or(path / "config.json", None)
        status = status if isinstance(status, dict) else {}
        meta = meta if isinstance(meta, dict) else {}
        config = meta.get("config") if isinstance(meta.get("config"), dict) else {}
        named = _RUN_ID.fullmatch(run_id)
        stamp = named["stamp"] if named else ""
        created = status.get("started") or (
            f"{stamp[:4]}-{stamp[4:6]}-{stamp[6:8]}T{stamp[9:11]}:{stamp[11:13]}:{stamp[13:15]}Z" if stamp else now()
        )
        state, error = status.get("status"), status.get("error")
        if state not in STATUSES:
            state, error = "failed", "its status.json is missing or unreadable"
        try:
            seed = int(status.get("seed", config.get("seed", 0)))
        except (TypeError, ValueError):
            seed = 0
        return RunRecord(
            id=run_id,
            experiment=str(
                status.get("experiment") or meta.get("experiment") or (named["experiment"] if named else "unknown")
            ),
            preset=str(status.get("preset") or meta.get("preset") or "default"),
            seed=seed,
            config_hash=str(status.get("config_hash") or (_config_hash(config) if config else "")),
            status=state,
            created=str(created),
            finished=status.get("finished"),
            path=rel,
            host=status.get("host"),
            pid=status.get("pid") if isinstance(status.get("pid"), int) else None,
            error=error,
        )

    def _add_missing(self, con: sqlite3.Connection | None, known: set[str]) -> int | list[RunRecord]:
        """Index run directories the index does not list. With no connection (read-only), return them."""
        missing = [self._record_from_dir(rid, rel) for rid, rel in self._run_dirs().items() if rid not in known]
        if con is None:
            return missing
        con.executemany(
            f"INSERT OR IGNORE INTO runs ({_COLUMNS}) VALUES (?,?,?,?,?,?,?,?,?,?,?,?)",
            [tuple(r.__dict__.values()) for r in missing],
        )
        return len(missing)

    # -- writing -------------------------------------------------------------
    def create(self, experiment: str, preset: str, seed: int, config_hash: str) -> tuple[str, Path]:
        if "/" in experiment or experiment.startswith(".") or not experiment:
            raise UserError(f"experiment name {experiment!r:.80} cannot name a run directory")
        stamp = datetime.now(UTC).strftime("%Y%m%d-%H%M%S")
        base = f"{experiment}-{stamp}-{config_hash[:6]}"
        host, pid = socket.gethostname(), os.getpid()
        with closing(self._connect()) as con:
            for n in range(1000):
                run_id = base if n == 0 else f"{base}-{n}"
                path = self.root / STAGING / run_id
                if (self.root / run_id).exists() or path.exists():
                    continue
                # The row first, then the directory: a listing in between never finds an unindexed directory
                # to add back (which would make this INSERT collide).
                try:
                    con.execute(
                        f"INSERT INTO runs ({_COLUMNS}) VALUES (?,?,?,?,?,?,?,?,?,?,?,?)",
                        (
                            run_id,
                            experiment,
                            preset,
                            seed,
                            config_hash,
                            "running",
                            now(),
                            None,
                            f"{STAGING}/{run_id}",
                            host,
                            pid,
                            None,
                        ),
                    )
                except sqlite3.IntegrityError:
                    continue
                try:
                    path.mkdir(parents=True)
                    write_json(
                        path / "status.json",
                        {
                            "status": "running",
                            "host": host,
                            "pid": pid,
                            "started": now(),
                            "experiment": experiment,
                            "preset": preset,
                            "seed": seed,
                            "config_hash": config_hash,
                        },
                    )
                except BaseException:
                    con.execute("DELETE FROM runs WHERE id=?", (run_id,))
                    raise
                return run_id, path
        raise RuntimeError(f"could not allocate a run directory for {base}")

    def set_status(self, run_id: str, status: str, error: str | None = None, publish: bool = True) -> Path:
        """Record a final status; with ``publish``, move the run out of staging into the root.

        Best effort on each side: the status file and the index are written independently, so a full disk
        that refuses one still lets the other say how the run ended; only if both fail is it an error.
        Returns the run directory.
        """
        assert status in STATUSES
        problem: BaseException | None = None
        try:
            con = self._connect()
        except (sqlite3.Error, OSError, UserError) as exc:
            con, problem = None, exc
        file_ok = index_ok = False
        try:
            row = con.execute("SELECT path FROM runs WHERE id=?", (run_id,)).fetchone() if con else None
            rel = row[0] if row else (f"{STAGING}/{run_id}" if (self.root / STAGING / run_id).exists() else run_id)
            path = self.root / rel
            previous = read_json_or(path / "status.json", {})
            previous = previous if isinstance(previous, dict) else {}
            try:
                write_json(path / "status.json", {**previous, "status": status, "finished": now(), "error": error})
                file_ok = True
            except OSError as exc:
                problem = exc
            if publish and rel != run_id and path.exists():
                try:
                    os.replace(path, self.root / run_id)
                    rel = run_id
                except OSError as exc:
                    problem = exc
            if con is not None:
                try:
                    con.execute(
                        "UPDATE runs SET status=?, finished=?, error=?, path=? WHERE id=?",
                        (status, now(), error, rel, run_id),
                    )
                    index_ok = True
                except sqlite3.Error as exc:
                    problem = exc
        finally:
            if con is not None:
                con.close()
        if not (file_ok or index_ok):
            raise StoreError(f"could not record run {run_id} as {status}: {problem}")
        return self.root / rel

    def adopt(self, record: RunRecord, source: Path) -> RunRecord:
        """Index a finished run directory made elsewhere (e.g. on a Ray worker) and move it into the root."""
        with closing(self._connect()) as con:
            for n in range(1000):
                run_id = record.id if n == 0 else f"{record.id}-{n}"
                if (self.root / run_id).exists():
                    continue
                try:
                    con.execute(
                        f"INSERT INTO runs ({_COLUMNS}) VALUES (?,?,?,?,?,?,?,?,?,?,?,?)",
                        (
                            run_id,
                            record.experiment,
                            record.preset,
                            record.seed,
                            record.config_hash,
                            record.status,
                            record.created,
                            record.finished,
                            run_id,
                            record.host,
                            None,
                            record.error,
                        ),
                    )
                except sqlite3.IntegrityError:
                    continue
                try:
                    os.replace(source, self.root / run_id)
                except BaseException:
                    con.execute("DELETE FROM runs WHERE id=?", (run_id,))
                    raise
                return RunRecord(**{**record.__dict__, "id": run_id, "path": run_id, "pid": None})
        raise RuntimeError(f"could not adopt run {record.id}")

    def find_complete(self, experiment: str, config_hash: str) -> RunRecord | None:
        """The newest complete run with this identity (experiment + resolved config incl. seed), if any."""
        con = self._connect_read()
        if con is None:
            return None
        with closing(con):
            row = con.execute(
                f"SELECT {_COLUMNS} FROM runs WHERE experiment=? AND config_hash=? AND status='complete'"
                " ORDER BY finished DESC LIMIT 1",
                (experiment, config_hash),
            ).fetchone()
        return RunRecord(*row) if row else None

    # -- reading -------------------------------------------------------------
    def list(self) -> list[RunRecord]:
        """Every run, from the index plus any run directory it lacks (added back, and said so)."""
        if not self._check_root(create=False):
            return []
        had_index = (self.root / INDEX).exists()
        if not had_index and not self._run_dirs():
            return []
        con = self._connect_read() if had_index else (None if self.read_only else self._connect())
        try:
            rows = (
                [RunRecord(*row) for row in con.execute(f"SELECT {_COLUMNS} FROM runs ORDER BY created, id").fetchall()]
                if con
                else []
            )
            known = {r.id for r in rows}
            writable = con is not None and not self.read_only
            missing = self._add_missing(con if writable else None, known)
            if writable and missing:
                rows = [
                    RunRecord(*row)
                    for row in con.execute(f"SELECT {_COLUMNS} FROM runs ORDER BY created, id").fetchall()
                ]
            elif not writable and missing:
                rows = sorted(rows + missing, key=lambda r: (r.created, r.id))
        finally:
            if con is not None:
                con.close()
        n = missing if isinstance(missing, int) else len(missing)
        if n and writable:  # runs were lost from the index: so were its sweeps (added back from plan.json)
            from goodhartlab.runner.sweep_store import SweepStore

            SweepStore(self).rebuild()
        if n:
            what = (
                "its index was missing"
                if not had_index
                else "its index is unreadable"
                if con is None
                else f"{n} run directories were not in its index"
            )
            done = "rebuilt the index from them" if writable else "listed from their directories (read-only store)"
            self.notice(f"store '{self.root}': {what}; {done} ({n} runs)")
        return [self._settle(r) for r in rows]

    def _settle(self, rec: RunRecord) -> RunRecord:
        """A 'running' run whose process on this host is gone ended: as its status file says, else interrupted."""
        if rec.status == "running" and rec.host == socket.gethostname() and not _pid_alive(rec.pid):
            found = read_json_or(self.root / rec.path / "status.json", {})
            final = found.get("status") if isinstance(found, dict) else None
            status, error = (
                (final, found.get("error"))
                if final in STATUSES and final != "running"
                else ("interrupted", "process ended before the run completed")
            )
            try:
                if not self.read_only:
                    self.set_status(rec.id, status, error, publish=status != "complete")
            except (OSError, sqlite3.Error, UserError):
                pass
            return RunRecord(**{**rec.__dict__, "status": status, "error": error})
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
