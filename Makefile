# `make` sets up the environment from the committed lock and builds the release; `make test` tests it.
# Needs only python3 (with venv) and make: uv is installed into .tools/ and installs the locked packages
# into a Python 3.11 .venv/ (uv finds the interpreter, or fetches one).
.DEFAULT_GOAL := all
.PHONY: all test browser check bench bench-scale fetch site bundle clean distclean

PYTHON ?= python3
TOOLS := .tools
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
# Every input of the build: the raw snapshot and manifest, the schemas, the errata, the independent
# reports, the forensics parameters, the releases and the code (but the
# site's, which only `make site` runs).
SOURCES := $(shell find raw schemas errata sources elections forensics releases pipeline -type f -not -path '*/__pycache__/*' \
	-not -path 'pipeline/site/*' -not -path pipeline/publish/bundle.py | sort)

all: datapackage.json

# A merge conflict in a generated text file of the release (datapackage.json, processed/*.csv, the
# docs) is an output to rebuild, whatever its time stamp says: the descriptor is then made out of date.
ifneq ($(shell grep -l -s '^<<<<<<< ' datapackage.json processed/*.csv docs/*.md docs/*.sql 2>/dev/null),)
.PHONY: datapackage.json
endif

# uv itself is pinned by hash too (requirements-tools.lock), like everything it installs.
$(STAMP): requirements.lock requirements-tools.lock
	$(PYTHON) -m venv $(TOOLS)
	$(TOOLS)/bin/python -m pip install --quiet --disable-pip-version-check --require-hashes -r requirements-tools.lock
	$(TOOLS)/bin/uv venv --quiet --allow-existing --python 3.11 $(VENV)
	UV_COMPILE_BYTECODE=1 $(TOOLS)/bin/uv pip sync --quiet --python $(PY) --require-hashes requirements.lock
	touch $@

# One command writes processed/, docs/data_dictionary.md and datapackage.json (the last, so its
# time stamp marks the release); a failed build leaves all of them as they were.
datapackage.json: $(STAMP) $(SOURCES)
	$(PY) -m pipeline publish

# Lint and format check (ruff), then the tests (the site's in a real browser: see `browser`). The tests
# start the pipeline in about a hundred processes: its bytecode is compiled once and cached (__pycache__/,
# ignored by git), even where the environment says PYTHONDONTWRITEBYTECODE (0.1 s of each process).
test: $(STAMP) browser
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	PYTHONDONTWRITEBYTECODE= $(PY) -m compileall -q pipeline
	PYTHONDONTWRITEBYTECODE= $(PY) -m pytest

# The browser tests open the site in Debian's headless Chromium shell (chromium-headless-shell: Chromium
# without the browser's own windows, a fifth less CPU than `chromium --headless` on these tests, measured),
# installed here with the fonts it draws with when neither it nor Debian's chromium is there (apt-get, as root
# or through sudo; the tests take the shell where both are).
# Playwright drives it; no browser is downloaded from elsewhere.
SUDO := $(if $(filter 0,$(shell id -u)),,sudo)
browser:
	@command -v chromium-headless-shell >/dev/null 2>&1 || command -v chromium >/dev/null 2>&1 || { echo "make test: installing Debian's chromium-headless-shell for the browser tests"; \
		$(SUDO) apt-get update -qq && $(SUDO) apt-get install -y -qq chromium-headless-shell fonts-liberation >/dev/null; }

check: datapackage.json
	$(PY) -m pipeline check

# Speed: the full build against its import floor, side by side (medians of paired runs), a no-change
# make and the CLI's --help.
bench: datapackage.json
	$(PY) bench/bench.py

# The station-level path at 100 thousand, 1 million and 10 million synthetic vote rows (docs/scale.md),
# then the station forensic tests' false positives and detection rates on synthetic sets.
bench-scale: datapackage.json
	$(PY) bench/scale.py --write
	$(PY) bench/station_forensics.py --write

# The static data portal (site/) from the published release: pages, charts pre-rendered to SVG, their
# data. Not part of the default build (it adds vl-convert's start-up); rebuilt only when an input changed.
site: site/index.html
site/index.html: datapackage.json $(shell find portal -type f | sort) $(wildcard pipeline/site/*.py)
	$(PY) -m pipeline site

# The release bundle: one zip of the release with the licences, citation, changelog and a README,
# listed with its size and sha256 in dist/datapackage.json (so that `download` fetches it).
bundle: dist/datapackage.json
dist/datapackage.json: datapackage.json LICENSE LICENSE-DATA.md CITATION.cff CHANGELOG.md pipeline/publish/bundle.py
	$(PY) -m pipeline bundle

# Network: download the latest revision of the article (REVISION=123 pins one) into raw/. The default
# build never does this; it stays on the committed snapshot.
fetch: $(STAMP)
	$(PY) -m pipeline fetch $(if $(REVISION),--revision $(REVISION))

clean:
	rm -rf build .pytest_cache .hypothesis processed datapackage.json docs/data_dictionary.md \
		docs/quality_report.md docs/parquet_views.sql docs/forensics.md

distclean: clean
	rm -rf $(VENV) $(TOOLS)
