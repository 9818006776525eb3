"""Open a report in headless Chromium and check that it renders with its figures.

Used by the test suite and by ``python -m goodhartlab.report.browser REPORT.html [SHOT.png]``.
Chromium is a system package (Debian: ``apt-get install chromium``); nothing is downloaded.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

# Flags for a closed network and a root user (see the machine notes): no background networking, no sandbox.
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync"]
_PROBE = """<script>window.addEventListener('load', () => {
  const imgs = [...document.images];
  const ok = imgs.filter(i => i.complete && i.naturalWidth > 0).length;
  document.title = 'RENDERED images=' + imgs.length + ' decoded=' + ok;
});</script>"""


def chromium() -> str | None:
    return shutil.which("chromium") or shutil.which("chromium-browser") or shutil.which("google-chrome")


def check(report: Path, screenshot: Path | None = None) -> tuple[int, int]:
    """(images in the page, images Chromium decoded). Raises if Chromium is missing or fails."""
    exe = chromium()
    if exe is None:
        raise FileNotFoundError("no chromium on PATH (Debian: apt-get install chromium)")
    with tempfile.TemporaryDirectory() as tmp:
        page = Path(tmp) / "page.html"
        page.write_text(report.read_text().replace("</body>", _PROBE + "</body>"))
        common = [exe, *FLAGS, f"--user-data-dir={tmp}/profile"]
        dom = subprocess.run([*common, "--virtual-time-budget=5000", "--dump-dom", page.as_uri()],
                             capture_output=True, text=True, timeout=120).stdout
        if screenshot is not None:
            subprocess.run([*common, f"--screenshot={screenshot}", "--window-size=1200,2400", report.resolve().as_uri()],
                           capture_output=True, timeout=120)
    m = re.search(r"RENDERED images=(\d+) decoded=(\d+)", dom)
    if not m:
        raise RuntimeError("chromium did not finish loading the report")
    return int(m.group(1)), int(m.group(2))


if __name__ == "__main__":
    total, decoded = check(Path(sys.argv[1]), Path(sys.argv[2]) if len(sys.argv) > 2 else None)
    print(f"{decoded}/{total} figures rendered")
    sys.exit(0 if total and total == decoded else 1)
