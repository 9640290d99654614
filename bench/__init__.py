"""Benchmarks measure the product as it runs: each server a fresh interpreter with serve's own
default number of processes, not the test suite's shortcuts (tests/services.py, tests/zygote.py)."""
import os

os.environ.setdefault("TESTS_NO_ZYGOTE", "1")
os.environ.setdefault("TESTS_SERVE_WORKERS", "default")
