"""Sweeps in the run store's SQLite index: one row per sweep, one per planned run (item).

An item is ``pending``, ``running``, ``done`` or ``failed``; it points at the
run that settled it. A sweep whose launcher process is gone is shown as
``interrupted`` and its running items as pending: ``--resume`` restarts them.

A sweep's status is computed from its items when it ends, never assumed:
``complete`` (every item done), ``failed`` (every item settled, some failed) or
``interrupted`` (items left pending; running ones are put back to pending).
The resolved plan is also kept in ``sweeps/SWEEP/plan.json``: ``--resume``
runs exactly that plan, and a lost index gets its sweeps back from it.
"""

from __future__ import annotations

import json
import os
import socket
from contextlib import closing
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from goodhartlab.core.errors import UserError, did_you_mean
from goodhartlab.core.files import read_json_or, write_json
from goodhartlab.runner.grid import SweepItem, SweepSpec
from goodhartlab.runner.store import RunStore, _pid_alive, now

PLAN = "plan.json"

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

    def _connect_read(self):
        """For listing: read-only on a read-only store (where the sweep tables may not exist), else writable."""
        if not self.runs.read_only:
            return self._connect() if (self.root / "index.sqlite").exists() else None
        con = self.runs._connect_read()
        if (
            con is not None
            and not con.execute("SELECT 1 FROM sqlite_master WHERE type='table' AND name='sweep_items'").fetchone()
        ):
            con.close()
            return None
        return con

    def save_plan(self, sweep_id: str, spec: SweepSpec, items: list[SweepItem], backend: str) -> None:
        """The resolved plan beside the sweep's report: what --resume runs, and what rebuilds a lost index."""
        write_json(
            self.directory(sweep_id) / PLAN,
            {
                "sweep_id": sweep_id,
                "spec": spec.to_json(),
                "backend": backend,
                "created": now(),
                "items": [
                    {
                        "index": it.index,
                        "point": it.point,
                        "seed": it.seed,
                        "identity": it.identity,
                        "config": it.config.model_dump(mode="json"),
                    }
                    for it in items
                ],
            },
        )

    def load_plan(self, sweep_id: str) -> dict | None:
        plan = read_json_or(self.directory(sweep_id) / PLAN, None)
        return plan if isinstance(plan, dict) and isinstance(plan.get("items"), list) else None

    def rebuild(self) -> int:
        """Re-enter sweeps from their plan.json files after the index was lost; items are done where a
        complete run with their identity exists, else pending (``--resume`` finishes them)."""
        complete: dict[str, str] = {}
        for r in self.runs.list():
            if r.status == "complete":
                complete[r.config_hash] = r.id
        added = 0
        with closing(self._connect()) as con:
            for directory in sorted((self.root / "sweeps").glob(f"*/{PLAN}")):
                plan = self.load_plan(directory.parent.name)
                if plan is None or con.execute("SELECT 1 FROM sweeps WHERE id=?", (plan["sweep_id"],)).fetchone():
                    continue
                items = plan["items"]
                done = [complete.get(it["identity"]) for it in items]
                status = "complete" if all(done) else "interrupted"
                con.execute(
                    "INSERT INTO sweeps (id, experiment, spec, backend, status, created, finished)"
                    " VALUES (?,?,?,?,?,?,?)",
                    (
                        plan["sweep_id"],
                        plan["spec"]["experiment"],
                        json.dumps(plan["spec"]),
                        plan["backend"],
                        status,
                        plan["created"],
                        now(),
                    ),
                )
                con.executemany(
                    "INSERT INTO sweep_items (sweep_id, idx, identity, point, seed, status, run_id) VALUES (?,?,?,?,?,?,?)",
                    [
                        (
                            plan["sweep_id"],
                            it["index"],
                            it["identity"],
                            json.dumps(it["point"]),
                            it["seed"],
                            "done" if run else "pending",
                            run,
                        )
                        for it, run in zip(items, done)
                    ],
                )
                added += 1
        return added

    def create(self, spec: SweepSpec, items: list[SweepItem], backend: str) -> str:
        stamp = datetime.now(UTC).strftime("%Y%m%d-%H%M%S")
        base = f"sweep-{spec.experiment}-{stamp}-{spec.digest()}"
        with closing(self._connect()) as con:
            con.execute("BEGIN IMMEDIATE")
            n = 0
            while con.execute("SELECT 1 FROM sweeps WHERE id=?", (base if n == 0 else f"{base}-{n}",)).fetchone():
                n += 1
            sweep_id = base if n == 0 else f"{base}-{n}"
            con.execute(
                "INSERT INTO sweeps (id, experiment, spec, backend, status, created, host, pid) VALUES (?,?,?,?,?,?,?,?)",
                (
                    sweep_id,
                    spec.experiment,
                    json.dumps(spec.to_json()),
                    backend,
                    "running",
                    now(),
                    socket.gethostname(),
                    os.getpid(),
                ),
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
            con.execute(
                "UPDATE sweeps SET status='running', host=?, pid=?, backend=?, finished=NULL WHERE id=?",
                (socket.gethostname(), os.getpid(), backend, sweep_id),
            )
            con.execute("UPDATE sweep_items SET status='pending' WHERE sweep_id=? AND status='running'", (sweep_id,))

    def update_item(self, sweep_id: str, index: int, **values: Any) -> None:
        cols = ", ".join(f"{k}=?" for k in values)
        with closing(self._connect()) as con:
            con.execute(
                f"UPDATE sweep_items SET {cols} WHERE sweep_id=? AND idx=?", (*values.values(), sweep_id, index)
            )

    def finish(self, sweep_id: str, interrupted: bool = False) -> str:
        """End the sweep with the status its items give; running items go back to pending. Returns it."""
        with closing(self._connect()) as con:
            con.execute("UPDATE sweep_items SET status='pending' WHERE sweep_id=? AND status='running'", (sweep_id,))
            counts = dict(
                con.execute(
                    "SELECT status, COUNT(*) FROM sweep_items WHERE sweep_id=? GROUP BY status", (sweep_id,)
                ).fetchall()
            )
            if interrupted or counts.get("pending"):
                status = "interrupted"
            else:
                status = "failed" if counts.get("failed") else "complete"
            con.execute("UPDATE sweeps SET status=?, finished=? WHERE id=?", (status, now(), sweep_id))
        return status

    # -- reading -------------------------------------------------------------
    def items(self, sweep_id: str) -> list[ItemRecord]:
        con = self._connect_read()
        if con is None:
            return []
        with closing(con):
            rows = con.execute(
                "SELECT idx, identity, point, seed, status, run_id, attempts, error, reused FROM sweep_items"
                " WHERE sweep_id=? ORDER BY idx",
                (sweep_id,),
            ).fetchall()
        return [ItemRecord(r[0], r[1], json.loads(r[2]), r[3], r[4], r[5], r[6], r[7], bool(r[8])) for r in rows]

    def list(self) -> list[SweepRecord]:
        con = self._connect_read()
        if con is None:
            return []
        with closing(con):
            rows = con.execute(
                "SELECT id, experiment, spec, backend, status, created, finished, host, pid"
                " FROM sweeps ORDER BY created, id"
            ).fetchall()
            counts: dict[str, dict[str, int]] = {}
            for sweep_id, status, n in con.execute(
                "SELECT sweep_id, status, COUNT(*) FROM sweep_items GROUP BY sweep_id, status"
            ):
                counts.setdefault(sweep_id, {})[status] = n
        out = []
        for sweep_id, experiment, spec, backend, status, created, finished, host, pid in rows:
            c = {s: counts.get(sweep_id, {}).get(s, 0) for s in ITEM_STATUSES}
            if status == "running" and host == socket.gethostname() and not _pid_alive(pid):
                status = "interrupted"  # the launcher was killed; its running items restart on --resume
                c["pending"] += c["running"]
                c["running"] = 0
            out.append(
                SweepRecord(
                    sweep_id, experiment, SweepSpec.from_json(json.loads(spec)), backend, status, created, finished, c
                )
            )
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
        raise UserError(
            f"no sweep '{ref}' in store '{self.root}'{did_you_mean(ref, [s.id for s in sweeps])};"
            " `goodhartlab sweeps` lists them"
        )

    def directory(self, sweep_id: str):
        return self.root / "sweeps" / sweep_id
