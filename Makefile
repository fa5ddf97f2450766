# XYD — the two commands are `make demo` and `make test`; both start with `make install`.
PYTHON ?= python3
UV_VERSION := 0.13.9
TOOLS := .tools
UV := $(TOOLS)/bin/uv
VENV := .venv
BIN := $(VENV)/bin
VENDOR := src/xinyidai/web/static/vendor
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: install demo test lint format check-services assets system-packages report-fonts serve worker bench clean

install: $(BIN)/xyd assets system-packages report-fonts

$(UV):
	$(PYTHON) -m venv $(TOOLS)
	$(TOOLS)/bin/pip install --quiet --disable-pip-version-check uv==$(UV_VERSION)

# The virtualenv follows the lock file exactly (`uv sync --frozen`).
$(BIN)/xyd: $(UV) pyproject.toml uv.lock
	$(UV) sync --frozen --quiet
	@touch $@

# Front-end assets come from the npm registry at set-up, never from a CDN at run time.
assets: $(VENDOR)/.installed

$(VENDOR)/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	mkdir -p $(VENDOR)
	cp node_modules/echarts/dist/echarts.min.js node_modules/htmx.org/dist/htmx.min.js $(VENDOR)/
	cp node_modules/swagger-ui-dist/swagger-ui-bundle.js node_modules/swagger-ui-dist/swagger-ui.css node_modules/redoc/bundles/redoc.standalone.js $(VENDOR)/
	@touch $@

# Debian packages the platform and its browser tests use (installed when missing).
system-packages:
	@bash scripts/system-packages.sh

# The PDF report's fonts, cut once to the characters reports use (see profile/fonts.py).
report-fonts: $(BIN)/xyd system-packages
	@$(BIN)/xyd profile-fonts || echo "report fonts not cut: PDF reports will use the whole faces (slower)"

# The demo runs a queue worker beside the server (imports, ratings, webhooks, the ledger's
# checkpoints); it stops with the server.
demo: install
	$(BIN)/xyd demo
	@$(BIN)/xyd worker & worker=$$!; trap 'kill $$worker 2>/dev/null' EXIT INT TERM; \
	$(BIN)/xyd serve --host $(HOST) --port $(PORT)

lint: install
	$(BIN)/ruff check src tests bench
	$(BIN)/ruff format --check src tests bench
	$(BIN)/mypy
	$(BIN)/lint-imports

format: install
	$(BIN)/ruff format src tests bench
	$(BIN)/ruff check --fix src tests bench

test: lint
	@bash scripts/run-tests.sh

serve: install
	$(BIN)/xyd serve --host $(HOST) --port $(PORT)

worker: install
	$(BIN)/xyd worker

clean:
	rm -rf $(VENV) $(TOOLS) node_modules $(VENDOR) .pytest_cache .mypy_cache .ruff_cache
