"""The report opens in headless Chromium with every figure decoded (skipped where Chromium is not installed;
`make check-report` installs it and checks the newest report)."""

import pytest

from goodhartlab.core.config import resolve
from goodhartlab.core.registry import get
from goodhartlab.report import browser
from goodhartlab.runner.execute import execute
from goodhartlab.runner.store import RunStore
from test_runs import TINY


@pytest.mark.skipif(browser.chromium() is None, reason="chromium not installed (apt-get install chromium)")
def test_report_renders_in_chromium(tmp_path):
    exp = get("tictactoe")
    _, report = execute(exp, resolve(exp.config, "quick", None, TINY), "quick", RunStore(tmp_path), quiet=True)
    total, decoded = browser.check(report, tmp_path / "shot.png")
    assert total >= 4 and decoded == total
    assert (tmp_path / "shot.png").stat().st_size > 10_000
