# Two commands (see README):  make app   and   make test
# Each creates .venv and installs what it needs the first time.
PYTHON ?= python3
VENV   ?= .venv
# Pinned so CI installs in seconds from the local wheel; elsewhere pip fetches the matching
# build from PyPI (CUDA on Linux). Override freely: make app TORCH="torch==2.9.1"
TORCH  ?= torch==2.13.0
BIN     = $(VENV)/bin

.PHONY: app test test-fast test-browser install browser notebooks shipped-model shipped-masked-model shipped-poems-model benchmark load-test docker-check

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet "$(TORCH)"
	$(BIN)/python -m pip install --quiet -e ".[notebooks,test]"
	touch $@

install: $(VENV)/.installed

app: install
	$(BIN)/streamlit run app/main.py

# Debian's Chromium and a CJK font for the browser tests (Playwright's own browser download
# does not work offline). Skipped when already there or when we cannot install packages.
browser:
	@if [ ! -x /usr/bin/chromium ] || ! fc-list 2>/dev/null | grep -qi "wenquanyi\|wqy"; then \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium fonts-wqy-microhei >/dev/null) \
	      || echo "warning: could not install chromium; browser tests will be skipped"; \
	  else echo "note: /usr/bin/chromium missing and not root; browser tests will be skipped"; fi; \
	fi

# The whole suite (what CI runs): unit, AppTest, integration, notebooks and browser tests.
test: install browser
	$(BIN)/python -m pytest

# While working: no browser and no slow tests (two to three minutes on two cores).
test-fast: install
	$(BIN)/python -m pytest -m "not browser and not slow"

# Only the browser tests (headless Chromium against a live server).
test-browser: install browser
	$(BIN)/python -m pytest tests/browser

# Re-create the shipped model exactly as the README describes.
shipped-model: install
	$(BIN)/python -m lessons.train --preset classroom --seed 1337 --out runs/classroom
	cp runs/classroom/model.safetensors lessons/assets/classroom.safetensors

# The shipped masked (BERT-style) model: the classroom shape and seed, masked objective.
shipped-masked-model: install
	$(BIN)/python -m lessons.train --objective masked --preset classroom --seed 1337 --out runs/masked
	cp runs/masked/model.safetensors lessons/assets/masked.safetensors

# The shipped Chinese model: the poems preset on the built-in poems (its README section).
shipped-poems-model: install
	$(BIN)/python -m lessons.train --preset poems --seed 1337 --out runs/poems
	cp runs/poems/model.safetensors lessons/assets/poems.safetensors

benchmark: install
	$(BIN)/python benchmarks/train_speed.py --preset speedrun-cpu --max-iters 550

# The hosted demo under load (a few minutes; prints latency, errors, memory).
load-test: install
	$(BIN)/python benchmarks/load.py --sessions 30 --training 4 --minutes 5

# The Dockerfile's steps replayed in a fresh venv, for machines with no Docker engine (root).
docker-check:
	$(PYTHON) scripts/replay_dockerfile.py --local-torch
