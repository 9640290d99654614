"""The served browser scripts are exactly what web/package-lock.json builds (esbuild, pinned there),
and stay small; the page layer needs no node (the bundles are committed)."""
from __future__ import annotations

import gzip
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
WEB = ROOT / "web"
STATIC = ROOT / "api" / "web" / "static"
ENTRIES = ("editor.js", "passkeys.js")  # web/src/NAME -> api/web/static/NAME
MAX_GZIPPED = 300 * 1024
FLAGS = ("--bundle", "--minify", "--format=iife", "--target=es2020", "--legal-comments=none")


def test_the_served_bundles_are_what_the_lockfile_builds(tmp_path):
    esbuild = WEB / "node_modules" / ".bin" / "esbuild"
    if not esbuild.exists():
        if shutil.which("npm") is None:
            pytest.fail("npm is needed to rebuild the bundles (make test runs `npm ci` in web/)")
        subprocess.run(["npm", "ci", "--no-audit", "--no-fund", "--loglevel=error"], cwd=WEB, check=True, timeout=300)
    script = (WEB / "package.json").read_text()
    for name in ENTRIES:
        out = tmp_path / name
        subprocess.run([str(esbuild), f"src/{name}", *FLAGS, f"--outfile={out}"], cwd=WEB, check=True,
                       capture_output=True, timeout=120)
        assert out.read_bytes() == (STATIC / name).read_bytes(), f"api/web/static/{name} is stale: run `make assets`"
        # the build script makes each entry with the same flags as here
        assert f"esbuild src/{name} {' '.join(FLAGS)} --outfile=../api/web/static/{name}" in script


@pytest.mark.parametrize("name", ENTRIES)
def test_each_bundle_is_small_and_asks_for_no_eval(name):
    data = (STATIC / name).read_bytes()
    assert len(gzip.compress(data)) < MAX_GZIPPED
    assert b"new Function(" not in data and b"eval(" not in data  # the CSP allows neither
