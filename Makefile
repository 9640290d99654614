# `make serve` and `make test` work on a fresh machine with Python 3.11+ and git.
VENV ?= .venv
PY := $(VENV)/bin/python
PYTEST_ARGS ?=
# Tests run in parallel, a file per xdist worker (module-scoped servers stay whole); more workers
# than cores, since much of a test's time is spent waiting on servers, git and the browser.
# (measured: 6 workers were slower than 4 on this 2-core machine.)
XDIST ?= -n 4 --dist loadfile

.PHONY: install js serve test quick lint typecheck bench fuzz soak soak-cluster clean assets

# The browser tests' node tools (tests/js: axe-core, oidc-provider), from their npm lockfile; redone
# only when package.json or the lockfile is newer than the stamp (tests/nodetools.py, the same rule,
# does it for a pytest run without make). --prefer-offline: npm's cache first, the registry if not.
JS_TOOLS := tests/js/node_modules/.installed

$(VENV)/.installed: pyproject.toml
	python3 -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e '.[test]'
	touch $@

install: $(VENV)/.installed

$(JS_TOOLS): tests/js/package.json tests/js/package-lock.json
	cd tests/js && npm ci --prefer-offline --no-audit --no-fund --loglevel=error
	touch $@

js: $(JS_TOOLS)

serve: install
	$(VENV)/bin/registry serve $(SERVE_ARGS)

# The browser script is built from web/package-lock.json by esbuild and committed under
# api/web/static/, so `make serve` needs no node; the tests rebuild it and compare (node needed there).
web/node_modules/.package-lock.json: web/package-lock.json
	cd web && npm ci --prefer-offline --no-audit --no-fund --loglevel=error
	touch $@

assets: web/node_modules/.package-lock.json
	cd web && npm run --silent build

lint: install
	$(VENV)/bin/ruff check registry api workers tests bench

typecheck: install
	$(VENV)/bin/mypy

# mypy runs beside the tests (they leave a core idle much of the time) and fails the target too.
test: lint $(JS_TOOLS) web/node_modules/.package-lock.json
	@$(VENV)/bin/mypy > .mypy.out 2>&1 & types=$$!; \
	$(PY) -m pytest -q $(XDIST) $(PYTEST_ARGS); tests=$$?; \
	wait $$types; typed=$$?; cat .mypy.out; rm -f .mypy.out; \
	[ $$tests -eq 0 ] && [ $$typed -eq 0 ]

# lint, types, unit tests and the storage contract suites (SQLite, PostgreSQL, local disk, S3): under 90 s
quick: lint typecheck
	$(PY) -m pytest -q -n 2 tests/unit tests/integration/test_metastore_postgres.py \
		tests/integration/test_blobstore_contract.py tests/integration/test_migrations_postgres.py $(PYTEST_ARGS)

fuzz: install  # the property-based fuzzers of tests/unit/test_fuzz.py, 100x longer than in make test
	FUZZ_EXAMPLES=$${FUZZ_EXAMPLES:-6000} $(PY) -m pytest -q -p no:cacheprovider tests/unit/test_fuzz.py

soak: install  # every fault at once for SOAK_SECONDS, then exact accounting (bench/soak.py)
	$(PY) -m bench.soak --seconds $${SOAK_SECONDS:-90}

# two nodes, two workers, PostgreSQL, Redis and S3 of its own; every fault of issue 27 at least
# twice during SOAK_SECONDS of load, then every promise checked from a fresh node (bench/soak_cluster.py)
soak-cluster: install
	$(PY) -m bench.soak_cluster --seconds $${SOAK_SECONDS:-120}

bench: install
	$(PY) -m bench.bench_git
	$(PY) -m bench.bench_pipeline
	$(PY) -m bench.bench_search
	$(PY) -m bench.bench_search_pg
	$(PY) -m bench.bench_relevance
	$(PY) -m bench.bench_bombs
	$(PY) -m bench.bench_check
	$(PY) -m bench.bench_web_commit
	$(PY) -m bench.bench_web_vitals
	$(PY) -m bench.bench_graphql
	$(PY) -m bench.bench_drafts
	$(PY) -m bench.bench_backup
	$(PY) -m bench.bench_tracing
	$(PY) -m bench.bench_experiments
	$(PY) -m bench.bench_metrics

clean:
	rm -rf $(VENV) .registry .pytest_cache tests/js/node_modules
