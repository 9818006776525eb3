# The two commands of the README. Both create .venv when it is missing and install what is missing.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
# torch is pinned first: an unpinned torch pulls a multi-GB CUDA build; 2.13.0 is a CPU wheel on disk.
TORCH  := torch==2.13.0

.PHONY: demo test test-fast fuzz install install-dev bench check-report clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet --disable-pip-version-check $(TORCH)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -e .
	touch $@

$(VENV)/.installed-dev: $(VENV)/.installed
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -e '.[dev,ray]'
	touch $@

install: $(VENV)/.installed
install-dev: $(VENV)/.installed-dev

demo: $(VENV)/.installed
	$(BIN)/goodhartlab demo

# Lint and format checks first (ruff, configured in pyproject.toml): CI fails on either before any test runs.
# The Chromium render test runs, never skips: Debian's chromium is installed when missing (CI runs as root).
# worksteal: a worker that runs out of tests takes pending ones from the other, so a long test near the end
# does not leave one core idle; the 10 slowest tests are listed.
test: $(VENV)/.installed-dev
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	command -v chromium >/dev/null || (apt-get update -q && apt-get install -y -q chromium)
	$(BIN)/python -m pytest -n 2 --dist worksteal --durations=10

# The development tier: everything but the slow end-to-end runs (`-m "not slow"`); Chromium as for `make test`
# (the report's render test needs it).
test-fast: $(VENV)/.installed-dev
	command -v chromium >/dev/null || (apt-get update -q && apt-get install -y -q chromium)
	$(BIN)/python -m pytest -n 2 --dist worksteal -m "not slow"

# The property tests with fresh random examples (300 a test) instead of the fixed ones `make test` draws.
fuzz: $(VENV)/.installed-dev
	HYPOTHESIS_PROFILE=explore $(BIN)/python -m pytest -n 2 tests/test_config.py tests/test_config_property.py tests/test_preference_shift_world.py tests/test_qa_world.py

bench: $(VENV)/.installed-dev
	$(BIN)/python benchmarks/run.py

# Open the newest report in headless Chromium (Debian's package) and check its figures render.
check-report: $(VENV)/.installed
	command -v chromium >/dev/null || (apt-get update -q && apt-get install -y -q chromium)
	$(BIN)/python -m goodhartlab.report.browser "$$(ls -t runs/*/report.html | head -1)" runs/last-report.png

clean:
	rm -rf $(VENV) runs
