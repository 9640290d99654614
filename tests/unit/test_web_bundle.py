"""The served browser script is exactly what web/package-lock.json builds (esbuild, pinned there),
and stays small; the page layer needs no node (the bundle is committed)."""
from __future__ import annotations

import gzip
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
WEB = ROOT / "web"
STATIC = ROOT / "api" / "web" / "static"
BUNDLES = ("editor.js", "copy.js", "form.js", "passkeys.js")
MAX_GZIPPED = 300 * 1024


def test_the_served_bundle_is_what_the_lockfile_builds(tmp_path):
    esbuild = WEB / "node_modules" / ".bin" / "esbuild"
    if not esbuild.exists():
        if shutil.which("npm") is None:
            pytest.fail("npm is needed to rebuild the bundle (make test runs `npm ci` in web/)")
        subprocess.run(["npm", "ci", "--no-audit", "--no-fund", "--loglevel=error"], cwd=WEB, check=True, timeout=300)
    subprocess.run([str(esbuild), *(f"src/{b}" for b in BUNDLES), "--bundle", "--minify", "--format=iife",
                    "--target=es2020", "--legal-comments=none", f"--outdir={tmp_path}"], cwd=WEB, check=True,
                   capture_output=True, timeout=120)
    for bundle in BUNDLES:
        assert (tmp_path / bundle).read_bytes() == (STATIC / bundle).read_bytes(), f"{bundle} is stale: run `make assets`"
    script = (WEB / "package.json").read_text()
    assert "--bundle --minify --format=iife --target=es2020 --legal-comments=none" in script  # the same flags as here
    assert all(f"src/{b}" in script for b in BUNDLES)


@pytest.mark.parametrize("bundle", BUNDLES)
def test_the_bundle_is_small_and_asks_for_no_eval(bundle):
    data = (STATIC / bundle).read_bytes()
    assert len(gzip.compress(data)) < MAX_GZIPPED
    assert b"new Function(" not in data and b"eval(" not in data  # the CSP allows neither
