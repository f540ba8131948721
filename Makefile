# The two set-up commands: `make run` and `make test`. Both build .venv on first use;
# `make test` also installs the test tools (Chromium, axe-core, the Twilio API mock).
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
AXE := .cache/web/node_modules/axe-core/axe.min.js
PRISM := .cache/prism/node_modules/.bin/prism

.PHONY: run test test-tools lint clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test]'
	touch $(STAMP)

run: $(STAMP)
	$(BIN)/gateway run

/usr/bin/chromium:
	apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null

$(AXE):
	npm install --prefix .cache/web --no-audit --no-fund --silent axe-core@4

$(PRISM):
	npm install --prefix .cache/prism --no-audit --no-fund --silent @stoplight/prism-cli@5

test-tools: /usr/bin/chromium $(AXE) $(PRISM)

test: $(STAMP) test-tools
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/gateway flows check flows/
	$(BIN)/pytest $(PYTEST_ARGS)

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

clean:
	rm -rf $(VENV) instance .pytest_cache .mypy_cache .ruff_cache
