# `make serve` and `make test` work on a fresh machine with Python 3.11+ and git.
VENV ?= .venv
PY := $(VENV)/bin/python
PYTEST_ARGS ?=

.PHONY: install serve test lint typecheck bench fuzz soak clean

$(VENV)/.installed: pyproject.toml
	python3 -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e '.[test]'
	touch $@

install: $(VENV)/.installed

serve: install
	$(VENV)/bin/registry serve $(SERVE_ARGS)

lint: install
	$(VENV)/bin/ruff check registry api workers tests bench

typecheck: install
	$(VENV)/bin/mypy

test: lint typecheck
	$(PY) -m pytest -q $(PYTEST_ARGS)

fuzz: install  # the property-based fuzzers of tests/unit/test_fuzz.py, 100x longer than in make test
	FUZZ_EXAMPLES=$${FUZZ_EXAMPLES:-6000} $(PY) -m pytest -q -p no:cacheprovider tests/unit/test_fuzz.py

soak: install  # every fault at once for SOAK_SECONDS, then exact accounting (bench/soak.py)
	$(PY) -m bench.soak --seconds $${SOAK_SECONDS:-90}

bench: install
	$(PY) -m bench.bench_git
	$(PY) -m bench.bench_pipeline
	$(PY) -m bench.bench_search
	$(PY) -m bench.bench_search_pg
	$(PY) -m bench.bench_relevance
	$(PY) -m bench.bench_bombs

clean:
	rm -rf $(VENV) .registry .pytest_cache
