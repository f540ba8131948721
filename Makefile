# The set-up commands. `make run` builds .venv with the runtime dependencies only and serves
# the gateway; `make test` adds the test tools (Python ones, Chromium, axe-core, the Twilio
# API mock) and runs every check. Both install the locked, hashed versions of
# requirements.txt and requirements-test.txt, exported from uv.lock by `make lock`.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
RUNTIME := $(VENV)/.installed-runtime
TOOLS := $(VENV)/.installed-test
AXE := .cache/web/node_modules/axe-core/axe.min.js
PRISM := .cache/prism/node_modules/.bin/prism
SBOM := dist/sbom.cdx.json
# uv.lock exported for pip and cloud.gov's buildpack, by the same command that checks them.
EXPORT := $(BIN)/uv export --quiet --frozen --no-emit-project --format requirements.txt
EXPORT_RUNTIME := $(EXPORT)
EXPORT_TEST := $(EXPORT) --extra test

.PHONY: run test test-tools chromium lint lock lock-check sbom clean

$(BIN)/python:
	$(PY) -m venv $(VENV)

# The project itself is installed without dependencies: the locked files bring them all.
$(RUNTIME): requirements.txt pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet --require-hashes -r requirements.txt
	$(BIN)/pip install --quiet --no-deps -e .
	touch $@

$(TOOLS): requirements-test.txt $(RUNTIME)
	$(BIN)/pip install --quiet --require-hashes -r requirements-test.txt
	touch $@

run: $(RUNTIME)
	$(BIN)/gateway run

# Debian's Chromium for the browser tests, where this user may install it; elsewhere one
# line says what to run (the browser tests are then skipped, and fail under CI).
chromium:
	@if [ -x /usr/bin/chromium ]; then :; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; \
	else \
	  echo "make test: no /usr/bin/chromium and no root apt-get to install it: run 'sudo apt-get install chromium' (the browser tests are skipped until then)"; \
	fi

$(AXE):
	npm install --prefix .cache/web --no-audit --no-fund --silent axe-core@4

$(PRISM):
	npm install --prefix .cache/prism --no-audit --no-fund --silent @stoplight/prism-cli@5

test-tools: chromium $(AXE) $(PRISM)

test: $(TOOLS) test-tools lock-check
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/lint-imports --no-cache
	$(BIN)/gateway flows check flows/
	$(BIN)/pytest $(PYTEST_ARGS)

lint: $(TOOLS)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/lint-imports --no-cache

# Re-resolve uv.lock from pyproject.toml (keeping the locked versions that still fit;
# `make lock UPGRADE=1` takes the newest allowed) and export the two requirement files.
lock: $(TOOLS)
	$(BIN)/uv lock $(if $(UPGRADE),--upgrade)
	$(EXPORT_RUNTIME) > requirements.txt
	$(EXPORT_TEST) > requirements-test.txt

# Fails when uv.lock no longer satisfies pyproject.toml, or a requirement file is not
# uv.lock's export: both are fixed by `make lock`.
lock-check: $(TOOLS)
	@$(BIN)/uv lock --check --quiet || { echo "uv.lock does not match pyproject.toml: run 'make lock'"; exit 1; }
	@$(EXPORT_RUNTIME) | cmp -s - requirements.txt || { echo "requirements.txt is not uv.lock's export: run 'make lock'"; exit 1; }
	@$(EXPORT_TEST) | cmp -s - requirements-test.txt || { echo "requirements-test.txt is not uv.lock's export: run 'make lock'"; exit 1; }

# A CycloneDX SBOM (JSON) of what `make run` and the deployment install: requirements.txt
# installed into a throwaway environment, then described with its licenses and dependency
# graph by cyclonedx-py (docs/operations.md, Software bill of materials).
sbom: $(TOOLS)
	@mkdir -p $(dir $(SBOM))
	@env=$$(mktemp -d) && trap 'rm -rf "$$env"' EXIT && \
	  $(BIN)/python -m venv --without-pip "$$env" && \
	  $(BIN)/uv pip install --quiet --python "$$env/bin/python" --require-hashes -r requirements.txt && \
	  $(BIN)/cyclonedx-py environment --pyproject pyproject.toml --output-file $(SBOM) "$$env/bin/python"
	@echo "$(SBOM): CycloneDX SBOM of the runtime dependencies locked in uv.lock"

clean:
	rm -rf $(VENV) instance .pytest_cache .mypy_cache .ruff_cache
