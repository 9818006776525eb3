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
FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
_PROBE = """<script>window.addEventListener('load', () => {
  const imgs = [...document.images];
  const ok = imgs.filter(i => i.complete && i.naturalWidth > 0).length;
  const t = document.getElementById('verdicts');
  const r = t ? t.getBoundingClientRect() : null;
  const where = r ? (' table_top=' + Math.round(r.top + window.scrollY) + ' table_bottom=' +
                     Math.round(r.bottom + window.scrollY)) : ' table_top=-1 table_bottom=-1';
  document.title = 'RENDERED images=' + imgs.length + ' decoded=' + ok + where +
                   ' viewport=' + window.innerWidth + 'x' + window.innerHeight;
});</script>"""
WINDOW = (1400, 900)  # the first screen a reader sees (issue 10)


def chromium() -> str | None:
    return shutil.which("chromium") or shutil.which("chromium-browser") or shutil.which("google-chrome")


def check(report: Path, screenshot: Path | None = None) -> tuple[int, int]:
    """(images in the page, images Chromium decoded). Raises if Chromium is missing or fails."""
    probe = layout(report, screenshot)
    return probe["images"], probe["decoded"]


def layout(report: Path, screenshot: Path | None = None, window: tuple[int, int] = WINDOW) -> dict[str, int]:
    """Render ``report`` at ``window`` (width, height): images, decoded images, and the verdict table's top and
    bottom in page pixels (-1 without one); a screenshot of the first screen if asked."""
    exe = chromium()
    if exe is None:
        raise FileNotFoundError("no chromium on PATH (Debian: apt-get install chromium)")
    with tempfile.TemporaryDirectory() as tmp:
        page = Path(tmp) / "page.html"
        page.write_text(report.read_text().replace("</body>", _PROBE + "</body>"))
        common = [exe, *FLAGS, f"--user-data-dir={tmp}/profile"]
        size = f"--window-size={window[0]},{window[1]}"
        dom = subprocess.run(
            [*common, size, "--virtual-time-budget=5000", "--dump-dom", page.as_uri()],
            capture_output=True,
            text=True,
            timeout=120,
        ).stdout
        if screenshot is not None:
            subprocess.run(
                [*common, f"--screenshot={screenshot}", size, "--hide-scrollbars", report.resolve().as_uri()],
                capture_output=True,
                timeout=120,
            )
    m = re.search(r"RENDERED images=(\d+) decoded=(\d+) table_top=(-?\d+) table_bottom=(-?\d+)", dom)
    if not m:
        raise RuntimeError("chromium did not finish loading the report")
    return {
        "images": int(m.group(1)),
        "decoded": int(m.group(2)),
        "table_top": int(m.group(3)),
        "table_bottom": int(m.group(4)),
    }


if __name__ == "__main__":
    probe = layout(Path(sys.argv[1]), Path(sys.argv[2]) if len(sys.argv) > 2 else None)
    print(
        f"{probe['decoded']}/{probe['images']} figures rendered; verdict table at y = {probe['table_top']}.."
        f"{probe['table_bottom']} px of a {WINDOW[1]} px first screen"
    )
    sys.exit(0 if probe["images"] and probe["images"] == probe["decoded"] else 1)
