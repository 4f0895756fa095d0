# Two commands for a new user: `make demo` (the demo notebook in JupyterLab, simulator mode)
# and `make test` (every test). Both install what they need into .venv first.
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
BUNDLE := src/upscope_widget/static/widget.js

.PHONY: install chromium test demo lint bench

$(STAMP): pyproject.toml package.json package-lock.json
	test -x $(PY) || python3 -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e ".[dev]"
	touch $(STAMP)

# pip's build step skips the bundle when it exists: rebuild whenever the sources change.
$(BUNDLE): $(wildcard js/*.ts js/*.css) package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	npm run build

install: $(STAMP) $(BUNDLE)

chromium:
	@bash scripts/ensure-chromium

test: install chromium
	$(PY) -m pytest

demo: install
	bash scripts/demo

lint: install
	$(VENV)/bin/ruff check src tests benchmarks
	$(VENV)/bin/mypy
	npx tsc --noEmit -p .

bench: install chromium
	$(PY) benchmarks/run.py
