"""Sweeps in the run store's SQLite index: one row per sweep, one per planned run (item).

An item is ``pending``, ``running``, ``done`` or ``failed``; it points at the
run that settled it. A sweep whose launcher process is gone is shown as
``interrupted`` and its running items as pending: ``--resume`` restarts them.
"""

from __future__ import annotations

import json
import os
import socket
from contextlib import closing
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

from goodhartlab.core.errors import UserError, did_you_mean
from goodhartlab.runner.grid import SweepItem, SweepSpec
from goodhartlab.runner.store import RunStore, _pid_alive, now

_SCHEMA = (
    """CREATE TABLE IF NOT EXISTS sweeps (
        id TEXT PRIMARY KEY, experiment TEXT NOT NULL, spec TEXT NOT NULL, backend TEXT NOT NULL,
        status TEXT NOT NULL, created TEXT NOT NULL, finished TEXT, host TEXT, pid INTEGER)""",
    """CREATE TABLE IF NOT EXISTS sweep_items (
        sweep_id TEXT NOT NULL, idx INTEGER NOT NULL, identity TEXT NOT NULL, point TEXT NOT NULL,
        seed INTEGER NOT NULL, status TEXT NOT NULL, run_id TEXT, attempts INTEGER NOT NULL DEFAULT 0,
        error TEXT, reused INTEGER NOT NULL DEFAULT 0, PRIMARY KEY (sweep_id, idx))""",
)
ITEM_STATUSES = ("pending", "running", "done", "failed")


@dataclass(frozen=True)
class SweepRecord:
    id: str
    experiment: str
    spec: SweepSpec
    backend: str
    status: str
    created: str
    finished: str | None
    counts: dict[str, int]


@dataclass(frozen=True)
class ItemRecord:
    index: int
    identity: str
    point: dict[str, Any]
    seed: int
    status: str
    run_id: str | None
    attempts: int
    error: str | None
    reused: bool


class SweepStore:
    """Sweep bookkeeping beside the runs of a :class:`RunStore`."""

    def __init__(self, runs: RunStore):
        self.runs = runs
        self.root = runs.root

    def _connect(self):
        con = self.runs._connect()
        for statement in _SCHEMA:
            con.execute(statement)
        return con

    def create(self, spec: SweepSpec, items: list[SweepItem], backend: str) -> str:
        stamp = datetime.now(timezone.utc).strftime("%Y%m%d-%H%M%S")
        base = f"sweep-{spec.experiment}-{stamp}-{spec.digest()}"
        with closing(self._connect()) as con:
            con.execute("BEGIN IMMEDIATE")
            n = 0
            while con.execute("SELECT 1 FROM sweeps WHERE id=?", (base if n == 0 else f"{base}-{n}",)).fetchone():
                n += 1
            sweep_id = base if n == 0 else f"{base}-{n}"
            con.execute(
                "INSERT INTO sweeps (id, experiment, spec, backend, status, created, host, pid) VALUES (?,?,?,?,?,?,?,?)",
                (sweep_id, spec.experiment, json.dumps(spec.to_json()), backend, "running", now(),
                 socket.gethostname(), os.getpid()),
            )
            con.executemany(
                "INSERT INTO sweep_items (sweep_id, idx, identity, point, seed, status) VALUES (?,?,?,?,?,?)",
                [(sweep_id, it.index, it.identity, json.dumps(it.point), it.seed, "pending") for it in items],
            )
            con.execute("COMMIT")
        return sweep_id

    def claim(self, sweep_id: str, backend: str) -> None:
        """Take over a sweep for ``--resume``: refuse if its launcher is still alive."""
        rec = self.find(sweep_id)
        if rec.status == "running":
            raise UserError(f"sweep '{sweep_id}' is still running (its launcher is alive); resume it once it ends")
        with closing(self._connect()) as con:
            con.execute("UPDATE sweeps SET status='running', host=?, pid=?, backend=?, finished=NULL WHERE id=?",
                        (socket.gethostname(), os.getpid(), backend, sweep_id))
            con.execute("UPDATE sweep_items SET status='pending' WHERE sweep_id=? AND status='running'", (sweep_id,))

    def update_item(self, sweep_id: str, index: int, **values: Any) -> None:
        cols = ", ".join(f"{k}=?" for k in values)
        with closing(self._connect()) as con:
            con.execute(f"UPDATE sweep_items SET {cols} WHERE sweep_id=? AND idx=?", (*values.values(), sweep_id, index))

    def finish(self, sweep_id: str, status: str) -> None:
        with closing(self._connect()) as con:
            con.execute("UPDATE sweeps SET status=?, finished=? WHERE id=?", (status, now(), sweep_id))

    # -- reading -------------------------------------------------------------
    def items(self, sweep_id: str) -> list[ItemRecord]:
        with closing(self._connect()) as con:
            rows = con.execute(
                "SELECT idx, identity, point, seed, status, run_id, attempts, error, reused FROM sweep_items"
                " WHERE sweep_id=? ORDER BY idx", (sweep_id,)).fetchall()
        return [ItemRecord(r[0], r[1], json.loads(r[2]), r[3], r[4], r[5], r[6], r[7], bool(r[8])) for r in rows]

    def list(self) -> list[SweepRecord]:
        if not (self.root / "index.sqlite").exists():
            return []
        with closing(self._connect()) as con:
            rows = con.execute("SELECT id, experiment, spec, backend, status, created, finished, host, pid"
                               " FROM sweeps ORDER BY created, id").fetchall()
            counts: dict[str, dict[str, int]] = {}
            for sweep_id, status, n in con.execute(
                    "SELECT sweep_id, status, COUNT(*) FROM sweep_items GROUP BY sweep_id, status"):
                counts.setdefault(sweep_id, {})[status] = n
        out = []
        for sweep_id, experiment, spec, backend, status, created, finished, host, pid in rows:
            c = {s: counts.get(sweep_id, {}).get(s, 0) for s in ITEM_STATUSES}
            if status == "running" and host == socket.gethostname() and not _pid_alive(pid):
                status = "interrupted"  # the launcher was killed; its running items restart on --resume
                c["pending"] += c["running"]
                c["running"] = 0
            out.append(SweepRecord(sweep_id, experiment, SweepSpec.from_json(json.loads(spec)), backend, status,
                                   created, finished, c))
        return out

    def find(self, ref: str) -> SweepRecord:
        sweeps = self.list()
        if not sweeps:
            raise UserError(f"no sweeps in store '{self.root}'")
        if ref == "latest":
            return sweeps[-1]
        exact = [s for s in sweeps if s.id == ref]
        pref = exact or [s for s in sweeps if s.id.startswith(ref)]
        if len(pref) == 1:
            return pref[0]
        if len(pref) > 1:
            raise UserError(f"sweep '{ref}' is ambiguous: {len(pref)} sweeps start with it")
        raise UserError(f"no sweep '{ref}' in store '{self.root}'{did_you_mean(ref, [s.id for s in sweeps])};"
                        " `goodhartlab sweeps` lists them")

    def directory(self, sweep_id: str):
        return self.root / "sweeps" / sweep_id
