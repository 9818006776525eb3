"""The report opens in headless Chromium with every figure decoded, and its verdict table is on the first
screen at 1400×900. Never skipped: `make test` installs Debian's chromium when it is missing."""

from test_runs import TINY

from goodhartlab.core.config import resolve
from goodhartlab.core.registry import get
from goodhartlab.report import browser
from goodhartlab.runner.execute import execute
from goodhartlab.runner.store import RunStore


def test_report_renders_in_chromium_with_the_verdicts_on_the_first_screen(tmp_path):
    assert browser.chromium() is not None, "no chromium: `make test` installs it (apt-get install chromium)"
    exp = get("tictactoe")
    _, report = execute(exp, resolve(exp.config, "quick", None, TINY), "quick", RunStore(tmp_path), quiet=True)
    probe = browser.layout(report, tmp_path / "shot.png", window=(1400, 900))
    assert probe["images"] >= 4 and probe["decoded"] == probe["images"]
    assert 0 < probe["table_top"] < probe["table_bottom"] <= 900, probe  # the whole verdict table, unscrolled
    assert (tmp_path / "shot.png").stat().st_size > 10_000
    html = report.read_text()
    assert html.index("id='verdicts'") < html.index("<h2>Findings</h2>") and "goodhartlab run tictactoe" in html
