# Two commands (see README):  make app   and   make test
# Each creates .venv and installs what it needs the first time.
PYTHON ?= python3
VENV   ?= .venv
# Pinned so CI installs in seconds from the local wheel; elsewhere pip fetches the matching
# build from PyPI (CUDA on Linux). Override freely: make app TORCH="torch==2.9.1"
TORCH  ?= torch==2.13.0
BIN     = $(VENV)/bin
# pytest-xdist workers: one per core, at most 4 (each starts its own servers for the browser tests)
WORKERS ?= $(shell n=$$(nproc 2>/dev/null || echo 2); [ $$n -gt 4 ] && n=4; echo $$n)

.PHONY: app test test-fast test-browser install browser notebooks shipped-model shipped-masked-model shipped-poems-model benchmark benchmark-cold-pages benchmark-finetune finetune-data load-test docker-check nginx serve-scaled load-test-scaled

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet "$(TORCH)"
	$(BIN)/python -m pip install --quiet -e ".[notebooks,test]"
	touch $@

install: $(VENV)/.installed

# app/serve.py serves app/main.py warm: every page is drawn once before the server says healthy
app: install
	$(BIN)/streamlit run app/serve.py

# Debian's Chromium and a CJK font for the browser tests, and axe-core for their accessibility checks (Playwright's own browser download
# does not work offline). Skipped when already there or when we cannot install packages.
browser:
	@if [ ! -x /usr/bin/chromium ] || ! fc-list 2>/dev/null | grep -qi "wenquanyi\|wqy"; then \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium fonts-wqy-microhei >/dev/null) \
	      || echo "warning: could not install chromium; browser tests will be skipped"; \
	  else echo "note: /usr/bin/chromium missing and not root; browser tests will be skipped"; fi; \
	fi
	@# axe-core (accessibility checks in the browser tests), from the npm registry, kept in tests/.node
	@if [ ! -f tests/.node/node_modules/axe-core/axe.min.js ]; then \
	  if command -v npm >/dev/null; then \
	    npm install --silent --no-audit --no-fund --prefix tests/.node axe-core@4 >/dev/null \
	      || echo "warning: could not install axe-core; the accessibility checks will be skipped"; \
	  else echo "note: npm missing; the accessibility checks will be skipped"; fi; \
	fi

# The whole suite (what CI runs): unit, AppTest, integration, notebooks and browser tests
# (and the tests through nginx: Debian's nginx is installed for them when we may).
test: install browser
	@$(MAKE) --no-print-directory nginx || echo "note: no nginx; the tests through the proxy will be skipped"
	$(BIN)/python -m pytest -n $(WORKERS) --dist worksteal

# While working: no browser and no slow tests (two to three minutes on two cores).
test-fast: install
	$(BIN)/python -m pytest -n $(WORKERS) --dist worksteal -m "not browser and not slow"

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

# Training speed (issue 23): throughput and time to quality against nanoGPT run interleaved,
# and the first minute (quick-demo, poet). tiny-shakespeare and nanoGPT are not shipped: name
# them, e.g. make benchmark DATA=../shared/data/tinyshakespeare.txt NANOGPT=../nanoGPT
# (without DATA: ../shared/data/tinyshakespeare.txt if it is there, else the built-in text).
benchmark: install
	$(BIN)/python benchmarks/train_speed.py $(if $(DATA),--data $(DATA)) $(if $(NANOGPT),--nanogpt $(NANOGPT))

# Every page's first view on a fresh server (warm-up included) and its warm reloads, in Chromium.
benchmark-cold-pages: install browser
	$(BIN)/python benchmarks/cold_pages.py

# The four fine-tuning methods at equal steps on the built-in English set (about a minute).
benchmark-finetune: install
	$(BIN)/python benchmarks/finetune.py

# The labelled fine-tuning sets, rebuilt from the shipped texts (seeded: the same files).
finetune-data: install
	$(BIN)/python scripts/make_finetune_sets.py

# The hosted demo under load (a few minutes; prints latency, errors, memory).
load-test: install
	$(BIN)/python benchmarks/load.py --sessions 30 --training 4 --minutes 5

# The Dockerfile's steps replayed in a fresh venv, for machines with no Docker engine (root).
docker-check:
	$(PYTHON) scripts/replay_dockerfile.py --local-torch

# ---- several replicas behind nginx (README: Hosting at scale) ----------------------------------
REPLICAS ?= 2
PORT     ?= 8080
SESSIONS ?= 60
TRAINING ?= 4
MINUTES  ?= 5
PRESET   ?= quick-demo

# Debian's nginx, when missing and we may install packages (root).
nginx:
	@if ! command -v nginx >/dev/null && [ ! -x /usr/sbin/nginx ]; then \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nginx >/dev/null) \
	      || { echo "error: could not install nginx"; exit 1; }; \
	  else echo "error: nginx is missing; install it (Debian: apt-get install nginx)"; exit 1; fi; \
	fi

# REPLICAS hosted servers behind nginx on http://127.0.0.1:$(PORT); Ctrl-C stops them all.
serve-scaled: install nginx
	$(BIN)/python deploy/scaled.py --replicas $(REPLICAS) --port $(PORT)

# The load test through nginx against REPLICAS replicas; the last line is one JSON object.
load-test-scaled: install nginx
	$(BIN)/python benchmarks/load.py --replicas $(REPLICAS) --sessions $(SESSIONS) \
	  --training $(TRAINING) --minutes $(MINUTES) --preset $(PRESET)
