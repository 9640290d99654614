"""The tests' node tools (tests/js: axe-core, oidc-provider), installed from their npm lockfile.

`make test` installs them first (`npm ci`, skipped while node_modules is newer than the lockfile);
a test run without make (`pytest tests/e2e`) gets the same install here, once, under a file lock,
so xdist workers starting together do not run `npm ci` over each other."""
from __future__ import annotations

import fcntl
import shutil
import subprocess
from pathlib import Path

import pytest

JS = Path(__file__).resolve().parent / "js"
MODULES = JS / "node_modules"
STAMP = MODULES / ".installed"  # the Makefile's target too
SOURCES = (JS / "package.json", JS / "package-lock.json")
NPM_CI = ("npm", "ci", "--prefer-offline", "--no-audit", "--no-fund", "--loglevel=error")


def current() -> bool:
    return STAMP.exists() and all(STAMP.stat().st_mtime >= src.stat().st_mtime for src in SOURCES)


def node_modules() -> Path:
    """tests/js/node_modules, installed by `npm ci` if it is missing or older than the lockfile."""
    if current():
        return MODULES
    if shutil.which("node") is None or shutil.which("npm") is None:
        pytest.fail("node and npm are needed for the browser tests' tools (tests/js): apt-get install -y nodejs npm")
    with open(JS / ".install.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not current():
            done = subprocess.run(NPM_CI, cwd=JS, capture_output=True, text=True, timeout=600)
            if done.returncode != 0:
                pytest.fail(f"npm ci in {JS} failed:\n{done.stdout}\n{done.stderr}")
            STAMP.touch()
    return MODULES


def node() -> str:
    found = shutil.which("node")
    if found is None:
        pytest.fail("node is needed for the tests' OpenID provider: apt-get install -y nodejs")
    return found
