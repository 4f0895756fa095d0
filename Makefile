# Two commands for a new user: `make demo` (the demo notebook in JupyterLab, simulator mode)
# and `make test` (every check and every test: lint, the docs build, pytest). Both install what
# they need into .venv first. CI (.ci/run) runs exactly `make test`.
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
BUNDLE := src/upscope_widget/static/widget.js

.PHONY: install chromium test demo lint docs bench

$(STAMP): pyproject.toml package.json package-lock.json
	test -x $(PY) || python3 -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e ".[dev]"
	touch $(STAMP)

# pip's build step skips the bundle when it exists: rebuild whenever the sources change.
$(BUNDLE): $(wildcard js/*.ts js/*.css js/simulator/*) scripts/build-simulator.mjs package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	npm run build

install: $(STAMP) $(BUNDLE)

chromium:
	@bash scripts/ensure-chromium

# The checks run first: a type error or a broken docs page fails fast, before the long tests.
test: install chromium lint docs
	$(PY) -m pytest

demo: install
	bash scripts/demo

lint: install
	$(VENV)/bin/ruff check src tests benchmarks docs examples
	$(VENV)/bin/mypy
	npx tsc --noEmit -p .

# The documentation site, built strictly (a broken link or docstring fails) into build/docs-site;
# no network needed. To read it while writing: .venv/bin/mkdocs serve (http://127.0.0.1:8000).
docs: install
	NO_MKDOCS_2_WARNING=1 $(VENV)/bin/mkdocs build --strict --quiet

bench: install chromium
	$(PY) benchmarks/run.py
