"""Peak RSS (and wall time, CPU time, load average) of every catalog experiment's quick and default preset.

Each preset runs as ``python -m goodhartlab run NAME --preset P --quiet --out TMPDIR`` in its own subprocess
(fresh run store, no ``GOODHARTLAB_CACHE``: π_base is trained, as on a user's first run). Peak RSS is the
child's own ``ru_maxrss`` from ``os.wait4`` (per child, so concurrent runs do not mix; it covers the child's
waited-for descendants too). All quick presets are queued before any default preset; ``--jobs`` runs in
parallel (peak RSS does not depend on it, wall time does). A run still going at ``--deadline`` (UTC HH:MM) is
killed and recorded as not measured, with the reason. Results are written after every finished run.
Bar (issue 16): rlhf default peak RSS ≤ 4 GB.
Writes benchmarks/results/memory.json. Run:
    .venv/bin/python benchmarks/bench_memory.py [--jobs 3] [--deadline 22:40] [--only NAME ...] [--presets quick]
                                               [--out FILE] [--merge OTHER.json ...]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import signal
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

OUT = Path(__file__).parent / "results" / "memory.json"
BARS = {("rlhf", "default"): {"peak_rss_gb": 4.0}}


def experiments() -> list[str]:
    """Catalog names, from ``goodhartlab list`` (the CLI is the catalog's public face)."""
    proc = subprocess.run(
        [sys.executable, "-m", "goodhartlab", "list"],
        capture_output=True,
        text=True,
        check=True,
        env={**os.environ, "COLUMNS": "200"},
    )
    names = []
    for line in proc.stdout.splitlines()[1:]:
        parts = line.split()
        if len(parts) >= 2 and "presets" not in line and parts[1].rstrip(",") in ("default", "quick", "full"):
            names.append(parts[0])
    if not names:
        raise SystemExit(f"could not read the catalog from `goodhartlab list`:\n{proc.stdout[:500]}")
    return names


class Run:
    def __init__(self, name: str, preset: str):
        self.name, self.preset = name, preset
        self.tmp = tempfile.TemporaryDirectory(prefix=f"mem-{name}-{preset}-")
        self.log = open(Path(self.tmp.name) / "log.txt", "w+")  # noqa: SIM115  closed in _row, when the run ends
        env = {k: v for k, v in os.environ.items() if k != "GOODHARTLAB_CACHE"}
        self.load_start = os.getloadavg()[0]
        self.t0 = time.perf_counter()
        self.proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "goodhartlab",
                "run",
                name,
                "--preset",
                preset,
                "--quiet",
                "--out",
                str(Path(self.tmp.name) / "store"),
            ],
            stdout=self.log,
            stderr=subprocess.STDOUT,
            env=env,
            start_new_session=True,
        )

    def poll(self) -> dict | None:
        pid, status, usage = os.wait4(self.proc.pid, os.WNOHANG)
        if pid == 0:
            return None
        self.proc.returncode = os.waitstatus_to_exitcode(status)
        return self._row(usage)

    def kill(self, reason: str) -> dict:
        os.killpg(self.proc.pid, signal.SIGKILL)  # its own session: the run and anything it started
        _, _, usage = os.wait4(self.proc.pid, 0)
        row = self._row(usage, ok=False)
        row["status"] = f"not measured: {reason}"
        row["peak_rss_gb_so_far"] = row.pop("peak_rss_gb")
        return row

    def _row(self, usage, ok: bool = True) -> dict:
        wall = time.perf_counter() - self.t0
        self.log.seek(0)
        tail = self.log.read()[-600:]
        self.log.close()
        self.tmp.cleanup()
        row = {
            "experiment": self.name,
            "preset": self.preset,
            "status": "ok",
            "peak_rss_gb": usage.ru_maxrss / 1024**2,  # KiB on Linux
            "wall_seconds": wall,
            "cpu_seconds": usage.ru_utime + usage.ru_stime,
            "load_average_at_start": self.load_start,
            "load_average_at_end": os.getloadavg()[0],
        }
        if ok and self.proc.returncode != 0:
            row["status"] = f"failed: exit {self.proc.returncode}"
            row["log_tail"] = tail
        bar = BARS.get((self.name, self.preset))
        if bar and row["status"] == "ok":
            row["bar_peak_rss_gb"] = bar["peak_rss_gb"]
            row["rss_ratio_to_bar"] = row["peak_rss_gb"] / bar["peak_rss_gb"]
        return row


def _key(row: dict) -> tuple[str, str]:
    return row["experiment"], row["preset"]


def merged(old: list[dict], new: list[dict]) -> list[dict]:
    """Rows by (experiment, preset): a new row replaces an old one unless the old one measured and the new did not."""
    rows = {_key(r): r for r in old}
    for r in new:
        if _key(r) not in rows or r["status"] == "ok" or rows[_key(r)]["status"] != "ok":
            rows[_key(r)] = r
    return list(rows.values())


def write(rows: list[dict], pending: list[tuple[str, str]] | None, args) -> None:
    out_path = Path(args.out)
    old = json.loads(out_path.read_text()) if out_path.exists() else {}
    rows = merged(old.get("rows", []), rows)  # rows of presets this invocation did not run are kept
    done = {_key(r) for r in rows if r["status"] == "ok"}
    if pending is None:  # --merge: the recorded list of presets never started stands
        not_started = [r for r in old.get("not_started", []) if _key(r) not in done]
    else:
        not_started = [
            {"experiment": n, "preset": p, "status": f"not measured: not started by {args.deadline} UTC"}
            for n, p in pending
            if (n, p) not in done
        ]
    out = {
        "benchmark": "peak RSS of every catalog experiment's quick and default preset, end to end through the CLI",
        "method": "one subprocess per preset, fresh run store, no GOODHARTLAB_CACHE; peak RSS = the child's "
        "ru_maxrss from os.wait4; 1 torch thread (the CLI default)",
        "jobs_in_parallel": old.get("jobs_in_parallel", args.jobs) if pending is None else args.jobs,
        "note": "2 cores shared with ~8 other agents' jobs plus this script's parallel runs: wall time is inflated "
        "(see load average; cpu_seconds is the run's own work), peak RSS is not",
        "bars": {f"{n} {p}": b for (n, p), b in BARS.items()},
        "rows": sorted(rows, key=lambda r: (r["preset"] != "quick", r["experiment"])),
        "not_started": not_started,
        "python": platform.python_version(),
        "cpus": os.cpu_count(),
        "machine": platform.machine(),
        "written": datetime.now(UTC).isoformat(timespec="seconds"),
    }
    out_path.parent.mkdir(parents=True, exist_ok=True)
    out_path.write_text(json.dumps(out, indent=2) + "\n")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--jobs", type=int, default=1)
    ap.add_argument("--deadline", default=None, help="UTC HH:MM: kill runs still going then, start none after")
    ap.add_argument("--only", nargs="*", default=None, help="experiment names (default: the whole catalog)")
    ap.add_argument("--presets", nargs="*", default=["quick", "default"])
    ap.add_argument("--out", default=str(OUT), help="results file (rows of other presets in it are kept)")
    ap.add_argument("--merge", nargs="*", default=None, help="only fold these results files' rows into --out")
    args = ap.parse_args()
    if args.merge is not None:
        rows = [r for f in args.merge for r in json.loads(Path(f).read_text())["rows"]]
        write(rows, None, args)
        print(f"merged {len(rows)} rows into {args.out}")
        return
    deadline = None
    if args.deadline:
        h, m = map(int, args.deadline.split(":"))
        now = datetime.now(UTC)
        deadline = now.replace(hour=h, minute=m, second=0, microsecond=0).timestamp()
    names = args.only or experiments()
    queue = [(n, p) for p in args.presets for n in names]  # every quick preset before any default one
    rows: list[dict] = []
    running: list[Run] = []
    while queue or running:
        past = deadline is not None and time.time() >= deadline
        while queue and len(running) < args.jobs and not past:
            running.append(Run(*queue.pop(0)))
            print(f"start {running[-1].name} {running[-1].preset}", flush=True)
        for run in list(running):
            row = run.poll() if not past else run.kill(f"still running at the {args.deadline} UTC deadline")
            if row is not None:
                running.remove(run)
                rows.append(row)
                print(
                    {k: (round(v, 3) if isinstance(v, float) else v) for k, v in row.items() if k != "log_tail"},
                    flush=True,
                )
                write(rows, queue, args)
        if past:
            break
        time.sleep(1.0)
    write(rows, queue, args)
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
