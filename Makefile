# The two commands of the README: `make run` and `make test`. Both build .venv first.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: setup run test lint clean-index

setup: $(STAMP)

# torch first, from its CPU wheel, and pinned by constraints so nothing pulls another build;
# then the machine's embedding model (per-user cache, shared by every index; a no-op when current).
$(STAMP): pyproject.toml constraints.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -c constraints.txt torch
	$(BIN)/pip install -q -c constraints.txt -e '.[dev]'
	$(BIN)/assistant setup
	touch $(STAMP)

# The main job: prepare the offline embedder, index the bundled sample notices, serve the page.
# LibreOffice converts .doc/.rtf/.odt uploads, Tesseract reads scans and images; the scripts
# install them when missing.
run: setup
	sh scripts/install_converter.sh
	sh scripts/install_ocr.sh
	$(BIN)/assistant setup
	$(BIN)/assistant ingest samples/notices samples/other
	$(BIN)/assistant serve --host $(HOST) --port $(PORT)

# The browser test drives Debian's chromium, the .doc/.rtf/.odt tests LibreOffice, the OCR tests
# Tesseract; the scripts install them when missing.
test: setup
	sh scripts/install_browser.sh
	sh scripts/install_converter.sh
	sh scripts/install_ocr.sh
	sh scripts/install_spreadsheet.sh
	$(BIN)/python -m pytest -q

lint: setup
	$(BIN)/ruff check assistant tests scripts
	$(BIN)/mypy

clean-index:
	rm -rf index/*
