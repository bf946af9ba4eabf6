# DPG Hub — developer commands. `make run` and `make test` are the README's two commands.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
HOST   ?= 127.0.0.1
PORT   ?= 8000
# The suite in parallel processes, a test file per process at a time (its module fixtures
# are built once); `make test PYTEST_ARGS=` runs it in one process. Files are handed out in
# the order collected (acceptance, e2e, integration, then the many short unit files), not
# most tests first: that put the slow one-test files (the schema fuzz, the fresh install, the
# browser journeys) last, where one process ran them alone while the others had finished.
PYTEST_ARGS ?= --numprocesses=auto --maxprocesses=4 --dist=loadfile --no-loadscope-reorder
# `-e`: the checkout is installed editable. `make run EDITABLE=` installs it as a user does
# (`pip install .`); tests/acceptance/test_fresh_install.py runs it so, in a new venv.
EDITABLE ?= -e

.PHONY: run test smoke install browser messages lint clean

run: $(VENV)/.installed                 ## set up, load sample content, start the hub
	$(BIN)/dpghub init --demo
	$(BIN)/dpghub serve --host $(HOST) --port $(PORT)

test: $(VENV)/.installed-test browser   ## set up and run the whole test suite
	$(BIN)/python -m pytest $(PYTEST_ARGS)

smoke: $(VENV)/.installed-test          ## `make run` from a fresh copy, new venv, no extras
	$(BIN)/python -m pytest -q tests/acceptance/test_fresh_install.py

install: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml setup.py src/dpghub/lake/_cp949.c
	test -d $(VENV) || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet $(EDITABLE) .
	$(BIN)/python -m pip install --quiet --no-deps publicdatareader==1.1.1.post2  # sample code tables
	touch $@

$(VENV)/.installed-test: $(VENV)/.installed pyproject.toml
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $@

browser:                                ## Debian's Chromium and axe-core for the browser tests
	@sh tools/ensure-chromium.sh
	@sh tools/ensure-axe.sh

lint: $(VENV)/.installed-test           ## static checks
	$(BIN)/ruff check src tests
	$(BIN)/lint-imports --no-cache

messages: $(VENV)/.installed            ## add new message ids to the Korean catalog
	$(BIN)/python -m dpghub.i18n_extract

clean:
	rm -rf $(VENV) .pytest_cache
