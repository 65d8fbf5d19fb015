# Multimodal recommendation service — run `make help` for the list of targets.
SHELL := /bin/bash
.SHELLFLAGS := -o pipefail -c
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
WORKSPACE ?= workspace
HOST ?= 127.0.0.1
PORT ?= 8000
# pip on some machines is pointed at a local CPU-only torch wheel (find-links) whose build
# torchvision from the registry cannot import with: always install torch from the registry.
PIP := PIP_FIND_LINKS= $(BIN)/pip
# This machine's pip config also lists local package folders, most of which do not exist; pip
# warns once per missing folder (about 150 lines). They are noise, not errors: drop them.
QUIET := 2>&1 | { grep -v "is ignored: it is neither a file nor a directory" || true; }
# uv installs the 8 GB of torch + CUDA wheels and the project's dependencies in parallel:
# 65 s instead of pip's ~250 s on a fresh 2-core machine (README "make run"). It reads only
# the registry (never pip's find-links) and prints no build-backend banners.
# uv ignores pip's config: hand it pip's constraint file where the machine has one (here it
# caps torch at the release the test suite was verified with).
PIP_CONSTRAINT_FILE := $(shell PIP_FIND_LINKS= $(PYTHON) -m pip config list 2>/dev/null | sed -n "s/^global.constraint='\(.*\)'$$/\1/p")
UV := UV_CACHE_DIR=$(HOME)/.cache/uv $(BIN)/uv pip install --python $(BIN)/python -q \
	$(if $(PIP_CONSTRAINT_FILE),-c $(PIP_CONSTRAINT_FILE))

.DEFAULT_GOAL := help
.PHONY: help install browser wrk run test test-all bench lint format clean

help: ## Show this help
	@grep -E '^[a-zA-Z_-]+:.*?## ' $(MAKEFILE_LIST) | awk 'BEGIN {FS = ":.*?## "}; {printf "  \033[36m%-10s\033[0m %s\n", $$1, $$2}'

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || { echo "==> creating $(VENV)"; $(PYTHON) -m venv $(VENV); }
	@echo "==> pip, uv"; $(PIP) install -q --upgrade pip uv $(QUIET)
	@echo "==> torch + torchvision (from the registry), the project and its dev tools"
	@$(UV) torch torchvision -e '.[dev]'
	@$(BIN)/python -c "import recsys.app.cli, torch, torchvision" || { echo "install failed"; exit 1; }
	@touch $(STAMP)

install: $(STAMP) ## Create .venv and install torch, torchvision and the project (editable, with dev extras)

browser: ## Install headless Chromium (Debian package) for the web-page tests, when missing
	@command -v chromium >/dev/null 2>&1 || { \
		echo "installing chromium (apt-get)"; \
		if [ "$$(id -u)" = 0 ]; then SUDO=; else SUDO=sudo; fi; \
		$$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq chromium chromium-driver >/dev/null; }

wrk: ## Install the wrk HTTP load generator (Debian package) for the soak benchmark, when missing
	@command -v wrk >/dev/null 2>&1 || { \
		echo "installing wrk (apt-get)"; \
		if [ "$$(id -u)" = 0 ]; then SUDO=; else SUDO=sudo; fi; \
		$$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq wrk >/dev/null; }

# `recsys demo` serves the demo users and their histories publicly (private by default).
run: install ## Build the demo data, run the whole pipeline and serve API + web page on http://$(HOST):$(PORT)
	$(BIN)/recsys --workspace $(WORKSPACE) demo --host $(HOST) --port $(PORT)

test: install browser wrk ## Install and run the test suite (fast tests; slow ones: make test-all)
	HF_HUB_OFFLINE=1 $(BIN)/pytest -q

test-all: install browser wrk ## Run every test, including slow ones
	HF_HUB_OFFLINE=1 $(BIN)/pytest -q -m "slow or not slow"

bench: install wrk ## Run the benchmarks in eval/benchmarks (ratios against a reference in the same run)
	HF_HUB_OFFLINE=1 $(BIN)/python -m eval.benchmarks --workspace $(WORKSPACE)

lint: install ## ruff lint + format check, mypy on every package, the layer contract (import-linter)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/lint-imports

format: install ## Apply ruff formatting and safe fixes
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

clean: ## Remove the demo workspace (keeps .venv)
	rm -rf $(WORKSPACE) test-artifacts
