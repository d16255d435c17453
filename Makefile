# Lantern's one entry point for developers and CI. `make help` lists the targets.
PYTHON ?= python3.11
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
PG_URL ?= postgresql+asyncpg://postgres@127.0.0.1:5432/test
# The locks pin every package with its hashes (runtime: the image; dev: make and CI). The build
# backend is locked too (as [build-system] requires it) so the project installs without fetching
# anything unpinned: `pip install --no-build-isolation`.
LOCK      := requirements.lock
DEV_LOCK  := requirements-dev.lock
BUILD_REQ := setuptools>=68
UV_LOCK   := $(BIN)/uv pip compile pyproject.toml - --universal --python-version 3.11 \
             --generate-hashes --custom-compile-command "make lock" --quiet

.PHONY: help install lock demo test test-sqlite test-postgres lint types imports migrations run bench clean

help:
	@echo "make demo           run Lantern's whole journey offline (simulated Discord, SQLite)"
	@echo "make test           lint, types, import contracts, migrations, and the suite on SQLite and PostgreSQL"
	@echo "make test-sqlite    the suite on SQLite only"
	@echo "make test-postgres  the suite on PostgreSQL only (PG_URL=$(PG_URL))"
	@echo "make run            run the real bot (needs DISCORD_TOKEN and config.toml)"
	@echo "make bench          run the benchmarks and print their figures"
	@echo "make lock           re-resolve $(LOCK) and $(DEV_LOCK) after a pyproject change"
	@echo "                    (keeps current pins; UPGRADE=1 moves every package to its newest)"

$(STAMP): pyproject.toml $(LOCK) $(DEV_LOCK)
	@command -v $(PYTHON) >/dev/null 2>&1 || { echo "Lantern needs $(PYTHON) (Python 3.11)"; exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --require-hashes -r $(DEV_LOCK)
	$(BIN)/python -m pip install --quiet --no-deps --no-build-isolation -e .
	@touch $(STAMP)

install: $(STAMP)

lock: $(STAMP)
	echo "$(BUILD_REQ)" | $(UV_LOCK) $(if $(UPGRADE),--upgrade) -o $(LOCK)
	echo "$(BUILD_REQ)" | $(UV_LOCK) $(if $(UPGRADE),--upgrade) --extra dev -o $(DEV_LOCK)

demo: $(STAMP)
	@mkdir -p demo-output
	$(BIN)/python -m bot demo --out demo-output | tee demo-output/transcript.txt

lint: $(STAMP)
	$(BIN)/ruff check bot cogs tests bench
	$(BIN)/ruff format --check bot cogs tests bench

types: $(STAMP)
	$(BIN)/mypy

imports: $(STAMP)
	$(BIN)/lint-imports

migrations: $(STAMP)
	@rm -f var/ci-migrations.db
	LANTERN_DATABASE_URL=sqlite+aiosqlite:///var/ci-migrations.db $(BIN)/python -m bot db upgrade --config config.example.toml
	LANTERN_DATABASE_URL=sqlite+aiosqlite:///var/ci-migrations.db $(BIN)/python -m bot db check --config config.example.toml
	$(BIN)/python -m tests.pg_migrations "$(PG_URL)"

test-sqlite: $(STAMP)
	$(BIN)/pytest

test-postgres: $(STAMP)
	LANTERN_TEST_DATABASE="$(PG_URL)" $(BIN)/pytest

test: lint types imports migrations test-sqlite test-postgres

run: $(STAMP)
	@test -f config.toml || cp config.example.toml config.toml
	$(BIN)/python -m bot run --config config.toml

bench: $(STAMP)
	@ls bench/*.py >/dev/null 2>&1 && for b in bench/*.py; do echo "== $$b"; $(BIN)/python $$b || exit 1; done || echo "no benchmarks yet"

clean:
	rm -rf $(VENV) var .mypy_cache .ruff_cache
