"""``goodhartlab verify RUN``: compare a run's verdicts with the ones recorded for its experiment and preset.

The recorded verdicts are package data, one file per experiment: ``goodhartlab/verdicts/<experiment>.json``
holding, per preset, the seed and config of the run they were recorded from and ``{claim: verdict}``. A claim
is named by its ``claim`` sentence, or "title — claim" where one sentence is tested in several findings.
`record` (``goodhartlab verify RUN --record``) writes a run's verdicts there; ``scripts/record_verdicts.py``
runs the quick preset of every catalog experiment and records them all in one command.
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from goodhartlab.core.errors import UserError
from goodhartlab.core.files import write_text

VERDICTS_DIR = Path(__file__).resolve().parent.parent / "verdicts"


def claim_keys(findings: list[dict[str, Any]]) -> dict[str, str]:
    """``{claim name: verdict}`` for every finding that states a claim."""
    claimed = [f for f in findings if f.get("claim")]
    counts = Counter(f["claim"] for f in claimed)
    out: dict[str, str] = {}
    for f in claimed:
        key = f["claim"] if counts[f["claim"]] == 1 else f"{f['title']} — {f['claim']}"
        out[key] = f["verdict"]
    return out


def run_verdicts(run_dir: Path) -> tuple[dict[str, Any], dict[str, str]]:
    """(the run's config.json, its verdicts by claim)."""
    path = run_dir / "findings.json"
    if not path.exists():
        raise UserError(f"run directory '{run_dir}' has no findings.json; was the run completed and reported?")
    meta = json.loads((run_dir / "config.json").read_text())
    return meta, claim_keys(json.loads(path.read_text()))


def recorded_path(experiment: str, root: Path | None = None) -> Path:
    return (root or VERDICTS_DIR) / f"{experiment}.json"


def recorded(experiment: str, preset: str, root: Path | None = None) -> dict[str, Any] | None:
    path = recorded_path(experiment, root)
    if not path.exists():
        return None
    return json.loads(path.read_text()).get(preset)


@dataclass(frozen=True)
class Comparison:
    experiment: str
    preset: str
    mismatches: list[tuple[str, str, str]]  # (claim, recorded verdict or "absent", run's verdict or "absent")
    matched: int
    config_differences: list[str]


def compare(run_dir: Path, root: Path | None = None) -> Comparison:
    meta, verdicts = run_verdicts(run_dir)
    rec = recorded(meta["experiment"], meta["preset"], root)
    if rec is None:
        raise UserError(
            f"no verdicts are recorded for experiment '{meta['experiment']}' at preset "
            f"'{meta['preset']}' (record them with `goodhartlab verify RUN --record`)"
        )
    want = rec["verdicts"]
    mismatches = [
        (k, want.get(k, "absent"), verdicts.get(k, "absent"))
        for k in sorted(set(want) | set(verdicts))
        if want.get(k) != verdicts.get(k)
    ]
    cfg, rcfg = meta["config"], rec.get("config", {})
    differences = sorted(k for k in set(cfg) | set(rcfg) if cfg.get(k) != rcfg.get(k))
    return Comparison(
        meta["experiment"],
        meta["preset"],
        mismatches,
        len(want) - sum(1 for k, a, _ in mismatches if a != "absent"),
        differences,
    )


def record(run_dir: Path, root: Path | None = None) -> Path:
    """Write the run's verdicts as the recorded ones for its experiment and preset; return the file."""
    meta, verdicts = run_verdicts(run_dir)
    path = recorded_path(meta["experiment"], root)
    data = json.loads(path.read_text()) if path.exists() else {}
    data[meta["preset"]] = {
        "seed": meta["config"].get("seed"),
        "run": meta.get("run_id", run_dir.name),
        "recorded": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "config": meta["config"],
        "verdicts": verdicts,
    }
    write_text(path, json.dumps(data, indent=2, sort_keys=True) + "\n")
    return path
