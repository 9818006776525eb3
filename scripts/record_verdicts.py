"""Record the verdicts `goodhartlab verify` expects: run a preset of every catalog experiment (or the named
ones) into a fresh store and write each run's verdicts into src/goodhartlab/verdicts/<experiment>.json.

    python scripts/record_verdicts.py                      # every experiment, preset quick, seed 0
    python scripts/record_verdicts.py tictactoe digits     # only these
    python scripts/record_verdicts.py --preset full --keep runs-verdicts

Runs are sequential (the runner decides threads). Wall times are printed; on a loaded machine they say little.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

from goodhartlab.core.config import resolve
from goodhartlab.core.registry import catalog, get
from goodhartlab.runner import verify
from goodhartlab.runner.execute import execute
from goodhartlab.runner.store import RunStore


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("experiments", nargs="*", help="experiment names (default: the whole catalog)")
    p.add_argument("--preset", default="quick")
    p.add_argument("--keep", type=Path, help="store to keep the runs in (default: a temporary directory)")
    args = p.parse_args(argv)
    names = args.experiments or list(catalog())
    with tempfile.TemporaryDirectory() as tmp:
        store = RunStore(args.keep or Path(tmp))
        for name in names:
            experiment = get(name)
            preset = args.preset if args.preset in experiment.config.presets else "default"
            t0 = time.perf_counter()
            run_id, _ = execute(experiment, resolve(experiment.config, preset), preset, store, quiet=True)
            path = verify.record(store.path(store.find(run_id)))
            print(f"{name} [{preset}]: {time.perf_counter() - t0:.0f} s, verdicts recorded in {path}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
