"""Run every benchmark in this folder (each writes its results/NAME.json)."""

import subprocess
import sys
from pathlib import Path

for script in sorted(Path(__file__).parent.glob("bench_*.py")):
    print(f"== {script.name}")
    subprocess.run([sys.executable, str(script), *sys.argv[1:]], check=True)
