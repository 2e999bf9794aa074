# glyphflow: `make run` runs the quick start, `make test` runs lint and the tests.
# Both set up what is missing first (a .venv with the package and its extras).

SHELL := /bin/bash
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.glyphflow-installed
EXTRAS ?= train,serve,beam,s3,dev

.PHONY: setup system-deps lint test test-fast test-integrations bench run docs clean

# Framework integrations, each tested in its own venv under .venvs/ (see
# scripts/test-integration.sh): `make test-integrations`, or one: `make test-integration-zenml`.
INTEGRATIONS := zenml clearml mlserver bentoml

setup: $(STAMP)

# torch first, pinned, with pip: on CPU machines the 2.13.0 CPU wheel is on disk; any
# other spec would pull a multi-gigabyte CUDA build (and uv does not look on that disk).
# Then the rest with uv (about a minute where pip takes several), keeping that torch.
# constraints.txt pins a set known to install together.
$(STAMP): pyproject.toml constraints.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q torch==2.13.0 'uv>=0.4'
	$(VENV)/bin/uv pip install --python $(PY) -q -c constraints.txt -e '.[$(EXTRAS)]'
	touch $(STAMP)

# Debian packages the tests and the quick start use: Chromium for browser tests, real fonts.
system-deps:
	bash scripts/system-deps.sh

lint: setup
	$(VENV)/bin/ruff check src tests bench
	$(VENV)/bin/ruff format --check src tests bench
	$(VENV)/bin/mypy
	$(VENV)/bin/lint-imports

test: setup system-deps lint
	$(VENV)/bin/pytest -q

test-integrations: $(addprefix test-integration-,$(INTEGRATIONS))

test-integration-%:
	bash scripts/test-integration.sh $*

test-fast: setup
	$(VENV)/bin/pytest -q -m "not slow"

# The quick start: this machine's fonts (plus the Debian font packages in
# scripts/debian-fonts.txt) -> validated corpus -> glyphs -> classifier -> scored glyphs
# -> font-style model -> evaluation; then where the reports are and how to serve.
run: setup system-deps
	VENV=$(VENV) bash scripts/quickstart.sh

docs: setup
	$(VENV)/bin/glyphflow config docs -o docs/config.md

bench: setup
	$(PY) bench/run_all.py

clean:
	rm -rf $(VENV) .venvs .pytest_cache .mypy_cache .ruff_cache
