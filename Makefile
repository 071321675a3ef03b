# The two commands of the README: `make demo` serves the example, `make test` runs every test.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp
NATIVE := $(VENV)/.native-stamp
LINT_PATHS := src tests examples $(wildcard bench)
NATIVE_SOURCES := $(wildcard src/fraiseql/native/*.c src/fraiseql/native/*.h)

.PHONY: install demo chat test lint clean bench bench-quick bench-compare bench-compare-quick bench-wrk docs docs-serve

$(STAMP): pyproject.toml setup.py
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip 'setuptools>=77' wheel
	$(BIN)/python -m pip install --quiet -e '.[dev,docs,serve-granian]'
	touch $(STAMP)

# The editable install builds the C extension once; rebuild it in place when its sources change.
$(NATIVE): $(STAMP) $(NATIVE_SOURCES)
	$(BIN)/python setup.py --quiet build_ext --inplace
	touch $(NATIVE)

install: $(NATIVE)

demo: $(NATIVE)
	$(BIN)/python -m examples.blog.serve

# The real-time chat example (examples/chat): its page at http://127.0.0.1:8001/, subscriptions
# over WebSocket and SSE; an embedded PostgreSQL of its own unless FRAISEQL_DATABASE_URL is set.
chat: $(NATIVE)
	$(BIN)/python -m examples.chat.serve

# The multi-tenant SaaS example (examples/saas): GraphQL at http://127.0.0.1:8002/graphql behind
# JWT login; its own embedded PostgreSQL (.fraiseql/saas-pgdata) unless FRAISEQL_DATABASE_URL is set.
.PHONY: saas
saas: $(NATIVE)
	$(BIN)/python -m examples.saas.serve

# The event-sourcing example (examples/event_sourcing): GraphQL at http://127.0.0.1:8003/graphql,
# its catch-up projector beside it; its own embedded PostgreSQL unless FRAISEQL_DATABASE_URL is set.
.PHONY: events
events: $(NATIVE)
	$(BIN)/python -m examples.event_sourcing.serve

# The suite runs twice: with the C core (required to load) and with the pure-Python builder.
test: $(NATIVE)
	$(BIN)/python -m ruff check $(LINT_PATHS)
	$(BIN)/python -m ruff format --check $(LINT_PATHS)
	$(BIN)/python -m mypy --strict src
	FRAISEQL_IMPL=c $(BIN)/python -m pytest --cov --cov-report=term:skip-covered
	FRAISEQL_IMPL=python $(BIN)/python -m pytest -q

# Benchmarks of the native core (bench/README.md): a throw-away database on
# FRAISEQL_BENCH_DATABASE_URL (else the local server); results in bench/results/native.json.
bench: $(NATIVE)
	$(BIN)/python -m bench.run

# C/Python builder ratio on 100 nested rows; fails below FRAISEQL_BENCH_MIN_RATIO (default 3.0).
bench-quick: $(NATIVE)
	$(BIN)/python -m bench.quick

# FraiseQL side by side with Strawberry, Graphene, PostGraphile and a raw floor (bench/README.md):
# results in bench/results/compare.json, docs/benchmarks/RESULTS.md and its plots.
COMPARE := bench/compare
COMPARE_STAMP := $(VENV)/.bench-compare-stamp

$(COMPARE_STAMP): $(STAMP) pyproject.toml $(COMPARE)/requirements-strawberry.txt \
		$(COMPARE)/requirements-graphene.txt $(COMPARE)/postgraphile/package-lock.json
	$(BIN)/python -m pip install --quiet -e '.[dev,bench]'
	test -x $(COMPARE)/.venv-strawberry/bin/python || $(PYTHON) -m venv $(COMPARE)/.venv-strawberry
	$(COMPARE)/.venv-strawberry/bin/python -m pip install --quiet -r $(COMPARE)/requirements-strawberry.txt
	test -x $(COMPARE)/.venv-graphene/bin/python || $(PYTHON) -m venv $(COMPARE)/.venv-graphene
	$(COMPARE)/.venv-graphene/bin/python -m pip install --quiet -r $(COMPARE)/requirements-graphene.txt
	cd $(COMPARE)/postgraphile && npm ci --no-audit --no-fund --loglevel=error
	touch $(COMPARE_STAMP)

# wrk comes from Debian's packages: installed when missing and running as root, else a clear stop.
bench-wrk:
	@command -v wrk >/dev/null || { [ "$$(id -u)" = 0 ] && apt-get update -qq && apt-get install -y -qq wrk; } \
		|| { echo "bench-compare needs wrk: apt-get install wrk" >&2; exit 1; }

bench-compare: $(NATIVE) $(COMPARE_STAMP) bench-wrk
	$(BIN)/python -m bench.compare.run --report

# FraiseQL vs the floor (post by id, createPost) on a small database, about two minutes; fails
# below FRAISEQL_BENCH_MIN_FLOOR_RATIO (default 0.45) of the floor or on any failed request.
bench-compare-quick: $(NATIVE) bench-wrk
	$(BIN)/python -m bench.compare.run --quick

# The documentation site (mkdocs.yml, mkdocs-material): built into build/site, or served with
# live reload on http://127.0.0.1:8004/. tests/docs builds it with --strict too.
docs: $(NATIVE)
	NO_MKDOCS_2_WARNING=1 $(BIN)/python -m mkdocs build --strict

docs-serve: $(NATIVE)
	NO_MKDOCS_2_WARNING=1 $(BIN)/python -m mkdocs serve --dev-addr 127.0.0.1:8004

lint: $(STAMP)
	$(BIN)/python -m ruff check $(LINT_PATHS)
	$(BIN)/python -m mypy --strict src

clean:
	rm -rf $(VENV) build dist .pytest_cache .mypy_cache .ruff_cache
